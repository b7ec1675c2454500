//! lazaret-face — the 1:1 face-verification engine.
//!
//! Safeguards by construction: every comparison is between one enrolled template and the
//! frames of one check-in. There is no gallery search and no identification, and nothing
//! infers age, gender, expression or any other attribute: only the detector, the 68-point
//! landmark net and the recognition net are ever loaded.

pub mod align;
pub mod conv_gemm;
pub mod detector;
pub mod engine;
pub mod error;
pub mod evaluation;
pub mod image_input;
pub mod inference;
pub mod landmarks;
pub mod liveness;
pub mod models;
pub mod models_fetch;
pub mod pipeline;
pub mod preprocess;
pub mod quality;
pub mod recognition;
#[cfg(feature = "reference")]
pub mod reference;
pub mod simd;
pub mod template;
pub mod weights;
pub mod winograd;

pub use engine::{
    Decision, EngineConfig, FaceAnalysis, FaceEngine, Finding, Inspection, TargetFmr, Verdict,
};
pub use error::FaceError;
/// The decoded picture `FaceEngine::decode` returns and `analyze_image` takes.
pub use image::RgbImage;
pub use liveness::{Challenge, HeadPose, LivenessOutcome};
pub use simd::{KernelChoice, KernelPath};
pub use template::Template;
