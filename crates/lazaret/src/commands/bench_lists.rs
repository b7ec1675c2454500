//! `lazaret bench lists`: how fast the officers' lists page at national
//! scale. Seeds a new, empty database with synthetic persons (one order
//! each, an alert for some), then times pages of the persons, orders and
//! alerts lists through the same service calls the API and the console
//! make (district scope, role filter, the audited list), for a national
//! officer and a district officer, walking the cursor and filtering.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use lazaret_core::alert::{AlertKind, AlertStatus};
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::PersonId;
use lazaret_core::order::OrderStatus;
use lazaret_core::user::Role;
use lazaret_server::config::Config;
use lazaret_server::services::{self, Actor};
use lazaret_server::AppState;
use lazaret_store::{
    seed_district, AlertFilter, ListSeed, OrderFilter, PageRequest, PersonFilter, Store,
};
use serde_json::json;

/// `lazaret bench lists`
#[derive(Debug, Args)]
pub struct BenchListsArgs {
    /// Persons to seed, each with one order (a third active).
    #[arg(long, default_value_t = 1_000_000)]
    pub persons: u64,
    /// Districts the persons are spread over.
    #[arg(long, default_value_t = 10)]
    pub districts: u32,
    /// One alert for every this many orders.
    #[arg(long, default_value_t = 20)]
    pub alert_every: u64,
    /// One case (a traced positive test) for every this many persons.
    #[arg(long, default_value_t = 20)]
    pub case_every: u64,
    /// Contacts of each case.
    #[arg(long, default_value_t = 10)]
    pub contacts_per_case: u64,
    /// Pages timed per list and viewer.
    #[arg(long, default_value_t = 100)]
    pub pages: usize,
    /// Rows per page (the console's page size).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Time the data an earlier run seeded instead of seeding (the
    /// database must hold it).
    #[arg(long)]
    pub reuse: bool,
    /// One JSON object per scenario instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Latencies of one scenario.
struct Timings {
    name: String,
    ms: Vec<f64>,
    rows: usize,
}

impl Timings {
    fn quantile(&self, q: f64) -> f64 {
        let mut v = self.ms.clone();
        v.sort_by(f64::total_cmp);
        let i = ((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1;
        v[i]
    }
}

/// Pages of one list, following the cursor from the start: `fetch` gets a
/// page request and returns the rows and the next cursor.
async fn walk<F, Fut>(name: String, pages: usize, limit: u32, fetch: F) -> Result<Timings>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<(usize, Option<String>)>>,
{
    walk_from(name, None, pages, limit, fetch).await
}

/// As [`walk`], from the page after the record with key `start`.
async fn walk_from<F, Fut>(
    name: String,
    start: Option<&str>,
    pages: usize,
    limit: u32,
    mut fetch: F,
) -> Result<Timings>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<(usize, Option<String>)>>,
{
    let mut t = Timings {
        name,
        ms: Vec::with_capacity(pages),
        rows: 0,
    };
    let mut cursor = start.and_then(|k| PageRequest::after(k, None).cursor);
    for _ in 0..pages {
        let started = Instant::now();
        let (rows, next) = fetch(PageRequest {
            cursor: cursor.clone(),
            limit: Some(limit),
        })
        .await?;
        t.ms.push(started.elapsed().as_secs_f64() * 1e3);
        t.rows += rows;
        cursor = next;
        if cursor.is_none() {
            break;
        }
    }
    Ok(t)
}

pub async fn run(args: BenchListsArgs, config: Config, store: Store) -> Result<()> {
    if args.persons == 0 || args.pages == 0 {
        bail!("--persons and --pages must be at least 1");
    }
    let state = AppState::new(store, config);
    if !args.reuse {
        let bar = ProgressBar::new(args.persons).with_style(
            ProgressStyle::with_template("seeding {bar:40} {pos}/{len} persons ({per_sec}, {eta})")
                .expect("valid template"),
        );
        let started = Instant::now();
        state
            .store
            .seed_lists(
                &ListSeed {
                    persons: args.persons,
                    districts: args.districts,
                    alert_every: args.alert_every,
                    case_every: args.case_every,
                    contacts_per_case: args.contacts_per_case,
                    now: state.now(),
                },
                |n| bar.set_position(n),
            )
            .await
            .context("seeding the benchmark data")?;
        bar.finish_and_clear();
        eprintln!(
            "seeded {} persons and orders in {:.1} s",
            args.persons,
            started.elapsed().as_secs_f64()
        );
    }
    let national = Actor::new("bench:national", Role::Investigator, DistrictScope::All);
    let d01 = DistrictScope::parse(&seed_district(0)).context("district")?;
    let district = Actor::new("bench:district", Role::Investigator, d01.clone());
    let compliance = Actor::new("bench:compliance", Role::ComplianceOfficer, d01);
    let (pages, limit) = (args.pages, args.limit);
    let mut results = Vec::new();

    for (who, actor) in [("national", &national), ("district d01", &district)] {
        results.push(
            walk(format!("persons, {who}"), pages, limit, |p| {
                let (s, a) = (&state, actor);
                async move {
                    let page = services::persons::list(s, a, &PersonFilter::default(), &p).await?;
                    Ok((page.items.len(), page.next_cursor))
                }
            })
            .await?,
        );
    }
    // Deep in the list: from the middle of the key range on.
    let middle = format!("B{:09}", args.persons / 2);
    results.push(
        walk_from(
            "persons from the middle, national".into(),
            Some(&middle),
            pages,
            limit,
            |p| {
                let (s, a) = (&state, &national);
                async move {
                    let page = services::persons::list(s, a, &PersonFilter::default(), &p).await?;
                    Ok((page.items.len(), page.next_cursor))
                }
            },
        )
        .await?,
    );
    let middle_order = state
        .store
        .list_orders(
            &OrderFilter {
                person_id: Some(PersonId::parse(&middle).context("person id")?),
                ..OrderFilter::default()
            },
            &PageRequest::default(),
        )
        .await?
        .items
        .first()
        .map(|o| o.id.to_string())
        .context("the middle person's order (was the database seeded with as many persons?)")?;
    for (who, actor) in [("national", &national), ("district d01", &district)] {
        results.push(
            walk_from(
                format!("orders from the middle, {who}"),
                Some(&middle_order),
                pages,
                limit,
                |p| {
                    let (s, a) = (&state, actor);
                    async move {
                        let page =
                            services::orders::list(s, a, &OrderFilter::default(), &p).await?;
                        Ok((page.items.len(), page.next_cursor))
                    }
                },
            )
            .await?,
        );
    }
    // A name search: a common name (many matches, early pages fill fast) and
    // one person's full name (the whole table is searched).
    for (label, needle) in [("common name", "anna"), ("one person", "lea sato 999")] {
        results.push(
            walk(
                format!("persons, name contains {label:?}, national"),
                pages.min(20),
                limit,
                |p| {
                    let (s, a) = (&state, &national);
                    let f = PersonFilter {
                        name_contains: Some(needle.to_owned()),
                        ..PersonFilter::default()
                    };
                    async move {
                        let page = services::persons::list(s, a, &f, &p).await?;
                        Ok((page.items.len(), page.next_cursor))
                    }
                },
            )
            .await?,
        );
    }
    for (who, actor) in [("national", &national), ("district d01", &district)] {
        for (label, status) in [("all", None), ("active", Some(OrderStatus::Active))] {
            results.push(
                walk(format!("orders {label}, {who}"), pages, limit, |p| {
                    let (s, a) = (&state, actor);
                    let f = OrderFilter {
                        status,
                        ..OrderFilter::default()
                    };
                    async move {
                        let page = services::orders::list(s, a, &f, &p).await?;
                        Ok((page.items.len(), page.next_cursor))
                    }
                })
                .await?,
            );
        }
    }
    results.push(
        walk("orders of one person, national".into(), pages, limit, |p| {
            let (s, a) = (&state, &national);
            let f = OrderFilter {
                person_id: Some(PersonId::parse(&middle).expect("valid id")),
                ..OrderFilter::default()
            };
            async move {
                let page = services::orders::list(s, a, &f, &p).await?;
                Ok((page.items.len(), page.next_cursor))
            }
        })
        .await?,
    );
    for (who, actor) in [
        ("national", &national),
        ("district d01", &district),
        ("compliance d01", &compliance),
    ] {
        // The console's queue (not resolved, oldest or newest first), and
        // the API's filters.
        for (label, status, kind, unresolved, newest_first) in [
            ("queue, oldest first", None, None, true, false),
            ("queue, newest first", None, None, true, true),
            ("open", Some(AlertStatus::Open), None, false, false),
            (
                "missed check-ins",
                None,
                Some(AlertKind::MissedCheckin),
                false,
                false,
            ),
        ] {
            results.push(
                walk(format!("alerts {label}, {who}"), pages, limit, |p| {
                    let (s, a) = (&state, actor);
                    let f = AlertFilter {
                        status,
                        kind,
                        unresolved,
                        newest_first,
                        ..AlertFilter::default()
                    };
                    async move {
                        let page = services::alerts::list(s, a, &f, &p).await?;
                        Ok((page.items.len(), page.next_cursor))
                    }
                })
                .await?,
            );
        }
    }

    // The cases list (newest test first) and case pages with their
    // contacts, as the console reads them.
    for (who, actor) in [("national", &national), ("district d01", &district)] {
        results.push(
            walk(format!("cases, {who}"), pages, limit, |p| {
                let (s, a) = (&state, actor);
                async move {
                    let page = services::tracing::cases(s, a, &p).await?;
                    Ok((page.items.len(), page.next_cursor))
                }
            })
            .await?,
        );
    }
    if args.case_every > 0 {
        let mut t = Timings {
            name: "case page with its contacts, national".into(),
            ms: Vec::new(),
            rows: 0,
        };
        let cases = args.persons.div_ceil(args.case_every);
        for k in 0..(pages as u64).min(cases) {
            // Cases spread over the whole table.
            let i = (k * (cases / (pages as u64).max(1)).max(1)).min(cases - 1) * args.case_every;
            let id = format!("B{i:09}");
            let started = Instant::now();
            let file = services::tracing::case_file(&state, &national, &id).await?;
            t.ms.push(started.elapsed().as_secs_f64() * 1e3);
            t.rows += file.current.map_or(0, |c| c.contacts.len());
        }
        results.push(t);
    }

    if !args.json {
        println!(
            "{:<52} {:>6} {:>7} {:>9} {:>9} {:>9}",
            "list", "pages", "rows", "p50 ms", "p95 ms", "max ms"
        );
    }
    for t in &results {
        let max = t.ms.iter().copied().fold(0.0, f64::max);
        if args.json {
            println!(
                "{}",
                json!({"list": t.name, "pages": t.ms.len(), "rows": t.rows,
                       "p50_ms": t.quantile(0.5), "p95_ms": t.quantile(0.95), "max_ms": max})
            );
        } else {
            println!(
                "{:<52} {:>6} {:>7} {:>9.2} {:>9.2} {:>9.2}",
                t.name,
                t.ms.len(),
                t.rows,
                t.quantile(0.5),
                t.quantile(0.95),
                max
            );
        }
    }
    let worst = results.iter().map(|t| t.quantile(0.95)).fold(0.0, f64::max);
    eprintln!(
        "worst p95: {worst:.1} ms (target: 300 ms per page){}",
        if Duration::from_secs_f64(worst / 1e3) <= Duration::from_millis(300) {
            ""
        } else {
            " — over the target"
        }
    );
    Ok(())
}
