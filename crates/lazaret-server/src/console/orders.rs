//! Quarantine orders in the console: the orders of the officer's districts
//! (`GET /orders`, by status, 50 a page with a cursor; the status filter
//! persists in a cookie as the alert queue's filters do), one order's page
//! (`GET /orders/{id}`: place, the fence drawn to scale, district, time
//! zone, status, bases, period, enrolment) with its actions (extend,
//! release, enrol a reference photo, send a self-enrolment link, approve or
//! reject a pending self-enrolment while seeing the submitted photo at
//! `GET /orders/{id}/enrollment/photo`), and the order form
//! (`GET /orders/new`, `POST /orders`) for an existing or a new person.
//!
//! Every read and change goes through the services the JSON API calls
//! (`services::orders`, `services::persons`, `services::enrollment`,
//! `services::self_enrollment`): the same districts, role rules and audit
//! events. No map tiles: the optional tile-server map of the issue is not
//! built, the fence diagram stands alone.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone as _, Utc};
use lazaret_core::contact_info::{Email, Language, Phone};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::geo::{Coordinates, Geofence, DEFAULT_RADIUS_M};
use lazaret_core::ids::PersonId;
use lazaret_core::order::{OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::{Address, FullName, Person};
use lazaret_core::user::Permission;
use lazaret_core::{DomainError, ValidationError};
use lazaret_store::{Channel, LinkStatus, OrderFilter, OrderWrite, OutboxStatus, PageRequest};
use maud::{html, Markup};

use super::fence::fence_diagram;
use super::layout::{page, respond, time, Nav, Tr};
use super::{cookie, see_other, set_cookie, ConsoleOfficer};
use crate::error::ApiError;
use crate::multipart::read_parts;
use crate::routes::orders::Basis;
use crate::services::self_enrollment::{self, EnrolmentState};
use crate::services::{alerts, enrollment, orders, persons, ServiceError};
use crate::state::AppState;

const PAGE_SIZE: u32 = 50;
/// The cookie keeping the list's last status filter.
const QUERY_COOKIE: &str = "lazaret_orders_query";
/// The cookie carrying what the last action did to the order page.
const FLASH_COOKIE: &str = "lazaret_order_flash";

const STATUSES: [OrderStatus; 4] = [
    OrderStatus::Proposed,
    OrderStatus::Active,
    OrderStatus::Completed,
    OrderStatus::Released,
];

/// A refused or failed page request: its status and a message.
fn failure(officer: &ConsoleOfficer, e: ServiceError) -> Response {
    super::failure_page(officer, e, "c.err.order_not_found")
}

/// Refuses a role that does not read orders (the API's 403, as a page).
fn refuse_read(officer: &ConsoleOfficer) -> Option<Response> {
    super::refuse_without(officer, Permission::ReadOrders, "c.err.role_orders")
}

/// Refuses a role that does not change orders.
fn refuse_write(officer: &ConsoleOfficer) -> Option<Response> {
    super::refuse_without(officer, Permission::WriteOrders, "c.err.role_write_orders")
}

fn status_label(tr: Tr, s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Proposed => tr.t("c.order_status.proposed"),
        OrderStatus::Active => tr.t("c.order_status.active"),
        OrderStatus::Completed => tr.t("c.order_status.completed"),
        OrderStatus::Released => tr.t("c.order_status.released"),
    }
}

fn status_badge(tr: Tr, s: OrderStatus) -> Markup {
    let class = match s {
        OrderStatus::Active => "s-good",
        OrderStatus::Proposed => "s-warn",
        _ => "",
    };
    html! { span class={ "status " (class) } { (status_label(tr, s)) } }
}

// ---------------------------------------------------------------- the list

/// A parsed `/orders` query.
#[derive(Debug, Default, PartialEq, Eq)]
struct ListQuery {
    status: Option<OrderStatus>,
    /// One of the officer's districts (the service never widens to others).
    district: Option<District>,
    cursor: Option<String>,
}

impl ListQuery {
    /// Read leniently: an unknown status is "any".
    fn parse(raw: &str) -> ListQuery {
        let mut q = ListQuery::default();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            match &*k {
                "status" => q.status = STATUSES.into_iter().find(|s| s.as_str() == v.trim()),
                "district" => q.district = District::parse(v.trim()).ok(),
                "cursor" if !v.is_empty() => q.cursor = Some(v.into_owned()),
                _ => {}
            }
        }
        q
    }

    /// The filter's part of the query (what the cookie keeps).
    fn filter_query(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if let Some(st) = self.status {
            s.append_pair("status", st.as_str());
        }
        if let Some(d) = &self.district {
            s.append_pair("district", d.as_str());
        }
        s.finish()
    }

    fn url(&self, cursor: Option<&str>) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if let Some(st) = self.status {
            s.append_pair("status", st.as_str());
        }
        if let Some(d) = &self.district {
            s.append_pair("district", d.as_str());
        }
        if let Some(c) = cursor {
            s.append_pair("cursor", c);
        }
        format!("/orders?{}", s.finish())
    }
}

/// `GET /orders`: the orders of the officer's districts.
pub async fn list(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = refuse_read(&officer) {
        return r;
    }
    let Some(raw) = raw else {
        // A plain `/orders` reopens the last filter (`/orders?` is "any").
        let saved = cookie(&headers, QUERY_COOKIE).map(ListQuery::parse);
        return match saved {
            Some(q) if q.status.is_some() || q.district.is_some() => see_other(&q.url(None)),
            _ => see_other("/orders?"),
        };
    };
    let q = ListQuery::parse(&raw);
    let actor = officer.as_actor();
    let filter = OrderFilter {
        status: q.status,
        districts: q.district.clone().map(|d| DistrictScope::Only([d].into())),
        ..OrderFilter::default()
    };
    let page_req = PageRequest {
        cursor: q.cursor.clone(),
        limit: Some(PAGE_SIZE),
    };
    let listed = match orders::list(&state, &actor, &filter, &page_req).await {
        Ok(p) => p,
        Err(e) => return failure(&officer, e),
    };
    // The names of the page's persons, in one query (the orders were
    // audited with the list).
    let ids: Vec<PersonId> = listed.items.iter().map(|o| o.person_id.clone()).collect();
    let names = match persons::names(&state, &actor, &ids).await {
        Ok(n) => n,
        Err(e) => return failure(&officer, e),
    };
    let saved = q.filter_query();
    let cookies = [if saved.is_empty() {
        set_cookie(&state, QUERY_COOKIE, "", 0)
    } else {
        set_cookie(&state, QUERY_COOKIE, &saved, 180 * 24 * 3600)
    }];
    let tr = officer.tr;
    let body = render_list(
        &officer,
        &q,
        &listed.items,
        &names,
        listed.next_cursor.as_deref(),
    );
    respond(
        StatusCode::OK,
        page(
            tr,
            Some(&officer.session),
            Some(Nav::Orders),
            tr.t("c.orders"),
            body,
        ),
        &cookies,
    )
}

