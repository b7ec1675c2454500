//! Enrolled face templates, stored only as AEAD ciphertext (the server
//! encrypts; the store never sees a template in the clear).

use chrono::{DateTime, Duration, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::OrderId;
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;

/// One order's encrypted template.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentRecord {
    pub order_id: OrderId,
    pub ciphertext: Vec<u8>,
    pub nonce: Vec<u8>,
    /// The id of the template key that sealed it.
    pub key_id: String,
    /// The face model that made the template (in the clear: it says nothing
    /// about the person and lets a model upgrade find stale templates).
    pub model: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Stores the template of an order, replacing an earlier enrolment.
    pub async fn put_enrollment(
        &self,
        e: &EnrollmentRecord,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO enrollments (order_id, ciphertext, nonce, model, created_at, key_id) \
                           VALUES ($1, $2, $3, $4, $5, $6) \
                           ON CONFLICT (order_id) DO UPDATE SET ciphertext = excluded.ciphertext, \
                           nonce = excluded.nonce, model = excluded.model, created_at = excluded.created_at, \
                           key_id = excluded.key_id";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(SQL)
                .bind(e.order_id.as_str())
                .bind(&e.ciphertext)
                .bind(&e.nonce)
                .bind(&e.model)
                .bind(to_ms(e.created_at))
                .bind(&e.key_id)
                .execute(&mut *tx)
                .await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn get_enrollment(
        &self,
        order_id: &OrderId,
    ) -> Result<Option<EnrollmentRecord>, StoreError> {
        const SQL: &str = "SELECT order_id, ciphertext, nonce, key_id, model, created_at \
                           FROM enrollments WHERE order_id = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(order_id.as_str()).fetch_optional(pool).await?;
            let Some(r) = row else { return Ok(None) };
            Ok(Some(EnrollmentRecord {
                order_id: OrderId::parse(r.try_get::<&str, _>("order_id")?)
                    .map_err(|e| StoreError::corrupt("enrollments", e))?,
                ciphertext: r.try_get("ciphertext")?,
                nonce: r.try_get("nonce")?,
                key_id: r.try_get("key_id")?,
                model: r.try_get("model")?,
                created_at: from_ms("enrollments", r.try_get("created_at")?)?,
            }))
        })
    }

    /// Deletes every template whose retention ran out: `grace` after its
    /// order ended (released or completed), or after the order's current
    /// end while it has not been ended (so an extension keeps the
    /// template). Returns how many; each deletion is audited.
    pub async fn purge_expired_enrollments(
        &self,
        now: DateTime<Utc>,
        grace: Duration,
    ) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM enrollments WHERE order_id IN \
                           (SELECT id FROM orders WHERE COALESCE(ended_at, ends_at) <= $1) \
                           RETURNING order_id";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let rows = sqlx::query(SQL).bind(to_ms(now - grace)).fetch_all(&mut *tx).await?;
            for r in &rows {
                let id: String = r.try_get("order_id")?;
                let rec = AuditRecord {
                    at: now,
                    actor: "system:retention".into(),
                    action: "enrollment.purge".into(),
                    subject_type: "order".into(),
                    subject_id: id,
                    details: "template retention ended".into(),
                };
                append_audit!(self, tx, &rec);
            }
            tx.commit().await?;
            Ok(rows.len() as u64)
        })
    }
}
