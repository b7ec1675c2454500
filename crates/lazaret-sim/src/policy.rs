//! A policy to compare: production's tracing policy TOML, read by
//! production's own parser, plus an optional `[response]` table the
//! simulator takes out first (production would refuse it: its keys are about
//! the authority's operations, not about who is a contact).

use lazaret_core::tracing_policy::TracingPolicy;
use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::params::ResponseParams;

/// What a policy does about an outbreak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measures {
    /// Nothing: nobody is tested, isolated or traced.
    None,
    /// Symptomatic people are tested and cases isolated; no contact tracing.
    Isolation,
    /// Isolation, and each case traced by the real engine under this policy.
    Tracing(TracingPolicy),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimPolicy {
    pub name: String,
    pub measures: Measures,
    pub response: ResponseParams,
}

/// The baseline every tracing policy is measured against: the same testing
/// and isolation, no tracing.
pub const BASELINE: &str = "isolation";
/// The built-in policy with no measures at all.
pub const NO_MEASURES: &str = "none";

impl SimPolicy {
    /// A built-in policy by name (`none`, `isolation`, `default`: the
    /// built-in tracing rules), with the region's response.
    pub fn builtin(name: &str, response: &ResponseParams) -> Option<Self> {
        let measures = match name {
            NO_MEASURES => Measures::None,
            BASELINE => Measures::Isolation,
            "default" => Measures::Tracing(TracingPolicy::default()),
            _ => return None,
        };
        Some(Self {
            name: name.to_owned(),
            measures,
            response: response.clone(),
        })
    }

    /// Parses a policy file: the tracing policy as production reads it, the
    /// `[response]` table over the region's response.
    pub fn from_toml(name: &str, text: &str, region: &ResponseParams) -> Result<Self, SimError> {
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| SimError::Parse(format!("policy {name}: {e}")))?;
        let response = match table.remove("response") {
            None => region.clone(),
            Some(overrides) => {
                let toml::Value::Table(overrides) = overrides else {
                    return Err(SimError::Invalid(format!(
                        "policy {name}: [response] must be a table"
                    )));
                };
                let mut merged = toml::Table::try_from(region)
                    .map_err(|e| SimError::Parse(format!("policy {name}: {e}")))?;
                merged.extend(overrides);
                let r: ResponseParams = merged
                    .try_into()
                    .map_err(|e| SimError::Parse(format!("policy {name}: {e}")))?;
                r.validate()
                    .map_err(|e| SimError::Invalid(format!("policy {name}: {e}")))?;
                r
            }
        };
        let rest = toml::to_string(&table).map_err(|e| SimError::Parse(e.to_string()))?;
        let tracing = TracingPolicy::from_toml(&rest).map_err(|source| SimError::Policy {
            name: name.to_owned(),
            source,
        })?;
        Ok(Self {
            name: name.to_owned(),
            measures: Measures::Tracing(tracing),
            response,
        })
    }

    pub fn tracing(&self) -> Option<&TracingPolicy> {
        match &self.measures {
            Measures::Tracing(p) => Some(p),
            _ => None,
        }
    }

    pub fn acts(&self) -> bool {
        !matches!(self.measures, Measures::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_production_policy_file_is_read_by_production_rules() {
        let r = ResponseParams::default();
        let p = SimPolicy::from_toml(
            "household",
            "[residence]\nbuilding_notify = false\n[response]\ninterview_reach = 0.5\n",
            &r,
        )
        .unwrap();
        let t = p.tracing().unwrap();
        assert!(!t.residence.building_notify);
        assert!(t.residence.household_close);
        assert_eq!(p.response.interview_reach, 0.5);
        assert_eq!(
            p.response.test_seeking, r.test_seeking,
            "others from the region"
        );
        // Production's checks apply: unknown keys and out-of-range values.
        let e = SimPolicy::from_toml("x", "nationality = \"XX\"\n", &r).unwrap_err();
        assert!(e.to_string().contains("unknown"), "{e}");
        let e = SimPolicy::from_toml("x", "[flight]\nseat_rows = 99\n", &r).unwrap_err();
        assert!(e.to_string().contains("seat_rows"), "{e}");
        let e = SimPolicy::from_toml("x", "[response]\nleak = 3\n", &r).unwrap_err();
        assert!(e.to_string().contains("response.leak"), "{e}");
        let e = SimPolicy::from_toml("x", "[response]\nlek = 0.1\n", &r).unwrap_err();
        assert!(e.to_string().contains("lek"), "{e}");
    }

    #[test]
    fn builtins() {
        let r = ResponseParams::default();
        assert!(!SimPolicy::builtin("none", &r).unwrap().acts());
        assert!(SimPolicy::builtin("isolation", &r)
            .unwrap()
            .tracing()
            .is_none());
        assert!(SimPolicy::builtin("default", &r)
            .unwrap()
            .tracing()
            .is_some());
        assert!(SimPolicy::builtin("other", &r).is_none());
    }
}
