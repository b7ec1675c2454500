//! The route × role × district matrix. Every route of the router has one
//! entry in [`table`]: who reaches it (the roles that may call it, or a
//! route that takes no officer), and, for a route on one record, that an
//! officer of the other district gets 404 (never 403: no existence leak).
//! The API routes are read from the OpenAPI document, so a new route without
//! an entry fails [`every_route_has_an_entry`]; the routes outside it (the
//! OpenAPI document itself, the person's pages and their assets) are listed
//! in [`NON_API`] and probed.
//!
//! Two districts, `north` and `south`, one officer of each role in each.
//! Each role of north calls each route on north's records: a role not listed
//! gets 403, a listed one anything but 401/403/404 (the request may still be
//! refused for what it asks, 409 or 422: the matrix is about who, not what).
//! For a record route, the listed roles of south then call it on north's
//! record and get 404. To add a route, add a row to `table`; a route
//! outside the OpenAPI document (e.g. the console's `/login`) also goes into
//! `NON_API`, as axum cannot list a router's routes.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use lazaret_core::alert::AlertKind;
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::{AlertId, OrderId, PersonId};
use lazaret_core::user::Role;
use lazaret_server::App;
use lazaret_store::testing::TestDb;
use lazaret_store::{backends, ImportKind, ImportOptions, NewAlert};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{self, t0, TestClock};

use Role::{Admin, Analyst, Auditor, ComplianceOfficer as Compliance, Investigator};

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    /// No officer credential: health, the person's own routes (their link's
    /// token is the credential) and pages.
    Public,
    /// Officers of these roles; the others get 403.
    Roles(&'static [Role]),
    /// The console's own routes: the credential is a session cookie (made
    /// by the login form), never a bearer token. Without a session the
    /// route answers this status whatever token of whatever role is sent
    /// (what a signed-in session may do is the login tests' subject).
    Console(StatusCode),
}

/// What the route acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One record named in the path: another district's officer gets 404.
    Record,
    /// Creates, lists or reads across records (lists are checked apart).
    Collection,
}

