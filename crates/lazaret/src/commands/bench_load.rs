//! `lazaret bench load`: a bounded load run against a real `lazaret serve`
//! on loopback. Seeds a new, empty database (list data, officer accounts and
//! tokens), starts the server as a child process (so that its memory is its
//! own), enrols persons with a real face photo through the API, then runs a
//! fixed number of concurrent clients for a fixed time: persons checking in
//! (officer "prompt now", the check-in page's prompt lookup, the multipart
//! upload of real frames), officers reading lists through the JSON API, and
//! officers reading console pages with a signed-in session. Reports
//! throughput, p50/p99 per kind, answers by status (503 `face_busy` apart)
//! and the server's peak memory.
//!
//! The server's protections stay as configured: the clients are spread
//! over accounts, tokens, orders and (for the person routes) loopback
//! source addresses, as real users would be.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use clap::Args;
use lazaret_core::district::DistrictScope;
use lazaret_core::user::Role;
use lazaret_server::config::{Config, Secret};
use lazaret_server::services::accounts::{self, NewAccount};
use lazaret_server::services::Actor;
use lazaret_server::template_crypto::TemplateKey;
use lazaret_server::AppState;
use lazaret_store::ListSeed;
use reqwest::header::{HeaderMap, RETRY_AFTER, SET_COOKIE};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;

/// The most clients one run may start.
pub const MAX_CLIENTS: usize = 5_000;
/// The longest run, in seconds: a load run is bounded in time.
pub const MAX_DURATION_SECS: u64 = 600;
/// The client's limit on one request (a request in flight at the end of the
/// run is waited for at most this long).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The p99 target of the routes without face work, in milliseconds (issue #15).
const NON_FACE_P99_TARGET_MS: f64 = 500.0;

/// The photos, by their names in `tests/fixtures/faces`: one person's
/// enrolment photo and a frontal, left- and right-turned frame.
const ENROL: &str = "person-a-enrol.jpg";
const CENTER: &str = "person-a-center.jpg";
const LEFT: &str = "person-a-left.jpg";
const RIGHT: &str = "person-a-right.jpg";

/// The orders' place and a phone location inside its 100 m fence.
const HOME: (f64, f64) = (47.3769, 8.5417);
const NEAR: (f64, f64) = (47.3772, 8.5419);

/// `lazaret bench load`
#[derive(Debug, Args)]
pub struct BenchLoadArgs {
    /// Where the server listens: a loopback address only (127.0.0.0/8 or
    /// ::1); port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Concurrent clients in all.
    #[arg(long, default_value_t = 200)]
    pub clients: usize,
    /// Of them, persons checking in (officer "prompt now", prompt lookup,
    /// upload of the frames), each from its own loopback address.
    #[arg(long, default_value_t = 40)]
    pub checkin_clients: usize,
    /// Of them, officers reading console pages (one account each); the rest
    /// read lists through the JSON API (one token each).
    #[arg(long, default_value_t = 60)]
    pub console_clients: usize,
    /// Seconds the mix runs (1 to 600).
    #[arg(long, default_value_t = 60)]
    pub duration: u64,
    /// Orders (a person with an enrolled face) per check-in client, taken in
    /// turn: "prompt now" allows `prompt_now_per_hour` prompts per order.
    #[arg(long, default_value_t = 4)]
    pub orders_per_client: usize,
    /// Synthetic persons (with orders, alerts and cases) seeded for the lists.
    #[arg(long, default_value_t = 10_000)]
    pub list_persons: u64,
    /// Folder with the photos: person-a-enrol.jpg, person-a-center.jpg,
    /// person-a-left.jpg, person-a-right.jpg.
    #[arg(long, default_value = "tests/fixtures/faces", value_name = "DIR")]
    pub photos: PathBuf,
    /// The `lazaret` binary to serve with [default: this one].
    #[arg(long, value_name = "FILE")]
    pub server_bin: Option<PathBuf>,
    /// One JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments a load run refuses before it touches anything.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadArgsError {
    #[error(
        "--listen {0}: a load run serves on a loopback address only (127.0.0.0/8 or ::1), \
         never on a network"
    )]
    NotLoopback(SocketAddr),
    #[error("--clients must be 1 to {MAX_CLIENTS}")]
    Clients,
    #[error("--duration must be 1 to {MAX_DURATION_SECS} seconds")]
    Duration,
    #[error(
        "--checkin-clients ({checkin}) and --console-clients ({console}) add up to more than \
         --clients ({clients})"
    )]
    Split {
        checkin: usize,
        console: usize,
        clients: usize,
    },
    #[error("--checkin-clients must be at most 250 (one loopback address each)")]
    TooManyPersons,
    #[error("--orders-per-client must be 1 to 100")]
    Orders,
    #[error("--list-persons must be 1 to 10,000,000")]
    ListPersons,
}

impl BenchLoadArgs {
    /// Checks the arguments: loopback only, bounded in clients and time.
    pub fn validate(&self) -> Result<(), LoadArgsError> {
        if !self.listen.ip().is_loopback() {
            return Err(LoadArgsError::NotLoopback(self.listen));
        }
        if self.clients == 0 || self.clients > MAX_CLIENTS {
            return Err(LoadArgsError::Clients);
        }
        if self.duration == 0 || self.duration > MAX_DURATION_SECS {
            return Err(LoadArgsError::Duration);
        }
        if self.checkin_clients + self.console_clients > self.clients {
            return Err(LoadArgsError::Split {
                checkin: self.checkin_clients,
                console: self.console_clients,
                clients: self.clients,
            });
        }
        if self.checkin_clients > 250 {
            return Err(LoadArgsError::TooManyPersons);
        }
        if self.orders_per_client == 0 || self.orders_per_client > 100 {
            return Err(LoadArgsError::Orders);
        }
        if self.list_persons == 0 || self.list_persons > 10_000_000 {
            return Err(LoadArgsError::ListPersons);
        }
        Ok(())
    }

