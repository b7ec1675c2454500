//! The one way Lazaret is configured: a typed struct filled in layers —
//! built-in defaults, then `lazaret.toml` (or `--config FILE`), then
//! `LAZARET_*` environment variables, then command-line flags.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone as _, Utc};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A secret value: never shown by `Debug` or in logs.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "[unset]"
        } else {
            "[redacted]"
        })
    }
}

/// Whether check-ins must answer a liveness challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Liveness {
    On,
    Off,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `sqlite://FILE` (default `sqlite://lazaret.db`) or `postgres://…`.
    /// May hold a password, so it is shown only with the password removed.
    pub database_url: Secret,
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// The URL people reach this server at (used in check-in links).
    pub public_url: Option<String>,
    /// Where face model files are cached.
    pub models_dir: Option<PathBuf>,
    pub liveness: Liveness,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// `tracing` filter, e.g. `info` or `lazaret=debug`.
    pub log: String,
    /// 32-byte key (64 hex digits) that encrypts face templates (and pending
    /// photos, TOTP keys) at rest. Without it, enrolment is refused.
    pub template_key: Secret,
    /// The id of `template_key`, stored with everything it seals (`k1` is the
    /// key of data sealed before keys had ids). A new key gets a new id.
    pub template_key_id: String,
    /// Earlier template keys by id (`{ k1 = "<64 hex digits>" }`), still read
    /// while `lazaret keys rotate` re-seals what they sealed under the current one.
    pub previous_template_keys: std::collections::BTreeMap<String, Secret>,
    /// 32-byte key (64 hex digits) of the random prompt schedule, separate from
    /// the template keys so that rotating those moves no prompt. Unset, the
    /// schedule is keyed as before from `template_key`, with a warning
    /// (`lazaret keys schedule-key` prints that value to set here).
    pub prompt_schedule_key: Secret,
    /// Days a template is kept after its order ends.
    pub template_grace_days: u32,
    /// Key (hex, at least 32 bytes) of the audit chain's HMAC links and of
    /// the signed checkpoints. Kept outside the database: whoever can write
    /// the database but lacks it cannot rewrite the chain unnoticed. Once a
    /// database's chain is keyed, opening it without the key is refused.
    pub audit_key: Secret,
    /// Append-only file of signed chain heads (`seq hash mac` lines), so a
    /// cut-off tail is detected. Default: `<database file>.audit-checkpoint`
    /// beside an SQLite database; `lazaret-audit.checkpoint` in the working
    /// directory for PostgreSQL (set it explicitly there).
    pub audit_checkpoint: Option<PathBuf>,
    /// A checkpoint line every this many audit events (and at shutdown).
    pub audit_checkpoint_every: u32,
    /// When prompts fall and how long a person has to answer.
    pub prompts: lazaret_core::prompt_schedule::PromptPolicy,
    /// Hours a self-enrolment link stays valid.
    pub enrollment_link_hours: u32,
    /// Hours an order in force may go without a face template before a
    /// `cannot_prompt` alert asks an officer to act.
    pub enrolment_allowance_hours: u32,
    /// IANA zone of a contact order whose place the offline zone lookup
    /// cannot place (or that has no coordinates); default `UTC`.
    pub default_time_zone: lazaret_core::order::TimeZone,
    /// The background worker inside `serve`.
    pub worker: WorkerConfig,
    /// How messages reach persons (`[notify]`, `[notify.email]`, `[notify.sms]`).
    pub notify: NotifyConfig,
    /// Where the server's time comes from: the system clock, or a simulated
    /// one for drills and load tests (`[clock]`).
    pub clock: ClockConfig,
    /// The face engine's decision (`[face]`).
    pub face: FaceConfig,
    /// Officer logins: console sessions, throttling, second factor, token
    /// lifetime (`[auth]`).
    pub auth: AuthConfig,
    /// Timeouts, connection and face-work bounds, rate limits (`[limits]`).
    pub limits: LimitsConfig,
}

/// What one client may cost the server (`[limits]`): slow or many
/// connections, face work, request rates, bulk-upload errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// A connection must send a request's headers within this many seconds
    /// (also an idle keep-alive connection's next request), or it is closed.
    pub header_read_timeout_secs: u32,
    /// A request's whole body must arrive within this many seconds of its
    /// headers, or the request fails and the connection is closed.
    pub body_timeout_secs: u32,
    /// Open connections served at once; further ones wait in the listen
    /// backlog until one closes.
    pub max_connections: u32,
    /// On shutdown, how long in-flight requests may still run before their
    /// connections are dropped.
    pub shutdown_grace_secs: u32,
    /// Face-work requests (check-ins, enrolments) run at once; 0: one per CPU
    /// core but one (at least one), so the other routes keep a core.
    pub face_workers: u32,
    /// Face-work requests that may wait for a worker; past them the answer is
    /// 503 `face_busy` with `Retry-After`.
    pub face_queue: u32,
    /// The `Retry-After` seconds of a `face_busy` answer.
    pub face_retry_after_secs: u32,
    /// The longest one check-in's face work may run; past it the try is
    /// given back (503 `face_busy`). A try reserved longer than twice this
    /// without an outcome belongs to a process that died mid-verification
    /// and is given back to the person by their next request.
    pub face_timeout_secs: u32,
    /// Largest check-in frame or enrolment photo in pixels (width × height,
    /// read from the header before decoding); a phone camera's photo is at
    /// most about 12 MP, the check-in page sends 640 px.
    pub max_frame_pixels: u64,
    /// Requests per minute on the person routes with one link token.
    pub person_token_per_minute: u32,
    /// Requests per minute on the person routes from one client address.
    pub person_address_per_minute: u32,
    /// Requests per minute on the officer routes (API and console) by one
    /// account (or service token).
    pub officer_per_minute: u32,
    /// "Prompt now" (`POST /api/v1/orders/{id}/prompts`) per order per hour.
    pub prompt_now_per_hour: u32,
    /// Row errors a bulk CSV (order CSV, imports) keeps and returns; the
    /// total is always counted.
    pub csv_max_row_errors: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: 10,
            body_timeout_secs: 60,
            max_connections: 1024,
            shutdown_grace_secs: 30,
            face_workers: 0,
            face_queue: 16,
            face_retry_after_secs: 5,
            face_timeout_secs: 60,
            max_frame_pixels: 12_000_000,
            person_token_per_minute: 20,
            person_address_per_minute: 120,
            officer_per_minute: 600,
            prompt_now_per_hour: 20,
            csv_max_row_errors: 100,
        }
    }
}

