//! `lazaret users`: officer accounts (create, list, disable, reset a
//! password, set districts, enrol a TOTP second factor). Every change is
//! audited with the command line's actor (`cli:uid=N(name)`). Passwords
//! come from standard input only (`--password-stdin`), never from the
//! command line, where other users of the host could read them.

use std::io::BufRead as _;

use anyhow::{bail, Context as _, Result};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use lazaret_core::district::DistrictScope;
use lazaret_core::user::Role;
use lazaret_server::services::accounts::{self, NewAccount};
use lazaret_server::services::Actor;
use lazaret_server::AppState;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create an account; the password is read from standard input
    Create {
        username: String,
        /// admin, investigator, compliance_officer, analyst or auditor
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// A district the account works in (repeat for more; '*' = national)
        #[arg(long = "district", value_name = "D", required = true)]
        district: Vec<String>,
        /// Read the password (at least 12 characters) from the first line of standard input (required)
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts (never a password hash or TOTP secret)
    List,
    /// Disable an account: its sessions end and its tokens stop working
    Disable { username: String },
    /// Set a new password, read from standard input; clears a lockout
    ResetPassword {
        username: String,
        /// Read the new password from the first line of standard input (required)
        #[arg(long)]
        password_stdin: bool,
    },
    /// Replace the districts an account works in
    SetDistricts {
        username: String,
        /// A district (repeat for more; '*' = national)
        #[arg(long = "district", value_name = "D", required = true)]
        district: Vec<String>,
    },
    /// Enrol a TOTP second factor; prints the otpauth:// URI once (replaces an earlier one)
    TotpEnroll { username: String },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse::<Role>().map_err(|e| e.reason)
}

/// The command line acts as an administrator of the whole country, named
/// by the host's user (`cli:uid=N(name)`).
pub fn cli_officer() -> Actor {
    Actor::new(super::trace::cli_actor(), Role::Admin, DistrictScope::All)
}

/// `--district` values as a scope: `*` alone is national.
pub fn districts_arg(values: &[String]) -> Result<DistrictScope> {
    if values.iter().any(|d| d.trim() == "*") {
        if values.len() > 1 {
            bail!("--district '*' (national) cannot be combined with other districts");
        }
        return Ok(DistrictScope::All);
    }
    Ok(DistrictScope::parse(&values.join(","))?)
}

pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// The password from the first line of standard input; `--password-stdin`
/// must say so, so that nobody types a password expecting a prompt.
fn read_password(password_stdin: bool) -> Result<String> {
    if !password_stdin {
        bail!(
            "give --password-stdin and the password on standard input (never on the command line)"
        );
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

pub async fn run(cmd: UsersCommand, state: &AppState) -> Result<()> {
    let actor = cli_officer();
    match cmd {
        UsersCommand::Create {
            username,
            role,
            district,
            password_stdin,
        } => {
            let districts = districts_arg(&district)?;
            let password = read_password(password_stdin)?;
            let a = accounts::create_user(
                state,
                &actor,
                NewAccount {
                    username,
                    role,
                    districts,
                    password,
                },
            )
            .await?;
            eprintln!(
                "Created account {} ({}, districts {}).",
                a.username, a.role, a.districts
            );
        }
        UsersCommand::List => {
            println!(
                "{:<24} {:<18} {:<20} {:<5} {:<26} CREATED",
                "USERNAME", "ROLE", "DISTRICTS", "TOTP", "STATUS"
            );
            let now = state.now();
            for a in accounts::list_users(state).await? {
                let status = match (a.disabled_at, a.locked_until) {
                    (Some(t), _) => format!("disabled {}", when(t)),
                    (None, Some(t)) if t > now => format!("locked until {}", when(t)),
                    _ => "active".into(),
                };
                println!(
                    "{:<24} {:<18} {:<20} {:<5} {:<26} {}",
                    a.username.as_str(),
                    a.role.as_str(),
                    a.districts.to_string(),
                    if a.totp { "yes" } else { "no" },
                    status,
                    when(a.created_at)
                );
            }
        }
        UsersCommand::Disable { username } => {
            accounts::disable_user(state, &actor, &username).await?;
            eprintln!("Disabled {username}: its sessions ended and its tokens no longer work.");
        }
        UsersCommand::ResetPassword {
            username,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            accounts::reset_password(state, &actor, &username, &password).await?;
            eprintln!("New password set for {username}.");
        }
        UsersCommand::SetDistricts { username, district } => {
            let districts = districts_arg(&district)?;
            accounts::set_districts(state, &actor, &username, districts.clone()).await?;
            eprintln!("{username} now works in {districts}.");
        }
        UsersCommand::TotpEnroll { username } => {
            let uri = accounts::enroll_totp(state, &actor, &username).await?;
            eprintln!(
                "Add this to {username}'s authenticator app now (as a QR code or by hand): \
                 it is not shown again."
            );
            println!("{uri}");
        }
    }
    Ok(())
}
