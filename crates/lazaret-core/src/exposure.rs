//! Exposure sources: where people shared air with a case. Contacts are derived
//! from these records only, never from who a person is.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::ValidationError;
use crate::ids::{BuildingId, FlightId, PersonId, RideId, VehicleId};

/// An aircraft seat such as `14C`: row number and letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Seat {
    pub row: u16,
    pub letter: char,
}

impl Seat {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim().to_ascii_uppercase();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (row, letter) = s.split_at(split);
        let row: u16 = row
            .parse()
            .ok()
            .filter(|r| (1..=120).contains(r))
            .ok_or_else(|| {
                ValidationError::new("seat", format!("{raw:?} has no row number 1-120"))
            })?;
        let mut letters = letter.chars();
        match (letters.next(), letters.next()) {
            (Some(l), None) if l.is_ascii_uppercase() => Ok(Self { row, letter: l }),
            _ => Err(ValidationError::new(
                "seat",
                format!("{raw:?} is not a row and one letter, like 14C"),
            )),
        }
    }
}

impl fmt::Display for Seat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.row, self.letter)
    }
}

impl TryFrom<String> for Seat {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Seat> for String {
    fn from(s: Seat) -> String {
        s.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlightRole {
    Passenger,
    Crew,
}

impl FlightRole {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "passenger" => Ok(Self::Passenger),
            "crew" => Ok(Self::Crew),
            other => Err(ValidationError::new(
                "role",
                format!("{other:?} is not passenger or crew"),
            )),
        }
    }
}

/// One flight departure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flight {
    pub id: FlightId,
    pub flight_no: String,
    pub departure: DateTime<Utc>,
    pub origin: String,
    pub destination: String,
}

/// Who was on a flight, where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlightOccupant {
    pub flight_id: FlightId,
    pub person_id: PersonId,
    pub role: FlightRole,
    /// `None` for crew.
    pub seat: Option<Seat>,
    pub booking_ref: Option<String>,
}

/// A person's unit in a residence register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Residence {
    pub person_id: PersonId,
    pub building_id: BuildingId,
    pub unit: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RideRole {
    Driver,
    Passenger,
}

impl RideRole {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "driver" => Ok(Self::Driver),
            "passenger" => Ok(Self::Passenger),
            other => Err(ValidationError::new(
                "role",
                format!("{other:?} is not driver or passenger"),
            )),
        }
    }
}

/// One ride of a vehicle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ride {
    pub id: RideId,
    pub vehicle_id: VehicleId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Ride {
    pub fn new(
        id: RideId,
        vehicle_id: VehicleId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        if end < start {
            return Err(ValidationError::new(
                "end",
                "a ride cannot end before it starts",
            ));
        }
        Ok(Self {
            id,
            vehicle_id,
            start,
            end,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RideOccupant {
    pub ride_id: RideId,
    pub person_id: PersonId,
    pub role: RideRole,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats() {
        assert_eq!(
            Seat::parse("14c").unwrap(),
            Seat {
                row: 14,
                letter: 'C'
            }
        );
        assert_eq!(Seat::parse("3A").unwrap().to_string(), "3A");
        for bad in ["", "C14", "14", "14CD", "0A", "999A"] {
            assert!(Seat::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn ride_times_ordered() {
        let r = RideId::parse("R1").unwrap();
        let v = VehicleId::parse("V1").unwrap();
        let t0: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        assert!(Ride::new(r.clone(), v.clone(), t0, t0 - chrono::Duration::minutes(1)).is_err());
        assert!(Ride::new(r, v, t0, t0).is_ok());
    }
}

/// Where a contact named in an interview met the case. Settings, never
/// anything about who the contact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactSetting {
    Household,
    Workplace,
    School,
    Social,
    Healthcare,
    Other,
}

impl ContactSetting {
    pub const ALL: [Self; 6] = [
        Self::Household,
        Self::Workplace,
        Self::School,
        Self::Social,
        Self::Healthcare,
        Self::Other,
    ];

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                ValidationError::new(
                    "setting",
                    format!(
                        "{raw:?} is not one of household, workplace, school, social, healthcare, other"
                    ),
                )
            })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Household => "household",
            Self::Workplace => "workplace",
            Self::School => "school",
            Self::Social => "social",
            Self::Healthcare => "healthcare",
            Self::Other => "other",
        }
    }
}

/// A contact the case named in an interview: who, where they met and when
/// last. Kept apart from the registers so a new trace keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedContact {
    pub person_id: PersonId,
    pub setting: ContactSetting,
    pub last_exposure: DateTime<Utc>,
    /// The officer who entered it.
    pub named_by: String,
}
