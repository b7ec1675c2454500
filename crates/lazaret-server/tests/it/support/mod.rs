//! The one harness of the server's tests: a controllable clock and the start of the tests'
//! day ([`TestClock`], [`t0`]), announcers that record or count instead of sending, the
//! photos (the fixtures kept in the repository, `tests/fixtures/faces`), the face engine
//! loaded once per test binary, a real server on a free port and the API client.

use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Duration, TimeZone as _, Utc};
use lazaret_core::user::Role;
use lazaret_face::FaceEngine;
use lazaret_server::announce::{
    prompt_message_key, symptom_form_message_key, AnnounceError, Announcement, Announcer,
    SymptomFormNotice,
};
use lazaret_server::config::Secret;
use lazaret_server::template_crypto::TemplateKey;
use lazaret_server::worker::Worker;
use lazaret_server::{App, AppState, Clock, Config};
use lazaret_store::testing::TestDb;
use lazaret_store::NewOutboxMessage;
use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The fixture photos: person A's frontal photo to enrol (`ENROL`), frontal, left- and
/// right-turned photos (`CENTER`, `LEFT`, `RIGHT`) to answer a challenge; person B
/// (`OTHER`) for mismatches; [`photo`] reads one.
#[path = "../../../../../tests/fixtures/mod.rs"]
mod fixtures;
pub use fixtures::{photo, CENTER, ENROL, LEFT, OTHER, RIGHT};

/// The order's place, a phone location inside its 100 m fence, and one about 5 km north.
pub const HOME: (f64, f64) = (47.3769, 8.5417);
pub const NEAR: (f64, f64) = (47.3772, 8.5419);
pub const FAR: (f64, f64) = (47.4219, 8.5417);

/// A clock the test sets and moves: the server's time in every harness here.
pub struct TestClock(pub Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    pub fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

/// The tests' usual start: 2026-03-10 09:00 UTC.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap()
}

/// Records every announcement and symptom-form notice it renders; the test
/// holds the tokens, so its messages are stored as undeliverable.
#[derive(Default)]
pub struct Recorder(
    pub Mutex<Vec<Announcement>>,
    pub Mutex<Vec<SymptomFormNotice>>,
);

/// A message no sender will touch: the test relays the token itself.
pub fn held_by_test(
    key: String,
    person: &lazaret_core::person::Person,
    order: Option<&lazaret_core::ids::OrderId>,
    expires_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> NewOutboxMessage {
    NewOutboxMessage {
        id: format!("test-{key}"),
        dedupe_key: key,
        person_id: person.id.clone(),
        order_id: order.cloned(),
        kind: "test".into(),
        channel: None,
        language: "en".into(),
        recipient: None,
        subject: "test".into(),
        body: String::new(),
        body_redacted: String::new(),
        expires_at,
        created_at: at,
        max_attempts: 1,
        undeliverable: Some("test announcer: the test holds the token".into()),
    }
}

impl Announcer for Recorder {
    fn prompt_message(&self, a: &Announcement) -> Result<NewOutboxMessage, AnnounceError> {
        self.0.lock().unwrap().push(a.clone());
        Ok(held_by_test(
            prompt_message_key(&a.prompt_id),
            &a.person,
            Some(&a.order_id),
            a.deadline,
            a.at,
        ))
    }

    fn symptom_form_message(
        &self,
        n: &SymptomFormNotice,
    ) -> Result<NewOutboxMessage, AnnounceError> {
        self.1.lock().unwrap().push(n.clone());
        Ok(held_by_test(
            symptom_form_message_key(&n.form_id),
            &n.person,
            n.order_id.as_ref(),
            n.expires_at,
            n.at,
        ))
    }
}

/// Announces prompts but has no channel for symptom forms.
pub struct PromptsOnly;

impl Announcer for PromptsOnly {
    fn prompt_message(&self, a: &Announcement) -> Result<NewOutboxMessage, AnnounceError> {
        Ok(held_by_test(
            prompt_message_key(&a.prompt_id),
            &a.person,
            Some(&a.order_id),
            a.deadline,
            a.at,
        ))
    }
}

/// Counts announcements; its messages are stored as undeliverable.
#[derive(Default)]
pub struct Quiet(pub Mutex<usize>);

impl Announcer for Quiet {
    fn prompt_message(&self, a: &Announcement) -> Result<NewOutboxMessage, AnnounceError> {
        *self.0.lock().unwrap() += 1;
        Ok(NewOutboxMessage {
            id: format!("quiet-{}", a.prompt_id),
            dedupe_key: prompt_message_key(&a.prompt_id),
            person_id: a.person.id.clone(),
            order_id: Some(a.order_id.clone()),
            kind: "test".into(),
            channel: None,
            language: "en".into(),
            recipient: None,
            subject: "test".into(),
            body: String::new(),
            body_redacted: String::new(),
            expires_at: a.deadline,
            created_at: a.at,
            max_attempts: 1,
            undeliverable: Some("quiet test announcer".into()),
        })
    }
}

/// Frames answering a challenge with the matching turned photos.
pub fn frames_for(challenge: &Value) -> Vec<Vec<u8>> {
    challenge["poses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| match p.as_str().unwrap() {
            "center" => photo(CENTER),
            "left" => photo(LEFT),
            "right" => photo(RIGHT),
            other => panic!("pose {other}"),
        })
        .collect()
}

