//! The tracing engine: from a case's infectious window and the exposure
//! records around it, derive contacts with a tier, the rules that matched and
//! the evidence for each.
//!
//! The engine sees only exposure data (who sat where, lived where, rode in
//! which vehicle, when). It takes no person records at all, so nothing about
//! who someone is can influence who becomes a contact.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::contact::{Contact, ExposureRule, RiskTier};
use crate::exposure::{
    Flight, FlightOccupant, FlightRole, NamedContact, Residence, Ride, RideOccupant,
};
use crate::ids::PersonId;
use crate::test_result::TestResult;
use crate::tracing_policy::{TracingPolicy, WindowPolicy};

/// When a case could infect others; both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t <= self.end
    }
}

/// d0 of a positive test: symptom onset (start of that day, UTC) when known,
/// else the sample time.
pub fn day_zero(test: &TestResult) -> DateTime<Utc> {
    match test.symptom_onset {
        Some(d) => d.and_time(NaiveTime::MIN).and_utc(),
        None => test.sampled_at,
    }
}

/// The infectious window of a positive test under `policy`.
pub fn infectious_window(test: &TestResult, policy: &WindowPolicy) -> Window {
    let d0 = day_zero(test);
    Window {
        start: d0 - Duration::days(i64::from(policy.days_before)),
        end: d0 + Duration::days(i64::from(policy.days_after)),
    }
}

/// A flight and everyone aboard it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlightExposure {
    pub flight: Flight,
    pub occupants: Vec<FlightOccupant>,
}

/// The case's residence and everyone registered in the same building.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidenceExposure {
    pub case_residence: Residence,
    pub building_residents: Vec<Residence>,
}

/// A ride and everyone in it.
#[derive(Debug, Clone, PartialEq)]
pub struct RideExposure {
    pub ride: Ride,
    pub occupants: Vec<RideOccupant>,
}

/// The exposure records that involve a case.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseExposures {
    pub flights: Vec<FlightExposure>,
    pub residence: Option<ResidenceExposure>,
    pub rides: Vec<RideExposure>,
    /// Contacts the case named in interviews.
    pub named: Vec<NamedContact>,
}

/// What matched one person so far.
struct Matched {
    rules: Vec<ExposureRule>,
    evidence: Vec<serde_json::Value>,
    last: DateTime<Utc>,
}

/// Collects matches per person so each contact is listed once.
struct Matches {
    by_person: BTreeMap<PersonId, Matched>,
}

impl Matches {
    fn add(
        &mut self,
        person: &PersonId,
        rule: ExposureRule,
        evidence: serde_json::Value,
        at: DateTime<Utc>,
    ) {
        let entry = self
            .by_person
            .entry(person.clone())
            .or_insert_with(|| Matched {
                rules: Vec::new(),
                evidence: Vec::new(),
                last: at,
            });
        if !entry.rules.contains(&rule) {
            entry.rules.push(rule);
        }
        entry.evidence.push(evidence);
        entry.last = entry.last.max(at);
    }
}

/// Derives the contacts of `case_id` from `exposures` inside `window`.
/// Contacts come back sorted by person id; the case is never its own contact.
pub fn find_contacts(
    case_id: &PersonId,
    window: &Window,
    exposures: &CaseExposures,
    policy: &TracingPolicy,
    generation: u32,
) -> Vec<Contact> {
    let mut m = Matches {
        by_person: BTreeMap::new(),
    };
    for f in &exposures.flights {
        match_flight(case_id, window, f, policy, &mut m);
    }
    if let Some(r) = &exposures.residence {
        match_residence(case_id, window, r, policy, &mut m);
    }
    for r in &exposures.rides {
        match_ride(case_id, window, r, policy, &mut m);
    }
    for n in &exposures.named {
        match_named(window, n, &mut m);
    }
    m.by_person
        .into_iter()
        .filter(|(p, _)| p != case_id)
        .map(|(person_id, m)| {
            let mut rules = m.rules;
            rules.sort();
            let tier = rules
                .iter()
                .map(ExposureRule::tier)
                .max()
                .unwrap_or(RiskTier::Notify);
            Contact {
                person_id,
                case_id: case_id.clone(),
                tier,
                rules,
                evidence: m.evidence,
                last_exposure: m.last,
                generation,
            }
        })
        .collect()
}

