//! Every error the API returns, mapped in one place to an HTTP status, a
//! stable machine-readable code and a message (RFC 9457 problem details).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use lazaret_core::{DomainError, ValidationError};
use lazaret_store::StoreError;

use crate::prompting::IssueError;
use serde::Serialize;

use crate::services::ServiceError;
use thiserror::Error;
use utoipa::ToSchema;

#[derive(Debug, Error)]
pub enum ApiError {
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidBody(String),
    #[error("send the body as Content-Type: application/json")]
    UnsupportedMediaType,
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
    /// A refusal with its own status and code, for routes whose callers act
    /// on the exact reason (face-photo problems, spent or expired prompt
    /// tokens, a missing face engine).
    #[error("{detail}")]
    Rejected {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    #[error("internal error")]
    Internal,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`urn:lazaret:problem:<code>`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable code for programs: `malformed_json`, `invalid_request`,
    /// `invalid_body`, `unsupported_media_type`, `validation_failed`, `unauthorized`, `forbidden`, `not_found`,
    /// `conflict`, `illegal_transition`, `payload_too_large`, `unavailable`,
    /// `internal`.
    pub code: String,
    pub detail: String,
    /// The input at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            Self::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::InvalidBody(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::IllegalTransition(_) => (StatusCode::CONFLICT, "illegal_transition"),
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Rejected { status, code, .. } => (*status, code),
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    pub fn rejected(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self::Rejected {
            status,
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
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let field = match &self {
            Self::Validation(v) => Some(v.field.clone()),
            _ => None,
        };
        let detail = match &self {
            Self::Validation(v) => v.reason.clone(),
            other => other.to_string(),
        };
        let problem = Problem {
            kind: format!("urn:lazaret:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            code: code.to_owned(),
            detail,
            field,
        };
        let mut resp = (status, axum::Json(problem)).into_response();
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
        let (status, code) = match &e {
            S::TokenMissing | S::TokenUnknown => (StatusCode::UNAUTHORIZED, "invalid_token"),
            S::TokenUsed => (StatusCode::GONE, "token_used"),
            S::PromptClosed | S::PromptCancelled | S::WindowPassed => {
                (StatusCode::GONE, "token_expired")
            }
            S::NoTriesLeft => (StatusCode::GONE, "no_tries_left"),
            S::InProgress => (StatusCode::CONFLICT, "in_progress"),
            S::NotEnrolled => (StatusCode::CONFLICT, "not_enrolled"),
            S::FaceUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "face_unavailable"),
            S::TemplateKey(_) => (StatusCode::SERVICE_UNAVAILABLE, "template_key_missing"),
            S::InvalidImage { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_image"),
            S::NotFound { .. } | S::Invalid(_) | S::Store(_) | S::Internal => {
                return match e {
                    S::NotFound { entity, id } => Self::NotFound { entity, id },
                    S::Invalid(v) => Self::Validation(v),
                    S::Store(s) => s.into(),
                    _ => Self::Internal,
                };
            }
        };
        Self::rejected(status, code, e.to_string())
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
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType,
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
