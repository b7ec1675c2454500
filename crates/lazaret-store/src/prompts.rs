//! Check-in prompts and the check-ins that answer them.
//!
//! A prompt's token is stored only as a hash. Each try inside the window is
//! reserved (attempt counter, check-in row keyed by the client's request
//! key) before the slow face work and finished afterwards, so a retried
//! request finds its stored result instead of spending another try.

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::challenge::Challenge;
use lazaret_core::checkin::{CheckinOutcome, PromptStatus, MAX_ATTEMPTS};
use lazaret_core::ids::{CheckinId, OrderId, PromptId};
use lazaret_core::order::QuarantineOrder;
use sqlx::Row;

use crate::alerts::{insert_alert, NewAlert};
use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::enrollments::EnrollmentRecord;
use crate::error::StoreError;
use crate::jobs::{insert_job, NewJob};
use crate::outbox::{insert_message, NewOutboxMessage};

#[derive(Debug, Clone, PartialEq)]
pub struct PromptRecord {
    pub id: PromptId,
    pub order_id: OrderId,
    pub slot: String,
    pub token_hash: String,
    pub issued_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// The liveness challenge (None when liveness is off); stored as its JSON.
    pub challenge: Option<Challenge>,
    pub status: PromptStatus,
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckinRecord {
    pub id: CheckinId,
    pub prompt_id: PromptId,
    pub request_key: String,
    pub attempt: u32,
    pub received_at: DateTime<Utc>,
    /// None while its verification is still running.
    pub outcome: Option<CheckinOutcome>,
    pub evidence: serde_json::Value,
}

/// The resolution of one try, as [`Store::finish_checkin`] records it in one
/// transaction.
#[derive(Debug, Clone)]
pub struct CheckinFinish {
    pub outcome: CheckinOutcome,
    pub evidence: serde_json::Value,
    /// Moves the prompt out of `open`: answered, or missed after the final
    /// failed try.
    pub close: Option<PromptStatus>,
    /// An alert for an officer, opened in the same transaction.
    pub alert: Option<NewAlert>,
    /// The welfare-check alert when this miss completes the order's run of
    /// misses (`lazaret_core::checkin::WelfareRule`), opened in the same
    /// transaction so that a crash cannot lose it.
    pub escalation: Option<NewAlert>,
}

/// Everything a check-in answering one prompt is decided on, read by
/// [`Store::checkin_context`].
#[derive(Debug, Clone)]
pub struct CheckinContext {
    pub prompt: PromptRecord,
    /// The order the prompt belongs to (None only if it was deleted).
    pub order: Option<QuarantineOrder>,
    /// The face enrolled for the order, if any.
    pub enrollment: Option<EnrollmentRecord>,
    /// The try already made with this request key: a retried upload gets it
    /// back instead of spending another try.
    pub existing: Option<CheckinRecord>,
    /// The order's earlier answered or missed prompts, newest first (as many
    /// as the welfare rule looks at).
    pub earlier_decided: Vec<PromptRecord>,
}

/// What reserving a try found.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckinStart {
    /// A new try, number `attempt`; finish it with [`Store::finish_checkin`].
    Started { checkin_id: CheckinId, attempt: u32 },
    /// This request key was seen before: its stored result.
    Existing(CheckinRecord),
    /// The prompt no longer takes check-ins.
    Closed(PromptStatus),
    /// All tries of the window are used.
    NoTriesLeft,
}

pub fn prompt_status_str(s: PromptStatus) -> &'static str {
    match s {
        PromptStatus::Open => "open",
        PromptStatus::Answered => "answered",
        PromptStatus::Missed => "missed",
        PromptStatus::Cancelled => "cancelled",
        PromptStatus::NotDelivered => "not_delivered",
    }
}

fn parse_prompt_status(s: &str) -> Result<PromptStatus, StoreError> {
    Ok(match s {
        "open" => PromptStatus::Open,
        "answered" => PromptStatus::Answered,
        "missed" => PromptStatus::Missed,
        "cancelled" => PromptStatus::Cancelled,
        "not_delivered" => PromptStatus::NotDelivered,
        other => return Err(StoreError::corrupt("prompts", format!("status {other}"))),
    })
}

