//! `kill -9` of real `lazaret` processes (issue #15, "Crashes and durability"), each
//! scenario on SQLite and PostgreSQL (`crash::…::sqlite`, `crash::…::postgres`):
//!
//! - an import killed mid-file (`lazaret import`, stopped by the test build's
//!   `import` crash hook after half the rows) stores nothing, and the same command
//!   run again stores the whole file;
//! - a `serve` killed while its worker delivers symptom-form messages (the SMS sink
//!   holds one request open and the test kills the server then): after a restart
//!   every form and message exists once, every message reaches the sink, the only
//!   message received twice is the one whose send was in flight (with the same
//!   `message_id`, for the gateway to drop), and every job is done;
//! - a `serve` killed during a check-in's face work (the `face` crash hook): the try
//!   stays reserved without an outcome; after a restart the same upload is answered
//!   `in_progress` while the reservation could still be a live verification, then,
//!   once it is older than twice `face_timeout_secs`, verified as the same first try:
//!   one try, one outcome, none lost.
//!
//! The kill points are the hooks and the sink, never timing; see
//! `lazaret_server::crash_hooks`.

use crate::support::{listening_on, stdout_lines, KEY};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use lazaret_store::testing::{TestDb, AUDIT_KEY_HEX};
use lazaret_store::{backends, BackendKind};
use serde_json::{json, Value};
use sqlx::Row;

/// The fixture photos kept in the repository (tests/fixtures/faces), included once.
use crate::simulated_day::fixtures;

/// The log line of a crash hook that has stopped its process.
const STALLED: &str = "crash hook: stalling";

