//! `lazaret token create`.

use anyhow::Result;
use clap::{Args, Subcommand};
use lazaret_core::user::Role;
use lazaret_store::Store;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an officer API token; prints it alone on the last line (shown once, stored hashed)
    Create(CreateArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// admin, investigator, compliance_officer, analyst or auditor
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// Who or what the token is for
    #[arg(long, default_value = "cli")]
    pub label: String,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse::<Role>().map_err(|e| e.reason)
}

pub async fn run(cmd: TokenCommand, store: &Store) -> Result<()> {
    match cmd {
        TokenCommand::Create(args) => {
            #[allow(
                clippy::disallowed_methods,
                reason = "a CLI command acts at the wall-clock time it runs"
            )]
            let (record, token) = lazaret_server::auth::create_token(
                store,
                args.role,
                &args.label,
                &super::trace::cli_actor(),
                chrono::Utc::now(),
            )
            .await?;
            eprintln!(
                "Created {} token {} ({}). Keep it secret: it is not shown again.",
                record.role, record.id, record.label
            );
            println!("{token}");
            Ok(())
        }
    }
}