/// The most pixels the face engine decodes at all.
pub const MAX_FRAME_PIXELS: u64 = 40_000_000;

impl LimitsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let range = |field: &str, v: u64, min: u64, max: u64| {
            if (min..=max).contains(&v) {
                Ok(())
            } else {
                Err(setting("limits", field, format!("must be {min} to {max}")))
            }
        };
        range(
            "header_read_timeout_secs",
            self.header_read_timeout_secs.into(),
            1,
            300,
        )?;
        range("body_timeout_secs", self.body_timeout_secs.into(), 1, 3600)?;
        range("max_connections", self.max_connections.into(), 1, 1_000_000)?;
        range("face_timeout_secs", self.face_timeout_secs.into(), 1, 600)?;
        range(
            "shutdown_grace_secs",
            self.shutdown_grace_secs.into(),
            0,
            3600,
        )?;
        range("face_workers", self.face_workers.into(), 0, 1024)?;
        range("face_queue", self.face_queue.into(), 0, 100_000)?;
        range(
            "face_retry_after_secs",
            self.face_retry_after_secs.into(),
            1,
            3600,
        )?;
        range(
            "max_frame_pixels",
            self.max_frame_pixels,
            10_000,
            MAX_FRAME_PIXELS,
        )?;
        range(
            "person_token_per_minute",
            self.person_token_per_minute.into(),
            1,
            100_000,
        )?;
        range(
            "person_address_per_minute",
            self.person_address_per_minute.into(),
            1,
            1_000_000,
        )?;
        range(
            "officer_per_minute",
            self.officer_per_minute.into(),
            1,
            1_000_000,
        )?;
        range(
            "prompt_now_per_hour",
            self.prompt_now_per_hour.into(),
            1,
            10_000,
        )?;
        range(
            "csv_max_row_errors",
            self.csv_max_row_errors.into(),
            1,
            lazaret_store::ROW_ERRORS_KEPT as u64,
        )?;
        Ok(())
    }

    /// The face workers: the setting, or for 0 one per CPU core but one
    /// (at least one). Face work is single-threaded and CPU-bound: with every
    /// core on it, officers' pages and prompts queued behind the check-ins
    /// (p99 over 500 ms in the load run of 2026-12-03; docs/benchmarks.md).
    pub fn face_workers(&self) -> usize {
        match self.face_workers {
            0 => {
                std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
            }
            n => n as usize,
        }
    }

    pub fn header_read_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.header_read_timeout_secs.into())
    }

    /// See [`LimitsConfig::face_timeout_secs`].
    pub fn face_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.face_timeout_secs.into())
    }

    pub fn body_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.body_timeout_secs.into())
    }

    pub fn shutdown_grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.shutdown_grace_secs.into())
    }
}

/// The face engine's settings an operator chooses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaceConfig {
    /// Face work (enrolment, check-ins) on this server: `true` needs the models in
    /// `models_dir` at start (`lazaret models fetch`); `false` serves without them.
    pub enabled: bool,
    /// The false match rate per check-in try the thresholds are chosen for: `0.01` (default)
    /// or `0.001`, the calibrated targets (see `lazaret_face::TargetFmr` for the false
    /// non-match rates each gives).
    pub target_fmr: f64,
}

impl Default for FaceConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            target_fmr: lazaret_face::TargetFmr::OnePercent.rate(),
        }
    }
}

impl FaceConfig {
    /// The checked target (validated at load, so this refuses only an unchecked config).
    pub fn target(&self) -> Result<lazaret_face::TargetFmr, ConfigError> {
        lazaret_face::TargetFmr::try_from(self.target_fmr)
            .map_err(|why| setting("face", "target_fmr", why))
    }

    /// The engine settings: the defaults with the operator's target.
    pub fn engine_config(&self) -> Result<lazaret_face::EngineConfig, ConfigError> {
        Ok(lazaret_face::EngineConfig {
            target_fmr: self.target()?,
            ..Default::default()
        })
    }
}

/// Officer logins (`[auth]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// A console session ends after this many minutes without a request.
    pub session_idle_minutes: u32,
    /// A console session ends this many hours after login, however busy.
    pub session_absolute_hours: u32,
    /// Wrong passwords or codes in a row that lock an account.
    pub account_max_failures: u32,
    /// How long a locked account stays locked.
    pub lockout_minutes: u32,
    /// Failed logins from one client address within `address_window_minutes`
    /// after which that address is refused until the window moves on.
    pub address_max_failures: u32,
    pub address_window_minutes: u32,
    /// Roles whose accounts must log in with a TOTP code (e.g. `["admin"]`);
    /// such an account without an enrolled code cannot log in.
    pub require_totp_roles: Vec<lazaret_core::user::Role>,
    /// Days an API token lives unless `token create --expires-days` says otherwise.
    pub token_days: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            account_max_failures: 5,
            lockout_minutes: 15,
            address_max_failures: 20,
            address_window_minutes: 15,
            require_totp_roles: Vec::new(),
            token_days: 90,
        }
    }
}

