//! Lazaret's domain: types and rules with no I/O.
//!
//! Values are parsed once at the edge (`parse`, serde `try_from`) so that
//! everything past it holds only valid data.

pub mod account;
pub mod alert;
pub mod audit;
pub mod chains;
pub mod challenge;
pub mod checkin;
pub mod contact;
pub mod contact_info;
pub mod district;
pub mod error;
pub mod exposure;
pub mod exposure_rules;
pub mod follow_up;
pub mod geo;
pub mod ids;
pub mod indicators;
pub mod order;
pub mod person;
pub mod prompt_schedule;
pub mod revision;
pub mod symptom;
pub mod test_result;
pub mod tracing_policy;
pub mod user;
pub mod zone_lookup;

pub use error::{DomainError, ValidationError};
