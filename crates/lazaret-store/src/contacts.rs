//! Tracing a case and keeping its contacts: the stored contact list of each
//! positive test, the generation bookkeeping and the graph chains are built
//! from.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::chains::{CaseNode, ContactEdge};
use lazaret_core::contact::{Contact, ExposureRule, RiskTier};
use lazaret_core::district::DistrictScope;
use lazaret_core::exposure_rules::{day_zero, find_contacts, infectious_window, Window};
use lazaret_core::ids::{PersonId, TestId};
use lazaret_core::test_result::TestResult;
use lazaret_core::tracing_policy::TracingPolicy;
use serde::Serialize;
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::scope;
use crate::tests_repo::parse_onset;

/// What tracing one case found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceOutcome {
    pub case_id: PersonId,
    /// The positive test traced from; `None` when there is none in force.
    pub test: Option<TestResult>,
    pub window: Option<Window>,
    pub contacts: Vec<Contact>,
    /// Why there are no contacts, when there is no test to trace from.
    pub reason: Option<String>,
}

/// Rows per multi-row insert: well under both backends' parameter limits.
const CONTACT_BATCH: usize = 500;

pub(crate) fn tier_str(t: RiskTier) -> &'static str {
    t.as_str()
}

fn parse_tier(s: &str) -> Result<RiskTier, StoreError> {
    match s {
        "close" => Ok(RiskTier::Close),
        "notify" => Ok(RiskTier::Notify),
        other => Err(StoreError::corrupt("contacts", format!("tier {other:?}"))),
    }
}

macro_rules! contact_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("contacts", e);
        let json = |e: serde_json::Error| StoreError::corrupt("contacts", e);
        Contact {
            person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?,
            case_id: PersonId::parse(r.try_get::<&str, _>("case_id")?).map_err(bad)?,
            tier: parse_tier(r.try_get::<&str, _>("tier")?)?,
            rules: serde_json::from_str::<Vec<ExposureRule>>(r.try_get::<&str, _>("rules")?)
                .map_err(json)?,
            evidence: serde_json::from_str(r.try_get::<&str, _>("evidence")?).map_err(json)?,
            last_exposure: from_ms("contacts", r.try_get("last_exposure")?)?,
            generation: u32::try_from(r.try_get::<i64, _>("generation")?)
                .map_err(|e| StoreError::corrupt("contacts", e))?,
        }
    }};
}

impl Store {
    /// Traces `case` from its positive test in force under `policy`, stores
    /// the contacts (replacing an earlier trace of the same test) and audits
    /// it. With no positive test the outcome is empty and says why.
    pub async fn trace_case(
        &self,
        case: &PersonId,
        policy: &TracingPolicy,
        now: DateTime<Utc>,
        actor: &str,
    ) -> Result<TraceOutcome, StoreError> {
        let outcome = self.compute_trace(case, policy).await?;
        let Some(test) = &outcome.test else {
            return Ok(outcome);
        };
        let contacts = &outcome.contacts;
        let close = contacts
            .iter()
            .filter(|c| c.tier == RiskTier::Close)
            .count();
        let audit = AuditRecord {
            at: now,
            actor: actor.to_owned(),
            action: "contacts.trace".into(),
            subject_type: "person".into(),
            subject_id: case.to_string(),
            details: serde_json::json!({
                "test_id": test.id,
                "contacts": contacts.len(),
                "close": close,
            })
            .to_string(),
        };
        self.replace_contacts(&test.id, contacts, now, &audit)
            .await?;
        Ok(outcome)
    }

    /// The trace of `case` as `trace_case` would store it, computed from
    /// the stored exposures without writing anything: no contacts replaced,
    /// no audit event (nobody has looked at personal data in a way an
    /// officer acts on). For benchmarks and what-if runs on live data.
    pub async fn compute_trace(
        &self,
        case: &PersonId,
        policy: &TracingPolicy,
    ) -> Result<TraceOutcome, StoreError> {
        let Some(test) = self.current_positive_test(case).await? else {
            return Ok(TraceOutcome {
                case_id: case.clone(),
                test: None,
                window: None,
                contacts: Vec::new(),
                reason: Some("no positive test in force for this person".into()),
            });
        };
        let window = infectious_window(&test, &policy.window);
        let generation = self.case_generation(case, &test).await? + 1;
        let mut exposures = self.case_exposures(case, &window).await?;
        exposures.named = self.named_contacts(case).await?;
        let contacts = find_contacts(case, &window, &exposures, policy, generation);
        Ok(TraceOutcome {
            case_id: case.clone(),
            test: Some(test),
            window: Some(window),
            contacts,
            reason: None,
        })
    }