fn match_flight(
    case_id: &PersonId,
    window: &Window,
    f: &FlightExposure,
    policy: &TracingPolicy,
    m: &mut Matches,
) {
    let at = f.flight.departure;
    if !window.contains(at) {
        return;
    }
    let Some(case) = f.occupants.iter().find(|o| &o.person_id == case_id) else {
        return;
    };
    let p = &policy.flight;
    let case_booking = case.booking_ref.as_deref().filter(|b| !b.is_empty());
    for o in f.occupants.iter().filter(|o| &o.person_id != case_id) {
        let base = |rule: ExposureRule| {
            json!({
                "rule": rule,
                "flight_id": f.flight.id,
                "flight_no": f.flight.flight_no,
                "departure": at,
                "case_seat": case.seat.map(|s| s.to_string()),
                "contact_seat": o.seat.map(|s| s.to_string()),
                // Finds a passenger whose address is unknown (through the airline).
                "contact_booking": o.booking_ref.as_deref().filter(|b| !b.is_empty()),
            })
        };
        let mut close = false;
        if let (Some(cs), Some(os)) = (case.seat, o.seat) {
            if o.role == FlightRole::Passenger && cs.row.abs_diff(os.row) <= p.seat_rows {
                m.add(
                    &o.person_id,
                    ExposureRule::FlightSeat,
                    base(ExposureRule::FlightSeat),
                    at,
                );
                close = true;
            }
        }
        if p.companions_close && case_booking.is_some() && o.booking_ref.as_deref() == case_booking
        {
            m.add(
                &o.person_id,
                ExposureRule::FlightCompanion,
                base(ExposureRule::FlightCompanion),
                at,
            );
            close = true;
        }
        if p.crew_close && o.role == FlightRole::Crew {
            m.add(
                &o.person_id,
                ExposureRule::FlightCrew,
                base(ExposureRule::FlightCrew),
                at,
            );
            close = true;
        }
        if !close && p.cabin_notify {
            m.add(
                &o.person_id,
                ExposureRule::FlightCabin,
                base(ExposureRule::FlightCabin),
                at,
            );
        }
    }
}

fn match_residence(
    case_id: &PersonId,
    window: &Window,
    r: &ResidenceExposure,
    policy: &TracingPolicy,
    m: &mut Matches,
) {
    let case = &r.case_residence;
    if &case.person_id != case_id {
        return;
    }
    // Living together exposes for the whole infectious window.
    let at = window.end;
    for other in r
        .building_residents
        .iter()
        .filter(|o| &o.person_id != case_id && o.building_id == case.building_id)
    {
        let (rule, on) = if other.unit == case.unit {
            (ExposureRule::Household, policy.residence.household_close)
        } else if policy.residence.building_close {
            (ExposureRule::BuildingClose, true)
        } else {
            (ExposureRule::Building, policy.residence.building_notify)
        };
        if on {
            m.add(
                &other.person_id,
                rule,
                json!({
                    "rule": rule,
                    "building_id": case.building_id,
                    "case_unit": case.unit,
                    "contact_unit": other.unit,
                }),
                at,
            );
        }
    }
}

fn match_ride(
    case_id: &PersonId,
    window: &Window,
    r: &RideExposure,
    policy: &TracingPolicy,
    m: &mut Matches,
) {
    if !policy.ride.shared_ride_close || !window.contains(r.ride.start) {
        return;
    }
    if !r.occupants.iter().any(|o| &o.person_id == case_id) {
        return;
    }
    for o in r.occupants.iter().filter(|o| &o.person_id != case_id) {
        m.add(
            &o.person_id,
            ExposureRule::Ride,
            json!({
                "rule": ExposureRule::Ride,
                "ride_id": r.ride.id,
                "vehicle_id": r.ride.vehicle_id,
                "start": r.ride.start,
                "end": r.ride.end,
                "contact_role": o.role,
            }),
            r.ride.end,
        );
    }
}

