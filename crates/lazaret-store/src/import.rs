//! Bulk import of exposure sources and test results from CSV files.
//!
//! A file is imported whole or not at all: rows are validated as they
//! stream in and written in batches of multi-row upserts inside one
//! transaction, which is committed only when no row was bad. Every bad row is
//! reported (line, column, reason), not just the first. Upserts are keyed by
//! the source's ids and only touch rows whose values differ, so importing the
//! same file again changes nothing.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::contact_info::{Email, Phone};
use lazaret_core::exposure::{FlightRole, Ride, RideRole, Seat};
use lazaret_core::geo::Coordinates;
use lazaret_core::ids::{BuildingId, FlightId, PersonId, RideId, TestId, VehicleId};
use lazaret_core::person::{Address, FullName};
use lazaret_core::test_result::TestOutcome;
use lazaret_core::ValidationError;
use serde::Serialize;
use sqlx::Row;
use thiserror::Error;

use crate::audit::append_audit;
use crate::db::{on_pool, to_ms, Store};
use crate::error::StoreError;

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

/// One problem in one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub column: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub kind: ImportKind,
    /// Data rows read.
    pub rows: u64,
    /// Database rows inserted or changed (0 when a file is imported again).
    pub changed: u64,
    pub errors: Vec<RowError>,
    pub dry_run: bool,
    /// Whether the file's content is now stored.
    pub committed: bool,
}

pub struct ImportOptions<'a> {
    /// Validate only; write nothing.
    pub dry_run: bool,
    /// CSV rows per batch of upserts.
    pub batch_rows: usize,
    /// Called after each batch with the number of bytes read so far.
    pub progress: Option<&'a (dyn Fn(u64) + Send + Sync)>,
    /// Who imports (for the audit log).
    pub actor: String,
    /// Where the data came from (file name), for the audit log.
    pub source: String,
}

impl Default for ImportOptions<'_> {
    fn default() -> Self {
        Self {
            dry_run: false,
            batch_rows: 2000,
            progress: None,
            actor: "system".into(),
            source: String::new(),
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

/// A bound parameter; one type for every backend.
enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Real(f64),
}

/// How one table is upserted.
struct Upsert {
    table: &'static str,
    cols: &'static [&'static str],
    key: &'static str,
    /// Columns overwritten on conflict.
    update: &'static [&'static str],
    /// Columns whose difference justifies an update (others ride along).
    compare: &'static [&'static str],
    /// Extra condition for updating an existing row.
    guard: Option<&'static str>,
    /// Columns where an empty cell means "not given here": the stored value
    /// stays (a ride log without phone numbers must not erase them).
    keep_when_empty: &'static [&'static str],
}

const PERSONS: Upsert = Upsert {
    table: "persons",
    cols: &[
        "id",
        "full_name",
        "phone",
        "email",
        "language",
        "created_at",
        "updated_at",
    ],
    key: "id",
    update: &["full_name", "phone", "email", "updated_at"],
    compare: &["full_name", "phone", "email"],
    guard: None,
    keep_when_empty: &["phone", "email"],
};
const FLIGHTS: Upsert = Upsert {
    table: "flights",
    cols: &["id", "flight_no", "departure", "origin", "destination"],
    key: "id",
    update: &["flight_no", "departure", "origin", "destination"],
    compare: &["flight_no", "departure", "origin", "destination"],
    guard: None,
    keep_when_empty: &[],
};
const FLIGHT_OCCUPANTS: Upsert = Upsert {
    table: "flight_occupants",
    cols: &["flight_id", "person_id", "role", "seat", "booking_ref"],
    key: "flight_id, person_id",
    update: &["role", "seat", "booking_ref"],
    compare: &["role", "seat", "booking_ref"],
    guard: None,
    keep_when_empty: &[],
};
const RESIDENCES: Upsert = Upsert {
    table: "residences",
    cols: &["person_id", "building_id", "unit", "address", "lat", "lon"],
    key: "person_id",
    update: &["building_id", "unit", "address", "lat", "lon"],
    compare: &["building_id", "unit", "address", "lat", "lon"],
    guard: None,
    keep_when_empty: &[],
};
const RIDES: Upsert = Upsert {
    table: "rides",
    cols: &["id", "vehicle_id", "start_at", "end_at"],
    key: "id",
    update: &["vehicle_id", "start_at", "end_at"],
    compare: &["vehicle_id", "start_at", "end_at"],
    guard: None,
    keep_when_empty: &[],
};
const RIDE_OCCUPANTS: Upsert = Upsert {
    table: "ride_occupants",
    cols: &["ride_id", "person_id", "role"],
    key: "ride_id, person_id",
    update: &["role"],
    compare: &["role"],
    guard: None,
    keep_when_empty: &[],
};
const TESTS: Upsert = Upsert {
    table: "test_results",
    cols: &[
        "id",
        "person_id",
        "sampled_at",
        "result",
        "lab",
        "symptom_onset",
        "revisions",
        "updated_at",
    ],
    key: "id",
    update: &[
        "person_id",
        "sampled_at",
        "result",
        "lab",
        "symptom_onset",
        "updated_at",
    ],
    compare: &["person_id", "sampled_at", "result", "lab", "symptom_onset"],
    // A revised result keeps its corrected value and history.
    guard: Some("test_results.revisions = '[]'"),
    keep_when_empty: &[],
};

