//! Imports (`GET /imports`): upload a CSV of orders, flights, residences,
//! rides or test results (the kinds the officer's role imports) into one
//! of their districts; `POST /imports` checks it (a dry run: every bad row
//! with its line, column and reason, nothing stored) and opens its page,
//! `GET /imports/{id}`, which offers to commit a clean file
//! (`POST /imports/{id}/commit`), then shows the rows written as the
//! background import runs (the page reloads itself through `console.js`)
//! and its result. The history of the district's imports is under the
//! form. Everything goes through `services::imports`.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use lazaret_core::district::District;
use lazaret_store::{ImportRecord, ImportStatus};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{error_page, page, respond, time, Nav, Tr};
use super::{see_other, ConsoleOfficer};
use crate::services::imports::{self, Kind, Upload};
use crate::services::ServiceError;
use crate::state::AppState;

/// Seconds between the progress page's reloads.
const REFRESH_SECS: u32 = 2;

fn failure(officer: &ConsoleOfficer, e: ServiceError) -> Response {
    super::failure_page(officer, e, "c.err.import_not_found")
}

/// Refuses a role that imports nothing.
fn refuse_role(officer: &ConsoleOfficer) -> Option<Response> {
    if imports::kinds_for(officer.session.role).is_empty() {
        let tr = officer.tr;
        return Some(error_page(
            tr,
            Some(&officer.session),
            StatusCode::FORBIDDEN,
            tr.t("c.err.role_imports"),
        ));
    }
    None
}

fn kind_label(tr: Tr, k: Kind) -> &'static str {
    match k {
        Kind::Orders => tr.t("c.import_kind.orders"),
        Kind::Flights => tr.t("c.import_kind.flights"),
        Kind::Residences => tr.t("c.import_kind.residences"),
        Kind::Rides => tr.t("c.import_kind.rides"),
        Kind::Tests => tr.t("c.import_kind.tests"),
    }
}

fn kind_of(tr: Tr, code: &str) -> &'static str {
    Kind::parse(code).map_or("—", |k| kind_label(tr, k))
}

fn status_label(tr: Tr, s: ImportStatus) -> &'static str {
    match s {
        ImportStatus::Refused => tr.t("c.import_status.refused"),
        ImportStatus::Checked => tr.t("c.import_status.checked"),
        ImportStatus::Running => tr.t("c.import_status.running"),
        ImportStatus::Done => tr.t("c.import_status.done"),
        ImportStatus::Failed => tr.t("c.import_status.failed"),
        ImportStatus::Expired => tr.t("c.import_status.expired"),
    }
}

fn status_badge(tr: Tr, s: ImportStatus) -> Markup {
    let class = match s {
        ImportStatus::Done => "s-good",
        ImportStatus::Refused | ImportStatus::Failed => "s-bad",
        ImportStatus::Checked | ImportStatus::Running => "s-warn",
        ImportStatus::Expired => "",
    };
    html! { span class={ "status " (class) } { (status_label(tr, s)) } }
}

/// `GET /imports`: the upload form and the history.
pub async fn list(State(state): State<AppState>, officer: ConsoleOfficer) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let history = match imports::history(&state, &officer.as_actor()).await {
        Ok(h) => h,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let body = html! {
        div.page-head {
            h1 { (tr.t("c.imports")) }
            p.keys { (tr.t("c.imports_lead")) }
        }
        (upload_form(&state, &officer, None))
        section aria-labelledby="history-title" {
            h2 #history-title.section-title { (tr.t("c.import_history")) }
            (history_table(tr, &history))
        }
    };
    respond(
        StatusCode::OK,
        page(
            tr,
            Some(&officer.session),
            Some(Nav::Imports),
            tr.t("c.imports"),
            body,
        ),
        &[],
    )
}