    /// Generation of `case` itself: 0 for an index case, else the lowest
    /// generation at which an earlier case (by d0, then id) listed it.
    async fn case_generation(&self, case: &PersonId, test: &TestResult) -> Result<u32, StoreError> {
        const SQL: &str = "SELECT c.case_id, c.generation, t.sampled_at, t.symptom_onset \
             FROM contacts c JOIN test_results t ON t.id = c.test_id \
             WHERE c.person_id = $1 AND t.result = 'positive'";
        let mine = (day_zero(test), case.as_str().to_owned());
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(case.as_str()).fetch_all(pool).await?;
            let mut best: Option<u32> = None;
            for r in &rows {
                let case_id: String = r.try_get("case_id")?;
                let d0 = match parse_onset(r.try_get("symptom_onset")?)? {
                    Some(d) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
                    None => from_ms("test_results", r.try_get("sampled_at")?)?,
                };
                if (d0, case_id) < mine {
                    let g = u32::try_from(r.try_get::<i64, _>("generation")?)
                        .map_err(|e| StoreError::corrupt("contacts", e))?;
                    best = Some(best.map_or(g, |b| b.min(g)));
                }
            }
            Ok(best.unwrap_or(0))
        })
    }

    /// Replaces the stored contacts of `test` in one transaction.
    pub async fn replace_contacts(
        &self,
        test: &TestId,
        contacts: &[Contact],
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM contacts WHERE test_id = $1")
                .bind(test.as_str())
                .execute(&mut *tx)
                .await?;
            for chunk in contacts.chunks(CONTACT_BATCH) {
                let mut sql = String::from(
                    "INSERT INTO contacts (test_id, case_id, person_id, tier, rules, evidence, \
                     last_exposure, generation, traced_at) VALUES ",
                );
                for i in 0..chunk.len() {
                    let b = 3 + i * 6;
                    if i > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!(
                        "($1, $2, ${}, ${}, ${}, ${}, ${}, ${}, $3)",
                        b + 1, b + 2, b + 3, b + 4, b + 5, b + 6
                    ));
                }
                let case_id = chunk[0].case_id.as_str();
                let mut q = sqlx::query(&sql).bind(test.as_str()).bind(case_id).bind(to_ms(now));
                for c in chunk {
                    q = q
                        .bind(c.person_id.as_str())
                        .bind(tier_str(c.tier))
                        .bind(serde_json::to_string(&c.rules).expect("rules serialise"))
                        .bind(serde_json::to_string(&c.evidence).expect("evidence serialises"))
                        .bind(to_ms(c.last_exposure))
                        .bind(i64::from(c.generation));
                }
                q.execute(&mut *tx).await?;
            }
            crate::follow_ups::open_contact_follow_ups!(tx, test, contacts, now);
            // Traced, even when nothing was found (the cases list shows it).
            sqlx::query("UPDATE test_results SET traced_at = $1 WHERE id = $2")
                .bind(to_ms(now))
                .bind(test.as_str())
                .execute(&mut *tx)
                .await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// The stored contacts of one test, by person id.
    pub async fn contacts_of_test(&self, test: &TestId) -> Result<Vec<Contact>, StoreError> {
        const SQL: &str =
            "SELECT case_id, person_id, tier, rules, evidence, last_exposure, generation \
             FROM contacts WHERE test_id = $1 ORDER BY person_id";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(test.as_str()).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(contact_from_row!(r))).collect()
        })
    }

    /// The cases (people with a positive test in force, at their earliest
    /// d0) and every stored contact edge: the input of chain building.
    pub async fn chain_graph(&self) -> Result<(Vec<CaseNode>, Vec<ContactEdge>), StoreError> {
        self.chain_graph_in(&DistrictScope::All).await
    }

    /// [`Store::chain_graph`] for the cases of `districts` and their edges
    /// (a contact living elsewhere still shows, by id, in the chain).
    pub async fn chain_graph_in(
        &self,
        districts: &DistrictScope,
    ) -> Result<(Vec<CaseNode>, Vec<ContactEdge>), StoreError> {
        let (limit, values) = scope::clause("district", districts, 1);
        let (cases_sql, edges_sql) = if limit.is_empty() {
            (
                "SELECT person_id, sampled_at, symptom_onset FROM test_results WHERE result = 'positive'"
                    .to_owned(),
                "SELECT case_id, person_id, tier FROM contacts".to_owned(),
            )
        } else {
            let ours = format!("SELECT id FROM persons WHERE district IS NOT NULL{limit}");
            (
                format!(
                    "SELECT person_id, sampled_at, symptom_onset FROM test_results \
                     WHERE result = 'positive' AND person_id IN ({ours})"
                ),
                format!("SELECT case_id, person_id, tier FROM contacts WHERE case_id IN ({ours})"),
            )
        };
        on_pool!(self, pool => {
            let mut d0s: HashMap<String, DateTime<Utc>> = HashMap::new();
            let mut q = sqlx::query(&cases_sql);
            for v in &values {
                q = q.bind(v.as_str());
            }
            for r in q.fetch_all(pool).await? {
                let d0 = match parse_onset(r.try_get("symptom_onset")?)? {
                    Some(d) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
                    None => from_ms("test_results", r.try_get("sampled_at")?)?,
                };
                let p: String = r.try_get("person_id")?;
                d0s.entry(p).and_modify(|x| *x = (*x).min(d0)).or_insert(d0);
            }
            let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("contacts", e);
            let cases = d0s
                .into_iter()
                .map(|(p, day_zero)| Ok(CaseNode { person_id: PersonId::try_from(p).map_err(bad)?, day_zero }))
                .collect::<Result<Vec<_>, StoreError>>()?;
            let mut q = sqlx::query(&edges_sql);
            for v in &values {
                q = q.bind(v.as_str());
            }
            let rows = q.fetch_all(pool).await?;
            let mut edges = Vec::with_capacity(rows.len());
            for r in &rows {
                edges.push(ContactEdge {
                    case_id: PersonId::parse(r.try_get::<&str, _>("case_id")?).map_err(bad)?,
                    contact_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?,
                    tier: parse_tier(r.try_get::<&str, _>("tier")?)?,
                });
            }
            Ok((cases, edges))
        })
    }
}
