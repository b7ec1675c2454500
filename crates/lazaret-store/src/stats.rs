//! Aggregates per district and UTC day for the analysts (`GET
//! /api/v1/stats`): counts and rates only, never a name or a person's id.
//! Each count is one grouped query limited to the officer's districts in
//! SQL; only the orders in force are spread over the days in memory (one
//! row per order of the period, no personal data).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::district::DistrictScope;
use serde::Serialize;
use sqlx::Row;

use crate::db::{on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::scope;

const DAY_MS: i64 = 86_400_000;

/// One district's day.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DayStats {
    pub district: String,
    pub day: NaiveDate,
    /// Orders in force at some time of the day.
    pub orders_active: i64,
    /// Orders whose period started that day.
    pub orders_started: i64,
    /// Orders completed or released that day.
    pub orders_ended: i64,
    pub prompts_issued: i64,
    pub prompts_answered: i64,
    pub prompts_missed: i64,
    pub prompts_not_delivered: i64,
    /// Check-in tries received, and those verified.
    pub checkins: i64,
    pub checkins_verified: i64,
    /// `checkins_verified / checkins`; `None` without a try.
    pub checkin_pass_rate: Option<f64>,
    pub alerts_opened: i64,
}

fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

fn date(day: i64) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_millis(day * DAY_MS)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

type Days = BTreeMap<(i64, String), DayStats>;

/// The row of `district`'s `day`, made when first needed.
fn at(days: &mut Days, day: i64, district: String) -> &mut DayStats {
    days.entry((day, district.clone()))
        .or_insert_with(|| DayStats {
            district,
            day: date(day),
            ..DayStats::default()
        })
}

impl Store {
    /// The days of `[from, to)` (whole UTC days) per district of `districts`
    /// that saw anything; oldest first, then by district.
    pub async fn stats(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        districts: &DistrictScope,
    ) -> Result<Vec<DayStats>, StoreError> {
        let (lo, hi) = (day_of(to_ms(from)) * DAY_MS, to_ms(to));
        let mut days: Days = BTreeMap::new();

        let (limit, values) = scope::clause("district", districts, 3);
        let orders_sql = format!(
            "SELECT district, starts_at, COALESCE(ended_at, ends_at) AS end_at, ended_at FROM orders \
             WHERE status <> 'proposed' AND starts_at < $2 AND COALESCE(ended_at, ends_at) > $1{limit}"
        );
        let (o_limit, _) = scope::clause("o.district", districts, 3);
        let prompts_sql = format!(
            "SELECT o.district AS district, p.issued_at AS at, p.status AS what FROM prompts p \
             JOIN orders o ON o.id = p.order_id WHERE p.issued_at >= $1 AND p.issued_at < $2{o_limit}"
        );
        let checkins_sql = format!(
            "SELECT o.district AS district, c.received_at AS at, c.outcome AS what FROM checkins c \
             JOIN prompts p ON p.id = c.prompt_id JOIN orders o ON o.id = p.order_id \
             WHERE c.received_at >= $1 AND c.received_at < $2{o_limit}"
        );
        let alerts_sql = format!(
            "SELECT district, created_at AS at, kind AS what FROM alerts \
             WHERE created_at >= $1 AND created_at < $2{limit}"
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&orders_sql).bind(lo).bind(hi);
            for v in &values {
                q = q.bind(v.as_str());
            }
            for r in q.fetch_all(pool).await? {
                let district: String = r.try_get("district")?;
                let start: i64 = r.try_get("starts_at")?;
                let end: i64 = r.try_get("end_at")?;
                let ended: Option<i64> = r.try_get("ended_at")?;
                let first = day_of(start.max(lo));
                let last = day_of((end - 1).min(hi - 1));
                for day in first..=last {
                    at(&mut days, day, district.clone()).orders_active += 1;
                }
                if start >= lo && start < hi {
                    at(&mut days, day_of(start), district.clone()).orders_started += 1;
                }
                if let Some(e) = ended.filter(|e| *e >= lo && *e < hi) {
                    at(&mut days, day_of(e), district).orders_ended += 1;
                }
            }
            for (sql, kind) in [(&prompts_sql, 0), (&checkins_sql, 1), (&alerts_sql, 2)] {
                let mut q = sqlx::query(sql).bind(lo).bind(hi);
                for v in &values {
                    q = q.bind(v.as_str());
                }
                for r in q.fetch_all(pool).await? {
                    let s = at(&mut days, day_of(r.try_get("at")?), r.try_get("district")?);
                    let what: Option<String> = r.try_get("what")?;
                    match (kind, what.as_deref()) {
                        (0, w) => {
                            s.prompts_issued += 1;
                            match w {
                                Some("answered") => s.prompts_answered += 1,
                                Some("missed") => s.prompts_missed += 1,
                                Some("not_delivered") => s.prompts_not_delivered += 1,
                                _ => {}
                            }
                        }
                        (1, w) => {
                            s.checkins += 1;
                            if w == Some("verified") {
                                s.checkins_verified += 1;
                            }
                        }
                        _ => s.alerts_opened += 1,
                    }
                }
            }
            Ok::<(), StoreError>(())
        })?;
        Ok(days
            .into_values()
            .map(|mut s| {
                s.checkin_pass_rate =
                    (s.checkins > 0).then(|| s.checkins_verified as f64 / s.checkins as f64);
                s
            })
            .collect())
    }
}
