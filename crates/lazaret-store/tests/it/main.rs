//! The store's integration tests, one binary (one link step) with a module per subject,
//! each story a test per backend (`story::sqlite`, `story::postgres`) through `backends!`.

mod accounts;
mod audit;
mod districts;
mod enrollment_photo;
mod job_leases;
mod jobs;
mod self_enrollment;
mod stories;
mod tracing_stories;
