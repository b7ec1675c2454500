//! The tamper-evident audit log. Each event is chained to the previous one
//! (see `lazaret_core::audit`); the head of the chain lives in one row of
//! `audit_head`, whose row lock serialises appends on both backends.

use lazaret_core::audit::{AuditEvent, AuditRecord};
use sqlx::Row;

use crate::db::{from_ms, on_pool, Store};
use crate::error::StoreError;

/// The three statements of an append, shared by [`append_audit!`] and
/// [`append_audit_sqlite`]: take the next sequence number and the previous
/// hash, store the new head hash, insert the event.
pub(crate) const NEXT_SQL: &str =
    "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash";
pub(crate) const SET_HASH_SQL: &str = "UPDATE audit_head SET hash = $1 WHERE id = 1";
pub(crate) const INSERT_SQL: &str =
    "INSERT INTO audit_events (seq, at, actor, action, subject_type, subject_id, details, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Appends `$rec` inside the open transaction `$tx`; evaluates to the
/// stored `AuditEvent`. A macro because the transaction type differs per
/// backend.
macro_rules! append_audit {
    ($tx:expr, $rec:expr) => {{
        let rec: &lazaret_core::audit::AuditRecord = $rec;
        let head = sqlx::query($crate::audit::NEXT_SQL)
            .fetch_one(&mut *$tx)
            .await?;
        let seq: i64 = sqlx::Row::try_get(&head, "seq")?;
        let prev_hash: String = sqlx::Row::try_get(&head, "hash")?;
        let hash = rec.chain_hash(&prev_hash);
        sqlx::query($crate::audit::SET_HASH_SQL)
            .bind(&hash)
            .execute(&mut *$tx)
            .await?;
        sqlx::query($crate::audit::INSERT_SQL)
            .bind(seq)
            .bind(rec.at.timestamp_millis())
            .bind(&rec.actor)
            .bind(&rec.action)
            .bind(&rec.subject_type)
            .bind(&rec.subject_id)
            .bind(&rec.details)
            .bind(&prev_hash)
            .bind(&hash)
            .execute(&mut *$tx)
            .await?;
        lazaret_core::audit::AuditEvent {
            seq,
            at: rec.at,
            actor: rec.actor.clone(),
            action: rec.action.clone(),
            subject_type: rec.subject_type.clone(),
            subject_id: rec.subject_id.clone(),
            details: rec.details.clone(),
            prev_hash,
            hash,
        }
    }};
}
pub(crate) use append_audit;

/// [`append_audit!`] on a plain SQLite connection inside its open
/// transaction: the bulk importer's own connection (see `import::sqlite`).
pub(crate) fn append_audit_sqlite(
    conn: &rusqlite::Connection,
    rec: &AuditRecord,
) -> rusqlite::Result<()> {
    let (seq, prev_hash): (i64, String) =
        conn.query_row(NEXT_SQL, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let hash = rec.chain_hash(&prev_hash);
    conn.execute(SET_HASH_SQL, [&hash])?;
    conn.execute(
        INSERT_SQL,
        rusqlite::params![
            seq,
            rec.at.timestamp_millis(),
            rec.actor,
            rec.action,
            rec.subject_type,
            rec.subject_id,
            rec.details,
            prev_hash,
            hash
        ],
    )?;
    Ok(())
}

macro_rules! audit_from_row {
    ($r:expr) => {
        AuditEvent {
            seq: $r.try_get("seq")?,
            at: from_ms("audit_events", $r.try_get("at")?)?,
            actor: $r.try_get("actor")?,
            action: $r.try_get("action")?,
            subject_type: $r.try_get("subject_type")?,
            subject_id: $r.try_get("subject_id")?,
            details: $r.try_get("details")?,
            prev_hash: $r.try_get("prev_hash")?,
            hash: $r.try_get("hash")?,
        }
    };
}

impl Store {
    /// Records an event on its own (reads, logins); writes record theirs in
    /// the same transaction as the change.
    pub async fn record_audit(&self, rec: &AuditRecord) -> Result<AuditEvent, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let event = append_audit!(tx, rec);
            tx.commit().await?;
            Ok(event)
        })
    }

    /// Events with `seq > after`, oldest first.
    pub async fn audit_events(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        const SQL: &str =
            "SELECT seq, at, actor, action, subject_type, subject_id, details, prev_hash, hash \
                           FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(after).bind(limit).fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok(audit_from_row!(r)))
                .collect()
        })
    }

    /// Events about one subject (for a person's own data export).
    pub async fn audit_events_for(
        &self,
        subject_type: &str,
        subject_id: &str,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        const SQL: &str = "SELECT seq, at, actor, action, subject_type, subject_id, details, prev_hash, hash \
                           FROM audit_events WHERE subject_type = $1 AND subject_id = $2 ORDER BY seq";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(subject_type).bind(subject_id).fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok(audit_from_row!(r)))
                .collect()
        })
    }
}
