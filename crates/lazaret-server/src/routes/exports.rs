//! `GET /api/v1/exports/cases` and `GET /api/v1/exports/contacts`: the
//! surveillance line lists of a period and district as CSV or a FHIR
//! `Bundle`, streamed (`services::exports`; columns and the FHIR mapping in
//! `crate::surveillance` and docs/exports.md). Analysts only
//! (`ExportSurveillance`).

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use lazaret_core::district::District;
use lazaret_core::user::Permission;
use lazaret_core::ValidationError;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::services::exports::{self, ExportFile, ExportRequest};
use crate::state::AppState;
use crate::surveillance::{Format, Kind};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_cases))
        .routes(routes!(export_contacts))
}

/// Every parameter is optional here and read only after the role check, so
/// that a role without the permission hears 403 whatever it sends.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Start of the period (inclusive, RFC 3339); default 30 days before `to`.
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive, RFC 3339); default now. At most 366 days after `from`.
    pub to: Option<DateTime<Utc>>,
    /// One of your districts; default all of them.
    pub district: Option<String>,
    /// `csv` (default) or `fhir` (a FHIR R4 `Bundle` of type `collection`).
    pub format: Option<String>,
}

/// The request of `uri`'s query for `kind`.
fn request(uri: &Uri, kind: Kind) -> Result<ExportRequest, ApiError> {
    let Query(q) = Query::<ExportQuery>::try_from_uri(uri)?;
    let format = match q.format.as_deref() {
        None | Some("") => Format::Csv,
        Some(f) => {
            Format::parse(f).ok_or_else(|| ValidationError::new("format", "must be csv or fhir"))?
        }
    };
    let district = q
        .district
        .as_deref()
        .filter(|d| !d.is_empty())
        .map(District::parse)
        .transpose()?;
    Ok(ExportRequest {
        kind,
        format,
        from: q.from,
        to: q.to,
        district,
    })
}

/// The streamed response of an export: its type, a file name to save it
/// under, never cached.
pub fn file_response(file: ExportFile) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", file.file_name);
    let mut resp = (StatusCode::OK, Body::from_stream(file.body)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

async fn run(
    state: AppState,
    officer: Officer,
    uri: Uri,
    kind: Kind,
) -> Result<Response, ApiError> {
    officer.require(
        Permission::ExportSurveillance,
        "export surveillance line lists",
    )?;
    let req = request(&uri, kind)?;
    let file = exports::export(&state, &officer.as_actor(), req).await?;
    Ok(file_response(file))
}

/// The cases of a period: each person's first positive test whose result
/// time (the laboratory's, else the sampling time) falls in `[from, to)`,
/// in their district. Columns: `person_id`, `district`, `test_id`,
/// `result`, `sampled_at`, `resulted_at`, `reported_at`, `symptom_onset`.
/// No name, phone, e-mail, address or coordinate. Streamed; audited.
#[utoipa::path(get, path = "/api/v1/exports/cases", tag = "exports", params(ExportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "text/csv, or application/fhir+json (a Bundle of type \
            collection: a Patient with an identifier only and an Observation per case)"),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn export_cases(
    State(state): State<AppState>,
    officer: Officer,
    uri: Uri,
) -> Result<Response, ApiError> {
    run(state, officer, uri, Kind::Cases).await
}

/// The stored contacts of the cases of a period (as `/exports/cases`
/// selects them). Columns: `case_person_id`, `case_test_id`,
/// `case_district`, `contact_person_id`, `contact_district`, `tier`,
/// `rules` and `settings` (`;`-separated), `last_exposure`,
/// `follow_up_status`. Streamed; audited.
#[utoipa::path(get, path = "/api/v1/exports/contacts", tag = "exports", params(ExportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "text/csv, or application/fhir+json (a Bundle of type \
            collection: an exposure Observation, SNOMED CT 840546002, per contact)"),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn export_contacts(
    State(state): State<AppState>,
    officer: Officer,
    uri: Uri,
) -> Result<Response, ApiError> {
    run(state, officer, uri, Kind::Contacts).await
}
