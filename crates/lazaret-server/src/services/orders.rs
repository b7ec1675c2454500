//! Quarantine orders: create (or extend the person's active order), extend,
//! move through the lifecycle (an order that ends goes through
//! `Store::end_order`, which winds down its prompts, forms, links and
//! alerts in the same transaction), many from a CSV, and the audited reads.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::geo::Geofence;
use lazaret_core::ids::{OrderId, PersonId};
use lazaret_core::order::{validate_period, OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::Address;
use lazaret_core::ValidationError;
use lazaret_store::{OrderFilter, OrdersCsvReport, Page, PageRequest, WrittenOrder};

use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// A new order as the front end parsed it.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub person_id: PersonId,
    pub address: Address,
    pub geofence: Geofence,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: TimeZone,
    pub basis: OrderBasis,
    /// `active` or `proposed`.
    pub status: OrderStatus,
    /// The district it belongs to; `None` takes the default (see
    /// [`choose_district`]).
    pub district: Option<District>,
}

/// The district a new record goes to: the one named, which must be one of
/// the officer's (else 422 on `district`: never created elsewhere); else the
/// officer's sole district; else, for a national officer, `national` (the
/// person's district for an order); an officer of several districts must
/// name it (422).
pub fn choose_district(
    actor: &Actor,
    named: Option<District>,
    national: impl FnOnce() -> District,
) -> Result<District, ServiceError> {
    let scope = actor.districts();
    match named {
        Some(d) if scope.covers(&d) => Ok(d),
        Some(d) => Err(ValidationError::new(
            "district",
            format!("{d} is not one of your districts"),
        )
        .into()),
        None => match (scope.sole(), scope) {
            (Some(d), _) => Ok(d.clone()),
            (None, DistrictScope::All) => Ok(national()),
            (None, _) => Err(ValidationError::new(
                "district",
                "is required: you work in several districts",
            )
            .into()),
        },
    }
}

/// Stores a new order, or, for an active order of a person who has one,
/// folds the basis and the later end into that order (`written` says which).
pub async fn create_or_extend(
    state: &AppState,
    actor: &Actor,
    new: NewOrder,
) -> Result<WrittenOrder, ServiceError> {
    validate_period(new.starts_at, new.ends_at)?;
    if !matches!(new.status, OrderStatus::Active | OrderStatus::Proposed) {
        return Err(ValidationError::new("status", "a new order is active or proposed").into());
    }
    // A person outside the officer's districts is as unknown as a missing one.
    let Some(person) = state
        .store
        .get_person_in(&new.person_id, actor.districts())
        .await?
    else {
        return Err(ServiceError::MissingReference {
            entity: "person",
            id: new.person_id.to_string(),
        });
    };
    let district = choose_district(actor, new.district, || person.district)?;
    // A further active order extends the person's active one: never one in a
    // district the officer does not work in (their officers decide on it).
    if new.status == OrderStatus::Active {
        let active = OrderFilter {
            status: Some(OrderStatus::Active),
            person_id: Some(new.person_id.clone()),
            districts: None,
        };
        let one = PageRequest {
            cursor: None,
            limit: Some(1),
        };
        let page = state.store.list_orders(&active, &one).await?;
        if page
            .items
            .iter()
            .any(|o| !actor.districts().covers(&o.district))
        {
            return Err(ValidationError::new(
                "person_id",
                "this person has an active order in a district that is not yours; \
                 its officers extend it",
            )
            .into());
        }
    }
    let now = state.now();
    let order = QuarantineOrder {
        id: OrderId::generate(),
        person_id: new.person_id,
        address: new.address,
        geofence: new.geofence,
        starts_at: new.starts_at,
        ends_at: new.ends_at,
        time_zone: new.time_zone,
        bases: vec![new.basis],
        status: new.status,
        status_reason: None,
        district,
        created_at: now,
        updated_at: now,
    };
    Ok(state
        .store
        .create_or_extend_order(&order, actor.name())
        .await?)
}