    fn api_clients(&self) -> usize {
        self.clients - self.checkin_clients - self.console_clients
    }
}

/// The source address of person client `i`: its own loopback address, so
/// that the per-address limit of the person routes counts each person
/// apart, as it would count phones. Only IPv4 has more than one.
fn person_source(listen: IpAddr, i: usize) -> Option<IpAddr> {
    match listen {
        IpAddr::V4(_) => Some(IpAddr::V4(Ipv4Addr::new(127, 0, 1, (i % 250 + 1) as u8))),
        IpAddr::V6(_) => None,
    }
}

/// What a request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// `POST /api/v1/checkins`: the frames, with the face work.
    Checkin,
    /// `POST /api/v1/checkins/prompt`: the check-in page's lookup.
    CheckinLookup,
    /// `POST /api/v1/orders/{id}/prompts` by an officer token.
    PromptNow,
    /// `GET /api/v1/{persons,orders,alerts}` by an officer token.
    ApiList,
    /// Console pages with a session cookie.
    Console,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Checkin,
        Kind::CheckinLookup,
        Kind::PromptNow,
        Kind::ApiList,
        Kind::Console,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Checkin => "checkin upload (face)",
            Kind::CheckinLookup => "checkin prompt lookup",
            Kind::PromptNow => "prompt now (API)",
            Kind::ApiList => "officer API lists",
            Kind::Console => "console pages",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Kind::Checkin => "checkin",
            Kind::CheckinLookup => "checkin_lookup",
            Kind::PromptNow => "prompt_now",
            Kind::ApiList => "api_list",
            Kind::Console => "console",
        }
    }

    fn face(self) -> bool {
        self == Kind::Checkin
    }
}

/// One answered (or failed) request.
#[derive(Debug, Clone, Copy)]
struct Sample {
    kind: Kind,
    /// 0: no answer (connection error or the client's timeout).
    status: u16,
    ms: f64,
    /// A 503 `face_busy` with `Retry-After`: the face gate's refusal.
    face_busy: bool,
}

/// An answer: status, headers and body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// `Retry-After` in seconds, when present.
    fn retry_after(&self) -> Option<u64> {
        self.headers
            .get(RETRY_AFTER)?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()
    }
}

/// Sends `rb`, reads the whole answer, and records it as `kind` in `out`
/// when `out` is given (setup requests are not recorded).
async fn send(rb: RequestBuilder, kind: Kind, out: Option<&mut Vec<Sample>>) -> Option<Answer> {
    let started = Instant::now();
    let answer = match rb.send().await {
        Ok(r) => {
            let status = r.status();
            let headers = r.headers().clone();
            r.bytes().await.ok().map(|b| Answer {
                status,
                headers,
                body: b.to_vec(),
            })
        }
        Err(_) => None,
    };
    if let Some(out) = out {
        let face_busy = answer.as_ref().is_some_and(|a| {
            a.status == StatusCode::SERVICE_UNAVAILABLE
                && a.retry_after().is_some()
                && a.json()["code"] == "face_busy"
        });
        out.push(Sample {
            kind,
            status: answer.as_ref().map_or(0, |a| a.status.as_u16()),
            ms: started.elapsed().as_secs_f64() * 1e3,
            face_busy,
        });
    }
    answer
}

/// Waits `secs` (a `Retry-After`), or until the deadline when that is sooner.
async fn back_off(secs: u64, deadline: Instant) {
    let until = (Instant::now() + Duration::from_secs(secs)).min(deadline);
    tokio::time::sleep_until(until.into()).await;
}

/// Shared by every client.
struct Ctx {
    base: String,
    deadline: Instant,
    photos: Photos,
}

struct Photos {
    enrol: Vec<u8>,
    center: Vec<u8>,
    left: Vec<u8>,
    right: Vec<u8>,
}

impl Photos {
    fn read(dir: &Path) -> Result<Self> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read(&p).with_context(|| format!("reading the photo {}", p.display()))
        };
        Ok(Self {
            enrol: read(ENROL)?,
            center: read(CENTER)?,
            left: read(LEFT)?,
            right: read(RIGHT)?,
        })
    }

    fn pose(&self, pose: &str) -> &[u8] {
        match pose {
            "left" => &self.left,
            "right" => &self.right,
            _ => &self.center,
        }
    }
}

/// A person checking in, with the officer token that prompts them.
struct CheckinClient {
    person: Client,
    officer: Client,
    token: String,
    orders: Vec<String>,
}

/// Check-in outcomes (`verified`, …) and refusals seen by the check-in clients.
type Outcomes = BTreeMap<String, u64>;

