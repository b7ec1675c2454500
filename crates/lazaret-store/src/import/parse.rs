//! The CSV side of an import: reads records, validates every field and
//! stages the rows a valid record becomes.

use std::collections::HashMap;
use std::io::Read;

use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::contact_info::{Email, Language, Phone};
use lazaret_core::district::{District, DistrictScope, UNASSIGNED};
use lazaret_core::exposure::{FlightRole, Ride, RideRole, Seat};
use lazaret_core::geo::Coordinates;
use lazaret_core::ids::{BuildingId, FlightId, PersonId, RideId, TestId, VehicleId};
use lazaret_core::person::{Address, FullName};
use lazaret_core::test_result::TestOutcome;
use lazaret_core::ValidationError;

use super::rows::{Batch, PersonMemo, Value};
use super::{ImportError, ImportKind, ImportReport, RowError};
use crate::db::to_ms;

/// Reads records and stages them, a batch at a time.
pub(super) struct RowReader<R> {
    rdr: csv::Reader<R>,
    rec: csv::StringRecord,
    idx: HashMap<&'static str, usize>,
    kind: ImportKind,
    now_ms: i64,
    batch: usize,
    memo: PersonMemo,
    /// The district of new persons whose row names none.
    district: Option<District>,
    /// The importing officer's districts, when limited.
    scope: Option<DistrictScope>,
    /// With a scope: each valid row's person and line.
    named: Vec<(PersonId, u64)>,
}

impl<R: Read> RowReader<R> {
    /// Reads the header; a missing required column is reported in `report`
    /// (and nothing is returned).
    pub fn open(
        input: R,
        kind: ImportKind,
        now: DateTime<Utc>,
        batch: usize,
        report: &mut ImportReport,
    ) -> Result<Option<Self>, ImportError> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .buffer_capacity(1 << 20)
            .from_reader(input);
        let columns: Vec<&'static str> = kind
            .columns()
            .iter()
            .chain(kind.optional_columns())
            .copied()
            .collect();
        let idx = column_index(
            rdr.headers()?,
            &columns,
            kind.optional_columns(),
            &mut report.errors,
        );
        if !report.errors.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            rdr,
            rec: csv::StringRecord::new(),
            idx,
            kind,
            now_ms: to_ms(now),
            batch,
            memo: PersonMemo::new(),
            district: None,
            scope: None,
            named: Vec::new(),
        }))
    }

    /// The file's district (`--district`) for rows that name none.
    pub fn set_district(&mut self, district: Option<District>) {
        self.district = district;
    }

    /// The importing officer's districts (see `ImportOptions::scope`).
    pub fn set_scope(&mut self, scope: Option<DistrictScope>) {
        self.scope = scope;
    }

    /// With a scope: the person and line of each valid row.
    pub fn named(&self) -> &[(PersonId, u64)] {
        &self.named
    }

    /// Stages up to one batch of records into `batch`, recording bad rows
    /// in `report`; false once the file is exhausted.
    pub async fn fill(
        &mut self,
        batch: &mut Batch,
        report: &mut ImportReport,
    ) -> Result<bool, ImportError> {
        for n in 1..=self.batch {
            // Lets a write running alongside on this thread (PostgreSQL)
            // send its next statement.
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
                        super::bound_errors(&mut report.errors, &mut report.errors_dropped);
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
                scope: self.scope.as_ref(),
            };
            let new = NewPersons {
                memo: &mut self.memo,
                district: self.district.as_ref(),
            };
            stage(self.kind, &mut f, batch, new, self.now_ms);
            if self.scope.is_some() && f.errors.is_empty() {
                if let Ok(id) = PersonId::parse(f.raw("person_id")) {
                    self.named.push((id, f.line));
                }
            }
            report.errors.append(&mut f.errors);
            super::bound_errors(&mut report.errors, &mut report.errors_dropped);
        }
        Ok(true)
    }

    /// Bytes of the file read so far.
    pub fn bytes(&self) -> u64 {
        self.rdr.position().byte()
    }
}

