//! Follow-up of cases and contacts: the record of each (status, assignee,
//! due time), the log of call attempts, the contacts a case named in an
//! interview, and the worklists officers work from.
//!
//! A contact's record is opened when a trace lists them (one open record
//! per person, whichever case listed them first; a close listing upgrades a
//! notify-tier one). A case's is opened when its positive test arrives. The
//! stages after the calls are read from the orders, not copied: an open
//! order makes the contact `quarantined`, an order ended since the record
//! opened `released`, so the record never disagrees with the order.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::contact::RiskTier;
use lazaret_core::district::DistrictScope;
use lazaret_core::exposure::{ContactSetting, NamedContact};
use lazaret_core::follow_up::{after_call, CallOutcome, CallPolicy, FollowUpKind, FollowUpStatus};
use lazaret_core::ids::{CallId, FollowUpId, PersonId, TestId};
use serde::Serialize;
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::outbox::{insert_message, NewOutboxMessage};
use crate::page::{Page, PageRequest};
use crate::scope::Where;

/// A case's positive test opens its interview only while it is recent:
/// older results are history, not work.
pub const INTERVIEW_LOOKBACK_DAYS: i64 = 14;

/// The status officers see: the stored one, or the order's stage for a
/// contact whose order is open (`quarantined`) or has ended since the
/// record opened (`released`). `f` is the follow-up's alias.
pub(crate) const EFFECTIVE_STATUS: &str = "CASE \
     WHEN f.kind = 'contact' AND f.status NOT IN ('not_a_contact', 'released') \
          AND EXISTS (SELECT 1 FROM orders o WHERE o.person_id = f.person_id \
                      AND o.status IN ('proposed', 'active')) THEN 'quarantined' \
     WHEN f.kind = 'contact' AND f.status NOT IN ('not_a_contact', 'released') \
          AND EXISTS (SELECT 1 FROM orders o WHERE o.person_id = f.person_id \
                      AND o.status IN ('completed', 'released') AND o.updated_at >= f.opened_at) \
          THEN 'released' \
     ELSE f.status END";

const COLUMNS: &str = "f.id, f.kind, f.person_id, f.case_id, f.test_id, f.tier, f.district, \
     f.status, f.assignee, f.due_at, f.unanswered, f.reached_at, f.informed_at, f.opened_at, \
     f.closed_at, f.monitor_until, p.full_name, p.phone, p.email, p.language";

/// One follow-up record as officers see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowUp {
    pub id: FollowUpId,
    pub kind: FollowUpKind,
    pub person_id: PersonId,
    pub full_name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub case_id: PersonId,
    pub test_id: TestId,
    pub tier: Option<RiskTier>,
    pub district: String,
    /// The effective status (see the module docs).
    pub status: FollowUpStatus,
    pub assignee: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    /// Unanswered calls since the last answered one.
    pub unanswered: u32,
    pub reached_at: Option<DateTime<Utc>>,
    pub informed_at: Option<DateTime<Utc>>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The end of a notify-tier contact's monitoring, once informed.
    pub monitor_until: Option<DateTime<Utc>>,
    /// The person's language, for their messages.
    pub language: String,
}

/// One call attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    pub id: CallId,
    pub at: DateTime<Utc>,
    pub caller: String,
    pub outcome: CallOutcome,
    pub note: Option<String>,
}

/// The worklists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Worklist {
    /// Cases whose interview is due or whose test is not traced yet.
    Interview,
    /// Close contacts to call by the end of the day (UTC).
    ToCall,
    /// Close contacts with no residence on record and no open order: the
    /// order needs a place from an officer.
    NoAddress,
    /// Notify-tier contacts who have not been sent their notice.
    ToInform,
    /// Monitored contacts whose symptoms made them suspected cases: to be
    /// tested.
    Suspected,
}

impl Worklist {
    pub const ALL: [Self; 5] = [
        Self::Interview,
        Self::ToCall,
        Self::NoAddress,
        Self::ToInform,
        Self::Suspected,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Interview => "interview",
            Self::ToCall => "to_call",
            Self::NoAddress => "no_address",
            Self::ToInform => "to_inform",
            Self::Suspected => "suspected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == raw)
    }
}