/// Both backends accept well over this many parameters per statement.
const MAX_PARAMS: usize = 30_000;
/// Rows per statement at most: larger ones save nothing measurable.
const MAX_STATEMENT_ROWS: usize = 1024;

impl Upsert {
    /// The multi-row upsert for `rows` rows. SQLite gets anonymous `?`
    /// placeholders: its numbered ones are looked up by name per argument,
    /// which makes binding thousands of them quadratic.
    fn sql(&self, rows: usize, numbered: bool) -> String {
        let n = self.cols.len();
        let mut s = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.table,
            self.cols.join(", ")
        );
        for r in 0..rows {
            if r > 0 {
                s.push(',');
            }
            s.push('(');
            for c in 0..n {
                if c > 0 {
                    s.push(',');
                }
                if numbered {
                    s.push_str(&format!("${}", r * n + c + 1));
                } else {
                    s.push('?');
                }
            }
            s.push(')');
        }
        let t = self.table;
        let set: Vec<String> = self
            .update
            .iter()
            .map(|c| {
                if self.keep_when_empty.contains(c) {
                    format!("{c} = COALESCE(excluded.{c}, {t}.{c})")
                } else {
                    format!("{c} = excluded.{c}")
                }
            })
            .collect();
        let cond: Vec<String> = self
            .compare
            .iter()
            .map(|c| {
                if self.keep_when_empty.contains(c) {
                    format!("(excluded.{c} IS NOT NULL AND {t}.{c} IS DISTINCT FROM excluded.{c})")
                } else {
                    format!("{t}.{c} IS DISTINCT FROM excluded.{c}")
                }
            })
            .collect();
        let cond = format!("({})", cond.join(" OR "));
        let cond = match self.guard {
            Some(g) => format!("{g} AND {cond}"),
            None => cond,
        };
        s.push_str(&format!(
            " ON CONFLICT ({}) DO UPDATE SET {} WHERE {cond}",
            self.key,
            set.join(", ")
        ));
        s
    }
}

/// Rows of one table waiting to be written, by key: a key seen twice in a
/// batch keeps its last value (one statement may not touch a row twice), and
/// rows go out in key order, so neighbouring rows land on neighbouring
/// B-tree pages.
struct Pending {
    upsert: &'static Upsert,
    rows: BTreeMap<String, Vec<Arg>>,
    /// Statement text by row count (only a few counts are ever used).
    sql: HashMap<usize, String>,
}

impl Pending {
    fn new(upsert: &'static Upsert) -> Self {
        Self {
            upsert,
            rows: BTreeMap::new(),
            sql: HashMap::new(),
        }
    }

    fn push(&mut self, key: String, row: Vec<Arg>) {
        self.rows.insert(key, row);
    }

    fn clear(&mut self) {
        self.rows.clear();
    }

    /// Rows in the next statement when `left` are waiting: a power of two,
    /// so a whole import uses a dozen distinct statements per table, each
    /// prepared once and then taken from the connection's statement cache.
    fn chunk(&self, left: usize) -> usize {
        let cap = (MAX_PARAMS / self.upsert.cols.len()).clamp(1, MAX_STATEMENT_ROWS);
        let n = left.min(cap);
        1 << n.ilog2()
    }

    fn sql(&mut self, rows: usize, numbered: bool) -> &str {
        let upsert = self.upsert;
        self.sql
            .entry(rows)
            .or_insert_with(|| upsert.sql(rows, numbered))
    }
}

