//! What the person's pages ask before they show anything: the language of
//! the person a link belongs to, so that `/symptoms` and `/enroll` open in
//! it as `/checkin` does (through `/api/v1/checkins/prompt`). The token
//! travels in the body, never in a URL; nothing about the order, the place
//! or the person other than the language is answered.

use axum::extract::State;
use axum::Json;
use lazaret_core::ids::OrderId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::ApiJson;
use crate::prompting::hash_token;
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

fn invalid(detail: &'static str) -> ApiError {
    ApiError::refused(ErrorCode::InvalidToken, detail)
}

fn token(raw: &str, what: &'static str) -> Result<String, ApiError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(invalid(what));
    }
    Ok(hash_token(t))
}

/// The stored language of the person under `order`; `en` when the order or
/// the person is gone (the page still opens, in the default language).
async fn language_of(state: &AppState, order: &OrderId) -> Result<PageLanguage, ApiError> {
    let person = match state.store.get_order(order).await? {
        Some(o) => state.store.get_person(&o.person_id).await?,
        None => None,
    };
    Ok(PageLanguage {
        language: person.map_or_else(|| "en".to_owned(), |p| p.language.as_str().to_owned()),
    })
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
    let hash = token(&body.token, "a symptom-form token is required")?;
    let form = state
        .store
        .symptom_form_by_token_hash(&hash)
        .await?
        .ok_or_else(|| invalid("unknown symptom-form token"))?;
    Ok(Json(language_of(&state, &form.order_id).await?))
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
    let hash = token(&body.token, "an enrolment token is required")?;
    let link = state
        .store
        .enrollment_link_by_token_hash(&hash)
        .await?
        .ok_or_else(|| invalid("unknown enrolment token"))?;
    Ok(Json(language_of(&state, &link.order_id).await?))
}
