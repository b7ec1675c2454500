//! Ending an order (release, completion, a revision that removes its last
//! basis) and everything that worked against the person with it, in the
//! transaction of the status change: open prompts are cancelled (their
//! tokens then answer 410), unused symptom forms withdrawn, open
//! self-enrolment links revoked and pending templates erased (with the
//! submitted photo kept for the decision), unsent prompt
//! and form messages withdrawn, and the order's open alerts closed with the
//! reason. Every path that ends an order goes through
//! [`end_order_in_tx!`], so none can forget a step.
//!
//! The enrolled template is not deleted here: it is kept for the configured
//! grace after the order ended ([`Store::purge_expired_enrollments`] reads
//! the end from the order), so retention follows the order.

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::AlertId;
use lazaret_core::order::{OrderStatus, QuarantineOrder};
use serde::Serialize;

use crate::audit::append_audit;
use crate::db::on_pool;
use crate::db::BeginWrite as _;
use crate::error::StoreError;
use crate::Store;

/// What ending an order wound down.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrderEnd {
    pub prompts_cancelled: u64,
    pub symptom_forms_cancelled: u64,
    /// Open links revoked plus pending templates erased.
    pub enrollment_links_closed: u64,
    /// Prompt, symptom-form and enrolment-link messages not yet sent.
    pub messages_withdrawn: u64,
    pub alerts_closed: Vec<AlertId>,
}

/// When an ended order stopped binding the person: the moment it was ended,
/// or its end if that came first (a completion is late by the worker's
/// interval; the period still ended at `ends_at`).
pub fn ended_at(o: &QuarantineOrder) -> DateTime<Utc> {
    o.updated_at.min(o.ends_at)
}

/// The resolution the open alerts of an ended order are closed with.
pub fn closing_resolution(o: &QuarantineOrder) -> String {
    match o.status {
        OrderStatus::Released => format!(
            "order released: {}",
            o.status_reason.as_deref().unwrap_or("no reason recorded")
        ),
        _ => "order completed: its period ended".to_owned(),
    }
}

pub(crate) const END_SQL: &str =
    "UPDATE orders SET status = $1, status_reason = $2, updated_at = $3, ended_at = $4 \
     WHERE id = $5 AND updated_at = $6 AND status IN ('proposed', 'active')";
pub(crate) const CANCEL_PROMPTS_SQL: &str =
    "UPDATE prompts SET status = 'cancelled', updated_at = $1 \
     WHERE order_id = $2 AND status = 'open'";
pub(crate) const CANCEL_FORMS_SQL: &str = "UPDATE symptom_forms SET cancelled_at = $1 \
     WHERE order_id = $2 AND used_at IS NULL AND cancelled_at IS NULL AND expires_at > $1";
pub(crate) const REVOKE_LINKS_SQL: &str =
    "UPDATE enrollment_links SET status = 'revoked', updated_at = $1 \
     WHERE order_id = $2 AND status = 'open'";
pub(crate) const ERASE_PENDING_SQL: &str =
    "UPDATE enrollment_links SET status = 'rejected', ciphertext = NULL, nonce = NULL, \
     photo_ciphertext = NULL, photo_nonce = NULL, reason = 'the order ended before a decision', decided_at = $1, decided_by = $2, updated_at = $1 \
     WHERE order_id = $3 AND status = 'pending'";
pub(crate) const WITHDRAW_MESSAGES_SQL: &str =
    "UPDATE outbox SET status = 'failed', body = NULL, last_error = 'not sent: the order ended', \
     updated_at = $1 WHERE order_id = $2 AND status = 'pending' \
     AND kind IN ('checkin_prompt', 'symptom_form', 'enrollment_link') RETURNING id";
pub(crate) const CLOSE_ALERTS_SQL: &str =
    "UPDATE alerts SET status = 'resolved', resolution = $1, updated_at = $2 \
     WHERE order_id = $3 AND status IN ('open', 'assigned') RETURNING id";