fn render_list(
    officer: &ConsoleOfficer,
    q: &ListQuery,
    items: &[QuarantineOrder],
    names: &HashMap<PersonId, Person>,
    next: Option<&str>,
) -> Markup {
    let tr = officer.tr;
    let writes = officer.session.role.allows(Permission::WriteOrders);
    html! {
        div.page-head {
            h1 { (tr.t("c.orders")) }
            @if writes {
                a.button #new-order href="/orders/new" { (tr.t("c.new_order")) }
            }
        }
        form.filters method="get" action="/orders" role="search" aria-label=(tr.t("c.filters")) {
            div.field.status {
                label for="o-status" { (tr.t("c.col.status")) }
                select #o-status name="status" data-shortcut="/" {
                    option value="" selected[q.status.is_none()] { (tr.t("c.any_status")) }
                    @for s in STATUSES {
                        option value=(s.as_str()) selected[q.status == Some(s)] { (status_label(tr, s)) }
                    }
                }
            }
            @let districts = alerts::filter_districts(&officer.as_actor());
            div.field {
                label for="o-district" { (tr.t("c.col.district")) }
                @if districts.is_empty() {
                    input #o-district name="district" type="text" maxlength="64" autocomplete="off"
                        placeholder=(tr.t("c.all_mine")) value=[q.district.as_ref().map(|d| d.as_str())];
                } @else {
                    select #o-district name="district" {
                        option value="" selected[q.district.is_none()] { (tr.t("c.all_mine")) }
                        @for d in &districts {
                            option value=(d.as_str()) selected[q.district.as_ref() == Some(d)] { (d.as_str()) }
                        }
                    }
                }
            }
            div.field.buttons {
                button type="submit" { (tr.t("c.apply")) }
            }
        }
        @if items.is_empty() {
            p.empty #empty { (tr.t("c.no_orders_match")) }
        } @else {
            div.table-wrap.plain {
                table.queue #orders {
                    caption.visually-hidden { (tr.t("c.orders")) }
                    thead { tr {
                        th scope="col" { (tr.t("c.order")) }
                        th scope="col" { (tr.t("c.col.person")) }
                        th scope="col" { (tr.t("c.col.status")) }
                        th scope="col" { (tr.t("c.col.district")) }
                        th scope="col" { (tr.t("c.col.ends")) }
                        th scope="col" { (tr.t("c.address")) }
                    } }
                    tbody {
                        @for o in items {
                            @let who = names.get(&o.person_id).map_or(o.person_id.as_str(), |p| p.full_name.as_str());
                            tr data-id=(o.id.as_str()) {
                                td { a.open.mono href={ "/orders/" (o.id.as_str()) } aria-label=(tr.f("c.open_order_of", &[("person", who)])) { (short_id(o.id.as_str())) } }
                                td.person { a href={ "/persons/" (o.person_id.as_str()) } { (who) } }
                                td { (status_badge(tr, o.status)) }
                                td { (o.district.as_str()) }
                                td { (time(o.ends_at)) }
                                td.small { (o.address.as_str()) }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label=(tr.t("c.pages")) {
            @if q.cursor.is_some() { a href=(q.url(None)) { (tr.t("c.first_page")) } }
            @if let Some(c) = next {
                a #next-page rel="next" href=(q.url(Some(c))) { (tr.t("c.next_page")) }
            }
        }
    }
}

/// The tail of an id (UUIDs share their first, time-ordered digits).
fn short_id(id: &str) -> String {
    if id.len() > 13 && id.is_ascii() {
        format!("…{}", &id[id.len() - 12..])
    } else {
        id.to_owned()
    }
}

// ------------------------------------------------------- the order's page

/// What the last action did, carried by a cookie to the order page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flash {
    Created,
    ExtendedExisting,
    Unchanged,
    Extended,
    Released,
    Enrolled,
    LinkCreated,
    Approved,
    Rejected,
}

impl Flash {
    const ALL: [Flash; 9] = [
        Flash::Created,
        Flash::ExtendedExisting,
        Flash::Unchanged,
        Flash::Extended,
        Flash::Released,
        Flash::Enrolled,
        Flash::LinkCreated,
        Flash::Approved,
        Flash::Rejected,
    ];

    fn code(self) -> &'static str {
        match self {
            Flash::Created => "created",
            Flash::ExtendedExisting => "extended_existing",
            Flash::Unchanged => "unchanged",
            Flash::Extended => "extended",
            Flash::Released => "released",
            Flash::Enrolled => "enrolled",
            Flash::LinkCreated => "link_created",
            Flash::Approved => "approved",
            Flash::Rejected => "rejected",
        }
    }

    fn decode(s: &str) -> Option<Flash> {
        Flash::ALL.into_iter().find(|f| f.code() == s)
    }

    fn text(self, tr: Tr) -> &'static str {
        match self {
            Flash::Created => tr.t("c.flash.order_created"),
            Flash::ExtendedExisting => tr.t("c.flash.order_folded"),
            Flash::Unchanged => tr.t("c.flash.order_unchanged"),
            Flash::Extended => tr.t("c.flash.order_extended"),
            Flash::Released => tr.t("c.flash.order_released"),
            Flash::Enrolled => tr.t("c.flash.enrolled"),
            Flash::LinkCreated => tr.t("c.flash.link_created"),
            Flash::Approved => tr.t("c.flash.approved"),
            Flash::Rejected => tr.t("c.flash.rejected"),
        }
    }
}

/// After an action: the order page, with what it did.
fn done(state: &AppState, id: &str, flash: Flash) -> Response {
    let mut r = see_other(&format!("/orders/{id}"));
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, FLASH_COOKIE, flash.code(), 60),
    );
    r
}

/// Which of the page's forms a refusal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Extend,
    Release,
    Enrol,
    Link,
    Decide,
}

/// A refused action, shown at its form with the values sent.
#[derive(Debug, Clone)]
struct Refusal {
    action: Action,
    message: String,
    ends_at: String,
    reason: String,
}

impl Refusal {
    /// A refusal of `action` with nothing typed to keep.
    fn of(action: Action) -> Refusal {
        Refusal {
            action,
            message: String::new(),
            ends_at: String::new(),
            reason: String::new(),
        }
    }

    fn at(&self, a: Action) -> Option<&str> {
        (self.action == a).then_some(self.message.as_str())
    }
}

/// The message of a refused action: a field's reason, or the API's text
/// (an internal failure logged, never shown).
fn refusal_text(officer: &ConsoleOfficer, e: ServiceError) -> (StatusCode, String) {
    let api = ApiError::from(e);
    let status = api.code().status();
    let text = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        tracing::error!(error = %api, "a console order action failed");
        officer.tr.t("c.err.internal").to_owned()
    } else {
        match &api {
            ApiError::Validation(v) => v.reason.clone(),
            other => other.to_string(),
        }
    };
    (status, text)
}

