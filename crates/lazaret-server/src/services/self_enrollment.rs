//! Self-enrolment: an officer creates a single-use link for an order, the
//! person sends their own reference photo with it (the link's token is the
//! credential), and an officer approves or rejects the resulting pending
//! template. Until approved, check-ins do not use it; the photo is never
//! kept.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::OrderId;
use lazaret_core::order::QuarantineOrder;
use lazaret_core::ValidationError;
use lazaret_store::{EnrollmentLink, PendingTemplate, StoreError};

use crate::prompting::{hash_token, random_token};
use crate::services::enrollment::{required_photo, template_of};
use crate::services::subject::{open_enrollment_link, Credential, SubjectToken};
use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// A link just created, with its token (shown once, stored as a hash).
#[derive(Debug, Clone)]
pub struct IssuedLink {
    pub link: EnrollmentLink,
    pub token: String,
    /// `{public_url}/enroll#token=…` when the server knows its public URL
    /// (the token in the fragment, which browsers never send to a server).
    pub url: Option<String>,
}

/// The person's upload, as the front end read it.
#[derive(Debug, Clone)]
pub struct SubmitPhoto {
    /// The link's token: the person's credential.
    pub token: String,
    /// The picture; `None` when the upload had none (refused after the
    /// link is checked, so a spent link says so first).
    pub photo: Option<Vec<u8>>,
}

/// A photo accepted as the order's pending template.
#[derive(Debug, Clone)]
pub struct PhotoAccepted {
    pub order_id: OrderId,
    pub submitted_at: DateTime<Utc>,
}

/// The order `id` as long as it has not ended; an officer's (`Some`) only
/// in their districts, the person's link's whatever its district.
async fn enrollable(
    state: &AppState,
    actor: Option<&Actor>,
    id: &str,
) -> Result<QuarantineOrder, ServiceError> {
    let order = match actor {
        Some(actor) => state.load_order_for(actor, id).await?,
        None => state.load_order(id).await?,
    };
    if order.status.is_terminal() {
        return Err(ServiceError::OrderState {
            order: order.id.to_string(),
            status: order.status,
            rule: "nothing can be enrolled for it",
        });
    }
    Ok(order)
}

/// Opens a self-enrolment link for order `order_id`, valid for
/// `enrollment_link_hours`; it replaces an open earlier link (refused
/// while a submitted photo waits for a decision).
pub async fn create_link(
    state: &AppState,
    actor: &Actor,
    order_id: &str,
) -> Result<IssuedLink, ServiceError> {
    let order = enrollable(state, Some(actor), order_id).await?;
    let now = state.now();
    let token = random_token("lze");
    let link = EnrollmentLink::open(
        order.id.clone(),
        hash_token(&token),
        actor.name().to_owned(),
        now,
        now + Duration::hours(state.config.enrollment_link_hours.into()),
    );
    let audit = actor.audit(
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
            StoreError::Conflict { .. } => ServiceError::EnrolmentAwaitsDecision {
                order: order_id.to_owned(),
            },
            other => other.into(),
        })?;
    let url = state
        .config
        .public_url
        .as_ref()
        .map(|u| format!("{}/enroll#token={token}", u.trim_end_matches('/')));
    Ok(IssuedLink { link, token, url })
}

/// The person's photo for the link behind the token: made into a template,
/// sealed, and stored as pending until an officer decides. A refused photo
/// leaves the link open, so the person can retake it until the deadline.
pub async fn submit(state: &AppState, req: SubmitPhoto) -> Result<PhotoAccepted, ServiceError> {
    let link = SubjectToken::new(Credential::EnrollmentLink, &req.token)?
        .enrollment_link(&state.store)
        .await?;
    let now = state.now();
    open_enrollment_link(&link, now)?;
    let order = enrollable(state, None, link.order_id.as_str()).await?;
    let photo = required_photo(req.photo)?;
    state.face_engine()?;
    let key = state.template_key()?;
    let template = template_of(state, photo).await?;
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
        return Err(ServiceError::LinkClosed);
    }
    Ok(PhotoAccepted {
        order_id: order.id,
        submitted_at: now,
    })
}

/// Makes the pending template of order `order_id` its enrolment.
pub async fn approve(
    state: &AppState,
    actor: &Actor,
    order_id: &str,
) -> Result<EnrollmentLink, ServiceError> {
    let order = enrollable(state, Some(actor), order_id).await?;
    let now = state.now();
    let audit = actor.audit(
        now,
        "enrollment.approve",
        "order",
        order_id,
        format!("person={} self-enrolment approved", order.person_id),
    );
    state
        .store
        .approve_self_enrollment(&order.id, actor.name(), now, &audit)
        .await?
        .ok_or_else(|| ServiceError::NothingPending {
            order: order_id.to_owned(),
        })
}

/// Erases the pending template of order `order_id`, keeping `reason` with
/// the link and in the audit log.
pub async fn reject(
    state: &AppState,
    actor: &Actor,
    order_id: &str,
    reason: &str,
) -> Result<EnrollmentLink, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ValidationError::new("reason", "rejecting needs a reason").into());
    }
    lazaret_core::audit::check_reason("reason", reason)?;
    let order = state.load_order_for(actor, order_id).await?;
    let now = state.now();
    let audit = actor.audit(
        now,
        "enrollment.reject",
        "order",
        order_id,
        format!("reason={reason}"),
    );
    state
        .store
        .reject_self_enrollment(&order.id, reason, actor.name(), now, &audit)
        .await?
        .ok_or_else(|| ServiceError::NothingPending {
            order: order_id.to_owned(),
        })
}