/// Where each of `columns` is in `header` (extra columns are ignored); a
/// column missing from the header is an error on line 1 unless it is
/// `optional`.
pub(crate) fn column_index(
    header: &csv::StringRecord,
    columns: &[&'static str],
    optional: &[&str],
    errors: &mut Vec<RowError>,
) -> HashMap<&'static str, usize> {
    let mut idx = HashMap::new();
    for &col in columns {
        match header.iter().position(|h| h.trim() == col) {
            Some(i) => {
                idx.insert(col, i);
            }
            None if optional.contains(&col) => {}
            None => errors.push(RowError {
                line: 1,
                column: col.to_owned(),
                reason: "required column is missing from the header".into(),
            }),
        }
    }
    idx
}

/// Field access and validation for one CSV record.
struct Fields<'r> {
    rec: &'r csv::StringRecord,
    idx: &'r HashMap<&'static str, usize>,
    line: u64,
    errors: Vec<RowError>,
    /// The importing officer's districts, when limited.
    scope: Option<&'r DistrictScope>,
}

/// A valid person of one row.
struct Person {
    id: PersonId,
    name: FullName,
    phone: Option<Phone>,
    email: Option<Email>,
    /// `None`: not given here, so the stored language stays.
    language: Option<Language>,
    /// Where a new person lives; `None`: the file's default.
    district: Option<District>,
}

