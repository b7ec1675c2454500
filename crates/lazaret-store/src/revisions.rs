//! Revising a test result and unwinding what rested on it, in one
//! transaction: the test keeps its history, its stored contacts go, and each
//! open order that rested on it is released or kept with a recomputed end.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::ids::{OrderId, PersonId, TestId};
use lazaret_core::order::{OrderBasis, OrderStatus, QuarantineOrder};
use lazaret_core::revision::{plan_order_revision, OrderRevision};
use lazaret_core::test_result::{TestOutcome, TestResult};
use serde::Serialize;
use sqlx::Row;

use crate::audit::append_audit;
use crate::db::BeginWrite as _;
use crate::db::{from_ms, on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::order_end::{end_order_in_tx, OrderEnd};
use crate::tests_repo::revisions_json;
use crate::trace_error::TraceError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleasedOrder {
    pub order_id: OrderId,
    pub person_id: PersonId,
    pub reason: String,
    /// What ending the order wound down (prompts, forms, links, messages,
    /// the alerts it closed).
    pub effects: OrderEnd,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeptOrder {
    pub order_id: OrderId,
    pub person_id: PersonId,
    pub ends_at: DateTime<Utc>,
    pub bases: Vec<OrderBasis>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionReport {
    pub test: TestResult,
    pub released: Vec<ReleasedOrder>,
    pub kept: Vec<KeptOrder>,
    /// Stored contacts that rested on the test and were withdrawn.
    pub contacts_withdrawn: u64,
}

/// How [`Store::revise_test_as`] ends its transaction.
#[derive(Clone, Copy)]
pub enum RevisionMode<'a> {
    /// Stores the revision and its cascade.
    Commit,
    /// Runs every step of the cascade in the transaction and rolls it back:
    /// the report says what committing would do, and nothing is stored (no
    /// audit event either: the caller records the preview's read).
    DryRun,
    /// Commits only when `accept` takes the report (the one an officer
    /// previewed); otherwise rolls back and answers `TraceError::Changed`.
    CommitIf(&'a (dyn Fn(&RevisionReport) -> bool + Sync)),
}

struct Planned {
    order: QuarantineOrder,
    read_at: DateTime<Utc>,
    revision: OrderRevision,
}

impl Store {
    /// Open orders that name `test` in a basis: found both through the basis
    /// index and by scanning bases, so orders made elsewhere are not missed.
    async fn orders_resting_on(&self, test: &TestId) -> Result<Vec<OrderId>, StoreError> {
        const SQL: &str = "SELECT id FROM orders WHERE status IN ('proposed', 'active') \
             AND (bases LIKE $1 OR id IN (SELECT order_id FROM order_basis_tests WHERE test_id = $2)) \
             ORDER BY id";
        // Ids cannot hold '%'; a '_' matching any character only over-selects,
        // and the planner checks each basis exactly.
        let pattern = format!("%\"test_id\":\"{test}\"%");
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(&pattern).bind(test.as_str()).fetch_all(pool).await?;
            rows.iter()
                .map(|r| OrderId::parse(r.try_get::<&str, _>("id")?)
                    .map_err(|e| StoreError::corrupt("orders", e)))
                .collect()
        })
    }

    /// The end each test basis of an order calls for.
    async fn basis_ends(
        &self,
        order: &OrderId,
    ) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
        const SQL: &str = "SELECT test_id, ends_at FROM order_basis_tests WHERE order_id = $1";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(order.as_str()).fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok((r.try_get::<String, _>("test_id")?, from_ms("order_basis_tests", r.try_get("ends_at")?)?)))
                .collect()
        })
    }

    /// Corrects a test result (`reason` is required and recorded) and
    /// recomputes everything that rested on it.
    pub async fn revise_test(
        &self,
        id: &TestId,
        result: TestOutcome,
        reason: &str,
        now: DateTime<Utc>,
        actor: &str,
    ) -> Result<RevisionReport, TraceError> {
        self.revise_test_as(id, result, reason, now, actor, RevisionMode::Commit)
            .await
    }

    /// [`Store::revise_test`], ending as `mode` says: committed, rolled back
    /// (a dry run through the very same steps), or committed only when the
    /// report is the expected one.
    pub async fn revise_test_as(
        &self,
        id: &TestId,
        result: TestOutcome,
        reason: &str,
        now: DateTime<Utc>,
        actor: &str,
        mode: RevisionMode<'_>,
    ) -> Result<RevisionReport, TraceError> {
        let mut test = self
            .get_test_result(id)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "test",
                id: id.to_string(),
            })?;
        let old_revisions = revisions_json(&test);
        test.revise(result, reason, now)?;

        // Only a positive result carries contacts and orders; a correction
        // to positive calls for a fresh trace, not an unwinding.
        let mut planned = Vec::new();
        if result == TestOutcome::Negative {
            for oid in self.orders_resting_on(id).await? {
                let Some(order) = self.get_order(&oid).await? else {
                    continue;
                };
                let ends = self.basis_ends(&oid).await?;
                let basis_end = |b: &OrderBasis| {
                    b.test_id().and_then(|t| {
                        ends.iter()
                            .find(|(tid, _)| tid == t.as_str())
                            .map(|(_, e)| *e)
                    })
                };
                if let Some(revision) = plan_order_revision(&order, id, reason, basis_end) {
                    planned.push(Planned {
                        read_at: order.updated_at,
                        order,
                        revision,
                    });
                }
            }
        }

        let mut released = Vec::new();
        let mut kept = Vec::new();
        for p in &mut planned {
            // A strictly later stamp keeps the optimistic check meaningful
            // even within one millisecond.
            let at = now.max(p.read_at + Duration::milliseconds(1));
            match &p.revision {
                OrderRevision::Release { reason } => {
                    p.order
                        .transition(OrderStatus::Released, Some(reason), at)?;
                    released.push(ReleasedOrder {
                        order_id: p.order.id.clone(),
                        person_id: p.order.person_id.clone(),
                        reason: reason.clone(),
                        effects: OrderEnd::default(),
                    });
                }
                OrderRevision::Keep { bases, ends_at } => {
                    p.order.bases = bases.clone();
                    p.order.ends_at = *ends_at;
                    p.order.updated_at = at;
                    kept.push(KeptOrder {
                        order_id: p.order.id.clone(),
                        person_id: p.order.person_id.clone(),
                        ends_at: *ends_at,
                        bases: bases.clone(),
                    });
                }
            }
        }

        let test_audit = AuditRecord {
            at: now,
            actor: actor.to_owned(),
            action: "test.revise".into(),
            subject_type: "test".into(),
            subject_id: id.to_string(),
            details: serde_json::json!({
                "result": result,
                "reason": reason.trim(),
                "released": released.iter().map(|r| &r.order_id).collect::<Vec<_>>(),
                "kept": kept.iter().map(|k| &k.order_id).collect::<Vec<_>>(),
            })
            .to_string(),
        };
        const TEST_SQL: &str =
            "UPDATE test_results SET result = $1, revisions = $2, updated_at = $3, \
             traced_at = NULL WHERE id = $4 AND revisions = $5";
        const ORDER_SQL: &str = "UPDATE orders SET bases = $1, ends_at = $2, status = $3, \
             status_reason = $4, updated_at = $5 WHERE id = $6 AND updated_at = $7";
        let report = on_pool!(self, pool => {
            let mut tx = pool.begin_write().await.map_err(StoreError::from)?;
            let done = sqlx::query(TEST_SQL)
                .bind(test.result.as_str())
                .bind(revisions_json(&test))
                .bind(to_ms(now))
                .bind(id.as_str())
                .bind(&old_revisions)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Stale { entity: "test", id: id.to_string() }.into());
            }
            let mut withdrawn = 0;
            if result == TestOutcome::Negative {
                withdrawn = sqlx::query("DELETE FROM contacts WHERE test_id = $1")
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?
                    .rows_affected();
                crate::follow_ups::close_follow_ups_of_test!(tx, id, now);
            }
            let orders: BTreeSet<&str> = planned.iter().map(|p| p.order.id.as_str()).collect();
            for p in &planned {
                let o = &p.order;
                if let OrderRevision::Release { .. } = &p.revision {
                    // Released like any other end: its prompts, forms and
                    // alerts end with it, in this transaction.
                    let end = end_order_in_tx!(self, tx, o, p.read_at, actor);
                    if let Some(r) = released.iter_mut().find(|r| r.order_id == o.id) {
                        r.effects = end;
                    }
                } else {
                    let done = sqlx::query(ORDER_SQL)
                        .bind(serde_json::to_string(&o.bases).expect("bases serialise"))
                        .bind(to_ms(o.ends_at))
                        .bind(o.status.as_str())
                        .bind(o.status_reason.as_deref())
                        .bind(to_ms(o.updated_at))
                        .bind(o.id.as_str())
                        .bind(to_ms(p.read_at))
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from)?;
                    if done.rows_affected() != 1 {
                        return Err(StoreError::Stale { entity: "order", id: o.id.to_string() }.into());
                    }
                }
                let (action, details) = match &p.revision {
                    OrderRevision::Release { reason } => ("order.release", serde_json::json!({"reason": reason, "test_id": id})),
                    OrderRevision::Keep { ends_at, .. } => ("order.recompute", serde_json::json!({"test_id": id, "ends_at": ends_at, "bases": o.bases})),
                };
                let rec = AuditRecord {
                    at: now,
                    actor: actor.to_owned(),
                    action: action.into(),
                    subject_type: "order".into(),
                    subject_id: o.id.to_string(),
                    details: details.to_string(),
                };
                append_audit!(self, tx, &rec);
            }
            if !orders.is_empty() {
                sqlx::query("DELETE FROM order_basis_tests WHERE test_id = $1")
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?;
            }
            append_audit!(self, tx, &test_audit);
            let report = RevisionReport {
                test: test.clone(),
                released: std::mem::take(&mut released),
                kept: std::mem::take(&mut kept),
                contacts_withdrawn: withdrawn,
            };
            match mode {
                RevisionMode::Commit => tx.commit().await.map_err(StoreError::from)?,
                RevisionMode::DryRun => tx.rollback().await.map_err(StoreError::from)?,
                RevisionMode::CommitIf(accept) => {
                    if !accept(&report) {
                        tx.rollback().await.map_err(StoreError::from)?;
                        return Err(TraceError::Changed { what: "the revision's cascade" });
                    }
                    tx.commit().await.map_err(StoreError::from)?;
                }
            }
            Ok::<RevisionReport, TraceError>(report)
        })?;
        Ok(report)
    }
}
