//! Officer API tokens. Only a hash of each secret is stored.

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::TokenId;
use lazaret_core::user::Role;
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    /// Hex SHA-256 of the secret part.
    pub secret_hash: String,
    pub role: Role,
    /// The districts the token works in.
    pub districts: DistrictScope,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn insert_token(
        &self,
        t: &TokenRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "INSERT INTO api_tokens (id, secret_hash, role, label, created_at, revoked_at, districts) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7)";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(SQL)
                .bind(t.id.as_str())
                .bind(&t.secret_hash)
                .bind(t.role.as_str())
                .bind(&t.label)
                .bind(to_ms(t.created_at))
                .bind(t.revoked_at.map(to_ms))
                .bind(t.districts.to_string())
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::on_insert(e, "token", t.id.as_str()))?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn get_token(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        const SQL: &str = "SELECT id, secret_hash, role, label, created_at, revoked_at, districts \
                           FROM api_tokens WHERE id = $1";
        on_pool!(self, pool => {
            let Some(r) = sqlx::query(SQL).bind(id.as_str()).fetch_optional(pool).await? else {
                return Ok(None);
            };
            let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("api_tokens", e);
            Ok(Some(TokenRecord {
                id: TokenId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
                secret_hash: r.try_get("secret_hash")?,
                role: r.try_get::<&str, _>("role")?.parse().map_err(bad)?,
                districts: DistrictScope::parse(r.try_get::<&str, _>("districts")?).map_err(bad)?,
                label: r.try_get("label")?,
                created_at: from_ms("api_tokens", r.try_get("created_at")?)?,
                revoked_at: r
                    .try_get::<Option<i64>, _>("revoked_at")?
                    .map(|ms| from_ms("api_tokens", ms))
                    .transpose()?,
            }))
        })
    }

    /// Revokes a token; returns whether it existed and was active.
    pub async fn revoke_token(
        &self,
        id: &TokenId,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        const SQL: &str =
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(SQL).bind(to_ms(at)).bind(id.as_str()).execute(&mut *tx).await?;
            if n.rows_affected() == 1 {
                append_audit!(self, tx, audit);
            }
            tx.commit().await?;
            Ok(n.rows_affected() == 1)
        })
    }
}
