//! Every error the API returns, mapped in one place to an HTTP status, a
//! stable machine-readable code and a message (RFC 9457 problem details).
//!
//! [`ErrorCode`] is the one table of codes: each has its status, its string
//! and a line of documentation, and the OpenAPI document lists them from it
//! ([`ErrorCodesDoc`]). The codes are a public contract (clients branch on
//! them): add new ones, never rename one or change its status.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lazaret_core::{DomainError, ValidationError};
use lazaret_face::FaceError;
use lazaret_store::{ImportError, RowError, StoreError, TraceError};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{Modify, ToSchema};

use crate::prompting::IssueError;
use crate::services::ServiceError;

/// Declares [`ErrorCode`]: one line per code with its HTTP status and its
/// stable string, documented by the `///` above it.
macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])+ $name:ident = ($status:ident, $code:literal), )+) => {
        /// A stable, machine-readable reason for a refusal.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])+ $name, )+
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(Self::$name),+];

            /// The string clients see in `code` and in the problem `type`.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$name => $code,)+ }
            }

            /// The HTTP status every response with this code has.
            pub fn status(self) -> StatusCode {
                match self { $(Self::$name => StatusCode::$status,)+ }
            }

            /// What the code means, for the API document.
            pub fn doc(self) -> &'static str {
                match self { $(Self::$name => concat!($($doc),+).trim(),)+ }
            }
        }
    };
}

