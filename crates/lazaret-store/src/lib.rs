//! Lazaret persistence: one [`Store`] over SQLite (the embedded default) or
//! PostgreSQL (the scale path), chosen by the URL scheme.

mod accounts;
mod alerts;
mod audit;
mod cannot_prompt;
mod cases;
mod contact_orders;
mod contacts;
mod db;
mod enrollment_links;
mod enrollments;
mod error;
mod export;
mod exposures;
mod follow_ups;
mod import;
mod imports;
mod indicators;
mod jobs;
mod keys;
mod list_seed;
mod notices;
mod order_csv;
mod order_end;
mod orders;
mod outbox;
mod overview;
mod page;
mod persons;
mod prompts;
mod revisions;
mod scope;
mod stats;
mod surveillance;
mod symptoms;
#[cfg(feature = "testing")]
pub mod testing;
mod tests_repo;
mod tokens;
mod trace_error;

pub use accounts::{FailurePolicy, SessionRecord, UserChange, UserRecord};
pub use alerts::{AlertFilter, AssigneeFilter, NewAlert};
pub use audit::{
    AuditFilter, AuditHead, AuditSettings, AuditVerification, CheckpointLine,
    DEFAULT_CHECKPOINT_EVERY,
};
pub use cannot_prompt::{CannotPromptReason, CannotPromptReport};
pub use cases::CaseRow;
pub use contact_orders::{OrderProposal, ProposalAction, Proposals};
pub use contacts::TraceOutcome;
pub use db::{migration_sql, pg_connect_options, BackendKind, Store};
pub use enrollment_links::{EnrollmentLink, LinkStatus, PendingTemplate, SealedPhoto};
pub use enrollments::EnrollmentRecord;
pub use error::StoreError;
pub use exposures::ResidenceRecord;
pub use follow_ups::{CallRecord, FollowUp, Worklist, INTERVIEW_LOOKBACK_DAYS};
pub use import::{ImportError, ImportKind, ImportOptions, ImportReport, RowError, ROW_ERRORS_KEPT};
pub use imports::{ImportOutcome, ImportRecord, ImportStatus, NewImport};
pub use jobs::{Backoff, ClaimedJob, Failure, NewJob, QueueStats, LEASE_EXPIRED};
pub use keys::{Resealed, SealedPart, SealedRow, LEGACY_KEY_ID};
pub use list_seed::{seed_district, ListSeed};
pub use notices::OrderToNotify;
pub use order_csv::{parse_basis, OrderRowResult, OrdersCsvReport, ORDER_CSV_COLUMNS};
pub use order_end::{closing_resolution, ended_at, OrderEnd};
pub use orders::{OrderFilter, OrderWrite, WrittenOrder};
pub use outbox::{
    Channel, MessageFailure, NewOutboxMessage, OutboxMessage, OutboxStatus, NOTIFY_QUEUE,
};
pub use overview::{CaseCounts, DistrictOverview, OpenAlerts, TRACE_WINDOW_DAYS};
pub use page::{Page, PageRequest, DEFAULT_LIMIT, MAX_LIMIT};
pub use persons::PersonFilter;
pub use prompts::{CheckinContext, CheckinFinish, CheckinRecord, CheckinStart, PromptRecord};
pub use revisions::{KeptOrder, ReleasedOrder, RevisionMode, RevisionReport};
pub use stats::DayStats;
pub use surveillance::{CaseCursor, CaseLine, ContactCursor, ContactLine, SurveillanceFilter};
pub use symptoms::SymptomForm;
pub use tokens::{TokenListing, TokenRecord};
pub use trace_error::TraceError;
