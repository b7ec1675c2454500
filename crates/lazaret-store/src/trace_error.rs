//! Errors of the tracing operations that mix domain rules with storage.

use lazaret_core::{DomainError, ValidationError};
use thiserror::Error;

use crate::error::StoreError;

#[derive(Debug, Error)]
pub enum TraceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// What an officer previewed is no longer what the operation would do
    /// (another trace, order or revision came in between); nothing changed.
    #[error("{what} changed since it was previewed; nothing was done, review it again")]
    Changed { what: &'static str },
}

impl From<sqlx::Error> for TraceError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}
