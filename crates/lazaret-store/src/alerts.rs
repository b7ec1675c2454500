//! Alerts in the officers' queue. Opened by automated results with their
//! evidence; only a person assigns and resolves them.

use chrono::{DateTime, Utc};
use lazaret_core::alert::{Alert, AlertKind, AlertStatus, ResolutionOutcome};
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::DistrictScope;
use lazaret_core::ids::{AlertId, OrderId, PersonId, UserId};
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::page::{Page, PageRequest};
use crate::scope;

/// An alert to open. `cause` names what opened it (`prompt:<id>`); a second
/// alert for the same cause is not opened.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub id: AlertId,
    pub kind: AlertKind,
    pub person_id: PersonId,
    pub order_id: Option<OrderId>,
    pub cause: String,
    pub evidence: serde_json::Value,
    pub at: DateTime<Utc>,
}

pub fn alert_kind_str(k: AlertKind) -> &'static str {
    k.as_str()
}

fn parse_kind(s: &str) -> Result<AlertKind, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StoreError::corrupt("alerts", format!("kind {s}")))
}

fn parse_outcome(s: Option<&str>) -> Result<Option<ResolutionOutcome>, StoreError> {
    s.map(|s| ResolutionOutcome::parse(s).map_err(|e| StoreError::corrupt("alerts", e)))
        .transpose()
}

fn parse_status(s: &str) -> Result<AlertStatus, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| StoreError::corrupt("alerts", format!("status {s}")))
}

/// Inserts `$alert` (a `&NewAlert`) in the open transaction `$tx`, with its
/// audit event; does nothing if its cause already has an alert, or if its
/// order has ended (a job that raced the end opens nothing against the
/// released person).
macro_rules! insert_alert {
    ($store:expr, $tx:expr, $alert:expr) => {{
        let a: &$crate::alerts::NewAlert = $alert;
        let n = sqlx::query(
            "INSERT INTO alerts (id, kind, person_id, order_id, cause, status, evidence, assignee, resolution, created_at, updated_at, district) \
             SELECT $1, $2, $3, $4, $5, 'open', $6, NULL, NULL, $7, $7, \
             COALESCE((SELECT district FROM orders WHERE id = $4), (SELECT district FROM persons WHERE id = $3), 'unassigned') \
             WHERE NOT EXISTS (SELECT 1 FROM orders WHERE id = $4 AND status IN ('completed', 'released')) \
             ON CONFLICT (cause) DO NOTHING",
        )
        .bind(a.id.as_str())
        .bind($crate::alerts::alert_kind_str(a.kind))
        .bind(a.person_id.as_str())
        .bind(a.order_id.as_ref().map(|o| o.as_str()))
        .bind(&a.cause)
        .bind(a.evidence.to_string())
        .bind(a.at.timestamp_millis())
        .execute(&mut *$tx)
        .await?;
        if n.rows_affected() == 1 {
            let rec = lazaret_core::audit::AuditRecord {
                at: a.at,
                actor: "system".into(),
                action: "alert.open".into(),
                subject_type: "alert".into(),
                subject_id: a.id.to_string(),
                details: format!("kind={} person={} cause={}", $crate::alerts::alert_kind_str(a.kind), a.person_id, a.cause),
            };
            append_audit!($store, $tx, &rec);
        }
        n.rows_affected() == 1
    }};
}
pub(crate) use insert_alert;

const COLUMNS: &str = "id, kind, person_id, order_id, status, evidence, assignee, resolution, \
                       outcome, created_at, updated_at, district";

macro_rules! alert_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("alerts", e);
        Alert {
            id: AlertId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
            kind: parse_kind(r.try_get::<&str, _>("kind")?)?,
            person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?,
            order_id: r
                .try_get::<Option<&str>, _>("order_id")?
                .map(OrderId::parse)
                .transpose()
                .map_err(bad)?,
            status: parse_status(r.try_get::<&str, _>("status")?)?,
            evidence: serde_json::from_str(r.try_get::<&str, _>("evidence")?)
                .map_err(|e| StoreError::corrupt("alerts", e))?,
            assignee: r
                .try_get::<Option<&str>, _>("assignee")?
                .map(UserId::parse)
                .transpose()
                .map_err(bad)?,
            resolution: r.try_get("resolution")?,
            outcome: parse_outcome(r.try_get::<Option<&str>, _>("outcome")?)?,
            district: lazaret_core::district::District::parse(r.try_get::<&str, _>("district")?)
                .map_err(bad)?,
            created_at: from_ms("alerts", r.try_get("created_at")?)?,
            updated_at: from_ms("alerts", r.try_get("updated_at")?)?,
        }
    }};
}