fn lazaret(dir: &Path, env: &[(&str, String)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lazaret"));
    c.env_remove("LAZARET_DATABASE_URL")
        .env_remove("RUST_LOG")
        .env_remove("LAZARET_CRASH_STALL")
        .env("NO_COLOR", "1")
        .env("LAZARET_LOG", "info")
        // The test's own store keys the chain, so every process appending to it needs the key.
        .env("LAZARET_AUDIT_KEY", AUDIT_KEY_HEX)
        .current_dir(dir);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// A process whose stderr is collected; killed (SIGKILL) when dropped.
struct Proc {
    child: Child,
    log: Arc<Mutex<String>>,
    base: String,
}

impl Proc {
    fn spawn(mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        Proc {
            child,
            log,
            base: String::new(),
        }
    }

    /// `lazaret --db DB serve` on a free port, once it listens.
    fn serve(db: &str, dir: &Path, env: &[(&str, String)]) -> Proc {
        let mut cmd = lazaret(dir, env);
        cmd.args(["--db", db, "serve", "--listen", "127.0.0.1:0"]);
        let mut p = Proc::spawn(cmd);
        let stdout = stdout_lines(&mut p.child);
        p.base = listening_on(&stdout).0;
        p
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until stderr shows `needle`.
    async fn wait_for(&self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.log().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no `{needle}` within {within:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `kill -9`: SIGKILL, then reaps it; returns its stderr.
    fn kill9(mut self) -> String {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "{status:?}"
        );
        self.log()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a one-shot `lazaret` command to its end; its stdout, or a panic with stderr.
fn run_ok(dir: &Path, env: &[(&str, String)], args: &[&str]) -> String {
    let out = lazaret(dir, env).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "lazaret {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An investigator's API token (the last line of `token create`).
fn token(db: &str, dir: &Path) -> String {
    let out = run_ok(
        dir,
        &[],
        &["--db", db, "token", "create", "--role", "investigator"],
    );
    out.lines().last().unwrap().to_owned()
}

/// The test's own connection to the database the processes use.
enum Sql {
    Sqlite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

impl Sql {
    async fn open(db: &TestDb) -> Sql {
        match db.kind() {
            BackendKind::Sqlite => Sql::Sqlite(sqlx::SqlitePool::connect(&db.url).await.unwrap()),
            BackendKind::Postgres => Sql::Pg(sqlx::PgPool::connect(&db.url).await.unwrap()),
        }
    }

    async fn count(&self, sql: &str) -> i64 {
        match self {
            Sql::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
            Sql::Pg(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        }
    }

    /// Rows of text columns (each cell as text, NULL as None).
    async fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        macro_rules! texts {
            ($rows:expr) => {
                $rows
                    .iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| r.try_get::<Option<String>, _>(i).unwrap())
                            .collect()
                    })
                    .collect()
            };
        }
        match self {
            Sql::Sqlite(p) => texts!(sqlx::query(sql).fetch_all(p).await.unwrap()),
            Sql::Pg(p) => texts!(sqlx::query(sql).fetch_all(p).await.unwrap()),
        }
    }

    async fn close(self) {
        match self {
            Sql::Sqlite(p) => p.close().await,
            Sql::Pg(p) => p.close().await,
        }
    }
}

/// `audit verify` passes on the database.
fn audit_intact(db: &str, dir: &Path) {
    run_ok(dir, &[], &["--db", db, "audit", "verify"]);
}

// ---------------------------------------------------------------------------
// 1. An import killed mid-file.

/// Persons, residences and import audit events stored.
async fn counts(sql: &Sql) -> (i64, i64, i64) {
    (
        sql.count("SELECT COUNT(*) FROM persons").await,
        sql.count("SELECT COUNT(*) FROM residences").await,
        sql.count("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'import.%'")
            .await,
    )
}

const RESIDENTS: usize = 40_000;
const FIRST: usize = 500;

backends!(
    an_import_killed_mid_file_stores_nothing_and_its_retry_stores_it_all,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn an_import_killed_mid_file_stores_nothing_and_its_retry_stores_it_all(db: TestDb) {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    run_ok(
        dir.path(),
        &[],
        &[
            "sim",
            "generate",
            "--out",
            data.to_str().unwrap(),
            "--residents",
            &RESIDENTS.to_string(),
            "--flights",
            "1",
            "--rides",
            "1",
        ],
    );
    let full = data.join("residences.csv");
    let text = std::fs::read_to_string(&full).unwrap();
    let rows = text.lines().count() - 1;
    assert_eq!(rows, RESIDENTS);
    // Some data before, so that "nothing partial" compares with something.
    let first = dir.path().join("first.csv");
    let head: Vec<&str> = text.lines().take(FIRST + 1).collect();
    std::fs::write(&first, head.join("\n") + "\n").unwrap();
    let import = |file: &Path| {
        vec![
            "--db".to_owned(),
            db.url.clone(),
            "import".to_owned(),
            "residences".to_owned(),
            file.display().to_string(),
            "--batch-rows".to_owned(),
            "1000".to_owned(),
        ]
    };
    let args = import(&first);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok(dir.path(), &[], &args);

    let sql = Sql::open(&db).await;
    let before = counts(&sql).await;
    assert_eq!((before.0, before.1), (FIRST as i64, FIRST as i64));

    // Killed once half the file is written into its open transaction.
    let env = [
        ("LAZARET_CRASH_STALL", "import".to_owned()),
        ("LAZARET_CRASH_STALL_AT", (RESIDENTS / 2).to_string()),
    ];
    let mut cmd = lazaret(dir.path(), &env);
    cmd.args(import(&full));
    let p = Proc::spawn(cmd);
    p.wait_for(STALLED, Duration::from_secs(60)).await;
    // The import is in flight: its transaction holds written rows.
    match db.kind() {
        BackendKind::Sqlite => assert!(
            lazaret_store::testing::sqlite_write_lock_held(&db.url).await,
            "the import holds SQLite's write lock"
        ),
        BackendKind::Postgres => {
            let writing = sql
                .count(
                    "SELECT COUNT(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND backend_xid IS NOT NULL \
                     AND pid <> pg_backend_pid()",
                )
                .await;
            assert_eq!(writing, 1, "one transaction has written rows");
        }
    }
    let log = p.kill9();
    assert!(log.contains(STALLED), "{log}");

    assert_eq!(counts(&sql).await, before, "nothing of the killed import");
    audit_intact(&db.url, dir.path());

    // The same command again stores the whole file.
    let args = import(&full);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_ok(dir.path(), &[], &args);
    assert!(out.contains(&format!("{RESIDENTS} row(s)")), "{out}");
    let after = counts(&sql).await;
    assert_eq!(
        (after.0, after.1, after.2),
        (RESIDENTS as i64, RESIDENTS as i64, before.2 + 1),
        "the whole file and its one audit event"
    );
    audit_intact(&db.url, dir.path());
    sql.close().await;
    eprintln!(
        "crash import {:?}: {:.1}s",
        db.kind(),
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------
// 2. A server killed while its worker delivers.

const ORDERS: usize = 40;
/// The message the sink holds open: the kill comes while it is being sent.
const HELD: usize = 25;

/// The SMS gateway: records every `message_id` it accepts; the `HELD`th request
/// is never answered (the sender is killed meanwhile), and says so on `held`.
#[derive(Clone)]
struct Sink {
    got: Arc<Mutex<Vec<String>>>,
    held: Arc<tokio::sync::Notify>,
}

async fn sms_sink() -> (String, Sink) {
    async fn accept(State(s): State<Sink>, Json(v): Json<Value>) -> &'static str {
        let id = v["message_id"].as_str().unwrap_or_default().to_owned();
        let n = {
            let mut got = s.got.lock().unwrap();
            got.push(id);
            got.len()
        };
        if n == HELD {
            s.held.notify_one();
            std::future::pending::<()>().await;
        }
        "ok"
    }
    let sink = Sink {
        got: Arc::default(),
        held: Arc::default(),
    };
    let app = Router::new()
        .route("/sms", post(accept))
        .with_state(sink.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, sink)
}

/// Persons and orders in force now through the API (bulk CSV).
async fn make_orders(http: &reqwest::Client, base: &str, token: &str, n: usize) -> Vec<String> {
    #[allow(
        clippy::disallowed_methods,
        reason = "the servers run on the system clock; the orders must be in force on it"
    )]
    let now = chrono::Utc::now();
    for i in 0..n {
        let r = http
            .post(format!("{base}/api/v1/persons"))
            .bearer_auth(token)
            .json(&json!({
                "id": format!("crash-p{i:03}"),
                "full_name": format!("Crash Person {i}"),
                "phone": format!("+4179{i:07}"),
            }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
    let mut csv =
        String::from("person_id,address,lat,lon,radius_m,starts_at,ends_at,basis,time_zone\n");
    for i in 0..n {
        csv.push_str(&format!(
            "crash-p{i:03},Crash Street {i},47.3769,8.5417,100,{},{},arrival:CRASH,Europe/Zurich\n",
            (now - chrono::Duration::hours(1)).to_rfc3339(),
            (now + chrono::Duration::days(2)).to_rfc3339(),
        ));
    }
    let r = http
        .post(format!("{base}/api/v1/orders/bulk"))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{body}");
    assert_eq!(body["created"], n, "{body}");
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["order_id"].as_str().unwrap().to_owned())
        .collect()
}

backends!(
    a_server_killed_mid_delivery_loses_no_message_and_repeats_only_the_one_in_flight,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn a_server_killed_mid_delivery_loses_no_message_and_repeats_only_the_one_in_flight(
    db: TestDb,
) {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (sms_url, sink) = sms_sink().await;
    let env = [
        ("LAZARET_TEMPLATE_KEY", KEY.to_owned()),
        ("LAZARET_PUBLIC_URL", "https://crash.example".to_owned()),
        ("LAZARET_NOTIFY__SMS__WEBHOOK_URL", sms_url),
        ("LAZARET_NOTIFY__SMS__TIMEOUT_SECS", "2".to_owned()),
        // A killed worker's jobs are taken over after 4 s, not 5 min.
        ("LAZARET_WORKER__LEASE_SECS", "4".to_owned()),
        ("LAZARET_WORKER__INTERVAL_SECS", "0.2".to_owned()),
        ("LAZARET_FACE__ENABLED", "false".to_owned()),
    ];
    let token = token(&db.url, dir.path());
    // The orders exist before any worker runs (API only), so that the killed
    // server's first passes have all their forms to deliver.
    let mut api_env = env.to_vec();
    api_env.push(("LAZARET_WORKER__ENABLED", "false".to_owned()));
    let api = Proc::serve(&db.url, dir.path(), &api_env);
    let http = reqwest::Client::new();
    let orders = make_orders(&http, &api.base, &token, ORDERS).await;
    drop(api);

    let first = Proc::serve(&db.url, dir.path(), &env);
    tokio::time::timeout(Duration::from_secs(60), sink.held.notified())
        .await
        .unwrap_or_else(|_| panic!("the sink never got {HELD} messages:\n{}", first.log()));
    let log = first.kill9();
    let sql = Sql::open(&db).await;
    let at_kill: Vec<String> = sink.got.lock().unwrap().clone();
    let in_flight = at_kill[HELD - 1].clone();
    let sent_at_kill = sql
        .count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
        .await;
    // Sends are one at a time: each before the held one was recorded sent.
    assert_eq!(sent_at_kill, (HELD - 1) as i64, "{log}");

    let second = Proc::serve(&db.url, dir.path(), &env);
    // Every message sent and every job done, within the lease and a few passes.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let sent = sql
            .count("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
            .await;
        // The day's later check-in slots are planned too (pending, due later).
        let open = sql
            .count(
                "SELECT COUNT(*) FROM jobs WHERE status <> 'done' \
                 AND (queue IN ('notify.send', 'symptoms.issue') OR status <> 'pending')",
            )
            .await;
        if sent == ORDERS as i64 && open == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{sent} of {ORDERS} sent, {open} jobs not done:\n{}",
            second.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(second);

    // One form and one message per order.
    let forms = sql.rows("SELECT order_id FROM symptom_forms").await;
    let form_orders: HashSet<String> = forms.iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(forms.len(), ORDERS, "one form per order");
    assert_eq!(form_orders, orders.iter().cloned().collect::<HashSet<_>>());
    let outbox = sql.rows("SELECT id, dedupe_key, status FROM outbox").await;
    assert_eq!(outbox.len(), ORDERS, "one message per form");
    let ids: HashSet<String> = outbox.iter().map(|r| r[0].clone().unwrap()).collect();
    assert!(outbox.iter().all(|r| r[2].as_deref() == Some("sent")
        && r[1].as_deref().unwrap().starts_with("symptom_form:")));
    // Every message reached the gateway; only the one in flight at the kill twice.
    let got = sink.got.lock().unwrap().clone();
    let mut times: HashMap<&str, usize> = HashMap::new();
    for id in &got {
        *times.entry(id.as_str()).or_default() += 1;
    }
    assert_eq!(
        times.keys().map(|k| k.to_string()).collect::<HashSet<_>>(),
        ids,
        "every message, and only these, reached the gateway"
    );
    let twice: Vec<&str> = times
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| *k)
        .collect();
    assert!(
        twice.is_empty() || twice == [in_flight.as_str()],
        "received more than once: {twice:?} (in flight at the kill: {in_flight})"
    );
    assert!(times.values().all(|n| *n <= 2));
    // No job left running or dead, none of the delivery or forms pending (only
    // later check-in slots wait); the held one was claimed twice.
    let jobs = sql
        .rows(
            "SELECT queue, status, CAST(attempts AS TEXT) FROM jobs \
             WHERE queue <> 'prompt.issue' OR status <> 'pending'",
        )
        .await;
    assert_eq!(
        jobs.iter()
            .filter(|r| r[0].as_deref() == Some("notify.send"))
            .count(),
        ORDERS
    );
    assert!(
        jobs.iter().all(|r| r[1].as_deref() == Some("done")),
        "{jobs:?}"
    );
    // The killed worker's claimed batch (the held message and those after it in
    // the same claim) spent one attempt each: counted at the claim, so that a
    // job that kills its worker cannot retry for ever. Nothing else was retried.
    let attempts = sql
        .rows("SELECT payload, CAST(attempts AS TEXT) FROM jobs WHERE queue = 'notify.send'")
        .await;
    let twice: Vec<&Vec<Option<String>>> = attempts
        .iter()
        .filter(|r| r[1].as_deref() != Some("1"))
        .collect();
    assert!(
        twice.iter().all(|r| r[1].as_deref() == Some("2")),
        "{attempts:?}"
    );
    assert!(
        (1..=20).contains(&twice.len()),
        "at most one batch claimed twice: {attempts:?}"
    );
    assert!(
        twice
            .iter()
            .any(|r| r[0].as_deref().unwrap().contains(&in_flight)),
        "the held message's job ran twice: {attempts:?}"
    );
    sql.close().await;
    audit_intact(&db.url, dir.path());
    eprintln!(
        "crash delivery {:?}: {:.1}s, {} receptions of {} messages",
        db.kind(),
        started.elapsed().as_secs_f64(),
        got.len(),
        ids.len()
    );
}

// ---------------------------------------------------------------------------
// 3. A server killed during a check-in's face work.

/// `face_timeout_secs` of the servers: a try reserved longer than twice this
/// without an outcome is a dead process's.
const FACE_TIMEOUT_SECS: u64 = 3;

fn multipart(parts: &[(&str, Option<&[u8]>, &str)]) -> (String, Vec<u8>) {
    let boundary = "lazaret-crash-boundary";
    let mut body = Vec::new();
    for (name, file, text) in parts {
        match file {
            Some(bytes) => {
                body.extend_from_slice(
                    format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"f.jpg\"\r\n\
                         Content-Type: image/jpeg\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
            None => body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{text}"
                )
                .as_bytes(),
            ),
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Uploads one check-in with idempotency key `key`; the status and body, or
/// the transport error (the server was killed).
async fn check_in(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    key: &str,
    frame: &[u8],
) -> Result<(u16, Value), reqwest::Error> {
    let (ctype, body) = multipart(&[
        ("token", None, token),
        ("lat", None, "47.3769"),
        ("lon", None, "8.5417"),
        ("accuracy_m", None, "10"),
        ("frame", Some(frame), ""),
    ]);
    let r = http
        .post(format!("{base}/api/v1/checkins"))
        .header("content-type", ctype)
        .header("idempotency-key", key)
        .body(body)
        .send()
        .await?;
    let status = r.status().as_u16();
    Ok((status, r.json().await.unwrap_or(Value::Null)))
}

backends!(
    a_server_killed_during_face_work_leaves_the_try_answerable_once,
    flavor = "multi_thread",
    worker_threads = 2
);
async fn a_server_killed_during_face_work_leaves_the_try_answerable_once(db: TestDb) {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("LAZARET_TEMPLATE_KEY", KEY.to_owned()),
        ("LAZARET_LIVENESS", "off".to_owned()),
        ("LAZARET_WORKER__ENABLED", "false".to_owned()),
        (
            "LAZARET_LIMITS__FACE_TIMEOUT_SECS",
            FACE_TIMEOUT_SECS.to_string(),
        ),
    ];
    let mut stalling = env.to_vec();
    stalling.push(("LAZARET_CRASH_STALL", "face".to_owned()));
    let token = token(&db.url, dir.path());
    let first = Proc::serve(&db.url, dir.path(), &stalling);
    let http = reqwest::Client::new();
    let order = make_orders(&http, &first.base, &token, 1).await.remove(0);
    let photo = fixtures::photo(fixtures::ENROL);
    let (ctype, body) = multipart(&[("photo", Some(&photo), "")]);
    let r = http
        .post(format!("{}/api/v1/orders/{order}/enrollment", first.base))
        .bearer_auth(&token)
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = http
        .post(format!("{}/api/v1/orders/{order}/prompts", first.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let prompt: Value = r.json().await.unwrap();
    let prompt_token = prompt["token"].as_str().unwrap().to_owned();
    let prompt_id = prompt["id"].as_str().unwrap().to_owned();
    let frame = fixtures::photo(fixtures::CENTER);

    // The upload stalls in its face work, its try reserved; the server is killed there.
    let upload = {
        let (http, base, t, f) = (
            http.clone(),
            first.base.clone(),
            prompt_token.clone(),
            frame.clone(),
        );
        tokio::spawn(async move { check_in(&http, &base, &t, "try-1", &f).await })
    };
    first.wait_for(STALLED, Duration::from_secs(30)).await;
    let log = first.kill9();
    assert!(
        upload.await.unwrap().is_err(),
        "the upload died with the server"
    );
    let sql = Sql::open(&db).await;
    let tries_sql = format!(
        "SELECT request_key, outcome, CAST(attempt AS TEXT) FROM checkins WHERE prompt_id = '{prompt_id}'"
    );
    let prompt_sql =
        format!("SELECT status, CAST(attempts AS TEXT) FROM prompts WHERE id = '{prompt_id}'");
    assert_eq!(
        sql.rows(&tries_sql).await,
        vec![vec![Some("try-1".into()), None, Some("1".into())]],
        "the reserved try, without an outcome:\n{log}"
    );
    assert_eq!(
        sql.rows(&prompt_sql).await,
        vec![vec![Some("open".into()), Some("1".into())]]
    );

    // After a restart the same upload waits while the reservation could be live…
    let second = Proc::serve(&db.url, dir.path(), &env);
    let (status, body) = check_in(&http, &second.base, &prompt_token, "try-1", &frame)
        .await
        .unwrap();
    let reserved_at = Instant::now();
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("in_progress")),
        "{body}"
    );
    assert_eq!(sql.rows(&tries_sql).await.len(), 1);
    // …and once it is older than twice the face timeout, is verified as that same try.
    tokio::time::sleep(
        Duration::from_secs(2 * FACE_TIMEOUT_SECS + 1).saturating_sub(reserved_at.elapsed()),
    )
    .await;
    let (status, body) = check_in(&http, &second.base, &prompt_token, "try-1", &frame)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}\n{}", second.log());
    assert_eq!(body["outcome"], "verified", "{body}");
    assert_eq!(body["attempt"], 1, "the dead process's try was given back");
    // Retried again: the stored answer, no further try.
    let (again_status, again) = check_in(&http, &second.base, &prompt_token, "try-1", &frame)
        .await
        .unwrap();
    assert_eq!(again_status, 200, "{again}");
    assert_eq!(again["checkin_id"], body["checkin_id"]);
    assert_eq!(
        sql.rows(&tries_sql).await,
        vec![vec![
            Some("try-1".into()),
            Some("verified".into()),
            Some("1".into())
        ]],
        "one try, one outcome"
    );
    assert_eq!(
        sql.rows(&prompt_sql).await,
        vec![vec![Some("answered".into()), Some("1".into())]]
    );
    let submits = sql
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'checkin.submit'")
        .await;
    assert_eq!(submits, 1, "one recorded outcome");
    drop(second);
    sql.close().await;
    audit_intact(&db.url, dir.path());
    eprintln!(
        "crash check-in {:?}: {:.1}s",
        db.kind(),
        started.elapsed().as_secs_f64()
    );
}