/// Executes the pending rows of each table, in order, inside `$tx`;
/// evaluates to the number of rows changed.
macro_rules! flush {
    ($tx:expr, $tables:expr, $numbered:expr) => {{
        let mut changed: u64 = 0;
        for p in $tables.iter_mut() {
            let mut left = p.rows.len();
            let mut rows = std::mem::take(&mut p.rows).into_values();
            while left > 0 {
                let n = p.chunk(left);
                let mut q = sqlx::query(p.sql(n, $numbered));
                for a in rows.by_ref().take(n).flatten() {
                    q = match a {
                        Arg::Text(s) => q.bind(s),
                        Arg::OptText(s) => q.bind(s),
                        Arg::Int(i) => q.bind(i),
                        Arg::Real(f) => q.bind(f),
                    };
                }
                changed += q
                    .execute(&mut *$tx)
                    .await
                    .map_err(StoreError::from)?
                    .rows_affected();
                left -= n;
            }
        }
        changed
    }};
}

/// The CSV side of an import: reads records and stages them, a batch at a
/// time.
struct RowReader<R> {
    rdr: csv::Reader<R>,
    rec: csv::StringRecord,
    idx: HashMap<&'static str, usize>,
    kind: ImportKind,
    now_ms: i64,
    batch: usize,
}

impl<R: Read> RowReader<R> {
    /// Stages up to one batch of records into `tables`, recording bad rows
    /// in `report`; false once the file is exhausted.
    async fn fill(
        &mut self,
        tables: &mut [Pending],
        report: &mut ImportReport,
    ) -> Result<bool, ImportError> {
        for n in 1..=self.batch {
            // Lets a write running alongside (see `import_csv`) send its
            // next statement.
            if n % 256 == 0 {
                tokio::task::yield_now().await;
            }
            let line = self.rdr.position().line();
            match self.rdr.read_record(&mut self.rec) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(e) => {
                    // A record that is not valid UTF-8 is a bad row, not a
                    // reason to stop reading.
                    if let csv::ErrorKind::Utf8 { pos, err } = e.kind() {
                        report.rows += 1;
                        report.errors.push(RowError {
                            line: pos.as_ref().map_or(line, |p| p.line()),
                            column: self.kind.columns().get(err.field()).map_or_else(
                                || format!("#{}", err.field() + 1),
                                |c| (*c).to_owned(),
                            ),
                            reason: "is not valid UTF-8".into(),
                        });
                        continue;
                    }
                    return Err(e.into());
                }
            }
            report.rows += 1;
            let mut f = Fields {
                rec: &self.rec,
                idx: &self.idx,
                line: self.rec.position().map_or(line, |p| p.line()),
                errors: Vec::new(),
            };
            stage(self.kind, &mut f, tables, self.now_ms);
            report.errors.append(&mut f.errors);
        }
        Ok(true)
    }

    fn bytes(&self) -> u64 {
        self.rdr.position().byte()
    }
}

/// Field access and validation for one CSV record.
struct Fields<'r> {
    rec: &'r csv::StringRecord,
    idx: &'r HashMap<&'static str, usize>,
    line: u64,
    errors: Vec<RowError>,
}

impl<'r> Fields<'r> {
    fn raw(&self, col: &'static str) -> &'r str {
        self.idx
            .get(col)
            .and_then(|&i| self.rec.get(i))
            .unwrap_or("")
            .trim()
    }

    fn fail(&mut self, col: &str, reason: impl Into<String>) {
        self.errors.push(RowError {
            line: self.line,
            column: col.to_owned(),
            reason: reason.into(),
        });
    }

    fn check<T>(
        &mut self,
        col: &'static str,
        f: impl FnOnce(&str) -> Result<T, ValidationError>,
    ) -> Option<T> {
        let v = self.raw(col);
        match f(v) {
            Ok(t) => Some(t),
            Err(e) => {
                self.fail(col, e.reason);
                None
            }
        }
    }

    fn optional<T>(
        &mut self,
        col: &'static str,
        f: impl FnOnce(&str) -> Result<T, ValidationError>,
    ) -> Option<Option<T>> {
        if self.raw(col).is_empty() {
            Some(None)
        } else {
            self.check(col, f).map(Some)
        }
    }

    fn text(&mut self, col: &'static str, max: usize) -> Option<String> {
        self.check(col, |v| {
            if v.is_empty() {
                Err(ValidationError::new(col, "must not be empty"))
            } else if v.chars().count() > max {
                Err(ValidationError::new(
                    col,
                    format!("must be at most {max} characters"),
                ))
            } else if v.chars().any(char::is_control) {
                Err(ValidationError::new(
                    col,
                    "must not contain control characters",
                ))
            } else {
                Ok(v.to_owned())
            }
        })
    }

    fn time(&mut self, col: &'static str) -> Option<DateTime<Utc>> {
        self.check(col, |v| {
            DateTime::parse_from_rfc3339(v)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| {
                    ValidationError::new(
                        col,
                        format!("{v:?} is not an RFC 3339 time like 2026-03-01T08:00:00Z ({e})"),
                    )
                })
        })
    }

