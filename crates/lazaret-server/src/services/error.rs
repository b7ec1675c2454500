//! Why a use case refused or failed, in the domain's words; `crate::error`
//! turns each variant into an HTTP status and a stable code.

use lazaret_core::ValidationError;
use lazaret_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServiceError {
    /// No credential was sent (a person's link token).
    #[error("a prompt token is required")]
    TokenMissing,
    /// The token matches nothing.
    #[error("unknown prompt token")]
    TokenUnknown,
    /// The prompt was already answered by a verified check-in.
    #[error("this prompt was already answered")]
    TokenUsed,
    /// The prompt was closed as missed.
    #[error("this prompt is closed")]
    PromptClosed,
    /// The order ended (released or completed) and took its open prompts with it.
    #[error("this prompt was cancelled: the order has ended")]
    PromptCancelled,
    /// The prompt's window and its late grace have passed.
    #[error("the window of this prompt has passed")]
    WindowPassed,
    #[error("all tries of this prompt are used")]
    NoTriesLeft,
    /// The same request is still being verified.
    #[error("this request is still being verified; retry in a moment")]
    InProgress,
    #[error("no face is enrolled for this order")]
    NotEnrolled,
    #[error("this server runs without face models")]
    FaceUnavailable,
    /// `template_key` is missing or malformed in the configuration.
    #[error("{0}")]
    TemplateKey(String),
    /// A frame that is not a picture the engine can read: the caller's error,
    /// no try is spent.
    #[error("frame {frame}: {reason}")]
    InvalidImage { frame: usize, reason: String },
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Our fault, logged where it happened; the caller sees only that it failed.
    #[error("internal error")]
    Internal,
}
