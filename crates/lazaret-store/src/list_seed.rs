//! Synthetic persons, orders, alerts, cases and contacts for `lazaret bench
//! lists`, which
//! times the officers' list pages at national scale. Written in large
//! multi-row inserts without audit events (they are not anyone's records),
//! and only into a database that holds no person yet, so a benchmark can
//! never mix its rows into real data.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::ids::{AlertId, OrderId};
use sqlx::Row;

use crate::db::BeginWrite as _;
use crate::db::{on_pool, to_ms, BackendKind, Store};
use crate::error::StoreError;

/// What to seed.
#[derive(Debug, Clone)]
pub struct ListSeed {
    /// Persons, each with one order (`d01`, `d02`, … by turns).
    pub persons: u64,
    pub districts: u32,
    /// One alert for every this many orders (0: none).
    pub alert_every: u64,
    /// One case (a positive test, traced) for every this many persons (0:
    /// none), each with `contacts_per_case` contacts: the persons after it.
    pub case_every: u64,
    pub contacts_per_case: u64,
    pub now: DateTime<Utc>,
}

/// Rows per INSERT statement (within SQLite's and PostgreSQL's parameter
/// limits for 16 columns).
const CHUNK: usize = 500;

/// Rows per transaction.
const BATCH: u64 = 20_000;

const GIVEN: [&str; 12] = [
    "Anna", "Boris", "Chen", "Dana", "Elif", "Farid", "Greta", "Hana", "Ivan", "Jana", "Karim",
    "Lea",
];
const FAMILY: [&str; 10] = [
    "Ivanova", "Novak", "Schmidt", "Kowalski", "Haddad", "Petrov", "Meier", "Horvat", "Wang",
    "Sato",
];

/// The district code of synthetic district `i` (0-based).
pub fn seed_district(i: u64) -> String {
    format!("d{:02}", i + 1)
}

impl Store {
    /// Seeds `seed`, calling `progress` with the persons written so far.
    /// Refuses (`Unsupported`) a database that already holds persons.
    pub async fn seed_lists(
        &self,
        seed: &ListSeed,
        mut progress: impl FnMut(u64),
    ) -> Result<(), StoreError> {
        let held: i64 = on_pool!(self, pool => {
            Ok::<i64, StoreError>(
                sqlx::query("SELECT COUNT(*) AS n FROM persons")
                    .fetch_one(pool)
                    .await?
                    .try_get("n")?,
            )
        })?;
        if held > 0 {
            return Err(StoreError::Unsupported(
                "the database already holds persons: benchmark data goes only into a new, empty database",
            ));
        }
        let districts = u64::from(seed.districts.max(1));
        let at = to_ms(seed.now);
        let mut done = 0;
        while done < seed.persons {
            let n = BATCH.min(seed.persons - done);
            let batch: Vec<Synthetic> = (done..done + n)
                .map(|i| Synthetic::new(i, districts, seed))
                .collect();
            on_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                for rows in batch.chunks(CHUNK) {
                let sql = values_sql(
                    "INSERT INTO persons (id, full_name, language, created_at, updated_at, district) VALUES ",
                    rows.len(),
                    6,
                );
                let mut q = sqlx::query(&sql);
                for r in rows {
                    q = q.bind(&r.person).bind(&r.name).bind("en").bind(at).bind(at).bind(&r.district);
                }
                q.execute(&mut *tx).await?;
                let sql = values_sql(
                    "INSERT INTO orders (id, person_id, address, lat, lon, radius_m, starts_at, ends_at, \
                     time_zone, bases, status, created_at, updated_at, district, ended_at) VALUES ",
                    rows.len(),
                    15,
                );
                let mut q = sqlx::query(&sql);
                for r in rows {
                    q = q
                        .bind(&r.order)
                        .bind(&r.person)
                        .bind(&r.address)
                        .bind(r.lat)
                        .bind(r.lon)
                        .bind(100.0_f64)
                        .bind(r.starts_at)
                        .bind(r.ends_at)
                        .bind("Europe/Zurich")
                        .bind(r#"[{"kind":"arrival","area":"bench"}]"#)
                        .bind(r.status)
                        .bind(r.starts_at)
                        .bind(r.starts_at)
                        .bind(&r.district)
                        .bind((r.status == "completed").then_some(r.ends_at));
                }
                q.execute(&mut *tx).await?;
                let alerts: Vec<&Synthetic> = rows.iter().filter(|r| r.alert.is_some()).collect();
                if !alerts.is_empty() {
                    let sql = values_sql(
                        "INSERT INTO alerts (id, kind, person_id, order_id, cause, status, evidence, \
                         created_at, updated_at, district) VALUES ",
                        alerts.len(),
                        10,
                    );
                    let mut q = sqlx::query(&sql);
                    for r in alerts {
                        let (id, kind, status) = r.alert.as_ref().expect("filtered");
                        q = q
                            .bind(id)
                            .bind(*kind)
                            .bind(&r.person)
                            .bind(&r.order)
                            .bind(format!("bench:{}", r.order))
                            .bind(*status)
                            .bind("{}")
                            .bind(r.starts_at)
                            .bind(r.starts_at)
                            .bind(&r.district);
                    }
                    q.execute(&mut *tx).await?;
                }
                let cases: Vec<&Synthetic> = rows.iter().filter(|r| r.case).collect();
                if !cases.is_empty() {
                    let sql = values_sql(
                        "INSERT INTO test_results (id, person_id, sampled_at, result, lab, revisions, \
                         updated_at, traced_at) VALUES ",
                        cases.len(),
                        8,
                    );
                    let mut q = sqlx::query(&sql);
                    for r in &cases {
                        q = q
                            .bind(format!("T{}", r.person))
                            .bind(&r.person)
                            .bind(r.starts_at)
                            .bind("positive")
                            .bind("bench")
                            .bind("[]")
                            .bind(r.starts_at)
                            .bind(r.starts_at + 3_600_000);
                    }
                    q.execute(&mut *tx).await?;
                    let contacts: Vec<(&Synthetic, u64)> = cases
                        .iter()
                        .flat_map(|r| (1..=seed.contacts_per_case).map(move |k| (*r, k)))
                        .collect();
                    for chunk in contacts.chunks(CHUNK) {
                        let sql = values_sql(
                            "INSERT INTO contacts (test_id, case_id, person_id, tier, rules, evidence, \
                             last_exposure, generation, traced_at) VALUES ",
                            chunk.len(),
                            9,
                        );
                        let mut q = sqlx::query(&sql);
                        for (r, k) in chunk {
                            q = q
                                .bind(format!("T{}", r.person))
                                .bind(&r.person)
                                .bind(format!("B{:09}", r.index + *k))
                                .bind(if *k <= 3 { "close" } else { "notify" })
                                .bind(r#"["building"]"#)
                                .bind("[]")
                                .bind(r.starts_at)
                                .bind(1_i64)
                                .bind(r.starts_at + 3_600_000);
                        }
                        q.execute(&mut *tx).await?;
                    }
                }
                }
                tx.commit().await?;
                Ok::<(), StoreError>(())
            })?;
            done += n;
            progress(done);
        }
        if self.kind() == BackendKind::Postgres {
            // What autovacuum does some time after a bulk load: without
            // statistics the planner guesses, and a benchmark run right
            // after seeding would time those guesses.
            on_pool!(self, pool => {
                sqlx::query("ANALYZE persons, orders, alerts, test_results, contacts").execute(pool).await?;
                Ok::<(), StoreError>(())
            })?;
        }
        Ok(())
    }
}

