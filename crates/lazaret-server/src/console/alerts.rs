//! The alert queue (`GET /alerts`), one alert with the evidence of its
//! prompt's tries (`GET /alerts/{id}`), and the officer's actions on them
//! (`POST /alerts/{id}/assign`, `/alerts/{id}/resolve`, `/alerts/bulk`).
//! Every read and change goes through `services::alerts`, as the JSON API's
//! do: the officer's districts, the health rule and the audit log apply
//! alike. The queue's filters persist in a cookie (an empty `/alerts`
//! reopens the last query; `?reset=1` forgets it).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use lazaret_core::alert::{Alert, AlertKind, AlertStatus, ResolutionOutcome};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::ids::{PersonId, UserId};
use lazaret_core::person::Person;
use lazaret_core::user::Permission;
use lazaret_store::{AlertFilter, AssigneeFilter, CheckinRecord, PageRequest};
use maud::{html, Markup};
use serde_json::Value;

use super::fence::{fence_diagram, Fix};
use super::layout::{error_page, page, respond, time, when, Nav, Tr};
use super::{cookie, see_other, set_cookie, ConsoleOfficer};
use crate::error::{ApiError, ErrorCode};
use crate::services::alerts::{self, AlertDetail, EachResult};
use crate::services::persons;
use crate::services::ServiceError;
use crate::state::AppState;

/// The cookie keeping the queue's last query (filters and sort, no cursor).
const QUERY_COOKIE: &str = "lazaret_alerts_query";
/// The cookie carrying what the last action did to the next page.
const FLASH_COOKIE: &str = "lazaret_flash";
const PAGE_SIZE: u32 = 50;

pub(super) const KINDS: [AlertKind; 6] = [
    AlertKind::MissedCheckin,
    AlertKind::FailedCheckin,
    AlertKind::WelfareCheck,
    AlertKind::NotDelivered,
    AlertKind::CannotPrompt,
    AlertKind::Symptomatic,
];

fn kind_code(k: AlertKind) -> &'static str {
    k.as_str()
}

pub(super) fn kind_label(tr: Tr, k: AlertKind) -> &'static str {
    match k {
        AlertKind::MissedCheckin => tr.t("c.kind.missed_checkin"),
        AlertKind::FailedCheckin => tr.t("c.kind.failed_checkin"),
        AlertKind::WelfareCheck => tr.t("c.kind.welfare_check"),
        AlertKind::Symptomatic => tr.t("c.kind.symptomatic"),
        AlertKind::CannotPrompt => tr.t("c.kind.cannot_prompt"),
        AlertKind::NotDelivered => tr.t("c.kind.not_delivered"),
    }
}

fn status_label(tr: Tr, s: AlertStatus) -> &'static str {
    match s {
        AlertStatus::Open => tr.t("c.status.open"),
        AlertStatus::Assigned => tr.t("c.status.assigned"),
        AlertStatus::Resolved => tr.t("c.status.resolved"),
    }
}

fn outcome_label(tr: Tr, o: ResolutionOutcome) -> &'static str {
    match o {
        ResolutionOutcome::ReachedByPhone => tr.t("c.outcome.reached_by_phone"),
        ResolutionOutcome::Visited => tr.t("c.outcome.visited"),
        ResolutionOutcome::Exempted => tr.t("c.outcome.exempted"),
        ResolutionOutcome::FalseAlarm => tr.t("c.outcome.false_alarm"),
        ResolutionOutcome::TechnicalProblem => tr.t("c.outcome.technical_problem"),
        ResolutionOutcome::Other => tr.t("c.outcome.other"),
    }
}

/// Which alerts by status the queue shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusChoice {
    /// Open or assigned: the work still to do (the default).
    Unresolved,
    Only(AlertStatus),
}

/// Whose alerts the queue shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Whose {
    Anyone,
    Me,
    Unassigned,
}

/// The queue's filters and sort, as the URL and the cookie carry them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filters {
    kind: Option<AlertKind>,
    status: StatusChoice,
    whose: Whose,
    district: Option<District>,
    newest: bool,
}

impl Default for Filters {
    fn default() -> Self {
        Self {
            kind: None,
            status: StatusChoice::Unresolved,
            whose: Whose::Anyone,
            district: None,
            newest: false,
        }
    }
}

/// A parsed `/alerts` query.
#[derive(Debug, Default)]
struct Query {
    filters: Filters,
    cursor: Option<String>,
    reset: bool,
}

impl Query {
    /// Reads the query leniently: an unknown value is the default (a link
    /// from an older version still opens the queue).
    fn parse(raw: &str) -> Query {
        let mut q = Query::default();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            let v = v.trim();
            match &*k {
                "kind" => q.filters.kind = KINDS.into_iter().find(|k| kind_code(*k) == v),
                "status" => {
                    q.filters.status = match v {
                        "open" => StatusChoice::Only(AlertStatus::Open),
                        "assigned" => StatusChoice::Only(AlertStatus::Assigned),
                        "resolved" => StatusChoice::Only(AlertStatus::Resolved),
                        _ => StatusChoice::Unresolved,
                    }
                }
                "assignee" => {
                    q.filters.whose = match v {
                        "me" => Whose::Me,
                        "unassigned" => Whose::Unassigned,
                        _ => Whose::Anyone,
                    }
                }
                "district" => q.filters.district = District::parse(v).ok(),
                "sort" => q.filters.newest = v == "newest",
                "cursor" if !v.is_empty() => q.cursor = Some(v.to_owned()),
                "reset" => q.reset = true,
                _ => {}
            }
        }
        q
    }
}