/// Longest an API token may live: a year.
pub const MAX_TOKEN_DAYS: u32 = 366;

impl AuthConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let range = |field: &str, v: u32, max: u32| {
            if (1..=max).contains(&v) {
                Ok(())
            } else {
                Err(setting("auth", field, format!("must be 1 to {max}")))
            }
        };
        range(
            "session_absolute_hours",
            self.session_absolute_hours,
            24 * 7,
        )?;
        range(
            "session_idle_minutes",
            self.session_idle_minutes,
            self.session_absolute_hours * 60,
        )?;
        range("account_max_failures", self.account_max_failures, 100)?;
        range("lockout_minutes", self.lockout_minutes, 24 * 60)?;
        range("address_max_failures", self.address_max_failures, 10_000)?;
        range(
            "address_window_minutes",
            self.address_window_minutes,
            24 * 60,
        )?;
        range("token_days", self.token_days, MAX_TOKEN_DAYS)?;
        Ok(())
    }

    pub fn session_idle(&self) -> chrono::Duration {
        chrono::Duration::minutes(self.session_idle_minutes.into())
    }

    pub fn session_absolute(&self) -> chrono::Duration {
        chrono::Duration::hours(self.session_absolute_hours.into())
    }

    pub fn lockout(&self) -> chrono::Duration {
        chrono::Duration::minutes(self.lockout_minutes.into())
    }

    pub fn address_window(&self) -> chrono::Duration {
        chrono::Duration::minutes(self.address_window_minutes.into())
    }

    /// Whether accounts of `role` must give a TOTP code.
    pub fn requires_totp(&self, role: lazaret_core::user::Role) -> bool {
        self.require_totp_roles.contains(&role)
    }
}

/// The server's clock. `simulated` runs time from `start`, `speed` times
/// faster than real time, for training drills and load tests; never for
/// real orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClockConfig {
    pub mode: ClockMode,
    /// Simulated instant (RFC 3339) at the wall-clock `anchor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<Utc>>,
    /// Wall-clock instant (RFC 3339, or Unix milliseconds) at which simulated
    /// time equals `start`. Instances sharing a database must share it, so
    /// that they agree on the time; without it each process anchors at its
    /// own start-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<ClockAnchor>,
    /// Simulated seconds per real second (720: a day in two minutes).
    pub speed: f64,
}

impl Default for ClockConfig {
    fn default() -> Self {
        Self {
            mode: ClockMode::System,
            start: None,
            anchor: None,
            speed: 1.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    System,
    Simulated,
}

/// A wall-clock instant, written either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ClockAnchor {
    UnixMillis(i64),
    Rfc3339(DateTime<Utc>),
}

impl ClockAnchor {
    pub fn instant(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::UnixMillis(ms) => Utc.timestamp_millis_opt(*ms).single(),
            Self::Rfc3339(t) => Some(*t),
        }
    }
}

/// Fastest simulated clock accepted: a day per real second.
pub const MAX_CLOCK_SPEED: f64 = 86_400.0;

impl ClockConfig {
    /// Refuses settings that cannot describe a clock.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |why: &str| Err(ConfigError::Clock(why.to_owned()));
        match self.mode {
            ClockMode::System => {
                if self.start.is_some() || self.anchor.is_some() || self.speed != 1.0 {
                    return bad("start, anchor and speed apply only with mode = \"simulated\"");
                }
            }
            ClockMode::Simulated => {
                if self.start.is_none() {
                    return bad("mode = \"simulated\" needs start (an RFC 3339 instant)");
                }
                if !(self.speed.is_finite() && self.speed > 0.0 && self.speed <= MAX_CLOCK_SPEED) {
                    return bad(&format!(
                        "speed must be above 0 and at most {MAX_CLOCK_SPEED} (got {})",
                        self.speed
                    ));
                }
                if self.anchor.is_some_and(|a| a.instant().is_none()) {
                    return bad("anchor is out of range");
                }
            }
        }
        Ok(())
    }
}

/// The background worker: prompt scheduling, deadlines, notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Off for API-only instances; at least one instance should run it.
    pub enabled: bool,
    /// Real seconds between passes over the job queue; fractions allowed
    /// (a sped-up simulated clock needs sub-second passes).
    pub interval_secs: f64,
    /// Real seconds a claimed job is this worker's: another instance takes
    /// it over only after this (a worker killed mid-job is noticed that
    /// late). A message's delivery renews it before sending, so it must be
    /// at least twice the longest `[notify.*] timeout_secs`.
    pub lease_secs: u32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_secs: 15.0,
            lease_secs: 300,
        }
    }
}

impl WorkerConfig {
    /// A job lease, in real time.
    pub fn lease(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.lease_secs.into())
    }

    /// The pause between passes; refuses what no timer can wait.
    pub fn interval(&self) -> Result<std::time::Duration, ConfigError> {
        std::time::Duration::try_from_secs_f64(self.interval_secs)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                ConfigError::Worker(format!(
                    "interval_secs must be a positive number of seconds (got {})",
                    self.interval_secs
                ))
            })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifyConfig {
    /// Delivery attempts per message before it is marked failed.
    pub max_attempts: u32,
    /// Back-off before the first retry, doubling after each failure.
    pub retry_base_secs: u64,
    /// Longest wait between two attempts.
    pub retry_max_secs: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms: Option<SmsConfig>,
    /// The health authority's number that exposure and order notices tell
    /// people to call. Without it those notices are not sent (an officer
    /// informs by phone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_phone: Option<String>,
}

