//! Accounts, for administrators (`Permission::ManageUsers`): the list
//! (`GET /users`: role, districts, disabled, locked, last sign-in, second
//! factor) with the form that creates an account (`POST /users`), and one
//! account's page (`GET /users/{name}`) with its actions: disable, unlock,
//! a new password, districts, and its API tokens (create, revoke). A
//! password or token the server generates is shown once, on the answer to
//! the form that made it, and never again. Everything goes through
//! `services::accounts`, as `lazaret users` and `lazaret token` do, and is
//! audited there.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use lazaret_core::district::DistrictScope;
use lazaret_core::user::{Permission, Role};
use lazaret_store::TokenRecord;
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{error_page, page, respond, time, Nav, Tr};
use super::{see_other, ConsoleOfficer};
use crate::services::accounts::{self, AccountDetail, AccountError, NewAccount};
use crate::state::AppState;

fn refuse_role(officer: &ConsoleOfficer) -> Option<Response> {
    super::refuse_without(officer, Permission::ManageUsers, "c.err.role_users")
}

/// A refused or failed account action as a page.
fn failure(officer: &ConsoleOfficer, e: AccountError) -> Response {
    let tr = officer.tr;
    let (status, message) = match &e {
        AccountError::Invalid(v) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{}: {}", v.field, v.reason),
        ),
        AccountError::NoSuchUser(_) => (
            StatusCode::NOT_FOUND,
            tr.t("c.err.user_not_found").to_owned(),
        ),
        AccountError::NoSuchToken(_) => (
            StatusCode::NOT_FOUND,
            tr.t("c.err.token_not_found").to_owned(),
        ),
        AccountError::UserExists(_) | AccountError::Disabled(_) => {
            (StatusCode::CONFLICT, e.to_string())
        }
        AccountError::Hashing | AccountError::Store(_) => {
            tracing::error!(error = %e, "an accounts page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                tr.t("c.err.internal").to_owned(),
            )
        }
    };
    error_page(tr, Some(&officer.session), status, &message)
}

/// Whether the account is locked out now.
fn locked(state: &AppState, a: &AccountDetail) -> bool {
    a.summary.locked_until.is_some_and(|t| t > state.now())
}

fn state_badge(tr: Tr, state: &AppState, a: &AccountDetail) -> Markup {
    html! {
        @if a.summary.disabled_at.is_some() {
            span.status.s-bad { (tr.t("c.users.disabled")) }
        } @else if locked(state, a) {
            span.status.s-warn { (tr.t("c.users.locked")) }
        } @else {
            span.status.s-good { (tr.t("c.users.active")) }
        }
    }
}

fn role_options(tr: Tr, selected: Option<Role>) -> Markup {
    html! {
        @for r in Role::ALL {
            option value=(r.as_str()) selected[selected == Some(r)] { (tr.role(r)) }
        }
    }
}

/// `GET /users`: every account, and the form for a new one.
pub async fn list(State(state): State<AppState>, officer: ConsoleOfficer) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let all = match accounts::list_accounts(&state).await {
        Ok(a) => a,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let body = html! {
        div.page-head {
            h1 { (tr.t("c.users.title")) }
            p.keys { (tr.t("c.users.lead")) }
        }
        div.table-wrap.plain {
            table.queue #users {
                caption.visually-hidden { (tr.t("c.users.title")) }
                thead { tr {
                    th scope="col" { (tr.t("c.users.name")) }
                    th scope="col" { (tr.t("c.role")) }
                    th scope="col" { (tr.t("c.districts")) }
                    th scope="col" { (tr.t("c.users.state")) }
                    th scope="col" { (tr.t("c.users.last_login")) }
                    th scope="col" { (tr.t("c.second_factor")) }
                } }
                tbody {
                    @for a in &all {
                        tr data-id=(a.summary.username.as_str()) {
                            td { a.open href={ "/users/" (a.summary.username.as_str()) } { (a.summary.username.as_str()) } }
                            td { (tr.role(a.summary.role)) }
                            td { (tr.districts(&a.summary.districts)) }
                            td {
                                (state_badge(tr, &state, a))
                                @if let (true, Some(t)) = (locked(&state, a), a.summary.locked_until) {
                                    br; span.small { (tr.t("c.users.until")) " " (time(t)) }
                                }
                            }
                            td { @match a.last_login { Some(t) => (time(t)), None => span.muted { (tr.t("c.users.never")) } } }
                            td { @if a.summary.totp { (tr.t("c.totp_app")) } @else { span.muted { (tr.t("c.none")) } } }
                        }
                    }
                }
            }
        }
        section.card #create aria-labelledby="create-title" {
            h2 #create-title { (tr.t("c.users.create")) }
            form method="post" action="/users" {
                input type="hidden" name="csrf" value=(officer.session.csrf);
                div.form-row {
                    div.field {
                        label for="u-name" { (tr.t("c.users.name")) }
                        input #u-name name="username" type="text" required maxlength="64" autocomplete="off"
                            pattern="[a-z0-9._\\-]+" aria-describedby="u-name-hint";
                        p.hint #u-name-hint { (tr.t("c.users.name_hint")) }
                    }
                    div.field {
                        label for="u-role" { (tr.t("c.role")) }
                        select #u-role name="role" required { (role_options(tr, Some(Role::Investigator))) }
                    }
                    div.field {
                        label for="u-districts" { (tr.t("c.districts")) }
                        input #u-districts name="districts" type="text" required maxlength="500" autocomplete="off"
                            aria-describedby="u-districts-hint";
                        p.hint #u-districts-hint { (tr.t("c.users.districts_hint")) }
                    }
                }
                p.hint { (tr.t("c.users.password_generated")) }
                button #create-user type="submit" { (tr.t("c.users.create_button")) }
            }
        }
    };
    respond(
        StatusCode::OK,
        page(
            tr,
            Some(&officer.session),
            Some(Nav::Accounts),
            tr.t("c.users.title"),
            body,
        ),
        &[],
    )
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    districts: String,
}

