//! `/api/v1/cases/…`, `/api/v1/tests/…/revisions`, `/api/v1/chains`: contact
//! tracing over HTTP, the same operations as `lazaret trace|orders|tests|
//! chains`. Contacts are selected by exposure only; no parameter here can
//! select people by who they are. Every call is audited. The use cases are
//! `services::tracing`; these handlers parse, authorise and render.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use lazaret_core::district::DistrictScope;
use lazaret_core::test_result::TestOutcome;
use lazaret_core::user::Permission;
use lazaret_store::Proposals;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath};
use crate::routes::orders::Basis;
use crate::services::tracing as service;
use crate::state::AppState;

/// The tracing routes, to merge into the API router.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(trace_case))
        .routes(routes!(propose_orders))
        .routes(routes!(issue_orders))
        .routes(routes!(revise_test))
        .routes(routes!(chains))
}

fn as_text<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WindowView {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactView {
    pub person_id: String,
    /// `close` or `notify`.
    pub tier: String,
    /// Exposure rules that matched, e.g. `flight-seat`, `household`.
    pub rules: Vec<String>,
    pub last_exposure: DateTime<Utc>,
    pub generation: u32,
    /// One entry per matching exposure (flight and seats, building and units, ride).
    #[schema(value_type = Vec<Object>)]
    pub evidence: Vec<serde_json::Value>,
    /// Where the contact lives (their district's officers hold their
    /// details); absent for a contact known only from exposure data.
    pub district: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TraceView {
    pub case: String,
    pub test_id: Option<String>,
    pub window: Option<WindowView>,
    pub contacts: Vec<ContactView>,
    /// Why the list is empty, when there is no positive test to trace from.
    pub reason: Option<String>,
}

impl From<service::Traced> for TraceView {
    fn from(traced: service::Traced) -> Self {
        let service::Traced {
            outcome: t,
            districts,
        } = traced;
        Self {
            case: t.case_id.into(),
            test_id: t.test.map(|t| t.id.into()),
            window: t.window.map(|w| WindowView {
                start: w.start,
                end: w.end,
            }),
            contacts: t
                .contacts
                .into_iter()
                .map(|c| ContactView {
                    district: districts.get(&c.person_id).map(|d| d.to_string()),
                    person_id: c.person_id.into(),
                    tier: as_text(&c.tier),
                    rules: c.rules.iter().map(|r| r.as_str().to_owned()).collect(),
                    last_exposure: c.last_exposure,
                    generation: c.generation,
                    evidence: c.evidence,
                })
                .collect(),
            reason: t.reason,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProposalView {
    pub person_id: String,
    /// `create`, `extend`, `unchanged`, `needs_address` or `expired`.
    pub action: String,
    pub order_id: Option<String>,
    pub basis: Basis,
    pub last_exposure: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// IANA zone of the order: found at the place, else the configured
    /// `default_time_zone`.
    pub time_zone: String,
    /// The order's district: the contact's, which may not be the case's.
    /// For a contact outside the officer's districts the answer says only
    /// that the contact and the order exist and where; `address`, `lat` and
    /// `lon` are left out (that district's officers hold them).
    pub district: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProposalsView {
    pub case: String,
    pub test_id: Option<String>,
    /// One per close contact; notify contacts get no order.
    pub proposals: Vec<ProposalView>,
    pub reason: Option<String>,
}

impl ProposalsView {
    fn new(mut p: Proposals, scope: &DistrictScope) -> Self {
        service::redact_proposals(&mut p, scope);
        Self {
            case: p.trace.case_id.into(),
            test_id: p.trace.test.map(|t| t.id.into()),
            reason: p.trace.reason,
            proposals: p
                .proposals
                .into_iter()
                .map(|x| ProposalView {
                    person_id: x.person_id.into(),
                    action: as_text(&x.action),
                    order_id: x.order_id.map(Into::into),
                    basis: x.basis.into(),
                    last_exposure: x.last_exposure,
                    starts_at: x.starts_at,
                    ends_at: x.ends_at,
                    address: x.address.map(Into::into),
                    lat: x.coordinates.map(|c| c.lat()),
                    lon: x.coordinates.map(|c| c.lon()),
                    time_zone: x.time_zone.name().to_owned(),
                    district: x.district.into(),
                })
                .collect(),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/cases/{person_id}/trace", tag = "tracing",
    params(("person_id" = String, Path, description = "The case")),
    security(("bearer" = [])),
    responses((status = 200, body = TraceView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn trace_case(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(person_id): ApiPath<String>,
) -> Result<Json<TraceView>, ApiError> {
    officer.require(Permission::Trace, "trace contacts")?;
    let t = service::trace(&state, &officer.as_actor(), &person_id).await?;
    Ok(Json(t.into()))
}

#[utoipa::path(post, path = "/api/v1/cases/{person_id}/orders/propose", tag = "tracing",
    params(("person_id" = String, Path, description = "The case")),
    security(("bearer" = [])),
    responses((status = 200, body = ProposalsView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn propose_orders(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(person_id): ApiPath<String>,
) -> Result<Json<ProposalsView>, ApiError> {
    officer.require(Permission::Trace, "trace contacts")?;
    let p = service::propose_orders(&state, &officer.as_actor(), &person_id).await?;
    Ok(Json(ProposalsView::new(p, &officer.districts)))
}

#[utoipa::path(post, path = "/api/v1/cases/{person_id}/orders/issue", tag = "tracing",
    params(("person_id" = String, Path, description = "The case")),
    security(("bearer" = [])),
    responses((status = 200, body = ProposalsView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn issue_orders(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(person_id): ApiPath<String>,
) -> Result<Json<ProposalsView>, ApiError> {
    // Issuing runs a trace and answers with the contacts: it needs `Trace`,
    // not only `WriteOrders` (review M2).
    officer.require(Permission::Trace, "trace contacts and issue their orders")?;
    let p = service::issue_orders(&state, &officer.as_actor(), &person_id).await?;
    Ok(Json(ProposalsView::new(p, &officer.districts)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRevision {
    /// `positive` or `negative`.
    pub result: String,
    /// Why the result is corrected (recorded).
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReleasedView {
    pub order_id: String,
    pub person_id: String,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KeptView {
    pub order_id: String,
    pub person_id: String,
    pub ends_at: DateTime<Utc>,
    pub bases: Vec<Basis>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevisionView {
    pub test_id: String,
    pub result: String,
    /// Results before this one, oldest first.
    pub previous_results: Vec<String>,
    pub released: Vec<ReleasedView>,
    pub kept: Vec<KeptView>,
    pub contacts_withdrawn: u64,
}

#[utoipa::path(post, path = "/api/v1/tests/{test_id}/revisions", tag = "tracing",
    params(("test_id" = String, Path, description = "The test")), request_body = NewRevision,
    security(("bearer" = [])),
    responses((status = 200, body = RevisionView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn revise_test(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(test_id): ApiPath<String>,
    ApiJson(body): ApiJson<NewRevision>,
) -> Result<Json<RevisionView>, ApiError> {
    officer.require(Permission::ReviseTests, "revise test results")?;
    let result = TestOutcome::parse(&body.result)?;
    let actor = officer.as_actor();
    let r = service::revise_test(&state, &actor, &test_id, result, &body.reason).await?;
    Ok(Json(r.into()))
}

impl From<lazaret_store::RevisionReport> for RevisionView {
    fn from(r: lazaret_store::RevisionReport) -> Self {
        RevisionView {
            test_id: r.test.id.to_string(),
            result: r.test.result.as_str().to_owned(),
            previous_results: r
                .test
                .revisions
                .iter()
                .map(|v| v.previous.as_str().to_owned())
                .collect(),
            released: r
                .released
                .into_iter()
                .map(|o| ReleasedView {
                    order_id: o.order_id.into(),
                    person_id: o.person_id.into(),
                    reason: o.reason,
                })
                .collect(),
            kept: r
                .kept
                .into_iter()
                .map(|o| KeptView {
                    order_id: o.order_id.into(),
                    person_id: o.person_id.into(),
                    ends_at: o.ends_at,
                    bases: o.bases.into_iter().map(Into::into).collect(),
                })
                .collect(),
            contacts_withdrawn: r.contacts_withdrawn,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChainsView {
    pub cases: usize,
    pub contact_edges: usize,
    /// Each chain: `index_case`, `depth` and `members` (person, generation,
    /// whether a case, who exposed them, tier).
    #[schema(value_type = Vec<Object>)]
    pub chains: Vec<serde_json::Value>,
}

#[utoipa::path(get, path = "/api/v1/chains", tag = "tracing",
    security(("bearer" = [])),
    responses((status = 200, body = ChainsView), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub async fn chains(
    State(state): State<AppState>,
    officer: Officer,
) -> Result<Json<ChainsView>, ApiError> {
    officer.require(Permission::Trace, "read transmission chains")?;
    let built = service::chains(&state, &officer.as_actor()).await?;
    Ok(Json(ChainsView {
        cases: built.cases,
        contact_edges: built.contact_edges,
        chains: built
            .chains
            .iter()
            .map(|c| serde_json::to_value(c).unwrap_or_default())
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use lazaret_core::user::Role;
    use lazaret_store::testing::TestDb;
    use lazaret_store::{ImportKind, ImportOptions};
    use serde_json::{json, Value};
    use tokio::net::TcpListener;

    use super::*;
    use crate::state::Clock;
    use crate::Config;

    struct Fixed(DateTime<Utc>);
    impl Clock for Fixed {
        fn now(&self) -> DateTime<Utc> {
            self.0
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-03-12T12:00:00Z".parse().unwrap()
    }

    const FLIGHTS: &str = "flight_id,flight_no,departure,origin,destination,person_id,full_name,phone,email,role,seat,booking_ref\n\
        F1,LX1,2026-03-09T10:00:00Z,ZRH,LHR,CASE,Case One,,,passenger,14C,\n\
        F1,LX1,2026-03-09T10:00:00Z,ZRH,LHR,NEAR,Near One,,,passenger,15A,\n\
        F1,LX1,2026-03-09T10:00:00Z,ZRH,LHR,FAR,Far One,,,passenger,30A,\n";
    const RESIDENCES: &str = "person_id,full_name,phone,email,building_id,address,unit,lat,lon\n\
        NEAR,Near One,,,B1,Main St 1,2,47.37,8.54\n";
    const TESTS: &str = "test_id,person_id,sampled_at,result,lab,symptom_onset\n\
        T1,CASE,2026-03-10T00:00:00Z,positive,Lab,\n";

    #[tokio::test]
    async fn trace_propose_issue_revise_chains_over_http() {
        for db in TestDb::all().await {
            let s = &db.store;
            for (kind, csv) in [
                (ImportKind::Flights, FLIGHTS),
                (ImportKind::Residences, RESIDENCES),
                (ImportKind::Tests, TESTS),
            ] {
                let r = s
                    .import_csv(kind, csv.as_bytes(), &ImportOptions::default(), now())
                    .await
                    .unwrap();
                assert!(r.committed, "{:?}", r.errors);
            }
            let token = |role| async move {
                crate::auth::create_token(s, role, "t", "t", now())
                    .await
                    .unwrap()
                    .1
            };
            let inv = token(Role::Investigator).await;
            let analyst = token(Role::Analyst).await;
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
            let mut state = AppState::new(s.clone(), Config::default());
            state.clock = Arc::new(Fixed(now()));
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(crate::serve(listener, state, async {
                let _ = rx.await;
            }));
            let client = reqwest::Client::new();
            let post = |path: &str, tok: &str, body: Value| {
                client
                    .post(format!("{base}{path}"))
                    .bearer_auth(tok)
                    .json(&body)
                    .send()
            };

            let r = post("/cases/CASE/trace", &inv, json!({})).await.unwrap();
            assert_eq!(r.status(), 200);
            let t: Value = r.json().await.unwrap();
            let got: Vec<(&str, &str)> = t["contacts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["person_id"].as_str().unwrap(),
                        c["tier"].as_str().unwrap(),
                    )
                })
                .collect();
            assert_eq!(got, vec![("FAR", "notify"), ("NEAR", "close")]);

            let r = post("/cases/CASE/trace", &analyst, json!({}))
                .await
                .unwrap();
            assert_eq!(r.status(), 403);

            let r = post("/cases/CASE/orders/issue", &inv, json!({}))
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let p: Value = r.json().await.unwrap();
            assert_eq!(p["proposals"][0]["action"], "create");
            assert_eq!(p["proposals"][0]["address"], "Main St 1");
            let r = post("/cases/CASE/orders/propose", &inv, json!({}))
                .await
                .unwrap();
            let p: Value = r.json().await.unwrap();
            assert_eq!(p["proposals"][0]["action"], "unchanged");

            let r = client
                .get(format!("{base}/chains"))
                .bearer_auth(&inv)
                .send()
                .await
                .unwrap();
            let c: Value = r.json().await.unwrap();
            assert_eq!(c["cases"], 1);
            assert_eq!(c["chains"][0]["index_case"], "CASE");

            let body = json!({"result": "negative", "reason": "lab error"});
            let r = post("/tests/T1/revisions", &inv, body.clone())
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["released"][0]["person_id"], "NEAR");
            assert_eq!(v["previous_results"], json!(["positive"]));
            let r = post("/tests/T1/revisions", &inv, body).await.unwrap();
            assert_eq!(r.status(), 422);
            let r = post(
                "/tests/NOPE/revisions",
                &inv,
                json!({"result": "negative", "reason": "x"}),
            )
            .await
            .unwrap();
            assert_eq!(r.status(), 404);

            tx.send(()).unwrap();
            server.await.unwrap().unwrap();
        }
    }

    #[test]
    fn routes_are_in_the_openapi_document() {
        let doc = serde_json::to_value(crate::openapi()).unwrap();
        for path in [
            "/api/v1/cases/{person_id}/trace",
            "/api/v1/cases/{person_id}/orders/propose",
            "/api/v1/cases/{person_id}/orders/issue",
            "/api/v1/tests/{test_id}/revisions",
            "/api/v1/chains",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing");
        }
    }
}