/// A named contact counts like any other exposure: only inside the
/// case's infectious window (an exposure before it could not infect).
fn match_named(window: &Window, n: &NamedContact, m: &mut Matches) {
    if !window.contains(n.last_exposure) {
        return;
    }
    m.add(
        &n.person_id,
        ExposureRule::Interview,
        json!({
            "rule": ExposureRule::Interview,
            "setting": n.setting,
            "last_exposure": n.last_exposure,
            "named_by": n.named_by,
        }),
        n.last_exposure,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposure::{RideRole, Seat};
    use crate::ids::{BuildingId, FlightId, RideId, TestId, VehicleId};
    use crate::test_result::TestOutcome;

    fn pid(s: &str) -> PersonId {
        PersonId::parse(s).unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn test_at(sampled: &str, onset: Option<&str>) -> TestResult {
        TestResult {
            id: TestId::parse("T1").unwrap(),
            person_id: pid("CASE"),
            sampled_at: t(sampled),
            result: TestOutcome::Positive,
            lab: "L".into(),
            symptom_onset: onset.map(|d| d.parse().unwrap()),
            revisions: vec![],
        }
    }

    fn pax(flight: &str, p: &str, seat: Option<&str>, booking: Option<&str>) -> FlightOccupant {
        FlightOccupant {
            flight_id: FlightId::parse(flight).unwrap(),
            person_id: pid(p),
            role: if seat.is_some() {
                FlightRole::Passenger
            } else {
                FlightRole::Crew
            },
            seat: seat.map(|s| Seat::parse(s).unwrap()),
            booking_ref: booking.map(str::to_owned),
        }
    }

    fn flight(id: &str, departure: &str, occupants: Vec<FlightOccupant>) -> FlightExposure {
        FlightExposure {
            flight: Flight {
                id: FlightId::parse(id).unwrap(),
                flight_no: "LX1".into(),
                departure: t(departure),
                origin: "AAA".into(),
                destination: "BBB".into(),
            },
            occupants,
        }
    }

    fn rules_of(contacts: &[Contact]) -> Vec<(String, RiskTier, Vec<ExposureRule>)> {
        contacts
            .iter()
            .map(|c| (c.person_id.to_string(), c.tier, c.rules.clone()))
            .collect()
    }

    /// The default infectious window of a case sampled on 2026-03-10.
    fn window_of_march_10() -> Window {
        infectious_window(
            &test_at("2026-03-10T00:00:00Z", None),
            &WindowPolicy::default(),
        )
    }

    #[test]
    fn window_from_onset_or_sample() {
        let p = WindowPolicy::default();
        let w = infectious_window(&test_at("2026-03-10T09:30:00Z", None), &p);
        assert_eq!(w.start, t("2026-03-08T09:30:00Z"));
        assert_eq!(w.end, t("2026-03-20T09:30:00Z"));
        let w = infectious_window(&test_at("2026-03-10T09:30:00Z", Some("2026-03-07")), &p);
        assert_eq!(w.start, t("2026-03-05T00:00:00Z"));
        assert_eq!(w.end, t("2026-03-17T00:00:00Z"));
    }

    #[test]
    fn flight_rules_by_seat_booking_crew_and_cabin() {
        // Case in 14C. Hand-computed: rows 12..=16 are seat contacts.
        let f = flight(
            "F1",
            "2026-03-09T12:00:00Z",
            vec![
                pax("F1", "CASE", Some("14C"), Some("BK1")),
                pax("F1", "ROW12", Some("12A"), None),
                pax("F1", "ROW16", Some("16F"), Some("")),
                pax("F1", "ROW17", Some("17C"), None),
                pax("F1", "ROW11", Some("11C"), None),
                pax("F1", "COMPANION", Some("30A"), Some("BK1")),
                pax("F1", "NEXT_TO_AND_COMPANION", Some("14D"), Some("BK1")),
                pax("F1", "CREW", None, None),
            ],
        );
        let ex = CaseExposures {
            flights: vec![f],
            ..Default::default()
        };
        let w = window_of_march_10();
        let got = find_contacts(&pid("CASE"), &w, &ex, &TracingPolicy::default(), 1);
        use ExposureRule::*;
        use RiskTier::*;
        assert_eq!(
            rules_of(&got),
            vec![
                ("COMPANION".into(), Close, vec![FlightCompanion]),
                ("CREW".into(), Close, vec![FlightCrew]),
                (
                    "NEXT_TO_AND_COMPANION".into(),
                    Close,
                    vec![FlightSeat, FlightCompanion]
                ),
                ("ROW11".into(), Notify, vec![FlightCabin]),
                ("ROW12".into(), Close, vec![FlightSeat]),
                ("ROW16".into(), Close, vec![FlightSeat]),
                ("ROW17".into(), Notify, vec![FlightCabin]),
            ]
        );
        assert!(got.iter().all(|c| c.generation == 1));
        assert_eq!(got[0].last_exposure, t("2026-03-09T12:00:00Z"));
        assert_eq!(got[0].evidence[0]["contact_seat"], "30A");
    }

    #[test]
    fn flight_window_edges() {
        let w = window_of_march_10();
        let case = |f: &str| pax(f, "CASE", Some("1A"), None);
        let ex = CaseExposures {
            flights: vec![
                flight(
                    "IN_START",
                    "2026-03-08T00:00:00Z",
                    vec![case("IN_START"), pax("IN_START", "A", Some("1B"), None)],
                ),
                flight(
                    "OUT_START",
                    "2026-03-07T23:59:00Z",
                    vec![case("OUT_START"), pax("OUT_START", "B", Some("1B"), None)],
                ),
                flight(
                    "IN_END",
                    "2026-03-20T00:00:00Z",
                    vec![case("IN_END"), pax("IN_END", "C", Some("1B"), None)],
                ),
                flight(
                    "OUT_END",
                    "2026-03-20T00:01:00Z",
                    vec![case("OUT_END"), pax("OUT_END", "D", Some("1B"), None)],
                ),
            ],
            ..Default::default()
        };
        let got = find_contacts(&pid("CASE"), &w, &ex, &TracingPolicy::default(), 1);
        let ids: Vec<_> = got.iter().map(|c| c.person_id.to_string()).collect();
        assert_eq!(ids, vec!["A", "C"]);
    }

    #[test]
    fn household_building_ride_and_close_beats_notify() {
        let res = |p: &str, b: &str, u: &str| Residence {
            person_id: pid(p),
            building_id: BuildingId::parse(b).unwrap(),
            unit: u.into(),
        };
        let ride_at = t("2026-03-11T08:00:00Z");
        let ex = CaseExposures {
            flights: vec![],
            residence: Some(ResidenceExposure {
                case_residence: res("CASE", "B1", "4"),
                building_residents: vec![
                    res("CASE", "B1", "4"),
                    res("SPOUSE", "B1", "4"),
                    res("NEIGHBOUR", "B1", "5"),
                    res("DRIVER", "B1", "7"),
                    res("ELSEWHERE", "B2", "4"),
                ],
            }),
            rides: vec![
                RideExposure {
                    ride: crate::exposure::Ride::new(
                        RideId::parse("R1").unwrap(),
                        VehicleId::parse("V1").unwrap(),
                        ride_at,
                        ride_at + Duration::minutes(20),
                    )
                    .unwrap(),
                    occupants: vec![
                        RideOccupant {
                            ride_id: RideId::parse("R1").unwrap(),
                            person_id: pid("DRIVER"),
                            role: RideRole::Driver,
                        },
                        RideOccupant {
                            ride_id: RideId::parse("R1").unwrap(),
                            person_id: pid("CASE"),
                            role: RideRole::Passenger,
                        },
                    ],
                },
                // The case is not aboard: nobody here is a contact.
                RideExposure {
                    ride: crate::exposure::Ride::new(
                        RideId::parse("R2").unwrap(),
                        VehicleId::parse("V1").unwrap(),
                        ride_at,
                        ride_at,
                    )
                    .unwrap(),
                    occupants: vec![RideOccupant {
                        ride_id: RideId::parse("R2").unwrap(),
                        person_id: pid("STRANGER"),
                        role: RideRole::Passenger,
                    }],
                },
            ],
            named: vec![],
        };
        let w = window_of_march_10();
        let got = find_contacts(&pid("CASE"), &w, &ex, &TracingPolicy::default(), 2);
        use ExposureRule::*;
        use RiskTier::*;
        assert_eq!(
            rules_of(&got),
            vec![
                ("DRIVER".into(), Close, vec![Building, Ride]),
                ("NEIGHBOUR".into(), Notify, vec![Building]),
                ("SPOUSE".into(), Close, vec![Household]),
            ]
        );
        // Household exposure lasts the whole window; the driver's last is the
        // later of the building (window end) and the ride end.
        assert_eq!(got[2].last_exposure, w.end);
        assert_eq!(got[0].last_exposure, w.end);
        assert!(got.iter().all(|c| c.generation == 2));

        // A whole-building policy makes the neighbours close contacts.
        let mut p = TracingPolicy::default();
        p.residence.building_close = true;
        let got = find_contacts(&pid("CASE"), &w, &ex, &p, 1);
        assert_eq!(
            rules_of(&got),
            vec![
                ("DRIVER".into(), Close, vec![BuildingClose, Ride]),
                ("NEIGHBOUR".into(), Close, vec![BuildingClose]),
                ("SPOUSE".into(), Close, vec![Household]),
            ]
        );

        // A policy can switch rules off.
        let mut p = TracingPolicy::default();
        p.residence.building_notify = false;
        p.ride.shared_ride_close = false;
        let got = find_contacts(&pid("CASE"), &w, &ex, &p, 1);
        assert_eq!(
            rules_of(&got),
            vec![("SPOUSE".into(), Close, vec![Household])]
        );
    }

    #[test]
    fn policy_changes_seat_distance() {
        let f = flight(
            "F1",
            "2026-03-09T12:00:00Z",
            vec![
                pax("F1", "CASE", Some("10A"), None),
                pax("F1", "P13", Some("13A"), None),
            ],
        );
        let ex = CaseExposures {
            flights: vec![f],
            ..Default::default()
        };
        let w = window_of_march_10();
        let mut p = TracingPolicy::default();
        assert_eq!(
            find_contacts(&pid("CASE"), &w, &ex, &p, 1)[0].tier,
            RiskTier::Notify
        );
        p.flight.seat_rows = 3;
        assert_eq!(
            find_contacts(&pid("CASE"), &w, &ex, &p, 1)[0].tier,
            RiskTier::Close
        );
    }

    #[test]
    fn named_contacts_count_inside_the_window_and_merge_with_registers() {
        use crate::exposure::{ContactSetting, NamedContact};
        let w = window_of_march_10();
        let named = |p: &str, setting, at: &str| NamedContact {
            person_id: pid(p),
            setting,
            last_exposure: t(at),
            named_by: "ivan".into(),
        };
        let ex = CaseExposures {
            flights: vec![flight(
                "F1",
                "2026-03-09T12:00:00Z",
                vec![
                    pax("F1", "CASE", Some("14C"), None),
                    pax("F1", "COLLEAGUE", Some("30A"), None),
                ],
            )],
            named: vec![
                named(
                    "COLLEAGUE",
                    ContactSetting::Workplace,
                    "2026-03-10T09:00:00Z",
                ),
                named("FRIEND", ContactSetting::Social, "2026-03-09T20:00:00Z"),
                // Before the window opens: not a contact.
                named("OLD", ContactSetting::School, "2026-03-01T09:00:00Z"),
            ],
            ..Default::default()
        };
        let got = find_contacts(&pid("CASE"), &w, &ex, &TracingPolicy::default(), 1);
        use ExposureRule::*;
        use RiskTier::*;
        assert_eq!(
            rules_of(&got),
            vec![
                // The cabin alone would only notify; the interview makes it close.
                ("COLLEAGUE".into(), Close, vec![FlightCabin, Interview]),
                ("FRIEND".into(), Close, vec![Interview]),
            ]
        );
        assert_eq!(got[0].last_exposure, t("2026-03-10T09:00:00Z"));
        assert_eq!(got[1].evidence[0]["setting"], "social");
        assert_eq!(got[1].evidence[0]["named_by"], "ivan");
    }

    /// The engine reads seats, rows, bookings, roles, units and times; it
    /// must never read a flight's origin or destination or anything about
    /// who a person is.
    #[test]
    fn rules_read_exposure_data_only() {
        let src = include_str!("exposure_rules.rs");
        let code = src.split("#[cfg(test)]").next().unwrap();
        for field in [
            "origin",
            "destination",
            "full_name",
            "nationality",
            "ethnic",
        ] {
            let access = format!(".{field}");
            assert!(!code.contains(&access), "engine reads {field}");
        }
    }
}