#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub status: Option<AlertStatus>,
    pub order_id: Option<OrderId>,
    pub kind: Option<AlertKind>,
    /// Only these districts (an officer's list always sets it).
    pub districts: Option<DistrictScope>,
    /// Leave out the alerts that carry health data, for a role that may
    /// not read it.
    pub without_health: bool,
    /// Only alerts not yet resolved (open or assigned); `status` narrows further.
    pub unresolved: bool,
    /// Only alerts with this assignee, or only unassigned ones.
    pub assignee: Option<AssigneeFilter>,
    /// Newest first (by id: ids are UUID v7, in creation order); oldest first otherwise.
    pub newest_first: bool,
}

/// Whose alerts a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    Is(UserId),
    Unassigned,
}

/// `AND kind NOT IN (…)` of the health alerts, when they are left out.
fn health_clause(without: bool) -> String {
    if !without {
        return String::new();
    }
    let kinds: Vec<String> = ALL_KINDS
        .iter()
        .filter(|k| k.is_health())
        .map(|k| format!("'{}'", alert_kind_str(*k)))
        .collect();
    format!(" AND kind NOT IN ({})", kinds.join(", "))
}

const ALL_KINDS: [AlertKind; 6] = [
    AlertKind::MissedCheckin,
    AlertKind::FailedCheckin,
    AlertKind::WelfareCheck,
    AlertKind::Symptomatic,
    AlertKind::CannotPrompt,
    AlertKind::NotDelivered,
];

impl Store {
    /// Opens an alert on its own (e.g. a symptomatic report); false if its
    /// cause already has one.
    pub async fn open_alert(&self, a: &NewAlert) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let opened = insert_alert!(self, tx, a);
            tx.commit().await?;
            Ok(opened)
        })
    }

    pub async fn get_alert(&self, id: &AlertId) -> Result<Option<Alert>, StoreError> {
        self.get_alert_in(id, &DistrictScope::All, false).await
    }

    /// Alert `id` if it belongs to one of `districts` (and, `without_health`,
    /// is not a health alert): an officer's read.
    pub async fn get_alert_in(
        &self,
        id: &AlertId,
        districts: &DistrictScope,
        without_health: bool,
    ) -> Result<Option<Alert>, StoreError> {
        let (limit, values) = scope::clause("district", districts, 2);
        let health = health_clause(without_health);
        let sql = format!("SELECT {COLUMNS} FROM alerts WHERE id = $1{limit}{health}");
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql).bind(id.as_str());
            for v in &values {
                q = q.bind(v.as_str());
            }
            let row = q.fetch_optional(pool).await?;
            Ok(match row { Some(r) => Some(alert_from_row!(&r)), None => None })
        })
    }

    pub async fn list_alerts(
        &self,
        filter: &AlertFilter,
        page: &PageRequest,
    ) -> Result<Page<Alert>, StoreError> {
        let limit = page.limit();
        let (cmp, dir) = if filter.newest_first {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        let mut w = scope::Where::default();
        if let Some(after) = page.after_key()? {
            w.bind(&format!("id {cmp} ?"), after);
        }
        if let Some(status) = filter.status {
            w.bind("status = ?", status.as_str());
        }
        if filter.unresolved {
            w.raw("status <> 'resolved'");
        }
        if let Some(order) = &filter.order_id {
            w.bind("order_id = ?", order.as_str());
        }
        if let Some(kind) = filter.kind {
            w.bind("kind = ?", alert_kind_str(kind));
        }
        match &filter.assignee {
            None => {}
            Some(AssigneeFilter::Is(u)) => {
                w.bind("assignee = ?", u.as_str());
            }
            Some(AssigneeFilter::Unassigned) => {
                w.raw("assignee IS NULL");
            }
        }
        if let Some(d) = &filter.districts {
            w.scope("district", d);
        }
        let health = health_clause(filter.without_health);
        if let Some(cond) = health.strip_prefix(" AND ") {
            w.raw(cond);
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts{} ORDER BY id {dir} LIMIT ${}",
            w.sql(),
            w.next()
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql);
            for v in &w.values {
                q = q.bind(v.as_str());
            }
            let rows = q.bind(limit + 1).fetch_all(pool).await?;
            let items = rows.iter().map(|r| Ok(alert_from_row!(r))).collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Page::from_rows(items, limit, |a: &Alert| a.id.to_string()))
        })
    }

    /// Saves an officer's change to an alert if nobody changed it since it
    /// was read at `read_at`; `Stale` otherwise.
    pub async fn update_alert(
        &self,
        a: &Alert,
        read_at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "UPDATE alerts SET status = $1, assignee = $2, resolution = $3, updated_at = $4, \
                           outcome = $7 WHERE id = $5 AND updated_at = $6";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(SQL)
                .bind(a.status.as_str())
                .bind(a.assignee.as_ref().map(UserId::as_str))
                .bind(a.resolution.as_deref())
                .bind(to_ms(a.updated_at))
                .bind(a.id.as_str())
                .bind(to_ms(read_at))
                .bind(a.outcome.map(|o| o.as_str()))
                .execute(&mut *tx)
                .await?;
            if n.rows_affected() != 1 {
                return Err(StoreError::Stale { entity: "alert", id: a.id.to_string() });
            }
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }
}
