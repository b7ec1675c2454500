//! The error a network's forward pass reports.
//!
//! The networks run on the hand-written kernels of [`crate::conv_gemm`] and
//! [`crate::winograd`]; the tract graphs that served as their first backend are now the
//! test references in `reference` (behind the `reference` feature).

/// Failure running a network (an input of the wrong size or shape).
#[derive(Debug, thiserror::Error)]
#[error("inference error: {0}")]
pub struct InferenceError(pub String);