macro_rules! follow_up_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("follow_ups", e);
        let opt_ms = |v: Option<i64>| v.map(|ms| from_ms("follow_ups", ms)).transpose();
        FollowUp {
            id: FollowUpId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
            kind: FollowUpKind::parse(r.try_get::<&str, _>("kind")?).map_err(bad)?,
            person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?,
            full_name: r.try_get("full_name")?,
            phone: r.try_get("phone")?,
            email: r.try_get("email")?,
            case_id: PersonId::parse(r.try_get::<&str, _>("case_id")?).map_err(bad)?,
            test_id: TestId::parse(r.try_get::<&str, _>("test_id")?).map_err(bad)?,
            tier: match r.try_get::<Option<&str>, _>("tier")? {
                Some("close") => Some(RiskTier::Close),
                Some("notify") => Some(RiskTier::Notify),
                Some(other) => {
                    return Err(StoreError::corrupt("follow_ups", format!("tier {other:?}")))
                }
                None => None,
            },
            district: r.try_get("district")?,
            status: FollowUpStatus::parse(r.try_get::<&str, _>("effective")?).map_err(bad)?,
            assignee: r.try_get("assignee")?,
            due_at: opt_ms(r.try_get("due_at")?)?,
            unanswered: u32::try_from(r.try_get::<i32, _>("unanswered")?)
                .map_err(|e| StoreError::corrupt("follow_ups", e))?,
            reached_at: opt_ms(r.try_get("reached_at")?)?,
            informed_at: opt_ms(r.try_get("informed_at")?)?,
            opened_at: from_ms("follow_ups", r.try_get("opened_at")?)?,
            closed_at: opt_ms(r.try_get("closed_at")?)?,
            monitor_until: opt_ms(r.try_get("monitor_until")?)?,
            language: r.try_get("language")?,
        }
    }};
}

/// Opens the follow-ups of a trace's contacts, inside the trace's
/// transaction: a record for each contact without an open one; a close
/// listing upgrades an open notify-tier record (the person now needs a
/// call, not only a notice). Records whose order has ended are closed
/// first, so a person exposed again gets a new one.
macro_rules! open_contact_follow_ups {
    ($tx:expr, $test:expr, $contacts:expr, $now:expr) => {{
        let (test, contacts, now): (
            &lazaret_core::ids::TestId,
            &[lazaret_core::contact::Contact],
            chrono::DateTime<chrono::Utc>,
        ) = ($test, $contacts, $now);
        for c in contacts {
            let person = c.person_id.as_str();
            sqlx::query(
                "UPDATE follow_ups SET status = 'released', closed_at = $2, updated_at = $2 \
                 WHERE kind = 'contact' AND person_id = $1 AND closed_at IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.person_id = $1 \
                                 AND o.status IN ('proposed', 'active')) \
                 AND EXISTS (SELECT 1 FROM orders o WHERE o.person_id = $1 \
                             AND o.status IN ('completed', 'released') \
                             AND o.updated_at >= follow_ups.opened_at)",
            )
            .bind(person)
            .bind($crate::db::to_ms(now))
            .execute(&mut *$tx)
            .await
            .map_err($crate::error::StoreError::from)?;
            let (status, tier) = match c.tier {
                lazaret_core::contact::RiskTier::Close => ("to_call", "close"),
                lazaret_core::contact::RiskTier::Notify => ("to_inform", "notify"),
            };
            sqlx::query(
                "INSERT INTO follow_ups (id, kind, person_id, case_id, test_id, tier, district, \
                 status, due_at, opened_at, updated_at) \
                 SELECT $1, 'contact', p.id, $2, $3, $4, p.district, $5, $6, $6, $6 \
                 FROM persons p WHERE p.id = $7 \
                 ON CONFLICT DO NOTHING",
            )
            .bind(lazaret_core::ids::FollowUpId::generate().as_str())
            .bind(c.case_id.as_str())
            .bind(test.as_str())
            .bind(tier)
            .bind(status)
            .bind($crate::db::to_ms(now))
            .bind(person)
            .execute(&mut *$tx)
            .await
            .map_err($crate::error::StoreError::from)?;
            if c.tier == lazaret_core::contact::RiskTier::Close {
                sqlx::query(
                    "UPDATE follow_ups SET tier = 'close', due_at = $2, updated_at = $2, \
                     status = CASE WHEN status IN ('to_inform', 'monitored') THEN 'to_call' \
                                   ELSE status END \
                     WHERE kind = 'contact' AND person_id = $1 AND closed_at IS NULL \
                     AND tier = 'notify'",
                )
                .bind(person)
                .bind($crate::db::to_ms(now))
                .execute(&mut *$tx)
                .await
                .map_err($crate::error::StoreError::from)?;
            }
        }
    }};
}
pub(crate) use open_contact_follow_ups;

