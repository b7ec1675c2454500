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
    /// Health data: symptom forms and reports, test results, diagnoses and
    /// the health alerts (`symptomatic`, `welfare_check`).
    ReadHealth,
    Trace,
    ReviseTests,
    WorkAlerts,
    /// Everything held about one person, for an access request.
    ExportPerson,
    ReadAggregates,
    /// Surveillance line lists: cases and contacts of a period and district
    /// with pseudonymous ids, dates, results, tiers and statuses; never a
    /// name, phone, e-mail, address or coordinate (`GET /api/v1/exports/…`).
    ExportSurveillance,
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

    /// Least privilege: each role gets what its work needs and no more.
    pub fn allows(&self, p: Permission) -> bool {
        use Permission::*;
        match self {
            // Accounts and districts only: administrators manage who may
            // see what, they do not read personal or health data (and the
            // audit log that watches them is the auditor's).
            Self::Admin => matches!(p, ManageUsers),
            Self::Investigator => matches!(
                p,
                ReadPersons
                    | WritePersons
                    | ReadOrders
                    | WriteOrders
                    | ReadHealth
                    | Trace
                    | ReviseTests
                    | WorkAlerts
                    | ExportPerson
            ),
            // Enforcement: orders, check-in outcomes and compliance alerts;
            // no health data and no tracing (review M2, M5).
            Self::ComplianceOfficer => {
                matches!(p, ReadPersons | ReadOrders | WriteOrders | WorkAlerts)
            }
            // Reporting to the surveillance system is the analysts' work:
            // the line lists carry no name or contact detail, only
            // pseudonymous ids. Investigators are not given it: they read
            // each case with names already, and a bulk download of every
            // case of a district is not case work (least privilege; a
            // district that wants its tracers to report gives them an
            // analyst account). Administrators see no personal or health
            // data, auditors only the log.
            Self::Analyst => matches!(p, ReadAggregates | ExportSurveillance),
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
    fn compliance_officers_see_no_health_data_and_do_not_trace() {
        let c = Role::ComplianceOfficer;
        assert!(c.allows(Permission::ReadOrders) && c.allows(Permission::WorkAlerts));
        assert!(!c.allows(Permission::ReadHealth));
        assert!(!c.allows(Permission::Trace));
        assert!(Role::Investigator.allows(Permission::ReadHealth));
    }

    #[test]
    fn admin_manages_accounts_only() {
        let granted: Vec<Permission> = [
            Permission::ReadPersons,
            Permission::ReadOrders,
            Permission::ReadHealth,
            Permission::ExportPerson,
            Permission::ReadAggregates,
            Permission::ExportSurveillance,
            Permission::ManageUsers,
        ]
        .into_iter()
        .filter(|p| Role::Admin.allows(*p))
        .collect();
        assert_eq!(granted, vec![Permission::ManageUsers]);
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
    fn only_analysts_export_surveillance_line_lists() {
        for r in Role::ALL {
            assert_eq!(
                r.allows(Permission::ExportSurveillance),
                r == Role::Analyst,
                "{r}"
            );
        }
        // The line list is not a way around the analyst's other limits.
        assert!(!Role::Analyst.allows(Permission::ReadPersons));
        assert!(!Role::Analyst.allows(Permission::ReadHealth));
    }

    #[test]
    fn parse_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
