//! Reading multipart uploads with our problem+json errors.

use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::StatusCode;

use crate::error::ApiError;

/// One part of a form: its name and bytes.
pub struct Part {
    pub name: String,
    /// The file name the browser sent with a file field.
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

fn part_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge
    } else {
        ApiError::InvalidRequest(format!("malformed multipart body: {}", e.body_text()))
    }
}

/// Reads every part (the body size is bounded by the server's body limit).
pub async fn read_parts(
    form: Result<Multipart, MultipartRejection>,
) -> Result<Vec<Part>, ApiError> {
    let mut form = form.map_err(|_| ApiError::UnsupportedMediaType("multipart/form-data"))?;
    let mut parts = Vec::new();
    while let Some(field) = form.next_field().await.map_err(part_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(part_error)?.to_vec();
        parts.push(Part {
            name,
            file_name,
            bytes,
        });
    }
    Ok(parts)
}

/// The text of a single-valued field.
pub fn text<'a>(parts: &'a [Part], name: &str) -> Result<Option<&'a str>, ApiError> {
    match parts.iter().find(|p| p.name == name) {
        None => Ok(None),
        Some(p) => std::str::from_utf8(&p.bytes)
            .map(|s| Some(s.trim()))
            .map_err(|_| ApiError::InvalidRequest(format!("field {name} is not UTF-8 text"))),
    }
}

/// A required number field.
pub fn number(parts: &[Part], name: &'static str) -> Result<f64, ApiError> {
    let raw = text(parts, name)?.ok_or_else(|| {
        ApiError::Validation(lazaret_core::ValidationError::new(name, "is required"))
    })?;
    raw.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            ApiError::Validation(lazaret_core::ValidationError::new(name, "must be a number"))
        })
}