async fn checkin_loop(ctx: Arc<Ctx>, me: CheckinClient) -> (Vec<Sample>, Outcomes) {
    let mut out = Vec::new();
    let mut outcomes = Outcomes::new();
    let mut turn = 0usize;
    while Instant::now() < ctx.deadline {
        let order = &me.orders[turn % me.orders.len()];
        turn += 1;
        let prompt = me
            .officer
            .post(format!("{}/api/v1/orders/{order}/prompts", ctx.base))
            .bearer_auth(&me.token)
            .json(&json!({}));
        let Some(p) = send(prompt, Kind::PromptNow, Some(&mut out)).await else {
            pause(&ctx).await;
            continue;
        };
        if p.status != StatusCode::CREATED {
            *outcomes
                .entry(format!("prompt refused {}", p.status.as_u16()))
                .or_default() += 1;
            back_off(p.retry_after().unwrap_or(1), ctx.deadline).await;
            continue;
        }
        let token = p.json()["token"].as_str().unwrap_or_default().to_owned();
        let lookup = me
            .person
            .post(format!("{}/api/v1/checkins/prompt", ctx.base))
            .json(&json!({ "token": token }));
        let Some(info) = send(lookup, Kind::CheckinLookup, Some(&mut out)).await else {
            pause(&ctx).await;
            continue;
        };
        if info.status != StatusCode::OK {
            *outcomes
                .entry(format!("lookup refused {}", info.status.as_u16()))
                .or_default() += 1;
            back_off(info.retry_after().unwrap_or(1), ctx.deadline).await;
            continue;
        }
        let poses: Vec<String> = info.json()["poses"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        // One frontal frame when liveness is off.
        let poses = if poses.is_empty() {
            vec!["center".to_owned()]
        } else {
            poses
        };
        let key = format!("load-{}", uuid_like(&token));
        // The same upload again after a face_busy or rate-limit refusal, as
        // the check-in page does, until the run ends.
        while Instant::now() < ctx.deadline {
            let mut form = Form::new()
                .text("lat", NEAR.0.to_string())
                .text("lon", NEAR.1.to_string())
                .text("accuracy_m", "15");
            for pose in &poses {
                let part = Part::bytes(ctx.photos.pose(pose).to_vec())
                    .file_name("frame.jpg")
                    .mime_str("image/jpeg")
                    .expect("a valid MIME type");
                form = form.part("frame", part);
            }
            let upload = me
                .person
                .post(format!("{}/api/v1/checkins", ctx.base))
                .header("X-Lazaret-Token", &token)
                .header("Idempotency-Key", &key)
                .multipart(form);
            let Some(a) = send(upload, Kind::Checkin, Some(&mut out)).await else {
                pause(&ctx).await;
                break;
            };
            match a.status {
                StatusCode::OK => {
                    let outcome = a.json()["outcome"].as_str().unwrap_or("?").to_owned();
                    *outcomes.entry(outcome).or_default() += 1;
                    break;
                }
                StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS
                    if a.retry_after().is_some() =>
                {
                    back_off(a.retry_after().unwrap_or(1), ctx.deadline).await;
                }
                s => {
                    *outcomes
                        .entry(format!("upload refused {}", s.as_u16()))
                        .or_default() += 1;
                    pause(&ctx).await;
                    break;
                }
            }
        }
    }
    (out, outcomes)
}

/// A short wait after a failure without `Retry-After`, so that a failing
/// route is not hammered in a tight loop.
async fn pause(ctx: &Ctx) {
    back_off(0, ctx.deadline).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// The prompt token's last characters: a request key unique per prompt
/// that does not repeat the token.
fn uuid_like(token: &str) -> String {
    token.chars().rev().take(16).collect()
}

/// The API lists an officer client reads, in turn; a page of 50.
const API_PATHS: [&str; 5] = [
    "/api/v1/persons?limit=50",
    "/api/v1/orders?limit=50",
    "/api/v1/orders?limit=50&status=active",
    "/api/v1/alerts?limit=50",
    "/api/v1/alerts?limit=50&status=open",
];

async fn api_loop(ctx: Arc<Ctx>, client: Client, token: String) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut turn = 0usize;
    while Instant::now() < ctx.deadline {
        let path = API_PATHS[turn % API_PATHS.len()];
        turn += 1;
        let rb = client
            .get(format!("{}{path}", ctx.base))
            .bearer_auth(&token);
        match send(rb, Kind::ApiList, Some(&mut out)).await {
            Some(a) if a.status.is_success() => {}
            Some(a) => back_off(a.retry_after().unwrap_or(0), ctx.deadline).await,
            None => pause(&ctx).await,
        }
    }
    out
}

/// The console pages an officer client reads, in turn.
const CONSOLE_PATHS: [&str; 4] = ["/alerts?", "/persons", "/orders?", "/cases"];

async fn console_loop(ctx: Arc<Ctx>, client: Client, cookie: String) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut turn = 0usize;
    while Instant::now() < ctx.deadline {
        let path = CONSOLE_PATHS[turn % CONSOLE_PATHS.len()];
        turn += 1;
        let rb = client
            .get(format!("{}{path}", ctx.base))
            .header("cookie", &cookie);
        match send(rb, Kind::Console, Some(&mut out)).await {
            Some(a) if a.status.is_success() => {}
            Some(a) => back_off(a.retry_after().unwrap_or(0), ctx.deadline).await,
            None => pause(&ctx).await,
        }
    }
    out
}

/// `name=value` of the cookie `name` set by `headers`.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|kv| kv.split_once('=').is_some_and(|(k, _)| k.trim() == name))
        .map(str::to_owned)
}

/// Signs `username` in through the console's form; the session cookie.
async fn sign_in(client: &Client, base: &str, username: &str, password: &str) -> Result<String> {
    let form = send(client.get(format!("{base}/login")), Kind::Console, None)
        .await
        .context("the login page did not answer")?;
    let csrf = set_cookie(&form.headers, "lazaret_login_csrf")
        .context("the login page set no lazaret_login_csrf cookie")?;
    let nonce = csrf
        .split_once('=')
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    let rb = client
        .post(format!("{base}/login"))
        .header("cookie", &csrf)
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf", nonce.as_str()),
        ]);
    let done = send(rb, Kind::Console, None)
        .await
        .context("the login did not answer")?;
    set_cookie(&done.headers, "lazaret_session")
        .with_context(|| format!("signing in {username} failed ({})", done.status))
}

