//! Why a use case refused or failed, in the domain's words; `crate::error`
//! turns each variant into an HTTP status and a stable code.

use lazaret_core::order::OrderStatus;
use lazaret_core::{DomainError, ValidationError};
use lazaret_face::FaceError;
use lazaret_store::{ImportError, RowError, StoreError, TraceError};
use thiserror::Error;

use crate::prompting::IssueError;
use crate::services::subject::Credential;

#[derive(Debug, Error)]
pub enum ServiceError {
    /// No credential was sent (a person's link token).
    #[error("{} is required", .0.with_article())]
    TokenMissing(Credential),
    /// The token matches nothing.
    #[error("unknown {}", .0.noun())]
    TokenUnknown(Credential),
    /// The link was used: the prompt answered by a verified check-in, the
    /// symptom form answered, the enrolment photo sent.
    #[error("{}", .0.used())]
    TokenUsed(Credential),
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
    /// The order ended and withdrew its unused symptom form.
    #[error("this symptom form was withdrawn: the order has ended")]
    FormWithdrawn,
    /// The symptom form's local day is over.
    #[error("this symptom form was for a day that is over")]
    FormDayOver,
    /// The self-enrolment link's time is over.
    #[error("this enrolment link has expired; ask your officer for a new one")]
    LinkExpired,
    /// The person's data: the link's order ended more than the grace ago.
    #[error(
        "this link no longer opens your data: its order ended more than {} days ago",
        crate::services::my_data::GRACE_DAYS
    )]
    DataAccessOver,
    /// The self-enrolment link was replaced by a newer one.
    #[error("this enrolment link was replaced by a newer one")]
    LinkRevoked,
    /// A concurrent upload with the same link won, or the link expired
    /// between the check and the write.
    #[error("this enrolment link is no longer open")]
    LinkClosed,
    /// The same request is still being verified.
    #[error("this request is still being verified; retry in a moment")]
    InProgress,
    /// A check-in for an order without an approved template.
    #[error("no face is enrolled for this order")]
    NotEnrolled,
    /// An officer's "prompt now" for an order without an enrolled face.
    #[error("order {order} has no enrolled face; enrol a photo first")]
    NoFaceToPrompt { order: String },
    /// A new self-enrolment link while a submitted photo waits for a decision.
    #[error(
        "a self-enrolment photo for order {order} waits for approval; approve or reject it first"
    )]
    EnrolmentAwaitsDecision { order: String },
    /// Approve or reject with no self-enrolment photo waiting.
    #[error("order {order} has no self-enrolment waiting for a decision")]
    NothingPending { order: String },
    /// A laboratory sent a different result for a test already stored,
    /// without saying it is a correction.
    #[error(
        "test {test} is stored as {stored}; a different result is a correction: send it with \
         correction_reason (FHIR: status corrected or amended), or use \
         POST /api/v1/tests/{test}/revisions"
    )]
    ResultConflict { test: String, stored: &'static str },
    /// The test id is already another person's.
    #[error("test {test} is stored for another person")]
    TestOfAnotherPerson { test: String },
    /// The order's state does not allow this (e.g. the order has ended).
    #[error("order {order} is {status}; {rule}")]
    OrderState {
        order: String,
        status: OrderStatus,
        /// What the state would have to be, e.g. "only active orders are prompted".
        rule: &'static str,
    },
    /// A record the request names does not exist (a reference, not the
    /// resource itself: a 400, not a 404).
    #[error("{entity} {id} does not exist")]
    MissingReference { entity: &'static str, id: String },
    #[error("this server runs without face models")]
    FaceUnavailable,
    /// `template_key` is missing or malformed in the configuration.
    #[error("{0}")]
    TemplateKey(String),
    /// A stored template (or pending photo) cannot be opened with the
    /// configured keys: a wrong `template_key`, or its id missing from the
    /// configuration. The server's fault, and the same for every check-in.
    #[error(
        "a stored template cannot be opened with the configured template keys (key id {key_id:?})"
    )]
    TemplateUnreadable { key_id: String },
    /// A frame that is not a picture the engine can read: the caller's error,
    /// no try is spent.
    #[error("frame {frame}: {reason}")]
    InvalidImage { frame: usize, reason: String },
    /// A reference photo the engine refused (no face, several, poor quality,
    /// unreadable), or the engine failing on it.
    #[error(transparent)]
    Photo(#[from] FaceError),
    /// Rows of a CSV upload are invalid; nothing was stored. `errors` holds
    /// the first of them (`[limits] csv_max_row_errors`), `total` counts all.
    #[error("{total} error(s) in {rows} row(s); nothing was stored")]
    InvalidRows {
        rows: u64,
        errors: Vec<RowError>,
        total: u64,
    },
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// A CSV that cannot be read at all.
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Issue(#[from] IssueError),
    /// Too many requests of one caller (a link, an address, an account, an
    /// order's prompts) in a short time.
    #[error("too many {what}; try again in {retry_after_secs} s")]
    RateLimited {
        what: &'static str,
        retry_after_secs: u64,
    },
    /// The face work is at its bound; nothing was spent.
    #[error("the server is busy checking other photos; try again in {retry_after_secs} s")]
    FaceBusy { retry_after_secs: u64 },
    /// Our fault, logged where it happened; the caller sees only that it failed.
    #[error("internal error")]
    Internal,
}

impl ServiceError {
    pub(crate) fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }
}
