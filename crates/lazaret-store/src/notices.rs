//! Notices of contacts' orders: which orders have moved past what their
//! person was last told (`orders.notice_state`), and the record of a
//! notice sent, with its message, in one transaction.

use chrono::{DateTime, Utc};
use lazaret_core::ids::{OrderId, PersonId};
use lazaret_core::order::TimeZone;
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::outbox::{insert_message, NewOutboxMessage};

/// A contact's order whose person has not been told its latest change.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderToNotify {
    pub id: OrderId,
    pub person_id: PersonId,
    pub address: String,
    pub active: bool,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub time_zone: TimeZone,
    /// What the person was last told (`None`: nothing).
    pub notice_state: Option<String>,
}

impl OrderToNotify {
    /// The state once told of the order as it stands.
    pub fn current_state(&self) -> String {
        if self.active {
            format!("issued:{}", to_ms(self.ends_at))
        } else {
            "ended".to_owned()
        }
    }
}

impl Store {
    /// Up to `limit` contacts' orders whose person was not told their latest
    /// change, oldest first: a new order resting on someone else's test, or
    /// an order announced before whose end moved or that ended (a revision
    /// may have taken the test it rested on).
    pub async fn orders_to_notify(&self, limit: i64) -> Result<Vec<OrderToNotify>, StoreError> {
        // `CAST(… AS TEXT)`: one spelling both backends read the same.
        const SQL: &str = "SELECT o.id, o.person_id, o.address, o.status, o.starts_at, o.ends_at, \
             o.ended_at, o.time_zone, o.notice_state FROM orders o \
             WHERE o.status IN ('active', 'completed', 'released') \
             AND ((o.notice_state IS NULL \
                   AND EXISTS (SELECT 1 FROM order_basis_tests b JOIN test_results t ON t.id = b.test_id \
                               WHERE b.order_id = o.id AND t.person_id <> o.person_id)) \
                  OR (o.notice_state LIKE 'issued:%' AND (o.status <> 'active' \
                      OR o.notice_state <> 'issued:' || CAST(o.ends_at AS TEXT)))) \
             ORDER BY o.updated_at, o.id LIMIT $1";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(limit).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    let bad = |e: lazaret_core::ValidationError| StoreError::corrupt("orders", e);
                    Ok(OrderToNotify {
                        id: OrderId::parse(r.try_get::<&str, _>("id")?).map_err(bad)?,
                        person_id: PersonId::parse(r.try_get::<&str, _>("person_id")?).map_err(bad)?,
                        address: r.try_get("address")?,
                        active: r.try_get::<&str, _>("status")? == "active",
                        starts_at: from_ms("orders", r.try_get("starts_at")?)?,
                        ends_at: from_ms("orders", r.try_get("ends_at")?)?,
                        ended_at: r
                            .try_get::<Option<i64>, _>("ended_at")?
                            .map(|m| from_ms("orders", m))
                            .transpose()?,
                        time_zone: TimeZone::parse(r.try_get::<&str, _>("time_zone")?).map_err(bad)?,
                        notice_state: r.try_get("notice_state")?,
                    })
                })
                .collect()
        })
    }

    /// Records that the person of `order` was told of it as `state` (was
    /// `seen`), with the notice's message (none when there is nothing worth
    /// saying, e.g. an order that ended before it was ever announced). False
    /// when someone else recorded it first.
    pub async fn record_order_notice(
        &self,
        order: &OrderToNotify,
        state: &str,
        message: Option<&NewOutboxMessage>,
    ) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(
                "UPDATE orders SET notice_state = $1 WHERE id = $2 \
                 AND COALESCE(notice_state, '') = $3",
            )
            .bind(state)
            .bind(order.id.as_str())
            .bind(order.notice_state.as_deref().unwrap_or(""))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok(false);
            }
            if let Some(m) = message {
                let _new = insert_message!(self, tx, m);
            }
            tx.commit().await?;
            Ok(true)
        })
    }
}
