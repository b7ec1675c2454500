//! `/api/v1/orders/{id}/enrollment` and `/api/v1/orders/{id}/prompts`: an
//! officer enrols the reference photo of an order and prompts a check-in.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use lazaret_core::order::OrderStatus;
use lazaret_core::user::Permission;
use lazaret_face::Template;
use lazaret_store::EnrollmentRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::extract::ApiPath;
use crate::multipart::read_parts;
use crate::prompting::{issue_prompt, IssueError};
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
    let engine = state.face_engine()?;
    let key = state.template_key()?;
    let order = state.load_order(&id).await?;
    if order.status.is_terminal() {
        return Err(ApiError::IllegalTransition(format!(
            "order {id} is {}; nothing can be enrolled for it",
            order.status
        )));
    }
    let mut parts = read_parts(form).await?;
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
    // The photo moves into the blocking task and is dropped there: only the
    // template leaves it.
    let template: Template = tokio::task::spawn_blocking(move || engine.enroll(&photo))
        .await
        .map_err(|_| ApiError::Internal)??;
    let now = state.now();
    let (ciphertext, nonce) = key.seal(order.id.as_str(), &template.to_bytes());
    let record = EnrollmentRecord {
        order_id: order.id.clone(),
        ciphertext,
        nonce,
        model: template.model.clone(),
        created_at: now,
    };
    let audit = officer.audit(
        now,
        "enrollment.create",
        "order",
        order.id.as_str(),
        format!("person={} model={}", order.person_id, record.model),
    );
    state.store.put_enrollment(&record, &audit).await?;
    Ok((
        StatusCode::CREATED,
        Json(EnrollmentView {
            order_id: order.id.into(),
            model: record.model,
            enrolled_at: now,
            delete_after: order.ends_at + state.config.template_grace(),
        }),
    ))
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
    let order = state.load_order(&id).await?;
    if order.status != OrderStatus::Active {
        return Err(ApiError::IllegalTransition(format!(
            "order {id} is {}; only active orders are prompted",
            order.status
        )));
    }
    if state.store.get_enrollment(&order.id).await?.is_none() {
        return Err(ApiError::Conflict(format!(
            "order {id} has no enrolled face; enrol a photo first"
        )));
    }
    let now = state.now();
    let actor = officer.actor();
    let slot = || format!("now:{}", uuid::Uuid::new_v4());
    let (store, config) = (&state.store, &state.config);
    let announcer = state.announcer.as_deref();
    let issued = match issue_prompt(store, config, announcer, &order, &slot(), now, &actor).await {
        Err(IssueError::Announce(e)) => {
            // The officer holds the token and can relay it.
            tracing::warn!(error = %e, "could not announce the prompt to the person");
            issue_prompt(store, config, None, &order, &slot(), now, &actor).await
        }
        other => other,
    }?
    .ok_or(ApiError::Internal)?;
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
