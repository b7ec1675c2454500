//! Bulk import of exposure sources and test results from CSV files.
//!
//! A file is imported whole or not at all: rows are validated as they
//! stream in (`parse`), staged a batch at a time (`rows`) and written inside
//! one transaction (`sqlite`, `postgres`), which is committed only when no
//! row was bad. Every bad row is reported (line, column, reason), not just
//! the first. Upserts are keyed by the source's ids and only touch rows whose
//! values differ (`tables`), so importing the same file again changes
//! nothing. Memory stays flat: two or three batches exist at a time.

mod parse;
mod postgres;
mod rows;
mod sqlite;
pub(crate) use sqlite::database_file;
mod tables;

use std::io::Read;

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::ids::PersonId;
use serde::Serialize;
use thiserror::Error;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{Backend, Store};
use crate::error::StoreError;
pub(crate) use parse::column_index;
use parse::RowReader;
use rows::Batch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    Flights,
    Residences,
    Rides,
    Tests,
}

impl ImportKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Flights => "flights",
            Self::Residences => "residences",
            Self::Rides => "rides",
            Self::Tests => "tests",
        }
    }

    /// The columns a file of this kind must have (others are ignored).
    pub fn columns(&self) -> &'static [&'static str] {
        match self {
            Self::Flights => &[
                "flight_id",
                "flight_no",
                "departure",
                "origin",
                "destination",
                "person_id",
                "full_name",
                "phone",
                "email",
                "role",
                "seat",
                "booking_ref",
            ],
            Self::Residences => &[
                "person_id",
                "full_name",
                "phone",
                "email",
                "building_id",
                "address",
                "unit",
                "lat",
                "lon",
            ],
            Self::Rides => &[
                "ride_id",
                "vehicle_id",
                "start",
                "end",
                "person_id",
                "full_name",
                "phone",
                "email",
                "role",
            ],
            Self::Tests => &[
                "test_id",
                "person_id",
                "sampled_at",
                "result",
                "lab",
                "symptom_onset",
            ],
        }
    }
}

impl ImportKind {
    /// Columns a file of this kind may leave out: `language` (ISO 639-1)
    /// of each person row; an empty cell keeps the stored language, and a
    /// new person without one gets `en`; `district`, where a new person
    /// lives (else the file's `--district`, else `unassigned`; a person
    /// already stored keeps theirs).
    pub fn optional_columns(&self) -> &'static [&'static str] {
        match self {
            Self::Flights | Self::Residences | Self::Rides => &["language", "district"],
            Self::Tests => &[],
        }
    }
}

/// One problem in one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub column: String,
    pub reason: String,
}

/// Most row errors a report keeps: the first found (sorted by line); any
/// beyond are counted in `errors_dropped`, so that a file of millions of bad
/// rows costs no more memory than this many.
pub const ROW_ERRORS_KEPT: usize = 10_000;

/// Keeps the first [`ROW_ERRORS_KEPT`] of `errors`, counting the rest.
pub(crate) fn bound_errors(errors: &mut Vec<RowError>, dropped: &mut u64) {
    if errors.len() > ROW_ERRORS_KEPT {
        *dropped += (errors.len() - ROW_ERRORS_KEPT) as u64;
        errors.truncate(ROW_ERRORS_KEPT);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub kind: ImportKind,
    /// Data rows read.
    pub rows: u64,
    /// Database rows inserted or changed (0 when a file is imported again).
    pub changed: u64,
    /// The first [`ROW_ERRORS_KEPT`] bad rows' errors.
    pub errors: Vec<RowError>,
    /// Errors found beyond those kept.
    pub errors_dropped: u64,
    pub dry_run: bool,
    /// Whether the file's content is now stored.
    pub committed: bool,
}

pub struct ImportOptions<'a> {
    /// Validate only; write nothing.
    pub dry_run: bool,
    /// CSV rows per batch of upserts.
    pub batch_rows: usize,
    /// Called after each batch with the bytes and the data rows read so far.
    pub progress: Option<&'a (dyn Fn(u64, u64) + Send + Sync)>,
    /// Who imports (for the audit log).
    pub actor: String,
    /// Where the data came from (file name), for the audit log.
    pub source: String,
    /// The district of the new persons of rows that name none.
    pub district: Option<District>,
    /// The districts of the officer who imports (`None`: the system's own
    /// work, the CLI). With a limited scope, a row's `district` must be one
    /// of them, and a person the file names must not be stored in another
    /// district (a test result's person must be stored in one of them):
    /// such rows are bad rows.
    pub scope: Option<DistrictScope>,
}