pub(crate) fn parse_outcome(s: &str) -> Result<CheckinOutcome, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StoreError::corrupt("checkins", format!("outcome {s}")))
}

const PROMPT_COLUMNS: &str =
    "id, order_id, slot, token_hash, issued_at, deadline, challenge, status, attempts";

macro_rules! prompt_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("prompts", e);
        PromptRecord {
            id: PromptId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
            order_id: OrderId::parse(r.try_get::<&str, _>("order_id")?).map_err(bad)?,
            slot: r.try_get("slot")?,
            token_hash: r.try_get("token_hash")?,
            issued_at: from_ms("prompts", r.try_get("issued_at")?)?,
            deadline: from_ms("prompts", r.try_get("deadline")?)?,
            challenge: r
                .try_get::<Option<&str>, _>("challenge")?
                .map(serde_json::from_str::<Challenge>)
                .transpose()
                .map_err(|e| StoreError::corrupt("prompts", format!("challenge: {e}")))?,
            status: parse_prompt_status(r.try_get::<&str, _>("status")?)?,
            attempts: r.try_get::<i32, _>("attempts")?.max(0) as u32,
        }
    }};
}

const CHECKIN_COLUMNS: &str = "id, prompt_id, request_key, attempt, received_at, outcome, evidence";

macro_rules! checkin_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("checkins", e);
        CheckinRecord {
            id: CheckinId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
            prompt_id: PromptId::parse(r.try_get::<&str, _>("prompt_id")?).map_err(bad)?,
            request_key: r.try_get("request_key")?,
            attempt: r.try_get::<i32, _>("attempt")?.max(0) as u32,
            received_at: from_ms("checkins", r.try_get("received_at")?)?,
            outcome: r
                .try_get::<Option<&str>, _>("outcome")?
                .map(parse_outcome)
                .transpose()?,
            evidence: serde_json::from_str(r.try_get::<&str, _>("evidence")?)
                .map_err(|e| StoreError::corrupt("checkins", e))?,
        }
    }};
}

impl Store {
    /// Issues a prompt in one transaction: the prompt, the job that closes
    /// it at its deadline, the outbox message that announces it (with its
    /// delivery job) and the audit events. Nothing is written if the order
    /// already has a prompt in the same slot (false) or if any part fails,
    /// so no prompt is ever left without its deadline or its message.
    /// `message` is `None` only where nobody announces (an officer's prompt
    /// relayed by hand).
    pub async fn issue_prompt(
        &self,
        p: &PromptRecord,
        deadline_job: &NewJob,
        message: Option<&NewOutboxMessage>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO prompts ({PROMPT_COLUMNS}, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (order_id, slot) DO NOTHING"
        );
        let challenge = p
            .challenge
            .as_ref()
            .map(|c| serde_json::to_string(c).expect("a challenge serialises"));
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(&sql)
                .bind(p.id.as_str())
                .bind(p.order_id.as_str())
                .bind(&p.slot)
                .bind(&p.token_hash)
                .bind(to_ms(p.issued_at))
                .bind(to_ms(p.deadline))
                .bind(challenge.as_deref())
                .bind(prompt_status_str(p.status))
                .bind(p.attempts as i32)
                .bind(to_ms(audit.at))
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::on_insert(e, "prompt", p.id.as_str()))?;
            if n.rows_affected() == 0 {
                return Ok(false);
            }
            append_audit!(self, tx, audit);
            let _queued = insert_job!(tx, deadline_job, audit.at);
            if let Some(m) = message {
                if !insert_message!(self, tx, m) {
                    // Dropping the transaction rolls the prompt back.
                    return Err(StoreError::Conflict { entity: "outbox message", id: m.dedupe_key.clone() });
                }
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    pub async fn get_prompt(&self, id: &PromptId) -> Result<Option<PromptRecord>, StoreError> {
        let sql = format!("SELECT {PROMPT_COLUMNS} FROM prompts WHERE id = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(pool).await?;
            Ok(match row { Some(r) => Some(prompt_from_row!(&r)), None => None })
        })
    }