pub fn engine() -> Arc<FaceEngine> {
    static E: OnceLock<Arc<FaceEngine>> = OnceLock::new();
    E.get_or_init(|| Arc::new(FaceEngine::load_default().expect("face engine")))
        .clone()
}

/// A listener on a free port of 127.0.0.1 and its base URL.
pub async fn bind_local() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (listener, base)
}

/// Serves `app`'s routes over real HTTP on `listener` until the returned sender is used or
/// dropped. No background worker: the tests run workers' passes themselves ([`App::worker`]).
pub fn spawn_server(listener: TcpListener, app: &App) -> oneshot::Sender<()> {
    spawn_server_joinable(listener, app).0
}

/// [`spawn_server`], with the server's task to await for a clean stop.
pub fn spawn_server_joinable(
    listener: TcpListener,
    app: &App,
) -> (oneshot::Sender<()>, JoinHandle<()>) {
    let (tx, rx) = oneshot::channel::<()>();
    let state = app.state.clone();
    let handle = tokio::spawn(async move {
        lazaret_server::serve(listener, state, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (tx, handle)
}

/// A real server on a free port with the face engine and a [`TestClock`], and the [`Api`]
/// client to it (through `Deref`): the check-in, self-enrolment and symptom tests' harness.
/// A configuration with a fresh template key.
pub fn config() -> Config {
    Config {
        template_key: Secret::new(TemplateKey::generate_hex()),
        ..Config::default()
    }
}

pub struct Server {
    pub api: Api,
    pub app: App,
    pub state: AppState,
    pub clock: Arc<TestClock>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Server {
    pub async fn start(db: &TestDb, start: DateTime<Utc>) -> Server {
        Self::start_with(db, start, config()).await
    }

    pub async fn start_with(db: &TestDb, start: DateTime<Utc>, config: Config) -> Server {
        let officer =
            lazaret_server::auth::create_token(&db.store, Role::Investigator, "t", "t", start)
                .await
                .unwrap()
                .1;
        let clock = Arc::new(TestClock(Mutex::new(start)));
        // Officers relay their prompts' tokens here; the tests run workers themselves.
        let app = App::builder(config, db.store.clone())
            .clock(clock.clone())
            .face(engine())
            .unannounced()
            .build()
            .unwrap();
        let (listener, base) = bind_local().await;
        let tx = spawn_server(listener, &app);
        Server {
            api: Api::new(base, officer),
            state: app.state.clone(),
            app,
            clock,
            shutdown: Some(tx),
        }
    }

    pub async fn new_order(&self, name: &str) -> String {
        self.create_order(&json!({ "full_name": name }), self.state.now())
            .await
    }

    pub async fn public_form(&self, path: &str, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(pairs)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    pub async fn self_enroll(&self, token: Option<&str>, bytes: Vec<u8>) -> (StatusCode, Value) {
        // The token first: the server checks it before it reads the photo.
        let mut form = Form::new();
        if let Some(t) = token {
            form = form.text("token", t.to_owned());
        }
        form = form.part("photo", Part::bytes(bytes).file_name("me.jpg"));
        let r = self
            .client
            .post(format!("{}/api/v1/enrollment", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    /// The evidence stored for the check-in answer `v` (the person's answer
    /// carries none; officers see it on alerts and the console).
    pub async fn evidence(&self, v: &Value) -> Value {
        let pid = lazaret_core::ids::PromptId::parse(v["prompt_id"].as_str().unwrap()).unwrap();
        let id = v["checkin_id"].as_str().unwrap();
        self.state
            .store
            .checkins_of_prompt(&pid)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.id.as_str() == id)
            .unwrap_or_else(|| panic!("check-in {id} is not stored"))
            .evidence
    }

    /// A worker whose announcements a fresh [`Recorder`] keeps.
    pub fn worker(&self) -> Worker {
        self.app.worker_with(Arc::new(Recorder::default()))
    }

    pub fn stop(mut self) {
        let _ = self.shutdown.take().unwrap().send(());
    }
}

/// The alerts `GET /api/v1/alerts?{query}` lists.
pub async fn alerts(s: &Server, query: &str) -> Vec<Value> {
    let (st, page) = s.get(&format!("/api/v1/alerts?{query}")).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().clone()
}

/// The officer API and the person's endpoints of the server under test.
impl std::ops::Deref for Server {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

/// A client of the server under test: the officer's API (bearer token) and the person's
/// endpoints (no officer token; the prompt or link token is in the body).
pub struct Api {
    pub base: String,
    pub client: Client,
    pub officer: String,
}

impl Api {
    pub fn new(base: String, officer: String) -> Self {
        Api {
            base,
            client: Client::new(),
            officer,
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.officer)
            .json(body)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.officer)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    /// Registers a person (`person` is the request body) and gives them an active
    /// 14-day order at HOME, from an hour before `now`; the order id.
    pub async fn create_order(&self, person: &Value, now: DateTime<Utc>) -> String {
        let (s, p) = self.post("/api/v1/persons", person).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        let (s, o) = self
            .post(
                "/api/v1/orders",
                &json!({
                    "person_id": p["id"], "address": "Bahnhofstrasse 1, Zürich",
                    "lat": HOME.0, "lon": HOME.1,
                    "starts_at": now - Duration::hours(1), "ends_at": now + Duration::days(14),
                    "basis": { "kind": "arrival", "area": "X" },
                    "time_zone": "Europe/Zurich",
                }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{o}");
        o["id"].as_str().unwrap().to_owned()
    }

    /// An officer enrols the order's person from one photo.
    pub async fn enroll(&self, order: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let form = Form::new().part("photo", Part::bytes(bytes).file_name("p.jpg"));
        let r = self
            .client
            .post(format!("{}/api/v1/orders/{order}/enrollment", self.base))
            .bearer_auth(&self.officer)
            .multipart(form)
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap())
    }

    /// An officer issues a check-in prompt now.
    pub async fn prompt(&self, order: &str) -> Value {
        let (s, p) = self
            .post(&format!("/api/v1/orders/{order}/prompts"), &json!({}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        p
    }

    /// The person's check-in: frames, location and its accuracy, optionally an
    /// idempotency key. No officer token: the prompt token is the credential.
    pub async fn checkin(
        &self,
        token: &str,
        frames: &[Vec<u8>],
        at: (f64, f64),
        accuracy_m: f64,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut form = Form::new()
            .text("token", token.to_owned())
            .text("lat", at.0.to_string())
            .text("lon", at.1.to_string())
            .text("accuracy_m", accuracy_m.to_string());
        for f in frames {
            form = form.part("frame", Part::bytes(f.clone()).file_name("f.jpg"));
        }
        let mut r = self
            .client
            .post(format!("{}/api/v1/checkins", self.base))
            .multipart(form);
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        let r = r.send().await.unwrap();
        (r.status(), r.json().await.unwrap())
    }

    /// A request without an officer token (the person's own).
    pub async fn public_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        answer(r).await
    }
}

/// A response's status and JSON body (`null` when it has none).
pub async fn answer(r: reqwest::Response) -> (StatusCode, Value) {
    (r.status(), r.json().await.unwrap_or(Value::Null))
}
