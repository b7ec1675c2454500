//! Many quarantine orders from one CSV file (`lazaret orders create --csv`
//! and `POST /api/v1/orders/bulk`).
//!
//! Columns: `person_id,address,lat,lon,radius_m,starts_at,ends_at,basis,time_zone,district`
//! (`radius_m` empty: 100 m; `time_zone` empty: UTC; times in RFC 3339).
//! `district` (optional column) must be one of the officer's; empty, it is
//! the file's default (`--district`), else the officer's sole district, else,
//! for a national officer, the person's district; an officer of several
//! districts must name it.
//! `basis` is `arrival:AREA`, `positive_test:TEST_ID` or
//! `contact:CASE_ID:TEST_ID`. The file is written whole or not at all, every
//! bad row is reported (line, column, reason), and a person who already has
//! an active order gets it extended, so the same file twice changes nothing.

use std::collections::HashMap;
use std::io::Read;

use chrono::{DateTime, Utc};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::geo::{Coordinates, Geofence, DEFAULT_RADIUS_M};
use lazaret_core::ids::{OrderId, PersonId, TestId};
use lazaret_core::order::{validate_period, OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::Address;
use lazaret_core::ValidationError;
use serde::Serialize;

use crate::db::Store;
use crate::import::{bound_errors, column_index, ImportError, RowError};
use crate::orders::{OrderFilter, OrderWrite};
use crate::page::PageRequest;

/// The columns of an orders file, in their documented order.
pub const ORDER_CSV_COLUMNS: [&str; 10] = [
    "person_id",
    "address",
    "lat",
    "lon",
    "radius_m",
    "starts_at",
    "ends_at",
    "basis",
    "time_zone",
    "district",
];

/// One row's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderRowResult {
    pub line: u64,
    pub person_id: String,
    pub order_id: String,
    pub write: OrderWrite,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrdersCsvReport {
    /// Data rows read.
    pub rows: u64,
    pub created: u64,
    pub extended: u64,
    pub unchanged: u64,
    /// The first [`crate::import::ROW_ERRORS_KEPT`] bad rows' errors.
    pub errors: Vec<RowError>,
    /// Errors found beyond those kept.
    pub errors_dropped: u64,
    pub dry_run: bool,
    /// Whether the file's orders are now stored.
    pub committed: bool,
    pub results: Vec<OrderRowResult>,
}

impl OrdersCsvReport {
    /// Every row error found, kept or not.
    pub fn error_count(&self) -> u64 {
        self.errors.len() as u64 + self.errors_dropped
    }
}

/// Parses `kind:rest` (see the module docs).
pub fn parse_basis(raw: &str) -> Result<OrderBasis, ValidationError> {
    let bad = || {
        ValidationError::new(
            "basis",
            format!(
                "{raw:?} is not arrival:AREA, positive_test:TEST_ID or contact:CASE_ID:TEST_ID"
            ),
        )
    };
    let (kind, rest) = raw.split_once(':').ok_or_else(bad)?;
    let rest = rest.trim();
    match kind.trim() {
        "arrival" if !rest.is_empty() => Ok(OrderBasis::Arrival {
            area: rest.to_owned(),
        }),
        "positive_test" => Ok(OrderBasis::PositiveTest {
            test_id: TestId::parse(rest).map_err(|e| ValidationError::new("basis", e.reason))?,
        }),
        "contact" => {
            let (case, test) = rest.split_once(':').ok_or_else(bad)?;
            let f = |e: ValidationError| ValidationError::new("basis", e.reason);
            Ok(OrderBasis::Contact {
                case_id: PersonId::parse(case).map_err(f)?,
                test_id: TestId::parse(test).map_err(f)?,
            })
        }
        _ => Err(bad()),
    }
}

struct Row<'a> {
    rec: &'a csv::StringRecord,
    idx: &'a HashMap<&'static str, usize>,
    line: u64,
    errors: Vec<RowError>,
}