impl Filters {
    /// The query string of the filters that differ from the defaults.
    fn query(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if let Some(k) = self.kind {
            s.append_pair("kind", kind_code(k));
        }
        if let StatusChoice::Only(st) = self.status {
            s.append_pair("status", st.as_str());
        }
        match self.whose {
            Whose::Anyone => {}
            Whose::Me => {
                s.append_pair("assignee", "me");
            }
            Whose::Unassigned => {
                s.append_pair("assignee", "unassigned");
            }
        }
        if let Some(d) = &self.district {
            s.append_pair("district", d.as_str());
        }
        if self.newest {
            s.append_pair("sort", "newest");
        }
        s.finish()
    }

    fn alert_filter(&self, me: &UserId) -> AlertFilter {
        AlertFilter {
            kind: self.kind,
            status: match self.status {
                StatusChoice::Only(s) => Some(s),
                StatusChoice::Unresolved => None,
            },
            unresolved: self.status == StatusChoice::Unresolved,
            assignee: match self.whose {
                Whose::Anyone => None,
                Whose::Me => Some(AssigneeFilter::Is(me.clone())),
                Whose::Unassigned => Some(AssigneeFilter::Unassigned),
            },
            // Narrows the officer's districts in the service, never widens them.
            districts: self
                .district
                .clone()
                .map(|d| DistrictScope::Only([d].into_iter().collect())),
            newest_first: self.newest,
            ..AlertFilter::default()
        }
    }
}

/// The queue's URL for `filters` (and a page's cursor).
fn queue_url(filters: &Filters, cursor: Option<&str>) -> String {
    let mut q = filters.query();
    if let Some(c) = cursor {
        let extra = form_urlencoded::Serializer::new(String::new())
            .append_pair("cursor", c)
            .finish();
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(&extra);
    }
    if q.is_empty() {
        "/alerts?".to_owned()
    } else {
        format!("/alerts?{q}")
    }
}

/// What an action did, carried by a cookie to the page it redirects to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Flash {
    /// `assigned` or `resolved`.
    action: String,
    done: usize,
    /// The error code of the first refusal, and how many were refused.
    refused: usize,
    code: Option<String>,
}

impl Flash {
    fn encode(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.action,
            self.done,
            self.refused,
            self.code.as_deref().unwrap_or("-")
        )
    }

    fn decode(s: &str) -> Option<Flash> {
        let mut it = s.split('.');
        let action = it.next()?;
        if !["assigned", "resolved"].contains(&action) {
            return None;
        }
        let done = it.next()?.parse().ok()?;
        let refused = it.next()?.parse().ok()?;
        let code = it.next()?;
        let code = (code != "-" && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
            .then(|| code.to_owned());
        Some(Flash {
            action: action.to_owned(),
            done,
            refused,
            code,
        })
    }

    fn render(&self, tr: Tr) -> Markup {
        let n = self.done.to_string();
        let done = if self.action == "assigned" {
            tr.f("c.flash.assigned", &[("n", &n)])
        } else {
            tr.f("c.flash.resolved", &[("n", &n)])
        };
        let why = match self.code.as_deref() {
            Some("validation_failed") => tr.t("c.flash.why.validation_failed"),
            Some("illegal_transition") => tr.t("c.flash.why.illegal_transition"),
            Some("conflict") => tr.t("c.flash.why.conflict"),
            Some("not_found") => tr.t("c.flash.why.not_found"),
            _ => tr.t("c.flash.why.other"),
        };
        if self.code.as_deref() == Some("none_selected") {
            return html! { p.alert.bad role="alert" id="flash-error" { (tr.t("c.flash.none_selected")) } };
        }
        html! {
            @if self.done > 0 || self.refused == 0 {
                p.alert.good role="status" id="flash" { (done) }
            }
            @if self.refused > 0 {
                p.alert.bad role="alert" id="flash-error" {
                    (tr.f("c.flash.refused", &[("n", &self.refused.to_string())])) " " (why)
                }
            }
        }
    }
}

fn flash_of(results: Vec<EachResult>, action: &str) -> Flash {
    let total = results.len();
    let mut done = 0;
    let mut code = None;
    for (_, r) in results {
        match r {
            Ok(_) => done += 1,
            Err(e) if code.is_none() => code = Some(code_of(e).as_str().to_owned()),
            Err(_) => {}
        }
    }
    Flash {
        action: action.to_owned(),
        done,
        refused: total - done,
        code,
    }
}

/// The API's code for a service error: one mapping (`crate::error`) for both.
fn code_of(e: ServiceError) -> ErrorCode {
    if let ServiceError::Store(s) = &e {
        tracing::error!(error = %s, "a console action failed");
    }
    ApiError::from(e).code()
}

/// A refused or failed page request: its status and a message.
fn failure(officer: &ConsoleOfficer, e: ServiceError) -> Response {
    super::failure_page(officer, e, "c.err.alert_not_found")
}

