//! The numbers behind contact tracing, as a policy an authority can change.
//!
//! Every field is about time and shared space. Unknown keys are rejected, so
//! a policy file cannot smuggle in a criterion such as nationality or origin:
//! there is no field it could land in, and a misspelt key is an error rather
//! than a silently ignored rule.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The whole tracing policy. `Default` is the built-in rule set.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracingPolicy {
    pub window: WindowPolicy,
    pub flight: FlightPolicy,
    pub residence: ResidencePolicy,
    pub ride: RidePolicy,
    pub quarantine: QuarantinePolicy,
}

/// The infectious window around d0 (symptom onset, else sample time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowPolicy {
    pub days_before: u32,
    pub days_after: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlightPolicy {
    /// Passengers within this many rows of the case's row are close contacts.
    pub seat_rows: u16,
    /// Same booking reference (travelling together) is close.
    pub companions_close: bool,
    /// Crew are close.
    pub crew_close: bool,
    /// Everyone else aboard is notified.
    pub cabin_notify: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResidencePolicy {
    /// Same building and unit is close.
    pub household_close: bool,
    /// Same building, other unit, is notified.
    pub building_notify: bool,
    /// Same building, other unit, is close: the whole building goes into
    /// quarantine. Off by default (the brief's 600 residents quarantined for
    /// one case); `lazaret sim outbreak` shows what it buys.
    pub building_close: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RidePolicy {
    /// Everyone else in a ride with the case is close.
    pub shared_ride_close: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuarantinePolicy {
    /// A close contact's order ends this many days after the last exposure.
    pub days_after_last_exposure: u32,
    /// Radius in metres of the geofence around a contact order's place.
    pub geofence_radius_m: f64,
    /// A notify-tier contact, once sent their exposure notice, gets a
    /// daily symptom form (no quarantine) until this many days after the
    /// last exposure; 0: the notice only.
    pub monitoring_days_after_last_exposure: u32,
}

impl Default for WindowPolicy {
    fn default() -> Self {
        Self {
            days_before: 2,
            days_after: 10,
        }
    }
}

impl Default for FlightPolicy {
    fn default() -> Self {
        Self {
            seat_rows: 2,
            companions_close: true,
            crew_close: true,
            cabin_notify: true,
        }
    }
}

impl Default for ResidencePolicy {
    fn default() -> Self {
        Self {
            household_close: true,
            building_notify: true,
            building_close: false,
        }
    }
}

impl Default for RidePolicy {
    fn default() -> Self {
        Self {
            shared_ride_close: true,
        }
    }
}

impl Default for QuarantinePolicy {
    fn default() -> Self {
        Self {
            days_after_last_exposure: 14,
            geofence_radius_m: crate::geo::DEFAULT_RADIUS_M,
            monitoring_days_after_last_exposure: 14,
        }
    }
}

#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("policy file: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("policy file: {0}")]
    Invalid(String),
}

/// Upper bounds that keep a typo from turning a policy into mass quarantine.
const MAX_WINDOW_DAYS: u32 = 60;
const MAX_SEAT_ROWS: u16 = 10;

impl TracingPolicy {
    /// Parses a TOML policy; missing keys keep their defaults, unknown keys
    /// are errors.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let p: Self = toml::from_str(text)?;
        p.validate()?;
        Ok(p)
    }

    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.window.days_before > MAX_WINDOW_DAYS || self.window.days_after > MAX_WINDOW_DAYS {
            return Err(PolicyError::Invalid(format!(
                "window days must be at most {MAX_WINDOW_DAYS}"
            )));
        }
        if self.flight.seat_rows > MAX_SEAT_ROWS {
            return Err(PolicyError::Invalid(format!(
                "flight.seat_rows must be at most {MAX_SEAT_ROWS}"
            )));
        }
        let q = self.quarantine.days_after_last_exposure;
        if q == 0 || i64::from(q) > crate::order::MAX_ORDER_DAYS {
            return Err(PolicyError::Invalid(format!(
                "quarantine.days_after_last_exposure must be 1 to {}",
                crate::order::MAX_ORDER_DAYS
            )));
        }
        if i64::from(self.quarantine.monitoring_days_after_last_exposure)
            > crate::order::MAX_ORDER_DAYS
        {
            return Err(PolicyError::Invalid(format!(
                "quarantine.monitoring_days_after_last_exposure must be 0 to {}",
                crate::order::MAX_ORDER_DAYS
            )));
        }
        let r = self.quarantine.geofence_radius_m;
        if !(r.is_finite() && (crate::geo::MIN_RADIUS_M..=crate::geo::MAX_RADIUS_M).contains(&r)) {
            return Err(PolicyError::Invalid(format!(
                "quarantine.geofence_radius_m must be {} to {} metres",
                crate::geo::MIN_RADIUS_M,
                crate::geo::MAX_RADIUS_M
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_default() {
        assert_eq!(
            TracingPolicy::from_toml("").unwrap(),
            TracingPolicy::default()
        );
    }

    #[test]
    fn every_number_can_change() {
        let p = TracingPolicy::from_toml(
            "[window]\ndays_before = 3\ndays_after = 7\n[flight]\nseat_rows = 1\ncrew_close = false\n\
             [quarantine]\ndays_after_last_exposure = 10\ngeofence_radius_m = 250\n",
        )
        .unwrap();
        assert_eq!(p.quarantine.geofence_radius_m, 250.0);
        assert_eq!(p.window.days_before, 3);
        assert_eq!(p.window.days_after, 7);
        assert_eq!(p.flight.seat_rows, 1);
        assert!(!p.flight.crew_close);
        assert!(p.flight.companions_close, "unset keys keep defaults");
        assert_eq!(p.quarantine.days_after_last_exposure, 10);
    }

    #[test]
    fn unknown_keys_are_rejected_so_no_demographic_criterion_can_be_added() {
        for text in [
            "nationality = \"XX\"\n",
            "[flight]\norigin = \"XYZ\"\n",
            "[residence]\nethnicity = \"any\"\n",
            "[ride]\nappearance = \"any\"\n",
            "[selection]\ncountry_of_birth = \"XX\"\n",
        ] {
            let err = TracingPolicy::from_toml(text).unwrap_err();
            assert!(err.to_string().contains("unknown"), "{text}: {err}");
        }
    }

    #[test]
    fn policy_keys_are_exposure_only() {
        let json = serde_json::to_string(&TracingPolicy::default()).unwrap();
        for word in [
            "national",
            "ethnic",
            "race",
            "origin",
            "appearance",
            "gender",
            "age\"",
            "religion",
            "country",
        ] {
            assert!(!json.contains(word), "policy has a key mentioning {word}");
        }
    }

    #[test]
    fn out_of_range_numbers_are_rejected() {
        assert!(TracingPolicy::from_toml("[window]\ndays_after = 400\n").is_err());
        assert!(TracingPolicy::from_toml("[quarantine]\ndays_after_last_exposure = 0\n").is_err());
        assert!(TracingPolicy::from_toml(
            "[quarantine]\nmonitoring_days_after_last_exposure = 9999\n"
        )
        .is_err());
        assert!(TracingPolicy::from_toml("[flight]\nseat_rows = 99\n").is_err());
        assert!(TracingPolicy::from_toml("[quarantine]\ngeofence_radius_m = 5\n").is_err());
        assert_eq!(TracingPolicy::default().quarantine.geofence_radius_m, 100.0);
    }
}