/// `GET /orders/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = refuse_read(&officer) {
        return r;
    }
    let flash = cookie(&headers, FLASH_COOKIE).and_then(Flash::decode);
    let cookies: Vec<HeaderValue> = if flash.is_some() {
        vec![set_cookie(&state, FLASH_COOKIE, "", 0)]
    } else {
        Vec::new()
    };
    order_page(&state, &officer, &id, flash, None, StatusCode::OK, &cookies).await
}

/// The order page as it stands, with a flash or a refused action.
async fn order_page(
    state: &AppState,
    officer: &ConsoleOfficer,
    id: &str,
    flash: Option<Flash>,
    refusal: Option<Refusal>,
    status: StatusCode,
    cookies: &[HeaderValue],
) -> Response {
    let actor = officer.as_actor();
    let order = match orders::read(state, &actor, id).await {
        Ok(o) => o,
        Err(e) => return failure(officer, e),
    };
    let person = match persons::names(state, &actor, std::slice::from_ref(&order.person_id)).await {
        Ok(mut n) => n.remove(&order.person_id),
        Err(e) => return failure(officer, e),
    };
    let enrolment = match self_enrollment::enrolment_state(state, &actor, id).await {
        Ok(s) => s,
        Err(e) => return failure(officer, e),
    };
    let tr = officer.tr;
    let who = person
        .as_ref()
        .map_or(order.person_id.as_str(), |p| p.full_name.as_str())
        .to_owned();
    let title = format!("{} · {who}", tr.t("c.order"));
    let body = render_order(
        state,
        officer,
        &order,
        &who,
        &enrolment,
        flash,
        refusal.as_ref(),
    );
    respond(
        status,
        page(tr, Some(&officer.session), Some(Nav::Orders), &title, body),
        cookies,
    )
}

/// A time as a `datetime-local` value in the order's zone.
fn local_value(t: DateTime<Utc>, tz: &TimeZone) -> String {
    t.with_timezone(&tz.tz())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// A `datetime-local` value read in `tz` (`field` names it in the error).
fn parse_local(raw: &str, tz: &TimeZone, field: &str) -> Result<DateTime<Utc>, ValidationError> {
    let raw = raw.trim();
    let naive = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            ValidationError::new(field, "must be a date and time like 2026-03-24T18:00")
        })?;
    tz.tz()
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ValidationError::new(field, "does not exist in this time zone"))
}

/// A recipient with most of it hidden: `+41…00`, `a…@example.org`.
fn masked(recipient: &str) -> String {
    if let Some((local, domain)) = recipient.split_once('@') {
        let first: String = local.chars().take(1).collect();
        return format!("{first}…@{domain}");
    }
    let chars: Vec<char> = recipient.chars().collect();
    if chars.len() <= 6 {
        return "…".to_owned();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail}")
}

