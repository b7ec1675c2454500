//! The simulated registers as production's tracing engine sees them: a
//! case's flights, residence and rides as `lazaret_core` exposure records, so
//! contacts come from `exposure_rules::find_contacts` itself — the same code
//! and the same policy TOML as a real trace.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use lazaret_core::exposure::{
    Flight, FlightOccupant, FlightRole, NamedContact, Residence, Ride, RideOccupant, RideRole, Seat,
};
use lazaret_core::exposure_rules::{
    CaseExposures, FlightExposure, ResidenceExposure, RideExposure,
};
use lazaret_core::ids::{BuildingId, FlightId, PersonId, RideId, TestId, VehicleId};

use crate::region::Region;

/// Day 0 of every simulation, at midnight UTC.
pub fn epoch() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).expect("2026-01-01 is a valid time")
}

pub fn at(day: i32, minute: u32) -> DateTime<Utc> {
    epoch() + Duration::days(i64::from(day)) + Duration::minutes(i64::from(minute))
}

pub fn date(day: i32) -> NaiveDate {
    at(day, 0).date_naive()
}

/// The simulation day a time falls on.
pub fn day_of(t: DateTime<Utc>) -> i32 {
    (t - epoch()).num_seconds().div_euclid(86_400) as i32
}

fn id<T>(parse: fn(&str) -> Result<T, lazaret_core::error::ValidationError>, s: String) -> T {
    parse(&s).expect("simulated ids are letters and digits")
}

pub fn person(agent: u32) -> PersonId {
    id(PersonId::parse, format!("A{agent}"))
}

pub fn agent_of(p: &PersonId) -> Option<u32> {
    p.as_str().strip_prefix('A')?.parse().ok()
}

pub fn test_id(test: u32) -> TestId {
    id(TestId::parse, format!("T{test}"))
}

/// The residence register of building `b`: what `case_exposures` takes, kept
/// by the caller between the traces of the building's cases.
pub fn building_register(region: &Region, b: u32) -> Vec<Residence> {
    let building_id = id(BuildingId::parse, format!("B{b}"));
    region
        .building_members(b)
        .map(|a| Residence {
            person_id: person(a),
            building_id: building_id.clone(),
            unit: unit_of(region, a),
        })
        .collect()
}

fn unit_of(region: &Region, agent: u32) -> String {
    format!(
        "U{}",
        region.household_unit[region.household[agent as usize] as usize]
    )
}

/// The exposure records around `case` from day `from` to day `to`
/// (inclusive): its flights and rides, its building's `register`
/// (`building_register`), and the contacts the case named. The engine applies
/// the exact window; this only leaves out what cannot be inside it.
pub fn case_exposures(
    region: &Region,
    case: u32,
    (from, to): (i32, i32),
    register: Vec<Residence>,
    named: Vec<NamedContact>,
) -> CaseExposures {
    let in_days = |day: u32| (from - 1..=to + 1).contains(&(day as i32));
    let flights = region
        .flights_of
        .get(case)
        .iter()
        .map(|&i| (i, &region.flights[i as usize]))
        .filter(|(_, f)| in_days(f.day))
        .map(|(i, f)| FlightExposure {
            flight: Flight {
                id: id(FlightId::parse, format!("F{i}")),
                flight_no: format!("SIM{i}"),
                departure: at(f.day as i32, f.minute),
                origin: "ABROAD".into(),
                destination: "REGION".into(),
            },
            occupants: f
                .occupants
                .iter()
                .map(|o| FlightOccupant {
                    flight_id: id(FlightId::parse, format!("F{i}")),
                    person_id: person(o.agent),
                    role: if o.row == 0 {
                        FlightRole::Crew
                    } else {
                        FlightRole::Passenger
                    },
                    seat: (o.row > 0).then(|| Seat {
                        row: o.row,
                        letter: char::from(b'A' + o.seat),
                    }),
                    booking_ref: (o.booking > 0).then(|| format!("B{}", o.booking)),
                })
                .collect(),
        })
        .collect();
    let building = region.building_of(case);
    let residence = Some(ResidenceExposure {
        case_residence: Residence {
            person_id: person(case),
            building_id: id(BuildingId::parse, format!("B{building}")),
            unit: unit_of(region, case),
        },
        building_residents: register,
    });
    let rides = region
        .rides_of
        .get(case)
        .iter()
        .map(|&i| (i, &region.rides[i as usize]))
        .filter(|(_, r)| in_days(r.day))
        .map(|(i, r)| {
            let start = at(r.day as i32, r.minute);
            RideExposure {
                ride: Ride::new(
                    id(RideId::parse, format!("R{i}")),
                    id(VehicleId::parse, format!("V{}", r.vehicle)),
                    start,
                    start + Duration::minutes(i64::from(r.minutes)),
                )
                .expect("a ride ends after it starts"),
                occupants: r
                    .occupants()
                    .iter()
                    .enumerate()
                    .map(|(k, &a)| RideOccupant {
                        ride_id: id(RideId::parse, format!("R{i}")),
                        person_id: person(a),
                        role: if k == 0 {
                            RideRole::Driver
                        } else {
                            RideRole::Passenger
                        },
                    })
                    .collect(),
            }
        })
        .collect();
    CaseExposures {
        flights,
        residence,
        rides,
        named,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_ids_round_trip() {
        for d in [-3, -1, 0, 1, 45] {
            assert_eq!(day_of(at(d, 0)), d);
            assert_eq!(day_of(at(d, 23 * 60 + 59)), d);
        }
        assert_eq!(agent_of(&person(12345)), Some(12345));
        assert_eq!(agent_of(&PersonId::parse("X1").unwrap()), None);
    }
}
