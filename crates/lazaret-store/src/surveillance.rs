//! Surveillance line lists (`GET /api/v1/exports/cases|contacts`): the
//! cases of a period and the contacts traced from them, a page at a time
//! in a stable order (keyset pagination), so that an export of any size is
//! streamed with bounded memory. Least data: pseudonymous ids, districts,
//! dates, results, tiers, rules and statuses; the queries never read a
//! name, phone, e-mail, address or coordinate.
//!
//! A case's time is its result time: `resulted_at` (when the laboratory
//! released it), else `sampled_at` (results from before migration 0023 or
//! without one). A case is a person's first positive test (the result now
//! in force, revisions applied) whose result time falls in `[from, to)`,
//! counted in the district of the person. Its contacts are the stored
//! contacts of every positive test of the person with a result time in
//! the period (a trace's contacts belong to its test).

use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::contact::{ExposureRule, RiskTier};
use lazaret_core::district::DistrictScope;
use lazaret_core::follow_up::FollowUpStatus;
use lazaret_core::ids::{PersonId, TestId};
use lazaret_core::test_result::TestOutcome;
use serde::Serialize;
use sqlx::Row;

use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::follow_ups::EFFECTIVE_STATUS;
use crate::scope;
use crate::tests_repo::parse_onset;

/// The result time of test alias `t` (ms).
const RESULT_TIME: &str = "COALESCE(t.resulted_at, t.sampled_at)";

/// What an export covers: result times in `[from, to)`, cases whose person
/// is in `districts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveillanceFilter {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub districts: DistrictScope,
}

/// One case of the line list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseLine {
    pub person_id: PersonId,
    pub district: String,
    pub test_id: TestId,
    /// The result now in force (always positive: a case).
    pub result: TestOutcome,
    pub sampled_at: DateTime<Utc>,
    /// When the laboratory released the result, when known.
    pub resulted_at: Option<DateTime<Utc>>,
    /// When the result reached Lazaret (lab results through the API or FHIR).
    pub reported_at: Option<DateTime<Utc>>,
    pub symptom_onset: Option<NaiveDate>,
    /// The result time the period and the order go by (ms).
    pub result_time: DateTime<Utc>,
}

/// Where the next page of cases starts: after this result time and test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseCursor {
    pub result_ms: i64,
    pub test_id: String,
}

impl CaseLine {
    pub fn cursor(&self) -> CaseCursor {
        CaseCursor {
            result_ms: to_ms(self.result_time),
            test_id: self.test_id.to_string(),
        }
    }
}

/// One contact of a case of the line list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactLine {
    pub case_person_id: PersonId,
    pub case_test_id: TestId,
    /// The case's district (the export's filter).
    pub case_district: String,
    /// The case's result time.
    pub case_result_time: DateTime<Utc>,
    pub contact_person_id: PersonId,
    /// The contact's district (`None`: not on record).
    pub contact_district: Option<String>,
    pub tier: RiskTier,
    pub rules: Vec<ExposureRule>,
    /// Where the case met them, for a contact named in an interview
    /// (`household`, `workplace`, …), in the order named; empty otherwise.
    pub settings: Vec<String>,
    pub last_exposure: DateTime<Utc>,
    /// The effective follow-up status (as the follow-up pages show it); `None`
    /// when no follow-up was opened.
    pub follow_up_status: Option<FollowUpStatus>,
}

/// Where the next page of contacts starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactCursor {
    pub result_ms: i64,
    pub test_id: String,
    pub person_id: String,
}

impl ContactLine {
    pub fn cursor(&self) -> ContactCursor {
        ContactCursor {
            result_ms: to_ms(self.case_result_time),
            test_id: self.case_test_id.to_string(),
            person_id: self.contact_person_id.to_string(),
        }
    }
}

/// The settings of the interview evidence of a stored contact.
fn settings_of(evidence: &str) -> Result<Vec<String>, StoreError> {
    let items: Vec<serde_json::Value> =
        serde_json::from_str(evidence).map_err(|e| StoreError::corrupt("contacts", e))?;
    let mut out: Vec<String> = Vec::new();
    for item in &items {
        if item["rule"] == "interview" {
            if let Some(s) = item["setting"].as_str() {
                if !out.iter().any(|o| o == s) {
                    out.push(s.to_owned());
                }
            }
        }
    }
    Ok(out)
}