/// An officer's API call during the setup (not recorded); the JSON answer
/// when its status is `want`, retried after `Retry-After` (a busy face gate
/// while enrolling).
async fn setup_call<F>(mut make: F, want: StatusCode, what: &str) -> Result<Value>
where
    F: FnMut() -> RequestBuilder,
{
    for _ in 0..100 {
        let a = send(make(), Kind::ApiList, None)
            .await
            .with_context(|| format!("{what}: no answer"))?;
        if a.status == want {
            return Ok(a.json());
        }
        match a.retry_after() {
            Some(secs) => tokio::time::sleep(Duration::from_secs(secs)).await,
            None => bail!(
                "{what}: {} {}",
                a.status,
                String::from_utf8_lossy(&a.body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            ),
        }
    }
    bail!("{what}: still refused after 100 tries")
}

/// Where and as whom a check-in client's orders are made.
#[derive(Clone, Copy)]
struct OrderSeed<'a> {
    base: &'a str,
    token: &'a str,
    photo: &'a [u8],
    now: DateTime<Utc>,
}

/// Creates the check-in client's persons and orders and enrols each with
/// the enrolment photo; the order ids.
async fn seed_orders(
    seed: &OrderSeed<'_>,
    client: &Client,
    n: usize,
    who: usize,
    face: &Semaphore,
) -> Result<Vec<String>> {
    let OrderSeed {
        base,
        token,
        photo,
        now,
    } = *seed;
    let mut orders = Vec::with_capacity(n);
    for k in 0..n {
        let person = setup_call(
            || {
                client
                    .post(format!("{base}/api/v1/persons"))
                    .bearer_auth(token)
                    .json(&json!({ "full_name": format!("Load Person {who:03}-{k:02}") }))
            },
            StatusCode::CREATED,
            "creating a person",
        )
        .await?;
        let order = setup_call(
            || {
                client
                    .post(format!("{base}/api/v1/orders"))
                    .bearer_auth(token)
                    .json(&json!({
                        "person_id": person["id"], "address": "Bahnhofstrasse 1, Zürich",
                        "lat": HOME.0, "lon": HOME.1,
                        "starts_at": now - chrono::Duration::hours(1),
                        "ends_at": now + chrono::Duration::days(14),
                        "basis": { "kind": "arrival", "area": "X" },
                        "time_zone": "Europe/Zurich",
                    }))
            },
            StatusCode::CREATED,
            "creating an order",
        )
        .await?;
        let id = order["id"].as_str().context("an order id")?.to_owned();
        // A few at a time: past the face gate's queue enrolments are refused.
        let _slot = face.acquire().await.context("the enrolment slots")?;
        setup_call(
            || {
                let part = Part::bytes(photo.to_vec())
                    .file_name("enrol.jpg")
                    .mime_str("image/jpeg")
                    .expect("a valid MIME type");
                client
                    .post(format!("{base}/api/v1/orders/{id}/enrollment"))
                    .bearer_auth(token)
                    .multipart(Form::new().part("photo", part))
            },
            StatusCode::CREATED,
            "enrolling a face",
        )
        .await?;
        orders.push(id);
    }
    Ok(orders)
}

/// The server under load: a `lazaret serve` child process.
struct Server {
    child: Child,
    pid: u32,
    base: String,
    log: PathBuf,
}

impl Server {
    /// Starts `bin serve` on `listen` with the database and configuration
    /// file the load run was given, and the run's fresh keys.
    async fn start(
        bin: &Path,
        config: &Config,
        config_file: Option<&Path>,
        listen: SocketAddr,
        work: &Path,
    ) -> Result<Server> {
        let log = work.join("server.log");
        let mut cmd = Command::new(bin);
        cmd.arg("--db").arg(config.database_url.expose());
        if let Some(f) = config_file {
            cmd.arg("--config").arg(f);
        }
        cmd.arg("serve")
            .arg("--listen")
            .arg(listen.to_string())
            // The run's own keys (fresh, for a fresh database) over any in
            // the configuration file.
            .env("LAZARET_TEMPLATE_KEY", config.template_key.expose())
            .env("LAZARET_AUDIT_KEY", config.audit_key.expose())
            .env("LAZARET_AUDIT_CHECKPOINT", config.audit_checkpoint_path())
            // The run measures the request paths. The background worker
            // would spend the run on the seeded data's backlog (thousands of
            // symptom forms due at once) and, on shutdown, finish that pass.
            .env("LAZARET_WORKER__ENABLED", "false")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).context("creating the server log")?)
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let pid = child.id().context("the server's process id")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let wait = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.strip_prefix("Lazaret is listening on ") {
                    return Ok::<_, std::io::Error>(Some(url.trim().to_owned()));
                }
            }
            Ok(None)
        };
        // Loading the face engine measures its kernels first: seconds.
        let base = match tokio::time::timeout(Duration::from_secs(300), wait).await {
            Ok(Ok(Some(url))) => url,
            _ => bail!(
                "the server did not start; its log ({}):\n{}",
                log.display(),
                tail(&log, 20)
            ),
        };
        // Keep reading stdout so that the server never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server {
            child,
            pid,
            base,
            log,
        })
    }

    /// `VmRSS` and `VmHWM` (peak) of the server, in KiB.
    fn memory_kib(&self) -> Option<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }

    /// Starts the peak (`VmHWM`) over from the current RSS, so that the
    /// peak reported is the run's and not the seeding's.
    fn reset_peak(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok()
    }

    /// CPU seconds the server has used (user + system).
    fn cpu_secs(&self) -> Option<f64> {
        cpu_secs_of(&format!("/proc/{}/stat", self.pid))
    }

    /// Asks the server to stop (SIGTERM) and waits for it.
    async fn stop(mut self) -> Result<()> {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        match tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await {
            Ok(Ok(s)) if s.success() => Ok(()),
            Ok(Ok(s)) => bail!(
                "the server stopped with {s}; its log: {}",
                self.log.display()
            ),
            _ => {
                let _ = self.child.kill().await;
                bail!("the server did not stop within 60 s after SIGTERM")
            }
        }
    }
}

