//! The store's integration tests, one binary (one link step) with a module per subject,
//! each story on SQLite and (when configured) PostgreSQL through `TestDb::all()`.

mod audit;
mod jobs;
mod self_enrollment;
mod stories;
mod tracing_stories;
