//! `lazaret serve` and `lazaret migrate`.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use lazaret_server::config::Liveness;
use lazaret_server::notify::Notifier;
use lazaret_server::state::clock_from_config;
use lazaret_server::worker::Worker;
use lazaret_server::{AppState, Config};
use lazaret_store::Store;
use tokio::net::TcpListener;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Require the liveness challenge on check-ins (off allows single-photo check-ins)
    #[arg(long, value_enum)]
    pub liveness: Option<LivenessArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LivenessArg {
    On,
    Off,
}

impl From<LivenessArg> for Liveness {
    fn from(l: LivenessArg) -> Self {
        match l {
            LivenessArg::On => Liveness::On,
            LivenessArg::Off => Liveness::Off,
        }
    }
}

/// Opens (and migrates) the configured database, its audit chain keyed and
/// anchored as configured.
pub async fn open_store(config: &Config) -> Result<Store> {
    let shown = config.database_url_for_display();
    let store = Store::open(config.database_url.expose())
        .await
        .with_context(|| format!("opening database {shown}"))?;
    if config.audit_key.is_empty() {
        tracing::warn!(
            "no audit_key: the audit chain is not keyed, and anyone who can write the database \
             can rewrite it unnoticed; set audit_key (64 hex digits, e.g. `openssl rand -hex 32`)"
        );
    }
    store
        .with_audit(config.audit_settings())
        .await
        .with_context(|| format!("opening the audit chain of {shown}"))
}

/// Binds the listener and serves until Ctrl-C or SIGTERM; runs the
/// background worker beside it unless `worker.enabled` is false.
pub async fn serve(config: Config, store: Store) -> Result<()> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = %config.database_url_for_display(), "serving");
    eprintln!("Lazaret is listening on http://{addr}");
    #[allow(
        clippy::disallowed_methods,
        reason = "the simulated clock is anchored at the wall-clock start-up time"
    )]
    let clock = clock_from_config(&config.clock, chrono::Utc::now()).context("[clock]")?;
    let face = load_face_engine(&config).await;
    let mut state = AppState::new(store, config).with_clock(clock);
    warn_if_simulated(&state);
    if let Some(engine) = face {
        state = state.with_face(engine);
    }
    // Without a template key nothing is enrolled, so nothing is prompted
    // or announced.
    let notifier = if state.config.template_key.is_empty() {
        None
    } else {
        let n = Notifier::from_config(
            state.store.clone(),
            state.clock.clone(),
            &state.config.notify,
            state.config.public_url.clone(),
        )
        .context("configuring notifications ([notify])")?;
        Some(Arc::new(n))
    };
    if let Some(n) = &notifier {
        state = state.with_announcer(n.clone());
    }
    let audit_store = state.store.clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = start_worker(&state, notifier, stopped)?;
    let served = lazaret_server::serve(listener, state, shutdown_signal()).await;
    // The worker finishes its current pass, then stops.
    let _ = stop.send(true);
    if let Some(w) = worker {
        if let Err(e) = w.await {
            tracing::warn!(error = %e, "worker task ended abnormally");
        }
    }
    // The head as it stands at shutdown, signed outside the database.
    audit_store
        .checkpoint_audit()
        .await
        .context("writing the audit checkpoint")?;
    served?;
    tracing::info!("shut down cleanly");
    Ok(())
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

/// Starts the worker (prompt scheduling, deadlines, notifications) as a
/// background task that stops when `stopped` turns true.
fn start_worker(
    state: &AppState,
    notifier: Option<Arc<Notifier>>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<Option<tokio::task::JoinHandle<()>>> {
    let c = &state.config.worker;
    if !c.enabled {
        tracing::info!("background worker disabled (worker.enabled = false)");
        return Ok(None);
    }
    let Some(notifier) = notifier else {
        // Nothing can be enrolled, so nothing is ever prompted.
        tracing::warn!(
            "no template_key: background worker not started (no prompts without enrolment)"
        );
        return Ok(None);
    };
    let worker = Worker::new(state.clone(), notifier.clone()).with_notifier(notifier);
    let every = c.interval().context("[worker]")?;
    tracing::info!(worker = %worker.id, interval_secs = every.as_secs_f64(), "background worker started");
    Ok(Some(tokio::spawn(worker.run(every, async move {
        let _ = stopped.wait_for(|s| *s).await;
    }))))
}

/// Loads the face models once for the whole server. Without them the server
/// still runs; enrolment and check-ins answer 503 until it is restarted with
/// models available.
async fn load_face_engine(config: &Config) -> Option<std::sync::Arc<lazaret_face::FaceEngine>> {
    let dir = config
        .models_dir
        .clone()
        .unwrap_or_else(lazaret_face::models_fetch::default_models_dir);
    let loaded = tokio::task::spawn_blocking(move || {
        lazaret_face::FaceEngine::load(&dir, Default::default())
    })
    .await;
    match loaded {
        Ok(Ok(engine)) => Some(std::sync::Arc::new(engine)),
        Ok(Err(e)) => {
            // With its causes: the reason (a missing file, no npm) is often one down.
            let e = anyhow::Error::new(e);
            tracing::warn!(
                error = format!("{e:#}"),
                "face models unavailable; enrolment and check-ins are off"
            );
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "loading face models panicked");
            None
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

pub async fn migrate(config: &Config) -> Result<()> {
    open_store(config).await?;
    eprintln!(
        "Database {} is up to date.",
        config.database_url_for_display()
    );
    Ok(())
}
