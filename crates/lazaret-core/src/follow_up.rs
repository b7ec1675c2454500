//! Follow-up of cases and contacts: who must be called, what came of each
//! call, and where the person stands now.
//!
//! A contact's follow-up starts at `to_call` (close contacts) or
//! `to_inform` (notify-tier contacts, who get a notice rather than a call).
//! Calls move it to `reached`, `refused`, `not_a_contact`, or after
//! `max_attempts` unanswered calls to `unreachable`. Issuing the person's
//! order makes it `quarantined`; starting symptom monitoring `monitored`;
//! both end in `released`. A case's follow-up is the interview:
//! `to_interview` until a call reaches the case (`interviewed`).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpKind {
    Case,
    Contact,
}

impl FollowUpKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Case => "case",
            Self::Contact => "contact",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "case" => Ok(Self::Case),
            "contact" => Ok(Self::Contact),
            other => Err(ValidationError::new(
                "kind",
                format!("{other:?} is not case or contact"),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpStatus {
    ToInterview,
    Interviewed,
    ToCall,
    ToInform,
    Reached,
    Unreachable,
    Refused,
    NotAContact,
    Quarantined,
    Monitored,
    Released,
    /// A monitored contact whose symptoms make them a suspected case: to
    /// be tested (and, an officer decides, isolated).
    Suspected,
}

impl FollowUpStatus {
    pub const ALL: [Self; 12] = [
        Self::ToInterview,
        Self::Interviewed,
        Self::ToCall,
        Self::ToInform,
        Self::Reached,
        Self::Unreachable,
        Self::Refused,
        Self::NotAContact,
        Self::Quarantined,
        Self::Monitored,
        Self::Released,
        Self::Suspected,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ToInterview => "to_interview",
            Self::Interviewed => "interviewed",
            Self::ToCall => "to_call",
            Self::ToInform => "to_inform",
            Self::Reached => "reached",
            Self::Unreachable => "unreachable",
            Self::Refused => "refused",
            Self::NotAContact => "not_a_contact",
            Self::Quarantined => "quarantined",
            Self::Monitored => "monitored",
            Self::Released => "released",
            Self::Suspected => "suspected",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| ValidationError::new("status", format!("{raw:?} is not a status")))
    }

    /// Still waiting for someone to act: on a worklist.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::ToInterview | Self::ToCall | Self::ToInform)
    }

    /// Nothing more will happen to this follow-up.
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::NotAContact | Self::Released)
    }
}

/// What one call attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    Reached,
    NoAnswer,
    WrongNumber,
    Refused,
    NotAContact,
}

impl CallOutcome {
    pub const ALL: [Self; 5] = [
        Self::Reached,
        Self::NoAnswer,
        Self::WrongNumber,
        Self::Refused,
        Self::NotAContact,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Reached => "reached",
            Self::NoAnswer => "no_answer",
            Self::WrongNumber => "wrong_number",
            Self::Refused => "refused",
            Self::NotAContact => "not_a_contact",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim())
            .ok_or_else(|| {
                ValidationError::new(
                    "outcome",
                    format!(
                        "{raw:?} is not one of reached, no_answer, wrong_number, refused, not_a_contact"
                    ),
                )
            })
    }

    fn answered(&self) -> bool {
        !matches!(self, Self::NoAnswer | Self::WrongNumber)
    }
}

/// How calls are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallPolicy {
    /// Unanswered calls after which a contact is `unreachable`.
    pub max_attempts: u32,
    /// The next call is due this long after an unanswered one.
    pub retry_after: Duration,
}

impl Default for CallPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            retry_after: Duration::hours(4),
        }
    }
}

/// A follow-up after a call: the new status, the unanswered attempts so
/// far, and when the next call is due (`None`: no further call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterCall {
    pub status: FollowUpStatus,
    pub unanswered: u32,
    pub next_due: Option<DateTime<Utc>>,
}

