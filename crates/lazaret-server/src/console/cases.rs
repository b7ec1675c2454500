//! The cases of the officer's districts (`GET /cases`, newest test first,
//! 50 a page with a cursor) and one case's page (`GET /cases/{id}`): the
//! person, their tests with revisions, the infectious window, the stored
//! trace by tier with each contact's rule, evidence and district, and the
//! case's transmission chain. Actions, each a POST with the session's CSRF
//! token: trace (`services::tracing::trace`); propose → preview → issue
//! orders (the preview is `propose_orders`; "Issue" sends the preview's
//! fingerprint and `issue_previewed` issues only that same set, else the
//! 409 page); revise a test → preview (`preview_revision`: the cascade run
//! in a rolled-back transaction) → confirm (`revise_previewed`, again only
//! the previewed cascade). Only roles with the `Trace` permission.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use lazaret_core::contact::{Contact, RiskTier};
use lazaret_core::ids::PersonId;
use lazaret_core::person::Person;
use lazaret_core::test_result::{TestOutcome, TestResult};
use lazaret_core::user::Permission;
use lazaret_store::{CaseRow, FollowUp, PageRequest, ProposalAction, Proposals, RevisionReport};
use maud::{html, Markup};
use serde_json::Value;

use super::layout::{page, respond, time, Nav, Tr};
use super::{see_other, ConsoleOfficer};
use crate::routes::orders::Basis;
use crate::services::tracing::{self as service, CaseFile, ChainSelect};
use crate::services::{persons, ServiceError};
use crate::state::AppState;

const PAGE_SIZE: u32 = 50;

fn failure(officer: &ConsoleOfficer, e: ServiceError) -> Response {
    super::failure_page(officer, e, "c.err.case_not_found")
}

/// Refuses a role that does not trace (the API's 403).
fn refuse_role(officer: &ConsoleOfficer) -> Option<Response> {
    super::refuse_without(officer, Permission::Trace, "c.err.role_cases")
}

/// The fields of the case page's forms.
#[derive(Debug, Default)]
struct CaseForm {
    csrf: String,
    fingerprint: String,
    test: String,
    result: String,
    reason: String,
}

impl CaseForm {
    fn parse(body: &[u8]) -> CaseForm {
        let mut f = CaseForm::default();
        for (k, v) in form_urlencoded::parse(body) {
            match &*k {
                "csrf" => f.csrf = v.into_owned(),
                "fingerprint" => f.fingerprint = v.into_owned(),
                "test" => f.test = v.into_owned(),
                "result" => f.result = v.into_owned(),
                "reason" => f.reason = v.into_owned(),
                _ => {}
            }
        }
        f
    }
}

/// The role and CSRF checks every action makes first.
fn refuse(officer: &ConsoleOfficer, form: &CaseForm) -> Option<Response> {
    if let Some(r) = refuse_role(officer) {
        return Some(r);
    }
    officer.refuse_csrf(&form.csrf)
}

fn ok_page(officer: &ConsoleOfficer, title: &str, body: Markup) -> Response {
    let tr = officer.tr;
    respond(
        StatusCode::OK,
        page(tr, Some(&officer.session), Some(Nav::Cases), title, body),
        &[],
    )
}

pub(super) fn case_url(id: &str) -> String {
    format!("/cases/{}", urlencode(id))
}

pub(super) fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---------------------------------------------------------------- the list

