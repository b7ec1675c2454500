//! The console's overview: where each district stands now and today. Counts
//! only, one grouped query each, limited to the officer's districts in SQL;
//! the counts about cases (health data) only when asked for.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use lazaret_core::district::DistrictScope;
use serde::Serialize;
use sqlx::Row;

use crate::db::{on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::scope;
use crate::stats::DayStats;

/// Open alerts of one kind, by how long they have waited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OpenAlerts {
    pub kind: String,
    /// Opened less than an hour ago.
    pub under_1h: i64,
    /// Opened one to 24 hours ago.
    pub under_24h: i64,
    /// Waiting a day or more.
    pub older: i64,
}

impl OpenAlerts {
    pub fn total(&self) -> i64 {
        self.under_1h + self.under_24h + self.older
    }
}

/// New cases and tracing work: health data, for roles that read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CaseCounts {
    /// Persons whose positive test was sampled in the day.
    pub new_today: i64,
    /// Of those, the ones already named as a contact of another case: the
    /// share tracing reached before the test did.
    pub new_today_on_contact_list: i64,
    /// Positive tests of the last `TRACE_WINDOW_DAYS` not yet traced
    /// (migration 0018's `traced_at`: a trace that found nobody counts).
    pub untraced: i64,
}

/// One district now and today.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DistrictOverview {
    pub district: String,
    /// Orders in force now.
    pub orders_active: i64,
    /// Of those, orders of contacts (resting on another person's test).
    pub contacts_in_quarantine: i64,
    /// Today's prompts and check-ins (the analysts' day row).
    pub today: DayStats,
    /// Open (or assigned) alerts by kind, in kind order.
    pub alerts: Vec<OpenAlerts>,
    /// `None` unless the counts about cases were asked for.
    pub cases: Option<CaseCounts>,
}

/// How far back a positive test without contacts still counts as tracing
/// work.
pub const TRACE_WINDOW_DAYS: i64 = 14;

type Districts = BTreeMap<String, DistrictOverview>;

fn entry(all: &mut Districts, district: String) -> &mut DistrictOverview {
    all.entry(district.clone())
        .or_insert_with(|| DistrictOverview {
            district,
            ..DistrictOverview::default()
        })
}