fn upload_form(state: &AppState, officer: &ConsoleOfficer, message: Option<&str>) -> Markup {
    let tr = officer.tr;
    let kinds = imports::kinds_for(officer.session.role);
    let districts = imports::districts_to_choose(&officer.as_actor());
    let max_mib = state.config.max_body_bytes >> 20;
    html! {
        section.card #upload aria-labelledby="upload-title" {
            h2 #upload-title { (tr.t("c.upload_title")) }
            @if let Some(m) = message { p.alert.bad role="alert" #upload-error { (m) } }
            form method="post" action="/imports" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(officer.session.csrf);
                div.form-row {
                    div.field {
                        label for="i-kind" { (tr.t("c.import_kind")) }
                        select #i-kind name="kind" required {
                            @for k in &kinds {
                                option value=(k.as_str()) { (kind_label(tr, *k)) }
                            }
                        }
                    }
                    div.field {
                        label for="i-district" { (tr.t("c.col.district")) }
                        @match &districts {
                            Some(list) => {
                                select #i-district name="district" required {
                                    @for d in list { option value=(d.as_str()) { (d.as_str()) } }
                                }
                            }
                            None => {
                                input #i-district name="district" type="text" required maxlength="64"
                                    autocomplete="off" aria-describedby="i-district-hint";
                            }
                        }
                        p.hint #i-district-hint { (tr.t("c.import_district_hint")) }
                    }
                    div.field.grow {
                        label for="i-file" { (tr.t("c.csv_file")) }
                        input #i-file name="file" type="file" accept=".csv,text/csv" required
                            aria-describedby="i-file-hint";
                        p.hint #i-file-hint { (tr.f("c.csv_file_hint", &[("n", &max_mib.to_string())])) }
                    }
                }
                button #check type="submit" { (tr.t("c.check_file")) }
            }
            details.columns {
                summary { (tr.t("c.import_columns")) }
                dl.facts {
                    @for k in &kinds {
                        div { dt { (kind_label(tr, *k)) } dd.mono.small { (k.columns().join(",")) } }
                    }
                }
            }
        }
    }
}

