//! The notification outbox: messages to persons, each delivered by one job
//! of the `notify.send` queue (retries, back-off and dead-lettering come
//! from the job queue).
//!
//! A message's rendered body holds the person's secret link until it is
//! sent or given up; then only the redacted copy remains.

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::{OrderId, PersonId};
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;

/// The job queue that delivers outbox messages; a job's payload is only
/// `{"message_id": …}`.
pub const NOTIFY_QUEUE: &str = "notify.send";
const ACTOR: &str = "system:notify";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "email" => Ok(Channel::Email),
            "sms" => Ok(Channel::Sms),
            other => Err(StoreError::corrupt("outbox", format!("channel {other}"))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxStatus {
    Pending,
    Sent,
    Failed,
}

impl OutboxStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "pending" => Ok(OutboxStatus::Pending),
            "sent" => Ok(OutboxStatus::Sent),
            "failed" => Ok(OutboxStatus::Failed),
            other => Err(StoreError::corrupt("outbox", format!("status {other}"))),
        }
    }
}

/// A message to store. With `undeliverable` set it is stored as `failed`
/// with that reason (and no body) instead of being queued for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxMessage {
    pub id: String,
    pub dedupe_key: String,
    pub person_id: PersonId,
    pub order_id: Option<OrderId>,
    pub kind: String,
    pub channel: Option<Channel>,
    pub language: String,
    pub recipient: Option<String>,
    pub subject: String,
    pub body: String,
    pub body_redacted: String,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub max_attempts: i32,
    pub undeliverable: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub id: String,
    pub dedupe_key: String,
    pub person_id: PersonId,
    pub order_id: Option<OrderId>,
    pub kind: String,
    pub channel: Option<Channel>,
    pub language: String,
    pub recipient: Option<String>,
    pub subject: String,
    /// `None` once sent or given up.
    pub body: Option<String>,
    pub body_redacted: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A failed delivery attempt: retried later, or the last one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageFailure {
    Retry,
    Final,
}

const COLUMNS: &str = "id, dedupe_key, person_id, order_id, kind, channel, language, recipient, subject, \
                       body, body_redacted, status, attempts, last_error, expires_at, created_at, sent_at";

macro_rules! message_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("outbox", e);
        OutboxMessage {
            id: r.try_get("id")?,
            dedupe_key: r.try_get("dedupe_key")?,
            person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?,
            order_id: r
                .try_get::<Option<&str>, _>("order_id")?
                .map(OrderId::parse)
                .transpose()
                .map_err(bad)?,
            kind: r.try_get("kind")?,
            channel: r
                .try_get::<Option<&str>, _>("channel")?
                .map(Channel::parse)
                .transpose()?,
            language: r.try_get("language")?,
            recipient: r.try_get("recipient")?,
            subject: r.try_get("subject")?,
            body: r.try_get("body")?,
            body_redacted: r.try_get("body_redacted")?,
            status: OutboxStatus::parse(r.try_get::<&str, _>("status")?)?,
            attempts: r.try_get("attempts")?,
            last_error: r.try_get("last_error")?,
            expires_at: from_ms("outbox", r.try_get("expires_at")?)?,
            created_at: from_ms("outbox", r.try_get("created_at")?)?,
            sent_at: r
                .try_get::<Option<i64>, _>("sent_at")?
                .map(|ms| from_ms("outbox", ms))
                .transpose()?,
        }
    }};
}

fn event(at: DateTime<Utc>, action: &str, m_id: &str, details: String) -> AuditRecord {
    AuditRecord {
        at,
        actor: ACTOR.into(),
        action: action.into(),
        subject_type: "message".into(),
        subject_id: m_id.to_owned(),
        details,
    }
}

