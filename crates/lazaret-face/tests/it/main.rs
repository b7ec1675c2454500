//! The face engine's integration tests, one binary (one link step) with a module per subject.
//! Shared helpers (models, engine, golden data, the fixture photos) live in `common`.

mod common;

mod engine;
mod model_files;
mod parity;
