//! `lazaret token create | list | revoke`: API tokens of an account
//! (`--user`) or of a named service (`--service`, or `--role` with
//! `--label`). Every token expires (`[auth] token_days`, default 90, or
//! `--expires-days`); its secret is shown once and stored hashed.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use lazaret_core::user::Role;
use lazaret_server::services::accounts;
use lazaret_server::AppState;

use super::users::{cli_officer, districts_arg, when};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; prints it alone on the last line (shown once, stored hashed)
    Create(CreateArgs),
    /// List tokens: id, owner, role, districts, created, expires, revoked (never secrets)
    List,
    /// Revoke a token by its id (the part after `lzt_`, before the next `_`)
    Revoke {
        /// The token's id, as `token list` shows it
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The account the token acts for: it takes the account's role and
    /// districts as they are at each request, and stops when the account is disabled
    #[arg(long, value_name = "USERNAME", conflicts_with_all = ["role", "service", "district"])]
    pub user: Option<String>,
    /// A named service (an integration) the token is for; needs --role
    #[arg(long, value_name = "NAME", requires = "role", conflicts_with = "label")]
    pub service: Option<String>,
    /// The service token's role: admin, investigator, compliance_officer, analyst or auditor
    #[arg(long, value_parser = parse_role)]
    pub role: Option<Role>,
    /// A district the service token works in (repeat for more; '*' = national, the default)
    #[arg(long = "district", value_name = "D")]
    pub district: Vec<String>,
    /// Who or what a service token is for (same as --service)
    #[arg(long, default_value = "cli")]
    pub label: String,
    /// Days until the token expires (default: the configuration's auth.token_days, 90)
    #[arg(long, value_name = "N")]
    pub expires_days: Option<u32>,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse::<Role>().map_err(|e| e.reason)
}

pub async fn run(cmd: TokenCommand, state: &AppState) -> Result<()> {
    let actor = cli_officer();
    match cmd {
        TokenCommand::Create(args) => {
            let (record, token) = match (&args.user, args.role) {
                (Some(user), _) => {
                    accounts::create_account_token(state, &actor, user, args.expires_days).await?
                }
                (None, Some(role)) => {
                    let districts = if args.district.is_empty() {
                        lazaret_core::district::DistrictScope::All
                    } else {
                        districts_arg(&args.district)?
                    };
                    let name = args.service.as_deref().unwrap_or(&args.label);
                    accounts::create_service_token(
                        state,
                        &actor,
                        name,
                        role,
                        &districts,
                        args.expires_days,
                    )
                    .await?
                }
                (None, None) => bail!(
                    "give --user USERNAME, or --role (with --service NAME) for a service token"
                ),
            };
            let expires = record.expires_at.map_or_else(|| "never".into(), when);
            eprintln!(
                "Created {} token {} ({}), expires {expires}. Keep it secret: it is not shown again.",
                record.role, record.id, record.label
            );
            println!("{token}");
            Ok(())
        }
        TokenCommand::List => {
            let users = accounts::list_users(state).await?;
            println!(
                "{:<18} {:<24} {:<18} {:<16} {:<17} {:<17} REVOKED",
                "ID", "OWNER", "ROLE", "DISTRICTS", "CREATED", "EXPIRES"
            );
            for t in accounts::list_tokens(state).await? {
                let rec = &t.token;
                // An account's token acts with the account's role and districts now.
                let live = t
                    .username
                    .as_deref()
                    .and_then(|u| users.iter().find(|a| a.username.as_str() == u));
                let (owner, role, districts) = match (&t.username, live) {
                    (Some(u), Some(a)) => (
                        format!("user:{u}"),
                        a.role.to_string(),
                        a.districts.to_string(),
                    ),
                    _ => (
                        rec.label.clone(),
                        rec.role.to_string(),
                        rec.districts.to_string(),
                    ),
                };
                println!(
                    "{:<18} {:<24} {:<18} {:<16} {:<17} {:<17} {}",
                    rec.id.as_str(),
                    owner,
                    role,
                    districts,
                    when(rec.created_at),
                    rec.expires_at.map_or_else(|| "never".into(), when),
                    rec.revoked_at.map_or_else(|| "-".into(), when),
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            if accounts::revoke_token(state, &actor, &id).await? {
                eprintln!("Revoked token {id}.");
            } else {
                eprintln!("Token {id} was revoked already.");
            }
            Ok(())
        }
    }
}