impl Store {
    /// A page of the cases of `filter` after `after`, by result time then
    /// test id; at most `limit` (fewer: the last page).
    pub async fn surveillance_cases(
        &self,
        filter: &SurveillanceFilter,
        after: Option<&CaseCursor>,
        limit: u32,
    ) -> Result<Vec<CaseLine>, StoreError> {
        // $1 from, $2 to, then the cursor ($3, $4), the districts, the limit.
        let mut next = 3;
        let mut after_sql = String::new();
        if after.is_some() {
            after_sql = format!(" AND ({RESULT_TIME} > $3 OR ({RESULT_TIME} = $3 AND t.id > $4))");
            next = 5;
        }
        let (limit_sql, districts) = scope::clause("p.district", &filter.districts, next);
        let limit_param = next + districts.len();
        let sql = format!(
            "SELECT t.id, t.person_id, p.district, t.result, t.sampled_at, t.resulted_at, \
             t.reported_at, t.symptom_onset, {RESULT_TIME} AS result_time \
             FROM test_results t JOIN persons p ON p.id = t.person_id \
             WHERE t.result = 'positive' AND {RESULT_TIME} >= $1 AND {RESULT_TIME} < $2 \
             AND NOT EXISTS (SELECT 1 FROM test_results e WHERE e.person_id = t.person_id \
               AND e.result = 'positive' AND COALESCE(e.resulted_at, e.sampled_at) >= $1 \
               AND (COALESCE(e.resulted_at, e.sampled_at) < {RESULT_TIME} \
                    OR (COALESCE(e.resulted_at, e.sampled_at) = {RESULT_TIME} AND e.id < t.id)))\
             {after_sql}{limit_sql} \
             ORDER BY result_time, t.id LIMIT ${limit_param}"
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql).bind(to_ms(filter.from)).bind(to_ms(filter.to));
            if let Some(c) = after {
                q = q.bind(c.result_ms).bind(c.test_id.as_str());
            }
            for d in &districts {
                q = q.bind(d.as_str());
            }
            let rows = q.bind(i64::from(limit)).fetch_all(pool).await?;
            let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("test_results", e);
            let opt_ms = |v: Option<i64>| v.map(|ms| from_ms("test_results", ms)).transpose();
            rows.iter()
                .map(|r| {
                    Ok(CaseLine {
                        person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?)
                            .map_err(bad)?,
                        district: r.try_get("district")?,
                        test_id: TestId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
                        result: TestOutcome::parse(r.try_get::<&str, _>("result")?)
                            .map_err(bad)?,
                        sampled_at: from_ms("test_results", r.try_get("sampled_at")?)?,
                        resulted_at: opt_ms(r.try_get("resulted_at")?)?,
                        reported_at: opt_ms(r.try_get("reported_at")?)?,
                        symptom_onset: parse_onset(r.try_get("symptom_onset")?)?,
                        result_time: from_ms("test_results", r.try_get("result_time")?)?,
                    })
                })
                .collect()
        })
    }

    /// A page of the contacts of the cases of `filter` after `after`, by the
    /// case's result time, test id, then the contact's person id.
    pub async fn surveillance_contacts(
        &self,
        filter: &SurveillanceFilter,
        after: Option<&ContactCursor>,
        limit: u32,
    ) -> Result<Vec<ContactLine>, StoreError> {
        let mut next = 3;
        let mut after_sql = String::new();
        if after.is_some() {
            after_sql = format!(
                " AND ({RESULT_TIME} > $3 OR ({RESULT_TIME} = $3 AND (c.test_id > $4 \
                 OR (c.test_id = $4 AND c.person_id > $5))))"
            );
            next = 6;
        }
        let (limit_sql, districts) = scope::clause("p.district", &filter.districts, next);
        let limit_param = next + districts.len();
        let sql = format!(
            "SELECT c.test_id, c.case_id, c.person_id, c.tier, c.rules, c.evidence, \
             c.last_exposure, p.district AS case_district, cp.district AS contact_district, \
             {RESULT_TIME} AS result_time, \
             (SELECT {EFFECTIVE_STATUS} FROM follow_ups f \
              WHERE f.kind = 'contact' AND f.person_id = c.person_id \
              ORDER BY f.closed_at IS NULL DESC, f.opened_at DESC LIMIT 1) AS follow_up_status \
             FROM contacts c JOIN test_results t ON t.id = c.test_id \
             JOIN persons p ON p.id = t.person_id \
             LEFT JOIN persons cp ON cp.id = c.person_id \
             WHERE t.result = 'positive' AND {RESULT_TIME} >= $1 AND {RESULT_TIME} < $2\
             {after_sql}{limit_sql} \
             ORDER BY result_time, c.test_id, c.person_id LIMIT ${limit_param}"
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql).bind(to_ms(filter.from)).bind(to_ms(filter.to));
            if let Some(c) = after {
                q = q
                    .bind(c.result_ms)
                    .bind(c.test_id.as_str())
                    .bind(c.person_id.as_str());
            }
            for d in &districts {
                q = q.bind(d.as_str());
            }
            let rows = q.bind(i64::from(limit)).fetch_all(pool).await?;
            let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("contacts", e);
            rows.iter()
                .map(|r| {
                    let tier = match r.try_get::<&str, _>("tier")? {
                        "close" => RiskTier::Close,
                        "notify" => RiskTier::Notify,
                        other => {
                            return Err(StoreError::corrupt("contacts", format!("tier {other:?}")))
                        }
                    };
                    Ok(ContactLine {
                        case_person_id: PersonId::parse(r.try_get::<&str, _>("case_id")?)
                            .map_err(bad)?,
                        case_test_id: TestId::parse(r.try_get::<&str, _>("test_id")?)
                            .map_err(bad)?,
                        case_district: r.try_get("case_district")?,
                        case_result_time: from_ms("test_results", r.try_get("result_time")?)?,
                        contact_person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?)
                            .map_err(bad)?,
                        contact_district: r.try_get("contact_district")?,
                        tier,
                        rules: serde_json::from_str(r.try_get::<&str, _>("rules")?)
                            .map_err(|e| StoreError::corrupt("contacts", e))?,
                        settings: settings_of(r.try_get::<&str, _>("evidence")?)?,
                        last_exposure: from_ms("contacts", r.try_get("last_exposure")?)?,
                        follow_up_status: r
                            .try_get::<Option<&str>, _>("follow_up_status")?
                            .map(FollowUpStatus::parse)
                            .transpose()
                            .map_err(|e| StoreError::corrupt("follow_ups", e))?,
                    })
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_the_interview_evidence_only() {
        let evidence = r#"[{"rule":"flight-seat","seat":"12A"},
            {"rule":"interview","setting":"household"},
            {"rule":"interview","setting":"social"},
            {"rule":"interview","setting":"household"}]"#;
        assert_eq!(settings_of(evidence).unwrap(), ["household", "social"]);
        assert!(settings_of("[]").unwrap().is_empty());
        assert!(settings_of("{").is_err());
    }
}
