//! Quarantine orders repository.

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::geo::{Coordinates, Geofence};
use lazaret_core::ids::{OrderId, PersonId};
use lazaret_core::order::{OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::Address;
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::page::{Page, PageRequest};

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub person_id: Option<PersonId>,
}

const COLUMNS: &str = "id, person_id, address, lat, lon, radius_m, starts_at, ends_at, time_zone, \
                       bases, status, status_reason, created_at, updated_at";

macro_rules! order_from_row {
    ($r:expr) => {{
        let r = $r;
        let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("orders", e);
        let center = Coordinates::new(r.try_get("lat")?, r.try_get("lon")?).map_err(bad)?;
        let bases: Vec<OrderBasis> = serde_json::from_str(r.try_get::<&str, _>("bases")?)
            .map_err(|e| StoreError::corrupt("orders", e))?;
        QuarantineOrder {
            id: OrderId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
            person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?,
            address: Address::parse(r.try_get::<&str, _>("address")?).map_err(bad)?,
            geofence: Geofence::new(center, r.try_get("radius_m")?).map_err(bad)?,
            starts_at: from_ms("orders", r.try_get("starts_at")?)?,
            ends_at: from_ms("orders", r.try_get("ends_at")?)?,
            time_zone: TimeZone::parse(r.try_get::<&str, _>("time_zone")?).map_err(bad)?,
            bases,
            status: r.try_get::<&str, _>("status")?.parse().map_err(bad)?,
            status_reason: r.try_get("status_reason")?,
            created_at: from_ms("orders", r.try_get("created_at")?)?,
            updated_at: from_ms("orders", r.try_get("updated_at")?)?,
        }
    }};
}

pub(crate) fn bases_json(o: &QuarantineOrder) -> String {
    serde_json::to_string(&o.bases).expect("order bases serialise")
}

/// Inserts the row of a new order inside the open transaction `$tx`
/// (shared by direct creation and orders issued from a trace).
macro_rules! insert_order_row {
    ($tx:expr, $o:expr) => {{
        let o: &lazaret_core::order::QuarantineOrder = $o;
        sqlx::query(
            "INSERT INTO orders (id, person_id, address, lat, lon, radius_m, starts_at, ends_at, \
             time_zone, bases, status, status_reason, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(o.id.as_str())
        .bind(o.person_id.as_str())
        .bind(o.address.as_str())
        .bind(o.geofence.center.lat())
        .bind(o.geofence.center.lon())
        .bind(o.geofence.radius_m)
        .bind($crate::db::to_ms(o.starts_at))
        .bind($crate::db::to_ms(o.ends_at))
        .bind(o.time_zone.name())
        .bind($crate::orders::bases_json(o))
        .bind(o.status.as_str())
        .bind(o.status_reason.as_deref())
        .bind($crate::db::to_ms(o.created_at))
        .bind($crate::db::to_ms(o.updated_at))
        .execute(&mut *$tx)
        .await
        .map_err(|e| $crate::error::StoreError::on_insert(e, "order", o.id.as_str()))?;
    }};
}
pub(crate) use insert_order_row;

impl Store {
    /// Stores a new order. Fails with `MissingReference` if the person does
    /// not exist.
    pub async fn insert_order(
        &self,
        o: &QuarantineOrder,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            insert_order_row!(tx, o);
            append_audit!(tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn get_order(&self, id: &OrderId) -> Result<Option<QuarantineOrder>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM orders WHERE id = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(id.as_str()).fetch_optional(pool).await?;
            Ok(match row {
                Some(r) => Some(order_from_row!(&r)),
                None => None,
            })
        })
    }

    pub async fn list_orders(
        &self,
        filter: &OrderFilter,
        page: &PageRequest,
    ) -> Result<Page<QuarantineOrder>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM orders \
             WHERE ($1 IS NULL OR id > $1) AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR person_id = $3) \
             ORDER BY id LIMIT $4"
        );
        let limit = page.limit();
        let after = page.after_key()?;
        on_pool!(self, pool => {
            let rows = sqlx::query(&sql)
                .bind(after.as_deref())
                .bind(filter.status.map(|s| s.as_str()))
                .bind(filter.person_id.as_ref().map(PersonId::as_str))
                .bind(limit + 1)
                .fetch_all(pool)
                .await?;
            let items = rows
                .iter()
                .map(|r| Ok(order_from_row!(r)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Page::from_rows(items, limit, |o: &QuarantineOrder| o.id.to_string()))
        })
    }

    /// Saves a changed order if nobody else changed it since it was read
    /// (`read_at` is the `updated_at` it was read with); `Stale` otherwise.
    pub async fn update_order(
        &self,
        o: &QuarantineOrder,
        read_at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        const SQL: &str =
            "UPDATE orders SET ends_at = $1, bases = $2, status = $3, status_reason = $4, \
                           updated_at = $5 WHERE id = $6 AND updated_at = $7";
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(SQL)
                .bind(to_ms(o.ends_at))
                .bind(bases_json(o))
                .bind(o.status.as_str())
                .bind(o.status_reason.as_deref())
                .bind(to_ms(o.updated_at))
                .bind(o.id.as_str())
                .bind(to_ms(read_at))
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::on_insert(e, "active order of person", o.person_id.as_str()))?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Stale { entity: "order", id: o.id.to_string() });
            }
            append_audit!(tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }
}
