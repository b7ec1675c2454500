//! `/api/v1/orders/{id}/enrollment` and `/api/v1/orders/{id}/prompts`: an
//! officer enrols the reference photo of an order and prompts a check-in.
//! The use cases are `services::enrollment`; these handlers parse,
//! authorise and render.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use lazaret_core::user::Permission;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::extract::ApiPath;
use crate::multipart::{read_parts, Part};
use crate::services::enrollment;
use crate::state::AppState;

/// The upload: one part named `photo` (JPEG, PNG or WebP).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EnrollmentForm {
    #[schema(value_type = String, format = Binary)]
    photo: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnrollmentView {
    pub order_id: String,
    /// The face model that made the template.
    pub model: String,
    pub enrolled_at: DateTime<Utc>,
    /// When the template will be deleted as the order stands now: its end
    /// plus the grace. Retention follows the order: an extension moves this
    /// later, an early release or completion starts the grace then.
    pub delete_after: DateTime<Utc>,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/enrollment", tag = "checkins",
    params(("id" = String, Path, description = "Order id")),
    request_body(content = inline(EnrollmentForm), content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses((status = 201, body = EnrollmentView),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem),
        (status = 422, body = Problem, description = "no_face, multiple_faces, low_quality or invalid_image, with the reason"),
        (status = 503, body = Problem)))]
pub async fn enroll(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<EnrollmentView>), ApiError> {
    officer.require(Permission::WriteOrders, "enrol faces")?;
    let photo = photo_of(read_parts(form).await?);
    let enrolled = enrollment::enroll(&state, &officer.as_actor(), &id, photo).await?;
    Ok((
        StatusCode::CREATED,
        Json(EnrollmentView {
            order_id: enrolled.record.order_id.into(),
            model: enrolled.record.model,
            enrolled_at: enrolled.record.created_at,
            delete_after: enrolled.delete_after,
        }),
    ))
}

/// The bytes of the upload's `photo` part, if it has one.
pub(crate) fn photo_of(mut parts: Vec<Part>) -> Option<Vec<u8>> {
    let i = parts.iter().position(|p| p.name == "photo")?;
    Some(parts.swap_remove(i).bytes)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChallengeView {
    pub id: String,
    /// One frame per pose, in this order: `center`, `left`, `right`.
    pub poses: Vec<String>,
    pub instructions: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PromptCreated {
    pub id: String,
    /// The check-in credential, shown once (stored only as a hash).
    pub token: String,
    pub issued_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// Absent when liveness is off: one frontal frame is enough.
    pub challenge: Option<ChallengeView>,
    /// Whether the prompt was handed to the notification outbox, which sends
    /// it or records why it cannot; when false, relay the token yourself.
    pub announced: bool,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/prompts", tag = "checkins",
    params(("id" = String, Path, description = "Order id")),
    security(("bearer" = [])),
    responses((status = 201, body = PromptCreated),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn prompt_now(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<PromptCreated>), ApiError> {
    officer.require(Permission::WriteOrders, "prompt check-ins")?;
    let issued = enrollment::prompt_now(&state, &officer.as_actor(), &id).await?;
    let announced = issued.announced;
    Ok((
        StatusCode::CREATED,
        Json(PromptCreated {
            announced,
            id: issued.prompt.id.into(),
            token: issued.token,
            issued_at: issued.prompt.issued_at,
            deadline: issued.prompt.deadline,
            challenge: issued.challenge.map(|c| ChallengeView {
                id: c.id,
                poses: c.poses.iter().map(|p| p.as_str().to_owned()).collect(),
                instructions: c.poses.iter().map(|p| p.instruction().to_owned()).collect(),
            }),
        }),
    ))
}
