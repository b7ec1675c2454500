//! The follow-up worklists (`GET /follow-ups?list=…`: cases to interview
//! or trace, contacts to call today, contacts without an address,
//! notify-tier contacts to inform; 50 a page with a cursor) and one
//! follow-up's page (`GET /follow-ups/{id}`): who, why (the case and the
//! exposure evidence, e.g. flight, seat and booking), where they stand,
//! the call log; actions, each a POST with the session's CSRF token: log a
//! call (`/calls`), assign to me or back to the pool (`/assign`), and for
//! a close contact without an address the place of the order
//! (`/address`, which issues it). A case's page has a form to name a
//! contact from the interview (`POST /cases/{id}/contacts`). All through
//! `services::follow_up`; only roles with the `Trace` permission.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, Utc};
use lazaret_core::contact::RiskTier;
use lazaret_core::contact_info::Phone;
use lazaret_core::district::District;
use lazaret_core::exposure::ContactSetting;
use lazaret_core::follow_up::{CallOutcome, FollowUpKind, FollowUpStatus};
use lazaret_core::geo::Coordinates;
use lazaret_core::ids::PersonId;
use lazaret_core::person::{Address, FullName, Person};
use lazaret_core::user::Permission;
use lazaret_core::ValidationError;
use lazaret_store::{FollowUp, PageRequest, Worklist};
use maud::{html, Markup};

use super::cases::{case_url, evidence, label, urlencode};
use super::layout::{page, respond, time, Nav, Tr};
use super::{see_other, ConsoleOfficer};
use crate::services::follow_up::{self as service, FollowUpFile, NamedPerson, NewPlace};
use crate::services::notices;
use crate::services::ServiceError;
use crate::state::AppState;

const PAGE_SIZE: u32 = 50;

fn failure(officer: &ConsoleOfficer, e: ServiceError) -> Response {
    super::failure_page(officer, e, "c.err.follow_up_not_found")
}

fn refuse_role(officer: &ConsoleOfficer) -> Option<Response> {
    super::refuse_without(officer, Permission::Trace, "c.err.role_cases")
}

fn ok_page(officer: &ConsoleOfficer, title: &str, body: Markup) -> Response {
    respond(
        StatusCode::OK,
        page(
            officer.tr,
            Some(&officer.session),
            Some(Nav::FollowUp),
            title,
            body,
        ),
        &[],
    )
}

fn follow_up_url(id: &str) -> String {
    format!("/follow-ups/{}", urlencode(id))
}

/// The fields of this module's forms.
#[derive(Debug, Default)]
struct Form {
    csrf: String,
    outcome: String,
    note: String,
    assignee: String,
    address: String,
    lat: String,
    lon: String,
    person_id: String,
    full_name: String,
    phone: String,
    setting: String,
    last_exposure: String,
}

impl Form {
    fn parse(body: &[u8]) -> Form {
        let mut f = Form::default();
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match &*k {
                "csrf" => f.csrf = v,
                "outcome" => f.outcome = v,
                "note" => f.note = v,
                "assignee" => f.assignee = v,
                "address" => f.address = v,
                "lat" => f.lat = v,
                "lon" => f.lon = v,
                "person_id" => f.person_id = v,
                "full_name" => f.full_name = v,
                "phone" => f.phone = v,
                "setting" => f.setting = v,
                "last_exposure" => f.last_exposure = v,
                _ => {}
            }
        }
        f
    }
}

fn refuse(officer: &ConsoleOfficer, form: &Form) -> Option<Response> {
    refuse_role(officer).or_else(|| officer.refuse_csrf(&form.csrf))
}

fn status_class(s: FollowUpStatus) -> &'static str {
    use FollowUpStatus as S;
    match s {
        S::ToInterview | S::ToCall | S::ToInform => "s-warn",
        S::Unreachable | S::Refused | S::Suspected => "s-bad",
        S::Interviewed | S::Reached | S::Quarantined | S::Monitored => "s-good",
        S::NotAContact | S::Released => "s-muted",
    }
}

fn status_badge(tr: Tr, s: FollowUpStatus) -> Markup {
    html! { span class={ "status " (status_class(s)) } { (label(tr, "c.fu.status.", s.as_str())) } }
}

// ---------------------------------------------------------------- the lists

