//! Alerts in an officer's queue and their lifecycle.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::district::District;

use crate::error::DomainError;
use crate::ids::{AlertId, OrderId, PersonId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    MissedCheckin,
    FailedCheckin,
    WelfareCheck,
    Symptomatic,
    /// An active order that nothing can prompt (no face enrolled, or no
    /// phone and no e-mail): monitoring would stop silently without it.
    CannotPrompt,
    /// A prompt closed unanswered whose message never reached the person:
    /// fix the contact details or the sender, do not chase the person.
    NotDelivered,
}

impl AlertKind {
    /// The stored and serialised name (`missed_checkin`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::MissedCheckin => "missed_checkin",
            Self::FailedCheckin => "failed_checkin",
            Self::WelfareCheck => "welfare_check",
            Self::Symptomatic => "symptomatic",
            Self::CannotPrompt => "cannot_prompt",
            Self::NotDelivered => "not_delivered",
        }
    }

    /// Whether the alert carries health data (a symptomatic report): only
    /// roles that read health data see it. The rest are compliance alerts
    /// (missed, failed, outside the geofence, welfare check, cannot prompt,
    /// not delivered).
    pub fn is_health(&self) -> bool {
        matches!(self, Self::Symptomatic)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Open,
    Assigned,
    Resolved,
}

impl AlertStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Assigned => "assigned",
            Self::Resolved => "resolved",
        }
    }
}

/// What an officer found when resolving an alert: a fixed code the
/// indicators can count, beside the free-text note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionOutcome {
    ReachedByPhone,
    Visited,
    Exempted,
    FalseAlarm,
    TechnicalProblem,
    /// Needs a note saying what.
    Other,
}

impl ResolutionOutcome {
    pub const ALL: [ResolutionOutcome; 6] = [
        Self::ReachedByPhone,
        Self::Visited,
        Self::Exempted,
        Self::FalseAlarm,
        Self::TechnicalProblem,
        Self::Other,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ReachedByPhone => "reached_by_phone",
            Self::Visited => "visited",
            Self::Exempted => "exempted",
            Self::FalseAlarm => "false_alarm",
            Self::TechnicalProblem => "technical_problem",
            Self::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, crate::error::ValidationError> {
        Self::ALL
            .into_iter()
            .find(|o| o.as_str() == raw.trim())
            .ok_or_else(|| {
                crate::error::ValidationError::new("outcome", format!("unknown outcome {raw:?}"))
            })
    }
}

/// Something an officer must look at, with its evidence. An alert never
/// sanctions anyone: a person resolves it with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: AlertId,
    pub kind: AlertKind,
    pub person_id: PersonId,
    pub order_id: Option<OrderId>,
    pub status: AlertStatus,
    pub evidence: serde_json::Value,
    pub assignee: Option<UserId>,
    pub resolution: Option<String>,
    /// The officer's outcome code (None for alerts closed by the system or
    /// resolved before outcome codes existed).
    #[serde(default)]
    pub outcome: Option<ResolutionOutcome>,
    /// Its order's district (else its person's).
    #[serde(default = "District::unassigned")]
    pub district: District,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Alert {
    pub fn assign(&mut self, to: UserId, at: DateTime<Utc>) -> Result<(), DomainError> {
        if self.status == AlertStatus::Resolved {
            return Err(DomainError::IllegalTransition {
                entity: "alert",
                from: "resolved".into(),
                to: "assigned".into(),
            });
        }
        self.assignee = Some(to);
        self.status = AlertStatus::Assigned;
        self.updated_at = at;
        Ok(())
    }

    /// Resolves with an outcome code and a note. The note is the reason
    /// where no code says it: required without an outcome or with `other`,
    /// optional otherwise.
    pub fn resolve(
        &mut self,
        outcome: Option<ResolutionOutcome>,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        if self.status == AlertStatus::Resolved {
            return Err(DomainError::IllegalTransition {
                entity: "alert",
                from: "resolved".into(),
                to: "resolved".into(),
            });
        }
        let note = note.trim();
        if note.is_empty() {
            match outcome {
                None => {
                    return Err(crate::error::ValidationError::new(
                        "reason",
                        "resolving needs an outcome or a reason",
                    )
                    .into())
                }
                Some(ResolutionOutcome::Other) => {
                    return Err(crate::error::ValidationError::new(
                        "reason",
                        "the outcome \"other\" needs a note saying what happened",
                    )
                    .into())
                }
                Some(_) => {}
            }
        }
        crate::audit::check_reason("reason", note)?;
        self.status = AlertStatus::Resolved;
        self.outcome = outcome;
        self.resolution = (!note.is_empty()).then(|| note.to_owned());
        self.updated_at = at;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AlertId, PersonId};

    fn alert() -> Alert {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        Alert {
            id: AlertId::generate(),
            kind: AlertKind::MissedCheckin,
            person_id: PersonId::parse("P-1").unwrap(),
            order_id: None,
            status: AlertStatus::Open,
            evidence: serde_json::json!({}),
            assignee: None,
            resolution: None,
            outcome: None,
            district: District::unassigned(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn an_outcome_code_is_a_reason_but_other_needs_a_note() {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_600, 0).unwrap();
        let mut a = alert();
        assert!(a.resolve(None, "  ", at).is_err());
        assert!(a.resolve(Some(ResolutionOutcome::Other), "", at).is_err());
        assert_eq!(a.status, AlertStatus::Open);
        a.resolve(Some(ResolutionOutcome::Visited), "", at).unwrap();
        assert_eq!(a.outcome, Some(ResolutionOutcome::Visited));
        assert_eq!(a.resolution, None);
        assert!(a.resolve(Some(ResolutionOutcome::Visited), "", at).is_err());
        let mut b = alert();
        b.resolve(None, " phoned twice ", at).unwrap();
        assert_eq!(b.resolution.as_deref(), Some("phoned twice"));
        assert_eq!(b.outcome, None);
    }

    #[test]
    fn outcome_codes_round_trip() {
        for o in ResolutionOutcome::ALL {
            assert_eq!(ResolutionOutcome::parse(o.as_str()).unwrap(), o);
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        assert!(ResolutionOutcome::parse("fined").is_err());
    }
}
