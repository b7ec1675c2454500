//! `GET /api/v1/audit`: the audit log, for the auditor. Filters by person,
//! actor, action and time; pages by `seq`. Every read of it is audited.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditEvent;
use lazaret_core::user::Permission;
use lazaret_core::ValidationError;
use lazaret_store::AuditFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Largest page.
pub const MAX_AUDIT_LIMIT: u32 = 1000;
const DEFAULT_AUDIT_LIMIT: u32 = 100;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEventView {
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// `user:NAME` (a console session), `user:NAME/token:ID` (an account's
    /// token), `token:ID` (a service token), `client:ADDRESS` (a refused
    /// login), `system`, `cli:uid=N(name)`, or a person's own link.
    pub actor: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            subject_type: e.subject_type,
            subject_id: e.subject_id,
            details: e.details,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEventView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_after: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListAudit {
    /// Events whose subject is this person.
    pub person: Option<String>,
    /// Events of this actor, e.g. `token:ID`; `user:NAME` also matches that
    /// account's tokens (`user:NAME/token:ID`).
    pub actor: Option<String>,
    /// Events of this action, e.g. `person.read`.
    pub action: Option<String>,
    /// From this instant on (RFC 3339, inclusive).
    pub from: Option<String>,
    /// Before this instant (RFC 3339, exclusive).
    pub to: Option<String>,
    /// Only events with a larger `seq` (the previous page's `next_after`).
    pub after: Option<i64>,
    /// At most 1000; default 100.
    pub limit: Option<u32>,
}

fn instant(field: &'static str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    raw.map(|s| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                ValidationError::new(field, format!("{s:?} is not an RFC 3339 instant")).into()
            })
    })
    .transpose()
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(ListAudit),
    security(("bearer" = [])),
    responses((status = 200, body = AuditPage), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_audit(
    State(state): State<AppState>,
    officer: Officer,
    ApiQuery(q): ApiQuery<ListAudit>,
) -> Result<Json<AuditPage>, ApiError> {
    officer.require(Permission::ReadAudit, "read the audit log")?;
    let limit = q.limit.unwrap_or(DEFAULT_AUDIT_LIMIT);
    if !(1..=MAX_AUDIT_LIMIT).contains(&limit) {
        return Err(
            ValidationError::new("limit", format!("must be 1 to {MAX_AUDIT_LIMIT}")).into(),
        );
    }
    let filter = AuditFilter {
        person: q.person,
        actor: q.actor,
        action: q.action,
        from: instant("from", q.from.as_deref())?,
        to: instant("to", q.to.as_deref())?,
        after: q.after.unwrap_or(0),
    };
    // Recorded before the answer: an auditor's reading is audited too.
    let details = serde_json::json!({
        "person": filter.person,
        "actor": filter.actor,
        "action": filter.action,
        "from": filter.from,
        "to": filter.to,
        "after": filter.after,
        "limit": limit,
    })
    .to_string();
    let items = state.store.audit_search(&filter, limit.into()).await?;
    state
        .store
        .record_audit(&officer.audit(state.now(), "audit.read", "audit", "chain", details))
        .await?;
    let next_after = (items.len() == limit as usize)
        .then(|| items.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage {
        items: items.into_iter().map(Into::into).collect(),
        next_after,
    }))
}
