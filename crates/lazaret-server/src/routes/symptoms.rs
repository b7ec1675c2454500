//! Symptom reports: an officer can issue a form link now (the worker issues
//! one a day), the person answers it with the link's token (no officer
//! token), and officers list an order's reports. A symptomatic report opens
//! an alert for an investigator.

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::{Form, Json};
use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::alert::AlertKind;
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::{AlertId, SymptomReportId};
use lazaret_core::order::OrderStatus;
use lazaret_core::symptom::{SymptomAnswer, SymptomReport};
use lazaret_core::user::Permission;
use lazaret_store::NewAlert;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Officer;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::ApiPath;
use crate::prompting::{hash_token, IssueError};
use crate::state::AppState;
use crate::symptom_forms::issue_symptom_form;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SymptomFormCreated {
    pub id: String,
    pub order_id: String,
    /// The person's credential, shown once (stored only as a hash).
    pub token: String,
    /// The order's local day the form is for.
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    /// The end of that local day.
    pub expires_at: DateTime<Utc>,
    /// Whether the form was handed to the notification outbox, which sends
    /// it or records why it cannot; when false, relay the token yourself.
    pub announced: bool,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/symptom-forms", tag = "symptoms",
    params(("id" = String, Path, description = "Order id")),
    security(("bearer" = [])),
    responses((status = 201, body = SymptomFormCreated),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the order is not active")))]
pub async fn issue_form(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<SymptomFormCreated>), ApiError> {
    officer.require(Permission::WriteOrders, "issue symptom forms")?;
    let order = state.load_order(&id).await?;
    if order.status != OrderStatus::Active {
        return Err(ApiError::IllegalTransition(format!(
            "order {id} is {}; only active orders get symptom forms",
            order.status
        )));
    }
    let now = state.now();
    let actor = officer.actor();
    let slot = || format!("now:{}", uuid::Uuid::new_v4());
    let (store, announcer) = (&state.store, state.announcer.as_deref());
    let issued = match issue_symptom_form(store, announcer, &order, &slot(), now, &actor).await {
        Err(IssueError::Announce(e)) => {
            // The officer holds the token and can relay it.
            tracing::warn!(error = %e, "could not announce the symptom form to the person");
            issue_symptom_form(store, None, &order, &slot(), now, &actor).await
        }
        other => other,
    }?
    .ok_or(ApiError::Internal)?;
    let announced = issued.announced;
    Ok((
        StatusCode::CREATED,
        Json(SymptomFormCreated {
            announced,
            id: issued.form.id.into(),
            order_id: order.id.into(),
            token: issued.token,
            day: issued.form.day,
            expires_at: issued.form.expires_at,
        }),
    ))
}

/// The person's answer. `symptoms` is either `["none"]` or one or more of
/// `fever`, `cough`, `shortness_of_breath`, `sore_throat`,
/// `loss_of_taste_or_smell`, `fatigue`, `other` (then `other` describes it,
/// at most 500 characters). As a form: `symptoms` repeated.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SymptomSubmission {
    pub token: String,
    pub symptoms: Vec<String>,
    pub other: Option<String>,
    /// Measured body temperature in °C (optional; 38.0 or more counts as a symptom).
    pub temperature_c: Option<f32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SymptomReportView {
    pub id: String,
    pub order_id: String,
    pub person_id: String,
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub symptoms: Vec<String>,
    pub other: Option<String>,
    pub temperature_c: Option<f32>,
    /// Whether the report opened an alert for an investigator.
    pub symptomatic: bool,
    pub received_at: DateTime<Utc>,
}

impl From<SymptomReport> for SymptomReportView {
    fn from(r: SymptomReport) -> Self {
        Self {
            symptomatic: r.is_symptomatic(),
            id: r.id.into(),
            order_id: r.order_id.into(),
            person_id: r.person_id.into(),
            day: r.day,
            symptoms: r.symptoms.iter().map(|s| s.as_str().to_owned()).collect(),
            other: r.other,
            temperature_c: r.temperature_c,
            received_at: r.received_at,
        }
    }
}

/// Reads the submission as JSON or as an urlencoded form.
async fn read_submission(req: Request) -> Result<SymptomSubmission, ApiError> {
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        let Json(body) = Json::<SymptomSubmission>::from_request(req, &()).await?;
        return Ok(body);
    }
    let Form(pairs) = Form::<Vec<(String, String)>>::from_request(req, &())
        .await
        .map_err(|e| ApiError::InvalidRequest(e.body_text()))?;
    let mut s = SymptomSubmission {
        token: String::new(),
        symptoms: Vec::new(),
        other: None,
        temperature_c: None,
    };
    for (k, v) in pairs {
        match k.as_str() {
            "token" => s.token = v,
            "symptoms" => s.symptoms.push(v),
            "other" => s.other = Some(v),
            "temperature_c" if v.trim().is_empty() => {}
            "temperature_c" => {
                s.temperature_c = Some(v.trim().parse().map_err(|_| {
                    lazaret_core::ValidationError::new("temperature_c", "must be a number")
                })?)
            }
            other => {
                return Err(ApiError::InvalidBody(format!("unknown field {other}")));
            }
        }
    }
    Ok(s)
}

#[utoipa::path(post, path = "/api/v1/symptom-reports", tag = "symptoms",
    request_body(content(
        (SymptomSubmission = "application/json"),
        (SymptomSubmission = "application/x-www-form-urlencoded"))),
    responses((status = 201, body = SymptomReportView),
        (status = 401, body = Problem, description = "invalid_token: missing or unknown token"),
        (status = 410, body = Problem, description = "token_used, or token_expired (the day is over or the order has ended)"),
        (status = 400, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem, description = "the symptoms, other text or temperature are invalid")))]