/// A time strictly later than the version of the order read at `read_at`,
/// so the store's optimistic check can tell the two versions apart.
fn after(state: &AppState, read_at: DateTime<Utc>) -> DateTime<Utc> {
    state.now().max(read_at + Duration::milliseconds(1))
}

/// Moves the end of order `order_id` later (at most 60 days ahead), with a
/// reason for the audit log.
pub async fn extend(
    state: &AppState,
    actor: &Actor,
    order_id: &str,
    ends_at: DateTime<Utc>,
    reason: &str,
) -> Result<QuarantineOrder, ServiceError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ValidationError::new("reason", "an extension needs a reason").into());
    }
    lazaret_core::audit::check_reason("reason", reason)?;
    let mut order = state.load_order_for(actor, order_id).await?;
    let read_at = order.updated_at;
    let now = after(state, read_at);
    let from = order.ends_at;
    order.extend(ends_at, now)?;
    let audit = actor.audit(
        now,
        "order.extend",
        "order",
        order_id,
        serde_json::json!({ "from_ends_at": from, "ends_at": order.ends_at, "reason": reason })
            .to_string(),
    );
    state.store.update_order(&order, read_at, &audit).await?;
    Ok(order)
}

/// Moves order `order_id` to `to` (a release needs a reason). Ending it
/// (released or completed) goes through `Store::end_order`: open prompts
/// and forms cancelled, links revoked, unsent messages withdrawn and open
/// alerts resolved in the same transaction.
pub async fn transition(
    state: &AppState,
    actor: &Actor,
    order_id: &str,
    to: OrderStatus,
    reason: Option<&str>,
) -> Result<QuarantineOrder, ServiceError> {
    let mut order = state.load_order_for(actor, order_id).await?;
    let read_at = order.updated_at;
    let now = after(state, read_at);
    let from = order.status;
    order.transition(to, reason, now)?;
    let audit = actor.audit(
        now,
        "order.transition",
        "order",
        order_id,
        format!("{from}->{to}"),
    );
    if order.status.is_terminal() {
        state.store.end_order(&order, read_at, &audit).await?;
    } else {
        state.store.update_order(&order, read_at, &audit).await?;
    }
    Ok(order)
}

/// Orders from a CSV: all rows or none; `dry_run` reports without storing.
/// Bad rows are refused together as [`ServiceError::InvalidRows`].
pub async fn bulk(
    state: &AppState,
    actor: &Actor,
    csv: &[u8],
    dry_run: bool,
) -> Result<OrdersCsvReport, ServiceError> {
    let report = state
        .store
        .import_orders_csv(
            csv,
            dry_run,
            actor.districts(),
            None,
            actor.name(),
            state.now(),
        )
        .await?;
    if !report.errors.is_empty() {
        let total = report.error_count();
        let kept = state.config.limits.csv_max_row_errors as usize;
        return Err(ServiceError::InvalidRows {
            rows: report.rows,
            errors: report.errors.into_iter().take(kept).collect(),
            total,
        });
    }
    Ok(report)
}

/// Order `order_id`; the read is audited.
pub async fn read(
    state: &AppState,
    actor: &Actor,
    order_id: &str,
) -> Result<QuarantineOrder, ServiceError> {
    let order = state.load_order_for(actor, order_id).await?;
    let audit = actor.audit(state.now(), "order.read", "order", order_id, String::new());
    state.store.record_audit(&audit).await?;
    Ok(order)
}

/// A page of orders; the ids shown are audited.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    filter: &OrderFilter,
    page: &PageRequest,
) -> Result<Page<QuarantineOrder>, ServiceError> {
    let filter = OrderFilter {
        districts: Some(actor.narrow(filter.districts.as_ref())),
        ..filter.clone()
    };
    let page = state.store.list_orders(&filter, page).await?;
    let ids: Vec<&str> = page.items.iter().map(|o| o.id.as_str()).collect();
    let audit = actor.audit(state.now(), "order.list", "order", "*", ids.join(","));
    state.store.record_audit(&audit).await?;
    Ok(page)
}