/// `head` followed by `rows` groups of `cols` numbered placeholders.
fn values_sql(head: &str, rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * cols * 5);
    sql.push_str(head);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * cols + c + 1));
        }
        sql.push(')');
    }
    sql
}

/// One synthetic person with their order and maybe an alert.
struct Synthetic {
    index: u64,
    person: String,
    name: String,
    district: String,
    order: String,
    address: String,
    lat: f64,
    lon: f64,
    starts_at: i64,
    ends_at: i64,
    status: &'static str,
    alert: Option<(String, &'static str, &'static str)>,
    /// Whether the person is a case (a traced positive test).
    case: bool,
}

impl Synthetic {
    fn new(i: u64, districts: u64, seed: &ListSeed) -> Self {
        // Spread over the last 60 days; a third of the orders still active.
        let start = seed.now - Duration::minutes((i * 7919 % 86_400) as i64);
        let active = i.is_multiple_of(3);
        let ends = if active {
            seed.now + Duration::days(5)
        } else {
            start + Duration::days(10).min(seed.now - start)
        };
        let alert = (seed.alert_every > 0 && i.is_multiple_of(seed.alert_every)).then(|| {
            let kinds = [
                "missed_checkin",
                "failed_checkin",
                "welfare_check",
                "symptomatic",
            ];
            let statuses = ["open", "open", "assigned", "resolved"];
            (
                AlertId::generate().to_string(),
                kinds[(i / seed.alert_every % 4) as usize],
                statuses[(i / seed.alert_every / 4 % 4) as usize],
            )
        });
        Synthetic {
            index: i,
            person: format!("B{i:09}"),
            name: format!(
                "{} {} {i}",
                GIVEN[(i % 12) as usize],
                FAMILY[(i / 12 % 10) as usize]
            ),
            district: seed_district(i % districts),
            order: OrderId::generate().to_string(),
            address: format!("Bench Street {}", i % 1000),
            lat: 47.0 + (i % 1000) as f64 * 1e-4,
            lon: 8.0 + (i % 997) as f64 * 1e-4,
            starts_at: to_ms(start),
            ends_at: to_ms(ends.max(start + Duration::minutes(1))),
            status: if active { "active" } else { "completed" },
            alert,
            case: seed.case_every > 0 && i.is_multiple_of(seed.case_every),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_row_by_row() {
        assert_eq!(values_sql("V ", 2, 2), "V ($1, $2), ($3, $4)");
    }
}
