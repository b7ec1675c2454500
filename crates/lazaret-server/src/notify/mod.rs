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
    /// Not delivered this time; the job queue retries. The text names no
    /// recipient (it may go into the audit chain as it is).
    #[error("{0}")]
    Send(String),
    /// Not delivered this time, with a server's answer that may echo the
    /// recipient (an SMTP "550 <user@domain> rejected"): `detail` goes only
    /// to the logs and the outbox row, `redacted` into the audit chain.
    #[error("{detail}")]
    Delivery { redacted: String, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Data(String),
}

impl NotifyError {
    /// What the immutable audit chain may keep of this failure: never an
    /// address or a server's free text, which can echo one.
    pub fn audit_reason(&self) -> String {
        match self {
            Self::Config(_) => "notification settings".to_owned(),
            Self::Send(s) => s.clone(),
            Self::Delivery { redacted, .. } => redacted.clone(),
            Self::Store(_) => "storage error".to_owned(),
            Self::Data(_) => "invalid message data".to_owned(),
        }
    }
}
