//! `lazaret sim outbreak`: compare tracing policies on a simulated outbreak
//! (the `lazaret-sim` crate). Runs in memory; opens no database.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lazaret_sim::params::RegionConfig;
use lazaret_sim::policy::SimPolicy;
use lazaret_sim::region::Region;
use lazaret_sim::runner::{simulate, Plan};
use lazaret_sim::summary::{summarise, Interval, PolicySummary};

#[derive(Debug, Args)]
pub struct OutbreakArgs {
    /// Region file (TOML: population, households, buildings, workplaces, schools, rides,
    /// flights, disease, transmission, response) [default: the built-in region]
    #[arg(long, value_name = "FILE")]
    pub region: Option<PathBuf>,
    /// A policy to compare: a tracing policy TOML (production's format, plus an optional
    /// `[response]` table), `NAME=FILE`, or a built-in: `none`, `isolation` (the baseline,
    /// always run), `default` (the built-in tracing rules). Repeat to compare several
    #[arg(long = "policy", value_name = "FILE|NAME=FILE|BUILTIN")]
    pub policies: Vec<String>,
    /// Runs per policy (each with its own seed, shared by all policies)
    #[arg(long, default_value_t = 100)]
    pub runs: u32,
    /// Seed of the first run
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads [default: the machine's cores]
    #[arg(long)]
    pub threads: Option<usize>,
    /// Override the region file's population
    #[arg(long)]
    pub population: Option<u32>,
    /// Override the region file's number of days
    #[arg(long)]
    pub days: Option<u32>,
    /// Write one row per policy as CSV
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Write the whole result (summaries, daily series, calibration) as JSON
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the chart (epidemic curves, averted per 1,000 quarantine days) as SVG
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn load_policy(spec: &str, region: &RegionConfig) -> Result<SimPolicy> {
    if let Some(p) = SimPolicy::builtin(spec, &region.response) {
        return Ok(p);
    }
    let (name, path) = match spec.split_once('=') {
        Some((name, path)) => (name.to_owned(), PathBuf::from(path)),
        None => {
            let path = PathBuf::from(spec);
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| spec.to_owned());
            (name, path)
        }
    };
    if !path.exists() {
        bail!("policy {spec:?}: no such file, and not one of none, isolation, default");
    }
    Ok(SimPolicy::from_toml(
        &name,
        &read(&path)?,
        &region.response,
    )?)
}

pub fn run(a: OutbreakArgs) -> Result<()> {
    let mut config = match &a.region {
        Some(path) => RegionConfig::from_toml(&read(path)?)
            .with_context(|| format!("region file {}", path.display()))?,
        None => RegionConfig::default(),
    };
    if let Some(p) = a.population {
        config.population = p;
    }
    if let Some(d) = a.days {
        config.days = d;
    }
    config.validate()?;
    let specs = if a.policies.is_empty() {
        vec!["default".to_owned()]
    } else {
        a.policies.clone()
    };
    let policies = specs
        .iter()
        .map(|s| load_policy(s, &config))
        .collect::<Result<Vec<_>>>()?;
    let mut names: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        bail!("two policies are named {:?}: name one with NAME=FILE", w[0]);
    }
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let started = Instant::now();
    let region = Region::generate(&config);
    let generated = started.elapsed();
    eprintln!(
        "{}: {} people, {} households, {} buildings, {} workplaces and classes, {} rides, {} flights ({:.1} s)",
        config.name,
        region.population(),
        region.household_building.len(),
        region.building_start.len() - 1,
        region.groups.len(),
        region.rides.len(),
        region.flights.len(),
        generated.as_secs_f64()
    );
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} runs {pos}/{len} [{bar:40}] {elapsed} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let plan = Plan {
        policies,
        runs: a.runs,
        seed: a.seed,
        threads,
    };
    let results = simulate(&region, &plan, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let summaries = summarise(&results);
    let agent_days = f64::from(results.population)
        * f64::from(results.days)
        * f64::from(results.runs)
        * results.policies.len() as f64;
    eprintln!(
        "{} runs × {} policies in {elapsed:.1} s ({:.2}M agent-days per second on {threads} thread(s)); R0 {:.2} (community {:.2} of it)",
        results.runs,
        results.policies.len(),
        agent_days / (elapsed - generated.as_secs_f64()).max(1e-9) / 1e6,
        results.calibration.r0,
        results.calibration.community * mean_rel(&config)
    );
    print_table(&summaries);
    if let Some(path) = &a.csv {
        std::fs::write(path, csv(&summaries))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &a.json {
        let doc = serde_json::json!({ "results": results, "summaries": summaries });
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &a.svg {
        let title = format!(
            "{}: {} people, {} days, {} runs per policy",
            results.region, results.population, results.days, results.runs
        );
        std::fs::write(path, lazaret_sim::chart::render(&title, &summaries))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn mean_rel(c: &RegionConfig) -> f64 {
    1.0 - c.disease.asymptomatic_share
        + c.disease.asymptomatic_share * c.disease.asymptomatic_relative
}

fn span(i: &Interval) -> String {
    format!("{} [{}–{}]", num(i.median), num(i.low), num(i.high))
}

fn num(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("–".into(), |x| format!("{:.0}%", x * 100.0))
}

fn print_table(summaries: &[PolicySummary]) {
    let header = [
        "policy",
        "infections",
        "reduction",
        "quarantine person-days",
        "averted / 1,000 q-days",
        "q. infected",
        "peak check-ins/day",
        "peak alerts/day",
        "controlled",
    ];
    let rows: Vec<Vec<String>> = summaries
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                span(&s.infections),
                s.reduction
                    .map_or("–".into(), |r| format!("{:.0}%", r.median * 100.0)),
                span(&s.quarantine_person_days),
                s.averted_per_1000_quarantine_days
                    .as_ref()
                    .map_or("–".into(), span),
                pct(s.quarantined_infected_share),
                num(s.peak_checkins_per_day.median),
                num(s.peak_alerts_per_day.median),
                format!("{:.0}%", s.controlled * 100.0),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for r in &rows {
        line(r.iter().map(String::as_str).collect());
    }
}

fn csv(summaries: &[PolicySummary]) -> String {
    let mut out = String::from(
        "policy,runs,infections_median,infections_low,infections_high,averted_median,averted_low,averted_high,reduction_median,quarantine_person_days_median,quarantine_person_days_low,quarantine_person_days_high,isolation_person_days_median,averted_per_1000_qdays_median,averted_per_1000_qdays_low,averted_per_1000_qdays_high,averted_per_1000_qdays_pooled,quarantined_infected_share,contact_orders_median,confirmed_cases_median,false_positive_cases_mean,orders_revised_mean,peak_checkins_median,peak_alerts_median,peak_new_orders_median,peak_traced_cases_median,controlled_share\n",
    );
    let opt = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x:.4}"));
    for s in summaries {
        let q = s.averted_per_1000_quarantine_days;
        let name = if s.name.contains([',', '"']) {
            format!("\"{}\"", s.name.replace('"', "\"\""))
        } else {
            s.name.clone()
        };
        out.push_str(&format!(
            "{name},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.2},{:.2},{},{},{},{},{:.3}\n",
            s.runs,
            s.infections.median,
            s.infections.low,
            s.infections.high,
            s.averted.median,
            s.averted.low,
            s.averted.high,
            opt(s.reduction.map(|r| r.median)),
            s.quarantine_person_days.median,
            s.quarantine_person_days.low,
            s.quarantine_person_days.high,
            s.isolation_person_days.median,
            opt(q.map(|q| q.median)),
            opt(q.map(|q| q.low)),
            opt(q.map(|q| q.high)),
            opt(s.averted_per_1000_quarantine_days_pooled),
            opt(s.quarantined_infected_share),
            s.contact_orders.median,
            s.confirmed_cases.median,
            s.false_positive_cases,
            s.orders_revised,
            s.peak_checkins_per_day.median,
            s.peak_alerts_per_day.median,
            s.peak_new_orders_per_day.median,
            s.peak_traced_cases_per_day.median,
            s.controlled
        ));
    }
    out
}
