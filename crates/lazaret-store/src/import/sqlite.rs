//! The SQLite side of an import: a connection and a thread of its own,
//! writing each staged row with a prepared single-row upsert while the
//! caller's thread parses and validates the next batch.
//!
//! Why not the pool: sqlx hands every bound value to its worker thread as
//! an owned string, and its multi-row statements bind thousands of them;
//! on a 2.5M-row file that marshalling (and the allocator traffic between
//! the two threads) cost as much as SQLite's own work. Here a batch crosses
//! once, as a few buffers, and values are bound straight from them.
//!
//! Foreign keys are off on this connection, because they hold by
//! construction: a row is staged only with its person (and flight or ride),
//! and each batch writes persons, then flights or rides, then occupants. A
//! person the import staged earlier with the same details is skipped (see
//! `PersonMemo`), but that earlier batch was written first, in the same
//! transaction. The PostgreSQL importer keeps them on and runs the same
//! staging, so the tests on both backends would catch a broken reference.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lazaret_core::audit::AuditRecord;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use tokio::sync::mpsc;

use super::rows::{Batch, Value};
use super::tables::{tables_for, Params};
use super::ImportKind;
use crate::audit::{append_audit_sqlite, AuditState};
use crate::error::StoreError;

/// The database file behind an SQLite pool; an in-memory database has
/// none, and a second connection to it would see another, empty database.
pub(crate) fn database_file(
    opts: &sqlx::sqlite::SqliteConnectOptions,
) -> Result<PathBuf, StoreError> {
    let path = opts.get_filename();
    let name = path.to_string_lossy();
    // sqlx names its shared in-memory databases `file:sqlx-in-memory-N`.
    if name.is_empty()
        || name.starts_with(":memory:")
        || name.starts_with("file:sqlx-in-memory-")
        || name.contains("mode=memory")
    {
        return Err(StoreError::Unsupported(
            "importing needs an SQLite database file, not an in-memory database",
        ));
    }
    Ok(path.to_path_buf())
}

/// Builds the audit event once the number of changed rows is known.
pub(super) type AuditFor = Box<dyn FnOnce(u64) -> AuditRecord + Send>;

enum Msg {
    Batch(Batch),
    Commit(AuditFor),
}

/// Handle to the writer thread. Dropping it without [`Writer::commit`]
/// rolls the import back.
pub(super) struct Writer {
    send: mpsc::Sender<Msg>,
    free: std::sync::mpsc::Receiver<Batch>,
    done: tokio::task::JoinHandle<Result<u64, StoreError>>,
}

impl Writer {
    /// Opens the connection and the write transaction on a new thread.
    pub fn start(path: PathBuf, kind: ImportKind, audit: std::sync::Arc<AuditState>) -> Self {
        // One batch queued while one is written and one is parsed.
        let (send, recv) = mpsc::channel(1);
        let (give_back, free) = std::sync::mpsc::channel();
        let done = tokio::task::spawn_blocking(move || run(&path, kind, &audit, recv, give_back));
        Self { send, free, done }
    }

    /// Queues a batch (waits while the writer is a batch behind).
    pub async fn write(&mut self, batch: Batch) -> Result<(), StoreError> {
        if self.send.send(Msg::Batch(batch)).await.is_err() {
            // The thread stopped early: its error says why.
            return Err(self.stopped().await);
        }
        Ok(())
    }

    /// A written batch, emptied, to fill again.
    pub fn recycled(&self) -> Option<Batch> {
        self.free.try_recv().ok()
    }

    /// Writes what is queued, rebuilds dropped indexes, appends the audit
    /// event and commits; the number of rows changed.
    pub async fn commit(mut self, audit: AuditFor) -> Result<u64, StoreError> {
        if self.send.send(Msg::Commit(audit)).await.is_err() {
            return Err(self.stopped().await);
        }
        drop(self.send);
        join(self.done).await
    }

    /// Rolls back everything written so far.
    pub async fn rollback(self) -> Result<(), StoreError> {
        drop(self.send);
        join(self.done).await.map(|_| ())
    }

    async fn stopped(&mut self) -> StoreError {
        match join(&mut self.done).await {
            Err(e) => e,
            Ok(_) => StoreError::Interrupted("the import's database writer stopped early"),
        }
    }
}

