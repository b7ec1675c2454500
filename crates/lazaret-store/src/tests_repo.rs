//! Laboratory test results: stored with their full revision history.

use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::{PersonId, TestId};
use lazaret_core::test_result::{TestOutcome, TestResult, TestRevision};
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;

pub(crate) const TEST_COLUMNS: &str =
    "id, person_id, sampled_at, result, lab, symptom_onset, revisions";

macro_rules! test_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("test_results", e);
        let revisions: Vec<TestRevision> = serde_json::from_str(r.try_get::<&str, _>("revisions")?)
            .map_err(|e| StoreError::corrupt("test_results", e))?;
        TestResult {
            id: TestId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
            person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?,
            sampled_at: from_ms("test_results", r.try_get("sampled_at")?)?,
            result: TestOutcome::parse(r.try_get::<&str, _>("result")?).map_err(bad)?,
            lab: r.try_get("lab")?,
            symptom_onset: parse_onset(r.try_get("symptom_onset")?)?,
            revisions,
        }
    }};
}

pub(crate) fn parse_onset(raw: Option<&str>) -> Result<Option<NaiveDate>, StoreError> {
    raw.map(|s| {
        s.parse::<NaiveDate>()
            .map_err(|e| StoreError::corrupt("test_results", e))
    })
    .transpose()
}

pub(crate) fn onset_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

pub(crate) fn revisions_json(t: &TestResult) -> String {
    serde_json::to_string(&t.revisions).expect("revisions serialise")
}

impl Store {
    /// Stores a test result, replacing an unrevised one with the same id.
    /// A revised result is never overwritten (its history would be lost).
    pub async fn upsert_test_result(
        &self,
        t: &TestResult,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO test_results \
             (id, person_id, sampled_at, result, lab, symptom_onset, revisions, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET person_id = excluded.person_id, \
             sampled_at = excluded.sampled_at, result = excluded.result, lab = excluded.lab, \
             symptom_onset = excluded.symptom_onset, updated_at = excluded.updated_at \
             WHERE test_results.revisions = '[]'";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(SQL)
                .bind(t.id.as_str())
                .bind(t.person_id.as_str())
                .bind(to_ms(t.sampled_at))
                .bind(t.result.as_str())
                .bind(&t.lab)
                .bind(onset_text(t.symptom_onset))
                .bind(revisions_json(t))
                .bind(to_ms(now))
                .execute(&mut *tx)
                .await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Stores a result a laboratory reported (API or FHIR) unless one with
    /// its id exists: `false` then, and nothing is written. Keeps when the
    /// lab released it (`resulted_at`) and when it reached Lazaret (`now`):
    /// the indicators count from them.
    pub async fn record_lab_result(
        &self,
        t: &TestResult,
        resulted_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "INSERT INTO test_results \
             (id, person_id, sampled_at, result, lab, symptom_onset, revisions, updated_at, \
              resulted_at, reported_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8) ON CONFLICT (id) DO NOTHING";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let created = sqlx::query(SQL)
                .bind(t.id.as_str())
                .bind(t.person_id.as_str())
                .bind(to_ms(t.sampled_at))
                .bind(t.result.as_str())
                .bind(&t.lab)
                .bind(onset_text(t.symptom_onset))
                .bind(revisions_json(t))
                .bind(to_ms(now))
                .bind(resulted_at.map(to_ms))
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if created {
                append_audit!(self, tx, audit);
            }
            tx.commit().await?;
            Ok(created)
        })
    }

    pub async fn get_test_result(&self, id: &TestId) -> Result<Option<TestResult>, StoreError> {
        let sql = format!("SELECT {TEST_COLUMNS} FROM test_results WHERE id = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(pool).await?;
            Ok(match row {
                Some(r) => Some(test_from_row!(&r)),
                None => None,
            })
        })
    }

    /// The person's positive test now in force: the latest sampled one whose
    /// current (possibly revised) result is positive.
    pub async fn current_positive_test(
        &self,
        person: &PersonId,
    ) -> Result<Option<TestResult>, StoreError> {
        let sql = format!(
            "SELECT {TEST_COLUMNS} FROM test_results WHERE person_id = $1 AND result = 'positive' \
             ORDER BY sampled_at DESC, id DESC LIMIT 1"
        );
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(person.as_str()).fetch_optional(pool).await?;
            Ok(match row {
                Some(r) => Some(test_from_row!(&r)),
                None => None,
            })
        })
    }

    /// The tests of `person`, newest sampled first, with their revisions.
    pub async fn tests_of_person(&self, person: &PersonId) -> Result<Vec<TestResult>, StoreError> {
        let sql = format!(
            "SELECT {TEST_COLUMNS} FROM test_results WHERE person_id = $1 \
             ORDER BY sampled_at DESC, id DESC"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(person.as_str()).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(test_from_row!(r))).collect()
        })
    }

    /// When test `id` was last traced (`None`: never, or revised since).
    pub async fn test_traced_at(&self, id: &TestId) -> Result<Option<DateTime<Utc>>, StoreError> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT traced_at FROM test_results WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?;
            match row.map(|r| r.try_get::<Option<i64>, _>("traced_at")).transpose()?.flatten() {
                Some(ms) => Ok(Some(from_ms("test_results", ms)?)),
                None => Ok(None),
            }
        })
    }

    /// Every test whose current result is positive (the cases, for chains).
    pub async fn positive_tests(&self) -> Result<Vec<TestResult>, StoreError> {
        let sql = format!("SELECT {TEST_COLUMNS} FROM test_results WHERE result = 'positive'");
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(test_from_row!(r))).collect()
        })
    }
}
