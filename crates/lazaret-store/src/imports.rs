//! The history of imports (migration 0017, `imports`): each file an officer
//! uploads is checked first (a dry run) and recorded with its result; a
//! clean file is kept (`content`) until it is committed or expires, and a
//! committed one records its progress (`rows_done`) and its outcome.
//! Every record belongs to a district, and officers read only their
//! districts' records.

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::{District, DistrictScope};
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::import::RowError;
use crate::scope;

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    /// The dry run found bad rows; nothing is kept.
    Refused,
    /// The dry run found no bad row; the file waits to be committed.
    Checked,
    /// Being written (in the background).
    Running,
    /// Written.
    Done,
    /// Writing failed (nothing stored: a file is written whole or not at all).
    Failed,
    /// Never committed, and its file is gone.
    Expired,
}

impl ImportStatus {
    pub const ALL: [ImportStatus; 6] = [
        Self::Refused,
        Self::Checked,
        Self::Running,
        Self::Done,
        Self::Failed,
        Self::Expired,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Refused => "refused",
            Self::Checked => "checked",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether nothing more will happen to it.
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Checked | Self::Running)
    }
}

/// One import as the history shows it (without the file).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRecord {
    pub id: String,
    pub district: District,
    /// `orders`, `flights`, `residences`, `rides` or `tests`.
    pub kind: String,
    pub file_name: String,
    /// Who uploaded it (the audit log's name).
    pub actor: String,
    pub status: ImportStatus,
    /// Data rows in the file.
    pub rows: u64,
    /// Rows written so far (while running) or in all (done).
    pub rows_done: u64,
    /// Database rows inserted or changed (orders: created and extended).
    pub changed: u64,
    /// The kind's own counts (JSON object), e.g. orders created/extended/unchanged.
    pub summary: serde_json::Value,
    pub error_count: u64,
    /// The first bad rows (at most what the caller chose to keep).
    pub errors: Vec<RowError>,
    /// Why writing failed.
    pub failure: Option<String>,
    pub size_bytes: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A new import after its dry run.
#[derive(Debug, Clone)]
pub struct NewImport<'a> {
    pub id: &'a str,
    pub district: &'a District,
    pub kind: &'a str,
    pub file_name: &'a str,
    pub actor: &'a str,
    /// `Refused` or `Checked`.
    pub status: ImportStatus,
    pub rows: u64,
    pub error_count: u64,
    pub errors: &'a [RowError],
    /// The file, kept only for a checked import.
    pub content: Option<&'a [u8]>,
    pub size_bytes: u64,
    pub at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, district, kind, file_name, actor, status, row_count, rows_done, changed, \
     summary, error_count, errors, failure, size_bytes, created_at, updated_at, finished_at";

macro_rules! import_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("imports", e);
        let count = |v: i64| u64::try_from(v).unwrap_or(0);
        let status: &str = r.try_get("status")?;
        let errors: Vec<(u64, String, String)> =
            serde_json::from_str(r.try_get::<&str, _>("errors")?).unwrap_or_default();
        ImportRecord {
            id: r.try_get("id")?,
            district: District::parse(r.try_get::<&str, _>("district")?).map_err(bad)?,
            kind: r.try_get("kind")?,
            file_name: r.try_get("file_name")?,
            actor: r.try_get("actor")?,
            status: ImportStatus::parse(status).ok_or_else(|| {
                StoreError::corrupt(
                    "imports",
                    lazaret_core::ValidationError::new("status", format!("{status:?}")),
                )
            })?,
            rows: count(r.try_get("row_count")?),
            rows_done: count(r.try_get("rows_done")?),
            changed: count(r.try_get("changed")?),
            summary: serde_json::from_str(r.try_get::<&str, _>("summary")?)
                .unwrap_or(serde_json::Value::Null),
            error_count: count(r.try_get("error_count")?),
            errors: errors
                .into_iter()
                .map(|(line, column, reason)| RowError {
                    line,
                    column,
                    reason,
                })
                .collect(),
            failure: r.try_get("failure")?,
            size_bytes: count(r.try_get("size_bytes")?),
            created_at: from_ms("imports", r.try_get("created_at")?)?,
            updated_at: from_ms("imports", r.try_get("updated_at")?)?,
            finished_at: r
                .try_get::<Option<i64>, _>("finished_at")?
                .map(|ms| from_ms("imports", ms))
                .transpose()?,
        }
    }};
}

