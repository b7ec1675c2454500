//! The officers' console: sign in (`GET`/`POST /login`), the alert queue
//! (`/alerts`, `/alerts/{id}` and their actions), the persons
//! (`/persons`, `/persons/{id}`), the orders (`/orders`, `/orders/new`,
//! `/orders/{id}` with its actions and the pending self-enrolment's photo:
//! `orders.rs`), the cases (`/cases`, `/cases/{id}` and their tracing
//! actions; a contact named in the interview), the follow-up worklists
//! and pages (`/follow-ups`, `/follow-ups/{id}`: calls, assignment, the
//! place of a contact without an address: `follow_up.rs`), the transmission chains (`/chains`, `/chains.svg`), the
//! overview (`/overview`), the surveillance exports (`/exports`,
//! `/exports/file`), the what-if simulation of tracing rules (`/what-if`),
//! the imports (`/imports`, `/imports/{id}` and
//! its commit), the accounts for administrators (`/users`, …), the
//! account page
//! (`GET /account`) and sign out (`POST /logout`). Server-rendered HTML from
//! maud templates (checked at compile time, escaped by default), under the
//! same security headers as the person's pages; one small script
//! (`console.js`: shortcuts, "select all") from this origin.
//!
//! A session lives in an `HttpOnly`, `SameSite=Strict` cookie (`Secure`
//! when `public_url` is https), stored server-side only as its SHA-256.
//! CSRF: before login a double-submit nonce (cookie and form field must
//! match); after it, every form carries the session's token
//! ([`session_csrf`](crate::services::accounts::session_csrf)), derived from
//! the secret cookie. [`ConsoleOfficer`] is the pages' extractor: a page
//! asked without a live session redirects to `/login`.
//!
//! Every page reads and changes through the services the JSON API calls
//! (`services::alerts`, …), with the session's officer as the `Actor`: the
//! same districts, role rules and audit events.
//!
//! Language: the one the officer chose on their account page (stored on the
//! account), else the browser's `Accept-Language`; English or Russian, from
//! the one table in `pages::i18n`.

mod account;
mod alerts;
mod cases;
mod chains;
mod exports;
mod fence;
mod follow_up;
mod imports;
mod layout;
mod login;
mod orders;
mod overview;
mod persons;
mod users;
mod what_if;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::error::{ApiError, ErrorCode};
use crate::pages::Lang;
use crate::services::accounts::{self, ConsoleSession};
use crate::services::{Actor, ServiceError};
use crate::state::AppState;
use lazaret_core::user::Permission;

pub use layout::Tr;

