//! Telling contacts: the exposure notice of a notify-tier contact (an
//! officer sends it, for one contact or all of a case's; it starts their
//! monitoring: a daily symptom form, no quarantine, until the last exposure
//! plus the policy's days), a monitored contact made a suspected case, and
//! the notices of contacts' orders (issued, moved, ended), which the worker
//! sends as the orders change.
//!
//! A notice that cannot reach its person (no phone or e-mail, no sender,
//! no number to call configured) is not stored: the contact stays on the
//! "to inform" list with the reason, for a call.

use std::collections::HashMap;

use chrono::Duration;
use lazaret_core::contact::Contact;
use lazaret_core::ids::TestId;
use lazaret_core::zone_lookup::order_time_zone;
use lazaret_store::{FollowUp, OrderToNotify};

use crate::announce::{AnnounceError, Announcer, ExposureNotice, OrderChange, OrderNotice};
use crate::prompting::IssueError;
use crate::services::follow_up::follow_up_id;
use crate::services::tracing as tracing_service;
use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// What sending exposure notices did.
#[derive(Debug, Default)]
pub struct Informed {
    /// Informed now and monitored from now on.
    pub informed: Vec<FollowUp>,
    /// Not informed, with the reason (they stay to be informed).
    pub not_informed: Vec<(FollowUp, String)>,
}

/// Sends the exposure notice to every notify-tier contact of case `case`
/// in the officer's districts still waiting for it.
pub async fn inform_case_contacts(
    state: &AppState,
    actor: &Actor,
    case: &str,
) -> Result<Informed, ServiceError> {
    let case_id = tracing_service::case_id(state, actor, case).await?;
    let waiting = state
        .store
        .to_inform_of_case(&case_id, actor.districts())
        .await?;
    inform(state, actor, waiting).await
}

