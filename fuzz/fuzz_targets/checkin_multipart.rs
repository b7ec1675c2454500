//! The check-in upload (`POST /api/v1/checkins`) up to the service: the
//! multipart extractor, the token-first reader and the form's fields.
//!
//! Input: an HTTP-like head, then the body: header lines `name: value` up to
//! the first empty line (`Content-Type` with the boundary,
//! `X-Lazaret-Token`, `Idempotency-Key`; lines that are no valid header are
//! skipped), then the body bytes.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use lazaret_fuzz::runtime;

fn split_head(data: &[u8]) -> (HeaderMap, Vec<u8>) {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let mut headers = HeaderMap::new();
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = line[colon + 1..].trim_ascii();
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(value),
        ) {
            headers.append(n, v);
        }
    }
    (headers, body.to_vec())
}

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let (headers, body) = split_head(data);
        let _ = runtime().block_on(lazaret_server::fuzzing::checkin_form(headers, body));
    });
}