impl Default for ImportOptions<'_> {
    fn default() -> Self {
        Self {
            dry_run: false,
            batch_rows: 2000,
            progress: None,
            actor: "system".into(),
            source: String::new(),
            district: None,
            scope: None,
        }
    }
}

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("reading the CSV file failed: {0}")]
    Read(#[from] csv::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

/// Rows per batch at most, whatever `batch_rows` asks for: keeps a batch's
/// text far below the 4 GiB its cells can address, and memory flat.
const MAX_BATCH_ROWS: usize = 100_000;

impl Store {
    /// Imports one CSV file of `kind` (see the module docs).
    pub async fn import_csv<R: Read>(
        &self,
        kind: ImportKind,
        input: R,
        opts: &ImportOptions<'_>,
        now: DateTime<Utc>,
    ) -> Result<ImportReport, ImportError> {
        let mut report = ImportReport {
            kind,
            rows: 0,
            changed: 0,
            errors: Vec::new(),
            errors_dropped: 0,
            dry_run: opts.dry_run,
            committed: false,
        };
        let batch_rows = opts.batch_rows.clamp(1, MAX_BATCH_ROWS);
        let Some(mut reader) = RowReader::open(input, kind, now, batch_rows, &mut report)? else {
            return Ok(report);
        };
        reader.set_district(opts.district.clone());
        // A national scope limits nothing: the same as none.
        let scope = opts.scope.as_ref().filter(|s| s.limit().is_some());
        reader.set_scope(scope.cloned());
        let progress = |reader: &RowReader<R>, rows: u64| {
            if let Some(p) = opts.progress {
                p(reader.bytes(), rows);
            }
        };
        let audit = {
            let (actor, source) = (opts.actor.clone(), opts.source.clone());
            move |rows: u64, changed: u64| AuditRecord {
                at: now,
                actor,
                action: format!("import.{}", kind.as_str()),
                subject_type: "import".into(),
                subject_id: kind.as_str().into(),
                details: serde_json::json!({ "source": source, "rows": rows, "changed": changed })
                    .to_string(),
            }
        };
        match &self.backend {
            _ if opts.dry_run => {
                let mut batch = Batch::new(kind);
                while reader.fill(&mut batch, &mut report).await? {
                    batch.clear();
                    progress(&reader, report.rows);
                }
                progress(&reader, report.rows);
                self.check_named_persons(kind, scope, reader.named(), &mut report)
                    .await?;
            }
            Backend::Sqlite(pool) => {
                let path = sqlite::database_file(&pool.connect_options())?;
                let mut writer = sqlite::Writer::start(path, kind, self.audit.clone());
                let mut batch = Batch::new(kind);
                loop {
                    let more = reader.fill(&mut batch, &mut report).await?;
                    // Bad rows mean nothing will be kept: stop writing, keep
                    // reading to report them all.
                    if report.errors.is_empty() && batch.rows() > 0 {
                        batch.seal();
                        writer.write(batch).await?;
                        batch = writer.recycled().unwrap_or_else(|| Batch::new(kind));
                    } else {
                        batch.clear();
                    }
                    progress(&reader, report.rows);
                    if !more {
                        break;
                    }
                }
                self.check_named_persons(kind, scope, reader.named(), &mut report)
                    .await?;
                if report.errors.is_empty() {
                    let rows = report.rows;
                    report.changed = writer
                        .commit(Box::new(move |changed| audit(rows, changed)))
                        .await?;
                    report.committed = true;
                } else {
                    writer.rollback().await?;
                }
            }
            Backend::Postgres(pool) => {
                let mut tx = pool.begin_write().await.map_err(StoreError::from)?;
                let mut statements = postgres::Statements::default();
                // The server writes one batch while this thread parses the
                // next.
                let mut front = Batch::new(kind);
                let mut back = Batch::new(kind);
                let mut more = reader.fill(&mut front, &mut report).await?;
                front.seal();
                loop {
                    let write = report.errors.is_empty();
                    let (written, next) = tokio::join!(
                        async {
                            if write {
                                postgres::write_batch(&mut tx, &front, &mut statements).await
                            } else {
                                Ok(0)
                            }
                        },
                        async {
                            if more {
                                reader.fill(&mut back, &mut report).await
                            } else {
                                Ok(false)
                            }
                        },
                    );
                    report.changed += written?;
                    front.clear();
                    progress(&reader, report.rows);
                    if !more {
                        break;
                    }
                    more = next?;
                    back.seal();
                    std::mem::swap(&mut front, &mut back);
                }
                self.check_named_persons(kind, scope, reader.named(), &mut report)
                    .await?;
                if report.errors.is_empty() {
                    let record = audit(report.rows, report.changed);
                    append_audit!(self, tx, &record);
                    tx.commit().await.map_err(StoreError::from)?;
                    report.committed = true;
                    // Fresh planner statistics: without them PostgreSQL
                    // plans the trace queries over a million new rows as
                    // sequential scans (hundreds of ms per trace).
                    let mut analysed = Vec::new();
                    for t in tables::tables_for(kind) {
                        if analysed.contains(&t.table) {
                            continue;
                        }
                        analysed.push(t.table);
                        let sql = format!("ANALYZE {}", t.table);
                        sqlx::query(&sql)
                            .execute(pool)
                            .await
                            .map_err(StoreError::from)?;
                    }
                } else {
                    tx.rollback().await.map_err(StoreError::from)?;
                }
            }
        }
        // New positives open their interviews (the worklist's first column).
        if report.committed && kind == ImportKind::Tests {
            self.open_case_follow_ups(now).await?;
        }
        Ok(report)
    }
}

impl ImportReport {
    /// Every row error found, kept or not.
    pub fn error_count(&self) -> u64 {
        self.errors.len() as u64 + self.errors_dropped
    }
}

impl Store {
    /// With a limited `scope`: a person the file names who is stored in
    /// another district is a bad row (an import never changes another
    /// district's person), and so is a test result's person who is not
    /// stored in one of the scope's districts.
    async fn check_named_persons(
        &self,
        kind: ImportKind,
        scope: Option<&DistrictScope>,
        named: &[(PersonId, u64)],
        report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        let Some(scope) = scope else {
            return Ok(());
        };
        let mut ids: Vec<PersonId> = named.iter().map(|(id, _)| id.clone()).collect();
        ids.sort();
        ids.dedup();
        let stored = self.person_districts(&ids).await?;
        let before = report.errors.len();
        for (id, line) in named {
            let reason = match stored.get(id) {
                Some(d) if !scope.covers(d) => {
                    format!("person {id} is stored in a district that is not yours")
                }
                None if kind == ImportKind::Tests => format!("person {id} does not exist"),
                _ => continue,
            };
            report.errors.push(RowError {
                line: *line,
                column: "person_id".into(),
                reason,
            });
        }
        if report.errors.len() > before {
            bound_errors(&mut report.errors, &mut report.errors_dropped);
            report.errors.sort_by_key(|e| e.line);
        }
        Ok(())
    }
}
