//! The tamper-evident audit log. Each event is chained to the previous one
//! (see `lazaret_core::audit`); the head of the chain lives in one row of
//! `audit_head`, whose row lock serialises appends on both backends.
//!
//! Three protections live outside the database (see ARCHITECTURE.md,
//! "Audit chain"):
//! - the links are keyed with `audit_key` from the first append a keyed
//!   store makes (`audit_head.keyed_from` records that `seq`);
//! - the head is written, signed, to an append-only checkpoint file every
//!   `checkpoint_every` events and at shutdown, so a cut-off tail is found;
//! - on SQLite, a stand-alone event (a read) that cannot take the write lock
//!   quickly — an import holds it — goes to a spool file of its own and is
//!   appended to the chain when the lock frees (see [`spool`]).

use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use lazaret_core::audit::{AuditEvent, AuditKey, AuditRecord, ChainFault, ChainVerifier};
use sqlx::Row;

use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, Backend, Store};
use crate::error::StoreError;

mod spool;

/// Takes the next sequence number and the previous hash. A keyed store also
/// marks where the keyed chain starts, the first time it appends.
pub(crate) const NEXT_SQL: &str =
    "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash, keyed_from";
pub(crate) const NEXT_KEYED_SQL: &str =
    "UPDATE audit_head SET seq = seq + 1, keyed_from = COALESCE(keyed_from, seq + 1) \
     WHERE id = 1 RETURNING seq, hash, keyed_from";
pub(crate) const SET_HASH_SQL: &str = "UPDATE audit_head SET hash = $1 WHERE id = 1";
pub(crate) const INSERT_SQL: &str =
    "INSERT INTO audit_events (seq, at, actor, action, subject_type, subject_id, details, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// How a store keys and anchors its audit chain (from the configuration).
#[derive(Debug, Clone, Default)]
pub struct AuditSettings {
    /// `audit_key`; without it the chain stays unkeyed, which is refused
    /// once the database's chain is keyed.
    pub key: Option<AuditKey>,
    /// `audit_checkpoint`: the append-only file of signed heads.
    pub checkpoint: Option<PathBuf>,
    /// A checkpoint line every this many events (at least 1).
    pub checkpoint_every: u64,
}

/// Default of [`AuditSettings::checkpoint_every`].
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 1000;

/// The audit part of a [`Store`], shared by its clones.
#[derive(Debug, Default)]
pub(crate) struct AuditState {
    key: Option<AuditKey>,
    checkpoint: Option<Checkpoint>,
    every: u64,
    spool: Option<spool::Spool>,
    draining: AtomicBool,
}

#[derive(Debug)]
struct Checkpoint {
    path: PathBuf,
    // One writer at a time within the process; across processes each
    // append happens under the database write lock (see `seal`).
    lock: Mutex<()>,
}

/// One line of the checkpoint file: `seq hash mac`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointLine {
    pub line: usize,
    pub seq: i64,
    pub hash: String,
}

impl AuditState {
    pub(crate) fn next_sql(&self) -> &'static str {
        if self.key.is_some() {
            NEXT_KEYED_SQL
        } else {
            NEXT_SQL
        }
    }

    /// The hash of the event `rec` at `seq` after `prev_hash`. The previous
    /// event is committed (its appender released the head's lock), so when
    /// it falls on a checkpoint it is written to the checkpoint file here.
    pub(crate) fn seal(
        &self,
        rec: &AuditRecord,
        seq: i64,
        prev_hash: &str,
        keyed_from: Option<i64>,
    ) -> Result<String, StoreError> {
        if keyed_from.is_none_or(|k| seq < k) {
            return Ok(rec.legacy_hash(prev_hash));
        }
        let key = self.key.as_ref().ok_or(StoreError::AuditKeyMissing)?;
        let prev = seq - 1;
        if prev > 0 && (prev as u64).is_multiple_of(self.every.max(1)) {
            self.write_checkpoint(prev, prev_hash)?;
        }
        Ok(rec.keyed_hash(key, seq, prev_hash))
    }

    fn write_checkpoint(&self, seq: i64, hash: &str) -> Result<(), StoreError> {
        let (Some(cp), Some(key)) = (&self.checkpoint, &self.key) else {
            return Ok(());
        };
        let _one = cp.lock.lock().unwrap_or_else(|e| e.into_inner());
        let line = format!("{seq} {hash} {}\n", key.checkpoint_mac(seq, hash));
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&cp.path)
            .map_err(|e| StoreError::Checkpoint(cp.path.clone(), e))?;
        f.write_all(line.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| StoreError::Checkpoint(cp.path.clone(), e))
    }
}

