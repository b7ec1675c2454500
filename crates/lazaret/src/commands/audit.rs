//! `lazaret audit verify` and `lazaret audit export`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use lazaret_core::audit::AuditRecord;
use lazaret_store::{AuditFilter, Store};

use super::trace::cli_actor;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit chain: seq continuity, every link and hash (keyed with audit_key), the
    /// head and the signed checkpoint file; exits 1 naming the first bad entry
    Verify,
    /// Audit events as JSON lines, oldest first (to stdout, or --out FILE)
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only events about this person
    #[arg(long, value_name = "PERSON_ID")]
    pub person: Option<String>,
    /// Only events of this actor (e.g. token:ID, system, cli:uid=1000(ana))
    #[arg(long)]
    pub actor: Option<String>,
    /// Only events of this action (e.g. person.read)
    #[arg(long)]
    pub action: Option<String>,
    /// From this instant on (RFC 3339, inclusive)
    #[arg(long, value_name = "RFC3339")]
    pub from: Option<DateTime<Utc>>,
    /// Before this instant (RFC 3339, exclusive)
    #[arg(long, value_name = "RFC3339")]
    pub to: Option<DateTime<Utc>>,
    /// Only events after this seq
    #[arg(long, default_value_t = 0)]
    pub after: i64,
    /// Write to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub async fn run(cmd: AuditCommand, store: &Store) -> Result<()> {
    match cmd {
        AuditCommand::Verify => verify(store).await,
        AuditCommand::Export(args) => export(args, store).await,
    }
}

/// Now, for the events this command records.
fn now() -> DateTime<Utc> {
    #[allow(
        clippy::disallowed_methods,
        reason = "a CLI command acts at the wall-clock time it runs"
    )]
    Utc::now()
}

async fn verify(store: &Store) -> Result<()> {
    if !store.audit_keyed() {
        eprintln!(
            "warning: no audit_key configured: only unkeyed (SHA-256) links can be checked, and \
             anyone who can write the database could have recomputed them"
        );
    }
    let mut last_shown = 0u64;
    let mut progress = |checked: u64, total: i64| {
        // Long chains only: a line per 100,000 entries.
        if checked >= last_shown + 100_000 {
            last_shown = checked;
            eprintln!("checked {checked} of {total} entries");
        }
    };
    let report = store.verify_audit(&mut progress).await?;
    let outcome = match &report.fault {
        None => "intact".to_owned(),
        Some(f) => format!("broken at seq {}", f.seq),
    };
    // Reading the whole log is itself audited (after the check, so the
    // check sees the chain as it was).
    store
        .record_audit(&AuditRecord {
            at: now(),
            actor: cli_actor(),
            action: "audit.verify".into(),
            subject_type: "audit".into(),
            subject_id: "chain".into(),
            details: serde_json::json!({ "checked": report.checked, "outcome": outcome })
                .to_string(),
        })
        .await?;
    if let Some(f) = report.fault {
        bail!("audit chain broken: {f}");
    }
    let keyed = match report.head.keyed_from {
        Some(k) if k > 1 => format!(
            "entries 1..{} unkeyed SHA-256 (written before audit_key), keyed from seq {k}",
            k - 1
        ),
        Some(_) => "keyed from seq 1".to_owned(),
        None => "never keyed".to_owned(),
    };
    let anchored = match (report.checkpoints, report.last_checkpoint) {
        (None, _) => "no checkpoint file".to_owned(),
        (Some(n), Some(last)) => format!("{n} signed checkpoints, the last at seq {last}"),
        (Some(_), None) => "no checkpoint yet".to_owned(),
    };
    println!(
        "audit chain intact: {} entries, head seq {} ({keyed}; {anchored})",
        report.checked, report.head.seq
    );
    if report.spooled > 0 {
        println!(
            "{} read events are spooled and not yet in the chain",
            report.spooled
        );
    }
    Ok(())
}

async fn export(args: ExportArgs, store: &Store) -> Result<()> {
    let filter = AuditFilter {
        person: args.person,
        actor: args.actor,
        action: args.action,
        from: args.from,
        to: args.to,
        after: args.after,
    };
    // The export is recorded before anything is written out.
    store
        .record_audit(&AuditRecord {
            at: now(),
            actor: cli_actor(),
            action: "audit.export".into(),
            subject_type: "audit".into(),
            subject_id: "chain".into(),
            details: filter_details(&filter),
        })
        .await?;
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut page_filter = filter;
    let mut n = 0u64;
    loop {
        let page = store.audit_search(&page_filter, 1000).await?;
        for e in &page {
            serde_json::to_writer(&mut out, e)?;
            out.write_all(b"\n")?;
            n += 1;
        }
        match page.last() {
            Some(e) if page.len() == 1000 => page_filter.after = e.seq,
            _ => break,
        }
    }
    out.flush()?;
    if let Some(p) = &args.out {
        eprintln!("{n} audit events written to {}", p.display());
    }
    Ok(())
}

/// The filters of a read of the audit log, for its own audit event.
pub fn filter_details(f: &AuditFilter) -> String {
    serde_json::json!({
        "person": f.person,
        "actor": f.actor,
        "action": f.action,
        "from": f.from,
        "to": f.to,
        "after": f.after,
    })
    .to_string()
}
