//! `POST /api/v1/tests` (JSON, one result) and `POST /api/v1/fhir` (a FHIR
//! R4 Bundle of Observations): laboratory results, idempotent by test id.
//! The use cases are `services::lab_results`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::test_result::TestOutcome;
use lazaret_core::user::Permission;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::fhir;
use crate::routes::tracing::RevisionView;
use crate::services::lab_results::{self as service, EntryOutcome, Ingested};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_test))
        .routes(routes!(post_fhir))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTestBody {
    /// The laboratory's id of the test: a second post with the same id and
    /// result changes nothing.
    pub test_id: String,
    /// A person on record in your districts.
    pub person_id: String,
    pub sampled_at: DateTime<Utc>,
    /// `positive` or `negative`.
    pub result: String,
    pub lab: String,
    /// First day of symptoms (`YYYY-MM-DD`), when known: the trace's window
    /// counts from it.
    pub symptom_onset: Option<NaiveDate>,
    /// When the laboratory released the result.
    pub resulted_at: Option<DateTime<Utc>>,
    /// Set to correct a result sent before (a different `result` for the
    /// same `test_id`): the revision cascade runs with this reason.
    pub correction_reason: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TestWritten {
    pub test_id: String,
    pub person_id: String,
    /// The result now in force.
    pub result: String,
    /// `created`, `unchanged` (the same result was stored) or `revised`.
    pub written: String,
    /// For `revised`: what the correction released or kept.
    pub revision: Option<RevisionView>,
}

impl From<Ingested> for TestWritten {
    fn from(i: Ingested) -> Self {
        let t = i.test();
        let (test_id, person_id, result) = (
            t.id.to_string(),
            t.person_id.to_string(),
            t.result.as_str().to_owned(),
        );
        let (written, revision) = match i {
            Ingested::Created { .. } => ("created", None),
            Ingested::Unchanged { .. } => ("unchanged", None),
            Ingested::Revised(r) => ("revised", Some(RevisionView::from(*r))),
        };
        Self {
            test_id,
            person_id,
            result,
            written: written.to_owned(),
            revision,
        }
    }
}

/// One test result. A new positive opens the case's interview on the
/// `interview` worklist; a correction goes through the revision cascade.
#[utoipa::path(post, path = "/api/v1/tests", tag = "tests", request_body = NewTestBody,
    security(("bearer" = [])),
    responses((status = 201, body = TestWritten, description = "created"),
        (status = 200, body = TestWritten, description = "unchanged, or revised"),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 409, body = Problem, description = "a different result without correction_reason, or the id is another person's"),
        (status = 422, body = Problem)))]
pub async fn post_test(
    State(state): State<AppState>,
    officer: Officer,
    ApiJson(body): ApiJson<NewTestBody>,
) -> Result<(StatusCode, Json<TestWritten>), ApiError> {
    officer.require(Permission::ReviseTests, "report test results")?;
    let new = service::NewTest {
        test_id: body.test_id,
        person_id: body.person_id,
        sampled_at: body.sampled_at,
        result: TestOutcome::parse(&body.result)?,
        lab: body.lab,
        symptom_onset: body.symptom_onset,
        resulted_at: body.resulted_at,
        correction_reason: body.correction_reason,
        patient: None,
    };
    let done = service::ingest(&state, &officer.as_actor(), new).await?;
    let status = match done {
        Ingested::Created { .. } => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    Ok((status, Json(done.into())))
}

fn outcome(code: &str, text: &str) -> Value {
    let severity = if code == "informational" {
        "information"
    } else {
        "error"
    };
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{ "severity": severity, "code": code, "diagnostics": text }],
    })
}

/// The FHIR answer of one entry: status line, location, outcome.
fn entry_response(o: &EntryOutcome) -> Value {
    let (status, location, out) = match o {
        EntryOutcome::Done(i) => {
            let t = i.test();
            let (status, what) = match i {
                Ingested::Created { .. } => ("201 Created", "created"),
                Ingested::Unchanged { .. } => ("200 OK", "unchanged: the same result is stored"),
                Ingested::Revised(_) => ("200 OK", "revised: the correction's cascade ran"),
            };
            (
                status,
                Some(format!("Observation/{}", t.id)),
                outcome(
                    "informational",
                    &format!("test {} of person {} {what}", t.id, t.person_id),
                ),
            )
        }
        EntryOutcome::Read { what } => (
            "200 OK",
            None,
            outcome(
                "informational",
                &format!("{what} read with the Observations that refer to it"),
            ),
        ),
        EntryOutcome::Refused(why) => ("422 Unprocessable Entity", None, outcome("invalid", why)),
        EntryOutcome::NotProcessed => (
            "400 Bad Request",
            None,
            outcome(
                "processing",
                "not processed: another entry of this transaction was refused, so none was stored",
            ),
        ),
    };
    let mut response = json!({ "status": status, "outcome": out });
    if let Some(l) = location {
        response["location"] = json!(l);
    }
    json!({ "response": response })
}

fn fhir_json(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/fhir+json")],
        body.to_string(),
    )
        .into_response()
}

/// A FHIR R4 `Bundle` (`transaction`: all or nothing; `collection`: entry
/// by entry) of `Observation`s with SARS-CoV-2 LOINC codes (e.g. 94500-6),
/// optionally `DiagnosticReport`s and the `Patient`s they refer to. The
/// answer is a Bundle (`transaction-response` or `batch-response`) with one
/// entry per entry sent: what was created, unchanged, revised or refused,
/// and why.
#[utoipa::path(post, path = "/api/v1/fhir", tag = "tests",
    request_body(content = Object, content_type = "application/fhir+json"),
    security(("bearer" = [])),
    responses((status = 200, description = "a Bundle answering each entry (application/fhir+json)"),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem),
        (status = 422, description = "the transaction was refused: the Bundle says which entries and why")))]
pub async fn post_fhir(
    State(state): State<AppState>,
    officer: Officer,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    officer.require(Permission::ReviseTests, "report test results")?;
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if media != "application/fhir+json" && media != "application/json" {
        return Err(ApiError::UnsupportedMediaType("application/fhir+json"));
    }
    let body = body.map_err(|_| ApiError::TooLarge)?;
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let bundle = fhir::read_bundle(&value).map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
    let (kind, outcomes) = service::ingest_bundle(&state, &officer.as_actor(), bundle).await?;
    let refused = outcomes
        .iter()
        .any(|o| matches!(o, EntryOutcome::NotProcessed));
    let answer = json!({
        "resourceType": "Bundle",
        "type": match kind {
            fhir::BundleKind::Transaction => "transaction-response",
            fhir::BundleKind::Collection => "batch-response",
        },
        "entry": outcomes.iter().map(entry_response).collect::<Vec<_>>(),
    });
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(fhir_json(status, answer))
}
