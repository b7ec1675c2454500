//! The one place that wires a server: store, clock, face engine, the
//! notification outbox (as announcer and sender) and the background worker.
//! `lazaret serve`, `lazaret demo` and every test harness build through
//! [`App::builder`], so what runs in tests is what runs in production; test
//! doubles (a controllable clock, recording announcers, an SMS gateway) plug
//! in through the builder.

use std::future::Future;
use std::sync::Arc;

use lazaret_face::FaceEngine;
use lazaret_store::Store;
use thiserror::Error;
use tokio::net::TcpListener;

use crate::announce::Announcer;
use crate::config::{Config, ConfigError};
use crate::notify::{Notifier, NotifyError, SmsSender};
use crate::state::{clock_from_config, AppState, Clock, SystemClock};
use crate::worker::Worker;

/// Why an [`App`] could not be built from its configuration.
#[derive(Debug, Error)]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("configuring notifications ([notify])")]
    Notify(#[from] NotifyError),
}

/// What renders the messages that announce prompts and forms.
enum Announcing {
    /// The notification outbox built from `[notify]` (production), when a
    /// template key is set: without one nothing is enrolled, so nothing is
    /// prompted or announced.
    Outbox,
    /// A test double; no outbox delivers then.
    With(Arc<dyn Announcer>),
    /// Nothing: officers' prompts and forms go unannounced (the officer is
    /// given the token) and [`App::worker`] is `None`.
    Nothing,
}

/// The parts of an [`App`] before it is built; see [`App::builder`].
pub struct AppBuilder {
    config: Config,
    store: Store,
    clock: Option<Arc<dyn Clock>>,
    face: Option<Arc<FaceEngine>>,
    announcing: Announcing,
    sms: Option<Arc<dyn SmsSender>>,
}

impl AppBuilder {
    /// Runs on `clock` instead of the one `[clock]` describes.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Verifies faces with `engine`; without one (`None`, the default)
    /// enrolment and check-ins answer 503.
    pub fn face(mut self, engine: impl Into<Option<Arc<FaceEngine>>>) -> Self {
        self.face = engine.into();
        self
    }

    /// Announces through `announcer` (officers' requests and the worker)
    /// instead of the outbox; no outbox delivers then.
    pub fn announcer(mut self, announcer: Arc<dyn Announcer>) -> Self {
        self.announcing = Announcing::With(announcer);
        self
    }

    /// Announces nothing: officers relay the tokens of the prompts and
    /// forms they issue; workers come from [`App::worker_with`] only.
    pub fn unannounced(mut self) -> Self {
        self.announcing = Announcing::Nothing;
        self
    }

    /// Sends the outbox's SMS through `sender` instead of `[notify.sms]`.
    pub fn sms(mut self, sender: Arc<dyn SmsSender>) -> Self {
        self.sms = Some(sender);
        self
    }

    /// Wires the parts. Checks what the configuration loader cannot: the
    /// clock, the worker's interval and the notification senders.
    pub fn build(self) -> Result<App, BuildError> {
        let clock = match self.clock {
            Some(c) => c,
            // A simulated clock without an anchor starts now.
            None => clock_from_config(&self.config.clock, SystemClock.now())?,
        };
        let worker_every = self.config.worker.interval()?;
        let announcing = match self.announcing {
            Announcing::Outbox if self.config.template_key.is_empty() => Announcing::Nothing,
            a => a,
        };
        let notifier = match announcing {
            Announcing::Outbox => {
                let n = Notifier::from_config(
                    self.store.clone(),
                    clock.clone(),
                    &self.config.notify,
                    self.config.public_url.clone(),
                )?;
                Some(Arc::new(match self.sms {
                    Some(s) => n.with_sms(s),
                    None => n,
                }))
            }
            _ => None,
        };
        let announcer: Option<Arc<dyn Announcer>> = match announcing {
            Announcing::Outbox => notifier.clone().map(|n| n as Arc<dyn Announcer>),
            Announcing::With(a) => Some(a),
            Announcing::Nothing => None,
        };
        let state = AppState {
            store: self.store,
            guards: Arc::new(crate::guard::Guards::new(&self.config.limits)),
            config: Arc::new(self.config),
            clock,
            face: self.face,
            announcer,
            logins: Arc::default(),
        };
        warn_if_simulated(&state);
        Ok(App {
            state,
            notifier,
            worker_every,
        })
    }
}

