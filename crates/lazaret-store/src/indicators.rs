//! The facts the tracing indicators are computed from
//! ([`lazaret_core::indicators`]): a few grouped reads limited to the
//! officer's districts in SQL. Person and test ids are read to join the
//! facts in memory and never leave the computation.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use lazaret_core::district::DistrictScope;
use lazaret_core::indicators::{
    ContactFact, ContactPeriodFact, Facts, PositiveFact, REINFECTION_DAYS,
};
use sqlx::Row;

use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::scope;

/// The result time of a test: the lab's, else the sample's.
const RESULTED: &str = "COALESCE(t.resulted_at, t.sampled_at)";

/// The earlier of a follow-up's reached and informed times.
const NOTIFIED: &str = "CASE WHEN f.reached_at IS NULL THEN f.informed_at \
     WHEN f.informed_at IS NULL OR f.reached_at < f.informed_at THEN f.reached_at \
     ELSE f.informed_at END";

fn at(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    from_ms("indicators", ms)
}

impl Store {
    /// What the indicators of `[from, to)` in `districts` are computed
    /// from. Cases and contacts count in the case's district; orders,
    /// prompts and alerts in theirs; messages in the person's.
    pub async fn indicator_facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        districts: &DistrictScope,
    ) -> Result<Facts, StoreError> {
        let (lo, hi) = (to_ms(from), to_ms(to));
        let window = to_ms(from - Duration::days(REINFECTION_DAYS));
        // Positive tests of the period and the reinfection window before it,
        // of persons in the scope ($1, $2, then the districts).
        let (p_limit, values) = scope::clause("p.district", districts, 3);
        let positives = format!(
            "SELECT t.id AS test, t.person_id AS person, {RESULTED} AS resulted, \
             COALESCE(t.reported_at, t.resulted_at, t.sampled_at) AS reported \
             FROM test_results t JOIN persons p ON p.id = t.person_id \
             WHERE t.result = 'positive' AND {RESULTED} >= $1 AND {RESULTED} < $2{p_limit}"
        );
        let positive_tests = format!(
            "SELECT t.id FROM test_results t JOIN persons p ON p.id = t.person_id \
             WHERE t.result = 'positive' AND {RESULTED} >= $1 AND {RESULTED} < $2{p_limit}"
        );
        let positive_persons = positive_tests.replacen("t.id", "t.person_id", 1);
        let first_listed = format!(
            "SELECT x.person_id AS person, MIN(x.at) AS at FROM (\
             SELECT person_id, opened_at AS at FROM follow_ups WHERE kind = 'contact' \
             UNION ALL SELECT person_id, traced_at AS at FROM contacts) x \
             WHERE x.person_id IN ({positive_persons}) GROUP BY x.person_id"
        );
        let interviews = format!(
            "SELECT test_id AS test, MIN(reached_at) AS at FROM follow_ups \
             WHERE kind = 'case' AND reached_at IS NOT NULL AND test_id IN ({positive_tests}) \
             GROUP BY test_id"
        );
        let contacts = format!(
            "SELECT c.test_id AS test, c.person_id AS person, \
             (SELECT MIN({NOTIFIED}) FROM follow_ups f WHERE f.kind = 'contact' \
              AND f.person_id = c.person_id AND f.case_id = c.case_id) AS notified, \
             (SELECT MIN(o.created_at) FROM orders o JOIN order_basis_tests b ON b.order_id = o.id \
              WHERE b.test_id = c.test_id AND o.person_id = c.person_id AND o.status <> 'proposed') AS ordered \
             FROM contacts c WHERE c.test_id IN ({positive_tests})"
        );
        // Orders of the period resting on someone else's test ($1, $2, districts).
        let (o_limit, _) = scope::clause("o.district", districts, 3);
        let contact_orders = format!(
            "SELECT o.id, o.starts_at, COALESCE(o.ended_at, o.ends_at) AS end_at FROM orders o \
             WHERE o.status <> 'proposed' AND o.starts_at < $2 AND COALESCE(o.ended_at, o.ends_at) > $1{o_limit} \
             AND EXISTS (SELECT 1 FROM order_basis_tests b JOIN test_results t ON t.id = b.test_id \
                         WHERE b.order_id = o.id AND t.person_id <> o.person_id)"
        );
        let checkins = format!(
            "SELECT p.order_id AS order_id, c.received_at AS at FROM checkins c \
             JOIN prompts p ON p.id = c.prompt_id JOIN orders o ON o.id = p.order_id \
             WHERE c.outcome = 'verified' AND c.received_at >= $1 AND c.received_at < $2{o_limit}"
        );
        let reports = format!(
            "SELECT r.order_id AS order_id, r.received_at AS at FROM symptom_reports r \
             JOIN orders o ON o.id = r.order_id \
             WHERE r.received_at >= $1 AND r.received_at < $2{o_limit}"
        );
        // Notify-tier contacts monitored in the period, and their reports.
        let (f_limit, _) = scope::clause("f.district", districts, 3);
        let monitoring = format!(
            "SELECT f.id, f.informed_at AS starts_at, \
             CASE WHEN f.closed_at IS NOT NULL AND f.closed_at < f.monitor_until \
                  THEN f.closed_at ELSE f.monitor_until END AS end_at \
             FROM follow_ups f WHERE f.monitor_until IS NOT NULL AND f.informed_at IS NOT NULL \
             AND f.informed_at < $2 AND f.monitor_until > $1{f_limit}"
        );
        let monitoring_reports = format!(
            "SELECT r.follow_up_id AS order_id, r.received_at AS at FROM symptom_reports r \
             JOIN follow_ups f ON f.id = r.follow_up_id \
             WHERE r.received_at >= $1 AND r.received_at < $2{f_limit}"
        );
        let prompts = format!(
            "SELECT p.status AS what, COUNT(*) AS n FROM prompts p JOIN orders o ON o.id = p.order_id \
             WHERE p.issued_at >= $1 AND p.issued_at < $2{o_limit} GROUP BY p.status"
        );
        let messages = format!(
            "SELECT m.status AS what, COUNT(*) AS n FROM outbox m JOIN persons p ON p.id = m.person_id \
             WHERE m.created_at >= $1 AND m.created_at < $2{p_limit} GROUP BY m.status"
        );
        // Only the period's end ($1, then the districts).
        let (a_limit, _) = scope::clause("district", districts, 2);
        let alerts = format!(
            "SELECT created_at AS at FROM alerts WHERE status <> 'resolved' AND created_at < $1{a_limit}"
        );

        let mut facts = Facts::default();
        on_pool!(self, pool => {
            macro_rules! rows {
                ($sql:expr, $a:expr, $b:expr) => {{
                    let mut q = sqlx::query($sql).bind($a).bind($b);
                    for v in &values {
                        q = q.bind(v.as_str());
                    }
                    q.fetch_all(pool).await?
                }};
            }
            for r in rows!(&positives, window, hi) {
                facts.positives.push(PositiveFact {
                    person: r.try_get("person")?,
                    test: r.try_get("test")?,
                    resulted_at: at(r.try_get("resulted")?)?,
                    reported_at: at(r.try_get("reported")?)?,
                });
            }
            let mut listed = HashMap::new();
            for r in rows!(&first_listed, window, hi) {
                listed.insert(r.try_get::<String, _>("person")?, at(r.try_get("at")?)?);
            }
            facts.first_listed = listed;
            for r in rows!(&interviews, window, hi) {
                facts.interviews.insert(r.try_get("test")?, at(r.try_get("at")?)?);
            }
            for r in rows!(&contacts, window, hi) {
                facts.contacts.push(ContactFact {
                    test: r.try_get("test")?,
                    person: r.try_get("person")?,
                    notified_at: r.try_get::<Option<i64>, _>("notified")?.map(at).transpose()?,
                    order_issued_at: r.try_get::<Option<i64>, _>("ordered")?.map(at).transpose()?,
                });
            }
            for sql in [&contact_orders, &monitoring] {
                for r in rows!(sql, lo, hi) {
                    facts.contact_periods.push(ContactPeriodFact {
                        key: r.try_get("id")?,
                        starts_at: at(r.try_get("starts_at")?)?,
                        ends_at: at(r.try_get("end_at")?)?,
                    });
                }
            }
            let mut followed = HashSet::new();
            for sql in [&checkins, &reports, &monitoring_reports] {
                for r in rows!(sql, lo, hi) {
                    followed.insert((r.try_get::<String, _>("order_id")?, at(r.try_get("at")?)?.date_naive()));
                }
            }
            facts.followed_up = followed;
            for r in rows!(&prompts, lo, hi) {
                let n: i64 = r.try_get("n")?;
                match r.try_get::<String, _>("what")?.as_str() {
                    "answered" => facts.prompts_answered += n,
                    "missed" => facts.prompts_missed += n,
                    _ => {}
                }
            }
            for r in rows!(&messages, lo, hi) {
                let n: i64 = r.try_get("n")?;
                facts.messages += n;
                if r.try_get::<String, _>("what")? == "failed" {
                    facts.messages_failed += n;
                }
            }
            let mut q = sqlx::query(&alerts).bind(hi);
            for v in &values {
                q = q.bind(v.as_str());
            }
            for r in q.fetch_all(pool).await? {
                facts.open_alerts.push(at(r.try_get("at")?)?);
            }
            Ok::<(), StoreError>(())
        })?;
        Ok(facts)
    }
}
