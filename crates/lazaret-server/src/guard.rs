//! What keeps one client from costing the server too much: rate limits
//! (per link token and client address on the person routes, per account on
//! the officer routes, per order on "prompt now") and the gate in front of
//! the face work (a bounded number run, a bounded number wait, the rest are
//! told to come back). Limits are counted in this process, on real time
//! (not the app's clock: a simulated clock must not speed up a limit); each
//! instance of a deployment counts its own.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::LimitsConfig;
use crate::services::ServiceError;

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// A rate limit per key (a token's hash, an address, an account, an order).
pub struct Limiter {
    what: &'static str,
    limiter: Keyed,
    clock: DefaultClock,
    checks: AtomicU64,
}

/// Keys not seen for a while are forgotten every this many checks, so the
/// table holds only recent callers.
const PRUNE_EVERY: u64 = 4096;

impl Limiter {
    fn new(what: &'static str, quota: Quota) -> Self {
        let clock = DefaultClock::default();
        Self {
            what,
            limiter: RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone()),
            clock,
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one request of `key`; refused with the wait until the next
    /// one would be allowed when `key` is over its rate.
    pub fn check(&self, key: &str) -> Result<(), ServiceError> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                tracing::info!(limit = self.what, "rate limit reached");
                ServiceError::RateLimited {
                    what: self.what,
                    retry_after_secs: seconds_up(wait),
                }
            })
    }
}

/// Whole seconds, at least one (a `Retry-After` of 0 invites a busy loop).
fn seconds_up(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

/// The bound on face work: `workers` run at once, `queue` more wait, and
/// any beyond are refused at once with [`ServiceError::FaceBusy`].
pub struct FaceGate {
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
    retry_after_secs: u64,
}

/// A place in the face work; hold it until the work is done (move it into
/// the blocking task, so that a request dropped mid-way still holds it
/// until its thread finishes).
pub struct FacePermit {
    _running: OwnedSemaphorePermit,
    _admitted: OwnedSemaphorePermit,
}

impl FaceGate {
    pub fn new(workers: usize, queue: usize, retry_after_secs: u64) -> Self {
        let workers = workers.max(1);
        Self {
            admitted: Arc::new(Semaphore::new(workers + queue)),
            running: Arc::new(Semaphore::new(workers)),
            retry_after_secs,
        }
    }

    /// Waits for a worker when there is room in the queue; refuses at once
    /// when the queue is full.
    pub async fn enter(&self) -> Result<FacePermit, ServiceError> {
        let admitted = self.admitted.clone().try_acquire_owned().map_err(|_| {
            tracing::warn!("face work is at its bound; refusing with Retry-After");
            ServiceError::FaceBusy {
                retry_after_secs: self.retry_after_secs,
            }
        })?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ServiceError::Internal)?;
        Ok(FacePermit {
            _running: running,
            _admitted: admitted,
        })
    }
}

/// The person routes (no officer token; a link token is the credential),
/// whose requests count per client address.
pub const PERSON_ROUTES: &[&str] = &[
    "/api/v1/checkins",
    "/api/v1/checkins/prompt",
    "/api/v1/enrollment",
    "/api/v1/enrollment/link",
    "/api/v1/symptom-reports",
    "/api/v1/symptom-reports/form",
    "/api/v1/my-data",
];

/// Middleware: a request to a person route counts against its client
/// address's rate (before the body is read); over it, 429 with `Retry-After`.
pub async fn limit_person_addresses(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if PERSON_ROUTES.contains(&req.uri().path()) {
        let address = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        if let Some(address) = address {
            if let Err(e) = state.guards.person_address.check(&address) {
                return crate::error::ApiError::from(e).into_response();
            }
        }
    }
    next.run(req).await
}

/// Middleware: every API answer (`/api/…`, `/healthz`) is neither cached
/// (it holds personal data) nor sniffed for another content type. The
/// pages and the console set their own headers.
pub async fn api_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let path = req.uri().path();
    let api = path.starts_with("/api/") || path == "/healthz";
    let mut resp = next.run(req).await;
    if api {
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    resp
}

/// Every limit of one server, built from `[limits]`.
pub struct Guards {
    /// Person routes, per link token (its hash).
    pub person_token: Limiter,
    /// Person routes, per client address.
    pub person_address: Limiter,
    /// Officer routes (API and console), per account or service token.
    pub officer: Limiter,
    /// "Prompt now", per order.
    pub prompt_now: Limiter,
    pub face: FaceGate,
    /// Largest frame or photo, in pixels.
    pub max_frame_pixels: u64,
}

impl Guards {
    pub fn new(limits: &LimitsConfig) -> Self {
        Self {
            person_token: Limiter::new(
                "requests with this link",
                per_minute(limits.person_token_per_minute),
            ),
            person_address: Limiter::new(
                "requests from this address",
                per_minute(limits.person_address_per_minute),
            ),
            officer: Limiter::new(
                "requests by this account",
                per_minute(limits.officer_per_minute),
            ),
            prompt_now: Limiter::new(
                "prompts for this order",
                Quota::per_hour(
                    NonZeroU32::new(limits.prompt_now_per_hour).unwrap_or(NonZeroU32::MIN),
                ),
            ),
            face: FaceGate::new(
                limits.face_workers(),
                limits.face_queue as usize,
                limits.face_retry_after_secs.into(),
            ),
            max_frame_pixels: limits.max_frame_pixels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_over_its_rate_is_told_when_to_come_back() {
        let l = Limiter::new("test", per_minute(2));
        assert!(l.check("a").is_ok());
        assert!(l.check("a").is_ok());
        match l.check("a") {
            Err(ServiceError::RateLimited {
                retry_after_secs, ..
            }) => assert!((1..=30).contains(&retry_after_secs), "{retry_after_secs}"),
            other => panic!("{other:?}"),
        }
        // Another key has its own allowance.
        assert!(l.check("b").is_ok());
    }

    #[test]
    fn whole_seconds_round_up() {
        assert_eq!(seconds_up(Duration::from_millis(1)), 1);
        assert_eq!(seconds_up(Duration::from_millis(29_001)), 30);
        assert_eq!(seconds_up(Duration::ZERO), 1);
    }

    #[tokio::test]
    async fn the_face_gate_runs_some_queues_some_and_refuses_the_rest() {
        let gate = Arc::new(FaceGate::new(1, 1, 7));
        let first = gate.enter().await.unwrap();
        // The second waits for the worker.
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.enter().await.map(|_| ()) }
        });
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "the second waits for a worker");
        // The third finds the queue full.
        match gate.enter().await {
            Err(ServiceError::FaceBusy { retry_after_secs }) => assert_eq!(retry_after_secs, 7),
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("admitted past the bound"),
        }
        drop(first);
        waiting.await.unwrap().unwrap();
        // Everything was given back.
        let again = gate.enter().await;
        assert!(again.is_ok());
    }
}
