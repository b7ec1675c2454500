//! Officer API tokens. Only a hash of each secret is stored.

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::{TokenId, UserId};
use lazaret_core::user::Role;
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
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
    /// The account the token belongs to; `None` for a named service token.
    /// An account's token takes the account's role and districts as they
    /// are when it is used (the stored `role` and `districts` are those at
    /// issue, for the record).
    pub user_id: Option<UserId>,
    /// When it stops working; `None` never (only tokens made in code for
    /// tests and the demo: the CLI always sets one).
    pub expires_at: Option<DateTime<Utc>>,
}

/// A token as `lazaret token list` shows it: its record and its owner's
/// username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenListing {
    pub token: TokenRecord,
    pub username: Option<String>,
}

const TOKEN_COLUMNS: &str =
    "id, secret_hash, role, label, created_at, revoked_at, districts, user_id, expires_at";

macro_rules! token_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("api_tokens", e);
        let opt_ms = |v: Option<i64>| v.map(|ms| from_ms("api_tokens", ms)).transpose();
        TokenRecord {
            id: TokenId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
            secret_hash: r.try_get("secret_hash")?,
            role: r.try_get::<&str, _>("role")?.parse().map_err(bad)?,
            districts: DistrictScope::parse(r.try_get::<&str, _>("districts")?).map_err(bad)?,
            label: r.try_get("label")?,
            created_at: from_ms("api_tokens", r.try_get("created_at")?)?,
            revoked_at: opt_ms(r.try_get("revoked_at")?)?,
            user_id: r
                .try_get::<Option<&str>, _>("user_id")?
                .map(UserId::parse)
                .transpose()
                .map_err(bad)?,
            expires_at: opt_ms(r.try_get("expires_at")?)?,
        }
    }};
}

impl Store {
    pub async fn insert_token(
        &self,
        t: &TokenRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "INSERT INTO api_tokens (id, secret_hash, role, label, created_at, revoked_at, districts, user_id, expires_at) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(SQL)
                .bind(t.id.as_str())
                .bind(&t.secret_hash)
                .bind(t.role.as_str())
                .bind(&t.label)
                .bind(to_ms(t.created_at))
                .bind(t.revoked_at.map(to_ms))
                .bind(t.districts.to_string())
                .bind(t.user_id.as_ref().map(|u| u.as_str().to_owned()))
                .bind(t.expires_at.map(to_ms))
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::on_insert(e, "token", t.id.as_str()))?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn get_token(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1");
        on_pool!(self, pool => {
            match sqlx::query(&sql).bind(id.as_str()).fetch_optional(pool).await? {
                Some(r) => Ok(Some(token_from_row!(&r))),
                None => Ok(None),
            }
        })
    }

    /// Every token with its owner's username, oldest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenListing>, StoreError> {
        let sql = format!(
            "SELECT {}, u.username AS username FROM api_tokens t \
             LEFT JOIN users u ON u.id = t.user_id ORDER BY t.created_at, t.id",
            TOKEN_COLUMNS
                .split(", ")
                .map(|c| format!("t.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(TokenListing {
                        token: token_from_row!(r),
                        username: r.try_get("username")?,
                    })
                })
                .collect()
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
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(SQL).bind(to_ms(at)).bind(id.as_str()).execute(&mut *tx).await?;
            if n.rows_affected() == 1 {
                append_audit!(self, tx, audit);
            }
            tx.commit().await?;
            Ok(n.rows_affected() == 1)
        })
    }
}
