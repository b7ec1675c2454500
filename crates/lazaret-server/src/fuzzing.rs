//! The check-in form parser and the FHIR reader as the fuzz targets call them (`fuzz/`, a crate
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

/// What `POST /api/v1/fhir` does with a body before the service writes:
/// the JSON parse, the bundle reader and the checks made on each test
/// before anything is stored. The entries' count on success, which must
/// be the count of entries sent (each gets an answer).
pub fn fhir_bundle(body: &[u8]) -> Result<usize, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let bundle =
        crate::fhir::read_bundle(&value).map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
    let sent = value
        .get("entry")
        .and_then(serde_json::Value::as_array)
        .map_or(0, Vec::len);
    assert_eq!(bundle.entries.len(), sent, "an entry without an answer");
    for e in &bundle.entries {
        match e {
            crate::fhir::Entry::Test(t) => {
                // The same parses the service makes; a bad id is a refusal there, never a panic.
                let _ = lazaret_core::ids::TestId::parse(&t.test_id);
                let _ = lazaret_core::ids::PersonId::parse(&t.person_id);
                if let Some(r) = t.resulted_at {
                    let _ = r.signed_duration_since(t.sampled_at);
                }
            }
            crate::fhir::Entry::Refused(why) => {
                assert!(!why.is_empty(), "a refusal without a reason")
            }
            crate::fhir::Entry::Report { observations } => assert!(*observations > 0),
            crate::fhir::Entry::Patient(id) => assert!(!id.is_empty(), "a Patient without an id"),
        }
    }
    Ok(bundle.entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written seeds of the FHIR target are bundles the reader
    /// answers entry by entry; garbage is a 400, never a panic.
    #[test]
    fn fhir_seeds_are_read_and_garbage_is_refused() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/fhir_bundle");
        let mut seen = 0;
        for f in std::fs::read_dir(&dir).unwrap() {
            let path = f.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let n = fhir_bundle(&std::fs::read(&path).unwrap())
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(n > 0, "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 4, "seeds in {}", dir.display());
        assert!(matches!(
            fhir_bundle(b"{\"resourceType\":"),
            Err(ApiError::MalformedJson(_))
        ));
        assert!(matches!(
            fhir_bundle(br#"{"resourceType":"Bundle","type":"batch","entry":[{}]}"#),
            Err(ApiError::InvalidRequest(_))
        ));
    }
}