/// Applies one call's outcome. Only a follow-up waiting for a call
/// (`to_interview`, `to_call`, `to_inform`, or `unreachable`, which a later
/// answered call still resolves) takes calls.
pub fn after_call(
    kind: FollowUpKind,
    status: FollowUpStatus,
    unanswered: u32,
    outcome: CallOutcome,
    at: DateTime<Utc>,
    policy: &CallPolicy,
) -> Result<AfterCall, ValidationError> {
    use FollowUpStatus as S;
    let takes_calls = status.is_open() || status == S::Unreachable;
    if !takes_calls {
        return Err(ValidationError::new(
            "status",
            format!("the follow-up is {}: no call is due", status.as_str()),
        ));
    }
    if kind == FollowUpKind::Case && outcome == CallOutcome::NotAContact {
        return Err(ValidationError::new(
            "outcome",
            "a case is not a contact: record the interview's outcome instead",
        ));
    }
    if !outcome.answered() {
        let unanswered = unanswered + 1;
        let given_up = unanswered >= policy.max_attempts;
        return Ok(AfterCall {
            status: if given_up && kind == FollowUpKind::Contact {
                S::Unreachable
            } else {
                status
            },
            unanswered,
            next_due: (!given_up || kind == FollowUpKind::Case).then(|| at + policy.retry_after),
        });
    }
    let status = match (kind, outcome) {
        (FollowUpKind::Case, CallOutcome::Reached) => S::Interviewed,
        (FollowUpKind::Case, _) => S::Refused,
        (FollowUpKind::Contact, CallOutcome::Reached) => S::Reached,
        (FollowUpKind::Contact, CallOutcome::Refused) => S::Refused,
        (FollowUpKind::Contact, _) => S::NotAContact,
    };
    Ok(AfterCall {
        status,
        unanswered,
        next_due: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        "2026-03-10T09:00:00Z".parse().unwrap()
    }

    #[test]
    fn three_unanswered_calls_make_a_contact_unreachable() {
        let p = CallPolicy::default();
        let mut s = FollowUpStatus::ToCall;
        let mut n = 0;
        for i in 1..=3 {
            let a =
                after_call(FollowUpKind::Contact, s, n, CallOutcome::NoAnswer, at(), &p).unwrap();
            (s, n) = (a.status, a.unanswered);
            assert_eq!(n, i);
            if i < 3 {
                assert_eq!(s, FollowUpStatus::ToCall);
                assert_eq!(a.next_due, Some(at() + Duration::hours(4)));
            } else {
                assert_eq!(s, FollowUpStatus::Unreachable);
                assert_eq!(a.next_due, None);
            }
        }
        // A later answered call still resolves an unreachable contact.
        let a = after_call(FollowUpKind::Contact, s, n, CallOutcome::Reached, at(), &p).unwrap();
        assert_eq!(a.status, FollowUpStatus::Reached);
    }

    #[test]
    fn outcomes_map_to_statuses_and_closed_follow_ups_take_no_calls() {
        let p = CallPolicy::default();
        let call = |kind, status, outcome| after_call(kind, status, 0, outcome, at(), &p);
        use CallOutcome as O;
        use FollowUpKind::*;
        use FollowUpStatus as S;
        assert_eq!(
            call(Contact, S::ToCall, O::Refused).unwrap().status,
            S::Refused
        );
        assert_eq!(
            call(Contact, S::ToInform, O::NotAContact).unwrap().status,
            S::NotAContact
        );
        assert_eq!(
            call(Case, S::ToInterview, O::Reached).unwrap().status,
            S::Interviewed
        );
        assert!(call(Case, S::ToInterview, O::NotAContact).is_err());
        assert!(call(Contact, S::Quarantined, O::Reached).is_err());
        assert!(call(Contact, S::Released, O::NoAnswer).is_err());
        // A case is never given up on: the next call is due again.
        let a = after_call(Case, S::ToInterview, 5, O::NoAnswer, at(), &p).unwrap();
        assert_eq!(a.status, S::ToInterview);
        assert!(a.next_due.is_some());
    }

    #[test]
    fn names_round_trip() {
        for s in FollowUpStatus::ALL {
            assert_eq!(FollowUpStatus::parse(s.as_str()).unwrap(), s);
        }
        for o in CallOutcome::ALL {
            assert_eq!(CallOutcome::parse(o.as_str()).unwrap(), o);
        }
        assert!(CallOutcome::parse("maybe").is_err());
    }
}
