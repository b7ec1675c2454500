//! `lazaret serve` and `lazaret migrate`.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use lazaret_server::app::{check_before_serving, load_face_engine};
use lazaret_server::config::Liveness;
use lazaret_server::{App, Config};
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
    match store.database_link_tls().await {
        Ok(Some(true)) => tracing::info!("the database link is encrypted (TLS)"),
        Ok(Some(false)) => tracing::warn!(
            "the database link is NOT encrypted: set sslmode=verify-full (or require) in the \
             database URL unless the server is on this host"
        ),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, "could not ask the database whether its link is encrypted")
        }
    }
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

/// Binds `config.listen` (port 0 picks a free port) and says where it
/// listens: the line `Lazaret is listening on http://ADDR` on stdout, which
/// scripts and tests read to learn the bound address.
pub async fn bind(config: &Config) -> Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, database = %config.database_url_for_display(), "serving");
    // Connections queue on the bound socket until the server accepts them,
    // so whoever reads this line may connect at once.
    println!("Lazaret is listening on http://{addr}");
    Ok((listener, addr))
}

/// Checks what must hold before serving (the clock against the database,
/// the template keys, the face models), then binds the listener and serves
/// until Ctrl-C or SIGTERM; runs the background worker beside it unless
/// `worker.enabled` is false. A failed check stops before the listening line.
pub async fn serve(config: Config, store: Store) -> Result<()> {
    check_before_serving(&store, &config).await?;
    let face = load_face_engine(&config).await?;
    let (listener, _) = bind(&config).await?;
    serve_with(listener, config, store, face).await
}

/// Serves on a bound `listener` (see [`bind`]) with the face engine already
/// loaded until Ctrl-C or SIGTERM. The demo calls it after
/// [`check_before_serving`] and seeding.
pub async fn serve_with(
    listener: TcpListener,
    config: Config,
    store: Store,
    face: Option<std::sync::Arc<lazaret_face::FaceEngine>>,
) -> Result<()> {
    let audit_store = store.clone();
    let app = App::builder(config, store).face(face).build()?;
    let served = app.run(listener, shutdown_signal()).await;
    // The head as it stands at shutdown, signed outside the database.
    audit_store
        .checkpoint_audit()
        .await
        .context("writing the audit checkpoint")?;
    served?;
    tracing::info!("shut down cleanly");
    Ok(())
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
