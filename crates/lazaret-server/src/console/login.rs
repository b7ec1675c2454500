//! Sign in and sign out.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Form;
use lazaret_core::account::LoginFailure;
use lazaret_core::audit::AuditRecord;
use maud::html;
use rand::RngCore;
use serde::Deserialize;

use super::layout::{error_page, page, respond, Tr};
use super::{
    cookie, lang_of, login_csrf_cookie, same, see_other, session_cookie, set_cookie, ClientAddress,
    ConsoleOfficer,
};
use crate::services::accounts::{self, LoginAttempt, LoginError};
use crate::state::AppState;

fn login_form(
    tr: Tr,
    status: StatusCode,
    csrf: &str,
    username: &str,
    message: Option<&str>,
    cookies: &[HeaderValue],
) -> Response {
    // After a refusal the name is filled in: the password is what to type.
    let focus_password = !username.is_empty();
    let body = html! {
        section.card aria-labelledby="login-title" {
            h1 #login-title { (tr.t("c.sign_in")) }
            p.lead { (tr.t("c.login_lead")) }
            @if let Some(m) = message {
                p.alert.bad role="alert" id="login-error" { (m) }
            }
            form method="post" action="/login" autocomplete="on" {
                input type="hidden" name="csrf" value=(csrf);
                label for="username" { (tr.t("c.username")) }
                input #username name="username" type="text" value=(username) autocomplete="username"
                    autocapitalize="none" spellcheck="false" maxlength="64" required autofocus[!focus_password];
                label for="password" { (tr.t("c.password")) }
                input #password name="password" type="password" autocomplete="current-password"
                    maxlength="1024" required aria-describedby="password-hint" autofocus[focus_password];
                p #password-hint .hint { (tr.t("c.password_hint")) }
                label for="totp" { (tr.t("c.totp")) " " span.optional { (tr.t("c.totp_optional")) } }
                input #totp name="totp" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6"
                    autocomplete="one-time-code" aria-describedby="totp-hint";
                p #totp-hint .hint { (tr.t("c.totp_hint")) }
                button type="submit" { (tr.t("c.sign_in")) }
            }
            p.small { (tr.t("c.login_note")) }
        }
    };
    respond(
        status,
        page(tr, None, None, tr.t("c.sign_in"), body),
        cookies,
    )
}

pub async fn form_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(value) = cookie(&headers, session_cookie(&state)) {
        if let Ok(Some(s)) = accounts::session(&state, value).await {
            return see_other(super::home_of(s.role));
        }
    }
    // A new nonce per visit; the form and the cookie carry the same one.
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    let nonce = hex::encode(b);
    let c = set_cookie(&state, login_csrf_cookie(&state), &nonce, 3600);
    login_form(
        Tr(lang_of(&headers)),
        StatusCode::OK,
        &nonce,
        "",
        None,
        &[c],
    )
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

pub async fn submit(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let tr = Tr(lang_of(&headers));
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
        return error_page(tr, None, StatusCode::FORBIDDEN, tr.t("c.err.login_csrf"));
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
            let mut resp = see_other(super::home_of(new.session.role));
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
        // One generic message whatever the reason, so none leaks.
        Err(LoginError::Refused(_)) => login_form(
            tr,
            StatusCode::UNAUTHORIZED,
            &form.csrf,
            &form.username,
            Some(tr.t("c.err.login_refused")),
            &[],
        ),
        Err(LoginError::TotpNotEnrolled) => login_form(
            tr,
            StatusCode::FORBIDDEN,
            &form.csrf,
            &form.username,
            Some(tr.t("c.err.totp_not_enrolled")),
            &[],
        ),
        Err(LoginError::Store(e)) => {
            tracing::error!(error = %e, "login failed on the store");
            error_page(
                tr,
                None,
                StatusCode::INTERNAL_SERVER_ERROR,
                tr.t("c.err.internal"),
            )
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Form(form): Form<CsrfForm>,
) -> Response {
    let tr = officer.tr;
    if let Some(refused) = officer.refuse_csrf(&form.csrf) {
        return refused;
    }
    if let Err(e) = accounts::logout(&state, &officer.session).await {
        tracing::error!(error = %e, "ending a session failed");
        return error_page(
            tr,
            Some(&officer.session),
            StatusCode::INTERNAL_SERVER_ERROR,
            tr.t("c.err.logout"),
        );
    }
    let mut resp = see_other("/login");
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, session_cookie(&state), "", 0),
    );
    resp
}