#[allow(clippy::too_many_arguments)]
fn render_order(
    state: &AppState,
    officer: &ConsoleOfficer,
    o: &QuarantineOrder,
    who: &str,
    enrolment: &EnrolmentState,
    flash: Option<Flash>,
    refusal: Option<&Refusal>,
) -> Markup {
    let tr = officer.tr;
    let id = o.id.as_str();
    let health = officer.session.role.allows(Permission::ReadHealth);
    let writes = officer.session.role.allows(Permission::WriteOrders);
    let live = !o.status.is_terminal();
    let bases: Vec<Basis> = o
        .bases
        .iter()
        .cloned()
        .map(Basis::from)
        .map(|b| if health { b } else { b.without_health_data() })
        .collect();
    let csrf = officer.session.csrf.as_str();
    let suggested_end = local_value(
        (o.ends_at + Duration::days(7)).min(state.now() + Duration::days(60)),
        &o.time_zone,
    );
    html! {
        p.crumbs { a href="/orders" { "← " (tr.t("c.back_to_orders")) } }
        div.page-head {
            h1 #order-title { (tr.t("c.order")) " · " a #person-link href={ "/persons/" (o.person_id.as_str()) } { (who) } }
            (status_badge(tr, o.status))
        }
        @if let Some(f) = flash { p.alert.good role="status" #flash { (f.text(tr)) } }
        div.order-grid {
            section.card aria-labelledby="facts-title" {
                h2 #facts-title { (tr.t("c.order_facts")) }
                dl.facts {
                    div { dt { (tr.t("c.col.person")) } dd { a href={ "/persons/" (o.person_id.as_str()) } { (who) } } }
                    div { dt { (tr.t("c.col.status")) } dd #order-status { (status_badge(tr, o.status))
                        @if let Some(r) = &o.status_reason { " " span.small { (r) } } } }
                    div { dt { (tr.t("c.address")) } dd #order-address { (o.address.as_str()) } }
                    div { dt { (tr.t("c.coordinates")) } dd.mono {
                        (format!("{:.5}, {:.5}", o.geofence.center.lat(), o.geofence.center.lon())) } }
                    div { dt { (tr.t("c.radius")) } dd { (format!("{:.0} m", o.geofence.radius_m)) } }
                    div { dt { (tr.t("c.col.district")) } dd { (o.district.as_str()) } }
                    div { dt { (tr.t("c.time_zone")) } dd { (o.time_zone.name()) } }
                    div { dt { (tr.t("c.starts")) } dd { (time(o.starts_at)) br; span.small { (local_value(o.starts_at, &o.time_zone).replace('T', " ")) " " (o.time_zone.name()) } } }
                    div { dt { (tr.t("c.ends")) } dd #order-ends { (time(o.ends_at)) br; span.small { (local_value(o.ends_at, &o.time_zone).replace('T', " ")) " " (o.time_zone.name()) } } }
                    div { dt { (tr.t("c.bases")) } dd {
                        ul.plain { @for b in &bases { li { (super::persons::basis_text(tr, b)) } } }
                    } }
                    div { dt { (tr.t("c.order_id")) } dd.mono { (id) } }
                }
            }
            section.card aria-labelledby="fence-title" {
                h2 #fence-title { (tr.t("c.fence")) }
                (fence_diagram(tr, o.geofence.radius_m, None))
                p.small { (tr.t("c.no_map")) }
            }
        }
        (render_enrolment(tr, id, csrf, enrolment, writes && live, refusal))
        @if writes && live {
            div.order-grid {
                section.card #extend aria-labelledby="extend-title" {
                    h2 #extend-title { (tr.t("c.extend")) }
                    form method="post" action={ "/orders/" (id) "/extend" } {
                        input type="hidden" name="csrf" value=(csrf);
                        @let err = refusal.and_then(|r| r.at(Action::Extend));
                        label for="extend-ends" { (tr.t("c.new_end")) " " span.optional { "(" (o.time_zone.name()) ")" } }
                        input #extend-ends type="datetime-local" name="ends_at" required
                            value=(refusal.filter(|r| r.action == Action::Extend).map_or(suggested_end.clone(), |r| r.ends_at.clone()))
                            aria-describedby=[err.map(|_| "extend-error")] aria-invalid=[err.map(|_| "true")];
                        label for="extend-reason" { (tr.t("c.reason")) }
                        textarea #extend-reason name="reason" rows="2" maxlength="1000" required {
                            (refusal.filter(|r| r.action == Action::Extend).map_or("", |r| r.reason.as_str()))
                        }
                        @if let Some(e) = err { p.field-error #extend-error role="alert" { (e) } }
                        button #extend-submit type="submit" { (tr.t("c.extend")) }
                    }
                }
                section.card #release aria-labelledby="release-title" {
                    h2 #release-title { (tr.t("c.release")) }
                    p.small { (tr.t("c.release_lead")) }
                    form method="post" action={ "/orders/" (id) "/release" } {
                        input type="hidden" name="csrf" value=(csrf);
                        @let err = refusal.and_then(|r| r.at(Action::Release));
                        label for="release-reason" { (tr.t("c.reason")) }
                        textarea #release-reason name="reason" rows="2" maxlength="1000" required
                            aria-describedby=[err.map(|_| "release-error")] aria-invalid=[err.map(|_| "true")] {
                            (refusal.filter(|r| r.action == Action::Release).map_or("", |r| r.reason.as_str()))
                        }
                        @if let Some(e) = err { p.field-error #release-error role="alert" { (e) } }
                        button.danger #release-submit type="submit" { (tr.t("c.release")) }
                    }
                }
            }
        }
    }
}

fn render_enrolment(
    tr: Tr,
    id: &str,
    csrf: &str,
    e: &EnrolmentState,
    can_act: bool,
    refusal: Option<&Refusal>,
) -> Markup {
    let pending = e.link.as_ref().filter(|l| l.status == LinkStatus::Pending);
    html! {
        section.card #enrolment aria-labelledby="enrolment-title" {
            h2 #enrolment-title { (tr.t("c.enrolment")) }
            dl.facts {
                div { dt { (tr.t("c.enrolled_face")) } dd #enrolled {
                    @match e.enrolled_at {
                        Some(t) => { span.status.s-good { (tr.t("c.enrolled")) } " " (time(t)) }
                        None => { span.status.s-warn { (tr.t("c.not_enrolled")) } }
                    }
                } }
                @if let Some(l) = &e.link {
                    div { dt { (tr.t("c.self_enrolment")) } dd #link-state {
                        span class={ "status " (match l.status { LinkStatus::Open | LinkStatus::Pending => "s-warn", LinkStatus::Approved => "s-good", _ => "" }) } {
                            (label(tr, "c.link_status.", l.status.as_str()))
                        }
                        " " span.small { (tr.t("c.link_created")) " " (time(l.created_at)) }
                        @if l.status == LinkStatus::Open { br; span.small { (tr.t("c.link_expires")) " " (time(l.expires_at)) } }
                        @if let Some(r) = &l.reason { br; span.small { (tr.t("c.reason")) ": " (r) } }
                    } }
                    div { dt { (tr.t("c.link_message")) } dd #link-message {
                        @match &e.message {
                            None => span.muted { (tr.t("c.link_not_sent")) },
                            Some(m) => {
                                @let to = m.recipient.as_deref().map(masked);
                                @let by = match m.channel { Some(Channel::Sms) => tr.t("c.by_sms"), Some(Channel::Email) => tr.t("c.by_email"), None => "" };
                                @match (m.status, to) {
                                    (OutboxStatus::Failed, _) => {
                                        span.status.s-bad { (tr.t("c.delivery.failed")) }
                                        @if let Some(err) = &m.last_error { br; span.small { (err) } }
                                    }
                                    (st, Some(to)) => {
                                        span class={ "status d-" (st.as_str()) } { (label(tr, "c.delivery.", st.as_str())) }
                                        " " (tr.f("c.sent_to", &[("to", &to), ("by", by)]))
                                    }
                                    (st, None) => { span class={ "status d-" (st.as_str()) } { (label(tr, "c.delivery.", st.as_str())) } }
                                }
                            }
                        }
                    } }
                }
            }
            @if let Some(l) = pending {
                div.pending #pending {
                    h3 { (tr.t("c.pending_title")) }
                    p.small { (tr.t("c.pending_lead")) " " @if let Some(t) = l.submitted_at { (time(t)) } }
                    div.pending-body {
                    figure.photo {
                        img #pending-photo src={ "/orders/" (id) "/enrollment/photo" } alt=(tr.t("c.pending_photo_alt")) width="320";
                    }
                    @if can_act {
                        @let err = refusal.and_then(|r| r.at(Action::Decide));
                        div.decide {
                            form.inline method="post" action={ "/orders/" (id) "/enrollment/approve" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button #approve type="submit" { (tr.t("c.approve")) }
                            }
                            form method="post" action={ "/orders/" (id) "/enrollment/reject" } {
                                input type="hidden" name="csrf" value=(csrf);
                                label for="reject-reason" { (tr.t("c.reject_reason")) }
                                input #reject-reason type="text" name="reason" maxlength="1000" required
                                    value=(refusal.filter(|r| r.action == Action::Decide).map_or("", |r| r.reason.as_str()))
                                    aria-describedby=[err.map(|_| "decide-error")] aria-invalid=[err.map(|_| "true")];
                                @if let Some(e) = err { p.field-error #decide-error role="alert" { (e) } }
                                button.secondary #reject type="submit" { (tr.t("c.reject")) }
                            }
                        }
                    }
                    }
                }
            }
            @if can_act {
                div.enrol-actions {
                    form #enrol-form method="post" action={ "/orders/" (id) "/enrollment" } enctype="multipart/form-data" {
                        input type="hidden" name="csrf" value=(csrf);
                        @let err = refusal.and_then(|r| r.at(Action::Enrol));
                        label for="enrol-photo" { (tr.t("c.reference_photo")) }
                        input #enrol-photo type="file" name="photo" accept="image/jpeg,image/png,image/webp" required
                            aria-describedby=[err.map(|_| "enrol-error")] aria-invalid=[err.map(|_| "true")];
                        p.hint { (tr.t("c.reference_photo_hint")) }
                        @if let Some(e) = err { p.field-error #enrol-error role="alert" { (e) } }
                        button.secondary #enrol-submit type="submit" { (tr.t("c.enrol")) }
                    }
                    @if pending.is_none() {
                        form #link-form method="post" action={ "/orders/" (id) "/enrollment-link" } {
                            input type="hidden" name="csrf" value=(csrf);
                            p.hint { (tr.t("c.send_link_lead")) }
                            @if let Some(e) = refusal.and_then(|r| r.at(Action::Link)) { p.field-error #link-error role="alert" { (e) } }
                            button.secondary #send-link type="submit" { (tr.t("c.send_link")) }
                        }
                    }
                }
            }
        }
    }
}

