//! `lazaret tests revise TEST_ID`: correct a test result and unwind what
//! rested on it (contacts withdrawn; orders released or kept with a
//! recomputed end). The original result stays in the test's history.

use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use lazaret_core::ids::TestId;
use lazaret_core::test_result::TestOutcome;
use lazaret_store::Store;
use serde_json::json;

use super::trace::cli_actor;

#[derive(Debug, Subcommand)]
pub enum TestsCommand {
    /// Correct a test result; orders that rested on it are released or recomputed
    Revise(ReviseArgs),
}

#[derive(Debug, Args)]
pub struct ReviseArgs {
    pub test_id: String,
    /// The corrected result: positive or negative
    #[arg(long, value_parser = |s: &str| TestOutcome::parse(s).map_err(|e| e.reason))]
    pub result: TestOutcome,
    /// Why (recorded in the test's history, the released orders and the audit log)
    #[arg(long)]
    pub reason: String,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cmd: TestsCommand, store: &Store) -> Result<()> {
    let TestsCommand::Revise(args) = cmd;
    let id = TestId::parse(&args.test_id).map_err(|e| anyhow!("{e}"))?;
    #[allow(
        clippy::disallowed_methods,
        reason = "a CLI command acts at the wall-clock time it runs"
    )]
    let r = store
        .revise_test(
            &id,
            args.result,
            &args.reason,
            chrono::Utc::now(),
            &cli_actor(),
        )
        .await?;
    if args.json {
        let doc = json!({
            "test_id": r.test.id,
            "result": r.test.result,
            "revisions": r.test.revisions,
            "released": r.released,
            "kept": r.kept,
            "contacts_withdrawn": r.contacts_withdrawn,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    println!(
        "test {} is now {} ({} contact(s) withdrawn)",
        r.test.id,
        r.test.result.as_str(),
        r.contacts_withdrawn
    );
    for o in &r.released {
        println!("  released {} ({}): {}", o.order_id, o.person_id, o.reason);
    }
    for o in &r.kept {
        println!(
            "  kept     {} ({}): now ends {}",
            o.order_id, o.person_id, o.ends_at
        );
    }
    Ok(())
}