/// Refuses a role that does not work alerts (the API's 403, as a page).
fn refuse_role(officer: &ConsoleOfficer) -> Option<Response> {
    super::refuse_without(officer, Permission::WorkAlerts, "c.err.role_alerts")
}

/// The flash of the last action, and the header that forgets it.
fn take_flash(state: &AppState, headers: &HeaderMap) -> (Option<Flash>, Vec<HeaderValue>) {
    match cookie(headers, FLASH_COOKIE).and_then(Flash::decode) {
        Some(f) => (Some(f), vec![set_cookie(state, FLASH_COOKIE, "", 0)]),
        None => (None, Vec::new()),
    }
}

/// `GET /alerts`: the queue.
pub async fn queue(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let q = Query::parse(raw.as_deref().unwrap_or_default());
    if q.reset {
        let mut r = see_other("/alerts?");
        r.headers_mut()
            .append("set-cookie", set_cookie(&state, QUERY_COOKIE, "", 0));
        return r;
    }
    let Some(raw) = raw else {
        // A plain `/alerts` reopens the last query (`/alerts?` is the defaults).
        if let Some(saved) = cookie(&headers, QUERY_COOKIE) {
            let saved = Query::parse(saved).filters;
            if saved != Filters::default() {
                return see_other(&queue_url(&saved, None));
            }
        }
        return see_other("/alerts?");
    };
    // The filter form sends every field, empty ones too: one short URL per
    // query, to bookmark and to share.
    let canonical = queue_url(&q.filters, q.cursor.as_deref());
    if canonical != format!("/alerts?{raw}") {
        return see_other(&canonical);
    }
    let actor = officer.as_actor();
    let me = match alerts::me(&actor) {
        Ok(me) => me,
        Err(e) => return failure(&officer, e),
    };
    let page_req = PageRequest {
        cursor: q.cursor.clone(),
        limit: Some(PAGE_SIZE),
    };
    let listed = match alerts::list(&state, &actor, &q.filters.alert_filter(&me), &page_req).await {
        Ok(p) => p,
        Err(e) => return failure(&officer, e),
    };
    // The names of the page's persons, in one query (the ids were audited
    // with the list).
    let person_ids: Vec<PersonId> = listed.items.iter().map(|a| a.person_id.clone()).collect();
    let names = match persons::names(&state, &actor, &person_ids).await {
        Ok(n) => n,
        Err(e) => return failure(&officer, e),
    };
    let (flash, mut cookies) = take_flash(&state, &headers);
    let saved = q.filters.query();
    cookies.push(if saved.is_empty() {
        set_cookie(&state, QUERY_COOKIE, "", 0)
    } else {
        set_cookie(&state, QUERY_COOKIE, &saved, 180 * 24 * 3600)
    });
    let here = queue_url(&q.filters, q.cursor.as_deref());
    let body = render_queue(
        &state,
        &officer,
        &q,
        &me,
        &listed.items,
        &names,
        listed.next_cursor.as_deref(),
        flash,
        &here,
    );
    let tr = officer.tr;
    respond(
        StatusCode::OK,
        page(
            tr,
            Some(&officer.session),
            Some(Nav::Alerts),
            tr.t("c.alerts"),
            body,
        ),
        &cookies,
    )
}

