//! The port through which issuing reaches the person: an [`Announcer`]
//! renders the outbox message that announces a prompt or a symptom form, or
//! sends a self-enrolment link.
//!
//! Rendering is pure (no I/O), so it happens before anything is stored and
//! the store writes the prompt or form, its message and the message's
//! delivery job in one transaction; delivery itself belongs to the
//! `notify.send` queue ([`Notifier::deliver_due`](crate::notify::Notifier)).
//! This module imports nothing else from the crate: issuing, the worker,
//! the routes, the state and the notifier all depend on it, and it on none
//! of them.

use chrono::{DateTime, Utc};
use lazaret_core::ids::{EnrollmentLinkId, FollowUpId, OrderId, PromptId, SymptomFormId};
use lazaret_core::order::TimeZone;
use lazaret_core::person::Person;
use lazaret_face::Challenge;
use lazaret_store::NewOutboxMessage;
use thiserror::Error;

/// The dedupe key of the one outbox message that announces prompt `id`;
/// the deadline reads that message's delivery status through it.
pub fn prompt_message_key(id: &PromptId) -> String {
    format!("prompt:{id}")
}

/// The dedupe key of the one outbox message that announces form `id`.
pub fn symptom_form_message_key(id: &SymptomFormId) -> String {
    format!("symptom_form:{id}")
}

/// The dedupe key of the one outbox message that sends self-enrolment link `id`.
pub fn enrollment_link_message_key(id: &EnrollmentLinkId) -> String {
    format!("enrollment_link:{id}")
}

/// The dedupe key of the one exposure notice of follow-up `id`.
pub fn exposure_notice_message_key(id: &FollowUpId) -> String {
    format!("exposure_notice:{id}")
}

/// A notify-tier contact's exposure notice: exposed on `exposed_on`, no
/// quarantine, watch for symptoms (and answer the daily form) until
/// `until`.
#[derive(Debug, Clone)]
pub struct ExposureNotice {
    pub follow_up_id: FollowUpId,
    pub person: Person,
    pub exposed_on: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// The zone the dates are written in (the person's residence).
    pub time_zone: TimeZone,
    pub at: DateTime<Utc>,
}

/// What happened to a close contact's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderChange {
    Issued,
    /// Its end moved (later, or earlier after a revision).
    Extended,
    Released,
}

/// A notice about a contact's order: issued, its end moved, or ended.
#[derive(Debug, Clone)]
pub struct OrderNotice {
    pub change: OrderChange,
    pub order_id: OrderId,
    pub person: Person,
    pub address: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// When it ended (for `Released`).
    pub ended_at: Option<DateTime<Utc>>,
    pub time_zone: TimeZone,
    /// One message per change: `order_issued:<id>`,
    /// `order_extended:<id>:<end ms>`, `order_released:<id>`.
    pub dedupe_key: String,
    pub at: DateTime<Utc>,
}

/// A self-enrolment link about to be stored, valid until `expires_at`.
#[derive(Debug, Clone)]
pub struct EnrollmentLinkNotice {
    pub order_id: OrderId,
    pub link_id: EnrollmentLinkId,
    pub person: Person,
    /// The order's zone, in which the expiry is written.
    pub time_zone: TimeZone,
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// When it is created: the message's creation time.
    pub at: DateTime<Utc>,
}

/// A prompt about to be issued, with the token that answers it and what the
/// message needs to say.
#[derive(Debug, Clone)]
pub struct Announcement {
    pub order_id: OrderId,
    pub prompt_id: PromptId,
    /// Whom to tell, in which language, through which contact details.
    pub person: Person,
    /// The order's zone, in which the deadline is written.
    pub time_zone: TimeZone,
    pub token: String,
    pub deadline: DateTime<Utc>,
    /// The poses to show (`None` when liveness is off).
    pub challenge: Option<Challenge>,
    /// When it is issued: the message's creation time.
    pub at: DateTime<Utc>,
}

/// A symptom form about to be issued, valid until `expires_at` (the end of
/// the order's local day).
#[derive(Debug, Clone)]
pub struct SymptomFormNotice {
    /// `None` for a contact monitored without an order.
    pub order_id: Option<OrderId>,
    pub form_id: SymptomFormId,
    pub person: Person,
    pub time_zone: TimeZone,
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// When it is issued: the message's creation time.
    pub at: DateTime<Utc>,
}

/// Why no message could be rendered. Nothing is stored then: the worker's
/// job fails and is retried; an officer's "now" request is issued without a
/// message and says `announced: false`.
#[derive(Debug, Error)]
pub enum AnnounceError {
    #[error("this announcer cannot announce {0}")]
    Unsupported(&'static str),
}

/// Renders the outbox message that announces a prompt or form. The
/// notification outbox ([`Notifier`](crate::notify::Notifier)) implements
/// it; a message it cannot route is still rendered, as undeliverable with
/// the reason, so the prompt's deadline can tell why nobody answered.
pub trait Announcer: Send + Sync + 'static {
    /// The message announcing a prompt (dedupe key [`prompt_message_key`]).
    fn prompt_message(&self, a: &Announcement) -> Result<NewOutboxMessage, AnnounceError>;

    /// The message with a symptom-form link (dedupe key
    /// [`symptom_form_message_key`]). An announcer without a channel for
    /// it refuses, so the form is not issued unannounced.
    fn symptom_form_message(
        &self,
        _notice: &SymptomFormNotice,
    ) -> Result<NewOutboxMessage, AnnounceError> {
        Err(AnnounceError::Unsupported("symptom forms"))
    }

    /// The message with a self-enrolment link (dedupe key
    /// [`enrollment_link_message_key`]). An announcer without a channel
    /// for it refuses; the link is then stored without a message.
    fn enrollment_link_message(
        &self,
        _notice: &EnrollmentLinkNotice,
    ) -> Result<NewOutboxMessage, AnnounceError> {
        Err(AnnounceError::Unsupported("enrolment links"))
    }

    /// A notify-tier contact's exposure notice (dedupe key
    /// [`exposure_notice_message_key`]).
    fn exposure_notice_message(
        &self,
        _notice: &ExposureNotice,
    ) -> Result<NewOutboxMessage, AnnounceError> {
        Err(AnnounceError::Unsupported("exposure notices"))
    }

    /// A notice that a contact's order was issued, moved or ended.
    fn order_notice_message(
        &self,
        _notice: &OrderNotice,
    ) -> Result<NewOutboxMessage, AnnounceError> {
        Err(AnnounceError::Unsupported("order notices"))
    }
}