/// Closes, inside a revision's transaction, the open follow-ups that rest
/// on test `test` (the case's interview, its contacts' calls and
/// monitoring, whose unused forms are withdrawn): with the positive result
/// withdrawn nobody is to be called or monitored about it.
macro_rules! close_follow_ups_of_test {
    ($tx:expr, $test:expr, $now:expr) => {{
        let (test, now): (&lazaret_core::ids::TestId, chrono::DateTime<chrono::Utc>) =
            ($test, $now);
        // A monitored contact's unused forms go with the monitoring.
        sqlx::query(
            "UPDATE symptom_forms SET cancelled_at = $2 \
             WHERE used_at IS NULL AND cancelled_at IS NULL AND follow_up_id IN \
             (SELECT id FROM follow_ups WHERE test_id = $1 AND closed_at IS NULL)",
        )
        .bind(test.as_str())
        .bind($crate::db::to_ms(now))
        .execute(&mut *$tx)
        .await
        .map_err($crate::error::StoreError::from)?;
        sqlx::query(
            "UPDATE follow_ups SET status = 'not_a_contact', closed_at = $2, updated_at = $2, \
             due_at = NULL WHERE test_id = $1 AND closed_at IS NULL",
        )
        .bind(test.as_str())
        .bind($crate::db::to_ms(now))
        .execute(&mut *$tx)
        .await
        .map_err($crate::error::StoreError::from)?
        .rows_affected()
    }};
}
pub(crate) use close_follow_ups_of_test;