#[allow(clippy::too_many_arguments)]
fn render_queue(
    state: &AppState,
    officer: &ConsoleOfficer,
    q: &Query,
    me: &UserId,
    items: &[Alert],
    names: &HashMap<PersonId, Person>,
    next: Option<&str>,
    flash: Option<Flash>,
    here: &str,
) -> Markup {
    let tr = officer.tr;
    let f = &q.filters;
    let now = state.now();
    let districts = alerts::filter_districts(&officer.as_actor());
    let opt = |value: &str, label: &str, selected: bool| {
        html! { option value=(value) selected[selected] { (label) } }
    };
    html! {
        div.page-head {
            h1 { (tr.t("c.alerts")) }
            p.keys #shortcuts { (tr.t("c.shortcuts")) }
        }
        @if let Some(fl) = flash { (fl.render(tr)) }
        form.filters method="get" action="/alerts" role="search" aria-label=(tr.t("c.filters")) {
            div.field {
                label for="f-kind" { (tr.t("c.col.kind")) }
                select #f-kind name="kind" data-shortcut="/" {
                    (opt("", tr.t("c.any_kind"), f.kind.is_none()))
                    @for k in KINDS {
                        @if k != AlertKind::Symptomatic || officer.session.role.allows(Permission::ReadHealth) {
                            (opt(kind_code(k), kind_label(tr, k), f.kind == Some(k)))
                        }
                    }
                }
            }
            div.field {
                label for="f-status" { (tr.t("c.col.status")) }
                select #f-status name="status" {
                    (opt("", tr.t("c.status.unresolved"), f.status == StatusChoice::Unresolved))
                    @for s in [AlertStatus::Open, AlertStatus::Assigned, AlertStatus::Resolved] {
                        (opt(s.as_str(), status_label(tr, s), f.status == StatusChoice::Only(s)))
                    }
                }
            }
            div.field {
                label for="f-assignee" { (tr.t("c.col.assignee")) }
                select #f-assignee name="assignee" {
                    (opt("", tr.t("c.anyone"), f.whose == Whose::Anyone))
                    (opt("me", tr.t("c.me"), f.whose == Whose::Me))
                    (opt("unassigned", tr.t("c.unassigned"), f.whose == Whose::Unassigned))
                }
            }
            div.field {
                label for="f-district" { (tr.t("c.col.district")) }
                @if districts.is_empty() {
                    input #f-district name="district" type="text" maxlength="64" autocomplete="off"
                        placeholder=(tr.t("c.all_mine")) value=[f.district.as_ref().map(|d| d.as_str())];
                } @else {
                    select #f-district name="district" {
                        (opt("", tr.t("c.all_mine"), f.district.is_none()))
                        @for d in &districts {
                            (opt(d.as_str(), d.as_str(), f.district.as_ref() == Some(d)))
                        }
                    }
                }
            }
            div.field {
                label for="f-sort" { (tr.t("c.sort")) }
                select #f-sort name="sort" {
                    (opt("", tr.t("c.oldest_first"), !f.newest))
                    (opt("newest", tr.t("c.newest_first"), f.newest))
                }
            }
            div.field.buttons {
                button type="submit" { (tr.t("c.apply")) }
                a.reset href="/alerts?reset=1" { (tr.t("c.reset_filters")) }
            }
        }
        form #bulk method="post" action="/alerts/bulk" {
            input type="hidden" name="csrf" value=(officer.session.csrf);
            input type="hidden" name="back" value=(here);
            @if items.is_empty() {
                p.empty #empty { (tr.t("c.no_alerts")) " " a href="/alerts?reset=1" { (tr.t("c.reset_filters")) } }
            } @else {
                div.bulkbar {
                    span.selected-count #selected-count aria-live="polite" data-template=(tr.t("c.n_selected")) {}
                    label for="bulk-outcome" { (tr.t("c.outcome")) }
                    select #bulk-outcome name="outcome" {
                        option value="" { (tr.t("c.choose")) }
                        @for o in ResolutionOutcome::ALL {
                            option value=(o.as_str()) { (outcome_label(tr, o)) }
                        }
                    }
                    label for="bulk-note" { (tr.t("c.note")) }
                    input #bulk-note name="note" type="text" maxlength="1000";
                    button type="submit" name="action" value="resolve" { (tr.t("c.resolve_selected")) }
                    button.secondary type="submit" name="action" value="assign" { (tr.t("c.assign_selected")) }
                }
                div.table-wrap {
                    table.queue #queue {
                        caption.visually-hidden { (tr.t("c.alerts")) }
                        thead {
                            tr {
                                th scope="col" class="check" {
                                    input #select-all type="checkbox" aria-label=(tr.t("c.select_all"));
                                }
                                th scope="col" { (tr.t("c.col.kind")) }
                                th scope="col" { (tr.t("c.col.person")) }
                                th scope="col" { (tr.t("c.col.district")) }
                                th scope="col" { (tr.t("c.col.age")) }
                                th scope="col" { (tr.t("c.col.assignee")) }
                                th scope="col" { (tr.t("c.col.status")) }
                                th scope="col" { span.visually-hidden { (tr.t("c.col.actions")) } }
                            }
                        }
                        tbody {
                            @for a in items {
                                (row(tr, now, me, a, names.get(&a.person_id)))
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label=(tr.t("c.pages")) {
            @if q.cursor.is_some() {
                a href=(queue_url(f, None)) { (tr.t("c.first_page")) }
            }
            @if let Some(c) = next {
                a #next-page rel="next" href=(queue_url(f, Some(c))) { (tr.t("c.next_page")) }
            }
        }
    }
}

fn row(tr: Tr, now: DateTime<Utc>, me: &UserId, a: &Alert, person: Option<&Person>) -> Markup {
    let id = a.id.as_str();
    let who = person.map_or(a.person_id.as_str(), |p| p.full_name.as_str());
    let mine = a.assignee.as_ref() == Some(me);
    html! {
        tr data-id=(id) class=[mine.then_some("mine")] {
            td.check {
                input type="checkbox" name="ids" value=(id)
                    aria-label=(tr.f("c.select_alert", &[("kind", kind_label(tr, a.kind)), ("person", who)]));
            }
            td { a.open href={ "/alerts/" (id) } { span class={ "kind k-" (kind_code(a.kind)) } { (kind_label(tr, a.kind)) } } }
            td.person { a href={ "/persons/" (a.person_id.as_str()) } { (who) } }
            td { (a.district.as_str()) }
            td { time datetime=(a.created_at.to_rfc3339()) title=(when(a.created_at)) { (tr.age(now, a.created_at)) } }
            td {
                @match &a.assignee {
                    Some(u) if mine => { strong { (tr.t("c.me")) } span.visually-hidden { " (" (u.as_str()) ")" } }
                    Some(u) => { (u.as_str().trim_start_matches("user:")) }
                    None => { span.muted { "—" } }
                }
            }
            td { span class={ "status s-" (a.status.as_str()) } { (status_label(tr, a.status)) } }
            td.actions {
                @if a.status != AlertStatus::Resolved && !mine {
                    button.small.secondary.assign type="submit" formaction={ "/alerts/" (id) "/assign" } { (tr.t("c.assign_to_me")) }
                }
                a.small.resolve-link href={ "/alerts/" (id) "#resolve" } { (tr.t("c.open")) }
            }
        }
    }
}

/// `GET /alerts/{id}`: the alert and its evidence.
pub async fn detail(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let d = match alerts::detail(&state, &officer.as_actor(), &id).await {
        Ok(d) => d,
        Err(e) => return failure(&officer, e),
    };
    let me = match alerts::me(&officer.as_actor()) {
        Ok(me) => me,
        Err(e) => return failure(&officer, e),
    };
    let person = match persons::names(
        &state,
        &officer.as_actor(),
        std::slice::from_ref(&d.alert.person_id),
    )
    .await
    {
        Ok(mut n) => n.remove(&d.alert.person_id),
        Err(e) => return failure(&officer, e),
    };
    let (flash, cookies) = take_flash(&state, &headers);
    let tr = officer.tr;
    let title = format!(
        "{} · {}",
        kind_label(tr, d.alert.kind),
        person
            .as_ref()
            .map_or(d.alert.person_id.as_str(), |p| p.full_name.as_str())
    );
    let body = render_detail(&state, &officer, &d, person.as_ref(), &me, flash);
    respond(
        StatusCode::OK,
        page(tr, Some(&officer.session), Some(Nav::Alerts), &title, body),
        &cookies,
    )
}

fn render_detail(
    state: &AppState,
    officer: &ConsoleOfficer,
    d: &AlertDetail,
    person: Option<&Person>,
    me: &UserId,
    flash: Option<Flash>,
) -> Markup {
    let tr = officer.tr;
    let a = &d.alert;
    let who = person.map_or(a.person_id.as_str(), |p| p.full_name.as_str());
    let person_href = format!("/persons/{}", a.person_id.as_str());
    let id = a.id.as_str();
    let back = format!("/alerts/{id}");
    html! {
        p.crumbs { a href="/alerts" { "← " (tr.t("c.back_to_alerts")) } }
        div.page-head {
            h1 { span class={ "kind k-" (kind_code(a.kind)) } { (kind_label(tr, a.kind)) } " · " a #person-link href=(person_href) { (who) } }
        }
        @if let Some(fl) = flash { (fl.render(tr)) }
        div.detail-grid.single[a.status == AlertStatus::Resolved] {
            section.card aria-labelledby="facts-title" {
                h2 #facts-title { (tr.t("c.alert")) }
                dl.facts {
                    div { dt { (tr.t("c.col.status")) } dd { span class={ "status s-" (a.status.as_str()) } { (status_label(tr, a.status)) } } }
                    div { dt { (tr.t("c.col.district")) } dd { (a.district.as_str()) } }
                    div { dt { (tr.t("c.col.person")) } dd { a href=(person_href) { (who) } } }
                    @if let Some(ph) = person.and_then(|p| p.phone.as_ref()) {
                        div { dt { (tr.t("c.col.phone")) } dd.mono #person-phone { a href={ "tel:" (ph.as_str()) } { (ph.as_str()) } } }
                    }
                    @if let Some(o) = &a.order_id { div { dt { (tr.t("c.order")) } dd.mono { (o.as_str()) } } }
                    div { dt { (tr.t("c.opened")) } dd { (time(a.created_at)) " (" (tr.age(state.now(), a.created_at)) ")" } }
                    div { dt { (tr.t("c.col.assignee")) } dd {
                        @match &a.assignee { Some(u) => (u.as_str()), None => span.muted { "—" } }
                    } }
                    @if a.status == AlertStatus::Resolved {
                        div { dt { (tr.t("c.outcome")) } dd #resolved-outcome {
                            @match a.outcome { Some(o) => (outcome_label(tr, o)), None => span.muted { "—" } }
                        } }
                        @if let Some(r) = &a.resolution { div { dt { (tr.t("c.note")) } dd { (r) } } }
                    }
                }
            }
            @if a.status != AlertStatus::Resolved {
                section.card #resolve aria-labelledby="resolve-title" {
                    h2 #resolve-title { (tr.t("c.resolve")) }
                    @if a.assignee.as_ref() != Some(me) {
                        form.inline method="post" action={ "/alerts/" (id) "/assign" } {
                            input type="hidden" name="csrf" value=(officer.session.csrf);
                            input type="hidden" name="back" value=(back);
                            button.secondary #assign type="submit" { (tr.t("c.assign_to_me")) }
                        }
                    }
                    form method="post" action={ "/alerts/" (id) "/resolve" } {
                        input type="hidden" name="csrf" value=(officer.session.csrf);
                        input type="hidden" name="back" value=(back);
                        fieldset.outcomes {
                            legend { (tr.t("c.outcome")) }
                            @for o in &ResolutionOutcome::ALL {
                                label.radio {
                                    input type="radio" name="outcome" value=(o.as_str()) required id=(format!("outcome-{}", o.as_str()));
                                    " " (outcome_label(tr, *o))
                                }
                            }
                        }
                        label for="note" { (tr.t("c.note")) " " span.optional { (tr.t("c.note_hint")) } }
                        textarea #note name="note" rows="3" maxlength="1000" {}
                        button #resolve-submit type="submit" { (tr.t("c.resolve")) }
                    }
                }
            }
        }
        (render_evidence(tr, d))
    }
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn render_evidence(tr: Tr, d: &AlertDetail) -> Markup {
    html! {
        @if let Some(p) = &d.prompt {
            section.card aria-labelledby="prompt-title" {
                h2 #prompt-title { (tr.t("c.prompt")) }
                dl.facts.cols {
                    div { dt { (tr.t("c.issued")) } dd { (time(p.issued_at)) } }
                    div { dt { (tr.t("c.deadline")) } dd { (time(p.deadline)) } }
                    div { dt { (tr.t("c.col.status")) } dd { (code_label(tr, "c.prompt_status.", &serde_json::to_value(p.status).unwrap_or(Value::Null))) } }
                    div { dt { (tr.t("c.tries")) } dd { (d.tries.len()) } }
                    div.wide { dt { (tr.t("c.message")) } dd #delivery {
                        @match &d.message {
                            None => span.muted { (tr.t("c.no_message")) },
                            Some(m) => {
                                span class={ "status d-" (m.status.as_str()) } { (code_label(tr, "c.delivery.", &Value::from(m.status.as_str()))) }
                                " · " (m.channel.map_or("—", |c| c.as_str()))
                                " · " (tr.f("c.attempts", &[("n", &m.attempts.to_string())]))
                                @if let Some(at) = m.sent_at { " · " (time(at)) }
                                @if let Some(e) = &m.last_error { br; span.muted { (e) } }
                            }
                        }
                    } }
                }
            }
            section aria-labelledby="tries-title" {
                h2 #tries-title.section-title { (tr.t("c.tries_title")) }
                @if d.tries.is_empty() {
                    p.card.empty { (tr.t("c.no_tries")) }
                } @else {
                    div.tries {
                        @for c in &d.tries { (render_try(tr, c)) }
                    }
                }
            }
        } @else {
            section.card aria-labelledby="evidence-title" {
                h2 #evidence-title { (tr.t("c.evidence")) }
                (evidence_list(&d.alert.evidence))
            }
        }
    }
}

/// A code's label from the table (`prefix` + code), else the code itself.
fn code_label(tr: Tr, prefix: &str, v: &Value) -> String {
    let code = v.as_str().unwrap_or("—");
    tr.0.text(&format!("{prefix}{code}"))
        .map_or_else(|| code.replace('_', " "), str::to_owned)
}

fn render_try(tr: Tr, c: &CheckinRecord) -> Markup {
    let e = &c.evidence;
    let outcome = c.outcome.map(|o| o.as_str()).unwrap_or("pending");
    let good = outcome == "verified";
    let loc = e.get("location");
    html! {
        article.card.try aria-label=(tr.f("c.try_n", &[("n", &c.attempt.to_string())])) {
            header {
                h3 { (tr.f("c.try_n", &[("n", &c.attempt.to_string())])) }
                span class={ "status " (if good { "s-good" } else { "s-bad" }) } { (code_label(tr, "c.checkin.", &Value::from(outcome))) }
            }
            p.muted { (time(c.received_at)) }
            h4 { (tr.t("c.face")) }
            @match (e.get("face_distance").and_then(num), e.get("threshold").and_then(num)) {
                (Some(dist), Some(th)) => { (distance_bar(tr, dist, th)) }
                _ => { p.muted { (tr.t("c.no_face_distance")) } }
            }
            @if let Some(n) = e.get("frontal_frames").and_then(Value::as_u64) {
                p.small { (tr.f("c.frontal_frames", &[("n", &n.to_string())])) }
            }
            h4 { (tr.t("c.liveness")) }
            p {
                @match e.get("liveness") {
                    Some(Value::Object(l)) => {
                        @if l.get("passed").and_then(Value::as_bool) == Some(true) {
                            span.status.s-good { (tr.t("c.passed")) }
                        } @else {
                            span.status.s-bad { (tr.t("c.failed")) }
                            @for i in l.get("issues").and_then(Value::as_array).into_iter().flatten() {
                                br; span.small { (i.get("reason").and_then(Value::as_str).unwrap_or("").replace('_', " ")) }
                            }
                        }
                    }
                    _ => { span.muted { (tr.t("c.not_checked")) } }
                }
            }
            h4 { (tr.t("c.location")) }
            @match loc {
                Some(l) => {
                    @match (l.get("distance_m").and_then(num), l.get("accuracy_m").and_then(num), l.get("radius_m").and_then(num)) {
                        (Some(dist), Some(acc), Some(r)) => {
                            (fence_diagram(tr, r, Some(Fix { distance_m: dist, accuracy_m: acc, result: l.get("result") })))
                        }
                        _ => { p.muted { (tr.t("c.no_location")) } }
                    }
                }
                None => { p.muted { (tr.t("c.no_location")) } }
            }
            @if let Some(Value::Object(signals)) = e.get("location_signals") {
                @if !signals.is_empty() {
                    (location_signals(tr, signals))
                }
            }
            @if let Some(u) = e.get("unreadable_frame") {
                p.small {
                    (tr.f("c.unreadable_frame", &[
                        ("n", &(u.get("frame").and_then(Value::as_u64).unwrap_or(0) + 1).to_string()),
                        ("reason", u.get("reason").and_then(Value::as_str).unwrap_or("")),
                    ]))
                }
            }
            @if let Some(reasons) = e.get("reasons").and_then(Value::as_array) {
                @if !reasons.is_empty() {
                    ul.reasons { @for r in reasons { li { (r.as_str().unwrap_or("")) } } }
                }
            }
        }
    }
}

/// The location signals of a try (`crate::location_signals`), as plain
/// facts: what the numbers are, not what they mean.
fn location_signals(tr: Tr, s: &serde_json::Map<String, Value>) -> Markup {
    let int = |v: Option<&Value>| {
        v.and_then(num)
            .map_or_else(|| "—".to_owned(), |n| format!("{n:.0}"))
    };
    html! {
        div.signals role="group" aria-label=(tr.t("c.sig.title")) {
            p.small { strong { (tr.t("c.sig.title")) } }
            ul.reasons {
                @if let Some(i) = s.get("identical_coordinates") {
                    li { (tr.f("c.sig.identical", &[("n", &int(i.get("earlier_checkins"))), ("of", &int(i.get("compared")))])) }
                }
                @if let Some(a) = s.get("constant_accuracy") {
                    li { (tr.f("c.sig.accuracy", &[("acc", &a.get("accuracy_m").and_then(num).map_or_else(|| "—".to_owned(), |v| format!("{v}"))), ("n", &int(a.get("checkins_in_a_row")))])) }
                }
                @if let Some(t) = s.get("implausible_travel") {
                    @let km = t.get("distance_m").and_then(num).map_or_else(|| "—".to_owned(), |m| format!("{:.1}", m / 1000.0));
                    @if t.get("speed_kmh").and_then(num).is_some() {
                        @let time = match t.get("seconds").and_then(num) {
                            Some(secs) if secs < 120.0 => tr.f("c.sig.seconds", &[("n", &format!("{secs:.0}"))]),
                            Some(secs) => tr.f("c.sig.minutes", &[("n", &format!("{:.0}", secs / 60.0))]),
                            None => "—".to_owned(),
                        };
                        li { (tr.f("c.sig.travel", &[("km", &km), ("time", &time), ("kmh", &int(t.get("speed_kmh")))])) }
                    } @else {
                        li { (tr.f("c.sig.travel_instant", &[("km", &km)])) }
                    }
                }
            }
        }
    }
}

/// The face distance on a bar, with the threshold marked: left of the mark
/// is a match.
fn distance_bar(tr: Tr, dist: f64, th: f64) -> Markup {
    let max = (th * 1.6).max(dist * 1.1).max(0.01);
    let x = |v: f64| 4.0 + (v / max).clamp(0.0, 1.0) * 232.0;
    let ok = dist <= th;
    let text = tr.f(
        "c.face_text",
        &[
            ("distance", &format!("{dist:.3}")),
            ("threshold", &format!("{th:.3}")),
        ],
    );
    html! {
        figure.meter {
            svg viewBox="0 0 240 30" width="240" height="30" role="img" aria-label=(text) {
                rect.track x="4" y="10" width="232" height="10" rx="5" {}
                rect class=(if ok { "bar good" } else { "bar bad" }) x="4" y="10" width=(format!("{:.1}", x(dist) - 4.0)) height="10" rx="5" {}
                line.mark x1=(format!("{:.1}", x(th))) x2=(format!("{:.1}", x(th))) y1="4" y2="26" {}
            }
            figcaption { (text) }
        }
    }
}

/// Evidence without a prompt (welfare check, cannot prompt, …): its fields.
fn evidence_list(e: &Value) -> Markup {
    html! {
        @match e.as_object() {
            Some(map) if !map.is_empty() => {
                dl.facts {
                    @for (k, v) in map {
                        div { dt { (k.replace('_', " ")) } dd {
                            @match v { Value::String(s) => (s), other => code { (other.to_string()) } }
                        } }
                    }
                }
            }
            _ => { p.muted { "—" } }
        }
    }
}

/// A form's fields, `ids` repeated.
#[derive(Debug, Default)]
struct ActionForm {
    csrf: String,
    back: String,
    action: String,
    outcome: String,
    note: String,
    ids: Vec<String>,
}

impl ActionForm {
    fn parse(body: &[u8]) -> ActionForm {
        let mut f = ActionForm::default();
        for (k, v) in form_urlencoded::parse(body) {
            match &*k {
                "csrf" => f.csrf = v.into_owned(),
                "back" => f.back = v.into_owned(),
                "action" => f.action = v.into_owned(),
                "outcome" => f.outcome = v.into_owned(),
                "note" => f.note = v.into_owned(),
                "ids" => f.ids.push(v.into_owned()),
                _ => {}
            }
        }
        f
    }

    /// Where to go after the action: a page of the queue, never elsewhere.
    fn back(&self, default: &str) -> String {
        let ok = (self.back == "/alerts"
            || self.back.starts_with("/alerts?")
            || self.back.starts_with("/alerts/"))
            && !self.back.contains("//")
            && !self.back.contains('\\')
            && self.back.bytes().all(|b| (0x21..0x7f).contains(&b));
        if ok {
            self.back.clone()
        } else {
            default.to_owned()
        }
    }

    fn outcome(&self) -> Result<Option<ResolutionOutcome>, ServiceError> {
        if self.outcome.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(ResolutionOutcome::parse(&self.outcome)?))
    }
}