async fn join(
    done: impl std::future::Future<Output = Result<Result<u64, StoreError>, tokio::task::JoinError>>,
) -> Result<u64, StoreError> {
    match done.await {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(StoreError::Interrupted(
            "the import's database writer was cancelled",
        )),
    }
}

/// The writer thread: everything happens in one transaction, rolled back
/// (by closing the connection) unless a commit message arrives.
fn run(
    path: &Path,
    kind: ImportKind,
    audit: &AuditState,
    mut recv: mpsc::Receiver<Msg>,
    give_back: std::sync::mpsc::Sender<Batch>,
) -> Result<u64, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Same wait for a busy database as the pool's connections.
    conn.busy_timeout(Duration::from_secs(10))?;
    // Upserts land at random places in the person keys; SQLite's default
    // 2 MB page cache would thrash on a million-row file, 256 MB keeps
    // them hot and bounds memory. Two threads sort the rebuilt indexes (see
    // the commit).
    // FULL like the pool's connections: the file is one transaction with
    // its audit event, so this costs one sync of the WAL at its commit.
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF; \
         PRAGMA cache_size = -262144; PRAGMA threads = 2; BEGIN IMMEDIATE",
    )?;
    let rebuild = drop_indexes_of_empty_tables(&conn, kind)?;
    let sql: Vec<String> = tables_for(kind)
        .iter()
        .map(|t| t.sql(1, Params::Anonymous))
        .collect();
    let mut changed = 0u64;
    while let Some(msg) = recv.blocking_recv() {
        match msg {
            Msg::Batch(mut batch) => {
                changed += write_batch(&conn, &sql, &batch)?;
                batch.clear();
                // The parser may have finished: then nobody takes it back.
                let _ = give_back.send(batch);
            }
            Msg::Commit(audit_for) => {
                // SQLite sorts an index in a second thread only in runs
                // that spill past the page cache: a 32 MB cache makes a
                // million-entry rebuild do that (rides: 252k -> 272k rows/s;
                // residences and flights 3-4 % slower, with room to spare).
                if !rebuild.is_empty() {
                    conn.execute_batch("PRAGMA cache_size = -32768")?;
                }
                for index in &rebuild {
                    conn.execute_batch(index)?;
                }
                append_audit_sqlite(&conn, audit, &audit_for(changed))?;
                conn.execute_batch("COMMIT")?;
                return Ok(changed);
            }
        }
    }
    // No commit: closing the connection rolls the transaction back.
    Ok(0)
}

/// A first load into an empty table: its secondary indexes are dropped and
/// rebuilt with one sort before the commit (same transaction, so a failed
/// import leaves them as they were) instead of taking millions of inserts
/// at random places. Returns the statements that rebuild them.
fn drop_indexes_of_empty_tables(
    conn: &Connection,
    kind: ImportKind,
) -> Result<Vec<String>, StoreError> {
    let mut rebuild = Vec::new();
    for t in tables_for(kind) {
        let probe = format!("SELECT 1 FROM {} LIMIT 1", t.table);
        if conn.prepare(&probe)?.exists([])? {
            continue;
        }
        let mut q = conn.prepare(
            "SELECT name, sql FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
        )?;
        let indexes: Vec<(String, String)> = q
            .query_map([t.table], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (name, sql) in indexes {
            conn.execute_batch(&format!("DROP INDEX \"{name}\""))?;
            rebuild.push(sql);
        }
    }
    Ok(rebuild)
}

/// Upserts every table of the batch, in order; the number of rows changed.
fn write_batch(conn: &Connection, sql: &[String], batch: &Batch) -> rusqlite::Result<u64> {
    let mut changed = 0u64;
    for (rows, sql) in batch.tables.iter().zip(sql) {
        if rows.len() == 0 {
            continue;
        }
        let mut stmt = conn.prepare_cached(sql)?;
        for &i in rows.order() {
            for (c, v) in rows.row(i).enumerate() {
                stmt.raw_bind_parameter(c + 1, bound(v))?;
            }
            changed += stmt.raw_execute()? as u64;
        }
    }
    Ok(changed)
}

fn bound(v: Value<'_>) -> ToSqlOutput<'_> {
    ToSqlOutput::Borrowed(match v {
        Value::Text(s) => ValueRef::Text(s.as_bytes()),
        Value::Null => ValueRef::Null,
        Value::Int(i) => ValueRef::Integer(i),
        Value::Real(f) => ValueRef::Real(f),
    })
}
