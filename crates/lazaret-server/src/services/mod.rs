//! The service layer: each use case of the server as one function over
//! [`AppState`](crate::state::AppState), called by every front end alike (the
//! JSON API under `routes/` now, the officers' HTML console later).
//!
//! A service takes typed input (no HTTP types) and the acting officer as a
//! plain [`Actor`], reads what it needs from the store, runs the slow work
//! (the face engine), asks `lazaret_core` for the decision and writes the
//! result in one store call. Handlers only parse the request into the
//! service's input, authorise the caller and render the service's answer;
//! refusals come back as a typed [`ServiceError`], which `error.rs` maps to
//! HTTP.

pub mod accounts;
mod actor;
pub mod alerts;
pub mod checkins;
mod context;
pub mod enrollment;
mod error;
pub mod exports;
pub mod follow_up;
pub mod imports;
pub mod keys;
pub mod lab_results;
pub mod login_gate;
pub mod my_data;
pub mod notices;
pub mod orders;
pub mod overview;
pub mod persons;
pub mod self_enrollment;
pub mod stats;
pub mod subject;
pub mod symptoms;
pub mod tracing;
pub mod what_if;

pub use actor::Actor;
pub use error::ServiceError;
