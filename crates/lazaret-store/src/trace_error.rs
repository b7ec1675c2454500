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
}

impl From<sqlx::Error> for TraceError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}
