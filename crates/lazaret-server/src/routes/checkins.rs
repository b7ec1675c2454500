//! `POST /api/v1/checkins`: a person answers a prompt. No officer token: the
//! prompt's token is the credential, good for up to three tries inside the
//! window. Frames are verified and dropped; only the outcome and its
//! evidence are stored.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use lazaret_core::alert::AlertKind;
use lazaret_core::audit::AuditRecord;
use lazaret_core::checkin::{CheckinOutcome, PromptStatus, MAX_ATTEMPTS};
use lazaret_core::geo::Coordinates;
use lazaret_core::ids::AlertId;
use lazaret_face::{Challenge, HeadPose, Template};
use lazaret_store::{CheckinFinish, CheckinRecord, CheckinStart, NewAlert, PromptRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::extract::ApiJson;
use crate::multipart::{number, read_parts, text};
use crate::notify::templates::challenge_words;
use crate::prompting::{escalate_if_needed, hash_token};
use crate::routes::enrollment::{face_engine, load_order, template_key};
use crate::state::AppState;
use crate::verification::assess;

/// The form: `token`, one `frame` per challenge pose (one frontal frame
/// when liveness is off), `lat`, `lon`, `accuracy_m`, and optionally
/// `request_id` (or an `Idempotency-Key` header) so a retried upload gets
/// the stored result instead of spending another try.
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

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckinResult {
    pub checkin_id: String,
    pub prompt_id: String,
    /// `verified`, `face_mismatch`, `no_face`, `multiple_faces`,
    /// `low_quality`, `liveness_failed`, `outside_geofence`,
    /// `location_unreliable` or `late`.
    pub outcome: String,
    pub attempt: u32,
    pub tries_left: u32,
    /// Face distance, liveness result, distance to the place.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    pub received_at: DateTime<Utc>,
}

fn result_of(c: &CheckinRecord) -> Result<CheckinResult, ApiError> {
    let outcome = c.outcome.ok_or_else(|| {
        ApiError::rejected(
            StatusCode::CONFLICT,
            "in_progress",
            "this request is still being verified; retry in a moment",
        )
    })?;
    Ok(CheckinResult {
        checkin_id: c.id.to_string(),
        prompt_id: c.prompt_id.to_string(),
        outcome: outcome.as_str().into(),
        attempt: c.attempt,
        tries_left: MAX_ATTEMPTS.saturating_sub(c.attempt),
        evidence: c.evidence.clone(),
        received_at: c.received_at,
    })
}

fn token_rejected(code: &'static str, detail: &str) -> ApiError {
    ApiError::rejected(StatusCode::GONE, code, detail)
}

/// The head-turn challenge stored with the prompt, if any.
fn stored_challenge(prompt: &PromptRecord) -> Result<Option<Challenge>, ApiError> {
    prompt
        .challenge
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| {
            tracing::error!(error = %e, prompt = %prompt.id, "stored challenge unreadable");
            ApiError::Internal
        })
}

/// 410 unless the prompt still takes answers.
fn ensure_open(prompt: &PromptRecord) -> Result<(), ApiError> {
    match prompt.status {
        PromptStatus::Open => Ok(()),
        PromptStatus::Answered => Err(token_rejected(
            "token_used",
            "this prompt was already answered",
        )),
        PromptStatus::Missed | PromptStatus::Cancelled | PromptStatus::NotDelivered => {
            Err(token_rejected("token_expired", "this prompt is closed"))
        }
    }
}

