//! The officers' console: sign in (`GET`/`POST /login`), the account page
//! (`GET /account`) and sign out (`POST /logout`). Server-rendered HTML
//! without scripts, under the same security headers as the person's pages.
//!
//! A session lives in an `HttpOnly`, `SameSite=Strict` cookie (`Secure`
//! when `public_url` is https), stored server-side only as its SHA-256.
//! CSRF: before login a double-submit nonce (cookie and form field must
//! match); after it, every form carries the session's token
//! ([`session_csrf`](crate::services::accounts::session_csrf)), derived from
//! the secret cookie. [`ConsoleOfficer`] is the pages' extractor: a page
//! asked without a live session redirects to `/login`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use lazaret_core::account::LoginFailure;
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::DistrictScope;
use rand::RngCore;
use serde::Deserialize;

use crate::services::accounts::{self, ConsoleSession, LoginAttempt, LoginError};
use crate::services::Actor;
use crate::state::AppState;

const LAYOUT: &str = include_str!("assets/layout.html");
const LOGIN: &str = include_str!("assets/login.html");
const ACCOUNT: &str = include_str!("assets/account.html");

/// The console's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", axum::routing::post(logout))
        .route("/account", get(account_page))
        .layer(axum::middleware::map_response(
            crate::pages::security_headers,
        ))
}

/// The cookie names; `__Host-` (Secure, this host, path `/` only) where the
/// server is reached over https.
fn session_cookie(state: &AppState) -> &'static str {
    if state.config.https() {
        "__Host-lazaret_session"
    } else {
        "lazaret_session"
    }
}

fn login_csrf_cookie(state: &AppState) -> &'static str {
    if state.config.https() {
        "__Host-lazaret_login_csrf"
    } else {
        "lazaret_login_csrf"
    }
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.config.https() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie text is ASCII")
}

/// Constant-time equality, so timing tells nothing about a guessed token.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The client's address, from the connection (`App::run` and
/// [`crate::serve`] serve with connect info); `unknown` without one (a
/// router called directly in a test).
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string()),
        ))
    }
}

/// The signed-in officer of a console page; a request without a live
/// session is redirected to `/login`.
#[derive(Debug, Clone)]
pub struct ConsoleOfficer {
    pub session: ConsoleSession,
}

impl ConsoleOfficer {
    /// The officer as the services take them (`user:<name>`).
    pub fn as_actor(&self) -> Actor {
        self.session.actor()
    }
}

impl FromRequestParts<AppState> for ConsoleOfficer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(value) = cookie(&parts.headers, session_cookie(state)) else {
            return Err(Redirect::to("/login").into_response());
        };
        match accounts::session(state, value).await {
            Ok(Some(session)) => Ok(ConsoleOfficer { session }),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(e) => {
                tracing::error!(error = %e, "reading a console session failed");
                Err(page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Error",
                    &error_card("Something went wrong on our side. Try again in a moment."),
                    &[],
                ))
            }
        }
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Fills `{{key}}` placeholders: `(key, text)` pairs are escaped, `raw`
/// pairs (HTML this module built) are not.
fn fill(template: &str, texts: &[(&str, &str)], raw: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in raw {
        out = out.replace(&format!("{{{{{k}}}}}"), v);
    }
    for (k, v) in texts {
        out = out.replace(&format!("{{{{{k}}}}}"), &escape(v));
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str, cookies: &[HeaderValue]) -> Response {
    let html = fill(LAYOUT, &[("title", title)], &[("body", body)]);
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c.clone());
    }
    resp
}

fn error_card(message: &str) -> String {
    format!(
        "<section class=\"card\"><h1>Sorry</h1><p class=\"alert bad\" role=\"alert\">{}</p>\
         <p><a href=\"/login\">Back to sign in</a></p></section>",
        escape(message)
    )
}

fn login_form(
    status: StatusCode,
    csrf: &str,
    username: &str,
    message: Option<&str>,
    cookies: &[HeaderValue],
) -> Response {
    let message = message.map_or_else(String::new, |m| {
        format!(
            "<p class=\"alert bad\" role=\"alert\" id=\"login-error\">{}</p>",
            escape(m)
        )
    });
    // After a refusal the name is filled in: the password is what to type.
    let (focus_username, focus_password) = if username.is_empty() {
        (" autofocus", "")
    } else {
        ("", " autofocus")
    };
    let body = fill(
        LOGIN,
        &[("csrf", csrf), ("username", username)],
        &[
            ("message", &message),
            ("focus_username", focus_username),
            ("focus_password", focus_password),
        ],
    );
    page(status, "Sign in", &body, cookies)
}