fn history_table(tr: Tr, history: &[ImportRecord]) -> Markup {
    html! {
        @if history.is_empty() {
            p.card.empty #no-imports { (tr.t("c.no_imports")) }
        } @else {
            div.table-wrap.plain {
                table.queue #imports {
                    caption.visually-hidden { (tr.t("c.import_history")) }
                    thead { tr {
                        th scope="col" { (tr.t("c.imp.when")) }
                        th scope="col" { (tr.t("c.imp.file")) }
                        th scope="col" { (tr.t("c.col.district")) }
                        th scope="col" { (tr.t("c.imp.who")) }
                        th scope="col" class="num" { (tr.t("c.imp.rows")) }
                        th scope="col" { (tr.t("c.imp.result")) }
                        th scope="col" class="num" { (tr.t("c.imp.errors")) }
                    } }
                    tbody {
                        @for r in history {
                            tr data-id=(r.id) {
                                td { (time(r.created_at)) }
                                td.file {
                                    a.open href={ "/imports/" (r.id) } { (r.file_name) }
                                    br;
                                    span.small.muted { (kind_of(tr, &r.kind)) }
                                }
                                td { (r.district.as_str()) }
                                td { (r.actor.trim_start_matches("user:")) }
                                td.num { (r.rows) }
                                td { (status_badge(tr, r.status))
                                    @if r.status == ImportStatus::Running { " " span.small { (imports::percent(r)) " %" } } }
                                td.num { @if r.error_count > 0 { strong { (r.error_count) } } @else { "0" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /imports`: a multipart form with `csrf`, `kind`, `district` and
/// `file`; checks the file and opens its page (303).
pub async fn upload(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let tr = officer.tr;
    let parts = match crate::multipart::read_parts(form).await {
        Ok(p) => p,
        Err(e) => {
            let (status, message) = match e.code() {
                crate::error::ErrorCode::PayloadTooLarge => (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    tr.f(
                        "c.err.file_too_large",
                        &[("n", &(state.config.max_body_bytes >> 20).to_string())],
                    ),
                ),
                _ => (StatusCode::BAD_REQUEST, tr.t("c.err.bad_upload").to_owned()),
            };
            return error_page(tr, Some(&officer.session), status, &message);
        }
    };
    let field = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| std::str::from_utf8(&p.bytes).ok())
            .map(str::trim)
            .unwrap_or("")
    };
    if let Some(refused) = officer.refuse_csrf(field("csrf")) {
        return refused;
    }
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let Some(kind) = Kind::parse(field("kind")) else {
        return again(
            &state,
            &officer,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.t("c.err.import_kind"),
        );
    };
    if let Some(r) = super::refuse_without(&officer, kind.permission(), "c.err.role_import_kind") {
        return r;
    }
    let district = match field("district") {
        "" => None,
        d => match District::parse(d) {
            Ok(d) => Some(d),
            Err(_) => {
                return again(
                    &state,
                    &officer,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    tr.t("c.err.import_district"),
                );
            }
        },
    };
    let Some(file) = parts.iter().find(|p| p.name == "file") else {
        return again(
            &state,
            &officer,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.t("c.err.no_file"),
        );
    };
    if file.bytes.is_empty() {
        return again(
            &state,
            &officer,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.t("c.err.no_file"),
        );
    }
    let upload = Upload {
        kind,
        district,
        file_name: file.file_name.clone().unwrap_or_default(),
        content: file.bytes.clone(),
    };
    match imports::check(&state, &officer.as_actor(), upload).await {
        Ok(record) => see_other(&format!("/imports/{}", record.id)),
        Err(ServiceError::Invalid(v)) if v.field == "district" => again(
            &state,
            &officer,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.t("c.err.import_district"),
        ),
        Err(e) => failure(&officer, e),
    }
}

/// The imports page again with why the upload was refused.
fn again(
    state: &AppState,
    officer: &ConsoleOfficer,
    status: StatusCode,
    message: &str,
) -> Response {
    let tr = officer.tr;
    let body = html! {
        div.page-head { h1 { (tr.t("c.imports")) } }
        (upload_form(state, officer, Some(message)))
        p { a href="/imports" { (tr.t("c.import_history")) } }
    };
    respond(
        status,
        page(
            tr,
            Some(&officer.session),
            Some(Nav::Imports),
            tr.t("c.imports"),
            body,
        ),
        &[],
    )
}

/// `GET /imports/{id}`: an import's check, progress or result.
pub async fn detail(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let r = match imports::read(&state, &officer.as_actor(), &id).await {
        Ok(r) => r,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let title = format!("{} · {}", r.file_name, kind_of(tr, &r.kind));
    let body = render_detail(tr, &officer, &r);
    respond(
        StatusCode::OK,
        page(tr, Some(&officer.session), Some(Nav::Imports), &title, body),
        &[],
    )
}

fn render_detail(tr: Tr, officer: &ConsoleOfficer, r: &ImportRecord) -> Markup {
    let n = |v: u64| v.to_string();
    html! {
        p.crumbs { a href="/imports" { "← " (tr.t("c.back_to_imports")) } }
        div.page-head {
            h1 #import-title { (r.file_name) }
        }
        section.card aria-labelledby="import-facts" {
            h2 #import-facts.visually-hidden { (tr.t("c.import")) }
            dl.facts.cols {
                div { dt { (tr.t("c.imp.result")) } dd #import-status { (status_badge(tr, r.status)) } }
                div { dt { (tr.t("c.import_kind")) } dd { (kind_of(tr, &r.kind)) } }
                div { dt { (tr.t("c.col.district")) } dd { (r.district.as_str()) } }
                div { dt { (tr.t("c.imp.rows")) } dd #import-rows { (r.rows) } }
                div { dt { (tr.t("c.imp.who")) } dd { (r.actor.trim_start_matches("user:")) } }
                div { dt { (tr.t("c.imp.when")) } dd { (time(r.created_at)) } }
                @if let Some(f) = r.finished_at { div { dt { (tr.t("c.imp.finished")) } dd { (time(f)) } } }
                div { dt { (tr.t("c.imp.size")) } dd { (format_size(r.size_bytes)) } }
            }
        }
        @match r.status {
            ImportStatus::Checked => {
                section.card #commit aria-labelledby="commit-title" {
                    h2 #commit-title { (tr.t("c.import_clean_title")) }
                    p.alert.good role="status" #import-clean { (tr.f("c.import_clean", &[("n", &n(r.rows))])) }
                    form.actions-row method="post" action={ "/imports/" (r.id) "/commit" } {
                        input type="hidden" name="csrf" value=(officer.session.csrf);
                        button #commit-button type="submit" { (tr.f("c.commit_rows", &[("n", &n(r.rows))])) }
                        a.cancel href="/imports" { (tr.t("c.imp.cancel")) }
                    }
                    p.small.muted { (tr.t("c.commit_until")) " " (time(imports::expires_at(r))) }
                }
            }
            ImportStatus::Running => {
                section.card #progress aria-labelledby="progress-title" data-refresh=(REFRESH_SECS) {
                    h2 #progress-title { (tr.t("c.import_running")) }
                    progress #import-progress max="100" value=(imports::percent(r)) aria-labelledby="progress-title" {}
                    p role="status" #progress-text {
                        @if imports::committing(r) {
                            (tr.t("c.import_committing"))
                        } @else {
                            (tr.f("c.rows_written", &[("done", &n(r.rows_done.min(r.rows))), ("total", &n(r.rows))]))
                            " (" (imports::percent(r)) " %)"
                        }
                    }
                    p.small.muted { (tr.t("c.refreshes")) " " a href={ "/imports/" (r.id) } { (tr.t("c.refresh_now")) } }
                }
            }
            ImportStatus::Done => {
                section.card #result aria-labelledby="result-title" {
                    h2 #result-title { (tr.t("c.import_done_title")) }
                    p.alert.good role="status" #import-done { (tr.f("c.import_done", &[("n", &n(r.rows_done)), ("changed", &n(r.changed))])) }
                    @if let Some(obj) = r.summary.as_object() {
                        @if obj.contains_key("created") {
                            dl.facts.cols {
                                @for (key, label) in [("created", "c.orders_created"), ("extended", "c.orders_extended"), ("unchanged", "c.orders_unchanged")] {
                                    div { dt { (tr.t(label)) } dd { (obj.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0)) } }
                                }
                            }
                        }
                    }
                    p { a href="/imports" { (tr.t("c.import_another")) } }
                }
            }
            ImportStatus::Expired => {
                p.card.empty { (tr.t("c.import_expired")) " " a href="/imports" { (tr.t("c.import_again")) } }
            }
            ImportStatus::Refused | ImportStatus::Failed => {
                section.card #problems aria-labelledby="problems-title" {
                    h2 #problems-title { (tr.t("c.import_refused_title")) }
                    p.alert.bad role="alert" #import-refused {
                        @if r.error_count > 0 {
                            (tr.f("c.import_bad_rows", &[("n", &n(r.error_count)), ("rows", &n(r.rows))]))
                        } @else {
                            (tr.t("c.import_failed"))
                        }
                    }
                    @if !r.errors.is_empty() {
                        @if (r.errors.len() as u64) < r.error_count {
                            p.small #errors-shown { (tr.f("c.errors_shown", &[("shown", &n(r.errors.len() as u64)), ("n", &n(r.error_count))])) }
                        }
                        div.table-wrap.plain {
                            table.queue #errors {
                                caption.visually-hidden { (tr.t("c.bad_rows")) }
                                thead { tr {
                                    th scope="col" class="num" { (tr.t("c.imp.line")) }
                                    th scope="col" { (tr.t("c.imp.column")) }
                                    th scope="col" { (tr.t("c.imp.reason")) }
                                } }
                                tbody {
                                    @for e in &r.errors {
                                        tr { td.num { (e.line) } td.mono { (e.column) } td { (e.reason) } }
                                    }
                                }
                            }
                        }
                    }
                    p { a href="/imports" { (tr.t("c.import_again")) } }
                }
            }
        }
    }
}

fn format_size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

#[derive(Debug, Deserialize)]
pub struct CommitForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /imports/{id}/commit`: imports a checked file in the background
/// and opens its page (303), where the progress shows.
pub async fn commit(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    Form(form): Form<CommitForm>,
) -> Response {
    if let Some(refused) = officer.refuse_csrf(&form.csrf) {
        return refused;
    }
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    match imports::commit(&state, &officer.as_actor(), &id).await {
        Ok(r) => see_other(&format!("/imports/{}", r.id)),
        Err(e) => failure(&officer, e),
    }
}
