//! Symptom forms (a link per order and local day, token stored hashed) and
//! the reports that answer them. A symptomatic report opens an alert for an
//! investigator in the same transaction.

use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::{FollowUpId, OrderId, PersonId, SymptomFormId, SymptomReportId};
use lazaret_core::symptom::{Symptom, SymptomReport};
use sqlx::Row;

use crate::alerts::{insert_alert, NewAlert};
use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::outbox::{insert_message, NewOutboxMessage};

#[derive(Debug, Clone, PartialEq)]
pub struct SymptomForm {
    pub id: SymptomFormId,
    /// The order of a person in quarantine, or
    pub order_id: Option<OrderId>,
    /// the follow-up of a contact monitored without quarantine.
    pub follow_up_id: Option<FollowUpId>,
    /// `day:YYYY-MM-DD` (scheduler) or `now:<id>` (officer).
    pub slot: String,
    pub day: NaiveDate,
    pub token_hash: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    /// Set when the form was withdrawn because its order ended.
    pub cancelled_at: Option<DateTime<Utc>>,
}

const FORM_COLUMNS: &str =
    "id, order_id, follow_up_id, slot, day, token_hash, issued_at, expires_at, used_at, cancelled_at";
const REPORT_COLUMNS: &str =
    "id, order_id, follow_up_id, person_id, day, symptoms, other, temperature_c, received_at";

fn parse_day(table: &'static str, s: &str) -> Result<NaiveDate, StoreError> {
    s.parse()
        .map_err(|_| StoreError::corrupt(table, format!("day {s}")))
}

macro_rules! form_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("symptom_forms", e);
        SymptomForm {
            id: SymptomFormId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
            order_id: r
                .try_get::<Option<&str>, _>("order_id")?
                .map(OrderId::parse)
                .transpose()
                .map_err(bad)?,
            follow_up_id: r
                .try_get::<Option<&str>, _>("follow_up_id")?
                .map(FollowUpId::parse)
                .transpose()
                .map_err(bad)?,
            slot: r.try_get("slot")?,
            day: parse_day("symptom_forms", r.try_get::<&str, _>("day")?)?,
            token_hash: r.try_get("token_hash")?,
            issued_at: from_ms("symptom_forms", r.try_get("issued_at")?)?,
            expires_at: from_ms("symptom_forms", r.try_get("expires_at")?)?,
            used_at: r
                .try_get::<Option<i64>, _>("used_at")?
                .map(|m| from_ms("symptom_forms", m))
                .transpose()?,
            cancelled_at: r
                .try_get::<Option<i64>, _>("cancelled_at")?
                .map(|m| from_ms("symptom_forms", m))
                .transpose()?,
        }
    }};
}

macro_rules! report_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("symptom_reports", e);
        let symptoms: Vec<Symptom> = serde_json::from_str(r.try_get::<&str, _>("symptoms")?)
            .map_err(|e| StoreError::corrupt("symptom_reports", e))?;
        SymptomReport {
            id: SymptomReportId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
            order_id: r
                .try_get::<Option<&str>, _>("order_id")?
                .map(OrderId::parse)
                .transpose()
                .map_err(bad)?,
            follow_up_id: r
                .try_get::<Option<&str>, _>("follow_up_id")?
                .map(FollowUpId::parse)
                .transpose()
                .map_err(bad)?,
            person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?,
            day: parse_day("symptom_reports", r.try_get::<&str, _>("day")?)?,
            symptoms,
            other: r.try_get("other")?,
            temperature_c: r
                .try_get::<Option<f64>, _>("temperature_c")?
                .map(|t| t as f32),
            received_at: from_ms("symptom_reports", r.try_get("received_at")?)?,
        }
    }};
}

