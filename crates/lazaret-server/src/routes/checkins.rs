//! `POST /api/v1/checkins`: a person answers a prompt, and
//! `POST /api/v1/checkins/prompt`: the check-in page looks the prompt up. No
//! officer token: the prompt's token is the credential, good for up to three
//! tries inside the window. The use case is `services::checkins`; these
//! handlers parse the request and render its answer.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use lazaret_core::geo::Coordinates;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::multipart::{number, read_person_upload, text, Part};
use crate::notify::templates::challenge_words;
use crate::services::checkins::{self, CheckinReceipt, SubmitCheckin};
use crate::state::AppState;

/// The form: `token` first (or the token in the `X-Lazaret-Token` header
/// instead: it is checked before the frames are read), one `frame` per
/// challenge pose (one frontal frame when liveness is off), `lat`, `lon`,
/// `accuracy_m`, and optionally `request_id` (or an `Idempotency-Key`
/// header) so a retried upload gets the stored result instead of spending
/// another try.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CheckinForm {
    token: String,
    #[schema(value_type = Vec<String>)]
    frame: Vec<Vec<u8>>,
    lat: f64,
    lon: f64,
    accuracy_m: f64,
    request_id: Option<String>,
}

/// What the person is told about one try: the outcome and what to do next,
/// nothing more. The evidence (face distance and threshold, distance to the
/// quarantine address and its radius) stays with the officers: answered to
/// the person, a few tries with made-up coordinates would locate the home.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckinResult {
    pub checkin_id: String,
    pub prompt_id: String,
    /// `verified`, `face_mismatch`, `no_face`, `multiple_faces`,
    /// `low_quality`, `liveness_failed`, `outside_geofence`,
    /// `location_unreliable` or `late`.
    pub outcome: String,
    pub attempt: u32,
    pub tries_left: u32,
    /// What to do now: `done` (nothing more), `try_again` (another try is
    /// left) or `contact_officer` (no try is left; an officer follows up).
    pub next_step: String,
    pub received_at: DateTime<Utc>,
}

impl From<CheckinReceipt> for CheckinResult {
    fn from(r: CheckinReceipt) -> Self {
        let next_step = if r.outcome == lazaret_core::checkin::CheckinOutcome::Verified {
            "done"
        } else if r.tries_left > 0 {
            "try_again"
        } else {
            "contact_officer"
        };
        CheckinResult {
            checkin_id: r.checkin_id.to_string(),
            prompt_id: r.prompt_id.to_string(),
            outcome: r.outcome.as_str().into(),
            attempt: r.attempt,
            tries_left: r.tries_left,
            next_step: next_step.into(),
            received_at: r.received_at,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/checkins", tag = "checkins",
    request_body(content = inline(CheckinForm), content_type = "multipart/form-data"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key, same stored result"),
        ("X-Lazaret-Token" = Option<String>, Header, description = "The prompt token, checked before the body is read (else the form's first part must be `token`)")),
    responses((status = 200, body = CheckinResult, description = "The try was verified; see `outcome` and `next_step`. An unreadable frame is a try (`low_quality`)"),
        (status = 401, body = Problem, description = "unknown token, or no token before the frames"),
        (status = 409, body = Problem, description = "the same request is still running"),
        (status = 410, body = Problem, description = "token_used, token_expired or no_tries_left"),
        (status = 413, body = Problem), (status = 422, body = Problem),
        (status = 429, body = Problem, description = "rate_limited, with Retry-After"),
        (status = 503, body = Problem, description = "face_busy (with Retry-After), face_unavailable or template_key_missing")))]
pub async fn submit_checkin(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Json<CheckinResult>, ApiError> {
    let st = &state;
    let (token, parts) = read_person_upload(&headers, form, |token| async move {
        checkins::admit(st, &token).await.map_err(ApiError::from)
    })
    .await?;
    let submission = parse_submission(&headers, token, parts)?;
    Ok(Json(checkins::submit(&state, submission).await?.into()))
}

/// The multipart form (and the `Idempotency-Key` header) as the service's input.
pub(crate) fn parse_submission(
    headers: &HeaderMap,
    token: String,
    parts: Vec<Part>,
) -> Result<SubmitCheckin, ApiError> {
    let request_key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::InvalidRequest("Idempotency-Key is not text".into()))?
                .to_owned(),
        ),
        None => text(&parts, "request_id")?.map(str::to_owned),
    };
    if request_key
        .as_ref()
        .is_some_and(|k| k.is_empty() || k.len() > 200)
    {
        return Err(ApiError::InvalidRequest(
            "the request key must be 1 to 200 characters".into(),
        ));
    }
    let location = Coordinates::new(number(&parts, "lat")?, number(&parts, "lon")?)?;
    let accuracy_m = number(&parts, "accuracy_m")?;
    if accuracy_m < 0.0 {
        return Err(
            lazaret_core::ValidationError::new("accuracy_m", "must not be negative").into(),
        );
    }
    let frames = parts
        .into_iter()
        .filter(|p| p.name == "frame")
        .map(|p| p.bytes)
        .collect();
    Ok(SubmitCheckin {
        token,
        request_key,
        location,
        accuracy_m,
        frames,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptLookup {
    /// The prompt token from the check-in link (sent in the body so that it
    /// never appears in a URL or an access log).
    pub token: String,
}

/// What the check-in page needs to guide the person; nothing about the
/// order, the place or the enrolled face.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PromptInfo {
    /// Answer before this time.
    pub deadline: DateTime<Utc>,
    /// The head poses to show, one frame each, in order (`center`, `left`,
    /// `right`); empty when liveness is off and one frontal frame suffices.
    pub poses: Vec<String>,
    /// The challenge in words, in `language`.
    pub challenge: String,
    /// How many frames to send.
    pub frames: u32,
    pub tries_left: u32,
    /// The person's preferred language (`en`, `ru`, …).
    pub language: String,
}

#[utoipa::path(post, path = "/api/v1/checkins/prompt", tag = "checkins",
    request_body = PromptLookup,
    responses((status = 200, body = PromptInfo, description = "the prompt is open"),
        (status = 401, body = Problem, description = "invalid_token: missing or unknown token"),
        (status = 410, body = Problem, description = "token_used, token_expired or no_tries_left"),
        (status = 429, body = Problem, description = "rate_limited, with Retry-After"),
        (status = 400, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn prompt_info(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PromptLookup>,
) -> Result<Json<PromptInfo>, ApiError> {
    let guide = checkins::prompt_guide(&state, &body.token).await?;
    let poses = guide.challenge.as_ref().map(|c| c.poses.as_slice());
    Ok(Json(PromptInfo {
        deadline: guide.deadline,
        poses: poses
            .unwrap_or_default()
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        challenge: challenge_words(poses, &guide.language),
        frames: poses.map_or(1, |p| p.len() as u32),
        tries_left: guide.tries_left,
        language: guide.language,
    }))
}
