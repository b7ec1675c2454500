//! Check-in rules: when an answer counts, and what a try does to its prompt.
//!
//! Pure functions over what the store holds and what the face engine found, so that every
//! front end (the JSON API, the coming console) and the worker decide alike.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::AlertKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptStatus {
    /// Announced, waiting for an answer.
    Open,
    /// A verified check-in answered it.
    Answered,
    /// The deadline passed without a verified check-in.
    Missed,
    /// Withdrawn (order ended or released).
    Cancelled,
    /// The deadline passed without an answer and the prompt's message was
    /// never confirmed delivered: nothing says the person knew of it.
    NotDelivered,
}

impl PromptStatus {
    /// Whether the prompt still takes answers.
    pub fn is_open(&self) -> bool {
        *self == PromptStatus::Open
    }

    /// Whether the prompt closed with the person's answer or its absence (answered or
    /// missed), as opposed to still open or withdrawn: the prompts the welfare rule counts.
    pub fn is_decided(&self) -> bool {
        matches!(self, PromptStatus::Answered | PromptStatus::Missed)
    }
}

/// Most tries a person gets inside one prompt's window.
pub const MAX_ATTEMPTS: u32 = 3;

/// Tries left after `attempt` tries were used.
pub fn tries_left(attempt: u32) -> u32 {
    MAX_ATTEMPTS.saturating_sub(attempt)
}

/// What a check-in showed. Every outcome but `Verified` reaches an officer
/// with its evidence if it is the final try; none sanctions anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckinOutcome {
    Verified,
    FaceMismatch,
    NoFace,
    MultipleFaces,
    LowQuality,
    LivenessFailed,
    OutsideGeofence,
    LocationUnreliable,
    /// Received after the deadline, inside the late grace: recorded for the officer, not
    /// verified.
    Late,
}

impl CheckinOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::FaceMismatch => "face_mismatch",
            Self::NoFace => "no_face",
            Self::MultipleFaces => "multiple_faces",
            Self::LowQuality => "low_quality",
            Self::LivenessFailed => "liveness_failed",
            Self::OutsideGeofence => "outside_geofence",
            Self::LocationUnreliable => "location_unreliable",
            Self::Late => "late",
        }
    }
}

/// When an answer arrives, measured against its prompt's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// Up to the deadline: verified as usual.
    OnTime,
    /// After the deadline but inside the late grace: taken and recorded as `Late`.
    Late,
    /// After the late grace: no longer taken.
    Expired,
}

/// Where `now` falls for a prompt due at `deadline` whose answers are still taken for
/// `late_grace` after it.
pub fn timing(now: DateTime<Utc>, deadline: DateTime<Utc>, late_grace: Duration) -> Timing {
    if now <= deadline {
        Timing::OnTime
    } else if now <= deadline + late_grace {
        Timing::Late
    } else {
        Timing::Expired
    }
}

/// When the misses of an order call for a welfare check: after this many prompts in a
/// row were missed (a cancelled prompt neither counts nor breaks the run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WelfareRule {
    pub after_misses: u32,
}

impl WelfareRule {
    /// Whether closing one more prompt as missed completes a run of misses, given the
    /// order's earlier prompts that were answered or missed, newest first (the one being
    /// closed not among them).
    pub fn due(&self, earlier_decided: &[PromptStatus]) -> bool {
        let before = self.after_misses.saturating_sub(1) as usize;
        self.after_misses == 0
            || (earlier_decided.len() >= before
                && earlier_decided[..before]
                    .iter()
                    .all(|s| *s == PromptStatus::Missed))
    }
}

/// What one try does: to its prompt, to the officers' queue and to the person's next try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    /// Moves the prompt out of `open`: answered by a verified try, missed after the final
    /// failed (or a late) one; `None` leaves it open for another try.
    pub close_prompt_as: Option<PromptStatus>,
    /// The alert an officer gets, with the try's evidence.
    pub alert: Option<AlertKind>,
    /// Tries the person still has on this prompt (none once it is closed).
    pub tries_left: u32,
    /// Whether a welfare-check alert opens too: this miss completes the order's run.
    pub escalate: bool,
}