/// Sends the exposure notice of one follow-up.
pub async fn inform_contact(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Informed, ServiceError> {
    let id = follow_up_id(id)?;
    let f = state
        .store
        .get_follow_up(&id, actor.districts())
        .await?
        .ok_or_else(|| ServiceError::not_found("follow-up", &id))?;
    if f.status != lazaret_core::follow_up::FollowUpStatus::ToInform {
        return Err(lazaret_core::ValidationError::new(
            "follow_up",
            format!(
                "the follow-up is {}: only a contact to inform gets an exposure notice",
                f.status.as_str()
            ),
        )
        .into());
    }
    inform(state, actor, vec![f]).await
}

async fn inform(
    state: &AppState,
    actor: &Actor,
    waiting: Vec<FollowUp>,
) -> Result<Informed, ServiceError> {
    let policy = tracing_service::policy();
    let days = i64::from(policy.quarantine.monitoring_days_after_last_exposure);
    let now = state.now();
    let mut contacts: HashMap<TestId, Vec<Contact>> = HashMap::new();
    let mut out = Informed::default();
    for f in waiting {
        if !contacts.contains_key(&f.test_id) {
            let list = state.store.contacts_of_test(&f.test_id).await?;
            contacts.insert(f.test_id.clone(), list);
        }
        let Some(contact) = contacts[&f.test_id]
            .iter()
            .find(|c| c.person_id == f.person_id)
        else {
            out.not_informed.push((
                f,
                "no longer on the case's list (traced again or revised)".into(),
            ));
            continue;
        };
        // With no monitoring days the notice is all: the monitoring ends now.
        let until = (contact.last_exposure + Duration::days(days)).max(now);
        if days > 0 && until <= now {
            out.not_informed.push((
                f,
                "the monitoring period after the last exposure is over".into(),
            ));
            continue;
        }
        let Some(announcer) = state.announcer.as_ref() else {
            out.not_informed
                .push((f, "this server sends no messages (no notifier)".into()));
            continue;
        };
        let person = state
            .store
            .get_person(&f.person_id)
            .await?
            .ok_or(ServiceError::Internal)?;
        let place = state.store.residence_of(&f.person_id).await?;
        let time_zone = order_time_zone(
            place.map(|r| r.coordinates).as_ref(),
            state.config.default_time_zone,
        );
        let message = announcer
            .exposure_notice_message(&ExposureNotice {
                follow_up_id: f.id.clone(),
                person,
                exposed_on: contact.last_exposure,
                until: contact.last_exposure + Duration::days(days.max(1)),
                time_zone,
                at: now,
            })
            .map_err(IssueError::from)?;
        if let Some(why) = message.undeliverable {
            out.not_informed.push((f, why));
            continue;
        }
        let audit = actor.audit(
            now,
            "follow_up.inform",
            "person",
            f.person_id.as_str(),
            serde_json::json!({ "follow_up": f.id, "monitor_until": until, "message": message.id })
                .to_string(),
        );
        if state
            .store
            .inform_contact(&f.id, until, Some(&message), &audit, now)
            .await?
        {
            let informed = state
                .store
                .get_follow_up(&f.id, &lazaret_core::district::DistrictScope::All)
                .await?
                .ok_or(ServiceError::Internal)?;
            out.informed.push(informed);
        }
    }
    Ok(out)
}

/// Makes a monitored contact a suspected case (after a symptomatic report):
/// to be tested; an officer decides on isolation.
pub async fn mark_suspected(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<FollowUp, ServiceError> {
    let id = follow_up_id(id)?;
    let now = state.now();
    let f = state
        .store
        .get_follow_up(&id, actor.districts())
        .await?
        .ok_or_else(|| ServiceError::not_found("follow-up", &id))?;
    let audit = actor.audit(
        now,
        "follow_up.suspected",
        "person",
        f.person_id.as_str(),
        serde_json::json!({ "follow_up": f.id, "was": f.status.as_str() }).to_string(),
    );
    let done = state
        .store
        .mark_suspected(&id, actor.districts(), &audit, now)
        .await?;
    Ok(done?)
}

/// What one pass of order notices did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OrderNotices {
    pub sent: usize,
    /// Changes recorded without a message (an order that ended before it
    /// was ever announced) or whose message could not be routed (stored as
    /// failed with the reason).
    pub silent: usize,
}

/// Tells the persons of contacts' orders what changed since they were
/// last told: issued, end moved, ended. At most `limit` orders a pass;
/// each notice and its record in one transaction, once per change.
pub async fn send_order_notices(
    state: &AppState,
    announcer: &dyn Announcer,
    limit: i64,
) -> Result<OrderNotices, ServiceError> {
    let mut done = OrderNotices::default();
    let now = state.now();
    for o in state.store.orders_to_notify(limit).await? {
        let change = match (o.active, o.notice_state.as_deref()) {
            (true, None) => Some(OrderChange::Issued),
            (true, Some(_)) => Some(OrderChange::Extended),
            (false, Some(s)) if s.starts_with("issued:") => Some(OrderChange::Released),
            (false, _) => None,
        };
        let state_now = o.current_state();
        let message = match change {
            Some(change) => {
                let person = state.store.get_person(&o.person_id).await?;
                match person {
                    Some(person) => match announcer
                        .order_notice_message(&notice(&o, change, person, &state_now, now))
                    {
                        Ok(m) => Some(m),
                        // This announcer sends no such notices: leave them
                        // for one that does (nothing is recorded).
                        Err(AnnounceError::Unsupported(_)) => return Ok(done),
                    },
                    None => None,
                }
            }
            None => None,
        };
        let sent = message.as_ref().is_some_and(|m| m.undeliverable.is_none());
        if state
            .store
            .record_order_notice(&o, &state_now, message.as_ref())
            .await?
        {
            if sent {
                done.sent += 1;
            } else {
                done.silent += 1;
            }
        }
    }
    Ok(done)
}

fn notice(
    o: &OrderToNotify,
    change: OrderChange,
    person: lazaret_core::person::Person,
    state_now: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> OrderNotice {
    let dedupe_key = match change {
        OrderChange::Issued => format!("order_issued:{}", o.id),
        OrderChange::Extended => format!("order_extended:{}:{state_now}", o.id),
        OrderChange::Released => format!("order_released:{}", o.id),
    };
    OrderNotice {
        change,
        order_id: o.id.clone(),
        person,
        address: o.address.clone(),
        starts_at: o.starts_at,
        ends_at: o.ends_at,
        ended_at: o.ended_at,
        time_zone: o.time_zone,
        dedupe_key,
        at: now,
    }
}
