//! `lazaret orders propose|issue PERSON_ID`: quarantine orders for the close
//! contacts of a case. `propose` shows what would happen; `issue` is the
//! officer's decision and creates or extends the orders (idempotent).
//! `lazaret orders create --csv FILE`: many orders from a CSV file, all or
//! none; a person with an active order gets it extended.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::order::TimeZone;
use lazaret_store::{OrderProposal, ProposalAction, Proposals, Store};
use serde_json::{json, Value};

use super::csv_report::{fail_on_row_errors, print_row_errors, stored_note};
use super::trace::{cli_actor, load_policy, parse_person};

#[derive(Debug, Subcommand)]
pub enum OrdersCommand {
    /// Trace the case and show the orders its close contacts would get (writes no order)
    Propose(OrdersArgs),
    /// Create (or extend) the orders for the case's close contacts; running it again changes nothing
    Issue(OrdersArgs),
    /// Create orders from a CSV file (person_id,address,lat,lon,radius_m,starts_at,ends_at,basis,time_zone, optional district); all rows or none
    Create(CreateArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// CSV file (UTF-8, header row); basis is arrival:AREA, positive_test:TEST_ID or contact:CASE_ID:TEST_ID
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// Validate and report what would happen; store nothing
    #[arg(long)]
    pub dry_run: bool,
    /// District of the rows that name none (else each order goes to its person's district)
    #[arg(long, value_name = "DISTRICT", value_parser = parse_district)]
    pub district: Option<District>,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn parse_district(s: &str) -> Result<District, String> {
    District::parse(s).map_err(|e| e.reason)
}

async fn create(args: CreateArgs, store: &Store) -> Result<()> {
    let file = std::fs::File::open(&args.csv)
        .with_context(|| format!("opening {}", args.csv.display()))?;
    #[allow(
        clippy::disallowed_methods,
        reason = "a CLI command acts at the wall-clock time it runs"
    )]
    let report = store
        .import_orders_csv(
            file,
            args.dry_run,
            &DistrictScope::All,
            args.district.as_ref(),
            &cli_actor(),
            Utc::now(),
        )
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_row_errors(&args.csv, &report.errors);
        println!(
            "{}: {} row(s): {} created, {} extended, {} unchanged{}",
            args.csv.display(),
            report.rows,
            report.created,
            report.extended,
            report.unchanged,
            stored_note(report.dry_run, report.committed)
        );
    }
    fail_on_row_errors(&args.csv, &report.errors, report.error_count())
}

#[derive(Debug, Args)]
pub struct OrdersArgs {
    /// The case whose close contacts get orders
    pub person_id: String,
    /// Tracing policy (TOML) [default: built-in rules]
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Time of the decision (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    pub at: Option<DateTime<Utc>>,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

fn entry(p: &OrderProposal) -> Value {
    json!({
        "person_id": p.person_id,
        "order_id": p.order_id,
        "basis": p.basis,
        "last_exposure": p.last_exposure,
        "starts_at": p.starts_at,
        "ends_at": p.ends_at,
        "address": p.address,
        "lat": p.coordinates.map(|c| c.lat()),
        "lon": p.coordinates.map(|c| c.lon()),
    })
}

fn report(p: &Proposals, issued: bool) -> Value {
    let pick = |a: ProposalAction| {
        p.proposals
            .iter()
            .filter(|x| x.action == a)
            .map(entry)
            .collect::<Vec<_>>()
    };
    let (create_key, extend_key) = if issued {
        ("created", "extended")
    } else {
        ("create", "extend")
    };
    let mut doc = json!({
        "case": p.trace.case_id,
        "test_id": p.trace.test.as_ref().map(|t| &t.id),
        create_key: pick(ProposalAction::Create),
        extend_key: pick(ProposalAction::Extend),
        "unchanged": pick(ProposalAction::Unchanged),
        "needs_address": pick(ProposalAction::NeedsAddress),
        "expired": pick(ProposalAction::Expired),
    });
    if let Some(r) = &p.trace.reason {
        doc["reason"] = json!(r);
    }
    doc
}

/// `default_zone`: a new contact order's zone where its place cannot be
/// placed in one (configuration `default_time_zone`).
pub async fn run(cmd: OrdersCommand, store: &Store, default_zone: TimeZone) -> Result<()> {
    let (args, issue) = match cmd {
        OrdersCommand::Propose(a) => (a, false),
        OrdersCommand::Issue(a) => (a, true),
        OrdersCommand::Create(a) => return create(a, store).await,
    };
    let case = parse_person(&args.person_id)?;
    let policy = load_policy(args.policy.as_deref())?;
    #[allow(
        clippy::disallowed_methods,
        reason = "a CLI command acts at the wall-clock time it runs"
    )]
    let now = args.at.unwrap_or_else(Utc::now);
    let p = if issue {
        store
            .issue_contact_orders(&case, &policy, default_zone, now, &cli_actor())
            .await?
    } else {
        store
            .propose_contact_orders(&case, &policy, default_zone, now, &cli_actor())
            .await?
    };
    let doc = report(&p, issue);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    if let Some(r) = &p.trace.reason {
        println!("case {case}: {r}");
    }
    for x in &p.proposals {
        println!(
            "  {:<20} {:<13} until {}  {}",
            x.person_id.as_str(),
            serde_json::to_value(x.action)?.as_str().unwrap_or(""),
            x.ends_at.format("%Y-%m-%d %H:%M"),
            x.address
                .as_ref()
                .map_or("(no known residence)", |a| a.as_str()),
        );
    }
    Ok(())
}
