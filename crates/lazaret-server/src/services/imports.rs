//! Imports from the console: a CSV of orders, flights, residences, rides or
//! test results is checked first (a dry run through the same store call
//! that writes it: every bad row with its line, column and reason, nothing
//! stored) and recorded in the history (`imports`, with the district it was
//! imported into); a clean file is kept with its record until it is
//! committed (or expires after [`KEEP_CHECKED`]). Committing runs the real
//! import in the background, whole file or nothing, recording the rows
//! written as it goes and the outcome at the end.
//!
//! The store calls are the CLI's and the API's (`import_csv`,
//! `import_orders_csv`), limited to the officer's districts: a row naming
//! another district, or a person stored in one, is a bad row.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::user::{Permission, Role};
use lazaret_core::ValidationError;
use lazaret_store::{
    ImportError, ImportKind, ImportOptions, ImportOutcome, ImportRecord, ImportStatus, NewImport,
    RowError,
};
use serde_json::json;

use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// How many bad rows an import keeps (and the page shows); the count is of all.
pub const ERRORS_KEPT: usize = 200;
/// How long a checked file waits to be committed.
pub const KEEP_CHECKED: chrono::Duration = chrono::Duration::hours(1);
/// How many imports the history shows.
pub const HISTORY_LENGTH: u32 = 50;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Orders,
    Flights,
    Residences,
    Rides,
    Tests,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Orders,
        Kind::Flights,
        Kind::Residences,
        Kind::Rides,
        Kind::Tests,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Orders => "orders",
            Kind::Flights => "flights",
            Kind::Residences => "residences",
            Kind::Rides => "rides",
            Kind::Tests => "tests",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What a role needs to import it: orders as `POST /orders/bulk`
    /// (`WriteOrders`); exposure sources are tracing's (`Trace`: no
    /// compliance officer); test results are health data (`ReviseTests`).
    pub fn permission(self) -> Permission {
        match self {
            Kind::Orders => Permission::WriteOrders,
            Kind::Flights | Kind::Residences | Kind::Rides => Permission::Trace,
            Kind::Tests => Permission::ReviseTests,
        }
    }

    /// The exposure or test import of the store (`None`: orders).
    fn store_kind(self) -> Option<ImportKind> {
        match self {
            Kind::Orders => None,
            Kind::Flights => Some(ImportKind::Flights),
            Kind::Residences => Some(ImportKind::Residences),
            Kind::Rides => Some(ImportKind::Rides),
            Kind::Tests => Some(ImportKind::Tests),
        }
    }

    /// The columns a file of this kind has (the optional ones included).
    pub fn columns(self) -> Vec<&'static str> {
        match self.store_kind() {
            None => lazaret_store::ORDER_CSV_COLUMNS.to_vec(),
            Some(k) => k
                .columns()
                .iter()
                .chain(k.optional_columns())
                .copied()
                .collect(),
        }
    }
}

/// The kinds `role` may import (none: the role has no imports page).
pub fn kinds_for(role: Role) -> Vec<Kind> {
    Kind::ALL
        .into_iter()
        .filter(|k| role.allows(k.permission()))
        .collect()
}

/// A file as the front end received it.
#[derive(Debug, Clone)]
pub struct Upload {
    pub kind: Kind,
    /// The district its records go to when a row names none; `None`: the
    /// officer's sole district.
    pub district: Option<District>,
    pub file_name: String,
    pub content: Vec<u8>,
}

/// The district an import belongs to: the one named, which must be the
/// officer's; else their sole district; else it must be named.
fn import_district(actor: &Actor, named: Option<District>) -> Result<District, ServiceError> {
    let scope = actor.districts();
    match named {
        Some(d) if scope.covers(&d) => Ok(d),
        Some(d) => Err(ValidationError::new(
            "district",
            format!("{d} is not one of your districts"),
        )
        .into()),
        None => scope.sole().cloned().ok_or_else(|| {
            ValidationError::new("district", "is required: choose the district of the file").into()
        }),
    }
}

/// A file name fit for the history: its last path part, printable, at most
/// 200 characters.
fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let name: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    let name = name.trim();
    if name.is_empty() {
        "upload.csv".to_owned()
    } else {
        name.to_owned()
    }
}