error_codes! {
    /// The body is not syntactically valid JSON.
    MalformedJson = (BAD_REQUEST, "malformed_json"),
    /// A path, query or body that cannot be read (a bad cursor, a malformed CSV or multipart body).
    InvalidRequest = (BAD_REQUEST, "invalid_request"),
    /// Well-formed JSON or form fields of the wrong shape (a missing or unknown field, a wrong type).
    InvalidBody = (UNPROCESSABLE_ENTITY, "invalid_body"),
    /// The body is not of the content type the route takes; `detail` names it.
    UnsupportedMediaType = (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
    /// A value breaks a rule; `field` names the input at fault.
    ValidationFailed = (UNPROCESSABLE_ENTITY, "validation_failed"),
    /// An officer route without a valid API token (`Authorization: Bearer …`).
    Unauthorized = (UNAUTHORIZED, "unauthorized"),
    /// A person's link token is missing or unknown.
    InvalidToken = (UNAUTHORIZED, "invalid_token"),
    /// The officer's role may not do this.
    Forbidden = (FORBIDDEN, "forbidden"),
    /// No such record or route.
    NotFound = (NOT_FOUND, "not_found"),
    /// The record exists already, or was changed by someone else meanwhile.
    Conflict = (CONFLICT, "conflict"),
    /// The record's state does not allow this (e.g. the order has ended).
    IllegalTransition = (CONFLICT, "illegal_transition"),
    /// The same check-in request is still being verified; retry in a moment.
    InProgress = (CONFLICT, "in_progress"),
    /// No approved face template exists for the order.
    NotEnrolled = (CONFLICT, "not_enrolled"),
    /// No self-enrolment photo waits for a decision.
    NothingPending = (CONFLICT, "nothing_pending"),
    /// The link was already used (a prompt answered, a form sent, a photo uploaded).
    TokenUsed = (GONE, "token_used"),
    /// The link's time is over, or its order has ended.
    TokenExpired = (GONE, "token_expired"),
    /// The link was replaced by a newer one.
    TokenRevoked = (GONE, "token_revoked"),
    /// Every try of the prompt is spent.
    NoTriesLeft = (GONE, "no_tries_left"),
    /// The body is larger than the server takes.
    PayloadTooLarge = (PAYLOAD_TOO_LARGE, "payload_too_large"),
    /// No face was found in the photo.
    NoFace = (UNPROCESSABLE_ENTITY, "no_face"),
    /// More than one face is in the photo; exactly one is required.
    MultipleFaces = (UNPROCESSABLE_ENTITY, "multiple_faces"),
    /// The face is too small, blurred, dark, turned or cut off; `detail` says how to retake it.
    LowQuality = (UNPROCESSABLE_ENTITY, "low_quality"),
    /// The upload is not a JPEG, PNG or WebP picture the engine can read, or is too many pixels.
    InvalidImage = (UNPROCESSABLE_ENTITY, "invalid_image"),
    /// Rows of a CSV upload are invalid; `errors` lists each (line, column, reason) and nothing was stored.
    InvalidRows = (UNPROCESSABLE_ENTITY, "invalid_rows"),
    /// The database cannot be reached.
    Unavailable = (SERVICE_UNAVAILABLE, "unavailable"),
    /// This server runs without face models.
    FaceUnavailable = (SERVICE_UNAVAILABLE, "face_unavailable"),
    /// `template_key` is missing or malformed in the server's configuration.
    TemplateKeyMissing = (SERVICE_UNAVAILABLE, "template_key_missing"),
    /// A stored template cannot be opened with the configured keys (a wrong `template_key`, or a previous key left out); the log names the key id.
    TemplateKeyWrong = (SERVICE_UNAVAILABLE, "template_key_wrong"),
    /// The server failed; the cause is in its log.
    Internal = (INTERNAL_SERVER_ERROR, "internal"),
    /// Too many requests from this caller (a link, an address, an account) or for this order; `Retry-After` says when to come back.
    RateLimited = (TOO_MANY_REQUESTS, "rate_limited"),
    /// The face work is at its bound and nothing was spent; retry after `Retry-After` seconds.
    FaceBusy = (SERVICE_UNAVAILABLE, "face_busy"),
}

#[derive(Debug, Error)]
pub enum ApiError {
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidBody(String),
    /// The content type the route takes.
    #[error("send the body as Content-Type: {0}")]
    UnsupportedMediaType(&'static str),
    #[error("{0}")]
    Validation(ValidationError),
    #[error("a valid API token is required (Authorization: Bearer …)")]
    Unauthorized,
    #[error("your role may not {0}")]
    Forbidden(&'static str),
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    IllegalTransition(String),
    #[error("request body too large")]
    TooLarge,
    #[error("the database is unavailable")]
    Unavailable,
    /// A refusal whose exact reason callers act on (a spent or expired link
    /// token, a refused photo, a missing face engine): the code comes from
    /// the table, and with it the status.
    #[error("{detail}")]
    Refused { code: ErrorCode, detail: String },
    /// A CSV upload with bad rows; nothing was stored. `errors` holds the
    /// first of them, `total` counts all.
    #[error("{total} error(s) in {rows} row(s); nothing was stored")]
    InvalidRows {
        rows: u64,
        errors: Vec<RowError>,
        total: u64,
    },
    /// A refusal that asks the caller to come back after `retry_after_secs`
    /// (sent as `Retry-After`).
    #[error("{detail}")]
    RetryLater {
        code: ErrorCode,
        detail: String,
        retry_after_secs: u64,
    },
    #[error("internal error")]
    Internal,
}

/// One bad row of a CSV upload.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkRowError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub column: String,
    pub reason: String,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`urn:lazaret:problem:<code>`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable code for programs; the document lists every code with its status.
    pub code: String,
    pub detail: String,
    /// The input at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The first bad rows (`[limits] csv_max_row_errors`), for `invalid_rows`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<BulkRowError>>,
    /// How many row errors the file has in all, for `invalid_rows`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_count: Option<u64>,
}

/// Writes the code table into the `Problem` schema of the OpenAPI document:
/// the `code` property's allowed values and what each means.
pub struct ErrorCodesDoc;

impl Modify for ErrorCodesDoc {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") else {
            return;
        };
        let mut text = String::from(
            "Stable code for programs to branch on (the title and detail are for people). \
             Each code always comes with the same status:\n",
        );
        for c in ErrorCode::ALL {
            text.push_str(&format!(
                "\n- `{}` ({}): {}",
                c.as_str(),
                c.status().as_u16(),
                c.doc()
            ));
        }
        let code = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .description(Some(text))
            .build();
        problem
            .properties
            .insert("code".to_owned(), RefOr::T(Schema::Object(code)));
    }
}

