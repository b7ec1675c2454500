//! `lazaret sim …`: a deterministic synthetic outbreak for benchmarks and
//! demos. `generate` writes the four import CSVs; `trace-bench` traces cases
//! and reports latency percentiles without writing anything (unless
//! `--store`), so it is safe on a live database.
//!
//! Everyone in the synthetic data is selected for exposure by where they sat,
//! lived or rode; the generator writes no attribute about who anyone is.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use clap::{Args, Subcommand};
use lazaret_core::contact::RiskTier;
use lazaret_store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::trace::{cli_actor, load_policy};

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Write flights.csv, residences.csv, rides.csv and tests.csv into a folder
    Generate(GenerateArgs),
    /// Trace cases with a positive test in force and report latency percentiles (read-only: stores no contacts, audits nothing)
    TraceBench(TraceBenchArgs),
    /// Simulate an outbreak and compare tracing policies: infections averted per 1,000
    /// quarantine person-days, workload, effective R (in memory; reads no database)
    Outbreak(super::sim_outbreak::OutbreakArgs),
}

impl SimCommand {
    /// Whether the command reads or writes the database.
    pub fn needs_store(&self) -> bool {
        !matches!(self, Self::Generate(_) | Self::Outbreak(_))
    }
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output folder (created if missing)
    #[arg(long)]
    pub out: PathBuf,
    /// People in the residence register
    #[arg(long, default_value_t = 10_000)]
    pub residents: u64,
    /// Flights (about 200 people each: 192 seats and 8 crew)
    #[arg(long, default_value_t = 100)]
    pub flights: u64,
    /// Rides (a driver and one or two passengers)
    #[arg(long, default_value_t = 10_000)]
    pub rides: u64,
    /// Positive tests [default: residents / 20]; as many negatives are added
    #[arg(long)]
    pub cases: Option<u64>,
    /// Share of flight passengers who are registered residents (the rest are visitors)
    #[arg(long, default_value_t = 0.1)]
    pub resident_share: f64,
    /// Random seed: the same seed and sizes give byte-identical files
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct TraceBenchArgs {
    /// Trace at most this many cases, spread evenly over all of them [default: all]
    #[arg(long)]
    pub sample: Option<usize>,
    /// Tracing policy (TOML) [default: built-in rules]
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
    /// Store each trace's contacts and audit it, as `lazaret trace` does (to build the chains
    /// graph of a benchmark database). Without it nothing is written; never use it on live data
    #[arg(long)]
    pub store: bool,
}

/// Day 0 of the synthetic period; everything happens in the 60 days after.
fn epoch() -> DateTime<Utc> {
    "2026-02-01T00:00:00Z".parse().expect("valid time")
}
const PERIOD_DAYS: i64 = 60;
const ROWS_PER_FLIGHT: u64 = 32;
const SEAT_LETTERS: [char; 6] = ['A', 'B', 'C', 'D', 'E', 'F'];
const CREW_PER_FLIGHT: u64 = 8;
const CREW_POOL: u64 = 5_000;
const DRIVER_POOL: u64 = 20_000;
const UNITS_PER_BUILDING: u64 = 4;

fn resident(i: u64) -> String {
    format!("R{i:07}")
}

/// A fixed number per person, so a person listed in several files or rows
/// always has the same contact details (re-imports then change nothing).
fn phone(key: u64) -> String {
    format!("+4179{:07}", key.wrapping_mul(2_654_435_761) % 10_000_000)
}

fn at(rng: &mut StdRng) -> DateTime<Utc> {
    epoch() + Duration::minutes(rng.gen_range(0..PERIOD_DAYS * 24 * 60))
}

fn create(dir: &Path, name: &str) -> Result<BufWriter<File>> {
    let path = dir.join(name);
    let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 20, f))
}

