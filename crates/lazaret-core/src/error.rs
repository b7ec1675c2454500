//! Validation errors of the domain layer.

use thiserror::Error;

/// A value that does not satisfy the rules of the domain. `field` names the
/// input that was wrong so an API or importer can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    pub field: String,
    pub reason: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Errors of domain operations (state machines, rules).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("illegal transition of {entity} from {from} to {to}")]
    IllegalTransition {
        entity: &'static str,
        from: String,
        to: String,
    },
}