/// Inserts the message `$m` (a `&NewOutboxMessage`), its delivery job and
/// its audit event in the open transaction `$tx`; does nothing (and is
/// false) if a message with the same dedupe key exists.
macro_rules! insert_message {
    ($store:expr, $tx:expr, $m:expr) => {{
        let m: &$crate::outbox::NewOutboxMessage = $m;
        let (status, body) = match &m.undeliverable {
            Some(_) => ($crate::outbox::OutboxStatus::Failed, None),
            None => ($crate::outbox::OutboxStatus::Pending, Some(m.body.as_str())),
        };
        let n = sqlx::query(
            "INSERT INTO outbox (id, dedupe_key, person_id, order_id, kind, channel, language, \
             recipient, subject, body, body_redacted, status, attempts, last_error, expires_at, created_at, sent_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $15, NULL, $15) \
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(&m.id)
        .bind(&m.dedupe_key)
        .bind(m.person_id.as_str())
        .bind(m.order_id.as_ref().map(|o| o.as_str()))
        .bind(&m.kind)
        .bind(m.channel.map(|c| c.as_str()))
        .bind(&m.language)
        .bind(m.recipient.as_deref())
        .bind(&m.subject)
        .bind(body)
        .bind(&m.body_redacted)
        .bind(status.as_str())
        .bind(m.undeliverable.as_deref())
        .bind($crate::db::to_ms(m.expires_at))
        .bind($crate::db::to_ms(m.created_at))
        .execute(&mut *$tx)
        .await?;
        let inserted = n.rows_affected() == 1;
        if inserted {
            if m.undeliverable.is_none() {
                // The same insert as `Store::enqueue`, inside this transaction.
                sqlx::query(
                    "INSERT INTO jobs (queue, payload, dedupe_key, status, run_at, attempts, max_attempts, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'pending', $4, 0, $5, $4, $4) ON CONFLICT (dedupe_key) DO NOTHING",
                )
                .bind($crate::outbox::NOTIFY_QUEUE)
                .bind(serde_json::json!({ "message_id": m.id }).to_string())
                .bind(format!("notify:{}", m.id))
                .bind($crate::db::to_ms(m.created_at))
                .bind(m.max_attempts.max(1))
                .execute(&mut *$tx)
                .await?;
            }
            let audit = $crate::outbox::enqueue_event(m);
            append_audit!($store, $tx, &audit);
        }
        inserted
    }};
}
pub(crate) use insert_message;

/// The audit event of a stored message (no message text).
pub(crate) fn enqueue_event(m: &NewOutboxMessage) -> AuditRecord {
    let details = match &m.undeliverable {
        Some(why) => format!(
            "kind={} person={} not deliverable: {why}",
            m.kind, m.person_id
        ),
        None => format!(
            "kind={} person={} channel={}",
            m.kind,
            m.person_id,
            m.channel.map_or("none", |c| c.as_str())
        ),
    };
    event(m.created_at, "notify.enqueue", &m.id, details)
}

impl Store {
    /// Stores a message, its delivery job and the audit event in one
    /// transaction. Returns false (and changes nothing) if a message with
    /// the same dedupe key exists.
    pub async fn enqueue_message(&self, m: &NewOutboxMessage) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if !insert_message!(self, tx, m) {
                return Ok(false);
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    pub async fn get_message(&self, id: &str) -> Result<Option<OutboxMessage>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
            Ok(match row { Some(r) => Some(message_from_row!(&r)), None => None })
        })
    }

    pub async fn get_message_by_dedupe_key(
        &self,
        key: &str,
    ) -> Result<Option<OutboxMessage>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE dedupe_key = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(key).fetch_optional(pool).await?;
            Ok(match row { Some(r) => Some(message_from_row!(&r)), None => None })
        })
    }

    /// The messages to a person, newest first (at most `limit`).
    pub async fn messages_of_person(
        &self,
        person: &PersonId,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE person_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(person.as_str()).bind(limit).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(message_from_row!(r))).collect()
        })
    }

    /// Records a delivery: `pending → sent`, the secret body dropped.
    /// Returns false if the message was not pending.
    pub async fn mark_message_sent(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE outbox SET status = 'sent', body = NULL, attempts = attempts + 1, \
                           last_error = $1, sent_at = $2, updated_at = $2 WHERE id = $3 AND status = 'pending'";
        let audit = event(now, "notify.sent", id, String::new());
        self.settle_pending(SQL, None, id, now, &audit).await
    }

    /// Records a failed attempt. A final one marks the message `failed` and
    /// drops its secret body. Returns false if the message was not pending.
    /// `error` (which may echo the recipient, as SMTP answers do) is kept
    /// only in the outbox row, which can be erased; the immutable audit
    /// chain gets `audit_reason`, which must name no address.
    pub async fn record_message_failure(
        &self,
        id: &str,
        error: &str,
        audit_reason: &str,
        fate: MessageFailure,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const RETRY: &str =
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, updated_at = $2 \
                             WHERE id = $3 AND status = 'pending'";
        const FINAL: &str =
            "UPDATE outbox SET status = 'failed', body = NULL, attempts = attempts + 1, \
                             last_error = $1, updated_at = $2 WHERE id = $3 AND status = 'pending'";
        let (sql, action) = match fate {
            MessageFailure::Retry => (RETRY, "notify.retry"),
            MessageFailure::Final => (FINAL, "notify.fail"),
        };
        let audit = event(now, action, id, audit_reason.to_owned());
        self.settle_pending(sql, Some(error), id, now, &audit).await
    }

    /// Gives up a message without an attempt (it expired before it could be
    /// sent): `failed`, secret body dropped.
    pub async fn expire_message(
        &self,
        id: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        const SQL: &str =
            "UPDATE outbox SET status = 'failed', body = NULL, last_error = $1, updated_at = $2 \
                           WHERE id = $3 AND status = 'pending'";
        let audit = event(now, "notify.fail", id, reason.to_owned());
        self.settle_pending(SQL, Some(reason), id, now, &audit)
            .await
    }

    /// Runs one update of a pending message (`$1` last error, `$2` now,
    /// `$3` id) and audits it in the same transaction; false if the message
    /// was no longer pending.
    async fn settle_pending(
        &self,
        sql: &str,
        error: Option<&str>,
        id: &str,
        now: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(sql).bind(error).bind(to_ms(now)).bind(id).execute(&mut *tx).await?;
            if n.rows_affected() != 1 {
                return Ok(false);
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(true)
        })
    }
}