/// The checks every action makes first: a role that works alerts, this
/// session's CSRF token.
fn refuse(officer: &ConsoleOfficer, form: &ActionForm) -> Option<Response> {
    if let Some(r) = refuse_role(officer) {
        return Some(r);
    }
    officer.refuse_csrf(&form.csrf)
}

/// After an action: back where the officer was, with what it did.
fn done(state: &AppState, back: &str, flash: &Flash) -> Response {
    let mut r = see_other(back);
    r.headers_mut().append(
        "set-cookie",
        set_cookie(state, FLASH_COOKIE, &flash.encode(), 60),
    );
    r
}

/// After an action on one alert: a record outside the officer's districts
/// is the 404 page (as the API answers), a refusal goes back as a flash.
fn one(
    state: &AppState,
    officer: &ConsoleOfficer,
    back: &str,
    action: &str,
    result: EachResult,
) -> Response {
    match result.1 {
        Err(ServiceError::NotFound { entity, id }) => {
            failure(officer, ServiceError::NotFound { entity, id })
        }
        Err(ServiceError::Store(e)) => failure(officer, ServiceError::Store(e)),
        r => done(state, back, &flash_of(vec![(result.0, r)], action)),
    }
}

/// `POST /alerts/{id}/assign`: to the signed-in officer.
pub async fn assign(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = ActionForm::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    let result = alerts::assign(&state, &officer.as_actor(), &id, None).await;
    one(
        &state,
        &officer,
        &form.back("/alerts"),
        "assigned",
        (id, result),
    )
}

