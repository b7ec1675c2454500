//! Officer accounts, roles and what each role may do.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Investigator,
    ComplianceOfficer,
    /// Aggregates only: no personal data.
    Analyst,
    /// The audit log only: reads and exports it, checks nothing else.
    Auditor,
}

/// What a request wants to do; each route names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ReadPersons,
    WritePersons,
    ReadOrders,
    WriteOrders,
    Trace,
    ReviseTests,
    WorkAlerts,
    ReadAggregates,
    ManageUsers,
    ReadAudit,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Investigator,
        Role::ComplianceOfficer,
        Role::Analyst,
        Role::Auditor,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Investigator => "investigator",
            Self::ComplianceOfficer => "compliance_officer",
            Self::Analyst => "analyst",
            Self::Auditor => "auditor",
        }
    }

    pub fn allows(&self, p: Permission) -> bool {
        use Permission::*;
        match self {
            // Separation of duties: the administrators are among those the
            // audit log watches, so reading it is the auditor's alone.
            Self::Admin => !matches!(p, ReadAudit),
            Self::Investigator => matches!(
                p,
                ReadPersons
                    | WritePersons
                    | ReadOrders
                    | WriteOrders
                    | Trace
                    | ReviseTests
                    | WorkAlerts
                    | ReadAggregates
            ),
            Self::ComplianceOfficer => {
                matches!(
                    p,
                    ReadPersons | ReadOrders | WriteOrders | WorkAlerts | ReadAggregates
                )
            }
            Self::Analyst => matches!(p, ReadAggregates),
            Self::Auditor => matches!(p, ReadAudit),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new(
                    "role",
                    format!("{s:?} is not one of admin, investigator, compliance_officer, analyst, auditor"),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyst_sees_no_personal_data() {
        assert!(!Role::Analyst.allows(Permission::ReadPersons));
        assert!(Role::Analyst.allows(Permission::ReadAggregates));
        assert!(Role::Admin.allows(Permission::ManageUsers));
        assert!(!Role::Investigator.allows(Permission::ManageUsers));
        assert!(!Role::ComplianceOfficer.allows(Permission::WritePersons));
    }

    #[test]
    fn only_the_auditor_reads_the_audit_log() {
        for r in Role::ALL {
            assert_eq!(r.allows(Permission::ReadAudit), r == Role::Auditor, "{r}");
        }
        assert!(!Role::Auditor.allows(Permission::ReadPersons));
        assert!(!Role::Auditor.allows(Permission::ReadAggregates));
    }

    #[test]
    fn parse_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