/// A code's label from the table (`prefix` + code), else the code itself.
fn label(tr: Tr, prefix: &str, code: &str) -> String {
    tr.0.text(&format!("{prefix}{code}"))
        .map_or_else(|| code.replace('_', " "), str::to_owned)
}

// ------------------------------------------------------------ the actions

/// A posted form's fields, read leniently.
fn fields(body: &[u8]) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        m.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    m
}

fn field<'m>(m: &'m HashMap<String, String>, k: &str) -> &'m str {
    m.get(k).map_or("", String::as_str)
}

/// The checks every action makes first: a role that changes orders, this
/// session's CSRF token.
fn refuse(officer: &ConsoleOfficer, csrf: &str) -> Option<Response> {
    if let Some(r) = refuse_write(officer) {
        return Some(r);
    }
    officer.refuse_csrf(csrf)
}

/// An action's refusal: another district's or an unknown order is the 404
/// page (as the API answers), anything else is shown at its form.
async fn refused(
    state: &AppState,
    officer: &ConsoleOfficer,
    id: &str,
    e: ServiceError,
    mut refusal: Refusal,
) -> Response {
    if matches!(e, ServiceError::NotFound { .. }) {
        return failure(officer, e);
    }
    let (status, text) = refusal_text(officer, e);
    refusal.message = text;
    order_page(state, officer, id, None, Some(refusal), status, &[]).await
}

/// `POST /orders/{id}/extend`: a later end, with a reason.
pub async fn extend(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let f = fields(&body);
    if let Some(r) = refuse(&officer, field(&f, "csrf")) {
        return r;
    }
    let actor = officer.as_actor();
    let refusal = Refusal {
        action: Action::Extend,
        message: String::new(),
        ends_at: field(&f, "ends_at").to_owned(),
        reason: field(&f, "reason").to_owned(),
    };
    // The new end is read in the order's zone, as the form shows it.
    let order = match state.load_order_for(&actor, &id).await {
        Ok(o) => o,
        Err(e) => return failure(&officer, e),
    };
    let result = match parse_local(field(&f, "ends_at"), &order.time_zone, "ends_at") {
        Ok(ends_at) => orders::extend(&state, &actor, &id, ends_at, field(&f, "reason")).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => done(&state, &id, Flash::Extended),
        Err(e) => refused(&state, &officer, &id, e, refusal).await,
    }
}

/// `POST /orders/{id}/release`: ends the order early, with a reason.
pub async fn release(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let f = fields(&body);
    if let Some(r) = refuse(&officer, field(&f, "csrf")) {
        return r;
    }
    let reason = field(&f, "reason").trim();
    let refusal = Refusal {
        action: Action::Release,
        message: String::new(),
        ends_at: String::new(),
        reason: reason.to_owned(),
    };
    let result = orders::transition(
        &state,
        &officer.as_actor(),
        &id,
        OrderStatus::Released,
        (!reason.is_empty()).then_some(reason),
    )
    .await;
    match result {
        Ok(_) => done(&state, &id, Flash::Released),
        Err(e) => refused(&state, &officer, &id, e, refusal).await,
    }
}

/// `POST /orders/{id}/enrollment`: a reference photo (multipart, with the
/// CSRF field) becomes the order's enrolment.
pub async fn enrol(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Some(r) = refuse_write(&officer) {
        return r;
    }
    let refusal = Refusal::of(Action::Enrol);
    let parts = match read_parts(form).await {
        Ok(p) => p,
        Err(e) => {
            // Not a form this page sends: the CSRF check cannot even be made.
            let tr = officer.tr;
            let status = e.code().status();
            return super::layout::error_page(tr, Some(&officer.session), status, &e.to_string());
        }
    };
    let csrf = parts
        .iter()
        .find(|p| p.name == "csrf")
        .and_then(|p| std::str::from_utf8(&p.bytes).ok())
        .unwrap_or_default()
        .to_owned();
    if let Some(r) = officer.refuse_csrf(&csrf) {
        return r;
    }
    // An empty file input still sends a part, with no bytes.
    let photo = crate::routes::enrollment::photo_of(parts).filter(|b| !b.is_empty());
    match enrollment::enroll(&state, &officer.as_actor(), &id, photo).await {
        Ok(_) => done(&state, &id, Flash::Enrolled),
        Err(e) => refused(&state, &officer, &id, e, refusal).await,
    }
}

/// A plain action form's fields, and its refusal (role, CSRF) if any.
fn plain_action(
    officer: &ConsoleOfficer,
    body: &[u8],
) -> (HashMap<String, String>, Option<Response>) {
    let f = fields(body);
    let refusal = refuse(officer, field(&f, "csrf"));
    (f, refusal)
}

/// `POST /orders/{id}/enrollment-link`: a self-enrolment link, which the
/// system sends to the person.
pub async fn send_link(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let (_, Some(r)) = plain_action(&officer, &body) {
        return r;
    }
    let refusal = Refusal::of(Action::Link);
    match self_enrollment::create_link(&state, &officer.as_actor(), &id).await {
        // The page shows where the message went (never the token).
        Ok(_) => done(&state, &id, Flash::LinkCreated),
        Err(e) => refused(&state, &officer, &id, e, refusal).await,
    }
}

/// `POST /orders/{id}/enrollment/approve`.
pub async fn approve(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let (_, Some(r)) = plain_action(&officer, &body) {
        return r;
    }
    let refusal = Refusal::of(Action::Decide);
    match self_enrollment::approve(&state, &officer.as_actor(), &id).await {
        Ok(_) => done(&state, &id, Flash::Approved),
        Err(e) => refused(&state, &officer, &id, e, refusal).await,
    }
}

/// `POST /orders/{id}/enrollment/reject`: with a reason.
pub async fn reject(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (f, refusal) = plain_action(&officer, &body);
    if let Some(r) = refusal {
        return r;
    }
    let reason = field(&f, "reason");
    let refusal = Refusal {
        action: Action::Decide,
        message: String::new(),
        ends_at: String::new(),
        reason: reason.to_owned(),
    };
    match self_enrollment::reject(&state, &officer.as_actor(), &id, reason).await {
        Ok(_) => done(&state, &id, Flash::Rejected),
        Err(e) => refused(&state, &officer, &id, e, refusal).await,
    }
}

/// `GET /orders/{id}/enrollment/photo`: the photo of the pending
/// self-enrolment, for the officer deciding on it; never cached.
pub async fn photo(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = refuse_write(&officer) {
        return r;
    }
    match self_enrollment::pending_photo(&state, &officer.as_actor(), &id).await {
        Ok(p) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, p.content_type),
                (header::CACHE_CONTROL, "no-store, private"),
                (header::CONTENT_DISPOSITION, "inline"),
            ],
            Body::from(p.bytes),
        )
            .into_response(),
        Err(e) => super::failure_page(&officer, e, "c.err.no_pending_photo"),
    }
}

