//! The SQLite spool of stand-alone audit events (security review M10).
//!
//! A read must be audited before it answers, but on SQLite appending to the
//! chain needs the database write lock, which an import holds for as long as
//! it runs. Such an event is written instead to a small database file of its
//! own beside the main one (`<db>-audit-spool`, its own lock, synchronous
//! FULL), and a background appender moves it into the chain, in spool
//! order, when the lock frees. The chain stays one linear sequence; a
//! spooled event keeps the time of the read in `at`, so its `seq` may come
//! after events that happened later.

use std::path::PathBuf;
use std::time::Duration;

use lazaret_core::audit::AuditRecord;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;
use tokio::sync::OnceCell;

use crate::db::{from_ms, BUSY_TIMEOUT};
use crate::error::StoreError;

/// How long a stand-alone event waits for the write lock before it is
/// spooled: long enough for ordinary writers, short enough that a read
/// answers within a second during an import.
pub(super) const QUICK_BUSY_SQL: &str = "PRAGMA busy_timeout = 250";
/// The pool's own wait, restored after a quick attempt.
pub(super) const NORMAL_BUSY_SQL: &str = "PRAGMA busy_timeout = 10000";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS spool_meta (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    spool_id  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS spool (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    TEXT NOT NULL,
    details       TEXT NOT NULL
);";

#[derive(Debug)]
pub(crate) struct Spool {
    path: PathBuf,
    pool: OnceCell<SqlitePool>,
}

impl Spool {
    /// The spool of the database behind `opts`; `None` for an in-memory
    /// database (nothing else can hold its lock).
    pub(crate) fn beside(opts: &SqliteConnectOptions) -> Option<Spool> {
        let db = crate::import::database_file(opts).ok()?;
        let mut name = db.into_os_string();
        name.push("-audit-spool");
        Some(Spool {
            path: PathBuf::from(name),
            pool: OnceCell::new(),
        })
    }

    pub(crate) fn exists(&self) -> bool {
        self.pool.initialized() || self.path.exists()
    }

    async fn pool(&self) -> Result<&SqlitePool, StoreError> {
        self.pool
            .get_or_try_init(|| async {
                let opts = SqliteConnectOptions::new()
                    .filename(&self.path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // A spooled read is audited only once it is on disk.
                    .synchronous(SqliteSynchronous::Full)
                    .busy_timeout(BUSY_TIMEOUT);
                let pool = SqlitePoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await
                    .map_err(StoreError::Connect)?;
                sqlx::raw_sql(SCHEMA).execute(&pool).await?;
                sqlx::query("INSERT INTO spool_meta (id, spool_id) VALUES (1, $1) ON CONFLICT (id) DO NOTHING")
                    .bind(uuid::Uuid::new_v4().to_string())
                    .execute(&pool)
                    .await?;
                Ok::<_, StoreError>(pool)
            })
            .await
    }

    pub(crate) async fn push(&self, rec: &AuditRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO spool (at, actor, action, subject_type, subject_id, details) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(rec.at.timestamp_millis())
        .bind(&rec.actor)
        .bind(&rec.action)
        .bind(&rec.subject_type)
        .bind(&rec.subject_id)
        .bind(&rec.details)
        .execute(self.pool().await?)
        .await?;
        Ok(())
    }

    pub(crate) async fn count(&self) -> Result<u64, StoreError> {
        if !self.exists() {
            return Ok(0);
        }
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM spool")
            .fetch_one(self.pool().await?)
            .await?;
        Ok(n as u64)
    }

    /// The spool's identity and its oldest `limit` events; `None` when empty.
    pub(crate) async fn batch(
        &self,
        limit: i64,
    ) -> Result<Option<(String, Vec<(i64, AuditRecord)>)>, StoreError> {
        if !self.exists() {
            return Ok(None);
        }
        let pool = self.pool().await?;
        let spool_id: String = sqlx::query_scalar("SELECT spool_id FROM spool_meta WHERE id = 1")
            .fetch_one(pool)
            .await?;
        let rows = sqlx::query(
            "SELECT id, at, actor, action, subject_type, subject_id, details FROM spool \
             ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let events = rows
            .iter()
            .map(|r| -> Result<(i64, AuditRecord), StoreError> {
                Ok((
                    r.try_get("id")?,
                    AuditRecord {
                        at: from_ms("audit spool", r.try_get("at")?)?,
                        actor: r.try_get("actor")?,
                        action: r.try_get("action")?,
                        subject_type: r.try_get("subject_type")?,
                        subject_id: r.try_get("subject_id")?,
                        details: r.try_get("details")?,
                    },
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Some((spool_id, events)))
    }

    pub(crate) async fn remove_up_to(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM spool WHERE id <= $1")
            .bind(id)
            .execute(self.pool().await?)
            .await?;
        Ok(())
    }
}

/// The last spool row already in the chain, from `audit_head.spool_mark`
/// (`<spool_id>:<row id>`); 0 when the mark is of another spool file (a
/// spool removed and created anew starts its ids again).
pub(super) fn applied_up_to(mark: Option<&str>, spool_id: &str) -> i64 {
    mark.and_then(|m| m.rsplit_once(':'))
        .filter(|(id, _)| *id == spool_id)
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::applied_up_to;

    #[test]
    fn marks_count_only_for_their_own_spool() {
        assert_eq!(applied_up_to(None, "a"), 0);
        assert_eq!(applied_up_to(Some("a:7"), "a"), 7);
        assert_eq!(applied_up_to(Some("b:7"), "a"), 0);
        assert_eq!(applied_up_to(Some("garbage"), "a"), 0);
    }
}