impl NotifyConfig {
    /// The longest a configured sender may take over one message (the
    /// outbox cuts a send off there).
    pub fn send_timeout(&self) -> std::time::Duration {
        let email = self.email.as_ref().map_or(0, |e| e.timeout_secs);
        let sms = self.sms.as_ref().map_or(0, |s| s.timeout_secs);
        std::time::Duration::from_secs(email.max(sms).max(1))
    }
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            retry_base_secs: 30,
            retry_max_secs: 600,
            email: None,
            sms: None,
            contact_phone: None,
        }
    }
}

/// Most delivery attempts accepted per message.
pub const MAX_NOTIFY_ATTEMPTS: u32 = 100;

impl NotifyConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=MAX_NOTIFY_ATTEMPTS).contains(&self.max_attempts) {
            return Err(setting(
                "notify",
                "max_attempts",
                format!("must be 1 to {MAX_NOTIFY_ATTEMPTS}"),
            ));
        }
        if self.retry_base_secs == 0 {
            return Err(setting("notify", "retry_base_secs", "must be positive"));
        }
        if let Some(p) = &self.contact_phone {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            let allowed = p
                .chars()
                .all(|c| c.is_ascii_digit() || " +-()./".contains(c));
            if !allowed || !(3..=20).contains(&digits) || p.len() > 40 {
                return Err(setting(
                    "notify",
                    "contact_phone",
                    "must be a telephone number (3 to 20 digits, with + - ( ) . / or spaces)",
                ));
            }
        }
        if self.retry_max_secs < self.retry_base_secs {
            return Err(setting(
                "notify",
                "retry_max_secs",
                "must be at least retry_base_secs",
            ));
        }
        if let Some(e) = &self.email {
            let bad = |field: &str, why: &str| Err(setting("notify.email", field, why));
            if e.host.trim().is_empty() {
                return bad("host", "must name the SMTP server");
            }
            if e.from.trim().is_empty() {
                return bad("from", "must give the sender address");
            }
            if e.port == Some(0) {
                return bad("port", "must be 1 to 65535");
            }
            if e.timeout_secs == 0 {
                return bad("timeout_secs", "must be positive");
            }
            if e.tls == SmtpTls::None && !is_loopback_host(&e.host) {
                return bad(
                    "tls",
                    "\"none\" (plain SMTP, addresses and messages in clear) is only for a relay on \
                     this host (localhost, 127.0.0.1 or ::1); use \"starttls\" or \"tls\"",
                );
            }
        }
        if let Some(s) = &self.sms {
            if !is_http_url(&s.webhook_url) {
                return Err(setting(
                    "notify.sms",
                    "webhook_url",
                    format!("{:?} must start with https:// or http://", s.webhook_url),
                ));
            }
            // The webhook carries live check-in links and the bearer secret.
            let url = reqwest::Url::parse(&s.webhook_url).map_err(|e| {
                setting(
                    "notify.sms",
                    "webhook_url",
                    format!("{:?} is not a URL: {e}", s.webhook_url),
                )
            })?;
            let loopback = url.host_str().is_some_and(is_loopback_host);
            if url.scheme() != "https" && !loopback {
                return Err(setting(
                    "notify.sms",
                    "webhook_url",
                    "must be https:// (it carries check-in links and the bearer token); \
                     http:// is allowed only on this host (localhost, 127.0.0.1 or ::1)",
                ));
            }
            if s.timeout_secs == 0 {
                return Err(setting("notify.sms", "timeout_secs", "must be positive"));
            }
        }
        Ok(())
    }
}

const KEY_ID_RULE: &str = "1 to 32 lowercase letters, digits, `-` or `_`";

/// A template key id: short, and the same in a file and an environment variable
/// (whose names the loader lowercases).
fn is_key_id(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// `localhost` or a loopback address (`127.0.0.0/8`, `::1`, with or without brackets).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn is_http_url(url: &str) -> bool {
    ["https://", "http://"]
        .iter()
        .any(|p| url.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or in tests.
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    pub host: String,
    /// Defaults to 587 (`starttls`), 465 (`tls`) or 25 (`none`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    pub tls: SmtpTls,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub password: Secret,
    /// Sender, e.g. `Lazaret <noreply@health.example>`.
    pub from: String,
    pub timeout_secs: u64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: None,
            tls: SmtpTls::Starttls,
            username: None,
            password: Secret::default(),
            from: String::new(),
            timeout_secs: 30,
        }
    }
}

/// SMS through an HTTP webhook (an SMS gateway or a relay in front of one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// Receives `POST {"to", "body", "message_id"}`; any non-2xx is a failure.
    pub webhook_url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub bearer_token: Secret,
    pub timeout_secs: u64,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            webhook_url: String::new(),
            bearer_token: Secret::default(),
            timeout_secs: 15,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: Secret::new("sqlite://lazaret.db"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            models_dir: None,
            liveness: Liveness::On,
            max_body_bytes: 16 * 1024 * 1024,
            log: "info".into(),
            template_key: Secret::default(),
            template_key_id: lazaret_store::LEGACY_KEY_ID.to_owned(),
            previous_template_keys: Default::default(),
            prompt_schedule_key: Secret::default(),
            template_grace_days: 7,
            audit_key: Secret::default(),
            audit_checkpoint: None,
            audit_checkpoint_every: 1000,
            prompts: Default::default(),
            enrollment_link_hours: 48,
            enrolment_allowance_hours: 12,
            default_time_zone: lazaret_core::order::TimeZone::default(),
            worker: WorkerConfig::default(),
            notify: NotifyConfig::default(),
            clock: ClockConfig::default(),
            face: FaceConfig::default(),
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
        }
    }
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] Box<figment::Error>),
    #[error("invalid [clock] setting: {0}")]
    Clock(String),
    #[error("invalid [worker] setting: {0}")]
    Worker(String),
    /// A value outside what its setting allows; `section` is the TOML
    /// table (empty for top-level keys), `field` the key within it.
    #[error("invalid {}setting {field}: {reason}", section_label(.section))]
    Setting {
        section: &'static str,
        field: String,
        reason: String,
    },
}

