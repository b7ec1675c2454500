//! What the person's pages ask before they show anything: the language of
//! the person a link belongs to, so that `/symptoms` and `/enroll` open in
//! it as `/checkin` does (through `/api/v1/checkins/prompt`). The token
//! travels in the body, never in a URL; nothing about the order, the place
//! or the person other than the language is answered. The look-up is
//! `services::subject::page_language`.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::services::subject::{page_language, Credential};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkLookup {
    /// The token from the link's fragment.
    pub token: String,
}

/// The language a person's page opens in.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PageLanguage {
    /// The person's stored language (`en`, `ru`, …). Answered for a used
    /// or expired link too, so that the page says so in that language.
    pub language: String,
}

#[utoipa::path(post, path = "/api/v1/symptom-reports/form", tag = "symptoms",
    request_body = LinkLookup,
    responses((status = 200, body = PageLanguage),
        (status = 401, body = Problem, description = "invalid_token: missing or unknown token"),
        (status = 400, body = Problem), (status = 415, body = Problem)))]
pub async fn symptom_form_language(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LinkLookup>,
) -> Result<Json<PageLanguage>, ApiError> {
    let language = page_language(&state, Credential::SymptomForm, &body.token).await?;
    Ok(Json(PageLanguage { language }))
}

#[utoipa::path(post, path = "/api/v1/enrollment/link", tag = "checkins",
    request_body = LinkLookup,
    responses((status = 200, body = PageLanguage),
        (status = 401, body = Problem, description = "invalid_token: missing or unknown token"),
        (status = 400, body = Problem), (status = 415, body = Problem)))]
pub async fn enrollment_link_language(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LinkLookup>,
) -> Result<Json<PageLanguage>, ApiError> {
    let language = page_language(&state, Credential::EnrollmentLink, &body.token).await?;
    Ok(Json(PageLanguage { language }))
}
