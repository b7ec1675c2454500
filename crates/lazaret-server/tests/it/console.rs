//! The console's alert queue over real HTTP, signed in through the login
//! form: only the officer's districts, never a health alert for a
//! compliance officer, filters that persist, assign to me, bulk actions,
//! resolving with an outcome code, CSRF, another district's alert as 404,
//! and the alert page's evidence. Everything the pages change is checked in
//! the store and the audit log, not only in the HTML.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use lazaret_core::alert::{AlertKind, AlertStatus, ResolutionOutcome};
use lazaret_core::challenge::Challenge;
use lazaret_core::checkin::{CheckinOutcome, PromptStatus};
use lazaret_core::contact::{Contact, ExposureRule, RiskTier};
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::{AlertId, OrderId, PersonId, PromptId, TestId};
use lazaret_core::test_result::{TestOutcome, TestResult, TestRevision};
use lazaret_core::user::Role;
use lazaret_server::services::accounts::{self, NewAccount};
use lazaret_server::services::Actor;
use lazaret_server::App;
use lazaret_store::testing::TestDb;
use lazaret_store::{
    backends, AuditFilter, Channel, CheckinFinish, CheckinStart, NewAlert, NewJob,
    NewOutboxMessage, PromptRecord,
};
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

use crate::browser::{self, Chromedriver, Session, LAPTOP, TABLET};
use crate::support::{self, t0, TestClock};

pub const PASSWORD: &str = "correct horse battery staple";

/// A server, its store, and the records of two districts.
pub struct Console {
    pub base: String,
    pub client: Client,
    pub app: App,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// The alerts [`Console::seed`] opens.
pub struct Seeded {
    /// North: a missed check-in, a failed check-in with two tries and a
    /// message, a symptomatic report (health), another missed check-in.
    pub missed: String,
    pub failed: String,
    pub symptomatic: String,
    pub missed2: String,
    /// South: a missed check-in.
    pub south: String,
}

impl Console {
    pub async fn start(db: &TestDb) -> Console {
        let clock = Arc::new(TestClock(Mutex::new(t0())));
        let app = App::builder(lazaret_server::Config::default(), db.store.clone())
            .clock(clock)
            .unannounced()
            .build()
            .unwrap();
        Console::serve(app).await
    }

    /// A console over `app` as the test wired it (a face engine, an outbox).
    pub async fn serve(app: App) -> Console {
        let (listener, base) = support::bind_local().await;
        let stop = support::spawn_server(listener, &app);
        let client = Client::builder().redirect(Policy::none()).build().unwrap();
        Console {
            base,
            client,
            app,
            _stop: stop,
        }
    }

    pub async fn user(&self, name: &str, role: Role, districts: &str) {
        accounts::create_user(
            &self.app.state,
            &Actor::new("cli:test", Role::Admin, DistrictScope::All),
            NewAccount {
                username: name.into(),
                role,
                districts: DistrictScope::parse(districts).unwrap(),
                password: PASSWORD.into(),
            },
        )
        .await
        .unwrap();
    }