/// A wired server: the handlers' state and the outbox; [`App::run`] serves
/// it with its [`worker`](App::worker) beside.
#[derive(Clone)]
pub struct App {
    pub state: AppState,
    /// The outbox (announcer and sender), when the configuration has one.
    pub notifier: Option<Arc<Notifier>>,
    worker_every: std::time::Duration,
}

impl App {
    /// Starts wiring `config` on `store`: the clock `[clock]` describes, no
    /// face engine, the outbox of `[notify]` (with a template key).
    pub fn builder(config: Config, store: Store) -> AppBuilder {
        AppBuilder {
            config,
            store,
            clock: None,
            face: None,
            announcing: Announcing::Outbox,
            sms: None,
        }
    }

    /// A background worker (its own id and leases) announcing through the
    /// app's announcer and delivering through its outbox; `None` where
    /// nothing announces (no template key, so nothing is enrolled or
    /// prompted). Each call makes another, as another instance would.
    pub fn worker(&self) -> Option<Worker> {
        self.state
            .announcer
            .as_ref()
            .map(|a| self.worker_with(a.clone()))
    }

    /// A worker announcing through `announcer` instead (a test double), and
    /// delivering through the app's outbox, if any.
    pub fn worker_with(&self, announcer: Arc<dyn Announcer>) -> Worker {
        let w = Worker::new(self.state.clone(), announcer);
        match &self.notifier {
            Some(n) => w.with_notifier(n.clone()),
            None => w,
        }
    }

    /// Serves on `listener` until `shutdown` resolves, then finishes
    /// in-flight requests; runs a [`worker`](App::worker) beside it unless
    /// `worker.enabled` is false. The worker finishes its pass, then stops.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let worker = match self.worker() {
            _ if !self.state.config.worker.enabled => {
                tracing::info!("background worker disabled (worker.enabled = false)");
                None
            }
            None => {
                tracing::warn!(
                    "no template_key: background worker not started (no prompts without enrolment)"
                );
                None
            }
            Some(w) => {
                let every = self.worker_every;
                tracing::info!(worker = %w.id, interval_secs = every.as_secs_f64(), "background worker started");
                Some(tokio::spawn(w.run(every, async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })))
            }
        };
        let served = crate::serve(listener, self.state, shutdown).await;
        let _ = stop.send(true);
        if let Some(w) = worker {
            if let Err(e) = w.await {
                tracing::warn!(error = %e, "worker task ended abnormally");
            }
        }
        served
    }
}

/// Says loudly, once at start-up, that this server does not run on real
/// time (`/healthz` says so too).
fn warn_if_simulated(state: &AppState) {
    let c = &state.config.clock;
    if state.clock.is_simulated() {
        tracing::warn!(
            start = ?c.start,
            anchor = ?c.anchor,
            speed = c.speed,
            now = %state.now(),
            "SIMULATED CLOCK: this server's time is not real time; run it only for drills and \
             load tests, never for real orders"
        );
    }
}

