//! `POST /api/v1/my-data`: what is held about the person, for the person,
//! with any link they were sent as the credential (`services::my_data` has
//! the rules). The token travels in the `X-Lazaret-Token` header or the
//! body (JSON, or a form: the page's download button posts one), never in
//! a URL. The answer is always a download (`Content-Disposition:
//! attachment`): the page reads it with a script, a browser saves it.

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};

use crate::error::{ApiError, Problem};
use crate::multipart::TOKEN_HEADER;
use crate::routes::person_pages::LinkLookup;
use crate::services::my_data::{self, MyData};
use crate::state::AppState;

#[utoipa::path(post, path = "/api/v1/my-data", tag = "persons",
    params(("X-Lazaret-Token" = Option<String>, Header,
        description = "Any link token the person was sent (prompt, symptom form, self-enrolment); else `token` in the body")),
    request_body(content(
        (LinkLookup = "application/json"),
        (LinkLookup = "application/x-www-form-urlencoded"))),
    responses((status = 200, body = MyData,
            description = "everything held about the person (as an attachment, `my-data.json`)"),
        (status = 401, body = Problem, description = "invalid_token: missing or unknown token"),
        (status = 410, body = Problem, description = "token_expired: the link's order ended more than 14 days ago"),
        (status = 429, body = Problem, description = "rate_limited, with Retry-After"),
        (status = 400, body = Problem), (status = 415, body = Problem)))]
pub async fn my_data(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let token = token_of(req).await?;
    let data = my_data::my_data(&state, &token).await?;
    let mut resp = Json(data).into_response();
    resp.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"my-data.json\""),
    );
    Ok(resp)
}

/// The token from the header, else from the body (JSON or form); none or
/// an empty one is refused by the service as missing.
async fn token_of(req: Request) -> Result<String, ApiError> {
    if let Some(t) = req
        .headers()
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.trim().is_empty())
    {
        return Ok(t.to_owned());
    }
    let Some(kind) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        // No token header and no body: no credential (401, not 415).
        return Ok(String::new());
    };
    if kind.starts_with("application/x-www-form-urlencoded") {
        let Form(body) = Form::<LinkLookup>::from_request(req, &())
            .await
            .map_err(|e| ApiError::InvalidRequest(e.body_text()))?;
        return Ok(body.token);
    }
    let Json(body) = Json::<LinkLookup>::from_request(req, &()).await?;
    Ok(body.token)
}
