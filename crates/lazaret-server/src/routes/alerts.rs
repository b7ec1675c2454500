//! `/api/v1/alerts`: the officers' queue. Automated results open alerts
//! with evidence; an officer assigns and resolves them with a reason. The
//! use cases are `services::alerts`; these handlers parse, authorise and
//! render.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use lazaret_core::alert::{Alert, AlertKind, AlertStatus, ResolutionOutcome};
use lazaret_core::ids::{OrderId, UserId};
use lazaret_core::user::Permission;
use lazaret_store::{AlertFilter, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::services::alerts;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertView {
    pub id: String,
    /// `missed_checkin`, `failed_checkin`, `welfare_check`, `symptomatic`,
    /// `cannot_prompt` (an active order nothing can prompt; `evidence.reason`
    /// is `no_template` or `no_channel`) or `not_delivered` (a prompt closed
    /// unanswered whose message never reached the person: `evidence.delivery`
    /// says why).
    pub kind: String,
    pub person_id: String,
    pub order_id: Option<String>,
    /// `open`, `assigned` or `resolved`.
    pub status: String,
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub assignee: Option<String>,
    pub resolution: Option<String>,
    /// The outcome code it was resolved with: `reached_by_phone`, `visited`,
    /// `exempted`, `false_alarm`, `technical_problem` or `other`.
    pub outcome: Option<String>,
    /// Its order's district.
    pub district: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn name<T: Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl From<Alert> for AlertView {
    fn from(a: Alert) -> Self {
        Self {
            id: a.id.into(),
            kind: name(a.kind),
            person_id: a.person_id.into(),
            order_id: a.order_id.map(Into::into),
            status: name(a.status),
            evidence: a.evidence,
            assignee: a.assignee.map(Into::into),
            resolution: a.resolution,
            outcome: a.outcome.map(|o| o.as_str().to_owned()),
            district: a.district.into(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertPage {
    pub items: Vec<AlertView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListAlerts {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    /// `open`, `assigned` or `resolved`.
    pub status: Option<String>,
    /// One kind: `missed_checkin`, `failed_checkin`, `welfare_check`,
    /// `symptomatic`, `cannot_prompt` or `not_delivered`.
    pub kind: Option<String>,
    pub order_id: Option<String>,
}

fn parse_enum<T: for<'de> Deserialize<'de>>(field: &'static str, raw: &str) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).map_err(|_| {
        lazaret_core::ValidationError::new(field, format!("unknown value {raw:?}")).into()
    })
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(ListAlerts),
    security(("bearer" = [])),
    responses((status = 200, body = AlertPage), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_alerts(
    State(state): State<AppState>,
    officer: Officer,
    ApiQuery(q): ApiQuery<ListAlerts>,
) -> Result<Json<AlertPage>, ApiError> {
    officer.require(Permission::WorkAlerts, "work alerts")?;
    let filter = AlertFilter {
        status: q
            .status
            .as_deref()
            .map(|s| parse_enum::<AlertStatus>("status", s))
            .transpose()?,
        kind: q
            .kind
            .as_deref()
            .map(|s| parse_enum::<AlertKind>("kind", s))
            .transpose()?,
        order_id: q.order_id.as_deref().map(OrderId::parse).transpose()?,
        ..AlertFilter::default()
    };
    let page = PageRequest {
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = alerts::list(&state, &officer.as_actor(), &filter, &page).await?;
    Ok(Json(AlertPage {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A health alert (`symptomatic`) answers 404 to a role without health data.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts",
    params(("id" = String, Path, description = "Alert id")), security(("bearer" = [])),
    responses((status = 200, body = AlertView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_alert(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AlertView>, ApiError> {
    officer.require(Permission::WorkAlerts, "work alerts")?;
    let alert = alerts::read(&state, &officer.as_actor(), &id).await?;
    Ok(Json(alert.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    /// Who takes it; the caller when absent.
    pub assignee: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    /// What the officer found: `reached_by_phone`, `visited`, `exempted`,
    /// `false_alarm`, `technical_problem` or `other`.
    pub outcome: Option<String>,
    /// The officer's note; required without an outcome and with `other`.
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/assign", tag = "alerts",
    params(("id" = String, Path, description = "Alert id")), request_body = Assign,
    security(("bearer" = [])),
    responses((status = 200, body = AlertView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn assign_alert(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Assign>,
) -> Result<Json<AlertView>, ApiError> {
    officer.require(Permission::WorkAlerts, "work alerts")?;
    let to = body.assignee.as_deref().map(UserId::parse).transpose()?;
    let alert = alerts::assign(&state, &officer.as_actor(), &id, to).await?;
    Ok(Json(alert.into()))
}

#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve", tag = "alerts",
    params(("id" = String, Path, description = "Alert id")), request_body = Resolve,
    security(("bearer" = [])),
    responses((status = 200, body = AlertView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn resolve_alert(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Resolve>,
) -> Result<Json<AlertView>, ApiError> {
    officer.require(Permission::WorkAlerts, "work alerts")?;
    let outcome = body
        .outcome
        .as_deref()
        .map(ResolutionOutcome::parse)
        .transpose()?;
    let alert = alerts::resolve(&state, &officer.as_actor(), &id, outcome, &body.reason).await?;
    Ok(Json(alert.into()))
}
