//! The check-in form parser as the fuzz targets call it (`fuzz/`, a crate
//! outside the workspace). Hidden from the docs: not an API.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart};
use axum::http::{HeaderMap, Request};

use crate::error::ApiError;
use crate::multipart::read_person_upload;
use crate::routes::checkins::parse_submission;

/// What `POST /api/v1/checkins` does with a request before the service sees
/// it: the multipart extractor, the token-first reader (every token admitted)
/// and the form's fields. The frames' count on success.
pub async fn checkin_form(headers: HeaderMap, body: Vec<u8>) -> Result<usize, ApiError> {
    let mut req = Request::new(Body::from(body));
    *req.method_mut() = axum::http::Method::POST;
    *req.headers_mut() = headers.clone();
    let form = Multipart::from_request(req, &()).await;
    let (token, parts) = read_person_upload(&headers, form, |_| async { Ok(()) }).await?;
    Ok(parse_submission(&headers, token, parts)?.frames.len())
}
