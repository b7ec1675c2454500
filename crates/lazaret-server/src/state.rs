//! What every handler can reach. Holds nothing a second server instance
//! would need: all state is in the database.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use lazaret_face::FaceEngine;
use lazaret_store::Store;

use crate::announce::Announcer;
use crate::config::{ClockConfig, ClockMode, Config, ConfigError};
use crate::guard::Guards;
use crate::services::login_gate::LoginGate;

/// Source of the current time, replaceable in tests. Everything that
/// decides what is due (job `run_at`, deadlines, expiries) reads it.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// How much of this clock's time passes during `real` wall-clock time:
    /// what a job lease, meant to outlast real work, must be on this clock.
    fn scale(&self, real: Duration) -> Duration {
        real
    }

    /// Whether this clock runs apart from real time (shown by `/healthz`).
    fn is_simulated(&self) -> bool {
        false
    }
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "this is the system clock every other reader goes through"
    )]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Time for drills and load tests: `start` at the wall-clock `anchor`,
/// running `speed` times real time. Processes given the same three values
/// agree on the time, as far as their system clocks agree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulatedClock {
    pub start: DateTime<Utc>,
    pub anchor: DateTime<Utc>,
    pub speed: f64,
}

impl SimulatedClock {
    /// The simulated instant at wall-clock instant `wall`.
    pub fn at(&self, wall: DateTime<Utc>) -> DateTime<Utc> {
        self.start + self.stretch(wall - self.anchor)
    }

    fn stretch(&self, d: Duration) -> Duration {
        // Microseconds keep sub-second passes precise; the fallback only
        // matters for spans of more than 290,000 years.
        match d.num_microseconds() {
            Some(us) => Duration::microseconds((us as f64 * self.speed) as i64),
            None => Duration::milliseconds((d.num_milliseconds() as f64 * self.speed) as i64),
        }
    }
}

impl Clock for SimulatedClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the simulated clock runs from the wall clock"
    )]
    fn now(&self) -> DateTime<Utc> {
        self.at(Utc::now())
    }

    fn scale(&self, real: Duration) -> Duration {
        self.stretch(real)
    }

    fn is_simulated(&self) -> bool {
        true
    }
}

/// The clock `[clock]` describes; a simulated clock without an anchor
/// starts at `wall_now`.
pub fn clock_from_config(
    c: &ClockConfig,
    wall_now: DateTime<Utc>,
) -> Result<Arc<dyn Clock>, ConfigError> {
    c.validate()?;
    Ok(match (c.mode, c.start) {
        (ClockMode::Simulated, Some(start)) => Arc::new(SimulatedClock {
            start,
            anchor: c.anchor.and_then(|a| a.instant()).unwrap_or(wall_now),
            speed: c.speed,
        }),
        _ => Arc::new(SystemClock),
    })
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    /// The face engine, loaded once at start; `None` where the server runs
    /// without face models (face routes then answer 503).
    pub face: Option<Arc<FaceEngine>>,
    /// Renders the message that takes a prompt or form an officer issues
    /// "now" to the person (the notification outbox); `None` where the
    /// server has no notifier.
    pub announcer: Option<Arc<dyn Announcer>>,
    /// Runs login attempts on one account or from one address one at a time.
    pub logins: Arc<LoginGate>,
    /// Rate limits and the face-work bound of `[limits]`.
    pub guards: Arc<Guards>,
}

impl AppState {
    /// A bare state (system clock, no face engine, no announcer) for unit
    /// tests of single routes; servers are wired by [`App::builder`](crate::App).
    pub fn new(store: Store, config: Config) -> Self {
        Self {
            store,
            guards: Arc::new(Guards::new(&config.limits)),
            config: Arc::new(config),
            clock: Arc::new(SystemClock),
            face: None,
            announcer: None,
            logins: Arc::default(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClockAnchor;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn simulated_time_runs_from_start_at_the_anchor_times_speed() {
        let c = SimulatedClock {
            start: t("2026-03-10T06:30:00Z"),
            anchor: t("2026-11-30T04:00:00Z"),
            speed: 720.0,
        };
        assert_eq!(c.at(c.anchor), c.start);
        // Two real minutes are a simulated day; before the anchor it runs
        // backwards from start just as fast.
        assert_eq!(c.at(t("2026-11-30T04:02:00Z")), t("2026-03-11T06:30:00Z"));
        assert_eq!(c.at(t("2026-11-30T03:59:55Z")), t("2026-03-10T05:30:00Z"));
        assert_eq!(c.scale(Duration::minutes(5)), Duration::hours(60));
        assert!(c.is_simulated() && !SystemClock.is_simulated());
        assert_eq!(
            SystemClock.scale(Duration::minutes(5)),
            Duration::minutes(5)
        );
    }

    #[test]
    fn the_config_picks_the_clock() {
        let wall = t("2026-11-30T04:00:00Z");
        let mut c = ClockConfig::default();
        assert!(!clock_from_config(&c, wall).unwrap().is_simulated());
        c.mode = ClockMode::Simulated;
        assert!(clock_from_config(&c, wall).is_err(), "start is required");
        c.start = Some(t("2026-03-10T06:30:00Z"));
        c.speed = 60.0;
        // Without an anchor the clock starts at start-up.
        #[allow(
            clippy::disallowed_methods,
            reason = "the test needs a wall-clock instant, not the server's clock"
        )]
        let sim = clock_from_config(&c, Utc::now()).unwrap();
        assert!(sim.is_simulated());
        let now = sim.now();
        assert!(
            now >= t("2026-03-10T06:30:00Z") && now < t("2026-03-10T07:30:00Z"),
            "{now}"
        );
        c.anchor = Some(ClockAnchor::UnixMillis(wall.timestamp_millis()));
        let a = clock_from_config(&c, t("2000-01-01T00:00:00Z")).unwrap();
        let b = clock_from_config(&c, wall).unwrap();
        // The anchor, not the start-up time, decides: two processes agree.
        let (x, y) = (a.now(), b.now());
        assert!((y - x).abs() < Duration::seconds(60), "{x} vs {y}");
    }
}