fn section_label(section: &str) -> String {
    if section.is_empty() {
        String::new()
    } else {
        format!("[{section}] ")
    }
}

fn setting(section: &'static str, field: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Setting {
        section,
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Longest a self-enrolment link may stay valid: a link is a credential.
pub const MAX_ENROLLMENT_LINK_HOURS: u32 = 24 * 14;

/// Values given on the command line; `None` leaves the lower layers alone.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness: Option<Liveness>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models_dir: Option<PathBuf>,
}

impl Config {
    /// How long a template outlives its order ([`Config::template_grace_days`]).
    pub fn template_grace(&self) -> chrono::Duration {
        chrono::Duration::days(self.template_grace_days.into())
    }

    /// Loads the layers. `file` is required to exist when given; otherwise
    /// `lazaret.toml` in the working directory is read if present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        Self::load_from(file, overrides, Env::prefixed("LAZARET_"))
    }

    fn load_from(
        file: Option<&Path>,
        overrides: &Overrides,
        env: Env,
    ) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) if !f.exists() => return Err(ConfigError::MissingFile(f.to_owned())),
            Some(f) => fig = fig.merge(Toml::file(f)),
            None => fig = fig.merge(Toml::file("lazaret.toml")),
        }
        // Only the keys the struct knows: other LAZARET_* variables (such as
        // LAZARET_TEST_POSTGRES_URL) belong to other tools.
        let known = [
            "database_url",
            "listen",
            "public_url",
            "models_dir",
            "liveness",
            "max_body_bytes",
            "log",
            "template_key",
            "template_key_id",
            "previous_template_keys",
            "prompt_schedule_key",
            "template_grace_days",
            "audit_key",
            "audit_checkpoint",
            "audit_checkpoint_every",
            "prompts",
            "enrollment_link_hours",
            "enrolment_allowance_hours",
            "default_time_zone",
            "worker",
            "notify",
            "clock",
            "face",
            "auth",
            "limits",
        ];
        // `__` nests: LAZARET_NOTIFY__EMAIL__HOST is `notify.email.host`.
        fig = fig.merge(
            env.filter(move |k| {
                let top = k.as_str().split("__").next().unwrap_or_default();
                known.iter().any(|n| top.eq_ignore_ascii_case(n))
            })
            .split("__"),
        );
        fig = fig.merge(Serialized::defaults(overrides));
        let config: Config = fig
            .extract()
            .map_err(|e| ConfigError::Invalid(Box::new(e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every section, so that a setting which cannot work stops the
    /// start with its name instead of quietly doing nothing (a `[prompts]`
    /// table that cannot fit the day would plan no prompts at all).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_body_bytes == 0 {
            return Err(setting("", "max_body_bytes", "must be positive"));
        }
        let is_key = |k: &str| k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit());
        let key = self.template_key.expose();
        if !key.is_empty() && !is_key(key) {
            return Err(setting(
                "",
                "template_key",
                "must be 64 hex digits (32 bytes), or unset",
            ));
        }
        if !is_key_id(&self.template_key_id) {
            return Err(setting("", "template_key_id", KEY_ID_RULE));
        }
        for (id, k) in &self.previous_template_keys {
            if !is_key_id(id) {
                return Err(setting(
                    "previous_template_keys",
                    id,
                    format!("is not a key id: {KEY_ID_RULE}"),
                ));
            }
            if *id == self.template_key_id {
                return Err(setting(
                    "previous_template_keys",
                    id,
                    "is the id of the current template_key: a new key needs a new template_key_id",
                ));
            }
            if !is_key(k.expose()) {
                return Err(setting(
                    "previous_template_keys",
                    id,
                    "must be 64 hex digits (32 bytes)",
                ));
            }
            if key.eq_ignore_ascii_case(k.expose().trim()) {
                return Err(setting(
                    "previous_template_keys",
                    id,
                    "is the current template_key under another id",
                ));
            }
        }
        if !self.previous_template_keys.is_empty() && key.is_empty() {
            return Err(setting(
                "",
                "template_key",
                "must be set when previous_template_keys are",
            ));
        }
        let schedule = self.prompt_schedule_key.expose();
        if !schedule.is_empty() && !is_key(schedule) {
            return Err(setting(
                "",
                "prompt_schedule_key",
                "must be 64 hex digits (32 bytes), or unset",
            ));
        }
        if !self.audit_key.is_empty() {
            lazaret_core::audit::AuditKey::from_hex(self.audit_key.expose())
                .map_err(|e| setting("", "audit_key", e.to_string()))?;
        }
        if self.audit_checkpoint_every == 0 {
            return Err(setting("", "audit_checkpoint_every", "must be positive"));
        }
        if let Some(url) = &self.public_url {
            if !is_http_url(url) {
                return Err(setting(
                    "",
                    "public_url",
                    format!("{url:?} must start with https:// or http://"),
                ));
            }
        }
        if !(1..=MAX_ENROLLMENT_LINK_HOURS).contains(&self.enrollment_link_hours) {
            return Err(setting(
                "",
                "enrollment_link_hours",
                format!("must be 1 to {MAX_ENROLLMENT_LINK_HOURS}"),
            ));
        }
        self.prompts
            .validate()
            .map_err(|e| setting("prompts", &e.field, e.reason))?;
        self.clock.validate()?;
        self.face.target()?;
        self.worker.interval()?;
        if !(2..=86_400).contains(&self.worker.lease_secs) {
            return Err(setting("worker", "lease_secs", "must be 2 to 86400"));
        }
        let send = self.notify.send_timeout().as_secs();
        if u64::from(self.worker.lease_secs) < 2 * send {
            return Err(setting(
                "worker",
                "lease_secs",
                format!(
                    "must be at least twice the longest [notify.*] timeout_secs ({send}), \
                     so that a message's send ends well inside its delivery job's lease"
                ),
            ));
        }
        self.auth.validate()?;
        self.limits.validate()?;
        self.notify.validate()
    }

    /// Whether cookies must be `Secure`: the server is reached over https.
    pub fn https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    /// The audit chain's key and checkpoint file (see [`Config::audit_key`]).
    pub fn audit_settings(&self) -> lazaret_store::AuditSettings {
        // Validated at load; unset (empty) gives no key.
        let key = lazaret_core::audit::AuditKey::from_hex(self.audit_key.expose()).ok();
        lazaret_store::AuditSettings {
            key,
            checkpoint: Some(self.audit_checkpoint_path()),
            checkpoint_every: self.audit_checkpoint_every.into(),
        }
    }

    /// [`Config::audit_checkpoint`], or its default.
    pub fn audit_checkpoint_path(&self) -> PathBuf {
        if let Some(p) = &self.audit_checkpoint {
            return p.clone();
        }
        let url = self.database_url.expose();
        let file = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .map(|f| f.split('?').next().unwrap_or(f))
            .filter(|f| !f.is_empty() && !f.starts_with(":memory:"));
        match file {
            Some(f) => PathBuf::from(format!("{f}.audit-checkpoint")),
            None => PathBuf::from("lazaret-audit.checkpoint"),
        }
    }

    /// The database URL with any password replaced, for logs.
    pub fn database_url_for_display(&self) -> String {
        redact_url_password(self.database_url.expose())
    }
}

