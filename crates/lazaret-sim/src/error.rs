//! The simulator's errors: a region or policy file that does not parse or
//! holds a value out of range.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SimError {
    #[error("{0}")]
    Parse(String),
    #[error("{0}")]
    Invalid(String),
    #[error("policy {name}: {source}")]
    Policy {
        name: String,
        #[source]
        source: lazaret_core::tracing_policy::PolicyError,
    },
}
