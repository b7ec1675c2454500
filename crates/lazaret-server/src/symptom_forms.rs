//! Daily symptom forms: issued once per active order and local day by the
//! worker (a job with a dedupe key per order and day, and a unique slot, so
//! exactly once across instances) or on demand by an officer, then
//! announced through the [`Announcer`](crate::worker::Announcer).

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::{OrderId, SymptomFormId};
use lazaret_core::order::{OrderStatus, QuarantineOrder, TimeZone};
use lazaret_store::{ClaimedJob, NewJob, Store, StoreError, SymptomForm};
use serde::{Deserialize, Serialize};

use crate::prompting::{hash_token, random_token};
use crate::worker::{PassReport, SymptomFormNotice, Worker, WorkerError};

pub const SYMPTOM_ISSUE_QUEUE: &str = "symptoms.issue";
const SYSTEM: &str = "system:scheduler";

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

/// A form just issued, with the token to deliver.
pub struct IssuedForm {
    pub form: SymptomForm,
    pub token: String,
}

/// Issues a form for `order` in `slot` for its local day at `now`, valid
/// until that day ends. `None` if the slot already has one.
pub async fn issue_symptom_form(
    store: &Store,
    order: &QuarantineOrder,
    slot: &str,
    now: DateTime<Utc>,
    actor: &str,
) -> Result<Option<IssuedForm>, StoreError> {
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
    let audit = AuditRecord {
        at: now,
        actor: actor.to_owned(),
        action: "symptom_form.issue".into(),
        subject_type: "order".into(),
        subject_id: order.id.to_string(),
        details: format!("form={} slot={slot} day={day}", form.id),
    };
    if !store.insert_symptom_form(&form, &audit).await? {
        return Ok(None);
    }
    Ok(Some(IssuedForm { form, token }))
}

#[derive(Debug, Serialize, Deserialize)]
struct IssuePayload {
    order_id: OrderId,
    day: NaiveDate,
}

impl Worker {
    /// Enqueues today's form of an order in force (once per order and day).
    pub(crate) async fn plan_symptom_form(
        &self,
        order: &QuarantineOrder,
        now: DateTime<Utc>,
        r: &mut PassReport,
    ) -> Result<(), WorkerError> {
        if !order.is_in_force(now) {
            return Ok(());
        }
        let day = local_day(order, now);
        let job = NewJob {
            queue: SYMPTOM_ISSUE_QUEUE.into(),
            payload: serde_json::to_value(IssuePayload {
                order_id: order.id.clone(),
                day,
            })
            .expect("payload serialises"),
            run_at: now,
            max_attempts: 5,
            dedupe_key: Some(format!("symptoms:{}:{day}", order.id)),
        };
        if self.enqueue_planned(&job, now).await? {
            r.symptom_forms_planned += 1;
        }
        Ok(())
    }

    pub(crate) async fn issue_symptom_job(
        &self,
        job: &ClaimedJob,
        r: &mut PassReport,
    ) -> Result<(), WorkerError> {
        let p: IssuePayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| WorkerError::Payload(e.to_string()))?;
        let Some(order) = self.state.store.get_order(&p.order_id).await? else {
            return Ok(());
        };
        let now = self.state.now();
        // A job that ran late (the day is over, or the order ended) issues nothing.
        if order.status != OrderStatus::Active
            || !order.is_in_force(now)
            || local_day(&order, now) != p.day
        {
            return Ok(());
        }
        let slot = format!("day:{}", p.day);
        let Some(issued) =
            issue_symptom_form(&self.state.store, &order, &slot, now, SYSTEM).await?
        else {
            return Ok(());
        };
        r.symptom_forms_issued += 1;
        // As with prompts, the token leaves this process only in the
        // announcement (the outbox keeps it until the message is sent).
        let n = SymptomFormNotice {
            order_id: order.id.clone(),
            person_id: order.person_id.clone(),
            token: issued.token,
            expires_at: issued.form.expires_at,
        };
        if let Err(e) = self.announcer.announce_symptom_form(&n).await {
            // Nobody holds this token: withdraw the form so the job's retry
            // issues and announces a fresh one.
            let audit = AuditRecord {
                at: now,
                actor: SYSTEM.to_owned(),
                action: "symptom_form.withdraw".into(),
                subject_type: "order".into(),
                subject_id: order.id.to_string(),
                details: format!("form={} not delivered: {e}", issued.form.id),
            };
            self.state
                .store
                .withdraw_symptom_form(&issued.form.id, &audit)
                .await?;
            return Err(WorkerError::Announce(e));
        }
        r.symptom_forms_announced += 1;
        Ok(())
    }
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