/// `POST /users`: creates the account with a generated password, shown
/// once on the answer.
pub async fn create(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Form(form): Form<CreateForm>,
) -> Response {
    if let Some(refused) = officer.refuse_csrf(&form.csrf) {
        return refused;
    }
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let role = match form.role.parse::<Role>() {
        Ok(r) => r,
        Err(e) => return failure(&officer, e.into()),
    };
    let districts = match DistrictScope::parse(form.districts.trim()) {
        Ok(d) => d,
        Err(e) => return failure(&officer, e.into()),
    };
    let password = accounts::generate_password();
    let new = NewAccount {
        username: form.username.trim().to_owned(),
        role,
        districts,
        password: password.clone(),
    };
    match accounts::create_user(&state, &officer.as_actor(), new).await {
        Ok(a) => secret_page(
            &officer,
            StatusCode::CREATED,
            a.username.as_str(),
            &officer
                .tr
                .f("c.users.created", &[("name", a.username.as_str())]),
            officer.tr.t("c.users.password_once"),
            &password,
        ),
        Err(e) => failure(&officer, e),
    }
}

/// The answer that shows a generated secret, once.
fn secret_page(
    officer: &ConsoleOfficer,
    status: StatusCode,
    username: &str,
    title: &str,
    explain: &str,
    secret: &str,
) -> Response {
    let tr = officer.tr;
    let body = html! {
        p.crumbs { a href={ "/users/" (username) } { "← " (tr.f("c.users.back_to", &[("name", username)])) } }
        section.card aria-labelledby="secret-title" {
            h1 #secret-title { (title) }
            p.alert.good role="status" { (explain) }
            p.secret #secret { (secret) }
            p { a href={ "/users/" (username) } { (tr.f("c.users.back_to", &[("name", username)])) } }
        }
    };
    respond(
        status,
        page(tr, Some(&officer.session), Some(Nav::Accounts), title, body),
        &[],
    )
}

/// `GET /users/{name}`: one account and what an administrator does to it.
pub async fn detail(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(name): Path<String>,
) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let (a, tokens) = match accounts::account_detail(&state, &name).await {
        Ok(d) => d,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let body = render_detail(&state, &officer, &a, &tokens);
    respond(
        StatusCode::OK,
        page(
            tr,
            Some(&officer.session),
            Some(Nav::Accounts),
            a.summary.username.as_str(),
            body,
        ),
        &[],
    )
}