/// Appends `$rec` inside the open transaction `$tx` of `$store`; evaluates
/// to the stored `AuditEvent`. A macro because the transaction type differs
/// per backend.
macro_rules! append_audit {
    ($store:expr, $tx:expr, $rec:expr) => {{
        let rec: &lazaret_core::audit::AuditRecord = $rec;
        let audit: &$crate::audit::AuditState = &$store.audit;
        let head = sqlx::query(audit.next_sql()).fetch_one(&mut *$tx).await?;
        let seq: i64 = sqlx::Row::try_get(&head, "seq")?;
        let prev_hash: String = sqlx::Row::try_get(&head, "hash")?;
        let keyed_from: Option<i64> = sqlx::Row::try_get(&head, "keyed_from")?;
        let hash = audit.seal(rec, seq, &prev_hash, keyed_from)?;
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
    audit: &AuditState,
    rec: &AuditRecord,
) -> Result<(), StoreError> {
    let (seq, prev_hash, keyed_from): (i64, String, Option<i64>) =
        conn.query_row(audit.next_sql(), [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    let hash = audit.seal(rec, seq, &prev_hash, keyed_from)?;
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

const EVENT_COLUMNS: &str =
    "seq, at, actor, action, subject_type, subject_id, details, prev_hash, hash";

/// Which events to read (`GET /api/v1/audit`, `lazaret audit export`).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Events whose subject is this person.
    pub person: Option<String>,
    /// Events of this actor, and of the actors it names up to a `/`
    /// (`user:alice` matches `user:alice/token:ID` too).
    pub actor: Option<String>,
    pub action: Option<String>,
    /// From this instant on (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Before this instant (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// Only events with a larger `seq` (paging).
    pub after: i64,
}

/// The chain head as stored in `audit_head`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
    /// First keyed `seq`; `None` while the chain was never keyed.
    pub keyed_from: Option<i64>,
}

/// What `lazaret audit verify` found.
#[derive(Debug, Clone)]
pub struct AuditVerification {
    /// Events checked.
    pub checked: u64,
    pub head: AuditHead,
    /// Lines of the checkpoint file (`None`: no checkpoint file configured).
    pub checkpoints: Option<usize>,
    /// The highest checkpointed `seq`.
    pub last_checkpoint: Option<i64>,
    /// Read events waiting in the SQLite spool (not yet in the chain).
    pub spooled: u64,
    /// The first bad entry; `None` when the chain is intact.
    pub fault: Option<ChainFault>,
}

/// Rows read per query while verifying or exporting.
const PAGE: i64 = 5000;

impl Store {
    /// Keys and anchors this store's audit chain. Refuses a store without a
    /// key when the database's chain is already keyed, so a misconfigured
    /// instance fails at start-up instead of at its first write.
    pub async fn with_audit(mut self, settings: AuditSettings) -> Result<Store, StoreError> {
        let head = self.audit_head().await?;
        if settings.key.is_none() {
            if let Some(k) = head.keyed_from {
                return Err(StoreError::AuditKeyRequired(k));
            }
        }
        let spool = match &self.backend {
            Backend::Sqlite(pool) => spool::Spool::beside(&pool.connect_options()),
            Backend::Postgres(_) => None,
        };
        self.audit = Arc::new(AuditState {
            key: settings.key,
            checkpoint: settings.checkpoint.map(|path| Checkpoint {
                path,
                lock: Mutex::new(()),
            }),
            every: settings.checkpoint_every.max(1),
            spool,
            draining: AtomicBool::new(false),
        });
        // Reads spooled by an earlier process that stopped before appending
        // them.
        if self.audit.spool.as_ref().is_some_and(|s| s.exists()) {
            self.start_draining();
        }
        Ok(self)
    }

    /// Whether appends are keyed (an `audit_key` was configured).
    pub fn audit_keyed(&self) -> bool {
        self.audit.key.is_some()
    }

    /// The checkpoint file, when one is configured.
    pub fn audit_checkpoint_path(&self) -> Option<&Path> {
        self.audit.checkpoint.as_ref().map(|c| c.path.as_path())
    }

    /// Records an event on its own (reads, logins); writes record theirs in
    /// the same transaction as the change. On SQLite, when another writer
    /// (an import) holds the database, the event is spooled durably and
    /// appended as soon as the lock frees: then `None`.
    pub async fn record_audit(&self, rec: &AuditRecord) -> Result<Option<AuditEvent>, StoreError> {
        match &self.backend {
            Backend::Postgres(pool) => {
                let mut tx = pool.begin_write().await?;
                let event = append_audit!(self, tx, rec);
                tx.commit().await?;
                Ok(Some(event))
            }
            Backend::Sqlite(pool) => {
                if self.audit.spool.is_none() {
                    let mut tx = pool.begin_write().await?;
                    let event = append_audit!(self, tx, rec);
                    tx.commit().await?;
                    return Ok(Some(event));
                }
                match self.try_append_quickly(pool, rec).await {
                    Err(e) if is_busy(&e) => {
                        let spool = self.audit.spool.as_ref().expect("checked above");
                        spool.push(rec).await?;
                        self.start_draining();
                        Ok(None)
                    }
                    other => other.map(Some),
                }
            }
        }
    }

    /// One append that waits at most [`spool::QUICK_BUSY_MS`] for the write
    /// lock, on a connection whose normal wait is restored afterwards.
    async fn try_append_quickly(
        &self,
        pool: &sqlx::SqlitePool,
        rec: &AuditRecord,
    ) -> Result<AuditEvent, StoreError> {
        let mut conn = pool.acquire().await?;
        sqlx::query(spool::QUICK_BUSY_SQL)
            .execute(&mut *conn)
            .await?;
        let appended = async {
            let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
            let event = append_audit!(self, tx, rec);
            tx.commit().await?;
            Ok::<_, StoreError>(event)
        }
        .await;
        if sqlx::query(spool::NORMAL_BUSY_SQL)
            .execute(&mut *conn)
            .await
            .is_err()
        {
            // Never hand a connection with the short wait back to the pool.
            conn.close_on_drop();
        }
        appended
    }

    /// Starts the background appender of spooled events unless it runs.
    fn start_draining(&self) {
        if self.audit.draining.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            loop {
                match store.drain_audit_spool().await {
                    Ok(_) if store.audit_spooled().await.unwrap_or(1) == 0 => break,
                    Ok(_) => {}
                    Err(e) if is_busy(&e) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "appending spooled audit events failed; retrying")
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            store.audit.draining.store(false, Ordering::Release);
            // An event spooled between the last drain and the flag: take it.
            if store.audit_spooled().await.unwrap_or(0) > 0 {
                store.start_draining();
            }
        });
    }

    /// Events waiting in the spool.
    pub async fn audit_spooled(&self) -> Result<u64, StoreError> {
        match &self.audit.spool {
            Some(s) => s.count().await,
            None => Ok(0),
        }
    }

    /// Appends every spooled event to the chain (oldest first), waiting for
    /// the write lock as long as any writer; returns how many. Exactly once:
    /// the last spool row appended is recorded in `audit_head.spool_mark` in
    /// the same transaction, and rows up to it are skipped and removed.
    pub async fn drain_audit_spool(&self) -> Result<u64, StoreError> {
        let (Some(spool), Backend::Sqlite(pool)) = (&self.audit.spool, &self.backend) else {
            return Ok(0);
        };
        let mut total = 0;
        loop {
            let Some((spool_id, rows)) = spool.batch(500).await? else {
                return Ok(total);
            };
            let mut tx = pool.begin_write().await?;
            // Takes the head's lock before reading the mark.
            let mark: Option<String> = sqlx::query_scalar(
                "UPDATE audit_head SET spool_mark = spool_mark WHERE id = 1 RETURNING spool_mark",
            )
            .fetch_one(&mut *tx)
            .await?;
            let done = spool::applied_up_to(mark.as_deref(), &spool_id);
            let mut last = done;
            for (id, rec) in rows.iter().filter(|(id, _)| *id > done) {
                append_audit!(self, tx, rec);
                last = *id;
                total += 1;
            }
            sqlx::query("UPDATE audit_head SET spool_mark = $1 WHERE id = 1")
                .bind(format!("{spool_id}:{last}"))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            let last_row = rows.last().map_or(last, |(id, _)| *id);
            spool.remove_up_to(last.max(last_row)).await?;
        }
    }

    /// The chain head.
    pub async fn audit_head(&self) -> Result<AuditHead, StoreError> {
        on_pool!(self, pool => {
            let r = sqlx::query("SELECT seq, hash, keyed_from FROM audit_head WHERE id = 1")
                .fetch_one(pool)
                .await?;
            Ok(AuditHead {
                seq: r.try_get("seq")?,
                hash: r.try_get("hash")?,
                keyed_from: r.try_get("keyed_from")?,
            })
        })
    }

    /// Writes the current head to the checkpoint file (at shutdown, and
    /// at the end of a command). Nothing without a key or a file.
    pub async fn checkpoint_audit(&self) -> Result<(), StoreError> {
        if self.audit.key.is_none() || self.audit.checkpoint.is_none() {
            return Ok(());
        }
        let head = self.audit_head().await?;
        if head.seq == 0 || head.keyed_from.is_none_or(|k| head.seq < k) {
            return Ok(());
        }
        self.audit.write_checkpoint(head.seq, &head.hash)
    }

    /// The checkpoint file's lines, their signatures checked. A line that
    /// does not parse or is not signed by the key is a fault (the file was
    /// edited), reported with its line number.
    pub fn audit_checkpoints(&self) -> Result<Result<Vec<CheckpointLine>, String>, StoreError> {
        let (Some(cp), Some(key)) = (&self.audit.checkpoint, &self.audit.key) else {
            return Ok(Ok(Vec::new()));
        };
        let file = match std::fs::File::open(&cp.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(Vec::new())),
            Err(e) => return Err(StoreError::Checkpoint(cp.path.clone(), e)),
        };
        let mut lines = Vec::new();
        for (i, text) in std::io::BufReader::new(file).lines().enumerate() {
            let text = text.map_err(|e| StoreError::Checkpoint(cp.path.clone(), e))?;
            let n = i + 1;
            let fields: Vec<&str> = text.split(' ').collect();
            let parsed = match fields[..] {
                [seq, hash, mac] => seq
                    .parse::<i64>()
                    .ok()
                    .filter(|seq| key.checkpoint_ok(*seq, hash, mac))
                    .map(|seq| CheckpointLine {
                        line: n,
                        seq,
                        hash: hash.to_owned(),
                    }),
                _ => None,
            };
            match parsed {
                Some(l) => lines.push(l),
                None => {
                    return Ok(Err(format!(
                        "line {n} of {} is not a head signed with audit_key",
                        cp.path.display()
                    )))
                }
            }
        }
        Ok(Ok(lines))
    }

    /// Checks the whole chain: seq continuity, every link and hash (keyed
    /// from `keyed_from`), the head row, and every checkpoint line (a tail
    /// cut below the last checkpoint is found even when `audit_head` was
    /// rewound with it). `progress(checked, head_seq)` is called per page.
    pub async fn verify_audit(
        &self,
        progress: &mut (dyn FnMut(u64, i64) + Send),
    ) -> Result<AuditVerification, StoreError> {
        // The checkpoints before the head: every line signs a committed
        // event, so on a live database each is at or below the head read
        // after it; events appended after that read are left for next time.
        let checkpoints = self.audit_checkpoints()?;
        let head = self.audit_head().await?;
        let spooled = self.audit_spooled().await?;
        let mut report = AuditVerification {
            checked: 0,
            head: head.clone(),
            checkpoints: self.audit.checkpoint.as_ref().map(|_| 0),
            last_checkpoint: None,
            spooled,
            fault: None,
        };
        let checkpoints = match checkpoints {
            Ok(c) => c,
            Err(what) => {
                report.fault = Some(ChainFault { seq: 0, what });
                return Ok(report);
            }
        };
        report.checkpoints = report.checkpoints.map(|_| checkpoints.len());
        report.last_checkpoint = checkpoints.iter().map(|c| c.seq).max();
        let mut v = ChainVerifier::new(self.audit.key.as_ref(), head.keyed_from);
        let mut after = 0;
        loop {
            let page = self.audit_events(after, PAGE).await?;
            for e in page.iter().take_while(|e| e.seq <= head.seq) {
                if let Err(f) = v.check(e) {
                    report.fault = Some(f);
                    return Ok(report);
                }
                for c in checkpoints.iter().filter(|c| c.seq == e.seq) {
                    if c.hash != e.hash {
                        report.fault = Some(ChainFault {
                            seq: e.seq,
                            what: format!(
                                "its hash differs from the one signed at line {} of the \
                                 checkpoint file (the chain was rewritten from here)",
                                c.line
                            ),
                        });
                        return Ok(report);
                    }
                }
                report.checked += 1;
            }
            progress(report.checked, head.seq);
            match page.last() {
                Some(e) if page.len() as i64 == PAGE && e.seq < head.seq => after = e.seq,
                _ => break,
            }
        }
        let end = v.next_seq() - 1;
        if let Some(c) = checkpoints
            .iter()
            .filter(|c| c.seq > end)
            .max_by_key(|c| c.seq)
        {
            report.fault = Some(ChainFault {
                seq: end + 1,
                what: format!(
                    "missing: the chain ends at seq {end} but line {} of the checkpoint file \
                     signed seq {} (the tail was cut off)",
                    c.line, c.seq
                ),
            });
        } else if head.seq > end {
            report.fault = Some(ChainFault {
                seq: end + 1,
                what: format!(
                    "missing: the chain ends at seq {end} but its head is seq {} (the tail was \
                     cut off)",
                    head.seq
                ),
            });
        } else if head.hash != v.last_hash() {
            report.fault = Some(ChainFault {
                seq: end,
                what: format!(
                    "the head row (seq {}) does not match the last entry (audit_head was \
                     rewritten)",
                    head.seq
                ),
            });
        }
        Ok(report)
    }

    /// Events with `seq > after`, oldest first.
    pub async fn audit_events(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.audit_search(
            &AuditFilter {
                after,
                ..Default::default()
            },
            limit,
        )
        .await
    }

    /// Events matching `f`, oldest first, at most `limit`.
    pub async fn audit_search(
        &self,
        f: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM audit_events WHERE seq > $1");
        let mut n = 1;
        let mut next = |sql: &mut String, cond: &str| {
            n += 1;
            sql.push_str(&cond.replace('?', &format!("${n}")));
        };
        if f.person.is_some() {
            next(&mut sql, " AND subject_type = 'person' AND subject_id = ?");
        }
        if f.actor.is_some() {
            // `user:alice` also matches `user:alice/token:…` (her tokens).
            next(
                &mut sql,
                " AND (actor = ? OR substr(actor, 1, length(?) + 1) = ? || '/')",
            );
        }
        if f.action.is_some() {
            next(&mut sql, " AND action = ?");
        }
        if f.from.is_some() {
            next(&mut sql, " AND at >= ?");
        }
        if f.to.is_some() {
            next(&mut sql, " AND at < ?");
        }
        next(&mut sql, " ORDER BY seq LIMIT ?");
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql).bind(f.after);
            for s in [&f.person, &f.actor, &f.action].into_iter().flatten() {
                q = q.bind(s.as_str());
            }
            for t in [f.from, f.to].into_iter().flatten() {
                q = q.bind(t.timestamp_millis());
            }
            let rows = q.bind(limit).fetch_all(pool).await?;
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

/// SQLite's "database is locked" (`SQLITE_BUSY` and its extended codes).
fn is_busy(e: &StoreError) -> bool {
    let StoreError::Database(sqlx::Error::Database(db)) = e else {
        return false;
    };
    db.code()
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| c & 0xff == 5)
}
