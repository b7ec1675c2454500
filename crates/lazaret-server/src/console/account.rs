//! The account page: who is signed in, with which role and districts, and
//! when the session ends.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use maud::html;
use serde::Deserialize;

use super::layout::{error_page, page, respond, time, Nav};
use super::{see_other, ConsoleOfficer};
use crate::pages::Lang;
use crate::services::accounts;
use crate::state::AppState;

pub async fn page_get(State(state): State<AppState>, officer: ConsoleOfficer) -> Response {
    let tr = officer.tr;
    let s = &officer.session;
    let idle_minutes = state.config.auth.session_idle_minutes.to_string();
    let title = tr.f("c.signed_in_as", &[("name", s.username.as_str())]);
    let body = html! {
        section.card aria-labelledby="account-title" {
            h1 #account-title { (title) }
            dl.facts {
                div { dt { (tr.t("c.role")) } dd { (tr.role(s.role)) " (" (s.role.as_str()) ")" } }
                div { dt { (tr.t("c.districts")) } dd { (tr.districts(&s.districts)) } }
                div { dt { (tr.t("c.second_factor")) } dd {
                    @if s.totp { (tr.t("c.totp_app")) } @else { (tr.t("c.none")) }
                } }
                div { dt { (tr.t("c.signed_in")) } dd { (time(s.created_at)) } }
                div { dt { (tr.t("c.session_ends")) } dd {
                    (time(s.idle_expires_at)) " "
                    (tr.f("c.if_idle", &[("minutes", &idle_minutes)])) ", "
                    (tr.t("c.at_the_latest")) " " (time(s.expires_at))
                } }
            }
            form method="post" action="/logout" {
                input type="hidden" name="csrf" value=(s.csrf);
                button.secondary type="submit" { (tr.t("c.sign_out")) }
            }
        }
        section.card aria-labelledby="language-title" {
            h2 #language-title { (tr.t("c.language")) }
            form method="post" action="/account/language" {
                input type="hidden" name="csrf" value=(s.csrf);
                label for="language" { (tr.t("c.language_label")) }
                select #language name="language" {
                    option value="" selected[s.language.is_none()] { (tr.t("c.language_browser")) }
                    @for l in Lang::CONSOLE {
                        option value=(l.code()) lang=(l.code()) selected[s.language.as_deref() == Some(l.code())] { (l.name()) }
                    }
                }
                button type="submit" { (tr.t("c.save")) }
            }
        }
        section.card aria-labelledby="api-title" {
            h2 #api-title { (tr.t("c.api_title")) }
            p { (tr.t("c.api_text")) }
            pre { code { "lazaret token create --user " (s.username.as_str()) } }
            p.small { (tr.t("c.audit_note")) " " code { "user:" (s.username.as_str()) } }
        }
    };
    respond(
        StatusCode::OK,
        page(tr, Some(s), Some(Nav::Account), &title, body),
        &[],
    )
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    language: String,
}

/// `POST /account/language`: the officer's console language (empty: the
/// browser's).
pub async fn language(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Form(form): Form<LanguageForm>,
) -> Response {
    let tr = officer.tr;
    if let Some(refused) = officer.refuse_csrf(&form.csrf) {
        return refused;
    }
    let choice = Lang::parse(&form.language).filter(|l| Lang::CONSOLE.contains(l));
    if choice.is_none() && !form.language.trim().is_empty() {
        return error_page(
            tr,
            Some(&officer.session),
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.t("c.err.language"),
        );
    }
    match accounts::set_language(&state, &officer.session, choice).await {
        Ok(()) => see_other("/account"),
        Err(e) => {
            tracing::error!(error = %e, "saving an officer's language failed");
            error_page(
                tr,
                Some(&officer.session),
                StatusCode::INTERNAL_SERVER_ERROR,
                tr.t("c.err.internal"),
            )
        }
    }
}
