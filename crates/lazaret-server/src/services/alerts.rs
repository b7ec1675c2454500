//! The officers' alert queue: list, read, assign, resolve. Limited to the
//! officer's districts in the store query; a role without health data
//! (`compliance_officer`) never sees a health alert (`symptomatic`): left
//! out of lists and 404 on read, like an alert that does not exist.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::alert::Alert;
use lazaret_core::ids::{AlertId, UserId};
use lazaret_core::user::Permission;
use lazaret_store::{AlertFilter, Page, PageRequest};

use crate::services::{Actor, ServiceError};
use crate::state::AppState;

fn without_health(actor: &Actor) -> bool {
    !actor.role().allows(Permission::ReadHealth)
}

/// A page of alerts; the ids shown are audited.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    filter: &AlertFilter,
    page: &PageRequest,
) -> Result<Page<Alert>, ServiceError> {
    let filter = AlertFilter {
        districts: Some(actor.districts().clone()),
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
        None => UserId::parse(actor.name())?,
    };
    change(state, actor, id, "alert.assign", |a, now| {
        a.assign(to.clone(), now)?;
        Ok(format!("assignee={to}"))
    })
    .await
}

/// Resolves alert `id` with the officer's `reason`.
pub async fn resolve(
    state: &AppState,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<Alert, ServiceError> {
    change(state, actor, id, "alert.resolve", |a, now| {
        a.resolve(reason, now)?;
        Ok(format!("reason={}", reason.trim()))
    })
    .await
}
