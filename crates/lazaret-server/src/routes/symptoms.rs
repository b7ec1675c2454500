//! Symptom reports: an officer can issue a form link now (the worker issues
//! one a day), the person answers it with the link's token (no officer
//! token), and officers list an order's reports. A symptomatic report opens
//! an alert for an investigator. The use cases are `services::symptoms`;
//! these handlers parse, authorise and render.

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::{Form, Json};
use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::symptom::SymptomReport;
use lazaret_core::user::Permission;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::extract::ApiPath;
use crate::services::symptoms::{self, SubmitSymptomReport};
use crate::state::AppState;

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
    officer.require(Permission::ReadHealth, "issue symptom forms")?;
    let issued = symptoms::issue_form(&state, &officer.as_actor(), &id).await?;
    let announced = issued.announced;
    Ok((
        StatusCode::CREATED,
        Json(SymptomFormCreated {
            announced,
            id: issued.form.id.into(),
            order_id: issued.form.order_id.map(Into::into).unwrap_or_default(),
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
    /// The order of a person in quarantine; absent for a contact monitored
    /// without quarantine (then `follow_up_id`).
    pub order_id: Option<String>,
    pub follow_up_id: Option<String>,
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
            order_id: r.order_id.map(Into::into),
            follow_up_id: r.follow_up_id.map(Into::into),
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
    let report = symptoms::submit_report(
        &state,
        SubmitSymptomReport {
            token: body.token,
            symptoms: body.symptoms,
            other: body.other,
            temperature_c: body.temperature_c,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(report.into())))
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
    officer.require(Permission::ReadHealth, "read symptom reports")?;
    let reports = symptoms::list_reports(&state, &officer.as_actor(), &id).await?;
    Ok(Json(SymptomReportList {
        items: reports.into_iter().map(Into::into).collect(),
    }))
}
