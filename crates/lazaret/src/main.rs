//! The `lazaret` binary: parses the command line, loads the configuration
//! once, and dispatches to a command module.

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use lazaret_server::config::{Config, Overrides};
use tracing_subscriber::EnvFilter;

use commands::{
    audit, bench_lists, bench_load, chains, demo, face, import, keys, orders, serve, sim,
    tests_cmd, token, trace, users,
};

/// Lazaret: quarantine orders, face-verified check-ins and contact tracing
/// for public-health authorities. 1:1 face verification only; no demographic
/// inference; a person, never the machine, decides.
#[derive(Debug, Parser)]
#[command(name = "lazaret", version, propagate_version = true)]
struct Cli {
    /// Database URL: sqlite://FILE (default sqlite://lazaret.db) or postgres://USER@HOST/DB
    /// [env: LAZARET_DATABASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    db: Option<String>,
    /// Configuration file [default: ./lazaret.toml if present]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (API under /api/v1, health at /healthz)
    Serve(serve::ServeArgs),
    /// Create a fresh demo database with a small outbreak scenario, print an investigator token, and serve it
    Demo(demo::DemoArgs),
    /// Apply pending database migrations and exit
    Migrate,
    /// Officer API tokens: create (for an account or a service), list, revoke
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Template keys: rotate (re-seal under the current key), status, the schedule key
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Officer accounts: create, list, disable, reset a password, set districts, enrol TOTP
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// 1:1 face verification tools: verify two photos, inspect one, score a pairs file
    #[command(subcommand)]
    Face(face::FaceCommand),
    /// Face model files: fetch them into the cache
    #[command(subcommand)]
    Models(face::ModelsCommand),
    /// Benchmarks
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Import flights, residences, rides or tests from CSV (all or nothing)
    Import(import::ImportArgs),
    /// Contacts of a case, by exposure only, with tier, rules and evidence
    Trace(trace::TraceArgs),
    /// Quarantine orders: propose or issue for a case's close contacts, or create from a CSV file
    #[command(subcommand)]
    Orders(orders::OrdersCommand),
    /// Test results: revise one and unwind what rested on it
    #[command(subcommand)]
    Tests(tests_cmd::TestsCommand),
    /// Transmission chains across generations
    Chains(chains::ChainsArgs),
    /// The audit log: verify the chain, export events
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Synthetic outbreak data and tracing benchmarks
    #[command(subcommand)]
    Sim(sim::SimCommand),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Face pipeline speed: per-stage latency and images/s on 1 and 2 threads, peak memory
    Face(face::BenchFaceArgs),
    /// Officers' list pages at scale: seeds a new database with synthetic persons, orders and
    /// alerts, then times cursor pages and filters per viewer (p50/p95)
    Lists(bench_lists::BenchListsArgs),
    /// A bounded load run on loopback: seeds a new database, starts `lazaret serve`, and runs
    /// concurrent clients (check-ins with real photos, API lists, console pages) for a fixed
    /// time; throughput, p50/p99 per kind, answers by status, the server's peak memory
    Load(bench_load::BenchLoadArgs),
}