    fn number(&mut self, col: &'static str) -> Option<f64> {
        self.check(col, |v| {
            v.parse::<f64>()
                .map_err(|_| ValidationError::new(col, format!("{v:?} is not a number")))
        })
    }

    /// id, full_name, phone, email → a persons row.
    fn person(&mut self, now: i64) -> Option<(String, Vec<Arg>)> {
        let id = self.check("person_id", PersonId::parse);
        let name = self.check("full_name", FullName::parse);
        let phone = self.optional("phone", Phone::parse);
        let email = self.optional("email", Email::parse);
        let (id, name, phone, email) = (id?, name?, phone?, email?);
        Some((
            id.to_string(),
            vec![
                Arg::Text(id.to_string()),
                Arg::Text(name.as_str().to_owned()),
                Arg::OptText(phone.map(|p| p.as_str().to_owned())),
                Arg::OptText(email.map(|e| e.as_str().to_owned())),
                Arg::Text("en".into()),
                Arg::Int(now),
                Arg::Int(now),
            ],
        ))
    }
}

/// Validates one record into the pending tables; problems go to `f.errors`.
fn stage(kind: ImportKind, f: &mut Fields<'_>, tables: &mut [Pending], now: i64) {
    match kind {
        ImportKind::Flights => {
            let flight_id = f.check("flight_id", FlightId::parse);
            let flight_no = f.text("flight_no", 16);
            let departure = f.time("departure");
            let origin = f.text("origin", 64);
            let destination = f.text("destination", 64);
            let person = f.person(now);
            let role = f.check("role", FlightRole::parse);
            let seat = f.optional("seat", Seat::parse);
            let booking = f.optional("booking_ref", |v| {
                if v.chars().count() > 32 || v.chars().any(char::is_control) {
                    Err(ValidationError::new(
                        "booking_ref",
                        "must be at most 32 printable characters",
                    ))
                } else {
                    Ok(v.to_owned())
                }
            });
            if let (Some(FlightRole::Crew), Some(Some(_))) = (role, seat) {
                f.fail("seat", "crew rows leave the seat empty");
                return;
            }
            let (
                Some(flight_id),
                Some(flight_no),
                Some(departure),
                Some(origin),
                Some(destination),
                Some((pkey, prow)),
                Some(role),
                Some(seat),
                Some(booking),
            ) = (
                flight_id,
                flight_no,
                departure,
                origin,
                destination,
                person,
                role,
                seat,
                booking,
            )
            else {
                return;
            };
            let fid = flight_id.to_string();
            tables[0].push(pkey.clone(), prow);
            tables[1].push(
                fid.clone(),
                vec![
                    Arg::Text(fid.clone()),
                    Arg::Text(flight_no),
                    Arg::Int(to_ms(departure)),
                    Arg::Text(origin),
                    Arg::Text(destination),
                ],
            );
            tables[2].push(
                format!("{fid}\u{0}{pkey}"),
                vec![
                    Arg::Text(fid),
                    Arg::Text(pkey),
                    Arg::Text(
                        match role {
                            FlightRole::Passenger => "passenger",
                            FlightRole::Crew => "crew",
                        }
                        .into(),
                    ),
                    Arg::OptText(seat.map(|s| s.to_string())),
                    Arg::OptText(booking),
                ],
            );
        }
        ImportKind::Residences => {
            let person = f.person(now);
            let building = f.check("building_id", BuildingId::parse);
            let address = f.check("address", Address::parse);
            let unit = f.text("unit", 32);
            let lat = f.number("lat");
            let lon = f.number("lon");
            let coords = match (lat, lon) {
                (Some(lat), Some(lon)) => match Coordinates::new(lat, lon) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        let col = if e.field == "lat" { "lat" } else { "lon" };
                        f.fail(col, e.reason);
                        None
                    }
                },
                _ => None,
            };
            let (Some((pkey, prow)), Some(building), Some(address), Some(unit), Some(c)) =
                (person, building, address, unit, coords)
            else {
                return;
            };
            tables[0].push(pkey.clone(), prow);
            tables[1].push(
                pkey.clone(),
                vec![
                    Arg::Text(pkey),
                    Arg::Text(building.to_string()),
                    Arg::Text(unit),
                    Arg::Text(address.as_str().to_owned()),
                    Arg::Real(c.lat()),
                    Arg::Real(c.lon()),
                ],
            );
        }
        ImportKind::Rides => {
            let ride_id = f.check("ride_id", RideId::parse);
            let vehicle = f.check("vehicle_id", VehicleId::parse);
            let start = f.time("start");
            let end = f.time("end");
            let person = f.person(now);
            let role = f.check("role", RideRole::parse);
            let (Some(ride_id), Some(vehicle), Some(start), Some(end)) =
                (ride_id, vehicle, start, end)
            else {
                return;
            };
            let ride = match Ride::new(ride_id, vehicle, start, end) {
                Ok(r) => r,
                Err(e) => {
                    f.fail("end", e.reason);
                    return;
                }
            };
            let (Some((pkey, prow)), Some(role)) = (person, role) else {
                return;
            };
            let rid = ride.id.to_string();
            tables[0].push(pkey.clone(), prow);
            tables[1].push(
                rid.clone(),
                vec![
                    Arg::Text(rid.clone()),
                    Arg::Text(ride.vehicle_id.to_string()),
                    Arg::Int(to_ms(ride.start)),
                    Arg::Int(to_ms(ride.end)),
                ],
            );
            tables[2].push(
                format!("{rid}\u{0}{pkey}"),
                vec![
                    Arg::Text(rid),
                    Arg::Text(pkey),
                    Arg::Text(
                        match role {
                            RideRole::Driver => "driver",
                            RideRole::Passenger => "passenger",
                        }
                        .into(),
                    ),
                ],
            );
        }
        ImportKind::Tests => {
            let id = f.check("test_id", TestId::parse);
            let person = f.check("person_id", PersonId::parse);
            let sampled = f.time("sampled_at");
            let result = f.check("result", TestOutcome::parse);
            let lab = f.text("lab", 200);
            let onset = f.optional("symptom_onset", |v| {
                v.parse::<NaiveDate>().map_err(|_| {
                    ValidationError::new(
                        "symptom_onset",
                        format!("{v:?} is not a date like 2026-03-01"),
                    )
                })
            });
            let (Some(id), Some(person), Some(sampled), Some(result), Some(lab), Some(onset)) =
                (id, person, sampled, result, lab, onset)
            else {
                return;
            };
            tables[0].push(
                id.to_string(),
                vec![
                    Arg::Text(id.to_string()),
                    Arg::Text(person.to_string()),
                    Arg::Int(to_ms(sampled)),
                    Arg::Text(result.as_str().into()),
                    Arg::Text(lab),
                    Arg::OptText(onset.map(|d| d.format("%Y-%m-%d").to_string())),
                    Arg::Text("[]".into()),
                    Arg::Int(now),
                ],
            );
        }
    }
}

