//! `lazaret import flights|residences|rides|tests FILE`: a file is imported
//! whole or not at all, every bad row is reported, and importing the same
//! file again changes nothing.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use lazaret_core::district::District;
use lazaret_store::{ImportKind, ImportOptions, Store};
use serde_json::json;

use super::csv_report::{fail_on_row_errors, print_row_errors, stored_note};
use super::trace::cli_actor;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Flights,
    Residences,
    Rides,
    Tests,
}

impl From<Kind> for ImportKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Flights => ImportKind::Flights,
            Kind::Residences => ImportKind::Residences,
            Kind::Rides => ImportKind::Rides,
            Kind::Tests => ImportKind::Tests,
        }
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the file holds
    #[arg(value_enum)]
    pub kind: Kind,
    /// CSV file (UTF-8, header row)
    pub file: PathBuf,
    /// Validate only; store nothing
    #[arg(long)]
    pub dry_run: bool,
    /// CSV rows per batch of inserts
    #[arg(long, default_value_t = 2000)]
    pub batch_rows: usize,
    /// District of the new persons of rows that name none (a `district` column); else `unassigned`
    #[arg(long, value_name = "DISTRICT", value_parser = super::orders::parse_district)]
    pub district: Option<District>,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: ImportArgs, store: &Store) -> Result<()> {
    let file =
        File::open(&args.file).with_context(|| format!("opening {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    // A bar only for a person watching; logs and pipes get the summary.
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new(size);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} [{bar:40}] {bytes_per_sec} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    });
    let progress = |bytes: u64, rows: u64| {
        if let Some(b) = &bar {
            b.set_position(bytes);
        }
        // Test builds only: the kill -9 tests stop an import mid-file here.
        lazaret_server::crash_hooks::stall("import", rows);
    };
    let opts = ImportOptions {
        dry_run: args.dry_run,
        batch_rows: args.batch_rows,
        progress: Some(&progress),
        actor: cli_actor(),
        source: args.file.display().to_string(),
        district: args.district.clone(),
        scope: None,
    };
    let started = Instant::now();
    let reader: Box<dyn Read> = Box::new(file);
    #[allow(
        clippy::disallowed_methods,
        reason = "a CLI command acts at the wall-clock time it runs"
    )]
    let report = store
        .import_csv(args.kind.into(), reader, &opts, chrono::Utc::now())
        .await?;
    let secs = started.elapsed().as_secs_f64();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let rate = report.rows as f64 / secs.max(1e-9);
    if args.json {
        let doc = json!({
            "kind": report.kind,
            "file": args.file,
            "rows": report.rows,
            "changed": report.changed,
            "dry_run": report.dry_run,
            "committed": report.committed,
            "seconds": secs,
            "rows_per_second": rate,
            "errors": report.errors,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print_row_errors(&args.file, &report.errors);
        println!(
            "{}: {} row(s), {} changed, {:.1} s ({:.0} rows/s){}",
            args.file.display(),
            report.rows,
            report.changed,
            secs,
            rate,
            stored_note(report.dry_run, report.committed)
        );
    }
    fail_on_row_errors(&args.file, &report.errors, report.error_count())
}