/// A failed command prints one line with its causes (`error: opening
/// x.csv: No such file or directory`) and exits with 1; never a backtrace,
/// even with `RUST_BACKTRACE` set: its readers run an outbreak, not the code.
fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes joined by ": ", like `{e:#}`, but a cause whose
/// text the message before it already ends with is left out: some drivers
/// (sqlx, for one) put their source into their own message too.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    let mut last = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !last.is_empty() && last.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
        last = text;
    }
    line
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    let mut overrides = Overrides {
        database_url: cli.db.clone(),
        ..Default::default()
    };
    if let Command::Serve(a) | Command::Demo(demo::DemoArgs { serve: a }) = &cli.command {
        overrides.listen = a.listen;
        overrides.liveness = a.liveness.map(Into::into);
    }
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    init_logging(&config.log);

    match cli.command {
        Command::Face(cmd) => return face::run_face(cmd),
        Command::Models(cmd) => return face::run_models(cmd, config.models_dir.clone()),
        Command::Bench(BenchCommand::Face(args)) => return face::run_bench_face(args),
        _ => {}
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve(_) => {
                let store = serve::open_store(&config).await?;
                serve::serve(config, store).await
            }
            Command::Demo(_) => {
                let db_given =
                    cli.db.is_some() || std::env::var_os("LAZARET_DATABASE_URL").is_some();
                demo::run(config, db_given).await
            }
            Command::Migrate => serve::migrate(&config).await,
            Command::Token(cmd) => {
                let c = config.clone();
                with_store(&config, |s| async move {
                    token::run(cmd, &lazaret_server::AppState::new(s, c)).await
                })
                .await
            }
            Command::Users(cmd) => {
                let c = config.clone();
                with_store(&config, |s| async move {
                    users::run(cmd, &lazaret_server::AppState::new(s, c)).await
                })
                .await
            }
            Command::Keys(cmd) => {
                let c = config.clone();
                with_store(&config, |s| async move { keys::run(cmd, &s, &c).await }).await
            }
            Command::Import(a) => {
                with_store(&config, |s| async move { import::run(a, &s).await }).await
            }
            Command::Trace(a) => {
                with_store(&config, |s| async move { trace::run(a, &s).await }).await
            }
            Command::Orders(cmd) => {
                let zone = config.default_time_zone;
                with_store(&config, |s| async move { orders::run(cmd, &s, zone).await }).await
            }
            Command::Tests(cmd) => {
                with_store(&config, |s| async move { tests_cmd::run(cmd, &s).await }).await
            }
            Command::Chains(a) => {
                with_store(&config, |s| async move { chains::run(a, &s).await }).await
            }
            Command::Audit(cmd) => {
                with_store(&config, |s| async move { audit::run(cmd, &s).await }).await
            }
            Command::Sim(cmd) => {
                let store = match cmd.needs_store() {
                    true => Some(serve::open_store(&config).await?),
                    false => None,
                };
                sim::run(cmd, store.as_ref()).await
            }
            Command::Bench(BenchCommand::Lists(a)) => {
                let c = config.clone();
                with_store(&config, |s| async move { bench_lists::run(a, c, s).await }).await
            }
            Command::Bench(BenchCommand::Load(a)) => {
                bench_load::run(a, config, cli.config.as_deref()).await
            }
            Command::Face(_) | Command::Models(_) | Command::Bench(BenchCommand::Face(_)) => {
                unreachable!("handled above")
            }
        }
    })
}

/// Runs a command on the configured store, then signs the audit chain's head
/// into the checkpoint file (as `serve` does at shutdown).
async fn with_store<F, Fut>(config: &Config, command: F) -> Result<()>
where
    F: FnOnce(lazaret_store::Store) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let store = commands::serve::open_store(config).await?;
    let done = command(store.clone()).await;
    let checkpoint = store.checkpoint_audit().await;
    done?;
    checkpoint.map_err(|e| anyhow::Error::new(e).context("writing the audit checkpoint"))
}

/// Logs go to stderr so that `--json` output on stdout stays clean.
fn init_logging(filter: &str) {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::one_line;

    /// An error that, like sqlx's, repeats its source in its own message.
    #[derive(Debug)]
    struct Echoing(std::io::Error);

    impl std::fmt::Display for Echoing {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "error returned from database: {}", self.0)
        }
    }

    impl std::error::Error for Echoing {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn a_cause_already_in_the_message_is_printed_once() {
        let io = std::io::Error::other("unable to open database file");
        let e = anyhow::Error::new(Echoing(io)).context("opening database x.db");
        assert_eq!(
            one_line(&e),
            "opening database x.db: error returned from database: unable to open database file"
        );
    }

    #[test]
    fn distinct_causes_are_all_printed() {
        let e = anyhow::anyhow!("permission denied")
            .context("reading x.csv")
            .context("importing flights");
        assert_eq!(
            one_line(&e),
            "importing flights: reading x.csv: permission denied"
        );
    }
}
