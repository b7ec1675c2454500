//! Active orders that nothing can prompt: no face template is enrolled, or
//! the person has neither a phone nor an e-mail address. Monitoring such an
//! order would stop silently, so each cause opens a `cannot_prompt` alert
//! for the officers (one per order and cause while it lasts) that closes by
//! itself once the cause is fixed; ending the order closes it like every
//! other open alert of the order.

use chrono::{DateTime, Utc};
use lazaret_core::alert::AlertKind;
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::{AlertId, OrderId, PersonId};
use sqlx::Row;

use crate::alerts::{insert_alert, NewAlert};
use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{on_pool, to_ms, Store};
use crate::error::StoreError;

/// Why an order cannot be prompted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CannotPromptReason {
    /// No face template is enrolled for the order.
    NoTemplate,
    /// The person has no phone and no e-mail: a prompt cannot reach them.
    NoChannel,
}

impl CannotPromptReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NoTemplate => "no_template",
            Self::NoChannel => "no_channel",
        }
    }

    fn detail(&self) -> &'static str {
        match self {
            Self::NoTemplate => {
                "no face is enrolled for this order: enrol a reference photo or send a self-enrolment link"
            }
            Self::NoChannel => {
                "the person has no phone and no e-mail address: prompts cannot reach them"
            }
        }
    }

    fn fixed(&self) -> &'static str {
        match self {
            Self::NoTemplate => "closed automatically: a face template is now enrolled",
            Self::NoChannel => "closed automatically: the person now has a phone or e-mail address",
        }
    }

    /// The alert cause while this reason lasts for `order`.
    pub fn cause(&self, order: &OrderId) -> String {
        format!("cannot_prompt:{}:{order}", self.as_str())
    }
}

/// What [`Store::reconcile_cannot_prompt`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CannotPromptReport {
    pub opened: u64,
    pub closed: u64,
}

/// Orders in force with a cause that has no alert yet, each cause as its
/// own flag (a missing template only past the enrolment allowance, `$2`).
const FIND_SQL: &str = "SELECT order_id, person_id, no_template, no_channel FROM ( \
     SELECT o.id AS order_id, o.person_id AS person_id, \
     (e.order_id IS NULL AND o.starts_at <= $2 AND NOT EXISTS \
        (SELECT 1 FROM alerts a WHERE a.cause = 'cannot_prompt:no_template:' || o.id)) AS no_template, \
     (p.phone IS NULL AND p.email IS NULL AND NOT EXISTS \
        (SELECT 1 FROM alerts a WHERE a.cause = 'cannot_prompt:no_channel:' || o.id)) AS no_channel \
     FROM orders o JOIN persons p ON p.id = o.person_id \
     LEFT JOIN enrollments e ON e.order_id = o.id \
     WHERE o.status = 'active' AND o.starts_at <= $1 AND o.ends_at > $1) c \
     WHERE no_template OR no_channel ORDER BY order_id";

/// Unresolved alerts whose cause is gone.
const FIXED_SQL: &str = "SELECT a.id AS id, a.cause AS cause FROM alerts a \
     JOIN orders o ON o.id = a.order_id JOIN persons p ON p.id = o.person_id \
     WHERE a.kind = 'cannot_prompt' AND a.status IN ('open', 'assigned') \
     AND ((a.cause = 'cannot_prompt:no_template:' || o.id \
           AND EXISTS (SELECT 1 FROM enrollments e WHERE e.order_id = o.id)) \
       OR (a.cause = 'cannot_prompt:no_channel:' || o.id \
           AND (p.phone IS NOT NULL OR p.email IS NOT NULL))) \
     ORDER BY a.id";

/// Resolves a fixed alert and frees its cause, so that the same cause,
/// should it come back, opens a new alert. (An officer's own resolution
/// keeps the cause: a known and accepted cause is not raised again.)
const CLOSE_SQL: &str = "UPDATE alerts SET status = 'resolved', resolution = $1, updated_at = $2, \
     cause = cause || ':fixed:' || id WHERE id = $3 AND status IN ('open', 'assigned')";

impl Store {
    /// Opens a `cannot_prompt` alert for each cause of each order in force
    /// at `now` that cannot be prompted, and closes those whose cause was
    /// fixed; each opening and closing is audited. A missing template counts
    /// only once the order has been in force for `enrolment_allowance`: a new
    /// order is normally enrolled within hours, and an alert for every order
    /// not yet enrolled would bury the ones that need an officer.
    pub async fn reconcile_cannot_prompt(
        &self,
        now: DateTime<Utc>,
        enrolment_allowance: chrono::Duration,
    ) -> Result<CannotPromptReport, StoreError> {
        let mut report = CannotPromptReport::default();
        on_pool!(self, pool => {
            let rows = sqlx::query(FIND_SQL)
                .bind(to_ms(now))
                .bind(to_ms(now - enrolment_allowance))
                .fetch_all(pool)
                .await?;
            let mut alerts = Vec::new();
            for r in &rows {
                let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("orders", e);
                let order = OrderId::parse(r.try_get::<&str, _>("order_id")?).map_err(bad)?;
                let person = PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?;
                for (reason, applies) in [
                    (CannotPromptReason::NoTemplate, r.try_get::<bool, _>("no_template")?),
                    (CannotPromptReason::NoChannel, r.try_get::<bool, _>("no_channel")?),
                ] {
                    if applies {
                        alerts.push(NewAlert {
                            id: AlertId::generate(),
                            kind: AlertKind::CannotPrompt,
                            person_id: person.clone(),
                            order_id: Some(order.clone()),
                            cause: reason.cause(&order),
                            evidence: serde_json::json!({
                                "reason": reason.as_str(),
                                "detail": reason.detail(),
                                "since": now,
                            }),
                            at: now,
                        });
                    }
                }
            }
            if !alerts.is_empty() {
                let mut tx = pool.begin_write().await?;
                for a in &alerts {
                    // Another instance may have opened it meanwhile: the
                    // unique cause keeps it to one.
                    if insert_alert!(self, tx, a) {
                        report.opened += 1;
                    }
                }
                tx.commit().await?;
            }

            let fixed = sqlx::query(FIXED_SQL).fetch_all(pool).await?;
            if !fixed.is_empty() {
                let mut tx = pool.begin_write().await?;
                for r in &fixed {
                    let id: String = r.try_get("id")?;
                    let cause: String = r.try_get("cause")?;
                    let reason = if cause.starts_with("cannot_prompt:no_template:") {
                        CannotPromptReason::NoTemplate
                    } else {
                        CannotPromptReason::NoChannel
                    };
                    let n = sqlx::query(CLOSE_SQL)
                        .bind(reason.fixed())
                        .bind(to_ms(now))
                        .bind(&id)
                        .execute(&mut *tx)
                        .await?;
                    if n.rows_affected() == 1 {
                        let rec = AuditRecord {
                            at: now,
                            actor: "system".into(),
                            action: "alert.resolve".into(),
                            subject_type: "alert".into(),
                            subject_id: id,
                            details: reason.fixed().into(),
                        };
                        append_audit!(self, tx, &rec);
                        report.closed += 1;
                    }
                }
                tx.commit().await?;
            }
            Ok(report)
        })
    }
}