    pub async fn prompt_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<PromptRecord>, StoreError> {
        let sql = format!("SELECT {PROMPT_COLUMNS} FROM prompts WHERE token_hash = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(token_hash).fetch_optional(pool).await?;
            Ok(match row { Some(r) => Some(prompt_from_row!(&r)), None => None })
        })
    }

    /// Prompts of an order, newest first.
    pub async fn prompts_of_order(
        &self,
        order_id: &OrderId,
        limit: i64,
    ) -> Result<Vec<PromptRecord>, StoreError> {
        let sql = format!(
            "SELECT {PROMPT_COLUMNS} FROM prompts WHERE order_id = $1 ORDER BY issued_at DESC, id DESC LIMIT $2"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(order_id.as_str()).bind(limit).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(prompt_from_row!(r))).collect()
        })
    }

    /// How many prompts exist (all orders); for tests and statistics.
    pub async fn count_prompts(&self) -> Result<i64, StoreError> {
        on_pool!(self, pool => {
            let r = sqlx::query("SELECT COUNT(*) AS n FROM prompts").fetch_one(pool).await?;
            Ok(r.try_get("n")?)
        })
    }

    /// Reserves a try for `request_key` (see [`CheckinStart`]). The caller
    /// has looked the key up already ([`Store::checkin_context`]); a request
    /// with the same key racing in on another connection is caught by the
    /// unique (prompt, request key) and gets the stored try.
    pub async fn begin_checkin(
        &self,
        prompt_id: &PromptId,
        request_key: &str,
        now: DateTime<Utc>,
    ) -> Result<CheckinStart, StoreError> {
        let find = format!(
            "SELECT {CHECKIN_COLUMNS} FROM checkins WHERE prompt_id = $1 AND request_key = $2"
        );
        const TAKE: &str = "UPDATE prompts SET attempts = attempts + 1, updated_at = $1 \
                            WHERE id = $2 AND status = 'open' AND attempts < $3 RETURNING attempts";
        const STATUS: &str = "SELECT status FROM prompts WHERE id = $1";
        const INSERT: &str = "INSERT INTO checkins (id, prompt_id, request_key, attempt, received_at, outcome, evidence) \
                              VALUES ($1, $2, $3, $4, $5, NULL, '{}')";
        let checkin_id = CheckinId::generate();
        on_pool!(self, pool => {
            // The transaction's first statement is a write: on SQLite a
            // transaction that read first cannot upgrade to a writer while
            // another one commits.
            let mut tx = pool.begin_write().await?;
            let taken = sqlx::query(TAKE)
                .bind(to_ms(now))
                .bind(prompt_id.as_str())
                .bind(MAX_ATTEMPTS as i32)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(taken) = taken else {
                let r = sqlx::query(STATUS).bind(prompt_id.as_str()).fetch_optional(&mut *tx).await?
                    .ok_or_else(|| StoreError::NotFound { entity: "prompt", id: prompt_id.to_string() })?;
                let status = parse_prompt_status(r.try_get::<&str, _>("status")?)?;
                return Ok(if status == PromptStatus::Open {
                    CheckinStart::NoTriesLeft
                } else {
                    CheckinStart::Closed(status)
                });
            };
            let attempt: i32 = taken.try_get("attempts")?;
            let inserted = sqlx::query(INSERT)
                .bind(checkin_id.as_str())
                .bind(prompt_id.as_str())
                .bind(request_key)
                .bind(attempt)
                .bind(to_ms(now))
                .execute(&mut *tx)
                .await;
            match inserted {
                Ok(_) => {}
                // The same request raced in on another connection: it owns the try.
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                    drop(tx);
                    let r = sqlx::query(&find).bind(prompt_id.as_str()).bind(request_key)
                        .fetch_one(pool).await?;
                    return Ok(CheckinStart::Existing(checkin_from_row!(&r)));
                }
                Err(e) => return Err(e.into()),
            }
            tx.commit().await?;
            Ok(CheckinStart::Started { checkin_id, attempt: attempt as u32 })
        })
    }

    /// Records the resolution of a try in one transaction: its outcome and
    /// evidence, the prompt's closing, the officer's alert, the welfare
    /// escalation and the audit event.
    pub async fn finish_checkin(
        &self,
        checkin_id: &CheckinId,
        prompt_id: &PromptId,
        result: &CheckinFinish,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        const SET: &str =
            "UPDATE checkins SET outcome = $1, evidence = $2 WHERE id = $3 AND outcome IS NULL";
        const CLOSE: &str =
            "UPDATE prompts SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'open'";
        let evidence = result.evidence.to_string();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(SET)
                .bind(result.outcome.as_str())
                .bind(&evidence)
                .bind(checkin_id.as_str())
                .execute(&mut *tx)
                .await?;
            if n.rows_affected() != 1 {
                return Err(StoreError::Stale { entity: "check-in", id: checkin_id.to_string() });
            }
            if let Some(status) = result.close {
                sqlx::query(CLOSE)
                    .bind(prompt_status_str(status))
                    .bind(to_ms(audit.at))
                    .bind(prompt_id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            for a in result.alert.iter().chain(&result.escalation) {
                let _opened = insert_alert!(self, tx, a);
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Gives back the tries of `prompt_id` reserved before `stale_before`
    /// and still without an outcome: their verification ended with the
    /// process that ran it (killed or crashed between [`Store::begin_checkin`]
    /// and [`Store::finish_checkin`]), so the person did not use them. A late
    /// `finish_checkin` of a given-back try finds no row and is refused
    /// (`Stale`), so a try never gets two outcomes. How many were given back.
    pub async fn release_stale_checkins(
        &self,
        prompt_id: &PromptId,
        stale_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        const DELETE: &str =
            "DELETE FROM checkins WHERE prompt_id = $1 AND outcome IS NULL AND received_at < $2";
        const GIVE_BACK: &str = "UPDATE prompts SET attempts = CASE WHEN attempts >= $1 THEN attempts - $1 ELSE 0 END, \
                                 updated_at = $2 WHERE id = $3";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(DELETE)
                .bind(prompt_id.as_str())
                .bind(to_ms(stale_before))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n > 0 {
                sqlx::query(GIVE_BACK)
                    .bind(n as i32)
                    .bind(to_ms(now))
                    .bind(prompt_id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(n)
        })
    }

    /// Gives a reserved try back when it could not be verified for a reason
    /// that is not the person's (an internal error).
    pub async fn abandon_checkin(
        &self,
        checkin_id: &CheckinId,
        prompt_id: &PromptId,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        const DELETE: &str = "DELETE FROM checkins WHERE id = $1 AND outcome IS NULL";
        const GIVE_BACK: &str = "UPDATE prompts SET attempts = attempts - 1, updated_at = $1 WHERE id = $2 AND attempts > 0";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(DELETE).bind(checkin_id.as_str()).execute(&mut *tx).await?;
            if n.rows_affected() == 1 {
                sqlx::query(GIVE_BACK).bind(to_ms(now)).bind(prompt_id.as_str()).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The prompt a token hash belongs to and what a check-in answering it is
    /// decided on (see [`CheckinContext`]); None for an unknown token.
    /// `welfare_history` is how many earlier answered or missed prompts of
    /// the order to read.
    pub async fn checkin_context(
        &self,
        token_hash: &str,
        request_key: &str,
        welfare_history: u32,
    ) -> Result<Option<CheckinContext>, StoreError> {
        let find = format!(
            "SELECT {CHECKIN_COLUMNS} FROM checkins WHERE prompt_id = $1 AND request_key = $2"
        );
        let Some(prompt) = self.prompt_by_token_hash(token_hash).await? else {
            return Ok(None);
        };
        let existing = on_pool!(self, pool => {
            match sqlx::query(&find).bind(prompt.id.as_str()).bind(request_key)
                .fetch_optional(pool).await? {
                Some(r) => Some(checkin_from_row!(&r)),
                None => None,
            }
        });
        let order = self.get_order(&prompt.order_id).await?;
        let enrollment = self.get_enrollment(&prompt.order_id).await?;
        let earlier_decided = self
            .decided_prompts_before(&prompt.order_id, &prompt.id, welfare_history)
            .await?;
        Ok(Some(CheckinContext {
            prompt,
            order,
            enrollment,
            existing,
            earlier_decided,
        }))
    }

    /// The order's answered or missed prompts other than `except`, newest
    /// first, at most `limit`: the history the welfare rule looks at.
    pub async fn decided_prompts_before(
        &self,
        order_id: &OrderId,
        except: &PromptId,
        limit: u32,
    ) -> Result<Vec<PromptRecord>, StoreError> {
        let sql = format!(
            "SELECT {PROMPT_COLUMNS} FROM prompts \
             WHERE order_id = $1 AND id <> $2 AND status IN ('answered', 'missed') \
             ORDER BY issued_at DESC, id DESC LIMIT $3"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql)
                .bind(order_id.as_str())
                .bind(except.as_str())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| Ok(prompt_from_row!(r))).collect()
        })
    }

    /// The last `limit` decided check-ins of an order's prompts, except
    /// `except` (the one being decided), newest first: what a new check-in's
    /// location is compared with.
    pub async fn recent_checkins_of_order(
        &self,
        order_id: &OrderId,
        except: &CheckinId,
        limit: u32,
    ) -> Result<Vec<CheckinRecord>, StoreError> {
        let sql = format!(
            "SELECT {CHECKIN_COLUMNS} FROM checkins \
             WHERE prompt_id IN (SELECT id FROM prompts WHERE order_id = $1) \
             AND id <> $2 AND outcome IS NOT NULL \
             ORDER BY received_at DESC, attempt DESC LIMIT $3"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql)
                .bind(order_id.as_str())
                .bind(except.as_str())
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(|r| Ok(checkin_from_row!(r))).collect()
        })
    }

    /// Check-ins answering a prompt, in order of arrival.
    pub async fn checkins_of_prompt(
        &self,
        prompt_id: &PromptId,
    ) -> Result<Vec<CheckinRecord>, StoreError> {
        let sql =
            format!("SELECT {CHECKIN_COLUMNS} FROM checkins WHERE prompt_id = $1 ORDER BY attempt");
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(prompt_id.as_str()).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(checkin_from_row!(r))).collect()
        })
    }

    /// Closes a prompt whose window ended without a verified check-in, in
    /// one transaction with its alert, the welfare escalation the caller
    /// decided on (if any) and the audit event. `status` is `Missed`, or
    /// `NotDelivered` when its message never reached the person. Returns
    /// false (and changes nothing) if the prompt was no longer open: a
    /// second run of the deadline job is harmless.
    pub async fn close_unanswered_prompt(
        &self,
        prompt_id: &PromptId,
        status: PromptStatus,
        alert: &NewAlert,
        escalation: Option<&NewAlert>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        const CLOSE: &str =
            "UPDATE prompts SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'open'";
        if !matches!(status, PromptStatus::Missed | PromptStatus::NotDelivered) {
            return Err(StoreError::Unsupported(
                "an unanswered prompt closes as missed or not delivered",
            ));
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(CLOSE)
                .bind(prompt_status_str(status))
                .bind(to_ms(audit.at))
                .bind(prompt_id.as_str())
                .execute(&mut *tx)
                .await?;
            if n.rows_affected() == 0 {
                return Ok(false);
            }
            let _opened = insert_alert!(self, tx, alert);
            if let Some(a) = escalation {
                let _opened = insert_alert!(self, tx, a);
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(true)
        })
    }
}
