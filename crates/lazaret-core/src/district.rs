//! Districts (jurisdictions): every person, order and what follows from an
//! order belongs to one, and an officer works only in theirs.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::error::ValidationError;

const MAX_DISTRICT_LEN: usize = 32;

/// A district's code: 1–32 lowercase ASCII letters, digits, `-` or `_`
/// (`north`, `zh-city`). A code, not a display name, so that it is stable in
/// CSV files, URLs and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct District(String);

/// The district of records that existed before districts: a national
/// officer sees them and reassigns them.
pub const UNASSIGNED: &str = "unassigned";

impl District {
    /// [`UNASSIGNED`].
    pub fn unassigned() -> Self {
        Self(UNASSIGNED.to_owned())
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ValidationError::new("district", "must not be empty"));
        }
        if raw.len() > MAX_DISTRICT_LEN {
            return Err(ValidationError::new(
                "district",
                format!("must be at most {MAX_DISTRICT_LEN} characters"),
            ));
        }
        if let Some(c) = raw
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_')))
        {
            return Err(ValidationError::new(
                "district",
                format!("contains {c:?}; a district code uses a-z, 0-9, '-' and '_'"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for District {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for District {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for District {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<District> for String {
    fn from(d: District) -> Self {
        d.0
    }
}

/// Which districts an officer works in: all of them (`*`, a national role)
/// or a set. An empty set is allowed and sees nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistrictScope {
    All,
    Only(BTreeSet<District>),
}

impl DistrictScope {
    /// Whether a record of district `d` is inside this scope.
    pub fn covers(&self, d: &District) -> bool {
        match self {
            Self::All => true,
            Self::Only(set) => set.contains(d),
        }
    }

    /// The one district of an officer who has exactly one: the default for
    /// what they create.
    pub fn sole(&self) -> Option<&District> {
        match self {
            Self::Only(set) if set.len() == 1 => set.iter().next(),
            _ => None,
        }
    }

    /// The districts a query must be limited to; `None` means no limit.
    pub fn limit(&self) -> Option<&BTreeSet<District>> {
        match self {
            Self::All => None,
            Self::Only(set) => Some(set),
        }
    }

    /// Parses the stored or typed form: `*`, or codes separated by commas
    /// (`north,south`); the empty string is the empty set.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw == "*" {
            return Ok(Self::All);
        }
        let set = raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(District::parse)
            .collect::<Result<BTreeSet<_>, _>>()?;
        Ok(Self::Only(set))
    }
}

impl fmt::Display for DistrictScope {
    /// The stored form that [`DistrictScope::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("*"),
            Self::Only(set) => {
                let mut first = true;
                for d in set {
                    if !first {
                        f.write_str(",")?;
                    }
                    first = false;
                    f.write_str(d.as_str())?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked() {
        assert_eq!(District::parse(" north ").unwrap().as_str(), "north");
        assert!(District::parse("North").is_err());
        assert!(District::parse("").is_err());
        assert!(District::parse("a b").is_err());
        assert!(District::parse(&"x".repeat(33)).is_err());
    }

    #[test]
    fn scope_round_trip_and_cover() {
        let all = DistrictScope::parse("*").unwrap();
        let north = District::parse("north").unwrap();
        let south = District::parse("south").unwrap();
        assert!(all.covers(&north) && all.limit().is_none() && all.sole().is_none());
        let two = DistrictScope::parse("south, north").unwrap();
        assert_eq!(two.to_string(), "north,south");
        assert!(two.covers(&south) && two.sole().is_none());
        let one = DistrictScope::parse("north").unwrap();
        assert_eq!(one.sole(), Some(&north));
        assert!(!one.covers(&south));
        let none = DistrictScope::parse("").unwrap();
        assert!(!none.covers(&north));
        assert_eq!(DistrictScope::parse(&none.to_string()).unwrap(), none);
        assert!(DistrictScope::parse("north,Bad").is_err());
    }
}