// --------------------------------------------------------- the order form

/// The order form's values, as sent (kept when it is shown again).
#[derive(Debug, Clone, Default)]
struct OrderForm {
    person_id: String,
    full_name: String,
    phone: String,
    email: String,
    language: String,
    address: String,
    lat: String,
    lon: String,
    radius_m: String,
    district: String,
    time_zone: String,
    starts_at: String,
    ends_at: String,
    basis: String,
    area: String,
    case_id: String,
    test_id: String,
    status: String,
}

impl OrderForm {
    fn from_fields(f: &HashMap<String, String>) -> Self {
        let g = |k: &str| field(f, k).trim().to_owned();
        OrderForm {
            person_id: g("person_id"),
            full_name: g("full_name"),
            phone: g("phone"),
            email: g("email"),
            language: g("language"),
            address: g("address"),
            lat: g("lat"),
            lon: g("lon"),
            radius_m: g("radius_m"),
            district: g("district"),
            time_zone: g("time_zone"),
            starts_at: g("starts_at"),
            ends_at: g("ends_at"),
            basis: g("basis"),
            area: g("area"),
            case_id: g("case_id"),
            test_id: g("test_id"),
            status: g("status"),
        }
    }
}

/// The form's errors by field (`""` for the form as a whole).
type Errors = Vec<(String, String)>;

fn error_of<'e>(errors: &'e Errors, name: &str) -> Option<&'e str> {
    errors
        .iter()
        .find(|(f, _)| f == name)
        .map(|(_, m)| m.as_str())
}

/// A validation error's field as the form names it.
fn form_field(field: &str) -> &str {
    match field {
        "basis.area" => "area",
        "basis.case_id" => "case_id",
        "basis.test_id" => "test_id",
        other => other,
    }
}

fn push(errors: &mut Errors, e: ValidationError) {
    let name = form_field(&e.field).to_owned();
    if error_of(errors, &name).is_none() {
        errors.push((name, e.reason));
    }
}

/// `GET /orders/new[?person=…]`.
pub async fn new_form(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Some(r) = refuse_write(&officer) {
        return r;
    }
    let person_id = form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "person")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    let now = state.now();
    let tz = TimeZone::default();
    let form = OrderForm {
        person_id,
        radius_m: format!("{DEFAULT_RADIUS_M:.0}"),
        starts_at: local_value(now, &tz),
        ends_at: local_value(now + Duration::days(14), &tz),
        basis: "arrival".into(),
        status: "active".into(),
        language: "en".into(),
        ..OrderForm::default()
    };
    form_page(&state, &officer, &form, &Errors::new(), StatusCode::OK).await
}

/// The form page; the person named by `person_id`, when it is one the
/// officer can see, is shown by name (the read is audited).
async fn form_page(
    state: &AppState,
    officer: &ConsoleOfficer,
    form: &OrderForm,
    errors: &Errors,
    status: StatusCode,
) -> Response {
    let person = if form.person_id.is_empty() {
        None
    } else {
        match persons::read(state, &officer.as_actor(), &form.person_id).await {
            Ok(p) => Some(p),
            Err(ServiceError::NotFound { .. }) => None,
            Err(e) => return failure(officer, e),
        }
    };
    let tr = officer.tr;
    let body = render_form(officer, form, person.as_ref(), errors);
    respond(
        status,
        page(
            tr,
            Some(&officer.session),
            Some(Nav::Orders),
            tr.t("c.new_order"),
            body,
        ),
        &[],
    )
}