fn generate(a: &GenerateArgs) -> Result<serde_json::Value> {
    std::fs::create_dir_all(&a.out)?;
    let mut rng = StdRng::seed_from_u64(a.seed);
    let n = a.residents.max(1);

    // Residences: buildings of 4 units, 1 to 4 people per unit.
    let mut w = create(&a.out, "residences.csv")?;
    writeln!(
        w,
        "person_id,full_name,phone,email,building_id,address,unit,lat,lon"
    )?;
    let (mut building, mut unit, mut left_in_unit) = (0u64, 0u64, 0u32);
    let mut res_rows = 0u64;
    for i in 0..n {
        if left_in_unit == 0 {
            unit += 1;
            if unit > UNITS_PER_BUILDING {
                unit = 1;
                building += 1;
            }
            left_in_unit = rng.gen_range(1..=4);
        }
        left_in_unit -= 1;
        let lat = 47.30 + (building % 1000) as f64 * 0.0002;
        let lon = 8.45 + (building / 1000) as f64 * 0.0002;
        let email = if i % 3 == 0 {
            format!("r{i}@example.org")
        } else {
            String::new()
        };
        writeln!(
            w,
            "{},Resident {i},{},{email},B{building:06},Street {} {},{unit},{lat:.6},{lon:.6}",
            resident(i),
            phone(i),
            building / 50,
            building % 50 + 1
        )?;
        res_rows += 1;
    }
    w.flush()?;

    // Flights: 32 rows x 6 seats and 8 crew; bookings of 1 to 3 adjacent seats.
    let mut w = create(&a.out, "flights.csv")?;
    writeln!(
        w,
        "flight_id,flight_no,departure,origin,destination,person_id,full_name,phone,email,role,seat,booking_ref"
    )?;
    let mut flight_rows = 0u64;
    for f in 0..a.flights {
        let dep = at(&mut rng).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let head = format!(
            "FL{f:06},LZ{},{dep},AP{},AP{}",
            100 + f % 900,
            f % 40,
            (f + 7) % 40
        );
        let mut booking_left = 0u32;
        let mut booking = String::new();
        for row in 1..=ROWS_PER_FLIGHT {
            for letter in SEAT_LETTERS {
                if booking_left == 0 {
                    booking_left = rng.gen_range(1..=3);
                    booking = format!("BK{f:06}{row:02}{letter}");
                }
                booking_left -= 1;
                let (pid, name, tel) = if rng.gen_bool(a.resident_share.clamp(0.0, 1.0)) {
                    let r = rng.gen_range(0..n);
                    (resident(r), format!("Resident {r}"), phone(r))
                } else {
                    let v = (1 << 40) + f * 1000 + row * 10 + letter as u64;
                    (
                        format!("V{f:06}{row:02}{letter}"),
                        format!("Visitor {f}-{row}{letter}"),
                        phone(v),
                    )
                };
                writeln!(
                    w,
                    "{head},{pid},{name},{tel},,passenger,{row}{letter},{booking}"
                )?;
                flight_rows += 1;
            }
        }
        for _ in 0..CREW_PER_FLIGHT {
            let c = rng.gen_range(0..CREW_POOL);
            writeln!(w, "{head},C{c:05},Crew {c},,,crew,,")?;
            flight_rows += 1;
        }
    }
    w.flush()?;

    // Rides: a driver from a pool, one or two resident passengers.
    let mut w = create(&a.out, "rides.csv")?;
    writeln!(
        w,
        "ride_id,vehicle_id,start,end,person_id,full_name,phone,email,role"
    )?;
    let mut ride_rows = 0u64;
    for r in 0..a.rides {
        let start = at(&mut rng);
        let end = start + Duration::minutes(rng.gen_range(5..45));
        let d = rng.gen_range(0..DRIVER_POOL);
        let head = format!(
            "RD{r:08},VH{d:05},{},{}",
            start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        writeln!(w, "{head},D{d:05},Driver {d},,,driver")?;
        ride_rows += 1;
        let mut first = u64::MAX;
        for _ in 0..rng.gen_range(1..=2) {
            let p = rng.gen_range(0..n);
            if p == first {
                continue;
            }
            first = p;
            writeln!(w, "{head},{},Resident {p},,,passenger", resident(p))?;
            ride_rows += 1;
        }
    }
    w.flush()?;

    // Tests: positives on distinct residents, half with a symptom onset; as
    // many negatives.
    let cases = a.cases.unwrap_or(n / 20).min(n);
    let mut w = create(&a.out, "tests.csv")?;
    writeln!(w, "test_id,person_id,sampled_at,result,lab,symptom_onset")?;
    let stride = (n / cases.max(1)).max(1);
    let mut test_rows = 0u64;
    for c in 0..cases {
        let p = (c * stride + rng.gen_range(0..stride)) % n;
        let sampled =
            epoch() + Duration::minutes(rng.gen_range(5 * 24 * 60..(PERIOD_DAYS - 5) * 24 * 60));
        let onset = if c % 2 == 0 {
            (sampled - Duration::days(rng.gen_range(1..=3)))
                .format("%Y-%m-%d")
                .to_string()
        } else {
            String::new()
        };
        let s = sampled.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        writeln!(
            w,
            "TP{c:07},{},{s},positive,Lab {},{onset}",
            resident(p),
            c % 7
        )?;
        let q = rng.gen_range(0..n);
        writeln!(w, "TN{c:07},{},{s},negative,Lab {},", resident(q), c % 7)?;
        test_rows += 2;
    }
    w.flush()?;

    Ok(json!({
        "out": a.out,
        "seed": a.seed,
        "rows": {
            "residences": res_rows,
            "flights": flight_rows,
            "rides": ride_rows,
            "tests": test_rows,
        },
        "positive_tests": cases,
    }))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn trace_bench(a: &TraceBenchArgs, store: &Store) -> Result<serde_json::Value> {
    let policy = load_policy(a.policy.as_deref())?;
    let mut cases: Vec<_> = store
        .positive_tests()
        .await?
        .into_iter()
        .map(|t| t.person_id)
        .collect();
    cases.sort();
    cases.dedup();
    let total = cases.len();
    if let Some(k) = a.sample {
        if k < total {
            let step = total as f64 / k as f64;
            cases = (0..k)
                .map(|i| cases[(i as f64 * step) as usize].clone())
                .collect();
        }
    }
    let actor = cli_actor();
    let mut ms = Vec::with_capacity(cases.len());
    let (mut contacts, mut close) = (0usize, 0usize);
    let started = Instant::now();
    for c in &cases {
        let t0 = Instant::now();
        // Computed only unless asked: storing replaces the contacts
        // officers work from and audits a trace as if an officer ran it.
        let t = if a.store {
            #[allow(
                clippy::disallowed_methods,
                reason = "a CLI command acts at the wall-clock time it runs"
            )]
            let now = Utc::now();
            store.trace_case(c, &policy, now, &actor).await?
        } else {
            store.compute_trace(c, &policy).await?
        };
        ms.push(t0.elapsed().as_secs_f64() * 1e3);
        contacts += t.contacts.len();
        close += t
            .contacts
            .iter()
            .filter(|c| c.tier == RiskTier::Close)
            .count();
    }
    let wall = started.elapsed().as_secs_f64();
    ms.sort_by(f64::total_cmp);
    let n = ms.len().max(1) as f64;
    Ok(json!({
        "backend": store.kind().as_str(),
        "stored": a.store,
        "cases_total": total,
        "traced": ms.len(),
        "contacts": contacts,
        "close_contacts": close,
        "contacts_per_case": contacts as f64 / n,
        "ms": {
            "p50": percentile(&ms, 0.50),
            "p90": percentile(&ms, 0.90),
            "p99": percentile(&ms, 0.99),
            "max": ms.last().copied().unwrap_or(0.0),
            "mean": ms.iter().sum::<f64>() / n,
        },
        "wall_seconds": wall,
    }))
}

pub async fn run(cmd: SimCommand, store: Option<&Store>) -> Result<()> {
    match cmd {
        SimCommand::Outbreak(a) => tokio::task::block_in_place(|| super::sim_outbreak::run(a))?,
        SimCommand::Generate(a) => {
            let doc = generate(&a)?;
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        SimCommand::TraceBench(a) => {
            let store = store.context("trace-bench needs a database (--db)")?;
            let doc = trace_bench(&a, store).await?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                println!(
                    "{} case(s) traced on {}: p50 {:.2} ms, p99 {:.2} ms, {:.1} contacts/case",
                    doc["traced"],
                    doc["backend"],
                    doc["ms"]["p50"],
                    doc["ms"]["p99"],
                    doc["contacts_per_case"]
                );
            }
        }
    }
    Ok(())
}