impl Row<'_> {
    fn raw(&self, col: &'static str) -> &str {
        self.idx
            .get(col)
            .and_then(|&i| self.rec.get(i))
            .unwrap_or("")
            .trim()
    }

    fn check<T>(
        &mut self,
        col: &'static str,
        f: impl FnOnce(&str) -> Result<T, ValidationError>,
    ) -> Option<T> {
        match f(self.raw(col)) {
            Ok(t) => Some(t),
            Err(e) => {
                self.errors.push(RowError {
                    line: self.line,
                    column: col.to_owned(),
                    reason: e.reason,
                });
                None
            }
        }
    }

    fn number(&mut self, col: &'static str) -> Option<f64> {
        self.check(col, |v| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| ValidationError::new(col, format!("{v:?} is not a number")))
        })
    }

    fn time(&mut self, col: &'static str) -> Option<DateTime<Utc>> {
        self.check(col, |v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    ValidationError::new(
                        col,
                        format!("{v:?} is not an RFC 3339 time like 2026-03-01T08:00:00Z"),
                    )
                })
        })
    }

    /// The district the row names, if any, checked against the officer's
    /// `scope`; `Err(())` with the error recorded.
    fn district(&mut self, scope: &DistrictScope) -> Result<Option<District>, ()> {
        if self.raw("district").is_empty() {
            return Ok(None);
        }
        let d = self
            .check("district", |v| {
                let d = District::parse(v)?;
                if scope.covers(&d) {
                    Ok(d)
                } else {
                    Err(ValidationError::new(
                        "district",
                        format!("{d} is not one of your districts"),
                    ))
                }
            })
            .ok_or(())?;
        Ok(Some(d))
    }

    /// The order this row asks for, or `None` with its errors recorded.
    fn order(&mut self, now: DateTime<Utc>) -> Option<QuarantineOrder> {
        let person_id = self.check("person_id", PersonId::parse);
        let address = self.check("address", Address::parse);
        let lat = self.number("lat");
        let lon = self.number("lon");
        let radius = if self.raw("radius_m").is_empty() {
            Some(DEFAULT_RADIUS_M)
        } else {
            self.number("radius_m")
        };
        let center = match (lat, lon) {
            (Some(lat), Some(lon)) => {
                let c = Coordinates::new(lat, lon);
                if let Err(e) = &c {
                    self.errors.push(RowError {
                        line: self.line,
                        column: e.field.clone(),
                        reason: e.reason.clone(),
                    });
                }
                c.ok()
            }
            _ => None,
        };
        let geofence = match (center, radius) {
            (Some(c), Some(r)) => self.check("radius_m", |_| Geofence::new(c, r)),
            _ => None,
        };
        let starts_at = self.time("starts_at");
        let ends_at = self.time("ends_at");
        let period = match (starts_at, ends_at) {
            (Some(s), Some(e)) => self.check("ends_at", |_| validate_period(s, e)),
            _ => None,
        };
        let basis = self.check("basis", parse_basis);
        let time_zone = self.check("time_zone", |v| {
            if v.is_empty() {
                Ok(TimeZone::default())
            } else {
                TimeZone::parse(v)
            }
        });
        period?;
        Some(QuarantineOrder {
            id: OrderId::generate(),
            person_id: person_id?,
            address: address?,
            geofence: geofence?,
            starts_at: starts_at?,
            ends_at: ends_at?,
            time_zone: time_zone?,
            bases: vec![basis?],
            status: OrderStatus::Active,
            status_reason: None,
            // Settled by the caller (see the module docs).
            district: District::unassigned(),
            created_at: now,
            updated_at: now,
        })
    }
}