fn render_form(
    officer: &ConsoleOfficer,
    v: &OrderForm,
    person: Option<&Person>,
    errors: &Errors,
) -> Markup {
    let tr = officer.tr;
    let registers = officer.session.role.allows(Permission::WritePersons);
    let districts = alerts::filter_districts(&officer.as_actor());
    // One labelled input with its error (described by it) under it.
    let input = |name: &str,
                 key: &'static str,
                 kind: &str,
                 value: &str,
                 required: bool,
                 hint: Option<&'static str>| {
        let err = error_of(errors, name);
        let id = format!("f-{name}");
        let err_id = format!("{id}-error");
        let hint_id = format!("{id}-hint");
        let described: Vec<&str> = [hint.map(|_| hint_id.as_str()), err.map(|_| err_id.as_str())]
            .into_iter()
            .flatten()
            .collect();
        html! {
            div.field {
                label for=(id) { (tr.t(key)) @if !required { " " span.optional { (tr.t("c.optional")) } } }
                input id=(id) type=(kind) name=(name) value=(value) required[required]
                    step=[(kind == "number").then_some("any")]
                    aria-invalid=[err.map(|_| "true")]
                    aria-describedby=[(!described.is_empty()).then(|| described.join(" "))];
                @if let Some(h) = hint { p.hint id=(hint_id) { (tr.t(h)) } }
                @if let Some(e) = err { p.field-error id=(err_id) { (e) } }
            }
        }
    };
    let general = error_of(errors, "");
    let unplaced: Vec<&(String, String)> = errors
        .iter()
        .filter(|(f, _)| !f.is_empty() && !FORM_FIELDS.contains(&f.as_str()))
        .collect();
    html! {
        p.crumbs { a href="/orders" { "← " (tr.t("c.back_to_orders")) } }
        h1 { (tr.t("c.new_order")) }
        @if !errors.is_empty() {
            div.alert.bad role="alert" #form-errors {
                p { (tr.t("c.form_has_errors")) }
                @if let Some(g) = general { p { (g) } }
                @for (f, m) in &unplaced { p { (f) ": " (m) } }
            }
        }
        form.order-form #order-form method="post" action="/orders" novalidate {
            input type="hidden" name="csrf" value=(officer.session.csrf);
            fieldset {
                legend { (tr.t("c.col.person")) }
                @match person {
                    Some(p) => {
                        input type="hidden" name="person_id" value=(p.id.as_str());
                        p #chosen-person { (tr.t("c.order_for")) " " a href={ "/persons/" (p.id.as_str()) } { (p.full_name.as_str()) } " " span.mono.small { "(" (p.id.as_str()) ")" } }
                    }
                    None => {
                        (input("person_id", "c.existing_person", "text", &v.person_id, false, Some(if registers { "c.existing_person_hint" } else { "c.existing_person_only" })))
                        @if registers {
                            div.form-grid {
                                (input("full_name", "c.full_name", "text", &v.full_name, false, None))
                                (input("phone", "c.col.phone", "tel", &v.phone, false, Some("c.phone_hint")))
                                (input("email", "c.email", "email", &v.email, false, None))
                                div.field {
                                    label for="f-language" { (tr.t("c.person_language")) }
                                    select #f-language name="language" {
                                        @for l in crate::pages::Lang::ALL {
                                            option value=(l.code()) selected[v.language == l.code()] lang=(l.code()) { (l.name()) }
                                        }
                                    }
                                    @if let Some(e) = error_of(errors, "language") { p.field-error { (e) } }
                                }
                            }
                        }
                    }
                }
            }
            fieldset {
                legend { (tr.t("c.place")) }
                (input("address", "c.address", "text", &v.address, true, None))
                div.form-grid {
                    (input("lat", "c.lat", "number", &v.lat, true, None))
                    (input("lon", "c.lon", "number", &v.lon, true, None))
                    (input("radius_m", "c.radius_m", "number", &v.radius_m, true, None))
                }
                div.form-grid {
                    div.field {
                        label for="f-district" { (tr.t("c.col.district")) }
                        @if districts.is_empty() {
                            input #f-district type="text" name="district" value=(v.district) maxlength="64"
                                aria-describedby="f-district-hint" aria-invalid=[error_of(errors, "district").map(|_| "true")];
                            p.hint #f-district-hint { (tr.t("c.district_hint_national")) }
                        } @else {
                            select #f-district name="district" aria-invalid=[error_of(errors, "district").map(|_| "true")] {
                                @if districts.len() > 1 { option value="" { (tr.t("c.choose")) } }
                                @for d in &districts {
                                    option value=(d.as_str()) selected[v.district == d.as_str()] { (d.as_str()) }
                                }
                            }
                        }
                        @if let Some(e) = error_of(errors, "district") { p.field-error { (e) } }
                    }
                    (input("time_zone", "c.time_zone", "text", &v.time_zone, false, Some("c.time_zone_hint")))
                }
            }
            fieldset {
                legend { (tr.t("c.period")) }
                div.form-grid {
                    (input("starts_at", "c.starts", "datetime-local", &v.starts_at, true, None))
                    (input("ends_at", "c.ends", "datetime-local", &v.ends_at, true, None))
                }
                p.hint { (tr.t("c.period_hint")) }
                div.field {
                    label for="f-status" { (tr.t("c.col.status")) }
                    select #f-status name="status" {
                        option value="active" selected[v.status != "proposed"] { (tr.t("c.order_status.active")) }
                        option value="proposed" selected[v.status == "proposed"] { (tr.t("c.order_status.proposed")) }
                    }
                }
            }
            fieldset {
                legend { (tr.t("c.bases")) }
                div.field {
                    label for="f-basis" { (tr.t("c.basis_kind")) }
                    select #f-basis name="basis" {
                        option value="arrival" selected[v.basis == "arrival"] { (tr.t("c.basis.arrival")) }
                        option value="contact" selected[v.basis == "contact"] { (tr.t("c.basis.contact")) }
                        option value="positive_test" selected[v.basis == "positive_test"] { (tr.t("c.basis.positive_test")) }
                    }
                }
                div.form-grid {
                    (input("area", "c.basis_area", "text", &v.area, false, Some("c.basis_area_hint")))
                    (input("case_id", "c.basis_case", "text", &v.case_id, false, Some("c.basis_case_hint")))
                    (input("test_id", "c.basis_test", "text", &v.test_id, false, Some("c.basis_test_hint")))
                }
            }
            button #create-order type="submit" { (tr.t("c.create_order")) }
        }
    }
}

/// The fields the form shows an error at.
const FORM_FIELDS: [&str; 17] = [
    "person_id",
    "full_name",
    "phone",
    "email",
    "language",
    "address",
    "lat",
    "lon",
    "radius_m",
    "district",
    "time_zone",
    "starts_at",
    "ends_at",
    "area",
    "case_id",
    "test_id",
    "status",
];

/// The order of the form, parsed; every field checked, so the form shows
/// all its errors at once.
struct Parsed {
    new_person: Option<Person>,
    district: Option<District>,
    order: Option<orders::NewOrder>,
}

/// The value, or its error noted.
fn ok<T>(r: Result<T, ValidationError>, errors: &mut Errors) -> Option<T> {
    match r {
        Ok(x) => Some(x),
        Err(e) => {
            push(errors, e);
            None
        }
    }
}

fn parse_form(v: &OrderForm, errors: &mut Errors) -> Parsed {
    // Who: an existing person by id, else a new one.
    let new_person = if v.person_id.is_empty() {
        let name = ok(FullName::parse(&v.full_name), errors);
        let phone = ok(
            (!v.phone.is_empty())
                .then(|| Phone::parse(&v.phone))
                .transpose(),
            errors,
        );
        let email = ok(
            (!v.email.is_empty())
                .then(|| Email::parse(&v.email))
                .transpose(),
            errors,
        );
        let language = ok(
            Language::parse(if v.language.is_empty() {
                "en"
            } else {
                &v.language
            }),
            errors,
        );
        match (name, phone, email, language) {
            (Some(full_name), Some(phone), Some(email), Some(language)) => Some(Person {
                id: PersonId::generate(),
                full_name,
                phone,
                email,
                language,
                district: District::unassigned(),
            }),
            _ => None,
        }
    } else {
        None
    };
    let person_id = if v.person_id.is_empty() {
        new_person.as_ref().map(|p| p.id.clone())
    } else {
        ok(PersonId::parse(&v.person_id), errors)
    };
    let number = |raw: &str, name: &str, errors: &mut Errors| -> Option<f64> {
        match raw.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Some(x),
            _ => {
                push(errors, ValidationError::new(name, "must be a number"));
                None
            }
        }
    };
    let address = ok(Address::parse(&v.address), errors);
    let lat = number(&v.lat, "lat", errors);
    let lon = number(&v.lon, "lon", errors);
    let radius = if v.radius_m.is_empty() {
        Some(DEFAULT_RADIUS_M)
    } else {
        number(&v.radius_m, "radius_m", errors)
    };
    let center = match (lat, lon) {
        (Some(lat), Some(lon)) => ok(Coordinates::new(lat, lon), errors),
        _ => None,
    };
    let geofence = match (center, radius) {
        (Some(c), Some(r)) => ok(Geofence::new(c, r), errors),
        _ => None,
    };
    // The zone: the one named, else the one of the coordinates.
    let time_zone = if v.time_zone.is_empty() {
        center.map(|c| lazaret_core::zone_lookup::order_time_zone(Some(&c), TimeZone::default()))
    } else {
        ok(TimeZone::parse(&v.time_zone), errors)
    };
    let district = if v.district.is_empty() {
        None
    } else {
        ok(District::parse(&v.district), errors)
    };
    let (starts_at, ends_at) = match &time_zone {
        Some(tz) => (
            ok(parse_local(&v.starts_at, tz, "starts_at"), errors),
            ok(parse_local(&v.ends_at, tz, "ends_at"), errors),
        ),
        None => (None, None),
    };
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        ok(lazaret_core::order::validate_period(s, e), errors);
    }
    let basis = match v.basis.as_str() {
        "contact" => Basis::Contact {
            case_id: Some(v.case_id.clone()).filter(|s| !s.is_empty()),
            test_id: Some(v.test_id.clone()).filter(|s| !s.is_empty()),
        },
        "positive_test" => Basis::PositiveTest {
            test_id: Some(v.test_id.clone()).filter(|s| !s.is_empty()),
        },
        _ => Basis::Arrival {
            area: v.area.clone(),
        },
    };
    let basis = match basis.parse() {
        Ok(b) => Some(b),
        Err(ApiError::Validation(e)) => {
            push(errors, e);
            None
        }
        Err(other) => {
            push(errors, ValidationError::new("", other.to_string()));
            None
        }
    };
    let status = if v.status == "proposed" {
        OrderStatus::Proposed
    } else {
        OrderStatus::Active
    };
    let order = match (
        person_id, address, geofence, time_zone, starts_at, ends_at, basis,
    ) {
        (
            Some(person_id),
            Some(address),
            Some(geofence),
            Some(time_zone),
            Some(starts_at),
            Some(ends_at),
            Some(basis),
        ) if errors.is_empty() => Some(orders::NewOrder {
            person_id,
            address,
            geofence,
            starts_at,
            ends_at,
            time_zone,
            basis,
            status,
            district: district.clone(),
        }),
        _ => None,
    };
    Parsed {
        new_person,
        district,
        order,
    }
}

