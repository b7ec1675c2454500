//! Two real `lazaret serve` processes on one PostgreSQL database run a
//! simulated day of 1,000 orders (issue #5): every prompt is scheduled and
//! announced exactly once, every missed prompt is closed once, and both
//! processes do the work.
//!
//! Both servers run the same `[clock]` (simulated, 360× real time, one
//! shared anchor) and send SMS to a webhook sink inside this test. The
//! orders are made through the API (persons, a bulk CSV of orders, one
//! enrolment from a real photo); the other orders get that same template
//! sealed for them through the store, as the enrolment route does, because
//! running the face network 1,000 times would only measure the face engine.
//! Nobody answers, so every prompt must end missed with one alert.

use crate::support::{listening_on, stdout_lines, KEY};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone as _, Timelike, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::OrderId;
use lazaret_core::order::TimeZone;
use lazaret_server::state::SimulatedClock;
use lazaret_server::template_crypto::TemplateKey;
use lazaret_server::Clock;
use lazaret_store::testing::{TestDb, AUDIT_KEY_HEX};
use lazaret_store::EnrollmentRecord;
use serde_json::{json, Value};
use sqlx::Row;

/// The fixture photos kept in the repository (tests/fixtures/faces).
#[path = "../../../../tests/fixtures/mod.rs"]
pub(crate) mod fixtures;

const ORDERS: usize = 1000;
const PER_DAY: usize = 3;
/// Simulated seconds per real second: a day in four minutes.
const SPEED: f64 = 360.0;
/// Real seconds from the test's start to the anchor, for starting both
/// servers and making the orders before the first prompt can fall.
const SETUP_SECS: i64 = 60;
const ZONES: [&str; 2] = ["Europe/Zurich", "Europe/London"];

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
}