/// What staging a person needs beyond the row: the persons already staged
/// and the file's district.
struct NewPersons<'a> {
    memo: &'a mut PersonMemo,
    district: Option<&'a District>,
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
        f: impl FnOnce(&'r str) -> Result<T, ValidationError>,
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
        f: impl FnOnce(&'r str) -> Result<T, ValidationError>,
    ) -> Option<Option<T>> {
        if self.raw(col).is_empty() {
            Some(None)
        } else {
            self.check(col, f).map(Some)
        }
    }

    /// Free text: not empty, at most `max` characters, no control
    /// characters.
    fn text(&mut self, col: &'static str, max: usize) -> Option<&'r str> {
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
                Ok(v)
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

    /// person_id, full_name, phone, email, language.
    fn person(&mut self) -> Option<Person> {
        let id = self.check("person_id", PersonId::parse);
        let name = self.check("full_name", FullName::parse);
        let phone = self.optional("phone", Phone::parse);
        let email = self.optional("email", Email::parse);
        let language = self.optional("language", Language::parse);
        let scope = self.scope;
        let district = self.optional("district", |v| {
            let d = District::parse(v)?;
            match scope {
                Some(s) if !s.covers(&d) => Err(ValidationError::new(
                    "district",
                    format!("{d} is not one of your districts"),
                )),
                _ => Ok(d),
            }
        });
        Some(Person {
            id: id?,
            name: name?,
            phone: phone?,
            email: email?,
            language: language?,
            district: district?,
        })
    }
}

/// Stages a persons row unless this import already staged the same one.
fn stage_person(batch: &mut Batch, new: NewPersons<'_>, p: &Person, now: i64) {
    let NewPersons { memo, district } = new;
    let phone = p.phone.as_ref().map(Phone::as_str);
    let email = p.email.as_ref().map(Email::as_str);
    let language = p.language.as_ref().map(Language::as_str);
    if memo.seen(p.id.as_str(), p.name.as_str(), phone, email, language) {
        return;
    }
    let row = [
        Value::Text(p.id.as_str()),
        Value::Text(p.name.as_str()),
        phone.map_or(Value::Null, Value::Text),
        email.map_or(Value::Null, Value::Text),
        // A new person without a language gets the default, `en`.
        Value::Text(language.unwrap_or("en")),
        Value::Int(now),
        Value::Int(now),
        Value::Text(
            p.district
                .as_ref()
                .or(district)
                .map_or(UNASSIGNED, District::as_str),
        ),
    ];
    batch.tables[0].push(&row);
    // Only a language given here replaces the stored one.
    if language.is_some() {
        batch.tables[1].push(&row);
    }
}

/// Validates one record into the batch; problems go to `f.errors`, and a
/// record with any problem stages nothing.
fn stage(kind: ImportKind, f: &mut Fields<'_>, batch: &mut Batch, new: NewPersons<'_>, now: i64) {
    match kind {
        ImportKind::Flights => {
            let flight_id = f.check("flight_id", FlightId::parse);
            let flight_no = f.text("flight_no", 16);
            let departure = f.time("departure");
            let origin = f.text("origin", 64);
            let destination = f.text("destination", 64);
            let person = f.person();
            let role = f.check("role", FlightRole::parse);
            let seat = f.optional("seat", Seat::parse);
            let booking = f.optional("booking_ref", |v| {
                if v.chars().count() > 32 || v.chars().any(char::is_control) {
                    Err(ValidationError::new(
                        "booking_ref",
                        "must be at most 32 printable characters",
                    ))
                } else {
                    Ok(v)
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
                Some(person),
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
            stage_person(batch, new, &person, now);
            batch.tables[2].push(&[
                Value::Text(flight_id.as_str()),
                Value::Text(flight_no),
                Value::Int(to_ms(departure)),
                Value::Text(origin),
                Value::Text(destination),
            ]);
            let occupants = &mut batch.tables[3];
            occupants.cell(Value::Text(flight_id.as_str()));
            occupants.cell(Value::Text(person.id.as_str()));
            occupants.cell(Value::Text(match role {
                FlightRole::Passenger => "passenger",
                FlightRole::Crew => "crew",
            }));
            match seat {
                Some(s) => occupants.formatted(format_args!("{s}")),
                None => occupants.cell(Value::Null),
            }
            occupants.cell(booking.map_or(Value::Null, Value::Text));
        }
        ImportKind::Residences => {
            let person = f.person();
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
            let (Some(person), Some(building), Some(address), Some(unit), Some(c)) =
                (person, building, address, unit, coords)
            else {
                return;
            };
            stage_person(batch, new, &person, now);
            batch.tables[2].push(&[
                Value::Text(person.id.as_str()),
                Value::Text(building.as_str()),
                Value::Text(unit),
                Value::Text(address.as_str()),
                Value::Real(c.lat()),
                Value::Real(c.lon()),
            ]);
        }
        ImportKind::Rides => {
            let ride_id = f.check("ride_id", RideId::parse);
            let vehicle = f.check("vehicle_id", VehicleId::parse);
            let start = f.time("start");
            let end = f.time("end");
            let person = f.person();
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
            let (Some(person), Some(role)) = (person, role) else {
                return;
            };
            stage_person(batch, new, &person, now);
            batch.tables[2].push(&[
                Value::Text(ride.id.as_str()),
                Value::Text(ride.vehicle_id.as_str()),
                Value::Int(to_ms(ride.start)),
                Value::Int(to_ms(ride.end)),
            ]);
            batch.tables[3].push(&[
                Value::Text(ride.id.as_str()),
                Value::Text(person.id.as_str()),
                Value::Text(match role {
                    RideRole::Driver => "driver",
                    RideRole::Passenger => "passenger",
                }),
            ]);
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
            let tests = &mut batch.tables[0];
            tests.cell(Value::Text(id.as_str()));
            tests.cell(Value::Text(person.as_str()));
            tests.cell(Value::Int(to_ms(sampled)));
            tests.cell(Value::Text(result.as_str()));
            tests.cell(Value::Text(lab));
            match onset {
                Some(d) => tests.formatted(format_args!("{}", d.format("%Y-%m-%d"))),
                None => tests.cell(Value::Null),
            }
            tests.cell(Value::Text("[]"));
            tests.cell(Value::Int(now));
        }
    }
}