pub async fn submit_report(
    State(state): State<AppState>,
    req: Request,
) -> Result<(StatusCode, Json<SymptomReportView>), ApiError> {
    let body = read_submission(req).await?;
    let token = body.token.trim();
    if token.is_empty() {
        return Err(ApiError::refused(
            ErrorCode::InvalidToken,
            "a symptom-form token is required",
        ));
    }
    let form = state
        .store
        .symptom_form_by_token_hash(&hash_token(token))
        .await?
        .ok_or_else(|| ApiError::refused(ErrorCode::InvalidToken, "unknown symptom-form token"))?;
    let now = state.now();
    if form.used_at.is_some() {
        return Err(ApiError::refused(
            ErrorCode::TokenUsed,
            "this symptom form was already answered",
        ));
    }
    if form.cancelled_at.is_some() {
        return Err(ApiError::refused(
            ErrorCode::TokenExpired,
            "this symptom form was withdrawn: the order has ended",
        ));
    }
    if form.expires_at <= now {
        return Err(ApiError::refused(
            ErrorCode::TokenExpired,
            "this symptom form was for a day that is over",
        ));
    }
    let ticked: Vec<&str> = body.symptoms.iter().map(String::as_str).collect();
    let answer = SymptomAnswer::parse(&ticked, body.other.as_deref())?;
    if let Some(t) = body.temperature_c {
        if !(30.0..=45.0).contains(&t) {
            return Err(lazaret_core::ValidationError::new(
                "temperature_c",
                "must be a body temperature between 30 and 45 °C",
            )
            .into());
        }
    }
    let order = state.load_order(form.order_id.as_str()).await?;
    let report = SymptomReport {
        id: SymptomReportId::generate(),
        order_id: order.id.clone(),
        person_id: order.person_id.clone(),
        day: form.day,
        symptoms: answer.symptoms,
        other: answer.other,
        temperature_c: body.temperature_c,
        received_at: now,
    };
    let view = SymptomReportView::from(report.clone());
    let alert = report.is_symptomatic().then(|| NewAlert {
        id: AlertId::generate(),
        kind: AlertKind::Symptomatic,
        person_id: order.person_id.clone(),
        order_id: Some(order.id.clone()),
        cause: format!("symptoms:{}", report.id),
        evidence: serde_json::json!({
            "report_id": report.id,
            "day": report.day,
            "symptoms": view.symptoms,
            "other": report.other,
            "temperature_c": report.temperature_c,
            "received_at": report.received_at,
        }),
        at: now,
    });
    let audit = AuditRecord {
        at: now,
        actor: format!("subject:symptom-form:{}", form.id),
        action: "symptom_report.submit".into(),
        subject_type: "order".into(),
        subject_id: order.id.to_string(),
        details: format!(
            "report={} day={} symptomatic={}",
            report.id,
            report.day,
            report.is_symptomatic()
        ),
    };
    if !state
        .store
        .submit_symptom_report(&form.id, &report, alert.as_ref(), &audit)
        .await?
    {
        // A concurrent submission with the same token won.
        return Err(ApiError::refused(
            ErrorCode::TokenUsed,
            "this symptom form was already answered",
        ));
    }
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SymptomReportList {
    /// Newest first (at most 500).
    pub items: Vec<SymptomReportView>,
}

#[utoipa::path(get, path = "/api/v1/orders/{id}/symptom-reports", tag = "symptoms",
    params(("id" = String, Path, description = "Order id")),
    security(("bearer" = [])),
    responses((status = 200, body = SymptomReportList),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn list_reports(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SymptomReportList>, ApiError> {
    officer.require(Permission::ReadOrders, "read symptom reports")?;
    let order = state.load_order(&id).await?;
    let reports = state.store.symptom_reports_of_order(&order.id, 500).await?;
    let ids: Vec<&str> = reports.iter().map(|r| r.id.as_str()).collect();
    let audit = officer.audit(
        state.now(),
        "symptom_report.list",
        "order",
        &id,
        ids.join(","),
    );
    state.store.record_audit(&audit).await?;
    Ok(Json(SymptomReportList {
        items: reports.into_iter().map(Into::into).collect(),
    }))
}