impl Store {
    /// Records a contact the case named in an interview (or moves its last
    /// exposure later when named again in the same setting). Takes effect
    /// in the case's next trace, which tiers it by the same rules.
    pub async fn add_named_contact(
        &self,
        case: &PersonId,
        named: &NamedContact,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO named_contacts \
             (case_id, person_id, setting, last_exposure, named_by, named_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (case_id, person_id, setting) DO UPDATE SET \
             last_exposure = CASE WHEN excluded.last_exposure > named_contacts.last_exposure \
                             THEN excluded.last_exposure ELSE named_contacts.last_exposure END, \
             named_by = excluded.named_by, named_at = excluded.named_at";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(SQL)
                .bind(case.as_str())
                .bind(named.person_id.as_str())
                .bind(named.setting.as_str())
                .bind(to_ms(named.last_exposure))
                .bind(&named.named_by)
                .bind(to_ms(now))
                .execute(&mut *tx)
                .await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// The contacts `case` named in interviews.
    pub async fn named_contacts(&self, case: &PersonId) -> Result<Vec<NamedContact>, StoreError> {
        const SQL: &str = "SELECT person_id, setting, last_exposure, named_by \
             FROM named_contacts WHERE case_id = $1 ORDER BY person_id, setting";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(case.as_str()).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("named_contacts", e);
                    Ok(NamedContact {
                        person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?,
                        setting: ContactSetting::parse(r.try_get::<&str, _>("setting")?).map_err(bad)?,
                        last_exposure: from_ms("named_contacts", r.try_get("last_exposure")?)?,
                        named_by: r.try_get("named_by")?,
                    })
                })
                .collect()
        })
    }

    /// Opens the interview of every positive test in force sampled in the
    /// last [`INTERVIEW_LOOKBACK_DAYS`] that has none yet, and stamps when
    /// Lazaret received those tests. Idempotent; called after tests
    /// arrive (import, API, FHIR). Returns how many were opened.
    pub async fn open_case_follow_ups(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let since = to_ms(now - Duration::days(INTERVIEW_LOOKBACK_DAYS));
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE test_results SET reported_at = $2 WHERE result = 'positive' \
                 AND sampled_at >= $1 AND reported_at IS NULL",
            )
            .bind(since)
            .bind(to_ms(now))
            .execute(&mut *tx)
            .await?;
            let candidates = sqlx::query(
                "SELECT t.id, t.person_id FROM test_results t \
                 WHERE t.result = 'positive' AND t.sampled_at >= $1 \
                 AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.test_id = t.id AND f.kind = 'case') \
                 ORDER BY t.sampled_at, t.id",
            )
            .bind(since)
            .fetch_all(&mut *tx)
            .await?;
            let mut opened = 0;
            for r in &candidates {
                opened += sqlx::query(
                    "INSERT INTO follow_ups (id, kind, person_id, case_id, test_id, district, \
                     status, due_at, opened_at, updated_at) \
                     SELECT $1, 'case', p.id, p.id, $2, p.district, 'to_interview', $3, $4, $4 \
                     FROM persons p WHERE p.id = $5 ON CONFLICT DO NOTHING",
                )
                .bind(FollowUpId::generate().as_str())
                .bind(r.try_get::<&str, _>("id")?)
                // Interview within a day of the result: the indicator's target.
                .bind(to_ms(now + Duration::hours(24)))
                .bind(to_ms(now))
                .bind(r.try_get::<&str, _>("person_id")?)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok(opened)
        })
    }

    /// One follow-up, limited to `scope` (another district's is `None`).
    pub async fn get_follow_up(
        &self,
        id: &FollowUpId,
        scope: &DistrictScope,
    ) -> Result<Option<FollowUp>, StoreError> {
        let mut w = Where::default();
        w.bind("f.id = ?", id.as_str()).scope("f.district", scope);
        let sql = format!(
            "SELECT {COLUMNS}, {EFFECTIVE_STATUS} AS effective FROM follow_ups f \
             JOIN persons p ON p.id = f.person_id{}",
            w.sql()
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql);
            for v in &w.values {
                q = q.bind(v);
            }
            match q.fetch_optional(pool).await? {
                Some(r) => Ok(Some(follow_up_from_row!(&r))),
                None => Ok(None),
            }
        })
    }

    /// The latest follow-up of each of `persons` as a contact (open first),
    /// whatever district they live in: the case's investigator sees where
    /// each of its contacts stands.
    pub async fn contact_follow_ups(
        &self,
        persons: &[PersonId],
    ) -> Result<Vec<FollowUp>, StoreError> {
        let mut out = Vec::new();
        for chunk in persons.chunks(500) {
            let sql = format!(
                "SELECT {COLUMNS}, {EFFECTIVE_STATUS} AS effective FROM follow_ups f \
                 JOIN persons p ON p.id = f.person_id \
                 WHERE f.kind = 'contact' AND f.person_id IN ({}) \
                 ORDER BY f.person_id, f.closed_at IS NULL DESC, f.opened_at DESC",
                crate::scope::numbered(chunk.len())
            );
            on_pool!(self, pool => {
                let mut q = sqlx::query(&sql);
                for p in chunk {
                    q = q.bind(p.as_str());
                }
                for r in q.fetch_all(pool).await? {
                    let f = follow_up_from_row!(&r);
                    if out.last().is_none_or(|l: &FollowUp| l.person_id != f.person_id) {
                        out.push(f);
                    }
                }
            });
        }
        Ok(out)
    }

    /// The calls of a follow-up, oldest first.
    pub async fn follow_up_calls(&self, id: &FollowUpId) -> Result<Vec<CallRecord>, StoreError> {
        const SQL: &str = "SELECT id, at, caller, outcome, note FROM follow_up_calls \
             WHERE follow_up_id = $1 ORDER BY at, id";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(id.as_str()).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("follow_up_calls", e);
                    Ok(CallRecord {
                        id: CallId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
                        at: from_ms("follow_up_calls", r.try_get("at")?)?,
                        caller: r.try_get("caller")?,
                        outcome: CallOutcome::parse(r.try_get::<&str, _>("outcome")?).map_err(bad)?,
                        note: r.try_get("note")?,
                    })
                })
                .collect()
        })
    }

    /// Records one call attempt and its consequence for the follow-up, in
    /// one transaction with its audit event. Refused when the follow-up
    /// takes no call in its (effective) status, or when someone else
    /// changed it since it was read (`Stale`: reload and retry).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_call(
        &self,
        id: &FollowUpId,
        scope: &DistrictScope,
        outcome: CallOutcome,
        note: Option<&str>,
        caller: &str,
        policy: &CallPolicy,
        now: DateTime<Utc>,
    ) -> Result<Result<FollowUp, lazaret_core::ValidationError>, StoreError> {
        let Some(f) = self.get_follow_up(id, scope).await? else {
            return Err(StoreError::NotFound {
                entity: "follow-up",
                id: id.to_string(),
            });
        };
        let next = match after_call(f.kind, f.status, f.unanswered, outcome, now, policy) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        let closes = next.status.is_closed();
        let audit = AuditRecord {
            at: now,
            actor: caller.to_owned(),
            action: "follow_up.call".into(),
            subject_type: "person".into(),
            subject_id: f.person_id.to_string(),
            details: serde_json::json!({
                "follow_up": f.id,
                "outcome": outcome.as_str(),
                "status": next.status.as_str(),
            })
            .to_string(),
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // Guarded by what was read: a concurrent call changes status or count.
            let done = sqlx::query(
                "UPDATE follow_ups SET status = $1, unanswered = $2, due_at = $3, \
                 reached_at = CASE WHEN $4 THEN $5 ELSE reached_at END, \
                 closed_at = CASE WHEN $6 THEN $5 ELSE closed_at END, updated_at = $5 \
                 WHERE id = $7 AND unanswered = $8 AND closed_at IS NULL",
            )
            .bind(next.status.as_str())
            .bind(i32::try_from(next.unanswered).unwrap_or(i32::MAX))
            .bind(next.next_due.map(to_ms))
            .bind(outcome == CallOutcome::Reached && f.reached_at.is_none())
            .bind(to_ms(now))
            .bind(closes)
            .bind(f.id.as_str())
            .bind(i32::try_from(f.unanswered).unwrap_or(i32::MAX))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(StoreError::Stale { entity: "follow-up", id: f.id.to_string() });
            }
            sqlx::query(
                "INSERT INTO follow_up_calls (id, follow_up_id, at, caller, outcome, note) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(CallId::generate().as_str())
            .bind(f.id.as_str())
            .bind(to_ms(now))
            .bind(caller)
            .bind(outcome.as_str())
            .bind(note)
            .execute(&mut *tx)
            .await?;
            append_audit!(self, tx, &audit);
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        let updated = self
            .get_follow_up(id, scope)
            .await?
            .ok_or(StoreError::NotFound {
                entity: "follow-up",
                id: id.to_string(),
            })?;
        Ok(Ok(updated))
    }

    /// Assigns a follow-up to `assignee` (`None`: back to the pool).
    pub async fn assign_follow_up(
        &self,
        id: &FollowUpId,
        scope: &DistrictScope,
        assignee: Option<&str>,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<FollowUp, StoreError> {
        let not_found = || StoreError::NotFound {
            entity: "follow-up",
            id: id.to_string(),
        };
        self.get_follow_up(id, scope).await?.ok_or_else(not_found)?;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE follow_ups SET assignee = $1, updated_at = $2 WHERE id = $3")
                .bind(assignee)
                .bind(to_ms(now))
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        self.get_follow_up(id, scope).await?.ok_or_else(not_found)
    }

    /// A worklist of `scope`, most urgent first (due time, then id), a page
    /// at a time.
    pub async fn worklist(
        &self,
        list: Worklist,
        scope: &DistrictScope,
        now: DateTime<Utc>,
        page: &PageRequest,
    ) -> Result<Page<FollowUp>, StoreError> {
        let mut w = Where::default();
        w.scope("f.district", scope).raw("f.closed_at IS NULL");
        let end_of_day = now
            .date_naive()
            .succ_opt()
            .unwrap_or(now.date_naive())
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc();
        match list {
            Worklist::Interview => {
                w.raw("f.kind = 'case'").raw(
                    "(f.status = 'to_interview' OR EXISTS (SELECT 1 FROM test_results t \
                     WHERE t.id = f.test_id AND t.result = 'positive' AND t.traced_at IS NULL))",
                );
            }
            Worklist::ToCall => {
                // A number computed here, not input: inlined, as `Where` binds text.
                w.raw("f.kind = 'contact' AND f.status = 'to_call'")
                    .raw(format!("f.due_at < {}", to_ms(end_of_day)));
            }
            Worklist::NoAddress => {
                w.raw(
                    "f.kind = 'contact' AND f.tier = 'close' \
                     AND f.status NOT IN ('refused', 'not_a_contact') \
                     AND NOT EXISTS (SELECT 1 FROM residences r WHERE r.person_id = f.person_id) \
                     AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.person_id = f.person_id \
                                     AND o.status IN ('proposed', 'active'))",
                );
            }
            Worklist::ToInform => {
                w.raw("f.kind = 'contact' AND f.status = 'to_inform'");
            }
            Worklist::Suspected => {
                w.raw("f.kind = 'contact' AND f.status = 'suspected'");
            }
        }
        // Cursor: due time (NULL last) then id, as one sortable text key.
        const KEY: &str = "(COALESCE(f.due_at, 99999999999999) || ':' || f.id)";
        if let Some(c) = &page.cursor {
            w.bind(&format!("{KEY} > ?"), c.clone());
        }
        let limit = page.limit();
        let sql = format!(
            "SELECT {COLUMNS}, {EFFECTIVE_STATUS} AS effective FROM follow_ups f \
             JOIN persons p ON p.id = f.person_id{} ORDER BY {KEY} LIMIT {}",
            w.sql(),
            limit + 1
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql);
            for v in &w.values {
                q = q.bind(v);
            }
            let rows = q.fetch_all(pool).await?;
            let items = rows
                .iter()
                .map(|r| Ok(follow_up_from_row!(r)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Page::from_rows(items, limit, |f| {
                format!(
                    "{}:{}",
                    f.due_at.map_or(99_999_999_999_999, to_ms),
                    f.id
                )
            }))
        })
    }

    /// Marks a notify-tier contact informed (their exposure notice, if
    /// they have a channel, stored with it) and monitored until
    /// `monitor_until`, in one transaction. False (nothing written) when
    /// the follow-up is no longer waiting for its notice.
    pub async fn inform_contact(
        &self,
        id: &FollowUpId,
        monitor_until: DateTime<Utc>,
        message: Option<&NewOutboxMessage>,
        audit: &AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(
                "UPDATE follow_ups SET status = 'monitored', informed_at = $1, monitor_until = $2, \
                 due_at = NULL, updated_at = $1 \
                 WHERE id = $3 AND status = 'to_inform' AND closed_at IS NULL",
            )
            .bind(to_ms(now))
            .bind(to_ms(monitor_until))
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok(false);
            }
            if let Some(m) = message {
                // A notice sent before for this follow-up stays the only one.
                let _new = insert_message!(self, tx, m);
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The contacts being monitored at `now` (informed, monitoring not
    /// over), whatever their district: the worker sends their daily form.
    pub async fn monitored_contacts(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<FollowUp>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS}, {EFFECTIVE_STATUS} AS effective FROM follow_ups f \
             JOIN persons p ON p.id = f.person_id \
             WHERE f.status = 'monitored' AND f.closed_at IS NULL AND f.monitor_until > $1 \
             ORDER BY f.monitor_until, f.id"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(to_ms(now)).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(follow_up_from_row!(r))).collect()
        })
    }

    /// Ends the monitoring periods over at `now`: each follow-up
    /// `released` and closed, its unused forms withdrawn, an audit event
    /// each. The count ended.
    pub async fn end_monitoring(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        on_pool!(self, pool => {
            let ids: Vec<(String, String)> = sqlx::query(
                "SELECT id, person_id FROM follow_ups WHERE status = 'monitored' \
                 AND closed_at IS NULL AND monitor_until <= $1",
            )
            .bind(to_ms(now))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("person_id")?)))
            .collect::<Result<_, StoreError>>()?;
            let mut ended = 0;
            for (id, person) in ids {
                let mut tx = pool.begin_write().await?;
                let n = sqlx::query(
                    "UPDATE follow_ups SET status = 'released', closed_at = $1, updated_at = $1 \
                     WHERE id = $2 AND status = 'monitored' AND closed_at IS NULL",
                )
                .bind(to_ms(now))
                .bind(&id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    continue;
                }
                sqlx::query(
                    "UPDATE symptom_forms SET cancelled_at = $1 \
                     WHERE follow_up_id = $2 AND used_at IS NULL AND cancelled_at IS NULL",
                )
                .bind(to_ms(now))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                let audit = AuditRecord {
                    at: now,
                    actor: "system".into(),
                    action: "follow_up.monitoring_end".into(),
                    subject_type: "person".into(),
                    subject_id: person,
                    details: format!("follow_up={id}"),
                };
                append_audit!(self, tx, &audit);
                tx.commit().await?;
                ended += 1;
            }
            Ok(ended)
        })
    }

    /// Makes a monitored (or reached, or released) contact a suspected
    /// case. `Ok(Err(_))` when their follow-up is in no such state.
    pub async fn mark_suspected(
        &self,
        id: &FollowUpId,
        scope: &DistrictScope,
        audit: &AuditRecord,
        now: DateTime<Utc>,
    ) -> Result<Result<FollowUp, lazaret_core::ValidationError>, StoreError> {
        let not_found = || StoreError::NotFound {
            entity: "follow-up",
            id: id.to_string(),
        };
        let f = self.get_follow_up(id, scope).await?.ok_or_else(not_found)?;
        if f.kind != FollowUpKind::Contact
            || !matches!(
                f.status,
                FollowUpStatus::Monitored | FollowUpStatus::Reached | FollowUpStatus::Released
            )
        {
            return Ok(Err(lazaret_core::ValidationError::new(
                "status",
                format!(
                    "the follow-up is {}: only a monitored or reached contact becomes a suspected case",
                    f.status.as_str()
                ),
            )));
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            // Reopened if the monitoring had ended: the person is work again.
            sqlx::query(
                "UPDATE follow_ups SET status = 'suspected', closed_at = NULL, due_at = $1, \
                 updated_at = $1 WHERE id = $2",
            )
            .bind(to_ms(now))
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::on_insert(e, "open follow-up of", f.person_id.as_str()))?;
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(Ok(self
            .get_follow_up(id, scope)
            .await?
            .ok_or_else(not_found)?))
    }

    /// The notify-tier contacts of case `case` in `scope` still waiting
    /// for their exposure notice.
    pub async fn to_inform_of_case(
        &self,
        case: &PersonId,
        scope: &DistrictScope,
    ) -> Result<Vec<FollowUp>, StoreError> {
        let mut w = Where::default();
        w.scope("f.district", scope)
            .raw("f.closed_at IS NULL AND f.kind = 'contact' AND f.status = 'to_inform'")
            .bind("f.case_id = ?", case.as_str().to_owned());
        let sql = format!(
            "SELECT {COLUMNS}, {EFFECTIVE_STATUS} AS effective FROM follow_ups f \
             JOIN persons p ON p.id = f.person_id{} ORDER BY f.id",
            w.sql()
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql);
            for v in &w.values {
                q = q.bind(v);
            }
            let rows = q.fetch_all(pool).await?;
            rows.iter().map(|r| Ok(follow_up_from_row!(r))).collect()
        })
    }
}