/// A service's refusal as the form's errors.
fn service_errors(officer: &ConsoleOfficer, e: ServiceError, errors: &mut Errors) -> StatusCode {
    match e {
        ServiceError::Invalid(v) | ServiceError::Domain(DomainError::Invalid(v)) => {
            push(errors, v);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ServiceError::MissingReference {
            entity: "person",
            id,
        } => {
            push(
                errors,
                ValidationError::new(
                    "person_id",
                    format!("no person {id} among those you can see"),
                ),
            );
            StatusCode::UNPROCESSABLE_ENTITY
        }
        other => {
            let (status, text) = refusal_text(officer, other);
            errors.push((String::new(), text));
            status
        }
    }
}

/// `POST /orders`: registers a new person if the form names none, then
/// creates the order (or folds it into the person's active one), through
/// the calls of `POST /api/v1/persons` and `POST /api/v1/orders`.
pub async fn create(
    State(state): State<AppState>,
    officer: ConsoleOfficer,
    body: Bytes,
) -> Response {
    let f = fields(&body);
    if let Some(r) = refuse(&officer, field(&f, "csrf")) {
        return r;
    }
    let mut form = OrderForm::from_fields(&f);
    let mut errors = Errors::new();
    if form.person_id.is_empty() && !officer.session.role.allows(Permission::WritePersons) {
        push(
            &mut errors,
            ValidationError::new(
                "person_id",
                "is required: your role does not register persons",
            ),
        );
    }
    let parsed = parse_form(&form, &mut errors);
    let actor = officer.as_actor();
    let Some(mut new) = parsed.order.filter(|_| errors.is_empty()) else {
        return form_page(
            &state,
            &officer,
            &form,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    // The district is checked before anyone is registered.
    if let Some(d) = &parsed.district {
        if !actor.districts().covers(d) {
            push(
                &mut errors,
                ValidationError::new("district", format!("{d} is not one of your districts")),
            );
            return form_page(
                &state,
                &officer,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    }
    if let Some(p) = parsed.new_person {
        match persons::register(&state, &actor, p, parsed.district.clone()).await {
            Ok(p) => {
                // From here the form names the registered person: sent
                // again, it does not register them twice.
                form.person_id = p.id.to_string();
                new.person_id = p.id;
            }
            Err(e) => {
                let status = service_errors(&officer, e, &mut errors);
                return form_page(&state, &officer, &form, &errors, status).await;
            }
        }
    }
    match orders::create_or_extend(&state, &actor, new).await {
        Ok(w) => {
            let flash = match w.write {
                OrderWrite::Created => Flash::Created,
                OrderWrite::Extended => Flash::ExtendedExisting,
                OrderWrite::Unchanged => Flash::Unchanged,
            };
            done(&state, w.order.id.as_str(), flash)
        }
        Err(e) => {
            let status = service_errors(&officer, e, &mut errors);
            form_page(&state, &officer, &form, &errors, status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_query_round_trips() {
        let q = ListQuery::parse("status=active&cursor=abc");
        assert_eq!(q.status, Some(OrderStatus::Active));
        assert_eq!(q.cursor.as_deref(), Some("abc"));
        assert_eq!(q.url(Some("abc")), "/orders?status=active&cursor=abc");
        assert_eq!(q.filter_query(), "status=active");
        assert_eq!(ListQuery::parse("status=nonsense").status, None);
        assert_eq!(ListQuery::default().url(None), "/orders?");
    }

    #[test]
    fn recipients_are_masked() {
        assert_eq!(masked("+41790000012"), "+41…12");
        assert_eq!(masked("ana.lima@example.org"), "a…@example.org");
        assert_eq!(masked("+4179"), "…");
    }

    #[test]
    fn local_times_are_read_in_the_orders_zone() {
        let tz = TimeZone::parse("Europe/Zurich").unwrap();
        let t = parse_local("2026-03-24T18:00", &tz, "ends_at").unwrap();
        assert_eq!(t, "2026-03-24T17:00:00Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(local_value(t, &tz), "2026-03-24T18:00");
        assert_eq!(
            parse_local("tomorrow", &tz, "ends_at").unwrap_err().field,
            "ends_at"
        );
    }

    #[test]
    fn flashes_round_trip() {
        for f in Flash::ALL {
            assert_eq!(Flash::decode(f.code()), Some(f));
        }
        assert_eq!(Flash::decode("x"), None);
    }

    #[test]
    fn every_form_field_has_its_error_place() {
        let mut errors = Errors::new();
        let form = OrderForm {
            full_name: " ".into(),
            phone: "0790000000".into(),
            lat: "91".into(),
            lon: "x".into(),
            radius_m: "100".into(),
            starts_at: "2026-03-10T09:00".into(),
            ends_at: "2026-03-09T09:00".into(),
            time_zone: "Mars/Olympus".into(),
            basis: "arrival".into(),
            ..OrderForm::default()
        };
        let parsed = parse_form(&form, &mut errors);
        assert!(parsed.order.is_none());
        for f in ["full_name", "phone", "address", "lon", "time_zone", "area"] {
            assert!(error_of(&errors, f).is_some(), "{f}: {errors:?}");
        }
        assert!(
            errors
                .iter()
                .all(|(f, _)| FORM_FIELDS.contains(&f.as_str())),
            "{errors:?}"
        );
    }
}