/// `POST /alerts/{id}/resolve`: with an outcome code and a note.
pub async fn resolve(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = ActionForm::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    let back = form.back(&format!("/alerts/{id}"));
    let result = match form.outcome() {
        Ok(outcome) => alerts::resolve(&state, &officer.as_actor(), &id, outcome, &form.note).await,
        Err(e) => Err(e),
    };
    one(&state, &officer, &back, "resolved", (id, result))
}

/// `POST /alerts/bulk`: the selected alerts assigned to the officer, or
/// resolved with one outcome and note; each through the service, one by one.
pub async fn bulk(State(state): State<AppState>, officer: ConsoleOfficer, body: Bytes) -> Response {
    let form = ActionForm::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    let back = form.back("/alerts");
    let actor = officer.as_actor();
    // A bounded batch: one page of the queue at most.
    let ids: Vec<String> = form
        .ids
        .iter()
        .take(lazaret_store::MAX_LIMIT as usize)
        .cloned()
        .collect();
    let (action, results) = match form.action.as_str() {
        "assign" => ("assigned", alerts::assign_many(&state, &actor, &ids).await),
        "resolve" => match form.outcome() {
            Ok(o) => (
                "resolved",
                alerts::resolve_many(&state, &actor, &ids, o, &form.note).await,
            ),
            Err(e) => {
                let code = code_of(e).as_str().to_owned();
                let flash = Flash {
                    action: "resolved".into(),
                    done: 0,
                    refused: ids.len().max(1),
                    code: Some(code),
                };
                return done(&state, &back, &flash);
            }
        },
        _ => {
            let tr = officer.tr;
            return error_page(
                tr,
                Some(&officer.session),
                StatusCode::BAD_REQUEST,
                tr.t("c.err.bad_action"),
            );
        }
    };
    if results.is_empty() {
        let flash = Flash {
            action: action.into(),
            done: 0,
            refused: 0,
            code: Some("none_selected".into()),
        };
        return done(&state, &back, &flash);
    }
    done(&state, &back, &flash_of(results, action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_through_their_query() {
        let f = Filters {
            kind: Some(AlertKind::FailedCheckin),
            status: StatusChoice::Only(AlertStatus::Assigned),
            whose: Whose::Me,
            district: Some(District::parse("north").unwrap()),
            newest: true,
        };
        let q = f.query();
        assert_eq!(
            q,
            "kind=failed_checkin&status=assigned&assignee=me&district=north&sort=newest"
        );
        assert_eq!(Query::parse(&q).filters, f);
        assert_eq!(Filters::default().query(), "");
        // Unknown values fall back to the defaults.
        assert_eq!(
            Query::parse("kind=x&status=y&assignee=z&sort=w").filters,
            Filters::default()
        );
    }

    #[test]
    fn back_stays_in_the_queue() {
        let f = |b: &str| {
            ActionForm {
                back: b.into(),
                ..Default::default()
            }
            .back("/alerts")
        };
        assert_eq!(
            f("/alerts?kind=missed_checkin"),
            "/alerts?kind=missed_checkin"
        );
        assert_eq!(f("/alerts/0193"), "/alerts/0193");
        assert_eq!(f("https://evil.example/"), "/alerts");
        assert_eq!(f("//evil.example/alerts"), "/alerts");
        assert_eq!(f("/alertsx"), "/alerts");
        assert_eq!(f("/alerts/\r\nSet-Cookie: x"), "/alerts");
    }

    #[test]
    fn flash_round_trip() {
        let f = Flash {
            action: "resolved".into(),
            done: 2,
            refused: 1,
            code: Some("validation_failed".into()),
        };
        assert_eq!(Flash::decode(&f.encode()), Some(f));
        assert_eq!(Flash::decode("deleted.1.0.-"), None);
    }
}