/// A file the CSV reader gave up on as one bad row.
fn unreadable(e: ImportError) -> Result<(u64, Vec<RowError>, u64), ServiceError> {
    match e {
        ImportError::Read(e) => Ok((
            0,
            vec![RowError {
                line: e.position().map_or(1, |p| p.line()),
                column: "*".into(),
                reason: "the file cannot be read as CSV".into(),
            }],
            1,
        )),
        ImportError::Store(e) => Err(e.into()),
    }
}

/// One file to import: what it holds, where, and its bytes.
struct File<'a> {
    kind: Kind,
    district: &'a District,
    name: &'a str,
    content: &'a [u8],
}

/// Runs the import of `file` (a dry run, or for real) in the store; its
/// rows, changes, summary and bad rows. `progress` hears the rows done.
async fn run_store_import(
    state: &AppState,
    actor: &Actor,
    file: File<'_>,
    dry_run: bool,
    progress: Option<&(dyn Fn(u64) + Send + Sync)>,
) -> Result<StoreRun, ImportError> {
    let File {
        kind,
        district,
        name: file_name,
        content,
    } = file;
    let now = state.now();
    match kind.store_kind() {
        None => {
            let r = state
                .store
                .import_orders_csv_with(
                    content,
                    dry_run,
                    actor.districts(),
                    Some(district),
                    actor.name(),
                    now,
                    progress,
                )
                .await?;
            Ok(StoreRun {
                rows: r.rows,
                changed: r.created + r.extended,
                summary: json!({ "created": r.created, "extended": r.extended, "unchanged": r.unchanged }),
                error_count: r.error_count(),
                errors: r.errors,
                committed: r.committed,
            })
        }
        Some(k) => {
            let rows_progress = progress.map(|p| move |_bytes: u64, rows: u64| p(rows));
            let opts = ImportOptions {
                dry_run,
                progress: rows_progress
                    .as_ref()
                    .map(|p| p as &(dyn Fn(u64, u64) + Send + Sync)),
                actor: actor.name().to_owned(),
                source: file_name.to_owned(),
                district: Some(district.clone()),
                scope: Some(actor.districts().clone()),
                ..ImportOptions::default()
            };
            let r = state.store.import_csv(k, content, &opts, now).await?;
            Ok(StoreRun {
                rows: r.rows,
                changed: r.changed,
                summary: json!({ "changed": r.changed }),
                error_count: r.error_count(),
                errors: r.errors,
                committed: r.committed,
            })
        }
    }
}

struct StoreRun {
    rows: u64,
    changed: u64,
    summary: serde_json::Value,
    /// The first row errors (the store keeps a bounded number) …
    errors: Vec<RowError>,
    /// … and how many there are in all.
    error_count: u64,
    committed: bool,
}

/// Checks `upload` (a dry run: nothing stored) and records it in the
/// history: `refused` with its bad rows, or `checked` with the file kept
/// for [`commit`]. Audited `import.check`.
pub async fn check(
    state: &AppState,
    actor: &Actor,
    upload: Upload,
) -> Result<ImportRecord, ServiceError> {
    if !actor.role().allows(upload.kind.permission()) {
        return Err(ValidationError::new(
            "kind",
            format!("your role does not import {}", upload.kind.as_str()),
        )
        .into());
    }
    // The request's own limit bounds it already; a caller of the service
    // without one is held to the same.
    let max = state.config.max_body_bytes;
    if upload.content.len() > max {
        return Err(
            ValidationError::new("file", format!("is larger than {} MiB", max >> 20)).into(),
        );
    }
    let district = import_district(actor, upload.district)?;
    let file_name = clean_name(&upload.file_name);
    let now = state.now();
    state.store.expire_imports(now - KEEP_CHECKED, now).await?;
    let file = File {
        kind: upload.kind,
        district: &district,
        name: &file_name,
        content: &upload.content,
    };
    let (rows, errors, error_count) = match run_store_import(state, actor, file, true, None).await {
        Ok(r) => (r.rows, r.errors, r.error_count),
        Err(e) => unreadable(e)?,
    };
    let id = uuid::Uuid::now_v7().to_string();
    let status = if errors.is_empty() {
        ImportStatus::Checked
    } else {
        ImportStatus::Refused
    };
    let kept = &errors[..errors.len().min(ERRORS_KEPT)];
    let audit = actor.audit(
        now,
        "import.check",
        "import",
        &id,
        json!({
            "kind": upload.kind.as_str(),
            "district": district.as_str(),
            "file": file_name,
            "rows": rows,
            "errors": error_count,
        })
        .to_string(),
    );
    let new = NewImport {
        id: &id,
        district: &district,
        kind: upload.kind.as_str(),
        file_name: &file_name,
        actor: actor.name(),
        status,
        rows,
        error_count,
        errors: kept,
        content: errors.is_empty().then_some(&upload.content[..]),
        size_bytes: upload.content.len() as u64,
        at: now,
    };
    state.store.insert_import(&new, &audit).await?;
    read(state, actor, &id).await
}