fn errors_json(errors: &[RowError]) -> String {
    let rows: Vec<(u64, &str, &str)> = errors
        .iter()
        .map(|e| (e.line, e.column.as_str(), e.reason.as_str()))
        .collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".into())
}

fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// Records an import after its dry run, with its audit event.
    pub async fn insert_import(
        &self,
        new: &NewImport<'_>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "INSERT INTO imports (id, district, kind, file_name, actor, status, row_count, \
             error_count, errors, content, size_bytes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(SQL)
                .bind(new.id)
                .bind(new.district.as_str())
                .bind(new.kind)
                .bind(new.file_name)
                .bind(new.actor)
                .bind(new.status.as_str())
                .bind(signed(new.rows))
                .bind(signed(new.error_count))
                .bind(errors_json(new.errors))
                .bind(new.content)
                .bind(signed(new.size_bytes))
                .bind(to_ms(new.at))
                .execute(&mut *tx)
                .await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Import `id` if it belongs to one of `districts`.
    pub async fn get_import_in(
        &self,
        id: &str,
        districts: &DistrictScope,
    ) -> Result<Option<ImportRecord>, StoreError> {
        let (limit, values) = scope::clause("district", districts, 2);
        let sql = format!("SELECT {COLUMNS} FROM imports WHERE id = $1{limit}");
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql).bind(id);
            for v in &values {
                q = q.bind(v.as_str());
            }
            let row = q.fetch_optional(pool).await?;
            Ok(match row {
                Some(r) => Some(import_from_row!(&r)),
                None => None,
            })
        })
    }

    /// The newest imports of `districts` of the given kinds, newest first.
    pub async fn list_imports(
        &self,
        districts: &DistrictScope,
        kinds: &[&str],
        limit: u32,
    ) -> Result<Vec<ImportRecord>, StoreError> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let mut w = scope::Where::default();
        let kinds_in: Vec<String> = kinds
            .iter()
            .map(|k| {
                w.values.push((*k).to_owned());
                format!("${}", w.values.len())
            })
            .collect();
        w.raw(format!("kind IN ({})", kinds_in.join(", ")));
        w.scope("district", districts);
        let sql = format!(
            "SELECT {COLUMNS} FROM imports{} ORDER BY created_at DESC, id DESC LIMIT ${}",
            w.sql(),
            w.next()
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql);
            for v in &w.values {
                q = q.bind(v.as_str());
            }
            let rows = q.bind(i64::from(limit)).fetch_all(pool).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(import_from_row!(r));
            }
            Ok(out)
        })
    }

    /// Takes a checked import of `districts` for writing: `running`, and its
    /// file. `None` when it is not (any longer) waiting: committed by a
    /// second click or another officer, expired, or not theirs. The audit
    /// event is written with the change.
    pub async fn claim_import(
        &self,
        id: &str,
        districts: &DistrictScope,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (limit, values) = scope::clause("district", districts, 3);
        let sql = format!(
            "UPDATE imports SET status = 'running', updated_at = $2 \
             WHERE id = $1 AND status = 'checked' AND content IS NOT NULL{limit} RETURNING content"
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut q = sqlx::query(&sql).bind(id).bind(to_ms(now));
            for v in &values {
                q = q.bind(v.as_str());
            }
            let Some(row) = q.fetch_optional(&mut *tx).await? else {
                tx.rollback().await?;
                return Ok(None);
            };
            let content: Vec<u8> = row.try_get("content")?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(Some(content))
        })
    }

    /// Records how many rows of a running import are written. Never waits
    /// for the write lock on SQLite: the import itself holds it while it
    /// writes, and progress is not worth stalling for (false: not recorded).
    pub async fn import_progress(
        &self,
        id: &str,
        rows_done: u64,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE imports SET rows_done = $2, updated_at = $3 \
             WHERE id = $1 AND status = 'running' AND rows_done < $2";
        // PostgreSQL: also the heartbeat of the import (`updated_at`), so
        // that one whose process died can be told from one still running.
        const PG_SQL: &str =
            "UPDATE imports SET rows_done = GREATEST(rows_done, $2), updated_at = $3 \
             WHERE id = $1 AND status = 'running'";
        match &self.backend {
            crate::db::Backend::Postgres(pool) => {
                sqlx::query(PG_SQL)
                    .bind(id)
                    .bind(signed(rows_done))
                    .bind(to_ms(now))
                    .execute(pool)
                    .await?;
                Ok(true)
            }
            crate::db::Backend::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                sqlx::query("PRAGMA busy_timeout = 0")
                    .execute(&mut *conn)
                    .await?;
                let done = sqlx::query(SQL)
                    .bind(id)
                    .bind(signed(rows_done))
                    .bind(to_ms(now))
                    .execute(&mut *conn)
                    .await;
                if sqlx::query("PRAGMA busy_timeout = 10000")
                    .execute(&mut *conn)
                    .await
                    .is_err()
                {
                    // Never hand a connection without its wait back to the pool.
                    conn.close_on_drop();
                }
                match done {
                    Ok(_) => Ok(true),
                    Err(sqlx::Error::Database(e)) if e.message().contains("locked") => Ok(false),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// Records the end of a running import: `Done` with its counts, or
    /// `Failed` with the reason (and any bad rows found only while
    /// writing); the file is dropped either way.
    pub async fn finish_import(
        &self,
        id: &str,
        outcome: &ImportOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE imports SET status = $2, rows_done = $3, changed = $4, \
             summary = $5, error_count = $6, errors = $7, failure = $8, content = NULL, \
             updated_at = $9, finished_at = $9 WHERE id = $1 AND status = 'running'";
        on_pool!(self, pool => {
            sqlx::query(SQL)
                .bind(id)
                .bind(outcome.status.as_str())
                .bind(signed(outcome.rows_done))
                .bind(signed(outcome.changed))
                .bind(outcome.summary.to_string())
                .bind(signed(outcome.error_count))
                .bind(errors_json(&outcome.errors))
                .bind(outcome.failure.as_deref())
                .bind(to_ms(now))
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    /// Marks running import `id` failed when nothing was heard of it since
    /// `before` (the process writing it stopped: its transaction never
    /// committed, so nothing was stored); whether it was.
    pub async fn fail_stale_import(
        &self,
        id: &str,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        failure: &str,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE imports SET status = 'failed', failure = $4, content = NULL, \
             updated_at = $3, finished_at = $3 \
             WHERE id = $1 AND status = 'running' AND updated_at < $2";
        on_pool!(self, pool => {
            let done = sqlx::query(SQL)
                .bind(id)
                .bind(to_ms(before))
                .bind(to_ms(now))
                .bind(failure)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Drops the files of checked imports created before `before` (never
    /// committed): they become `expired`. The number of them.
    pub async fn expire_imports(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        const SQL: &str = "UPDATE imports SET status = 'expired', content = NULL, \
             updated_at = $2, finished_at = $2 WHERE status = 'checked' AND created_at < $1";
        on_pool!(self, pool => {
            let done = sqlx::query(SQL)
                .bind(to_ms(before))
                .bind(to_ms(now))
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }
}

/// How a running import ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    /// `Done` or `Failed`.
    pub status: ImportStatus,
    pub rows_done: u64,
    pub changed: u64,
    pub summary: serde_json::Value,
    pub error_count: u64,
    pub errors: Vec<RowError>,
    pub failure: Option<String>,
}
