//! People and the places they stay.
//!
//! By design a person has no nationality, ethnicity, race, gender or age
//! field (DESIGN.md safeguards): nothing here can become a targeting criterion.

use serde::{Deserialize, Serialize};

use crate::contact_info::{Email, Language, Phone};
use crate::district::District;
use crate::error::ValidationError;
use crate::geo::Coordinates;
use crate::ids::{BuildingId, PersonId};

/// A person as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub full_name: FullName,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub language: Language,
    /// The district the person lives in (where a contact order goes).
    /// Serialised before districts existed: `unassigned`.
    #[serde(default = "District::unassigned")]
    pub district: District,
}

/// A display name: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FullName(String);

impl FullName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(ValidationError::new("full_name", "must not be empty"));
        }
        if s.chars().count() > 200 {
            return Err(ValidationError::new(
                "full_name",
                "must be at most 200 characters",
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "full_name",
                "must not contain control characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FullName {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<FullName> for String {
    fn from(n: FullName) -> String {
        n.0
    }
}

/// A postal address as one line; 1 to 500 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Address(String);

impl Address {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        if s.is_empty() || s.chars().count() > 500 {
            return Err(ValidationError::new(
                "address",
                "must be 1 to 500 characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Address {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Address> for String {
    fn from(a: Address) -> String {
        a.0
    }
}

/// Where someone stays: an address with its position, and for residence
/// registers the building and unit that define a household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub address: Address,
    pub coordinates: Coordinates,
    pub building_id: Option<BuildingId>,
    pub unit: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(FullName::parse("  Ana Lima ").unwrap().as_str(), "Ana Lima");
        assert!(FullName::parse("   ").is_err());
        assert!(FullName::parse(&"a".repeat(201)).is_err());
        assert!(FullName::parse("a\u{7}b").is_err());
    }

    #[test]
    fn person_json_round_trip_rejects_unknown_shapes() {
        let json =
            r#"{"id":"P1","full_name":"Ana","phone":"+41441234567","email":null,"language":"en"}"#;
        let p: Person = serde_json::from_str(json).unwrap();
        assert_eq!(p.id.as_str(), "P1");
        let bad = r#"{"id":"P1","full_name":"Ana","phone":"12","email":null,"language":"en"}"#;
        assert!(serde_json::from_str::<Person>(bad).is_err());
    }
}