/// Import `id` of the officer's districts, of a kind their role imports
/// (else not found), with the live count of rows written when this
/// process is writing it.
pub async fn read(state: &AppState, actor: &Actor, id: &str) -> Result<ImportRecord, ServiceError> {
    let record = state
        .store
        .get_import_in(id, actor.districts())
        .await?
        .filter(|r| Kind::parse(&r.kind).is_some_and(|k| actor.role().allows(k.permission())))
        .ok_or_else(|| ServiceError::not_found("import", id))?;
    if settle(state, &record).await? {
        return Box::pin(read(state, actor, id)).await;
    }
    Ok(with_live_progress(record))
}

/// How long a running import may go unheard of (no process here writing
/// it, no heartbeat from another) before it counts as interrupted.
const SILENCE: Duration = Duration::from_secs(120);

/// Marks a running import failed when its process is gone: not written
/// by this process, and no heartbeat for [`SILENCE`] (PostgreSQL's
/// writers beat every half second; SQLite has one server process, which
/// is this one). Whether it did.
async fn settle(state: &AppState, r: &ImportRecord) -> Result<bool, ServiceError> {
    if r.status != ImportStatus::Running
        || LIVE.lock().expect("live progress lock").contains_key(&r.id)
    {
        return Ok(false);
    }
    let now = state.now();
    let silence = chrono::Duration::from_std(SILENCE).unwrap_or(chrono::Duration::MAX);
    let before = now - state.clock.scale(silence);
    Ok(state
        .store
        .fail_stale_import(
            &r.id,
            before,
            now,
            "interrupted (the server stopped); nothing was stored",
        )
        .await?)
}

/// The newest imports of the officer's districts, of the kinds their role
/// imports.
pub async fn history(state: &AppState, actor: &Actor) -> Result<Vec<ImportRecord>, ServiceError> {
    let kinds: Vec<&str> = kinds_for(actor.role()).iter().map(|k| k.as_str()).collect();
    let mut records = state
        .store
        .list_imports(actor.districts(), &kinds, HISTORY_LENGTH)
        .await?;
    for r in &mut records {
        if settle(state, r).await? {
            if let Some(now) = state.store.get_import_in(&r.id, actor.districts()).await? {
                *r = now;
            }
        }
    }
    Ok(records.into_iter().map(with_live_progress).collect())
}

