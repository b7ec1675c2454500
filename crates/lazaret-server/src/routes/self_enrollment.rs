//! Self-enrolment: an officer creates a single-use link for an order, the
//! person uploads their own reference photo with it (no officer token: the
//! link's token is the credential), and an officer approves or rejects the
//! resulting template. Until approved, check-ins do not use it; the photo is
//! never kept.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::user::Permission;
use lazaret_face::Template;
use lazaret_store::{EnrollmentLink, LinkStatus, PendingTemplate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Officer;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::extract::{ApiJson, ApiPath};
use crate::multipart::{read_parts, text};
use crate::prompting::{hash_token, random_token};
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
    let order = state.load_order(&id).await?;
    if order.status.is_terminal() {
        return Err(ApiError::IllegalTransition(format!(
            "order {id} is {}; nothing can be enrolled for it",
            order.status
        )));
    }
    let now = state.now();
    let token = random_token("lze");
    let link = EnrollmentLink::open(
        order.id.clone(),
        hash_token(&token),
        officer.actor(),
        now,
        now + Duration::hours(state.config.enrollment_link_hours.into()),
    );
    let audit = officer.audit(
        now,
        "enrollment.link_create",
        "order",
        order.id.as_str(),
        format!(
            "link={} expires_at={}",
            link.id,
            link.expires_at.to_rfc3339()
        ),
    );
    state
        .store
        .create_enrollment_link(&link, &audit)
        .await
        .map_err(|e| match e {
            lazaret_store::StoreError::Conflict { .. } => ApiError::Conflict(format!(
                "a self-enrolment photo for order {id} waits for approval; approve or reject it first"
            )),
            other => other.into(),
        })?;
    let url = state
        .config
        .public_url
        .as_ref()
        .map(|u| format!("{}/enroll#token={token}", u.trim_end_matches('/')));
    Ok((
        StatusCode::CREATED,
        Json(EnrollmentLinkCreated {
            id: link.id.into(),
            order_id: order.id.into(),
            token,
            expires_at: link.expires_at,
            url,
        }),
    ))
}

/// The person's upload: `token` and one `photo`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SelfEnrollmentForm {
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
        (status = 503, body = Problem)))]
pub async fn submit(
    State(state): State<AppState>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<SelfEnrollmentAccepted>), ApiError> {
    let mut parts = read_parts(form).await?;
    let invalid = |detail: &str| ApiError::refused(ErrorCode::InvalidToken, detail);
    let token = text(&parts, "token")?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid("an enrolment token is required"))?;
    let link = state
        .store
        .enrollment_link_by_token_hash(&hash_token(token))
        .await?
        .ok_or_else(|| invalid("unknown enrolment token"))?;
    let now = state.now();
    match link.status {
        LinkStatus::Open if link.expires_at > now => {}
        LinkStatus::Open => {
            return Err(ApiError::refused(
                ErrorCode::TokenExpired,
                "this enrolment link has expired; ask your officer for a new one",
            ))
        }
        LinkStatus::Revoked => {
            return Err(ApiError::refused(
                ErrorCode::TokenRevoked,
                "this enrolment link was replaced by a newer one",
            ))
        }
        LinkStatus::Pending | LinkStatus::Approved | LinkStatus::Rejected => {
            return Err(ApiError::refused(
                ErrorCode::TokenUsed,
                "a photo was already sent with this link",
            ))
        }
    }
    let order = state.load_order(link.order_id.as_str()).await?;
    if order.status.is_terminal() {
        return Err(ApiError::IllegalTransition(format!(
            "order {} is {}; nothing can be enrolled for it",
            order.id, order.status
        )));
    }
    let photo = match parts.iter().position(|p| p.name == "photo") {
        Some(i) => parts.swap_remove(i).bytes,
        None => {
            return Err(lazaret_core::ValidationError::new(
                "photo",
                "a part named photo is required",
            )
            .into())
        }
    };
    drop(parts);
    let engine = state.face_engine()?;
    let key = state.template_key()?;
    // The photo is dropped inside the blocking task; a refused photo leaves
    // the link open so the person can retake it until the deadline.
    let template: Template = tokio::task::spawn_blocking(move || engine.enroll(&photo))
        .await
        .map_err(|_| ApiError::Internal)??;
    let (ciphertext, nonce) = key.seal(order.id.as_str(), &template.to_bytes());
    let pending = PendingTemplate {
        ciphertext,
        nonce,
        model: template.model.clone(),
    };
    let audit = AuditRecord {
        at: now,
        actor: format!("subject:enrollment-link:{}", link.id),
        action: "enrollment.submit".into(),
        subject_type: "order".into(),
        subject_id: order.id.to_string(),
        details: format!(
            "link={} model={} pending approval; photo discarded",
            link.id, pending.model
        ),
    };
    if !state
        .store
        .submit_self_enrollment(&link.id, &pending, now, &audit)
        .await?
    {
        // Another upload with the same link won the race, or it just expired.
        return Err(ApiError::refused(
            ErrorCode::TokenUsed,
            "this enrolment link is no longer open",
        ));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(SelfEnrollmentAccepted {
            order_id: order.id.into(),
            status: "pending".into(),
            submitted_at: now,
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
    let order = state.load_order(&id).await?;
    if order.status.is_terminal() {
        return Err(ApiError::IllegalTransition(format!(
            "order {id} is {}; nothing can be enrolled for it",
            order.status
        )));
    }
    let now = state.now();
    let audit = officer.audit(
        now,
        "enrollment.approve",
        "order",
        &id,
        format!("person={} self-enrolment approved", order.person_id),
    );
    let link = state
        .store
        .approve_self_enrollment(&order.id, &officer.actor(), now, &audit)
        .await?
        .ok_or_else(|| nothing_pending(&id))?;
    Ok(Json(link.into()))
}

fn nothing_pending(id: &str) -> ApiError {
    ApiError::refused(
        ErrorCode::NothingPending,
        format!("order {id} has no self-enrolment waiting for a decision"),
    )
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
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(
            lazaret_core::ValidationError::new("reason", "rejecting needs a reason").into(),
        );
    }
    lazaret_core::audit::check_reason("reason", reason)?;
    let order = state.load_order(&id).await?;
    let now = state.now();
    let audit = officer.audit(
        now,
        "enrollment.reject",
        "order",
        &id,
        format!("reason={reason}"),
    );
    let link = state
        .store
        .reject_self_enrollment(&order.id, reason, &officer.actor(), now, &audit)
        .await?
        .ok_or_else(|| nothing_pending(&id))?;
    Ok(Json(link.into()))
}