fn local(zone: &str, d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    TimeZone::parse(zone)
        .unwrap()
        .tz()
        .from_local_datetime(&d.and_hms_opt(h, m, 0).unwrap())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

/// A `serve` process whose stderr is collected; killed if the test fails.
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(db: &str, env: &[(&str, String)], dir: &std::path::Path) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lazaret"));
        cmd.env_remove("LAZARET_DATABASE_URL")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env("LAZARET_LOG", "info")
            .current_dir(dir)
            .args(["--db", db, "serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = stdout_lines(&mut child);
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let reader = std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let mut server = Server {
            child,
            base: String::new(),
            log,
            reader: Some(reader),
        };
        // Read once the server exists, so a failure here still kills it.
        server.base = listening_on(&stdout).0;
        server
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGTERM, then waits for a clean exit; returns all of stderr.
    fn stop(mut self) -> String {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + StdDuration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop on SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(StdDuration::from_millis(50));
        };
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let log = self.log();
        assert!(status.success(), "{status:?}\n{log}");
        log
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server's `/healthz` once it answers.
/// Its details (the clock, the time) need an officer token.
async fn health(http: &reqwest::Client, s: &Server, token: &str) -> Value {
    let deadline = Instant::now() + StdDuration::from_secs(60);
    loop {
        let asked = http
            .get(format!("{}/healthz", s.base))
            .bearer_auth(token)
            .send()
            .await;
        if let Ok(r) = asked {
            if r.status().is_success() {
                return r.json().await.unwrap();
            }
        }
        assert!(
            Instant::now() < deadline,
            "serve never answered /healthz:\n{}",
            s.log()
        );
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

fn sim_now(h: &Value) -> DateTime<Utc> {
    h["now"].as_str().unwrap().parse().unwrap()
}

/// A number from the `worker stopped` line of a log (`name=N`).
fn stopped_count(log: &str, name: &str) -> usize {
    let line = log
        .lines()
        .find(|l| l.contains("worker stopped"))
        .unwrap_or_else(|| panic!("no `worker stopped` line:\n{log}"));
    let pat = format!(" {name}=");
    let at = line
        .find(&pat)
        .unwrap_or_else(|| panic!("{name} in {line}"))
        + pat.len();
    line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

type Received = Arc<Mutex<Vec<String>>>;

/// The SMS gateway: records the `message_id` of every message it accepts.
async fn sms_sink() -> (String, Received) {
    async fn accept(State(got): State<Received>, Json(v): Json<Value>) -> &'static str {
        let id = v["message_id"].as_str().unwrap_or_default().to_owned();
        got.lock().unwrap().push(id);
        "ok"
    }
    let got: Received = Arc::default();
    let app = Router::new()
        .route("/sms", post(accept))
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

fn multipart_photo(bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "lazaret-drill-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_run_a_simulated_day_of_1000_orders_exactly_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    #[allow(
        clippy::disallowed_methods,
        reason = "the simulated day starts at the wall-clock instant the servers anchor to"
    )]
    let t0 = Utc::now();
    let wall = Instant::now();
    let d = day();
    // Simulated time reaches `start` at the anchor, when the orders exist;
    // until then it runs from the evening before.
    let start = local("Europe/London", d, 6, 30);
    let anchor = t0 + Duration::seconds(SETUP_SECS);
    let first_prompt_at = local(ZONES[0], d, 8, 0).min(local(ZONES[1], d, 8, 0));
    let ends = |zone: &str| local(zone, d, 23, 0);
    let sim_end = ends(ZONES[0]).max(ends(ZONES[1])) + Duration::minutes(10);

    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lazaret"))
        .env_remove("LAZARET_DATABASE_URL")
        .env("LAZARET_AUDIT_KEY", AUDIT_KEY_HEX)
        .current_dir(dir.path())
        .args(["--db", &db.url, "token", "create", "--role", "investigator"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();

    let (sms_url, received) = sms_sink().await;
    // The test's own store keys the chain (`TestDb`), so every process
    // that appends to it needs the same key.
    let env = [
        ("LAZARET_TEMPLATE_KEY", KEY.to_owned()),
        ("LAZARET_AUDIT_KEY", AUDIT_KEY_HEX.to_owned()),
        ("LAZARET_PUBLIC_URL", "https://drill.example".to_owned()),
        ("LAZARET_NOTIFY__SMS__WEBHOOK_URL", sms_url),
        ("LAZARET_CLOCK__MODE", "simulated".to_owned()),
        ("LAZARET_CLOCK__START", start.to_rfc3339()),
        (
            "LAZARET_CLOCK__ANCHOR",
            anchor.timestamp_millis().to_string(),
        ),
        ("LAZARET_CLOCK__SPEED", SPEED.to_string()),
        ("LAZARET_WORKER__INTERVAL_SECS", "0.2".to_owned()),
        // Thousands of officer requests in the setup minute, by one token.
        ("LAZARET_LIMITS__OFFICER_PER_MINUTE", "1000000".to_owned()),
    ];
    let servers = [
        Server::start(&db.url, &env, dir.path()),
        Server::start(&db.url, &env, dir.path()),
    ];
    let http = reqwest::Client::new();
    for s in &servers {
        let h = health(&http, s, &token).await;
        assert_eq!(h["clock"], "simulated", "{h}");
    }

    // Persons through both servers' API, a few requests at a time.
    let mut zone_of: HashMap<String, &str> = HashMap::new();
    let mut tasks = tokio::task::JoinSet::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(8));
    for i in 0..ORDERS {
        let url = format!("{}/api/v1/persons", servers[i % 2].base);
        let (http, token, limit) = (http.clone(), token.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let r = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({
                    "id": format!("drill-p{i:04}"),
                    "full_name": format!("Drill Person {i}"),
                    "phone": format!("+4179{i:07}"),
                    "language": if i % 3 == 0 { "ru" } else { "en" },
                }))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    // Each order from local midnight to 23:00 local time on the day.
    let mut csv =
        String::from("person_id,address,lat,lon,radius_m,starts_at,ends_at,basis,time_zone\n");
    for i in 0..ORDERS {
        let zone = ZONES[i % 2];
        csv.push_str(&format!(
            "drill-p{i:04},Drill Street {i},47.3769,8.5417,100,{},{},arrival:DRILL,{zone}\n",
            local(zone, d, 0, 0).to_rfc3339(),
            ends(zone).to_rfc3339(),
        ));
    }
    let r = http
        .post(format!("{}/api/v1/orders/bulk", servers[0].base))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let bulk: Value = r.json().await.unwrap();
    assert_eq!(bulk["created"], ORDERS, "{bulk}");
    let mut orders = Vec::new();
    for row in bulk["results"].as_array().unwrap() {
        let person = row["person_id"].as_str().unwrap();
        let i: usize = person.trim_start_matches("drill-p").parse().unwrap();
        let order = row["order_id"].as_str().unwrap().to_owned();
        zone_of.insert(order.clone(), ZONES[i % 2]);
        orders.push(order);
    }

    // One real enrolment through the API, its template sealed for the rest.
    let photo = fixtures::photo(fixtures::ENROL);
    let (ctype, body) = multipart_photo(&photo);
    let r = http
        .post(format!(
            "{}/api/v1/orders/{}/enrollment",
            servers[1].base, orders[0]
        ))
        .bearer_auth(&token)
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let key = TemplateKey::from_hex(KEY).unwrap();
    let first = db
        .store
        .get_enrollment(&OrderId::parse(&orders[0]).unwrap())
        .await
        .unwrap()
        .expect("the API stored the enrolment");
    let template = key
        .open(&orders[0], &first.ciphertext, &first.nonce)
        .unwrap();
    // The servers' clock, read here as they read it.
    let clock = SimulatedClock {
        start,
        anchor,
        speed: SPEED,
    };
    for o in &orders[1..] {
        let (ciphertext, nonce) = key.seal(o, &template);
        let at = clock.now();
        let record = EnrollmentRecord {
            order_id: OrderId::parse(o).unwrap(),
            ciphertext,
            nonce,
            key_id: "k1".into(),
            model: first.model.clone(),
            created_at: at,
        };
        let audit = AuditRecord {
            at,
            actor: "test:drill-setup".into(),
            action: "enrollment.create".into(),
            subject_type: "order".into(),
            subject_id: o.clone(),
            details: format!("template of order {} reused for the drill", orders[0]),
        };
        db.store.put_enrollment(&record, &audit).await.unwrap();
    }
    // The day's slots must be planned before the first can fall.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    loop {
        let planned: i64 =
            sqlx::query_scalar("SELECT count(*) FROM jobs WHERE queue = 'prompt.issue'")
                .fetch_one(&pool)
                .await
                .unwrap();
        if planned as usize == ORDERS * PER_DAY {
            break;
        }
        let now = clock.now();
        assert!(
            now < first_prompt_at - Duration::minutes(15),
            "only {planned} slots planned by simulated {now}: raise SETUP_SECS"
        );
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
    let ready = sim_now(&health(&http, &servers[0], &token).await);
    let setup_wall = wall.elapsed();
    assert!(
        ready < first_prompt_at - Duration::minutes(15),
        "setup took {setup_wall:?}, until simulated {ready}: raise SETUP_SECS"
    );

    // Let the simulated day pass.
    loop {
        let now = sim_now(&health(&http, &servers[0], &token).await);
        if now >= sim_end {
            break;
        }
        for s in &servers {
            assert!(!s.log().contains("panicked"), "{}", s.log());
        }
        let left = (sim_end - now).num_milliseconds() as f64 / SPEED;
        tokio::time::sleep(StdDuration::from_millis(left.clamp(50.0, 2_000.0) as u64)).await;
    }
    let [a, b] = servers;
    let logs = [a.stop(), b.stop()];
    let run_wall = wall.elapsed();
    // Kept for a look after a failure.
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    for (i, log) in logs.iter().enumerate() {
        let path = tmp.join(format!("simulated_day-server{i}.log"));
        std::fs::write(&path, log).unwrap();
        eprintln!(
            "server {i} log: {} ({} `not prompted` lines, {} warnings)",
            path.display(),
            log.matches("not prompted").count(),
            log.matches(" WARN ").count()
        );
    }
    for log in &logs {
        assert!(log.contains("SIMULATED CLOCK"), "{log}");
        assert!(log.contains("shut down cleanly"), "{log}");
    }

    let ms = |v: i64| Utc.timestamp_millis_opt(v).unwrap();

    // Scheduled once: one issue job per slot, all run, at the planned times.
    let mut planned: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
    for r in sqlx::query("SELECT dedupe_key, run_at, status FROM jobs WHERE queue = 'prompt.issue'")
        .fetch_all(&pool)
        .await
        .unwrap()
    {
        let key: String = r.get("dedupe_key");
        let status: String = r.get("status");
        assert_eq!(status, "done", "{key}");
        let rest = key.strip_prefix("issue:").unwrap();
        let (order, slot) = rest.rsplit_once(':').unwrap();
        let dup = planned.insert((order.to_owned(), slot.to_owned()), ms(r.get("run_at")));
        assert!(dup.is_none(), "{key} twice");
    }
    assert_eq!(planned.len(), ORDERS * PER_DAY, "issue jobs");

    let rows = sqlx::query("SELECT id, order_id, slot, issued_at, deadline, status FROM prompts")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows.len(), ORDERS * PER_DAY, "prompts");
    let mut per_order: BTreeMap<String, Vec<DateTime<Utc>>> = BTreeMap::new();
    let mut prompt_ids = HashSet::new();
    let mut closed: HashMap<String, (String, DateTime<Utc>)> = HashMap::new();
    let mut max_late = Duration::zero();
    for r in &rows {
        let id: String = r.get("id");
        let order: String = r.get("order_id");
        let slot: String = r.get("slot");
        let status: String = r.get("status");
        // Nobody answered: missed, or not delivered where the message was
        // still waiting in the outbox when the window closed (at 360x a
        // window is seconds of wall time; a loaded machine can lag that
        // much). Which it was is checked against the outbox below.
        assert!(
            status == "missed" || status == "not_delivered",
            "prompt {id}: nobody answered, got {status}"
        );
        closed.insert(id.clone(), (status, ms(r.get("deadline"))));
        let at = planned[&(order.clone(), slot.clone())];
        let issued = ms(r.get("issued_at"));
        let late = issued - at;
        // A prompt issued late still gets its whole window; how late is a
        // matter of machine load (reported below), not of correctness.
        assert!(
            late >= Duration::zero() && late < Duration::hours(1),
            "prompt {id} planned {at}, issued {issued}"
        );
        max_late = max_late.max(late);
        let tz = TimeZone::parse(zone_of[&order]).unwrap().tz();
        let l = at.with_timezone(&tz);
        assert_eq!(l.date_naive(), d, "{id} on the order's local day");
        let t = l.time();
        assert!(
            t >= NaiveTime::from_hms_opt(8, 0, 0).unwrap()
                && t.hour() * 60 + t.minute() + 20 <= 21 * 60,
            "{id} at local {t}"
        );
        assert!(prompt_ids.insert(id));
        per_order.entry(order).or_default().push(at);
    }
    assert_eq!(per_order.len(), ORDERS);
    for (order, times) in &mut per_order {
        times.sort();
        assert_eq!(times.len(), PER_DAY, "{order}");
        for w in times.windows(2) {
            assert!(w[1] - w[0] >= Duration::hours(2), "{order}: {times:?}");
        }
    }

    // Announced once: one outbox message per prompt (and per daily symptom
    // form), each sent, and each received exactly once by the gateway.
    let mut prompt_messages = HashMap::new();
    let mut outbox_ids = HashSet::new();
    let mut forms = 0;
    let mut not_delivered = 0;
    for r in sqlx::query("SELECT id, dedupe_key, status, sent_at FROM outbox")
        .fetch_all(&pool)
        .await
        .unwrap()
    {
        let id: String = r.get("id");
        let key: String = r.get("dedupe_key");
        let status: String = r.get("status");
        assert_eq!(status, "sent", "message {key}");
        if let Some(p) = key.strip_prefix("prompt:") {
            assert!(prompt_messages.insert(p.to_owned(), id.clone()).is_none());
            let (status, deadline) = &closed[p];
            if status == "not_delivered" {
                not_delivered += 1;
                let sent = ms(r.get::<i64, _>("sent_at"));
                assert!(
                    sent > *deadline,
                    "prompt {p} closed as not delivered, but its message went out at {sent}, before the deadline {deadline}"
                );
            }
        } else {
            assert!(key.starts_with("symptom_form:"), "{key}");
            forms += 1;
        }
        outbox_ids.insert(id);
    }
    assert_eq!(
        prompt_messages.keys().cloned().collect::<HashSet<_>>(),
        prompt_ids,
        "one message per prompt"
    );
    assert_eq!(forms, ORDERS, "one symptom form message per order");
    let got = received.lock().unwrap().clone();
    let distinct: HashSet<String> = got.iter().cloned().collect();
    assert_eq!(
        distinct.len(),
        got.len(),
        "a message reached the gateway twice"
    );
    assert_eq!(distinct, outbox_ids, "every message reached the gateway");

    // Closed once: one alert per prompt, of the kind its status says.
    let mut causes: HashSet<String> = HashSet::new();
    for r in sqlx::query(
        "SELECT cause, kind FROM alerts WHERE kind IN ('missed_checkin', 'not_delivered')",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    {
        let cause: String = r.get("cause");
        let kind: String = r.get("kind");
        let prompt = cause.strip_prefix("prompt:").unwrap_or(&cause);
        let want = match closed.get(prompt).map(|(s, _)| s.as_str()) {
            Some("missed") => "missed_checkin",
            _ => "not_delivered",
        };
        assert_eq!(kind, want, "{cause}");
        assert!(causes.insert(cause), "one alert per prompt");
    }
    let expected: HashSet<String> = prompt_ids.iter().map(|p| format!("prompt:{p}")).collect();
    assert_eq!(causes, expected, "one alert per prompt");
    if not_delivered > 0 {
        eprintln!("{not_delivered} prompts closed before their message went out (machine load)");
    }
    let welfare: i64 =
        sqlx::query_scalar("SELECT count(*) FROM alerts WHERE kind = 'welfare_check'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let completed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'completed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(completed as usize, ORDERS, "orders complete at their end");
    let unfinished: Vec<(String, String)> =
        sqlx::query_as("SELECT queue, status FROM jobs WHERE status <> 'done'")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(unfinished.is_empty(), "{unfinished:?}");

    // Both processes did the work, and together exactly all of it.
    let count = |name: &str| {
        logs.iter()
            .map(|l| stopped_count(l, name))
            .collect::<Vec<_>>()
    };
    let (issued, sent, missed) = (count("issued"), count("messages_sent"), count("missed"));
    for (i, log) in logs.iter().enumerate() {
        assert!(issued[i] > 0 && sent[i] > 0, "process {i} idle:\n{log}");
    }
    assert_eq!(issued.iter().sum::<usize>(), ORDERS * PER_DAY);
    assert_eq!(missed.iter().sum::<usize>(), ORDERS * PER_DAY);
    assert_eq!(sent.iter().sum::<usize>(), outbox_ids.len());
    pool.close().await;

    println!(
        "simulated day: {ORDERS} orders, {} prompts, {} messages ({} symptom forms), \
         {} missed alerts, {welfare} welfare checks; issued per process {issued:?}, \
         sent per process {sent:?}, missed per process {missed:?}; latest prompt issued \
         {}s after its planned time (simulated); setup {:.1}s, whole run {:.1}s wall at {SPEED}x",
        prompt_ids.len(),
        outbox_ids.len(),
        forms,
        causes.len(),
        max_late.num_seconds(),
        setup_wall.as_secs_f64(),
        run_wall.as_secs_f64(),
    );
}