/// Commits checked import `id`: it becomes `running` (audited
/// `import.commit`) and its file is imported in the background, whole or
/// not at all. An import already committed (a second click) or no longer
/// waiting is answered as it stands.
pub async fn commit(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<ImportRecord, ServiceError> {
    let record = read(state, actor, id).await?;
    let Some(kind) = Kind::parse(&record.kind) else {
        return Err(ServiceError::not_found("import", id));
    };
    let now = state.now();
    if record.status == ImportStatus::Checked && record.created_at < now - KEEP_CHECKED {
        state.store.expire_imports(now - KEEP_CHECKED, now).await?;
        return read(state, actor, id).await;
    }
    let audit = actor.audit(
        now,
        "import.commit",
        "import",
        id,
        json!({ "kind": kind.as_str(), "file": record.file_name, "rows": record.rows }).to_string(),
    );
    let Some(content) = state
        .store
        .claim_import(id, actor.districts(), now, &audit)
        .await?
    else {
        return read(state, actor, id).await;
    };
    let live = Arc::new(AtomicU64::new(0));
    LIVE.lock()
        .expect("live progress lock")
        .insert(id.to_owned(), live.clone());
    let (state2, actor2, record2) = (state.clone(), actor.clone(), record.clone());
    tokio::spawn(async move {
        write_in_background(state2, actor2, kind, record2, content, live).await;
    });
    read(state, actor, id).await
}

/// Rows written so far by the imports this process runs (the database
/// has them too where a write can be recorded meanwhile: SQLite's one
/// writer is the import itself).
static LIVE: LazyLock<Mutex<HashMap<String, Arc<AtomicU64>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn with_live_progress(mut r: ImportRecord) -> ImportRecord {
    if r.status == ImportStatus::Running {
        if let Some(n) = LIVE.lock().expect("live progress lock").get(&r.id) {
            r.rows_done = r.rows_done.max(n.load(Ordering::Relaxed));
        }
    }
    r
}

async fn write_in_background(
    state: AppState,
    actor: Actor,
    kind: Kind,
    record: ImportRecord,
    content: Vec<u8>,
    live: Arc<AtomicU64>,
) {
    let id = record.id.clone();
    let counter = live.clone();
    let progress = move |n: u64| counter.store(n, Ordering::Relaxed);
    let file = File {
        kind,
        district: &record.district,
        name: &record.file_name,
        content: &content,
    };
    let import = run_store_import(&state, &actor, file, false, Some(&progress));
    tokio::pin!(import);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let result = loop {
        tokio::select! {
            r = &mut import => break r,
            _ = tick.tick() => {
                // Rows done, and (PostgreSQL) the heartbeat `settle` looks for.
                let n = live.load(Ordering::Relaxed);
                if let Err(e) = state.store.import_progress(&id, n, state.now()).await {
                    tracing::warn!(error = %e, import = %id, "recording an import's progress failed");
                }
            }
        }
    };
    let outcome = match result {
        Ok(r) if r.committed => ImportOutcome {
            status: ImportStatus::Done,
            rows_done: r.rows,
            changed: r.changed,
            summary: r.summary,
            error_count: 0,
            errors: Vec::new(),
            failure: None,
        },
        // Bad rows at commit that the dry run did not have (a person moved
        // or stored meanwhile): nothing was stored.
        Ok(r) => ImportOutcome {
            status: ImportStatus::Failed,
            rows_done: 0,
            changed: 0,
            summary: r.summary,
            error_count: r.error_count,
            errors: r.errors.into_iter().take(ERRORS_KEPT).collect(),
            failure: Some("bad rows; nothing was stored".into()),
        },
        Err(e) => {
            tracing::error!(error = %e, import = %id, "an import failed");
            ImportOutcome {
                status: ImportStatus::Failed,
                rows_done: 0,
                changed: 0,
                summary: json!({}),
                error_count: 0,
                errors: Vec::new(),
                failure: Some("writing failed; nothing was stored".into()),
            }
        }
    };
    if let Err(e) = state.store.finish_import(&id, &outcome, state.now()).await {
        tracing::error!(error = %e, import = %id, "recording an import's end failed");
    }
    LIVE.lock().expect("live progress lock").remove(&id);
}

/// The percentage of rows written (0 to 100; at most 99 until the
/// import's transaction is committed: after the last row come the
/// indexes and the commit).
pub fn percent(r: &ImportRecord) -> u64 {
    match r.status {
        ImportStatus::Done => 100,
        _ if r.rows == 0 => 0,
        _ => ((r.rows_done.min(r.rows) * 100) / r.rows).min(99),
    }
}

/// Whether a running import has handed every row to the database and
/// only its commit remains.
pub fn committing(r: &ImportRecord) -> bool {
    r.status == ImportStatus::Running && r.rows > 0 && r.rows_done >= r.rows
}

/// The time a checked import stops waiting.
pub fn expires_at(r: &ImportRecord) -> DateTime<Utc> {
    r.created_at + KEEP_CHECKED
}

/// Whether `scope` limits anything (national officers choose a district too).
pub fn districts_to_choose(actor: &Actor) -> Option<Vec<District>> {
    match actor.districts() {
        DistrictScope::All => None,
        DistrictScope::Only(set) => Some(set.iter().cloned().collect()),
    }
}