/// Inside the open transaction `$tx`: stores the end of `$o` (a
/// `&QuarantineOrder` already moved to `completed` or `released`, its
/// `updated_at` the moment of the end) if it is still the version read at
/// `$read_at` (`Stale` otherwise), winds down what worked against the
/// person and audits it all under `$actor`. Evaluates to an [`OrderEnd`].
macro_rules! end_order_in_tx {
    ($store:expr, $tx:expr, $o:expr, $read_at:expr, $actor:expr) => {{
        use sqlx::Row as _;
        let o: &lazaret_core::order::QuarantineOrder = $o;
        let read_at: chrono::DateTime<chrono::Utc> = $read_at;
        let actor: &str = $actor;
        let at = o.updated_at;
        let at_ms = $crate::db::to_ms(at);
        let id = o.id.as_str();
        let done = sqlx::query($crate::order_end::END_SQL)
            .bind(o.status.as_str())
            .bind(o.status_reason.as_deref())
            .bind(at_ms)
            .bind($crate::db::to_ms($crate::order_end::ended_at(o)))
            .bind(id)
            .bind($crate::db::to_ms(read_at))
            .execute(&mut *$tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err($crate::error::StoreError::Stale { entity: "order", id: id.to_owned() }.into());
        }
        let prompts_cancelled = sqlx::query($crate::order_end::CANCEL_PROMPTS_SQL)
            .bind(at_ms).bind(id).execute(&mut *$tx).await?.rows_affected();
        let symptom_forms_cancelled = sqlx::query($crate::order_end::CANCEL_FORMS_SQL)
            .bind(at_ms).bind(id).execute(&mut *$tx).await?.rows_affected();
        let enrollment_links_closed = sqlx::query($crate::order_end::REVOKE_LINKS_SQL)
            .bind(at_ms).bind(id).execute(&mut *$tx).await?.rows_affected()
            + sqlx::query($crate::order_end::ERASE_PENDING_SQL)
                .bind(at_ms).bind(actor).bind(id).execute(&mut *$tx).await?.rows_affected();
        let messages = sqlx::query($crate::order_end::WITHDRAW_MESSAGES_SQL)
            .bind(at_ms).bind(id).fetch_all(&mut *$tx).await?;
        for m in &messages {
            let rec = lazaret_core::audit::AuditRecord {
                at,
                actor: actor.to_owned(),
                action: "notify.withdraw".into(),
                subject_type: "message".into(),
                subject_id: m.try_get("id")?,
                details: format!("order={id} ended; not sent"),
            };
            append_audit!($store, $tx, &rec);
        }
        let mut end = $crate::order_end::OrderEnd {
            prompts_cancelled,
            symptom_forms_cancelled,
            enrollment_links_closed,
            messages_withdrawn: messages.len() as u64,
            alerts_closed: Vec::new(),
        };
        let resolution = $crate::order_end::closing_resolution(o);
        let closed = sqlx::query($crate::order_end::CLOSE_ALERTS_SQL)
            .bind(&resolution).bind(at_ms).bind(id).fetch_all(&mut *$tx).await?;
        for r in &closed {
            let alert: String = r.try_get("id")?;
            let rec = lazaret_core::audit::AuditRecord {
                at,
                actor: actor.to_owned(),
                action: "alert.resolve".into(),
                subject_type: "alert".into(),
                subject_id: alert.clone(),
                details: resolution.clone(),
            };
            append_audit!($store, $tx, &rec);
            end.alerts_closed.push(
                lazaret_core::ids::AlertId::parse(&alert)
                    .map_err(|e| $crate::error::StoreError::corrupt("alerts", e))?,
            );
        }
        let rec = lazaret_core::audit::AuditRecord {
            at,
            actor: actor.to_owned(),
            action: "order.end".into(),
            subject_type: "order".into(),
            subject_id: id.to_owned(),
            details: serde_json::json!({
                "status": o.status,
                "ended_at": $crate::order_end::ended_at(o),
                "effects": &end,
            })
            .to_string(),
        };
        append_audit!($store, $tx, &rec);
        end
    }};
}
pub(crate) use end_order_in_tx;

impl Store {
    /// Ends an order: `o` has been moved to `completed` or `released` (its
    /// `updated_at` is the moment of the end) from the version read at
    /// `read_at`. Stores it with `audit` and winds down everything that
    /// worked against the person, in one transaction (see the module
    /// documentation). `Stale` if the order changed or ended meanwhile.
    pub async fn end_order(
        &self,
        o: &QuarantineOrder,
        read_at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<OrderEnd, StoreError> {
        if !o.status.is_terminal() {
            return Err(StoreError::Unsupported(
                "end_order takes an order moved to completed or released",
            ));
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let end = end_order_in_tx!(self, tx, o, read_at, audit.actor.as_str());
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(end)
        })
    }
}