/// `GET /cases?cursor=…`: the cases of the officer's districts.
pub async fn list(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let cursor = form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
        .find(|(k, v)| k == "cursor" && !v.is_empty())
        .map(|(_, v)| v.into_owned());
    let req = PageRequest {
        cursor: cursor.clone(),
        limit: Some(PAGE_SIZE),
    };
    let listed = match service::cases(&state, &officer.as_actor(), &req).await {
        Ok(p) => p,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let body = render_list(
        tr,
        state.now(),
        cursor.is_some(),
        &listed.items,
        listed.next_cursor.as_deref(),
    );
    ok_page(&officer, tr.t("c.cases"), body)
}

fn render_list(
    tr: Tr,
    now: DateTime<Utc>,
    paged: bool,
    items: &[CaseRow],
    next: Option<&str>,
) -> Markup {
    html! {
        div.page-head {
            h1 { (tr.t("c.cases")) }
            p.keys { (tr.t("c.cases_lead")) }
        }
        @if items.is_empty() {
            p.empty #empty { (tr.t("c.no_cases")) }
        } @else {
            div.table-wrap.plain {
                table.queue #cases {
                    caption.visually-hidden { (tr.t("c.cases")) }
                    thead { tr {
                        th scope="col" { (tr.t("c.col.name")) }
                        th scope="col" { (tr.t("c.col.district")) }
                        th scope="col" { (tr.t("c.col.sampled")) }
                        th scope="col" { (tr.t("c.col.traced")) }
                        th scope="col" { (tr.t("c.col.contacts")) }
                    } }
                    tbody {
                        @for c in items {
                            tr data-id=(c.person_id.as_str()) {
                                td.person { a.open href=(case_url(c.person_id.as_str())) { (c.full_name) } }
                                td { (c.district.as_str()) }
                                td { (time(c.sampled_at)) span.small { " · " (tr.age(now, c.sampled_at)) } }
                                td { @match c.traced_at {
                                    Some(t) => { span.status.s-good { (tr.t("c.traced")) } " " span.small { (time(t)) } },
                                    None => span.status.s-warn { (tr.t("c.not_traced")) },
                                } }
                                td {
                                    @if c.traced_at.is_some() {
                                        (tr.f("c.n_contacts_close", &[("n", &c.contacts.to_string()), ("close", &c.close.to_string())]))
                                    } @else { span.muted { "—" } }
                                }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label=(tr.t("c.pages")) {
            @if paged { a href="/cases" { (tr.t("c.first_page")) } }
            @if let Some(c) = next {
                a #next-page rel="next" href={ "/cases?cursor=" (urlencode(c)) } { (tr.t("c.next_page")) }
            }
        }
    }
}

// ---------------------------------------------------------------- one case

/// `GET /cases/{id}` (`?traced=N` after a trace): one case's page.
pub async fn detail(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let actor = officer.as_actor();
    let file = match service::case_file(&state, &actor, &id).await {
        Ok(f) => f,
        Err(e) => return failure(&officer, e),
    };
    let chain = match service::select_chains(&state, &actor, &ChainSelect::Case(id.clone())).await {
        Ok(c) => c,
        Err(e) => return failure(&officer, e),
    };
    let traced = form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "traced")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let ids: Vec<PersonId> = file
        .current
        .iter()
        .flat_map(|c| c.contacts.iter().map(|x| x.person_id.clone()))
        .collect();
    let standings = match crate::services::follow_up::standings(&state, &actor, &ids).await {
        Ok(s) => s,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let svg = super::chains::draw(tr, &chain, false);
    let body = render_case(tr, &officer, &file, &standings, traced, svg, state.now());
    ok_page(&officer, file.person.full_name.as_str(), body)
}

fn render_case(
    tr: Tr,
    officer: &ConsoleOfficer,
    f: &CaseFile,
    standings: &HashMap<PersonId, FollowUp>,
    traced: Option<usize>,
    chain: Markup,
    now: DateTime<Utc>,
) -> Markup {
    let p = &f.person;
    let id = p.id.as_str();
    let csrf = &officer.session.csrf;
    html! {
        p.crumbs { a href="/cases" { "← " (tr.t("c.back_to_cases")) } }
        @if let Some(n) = traced {
            p.alert.good role="status" #flash { (tr.f("c.flash.traced", &[("n", &n.to_string())])) }
        }
        section.card.person-head aria-labelledby="case-name" {
            h1 #case-name { (p.full_name.as_str()) }
            dl.facts.cols {
                div { dt { (tr.t("c.person_id")) } dd.mono { a href={ "/persons/" (urlencode(id)) } { (id) } } }
                div { dt { (tr.t("c.col.district")) } dd { (p.district.as_str()) } }
                @if let Some(c) = &f.current {
                    div { dt { (tr.t("c.test_in_force")) } dd.mono { (c.test.id.as_str()) } }
                    div.wide { dt { (tr.t("c.infectious_window")) } dd { (time(c.window.start)) " – " (time(c.window.end)) } }
                    div { dt { (tr.t("c.col.traced")) } dd #traced-at { @match c.traced_at {
                        Some(t) => (time(t)),
                        None => span.status.s-warn { (tr.t("c.not_traced")) },
                    } } }
                } @else {
                    div.wide { dt { (tr.t("c.test_in_force")) } dd { span.muted #no-positive { (tr.t("c.no_positive_test")) } } }
                }
            }
            @if f.current.is_some() {
                div.case-actions {
                    form.inline method="post" action={ (case_url(id)) "/trace" } {
                        input type="hidden" name="csrf" value=(csrf);
                        button #trace type="submit" { (tr.t("c.trace")) }
                    }
                    form.inline method="post" action={ (case_url(id)) "/orders/preview" } {
                        input type="hidden" name="csrf" value=(csrf);
                        button.secondary #propose type="submit" { (tr.t("c.propose_orders")) }
                    }
                }
            }
        }
        div.person-grid {
            div.person-main {
                section #trace-by-tier aria-labelledby="trace-title" {
                    h2 #trace-title.section-title { (tr.t("c.trace_by_tier")) }
                    @match &f.current {
                        None => p.card.empty { (tr.t("c.no_positive_test")) },
                        Some(c) if c.traced_at.is_none() => p.card.empty #not-traced { (tr.t("c.not_traced_yet")) },
                        Some(c) if c.contacts.is_empty() => p.card.empty { (tr.t("c.no_contacts_found")) },
                        Some(c) => {
                            @for tier in [RiskTier::Close, RiskTier::Notify] {
                                (render_tier(tr, f, standings, tier, &c.contacts))
                            }
                        }
                    }
                }
                section #chain aria-labelledby="chain-title" {
                    h2 #chain-title.section-title { (tr.t("c.chain")) }
                    div.chain-box { (chain) }
                    p.small { a href={ "/chains.svg?case=" (urlencode(id)) } { (tr.t("c.open_svg")) } }
                }
            }
            div.person-side {
                section.card #tests aria-labelledby="tests-title" {
                    h2 #tests-title { (tr.t("c.tests")) }
                    @if f.tests.is_empty() { p.muted { (tr.t("c.no_tests")) } }
                    @for t in &f.tests { (render_test(tr, t)) }
                }
                @if f.current.is_some() {
                    @let to_inform = standings
                        .values()
                        .filter(|s| s.status == lazaret_core::follow_up::FollowUpStatus::ToInform && !s.full_name.is_empty())
                        .count();
                    (super::follow_up::notices_form(tr, csrf, id, to_inform))
                    (super::follow_up::name_contact_form(tr, csrf, id, now))
                }
                @if !f.tests.is_empty() {
                    section.card #revise aria-labelledby="revise-title" {
                        h2 #revise-title { (tr.t("c.revise_test")) }
                        form method="post" action={ (case_url(id)) "/revision/preview" } {
                            input type="hidden" name="csrf" value=(csrf);
                            label for="rv-test" { (tr.t("c.test_label")) }
                            select #rv-test name="test" {
                                @for t in &f.tests {
                                    option value=(t.id.as_str()) { (t.id.as_str()) " · " (label(tr, "c.test_result.", t.result.as_str())) }
                                }
                            }
                            label for="rv-result" { (tr.t("c.new_result")) }
                            select #rv-result name="result" {
                                option value="negative" { (tr.t("c.test_result.negative")) }
                                option value="positive" { (tr.t("c.test_result.positive")) }
                            }
                            label for="rv-reason" { (tr.t("c.reason")) }
                            textarea #rv-reason name="reason" required maxlength="1000" {}
                            button #revise-preview type="submit" { (tr.t("c.preview_revision")) }
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn label(tr: Tr, prefix: &str, code: &str) -> String {
    tr.0.text(&format!("{prefix}{code}"))
        .map_or_else(|| code.replace(['_', '-'], " "), str::to_owned)
}

fn render_test(tr: Tr, t: &TestResult) -> Markup {
    let class = match t.result {
        TestOutcome::Positive => "s-bad",
        TestOutcome::Negative => "s-good",
    };
    html! {
        article.test data-id=(t.id.as_str()) {
            header {
                span class={ "status " (class) } { (label(tr, "c.test_result.", t.result.as_str())) }
                " " span.mono.small { (t.id.as_str()) }
            }
            p.small { (tr.t("c.sampled")) " " (time(t.sampled_at)) " · " (tr.t("c.lab")) ": " (t.lab)
                @if let Some(d) = t.symptom_onset { " · " (tr.t("c.onset")) " " (d.format("%Y-%m-%d").to_string()) } }
            @if !t.revisions.is_empty() {
                ol.revisions {
                    @for r in &t.revisions {
                        li {
                            (time(r.revised_at)) ": "
                            (label(tr, "c.test_result.", r.previous.as_str())) " → " (label(tr, "c.test_result.", r.result.as_str()))
                            " — " (r.reason)
                        }
                    }
                }
            }
        }
    }
}

/// Who a contact is, as the officer may see them: the name with a link to
/// the person page in the officer's districts, else the id and district.
fn who(tr: Tr, id: &PersonId, visible: &HashMap<PersonId, Person>) -> Markup {
    html! {
        @match visible.get(id) {
            Some(p) => a href={ "/persons/" (urlencode(id.as_str())) } { (p.full_name.as_str()) },
            None => { span.mono { (id.as_str()) } " " span.small.muted { "(" (tr.t("c.other_district")) ")" } },
        }
    }
}

fn render_tier(
    tr: Tr,
    f: &CaseFile,
    standings: &HashMap<PersonId, FollowUp>,
    tier: RiskTier,
    contacts: &[Contact],
) -> Markup {
    let of: Vec<&Contact> = contacts.iter().filter(|c| c.tier == tier).collect();
    let code = tier.as_str();
    html! {
        section.card.tier id={ "tier-" (code) } {
            h3 { span class={ "status " (if tier == RiskTier::Close { "s-bad" } else { "s-warn" }) } { (label(tr, "c.tier.", code)) }
                " " span.small { (tr.f("c.n_contacts", &[("n", &of.len().to_string())])) } }
            @if of.is_empty() {
                p.muted { (tr.t("c.none")) }
            } @else {
                div.table-wrap.plain {
                    table.queue.contacts {
                        caption.visually-hidden { (label(tr, "c.tier.", code)) }
                        thead { tr {
                            th scope="col" { (tr.t("c.col.contact")) }
                            th scope="col" { (tr.t("c.col.district")) }
                            th scope="col" { (tr.t("c.col.rule_evidence")) }
                            th scope="col" { (tr.t("c.col.last_exposure")) }
                            th scope="col" { (tr.t("c.fu.col.status")) }
                        } }
                        tbody {
                            @for c in &of {
                                tr data-id=(c.person_id.as_str()) {
                                    td.person { (who(tr, &c.person_id, &f.visible)) }
                                    td { @match f.districts.get(&c.person_id) { Some(d) => (d.as_str()), None => span.muted { "—" } } }
                                    td { ul.plain.evidence {
                                        @for e in &c.evidence { li { (evidence(tr, e)) } }
                                        @if c.evidence.is_empty() {
                                            @for r in &c.rules { li { strong { (label(tr, "c.rule.", r.as_str())) } } }
                                        }
                                    } }
                                    td { (time(c.last_exposure)) }
                                    td.follow-up { (super::follow_up::status_cell(tr, standings.get(&c.person_id))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn s<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn at(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s(v, key))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The row of a seat (`14C` → 14), to say how many rows apart two seats are.
fn seat_row(seat: &str) -> Option<u32> {
    let digits: String = seat.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// One piece of evidence: the rule and what matched (flight and seats with
/// the rows between them, building and units, ride and vehicle).
pub(super) fn evidence(tr: Tr, e: &Value) -> Markup {
    let rule = s(e, "rule");
    html! {
        strong { (label(tr, "c.rule.", rule)) } ": "
        @if !s(e, "flight_no").is_empty() {
            (tr.t("c.ev.flight")) " " span.mono { (s(e, "flight_no")) }
            @if let Some(t) = at(e, "departure") { " " (time(t)) }
            @if !s(e, "case_seat").is_empty() || !s(e, "contact_seat").is_empty() {
                " · " (tr.f("c.ev.seats", &[("case", s(e, "case_seat")), ("contact", s(e, "contact_seat"))]))
                @if let (Some(a), Some(b)) = (seat_row(s(e, "case_seat")), seat_row(s(e, "contact_seat"))) {
                    " · " (tr.f("c.ev.rows_apart", &[("n", &a.abs_diff(b).to_string())]))
                }
            }
            @if !s(e, "contact_booking").is_empty() {
                " · " (tr.t("c.ev.booking")) " " span.mono { (s(e, "contact_booking")) }
            }
        } @else if !s(e, "building_id").is_empty() {
            (tr.t("c.ev.building")) " " span.mono { (s(e, "building_id")) }
            " · " (tr.f("c.ev.units", &[("case", s(e, "case_unit")), ("contact", s(e, "contact_unit"))]))
        } @else if !s(e, "ride_id").is_empty() {
            (tr.t("c.ev.ride")) " " span.mono { (s(e, "ride_id")) }
            " · " (tr.t("c.ev.vehicle")) " " span.mono { (s(e, "vehicle_id")) }
            @if let (Some(a), Some(b)) = (at(e, "start"), at(e, "end")) { " · " (time(a)) " – " (time(b)) }
            @if !s(e, "contact_role").is_empty() { " · " (label(tr, "c.ride_role.", s(e, "contact_role"))) }
        } @else if !s(e, "setting").is_empty() {
            (label(tr, "c.fu.setting.", s(e, "setting")))
            @if !s(e, "named_by").is_empty() { " · " (tr.f("c.fu.named_by", &[("who", s(e, "named_by"))])) }
        }
    }
}

// ---------------------------------------------------------------- trace

/// `POST /cases/{id}/trace`: traces the case and stores the contacts.
pub async fn trace(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = CaseForm::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    match service::trace(&state, &officer.as_actor(), &id).await {
        Ok(t) => see_other(&format!(
            "{}?traced={}",
            case_url(&id),
            t.outcome.contacts.len()
        )),
        Err(e) => failure(&officer, e),
    }
}

// ---------------------------------------------------------------- orders

/// `POST /cases/{id}/orders/preview`: what issuing would do (the API's
/// proposal: the trace is stored, no order is), with "Issue".
pub async fn preview_orders(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = CaseForm::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    let actor = officer.as_actor();
    let mut p = match service::propose_orders(&state, &actor, &id).await {
        Ok(p) => p,
        Err(e) => return failure(&officer, e),
    };
    service::redact_proposals(&mut p, actor.districts());
    let names = match names_of(&state, &officer, p.proposals.iter().map(|x| &x.person_id)).await {
        Ok(n) => n,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let fingerprint = service::proposal_fingerprint(&p);
    let issuable = p
        .proposals
        .iter()
        .any(|x| matches!(x.action, ProposalAction::Create | ProposalAction::Extend));
    let body = html! {
        p.crumbs { a href=(case_url(&id)) { "← " (tr.t("c.back_to_case")) } }
        div.page-head { h1 { (tr.t("c.orders_preview")) } }
        p.lead { (tr.t("c.orders_preview_lead")) }
        (render_proposals(tr, &p, &names))
        @if issuable {
            form method="post" action={ (case_url(&id)) "/orders/issue" } {
                input type="hidden" name="csrf" value=(officer.session.csrf);
                input type="hidden" name="fingerprint" value=(fingerprint);
                button #issue type="submit" { (tr.t("c.issue_orders")) }
            }
        } @else {
            p.card.empty #nothing-to-issue { (tr.t("c.nothing_to_issue")) }
        }
    };
    ok_page(&officer, tr.t("c.orders_preview"), body)
}

/// `POST /cases/{id}/orders/issue`: issues exactly the previewed set (the
/// fingerprint), else the 409 page.
pub async fn issue_orders(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = CaseForm::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    let actor = officer.as_actor();
    let mut p = match service::issue_previewed(&state, &actor, &id, &form.fingerprint).await {
        Ok(p) => p,
        Err(e) => return failure(&officer, e),
    };
    service::redact_proposals(&mut p, actor.districts());
    let names = match names_of(&state, &officer, p.proposals.iter().map(|x| &x.person_id)).await {
        Ok(n) => n,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let body = html! {
        p.crumbs { a href=(case_url(&id)) { "← " (tr.t("c.back_to_case")) } }
        p.alert.good role="status" #flash { (tr.t("c.flash.issued")) }
        div.page-head { h1 { (tr.t("c.orders_issued")) } }
        (render_proposals(tr, &p, &names))
    };
    ok_page(&officer, tr.t("c.orders_issued"), body)
}

/// The persons of `ids` the officer may see (the page listed and audited
/// them already).
async fn names_of<'a>(
    state: &AppState,
    officer: &ConsoleOfficer,
    ids: impl Iterator<Item = &'a PersonId>,
) -> Result<HashMap<PersonId, Person>, ServiceError> {
    let ids: Vec<PersonId> = ids.cloned().collect();
    persons::names(state, &officer.as_actor(), &ids).await
}

fn render_proposals(tr: Tr, p: &Proposals, names: &HashMap<PersonId, Person>) -> Markup {
    let radius = service::contact_fence_radius_m();
    html! {
        @if p.proposals.is_empty() {
            p.card.empty #no-proposals { (tr.t("c.no_close_contacts")) }
        } @else {
            div.table-wrap.plain {
                table.queue #proposals {
                    caption.visually-hidden { (tr.t("c.orders_preview")) }
                    thead { tr {
                        th scope="col" { (tr.t("c.col.contact")) }
                        th scope="col" { (tr.t("c.col.action")) }
                        th scope="col" { (tr.t("c.period")) }
                        th scope="col" { (tr.t("c.col.district")) }
                        th scope="col" { (tr.t("c.col.place_fence")) }
                    } }
                    tbody {
                        @for x in &p.proposals {
                            tr data-id=(x.person_id.as_str()) data-action=(action_code(x.action)) {
                                td.person { (who(tr, &x.person_id, names)) }
                                td {
                                    span class={ "status " (action_class(x.action)) } { (label(tr, "c.action.", action_code(x.action))) }
                                    @if let Some(o) = &x.order_id { br; span.mono.small { (o.as_str()) } }
                                }
                                td {
                                    @if x.action == ProposalAction::Create && x.order_id.is_none() { (tr.t("c.on_issue")) } @else { (time(x.starts_at)) }
                                    " – " (time(x.ends_at))
                                    br; span.small { (tr.t("c.last_exposure")) " " (time(x.last_exposure)) }
                                }
                                td { (x.district.as_str()) }
                                td {
                                    @match (&x.address, &x.coordinates) {
                                        (Some(a), Some(c)) => {
                                            (a.as_str()) br;
                                            span.small.mono { (format!("{:.5}, {:.5}", c.lat(), c.lon())) }
                                            @if x.action == ProposalAction::Create { span.small { " · " (format!("{radius:.0} m")) } }
                                            br; span.small { (x.time_zone.name()) }
                                        }
                                        _ => @if x.action == ProposalAction::NeedsAddress {
                                            span.muted { (tr.t("c.needs_address")) }
                                        } @else {
                                            span.muted { (tr.t("c.other_district_place")) }
                                        },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn action_code(a: ProposalAction) -> &'static str {
    match a {
        ProposalAction::Create => "create",
        ProposalAction::Extend => "extend",
        ProposalAction::Unchanged => "unchanged",
        ProposalAction::NeedsAddress => "needs_address",
        ProposalAction::Expired => "expired",
    }
}

fn action_class(a: ProposalAction) -> &'static str {
    match a {
        ProposalAction::Create | ProposalAction::Extend => "s-bad",
        ProposalAction::NeedsAddress => "s-warn",
        _ => "",
    }
}

// ---------------------------------------------------------------- revision

/// `POST /cases/{id}/revision/preview`: what revising the test would
/// release or keep, computed through the cascade and rolled back.
pub async fn preview_revision(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = CaseForm::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    if let Some(r) = super::refuse_without(&officer, Permission::ReviseTests, "c.err.role_revise") {
        return r;
    }
    let result = match TestOutcome::parse(&form.result) {
        Ok(r) => r,
        Err(e) => return failure(&officer, e.into()),
    };
    let actor = officer.as_actor();
    let report =
        match service::preview_revision(&state, &actor, &form.test, result, &form.reason).await {
            Ok(r) => r,
            Err(e) => return failure(&officer, e),
        };
    let names = match names_of(&state, &officer, report_people(&report).iter()).await {
        Ok(n) => n,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let fingerprint = service::revision_fingerprint(&report);
    let body = html! {
        p.crumbs { a href=(case_url(&id)) { "← " (tr.t("c.back_to_case")) } }
        div.page-head { h1 { (tr.t("c.revision_preview")) } }
        p.lead { (tr.t("c.revision_preview_lead")) }
        (render_report(tr, &report, &form.reason, &names))
        form method="post" action={ (case_url(&id)) "/revision" } {
            input type="hidden" name="csrf" value=(officer.session.csrf);
            input type="hidden" name="test" value=(form.test);
            input type="hidden" name="result" value=(form.result);
            input type="hidden" name="reason" value=(form.reason);
            input type="hidden" name="fingerprint" value=(fingerprint);
            button #confirm-revision type="submit" { (tr.t("c.confirm_revision")) }
        }
    };
    ok_page(&officer, tr.t("c.revision_preview"), body)
}

/// `POST /cases/{id}/revision`: commits the revision when its cascade is
/// the previewed one, else the 409 page.
pub async fn revise(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let form = CaseForm::parse(&body);
    if let Some(r) = refuse(&officer, &form) {
        return r;
    }
    if let Some(r) = super::refuse_without(&officer, Permission::ReviseTests, "c.err.role_revise") {
        return r;
    }
    let result = match TestOutcome::parse(&form.result) {
        Ok(r) => r,
        Err(e) => return failure(&officer, e.into()),
    };
    let actor = officer.as_actor();
    let report = match service::revise_previewed(
        &state,
        &actor,
        &form.test,
        result,
        &form.reason,
        &form.fingerprint,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return failure(&officer, e),
    };
    let names = match names_of(&state, &officer, report_people(&report).iter()).await {
        Ok(n) => n,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let body = html! {
        p.crumbs { a href=(case_url(&id)) { "← " (tr.t("c.back_to_case")) } }
        p.alert.good role="status" #flash { (tr.t("c.flash.revised")) }
        div.page-head { h1 { (tr.t("c.revision_done")) } }
        (render_report(tr, &report, &form.reason, &names))
    };
    ok_page(&officer, tr.t("c.revision_done"), body)
}

fn report_people(r: &RevisionReport) -> Vec<PersonId> {
    r.released
        .iter()
        .map(|x| x.person_id.clone())
        .chain(r.kept.iter().map(|x| x.person_id.clone()))
        .collect()
}

fn render_report(
    tr: Tr,
    r: &RevisionReport,
    reason: &str,
    names: &HashMap<PersonId, Person>,
) -> Markup {
    let previous = r
        .test
        .revisions
        .last()
        .map_or(r.test.result, |v| v.previous);
    html! {
        section.card aria-labelledby="rv-title" {
            h2 #rv-title { (tr.t("c.test")) " " span.mono { (r.test.id.as_str()) } }
            dl.facts {
                div { dt { (tr.t("c.change")) } dd #rv-change {
                    (label(tr, "c.test_result.", previous.as_str())) " → " (label(tr, "c.test_result.", r.test.result.as_str()))
                } }
                div { dt { (tr.t("c.reason")) } dd { (reason) } }
                div { dt { (tr.t("c.contacts_withdrawn")) } dd #rv-withdrawn { (r.contacts_withdrawn) } }
            }
        }
        section.card #released aria-labelledby="released-title" {
            h2 #released-title { (tr.t("c.orders_released")) " (" (r.released.len()) ")" }
            @if r.released.is_empty() { p.muted { (tr.t("c.none")) } } @else {
                div.table-wrap.plain { table.queue {
                    caption.visually-hidden { (tr.t("c.orders_released")) }
                    thead { tr {
                        th scope="col" { (tr.t("c.col.person")) }
                        th scope="col" { (tr.t("c.col.order")) }
                        th scope="col" { (tr.t("c.reason")) }
                        th scope="col" { (tr.t("c.col.wound_down")) }
                    } }
                    tbody { @for x in &r.released {
                        tr data-order=(x.order_id.as_str()) {
                            td.person { (who(tr, &x.person_id, names)) }
                            td.mono.small { (x.order_id.as_str()) }
                            td { (x.reason) }
                            td.small { (tr.f("c.wound_down", &[
                                ("prompts", &x.effects.prompts_cancelled.to_string()),
                                ("forms", &x.effects.symptom_forms_cancelled.to_string()),
                                ("links", &x.effects.enrollment_links_closed.to_string()),
                                ("messages", &x.effects.messages_withdrawn.to_string()),
                                ("alerts", &x.effects.alerts_closed.len().to_string()),
                            ])) }
                        }
                    } }
                } }
            }
        }
        section.card #kept aria-labelledby="kept-title" {
            h2 #kept-title { (tr.t("c.orders_kept")) " (" (r.kept.len()) ")" }
            @if r.kept.is_empty() { p.muted { (tr.t("c.none")) } } @else {
                div.table-wrap.plain { table.queue {
                    caption.visually-hidden { (tr.t("c.orders_kept")) }
                    thead { tr {
                        th scope="col" { (tr.t("c.col.person")) }
                        th scope="col" { (tr.t("c.col.order")) }
                        th scope="col" { (tr.t("c.col.new_end")) }
                        th scope="col" { (tr.t("c.bases")) }
                    } }
                    tbody { @for x in &r.kept {
                        tr data-order=(x.order_id.as_str()) {
                            td.person { (who(tr, &x.person_id, names)) }
                            td.mono.small { (x.order_id.as_str()) }
                            td { (time(x.ends_at)) }
                            td.small { @for b in &x.bases { (basis_code(tr, b)) br; } }
                        }
                    } }
                } }
            }
        }
    }
}

fn basis_code(tr: Tr, b: &lazaret_core::order::OrderBasis) -> String {
    match Basis::from(b.clone()) {
        Basis::Arrival { area } => format!("{} · {area}", tr.t("c.basis.arrival")),
        Basis::Contact { case_id, test_id } => format!(
            "{} · {} · {}",
            tr.t("c.basis.contact"),
            case_id.unwrap_or_default(),
            test_id.unwrap_or_default()
        ),
        Basis::PositiveTest { test_id } => format!(
            "{} · {}",
            tr.t("c.basis.positive_test"),
            test_id.unwrap_or_default()
        ),
    }
}