/// The console's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login::form_page).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/account", get(account::page_get))
        .route("/account/language", post(account::language))
        .route("/overview", get(overview::page_get))
        .route("/alerts", get(alerts::queue))
        .route("/alerts/bulk", post(alerts::bulk))
        .route("/alerts/{id}", get(alerts::detail))
        .route("/alerts/{id}/assign", post(alerts::assign))
        .route("/alerts/{id}/resolve", post(alerts::resolve))
        .route("/persons", get(persons::list))
        .route("/persons/{id}", get(persons::detail))
        .route("/cases", get(cases::list))
        .route("/cases/{id}", get(cases::detail))
        .route("/cases/{id}/trace", post(cases::trace))
        .route("/cases/{id}/orders/preview", post(cases::preview_orders))
        .route("/cases/{id}/orders/issue", post(cases::issue_orders))
        .route(
            "/cases/{id}/revision/preview",
            post(cases::preview_revision),
        )
        .route("/cases/{id}/revision", post(cases::revise))
        .route("/cases/{id}/contacts", post(follow_up::name_contact))
        .route("/follow-ups", get(follow_up::list))
        .route("/follow-ups/{id}", get(follow_up::detail))
        .route("/follow-ups/{id}/calls", post(follow_up::record_call))
        .route("/follow-ups/{id}/assign", post(follow_up::assign))
        .route("/follow-ups/{id}/address", post(follow_up::address))
        .route("/follow-ups/{id}/notice", post(follow_up::notice))
        .route("/follow-ups/{id}/suspected", post(follow_up::suspected))
        .route("/cases/{id}/notices", post(follow_up::case_notices))
        .route("/chains", get(chains::page_get))
        .route("/chains.svg", get(chains::svg))
        .route("/orders", get(orders::list).post(orders::create))
        .route("/orders/new", get(orders::new_form))
        .route("/orders/{id}", get(orders::detail))
        .route("/orders/{id}/extend", post(orders::extend))
        .route("/orders/{id}/release", post(orders::release))
        .route("/orders/{id}/enrollment", post(orders::enrol))
        .route("/orders/{id}/enrollment-link", post(orders::send_link))
        .route("/orders/{id}/enrollment/approve", post(orders::approve))
        .route("/orders/{id}/enrollment/reject", post(orders::reject))
        .route("/orders/{id}/enrollment/photo", get(orders::photo))
        .route("/exports", get(exports::page_get))
        .route("/exports/file", get(exports::file))
        .route("/what-if", get(what_if::page_get))
        .route("/imports", get(imports::list).post(imports::upload))
        .route("/imports/{id}", get(imports::detail))
        .route("/imports/{id}/commit", post(imports::commit))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{name}", get(users::detail))
        .route("/users/{name}/disable", post(users::disable))
        .route("/users/{name}/unlock", post(users::unlock))
        .route("/users/{name}/password", post(users::reset_password))
        .route("/users/{name}/districts", post(users::districts))
        .route("/users/{name}/tokens", post(users::create_token))
        .route(
            "/users/{name}/tokens/{id}/revoke",
            post(users::revoke_token),
        )
        .layer(axum::middleware::map_response(
            crate::pages::security_headers,
        ))
}

/// `/`: the sign-in form, or where the officer's work starts: the alert
/// queue (officers work from exception queues), the overview for analysts,
/// the accounts for administrators, the account page for the others.
async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(value) = cookie(&headers, session_cookie(&state)) {
        if let Ok(Some(s)) = accounts::session(&state, value).await {
            return see_other(home_of(s.role));
        }
    }
    see_other("/login")
}

/// Where a role's work starts.
pub(crate) fn home_of(role: lazaret_core::user::Role) -> &'static str {
    if role.allows(Permission::WorkAlerts) {
        "/alerts"
    } else if role.allows(Permission::ReadAggregates) {
        "/overview"
    } else if role.allows(Permission::ManageUsers) {
        "/users"
    } else {
        "/account"
    }
}

/// A 303, so a form's POST is followed by a GET.
fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
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

/// The language of a console page: the browser's `Accept-Language`, among
/// the console's languages.
fn lang_of(headers: &HeaderMap) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::negotiate_among(&Lang::CONSOLE, None, accept)
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

/// The signed-in officer of a console page and the page's language; a
/// request without a live session is redirected to `/login`.
#[derive(Debug, Clone)]
pub struct ConsoleOfficer {
    pub session: ConsoleSession,
    pub tr: Tr,
}

impl ConsoleOfficer {
    /// The officer as the services take them (`user:<name>`).
    pub fn as_actor(&self) -> Actor {
        self.session.actor()
    }

    /// Whether `sent` is this session's CSRF token.
    fn csrf_ok(&self, sent: &str) -> bool {
        !sent.is_empty() && same(&self.session.csrf, sent)
    }

    /// The 403 page for a form without this session's CSRF token, if so.
    fn refuse_csrf(&self, sent: &str) -> Option<Response> {
        if self.csrf_ok(sent) {
            return None;
        }
        Some(layout::error_page(
            self.tr,
            Some(&self.session),
            StatusCode::FORBIDDEN,
            self.tr.t("c.err.csrf"),
        ))
    }
}