impl Store {
    /// Creates (or extends) the orders of a CSV file; see the module docs.
    /// Nothing is stored when any row is bad or with `dry_run`.
    /// `scope` is the officer's districts (every row's district and person
    /// must be inside it), `default` the file's district when a row names none.
    pub async fn import_orders_csv<R: Read>(
        &self,
        input: R,
        dry_run: bool,
        scope: &DistrictScope,
        default: Option<&District>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<OrdersCsvReport, ImportError> {
        self.import_orders_csv_with(input, dry_run, scope, default, actor, now, None)
            .await
    }

    /// [`Store::import_orders_csv`], calling `progress` with the number of
    /// orders written so far while it writes them.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_orders_csv_with<R: Read>(
        &self,
        input: R,
        dry_run: bool,
        scope: &DistrictScope,
        default: Option<&District>,
        actor: &str,
        now: DateTime<Utc>,
        progress: Option<&(dyn Fn(u64) + Send + Sync)>,
    ) -> Result<OrdersCsvReport, ImportError> {
        let default = default.or(scope.sole());
        let mut report = OrdersCsvReport {
            rows: 0,
            created: 0,
            extended: 0,
            unchanged: 0,
            errors: Vec::new(),
            errors_dropped: 0,
            dry_run,
            committed: false,
            results: Vec::new(),
        };
        let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        // radius_m and time_zone have defaults; the column may be absent.
        let idx = column_index(
            rdr.headers()?,
            &ORDER_CSV_COLUMNS,
            &["radius_m", "time_zone", "district"],
            &mut report.errors,
        );
        if let Some(d) = default.filter(|d| !scope.covers(d)) {
            report.errors.push(RowError {
                line: 1,
                column: "district".into(),
                reason: format!("{d} is not one of your districts"),
            });
        }
        if !report.errors.is_empty() {
            return Ok(report);
        }
        let mut orders = Vec::new();
        let mut lines = Vec::new();
        let mut districts = Vec::new();
        let mut rec = csv::StringRecord::new();
        loop {
            let line = rdr.position().line();
            match rdr.read_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    if let csv::ErrorKind::Utf8 { pos, .. } = e.kind() {
                        report.rows += 1;
                        report.errors.push(RowError {
                            line: pos.as_ref().map_or(line, |p| p.line()),
                            column: "*".into(),
                            reason: "is not valid UTF-8".into(),
                        });
                        bound_errors(&mut report.errors, &mut report.errors_dropped);
                        continue;
                    }
                    return Err(e.into());
                }
            }
            report.rows += 1;
            let mut row = Row {
                rec: &rec,
                idx: &idx,
                line: rec.position().map_or(line, |p| p.line()),
                errors: Vec::new(),
            };
            let district = row.district(scope);
            let order = row.order(now);
            report.errors.append(&mut row.errors);
            bound_errors(&mut report.errors, &mut report.errors_dropped);
            if let (Some(o), Ok(d)) = (order, district) {
                lines.push(row.line);
                orders.push(o);
                districts.push(d.or_else(|| default.cloned()));
            }
        }
        // Every person named must exist in the officer's districts (one
        // outside them is as unknown as one that does not exist).
        let mut persons = HashMap::new();
        for ((o, line), d) in orders.iter_mut().zip(&lines).zip(districts) {
            if !persons.contains_key(&o.person_id) {
                let found = self.get_person_in(&o.person_id, scope).await?;
                persons.insert(o.person_id.clone(), found.map(|p| p.district));
                // The row would extend the person's active order: never one
                // in a district the officer does not work in.
                if persons[&o.person_id].is_some() && scope.limit().is_some() {
                    let active = OrderFilter {
                        status: Some(OrderStatus::Active),
                        person_id: Some(o.person_id.clone()),
                        districts: None,
                    };
                    let one = PageRequest {
                        cursor: None,
                        limit: Some(1),
                    };
                    let page = self.list_orders(&active, &one).await?;
                    if page.items.iter().any(|a| !scope.covers(&a.district)) {
                        report.errors.push(RowError {
                            line: *line,
                            column: "person_id".into(),
                            reason: "has an active order in a district that is not yours".into(),
                        });
                        continue;
                    }
                }
            }
            let Some(person_district) = &persons[&o.person_id] else {
                report.errors.push(RowError {
                    line: *line,
                    column: "person_id".into(),
                    reason: format!("person {} does not exist", o.person_id),
                });
                continue;
            };
            match d {
                Some(d) => o.district = d,
                // A national officer's order goes to the person's district.
                None if scope.limit().is_none() => o.district = person_district.clone(),
                None => report.errors.push(RowError {
                    line: *line,
                    column: "district".into(),
                    reason: "is required: you work in several districts".into(),
                }),
            }
        }
        if !report.errors.is_empty() {
            bound_errors(&mut report.errors, &mut report.errors_dropped);
            report.errors.sort_by_key(|e| e.line);
            return Ok(report);
        }
        let written = self
            .create_or_extend_orders_with(&orders, actor, dry_run, progress)
            .await?;
        for (w, line) in written.into_iter().zip(lines) {
            match w.write {
                OrderWrite::Created => report.created += 1,
                OrderWrite::Extended => report.extended += 1,
                OrderWrite::Unchanged => report.unchanged += 1,
            }
            report.results.push(OrderRowResult {
                line,
                person_id: w.order.person_id.to_string(),
                order_id: w.order.id.to_string(),
                write: w.write,
            });
        }
        report.committed = !dry_run;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_parse_or_explain() {
        assert_eq!(
            parse_basis("arrival:Region X").unwrap(),
            OrderBasis::Arrival {
                area: "Region X".into()
            }
        );
        assert!(matches!(
            parse_basis("contact:P1:T9").unwrap(),
            OrderBasis::Contact { .. }
        ));
        assert!(matches!(
            parse_basis("positive_test:T9").unwrap(),
            OrderBasis::PositiveTest { .. }
        ));
        for bad in ["", "arrival:", "contact:P1", "vacation:x", "arrival"] {
            let e = parse_basis(bad).unwrap_err();
            assert_eq!(e.field, "basis", "{bad}");
        }
    }
}
