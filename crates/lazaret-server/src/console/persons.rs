//! The persons of the officer's districts (`GET /persons`, a name search,
//! 50 a page with a cursor) and one person's page (`GET /persons/{id}`):
//! who they are, their orders (each linking to its order page, and "new
//! order" for the person), and a timeline of prompts with their tries,
//! symptom reports, alerts and messages; tests and contacts for a role that
//! reads health data. Reads go through `services::persons` (`list`,
//! `active_order_ends`, `file`), audited as the API's reads are.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use lazaret_core::order::QuarantineOrder;
use lazaret_core::person::Person;
use lazaret_core::user::Permission;
use lazaret_store::{PageRequest, PersonFilter};
use maud::{html, Markup};
use serde_json::Value;

use super::layout::{page, respond, time, Nav, Tr};
use super::ConsoleOfficer;
use crate::routes::orders::Basis;
use crate::services::persons::{self, PersonFile};
use crate::services::ServiceError;
use crate::state::AppState;

const PAGE_SIZE: u32 = 50;

/// A refused or failed page request: its status and a message.
fn failure(officer: &ConsoleOfficer, e: ServiceError) -> Response {
    super::failure_page(officer, e, "c.err.person_not_found")
}

/// Refuses a role that does not read personal data (the API's 403).
fn refuse_role(officer: &ConsoleOfficer) -> Option<Response> {
    super::refuse_without(officer, Permission::ReadPersons, "c.err.role_persons")
}

/// `/persons?q=…&cursor=…`, read leniently.
fn parse_query(raw: &str) -> (String, Option<String>) {
    let mut q = String::new();
    let mut cursor = None;
    for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
        match &*k {
            "q" => q = v.trim().chars().take(100).collect(),
            "cursor" if !v.is_empty() => cursor = Some(v.into_owned()),
            _ => {}
        }
    }
    (q, cursor)
}

fn list_url(q: &str, cursor: Option<&str>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    if !q.is_empty() {
        s.append_pair("q", q);
    }
    if let Some(c) = cursor {
        s.append_pair("cursor", c);
    }
    let s = s.finish();
    if s.is_empty() {
        "/persons".to_owned()
    } else {
        format!("/persons?{s}")
    }
}

