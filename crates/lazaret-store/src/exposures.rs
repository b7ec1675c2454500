//! Reading exposure records around a case: the flights, building and rides
//! it shared inside its infectious window, with everyone else in them.

use std::collections::HashMap;

use lazaret_core::exposure::{
    Flight, FlightOccupant, FlightRole, Residence, Ride, RideOccupant, RideRole, Seat,
};
use lazaret_core::exposure_rules::{
    CaseExposures, FlightExposure, ResidenceExposure, RideExposure, Window,
};
use lazaret_core::geo::Coordinates;
use lazaret_core::ids::{BuildingId, FlightId, PersonId, RideId, VehicleId};
use lazaret_core::person::Address;
use sqlx::Row;

use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;

/// A residence register entry with the place it names (orders need it).
#[derive(Debug, Clone, PartialEq)]
pub struct ResidenceRecord {
    pub residence: Residence,
    pub address: Address,
    pub coordinates: Coordinates,
}

fn bad(table: &'static str) -> impl Fn(lazaret_core::ValidationError) -> StoreError {
    move |e| StoreError::corrupt(table, e)
}

const CASE_FLIGHTS: &str =
    "SELECT o.flight_id FROM flight_occupants o JOIN flights f ON f.id = o.flight_id \
     WHERE o.person_id = $1 AND f.departure >= $2 AND f.departure <= $3";
const CASE_RIDES: &str = "SELECT o.ride_id FROM ride_occupants o JOIN rides r ON r.id = o.ride_id \
     WHERE o.person_id = $1 AND r.start_at >= $2 AND r.start_at <= $3";

impl Store {
    /// Everything the tracing engine needs about `case` in `window`.
    pub async fn case_exposures(
        &self,
        case: &PersonId,
        window: &Window,
    ) -> Result<CaseExposures, StoreError> {
        let (from, to) = (to_ms(window.start), to_ms(window.end));
        // One query per source, each flight or ride with its occupants (the
        // case is always among them), on one connection: on PostgreSQL every
        // round trip and pool checkout is a visible part of a trace.
        let flights_sql = format!(
            "SELECT f.id, f.flight_no, f.departure, f.origin, f.destination, \
                    o.person_id, o.role, o.seat, o.booking_ref \
             FROM flights f JOIN flight_occupants o ON o.flight_id = f.id \
             WHERE f.id IN ({CASE_FLIGHTS})"
        );
        let rides_sql = format!(
            "SELECT r.id, r.vehicle_id, r.start_at, r.end_at, o.person_id, o.role \
             FROM rides r JOIN ride_occupants o ON o.ride_id = r.id \
             WHERE r.id IN ({CASE_RIDES})"
        );
        const RES_SQL: &str = "SELECT person_id, building_id, unit FROM residences \
             WHERE building_id = (SELECT building_id FROM residences WHERE person_id = $1)";
        on_pool!(self, pool => {
            let mut conn = pool.acquire().await?;
            let mut flights: Vec<FlightExposure> = Vec::new();
            let mut index: HashMap<String, usize> = HashMap::new();
            for r in sqlx::query(&flights_sql).bind(case.as_str()).bind(from).bind(to).fetch_all(&mut *conn).await? {
                let id: &str = r.try_get("id")?;
                let i = match index.get(id) {
                    Some(&i) => i,
                    None => {
                        index.insert(id.to_owned(), flights.len());
                        flights.push(FlightExposure {
                            flight: Flight {
                                id: FlightId::parse(id).map_err(bad("flights"))?,
                                flight_no: r.try_get("flight_no")?,
                                departure: from_ms("flights", r.try_get("departure")?)?,
                                origin: r.try_get("origin")?,
                                destination: r.try_get("destination")?,
                            },
                            occupants: Vec::new(),
                        });
                        flights.len() - 1
                    }
                };
                let role = match r.try_get::<&str, _>("role")? {
                    "crew" => FlightRole::Crew,
                    _ => FlightRole::Passenger,
                };
                let flight_id = flights[i].flight.id.clone();
                flights[i].occupants.push(FlightOccupant {
                    flight_id,
                    person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad("flight_occupants"))?,
                    role,
                    seat: r.try_get::<Option<&str>, _>("seat")?.map(Seat::parse).transpose().map_err(bad("flight_occupants"))?,
                    booking_ref: r.try_get("booking_ref")?,
                });
            }

            let mut rides: Vec<RideExposure> = Vec::new();
            let mut rindex: HashMap<String, usize> = HashMap::new();
            for r in sqlx::query(&rides_sql).bind(case.as_str()).bind(from).bind(to).fetch_all(&mut *conn).await? {
                let id: &str = r.try_get("id")?;
                let i = match rindex.get(id) {
                    Some(&i) => i,
                    None => {
                        rindex.insert(id.to_owned(), rides.len());
                        let ride = Ride::new(
                            RideId::parse(id).map_err(bad("rides"))?,
                            VehicleId::parse(r.try_get::<&str, _>("vehicle_id")?).map_err(bad("rides"))?,
                            from_ms("rides", r.try_get("start_at")?)?,
                            from_ms("rides", r.try_get("end_at")?)?,
                        ).map_err(bad("rides"))?;
                        rides.push(RideExposure { ride, occupants: Vec::new() });
                        rides.len() - 1
                    }
                };
                let role = match r.try_get::<&str, _>("role")? {
                    "driver" => RideRole::Driver,
                    _ => RideRole::Passenger,
                };
                let ride_id = rides[i].ride.id.clone();
                rides[i].occupants.push(RideOccupant {
                    ride_id,
                    person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad("ride_occupants"))?,
                    role,
                });
            }

            let mut residents = Vec::new();
            for r in sqlx::query(RES_SQL).bind(case.as_str()).fetch_all(&mut *conn).await? {
                residents.push(Residence {
                    person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad("residences"))?,
                    building_id: BuildingId::parse(r.try_get::<&str, _>("building_id")?).map_err(bad("residences"))?,
                    unit: r.try_get("unit")?,
                });
            }
            let residence = residents
                .iter()
                .find(|r| &r.person_id == case)
                .cloned()
                .map(|case_residence| ResidenceExposure { case_residence, building_residents: residents });

            Ok(CaseExposures { flights, residence, rides, named: Vec::new() })
        })
    }

    /// The person's residence register entry, if any.
    pub async fn residence_of(
        &self,
        person: &PersonId,
    ) -> Result<Option<ResidenceRecord>, StoreError> {
        const SQL: &str = "SELECT person_id, building_id, unit, address, lat, lon FROM residences \
                           WHERE person_id = $1";
        on_pool!(self, pool => {
            let Some(r) = sqlx::query(SQL).bind(person.as_str()).fetch_optional(pool).await? else {
                return Ok(None);
            };
            Ok(Some(ResidenceRecord {
                residence: Residence {
                    person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad("residences"))?,
                    building_id: BuildingId::parse(r.try_get::<&str, _>("building_id")?).map_err(bad("residences"))?,
                    unit: r.try_get("unit")?,
                },
                address: Address::parse(r.try_get::<&str, _>("address")?).map_err(bad("residences"))?,
                coordinates: Coordinates::new(r.try_get("lat")?, r.try_get("lon")?).map_err(bad("residences"))?,
            }))
        })
    }
}
