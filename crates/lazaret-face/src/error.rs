//! The engine's error type: every bad input maps to one of these, never a panic.

use crate::inference::InferenceError;
use crate::models::ModelError;
use crate::quality::QualityIssue;

#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("the image is empty (0 bytes)")]
    EmptyImage,
    #[error("the image is {size} bytes; the limit is {limit}")]
    TooManyBytes { size: usize, limit: usize },
    #[error("not a JPEG, PNG or WebP image")]
    UnsupportedFormat,
    #[error("the image is {width}×{height} pixels; the limit is {limit} pixels (refused before decoding)")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("the image could not be decoded: {0}")]
    CorruptImage(String),
    #[error("no face was found in the image")]
    NoFace,
    #[error("{count} faces were found; exactly one is required")]
    MultipleFaces { count: usize },
    #[error("the face could not be cut out of the image")]
    FaceOutOfFrame,
    #[error("the photo is not good enough to enrol: {}", issues.iter().map(|i| i.advice()).collect::<Vec<_>>().join("; "))]
    PoorQuality { issues: Vec<QualityIssue> },
    #[error("a check-in needs between {min} and {max} frames, got {got}")]
    FrameCount { got: usize, min: usize, max: usize },
    #[error("invalid template: {0}")]
    BadTemplate(String),
    #[error("the template was made by another model ({found}); this engine uses {expected}")]
    TemplateMismatch { found: String, expected: String },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Inference(#[from] InferenceError),
    #[error(transparent)]
    KernelPath(#[from] crate::simd::KernelPathError),
}

impl FaceError {
    /// A stable machine-readable code (for APIs and JSON output).
    pub fn code(&self) -> &'static str {
        match self {
            FaceError::EmptyImage => "empty_image",
            FaceError::TooManyBytes { .. } => "too_many_bytes",
            FaceError::UnsupportedFormat => "unsupported_format",
            FaceError::TooManyPixels { .. } => "too_many_pixels",
            FaceError::CorruptImage(_) => "corrupt_image",
            FaceError::NoFace => "no_face",
            FaceError::MultipleFaces { .. } => "multiple_faces",
            FaceError::FaceOutOfFrame => "face_out_of_frame",
            FaceError::PoorQuality { .. } => "poor_quality",
            FaceError::FrameCount { .. } => "frame_count",
            FaceError::BadTemplate(_) => "bad_template",
            FaceError::TemplateMismatch { .. } => "template_mismatch",
            FaceError::Model(_) => "model_error",
            FaceError::Inference(_) => "inference_error",
            FaceError::KernelPath(_) => "kernel_path",
        }
    }
}