/// User + system CPU seconds from a `/proc/…/stat` file (clock ticks of
/// 1/100 s, the Linux default).
fn cpu_secs_of(path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name, which may hold spaces, in parentheses.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The last `n` lines of a file.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Latency quantile `q` (0..=1) of sorted `v`, in ms.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// The figures of one kind.
#[derive(Debug)]
struct KindReport {
    kind: Kind,
    requests: usize,
    per_sec: f64,
    /// Over every answer except the face gate's 503 refusals (immediate, so
    /// they would hide the latency of the work done).
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    statuses: BTreeMap<u16, usize>,
    face_busy: usize,
}

fn report_kind(kind: Kind, samples: &[Sample], secs: f64) -> KindReport {
    let mine: Vec<&Sample> = samples.iter().filter(|s| s.kind == kind).collect();
    let mut ms: Vec<f64> = mine.iter().filter(|s| !s.face_busy).map(|s| s.ms).collect();
    ms.sort_by(f64::total_cmp);
    let mut statuses = BTreeMap::new();
    for s in &mine {
        *statuses.entry(s.status).or_insert(0) += 1;
    }
    KindReport {
        kind,
        requests: mine.len(),
        per_sec: mine.len() as f64 / secs,
        p50_ms: quantile(&ms, 0.5),
        p99_ms: quantile(&ms, 0.99),
        max_ms: ms.last().copied().unwrap_or(f64::NAN),
        statuses,
        face_busy: mine.iter().filter(|s| s.face_busy).count(),
    }
}

/// A 5xx that is not the face gate's 503 with `Retry-After`, or no answer.
fn is_failure(s: &Sample) -> bool {
    s.status == 0 || (s.status >= 500 && !s.face_busy)
}

pub async fn run(
    args: BenchLoadArgs,
    mut config: Config,
    config_file: Option<&Path>,
) -> Result<()> {
    args.validate()?;
    let photos = Photos::read(&args.photos)?;
    let bin = match &args.server_bin {
        Some(b) => b.clone(),
        None => std::env::current_exe().context("finding this program")?,
    };
    let work = std::env::temp_dir().join(format!("lazaret-load-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    // Fresh keys for the fresh database, shared by this process (which
    // seeds) and the server; the audit checkpoint beside the run's log.
    config.template_key = Secret::new(TemplateKey::generate_hex());
    config.audit_key = Secret::new(TemplateKey::generate_hex());
    config.audit_checkpoint = Some(work.join("audit.checkpoint"));
    let outcome = run_in(&args, config, config_file, &bin, &work, photos).await;
    if outcome.is_ok() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        eprintln!(
            "the run's files (server log) are kept in {}",
            work.display()
        );
    }
    outcome
}

async fn run_in(
    args: &BenchLoadArgs,
    config: Config,
    config_file: Option<&Path>,
    bin: &Path,
    work: &Path,
    photos: Photos,
) -> Result<()> {
    let started = Instant::now();
    // 1. In this process: the list data, the officer accounts and tokens.
    let store = crate::commands::serve::open_store(&config).await?;
    let state = AppState::new(store.clone(), config.clone());
    store
        .seed_lists(
            &ListSeed {
                persons: args.list_persons,
                districts: 10,
                alert_every: 20,
                case_every: 20,
                contacts_per_case: 10,
                now: state.now(),
            },
            |_| {},
        )
        .await
        .context("seeding the list data")?;
    let admin = Actor::new("cli:bench-load", Role::Admin, DistrictScope::All);
    let now = state.now();
    let mut api_tokens = Vec::new();
    for i in 0..args.api_clients() + args.checkin_clients {
        let (_, token) = lazaret_server::auth::create_token(
            &store,
            Role::Investigator,
            &format!("bench-load-{i:03}"),
            admin.name(),
            now,
        )
        .await
        .context("creating an API token")?;
        api_tokens.push(token);
    }
    let password = accounts::generate_password();
    let mut usernames = Vec::new();
    for i in 0..args.console_clients {
        let username = format!("load{i:03}");
        accounts::create_user(
            &state,
            &admin,
            NewAccount {
                username: username.clone(),
                role: Role::Investigator,
                districts: DistrictScope::All,
                password: password.clone(),
            },
        )
        .await
        .context("creating an officer account")?;
        usernames.push(username);
    }
    store
        .checkpoint_audit()
        .await
        .context("writing the audit checkpoint")?;
    drop(state);
    drop(store);
    eprintln!(
        "seeded {} list persons, {} tokens, {} accounts in {:.1} s",
        args.list_persons,
        api_tokens.len(),
        usernames.len(),
        started.elapsed().as_secs_f64()
    );

    // 2. The server, and through it the enrolled orders and the sessions.
    let server = Server::start(bin, &config, config_file, args.listen, work).await?;
    let setup = Setup {
        api_tokens,
        usernames,
        password,
        now,
    };
    let result = drive(args, &config, &server, setup, photos).await;
    // The figures first: a server slow to stop does not lose them.
    if let Ok(report) = &result {
        report.print(args.json);
    }
    let stopped = server.stop().await;
    result?;
    stopped
}

/// Everything a run measured.
struct Report {
    kinds: Vec<KindReport>,
    secs: f64,
    clients: (usize, usize, usize),
    failures: usize,
    failure_statuses: BTreeMap<u16, usize>,
    outcomes: Outcomes,
    rss_start_kib: Option<u64>,
    rss_end_kib: Option<u64>,
    peak_kib: Option<u64>,
    peak_reset: bool,
    /// Highest RSS sampled in each quarter of the run.
    rss_quarters_kib: Vec<u64>,
    server_cpu_secs: Option<f64>,
    loader_cpu_secs: Option<f64>,
    limits: String,
}

/// What the seeding in this process made for the clients.
struct Setup {
    api_tokens: Vec<String>,
    usernames: Vec<String>,
    password: String,
    /// The app's clock at the seeding: the orders start an hour before.
    now: DateTime<Utc>,
}

async fn drive(
    args: &BenchLoadArgs,
    config: &Config,
    server: &Server,
    setup: Setup,
    photos: Photos,
) -> Result<Report> {
    let Setup {
        mut api_tokens,
        usernames,
        password,
        now,
    } = setup;
    let password = password.as_str();
    let base = server.base.clone();
    let seeding = Instant::now();
    let officer_client = || {
        Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
    };
    // The check-in clients' persons and orders, enrolled a few at a time.
    let enrol_slots = Arc::new(Semaphore::new(2));
    let photo = Arc::new(photos.enrol.clone());
    let mut seeding_tasks = tokio::task::JoinSet::new();
    for i in 0..args.checkin_clients {
        let token = api_tokens.pop().context("a token per check-in client")?;
        let officer = officer_client()?;
        let person = Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .local_address(person_source(args.listen.ip(), i))
            .build()?;
        let (base, slots, photo, n) = (
            base.clone(),
            enrol_slots.clone(),
            photo.clone(),
            args.orders_per_client,
        );
        seeding_tasks.spawn(async move {
            let seed = OrderSeed {
                base: &base,
                token: &token,
                photo: photo.as_slice(),
                now,
            };
            let orders = seed_orders(&seed, &officer, n, i, &slots).await?;
            Ok::<_, anyhow::Error>(CheckinClient {
                person,
                officer,
                token,
                orders,
            })
        });
    }
    let mut checkin_clients = Vec::new();
    while let Some(r) = seeding_tasks.join_next().await {
        checkin_clients.push(r.context("a seeding task")??);
    }
    // The console sessions, a few sign-ins at a time (each one hashes).
    let logins = Arc::new(Semaphore::new(4));
    let mut login_tasks = tokio::task::JoinSet::new();
    for username in usernames {
        let (client, base, logins, password) = (
            officer_client()?,
            base.clone(),
            logins.clone(),
            password.to_owned(),
        );
        login_tasks.spawn(async move {
            let _slot = logins.acquire().await?;
            let cookie = sign_in(&client, &base, &username, &password).await?;
            Ok::<_, anyhow::Error>((client, cookie))
        });
    }
    let mut sessions = Vec::new();
    while let Some(r) = login_tasks.join_next().await {
        sessions.push(r.context("a sign-in task")??);
    }
    eprintln!(
        "enrolled {} orders and signed {} officers in, in {:.1} s; running {} clients for {} s",
        checkin_clients.len() * args.orders_per_client,
        sessions.len(),
        seeding.elapsed().as_secs_f64(),
        args.clients,
        args.duration
    );

    // 3. The run.
    let peak_reset = server.reset_peak();
    let rss_start_kib = server.memory_kib().map(|m| m.0);
    let server_cpu_before = server.cpu_secs();
    let loader_cpu_before = cpu_secs_of("/proc/self/stat");
    let begin = Instant::now();
    let deadline = begin + Duration::from_secs(args.duration);
    let ctx = Arc::new(Ctx {
        base: base.clone(),
        deadline,
        photos,
    });
    let mut tasks = tokio::task::JoinSet::new();
    for c in checkin_clients {
        let ctx = ctx.clone();
        tasks.spawn(async move { checkin_loop(ctx, c).await });
    }
    for (client, cookie) in sessions {
        let ctx = ctx.clone();
        tasks.spawn(async move { (console_loop(ctx, client, cookie).await, Outcomes::new()) });
    }
    for token in api_tokens.drain(..) {
        let (ctx, client) = (ctx.clone(), officer_client()?);
        tasks.spawn(async move { (api_loop(ctx, client, token).await, Outcomes::new()) });
    }
    // The server's RSS once a second while the clients run.
    let rss_samples = {
        let pid = server.pid;
        tokio::spawn(async move {
            let mut v = Vec::new();
            while Instant::now() < deadline {
                if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                    if let Some(kib) = s
                        .lines()
                        .find_map(|l| l.strip_prefix("VmRSS:"))
                        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                    {
                        v.push((begin.elapsed().as_secs_f64(), kib));
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            v
        })
    };
    let mut samples = Vec::new();
    let mut outcomes = Outcomes::new();
    while let Some(r) = tasks.join_next().await {
        let (s, o) = r.context("a client task")?;
        samples.extend(s);
        for (k, n) in o {
            *outcomes.entry(k).or_default() += n;
        }
    }
    let secs = begin.elapsed().as_secs_f64();
    let memory = server.memory_kib();
    let server_cpu = server.cpu_secs().zip(server_cpu_before).map(|(a, b)| a - b);
    let loader_cpu = cpu_secs_of("/proc/self/stat")
        .zip(loader_cpu_before)
        .map(|(a, b)| a - b);
    let rss = rss_samples.await.unwrap_or_default();
    let quarter = args.duration as f64 / 4.0;
    let rss_quarters_kib = (0..4)
        .map(|q| {
            rss.iter()
                .filter(|(t, _)| (*t / quarter).floor() as usize == q)
                .map(|(_, k)| *k)
                .max()
                .unwrap_or(0)
        })
        .collect();

    let failures: Vec<&Sample> = samples.iter().filter(|s| is_failure(s)).collect();
    let mut failure_statuses = BTreeMap::new();
    for s in &failures {
        *failure_statuses.entry(s.status).or_insert(0) += 1;
    }
    let l = &config.limits;
    Ok(Report {
        kinds: Kind::ALL
            .iter()
            .map(|k| report_kind(*k, &samples, secs))
            .collect(),
        secs,
        clients: (
            args.checkin_clients,
            args.api_clients(),
            args.console_clients,
        ),
        failures: failures.len(),
        failure_statuses,
        outcomes,
        rss_start_kib,
        rss_end_kib: memory.map(|m| m.0),
        peak_kib: memory.map(|m| m.1),
        peak_reset,
        rss_quarters_kib,
        server_cpu_secs: server_cpu,
        loader_cpu_secs: loader_cpu,
        limits: format!(
            "face_workers={} (0: one per core but one), face_queue={}, person_token_per_minute={}, \
             person_address_per_minute={}, officer_per_minute={}, prompt_now_per_hour={}, \
             max_connections={}",
            l.face_workers,
            l.face_queue,
            l.person_token_per_minute,
            l.person_address_per_minute,
            l.officer_per_minute,
            l.prompt_now_per_hour,
            l.max_connections
        ),
    })
}

impl Report {
    fn non_face_p99_ok(&self) -> bool {
        self.kinds
            .iter()
            .filter(|k| !k.kind.face() && k.requests > 0)
            .all(|k| k.p99_ms < NON_FACE_P99_TARGET_MS)
    }

    fn print(&self, as_json: bool) {
        let mib = |k: Option<u64>| k.map(|k| k as f64 / 1024.0);
        if as_json {
            let kinds: Vec<Value> = self
                .kinds
                .iter()
                .map(|k| {
                    json!({
                        "kind": k.kind.key(), "requests": k.requests, "per_sec": k.per_sec,
                        "p50_ms": k.p50_ms, "p99_ms": k.p99_ms, "max_ms": k.max_ms,
                        "statuses": k.statuses.iter().map(|(s, n)| (s.to_string(), json!(n)))
                            .collect::<serde_json::Map<_, _>>(),
                        "face_busy_503": k.face_busy,
                    })
                })
                .collect();
            println!(
                "{}",
                json!({
                    "seconds": self.secs,
                    "clients": { "checkin": self.clients.0, "api": self.clients.1, "console": self.clients.2 },
                    "kinds": kinds,
                    "failures": self.failures,
                    "failure_statuses": self.failure_statuses.iter()
                        .map(|(s, n)| (s.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
                    "checkin_outcomes": self.outcomes,
                    "server_rss_start_mib": mib(self.rss_start_kib),
                    "server_rss_end_mib": mib(self.rss_end_kib),
                    "server_peak_rss_mib": mib(self.peak_kib),
                    "peak_is_the_runs": self.peak_reset,
                    "server_rss_quarters_mib": self.rss_quarters_kib.iter().map(|k| *k as f64 / 1024.0).collect::<Vec<_>>(),
                    "server_cpu_secs": self.server_cpu_secs,
                    "loader_cpu_secs": self.loader_cpu_secs,
                    "limits": self.limits,
                    "targets": { "no_5xx": self.failures == 0, "non_face_p99_under_500ms": self.non_face_p99_ok() },
                })
            );
            return;
        }
        println!(
            "{} s, {} clients: {} checking in, {} API, {} console",
            self.secs.round(),
            self.clients.0 + self.clients.1 + self.clients.2,
            self.clients.0,
            self.clients.1,
            self.clients.2
        );
        println!(
            "{:<24} {:>8} {:>8} {:>9} {:>9} {:>9}  statuses",
            "kind", "requests", "req/s", "p50 ms", "p99 ms", "max ms"
        );
        for k in &self.kinds {
            let statuses: Vec<String> = k
                .statuses
                .iter()
                .map(|(s, n)| match s {
                    0 => format!("no answer ×{n}"),
                    503 if k.face_busy > 0 => {
                        format!("503 ×{n} ({} face_busy)", k.face_busy)
                    }
                    s => format!("{s} ×{n}"),
                })
                .collect();
            println!(
                "{:<24} {:>8} {:>8.1} {:>9.1} {:>9.1} {:>9.1}  {}",
                k.kind.name(),
                k.requests,
                k.per_sec,
                k.p50_ms,
                k.p99_ms,
                k.max_ms,
                statuses.join(", ")
            );
        }
        let outcomes: Vec<String> = self
            .outcomes
            .iter()
            .map(|(k, n)| format!("{k} ×{n}"))
            .collect();
        println!("check-in outcomes: {}", outcomes.join(", "));
        let show = |k: Option<u64>| mib(k).map_or("?".to_owned(), |m| format!("{m:.0} MiB"));
        println!(
            "server RSS: {} at the start, {} at the end, peak {}{}; highest per quarter: {}",
            show(self.rss_start_kib),
            show(self.rss_end_kib),
            show(self.peak_kib),
            if self.peak_reset {
                " (VmHWM, reset at the start of the run)"
            } else {
                " (VmHWM since the server started: could not reset it)"
            },
            self.rss_quarters_kib
                .iter()
                .map(|k| format!("{:.0}", *k as f64 / 1024.0))
                .collect::<Vec<_>>()
                .join(" / ")
                + " MiB"
        );
        let cpu = |c: Option<f64>| c.map_or("?".to_owned(), |c| format!("{c:.0} s"));
        println!(
            "CPU during the run: server {}, load generator {}",
            cpu(self.server_cpu_secs),
            cpu(self.loader_cpu_secs)
        );
        println!(
            "server limits: {}; background worker off for the run",
            self.limits
        );
        println!(
            "target no 5xx but 503 face_busy with Retry-After: {}",
            if self.failures == 0 {
                "met".to_owned()
            } else {
                format!("NOT met ({:?})", self.failure_statuses)
            }
        );
        println!(
            "target p99 < {NON_FACE_P99_TARGET_MS} ms on the routes without face work: {}",
            if self.non_face_p99_ok() {
                "met"
            } else {
                "NOT met"
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: BenchLoadArgs,
    }

    fn args(extra: &[&str]) -> BenchLoadArgs {
        let mut v = vec!["bench-load"];
        v.extend_from_slice(extra);
        Cli::try_parse_from(v).expect("parses").args
    }

    #[test]
    fn the_defaults_are_the_issues_run_on_loopback() {
        let a = args(&[]);
        assert_eq!(a.validate(), Ok(()));
        assert_eq!((a.clients, a.duration), (200, 60));
        assert_eq!(a.api_clients(), 100);
        assert!(a.listen.ip().is_loopback());
    }

    #[test]
    fn a_network_address_is_refused() {
        for listen in ["0.0.0.0:8080", "10.1.2.3:0", "[::]:0", "192.168.0.5:9000"] {
            let a = args(&["--listen", listen]);
            assert_eq!(
                a.validate(),
                Err(LoadArgsError::NotLoopback(listen.parse().unwrap())),
                "{listen}"
            );
        }
        for listen in ["127.0.0.1:0", "127.3.4.5:8080", "[::1]:0"] {
            assert_eq!(args(&["--listen", listen]).validate(), Ok(()), "{listen}");
        }
    }

    #[test]
    fn runs_are_bounded_in_time_and_clients() {
        assert_eq!(
            args(&["--duration", "0"]).validate(),
            Err(LoadArgsError::Duration)
        );
        assert_eq!(
            args(&["--duration", "601"]).validate(),
            Err(LoadArgsError::Duration)
        );
        assert_eq!(
            args(&["--clients", "0"]).validate(),
            Err(LoadArgsError::Clients)
        );
        assert_eq!(
            args(&["--clients", "50"]).validate(),
            Err(LoadArgsError::Split {
                checkin: 40,
                console: 60,
                clients: 50
            })
        );
        assert_eq!(
            args(&["--clients", "400", "--checkin-clients", "251"]).validate(),
            Err(LoadArgsError::TooManyPersons)
        );
        assert_eq!(
            args(&["--orders-per-client", "0"]).validate(),
            Err(LoadArgsError::Orders)
        );
        assert_eq!(
            args(&["--list-persons", "0"]).validate(),
            Err(LoadArgsError::ListPersons)
        );
        assert_eq!(
            args(&[
                "--clients",
                "3",
                "--checkin-clients",
                "1",
                "--console-clients",
                "1"
            ])
            .validate(),
            Ok(())
        );
    }

    #[test]
    fn each_person_client_has_its_own_loopback_address() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let a = person_source(v4, 0).unwrap();
        let b = person_source(v4, 1).unwrap();
        assert_ne!(a, b);
        assert!(a.is_loopback() && b.is_loopback());
        assert_eq!(person_source("::1".parse().unwrap(), 3), None);
    }

    #[test]
    fn only_5xx_other_than_face_busy_and_lost_requests_are_failures() {
        let s = |status, face_busy| Sample {
            kind: Kind::Checkin,
            status,
            ms: 1.0,
            face_busy,
        };
        assert!(!is_failure(&s(200, false)));
        assert!(!is_failure(&s(429, false)));
        assert!(!is_failure(&s(503, true)));
        assert!(is_failure(&s(503, false)));
        assert!(is_failure(&s(500, false)));
        assert!(is_failure(&s(0, false)));
    }

    #[test]
    fn quantiles_pick_the_ranked_value() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn the_session_cookie_is_read_from_set_cookie() {
        let mut h = HeaderMap::new();
        h.append(SET_COOKIE, "other=1; Path=/".parse().unwrap());
        h.append(
            SET_COOKIE,
            "lazaret_session=abc; Path=/; HttpOnly".parse().unwrap(),
        );
        assert_eq!(
            set_cookie(&h, "lazaret_session").as_deref(),
            Some("lazaret_session=abc")
        );
        assert_eq!(set_cookie(&h, "missing"), None);
    }
}