#[utoipa::path(post, path = "/api/v1/checkins", tag = "checkins",
    request_body(content = inline(CheckinForm), content_type = "multipart/form-data"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key, same stored result")),
    responses((status = 200, body = CheckinResult, description = "The try was verified; see `outcome`"),
        (status = 401, body = Problem, description = "unknown token"),
        (status = 409, body = Problem, description = "the same request is still running"),
        (status = 410, body = Problem, description = "token_used, token_expired or no_tries_left"),
        (status = 413, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
pub async fn submit_checkin(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Json<CheckinResult>, ApiError> {
    let parts = read_parts(form).await?;
    let prompt = prompt_for_token(&state, text(&parts, "token")?.unwrap_or_default()).await?;
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
    let request_key = request_key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let now = state.now();

    // Answer a retry from what is stored before looking at anything else.
    if let Some(existing) = state
        .store
        .checkins_of_prompt(&prompt.id)
        .await?
        .into_iter()
        .find(|c| c.request_key == request_key)
    {
        return Ok(Json(result_of(&existing)?));
    }
    ensure_open(&prompt)?;
    let late_until = prompt.deadline + state.config.prompts.late_grace();
    if now > late_until {
        return Err(token_rejected(
            "token_expired",
            "the window of this prompt has passed",
        ));
    }

    // Everything that is the caller's mistake is refused before a try is spent.
    let lat = number(&parts, "lat")?;
    let lon = number(&parts, "lon")?;
    let accuracy_m = number(&parts, "accuracy_m")?;
    let at = Coordinates::new(lat, lon)?;
    if accuracy_m < 0.0 {
        return Err(
            lazaret_core::ValidationError::new("accuracy_m", "must not be negative").into(),
        );
    }
    let challenge = stored_challenge(&prompt)?;
    let frames: Vec<Vec<u8>> = parts
        .into_iter()
        .filter(|p| p.name == "frame")
        .map(|p| p.bytes)
        .collect();
    let (min, max) = match &challenge {
        Some(c) => (c.poses.len(), c.poses.len()),
        None => (1, lazaret_face::liveness::MAX_FRAMES),
    };
    if frames.len() < min || frames.len() > max {
        return Err(lazaret_core::ValidationError::new(
            "frame",
            format!(
                "this prompt needs {min} to {max} frames (one per pose), got {}",
                frames.len()
            ),
        )
        .into());
    }
    let engine = face_engine(&state)?;
    let key = template_key(&state)?;
    let order = load_order(&state, prompt.order_id.as_str()).await?;
    let enrollment = state
        .store
        .get_enrollment(&order.id)
        .await?
        .ok_or_else(|| {
            ApiError::rejected(
                StatusCode::CONFLICT,
                "not_enrolled",
                "no face is enrolled for this order",
            )
        })?;
    let template = key
        .open(order.id.as_str(), &enrollment.ciphertext, &enrollment.nonce)
        .ok()
        .and_then(|b| Template::from_bytes(&b).ok())
        .ok_or_else(|| {
            tracing::error!(order = %order.id, "enrolled template cannot be opened");
            ApiError::Internal
        })?;
    // Undecodable frames are the caller's error, not a try. Decoded once here;
    // the verification below works on these pictures.
    let frames = {
        let engine = engine.clone();
        tokio::task::spawn_blocking(move || {
            frames
                .iter()
                .enumerate()
                .map(|(i, f)| engine.decode(f).map_err(|e| (i, e)))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|_| ApiError::Internal)?
        .map_err(|(i, e)| {
            ApiError::rejected(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_image",
                format!("frame {i}: {e}"),
            )
        })?
    };

    let (checkin_id, attempt) = match state
        .store
        .begin_checkin(&prompt.id, &request_key, now)
        .await?
    {
        CheckinStart::Started {
            checkin_id,
            attempt,
        } => (checkin_id, attempt),
        CheckinStart::Existing(c) => return Ok(Json(result_of(&c)?)),
        CheckinStart::Closed(PromptStatus::Answered) => {
            return Err(token_rejected(
                "token_used",
                "this prompt was already answered",
            ))
        }
        CheckinStart::Closed(_) => {
            return Err(token_rejected("token_expired", "this prompt is closed"))
        }
        CheckinStart::NoTriesLeft => {
            return Err(token_rejected(
                "no_tries_left",
                "all tries of this prompt are used",
            ))
        }
    };

    let late = now > prompt.deadline;
    let assessed = if late {
        // The answer came after the window: recorded for the officer, not verified.
        Ok((
            CheckinOutcome::Late,
            serde_json::json!({
                "deadline": prompt.deadline,
                "received_at": now,
            }),
        ))
    } else {
        let fence = order.geofence;
        let blocking = tokio::task::spawn_blocking(move || {
            // `frames` is dropped when this closure returns.
            assess(
                &engine,
                &template,
                &frames,
                challenge.as_ref(),
                &fence,
                &at,
                accuracy_m,
            )
        })
        .await;
        match blocking {
            Ok(Ok(a)) => Ok((a.outcome, a.evidence)),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    };
    let (outcome, mut evidence) = match assessed {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, prompt = %prompt.id, "verification failed");
            state
                .store
                .abandon_checkin(&checkin_id, &prompt.id, now)
                .await?;
            return Err(ApiError::Internal);
        }
    };
    evidence["attempt"] = attempt.into();
    evidence["received_at"] = serde_json::json!(now);
    let verified = outcome == CheckinOutcome::Verified;
    let last_try = late || attempt >= MAX_ATTEMPTS;
    let close = if verified {
        Some(PromptStatus::Answered)
    } else if last_try {
        Some(PromptStatus::Missed)
    } else {
        None
    };
    let alert = (!verified && last_try).then(|| NewAlert {
        id: AlertId::generate(),
        kind: AlertKind::FailedCheckin,
        person_id: order.person_id.clone(),
        order_id: Some(order.id.clone()),
        cause: format!("prompt:{}", prompt.id),
        evidence: serde_json::json!({
            "prompt_id": prompt.id,
            "deadline": prompt.deadline,
            "outcome": outcome.as_str(),
            "attempts": attempt,
            "last_try": evidence,
        }),
        at: now,
    });
    let audit = AuditRecord {
        at: now,
        actor: format!("subject:prompt:{}", prompt.id),
        action: "checkin.submit".into(),
        subject_type: "order".into(),
        subject_id: order.id.to_string(),
        details: format!(
            "checkin={checkin_id} attempt={attempt} outcome={} template read for 1:1 verification; frames discarded",
            outcome.as_str()
        ),
    };
    let finish = CheckinFinish {
        outcome,
        evidence: evidence.clone(),
        close,
        alert,
    };
    state
        .store
        .finish_checkin(&checkin_id, &prompt.id, &finish, &audit)
        .await?;
    if close == Some(PromptStatus::Missed) {
        escalate_if_needed(&state.store, &state.config, &order, &prompt.id, now).await?;
    }
    Ok(Json(CheckinResult {
        checkin_id: checkin_id.to_string(),
        prompt_id: prompt.id.to_string(),
        outcome: outcome.as_str().into(),
        attempt,
        tries_left: if close.is_some() {
            0
        } else {
            MAX_ATTEMPTS - attempt
        },
        evidence,
        received_at: now,
    }))
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
        (status = 400, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn prompt_info(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PromptLookup>,
) -> Result<Json<PromptInfo>, ApiError> {
    let prompt = prompt_for_token(&state, &body.token).await?;
    ensure_open(&prompt)?;
    // Like the submission: an answer in the late grace is still taken (and
    // recorded as late for the officer).
    if state.now() > prompt.deadline + state.config.prompts.late_grace() {
        return Err(token_rejected(
            "token_expired",
            "the window of this prompt has passed",
        ));
    }
    if prompt.attempts >= MAX_ATTEMPTS {
        return Err(token_rejected(
            "no_tries_left",
            "all tries of this prompt are used",
        ));
    }
    let challenge = stored_challenge(&prompt)?;
    let order = load_order(&state, prompt.order_id.as_str()).await?;
    let language = state
        .store
        .get_person(&order.person_id)
        .await?
        .map(|p| p.language.as_str().to_owned())
        .unwrap_or_else(|| "en".into());
    let poses = challenge.as_ref().map(|c| c.poses.as_slice());
    Ok(Json(PromptInfo {
        deadline: prompt.deadline,
        poses: poses
            .unwrap_or_default()
            .iter()
            .map(|p| pose_name(*p).to_owned())
            .collect(),
        challenge: challenge_words(poses, &language),
        frames: poses.map_or(1, |p| p.len() as u32),
        tries_left: MAX_ATTEMPTS.saturating_sub(prompt.attempts),
        language,
    }))
}

fn pose_name(p: HeadPose) -> &'static str {
    match p {
        HeadPose::Center => "center",
        HeadPose::Left => "left",
        HeadPose::Right => "right",
    }
}

/// The prompt a token belongs to; the token is the person's only credential, so an empty or
/// unknown one is 401 for both the look-up and the submission.
async fn prompt_for_token(state: &AppState, token: &str) -> Result<PromptRecord, ApiError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::rejected(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "a prompt token is required",
        ));
    }
    state
        .store
        .prompt_by_token_hash(&hash_token(token))
        .await?
        .ok_or_else(|| {
            ApiError::rejected(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "unknown prompt token",
            )
        })
}
