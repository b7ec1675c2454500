//! Self-enrolment: an officer creates a single-use link for an order, the
//! person uploads their own reference photo with it (no officer token: the
//! link's token is the credential), and an officer approves or rejects the
//! resulting template. Until approved, check-ins do not use it; the photo is
//! kept sealed only until that decision (the console shows it to the
//! deciding officer). Creating a link also sends it to the person through
//! the outbox where the server has one. The use cases are
//! `services::self_enrollment`; these handlers parse, authorise and render.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use lazaret_core::user::Permission;
use lazaret_store::EnrollmentLink;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath};
use crate::multipart::read_person_upload;
use crate::routes::enrollment::photo_of;
use crate::services::self_enrollment::{self, SubmitPhoto};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentLinkCreated {
    pub id: String,
    pub order_id: String,
    /// The person's credential, shown once (stored only as a hash).
    pub token: String,
    /// The photo must arrive before this time.
    pub expires_at: DateTime<Utc>,
    /// `{public_url}/enroll#token=…` when the server knows its public URL
    /// (the token in the fragment, which browsers never send to a server).
    pub url: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentLinkView {
    pub id: String,
    pub order_id: String,
    /// `open`, `pending`, `approved`, `rejected` or `revoked`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
    pub model: Option<String>,
}

impl From<EnrollmentLink> for EnrollmentLinkView {
    fn from(l: EnrollmentLink) -> Self {
        Self {
            id: l.id.into(),
            order_id: l.order_id.into(),
            status: l.status.as_str().into(),
            created_at: l.created_at,
            expires_at: l.expires_at,
            submitted_at: l.submitted_at,
            decided_at: l.decided_at,
            decided_by: l.decided_by,
            reason: l.reason,
            model: l.model,
        }
    }
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/enrollment-link", tag = "checkins",
    params(("id" = String, Path, description = "Order id")),
    security(("bearer" = [])),
    responses((status = 201, body = EnrollmentLinkCreated),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the order has ended, or a submitted photo waits for a decision")))]
pub async fn create_link(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<EnrollmentLinkCreated>), ApiError> {
    officer.require(Permission::WriteOrders, "invite self-enrolment")?;
    let issued = self_enrollment::create_link(&state, &officer.as_actor(), &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(EnrollmentLinkCreated {
            id: issued.link.id.into(),
            order_id: issued.link.order_id.into(),
            token: issued.token,
            expires_at: issued.link.expires_at,
            url: issued.url,
        }),
    ))
}

/// The person's upload: `token` and one `photo`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SelfEnrollmentForm {
    /// First in the form, or in the `X-Lazaret-Token` header instead: it is
    /// checked before the photo is read.
    token: String,
    #[schema(value_type = String, format = Binary)]
    photo: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SelfEnrollmentAccepted {
    pub order_id: String,
    /// Always `pending`: an officer approves the photo before check-ins use it.
    pub status: String,
    pub submitted_at: DateTime<Utc>,
}

#[utoipa::path(post, path = "/api/v1/enrollment", tag = "checkins",
    request_body(content = inline(SelfEnrollmentForm), content_type = "multipart/form-data"),
    responses((status = 202, body = SelfEnrollmentAccepted, description = "stored as pending until an officer approves it"),
        (status = 401, body = Problem, description = "invalid_token: missing or unknown token"),
        (status = 409, body = Problem, description = "the order has ended"),
        (status = 410, body = Problem, description = "token_used, token_expired or token_revoked"),
        (status = 413, body = Problem),
        (status = 422, body = Problem, description = "no_face, multiple_faces, low_quality or invalid_image, with the reason; the link stays usable"),
        (status = 429, body = Problem, description = "rate_limited, with Retry-After"),
        (status = 503, body = Problem, description = "face_busy (with Retry-After), face_unavailable or template_key_missing")))]
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<SelfEnrollmentAccepted>), ApiError> {
    let st = &state;
    let (token, parts) = read_person_upload(&headers, form, |token| async move {
        self_enrollment::admit(st, &token)
            .await
            .map_err(ApiError::from)
    })
    .await?;
    let photo = photo_of(parts);
    let accepted = self_enrollment::submit(&state, SubmitPhoto { token, photo }).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SelfEnrollmentAccepted {
            order_id: accepted.order_id.into(),
            status: "pending".into(),
            submitted_at: accepted.submitted_at,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    /// Why (kept with the link and in the audit log).
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/enrollment/approve", tag = "checkins",
    params(("id" = String, Path, description = "Order id")),
    security(("bearer" = [])),
    responses((status = 200, body = EnrollmentLinkView, description = "the template is now the order's enrolment"),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "nothing pending, or the order has ended")))]
pub async fn approve(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<EnrollmentLinkView>, ApiError> {
    officer.require(Permission::WriteOrders, "approve enrolments")?;
    let link = self_enrollment::approve(&state, &officer.as_actor(), &id).await?;
    Ok(Json(link.into()))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/enrollment/reject", tag = "checkins",
    params(("id" = String, Path, description = "Order id")), request_body = Rejection,
    security(("bearer" = [])),
    responses((status = 200, body = EnrollmentLinkView, description = "the pending template is erased"),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "nothing pending"),
        (status = 422, body = Problem, description = "no reason")))]
pub async fn reject(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Rejection>,
) -> Result<Json<EnrollmentLinkView>, ApiError> {
    officer.require(Permission::WriteOrders, "reject enrolments")?;
    let link = self_enrollment::reject(&state, &officer.as_actor(), &id, &body.reason).await?;
    Ok(Json(link.into()))
}
