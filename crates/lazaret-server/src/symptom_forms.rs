//! Daily symptom forms: issued once per active order (or monitored
//! contact) and local day by the worker (a job with a dedupe key per order
//! and day, and a unique slot, so exactly once across instances) or on
//! demand by an officer, together with the message the [`Announcer`]
//! renders for it.

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::SymptomFormId;
use lazaret_core::order::{QuarantineOrder, TimeZone};
use lazaret_store::{FollowUp, Store, SymptomForm};

use crate::announce::{Announcer, SymptomFormNotice};
use crate::prompting::{hash_token, person_of, random_token, IssueError};

/// The first instant after `day` in `tz`, in UTC.
pub fn end_of_local_day(tz: TimeZone, day: NaiveDate) -> DateTime<Utc> {
    let next = day.succ_opt().unwrap_or(day);
    // Midnight can fall into a DST gap in a few zones; the first valid
    // minute after it ends the day then.
    (0..=180)
        .find_map(|m| {
            let t = next.and_hms_opt(0, 0, 0).expect("midnight") + Duration::minutes(m);
            tz.tz().from_local_datetime(&t).earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&next.and_hms_opt(0, 0, 0).expect("midnight")))
}

/// The order's local day at `at`.
pub fn local_day(order: &QuarantineOrder, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&order.time_zone.tz()).date_naive()
}

/// Whom a form is for: a person in quarantine (their order) or a contact
/// monitored without quarantine (their follow-up, in the zone the forms'
/// days are counted in).
#[derive(Clone, Copy)]
pub enum FormFor<'a> {
    Order(&'a QuarantineOrder),
    Monitoring {
        follow_up: &'a FollowUp,
        time_zone: TimeZone,
    },
}

impl FormFor<'_> {
    fn time_zone(&self) -> TimeZone {
        match self {
            Self::Order(o) => o.time_zone,
            Self::Monitoring { time_zone, .. } => *time_zone,
        }
    }

    /// The audit subject: the order, or the monitored person.
    fn subject(&self) -> (&'static str, String) {
        match self {
            Self::Order(o) => ("order", o.id.to_string()),
            Self::Monitoring { follow_up, .. } => ("person", follow_up.person_id.to_string()),
        }
    }
}

/// A form just issued, with its token.
pub struct IssuedForm {
    pub form: SymptomForm,
    pub token: String,
    /// Whether its message went into the outbox with it.
    pub announced: bool,
}

/// Issues a form for `order` in `slot` for its local day at `now`, valid
/// until that day ends, with (given an `announcer`) the outbox message that
/// announces it, in one transaction. The message is rendered first; if
/// that fails, nothing is stored. `None` if the slot already has a form.
pub async fn issue_symptom_form(
    store: &Store,
    announcer: Option<&dyn Announcer>,
    to: FormFor<'_>,
    slot: &str,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<Option<IssuedForm>, IssueError> {
    let token = random_token("lzs");
    let tz = to.time_zone();
    let day = now.with_timezone(&tz.tz()).date_naive();
    let (order_id, follow_up_id) = match to {
        FormFor::Order(o) => (Some(o.id.clone()), None),
        FormFor::Monitoring { follow_up, .. } => (None, Some(follow_up.id.clone())),
    };
    let form = SymptomForm {
        id: SymptomFormId::generate(),
        order_id: order_id.clone(),
        follow_up_id,
        slot: slot.to_owned(),
        day,
        token_hash: hash_token(&token),
        issued_at: now,
        expires_at: end_of_local_day(tz, day),
        used_at: None,
        cancelled_at: None,
    };
    let message = match announcer {
        Some(announcer) => Some(
            announcer.symptom_form_message(&SymptomFormNotice {
                order_id,
                form_id: form.id.clone(),
                person: match to {
                    FormFor::Order(o) => person_of(store, o).await?,
                    FormFor::Monitoring { follow_up, .. } => store
                        .get_person(&follow_up.person_id)
                        .await?
                        .ok_or_else(|| IssueError::PersonGone(follow_up.person_id.clone()))?,
                },
                time_zone: tz,
                token: token.clone(),
                expires_at: form.expires_at,
                at: now,
            })?,
        ),
        None => None,
    };
    let (subject_type, subject_id) = to.subject();
    let audit = AuditRecord {
        at: now,
        actor: actor.to_owned(),
        action: "symptom_form.issue".into(),
        subject_type: subject_type.into(),
        subject_id,
        details: format!("form={} slot={slot} day={day}", form.id),
    };
    if !store
        .issue_symptom_form(&form, message.as_ref(), &audit)
        .await?
    {
        return Ok(None);
    }
    Ok(Some(IssuedForm {
        form,
        token,
        announced: message.is_some(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_day_ends_at_local_midnight() {
        let zurich = TimeZone::parse("Europe/Zurich").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        assert_eq!(
            end_of_local_day(zurich, day),
            Utc.with_ymd_and_hms(2026, 3, 10, 23, 0, 0).unwrap()
        );
        assert_eq!(
            end_of_local_day(TimeZone::default(), day),
            Utc.with_ymd_and_hms(2026, 3, 11, 0, 0, 0).unwrap()
        );
    }
}
