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

    pub fn resolve(&mut self, reason: &str, at: DateTime<Utc>) -> Result<(), DomainError> {
        if self.status == AlertStatus::Resolved {
            return Err(DomainError::IllegalTransition {
                entity: "alert",
                from: "resolved".into(),
                to: "resolved".into(),
            });
        }
        if reason.trim().is_empty() {
            return Err(
                crate::error::ValidationError::new("reason", "resolving needs a reason").into(),
            );
        }
        crate::audit::check_reason("reason", reason)?;
        self.status = AlertStatus::Resolved;
        self.resolution = Some(reason.trim().to_owned());
        self.updated_at = at;
        Ok(())
    }
}