/// Replaces the password of `scheme://user:password@host` with `***`.
pub fn redact_url_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let Some(at) = rest.find('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
// figment's Jail returns its own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "lazaret.toml",
                "listen = \"127.0.0.1:9000\"\nlog = \"debug\"",
            )?;
            jail.set_env("LAZARET_LOG", "warn");
            jail.set_env("LAZARET_TEST_POSTGRES_URL", "ignored");
            let c = Config::load(None, &Overrides::default()).unwrap();
            assert_eq!(c.listen.port(), 9000, "file beats default");
            assert_eq!(c.log, "warn", "env beats file");
            let o = Overrides {
                listen: Some("127.0.0.1:9100".parse().unwrap()),
                ..Default::default()
            };
            let c = Config::load(None, &o).unwrap();
            assert_eq!(c.listen.port(), 9100, "flag beats file");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "lisen = \"127.0.0.1:9000\"")?;
            assert!(Config::load(Some(Path::new("bad.toml")), &Overrides::default()).is_err());
            assert!(matches!(
                Config::load(Some(Path::new("nope.toml")), &Overrides::default()),
                Err(ConfigError::MissingFile(_))
            ));
            Ok(())
        });
    }

    #[test]
    fn notify_and_worker_settings_nest_from_file_and_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "lazaret.toml",
                "[worker]\nenabled = false\n[notify.email]\nhost = \"smtp.example.org\"\nfrom = \"a@example.org\"\n",
            )?;
            jail.set_env("LAZARET_NOTIFY__EMAIL__PASSWORD", "hunter2");
            jail.set_env(
                "LAZARET_NOTIFY__SMS__WEBHOOK_URL",
                "https://sms.example.org/send",
            );
            jail.set_env("LAZARET_WORKER__INTERVAL_SECS", "5");
            let c = Config::load(None, &Overrides::default()).unwrap();
            assert!(!c.worker.enabled);
            assert_eq!(c.worker.interval_secs, 5.0);
            let email = c.notify.email.as_ref().unwrap();
            assert_eq!(email.host, "smtp.example.org");
            assert_eq!(email.password.expose(), "hunter2");
            assert_eq!(email.tls, SmtpTls::Starttls);
            let sms = c.notify.sms.as_ref().unwrap();
            assert_eq!(sms.webhook_url, "https://sms.example.org/send");
            assert!(!format!("{c:?}").contains("hunter2"));
            Ok(())
        });
        let c = Config::default();
        assert!(c.worker.enabled && c.notify.email.is_none() && c.notify.sms.is_none());
    }

    #[test]
    fn the_face_target_is_one_of_the_calibrated_rates() {
        figment::Jail::expect_with(|jail| {
            assert_eq!(
                Config::default().face.target().unwrap(),
                lazaret_face::TargetFmr::OnePercent
            );
            jail.create_file("lazaret.toml", "[face]\ntarget_fmr = 0.001\n")?;
            let c = Config::load(None, &Overrides::default()).unwrap();
            assert_eq!(
                c.face.engine_config().unwrap().target_fmr,
                lazaret_face::TargetFmr::PointOnePercent
            );
            jail.set_env("LAZARET_FACE__TARGET_FMR", "0.05");
            let err = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("[face]") && err.contains("target_fmr") && err.contains("0.001"),
                "{err}"
            );
            Ok(())
        });
    }

    #[test]
    fn a_simulated_clock_loads_from_file_and_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "lazaret.toml",
                "[clock]\nmode = \"simulated\"\nstart = \"2026-03-10T06:30:00Z\"\nspeed = 720\n\
                 [worker]\ninterval_secs = 0.25\n",
            )?;
            jail.set_env("LAZARET_CLOCK__ANCHOR", "1773124200000");
            let c = Config::load(None, &Overrides::default()).unwrap();
            assert_eq!(c.clock.mode, ClockMode::Simulated);
            assert_eq!(c.clock.speed, 720.0);
            assert_eq!(
                c.clock.start.unwrap(),
                "2026-03-10T06:30:00Z".parse::<DateTime<Utc>>().unwrap()
            );
            assert_eq!(
                c.clock
                    .anchor
                    .unwrap()
                    .instant()
                    .unwrap()
                    .timestamp_millis(),
                1_773_124_200_000
            );
            assert_eq!(
                c.worker.interval().unwrap(),
                std::time::Duration::from_millis(250)
            );
            jail.set_env("LAZARET_CLOCK__ANCHOR", "2026-11-30T04:00:00+01:00");
            let c = Config::load(None, &Overrides::default()).unwrap();
            assert_eq!(
                c.clock.anchor.unwrap().instant().unwrap(),
                "2026-11-30T03:00:00Z".parse::<DateTime<Utc>>().unwrap()
            );
            Ok(())
        });
        let c = Config::default();
        assert_eq!(c.clock.mode, ClockMode::System);
        assert!(c.clock.validate().is_ok());
    }

    #[test]
    fn the_audit_checkpoint_defaults_beside_an_sqlite_database() {
        let mut c = Config {
            database_url: Secret::new("sqlite:///var/lib/lazaret/l.db?mode=rwc"),
            ..Config::default()
        };
        assert_eq!(
            c.audit_checkpoint_path(),
            PathBuf::from("/var/lib/lazaret/l.db.audit-checkpoint")
        );
        c.database_url = Secret::new("postgres://db/x");
        assert_eq!(
            c.audit_checkpoint_path(),
            PathBuf::from("lazaret-audit.checkpoint")
        );
        c.audit_checkpoint = Some("/srv/cp".into());
        assert_eq!(c.audit_checkpoint_path(), PathBuf::from("/srv/cp"));
        c.audit_key = Secret::new("ab".repeat(32));
        assert!(c.validate().is_ok());
        assert!(c.audit_settings().key.is_some());
        assert!(!format!("{c:?}").contains(&"ab".repeat(32)));
    }

    #[test]
    fn nonsense_clock_and_interval_settings_are_refused() {
        for (file, why) in [
            ("[clock]\nmode = \"simulated\"\n", "needs start"),
            (
                "[clock]\nmode = \"simulated\"\nstart = \"2026-03-10T06:30:00Z\"\nspeed = 0\n",
                "speed must be above 0",
            ),
            (
                "[clock]\nmode = \"simulated\"\nstart = \"2026-03-10T06:30:00Z\"\nspeed = -2.5\n",
                "speed must be above 0",
            ),
            (
                "[clock]\nstart = \"2026-03-10T06:30:00Z\"\n",
                "only with mode",
            ),
            ("[clock]\nmode = \"fast\"\n", "unknown variant"),
            ("[worker]\ninterval_secs = 0\n", "positive number"),
            ("[worker]\ninterval_secs = -1\n", "positive number"),
        ] {
            figment::Jail::expect_with(|jail| {
                jail.create_file("lazaret.toml", file)?;
                let e = Config::load(None, &Overrides::default()).unwrap_err();
                assert!(e.to_string().contains(why), "{file}: {e}");
                Ok(())
            });
        }
    }

    #[test]
    fn every_section_is_validated_when_the_configuration_loads() {
        for (file, why) in [
            // Three prompts two hours apart cannot fit an hour's day.
            (
                "[prompts]\nper_day = 8\n",
                "invalid [prompts] setting per_day",
            ),
            (
                "[prompts]\nwindow_minutes = 0\n",
                "invalid [prompts] setting window_minutes",
            ),
            (
                "[notify]\nmax_attempts = 0\n",
                "invalid [notify] setting max_attempts",
            ),
            (
                "[notify]\nretry_base_secs = 900\nretry_max_secs = 60\n",
                "invalid [notify] setting retry_max_secs",
            ),
            (
                "[notify.email]\nfrom = \"a@example.org\"\n",
                "invalid [notify.email] setting host",
            ),
            (
                "[notify.sms]\nwebhook_url = \"sms.example.org/send\"\n",
                "invalid [notify.sms] setting webhook_url",
            ),
            (
                "[notify.sms]\nwebhook_url = \"http://sms.example.org/send\"\n",
                "invalid [notify.sms] setting webhook_url: must be https://",
            ),
            (
                "[notify.sms]\nwebhook_url = \"http://127.0.0.1.example.org/send\"\n",
                "invalid [notify.sms] setting webhook_url: must be https://",
            ),
            (
                "[notify.email]\nhost = \"smtp.example.org\"\nfrom = \"a@example.org\"\ntls = \"none\"\n",
                "invalid [notify.email] setting tls: \"none\" (plain SMTP",
            ),
            ("template_key = \"abc\"\n", "invalid setting template_key"),
            ("template_key_id = \"K 2\"\n", "invalid setting template_key_id"),
            (
                "template_key = \"0000000000000000000000000000000000000000000000000000000000000001\"\n\
                 [previous_template_keys]\nk1 = \"abcd\"\n",
                "invalid [previous_template_keys] setting k1",
            ),
            (
                "template_key = \"0000000000000000000000000000000000000000000000000000000000000001\"\n\
                 [previous_template_keys]\nk1 = \"0000000000000000000000000000000000000000000000000000000000000002\"\n",
                "invalid [previous_template_keys] setting k1: is the id of the current",
            ),
            (
                "[previous_template_keys]\nk0 = \"0000000000000000000000000000000000000000000000000000000000000002\"\n",
                "invalid setting template_key: must be set when",
            ),
            ("prompt_schedule_key = \"12\"\n", "invalid setting prompt_schedule_key"),
            ("audit_key = \"abcd\"\n", "invalid setting audit_key"),
            (
                "audit_checkpoint_every = 0\n",
                "invalid setting audit_checkpoint_every",
            ),
            (
                "enrollment_link_hours = 0\n",
                "invalid setting enrollment_link_hours",
            ),
            ("max_body_bytes = 0\n", "invalid setting max_body_bytes"),
            (
                "[limits]\nheader_read_timeout_secs = 0\n",
                "invalid [limits] setting header_read_timeout_secs",
            ),
            (
                "[limits]\nmax_frame_pixels = 50000000\n",
                "invalid [limits] setting max_frame_pixels",
            ),
            (
                "[limits]\nperson_token_per_minute = 0\n",
                "invalid [limits] setting person_token_per_minute",
            ),
            (
                "[limits]\ncsv_max_row_errors = 0\n",
                "invalid [limits] setting csv_max_row_errors",
            ),
            (
                "public_url = \"lazaret.example.org\"\n",
                "invalid setting public_url",
            ),
            (
                "[auth]\nsession_idle_minutes = 0\n",
                "invalid [auth] setting session_idle_minutes",
            ),
            // Idle longer than the absolute end makes no sense.
            (
                "[auth]\nsession_absolute_hours = 1\nsession_idle_minutes = 61\n",
                "invalid [auth] setting session_idle_minutes",
            ),
            (
                "[auth]\naccount_max_failures = 0\n",
                "invalid [auth] setting account_max_failures",
            ),
            (
                "[auth]\naddress_max_failures = 0\n",
                "invalid [auth] setting address_max_failures",
            ),
            (
                "[auth]\ntoken_days = 400\n",
                "invalid [auth] setting token_days",
            ),
            (
                "[auth]\nrequire_totp_roles = [\"root\"]\n",
                "invalid configuration",
            ),
        ] {
            figment::Jail::expect_with(|jail| {
                jail.create_file("lazaret.toml", file)?;
                let e = Config::load(None, &Overrides::default()).unwrap_err();
                assert!(e.to_string().contains(why), "{file}: {e}");
                Ok(())
            });
        }
        assert!(Config::default().validate().is_ok());
        figment::Jail::expect_with(|jail| {
            jail.create_file("lazaret.toml", "[auth]\nrequire_totp_roles = [\"admin\"]\n")?;
            let c = Config::load(None, &Overrides::default()).unwrap();
            assert!(c.auth.requires_totp(lazaret_core::user::Role::Admin));
            assert!(!c.auth.requires_totp(lazaret_core::user::Role::Auditor));
            Ok(())
        });
    }

    #[test]
    fn the_default_time_zone_is_an_iana_name() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("lazaret.toml", "default_time_zone = \"Europe/Moscow\"\n")?;
            let c = Config::load(None, &Overrides::default()).unwrap();
            assert_eq!(c.default_time_zone.name(), "Europe/Moscow");
            jail.create_file("lazaret.toml", "default_time_zone = \"Mars/Olympus\"\n")?;
            let e = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(e.to_string().contains("default_time_zone"), "{e}");
            Ok(())
        });
        assert_eq!(Config::default().default_time_zone.name(), "UTC");
    }

    #[test]
    fn plain_transports_are_accepted_only_on_loopback() {
        for (file, ok) in [
            (
                "[notify.sms]\nwebhook_url = \"https://sms.example.org/send\"\n",
                true,
            ),
            (
                "[notify.sms]\nwebhook_url = \"http://127.0.0.1:9/send\"\n",
                true,
            ),
            (
                "[notify.sms]\nwebhook_url = \"http://localhost/send\"\n",
                true,
            ),
            (
                "[notify.sms]\nwebhook_url = \"http://[::1]:8080/send\"\n",
                true,
            ),
            (
                "[notify.sms]\nwebhook_url = \"http://10.0.0.5/send\"\n",
                false,
            ),
            (
                "[notify.email]\nhost = \"127.0.0.1\"\nfrom = \"a@b.org\"\ntls = \"none\"\n",
                true,
            ),
            (
                "[notify.email]\nhost = \"localhost\"\nfrom = \"a@b.org\"\ntls = \"none\"\n",
                true,
            ),
            (
                "[notify.email]\nhost = \"mail.b.org\"\nfrom = \"a@b.org\"\ntls = \"starttls\"\n",
                true,
            ),
            (
                "[notify.email]\nhost = \"10.1.1.1\"\nfrom = \"a@b.org\"\ntls = \"none\"\n",
                false,
            ),
        ] {
            figment::Jail::expect_with(|jail| {
                jail.create_file("lazaret.toml", file)?;
                let r = Config::load(None, &Overrides::default());
                assert_eq!(r.is_ok(), ok, "{file}: {r:?}");
                Ok(())
            });
        }
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let c = Config {
            database_url: Secret::new("postgres://u:hunter2@db/x"),
            ..Config::default()
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(c.database_url_for_display(), "postgres://u:***@db/x");
        assert_eq!(
            redact_url_password("sqlite://lazaret.db"),
            "sqlite://lazaret.db"
        );
    }
}