/// Why `serve` cannot start as configured (checked before it listens).
#[derive(Debug, Error)]
pub enum StartError {
    #[error(
        "the face models are not in {}: fetch them with `lazaret models fetch` (checksum-pinned; \
         the server never fetches them itself), or set [face] enabled = false \
         (LAZARET_FACE__ENABLED=false) to serve without enrolment and check-ins",
        .0.display()
    )]
    FaceModelsMissing(std::path::PathBuf),
    #[error("loading the face models from {}: {why}", .dir.display())]
    FaceModels {
        dir: std::path::PathBuf,
        why: String,
    },
    #[error(
        "this database holds real data (written on the system clock): a simulated clock would \
         complete its orders and purge their templates within minutes. Run drills on a \
         database of their own"
    )]
    SimulatedClockOnRealData,
    #[error(transparent)]
    Keys(#[from] crate::services::keys::KeysError),
    #[error(transparent)]
    Store(#[from] lazaret_store::StoreError),
}

/// Loads the face models of `config` once for the whole server. The models
/// must be in the models folder already (`lazaret models fetch`): a server
/// never reaches out to fetch them. `None` when `[face] enabled = false`:
/// the server then runs without enrolment and check-ins (they answer 503).
pub async fn load_face_engine(config: &Config) -> Result<Option<Arc<FaceEngine>>, StartError> {
    if !config.face.enabled {
        tracing::warn!(
            "face work is off ([face] enabled = false): enrolment and check-ins answer 503"
        );
        return Ok(None);
    }
    let dir = config
        .models_dir
        .clone()
        .unwrap_or_else(lazaret_face::models_fetch::default_models_dir);
    let engine_config = config
        .face
        .engine_config()
        .map_err(|e| StartError::FaceModels {
            dir: dir.clone(),
            why: e.to_string(),
        })?;
    let present = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || lazaret_face::models_fetch::models_present(&dir))
            .await
            .unwrap_or(false)
    };
    if !present {
        return Err(StartError::FaceModelsMissing(dir));
    }
    let load_dir = dir.clone();
    let loaded =
        tokio::task::spawn_blocking(move || FaceEngine::load(&load_dir, engine_config)).await;
    match loaded {
        Ok(Ok(engine)) => Ok(Some(Arc::new(engine))),
        Ok(Err(e)) => {
            // With its causes: the reason is often one down.
            let mut why = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                why.push_str(&format!(": {s}"));
                source = s.source();
            }
            Err(StartError::FaceModels { dir, why })
        }
        Err(e) => Err(StartError::FaceModels {
            dir,
            why: format!("panicked: {e}"),
        }),
    }
}

/// The name of the database mark that says which kind of clock its data was written on.
const CLOCK_MARK: &str = "clock";

/// Keeps a simulated clock off real data: the first server to start on a database marks
/// it with its kind of clock (a database that already holds records from before marks
/// existed counts as real). A simulated clock on a `system` database is refused; the
/// system clock on a `simulated` one (a drill's) is allowed with a warning, since its
/// times are not real. Returns the database's mark.
pub async fn check_clock_against_database(
    store: &Store,
    simulated: bool,
) -> Result<String, StartError> {
    let mine = if simulated { "simulated" } else { "system" };
    let mark = match store.database_mark(CLOCK_MARK).await? {
        Some(m) => m,
        None => {
            let first = if store.holds_records().await? {
                "system"
            } else {
                mine
            };
            #[allow(
                clippy::disallowed_methods,
                reason = "when the mark was set, in real time whatever the clock"
            )]
            let now = chrono::Utc::now();
            store.mark_database(CLOCK_MARK, first, now).await?
        }
    };
    match (mine, mark.as_str()) {
        ("simulated", "system") => Err(StartError::SimulatedClockOnRealData),
        ("system", "simulated") => {
            tracing::warn!(
                "this database was written on a SIMULATED clock (a drill or load test): its \
                 times and outcomes are not real; do not use it for real orders"
            );
            Ok(mark)
        }
        _ => Ok(mark),
    }
}

/// The checks `serve` makes before it listens, each a clear error instead of a
/// failure per request later: the clock against the database's mark, and the
/// template keys against what the database holds. Warns about a prompt schedule
/// still keyed from the template key.
pub async fn check_before_serving(store: &Store, config: &Config) -> Result<(), StartError> {
    let simulated = config.clock.mode == crate::config::ClockMode::Simulated;
    check_clock_against_database(store, simulated).await?;
    let in_use = crate::services::keys::check_template_keys(store, config).await?;
    for (id, n) in in_use
        .iter()
        .filter(|(id, _)| *id != config.template_key_id)
    {
        tracing::warn!(
            key_id = %id,
            values = n,
            "stored values are still sealed under a previous template key: run `lazaret keys rotate`"
        );
    }
    if !config.template_key.is_empty() && config.prompt_schedule_key.is_empty() {
        tracing::warn!(
            "no prompt_schedule_key: the prompt schedule is keyed from template_key, so a new \
             template key would move every prompt; set prompt_schedule_key (`lazaret keys \
             schedule-key` prints the value in use)"
        );
    }
    Ok(())
}