/// The request body a route is sent.
#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(Value),
    Csv(&'static str),
    Form(&'static [(&'static str, &'static str)]),
    Multipart,
}

pub struct Entry {
    pub method: Method,
    /// As in the OpenAPI document (`{id}` placeholders).
    pub path: &'static str,
    pub access: Access,
    pub scope: Scope,
    pub body: Body,
}

fn entry(method: Method, path: &'static str, access: Access, scope: Scope, body: Body) -> Entry {
    Entry {
        method,
        path,
        access,
        scope,
        body,
    }
}

const READ_ORDERS: &[Role] = &[Investigator, Compliance];
const WRITE_ORDERS: &[Role] = &[Investigator, Compliance];
const WORK_ALERTS: &[Role] = &[Investigator, Compliance];
const INVESTIGATOR: &[Role] = &[Investigator];

/// The table: one entry per route of the router.
pub fn table() -> Vec<Entry> {
    use Access::{Console, Public, Roles};
    use Scope::{Collection, Record};
    let none = || Body::None;
    let j = Body::Json;
    vec![
        entry(Method::GET, "/healthz", Public, Collection, none()),
        // Persons.
        entry(
            Method::POST,
            "/api/v1/persons",
            Roles(INVESTIGATOR),
            Collection,
            j(json!({"full_name": "Matrix Person"})),
        ),
        entry(
            Method::GET,
            "/api/v1/persons",
            Roles(READ_ORDERS),
            Collection,
            none(),
        ),
        entry(
            Method::GET,
            "/api/v1/persons/{id}",
            Roles(READ_ORDERS),
            Record,
            none(),
        ),
        entry(
            Method::PATCH,
            "/api/v1/persons/{id}",
            Roles(INVESTIGATOR),
            Record,
            j(json!({"language": "en"})),
        ),
        entry(
            Method::GET,
            "/api/v1/persons/{id}/export",
            Roles(INVESTIGATOR),
            Record,
            none(),
        ),
        // Orders.
        entry(
            Method::POST,
            "/api/v1/orders",
            Roles(WRITE_ORDERS),
            Collection,
            j(
                json!({"person_id": "N-P", "address": "Nordstrasse 1", "lat": 47.4, "lon": 8.5,
                     "starts_at": t0() - Duration::hours(1), "ends_at": t0() + Duration::days(10),
                     "basis": {"kind": "arrival", "area": "X"}}),
            ),
        ),
        entry(
            Method::GET,
            "/api/v1/orders",
            Roles(READ_ORDERS),
            Collection,
            none(),
        ),
        entry(
            Method::GET,
            "/api/v1/orders/{id}",
            Roles(READ_ORDERS),
            Record,
            none(),
        ),
        // active → active is refused (409): the order is not changed.
        entry(
            Method::POST,
            "/api/v1/orders/{id}/transitions",
            Roles(WRITE_ORDERS),
            Record,
            j(json!({"to": "active"})),
        ),
        // Too far ahead (422): the order is not changed.
        entry(
            Method::POST,
            "/api/v1/orders/{id}/extend",
            Roles(WRITE_ORDERS),
            Record,
            j(json!({"ends_at": t0() + Duration::days(400), "reason": "matrix"})),
        ),
        entry(
            Method::POST,
            "/api/v1/orders/bulk",
            Roles(WRITE_ORDERS),
            Collection,
            Body::Csv("person_id,address,lat,lon,radius_m,starts_at,ends_at,basis,time_zone\n"),
        ),
        // Check-ins and enrolment.
        entry(
            Method::POST,
            "/api/v1/orders/{id}/enrollment",
            Roles(WRITE_ORDERS),
            Record,
            Body::Multipart,
        ),
        entry(
            Method::POST,
            "/api/v1/orders/{id}/prompts",
            Roles(WRITE_ORDERS),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/api/v1/orders/{id}/enrollment-link",
            Roles(WRITE_ORDERS),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/api/v1/orders/{id}/enrollment/approve",
            Roles(WRITE_ORDERS),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/api/v1/orders/{id}/enrollment/reject",
            Roles(WRITE_ORDERS),
            Record,
            j(json!({"reason": "matrix"})),
        ),
        entry(
            Method::POST,
            "/api/v1/enrollment",
            Public,
            Collection,
            Body::Multipart,
        ),
        entry(
            Method::POST,
            "/api/v1/enrollment/link",
            Public,
            Collection,
            j(json!({"token": "lze_nothing"})),
        ),
        entry(
            Method::POST,
            "/api/v1/checkins",
            Public,
            Collection,
            Body::Multipart,
        ),
        entry(
            Method::POST,
            "/api/v1/checkins/prompt",
            Public,
            Collection,
            j(json!({"token": "lzp_nothing"})),
        ),
        // Health data: symptoms.
        entry(
            Method::POST,
            "/api/v1/orders/{id}/symptom-forms",
            Roles(INVESTIGATOR),
            Record,
            none(),
        ),
        entry(
            Method::GET,
            "/api/v1/orders/{id}/symptom-reports",
            Roles(INVESTIGATOR),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/api/v1/symptom-reports",
            Public,
            Collection,
            j(json!({"token": "lzs_nothing", "symptoms": ["none"]})),
        ),
        entry(
            Method::POST,
            "/api/v1/symptom-reports/form",
            Public,
            Collection,
            j(json!({"token": "lzs_nothing"})),
        ),
        // The person's own data: any of their links is the credential.
        entry(
            Method::POST,
            "/api/v1/my-data",
            Public,
            Collection,
            j(json!({"token": "lzp_nothing"})),
        ),
        // Alerts (a compliance alert: the compliance officer works it).
        entry(
            Method::GET,
            "/api/v1/alerts",
            Roles(WORK_ALERTS),
            Collection,
            none(),
        ),
        entry(
            Method::GET,
            "/api/v1/alerts/{id}",
            Roles(WORK_ALERTS),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/api/v1/alerts/{id}/assign",
            Roles(WORK_ALERTS),
            Record,
            j(json!({})),
        ),
        // An empty reason is refused (422): the alert stays open.
        entry(
            Method::POST,
            "/api/v1/alerts/{id}/resolve",
            Roles(WORK_ALERTS),
            Record,
            j(json!({"reason": " "})),
        ),
        // Tracing.
        entry(
            Method::POST,
            "/api/v1/cases/{person_id}/trace",
            Roles(INVESTIGATOR),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/api/v1/cases/{person_id}/orders/propose",
            Roles(INVESTIGATOR),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/api/v1/cases/{person_id}/orders/issue",
            Roles(INVESTIGATOR),
            Record,
            none(),
        ),
        // Positive again: refused (422), nothing revised.
        entry(
            Method::POST,
            "/api/v1/tests/{test_id}/revisions",
            Roles(INVESTIGATOR),
            Record,
            j(json!({"result": "positive", "reason": "matrix"})),
        ),
        // Follow-up and lab results.
        entry(
            Method::GET,
            "/api/v1/cases/{person_id}/contacts",
            Roles(INVESTIGATOR),
            Record,
            none(),
        ),
        // Outside the case's window: refused (422), nothing named.
        entry(
            Method::POST,
            "/api/v1/cases/{person_id}/contacts",
            Roles(INVESTIGATOR),
            Record,
            j(json!({"person_id": "NOBODY", "setting": "social",
                     "last_exposure": "2025-01-01T00:00:00Z"})),
        ),
        entry(
            Method::GET,
            "/api/v1/follow-ups",
            Roles(INVESTIGATOR),
            Collection,
            none(),
        ),
        entry(
            Method::GET,
            "/api/v1/follow-ups/{id}",
            Roles(INVESTIGATOR),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/api/v1/follow-ups/{id}/calls",
            Roles(INVESTIGATOR),
            Record,
            j(json!({"outcome": "no_answer"})),
        ),
        entry(
            Method::POST,
            "/api/v1/follow-ups/{id}/assign",
            Roles(INVESTIGATOR),
            Record,
            j(json!({"assignee": null})),
        ),
        // A case's follow-up takes no address (422).
        entry(
            Method::POST,
            "/api/v1/follow-ups/{id}/address",
            Roles(INVESTIGATOR),
            Record,
            j(json!({"address": "Hotel", "lat": 47.0, "lon": 8.5})),
        ),
        // A case's follow-up gets no exposure notice and is no suspected contact (422).
        entry(
            Method::POST,
            "/api/v1/follow-ups/{id}/notice",
            Roles(INVESTIGATOR),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/api/v1/follow-ups/{id}/suspected",
            Roles(INVESTIGATOR),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/api/v1/cases/{person_id}/notices",
            Roles(INVESTIGATOR),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/api/v1/tests",
            Roles(INVESTIGATOR),
            Collection,
            j(json!({"test_id": "T-MATRIX", "person_id": "N-P",
                     "sampled_at": "2026-02-27T00:00:00Z", "result": "negative", "lab": "Lab"})),
        ),
        // A bundle with nothing understood: refused entry by entry (422).
        entry(
            Method::POST,
            "/api/v1/fhir",
            Roles(INVESTIGATOR),
            Collection,
            j(json!({"resourceType": "Bundle", "type": "collection",
                     "entry": [{"resource": {"resourceType": "Condition"}}]})),
        ),
        entry(
            Method::GET,
            "/api/v1/chains",
            Roles(INVESTIGATOR),
            Collection,
            none(),
        ),
        // Aggregates and the audit log.
        entry(
            Method::GET,
            "/api/v1/stats",
            Roles(&[Analyst]),
            Collection,
            none(),
        ),
        entry(
            Method::GET,
            "/api/v1/audit",
            Roles(&[Auditor]),
            Collection,
            none(),
        ),
        // Surveillance exports (tests/it/exports.rs).
        entry(
            Method::GET,
            "/api/v1/exports/cases",
            Roles(&[Analyst]),
            Collection,
            none(),
        ),
        entry(
            Method::GET,
            "/api/v1/exports/contacts",
            Roles(&[Analyst]),
            Collection,
            none(),
        ),
        // Outside the OpenAPI document.
        entry(
            Method::GET,
            "/api/v1/openapi.json",
            Roles(&[Admin, Investigator, Compliance, Analyst, Auditor]),
            Collection,
            none(),
        ),
        entry(Method::GET, "/checkin", Public, Collection, none()),
        entry(Method::GET, "/symptoms", Public, Collection, none()),
        entry(Method::GET, "/enroll", Public, Collection, none()),
        entry(Method::GET, "/my-data", Public, Collection, none()),
        entry(Method::GET, "/assets/{name}", Public, Collection, none()),
        // The console: the login form, and what needs a session.
        entry(
            Method::GET,
            "/login",
            Console(StatusCode::OK),
            Collection,
            none(),
        ),
        // No CSRF value: refused before the password is looked at.
        entry(
            Method::POST,
            "/login",
            Console(StatusCode::FORBIDDEN),
            Collection,
            Body::Form(&[("username", "north-admin"), ("password", "x")]),
        ),
        // No session: sent to the login form.
        entry(
            Method::GET,
            "/account",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        entry(
            Method::POST,
            "/logout",
            Console(StatusCode::SEE_OTHER),
            Collection,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/account/language",
            Console(StatusCode::SEE_OTHER),
            Collection,
            Body::Form(&[("csrf", "x"), ("language", "ru")]),
        ),
        // `/` sends to the queue or, without a session, to the login form.
        entry(
            Method::GET,
            "/",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        // The alert queue and its actions (what a session may do there is
        // tests/it/console.rs's subject, district scoping included).
        entry(
            Method::GET,
            "/alerts",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        entry(
            Method::POST,
            "/alerts/bulk",
            Console(StatusCode::SEE_OTHER),
            Collection,
            Body::Form(&[("csrf", "x"), ("action", "assign")]),
        ),
        entry(
            Method::GET,
            "/alerts/{id}",
            Console(StatusCode::SEE_OTHER),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/alerts/{id}/assign",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/alerts/{id}/resolve",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x"), ("outcome", "visited")]),
        ),
        // The persons list and the person page (district scoping and the
        // health rule: tests/it/console.rs).
        entry(
            Method::GET,
            "/persons",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        entry(
            Method::GET,
            "/persons/{id}",
            Console(StatusCode::SEE_OTHER),
            Record,
            none(),
        ),
        // Cases and chains (district scoping, the Trace role and CSRF:
        // tests/it/console_cases.rs).
        entry(
            Method::GET,
            "/cases",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        entry(
            Method::GET,
            "/cases/{id}",
            Console(StatusCode::SEE_OTHER),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/cases/{id}/trace",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/cases/{id}/contacts",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::GET,
            "/follow-ups",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        entry(
            Method::GET,
            "/follow-ups/{id}",
            Console(StatusCode::SEE_OTHER),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/follow-ups/{id}/calls",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/follow-ups/{id}/assign",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/follow-ups/{id}/address",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/follow-ups/{id}/notice",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/follow-ups/{id}/suspected",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/cases/{id}/notices",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/cases/{id}/orders/preview",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/cases/{id}/orders/issue",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x"), ("fingerprint", "x")]),
        ),
        entry(
            Method::POST,
            "/cases/{id}/revision/preview",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[
                ("csrf", "x"),
                ("test", "x"),
                ("result", "negative"),
                ("reason", "x"),
            ]),
        ),
        entry(
            Method::POST,
            "/cases/{id}/revision",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[
                ("csrf", "x"),
                ("test", "x"),
                ("result", "negative"),
                ("reason", "x"),
            ]),
        ),
        entry(
            Method::GET,
            "/chains",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        entry(
            Method::GET,
            "/chains.svg",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        // The orders, the order form and the order page's actions (what a
        // session may do there: tests/it/console_orders.rs).
        entry(
            Method::GET,
            "/orders",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        entry(
            Method::POST,
            "/orders",
            Console(StatusCode::SEE_OTHER),
            Collection,
            Body::Form(&[("csrf", "x"), ("address", "Main St 1")]),
        ),
        entry(
            Method::GET,
            "/orders/new",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        entry(
            Method::GET,
            "/orders/{id}",
            Console(StatusCode::SEE_OTHER),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/orders/{id}/extend",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x"), ("reason", "x")]),
        ),
        entry(
            Method::POST,
            "/orders/{id}/release",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x"), ("reason", "x")]),
        ),
        entry(
            Method::POST,
            "/orders/{id}/enrollment",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/orders/{id}/enrollment-link",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/orders/{id}/enrollment/approve",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/orders/{id}/enrollment/reject",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x"), ("reason", "x")]),
        ),
        entry(
            Method::GET,
            "/orders/{id}/enrollment/photo",
            Console(StatusCode::SEE_OTHER),
            Record,
            none(),
        ),
        // The imports: upload and history, an import's page, its commit
        // (roles, districts and CSRF: tests/it/console_imports.rs).
        entry(
            Method::GET,
            "/imports",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        entry(
            Method::POST,
            "/imports",
            Console(StatusCode::SEE_OTHER),
            Collection,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::GET,
            "/imports/{id}",
            Console(StatusCode::SEE_OTHER),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/imports/{id}/commit",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        // The accounts pages, administrators only (tests/it/console_imports.rs).
        entry(
            Method::GET,
            "/users",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        entry(
            Method::POST,
            "/users",
            Console(StatusCode::SEE_OTHER),
            Collection,
            Body::Form(&[
                ("csrf", "x"),
                ("username", "x"),
                ("role", "analyst"),
                ("districts", "north"),
            ]),
        ),
        entry(
            Method::GET,
            "/users/{name}",
            Console(StatusCode::SEE_OTHER),
            Record,
            none(),
        ),
        entry(
            Method::POST,
            "/users/{name}/disable",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/users/{name}/unlock",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/users/{name}/password",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/users/{name}/districts",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/users/{name}/tokens",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        entry(
            Method::POST,
            "/users/{name}/tokens/{id}/revoke",
            Console(StatusCode::SEE_OTHER),
            Record,
            Body::Form(&[("csrf", "x")]),
        ),
        // The surveillance exports' page and download (roles, districts and
        // the file: tests/it/console_exports.rs).
        entry(
            Method::GET,
            "/exports",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        entry(
            Method::GET,
            "/exports/file",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        // The overview (roles and districts: tests/it/console_overview.rs).
        entry(
            Method::GET,
            "/overview",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
        // The what-if simulation (roles and results: tests/it/console_what_if.rs).
        entry(
            Method::GET,
            "/what-if",
            Console(StatusCode::SEE_OTHER),
            Collection,
            none(),
        ),
    ]
}

/// The routes the router serves outside the OpenAPI document (`lib.rs`:
/// the document itself; `pages::routes`: the pages and their assets).
const NON_API: &[&str] = &[
    "GET /api/v1/openapi.json",
    "GET /checkin",
    "GET /symptoms",
    "GET /enroll",
    "GET /my-data",
    "GET /assets/{name}",
    "GET /login",
    "POST /login",
    "GET /account",
    "POST /logout",
    "POST /account/language",
    "GET /",
    "GET /alerts",
    "POST /alerts/bulk",
    "GET /alerts/{id}",
    "POST /alerts/{id}/assign",
    "POST /alerts/{id}/resolve",
    "GET /persons",
    "GET /persons/{id}",
    "GET /overview",
    "GET /exports",
    "GET /exports/file",
    "GET /what-if",
    "GET /imports",
    "POST /imports",
    "GET /imports/{id}",
    "POST /imports/{id}/commit",
    "GET /users",
    "POST /users",
    "GET /users/{name}",
    "POST /users/{name}/disable",
    "POST /users/{name}/unlock",
    "POST /users/{name}/password",
    "POST /users/{name}/districts",
    "POST /users/{name}/tokens",
    "POST /users/{name}/tokens/{id}/revoke",
    "GET /orders",
    "POST /orders",
    "GET /orders/new",
    "GET /orders/{id}",
    "POST /orders/{id}/extend",
    "POST /orders/{id}/release",
    "POST /orders/{id}/enrollment",
    "POST /orders/{id}/enrollment-link",
    "POST /orders/{id}/enrollment/approve",
    "POST /orders/{id}/enrollment/reject",
    "GET /orders/{id}/enrollment/photo",
    "GET /cases",
    "GET /cases/{id}",
    "POST /cases/{id}/trace",
    "POST /cases/{id}/contacts",
    "GET /follow-ups",
    "GET /follow-ups/{id}",
    "POST /follow-ups/{id}/calls",
    "POST /follow-ups/{id}/assign",
    "POST /follow-ups/{id}/address",
    "POST /follow-ups/{id}/notice",
    "POST /follow-ups/{id}/suspected",
    "POST /cases/{id}/notices",
    "POST /cases/{id}/orders/preview",
    "POST /cases/{id}/orders/issue",
    "POST /cases/{id}/revision/preview",
    "POST /cases/{id}/revision",
    "GET /chains",
    "GET /chains.svg",
];

fn key(method: &Method, path: &str) -> String {
    format!("{method} {path}")
}

#[test]
fn every_route_has_an_entry() {
    let doc = serde_json::to_value(lazaret_server::openapi()).unwrap();
    let mut routes: Vec<String> = NON_API.iter().map(|s| (*s).to_owned()).collect();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                routes.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let table: Vec<String> = table().iter().map(|e| key(&e.method, e.path)).collect();
    for r in &routes {
        assert_eq!(
            table.iter().filter(|t| *t == r).count(),
            1,
            "route {r} needs exactly one entry in the matrix table"
        );
    }
    for t in &table {
        assert!(
            routes.contains(t),
            "the table lists {t}, which the router does not serve"
        );
    }
    assert!(routes.len() >= 40, "{routes:?}");
}

/// The records each district holds.
struct Fixture {
    person: String,
    order: String,
    alert: String,
    health_alert: String,
    test: String,
    follow_up: String,
}

pub struct World {
    pub base: String,
    client: Client,
    /// `(district, role) → token`
    tokens: Vec<((&'static str, Role), String)>,
    north: Fixture,
    south: Fixture,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl World {
    pub fn token(&self, district: &str, role: Role) -> &str {
        &self
            .tokens
            .iter()
            .find(|((d, r), _)| *d == district && *r == role)
            .expect("a token per district and role")
            .1
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Body,
    ) -> (StatusCode, Value) {
        let mut r = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r = match body {
            Body::None => r,
            Body::Json(v) => r.json(v),
            Body::Csv(text) => r.header("content-type", "text/csv").body(*text),
            Body::Form(fields) => r.form(fields),
            Body::Multipart => r.multipart(Form::new().text("token", "lzx_nothing").part(
                "photo",
                Part::bytes(vec![0xff, 0xd8, 0xff]).file_name("p.jpg"),
            )),
        };
        let r = r.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str, district: &str, role: Role) -> (StatusCode, Value) {
        self.send(
            Method::GET,
            path,
            Some(self.token(district, role)),
            &Body::None,
        )
        .await
    }

    pub async fn post(
        &self,
        path: &str,
        district: &str,
        role: Role,
        body: Value,
    ) -> (StatusCode, Value) {
        let token = self.token(district, role).to_owned();
        self.send(Method::POST, path, Some(&token), &Body::Json(body))
            .await
    }

    pub fn north_order(&self) -> &str {
        &self.north.order
    }

    pub fn south_order(&self) -> &str {
        &self.south.order
    }

    pub fn north_alerts(&self) -> [&str; 2] {
        [&self.north.alert, &self.north.health_alert]
    }

    pub fn south_ids(&self) -> [&str; 4] {
        [
            &self.south.person,
            &self.south.order,
            &self.south.alert,
            &self.south.health_alert,
        ]
    }

    pub fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// Two districts with a person (a case with a positive test), an active
/// order, a compliance alert and a health alert each, and one officer of
/// every role in each district.
pub async fn world(db: &TestDb) -> World {
    let store = db.store.clone();
    let mut tokens = Vec::new();
    for d in ["north", "south"] {
        for role in Role::ALL {
            let scope = DistrictScope::parse(d).unwrap();
            let (_, t) =
                lazaret_server::auth::create_token_in(&store, role, &scope, "m", "t", t0())
                    .await
                    .unwrap();
            tokens.push(((d, role), t));
        }
    }
    let clock = Arc::new(TestClock(Mutex::new(t0())));
    let app = App::builder(support::config(), store.clone())
        .clock(clock)
        .unannounced()
        .build()
        .unwrap();
    let (listener, base) = support::bind_local().await;
    let stop = support::spawn_server(listener, &app);
    let mut w = World {
        base,
        client: Client::new(),
        tokens,
        north: fixture_ids("N"),
        south: fixture_ids("S"),
        stop: Some(stop),
    };
    let tests = "test_id,person_id,sampled_at,result,lab,symptom_onset\n\
                 T-N,N-P,2026-02-27T00:00:00Z,positive,Lab,\n\
                 T-S,S-P,2026-02-27T00:00:00Z,positive,Lab,\n";
    for (d, short) in [("north", "N"), ("south", "S")] {
        let (s, p) = w
            .post(
                "/api/v1/persons",
                d,
                Investigator,
                json!({"id": format!("{short}-P"), "full_name": format!("{d} case")}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        assert_eq!(p["district"], d, "the sole district is the default");
        let (s, o) = w
            .post(
                "/api/v1/orders",
                d,
                Investigator,
                order_body(&format!("{short}-P")),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{o}");
        assert_eq!(o["district"], d);
        let order = o["id"].as_str().unwrap().to_owned();
        let mut alerts = Vec::new();
        for kind in [AlertKind::MissedCheckin, AlertKind::Symptomatic] {
            let id = AlertId::generate();
            store
                .open_alert(&NewAlert {
                    id: id.clone(),
                    kind,
                    person_id: PersonId::parse(&format!("{short}-P")).unwrap(),
                    order_id: Some(OrderId::parse(&order).unwrap()),
                    cause: format!("matrix:{d}:{kind:?}"),
                    evidence: json!({}),
                    at: t0(),
                })
                .await
                .unwrap();
            alerts.push(id.to_string());
        }
        let f = if d == "north" {
            &mut w.north
        } else {
            &mut w.south
        };
        f.order = order;
        f.alert = alerts[0].clone();
        f.health_alert = alerts[1].clone();
    }
    let r = store
        .import_csv(
            ImportKind::Tests,
            tests.as_bytes(),
            &ImportOptions::default(),
            t0(),
        )
        .await
        .unwrap();
    assert!(r.committed, "{:?}", r.errors);
    // Each case's interview, opened by its positive test.
    for (d, f) in [("north", &mut w.north), ("south", &mut w.south)] {
        let page = store
            .worklist(
                lazaret_store::Worklist::Interview,
                &DistrictScope::parse(d).unwrap(),
                t0(),
                &lazaret_store::PageRequest::default(),
            )
            .await
            .unwrap();
        f.follow_up = page.items[0].id.to_string();
    }
    w
}

fn fixture_ids(short: &str) -> Fixture {
    Fixture {
        person: format!("{short}-P"),
        order: String::new(),
        alert: String::new(),
        health_alert: String::new(),
        test: format!("T-{short}"),
        follow_up: String::new(),
    }
}

pub fn order_body(person: &str) -> Value {
    json!({"person_id": person, "address": "Hauptstrasse 1", "lat": 47.37, "lon": 8.54,
           "starts_at": t0() - Duration::hours(1), "ends_at": t0() + Duration::days(14),
           "basis": {"kind": "arrival", "area": "X"}, "time_zone": "Europe/Zurich"})
}

/// `path` with its placeholders naming `f`'s records.
fn concrete(path: &str, f: &Fixture) -> String {
    let id = if path.starts_with("/api/v1/persons/") {
        &f.person
    } else if path.starts_with("/api/v1/alerts/") {
        &f.alert
    } else if path.starts_with("/api/v1/follow-ups/") {
        &f.follow_up
    } else {
        &f.order
    };
    path.replace("{person_id}", &f.person)
        .replace("{test_id}", &f.test)
        .replace("{name}", "common.js")
        .replace("{id}", id)
}

fn allowed(access: Access, role: Role) -> bool {
    match access {
        Access::Public => true,
        Access::Roles(roles) => roles.contains(&role),
        Access::Console(_) => false,
    }
}

/// A console route without a session: `expected` with no token and with
/// every role's token (a redirect is not followed, so it shows as such).
async fn console_without_session(
    w: &World,
    e: &Entry,
    expected: StatusCode,
    failures: &mut Vec<String>,
) {
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let what = key(&e.method, e.path);
    let mut tokens: Vec<Option<&str>> = vec![None];
    tokens.extend(Role::ALL.iter().map(|r| Some(w.token("north", *r))));
    for token in tokens {
        let mut r = client.request(e.method.clone(), format!("{}{}", w.base, e.path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Body::Form(fields) = &e.body {
            r = r.form(fields);
        }
        let resp = r.send().await.unwrap();
        let s = resp.status();
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if s != expected || (s == StatusCode::SEE_OTHER && location != "/login") {
            failures.push(format!(
                "{what} without a session (token: {}): {s} {location}",
                token.is_some()
            ));
        }
    }
}

backends!(every_route_every_role_both_districts);
async fn every_route_every_role_both_districts(db: TestDb) {
    let w = world(&db).await;
    let mut failures = Vec::new();
    for e in table() {
        let path = concrete(e.path, &w.north);
        let what = key(&e.method, e.path);
        if let Access::Console(expected) = e.access {
            console_without_session(&w, &e, expected, &mut failures).await;
            continue;
        }
        if let Access::Public = e.access {
            // No officer: whatever it answers, it is not the router's 404
            // for an unknown route, nor a request for an officer's token.
            let (s, body) = w.send(e.method.clone(), &path, None, &e.body).await;
            if body["code"] == "unauthorized" || s == StatusCode::FORBIDDEN {
                failures.push(format!("{what}: a public route asked for an officer ({s})"));
            }
            let unrouted = body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("for this method and path"));
            if s == StatusCode::NOT_FOUND && unrouted {
                failures.push(format!("{what}: not routed"));
            }
            continue;
        }
        // Another district's officer: 404 for a record, before anything
        // else is checked (no write happens).
        if e.scope == Scope::Record {
            for role in Role::ALL.into_iter().filter(|r| allowed(e.access, *r)) {
                let (s, body) = w
                    .send(
                        e.method.clone(),
                        &path,
                        Some(w.token("south", role)),
                        &e.body,
                    )
                    .await;
                if s != StatusCode::NOT_FOUND {
                    failures.push(format!(
                        "{what} as south {role} on north's record: {s} {body}"
                    ));
                }
            }
        }
        for role in Role::ALL {
            let (s, body) = w
                .send(
                    e.method.clone(),
                    &path,
                    Some(w.token("north", role)),
                    &e.body,
                )
                .await;
            let ok = if allowed(e.access, role) {
                // 503: this server runs without the face engine.
                let refused = [
                    StatusCode::UNAUTHORIZED,
                    StatusCode::FORBIDDEN,
                    StatusCode::NOT_FOUND,
                ];
                !refused.contains(&s)
                    && (!s.is_server_error() || s == StatusCode::SERVICE_UNAVAILABLE)
            } else {
                s == StatusCode::FORBIDDEN
            };
            if !ok {
                failures.push(format!("{what} as north {role}: {s} {body}"));
            }
        }
        // Without a token: 401.
        let (s, _) = w.send(e.method.clone(), &path, None, &e.body).await;
        if s != StatusCode::UNAUTHORIZED {
            failures.push(format!("{what} without a token: {s}"));
        }
    }
    w.stop();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