    /// Signs in through the form; the session cookie's value.
    pub async fn session(&self, name: &str) -> String {
        let r = self
            .client
            .get(format!("{}/login", self.base))
            .send()
            .await
            .unwrap();
        let nonce = set_cookie(&r, "lazaret_login_csrf").unwrap();
        let r = self
            .client
            .post(format!("{}/login", self.base))
            .header("cookie", format!("lazaret_login_csrf={nonce}"))
            .form(&[
                ("username", name),
                ("password", PASSWORD),
                ("csrf", nonce.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let to = r.headers()["location"].to_str().unwrap();
        assert!(
            ["/alerts", "/overview", "/users", "/account"].contains(&to),
            "{to}"
        );
        set_cookie(&r, "lazaret_session").unwrap()
    }

    /// `GET path` with the session and any further cookies.
    pub async fn get(&self, session: &str, path: &str, cookies: &[(&str, &str)]) -> Response {
        let mut c = format!("lazaret_session={session}");
        for (k, v) in cookies {
            c.push_str(&format!("; {k}={v}"));
        }
        self.client
            .get(format!("{}{path}", self.base))
            .header("cookie", c)
            .send()
            .await
            .unwrap()
    }

    pub async fn html(&self, session: &str, path: &str) -> (StatusCode, String) {
        let r = self.get(session, path, &[]).await;
        (r.status(), r.text().await.unwrap())
    }

    /// `POST path` with the session and `fields` as a form (`ids` may repeat).
    pub async fn post(&self, session: &str, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.client
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("lazaret_session={session}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// The CSRF token of a page's forms.
    pub async fn csrf(&self, session: &str) -> String {
        let (_, html) = self.html(session, "/account").await;
        html.split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned()
    }

    pub async fn alert(&self, id: &str) -> lazaret_core::alert::Alert {
        self.app
            .state
            .store
            .get_alert(&AlertId::parse(id).unwrap())
            .await
            .unwrap()
            .unwrap()
    }

    async fn api_post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn token(&self, districts: &str) -> String {
        lazaret_server::auth::create_token_in(
            &self.app.state.store,
            Role::Investigator,
            &DistrictScope::parse(districts).unwrap(),
            "seed",
            "test",
            t0(),
        )
        .await
        .unwrap()
        .1
    }

    /// A person with an order in `district` (through the API); the order id.
    async fn person_with_order(&self, district: &str, person: &str) -> String {
        let token = self.token(district).await;
        let (s, p) = self
            .api_post(
                &token,
                "/api/v1/persons",
                json!({"id": person, "full_name": format!("{person} Example"), "phone": "+41790000000"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        let (s, o) = self
            .api_post(&token, "/api/v1/orders", crate::matrix::order_body(person))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{o}");
        o["id"].as_str().unwrap().to_owned()
    }

    async fn open(&self, kind: AlertKind, person: &str, order: &str, evidence: Value) -> String {
        let id = AlertId::generate();
        let opened = self
            .app
            .state
            .store
            .open_alert(&NewAlert {
                id: id.clone(),
                kind,
                person_id: PersonId::parse(person).unwrap(),
                order_id: Some(OrderId::parse(order).unwrap()),
                cause: format!("test:{id}"),
                evidence,
                at: t0() - Duration::minutes(30),
            })
            .await
            .unwrap();
        assert!(opened);
        id.to_string()
    }

    /// A prompt of `order` with its message and two failed tries (a face
    /// mismatch, then outside the fence), the second opening the
    /// failed-check-in alert, as the check-in service records them.
    async fn failed_prompt(&self, person: &str, order: &str) -> String {
        let store = &self.app.state.store;
        let order_id = OrderId::parse(order).unwrap();
        let prompt = PromptRecord {
            id: PromptId::generate(),
            order_id: order_id.clone(),
            slot: "test-1".into(),
            token_hash: hex_of(&PromptId::generate().to_string()),
            issued_at: t0() - Duration::minutes(50),
            deadline: t0() - Duration::minutes(20),
            challenge: None::<Challenge>,
            status: PromptStatus::Open,
            attempts: 0,
        };
        let audit = |action: &str| lazaret_core::audit::AuditRecord {
            at: t0() - Duration::minutes(50),
            actor: "system".into(),
            action: action.into(),
            subject_type: "prompt".into(),
            subject_id: prompt.id.to_string(),
            details: String::new(),
        };
        let message = NewOutboxMessage {
            id: format!("msg-{}", prompt.id),
            dedupe_key: format!("prompt:{}", prompt.id),
            person_id: PersonId::parse(person).unwrap(),
            order_id: Some(order_id.clone()),
            kind: "prompt".into(),
            channel: Some(Channel::Sms),
            language: "en".into(),
            recipient: Some("+41790000000".into()),
            subject: "Check-in".into(),
            body: "Please check in".into(),
            body_redacted: "Please check in [removed]".into(),
            expires_at: prompt.deadline,
            created_at: prompt.issued_at,
            max_attempts: 3,
            undeliverable: None,
        };
        let job = NewJob {
            queue: "test.none".into(),
            payload: json!({}),
            run_at: t0() + Duration::days(365),
            max_attempts: 1,
            dedupe_key: None,
        };
        assert!(store
            .issue_prompt(&prompt, &job, Some(&message), &audit("prompt.issue"))
            .await
            .unwrap());
        let tries = [
            (
                CheckinOutcome::FaceMismatch,
                json!({"face_distance": 0.71, "threshold": 0.6157, "frontal_frames": 1,
                       "decision": "no_match", "liveness": {"passed": true, "yaws": [], "issues": []},
                       "reasons": ["the face is not the enrolled person's"], "frames": 3,
                       "location": {"result": {"result": "inside", "distance_m": 12.0}, "distance_m": 12.0, "accuracy_m": 15.0, "radius_m": 100.0}}),
            ),
            (
                CheckinOutcome::OutsideGeofence,
                json!({"face_distance": 0.41, "threshold": 0.6157, "frontal_frames": 1,
                       "decision": "match", "liveness": {"passed": true, "yaws": [], "issues": []},
                       "reasons": [], "frames": 3,
                       "location": {"result": {"result": "outside", "distance_m": 340.0}, "distance_m": 340.0, "accuracy_m": 25.0, "radius_m": 100.0}}),
            ),
        ];
        let mut alert = None;
        for (i, (outcome, evidence)) in tries.into_iter().enumerate() {
            let at = t0() - Duration::minutes(40 - i as i64 * 5);
            let CheckinStart::Started {
                checkin_id,
                attempt,
            } = store
                .begin_checkin(&prompt.id, &format!("req-{i}"), at)
                .await
                .unwrap()
            else {
                panic!("a new try");
            };
            let last = i == 1;
            let opened = last.then(|| NewAlert {
                id: AlertId::generate(),
                kind: AlertKind::FailedCheckin,
                person_id: PersonId::parse(person).unwrap(),
                order_id: Some(order_id.clone()),
                cause: format!("prompt:{}", prompt.id),
                evidence: json!({"prompt_id": prompt.id, "deadline": prompt.deadline,
                                 "outcome": outcome.as_str(), "attempts": attempt, "last_try": evidence}),
                at,
            });
            if let Some(a) = &opened {
                alert = Some(a.id.to_string());
            }
            store
                .finish_checkin(
                    &checkin_id,
                    &prompt.id,
                    &CheckinFinish {
                        outcome,
                        evidence,
                        close: last.then_some(PromptStatus::Missed),
                        alert: opened,
                        escalation: None,
                    },
                    &audit("checkin.submit"),
                )
                .await
                .unwrap();
        }
        alert.unwrap()
    }

    /// Two districts' persons, orders and alerts (see [`Seeded`]).
    pub async fn seed(&self) -> Seeded {
        let n_order = self.person_with_order("north", "N-1").await;
        let n2_order = self.person_with_order("north", "N-2").await;
        let s_order = self.person_with_order("south", "S-1").await;
        let missed = self
            .open(
                AlertKind::MissedCheckin,
                "N-1",
                &n_order,
                json!({"deadline": t0()}),
            )
            .await;
        let failed = self.failed_prompt("N-2", &n2_order).await;
        let symptomatic = self
            .open(
                AlertKind::Symptomatic,
                "N-1",
                &n_order,
                json!({"symptoms": ["fever"]}),
            )
            .await;
        let missed2 = self
            .open(AlertKind::MissedCheckin, "N-2", &n2_order, json!({}))
            .await;
        let south = self
            .open(AlertKind::MissedCheckin, "S-1", &s_order, json!({}))
            .await;
        Seeded {
            missed,
            failed,
            symptomatic,
            missed2,
            south,
        }
    }

    pub async fn audit(&self, action: &str) -> Vec<lazaret_core::audit::AuditEvent> {
        self.app
            .state
            .store
            .audit_search(
                &AuditFilter {
                    action: Some(action.into()),
                    ..Default::default()
                },
                1000,
            )
            .await
            .unwrap()
    }
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The value a `Set-Cookie` header of the response gives `name` (`""` when
/// it clears it).
pub fn set_cookie(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

fn ids(v: &[&String]) -> Vec<String> {
    v.iter().map(|s| (*s).clone()).collect()
}

/// The alert ids the queue page lists, in order.
fn listed(html: &str) -> Vec<String> {
    html.split("<tr data-id=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect()
}

backends!(the_queue_lists_only_the_officers_districts);
async fn the_queue_lists_only_the_officers_districts(db: TestDb) {
    let c = Console::start(&db).await;
    let s = c.seed().await;
    c.user("nora", Role::Investigator, "north").await;
    c.user("sam", Role::Investigator, "south").await;
    c.user("nat", Role::Investigator, "*").await;
    let nora = c.session("nora").await;
    let (st, html) = c.html(&nora, "/alerts?").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert_eq!(
        listed(&html),
        ids(&[&s.missed, &s.failed, &s.symptomatic, &s.missed2]),
        "north's unresolved alerts, oldest first"
    );
    assert!(html.contains("nora"), "the bar names the officer");
    let sam = c.session("sam").await;
    assert_eq!(listed(&c.html(&sam, "/alerts?").await.1), ids(&[&s.south]));
    // A national officer sees both, and may narrow to one district; a
    // district officer's filter cannot reach outside their own.
    let nat = c.session("nat").await;
    assert_eq!(listed(&c.html(&nat, "/alerts?").await.1).len(), 5);
    assert_eq!(
        listed(&c.html(&nat, "/alerts?district=south").await.1),
        ids(&[&s.south])
    );
    assert!(listed(&c.html(&nora, "/alerts?district=south").await.1).is_empty());
    // Newest first turns the order round.
    assert_eq!(
        listed(&c.html(&nora, "/alerts?sort=newest").await.1),
        ids(&[&s.missed2, &s.symptomatic, &s.failed, &s.missed])
    );
    // Each list is audited as the API's is, with the ids shown.
    let lists = c.audit("alert.list").await;
    assert!(lists
        .iter()
        .any(|e| e.actor == "user:nora" && e.details.contains(&s.failed)));
}

backends!(a_compliance_officer_never_sees_a_health_alert);
async fn a_compliance_officer_never_sees_a_health_alert(db: TestDb) {
    let c = Console::start(&db).await;
    let s = c.seed().await;
    c.user("cora", Role::ComplianceOfficer, "north").await;
    let cora = c.session("cora").await;
    let (_, html) = c.html(&cora, "/alerts?").await;
    assert_eq!(listed(&html), ids(&[&s.missed, &s.failed, &s.missed2]));
    assert!(
        !html.contains("symptomatic"),
        "not even as a filter: {html}"
    );
    // Asked for by kind, by id, or acted on: as if it did not exist.
    assert!(listed(&c.html(&cora, "/alerts?kind=symptomatic").await.1).is_empty());
    let (st, page) = c.html(&cora, &format!("/alerts/{}", s.symptomatic)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(!page.contains("fever"));
    let csrf = c.csrf(&cora).await;
    let r = c
        .post(
            &cora,
            &format!("/alerts/{}/assign", s.symptomatic),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(c.alert(&s.symptomatic).await.status, AlertStatus::Open);
    // An investigator of the district sees it.
    c.user("ivan", Role::Investigator, "north").await;
    let ivan = c.session("ivan").await;
    let (st, page) = c.html(&ivan, &format!("/alerts/{}", s.symptomatic)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("fever"), "{page}");
}

backends!(the_queue_pages_with_a_cursor_in_either_order);
async fn the_queue_pages_with_a_cursor_in_either_order(db: TestDb) {
    let c = Console::start(&db).await;
    let s = c.seed().await;
    let order = c.alert(&s.missed).await.order_id.unwrap().to_string();
    for _ in 0..52 {
        c.open(AlertKind::MissedCheckin, "N-1", &order, json!({}))
            .await;
    }
    c.user("nora", Role::ComplianceOfficer, "north").await;
    let nora = c.session("nora").await;
    let next_link = |html: &str| {
        html.split("id=\"next-page\" rel=\"next\" href=\"")
            .nth(1)
            .map(|s| s.split('"').next().unwrap().replace("&amp;", "&"))
    };
    for (first, sort) in [("/alerts?", "oldest"), ("/alerts?sort=newest", "newest")] {
        let (_, page1) = c.html(&nora, first).await;
        let one = listed(&page1);
        assert_eq!(one.len(), 50, "{sort}");
        let next = next_link(&page1).expect("a next page");
        assert!(next.contains("cursor="), "{next}");
        let (st, page2) = c.html(&nora, &next).await;
        assert_eq!(st, StatusCode::OK, "{next}");
        let two = listed(&page2);
        // 3 compliance alerts of the seed and 52 more: 55 in all.
        assert_eq!(two.len(), 5, "{sort}");
        assert!(next_link(&page2).is_none());
        assert!(two.iter().all(|id| !one.contains(id)), "no alert twice");
        let mut all = one.clone();
        all.extend(two);
        let mut sorted = all.clone();
        sorted.sort();
        if sort == "newest" {
            sorted.reverse();
        }
        assert_eq!(all, sorted, "{sort} first, by id (creation order)");
    }
}

backends!(filters_persist_until_reset);
async fn filters_persist_until_reset(db: TestDb) {
    let c = Console::start(&db).await;
    let s = c.seed().await;
    c.user("nora", Role::Investigator, "north").await;
    let nora = c.session("nora").await;
    let r = c
        .get(&nora, "/alerts?kind=missed_checkin&sort=newest", &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let saved = set_cookie(&r, "lazaret_alerts_query").expect("the query is kept");
    assert_eq!(saved, "kind=missed_checkin&sort=newest");
    assert_eq!(
        listed(&r.text().await.unwrap()),
        ids(&[&s.missed2, &s.missed])
    );
    // An empty /alerts reopens it.
    let r = c
        .get(&nora, "/alerts", &[("lazaret_alerts_query", &saved)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        "/alerts?kind=missed_checkin&sort=newest"
    );
    // The form's selects show the kept filters.
    let (_, html) = c
        .html(&nora, "/alerts?kind=missed_checkin&sort=newest")
        .await;
    assert!(
        html.contains("<option value=\"missed_checkin\" selected>"),
        "{html}"
    );
    assert!(html.contains("<option value=\"newest\" selected>"));
    // Reset forgets it; without the cookie /alerts is the defaults.
    let r = c
        .get(
            &nora,
            "/alerts?reset=1",
            &[("lazaret_alerts_query", &saved)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(set_cookie(&r, "lazaret_alerts_query").as_deref(), Some(""));
    let r = c.get(&nora, "/alerts", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/alerts?");
    assert_eq!(listed(&c.html(&nora, "/alerts?").await.1).len(), 4);
    // The filter form sends its empty fields too: one short URL per query.
    let r = c
        .get(
            &nora,
            "/alerts?kind=missed_checkin&status=&assignee=&district=&sort=",
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/alerts?kind=missed_checkin");
}

backends!(assign_to_me_and_bulk_actions);
async fn assign_to_me_and_bulk_actions(db: TestDb) {
    let c = Console::start(&db).await;
    let s = c.seed().await;
    c.user("nora", Role::ComplianceOfficer, "north").await;
    let nora = c.session("nora").await;
    let csrf = c.csrf(&nora).await;
    // One row's "assign to me": back to the queue it came from.
    let r = c
        .post(
            &nora,
            &format!("/alerts/{}/assign", s.missed),
            &[("csrf", &csrf), ("back", "/alerts?kind=missed_checkin")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/alerts?kind=missed_checkin");
    let flash = set_cookie(&r, "lazaret_flash").unwrap();
    let a = c.alert(&s.missed).await;
    assert_eq!(a.status, AlertStatus::Assigned);
    assert_eq!(a.assignee.unwrap().as_str(), "user:nora");
    // The next page says so, once.
    let r = c
        .get(
            &nora,
            "/alerts?kind=missed_checkin",
            &[("lazaret_flash", &flash)],
        )
        .await;
    assert_eq!(set_cookie(&r, "lazaret_flash").as_deref(), Some(""));
    assert!(r.text().await.unwrap().contains("Assigned to you: 1."));
    assert_eq!(
        listed(&c.html(&nora, "/alerts?assignee=me").await.1),
        ids(&[&s.missed])
    );
    assert_eq!(
        listed(&c.html(&nora, "/alerts?assignee=unassigned").await.1),
        ids(&[&s.failed, &s.missed2])
    );
    // Nothing ticked: nothing happens, and the page says what to do.
    let r = c
        .post(
            &nora,
            "/alerts/bulk",
            &[("csrf", &csrf), ("action", "assign")],
        )
        .await;
    assert_eq!(
        set_cookie(&r, "lazaret_flash").unwrap(),
        "assigned.0.0.none_selected"
    );
    // Bulk assign, then bulk resolve with one outcome and note.
    let r = c
        .post(
            &nora,
            "/alerts/bulk",
            &[
                ("csrf", &csrf),
                ("action", "assign"),
                ("ids", &s.failed),
                ("ids", &s.missed2),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(set_cookie(&r, "lazaret_flash").unwrap(), "assigned.2.0.-");
    assert_eq!(
        listed(&c.html(&nora, "/alerts?assignee=me").await.1).len(),
        3
    );
    let r = c
        .post(
            &nora,
            "/alerts/bulk",
            &[
                ("csrf", &csrf),
                ("action", "resolve"),
                ("outcome", "false_alarm"),
                ("note", "phone clock was wrong"),
                ("ids", &s.missed),
                ("ids", &s.missed2),
                // Another district's alert in the batch changes nothing there.
                ("ids", &s.south),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        set_cookie(&r, "lazaret_flash").unwrap(),
        "resolved.2.1.not_found"
    );
    for id in [&s.missed, &s.missed2] {
        let a = c.alert(id).await;
        assert_eq!(a.status, AlertStatus::Resolved);
        assert_eq!(a.outcome, Some(ResolutionOutcome::FalseAlarm));
        assert_eq!(a.resolution.as_deref(), Some("phone clock was wrong"));
    }
    assert_eq!(c.alert(&s.south).await.status, AlertStatus::Open);
    assert_eq!(
        listed(&c.html(&nora, "/alerts?").await.1),
        ids(&[&s.failed])
    );
    // Each change is its own audit event, by the officer.
    let resolved = c.audit("alert.resolve").await;
    assert_eq!(resolved.len(), 2);
    assert!(resolved.iter().all(|e| e.actor == "user:nora"
        && e.details
            .starts_with("outcome=false_alarm reason=phone clock was wrong")));
    assert_eq!(c.audit("alert.assign").await.len(), 3);
}

backends!(resolving_takes_an_outcome_code);
async fn resolving_takes_an_outcome_code(db: TestDb) {
    let c = Console::start(&db).await;
    let s = c.seed().await;
    c.user("nora", Role::Investigator, "north").await;
    let nora = c.session("nora").await;
    let csrf = c.csrf(&nora).await;
    let path = format!("/alerts/{}/resolve", s.failed);
    // "other" without a note is refused, and nothing changes.
    let r = c
        .post(&nora, &path, &[("csrf", &csrf), ("outcome", "other")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], format!("/alerts/{}", s.failed));
    assert_eq!(
        set_cookie(&r, "lazaret_flash").unwrap(),
        "resolved.0.1.validation_failed"
    );
    assert_eq!(c.alert(&s.failed).await.status, AlertStatus::Open);
    // An unknown code likewise.
    let r = c
        .post(&nora, &path, &[("csrf", &csrf), ("outcome", "fined")])
        .await;
    assert_eq!(
        set_cookie(&r, "lazaret_flash").unwrap(),
        "resolved.0.1.validation_failed"
    );
    // A code with a note resolves it.
    let r = c
        .post(
            &nora,
            &path,
            &[
                ("csrf", &csrf),
                ("outcome", "visited"),
                ("note", "at home, phone broken"),
            ],
        )
        .await;
    assert_eq!(set_cookie(&r, "lazaret_flash").unwrap(), "resolved.1.0.-");
    let a = c.alert(&s.failed).await;
    assert_eq!(a.status, AlertStatus::Resolved);
    assert_eq!(a.outcome, Some(ResolutionOutcome::Visited));
    let (_, page) = c.html(&nora, &format!("/alerts/{}", s.failed)).await;
    assert!(page.contains("id=\"resolved-outcome\">Visited<"), "{page}");
    // Twice: refused as the API refuses it.
    let r = c
        .post(&nora, &path, &[("csrf", &csrf), ("outcome", "visited")])
        .await;
    assert_eq!(
        set_cookie(&r, "lazaret_flash").unwrap(),
        "resolved.0.1.illegal_transition"
    );
    // The JSON API takes the same codes (one rule, two callers).
    let token = c.token("north").await;
    let (st, body) = c
        .api_post(
            &token,
            &format!("/api/v1/alerts/{}/resolve", s.missed),
            json!({"outcome": "reached_by_phone"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"], "reached_by_phone");
    let (st, body) = c
        .api_post(
            &token,
            &format!("/api/v1/alerts/{}/resolve", s.missed2),
            json!({"outcome": "other"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

backends!(a_form_without_the_sessions_csrf_token_is_refused);
async fn a_form_without_the_sessions_csrf_token_is_refused(db: TestDb) {
    let c = Console::start(&db).await;
    let s = c.seed().await;
    c.user("nora", Role::Investigator, "north").await;
    c.user("otto", Role::Investigator, "north").await;
    let nora = c.session("nora").await;
    let otto = c.session("otto").await;
    let ottos = c.csrf(&otto).await;
    let assign = format!("/alerts/{}/assign", s.missed);
    let resolve = format!("/alerts/{}/resolve", s.missed);
    for (path, fields) in [
        (assign.as_str(), vec![]),
        (assign.as_str(), vec![("csrf", ottos.as_str())]),
        (resolve.as_str(), vec![("outcome", "visited")]),
        (
            "/alerts/bulk",
            vec![("action", "assign"), ("ids", s.missed.as_str())],
        ),
        (
            "/alerts/bulk",
            vec![
                ("csrf", "0000"),
                ("action", "assign"),
                ("ids", s.missed.as_str()),
            ],
        ),
    ] {
        let r = c.post(&nora, path, &fields).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} {fields:?}");
    }
    let a = c.alert(&s.missed).await;
    assert_eq!((a.status, a.assignee), (AlertStatus::Open, None));
    assert!(c.audit("alert.assign").await.is_empty());
}

backends!(another_districts_alert_is_not_found);
async fn another_districts_alert_is_not_found(db: TestDb) {
    let c = Console::start(&db).await;
    let s = c.seed().await;
    c.user("sam", Role::Investigator, "south").await;
    let sam = c.session("sam").await;
    let csrf = c.csrf(&sam).await;
    for id in [s.missed.as_str(), "no-such-alert"] {
        let (st, page) = c.html(&sam, &format!("/alerts/{id}")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{page}");
        assert!(page.contains("There is no such alert"), "{page}");
        assert!(!page.contains("N-1"), "nothing of it leaks");
    }
    let r = c
        .post(
            &sam,
            &format!("/alerts/{}/assign", s.missed),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c
        .post(
            &sam,
            &format!("/alerts/{}/resolve", s.missed),
            &[("csrf", &csrf), ("outcome", "visited")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(c.alert(&s.missed).await.status, AlertStatus::Open);
}

backends!(the_alert_page_shows_each_try_and_the_message);
async fn the_alert_page_shows_each_try_and_the_message(db: TestDb) {
    let c = Console::start(&db).await;
    let s = c.seed().await;
    c.user("nora", Role::ComplianceOfficer, "north").await;
    let nora = c.session("nora").await;
    let (st, page) = c.html(&nora, &format!("/alerts/{}", s.failed)).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert_eq!(page.matches("class=\"card try\"").count(), 2, "{page}");
    for text in [
        "Face does not match",
        "Outside the fence",
        "distance 0.710, threshold 0.616",
        "distance 0.410, threshold 0.616",
        "340 m from the centre, accuracy ±25 m, fence radius 100 m",
        "Waiting to be sent",
    ] {
        assert!(page.contains(text), "{text}: {page}");
    }
    assert_eq!(page.matches("<svg").count(), 4, "a bar and a fence per try");
    // The read is audited as the API's.
    assert!(c
        .audit("alert.read")
        .await
        .iter()
        .any(|e| e.actor == "user:nora" && e.subject_id == s.failed));
}

backends!(home_and_roles);
async fn home_and_roles(db: TestDb) {
    let c = Console::start(&db).await;
    c.user("ana", Role::Analyst, "north").await;
    let r = c.client.get(format!("{}/", c.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login");
    let ana = c.session("ana").await;
    let r = c.get(&ana, "/", &[]).await;
    assert_eq!(
        r.headers()["location"],
        "/overview",
        "an analyst starts there"
    );
    // An analyst does not work alerts: 403, as the API answers.
    let (st, page) = c.html(&ana, "/alerts").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(page.contains("does not work the alert queue"));
    // Russian from the browser's language.
    let r = c
        .client
        .get(format!("{}/login", c.base))
        .header("accept-language", "ru-RU,ru;q=0.9")
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("<html lang=\"ru\">") && html.contains("Имя пользователя"));
}

backends!(an_officer_chooses_the_consoles_language);
async fn an_officer_chooses_the_consoles_language(db: TestDb) {
    let c = Console::start(&db).await;
    c.user("nora", Role::Investigator, "north").await;
    let nora = c.session("nora").await;
    let csrf = c.csrf(&nora).await;
    // The browser's language (English here) until she chooses.
    let (_, html) = c.html(&nora, "/alerts?").await;
    assert!(html.contains("<html lang=\"en\">"));
    let r = c
        .post(&nora, "/account/language", &[("language", "ru")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no CSRF token");
    let r = c
        .post(
            &nora,
            "/account/language",
            &[("csrf", &csrf), ("language", "xx")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .post(
            &nora,
            "/account/language",
            &[("csrf", &csrf), ("language", "ru")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = c.html(&nora, "/alerts?").await;
    assert!(
        html.contains("<html lang=\"ru\">") && html.contains("Оповещения"),
        "{html}"
    );
    // Kept on the account: a new session opens in it too.
    let again = c.session("nora").await;
    let (_, html) = c.html(&again, "/account").await;
    assert!(
        html.contains("<option value=\"ru\" lang=\"ru\" selected>"),
        "{html}"
    );
    let events = c.audit("user.language").await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].actor.as_str(), events[0].details.as_str()),
        ("user:nora", "language=ru")
    );
    // Back to the browser's.
    let r = c
        .post(
            &again,
            "/account/language",
            &[("csrf", &c.csrf(&again).await), ("language", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(c
        .html(&again, "/alerts?")
        .await
        .1
        .contains("<html lang=\"en\">"));
}

/// Waits up to 10 s for `script` to answer something.
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Console {
    /// Health data of N-1 (the case) and N-2 (its contact): a symptom report
    /// through the person's form ("night sweats"), a positive test from
    /// "Zeta Lab" with one revision, and N-2 traced as N-1's close contact.
    async fn seed_health(&self) {
        let store = &self.app.state.store;
        let state = &self.app.state;
        let officer = Actor::new("cli:test", Role::Investigator, DistrictScope::All);
        let n1 = PersonId::parse("N-1").unwrap();
        let orders = store
            .list_orders(
                &lazaret_store::OrderFilter {
                    person_id: Some(n1.clone()),
                    ..Default::default()
                },
                &lazaret_store::PageRequest::default(),
            )
            .await
            .unwrap();
        let form = lazaret_server::services::symptoms::issue_form(
            state,
            &officer,
            orders.items[0].id.as_str(),
        )
        .await
        .unwrap();
        lazaret_server::services::symptoms::submit_report(
            state,
            lazaret_server::services::symptoms::SubmitSymptomReport {
                token: form.token,
                symptoms: vec!["fever".into(), "other".into()],
                other: Some("night sweats".into()),
                temperature_c: Some(38.4),
            },
        )
        .await
        .unwrap();
        let audit = |action: &str| lazaret_core::audit::AuditRecord {
            at: t0(),
            actor: "cli:test".into(),
            action: action.into(),
            subject_type: "person".into(),
            subject_id: "N-1".into(),
            details: String::new(),
        };
        let test = TestId::parse("T-N1").unwrap();
        store
            .upsert_test_result(
                &TestResult {
                    id: test.clone(),
                    person_id: n1.clone(),
                    sampled_at: t0() - Duration::days(2),
                    result: TestOutcome::Positive,
                    lab: "Zeta Lab".into(),
                    symptom_onset: None,
                    revisions: vec![TestRevision {
                        revised_at: t0() - Duration::days(1),
                        previous: TestOutcome::Negative,
                        result: TestOutcome::Positive,
                        reason: "samples swapped".into(),
                    }],
                },
                t0(),
                &audit("test.upsert"),
            )
            .await
            .unwrap();
        store
            .replace_contacts(
                &test,
                &[Contact {
                    person_id: PersonId::parse("N-2").unwrap(),
                    case_id: n1,
                    tier: RiskTier::Close,
                    rules: vec![ExposureRule::FlightCompanion],
                    evidence: vec![],
                    last_exposure: t0() - Duration::days(3),
                    generation: 1,
                }],
                t0(),
                &audit("contacts.trace"),
            )
            .await
            .unwrap();
    }
}

backends!(the_persons_list_shows_the_officers_districts_and_searches);
async fn the_persons_list_shows_the_officers_districts_and_searches(db: TestDb) {
    let c = Console::start(&db).await;
    c.seed().await;
    c.user("nora", Role::Investigator, "north").await;
    c.user("sam", Role::Investigator, "south").await;
    let nora = c.session("nora").await;
    let (st, html) = c.html(&nora, "/persons").await;
    assert_eq!(st, StatusCode::OK, "{html}");
    assert_eq!(listed(&html), ["N-1", "N-2"], "north's persons only");
    assert!(html.contains("N-1 Example") && html.contains("href=\"/persons/N-1\""));
    assert!(html.contains("+41790000000"), "the phone column");
    // Each has an active order: its end is shown, not "No active order".
    assert!(!html.contains("No active order"), "{html}");
    assert!(
        html.contains("aria-current=\"page\" href=\"/persons\"")
            || html.contains("href=\"/persons\" aria-current=\"page\"")
    );
    let (_, html) = c.html(&nora, "/persons?q=n-2").await;
    assert_eq!(listed(&html), ["N-2"], "the search narrows");
    let (_, html) = c.html(&nora, "/persons?q=nobody").await;
    assert!(listed(&html).is_empty());
    assert!(html.contains("No persons match"));
    let sam = c.session("sam").await;
    assert_eq!(listed(&c.html(&sam, "/persons").await.1), ["S-1"]);
    // Audited as the API's list, with the ids shown.
    assert!(c
        .audit("person.list")
        .await
        .iter()
        .any(|e| e.actor == "user:nora" && e.details == "N-1,N-2"));
    // A role without personal data is refused.
    c.user("anna", Role::Analyst, "north").await;
    let anna = c.session("anna").await;
    assert_eq!(c.html(&anna, "/persons").await.0, StatusCode::FORBIDDEN);
}

backends!(the_persons_list_pages_with_a_cursor);
async fn the_persons_list_pages_with_a_cursor(db: TestDb) {
    let c = Console::start(&db).await;
    for i in 0..53 {
        let p = lazaret_core::person::Person {
            id: PersonId::parse(&format!("P-{i:03}")).unwrap(),
            full_name: lazaret_core::person::FullName::parse(&format!("Paged {i:03}")).unwrap(),
            phone: None,
            email: None,
            language: Default::default(),
            district: lazaret_core::district::District::parse("north").unwrap(),
        };
        let audit = lazaret_core::audit::AuditRecord {
            at: t0(),
            actor: "cli:test".into(),
            action: "person.create".into(),
            subject_type: "person".into(),
            subject_id: p.id.to_string(),
            details: String::new(),
        };
        c.app
            .state
            .store
            .insert_person(&p, t0(), &audit)
            .await
            .unwrap();
    }
    c.user("nora", Role::Investigator, "north").await;
    let nora = c.session("nora").await;
    let (_, first) = c.html(&nora, "/persons?q=paged").await;
    let shown = listed(&first);
    assert_eq!(shown.len(), 50);
    assert_eq!(shown[0], "P-000");
    assert!(first.contains("No active order"), "no order, no end");
    let next = first
        .split("id=\"next-page\" rel=\"next\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a next page")
        .replace("&amp;", "&");
    assert!(next.starts_with("/persons?q=paged&cursor="), "{next}");
    let (_, second) = c.html(&nora, &next).await;
    assert_eq!(listed(&second), ["P-050", "P-051", "P-052"]);
    assert!(!second.contains("next-page"), "the last page");
    assert!(second.contains("First page"));
}

backends!(another_districts_person_is_not_found);
async fn another_districts_person_is_not_found(db: TestDb) {
    let c = Console::start(&db).await;
    c.seed().await;
    c.user("sam", Role::Investigator, "south").await;
    let sam = c.session("sam").await;
    for id in ["N-1", "no-such-person"] {
        let (st, page) = c.html(&sam, &format!("/persons/{id}")).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{page}");
        assert!(page.contains("There is no such person"), "{page}");
        assert!(!page.contains("N-1 Example"), "nothing of it leaks");
    }
    let (st, page) = c.html(&sam, "/persons/S-1").await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert!(page.contains("S-1 Example"));
}

backends!(the_person_page_shows_health_data_only_to_health_roles);
async fn the_person_page_shows_health_data_only_to_health_roles(db: TestDb) {
    let c = Console::start(&db).await;
    c.seed().await;
    c.seed_health().await;
    c.user("ivan", Role::Investigator, "north").await;
    c.user("nora", Role::ComplianceOfficer, "north").await;
    let ivan = c.session("ivan").await;
    let nora = c.session("nora").await;
    // The investigator: the symptom report, the test with its revision, the
    // contacts as a case, the symptomatic alert, the order and its basis.
    let (st, page) = c.html(&ivan, "/persons/N-1").await;
    assert_eq!(st, StatusCode::OK, "{page}");
    for seen in [
        "N-1 Example",
        "+41790000000",
        "Hauptstrasse 1",
        "night sweats",
        "Zeta Lab",
        "samples swapped",
        "id=\"contacts\"",
        "1 contact(s)",
        "Symptoms reported",
        "Missed check-in",
    ] {
        assert!(page.contains(seen), "an investigator sees {seen}: {page}");
    }
    let (_, page2) = c.html(&ivan, "/persons/N-2").await;
    assert!(page2.contains("Close contact"), "N-2 as a contact: {page2}");
    // The compliance officer: orders, check-in outcomes, compliance alerts
    // and messages; nothing of symptoms, tests or contacts.
    let (st, page) = c.html(&nora, "/persons/N-1").await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert!(page.contains("Hauptstrasse 1") && page.contains("Missed check-in"));
    for hidden in [
        "night sweats",
        "Symptom report",
        "Zeta Lab",
        "samples swapped",
        "id=\"contacts\"",
        "contact(s)",
        "Symptoms reported",
        "T-N1",
    ] {
        assert!(
            !page.contains(hidden),
            "a compliance officer sees {hidden}: {page}"
        );
    }
    let (_, page2) = c.html(&nora, "/persons/N-2").await;
    assert!(!page2.contains("Close contact"), "{page2}");
    // N-2's prompt: its two tries and their outcomes, and its message.
    assert!(page2.contains("Face does not match") && page2.contains("Outside the fence"));
    assert!(page2.contains("Check-in"), "the prompt's message");
    // Audited: the person read, the orders listed, the history shown.
    let history = c.audit("person.history").await;
    let sections = |actor: &str| -> Vec<Value> {
        let e = history
            .iter()
            .find(|e| e.actor == actor && e.subject_id == "N-1")
            .unwrap();
        let d: Value = serde_json::from_str(&e.details).unwrap();
        assert!(
            actor != "user:ivan" || d["test_results"] == json!(["T-N1"]),
            "{d}"
        );
        d["sections"].as_array().unwrap().clone()
    };
    assert!(sections("user:ivan").contains(&json!("test_results")));
    assert_eq!(
        sections("user:nora"),
        [
            json!("prompts"),
            json!("checkins"),
            json!("alerts"),
            json!("messages")
        ]
    );
    assert!(c
        .audit("person.read")
        .await
        .iter()
        .any(|e| e.actor == "user:nora" && e.subject_id == "N-1"));
}

backends!(the_alert_queue_and_page_name_the_person);
async fn the_alert_queue_and_page_name_the_person(db: TestDb) {
    let c = Console::start(&db).await;
    let s = c.seed().await;
    c.user("nora", Role::Investigator, "north").await;
    let nora = c.session("nora").await;
    let (_, html) = c.html(&nora, "/alerts?").await;
    assert!(
        html.contains("<a href=\"/persons/N-1\">N-1 Example</a>")
            && html.contains("<a href=\"/persons/N-2\">N-2 Example</a>"),
        "{html}"
    );
    let (_, page) = c.html(&nora, &format!("/alerts/{}", s.failed)).await;
    assert!(page.contains("N-2 Example") && page.contains("href=\"/persons/N-2\""));
    assert!(page.contains("id=\"person-phone\""), "the phone: {page}");
    assert!(page.contains("+41790000000"));
}

/// Checks a page: no CSP violation, nothing from another origin, no serious
/// or critical accessibility violation; then saves its screenshot.
pub async fn look(b: &Session<'_>, axe: Option<&str>, name: &str, failures: &mut Vec<String>) {
    b.assert_self_contained().await;
    if let Some(axe) = axe {
        for v in browser::axe::check(b, axe).await {
            failures.push(format!("{name}: {v}"));
        }
    }
    b.screenshot(name).await;
}

pub async fn sign_in(b: &Session<'_>, base: &str, name: &str) {
    b.goto(&format!("{base}/login")).await;
    b.type_into("#username", name).await;
    b.type_into("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    // Each role lands where its work starts (the queue, the overview, the
    // accounts).
    b.wait_for(
        "the first page after signing in",
        "return ['/alerts', '/overview', '/users', '/account'].indexOf(location.pathname) >= 0 && document.querySelector('h1') !== null;",
        WAIT,
    )
    .await;
}

/// Waits for the page at `path` (after a form's redirect) to be loaded.
pub async fn landed(b: &Session<'_>, what: &str, path_and_query: &str) {
    let script = format!(
        "return document.readyState === 'complete' && location.pathname + location.search === {path_and_query:?};"
    );
    b.wait_for(what, &script, WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_alert_queue_in_headless_chromium() {
    let Some(driver) = Chromedriver::start().await else {
        return;
    };
    let axe = browser::axe::source();
    let db = TestDb::sqlite().await;
    let c = Console::start(&db).await;
    let s = c.seed().await;
    c.user("nora", Role::ComplianceOfficer, "north").await;
    let mut failures = Vec::new();

    let b = driver.window_session(LAPTOP, "en-US,en").await;
    b.goto(&format!("{}/login", c.base)).await;
    look(&b, axe.as_deref(), "login-laptop", &mut failures).await;
    // A wrong password: refused, the form again with the reason, no session.
    b.type_into("#username", "nora").await;
    b.type_into("#password", "not her password at all").await;
    b.click("button[type=submit]").await;
    let refused = b.text_of("[role=alert]", WAIT).await;
    assert!(refused.contains("not right"), "{refused}");
    assert_eq!(
        b.exec("return location.pathname;", json!([])).await,
        "/login"
    );
    look(&b, axe.as_deref(), "login-refused-laptop", &mut failures).await;
    // The form without its CSRF value (a forged post): refused.
    b.goto(&format!("{}/login", c.base)).await;
    b.exec(
        "document.querySelector('input[name=csrf]').remove();",
        json!([]),
    )
    .await;
    b.type_into("#username", "nora").await;
    b.type_into("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    let refused = b.text_of("[role=alert]", WAIT).await;
    assert!(refused.contains("did not come from this site"), "{refused}");
    sign_in(&b, &c.base, "nora").await;
    look(&b, axe.as_deref(), "queue-laptop", &mut failures).await;
    let rows = b
        .exec(
            "return document.querySelectorAll('#queue tbody tr').length;",
            json!([]),
        )
        .await;
    assert_eq!(rows, 3, "north's compliance alerts");

    // Filter with the keyboard: "/" goes to the kind, then Apply.
    b.press("/").await;
    let focused = b.exec("return document.activeElement.id;", json!([])).await;
    assert_eq!(focused, "f-kind");
    b.click("#f-kind option[value=missed_checkin]").await;
    b.click(".filters button[type=submit]").await;
    landed(&b, "the filtered queue", "/alerts?kind=missed_checkin").await;
    let shown = b
        .exec(
            "return Array.prototype.map.call(document.querySelectorAll('#queue tbody tr'), function (r) { return r.getAttribute('data-id'); });",
            json!([]),
        )
        .await;
    assert_eq!(shown, json!([s.missed, s.missed2]));

    // j selects the first row, a assigns it to me; the filter is still on.
    b.press("j").await;
    b.press("a").await;
    b.text_of("#flash", WAIT).await;
    landed(&b, "the queue again", "/alerts?kind=missed_checkin").await;
    let a = c.alert(&s.missed).await;
    assert_eq!(
        a.assignee.map(|u| u.to_string()).as_deref(),
        Some("user:nora")
    );
    look(&b, axe.as_deref(), "queue-filtered-laptop", &mut failures).await;

    // j then r opens the row's alert at its resolve form, the focus on the outcome.
    b.press("j").await;
    b.press("r").await;
    b.wait_for(
        "the resolve form",
        "return location.hash === '#resolve' && document.activeElement && document.activeElement.name === 'outcome';",
        WAIT,
    )
    .await;

    // An empty /alerts brings the filter back.
    b.goto(&format!("{}/alerts", c.base)).await;
    landed(&b, "the kept filter", "/alerts?kind=missed_checkin").await;

    // The failed check-in: its tries side by side, then resolve with an outcome.
    b.goto(&format!("{}/alerts/{}", c.base, s.failed)).await;
    b.text_of("#tries-title", WAIT).await;
    look(&b, axe.as_deref(), "alert-laptop", &mut failures).await;
    b.click("#outcome-reached_by_phone").await;
    b.type_into("#note", "Spoke to her; she was at the pharmacy.")
        .await;
    b.click("#resolve-submit").await;
    b.text_of("#flash", WAIT).await;
    let a = c.alert(&s.failed).await;
    assert_eq!(a.status, AlertStatus::Resolved);
    assert_eq!(a.outcome, Some(ResolutionOutcome::ReachedByPhone));
    assert_eq!(
        a.resolution.as_deref(),
        Some("Spoke to her; she was at the pharmacy.")
    );
    look(&b, axe.as_deref(), "alert-resolved-laptop", &mut failures).await;

    b.goto(&format!("{}/account", c.base)).await;
    look(&b, axe.as_deref(), "account-laptop", &mut failures).await;
    // A 404 page for an alert, and for a person, of no district of hers.
    b.goto(&format!("{}/alerts/{}", c.base, s.south)).await;
    look(&b, axe.as_deref(), "not-found-laptop", &mut failures).await;
    b.goto(&format!("{}/persons/S-1", c.base)).await;
    assert_eq!(b.text_of("h1", WAIT).await, "Not found");
    let body = b.text_of("main", WAIT).await;
    assert!(!body.contains("S-1 Example"), "{body}");
    // A person page as a compliance officer sees it (no health data).
    b.goto(&format!("{}/persons/N-2", c.base)).await;
    b.text_of("#timeline-title", WAIT).await;
    look(
        &b,
        axe.as_deref(),
        "person-compliance-laptop",
        &mut failures,
    )
    .await;
    b.quit().await;

    // The same pages on a tablet held upright.
    let b = driver.window_session(TABLET, "en-US,en").await;
    b.goto(&format!("{}/login", c.base)).await;
    look(&b, axe.as_deref(), "login-tablet", &mut failures).await;
    sign_in(&b, &c.base, "nora").await;
    b.goto(&format!("{}/alerts?reset=1", c.base)).await;
    landed(&b, "the whole queue", "/alerts").await;
    look(&b, axe.as_deref(), "queue-tablet", &mut failures).await;
    b.goto(&format!("{}/alerts/{}", c.base, s.failed)).await;
    look(&b, axe.as_deref(), "alert-tablet", &mut failures).await;
    b.goto(&format!("{}/account", c.base)).await;
    look(&b, axe.as_deref(), "account-tablet", &mut failures).await;
    b.quit().await;

    // An investigator opens a person from the queue: the person page with
    // the health data, and the persons list, on a laptop and a tablet.
    c.seed_health().await;
    c.user("ivan", Role::Investigator, "north").await;
    for (size, tag) in [(LAPTOP, "laptop"), (TABLET, "tablet")] {
        let b = driver.window_session(size, "en-US,en").await;
        sign_in(&b, &c.base, "ivan").await;
        b.goto(&format!("{}/alerts?reset=1", c.base)).await;
        landed(&b, "the whole queue", "/alerts").await;
        b.click("#queue tbody tr td.person a").await;
        b.wait_for(
            "the person page",
            "return location.pathname === '/persons/N-1' && document.getElementById('timeline') !== null;",
            WAIT,
        )
        .await;
        let name = b.text_of("#person-name", WAIT).await;
        assert_eq!(name, "N-1 Example");
        b.text_of("#tests-title", WAIT).await;
        look(&b, axe.as_deref(), &format!("person-{tag}"), &mut failures).await;
        b.goto(&format!("{}/persons", c.base)).await;
        b.text_of("#persons", WAIT).await;
        look(&b, axe.as_deref(), &format!("persons-{tag}"), &mut failures).await;
        b.goto(&format!("{}/overview", c.base)).await;
        b.text_of("#d-north", WAIT).await;
        look(
            &b,
            axe.as_deref(),
            &format!("overview-{tag}"),
            &mut failures,
        )
        .await;
        b.quit().await;
    }

    // And in Russian.
    let b = driver.window_session(LAPTOP, "ru-RU,ru").await;
    sign_in(&b, &c.base, "nora").await;
    let title = b.text_of("h1", WAIT).await;
    assert_eq!(title, "Оповещения");
    look(&b, axe.as_deref(), "queue-ru-laptop", &mut failures).await;
    b.goto(&format!("{}/persons/N-2", c.base)).await;
    assert_eq!(b.text_of("#timeline-title", WAIT).await, "Хронология");
    look(&b, axe.as_deref(), "person-ru-laptop", &mut failures).await;
    b.quit().await;
    assert!(
        failures.is_empty(),
        "accessibility:\n{}",
        failures.join("\n")
    );
}
