//! The officers' alert queue: list, read, assign, resolve. Limited to the
//! officer's districts in the store query; a role without health data
//! (`compliance_officer`) never sees a health alert (`symptomatic`): left
//! out of lists and 404 on read, like an alert that does not exist.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::alert::{Alert, ResolutionOutcome};
use lazaret_core::district::District;
use lazaret_core::ids::{AlertId, PromptId, UserId};
use lazaret_core::user::Permission;
use lazaret_store::{AlertFilter, CheckinRecord, OutboxMessage, Page, PageRequest, PromptRecord};

use crate::services::{Actor, ServiceError};
use crate::state::AppState;

fn without_health(actor: &Actor) -> bool {
    !actor.role().allows(Permission::ReadHealth)
}

/// The name an alert is assigned to when its officer takes it: the account
/// (`user:<name>`), also when they act through one of their API tokens
/// (`user:<name>/token:<id>`), so "mine" is the same in the console and the API.
pub fn me(actor: &Actor) -> Result<UserId, ServiceError> {
    let name = actor.name();
    let account = match name.split_once("/token:") {
        Some((account, _)) if account.starts_with("user:") => account,
        _ => name,
    };
    Ok(UserId::parse(account)?)
}

/// A page of alerts; the ids shown are audited. `filter.districts`, when
/// set, narrows the officer's districts (never widens them).
pub async fn list(
    state: &AppState,
    actor: &Actor,
    filter: &AlertFilter,
    page: &PageRequest,
) -> Result<Page<Alert>, ServiceError> {
    let filter = AlertFilter {
        districts: Some(actor.narrow(filter.districts.as_ref())),
        without_health: without_health(actor),
        ..filter.clone()
    };
    let page = state.store.list_alerts(&filter, page).await?;
    let ids: Vec<&str> = page.items.iter().map(|a| a.id.as_str()).collect();
    let audit = actor.audit(state.now(), "alert.list", "alert", "*", ids.join(","));
    state.store.record_audit(&audit).await?;
    Ok(page)
}

async fn load(state: &AppState, actor: &Actor, id: &str) -> Result<Alert, ServiceError> {
    let aid = AlertId::parse(id).map_err(|_| ServiceError::not_found("alert", id))?;
    state
        .store
        .get_alert_in(&aid, actor.districts(), without_health(actor))
        .await?
        .ok_or_else(|| ServiceError::not_found("alert", id))
}

/// Alert `id`; the read is audited.
pub async fn read(state: &AppState, actor: &Actor, id: &str) -> Result<Alert, ServiceError> {
    let alert = load(state, actor, id).await?;
    let audit = actor.audit(state.now(), "alert.read", "alert", id, String::new());
    state.store.record_audit(&audit).await?;
    Ok(alert)
}

async fn change(
    state: &AppState,
    actor: &Actor,
    id: &str,
    action: &str,
    apply: impl FnOnce(&mut Alert, DateTime<Utc>) -> Result<String, ServiceError>,
) -> Result<Alert, ServiceError> {
    let mut alert = load(state, actor, id).await?;
    let read_at = alert.updated_at;
    // Strictly later than the version read, for the optimistic check.
    let now = state.now().max(read_at + Duration::milliseconds(1));
    let details = apply(&mut alert, now)?;
    let audit = actor.audit(now, action, "alert", id, details);
    state.store.update_alert(&alert, read_at, &audit).await?;
    Ok(alert)
}

/// Assigns alert `id` to `to` (the caller when `None`).
pub async fn assign(
    state: &AppState,
    actor: &Actor,
    id: &str,
    to: Option<UserId>,
) -> Result<Alert, ServiceError> {
    let to = match to {
        Some(to) => to,
        None => me(actor)?,
    };
    change(state, actor, id, "alert.assign", |a, now| {
        a.assign(to.clone(), now)?;
        Ok(format!("assignee={to}"))
    })
    .await
}

/// Resolves alert `id` with an outcome code and the officer's note (the
/// rule of which is needed: `Alert::resolve`).
pub async fn resolve(
    state: &AppState,
    actor: &Actor,
    id: &str,
    outcome: Option<ResolutionOutcome>,
    note: &str,
) -> Result<Alert, ServiceError> {
    change(state, actor, id, "alert.resolve", |a, now| {
        a.resolve(outcome, note, now)?;
        let code = outcome.map_or("none", |o| o.as_str());
        Ok(format!("outcome={code} reason={}", note.trim()))
    })
    .await
}

/// What one of many changes did: the alert, or why it was refused.
pub type EachResult = (String, Result<Alert, ServiceError>);

/// Assigns each alert of `ids` to the caller, one change (and one audit
/// event) per alert, as if asked one by one: one refusal stops no other.
pub async fn assign_many(state: &AppState, actor: &Actor, ids: &[String]) -> Vec<EachResult> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push((id.clone(), assign(state, actor, id, None).await));
    }
    out
}

/// Resolves each alert of `ids` with the same outcome and note, one change
/// per alert.
pub async fn resolve_many(
    state: &AppState,
    actor: &Actor,
    ids: &[String],
    outcome: Option<ResolutionOutcome>,
    note: &str,
) -> Vec<EachResult> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push((id.clone(), resolve(state, actor, id, outcome, note).await));
    }
    out
}

/// An alert with the evidence of its prompt: each try and the message.
#[derive(Debug, Clone)]
pub struct AlertDetail {
    pub alert: Alert,
    /// The prompt the alert is about (`evidence.prompt_id`), if any.
    pub prompt: Option<PromptRecord>,
    /// That prompt's tries, in order.
    pub tries: Vec<CheckinRecord>,
    /// The prompt's message to the person (delivered or not).
    pub message: Option<OutboxMessage>,
}

/// Alert `id` with its prompt's tries and message (scoped and audited like
/// [`read`]: the prompt is reached only through an alert the officer may read).
pub async fn detail(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<AlertDetail, ServiceError> {
    let alert = read(state, actor, id).await?;
    let prompt_id = alert
        .evidence
        .get("prompt_id")
        .and_then(|v| v.as_str())
        .and_then(|p| PromptId::parse(p).ok());
    let Some(prompt_id) = prompt_id else {
        return Ok(AlertDetail {
            alert,
            prompt: None,
            tries: Vec::new(),
            message: None,
        });
    };
    let prompt = state.store.get_prompt(&prompt_id).await?;
    // Belongs to the alert's order, or it is not this alert's evidence.
    let prompt = prompt.filter(|p| Some(&p.order_id) == alert.order_id.as_ref());
    let (tries, message) = match &prompt {
        Some(p) => (
            state.store.checkins_of_prompt(&p.id).await?,
            state
                .store
                .get_message_by_dedupe_key(&crate::announce::prompt_message_key(&p.id))
                .await?,
        ),
        None => (Vec::new(), None),
    };
    Ok(AlertDetail {
        alert,
        prompt,
        tries,
        message,
    })
}

/// The districts an officer may filter the queue by: their own, or for a
/// national officer none to list (they type or pick from what they see).
pub fn filter_districts(actor: &Actor) -> Vec<District> {
    actor
        .districts()
        .limit()
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default()
}
