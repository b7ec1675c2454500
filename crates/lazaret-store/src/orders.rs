//! Quarantine orders repository.

use chrono::{DateTime, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::geo::{Coordinates, Geofence};
use lazaret_core::ids::{OrderId, PersonId};
use lazaret_core::order::{OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::Address;
use serde::Serialize;
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::page::{Page, PageRequest};
use crate::scope;

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub person_id: Option<PersonId>,
    /// Only these districts (an officer's list always sets it); `None`
    /// for the system's own work (the worker).
    pub districts: Option<DistrictScope>,
}

const COLUMNS: &str = "id, person_id, address, lat, lon, radius_m, starts_at, ends_at, time_zone, \
                       bases, status, status_reason, created_at, updated_at, district";

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
            district: District::parse(r.try_get::<&str, _>("district")?).map_err(bad)?,
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
             time_zone, bases, status, status_reason, created_at, updated_at, district, notice_state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
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
        .bind(o.district.as_str())
        // Only a contact's order is announced (`notices`): the others are
        // never looked at again.
        .bind(
            (!o.bases.iter().any(|b| matches!(b, lazaret_core::order::OrderBasis::Contact { .. })))
                .then_some("none"),
        )
        .execute(&mut *$tx)
        .await
        .map_err(|e| $crate::error::StoreError::on_insert(e, "order", o.id.as_str()))?;
        $crate::orders::record_basis_tests!($tx, &o.id, o);
    }};
}
pub(crate) use insert_order_row;

/// Records, inside `$tx`, the tests the bases of `$o` rest on, with the
/// end `$o` calls for, as bases of order `$id` (a revision, the overview and
/// the notices find an order's tests here).
macro_rules! record_basis_tests {
    ($tx:expr, $id:expr, $o:expr) => {{
        let (id, o): (
            &lazaret_core::ids::OrderId,
            &lazaret_core::order::QuarantineOrder,
        ) = ($id, $o);
        for t in o.bases.iter().filter_map(|b| b.test_id()) {
            sqlx::query(
                "INSERT INTO order_basis_tests (order_id, test_id, ends_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (order_id, test_id) DO NOTHING",
            )
            .bind(id.as_str())
            .bind(t.as_str())
            .bind($crate::db::to_ms(o.ends_at))
            .execute(&mut *$tx)
            .await?;
        }
    }};
}
pub(crate) use record_basis_tests;

/// What writing an order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderWrite {
    /// A new order was stored.
    Created,
    /// The person's active order took the new basis and/or a later end.
    Extended,
    /// The person's active order already had the basis and a late enough end.
    Unchanged,
}

/// An order as it stands after [`Store::create_or_extend_order`].
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenOrder {
    pub order: QuarantineOrder,
    pub write: OrderWrite,
}

/// Inside the open transaction `$tx`: stores the new order `$o`, or, when it
/// is active and its person already has an active order, folds its bases and
/// end into that one. Audited under `$actor`. Evaluates to a `WrittenOrder`.
macro_rules! create_or_extend_in_tx {
    ($store:expr, $tx:expr, $o:expr, $actor:expr) => {{
        let o: &QuarantineOrder = $o;
        let actor: &str = $actor;
        let existing = if o.status == OrderStatus::Active {
            // A no-op write takes the row lock of the person's active order
            // (the write lock on SQLite), so concurrent requests for the same
            // person take turns instead of failing their optimistic check.
            sqlx::query(
                "UPDATE orders SET updated_at = updated_at WHERE person_id = $1 AND status = 'active'",
            )
            .bind(o.person_id.as_str())
            .execute(&mut *$tx)
            .await?;
            let sql = format!(
                "SELECT {COLUMNS} FROM orders WHERE person_id = $1 AND status = 'active'"
            );
            match sqlx::query(&sql)
                .bind(o.person_id.as_str())
                .fetch_optional(&mut *$tx)
                .await?
            {
                Some(r) => Some(order_from_row!(&r)),
                None => None,
            }
        } else {
            None
        };
        match existing {
            None => {
                insert_order_row!($tx, o);
                let rec = AuditRecord {
                    at: o.created_at,
                    actor: actor.to_owned(),
                    action: "order.create".into(),
                    subject_type: "order".into(),
                    subject_id: o.id.to_string(),
                    details: format!("person={}", o.person_id),
                };
                append_audit!($store, $tx, &rec);
                WrittenOrder { order: o.clone(), write: OrderWrite::Created }
            }
            Some(mut cur) => {
                let read_at = cur.updated_at;
                let from_end = cur.ends_at;
                // Strictly later than the version read, so the optimistic
                // check can tell the two versions apart.
                let at = o.created_at.max(read_at + chrono::Duration::milliseconds(1));
                let mut changed = false;
                for b in &o.bases {
                    changed |= cur.add_basis(b, o.ends_at, at);
                }
                if !changed {
                    WrittenOrder { order: cur, write: OrderWrite::Unchanged }
                } else {
                    let done = sqlx::query(
                        "UPDATE orders SET ends_at = $1, bases = $2, updated_at = $3 \
                         WHERE id = $4 AND updated_at = $5 AND status = 'active'",
                    )
                    .bind(to_ms(cur.ends_at))
                    .bind(bases_json(&cur))
                    .bind(to_ms(cur.updated_at))
                    .bind(cur.id.as_str())
                    .bind(to_ms(read_at))
                    .execute(&mut *$tx)
                    .await?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::Stale { entity: "order", id: cur.id.to_string() });
                    }
                    $crate::orders::record_basis_tests!($tx, &cur.id, o);
                    let rec = AuditRecord {
                        at,
                        actor: actor.to_owned(),
                        action: "order.extend".into(),
                        subject_type: "order".into(),
                        subject_id: cur.id.to_string(),
                        details: serde_json::json!({
                            "person_id": cur.person_id,
                            "bases": o.bases,
                            "from_ends_at": from_end,
                            "ends_at": cur.ends_at,
                            "reason": "a further basis for a person with an active order",
                        })
                        .to_string(),
                    };
                    append_audit!($store, $tx, &rec);
                    WrittenOrder { order: cur, write: OrderWrite::Extended }
                }
            }
        }
    }};
}

