//! The notification outbox end to end: real SMTP to a sink inside the test,
//! the SMS webhook against a local HTTP server, retries with back-off,
//! dead-lettering, idempotent enqueue and the token gone after sending; on
//! SQLite and (when configured) PostgreSQL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::support::{t0, TestClock};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use lazaret_core::alert::AlertKind;
use lazaret_core::audit::AuditRecord;
use lazaret_core::checkin::PromptStatus;
use lazaret_core::contact_info::{Email, Language, Phone};
use lazaret_core::geo::{Coordinates, Geofence};
use lazaret_core::ids::AlertId;
use lazaret_core::ids::{OrderId, PersonId, PromptId};
use lazaret_core::order::{OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::{Address, FullName, Person};
use lazaret_server::announce::{prompt_message_key, AnnounceError, Announcement, Announcer};
use lazaret_server::config::{EmailConfig, Secret, SmsConfig, SmtpTls};
use lazaret_server::notify::Notifier;
use lazaret_server::prompting::issue_prompt;
use lazaret_server::prompting::{IssueError, DEADLINE_QUEUE};
use lazaret_server::template_crypto::TemplateKey;
use lazaret_server::worker::{Worker, ISSUE_QUEUE};
use lazaret_server::{App, AppState, Clock, Config};
use lazaret_store::backends;
use lazaret_store::testing::TestDb;
use lazaret_store::{
    AlertFilter, Channel, EnrollmentRecord, NewAlert, NewJob, NewOutboxMessage, OutboxMessage,
    OutboxStatus, PageRequest, QueueStats, Store, StoreError, NOTIFY_QUEUE,
};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

// ---------------------------------------------------------------------------
// A minimal SMTP server: enough of RFC 5321 for lettre to deliver to it.

#[derive(Debug, Clone)]
struct Mail {
    rcpt: Vec<String>,
    data: String,
}

impl Mail {
    fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        // Unfold continuation lines first.
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    /// The body, decoded from its transfer encoding.
    fn text(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        match self
            .header("Content-Transfer-Encoding")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "base64" => {
                let clean: String = body.split_whitespace().collect();
                String::from_utf8(
                    base64::engine::general_purpose::STANDARD
                        .decode(clean)
                        .unwrap(),
                )
                .unwrap()
            }
            "quoted-printable" => decode_qp(body),
            _ => body.to_owned(),
        }
    }
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

#[derive(Clone, Default)]
struct SmtpSink {
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    async fn start() -> (Self, u16) {
        let sink = SmtpSink::default();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move { s.session(conn).await });
            }
        });
        (sink, port)
    }

    async fn session(&self, conn: tokio::net::TcpStream) {
        let (r, mut w) = conn.into_split();
        let mut r = BufReader::new(r);
        let _ = w.write_all(b"220 sink ESMTP\r\n").await;
        let mut rcpt = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let cmd = line.trim_end().to_ascii_uppercase();
            let reply: &[u8] = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                b"250-sink\r\n250 8BITMIME\r\n"
            } else if cmd.starts_with("MAIL FROM") {
                rcpt.clear();
                b"250 ok\r\n"
            } else if cmd.starts_with("RCPT TO") {
                let addr = line.trim_end()[8..]
                    .trim()
                    .trim_matches(|c| c == '<' || c == '>')
                    .to_owned();
                rcpt.push(addr);
                b"250 ok\r\n"
            } else if cmd == "DATA" {
                let _ = w.write_all(b"354 go on\r\n").await;
                let mut data = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    // Undo dot-stuffing.
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                self.mails.lock().unwrap().push(Mail {
                    rcpt: rcpt.clone(),
                    data,
                });
                b"250 queued\r\n"
            } else if cmd == "QUIT" {
                let _ = w.write_all(b"221 bye\r\n").await;
                return;
            } else {
                b"250 ok\r\n"
            };
            if w.write_all(reply).await.is_err() {
                return;
            }
        }
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

// ---------------------------------------------------------------------------
// An SMS gateway: answers 500 to the first `fail_first` requests (or all
// when it is `usize::MAX`), records the accepted ones.

#[derive(Clone, Default)]
pub(crate) struct Gateway {
    calls: Arc<Mutex<usize>>,
    fail_first: usize,
    accepted: Arc<Mutex<Vec<Value>>>,
    auth: Arc<Mutex<Vec<Option<String>>>>,
}

