//! `lazaret keys`: template key rotation and the prompt schedule's own key.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use lazaret_server::services::keys::{check_template_keys, rotate};
use lazaret_server::template_crypto::TemplateKey;
use lazaret_server::Config;
use lazaret_store::Store;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-seal every template, pending template and photo, and TOTP key under the current
    /// template_key (template_key_id), while servers run: configure the new key as
    /// template_key with a new template_key_id and the old one under
    /// previous_template_keys on every instance first; remove the old key when this
    /// reports nothing left under it
    Rotate,
    /// Show which key ids the stored values are sealed under, and check the configured
    /// keys open them
    Status,
    /// Print the prompt schedule's secret as it is derived today from template_key, to set
    /// as prompt_schedule_key before a rotation (so that no prompt time moves)
    ScheduleKey,
    /// Print a fresh random key (64 hex digits) for template_key or prompt_schedule_key
    Generate,
}

pub async fn run(cmd: KeysCommand, store: &Store, config: &Config) -> Result<()> {
    match cmd {
        KeysCommand::Generate => println!("{}", TemplateKey::generate_hex()),
        KeysCommand::ScheduleKey => {
            if !config.prompt_schedule_key.is_empty() {
                bail!("prompt_schedule_key is already set: the schedule no longer follows template_key");
            }
            let key =
                TemplateKey::from_hex(config.template_key.expose()).context("template_key")?;
            println!("{}", hex_of(&key.legacy_schedule_secret()));
        }
        KeysCommand::Status => {
            let in_use = check_template_keys(store, config).await?;
            if in_use.is_empty() {
                println!("nothing sealed is stored");
            }
            for (id, n) in in_use {
                let note = if id == config.template_key_id {
                    " (current)"
                } else {
                    " (previous: run `lazaret keys rotate`)"
                };
                println!("{id}: {n} value(s){note}");
            }
        }
        KeysCommand::Rotate => {
            if config.prompt_schedule_key.is_empty() && !config.previous_template_keys.is_empty() {
                bail!(
                    "set prompt_schedule_key first (`lazaret keys schedule-key` with the old \
                     key as template_key prints the value in use), or every prompt time moves \
                     with the new template_key"
                );
            }
            #[allow(
                clippy::disallowed_methods,
                reason = "a CLI command acts at the wall-clock time it runs"
            )]
            let now = chrono::Utc::now();
            let r = rotate(store, config, "cli:keys-rotate", now).await?;
            println!(
                "re-sealed {} template(s)/photo(s) and {} TOTP key(s) under {:?}; {} changed meanwhile (already current)",
                r.resealed, r.totp_resealed, config.template_key_id, r.changed_meanwhile
            );
            for (part, row, id) in &r.unreadable {
                println!("cannot open {part} {row} (key {id:?})");
            }
            for (id, n) in &r.left {
                println!("left under {id:?}: {n}");
            }
            if !r.unreadable.is_empty() {
                bail!("{} value(s) could not be re-sealed", r.unreadable.len());
            }
            if r.left.is_empty() {
                println!("previous_template_keys may now be removed from the configuration");
            }
        }
    }
    Ok(())
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
