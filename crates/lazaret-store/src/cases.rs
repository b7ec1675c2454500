//! The cases of some districts, newest first: each person whose positive
//! test is in force, with when it was last traced and how many contacts that
//! trace holds (the console's cases list).

use chrono::{DateTime, Utc};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::ids::{PersonId, TestId};
use serde::Serialize;
use sqlx::Row;

use crate::db::{from_ms, on_pool, Store};
use crate::error::StoreError;
use crate::page::{Page, PageRequest};
use crate::scope;

/// One case: the person and the positive test in force (the latest sampled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRow {
    pub person_id: PersonId,
    pub full_name: String,
    pub district: District,
    pub test_id: TestId,
    pub sampled_at: DateTime<Utc>,
    /// When that test was last traced; `None`: not yet.
    pub traced_at: Option<DateTime<Utc>>,
    /// The contacts of that trace, and how many of them are close.
    pub contacts: i64,
    pub close: i64,
}

/// A page's cursor: the last row's `sampled_at` (ms) and person id.
fn cursor_key(r: &CaseRow) -> String {
    format!("{}:{}", r.sampled_at.timestamp_millis(), r.person_id)
}

fn parse_cursor(key: &str) -> Result<(i64, String), StoreError> {
    let (ms, id) = key.split_once(':').ok_or(StoreError::InvalidCursor)?;
    Ok((
        ms.parse().map_err(|_| StoreError::InvalidCursor)?,
        id.to_owned(),
    ))
}

impl Store {
    /// The cases of `districts` (people with a positive test in force whose
    /// person is in one of them), newest test first, a page at a time.
    pub async fn list_cases(
        &self,
        districts: &DistrictScope,
        page: &PageRequest,
    ) -> Result<Page<CaseRow>, StoreError> {
        let limit = page.limit();
        let after = page.after_key()?.map(|k| parse_cursor(&k)).transpose()?;
        let mut next = 1;
        let mut after_sql = String::new();
        if after.is_some() {
            after_sql =
                " AND (t.sampled_at < $1 OR (t.sampled_at = $1 AND t.person_id < $2))".into();
            next = 3;
        }
        let (limit_sql, values) = scope::clause("p.district", districts, next);
        let limit_param = next + values.len();
        let sql = format!(
            "SELECT t.id, t.person_id, t.sampled_at, t.traced_at, p.full_name, p.district, \
             (SELECT COUNT(*) FROM contacts c WHERE c.test_id = t.id) AS n, \
             (SELECT COUNT(*) FROM contacts c WHERE c.test_id = t.id AND c.tier = 'close') AS n_close \
             FROM test_results t JOIN persons p ON p.id = t.person_id \
             WHERE t.result = 'positive' AND NOT EXISTS (SELECT 1 FROM test_results l \
             WHERE l.person_id = t.person_id AND l.result = 'positive' \
             AND (l.sampled_at > t.sampled_at OR (l.sampled_at = t.sampled_at AND l.id > t.id)))\
             {after_sql}{limit_sql} \
             ORDER BY t.sampled_at DESC, t.person_id DESC LIMIT ${limit_param}"
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql);
            if let Some((ms, id)) = &after {
                q = q.bind(*ms).bind(id.as_str());
            }
            for v in &values {
                q = q.bind(v.as_str());
            }
            let rows = q.bind(limit + 1).fetch_all(pool).await?;
            let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("test_results", e);
            let items = rows
                .iter()
                .map(|r| {
                    Ok(CaseRow {
                        person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?,
                        full_name: r.try_get("full_name")?,
                        district: District::parse(r.try_get::<&str, _>("district")?).map_err(bad)?,
                        test_id: TestId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
                        sampled_at: from_ms("test_results", r.try_get("sampled_at")?)?,
                        traced_at: r
                            .try_get::<Option<i64>, _>("traced_at")?
                            .map(|ms| from_ms("test_results", ms))
                            .transpose()?,
                        contacts: r.try_get("n")?,
                        close: r.try_get("n_close")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Page::from_rows(items, limit, cursor_key))
        })
    }
}