impl Store {
    /// Each district of `districts` (those with anything to count, and every
    /// district a limited scope names) at `now`; "today" is
    /// `[day_start, now)`. `with_cases` adds the counts about cases (health
    /// data) and the `symptomatic` alerts.
    pub async fn overview(
        &self,
        now: DateTime<Utc>,
        day_start: DateTime<Utc>,
        districts: &DistrictScope,
        with_cases: bool,
    ) -> Result<Vec<DistrictOverview>, StoreError> {
        let mut all: Districts = BTreeMap::new();
        if let Some(set) = districts.limit() {
            for d in set {
                entry(&mut all, d.as_str().to_owned());
            }
        }
        for day in self.stats(day_start, now, districts).await? {
            let district = day.district.clone();
            entry(&mut all, district).today = day;
        }

        let (limit, values) = scope::clause("district", districts, 1);
        let (o_limit, _) = scope::clause("o.district", districts, 1);
        let (p_limit, _) = scope::clause("p.district", districts, 3);
        let (a_limit, _) = scope::clause("district", districts, 3);
        let orders_sql = format!(
            "SELECT district, COUNT(*) AS n FROM orders WHERE status = 'active'{limit} \
             GROUP BY district"
        );
        // An order rests on another person's test: the contact's quarantine.
        let contacts_sql = format!(
            "SELECT o.district AS district, COUNT(DISTINCT o.id) AS n FROM orders o \
             JOIN order_basis_tests b ON b.order_id = o.id \
             JOIN test_results t ON t.id = b.test_id \
             WHERE o.status = 'active' AND t.person_id <> o.person_id{o_limit} \
             GROUP BY o.district"
        );
        let health = if with_cases {
            ""
        } else {
            " AND kind <> 'symptomatic'"
        };
        let alerts_sql = format!(
            "SELECT district, kind, \
             SUM(CASE WHEN created_at > $1 THEN 1 ELSE 0 END) AS fresh, \
             SUM(CASE WHEN created_at <= $1 AND created_at > $2 THEN 1 ELSE 0 END) AS day, \
             SUM(CASE WHEN created_at <= $2 THEN 1 ELSE 0 END) AS older \
             FROM alerts WHERE status IN ('open', 'assigned'){health}{a_limit} \
             GROUP BY district, kind ORDER BY district, kind"
        );
        // New today: sampled in the day. On a contact list: named as the
        // contact of another person's test before this one was sampled (a
        // later re-trace moves `traced_at`, so this can only undercount).
        let new_cases_sql = format!(
            "SELECT p.district AS district, COUNT(*) AS n, \
             SUM(CASE WHEN EXISTS (SELECT 1 FROM contacts c WHERE c.person_id = t.person_id \
                 AND c.case_id <> t.person_id AND c.traced_at <= t.sampled_at) \
                 THEN 1 ELSE 0 END) AS listed \
             FROM test_results t JOIN persons p ON p.id = t.person_id \
             WHERE t.result = 'positive' AND t.sampled_at >= $1 AND t.sampled_at < $2{p_limit} \
             GROUP BY p.district"
        );
        let untraced_sql = format!(
            "SELECT p.district AS district, COUNT(*) AS n \
             FROM test_results t JOIN persons p ON p.id = t.person_id \
             WHERE t.result = 'positive' AND t.sampled_at >= $1 AND t.sampled_at < $2 \
             AND t.traced_at IS NULL{p_limit} \
             GROUP BY p.district"
        );
        let (now_ms, hour_ago, day_ago) = (
            to_ms(now),
            to_ms(now - Duration::hours(1)),
            to_ms(now - Duration::hours(24)),
        );
        let window_start = to_ms(now - Duration::days(TRACE_WINDOW_DAYS));
        on_pool!(self, pool => {
            for (sql, contacts) in [(&orders_sql, false), (&contacts_sql, true)] {
                let mut q = sqlx::query(sql);
                for v in &values {
                    q = q.bind(v.as_str());
                }
                for r in q.fetch_all(pool).await? {
                    let e = entry(&mut all, r.try_get("district")?);
                    let n: i64 = r.try_get("n")?;
                    if contacts {
                        e.contacts_in_quarantine = n;
                    } else {
                        e.orders_active = n;
                    }
                }
            }
            let mut q = sqlx::query(&alerts_sql).bind(hour_ago).bind(day_ago);
            for v in &values {
                q = q.bind(v.as_str());
            }
            for r in q.fetch_all(pool).await? {
                let e = entry(&mut all, r.try_get("district")?);
                e.alerts.push(OpenAlerts {
                    kind: r.try_get("kind")?,
                    under_1h: r.try_get::<Option<i64>, _>("fresh")?.unwrap_or(0),
                    under_24h: r.try_get::<Option<i64>, _>("day")?.unwrap_or(0),
                    older: r.try_get::<Option<i64>, _>("older")?.unwrap_or(0),
                });
            }
            if with_cases {
                for district in all.values_mut() {
                    district.cases = Some(CaseCounts::default());
                }
                let queries = [
                    (&new_cases_sql, to_ms(day_start), true),
                    (&untraced_sql, window_start, false),
                ];
                for (sql, from, new) in queries {
                    let mut q = sqlx::query(sql).bind(from).bind(now_ms);
                    for v in &values {
                        q = q.bind(v.as_str());
                    }
                    for r in q.fetch_all(pool).await? {
                        let e = entry(&mut all, r.try_get("district")?);
                        let c = e.cases.get_or_insert_with(CaseCounts::default);
                        let n: i64 = r.try_get("n")?;
                        if new {
                            c.new_today = n;
                            c.new_today_on_contact_list =
                                r.try_get::<Option<i64>, _>("listed")?.unwrap_or(0);
                        } else {
                            c.untraced = n;
                        }
                    }
                }
            }
            Ok::<(), StoreError>(())
        })?;
        Ok(all.into_values().collect())
    }
}
