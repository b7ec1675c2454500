//! Daily symptom forms: issued once per active order and local day by the
//! worker (a job with a dedupe key per order and day, and a unique slot, so
//! exactly once across instances) or on demand by an officer, together with
//! the message the [`Announcer`] renders for it.

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::SymptomFormId;
use lazaret_core::order::{QuarantineOrder, TimeZone};
use lazaret_store::{Store, SymptomForm};

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
    order: &QuarantineOrder,
    slot: &str,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<Option<IssuedForm>, IssueError> {
    let token = random_token("lzs");
    let day = local_day(order, now);
    let form = SymptomForm {
        id: SymptomFormId::generate(),
        order_id: order.id.clone(),
        slot: slot.to_owned(),
        day,
        token_hash: hash_token(&token),
        issued_at: now,
        expires_at: end_of_local_day(order.time_zone, day),
        used_at: None,
        cancelled_at: None,
    };
    let message = match announcer {
        Some(announcer) => Some(announcer.symptom_form_message(&SymptomFormNotice {
            order_id: order.id.clone(),
            form_id: form.id.clone(),
            person: person_of(store, order).await?,
            time_zone: order.time_zone,
            token: token.clone(),
            expires_at: form.expires_at,
            at: now,
        })?),
        None => None,
    };
    let audit = AuditRecord {
        at: now,
        actor: actor.to_owned(),
        action: "symptom_form.issue".into(),
        subject_type: "order".into(),
        subject_id: order.id.to_string(),
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