async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(value) = cookie(&headers, session_cookie(&state)) {
        if let Ok(Some(_)) = accounts::session(&state, value).await {
            return Redirect::to("/account").into_response();
        }
    }
    // A new nonce per visit; the form and the cookie carry the same one.
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    let nonce = hex::encode(b);
    let c = set_cookie(&state, login_csrf_cookie(&state), &nonce, 3600);
    login_form(StatusCode::OK, &nonce, "", None, &[c])
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    totp: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, login_csrf_cookie(&state));
    if !expected.is_some_and(|c| !form.csrf.is_empty() && same(c, &form.csrf)) {
        let audit = AuditRecord {
            at: state.now(),
            actor: format!("client:{address}"),
            action: "auth.login_failed".into(),
            subject_type: "user".into(),
            subject_id: form.username.chars().take(64).collect(),
            details: format!("reason={}", LoginFailure::Csrf),
        };
        if let Err(e) = state.store.record_audit(&audit).await {
            tracing::error!(error = %e, "auditing a refused login failed");
        }
        return page(
            StatusCode::FORBIDDEN,
            "Sign in",
            &error_card("This sign-in form has expired or did not come from this site. Open the sign-in page again."),
            &[],
        );
    }
    let attempt = LoginAttempt {
        username: form.username.clone(),
        password: form.password,
        totp: form.totp.filter(|t| !t.trim().is_empty()),
        address,
    };
    match accounts::login(&state, attempt).await {
        Ok(new) => {
            let max_age = (new.session.expires_at - state.now()).num_seconds();
            let mut resp = Redirect::to("/account").into_response();
            let h = resp.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(&state, session_cookie(&state), &new.cookie, max_age),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(&state, login_csrf_cookie(&state), "", 0),
            );
            resp
        }
        Err(e @ LoginError::Refused(_)) => login_form(
            StatusCode::UNAUTHORIZED,
            &form.csrf,
            &form.username,
            Some(&e.to_string()),
            &[],
        ),
        Err(e @ LoginError::TotpNotEnrolled) => login_form(
            StatusCode::FORBIDDEN,
            &form.csrf,
            &form.username,
            Some(&e.to_string()),
            &[],
        ),
        Err(LoginError::Store(e)) => {
            tracing::error!(error = %e, "login failed on the store");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sign in",
                &error_card("Something went wrong on our side. Try again in a moment."),
                &[],
            )
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !same(&officer.session.csrf, &form.csrf) {
        return page(
            StatusCode::FORBIDDEN,
            "Sign out",
            &error_card("This form did not come from your session. Open your account page and sign out there."),
            &[],
        );
    }
    if let Err(e) = accounts::logout(&state, &officer.session).await {
        tracing::error!(error = %e, "ending a session failed");
        return page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign out",
            &error_card("Something went wrong on our side; you may still be signed in. Try again."),
            &[],
        );
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, session_cookie(&state), "", 0),
    );
    resp
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn districts_text(d: &DistrictScope) -> String {
    match d {
        DistrictScope::All => "All districts (national)".into(),
        DistrictScope::Only(set) if set.is_empty() => "None".into(),
        DistrictScope::Only(set) => set
            .iter()
            .map(|d| d.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

async fn account_page(State(state): State<AppState>, officer: ConsoleOfficer) -> Response {
    let s = &officer.session;
    let role = s.role.as_str().replace('_', " ");
    let districts = districts_text(&s.districts);
    let totp = if s.totp {
        "Authenticator app (TOTP)"
    } else {
        "None"
    };
    let idle_minutes = state.config.auth.session_idle_minutes.to_string();
    let body = fill(
        ACCOUNT,
        &[
            ("username", s.username.as_str()),
            ("role", &role),
            ("districts", &districts),
            ("totp", totp),
            ("created", &when(s.created_at)),
            ("created_iso", &s.created_at.to_rfc3339()),
            ("idle", &when(s.idle_expires_at)),
            ("idle_iso", &s.idle_expires_at.to_rfc3339()),
            ("idle_minutes", &idle_minutes),
            ("expires", &when(s.expires_at)),
            ("expires_iso", &s.expires_at.to_rfc3339()),
            ("csrf", &s.csrf),
        ],
        &[],
    );
    page(StatusCode::OK, "Your account", &body, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("x_lazaret_session=no; lazaret_session=abc; other=1"),
        );
        assert_eq!(cookie(&h, "lazaret_session"), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn filled_texts_are_escaped_and_no_placeholder_is_left() {
        let html = fill(
            LOGIN,
            &[("csrf", "\"><x"), ("username", "<b>")],
            &[
                ("message", ""),
                ("focus_username", ""),
                ("focus_password", ""),
            ],
        );
        assert!(html.contains("value=\"&quot;&gt;&lt;x\""));
        assert!(html.contains("value=\"&lt;b&gt;\""));
        assert!(!html.contains("{{"), "{html}");
    }
}
