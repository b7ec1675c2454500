//! Reading multipart uploads with our problem+json errors.

use std::future::Future;

use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::{HeaderMap, StatusCode};

use crate::error::{ApiError, ErrorCode};

/// The header the person's pages send their link token in, so that the
/// server checks it before it reads the upload.
pub const TOKEN_HEADER: &str = "x-lazaret-token";

/// Longest link token read from a form (ours are under 100 characters).
const MAX_TOKEN_BYTES: usize = 512;

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

/// A person's upload, read token first: the link token comes in the
/// [`TOKEN_HEADER`] header or as the form's first part `token`, and
/// `admit` checks it (rate limits, a known link) before any other part is
/// read, so that an upload with an unknown token is refused after its first
/// bytes, not after 16 MiB. The token and the other parts.
pub async fn read_person_upload<F, Fut>(
    headers: &HeaderMap,
    form: Result<Multipart, MultipartRejection>,
    admit: F,
) -> Result<(String, Vec<Part>), ApiError>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<(), ApiError>>,
{
    let header = match headers.get(TOKEN_HEADER) {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::InvalidRequest(format!("{TOKEN_HEADER} is not text")))?
                .trim()
                .to_owned(),
        ),
        None => None,
    };
    let mut form = form.map_err(|_| ApiError::UnsupportedMediaType("multipart/form-data"))?;
    let token = match header {
        Some(token) => {
            admit(token.clone()).await?;
            token
        }
        None => {
            let first = form.next_field().await.map_err(part_error)?;
            let Some(mut field) = first.filter(|f| f.name() == Some("token")) else {
                return Err(ApiError::refused(
                    ErrorCode::InvalidToken,
                    format!(
                        "send the link token first: in the {TOKEN_HEADER} header or as the \
                         form's first part, token"
                    ),
                ));
            };
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(part_error)? {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_TOKEN_BYTES {
                    return Err(ApiError::refused(
                        ErrorCode::InvalidToken,
                        "the token field is too long",
                    ));
                }
            }
            let token = String::from_utf8(bytes)
                .map_err(|_| ApiError::InvalidRequest("field token is not UTF-8 text".into()))?
                .trim()
                .to_owned();
            admit(token.clone()).await?;
            token
        }
    };
    let mut parts = Vec::new();
    while let Some(field) = form.next_field().await.map_err(part_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(part_error)?.to_vec();
        if name == "token" {
            // The page sends the header and the field; they must agree.
            if std::str::from_utf8(&bytes).map(str::trim) != Ok(token.as_str()) {
                return Err(ApiError::InvalidRequest(
                    "the token field and the header differ".into(),
                ));
            }
            continue;
        }
        parts.push(Part {
            name,
            file_name,
            bytes,
        });
    }
    Ok((token, parts))
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