impl Store {
    /// Stores a new order. Fails with `MissingReference` if the person does
    /// not exist.
    pub async fn insert_order(
        &self,
        o: &QuarantineOrder,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            insert_order_row!(tx, o);
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Stores a new order, or extends the person's active order with its
    /// basis and end (one active order per person). A concurrent request for
    /// the same person is retried, so it extends instead of failing.
    pub async fn create_or_extend_order(
        &self,
        o: &QuarantineOrder,
        actor: &str,
    ) -> Result<WrittenOrder, StoreError> {
        let mut tries = 0;
        loop {
            let result = on_pool!(self, pool => {
                async {
                    let mut tx = pool.begin_write().await?;
                    let w = create_or_extend_in_tx!(self, tx, o, actor);
                    tx.commit().await?;
                    Ok::<_, StoreError>(w)
                }.await
            });
            match result {
                // Another request created or changed the person's active
                // order between our read and our write: read again.
                Err(StoreError::Conflict { .. } | StoreError::Stale { .. }) if tries < 5 => {
                    tries += 1;
                }
                r => return r,
            }
        }
    }

    /// [`Store::create_or_extend_order`] for many orders in one transaction:
    /// all are written or none. With `dry_run` the transaction is rolled
    /// back, so the result says what would happen.
    pub async fn create_or_extend_orders(
        &self,
        orders: &[QuarantineOrder],
        actor: &str,
        dry_run: bool,
    ) -> Result<Vec<WrittenOrder>, StoreError> {
        self.create_or_extend_orders_with(orders, actor, dry_run, None)
            .await
    }

    /// [`Store::create_or_extend_orders`], calling `progress` with the
    /// number of orders written so far every 100 orders and at the end.
    pub async fn create_or_extend_orders_with(
        &self,
        orders: &[QuarantineOrder],
        actor: &str,
        dry_run: bool,
        progress: Option<&(dyn Fn(u64) + Send + Sync)>,
    ) -> Result<Vec<WrittenOrder>, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut out = Vec::with_capacity(orders.len());
            for o in orders {
                out.push(create_or_extend_in_tx!(self, tx, o, actor));
                if out.len() % 100 == 0 {
                    if let Some(p) = progress {
                        p(out.len() as u64);
                    }
                }
            }
            if let Some(p) = progress {
                p(out.len() as u64);
            }
            if dry_run {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
            Ok(out)
        })
    }

    /// Order `id` whatever its district (the system's own work and the
    /// person's own routes).
    pub async fn get_order(&self, id: &OrderId) -> Result<Option<QuarantineOrder>, StoreError> {
        self.get_order_in(id, &DistrictScope::All).await
    }

    /// Order `id` if it belongs to one of `districts` (an officer's read:
    /// outside them it is as unknown as an id that does not exist).
    pub async fn get_order_in(
        &self,
        id: &OrderId,
        districts: &DistrictScope,
    ) -> Result<Option<QuarantineOrder>, StoreError> {
        let (limit, values) = scope::clause("district", districts, 2);
        let sql = format!("SELECT {COLUMNS} FROM orders WHERE id = $1{limit}");
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql).bind(id.as_str());
            for v in &values {
                q = q.bind(v.as_str());
            }
            let row = q.fetch_optional(pool).await?;
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
        let limit = page.limit();
        let mut w = scope::Where::default();
        if let Some(after) = page.after_key()? {
            w.bind("id > ?", after);
        }
        if let Some(status) = filter.status {
            w.bind("status = ?", status.as_str());
        }
        if let Some(person) = &filter.person_id {
            w.bind("person_id = ?", person.as_str());
        }
        if let Some(d) = &filter.districts {
            w.scope("district", d);
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM orders{} ORDER BY id LIMIT ${}",
            w.sql(),
            w.next()
        );
        on_pool!(self, pool => {
            let mut q = sqlx::query(&sql);
            for v in &w.values {
                q = q.bind(v.as_str());
            }
            let rows = q.bind(limit + 1).fetch_all(pool).await?;
            let items = rows
                .iter()
                .map(|r| Ok(order_from_row!(r)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Page::from_rows(items, limit, |o: &QuarantineOrder| o.id.to_string()))
        })
    }

    /// Saves a changed order if nobody else changed it since it was read
    /// (`read_at` is the `updated_at` it was read with); `Stale` otherwise.
    /// An order moved to `completed` or `released` is ended through
    /// [`Store::end_order`], which also winds down its prompts, forms,
    /// links, messages and alerts.
    pub async fn update_order(
        &self,
        o: &QuarantineOrder,
        read_at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> Result<(), StoreError> {
        if o.status.is_terminal() {
            return self.end_order(o, read_at, audit).await.map(|_| ());
        }
        const SQL: &str =
            "UPDATE orders SET ends_at = $1, bases = $2, status = $3, status_reason = $4, \
                           updated_at = $5 WHERE id = $6 AND updated_at = $7";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
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
            append_audit!(self, tx, audit);
            tx.commit().await?;
            Ok(())
        })
    }
}
