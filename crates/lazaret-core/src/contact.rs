//! Contacts derived from exposures: tier, the rules that matched, evidence.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::PersonId;

/// How close the exposure was. `Close` contacts get a proposed order;
/// `Notify` contacts get a notification and symptom monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskTier {
    Notify,
    Close,
}

impl RiskTier {
    /// The tier's name as stored and shown (`close`, `notify`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Close => "close",
            Self::Notify => "notify",
        }
    }
}

/// The exposure rule that selected a contact. Every rule is about shared
/// space and time; none refers to who a person is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ExposureRule {
    #[serde(rename = "flight-seat")]
    FlightSeat,
    #[serde(rename = "flight-companion")]
    FlightCompanion,
    #[serde(rename = "flight-crew")]
    FlightCrew,
    #[serde(rename = "flight-cabin")]
    FlightCabin,
    #[serde(rename = "household")]
    Household,
    #[serde(rename = "building")]
    Building,
    /// Same building, other unit, under a policy that quarantines the whole
    /// building (`residence.building_close`).
    #[serde(rename = "building-close")]
    BuildingClose,
    #[serde(rename = "ride")]
    Ride,
    /// Named by the case in an interview (household, workplace, …: the
    /// setting is in the evidence). An officer's judgement of a close
    /// contact, so always close.
    #[serde(rename = "interview")]
    Interview,
}

impl ExposureRule {
    pub fn tier(&self) -> RiskTier {
        match self {
            Self::FlightCabin | Self::Building => RiskTier::Notify,
            _ => RiskTier::Close,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::FlightSeat => "flight-seat",
            Self::FlightCompanion => "flight-companion",
            Self::FlightCrew => "flight-crew",
            Self::FlightCabin => "flight-cabin",
            Self::Household => "household",
            Self::Building => "building",
            Self::BuildingClose => "building-close",
            Self::Ride => "ride",
            Self::Interview => "interview",
        }
    }
}

/// A contact of a case: listed once, with every rule that matched and the
/// evidence for each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub person_id: PersonId,
    pub case_id: PersonId,
    pub tier: RiskTier,
    pub rules: Vec<ExposureRule>,
    pub evidence: Vec<serde_json::Value>,
    pub last_exposure: DateTime<Utc>,
    /// 1 for contacts of an index case, 2 for contacts of those who became
    /// cases, and so on.
    pub generation: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_beats_notify_in_ordering() {
        assert!(RiskTier::Close > RiskTier::Notify);
        assert_eq!(ExposureRule::Building.tier(), RiskTier::Notify);
        assert_eq!(ExposureRule::FlightCompanion.tier(), RiskTier::Close);
        assert_eq!(
            serde_json::to_string(&ExposureRule::FlightSeat).unwrap(),
            "\"flight-seat\""
        );
    }
}