async fn gateway_hook(
    State(g): State<Gateway>,
    headers: HeaderMap,
    Json(v): Json<Value>,
) -> StatusCode {
    let n = {
        let mut c = g.calls.lock().unwrap();
        *c += 1;
        *c
    };
    g.auth.lock().unwrap().push(
        headers
            .get("authorization")
            .map(|h| h.to_str().unwrap().to_owned()),
    );
    if n <= g.fail_first {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    g.accepted.lock().unwrap().push(v);
    StatusCode::ACCEPTED
}

impl Gateway {
    pub(crate) async fn start(fail_first: usize) -> (Self, String) {
        let g = Gateway {
            fail_first,
            ..Default::default()
        };
        let app = Router::new()
            .route("/sms", post(gateway_hook))
            .with_state(g.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/sms", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (g, url)
    }

    fn calls(&self) -> usize {
        *self.calls.lock().unwrap()
    }

    pub(crate) fn accepted(&self) -> Vec<Value> {
        self.accepted.lock().unwrap().clone()
    }
}

// ---------------------------------------------------------------------------

pub(crate) struct Env {
    pub(crate) app: App,
    pub(crate) state: AppState,
    pub(crate) clock: Arc<TestClock>,
    pub(crate) notifier: Arc<Notifier>,
}

pub(crate) fn config(smtp_port: Option<u16>, sms_url: Option<&str>) -> Config {
    let mut c = Config {
        template_key: Secret::new(TemplateKey::generate_hex()),
        public_url: Some("https://lazaret.example/".into()),
        ..Config::default()
    };
    c.notify.retry_base_secs = 10;
    c.notify.max_attempts = 3;
    c.notify.email = smtp_port.map(|port| EmailConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        tls: SmtpTls::None,
        from: "Lazaret <noreply@lazaret.example>".into(),
        ..EmailConfig::default()
    });
    c.notify.sms = sms_url.map(|u| SmsConfig {
        webhook_url: u.into(),
        bearer_token: Secret::new("gw-secret"),
        ..SmsConfig::default()
    });
    c
}

pub(crate) fn env(db: &TestDb, cfg: Config) -> Env {
    let clock = Arc::new(TestClock(Mutex::new(t0())));
    let app = App::builder(cfg, db.store.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    Env {
        state: app.state.clone(),
        notifier: app.notifier.clone().expect("the outbox"),
        app,
        clock,
    }
}

fn audit(what: &str) -> AuditRecord {
    AuditRecord {
        at: t0(),
        actor: "test".into(),
        action: what.into(),
        subject_type: "test".into(),
        subject_id: "x".into(),
        details: String::new(),
    }
}

/// A person (with the given contacts and language) under an active order
/// with a dummy enrolment (scheduling needs one; no face is verified here).
pub(crate) async fn person_with_order(
    store: &Store,
    id: &str,
    phone: Option<&str>,
    email: Option<&str>,
    lang: &str,
) -> QuarantineOrder {
    let person = Person {
        id: PersonId::parse(id).unwrap(),
        full_name: FullName::parse(&format!("Person {id}")).unwrap(),
        phone: phone.map(|p| Phone::parse(p).unwrap()),
        email: email.map(|e| Email::parse(e).unwrap()),
        language: Language::parse(lang).unwrap(),
        district: lazaret_core::district::District::unassigned(),
    };
    store
        .insert_person(&person, t0(), &audit("person.create"))
        .await
        .unwrap();
    let order = QuarantineOrder {
        id: OrderId::parse(&format!("o-{id}")).unwrap(),
        person_id: person.id.clone(),
        address: Address::parse("Somewhere 1").unwrap(),
        geofence: Geofence::new(Coordinates::new(47.3769, 8.5417).unwrap(), 100.0).unwrap(),
        starts_at: t0() - Duration::hours(1),
        ends_at: t0() + Duration::days(14),
        time_zone: TimeZone::parse("Europe/Zurich").unwrap(),
        bases: vec![OrderBasis::Arrival { area: "X".into() }],
        status: OrderStatus::Active,
        status_reason: None,
        district: lazaret_core::district::District::unassigned(),
        created_at: t0(),
        updated_at: t0(),
    };
    store
        .insert_order(&order, &audit("order.create"))
        .await
        .unwrap();
    store
        .put_enrollment(
            &EnrollmentRecord {
                order_id: order.id.clone(),
                ciphertext: vec![0; 16],
                nonce: vec![0; 24],
                key_id: "k1".into(),
                model: "m".into(),
                created_at: t0(),
            },
            &audit("enrollment.create"),
        )
        .await
        .unwrap();
    order
}

/// A prompt issued in a test, with the token its message carries.
pub(crate) struct Issued {
    pub(crate) prompt_id: PromptId,
    token: String,
}

/// Issues a prompt now with its outbox message, as the scheduler does.
pub(crate) async fn issue(e: &Env, order: &QuarantineOrder, slot: &str) -> Issued {
    let p = issue_prompt(
        &e.state.store,
        &e.state.config,
        Some(e.notifier.as_ref()),
        order,
        slot,
        e.clock.now(),
        "test",
    )
    .await
    .unwrap()
    .unwrap();
    assert!(p.announced);
    Issued {
        prompt_id: p.prompt.id,
        token: p.token,
    }
}

async fn stats(store: &Store) -> QueueStats {
    store.queue_stats(NOTIFY_QUEUE).await.unwrap()
}

/// The outbox message announcing `a`'s prompt.
pub(crate) async fn prompt_message(store: &Store, a: &Issued) -> OutboxMessage {
    store
        .get_message_by_dedupe_key(&format!("prompt:{}", a.prompt_id))
        .await
        .unwrap()
        .expect("an outbox message for the prompt")
}

/// The audit actions recorded for one message, oldest first.
pub(crate) async fn message_actions(store: &Store, id: &str) -> Vec<String> {
    store
        .audit_events_for("message", id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

backends!(prompts_go_out_by_smtp_in_english_and_russian_once_and_the_token_is_then_gone);
async fn prompts_go_out_by_smtp_in_english_and_russian_once_and_the_token_is_then_gone(db: TestDb) {
    let (sink, port) = SmtpSink::start().await;
    let e = env(&db, config(Some(port), None));
    let en = person_with_order(&db.store, "ana", None, Some("ana@example.org"), "en").await;
    let ru = person_with_order(&db.store, "boris", None, Some("boris@example.org"), "ru").await;
    let a_en = issue(&e, &en, "2026-03-10#0").await;
    let a_ru = issue(&e, &ru, "2026-03-10#0").await;
    // The slot holds one prompt: issuing it again writes nothing.
    let again = issue_prompt(
        &e.state.store,
        &e.state.config,
        Some(e.notifier.as_ref()),
        &en,
        "2026-03-10#0",
        e.clock.now(),
        "test",
    )
    .await
    .unwrap();
    assert!(again.is_none());
    assert_eq!(stats(&db.store).await.pending, 2, "{:?}", db.kind());

    let report = e
        .notifier
        .deliver_due("w1", Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(report.sent, 2);
    // Nothing is due any more: a second pass sends nothing.
    let again = e
        .notifier
        .deliver_due("w1", Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(again.sent, 0);
    let mails = sink.mails();
    assert_eq!(mails.len(), 2, "each prompt mailed exactly once");

    let to = |addr: &str| {
        mails
            .iter()
            .find(|m| m.rcpt == vec![addr.to_owned()])
            .unwrap_or_else(|| panic!("no mail to {addr}"))
            .clone()
    };
    let m_en = to("ana@example.org");
    let subject = m_en.header("Subject").unwrap();
    assert!(subject.starts_with("Check-in requested"), "{subject}");
    // 09:00 UTC + 20 min window = 10:20 in Zurich (CET).
    assert!(
        subject.contains("2026-03-10 10:20 Europe/Zurich"),
        "{subject}"
    );
    let text = m_en.text();
    let link = format!("https://lazaret.example/checkin#token={}", a_en.token);
    assert!(text.contains(&link), "{text}");
    assert!(text.contains("Hello Person ana"), "{text}");
    assert!(
        text.contains("look straight at the camera, then turn your head"),
        "{text}"
    );
    assert!(m_en
        .header("From")
        .unwrap()
        .contains("noreply@lazaret.example"));

    let text = to("boris@example.org").text();
    assert!(text.contains("Здравствуйте, Person boris!"), "{text}");
    assert!(
        text.contains("Ответьте до 2026-03-10 10:20 Europe/Zurich"),
        "{text}"
    );
    assert!(text.contains(&format!("#token={}", a_ru.token)), "{text}");
    assert!(
        text.contains("посмотреть прямо в камеру, затем повернуть голову"),
        "{text}"
    );

    // After sending, the outbox keeps no readable token.
    for (a, lang) in [(&a_en, "en"), (&a_ru, "ru")] {
        let m = prompt_message(&db.store, a).await;
        assert_eq!(m.status, OutboxStatus::Sent);
        assert_eq!(m.channel, Some(Channel::Email));
        assert_eq!(m.language, lang);
        assert_eq!(m.attempts, 1);
        assert_eq!(m.sent_at, Some(t0()));
        assert_eq!(m.body, None);
        assert!(!m.body_redacted.contains(&a.token), "{}", m.body_redacted);
        assert!(!m.subject.contains(&a.token));
        assert!(m.body_redacted.contains("[removed]"));
        let events = db.store.audit_events_for("message", &m.id).await.unwrap();
        let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["notify.enqueue", "notify.sent"]);
        assert!(events.iter().all(|e| !e.details.contains(&a.token)));
    }
    // Nor do the delivery jobs.
    let s = stats(&db.store).await;
    assert_eq!((s.pending, s.done), (0, 2));
}

backends!(a_failing_sms_webhook_is_retried_with_backoff_and_the_message_sent_once);
async fn a_failing_sms_webhook_is_retried_with_backoff_and_the_message_sent_once(db: TestDb) {
    let (gw, url) = Gateway::start(2).await;
    let (sink, port) = SmtpSink::start().await;
    let e = env(&db, config(Some(port), Some(&url)));
    // Phone and e-mail: SMS is preferred when it is configured.
    let o = person_with_order(
        &db.store,
        "chen",
        Some("+41 79 100 00 03"),
        Some("chen@example.org"),
        "en",
    )
    .await;
    let a = issue(&e, &o, "2026-03-10#1").await;
    let lease = Duration::minutes(5);
    let key = format!("prompt:{}", a.prompt_id);

    let r = e.notifier.deliver_due("w1", lease).await.unwrap();
    assert_eq!((r.sent, r.failed_attempts), (0, 1));
    let m = db
        .store
        .get_message_by_dedupe_key(&key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.status, OutboxStatus::Pending);
    assert!(
        m.last_error.as_deref().unwrap().contains("HTTP 500"),
        "{m:?}"
    );
    assert!(m.body.is_some(), "kept until sent");

    // Back-off: not retried before 10 s have passed, then after 10 s,
    // then after 20 s more.
    e.clock.advance(Duration::seconds(9));
    e.notifier.deliver_due("w1", lease).await.unwrap();
    assert_eq!(gw.calls(), 1, "retried before its back-off ran out");
    e.clock.advance(Duration::seconds(1));
    let r = e.notifier.deliver_due("w1", lease).await.unwrap();
    assert_eq!((r.sent, r.failed_attempts, gw.calls()), (0, 1, 2));
    e.clock.advance(Duration::seconds(19));
    e.notifier.deliver_due("w1", lease).await.unwrap();
    assert_eq!(gw.calls(), 2, "second back-off is 20 s");
    e.clock.advance(Duration::seconds(1));
    let r = e.notifier.deliver_due("w1", lease).await.unwrap();
    assert_eq!((r.sent, gw.calls()), (1, 3));
    e.clock.advance(Duration::minutes(5));
    e.notifier.deliver_due("w1", lease).await.unwrap();
    assert_eq!(gw.calls(), 3, "sent once, never again");

    let got = gw.accepted();
    assert_eq!(got.len(), 1);
    let m = db
        .store
        .get_message_by_dedupe_key(&key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got[0]["to"], "+41791000003");
    assert_eq!(got[0]["message_id"], m.id.as_str());
    let body = got[0]["body"].as_str().unwrap();
    assert!(body.contains(&format!("#token={}", a.token)), "{body}");
    assert!(gw
        .auth
        .lock()
        .unwrap()
        .iter()
        .all(|h| h.as_deref() == Some("Bearer gw-secret")));
    assert!(sink.mails().is_empty(), "SMS only, no e-mail as well");
    assert_eq!(m.status, OutboxStatus::Sent);
    assert_eq!(m.channel, Some(Channel::Sms));
    assert_eq!(m.attempts, 3);
    assert_eq!(m.last_error, None);
    assert_eq!(m.body, None);
    let s = stats(&db.store).await;
    assert_eq!((s.pending, s.done, s.dead), (0, 1, 0));
    let actions = message_actions(&db.store, &m.id).await;
    assert_eq!(
        actions,
        [
            "notify.enqueue",
            "notify.retry",
            "notify.retry",
            "notify.sent"
        ]
    );
}

backends!(a_message_that_never_gets_through_is_dead_lettered_and_marked_failed);
async fn a_message_that_never_gets_through_is_dead_lettered_and_marked_failed(db: TestDb) {
    let (gw, url) = Gateway::start(usize::MAX).await;
    let e = env(&db, config(None, Some(&url)));
    let o = person_with_order(&db.store, "dara", Some("+41 79 100 00 04"), None, "en").await;
    let a = issue(&e, &o, "2026-03-10#2").await;
    // max_attempts = 3: attempts at 0 s, 10 s and 30 s.
    for _ in 0..4 {
        e.notifier
            .deliver_due("w1", Duration::minutes(5))
            .await
            .unwrap();
        e.clock.advance(Duration::seconds(20));
    }
    assert_eq!(gw.calls(), 3);
    let s = stats(&db.store).await;
    assert_eq!((s.pending, s.dead), (0, 1));
    let m = prompt_message(&db.store, &a).await;
    assert_eq!(m.status, OutboxStatus::Failed);
    assert_eq!(m.attempts, 3);
    assert_eq!(
        m.last_error.as_deref(),
        Some("SMS webhook 127.0.0.1 answered HTTP 500")
    );
    assert_eq!(m.body, None, "the token goes when the message is given up");
    let actions = message_actions(&db.store, &m.id).await;
    assert_eq!(
        actions,
        [
            "notify.enqueue",
            "notify.retry",
            "notify.retry",
            "notify.fail"
        ]
    );
}

backends!(without_a_usable_channel_the_message_is_recorded_as_failed_with_the_reason);
async fn without_a_usable_channel_the_message_is_recorded_as_failed_with_the_reason(db: TestDb) {
    // E-mail is configured but the person has only a phone.
    let (sink, port) = SmtpSink::start().await;
    let e = env(&db, config(Some(port), None));
    let o = person_with_order(&db.store, "emil", Some("+41 79 100 00 05"), None, "en").await;
    let a = issue(&e, &o, "2026-03-10#0").await;
    let m = prompt_message(&db.store, &a).await;
    assert_eq!(m.status, OutboxStatus::Failed);
    assert_eq!(m.channel, None);
    assert_eq!(
        m.last_error.as_deref(),
        Some(
            "no configured channel reaches this person (phone: yes, e-mail: no; \
             SMS sender configured: no, e-mail sender configured: yes)"
        )
    );
    assert_eq!(m.body, None);
    assert!(!m.body_redacted.contains(&a.token));
    assert_eq!(stats(&db.store).await, QueueStats::default(), "no job");
    e.notifier
        .deliver_due("w1", Duration::minutes(5))
        .await
        .unwrap();
    assert!(sink.mails().is_empty());

    // No public URL: no link can be made, whatever the channel.
    let mut cfg = config(Some(port), None);
    cfg.public_url = None;
    let e = env(&db, cfg);
    let o = person_with_order(&db.store, "fay", None, Some("fay@example.org"), "en").await;
    let a = issue(&e, &o, "2026-03-10#0").await;
    let m = prompt_message(&db.store, &a).await;
    assert_eq!(m.status, OutboxStatus::Failed);
    assert!(m
        .last_error
        .unwrap()
        .contains("public_url is not configured"));
}

backends!(a_message_past_its_deadline_is_not_sent);
async fn a_message_past_its_deadline_is_not_sent(db: TestDb) {
    let (sink, port) = SmtpSink::start().await;
    let e = env(&db, config(Some(port), None));
    let o = person_with_order(&db.store, "gus", None, Some("gus@example.org"), "en").await;
    let a = issue(&e, &o, "2026-03-10#0").await;
    e.clock.advance(Duration::minutes(21));
    let r = e
        .notifier
        .deliver_due("w1", Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(r.sent, 0);
    assert!(sink.mails().is_empty());
    let m = prompt_message(&db.store, &a).await;
    assert_eq!(m.status, OutboxStatus::Failed);
    assert_eq!(
        m.last_error.as_deref(),
        Some("expired before it could be delivered")
    );
    assert_eq!(m.body, None);
}

backends!(
    the_worker_announces_each_scheduled_prompt_once_through_the_outbox,
    flavor = "multi_thread",
    worker_threads = 2
);
/// The worker with the outbox: a simulated day of two orders on two
/// workers; each scheduled prompt reaches its person exactly once, each
/// with its own token.
async fn the_worker_announces_each_scheduled_prompt_once_through_the_outbox(db: TestDb) {
    let (sink, port) = SmtpSink::start().await;
    let (gw, url) = Gateway::start(0).await;
    // The day after the orders start, so all of its slots fall inside them.
    let day = Utc.with_ymd_and_hms(2026, 3, 11, 0, 0, 0).unwrap();
    let cfg = config(Some(port), Some(&url));
    let clock = Arc::new(TestClock(Mutex::new(day)));
    let mut workers = Vec::new();
    for _ in 0..2 {
        // Each its own pool, as two instances would have.
        let store = db.reopen().await;
        let app = App::builder(cfg.clone(), store)
            .clock(clock.clone())
            .build()
            .unwrap();
        workers.push(app.worker().expect("a worker"));
    }
    person_with_order(&db.store, "hana", None, Some("hana@example.org"), "ru").await;
    person_with_order(&db.store, "ivan", Some("+41 79 100 00 09"), None, "en").await;
    let mut sent = 0;
    while clock.now() < day + Duration::hours(24) {
        let (a, b) = tokio::join!(workers[0].pass(), workers[1].pass());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.failed_jobs + b.failed_jobs, 0);
        sent += a.messages_sent + b.messages_sent;
        clock.advance(Duration::minutes(5));
    }
    // Per person: 3 prompts, and a symptom form for each of the two local
    // (Zurich) days this UTC day touches.
    assert_eq!(sent, 10);
    let mails = sink.mails();
    let sms = gw.accepted();
    assert_eq!((mails.len(), sms.len()), (5, 5));
    let mut tokens: HashMap<(&str, String), usize> = HashMap::new();
    for text in mails
        .iter()
        .map(Mail::text)
        .chain(sms.iter().map(|v| v["body"].as_str().unwrap().to_owned()))
    {
        let kind = if text.contains("/checkin#token=") {
            "prompt"
        } else {
            assert!(text.contains("/symptoms#token="), "{text}");
            "form"
        };
        let t = text.split("#token=").nth(1).unwrap();
        let t: String = t
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        *tokens.entry((kind, t)).or_default() += 1;
    }
    let count = |k: &str| tokens.keys().filter(|(kind, _)| *kind == k).count();
    assert_eq!(count("prompt"), 6, "six prompts, six tokens");
    assert_eq!(count("form"), 4, "four forms, four tokens");
    assert!(
        tokens.values().all(|n| *n == 1),
        "each sent once: {tokens:?}"
    );
    assert!(mails.iter().all(|m| m.rcpt == ["hana@example.org"]));
    assert!(sms.iter().all(|v| v["to"] == "+41791000009"));
}

backends!(officer_prompts_and_forms_issued_now_go_out_through_the_outbox);
/// An officer's "prompt now" and "symptom form now" reach the person through
/// the outbox (once each), and the daily-form texts come in the person's
/// language with the form link.
async fn officer_prompts_and_forms_issued_now_go_out_through_the_outbox(db: TestDb) {
    let (sink, port) = SmtpSink::start().await;
    let e = env(&db, config(Some(port), None));
    let order = person_with_order(&db.store, "vera", None, Some("vera@example.org"), "ru").await;
    let (_, officer) = lazaret_server::auth::create_token(
        &db.store,
        lazaret_core::user::Role::Investigator,
        "t",
        "t",
        t0(),
    )
    .await
    .unwrap();
    let (listener, base) = crate::support::bind_local().await;
    let (tx, server) = crate::support::spawn_server_joinable(listener, &e.app);
    let client = reqwest::Client::new();
    let post = |path: String| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(&officer)
            .send()
    };
    let r = post(format!("/api/v1/orders/{}/prompts", order.id))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let prompt: Value = r.json().await.unwrap();
    assert_eq!(prompt["announced"], true, "{prompt}");
    let r = post(format!("/api/v1/orders/{}/symptom-forms", order.id))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let form: Value = r.json().await.unwrap();
    assert_eq!(form["announced"], true, "{form}");

    let report = e
        .notifier
        .deliver_due("w1", Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(report.sent, 2, "{:?}", db.kind());
    let mails = sink.mails();
    assert_eq!(mails.len(), 2);
    let texts: Vec<String> = mails.iter().map(|m| m.text()).collect();
    let checkin = format!("/checkin#token={}", prompt["token"].as_str().unwrap());
    let symptoms = format!("/symptoms#token={}", form["token"].as_str().unwrap());
    assert!(texts.iter().any(|t| t.contains(&checkin)), "{texts:?}");
    let form_mail = texts
        .iter()
        .find(|t| t.contains(&symptoms))
        .unwrap_or_else(|| panic!("no form link in {texts:?}"));
    assert!(form_mail.contains("как вы себя чувствуете"), "{form_mail}");
    // A second form the same day is a second message, not a duplicate.
    let r = post(format!("/api/v1/orders/{}/symptom-forms", order.id))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let report = e
        .notifier
        .deliver_due("w1", Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    let _ = tx.send(());
    server.await.unwrap();
}

// ---------------------------------------------------------------------------
// Issue #11, defects 3 and 4: delivery decides the outcome of an unanswered
// prompt, and issuing is one transaction.

/// The open alerts of one kind, with their evidence.
async fn alerts_of_kind(store: &Store, kind: AlertKind) -> Vec<lazaret_core::alert::Alert> {
    store
        .list_alerts(
            &AlertFilter {
                kind: Some(kind),
                ..AlertFilter::default()
            },
            &PageRequest::default(),
        )
        .await
        .unwrap()
        .items
}

/// Runs worker passes a minute apart until `until` has passed.
async fn run_until(
    e: &Env,
    w: &Worker,
    until: DateTime<Utc>,
) -> lazaret_server::worker::PassReport {
    let mut total = lazaret_server::worker::PassReport::default();
    while e.clock.now() <= until {
        let r = w.run_jobs().await.unwrap();
        total.missed += r.missed;
        total.not_delivered += r.not_delivered;
        total.messages_sent += r.messages_sent;
        e.clock.advance(Duration::minutes(1));
    }
    total
}

backends!(a_prompt_that_never_reached_the_person_is_not_delivered_not_missed);
/// A prompt whose message never reached the person (no channel reaches
/// them; the SMS gateway is down until the retries run out) closes as
/// `not_delivered` with a `not_delivered` alert that says why, never as
/// `missed`, and does not count towards a welfare check; a delivered one
/// is `missed` with the delivery in its evidence.
async fn a_prompt_that_never_reached_the_person_is_not_delivered_not_missed(db: TestDb) {
    let (sink, port) = SmtpSink::start().await;
    let (gw, url) = Gateway::start(usize::MAX).await;
    let e = env(&db, config(Some(port), Some(&url)));
    let w = e.app.worker().unwrap();
    let nobody = person_with_order(&db.store, "nina", None, None, "en").await;
    let down = person_with_order(&db.store, "omar", Some("+41 79 100 00 11"), None, "en").await;
    let mailed = person_with_order(&db.store, "pia", None, Some("pia@example.org"), "en").await;
    let mut prompts = Vec::new();
    for (i, slot) in ["2026-03-10#0", "2026-03-10#1"].into_iter().enumerate() {
        for o in [&nobody, &down, &mailed] {
            prompts.push((o.id.clone(), issue(&e, o, slot).await.prompt_id));
        }
        // Window (20 min) and late grace (10 min) pass unanswered.
        let r = run_until(&e, &w, t0() + Duration::minutes(31 + 40 * i as i64)).await;
        assert_eq!((r.not_delivered, r.missed), (2, 1), "{r:?} {:?}", db.kind());
        e.clock.advance(Duration::minutes(8));
    }
    assert_eq!(gw.calls(), 6, "three tries per prompt, then given up");
    assert_eq!(sink.mails().len(), 2);

    for (order, prompt) in &prompts {
        let status = db.store.get_prompt(prompt).await.unwrap().unwrap().status;
        let expected = if *order == mailed.id {
            PromptStatus::Missed
        } else {
            PromptStatus::NotDelivered
        };
        assert_eq!(status, expected, "{order}");
    }
    let undelivered = alerts_of_kind(&db.store, AlertKind::NotDelivered).await;
    assert_eq!(undelivered.len(), 4, "{undelivered:?}");
    for a in &undelivered {
        let d = &a.evidence["delivery"];
        if a.order_id.as_ref() == Some(&nobody.id) {
            assert_eq!(d["status"], "no_channel", "{d}");
            assert!(
                d["error"]
                    .as_str()
                    .unwrap()
                    .starts_with("no configured channel reaches this person"),
                "{d}"
            );
        } else {
            assert_eq!(a.order_id.as_ref(), Some(&down.id));
            assert_eq!(d["status"], "failed", "{d}");
            assert_eq!(d["channel"], "sms");
            assert_eq!(d["attempts"], 3);
            assert!(d["error"].as_str().unwrap().contains("HTTP 500"), "{d}");
        }
    }
    let missed = alerts_of_kind(&db.store, AlertKind::MissedCheckin).await;
    assert_eq!(missed.len(), 2, "{missed:?}");
    for a in &missed {
        assert_eq!(a.order_id.as_ref(), Some(&mailed.id));
        let d = &a.evidence["delivery"];
        assert_eq!(d["status"], "sent", "{d}");
        assert_eq!(d["channel"], "email");
        assert!(d["sent_at"].is_string(), "{d}");
    }
    // Two misses of a person who was told make a welfare check; two
    // prompts that never reached a person do not.
    let welfare = alerts_of_kind(&db.store, AlertKind::WelfareCheck).await;
    assert_eq!(welfare.len(), 1, "{welfare:?}");
    assert_eq!(welfare[0].order_id.as_ref(), Some(&mailed.id));
}

backends!(a_transient_sender_failure_is_retried_and_the_prompt_delivered);
/// A sender that fails once is retried by the notify queue: the prompt is
/// delivered, and an unanswered one is then an ordinary miss.
async fn a_transient_sender_failure_is_retried_and_the_prompt_delivered(db: TestDb) {
    let (gw, url) = Gateway::start(1).await;
    let e = env(&db, config(None, Some(&url)));
    let w = e.app.worker().unwrap();
    let o = person_with_order(&db.store, "quin", Some("+41 79 100 00 12"), None, "en").await;
    let a = issue(&e, &o, "2026-03-10#0").await;
    let r = run_until(&e, &w, t0() + Duration::minutes(31)).await;
    assert_eq!(
        (r.messages_sent, r.missed, r.not_delivered),
        (1, 1, 0),
        "{r:?}"
    );
    assert_eq!((gw.calls(), gw.accepted().len()), (2, 1));
    let m = prompt_message(&db.store, &a).await;
    assert_eq!((m.status, m.attempts), (OutboxStatus::Sent, 2));
    let missed = alerts_of_kind(&db.store, AlertKind::MissedCheckin).await;
    assert_eq!(missed.len(), 1);
    assert_eq!(missed[0].evidence["delivery"]["status"], "sent");
    assert_eq!(missed[0].evidence["delivery"]["attempts"], 2);
    assert!(alerts_of_kind(&db.store, AlertKind::NotDelivered)
        .await
        .is_empty());
}

/// Renders a message the store cannot write (its person does not exist),
/// as a crash between the steps of issuing would leave things.
struct Broken;

impl Announcer for Broken {
    fn prompt_message(&self, a: &Announcement) -> Result<NewOutboxMessage, AnnounceError> {
        Ok(NewOutboxMessage {
            id: format!("broken-{}", a.prompt_id),
            dedupe_key: prompt_message_key(&a.prompt_id),
            person_id: PersonId::parse("nobody-at-all").unwrap(),
            order_id: Some(a.order_id.clone()),
            kind: "checkin_prompt".into(),
            channel: Some(Channel::Email),
            language: "en".into(),
            recipient: Some("x@example.org".into()),
            subject: "s".into(),
            body: "b".into(),
            body_redacted: "b".into(),
            expires_at: a.deadline,
            created_at: a.at,
            max_attempts: 3,
            undeliverable: None,
        })
    }
}

backends!(issuing_a_prompt_is_one_transaction_and_a_failed_issue_is_retried);
/// Issuing writes the prompt, its deadline job and its message together or
/// not at all: when the message cannot be written, no prompt is left open
/// without a deadline or a message, and the issue job's retry issues the
/// slot with its message. Likewise a miss and its welfare escalation.
async fn issuing_a_prompt_is_one_transaction_and_a_failed_issue_is_retried(db: TestDb) {
    let (sink, port) = SmtpSink::start().await;
    let e = env(&db, config(Some(port), None));
    let o = person_with_order(&db.store, "rosa", None, Some("rosa@example.org"), "en").await;
    let nothing_written = || async {
        assert_eq!(db.store.count_prompts().await.unwrap(), 0);
        assert_eq!(
            db.store.queue_stats(DEADLINE_QUEUE).await.unwrap(),
            QueueStats::default()
        );
        assert_eq!(stats(&db.store).await, QueueStats::default());
        let events = db
            .store
            .audit_events_for("order", o.id.as_str())
            .await
            .unwrap();
        assert!(
            events.iter().all(|e| e.action != "prompt.issue"),
            "{events:?}"
        );
    };
    let failed = issue_prompt(
        &e.state.store,
        &e.state.config,
        Some(&Broken),
        &o,
        "2026-03-10#0",
        t0(),
        "test",
    )
    .await;
    assert!(
        matches!(
            failed,
            Err(IssueError::Store(StoreError::MissingReference(_)))
        ),
        "{:?}",
        failed.err()
    );
    nothing_written().await;

    // The scheduler's issue job: fails with the broken announcer, and
    // its retry (after the back-off) issues the slot with its message.
    db.store
        .enqueue(
            &NewJob {
                queue: ISSUE_QUEUE.into(),
                payload: serde_json::json!({"order_id": o.id, "slot": "2026-03-10#0"}),
                run_at: t0(),
                max_attempts: 5,
                dedupe_key: Some(format!("issue:{}:2026-03-10#0", o.id)),
            },
            t0(),
        )
        .await
        .unwrap();
    let broken = e.app.worker_with(Arc::new(Broken));
    let r = broken.run_jobs().await.unwrap();
    assert_eq!((r.issued, r.failed_jobs), (0, 1), "{r:?}");
    nothing_written().await;
    e.clock.advance(Duration::seconds(11));
    let w = e.app.worker().unwrap();
    let r = w.run_jobs().await.unwrap();
    assert_eq!((r.issued, r.announced, r.messages_sent), (1, 1, 1), "{r:?}");
    let prompts = db.store.prompts_of_order(&o.id, 10).await.unwrap();
    assert_eq!(prompts.len(), 1);
    let p = &prompts[0];
    let m = db
        .store
        .get_message_by_dedupe_key(&prompt_message_key(&p.id))
        .await
        .unwrap()
        .expect("the prompt's message");
    assert_eq!(m.status, OutboxStatus::Sent);
    assert_eq!(sink.mails().len(), 1);
    assert_eq!(
        db.store.queue_stats(DEADLINE_QUEUE).await.unwrap().pending,
        1
    );

    // Closing at the deadline: the miss, its alert and the welfare
    // escalation are one transaction; an escalation that cannot be
    // written leaves the prompt open for the deadline job's retry.
    let alert = |kind, person: &str, cause: String| NewAlert {
        id: AlertId::generate(),
        kind,
        person_id: PersonId::parse(person).unwrap(),
        order_id: Some(o.id.clone()),
        cause,
        evidence: serde_json::json!({}),
        at: e.clock.now(),
    };
    let miss = alert(AlertKind::MissedCheckin, "rosa", format!("prompt:{}", p.id));
    let bad = alert(
        AlertKind::WelfareCheck,
        "nobody-at-all",
        format!("welfare:{}", p.id),
    );
    let closed = db
        .store
        .close_unanswered_prompt(
            &p.id,
            PromptStatus::Missed,
            &miss,
            Some(&bad),
            &audit("prompt.miss"),
        )
        .await;
    assert!(
        matches!(closed, Err(StoreError::MissingReference(_))),
        "{closed:?}"
    );
    assert_eq!(
        db.store.get_prompt(&p.id).await.unwrap().unwrap().status,
        PromptStatus::Open
    );
    assert!(alerts_of_kind(&db.store, AlertKind::MissedCheckin)
        .await
        .is_empty());
    let good = alert(AlertKind::WelfareCheck, "rosa", format!("welfare:{}", p.id));
    assert!(db
        .store
        .close_unanswered_prompt(
            &p.id,
            PromptStatus::Missed,
            &miss,
            Some(&good),
            &audit("prompt.miss")
        )
        .await
        .unwrap());
    assert_eq!(
        alerts_of_kind(&db.store, AlertKind::MissedCheckin)
            .await
            .len(),
        1
    );
    assert_eq!(
        alerts_of_kind(&db.store, AlertKind::WelfareCheck)
            .await
            .len(),
        1
    );
}