fn render_detail(
    state: &AppState,
    officer: &ConsoleOfficer,
    a: &AccountDetail,
    tokens: &[TokenRecord],
) -> Markup {
    let tr = officer.tr;
    let name = a.summary.username.as_str();
    let csrf = &officer.session.csrf;
    let disabled = a.summary.disabled_at.is_some();
    let now = state.now();
    html! {
        p.crumbs { a href="/users" { "← " (tr.t("c.users.back")) } }
        section.card aria-labelledby="user-name" {
            h1 #user-name { (name) }
            dl.facts.cols {
                div { dt { (tr.t("c.users.state")) } dd #user-state { (state_badge(tr, state, a)) } }
                div { dt { (tr.t("c.role")) } dd { (tr.role(a.summary.role)) } }
                div { dt { (tr.t("c.districts")) } dd #user-districts { (tr.districts(&a.summary.districts)) } }
                div { dt { (tr.t("c.second_factor")) } dd { @if a.summary.totp { (tr.t("c.totp_app")) } @else { (tr.t("c.none")) } } }
                div { dt { (tr.t("c.users.last_login")) } dd { @match a.last_login { Some(t) => (time(t)), None => span.muted { (tr.t("c.users.never")) } } } }
                div { dt { (tr.t("c.users.failed")) } dd #user-failed { (a.failed_logins) } }
                @if let Some(t) = a.summary.locked_until {
                    @if t > now { div { dt { (tr.t("c.users.locked_until")) } dd { (time(t)) } } }
                }
                @if let Some(t) = a.summary.disabled_at { div { dt { (tr.t("c.users.disabled_at")) } dd { (time(t)) } } }
                div { dt { (tr.t("c.users.created_at")) } dd { (time(a.summary.created_at)) } }
            }
        }
        @if !disabled {
            section.card aria-labelledby="actions-title" {
                h2 #actions-title { (tr.t("c.users.actions")) }
                div.actions-row {
                    @if a.failed_logins > 0 || a.summary.locked_until.is_some_and(|t| t > now) {
                        form method="post" action={ "/users/" (name) "/unlock" } {
                            input type="hidden" name="csrf" value=(csrf);
                            button #unlock type="submit" { (tr.t("c.users.unlock")) }
                        }
                    }
                    form method="post" action={ "/users/" (name) "/password" } {
                        input type="hidden" name="csrf" value=(csrf);
                        button.secondary #reset-password type="submit" { (tr.t("c.users.reset_password")) }
                    }
                    form method="post" action={ "/users/" (name) "/disable" } {
                        input type="hidden" name="csrf" value=(csrf);
                        button.secondary.danger #disable type="submit" { (tr.t("c.users.disable")) }
                    }
                }
                p.hint { (tr.t("c.users.disable_hint")) }
                form method="post" action={ "/users/" (name) "/districts" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="d-districts" { (tr.t("c.users.set_districts")) }
                    input #d-districts name="districts" type="text" required maxlength="500" autocomplete="off"
                        value=(a.summary.districts.to_string()) aria-describedby="d-districts-hint";
                    p.hint #d-districts-hint { (tr.t("c.users.districts_hint")) }
                    button.secondary #save-districts type="submit" { (tr.t("c.save")) }
                }
            }
        }
        section.card aria-labelledby="tokens-title" {
            h2 #tokens-title { (tr.t("c.users.tokens")) }
            @if tokens.is_empty() {
                p.muted #no-tokens { (tr.t("c.users.no_tokens")) }
            } @else {
                div.table-wrap.plain {
                    table.queue #tokens {
                        caption.visually-hidden { (tr.t("c.users.tokens")) }
                        thead { tr {
                            th scope="col" { (tr.t("c.users.token_id")) }
                            th scope="col" { (tr.t("c.users.created_at")) }
                            th scope="col" { (tr.t("c.users.expires")) }
                            th scope="col" { (tr.t("c.users.state")) }
                            th scope="col" { span.visually-hidden { (tr.t("c.col.actions")) } }
                        } }
                        tbody {
                            @for t in tokens {
                                tr data-id=(t.id.as_str()) {
                                    td.mono { (t.id.as_str()) }
                                    td { (time(t.created_at)) }
                                    td { @match t.expires_at { Some(e) => (time(e)), None => span.muted { (tr.t("c.users.never")) } } }
                                    td {
                                        @if t.revoked_at.is_some() { span.status.s-bad { (tr.t("c.users.revoked")) } }
                                        @else if t.expires_at.is_some_and(|e| e <= now) { span.status { (tr.t("c.users.expired")) } }
                                        @else { span.status.s-good { (tr.t("c.users.active")) } }
                                    }
                                    td {
                                        @if t.revoked_at.is_none() {
                                            form method="post" action={ "/users/" (name) "/tokens/" (t.id.as_str()) "/revoke" } {
                                                input type="hidden" name="csrf" value=(csrf);
                                                button.small.secondary type="submit"
                                                    aria-label=(tr.f("c.users.revoke_token", &[("id", t.id.as_str())])) { (tr.t("c.users.revoke")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !disabled {
                form.actions-row.bottom method="post" action={ "/users/" (name) "/tokens" } {
                    input type="hidden" name="csrf" value=(csrf);
                    div.field {
                        label for="t-days" { (tr.t("c.users.token_days")) }
                        input #t-days name="days" type="number" min="1" max=(crate::config::MAX_TOKEN_DAYS)
                            value=(state.config.auth.token_days) required;
                    }
                    button #create-token type="submit" { (tr.t("c.users.create_token")) }
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /users/{name}/disable`: its sessions end and its tokens stop.
pub async fn disable(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(r) = officer
        .refuse_csrf(&form.csrf)
        .or_else(|| refuse_role(&officer))
    {
        return r;
    }
    match accounts::disable_user(&state, &officer.as_actor(), &name).await {
        Ok(()) => see_other(&format!("/users/{name}")),
        Err(e) => failure(&officer, e),
    }
}

/// `POST /users/{name}/unlock`: clears the failures and the lockout.
pub async fn unlock(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(r) = officer
        .refuse_csrf(&form.csrf)
        .or_else(|| refuse_role(&officer))
    {
        return r;
    }
    match accounts::unlock_user(&state, &officer.as_actor(), &name).await {
        Ok(()) => see_other(&format!("/users/{name}")),
        Err(e) => failure(&officer, e),
    }
}

/// `POST /users/{name}/password`: a new generated password, shown once
/// (the account's sessions end, its lockout is cleared).
pub async fn reset_password(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(name): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(r) = officer
        .refuse_csrf(&form.csrf)
        .or_else(|| refuse_role(&officer))
    {
        return r;
    }
    let password = accounts::generate_password();
    match accounts::reset_password(&state, &officer.as_actor(), &name, &password).await {
        Ok(()) => secret_page(
            &officer,
            StatusCode::OK,
            &name,
            &officer.tr.f("c.users.new_password_for", &[("name", &name)]),
            officer.tr.t("c.users.password_once"),
            &password,
        ),
        Err(e) => failure(&officer, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct DistrictsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    districts: String,
}

/// `POST /users/{name}/districts`.
pub async fn districts(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(name): Path<String>,
    Form(form): Form<DistrictsForm>,
) -> Response {
    if let Some(r) = officer
        .refuse_csrf(&form.csrf)
        .or_else(|| refuse_role(&officer))
    {
        return r;
    }
    let scope = match DistrictScope::parse(form.districts.trim()) {
        Ok(d) => d,
        Err(e) => return failure(&officer, e.into()),
    };
    match accounts::set_districts(&state, &officer.as_actor(), &name, scope).await {
        Ok(()) => see_other(&format!("/users/{name}")),
        Err(e) => failure(&officer, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    days: String,
}

/// `POST /users/{name}/tokens`: a token of the account, shown once.
pub async fn create_token(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(name): Path<String>,
    Form(form): Form<TokenForm>,
) -> Response {
    if let Some(r) = officer
        .refuse_csrf(&form.csrf)
        .or_else(|| refuse_role(&officer))
    {
        return r;
    }
    let days = match form.days.trim() {
        "" => None,
        d => match d.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                return failure(
                    &officer,
                    lazaret_core::ValidationError::new("days", "must be a whole number").into(),
                )
            }
        },
    };
    match accounts::create_account_token(&state, &officer.as_actor(), &name, days).await {
        Ok((_, secret)) => secret_page(
            &officer,
            StatusCode::CREATED,
            &name,
            &officer.tr.f("c.users.token_for", &[("name", &name)]),
            officer.tr.t("c.users.token_once"),
            &secret,
        ),
        Err(e) => failure(&officer, e),
    }
}

/// `POST /users/{name}/tokens/{id}/revoke`: only a token of that account.
pub async fn revoke_token(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path((name, id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(r) = officer
        .refuse_csrf(&form.csrf)
        .or_else(|| refuse_role(&officer))
    {
        return r;
    }
    let tokens = match accounts::account_detail(&state, &name).await {
        Ok((_, t)) => t,
        Err(e) => return failure(&officer, e),
    };
    if !tokens.iter().any(|t| t.id.as_str() == id) {
        return failure(&officer, AccountError::NoSuchToken(id));
    }
    match accounts::revoke_token(&state, &officer.as_actor(), &id).await {
        Ok(_) => see_other(&format!("/users/{name}")),
        Err(e) => failure(&officer, e),
    }
}