/// Resolves try number `attempt` (1-based) that ended with `outcome`. A late answer
/// (`CheckinOutcome::Late`) is always the final try. `earlier_decided` are the order's
/// earlier answered or missed prompts, newest first, for the welfare rule.
pub fn resolve(
    outcome: CheckinOutcome,
    attempt: u32,
    welfare: WelfareRule,
    earlier_decided: &[PromptStatus],
) -> Resolution {
    let verified = outcome == CheckinOutcome::Verified;
    let last_try = outcome == CheckinOutcome::Late || attempt >= MAX_ATTEMPTS;
    let close_prompt_as = if verified {
        Some(PromptStatus::Answered)
    } else if last_try {
        Some(PromptStatus::Missed)
    } else {
        None
    };
    let missed = close_prompt_as == Some(PromptStatus::Missed);
    Resolution {
        close_prompt_as,
        alert: missed.then_some(AlertKind::FailedCheckin),
        tries_left: if close_prompt_as.is_some() {
            0
        } else {
            tries_left(attempt)
        },
        escalate: missed && welfare.due(earlier_decided),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PromptStatus::{Answered, Missed};

    const THREE: WelfareRule = WelfareRule { after_misses: 3 };

    #[test]
    fn only_an_open_prompt_takes_answers() {
        assert!(PromptStatus::Open.is_open());
        for s in [Answered, Missed, PromptStatus::Cancelled] {
            assert!(!s.is_open(), "{s:?}");
        }
        assert!(Answered.is_decided() && Missed.is_decided());
        assert!(!PromptStatus::Open.is_decided() && !PromptStatus::Cancelled.is_decided());
    }

    #[test]
    fn timing_is_on_time_to_the_deadline_then_late_through_the_grace() {
        let deadline: DateTime<Utc> = "2026-03-10T10:15:00Z".parse().unwrap();
        let grace = Duration::minutes(5);
        assert_eq!(timing(deadline, deadline, grace), Timing::OnTime);
        assert_eq!(
            timing(deadline + Duration::seconds(1), deadline, grace),
            Timing::Late
        );
        assert_eq!(timing(deadline + grace, deadline, grace), Timing::Late);
        assert_eq!(
            timing(deadline + grace + Duration::seconds(1), deadline, grace),
            Timing::Expired
        );
    }

    #[test]
    fn a_verified_try_answers_the_prompt_without_an_alert() {
        for attempt in 1..=MAX_ATTEMPTS {
            let r = resolve(CheckinOutcome::Verified, attempt, THREE, &[Missed, Missed]);
            assert_eq!(r.close_prompt_as, Some(Answered));
            assert_eq!((r.alert, r.tries_left, r.escalate), (None, 0, false));
        }
    }

    #[test]
    fn a_failed_try_before_the_last_leaves_the_prompt_open() {
        let r = resolve(CheckinOutcome::FaceMismatch, 1, THREE, &[Missed, Missed]);
        assert_eq!(r.close_prompt_as, None);
        assert_eq!((r.alert, r.tries_left, r.escalate), (None, 2, false));
        let r = resolve(CheckinOutcome::NoFace, 2, THREE, &[]);
        assert_eq!((r.close_prompt_as, r.tries_left), (None, 1));
    }

    #[test]
    fn the_final_failed_try_misses_the_prompt_and_alerts_an_officer() {
        let r = resolve(CheckinOutcome::OutsideGeofence, MAX_ATTEMPTS, THREE, &[]);
        assert_eq!(r.close_prompt_as, Some(Missed));
        assert_eq!(r.alert, Some(AlertKind::FailedCheckin));
        assert_eq!((r.tries_left, r.escalate), (0, false));
    }

    #[test]
    fn a_late_answer_is_the_final_try_whatever_its_number() {
        let r = resolve(CheckinOutcome::Late, 1, THREE, &[Answered]);
        assert_eq!(r.close_prompt_as, Some(Missed));
        assert_eq!(r.alert, Some(AlertKind::FailedCheckin));
        assert_eq!((r.tries_left, r.escalate), (0, false));
    }

    #[test]
    fn a_miss_that_completes_the_run_escalates_to_a_welfare_check() {
        let r = resolve(CheckinOutcome::FaceMismatch, 3, THREE, &[Missed, Missed]);
        assert!(r.escalate);
        // One answered prompt among the last ones breaks the run.
        let r = resolve(
            CheckinOutcome::FaceMismatch,
            3,
            THREE,
            &[Missed, Answered, Missed],
        );
        assert!(!r.escalate);
        // Too few prompts so far.
        let r = resolve(CheckinOutcome::Late, 1, THREE, &[Missed]);
        assert!(!r.escalate);
        // Older history beyond the run does not matter.
        let r = resolve(CheckinOutcome::Late, 1, THREE, &[Missed, Missed, Answered]);
        assert!(r.escalate);
    }

    #[test]
    fn welfare_rule_edges() {
        assert!(WelfareRule { after_misses: 1 }.due(&[]));
        assert!(WelfareRule { after_misses: 0 }.due(&[Answered]));
        assert!(!WelfareRule { after_misses: 2 }.due(&[Answered, Missed]));
        assert!(WelfareRule { after_misses: 2 }.due(&[Missed, Answered]));
    }
}