impl Store {
    /// Issues a form in one transaction with the outbox message that
    /// announces it (and its delivery job) and the audit events. Nothing is
    /// written if the order or follow-up already has a form in the same
    /// slot (false) or
    /// if any part fails. `message` is `None` only where nobody announces
    /// (an officer's form relayed by hand).
    pub async fn issue_symptom_form(
        &self,
        f: &SymptomForm,
        message: Option<&NewOutboxMessage>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO symptom_forms ({FORM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL) \
             ON CONFLICT DO NOTHING"
        );
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(&sql)
                .bind(f.id.as_str())
                .bind(f.order_id.as_ref().map(OrderId::as_str))
                .bind(f.follow_up_id.as_ref().map(FollowUpId::as_str))
                .bind(&f.slot)
                .bind(f.day.to_string())
                .bind(&f.token_hash)
                .bind(to_ms(f.issued_at))
                .bind(to_ms(f.expires_at))
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::on_insert(e, "symptom form", f.id.as_str()))?;
            if n.rows_affected() == 0 {
                return Ok(false);
            }
            append_audit!(self, tx, audit);
            if let Some(m) = message {
                if !insert_message!(self, tx, m) {
                    // Dropping the transaction rolls the form back.
                    return Err(StoreError::Conflict { entity: "outbox message", id: m.dedupe_key.clone() });
                }
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    pub async fn symptom_form_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<SymptomForm>, StoreError> {
        let sql = format!("SELECT {FORM_COLUMNS} FROM symptom_forms WHERE token_hash = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(token_hash).fetch_optional(pool).await?;
            Ok(match row { Some(r) => Some(form_from_row!(&r)), None => None })
        })
    }

    pub async fn get_symptom_form(
        &self,
        id: &SymptomFormId,
    ) -> Result<Option<SymptomForm>, StoreError> {
        let sql = format!("SELECT {FORM_COLUMNS} FROM symptom_forms WHERE id = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(pool).await?;
            Ok(match row { Some(r) => Some(form_from_row!(&r)), None => None })
        })
    }

    /// Forms of an order, oldest first.
    pub async fn symptom_forms_of_order(
        &self,
        order_id: &OrderId,
    ) -> Result<Vec<SymptomForm>, StoreError> {
        let sql = format!(
            "SELECT {FORM_COLUMNS} FROM symptom_forms WHERE order_id = $1 ORDER BY issued_at, id"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(order_id.as_str()).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(form_from_row!(r))).collect()
        })
    }

    /// Stores the report answering `form_id` (spending the form) and its
    /// alert, if any; false (and nothing stored) if the form was already
    /// used, has expired at `report.received_at` or was withdrawn.
    pub async fn submit_symptom_report(
        &self,
        form_id: &SymptomFormId,
        report: &SymptomReport,
        alert: Option<&NewAlert>,
        audit: &AuditRecord,
    ) -> Result<bool, StoreError> {
        const SPEND: &str = "UPDATE symptom_forms SET used_at = $1 \
                             WHERE id = $2 AND used_at IS NULL AND cancelled_at IS NULL AND expires_at > $1";
        let insert = format!(
            "INSERT INTO symptom_reports (form_id, {REPORT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        let symptoms = serde_json::to_string(&report.symptoms).expect("symptoms serialise");
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(SPEND)
                .bind(to_ms(report.received_at))
                .bind(form_id.as_str())
                .execute(&mut *tx)
                .await?;
            if n.rows_affected() != 1 {
                return Ok(false);
            }
            sqlx::query(&insert)
                .bind(form_id.as_str())
                .bind(report.id.as_str())
                .bind(report.order_id.as_ref().map(OrderId::as_str))
                .bind(report.follow_up_id.as_ref().map(FollowUpId::as_str))
                .bind(report.person_id.as_str())
                .bind(report.day.to_string())
                .bind(&symptoms)
                .bind(report.other.as_deref())
                .bind(report.temperature_c.map(f64::from))
                .bind(to_ms(report.received_at))
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::on_insert(e, "symptom report of form", form_id.as_str()))?;
            if let Some(a) = alert {
                let _opened = insert_alert!(self, tx, a);
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Reports of an order, newest first (at most `limit`).
    pub async fn symptom_reports_of_order(
        &self,
        order_id: &OrderId,
        limit: i64,
    ) -> Result<Vec<SymptomReport>, StoreError> {
        self.symptom_reports_where("order_id", order_id.as_str(), limit)
            .await
    }

    /// Reports of a monitored contact's follow-up, newest first (at most
    /// `limit`).
    pub async fn symptom_reports_of_follow_up(
        &self,
        follow_up_id: &FollowUpId,
        limit: i64,
    ) -> Result<Vec<SymptomReport>, StoreError> {
        self.symptom_reports_where("follow_up_id", follow_up_id.as_str(), limit)
            .await
    }

    async fn symptom_reports_where(
        &self,
        column: &'static str,
        id: &str,
        limit: i64,
    ) -> Result<Vec<SymptomReport>, StoreError> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM symptom_reports WHERE {column} = $1 \
             ORDER BY received_at DESC, id DESC LIMIT $2"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(id).bind(limit).fetch_all(pool).await?;
            rows.iter().map(|r| Ok(report_from_row!(r))).collect()
        })
    }
}
