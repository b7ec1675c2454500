//! Lazaret persistence: one [`Store`] over SQLite (the embedded default) or
//! PostgreSQL (the scale path), chosen by the URL scheme.

mod audit;
mod db;
mod error;
mod jobs;
mod orders;
mod page;
mod persons;
pub mod testing;
mod tokens;

pub use db::{migration_sql, BackendKind, Store};
pub use error::StoreError;
pub use jobs::{Backoff, ClaimedJob, Failure, NewJob, QueueStats};
pub use orders::OrderFilter;
pub use page::{Page, PageRequest, DEFAULT_LIMIT, MAX_LIMIT};
pub use persons::PersonFilter;
pub use tokens::TokenRecord;
