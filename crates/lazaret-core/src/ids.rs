//! Identifier newtypes. Ids are opaque strings: imported records keep the id
//! their source system gave them (`person_id` in a manifest), records created
//! here get a time-ordered UUID v7.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::ValidationError;

const MAX_ID_LEN: usize = 64;

fn validate_id(kind: &'static str, raw: &str) -> Result<(), ValidationError> {
    if raw.is_empty() {
        return Err(ValidationError::new(kind, "must not be empty"));
    }
    if raw.len() > MAX_ID_LEN {
        return Err(ValidationError::new(
            kind,
            format!("must be at most {MAX_ID_LEN} characters"),
        ));
    }
    if let Some(c) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
    {
        return Err(ValidationError::new(
            kind,
            format!("contains {c:?}; allowed are letters, digits, '-', '_', '.', ':'"),
        ));
    }
    Ok(())
}

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an externally supplied id.
            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                validate_id($kind, raw)?;
                Ok(Self(raw.to_owned()))
            }

            /// A new, time-ordered id for a record created by Lazaret.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                validate_id($kind, &s)?;
                Ok(Self(s))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

define_id!(/// A person known to the system.
    PersonId, "person_id");
define_id!(/// A quarantine order.
    OrderId, "order_id");
define_id!(/// A laboratory test.
    TestId, "test_id");
define_id!(/// One flight (a departure of a flight number).
    FlightId, "flight_id");
define_id!(/// A building in a residence register.
    BuildingId, "building_id");
define_id!(/// One ride of a vehicle.
    RideId, "ride_id");
define_id!(/// A vehicle in a ride log.
    VehicleId, "vehicle_id");
define_id!(/// A check-in prompt.
    PromptId, "prompt_id");
define_id!(/// A check-in submission.
    CheckinId, "checkin_id");
define_id!(/// An alert in an officer's queue.
    AlertId, "alert_id");
define_id!(/// A daily symptom report.
    SymptomReportId, "symptom_report_id");
define_id!(/// A symptom-form link (daily or issued by an officer).
    SymptomFormId, "symptom_form_id");
define_id!(/// A self-enrolment link.
    EnrollmentLinkId, "enrollment_link_id");
define_id!(/// An officer account.
    UserId, "user_id");
define_id!(/// An API token (the public part; the secret is never stored).
    TokenId, "token_id");
define_id!(/// The follow-up of a case (its interview) or of a contact.
    FollowUpId, "follow_up_id");
define_id!(/// One call attempt of a follow-up.
    CallId, "call_id");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_external_ids() {
        assert_eq!(PersonId::parse("P-0001").unwrap().as_str(), "P-0001");
        assert_eq!(
            FlightId::parse("LX318:2026-03-01").unwrap().as_str(),
            "LX318:2026-03-01"
        );
    }

    #[test]
    fn rejects_bad_ids() {
        assert!(PersonId::parse("").is_err());
        assert!(PersonId::parse("a b").is_err());
        assert!(PersonId::parse(&"x".repeat(65)).is_err());
        let err = PersonId::parse("a/b").unwrap_err();
        assert_eq!(err.field, "person_id");
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = OrderId::generate();
        let b = OrderId::generate();
        assert_ne!(a, b);
        assert!(OrderId::parse(a.as_str()).is_ok());
    }

    #[test]
    fn serde_validates() {
        assert!(serde_json::from_str::<PersonId>("\"ok-1\"").is_ok());
        assert!(serde_json::from_str::<PersonId>("\"not ok\"").is_err());
    }
}