/// `GET /follow-ups?list=…&cursor=…`: one worklist of the officer's districts.
pub async fn list(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let query: Vec<(String, String)> =
        form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let get = |key: &str| {
        query
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let list = get("list")
        .and_then(|l| Worklist::parse(&l))
        .unwrap_or(Worklist::ToCall);
    let cursor = get("cursor");
    let req = PageRequest {
        cursor: cursor.clone(),
        limit: Some(PAGE_SIZE),
    };
    let page = match service::worklist(&state, &officer.as_actor(), list, &req).await {
        Ok(p) => p,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let now = state.now();
    // After "send the exposure notices" on a case's page.
    let sent = get("informed").and_then(|n| n.parse::<usize>().ok());
    let unsent = get("not_informed").and_then(|n| n.parse::<usize>().ok());
    let body = html! {
        div.page-head {
            h1 { (tr.t("c.fu.title")) }
            p.keys { (label(tr, "c.fu.lead.", list.as_str())) }
        }
        @if let Some(n) = sent.filter(|n| *n > 0) {
            p.alert.good role="status" #flash { (tr.f("c.fu.notices_sent", &[("n", &n.to_string())])) }
        }
        @if let Some(n) = unsent.filter(|n| *n > 0) {
            p.alert.bad role="alert" #not-informed { (tr.f("c.fu.notices_unsent", &[("n", &n.to_string())])) }
        }
        nav.tabs aria-label=(tr.t("c.fu.lists")) {
            ul {
                @for l in Worklist::ALL {
                    li { a href={ "/follow-ups?list=" (l.as_str()) }
                        aria-current=[(l == list).then_some("page")] { (label(tr, "c.fu.list.", l.as_str())) } }
                }
            }
        }
        @if page.items.is_empty() {
            p.empty #empty { (tr.t("c.fu.empty")) }
        } @else {
            div.table-wrap.plain {
                table.queue #worklist data-list=(list.as_str()) {
                    caption.visually-hidden { (label(tr, "c.fu.list.", list.as_str())) }
                    thead { tr {
                        th scope="col" { (tr.t("c.col.name")) }
                        th scope="col" { (tr.t("c.fu.col.phone")) }
                        th scope="col" { (tr.t("c.fu.col.case")) }
                        th scope="col" { (tr.t("c.fu.col.status")) }
                        th scope="col" { (tr.t("c.fu.col.due")) }
                        th scope="col" { (tr.t("c.fu.col.assignee")) }
                    } }
                    tbody {
                        @for f in &page.items {
                            tr data-id=(f.id.as_str()) data-person=(f.person_id.as_str()) {
                                td.person { a.open href=(follow_up_url(f.id.as_str())) { (f.full_name) } }
                                td.mono { @if let Some(p) = &f.phone { a href={ "tel:" (p) } { (p) } } @else { span.muted { "—" } } }
                                td { @if f.kind == FollowUpKind::Contact {
                                    a.mono href=(case_url(f.case_id.as_str())) { (f.case_id.as_str()) }
                                    @if let Some(t) = f.tier { " " span.small { (label(tr, "c.tier.", t.as_str())) } }
                                } @else { span.mono { (f.test_id.as_str()) } } }
                                td { (status_badge(tr, f.status))
                                    @if f.unanswered > 0 { " " span.small { (tr.f("c.fu.unanswered", &[("n", &f.unanswered.to_string())])) } } }
                                td { @match f.due_at {
                                    Some(d) if d + chrono::Duration::minutes(1) <= now => { span.status.s-bad { (tr.t("c.fu.overdue")) } " " span.small { (tr.age(now, d)) } },
                                    Some(d) => (time(d)),
                                    None => span.muted { "—" },
                                } }
                                td { @match &f.assignee { Some(a) => (a), None => span.muted { (tr.t("c.unassigned")) } } }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label=(tr.t("c.pages")) {
            @if cursor.is_some() { a href={ "/follow-ups?list=" (list.as_str()) } { (tr.t("c.first_page")) } }
            @if let Some(c) = &page.next_cursor {
                a #next-page rel="next" href={ "/follow-ups?list=" (list.as_str()) "&cursor=" (urlencode(c)) } { (tr.t("c.next_page")) }
            }
        }
    };
    ok_page(&officer, tr.t("c.fu.title"), body)
}

// ---------------------------------------------------------------- one follow-up

/// `GET /follow-ups/{id}`: the follow-up with its call log and actions.
pub async fn detail(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let file = match service::read(&state, &officer.as_actor(), &id).await {
        Ok(f) => f,
        Err(e) => return failure(&officer, e),
    };
    let flash = form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.into_owned());
    let title = file.follow_up.full_name.clone();
    let body = render_detail(officer.tr, &officer, &file, flash.as_deref(), None);
    ok_page(&officer, &title, body)
}

fn render_detail(
    tr: Tr,
    officer: &ConsoleOfficer,
    file: &FollowUpFile,
    flash: Option<&str>,
    error: Option<&str>,
) -> Markup {
    let f = &file.follow_up;
    let csrf = &officer.session.csrf;
    let url = follow_up_url(f.id.as_str());
    let takes_calls = f.status.is_open() || f.status == FollowUpStatus::Unreachable;
    let needs_place = f.kind == FollowUpKind::Contact
        && f.tier == Some(RiskTier::Close)
        && !f.status.is_closed()
        && f.status != FollowUpStatus::Quarantined
        && f.status != FollowUpStatus::Refused;
    let mine = f.assignee.as_deref() == Some(officer.session.username.as_str());
    let can_suspect = f.kind == FollowUpKind::Contact
        && matches!(
            f.status,
            FollowUpStatus::Monitored | FollowUpStatus::Reached | FollowUpStatus::Released
        );
    html! {
        p.crumbs { a href="/follow-ups" { "← " (tr.t("c.fu.back")) } }
        @if let Some(k) = flash {
            p.alert.good role="status" #flash { (label(tr, "c.fu.done.", k)) }
        }
        @if let Some(e) = error {
            p.alert.bad role="alert" #form-error { (e) }
        }
        section.card.person-head aria-labelledby="fu-name" {
            h1 #fu-name { (f.full_name) }
            dl.facts.cols {
                div { dt { (tr.t("c.fu.col.status")) } dd #fu-status data-status=(f.status.as_str()) { (status_badge(tr, f.status)) } }
                div { dt { (tr.t("c.fu.col.phone")) } dd.mono { @if let Some(p) = &f.phone { a href={ "tel:" (p) } { (p) } } @else { span.muted { (tr.t("c.fu.no_phone")) } } } }
                @if let Some(e) = &f.email { div { dt { (tr.t("c.fu.email")) } dd { a href={ "mailto:" (e) } { (e) } } } }
                div { dt { (tr.t("c.person_id")) } dd.mono { a href={ "/persons/" (urlencode(f.person_id.as_str())) } { (f.person_id.as_str()) } } }
                div { dt { (tr.t("c.fu.col.case")) } dd.mono { a href=(case_url(f.case_id.as_str())) { (f.case_id.as_str()) } " · " (f.test_id.as_str()) } }
                div { dt { (tr.t("c.col.district")) } dd { (f.district) } }
                @if let Some(t) = f.tier { div { dt { (tr.t("c.fu.tier")) } dd { (label(tr, "c.tier.", t.as_str())) } } }
                div { dt { (tr.t("c.fu.col.due")) } dd { @match f.due_at { Some(d) => (time(d)), None => span.muted { "—" } } } }
                div { dt { (tr.t("c.fu.col.assignee")) } dd #fu-assignee { @match &f.assignee { Some(a) => (a), None => span.muted { (tr.t("c.unassigned")) } } } }
                div { dt { (tr.t("c.fu.opened")) } dd { (time(f.opened_at)) } }
                @if let Some(r) = f.reached_at { div { dt { (tr.t("c.fu.reached_at")) } dd { (time(r)) } } }
                @if let Some(i) = f.informed_at { div { dt { (tr.t("c.fu.informed_at")) } dd { (time(i)) } } }
                @if let Some(u) = f.monitor_until { div { dt { (tr.t("c.fu.monitor_until")) } dd #fu-monitor-until { (time(u)) } } }
            }
            form.inline method="post" action={ (url) "/assign" } {
                input type="hidden" name="csrf" value=(csrf);
                @if mine {
                    input type="hidden" name="assignee" value="";
                    button.secondary #unassign type="submit" { (tr.t("c.fu.unassign")) }
                } @else {
                    input type="hidden" name="assignee" value=(officer.session.username.as_str());
                    button.secondary #assign-me type="submit" { (tr.t("c.assign_to_me")) }
                }
            }
        }
        div.person-grid {
            div.person-main {
                @if let Some(c) = &file.contact {
                    section.card #why aria-labelledby="why-title" {
                        h2 #why-title { (tr.t("c.fu.why")) }
                        ul.plain.evidence { @for e in &c.evidence { li { (evidence(tr, e)) } } }
                        p.small { (tr.t("c.col.last_exposure")) ": " (time(c.last_exposure)) }
                    }
                }
                section.card #calls aria-labelledby="calls-title" {
                    h2 #calls-title { (tr.t("c.fu.calls")) }
                    @if file.calls.is_empty() {
                        p.muted #no-calls { (tr.t("c.fu.no_calls")) }
                    } @else {
                        ol.calls #call-log {
                            @for c in &file.calls {
                                li data-outcome=(c.outcome.as_str()) {
                                    (time(c.at)) " · " strong { (label(tr, "c.fu.outcome.", c.outcome.as_str())) } " · " (c.caller)
                                    @if let Some(n) = &c.note { p.note { (n) } }
                                }
                            }
                        }
                    }
                }
            }
            div.person-side {
                @if f.status == FollowUpStatus::ToInform {
                    section.card #notice aria-labelledby="notice-title" {
                        h2 #notice-title { (tr.t("c.fu.notice")) }
                        p.small { (tr.t("c.fu.notice_lead")) }
                        form method="post" action={ (url) "/notice" } {
                            input type="hidden" name="csrf" value=(csrf);
                            button #send-notice type="submit" { (tr.t("c.fu.send_notice")) }
                        }
                    }
                }
                @if can_suspect {
                    section.card #suspect aria-labelledby="suspect-title" {
                        h2 #suspect-title { (tr.t("c.fu.suspect")) }
                        p.small { (tr.t("c.fu.suspect_lead")) }
                        form method="post" action={ (url) "/suspected" } {
                            input type="hidden" name="csrf" value=(csrf);
                            button.secondary #mark-suspected type="submit" { (tr.t("c.fu.mark_suspected")) }
                        }
                    }
                }
                @if takes_calls {
                    section.card #log-call aria-labelledby="log-title" {
                        h2 #log-title { (tr.t("c.fu.log_call")) }
                        form method="post" action={ (url) "/calls" } {
                            input type="hidden" name="csrf" value=(csrf);
                            fieldset.outcomes {
                                legend { (tr.t("c.fu.outcome")) }
                                @for o in CallOutcome::ALL {
                                    @if f.kind == FollowUpKind::Contact || o != CallOutcome::NotAContact {
                                        label.radio {
                                            input type="radio" name="outcome" value=(o.as_str()) required;
                                            " " (label(tr, "c.fu.outcome.", o.as_str()))
                                        }
                                    }
                                }
                            }
                            label for="call-note" { (tr.t("c.fu.note")) }
                            textarea #call-note name="note" maxlength="2000" {}
                            button #save-call type="submit" { (tr.t("c.fu.save_call")) }
                        }
                    }
                }
                @if needs_place {
                    section.card #place aria-labelledby="place-title" {
                        h2 #place-title { (tr.t("c.fu.place")) }
                        p.small { (tr.t("c.fu.place_lead")) }
                        form method="post" action={ (url) "/address" } {
                            input type="hidden" name="csrf" value=(csrf);
                            label for="pl-address" { (tr.t("c.fu.address")) }
                            input #pl-address type="text" name="address" required maxlength="500" autocomplete="off";
                            div.row2 {
                                div { label for="pl-lat" { (tr.t("c.fu.lat")) }
                                    input #pl-lat type="text" inputmode="decimal" name="lat" required; }
                                div { label for="pl-lon" { (tr.t("c.fu.lon")) }
                                    input #pl-lon type="text" inputmode="decimal" name="lon" required; }
                            }
                            button #issue-order type="submit" { (tr.t("c.fu.issue_order")) }
                        }
                    }
                }
            }
        }
    }
}

/// Re-renders a follow-up's page with `error` over the forms (422).
async fn with_error(
    state: &AppState,
    officer: &ConsoleOfficer,
    id: &str,
    e: ServiceError,
) -> Response {
    let message = match &e {
        ServiceError::Invalid(v) => v.to_string(),
        ServiceError::Store(lazaret_store::StoreError::Stale { .. }) => {
            officer.tr.t("c.fu.changed").to_owned()
        }
        _ => return failure(officer, e),
    };
    match service::read(state, &officer.as_actor(), id).await {
        Ok(file) => {
            let title = file.follow_up.full_name.clone();
            let body = render_detail(officer.tr, officer, &file, None, Some(&message));
            let mut r = ok_page(officer, &title, body);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e) => failure(officer, e),
    }
}

/// `POST /follow-ups/{id}/calls`: logs a call.
pub async fn record_call(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    let outcome = match CallOutcome::parse(&form.outcome) {
        Ok(o) => o,
        Err(e) => return with_error(&state, &officer, &id, e.into()).await,
    };
    match service::record_call(
        &state,
        &officer.as_actor(),
        &id,
        outcome,
        Some(form.note.as_str()),
    )
    .await
    {
        Ok(_) => see_other(&format!("{}?done=call", follow_up_url(&id))),
        Err(e) => with_error(&state, &officer, &id, e).await,
    }
}

/// `POST /follow-ups/{id}/assign`: to the named officer, or back to the pool.
pub async fn assign(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    let assignee = Some(form.assignee.as_str()).filter(|a| !a.trim().is_empty());
    match service::assign(&state, &officer.as_actor(), &id, assignee).await {
        Ok(_) => see_other(&format!("{}?done=assigned", follow_up_url(&id))),
        Err(e) => with_error(&state, &officer, &id, e).await,
    }
}

fn coordinate(raw: &str, field: &'static str) -> Result<f64, ValidationError> {
    raw.trim()
        .replace(',', ".")
        .parse::<f64>()
        .map_err(|_| ValidationError::new(field, format!("{raw:?} is not a number")))
}

/// `POST /follow-ups/{id}/address`: issues the contact's order at the place given.
pub async fn address(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    if let Some(r) = super::refuse_without(&officer, Permission::WriteOrders, "c.err.role_orders") {
        return r;
    }
    let place = (|| -> Result<NewPlace, ValidationError> {
        Ok(NewPlace {
            address: Address::parse(&form.address)?,
            coordinates: Coordinates::new(
                coordinate(&form.lat, "lat")?,
                coordinate(&form.lon, "lon")?,
            )?,
        })
    })();
    let place = match place {
        Ok(p) => p,
        Err(e) => return with_error(&state, &officer, &id, e.into()).await,
    };
    match service::add_address(&state, &officer.as_actor(), &id, place).await {
        Ok(w) => see_other(&format!("/orders/{}", urlencode(w.order.id.as_str()))),
        Err(e) => with_error(&state, &officer, &id, e).await,
    }
}

/// `POST /follow-ups/{id}/notice`: sends one contact's exposure notice.
pub async fn notice(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    match notices::inform_contact(&state, &officer.as_actor(), &id).await {
        Ok(done) => match done.not_informed.into_iter().next() {
            None => see_other(&format!("{}?done=informed", follow_up_url(&id))),
            Some((_, why)) => {
                let e = ValidationError::new(
                    "notice",
                    officer.tr.f("c.fu.not_informed", &[("why", &why)]),
                );
                with_error(&state, &officer, &id, e.into()).await
            }
        },
        Err(e) => with_error(&state, &officer, &id, e).await,
    }
}

/// `POST /follow-ups/{id}/suspected`: a monitored contact becomes a suspected case.
pub async fn suspected(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    match notices::mark_suspected(&state, &officer.as_actor(), &id).await {
        Ok(_) => see_other(&format!("{}?done=suspected", follow_up_url(&id))),
        Err(e) => with_error(&state, &officer, &id, e).await,
    }
}

/// The card on a case's page that sends the exposure notices of its
/// notify-tier contacts in the officer's districts.
pub fn notices_form(tr: Tr, csrf: &str, case: &str, to_inform: usize) -> Markup {
    html! {
        section.card #notices aria-labelledby="notices-title" {
            h2 #notices-title { (tr.t("c.fu.notices")) }
            @if to_inform == 0 {
                p.muted #no-notices { (tr.t("c.fu.no_notices")) }
            } @else {
                p.small { (tr.f("c.fu.notices_lead", &[("n", &to_inform.to_string())])) }
                form method="post" action={ (case_url(case)) "/notices" } {
                    input type="hidden" name="csrf" value=(csrf);
                    button #send-notices type="submit" { (tr.t("c.fu.send_notices")) }
                }
            }
        }
    }
}

/// `POST /cases/{id}/notices`: sends the case's exposure notices, then
/// shows the "to inform" list with what was done.
pub async fn case_notices(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(case): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    match notices::inform_case_contacts(&state, &officer.as_actor(), &case).await {
        Ok(done) => see_other(&format!(
            "/follow-ups?list=to_inform&informed={}&not_informed={}",
            done.informed.len(),
            done.not_informed.len()
        )),
        Err(e) => failure(&officer, e),
    }
}

// ---------------------------------------------------------------- a named contact

/// The form on a case's page that names a contact from the interview.
pub fn name_contact_form(tr: Tr, csrf: &str, case: &str, now: DateTime<Utc>) -> Markup {
    html! {
        section.card #name-contact aria-labelledby="name-contact-title" {
            h2 #name-contact-title { (tr.t("c.fu.name_contact")) }
            p.small { (tr.t("c.fu.name_contact_lead")) }
            form method="post" action={ (case_url(case)) "/contacts" } {
                input type="hidden" name="csrf" value=(csrf);
                label for="nc-person" { (tr.t("c.fu.existing_id")) }
                input #nc-person type="text" name="person_id" autocomplete="off";
                p.small.muted { (tr.t("c.fu.or_new")) }
                label for="nc-name" { (tr.t("c.fu.full_name")) }
                input #nc-name type="text" name="full_name" maxlength="200" autocomplete="off";
                label for="nc-phone" { (tr.t("c.fu.col.phone")) }
                input #nc-phone type="tel" name="phone" autocomplete="off";
                label for="nc-setting" { (tr.t("c.fu.setting")) }
                select #nc-setting name="setting" required {
                    @for s in ContactSetting::ALL {
                        option value=(s.as_str()) { (label(tr, "c.fu.setting.", s.as_str())) }
                    }
                }
                label for="nc-when" { (tr.t("c.fu.last_exposure")) }
                input #nc-when type="datetime-local" name="last_exposure" required
                    max=(now.format("%Y-%m-%dT%H:%M").to_string());
                p.small.muted { (tr.t("c.fu.utc")) }
                button #name-contact-save type="submit" { (tr.t("c.fu.add_contact")) }
            }
        }
    }
}

/// `POST /cases/{id}/contacts`: names a contact (on record by id, or new by
/// name) and traces the case again.
pub async fn name_contact(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(case): Path<String>,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    let parsed = (|| -> Result<(NamedPerson, ContactSetting, DateTime<Utc>), ValidationError> {
        let who = if !form.person_id.trim().is_empty() {
            NamedPerson::Existing(PersonId::parse(form.person_id.trim())?)
        } else if !form.full_name.trim().is_empty() {
            NamedPerson::New {
                person: Person {
                    id: PersonId::generate(),
                    full_name: FullName::parse(&form.full_name)?,
                    phone: Some(form.phone.trim())
                        .filter(|p| !p.is_empty())
                        .map(Phone::parse)
                        .transpose()?,
                    email: None,
                    language: Default::default(),
                    district: District::unassigned(),
                },
                district: None,
            }
        } else {
            return Err(ValidationError::new(
                "person_id",
                "give the id of someone on record, or the name of someone new",
            ));
        };
        let setting = ContactSetting::parse(&form.setting)?;
        let when = NaiveDateTime::parse_from_str(form.last_exposure.trim(), "%Y-%m-%dT%H:%M")
            .map_err(|_| {
                ValidationError::new("last_exposure", "is not a date and time (YYYY-MM-DD HH:MM)")
            })?
            .and_utc();
        Ok((who, setting, when))
    })();
    let (who, setting, when) = match parsed {
        Ok(p) => p,
        Err(e) => return failure(&officer, e.into()),
    };
    match service::name_contact(&state, &officer.as_actor(), &case, who, setting, when).await {
        Ok(t) => see_other(&format!(
            "{}?traced={}",
            case_url(&case),
            t.outcome.contacts.len()
        )),
        Err(e) => failure(&officer, e),
    }
}

/// The follow-up status of each contact, for the case page's tables.
pub fn status_cell(tr: Tr, f: Option<&FollowUp>) -> Markup {
    html! {
        @match f {
            Some(f) if !f.full_name.is_empty() => a href=(follow_up_url(f.id.as_str())) { (status_badge(tr, f.status)) },
            Some(f) => (status_badge(tr, f.status)),
            None => span.muted { "—" },
        }
    }
}