impl ApiError {
    /// The code of this error, and through it the status.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::MalformedJson(_) => ErrorCode::MalformedJson,
            Self::InvalidRequest(_) => ErrorCode::InvalidRequest,
            Self::InvalidBody(_) => ErrorCode::InvalidBody,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::Unauthorized => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound { .. } => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::IllegalTransition(_) => ErrorCode::IllegalTransition,
            Self::TooLarge => ErrorCode::PayloadTooLarge,
            Self::Unavailable => ErrorCode::Unavailable,
            Self::Refused { code, .. } | Self::RetryLater { code, .. } => *code,
            Self::InvalidRows { .. } => ErrorCode::InvalidRows,
            Self::Internal => ErrorCode::Internal,
        }
    }

    /// A refusal with its code from the table.
    pub fn refused(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::Refused {
            code,
            detail: detail.into(),
        }
    }

    pub fn not_found(entity: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    fn problem(self) -> Problem {
        let code = self.code();
        let status = code.status();
        let detail = match &self {
            Self::Validation(v) => v.reason.clone(),
            other => other.to_string(),
        };
        let (field, errors, error_count) = match self {
            Self::Validation(v) => (Some(v.field), None, None),
            Self::InvalidRows { errors, total, .. } => (
                None,
                Some(
                    errors
                        .into_iter()
                        .map(|e| BulkRowError {
                            line: e.line,
                            column: e.column,
                            reason: e.reason,
                        })
                        .collect(),
                ),
                Some(total),
            ),
            _ => (None, None, None),
        };
        Problem {
            kind: format!("urn:lazaret:problem:{}", code.as_str()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            code: code.as_str().to_owned(),
            detail,
            field,
            errors,
            error_count,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code().status();
        let retry_after = match &self {
            Self::RetryLater {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let mut resp = (status, axum::Json(self.problem())).into_response();
        if let Some(secs) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        Self::Validation(e)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(v) => Self::Validation(v),
            t @ DomainError::IllegalTransition { .. } => Self::IllegalTransition(t.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict { .. } | StoreError::Stale { .. } => Self::Conflict(e.to_string()),
            StoreError::NotFound { entity, id } => Self::NotFound { entity, id },
            StoreError::MissingReference(_) => {
                Self::InvalidRequest("a referenced record does not exist".into())
            }
            StoreError::InvalidCursor => Self::InvalidRequest("invalid cursor".into()),
            StoreError::Connect(_) => Self::Unavailable,
            other => {
                tracing::error!(error = %other, "storage error");
                Self::Internal
            }
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        use ServiceError as S;
        let code = match &e {
            S::TokenMissing(_) | S::TokenUnknown(_) => ErrorCode::InvalidToken,
            S::TokenUsed(_) | S::LinkClosed => ErrorCode::TokenUsed,
            S::PromptClosed
            | S::PromptCancelled
            | S::WindowPassed
            | S::FormWithdrawn
            | S::FormDayOver
            | S::LinkExpired
            | S::DataAccessOver => ErrorCode::TokenExpired,
            S::LinkRevoked => ErrorCode::TokenRevoked,
            S::NoTriesLeft => ErrorCode::NoTriesLeft,
            S::InProgress => ErrorCode::InProgress,
            S::NotEnrolled => ErrorCode::NotEnrolled,
            S::NothingPending { .. } => ErrorCode::NothingPending,
            S::FaceUnavailable => ErrorCode::FaceUnavailable,
            S::TemplateKey(_) => ErrorCode::TemplateKeyMissing,
            S::TemplateUnreadable { .. } => ErrorCode::TemplateKeyWrong,
            S::InvalidImage { .. } => ErrorCode::InvalidImage,
            S::RateLimited {
                retry_after_secs, ..
            } => {
                return Self::RetryLater {
                    code: ErrorCode::RateLimited,
                    retry_after_secs: *retry_after_secs,
                    detail: e.to_string(),
                }
            }
            S::FaceBusy { retry_after_secs } => {
                return Self::RetryLater {
                    code: ErrorCode::FaceBusy,
                    retry_after_secs: *retry_after_secs,
                    detail: e.to_string(),
                }
            }
            S::NoFaceToPrompt { .. }
            | S::EnrolmentAwaitsDecision { .. }
            | S::ResultConflict { .. }
            | S::TestOfAnotherPerson { .. } => return Self::Conflict(e.to_string()),
            S::OrderState { .. } => return Self::IllegalTransition(e.to_string()),
            S::MissingReference { .. } => return Self::InvalidRequest(e.to_string()),
            S::Photo(_)
            | S::InvalidRows { .. }
            | S::NotFound { .. }
            | S::Invalid(_)
            | S::Domain(_)
            | S::Store(_)
            | S::Trace(_)
            | S::Import(_)
            | S::Issue(_)
            | S::Internal => {
                return match e {
                    S::Photo(f) => f.into(),
                    S::InvalidRows {
                        rows,
                        errors,
                        total,
                    } => Self::InvalidRows {
                        rows,
                        errors,
                        total,
                    },
                    S::NotFound { entity, id } => Self::NotFound { entity, id },
                    S::Invalid(v) => Self::Validation(v),
                    S::Domain(d) => d.into(),
                    S::Store(s) => s.into(),
                    S::Trace(t) => t.into(),
                    S::Import(i) => i.into(),
                    S::Issue(i) => i.into(),
                    _ => Self::Internal,
                };
            }
        };
        Self::refused(code, e.to_string())
    }
}

/// A photo the engine refused, explained so the person or officer can
/// retake it; an engine failure is ours and only logged.
impl From<FaceError> for ApiError {
    fn from(e: FaceError) -> Self {
        let code = match &e {
            FaceError::NoFace => ErrorCode::NoFace,
            FaceError::MultipleFaces { .. } => ErrorCode::MultipleFaces,
            FaceError::PoorQuality { .. } | FaceError::FaceOutOfFrame => ErrorCode::LowQuality,
            FaceError::TooManyBytes { .. } => return Self::TooLarge,
            FaceError::EmptyImage
            | FaceError::UnsupportedFormat
            | FaceError::TooManyPixels { .. }
            | FaceError::CorruptImage(_) => ErrorCode::InvalidImage,
            other => {
                tracing::error!(error = %other, "face engine failed");
                return Self::Internal;
            }
        };
        Self::refused(code, e.to_string())
    }
}

impl From<TraceError> for ApiError {
    fn from(e: TraceError) -> Self {
        match e {
            TraceError::Store(e) => e.into(),
            TraceError::Invalid(v) => v.into(),
            TraceError::Domain(d) => d.into(),
            e @ TraceError::Changed { .. } => Self::Conflict(e.to_string()),
        }
    }
}

/// A CSV that cannot be read at all; bad rows come back in the import's
/// report instead and become [`ApiError::InvalidRows`].
impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Read(e) => Self::InvalidRequest(format!("the CSV is malformed: {e}")),
            ImportError::Store(e) => e.into(),
        }
    }
}

impl From<IssueError> for ApiError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Store(e) => e.into(),
            other => {
                tracing::error!(error = %other, "issuing failed");
                Self::Internal
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonSyntaxError(e) => Self::MalformedJson(e.body_text()),
            JsonRejection::JsonDataError(e) => Self::InvalidBody(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => {
                Self::UnsupportedMediaType("application/json")
            }
            JsonRejection::BytesRejection(_) => Self::TooLarge,
            other => Self::InvalidRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::InvalidRequest(r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::InvalidRequest(r.body_text())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// The codes and statuses clients and outside checks rely on, written out
    /// by hand so that renaming a code or changing its status fails here.
    const PUBLISHED: &[(&str, u16)] = &[
        ("malformed_json", 400),
        ("invalid_request", 400),
        ("invalid_body", 422),
        ("unsupported_media_type", 415),
        ("validation_failed", 422),
        ("unauthorized", 401),
        ("invalid_token", 401),
        ("forbidden", 403),
        ("not_found", 404),
        ("conflict", 409),
        ("illegal_transition", 409),
        ("in_progress", 409),
        ("not_enrolled", 409),
        ("nothing_pending", 409),
        ("token_used", 410),
        ("token_expired", 410),
        ("token_revoked", 410),
        ("no_tries_left", 410),
        ("payload_too_large", 413),
        ("no_face", 422),
        ("multiple_faces", 422),
        ("low_quality", 422),
        ("invalid_image", 422),
        ("invalid_rows", 422),
        ("unavailable", 503),
        ("face_unavailable", 503),
        ("template_key_missing", 503),
        ("template_key_wrong", 503),
        ("internal", 500),
        ("rate_limited", 429),
        ("face_busy", 503),
    ];

    #[test]
    fn every_code_is_unique_documented_and_in_the_openapi_document() {
        let strings: HashSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            strings.len(),
            ErrorCode::ALL.len(),
            "a code string is used twice"
        );
        for c in ErrorCode::ALL {
            assert!(!c.doc().is_empty(), "{c:?} has no documentation");
        }

        let doc = serde_json::to_value(crate::openapi()).unwrap();
        let code = &doc["components"]["schemas"]["Problem"]["properties"]["code"];
        let listed: HashSet<&str> = code["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("Problem.code has no enum: {code}"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(listed, strings);
        let text = code["description"].as_str().unwrap();
        for c in ErrorCode::ALL {
            let line = format!("- `{}` ({}): ", c.as_str(), c.status().as_u16());
            assert!(text.contains(&line), "{line} missing from {text}");
        }
    }

    #[test]
    fn codes_and_statuses_stay_as_published() {
        let table: Vec<(&str, u16)> = ErrorCode::ALL
            .iter()
            .map(|c| (c.as_str(), c.status().as_u16()))
            .collect();
        assert_eq!(table, PUBLISHED);
    }

    #[test]
    fn bad_csv_rows_keep_the_bulk_problem_shape() {
        let e = ApiError::InvalidRows {
            total: 1,
            rows: 3,
            errors: vec![RowError {
                line: 2,
                column: "lat".into(),
                reason: "must be between -90 and 90".into(),
            }],
        };
        assert_eq!(e.code().status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = serde_json::to_string(&e.problem()).unwrap();
        assert_eq!(
            body,
            r#"{"type":"urn:lazaret:problem:invalid_rows","title":"Unprocessable Entity","status":422,"code":"invalid_rows","detail":"1 error(s) in 3 row(s); nothing was stored","errors":[{"line":2,"column":"lat","reason":"must be between -90 and 90"}],"error_count":1}"#
        );
    }

    #[test]
    fn other_problems_carry_no_row_list() {
        let body = serde_json::to_value(ApiError::Unauthorized.problem()).unwrap();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(keys.len(), 5, "{body}");
        assert!(body.get("errors").is_none() && body.get("field").is_none());
    }

    #[test]
    fn photo_refusals_map_to_their_codes() {
        let cases = [
            (FaceError::NoFace, ErrorCode::NoFace),
            (
                FaceError::MultipleFaces { count: 2 },
                ErrorCode::MultipleFaces,
            ),
            (FaceError::FaceOutOfFrame, ErrorCode::LowQuality),
            (FaceError::UnsupportedFormat, ErrorCode::InvalidImage),
            (
                FaceError::TooManyBytes { size: 9, limit: 1 },
                ErrorCode::PayloadTooLarge,
            ),
            (FaceError::BadTemplate("x".into()), ErrorCode::Internal),
        ];
        for (face, code) in cases {
            let text = face.to_string();
            let e = ApiError::from(face);
            assert_eq!(e.code(), code, "{text}");
            if code == ErrorCode::NoFace {
                assert_eq!(e.to_string(), text, "the engine's reason is the detail");
            }
        }
    }
}