impl FromRequestParts<AppState> for ConsoleOfficer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let tr = Tr(lang_of(&parts.headers));
        let Some(value) = cookie(&parts.headers, session_cookie(state)) else {
            return Err(see_other("/login"));
        };
        match accounts::session(state, value).await {
            Ok(Some(session)) => {
                // The officer's own choice wins over the browser's.
                let tr = session
                    .language
                    .as_deref()
                    .and_then(Lang::parse)
                    .filter(|l| Lang::CONSOLE.contains(l))
                    .map_or(tr, Tr);
                // The account's request rate, shared with its API tokens.
                let key = format!("user:{}", session.username);
                if let Err(e) = state.guards.officer.check(&key) {
                    let mut page = layout::error_page(
                        tr,
                        None,
                        StatusCode::TOO_MANY_REQUESTS,
                        tr.t("c.err.rate_limited"),
                    );
                    if let ServiceError::RateLimited {
                        retry_after_secs, ..
                    } = e
                    {
                        page.headers_mut().insert(
                            axum::http::header::RETRY_AFTER,
                            axum::http::HeaderValue::from(retry_after_secs),
                        );
                    }
                    return Err(page);
                }
                Ok(ConsoleOfficer { session, tr })
            }
            Ok(None) => Err(see_other("/login")),
            Err(e) => {
                tracing::error!(error = %e, "reading a console session failed");
                Err(layout::error_page(
                    tr,
                    None,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    tr.t("c.err.internal"),
                ))
            }
        }
    }
}

/// A failed page request as a page: the API's status for the error (one
/// mapping for both), `not_found` (an i18n key) for a 404, and a generic
/// message for an internal failure (logged, never shown).
fn failure_page(officer: &ConsoleOfficer, e: ServiceError, not_found: &'static str) -> Response {
    let tr = officer.tr;
    let api = ApiError::from(e);
    let status = api.code().status();
    let message = match api.code() {
        ErrorCode::NotFound => tr.t(not_found).to_owned(),
        ErrorCode::Internal | ErrorCode::Unavailable => {
            tracing::error!(error = %api, "a console page failed");
            tr.t("c.err.internal").to_owned()
        }
        _ => api.to_string(),
    };
    layout::error_page(tr, Some(&officer.session), status, &message)
}

/// The API's 403 as a page (`message`: an i18n key) unless the role allows `p`.
fn refuse_without(
    officer: &ConsoleOfficer,
    p: Permission,
    message: &'static str,
) -> Option<Response> {
    if officer.session.role.allows(p) {
        return None;
    }
    let tr = officer.tr;
    Some(layout::error_page(
        tr,
        Some(&officer.session),
        StatusCode::FORBIDDEN,
        tr.t(message),
    ))
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

    /// Every text key the console's code names is in the table, in both
    /// languages (the table's own test checks both are filled in).
    #[test]
    fn every_console_text_is_in_the_table() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("layout.rs"),
            include_str!("login.rs"),
            include_str!("account.rs"),
            include_str!("alerts.rs"),
            include_str!("persons.rs"),
            include_str!("overview.rs"),
            include_str!("cases.rs"),
            include_str!("chains.rs"),
            include_str!("orders.rs"),
            include_str!("fence.rs"),
            include_str!("follow_up.rs"),
            include_str!("imports.rs"),
            include_str!("exports.rs"),
            include_str!("users.rs"),
        ];
        let mut n = 0;
        for src in sources {
            for piece in src.split("\"c.").skip(1) {
                let key = format!("c.{}", piece.split('"').next().unwrap());
                if key.contains('{') {
                    continue;
                }
                if key.ends_with('.') {
                    // A prefix completed at run time (`c.kind.` + the kind).
                    assert!(
                        crate::pages::i18n::TEXTS
                            .iter()
                            .any(|t| t.0.starts_with(&key)),
                        "{key}"
                    );
                    continue;
                }
                for lang in Lang::CONSOLE {
                    assert!(lang.text(&key).is_some(), "no text for {key}");
                }
                n += 1;
            }
        }
        assert!(n > 50, "{n}");
    }
}
