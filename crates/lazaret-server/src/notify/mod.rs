//! Notifications to persons: the outbox (stored, delivered by the job
//! queue with retries), its senders (SMTP e-mail, SMS webhook) and the
//! message templates per language.

pub mod email;
pub mod outbox;
pub mod sms;
pub mod templates;

use lazaret_store::StoreError;
use thiserror::Error;

pub use outbox::{DeliveryReport, Notifier, Outgoing, CHECKIN_PATH};
pub use sms::{SendFuture, Sms, SmsSender, WebhookSms};

#[derive(Debug, Error)]
pub enum NotifyError {
    #[error("notification settings: {0}")]
    Config(String),
    /// Not delivered this time; the job queue retries.
    #[error("{0}")]
    Send(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Data(String),
}