/// `GET /persons`: the persons of the officer's districts.
pub async fn list(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let (q, cursor) = parse_query(raw.as_deref().unwrap_or_default());
    let actor = officer.as_actor();
    let filter = PersonFilter {
        name_contains: (!q.is_empty()).then(|| q.clone()),
        ..PersonFilter::default()
    };
    let page_req = PageRequest {
        cursor: cursor.clone(),
        limit: Some(PAGE_SIZE),
    };
    let listed = match persons::list(&state, &actor, &filter, &page_req).await {
        Ok(p) => p,
        Err(e) => return failure(&officer, e),
    };
    let ids: Vec<_> = listed.items.iter().map(|p| p.id.clone()).collect();
    let ends = match persons::active_order_ends(&state, &actor, &ids).await {
        Ok(e) => e,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let body = render_list(
        tr,
        &q,
        cursor.is_some(),
        &listed.items,
        &ends,
        listed.next_cursor.as_deref(),
    );
    respond(
        StatusCode::OK,
        page(
            tr,
            Some(&officer.session),
            Some(Nav::Persons),
            tr.t("c.persons"),
            body,
        ),
        &[],
    )
}

fn render_list(
    tr: Tr,
    q: &str,
    paged: bool,
    items: &[Person],
    ends: &HashMap<lazaret_core::ids::PersonId, DateTime<Utc>>,
    next: Option<&str>,
) -> Markup {
    html! {
        div.page-head {
            h1 { (tr.t("c.persons")) }
            p.keys { (tr.t("c.persons_lead")) }
        }
        form.filters method="get" action="/persons" role="search" aria-label=(tr.t("c.search_persons")) {
            div.field.grow {
                label for="p-q" { (tr.t("c.name_contains")) }
                input #p-q type="search" name="q" value=(q) maxlength="100" autocomplete="off" data-shortcut="/";
            }
            div.field.buttons {
                button type="submit" { (tr.t("c.search")) }
                @if !q.is_empty() { a.reset href="/persons" { (tr.t("c.clear_search")) } }
            }
        }
        @if items.is_empty() {
            p.empty #empty { (tr.t("c.no_persons")) }
        } @else {
            div.table-wrap.plain {
                table.queue #persons {
                    caption.visually-hidden { (tr.t("c.persons")) }
                    thead { tr {
                        th scope="col" { (tr.t("c.col.name")) }
                        th scope="col" { (tr.t("c.col.phone")) }
                        th scope="col" { (tr.t("c.col.district")) }
                        th scope="col" { (tr.t("c.col.order_ends")) }
                    } }
                    tbody {
                        @for p in items {
                            tr data-id=(p.id.as_str()) {
                                td { a.open href={ "/persons/" (p.id.as_str()) } { (p.full_name.as_str()) } }
                                td.mono { @match &p.phone { Some(ph) => (ph.as_str()), None => span.muted { "—" } } }
                                td { (p.district.as_str()) }
                                td { @match ends.get(&p.id) { Some(t) => (time(*t)), None => span.muted { (tr.t("c.no_active_order")) } } }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label=(tr.t("c.pages")) {
            @if paged { a href=(list_url(q, None)) { (tr.t("c.first_page")) } }
            @if let Some(c) = next {
                a #next-page rel="next" href=(list_url(q, Some(c))) { (tr.t("c.next_page")) }
            }
        }
    }
}

/// `GET /persons/{id}`: one person's page.
pub async fn detail(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = refuse_role(&officer) {
        return r;
    }
    let file = match persons::file(&state, &officer.as_actor(), &id).await {
        Ok(f) => f,
        Err(e) => return failure(&officer, e),
    };
    let tr = officer.tr;
    let title = file.person.full_name.as_str().to_owned();
    let body = render_person(tr, &officer, &file);
    respond(
        StatusCode::OK,
        page(tr, Some(&officer.session), Some(Nav::Persons), &title, body),
        &[],
    )
}

/// A row's time (RFC 3339 text in the export's rows).
fn at(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn text<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// A code's label from the table (`prefix` + code), else the code itself.
fn label(tr: Tr, prefix: &str, code: &str) -> String {
    tr.0.text(&format!("{prefix}{code}"))
        .map_or_else(|| code.replace('_', " "), str::to_owned)
}

fn status_class(code: &str) -> &'static str {
    match code {
        "verified" | "answered" | "sent" | "resolved" | "active" | "negative" => "s-good",
        "open" | "missed" | "failed" | "not_delivered" | "positive" | "close" => "s-bad",
        "pending" | "proposed" | "assigned" | "notify" => "s-warn",
        _ => "",
    }
}

/// A check-in outcome's badge: only `verified` is good, a try still being
/// verified is pending, every other outcome a failure.
fn outcome_badge(tr: Tr, code: &str) -> Markup {
    let class = match code {
        "verified" => "s-good",
        "pending" => "s-warn",
        _ => "s-bad",
    };
    html! { span class={ "status " (class) } { (label(tr, "c.checkin.", code)) } }
}

fn badge(tr: Tr, prefix: &str, code: &str) -> Markup {
    html! { span class={ "status " (status_class(code)) } { (label(tr, prefix, code)) } }
}

/// One entry of the timeline: when, and what.
struct Entry {
    at: DateTime<Utc>,
    kind: &'static str,
    markup: Markup,
}

fn render_person(tr: Tr, officer: &ConsoleOfficer, f: &PersonFile) -> Markup {
    let p = &f.person;
    let works_alerts = officer.session.role.allows(Permission::WorkAlerts);
    html! {
        p.crumbs { a href="/persons" { "← " (tr.t("c.back_to_persons")) } }
        section.card.person-head aria-labelledby="person-name" {
            h1 #person-name { (p.full_name.as_str()) }
            dl.facts.cols {
                div { dt { (tr.t("c.col.phone")) } dd.mono { @match &p.phone { Some(ph) => a href={ "tel:" (ph.as_str()) } { (ph.as_str()) }, None => span.muted { "—" } } } }
                div { dt { (tr.t("c.email")) } dd { @match &p.email { Some(e) => (e.as_str()), None => span.muted { "—" } } } }
                div { dt { (tr.t("lang_label")) } dd {
                    // The language's own name (the person reads their messages in it).
                    @match crate::pages::Lang::parse(p.language.as_str()) {
                        Some(l) => span lang=(l.code()) { (l.name()) },
                        None => (p.language.as_str()),
                    }
                } }
                div { dt { (tr.t("c.col.district")) } dd { (p.district.as_str()) } }
                div { dt { (tr.t("c.person_id")) } dd.mono { (p.id.as_str()) } }
            }
        }
        div.person-grid {
            div.person-main {
                section aria-labelledby="timeline-title" {
                    h2 #timeline-title.section-title { (tr.t("c.timeline")) }
                    (render_timeline(tr, f, works_alerts))
                }
            }
            div.person-side {
                section.card aria-labelledby="orders-title" {
                    div.card-head {
                        h2 #orders-title { (tr.t("c.orders")) }
                        @if officer.session.role.allows(Permission::WriteOrders) {
                            a.button.small #new-order href={ "/orders/new?person=" (p.id.as_str()) } { (tr.t("c.new_order")) }
                        }
                    }
                    @if f.orders.is_empty() {
                        p.muted { (tr.t("c.no_orders")) }
                    }
                    @for o in &f.orders { (render_order(tr, o, f.health)) }
                }
                @if f.health {
                    section.card #tests aria-labelledby="tests-title" {
                        h2 #tests-title { (tr.t("c.tests")) }
                        @if f.rows("test_results").is_empty() { p.muted { (tr.t("c.no_tests")) } }
                        @for t in f.rows("test_results").iter().rev() { (render_test(tr, t)) }
                    }
                    section.card #contacts aria-labelledby="contacts-title" {
                        h2 #contacts-title { (tr.t("c.contacts")) }
                        h3 { (tr.t("c.as_case")) }
                        @if f.rows("traced_by_tier").is_empty() {
                            p.muted { (tr.t("c.no_traced")) }
                        } @else {
                            ul.plain {
                                @for r in f.rows("traced_by_tier") {
                                    li { (badge(tr, "c.tier.", text(r, "tier"))) " "
                                        (tr.f("c.n_contacts", &[("n", &r.get("n").and_then(Value::as_i64).unwrap_or(0).to_string())])) }
                                }
                            }
                        }
                        h3 { (tr.t("c.as_contact")) }
                        @if f.rows("contact_of").is_empty() {
                            p.muted { (tr.t("c.not_a_contact")) }
                        } @else {
                            ul.plain {
                                @for r in f.rows("contact_of") {
                                    li { (badge(tr, "c.tier.", text(r, "tier"))) " "
                                        (tr.t("c.last_exposure")) " "
                                        @if let Some(t) = at(r, "last_exposure") { (time(t)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn render_order(tr: Tr, o: &QuarantineOrder, health: bool) -> Markup {
    let bases: Vec<Basis> = o
        .bases
        .iter()
        .cloned()
        .map(Basis::from)
        .map(|b| if health { b } else { b.without_health_data() })
        .collect();
    html! {
        article.order {
            header {
                (badge(tr, "c.order_status.", o.status.as_str()))
                " " a.mono.small.order-link href={ "/orders/" (o.id.as_str()) } { (o.id.as_str()) }
            }
            dl.facts {
                div { dt { (tr.t("c.period")) } dd { (time(o.starts_at)) " – " (time(o.ends_at)) } }
                div { dt { (tr.t("c.address")) } dd { (o.address.as_str()) } }
                div { dt { (tr.t("c.radius")) } dd { (format!("{:.0} m", o.geofence.radius_m)) } }
                div { dt { (tr.t("c.bases")) } dd {
                    ul.plain { @for b in &bases { li { (basis_text(tr, b)) } } }
                } }
                @if let Some(r) = &o.status_reason { div { dt { (tr.t("c.reason")) } dd { (r) } } }
            }
        }
    }
}

pub(super) fn basis_text(tr: Tr, b: &Basis) -> Markup {
    html! {
        @match b {
            Basis::Arrival { area } => { (tr.t("c.basis.arrival")) " · " (area) }
            Basis::Contact { case_id, test_id } => {
                (tr.t("c.basis.contact"))
                @if let Some(c) = case_id { " · " (tr.t("c.case")) " " a.mono href={ "/persons/" (c) } { (c) } }
                @if let Some(t) = test_id { " · " (tr.t("c.test")) " " span.mono { (t) } }
            }
            Basis::PositiveTest { test_id } => {
                (tr.t("c.basis.positive_test"))
                @if let Some(t) = test_id { " · " span.mono { (t) } }
            }
        }
    }
}

fn render_test(tr: Tr, t: &Value) -> Markup {
    let revisions = t
        .get("revisions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    html! {
        article.test {
            header {
                (badge(tr, "c.test_result.", text(t, "result")))
                " " @if let Some(s) = at(t, "sampled_at") { (tr.t("c.sampled")) " " (time(s)) }
            }
            p.small { (tr.t("c.lab")) ": " (text(t, "lab"))
                @if !text(t, "symptom_onset").is_empty() { " · " (tr.t("c.onset")) " " (text(t, "symptom_onset")) } }
            @if !revisions.is_empty() {
                ol.revisions {
                    @for r in &revisions {
                        li {
                            @if let Some(when) = at(r, "revised_at") { (time(when)) ": " }
                            (label(tr, "c.test_result.", text(r, "previous"))) " → " (label(tr, "c.test_result.", text(r, "result")))
                            @if !text(r, "reason").is_empty() { " — " (text(r, "reason")) }
                        }
                    }
                }
            }
        }
    }
}

fn render_timeline(tr: Tr, f: &PersonFile, works_alerts: bool) -> Markup {
    let mut entries: Vec<Entry> = Vec::new();
    let checkins = f.rows("checkins");
    for p in f.rows("prompts") {
        let Some(when) = at(p, "issued_at") else {
            continue;
        };
        let pid = text(p, "id");
        let tries: Vec<&Value> = checkins
            .iter()
            .filter(|c| text(c, "prompt_id") == pid)
            .collect();
        entries.push(Entry {
            at: when,
            kind: "prompt",
            markup: html! {
                div.what {
                    strong { (tr.t("c.prompt")) } " " (badge(tr, "c.prompt_status.", text(p, "status")))
                    @if let Some(d) = at(p, "deadline") { span.small { " · " (tr.t("c.deadline")) " " (time(d)) } }
                }
                @if !tries.is_empty() {
                    ol.tries-list {
                        @for c in &tries {
                            li {
                                (tr.f("c.try_n", &[("n", &c.get("attempt").and_then(Value::as_i64).unwrap_or(0).to_string())]))
                                " " (outcome_badge(tr, if text(c, "outcome").is_empty() { "pending" } else { text(c, "outcome") }))
                                @if let Some(r) = at(c, "received_at") { span.small { " " (time(r)) } }
                            }
                        }
                    }
                }
            },
        });
    }
    for r in f.rows("symptom_reports") {
        let Some(when) = at(r, "received_at") else {
            continue;
        };
        let symptoms: Vec<String> = r
            .get("symptoms")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|s| label(tr, "sym_", s))
                    .collect()
            })
            .unwrap_or_default();
        entries.push(Entry {
            at: when,
            kind: "symptoms",
            markup: html! {
                div.what {
                    strong { (tr.t("c.symptom_report")) } " · " (text(r, "day"))
                }
                p.small.symptoms {
                    @if symptoms.is_empty() { (tr.t("c.no_symptoms")) } @else { (symptoms.join(", ")) }
                    @if !text(r, "other").is_empty() { " (" (text(r, "other")) ")" }
                    @if let Some(t) = r.get("temperature_c").and_then(Value::as_f64) { " · " (format!("{t:.1} °C")) }
                }
            },
        });
    }
    for a in f.rows("alerts") {
        let Some(when) = at(a, "created_at") else {
            continue;
        };
        let kind = text(a, "kind");
        entries.push(Entry {
            at: when,
            kind: "alert",
            markup: html! {
                div.what {
                    strong { (tr.t("c.alert")) } " "
                    @if works_alerts {
                        a href={ "/alerts/" (text(a, "id")) } { span class={ "kind k-" (kind) } { (label(tr, "c.kind.", kind)) } }
                    } @else {
                        span class={ "kind k-" (kind) } { (label(tr, "c.kind.", kind)) }
                    }
                    " " (badge(tr, "c.status.", text(a, "status")))
                }
                @if !text(a, "resolution").is_empty() { p.small { (text(a, "resolution")) } }
            },
        });
    }
    for m in f.rows("messages") {
        let Some(when) = at(m, "created_at") else {
            continue;
        };
        entries.push(Entry {
            at: when,
            kind: "message",
            markup: html! {
                div.what {
                    strong { (tr.t("c.message")) } " " (text(m, "subject"))
                    " " (badge(tr, "c.delivery.", text(m, "status")))
                }
                p.small { (text(m, "channel")) " · " (text(m, "recipient")) }
            },
        });
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    html! {
        @if entries.is_empty() {
            p.card.empty { (tr.t("c.nothing_yet")) }
        } @else {
            ol.timeline #timeline {
                @for e in &entries {
                    li class={ "t-" (e.kind) } {
                        div.when { (time(e.at)) }
                        div.body { (e.markup) }
                    }
                }
            }
        }
    }
}