fn tables_for(kind: ImportKind) -> Vec<Pending> {
    match kind {
        ImportKind::Flights => vec![
            Pending::new(&PERSONS),
            Pending::new(&FLIGHTS),
            Pending::new(&FLIGHT_OCCUPANTS),
        ],
        ImportKind::Residences => vec![Pending::new(&PERSONS), Pending::new(&RESIDENCES)],
        ImportKind::Rides => vec![
            Pending::new(&PERSONS),
            Pending::new(&RIDES),
            Pending::new(&RIDE_OCCUPANTS),
        ],
        ImportKind::Tests => vec![Pending::new(&TESTS)],
    }
}

impl Store {
    /// Imports one CSV file of `kind` (see the module docs).
    pub async fn import_csv<R: Read>(
        &self,
        kind: ImportKind,
        input: R,
        opts: &ImportOptions<'_>,
        now: DateTime<Utc>,
    ) -> Result<ImportReport, ImportError> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(input);
        let mut report = ImportReport {
            kind,
            rows: 0,
            changed: 0,
            errors: Vec::new(),
            dry_run: opts.dry_run,
            committed: false,
        };
        let header = rdr.headers()?.clone();
        let mut idx: HashMap<&'static str, usize> = HashMap::new();
        for &col in kind.columns() {
            match header.iter().position(|h| h.trim() == col) {
                Some(i) => {
                    idx.insert(col, i);
                }
                None => report.errors.push(RowError {
                    line: 1,
                    column: col.to_owned(),
                    reason: "required column is missing from the header".into(),
                }),
            }
        }
        if !report.errors.is_empty() {
            return Ok(report);
        }
        let numbered = self.kind() == crate::db::BackendKind::Postgres;
        let mut reader = RowReader {
            rdr,
            rec: csv::StringRecord::new(),
            idx,
            kind,
            now_ms: to_ms(now),
            batch: opts.batch_rows.max(1),
        };
        // Two sets of staged rows: the database writes one batch while this
        // thread parses and validates the next (SQLite works on its own
        // thread, PostgreSQL in its own process).
        let mut front = tables_for(kind);
        let mut back = tables_for(kind);
        on_pool!(self, pool => {
            let mut tx = if opts.dry_run { None } else { Some(pool.begin().await.map_err(StoreError::from)?) };
            if let (Some(tx), false) = (&mut tx, numbered) {
                // Upserts land at random places in the person indexes; with
                // SQLite's default 2 MB page cache a million-row file thrashes
                // it. 256 MB bounds memory and keeps the indexes hot.
                sqlx::query("PRAGMA cache_size = -262144").execute(&mut **tx).await.map_err(StoreError::from)?;
            }
            // A first load into an empty SQLite table: its secondary indexes
            // are dropped here and rebuilt with one sort before the commit
            // (same transaction, so a failed import leaves them as they
            // were) instead of taking a million inserts at random places.
            let mut rebuild: Vec<String> = Vec::new();
            if let (Some(tx), false) = (&mut tx, numbered) {
                for p in front.iter() {
                    let probe = format!("SELECT 1 FROM {} LIMIT 1", p.upsert.table);
                    if sqlx::query(&probe).fetch_optional(&mut **tx).await?.is_some() {
                        continue;
                    }
                    let indexes = sqlx::query(
                        "SELECT name, sql FROM sqlite_master \
                         WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL",
                    )
                    .bind(p.upsert.table)
                    .fetch_all(&mut **tx)
                    .await?;
                    for r in indexes {
                        let name: String = r.try_get("name")?;
                        sqlx::query(&format!("DROP INDEX \"{name}\"")).execute(&mut **tx).await?;
                        rebuild.push(r.try_get("sql")?);
                    }
                }
            }
            let mut more = reader.fill(&mut front, &mut report).await?;
            while more {
                // Bad rows mean nothing will be kept: stop writing, keep
                // reading to report them all.
                let write = report.errors.is_empty();
                let (written, next) = tokio::join!(
                    async {
                        match (&mut tx, write) {
                            (Some(tx), true) => Ok::<u64, StoreError>(flush!((*tx), front, numbered)),
                            _ => {
                                front.iter_mut().for_each(Pending::clear);
                                Ok(0)
                            }
                        }
                    },
                    reader.fill(&mut back, &mut report),
                );
                report.changed += written?;
                more = next?;
                std::mem::swap(&mut front, &mut back);
                if let Some(p) = opts.progress {
                    p(reader.bytes());
                }
            }
            if let Some(p) = opts.progress {
                p(reader.bytes());
            }
            match tx {
                Some(mut tx) if report.errors.is_empty() => {
                    report.changed += flush!(tx, front, numbered);
                    for sql in &rebuild {
                        sqlx::query(sql).execute(&mut *tx).await?;
                    }
                    let audit = AuditRecord {
                        at: now,
                        actor: opts.actor.clone(),
                        action: format!("import.{}", kind.as_str()),
                        subject_type: "import".into(),
                        subject_id: kind.as_str().into(),
                        details: serde_json::json!({
                            "source": opts.source,
                            "rows": report.rows,
                            "changed": report.changed,
                        })
                        .to_string(),
                    };
                    append_audit!(tx, &audit);
                    tx.commit().await.map_err(StoreError::from)?;
                    report.committed = true;
                    // Fresh planner statistics: without them PostgreSQL
                    // plans the trace queries over a million new rows as
                    // sequential scans (hundreds of ms per trace). SQLite's
                    // rule-based choice of index is right without them.
                    for p in front.iter().filter(|_| numbered) {
                        let sql = format!("ANALYZE {}", p.upsert.table);
                        sqlx::query(&sql).execute(pool).await.map_err(StoreError::from)?;
                    }
                }
                // Bad rows (or a dry run): nothing is kept.
                Some(tx) => tx.rollback().await.map_err(StoreError::from)?,
                None => {}
            }
            Ok(report)
        })
    }
}
