//! The outbreak and policy simulator: what a tracing policy buys, per day of
//! quarantine it costs.
//!
//! A synthetic region ([`region`]) from a few parameters ([`params`]); an
//! agent-based, stochastic transmission model on its households, buildings,
//! workplaces, schools, rides and flights ([`model`], [`disease`]); testing,
//! isolation and tracing as an authority does it, with contacts found by
//! production's own engine and policy TOML ([`engine_bridge`], [`policy`]);
//! many runs per policy on common random numbers ([`runner`]), summarised
//! with intervals ([`summary`]) and drawn ([`chart`]).
//!
//! Nothing here reads or writes a database: a simulation runs in memory.

pub mod chart;
pub mod disease;
pub mod engine_bridge;
pub mod error;
pub mod model;
pub mod params;
pub mod policy;
pub mod random;
pub mod region;
pub mod runner;
pub mod summary;

pub use error::SimError;
