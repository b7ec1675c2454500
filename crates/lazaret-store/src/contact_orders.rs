//! Quarantine orders for close contacts: proposing them from a trace and
//! issuing them. One open order per person at most: a further basis extends
//! the existing order instead of creating a second one.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::audit::AuditRecord;
use lazaret_core::contact::RiskTier;
use lazaret_core::district::District;
use lazaret_core::geo::{Coordinates, Geofence};
use lazaret_core::ids::{OrderId, PersonId};
use lazaret_core::order::{validate_period, OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::Address;
use lazaret_core::tracing_policy::TracingPolicy;
use lazaret_core::zone_lookup::order_time_zone;
use serde::Serialize;
use sqlx::Row;

use crate::audit::append_audit;
use crate::contacts::TraceOutcome;
use crate::db::BeginWrite as _;
use crate::db::{on_pool, to_ms, Store};
use crate::error::StoreError;
use crate::orders::insert_order_row;
use crate::trace_error::TraceError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalAction {
    /// A new order at the contact's registered residence.
    Create,
    /// The person's open order gains this basis and, if needed, a later end.
    Extend,
    /// The open order already rests on this basis and lasts long enough.
    Unchanged,
    /// No residence is known: an officer must supply the place; nothing is
    /// invented.
    NeedsAddress,
    /// The quarantine period after the last exposure is already over.
    Expired,
}

/// One close contact's order, as proposed (or as issued).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderProposal {
    pub person_id: PersonId,
    pub action: ProposalAction,
    /// The existing order (extend/unchanged) or the created one (after issue).
    pub order_id: Option<OrderId>,
    pub basis: OrderBasis,
    pub last_exposure: DateTime<Utc>,
    /// The end this basis alone calls for (last exposure + quarantine days).
    pub basis_ends_at: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub address: Option<Address>,
    pub coordinates: Option<Coordinates>,
    /// The order's zone: an existing order's own, else the zone found at
    /// the residence's coordinates, else the configured default.
    pub time_zone: TimeZone,
    /// Where the order is (or goes): an existing order's district, else the
    /// district the contact lives in, which may not be the case's.
    pub district: District,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposals {
    pub trace: TraceOutcome,
    pub proposals: Vec<OrderProposal>,
}

/// The id of the person's open (proposed or active) order, oldest first.
async fn open_order_id(store: &Store, person: &PersonId) -> Result<Option<OrderId>, StoreError> {
    const SQL: &str =
        "SELECT id FROM orders WHERE person_id = $1 AND status IN ('proposed', 'active') \
                       ORDER BY created_at, id LIMIT 1";
    on_pool!(store, pool => {
        let row = sqlx::query(SQL).bind(person.as_str()).fetch_optional(pool).await?;
        match row {
            Some(r) => Ok(Some(OrderId::parse(r.try_get::<&str, _>("id")?)
                .map_err(|e| StoreError::corrupt("orders", e))?)),
            None => Ok(None),
        }
    })
}

impl Store {
    /// Traces `case` and proposes an order for each close contact. Writes
    /// only the trace (contacts and its audit event), no orders. A new
    /// order's zone is the one at the residence's coordinates (offline
    /// lookup), else `default_zone`.
    pub async fn propose_contact_orders(
        &self,
        case: &PersonId,
        policy: &TracingPolicy,
        default_zone: TimeZone,
        now: DateTime<Utc>,
        actor: &str,
    ) -> Result<Proposals, StoreError> {
        let trace = self.trace_case(case, policy, now, actor).await?;
        let Some(test) = &trace.test else {
            return Ok(Proposals {
                trace,
                proposals: Vec::new(),
            });
        };
        let days = Duration::days(i64::from(policy.quarantine.days_after_last_exposure));
        let mut proposals = Vec::new();
        for c in trace.contacts.iter().filter(|c| c.tier == RiskTier::Close) {
            let basis = OrderBasis::Contact {
                case_id: case.clone(),
                test_id: test.id.clone(),
            };
            let needed_end = c.last_exposure + days;
            let mut p = OrderProposal {
                person_id: c.person_id.clone(),
                action: ProposalAction::Create,
                order_id: None,
                basis,
                last_exposure: c.last_exposure,
                basis_ends_at: needed_end,
                starts_at: now,
                ends_at: needed_end,
                address: None,
                coordinates: None,
                time_zone: default_zone,
                district: self
                    .get_person(&c.person_id)
                    .await?
                    .map_or_else(District::unassigned, |p| p.district),
            };
            if needed_end <= now {
                p.action = ProposalAction::Expired;
            } else if let Some(id) = open_order_id(self, &c.person_id).await? {
                let o = self
                    .get_order(&id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound {
                        entity: "order",
                        id: id.to_string(),
                    })?;
                p.action = if o.bases.contains(&p.basis) && o.ends_at >= needed_end {
                    ProposalAction::Unchanged
                } else {
                    ProposalAction::Extend
                };
                p.order_id = Some(o.id);
                p.starts_at = o.starts_at;
                p.ends_at = o.ends_at.max(needed_end);
                p.address = Some(o.address);
                p.coordinates = Some(o.geofence.center);
                p.time_zone = o.time_zone;
                p.district = o.district;
            } else if let Some(r) = self.residence_of(&c.person_id).await? {
                p.address = Some(r.address);
                p.coordinates = Some(r.coordinates);
                p.time_zone = order_time_zone(Some(&r.coordinates), default_zone);
            } else {
                p.action = ProposalAction::NeedsAddress;
            }
            proposals.push(p);
        }
        Ok(Proposals { trace, proposals })
    }

    /// Issues the proposed orders: creates new ones as active orders (this
    /// call is the officer's decision, and is audited under `actor`), extends
    /// open ones. Running it again changes nothing.
    pub async fn issue_contact_orders(
        &self,
        case: &PersonId,
        policy: &TracingPolicy,
        default_zone: TimeZone,
        now: DateTime<Utc>,
        actor: &str,
    ) -> Result<Proposals, TraceError> {
        self.issue_contact_orders_if(case, policy, default_zone, now, actor, None)
            .await
    }

    /// [`Store::issue_contact_orders`], issuing only when `accept` takes the
    /// fresh proposal (the one an officer previewed); otherwise nothing is
    /// issued and the answer is `TraceError::Changed`.
    pub async fn issue_contact_orders_if(
        &self,
        case: &PersonId,
        policy: &TracingPolicy,
        default_zone: TimeZone,
        now: DateTime<Utc>,
        actor: &str,
        accept: Option<&(dyn Fn(&Proposals) -> bool + Sync)>,
    ) -> Result<Proposals, TraceError> {
        let mut proposals = self
            .propose_contact_orders(case, policy, default_zone, now, actor)
            .await?;
        if accept.is_some_and(|accept| !accept(&proposals)) {
            return Err(TraceError::Changed {
                what: "the proposal",
            });
        }
        for p in &mut proposals.proposals {
            match p.action {
                ProposalAction::Create => {
                    let (Some(address), Some(center)) = (p.address.clone(), p.coordinates) else {
                        continue;
                    };
                    validate_period(p.starts_at, p.ends_at)?;
                    let order = QuarantineOrder {
                        id: OrderId::generate(),
                        person_id: p.person_id.clone(),
                        address,
                        geofence: Geofence::new(center, policy.quarantine.geofence_radius_m)?,
                        starts_at: p.starts_at,
                        ends_at: p.ends_at,
                        time_zone: p.time_zone,
                        bases: vec![p.basis.clone()],
                        status: OrderStatus::Active,
                        status_reason: None,
                        // The contact's district, not the case's.
                        district: p.district.clone(),
                        created_at: now,
                        updated_at: now,
                    };
                    self.insert_contact_order(&order, p, actor).await?;
                    p.order_id = Some(order.id);
                }
                ProposalAction::Extend => {
                    let id = p.order_id.clone().expect("extend names its order");
                    let mut o = self
                        .get_order(&id)
                        .await?
                        .ok_or_else(|| StoreError::NotFound {
                            entity: "order",
                            id: id.to_string(),
                        })?;
                    let read_at = o.updated_at;
                    if !o.bases.contains(&p.basis) {
                        o.bases.push(p.basis.clone());
                    }
                    o.ends_at = o.ends_at.max(p.ends_at);
                    validate_period(o.starts_at, o.ends_at)?;
                    o.updated_at = now.max(read_at + Duration::milliseconds(1));
                    self.extend_contact_order(&o, read_at, p, actor).await?;
                }
                _ => {}
            }
        }
        Ok(proposals)
    }

    async fn insert_contact_order(
        &self,
        o: &QuarantineOrder,
        p: &OrderProposal,
        actor: &str,
    ) -> Result<(), StoreError> {
        let audit = order_audit(o, "order.create", p, actor);
        let test_id = p.basis.test_id().map(|t| t.to_string());
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            insert_order_row!(tx, o);
            if let Some(t) = &test_id {
                sqlx::query(UPSERT_BASIS).bind(o.id.as_str()).bind(t).bind(to_ms(p.basis_ends_at))
                    .execute(&mut *tx).await?;
            }
            append_audit!(self, tx, &audit);
            tx.commit().await?;
            Ok(())
        })
    }

    async fn extend_contact_order(
        &self,
        o: &QuarantineOrder,
        read_at: DateTime<Utc>,
        p: &OrderProposal,
        actor: &str,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE orders SET bases = $1, ends_at = $2, updated_at = $3 \
                           WHERE id = $4 AND updated_at = $5";
        let audit = order_audit(o, "order.extend", p, actor);
        let test_id = p.basis.test_id().map(|t| t.to_string());
        let basis_end = p.basis_ends_at;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(SQL)
                .bind(serde_json::to_string(&o.bases).expect("bases serialise"))
                .bind(to_ms(o.ends_at))
                .bind(to_ms(o.updated_at))
                .bind(o.id.as_str())
                .bind(to_ms(read_at))
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Stale { entity: "order", id: o.id.to_string() });
            }
            if let Some(t) = &test_id {
                sqlx::query(UPSERT_BASIS).bind(o.id.as_str()).bind(t).bind(to_ms(basis_end))
                    .execute(&mut *tx).await?;
            }
            append_audit!(self, tx, &audit);
            tx.commit().await?;
            Ok(())
        })
    }
}

const UPSERT_BASIS: &str =
    "INSERT INTO order_basis_tests (order_id, test_id, ends_at) VALUES ($1, $2, $3) \
     ON CONFLICT (order_id, test_id) DO UPDATE SET ends_at = excluded.ends_at";

fn order_audit(o: &QuarantineOrder, action: &str, p: &OrderProposal, actor: &str) -> AuditRecord {
    AuditRecord {
        at: o.updated_at,
        actor: actor.to_owned(),
        action: action.to_owned(),
        subject_type: "order".into(),
        subject_id: o.id.to_string(),
        details: serde_json::json!({
            "person_id": o.person_id,
            "basis": p.basis,
            "last_exposure": p.last_exposure,
            "ends_at": o.ends_at,
        })
        .to_string(),
    }
}
