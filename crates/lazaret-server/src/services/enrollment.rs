//! Enrolment by an officer (the order's reference photo becomes its
//! encrypted face template) and an officer's "prompt now".

use chrono::{DateTime, Utc};
use lazaret_core::order::OrderStatus;
use lazaret_core::ValidationError;
use lazaret_face::Template;
use lazaret_store::EnrollmentRecord;

use crate::prompting::{issue_prompt, IssueError, IssuedPrompt};
use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// A template just stored for an order.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub record: EnrollmentRecord,
    /// When the template will be deleted as the order stands now: its end
    /// plus the grace (retention follows the order).
    pub delete_after: DateTime<Utc>,
}

/// The photo of an upload, refused when the upload had none. Checked after
/// the order (a missing order or link answers first).
pub(crate) fn required_photo(photo: Option<Vec<u8>>) -> Result<Vec<u8>, ServiceError> {
    photo.ok_or_else(|| ValidationError::new("photo", "a part named photo is required").into())
}

/// The template of a reference photo, made on a blocking thread inside the
/// face-work bound (busy: 503 with `Retry-After`), refused past the pixel
/// bound before decoding; the photo is dropped there, only the template
/// leaves it.
pub(crate) async fn template_of(
    state: &AppState,
    photo: Vec<u8>,
) -> Result<Template, ServiceError> {
    let engine = state.face_engine()?;
    let max_pixels = state.guards.max_frame_pixels;
    let permit = state.guards.face.enter().await?;
    Ok(tokio::task::spawn_blocking(move || {
        let _permit = permit;
        lazaret_face::image_input::check_pixels(&photo, max_pixels)?;
        engine.enroll(&photo)
    })
    .await
    .map_err(|_| ServiceError::Internal)??)
}

/// Enrols `photo` as the reference face of order `order_id` (not ended),
/// replacing an earlier enrolment; audited. `photo` is `None` when the
/// upload had no photo part.
pub async fn enroll(
    state: &AppState,
    actor: &Actor,
    order_id: &str,
    photo: Option<Vec<u8>>,
) -> Result<Enrolled, ServiceError> {
    // The order first: one outside the officer's districts answers 404
    // whatever this server can do.
    let order = state.load_order_for(actor, order_id).await?;
    state.face_engine()?;
    let key = state.template_key()?;
    if order.status.is_terminal() {
        return Err(ServiceError::OrderState {
            order: order_id.to_owned(),
            status: order.status,
            rule: "nothing can be enrolled for it",
        });
    }
    let template = template_of(state, required_photo(photo)?).await?;
    let now = state.now();
    let sealed = key.seal(order.id.as_str(), &template.to_bytes());
    let record = EnrollmentRecord {
        order_id: order.id.clone(),
        ciphertext: sealed.ciphertext,
        nonce: sealed.nonce,
        key_id: sealed.key_id,
        model: template.model.clone(),
        created_at: now,
    };
    let audit = actor.audit(
        now,
        "enrollment.create",
        "order",
        order.id.as_str(),
        format!("person={} model={}", order.person_id, record.model),
    );
    state.store.put_enrollment(&record, &audit).await?;
    Ok(Enrolled {
        record,
        delete_after: order.ends_at + state.config.template_grace(),
    })
}

/// Issues a check-in prompt for the active, enrolled order `order_id` now,
/// announced to the person when a notifier runs (else the officer relays
/// the token).
pub async fn prompt_now(
    state: &AppState,
    actor: &Actor,
    order_id: &str,
) -> Result<IssuedPrompt, ServiceError> {
    let order = state.load_order_for(actor, order_id).await?;
    if order.status != OrderStatus::Active {
        return Err(ServiceError::OrderState {
            order: order_id.to_owned(),
            status: order.status,
            rule: "only active orders are prompted",
        });
    }
    if state.store.get_enrollment(&order.id).await?.is_none() {
        return Err(ServiceError::NoFaceToPrompt {
            order: order_id.to_owned(),
        });
    }
    // Prompting a person again and again is harassment, whoever asks.
    state.guards.prompt_now.check(order.id.as_str())?;
    let now = state.now();
    let slot = || format!("now:{}", uuid::Uuid::new_v4());
    let (store, config) = (&state.store, &state.config);
    let announcer = state.announcer.as_deref();
    let actor = actor.name();
    let issued = match issue_prompt(store, config, announcer, &order, &slot(), now, actor).await {
        Err(IssueError::Announce(e)) => {
            // The officer holds the token and can relay it.
            tracing::warn!(error = %e, "could not announce the prompt to the person");
            issue_prompt(store, config, None, &order, &slot(), now, actor).await
        }
        other => other,
    }?;
    // A fresh slot is never taken.
    issued.ok_or(ServiceError::Internal)
}
