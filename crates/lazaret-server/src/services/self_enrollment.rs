//! Self-enrolment: an officer creates a single-use link for an order and
//! the system sends it to the person (an outbox message in their language,
//! by SMS or e-mail, written in the link's transaction); the person sends
//! their own reference photo with it (the link's token is the credential),
//! and an officer approves or rejects the resulting pending template.
//! Until approved, check-ins do not use it.
//!
//! The submitted photo is kept, sealed with the template key (associated
//! data bound to the order, apart from the template's), only while the
//! template waits, so that the deciding officer sees whom it shows
//! ([`pending_photo`], an audited read). Approval, rejection, the order's
//! end and the retention purge erase it with the pending template.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::OrderId;
use lazaret_core::order::QuarantineOrder;
use lazaret_core::ValidationError;
use lazaret_store::{
    EnrollmentLink, NewOutboxMessage, OutboxMessage, PendingTemplate, SealedPhoto, StoreError,
};

use crate::announce::{enrollment_link_message_key, EnrollmentLinkNotice};
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
    /// The message that sends it to the person, stored with the link;
    /// `None` where the server has no outbox (the caller relays the link).
    pub message: Option<NewOutboxMessage>,
}

/// Where an order's enrolment stands: the enrolled template's time, the
/// newest self-enrolment link and the message that sent it.
#[derive(Debug, Clone, Default)]
pub struct EnrolmentState {
    pub enrolled_at: Option<DateTime<Utc>>,
    pub link: Option<EnrollmentLink>,
    pub message: Option<OutboxMessage>,
}

/// A submitted photo, opened for the officer who decides on it.
#[derive(Debug, Clone)]
pub struct SubmittedPhoto {
    pub bytes: Vec<u8>,
    /// From the picture's own signature (JPEG, PNG, WebP, GIF, BMP).
    pub content_type: &'static str,
}

/// The associated data a submitted photo is sealed with: bound to the
/// order, and unlike the template's, so neither opens as the other.
pub(crate) fn photo_aad(order: &OrderId) -> String {
    format!("enrollment-photo:{order}")
}

/// The media type of a picture by its first bytes.
fn picture_type(b: &[u8]) -> &'static str {
    if b.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        "image/webp"
    } else if b.starts_with(b"GIF8") {
        "image/gif"
    } else if b.starts_with(b"BM") {
        "image/bmp"
    } else {
        "application/octet-stream"
    }
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
/// `enrollment_link_hours`, and sends it to the person: the outbox message
/// (their channel and language; stored as undeliverable with the reason
/// when nothing reaches them) is written with the link in one transaction.
/// It replaces an open earlier link (refused while a submitted photo waits
/// for a decision).
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
    let message = match state.announcer.as_deref() {
        Some(announcer) => {
            let person = state
                .store
                .get_person(&order.person_id)
                .await?
                .ok_or(ServiceError::Internal)?;
            let notice = EnrollmentLinkNotice {
                order_id: order.id.clone(),
                link_id: link.id.clone(),
                person,
                time_zone: order.time_zone,
                token: token.clone(),
                expires_at: link.expires_at,
                at: now,
            };
            match announcer.enrollment_link_message(&notice) {
                Ok(m) => Some(m),
                Err(e) => {
                    // As an officer's "prompt now": stored, the officer relays it.
                    tracing::warn!(error = %e, "could not send the enrolment link to the person");
                    None
                }
            }
        }
        None => None,
    };
    let audit = actor.audit(
        now,
        "enrollment.link_create",
        "order",
        order.id.as_str(),
        format!(
            "link={} expires_at={} message={}",
            link.id,
            link.expires_at.to_rfc3339(),
            message.as_ref().map_or("none", |m| m.id.as_str()),
        ),
    );
    state
        .store
        .create_enrollment_link_sending(&link, message.as_ref(), &audit)
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
    Ok(IssuedLink {
        link,
        token,
        url,
        message,
    })
}

/// Where order `order_id`'s enrolment stands (the order in the officer's
/// districts; its read is the caller's, e.g. [`super::orders::read`]).
pub async fn enrolment_state(
    state: &AppState,
    actor: &Actor,
    order_id: &str,
) -> Result<EnrolmentState, ServiceError> {
    let order = state.load_order_for(actor, order_id).await?;
    let enrolled_at = state
        .store
        .get_enrollment(&order.id)
        .await?
        .map(|e| e.created_at);
    let link = state
        .store
        .enrollment_links_of_order(&order.id)
        .await?
        .into_iter()
        .next();
    let message = match &link {
        Some(l) => {
            state
                .store
                .get_message_by_dedupe_key(&enrollment_link_message_key(&l.id))
                .await?
        }
        None => None,
    };
    Ok(EnrolmentState {
        enrolled_at,
        link,
        message,
    })
}

/// The photo the person submitted for order `order_id`'s pending
/// self-enrolment, for the officer who decides on it (an order outside
/// their districts, or nothing pending: 404). The read is audited.
pub async fn pending_photo(
    state: &AppState,
    actor: &Actor,
    order_id: &str,
) -> Result<SubmittedPhoto, ServiceError> {
    let order = state.load_order_for(actor, order_id).await?;
    let Some((link, sealed)) = state.store.pending_enrollment_photo(&order.id).await? else {
        return Err(ServiceError::not_found("self-enrolment photo", order_id));
    };
    let key = state.template_key()?;
    let bytes = state.open_sealed(
        &key,
        &sealed.key_id,
        &photo_aad(&order.id),
        &sealed.ciphertext,
        &sealed.nonce,
    )?;
    let audit = actor.audit(
        state.now(),
        "enrollment.photo_read",
        "order",
        order_id,
        format!("link={link} person={}", order.person_id),
    );
    state.store.record_audit(&audit).await?;
    Ok(SubmittedPhoto {
        content_type: picture_type(&bytes),
        bytes,
    })
}

/// Lets an upload with this enrolment token be read: counted against the
/// link's rate limit, and refused (`invalid_token`) when the link is
/// unknown. Whether it is still open is [`submit`]'s to say.
pub async fn admit(state: &AppState, token: &str) -> Result<(), ServiceError> {
    SubjectToken::admitted(state, Credential::EnrollmentLink, token)?
        .enrollment_link(&state.store)
        .await?;
    Ok(())
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
    // Sealed before the engine takes the picture; kept only for the decision.
    let photo_sealed = key.seal(&photo_aad(&order.id), &photo);
    let template = template_of(state, photo).await?;
    let sealed = key.seal(order.id.as_str(), &template.to_bytes());
    let pending = PendingTemplate {
        ciphertext: sealed.ciphertext,
        nonce: sealed.nonce,
        key_id: sealed.key_id,
        model: template.model.clone(),
        photo: Some(SealedPhoto {
            ciphertext: photo_sealed.ciphertext,
            nonce: photo_sealed.nonce,
            key_id: photo_sealed.key_id,
        }),
    };
    let audit = AuditRecord {
        at: now,
        actor: format!("subject:enrollment-link:{}", link.id),
        action: "enrollment.submit".into(),
        subject_type: "order".into(),
        subject_id: order.id.to_string(),
        details: format!(
            "link={} model={} pending approval; photo kept sealed until the decision",
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
