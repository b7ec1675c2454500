//! `/api/v1/orders`: quarantine orders and their lifecycle. The use cases
//! are `services::orders`; these handlers parse, authorise and render.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use lazaret_core::district::District;
use lazaret_core::geo::{Coordinates, Geofence, DEFAULT_RADIUS_M};
use lazaret_core::ids::{PersonId, TestId};
use lazaret_core::order::{OrderBasis, OrderStatus, QuarantineOrder, TimeZone};
use lazaret_core::person::Address;
use lazaret_core::user::Permission;
use lazaret_store::{OrderFilter, OrderWrite, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::services::orders;
use crate::state::AppState;

/// What an order rests on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Basis {
    /// Arrival from an area under a travel measure.
    Arrival { area: String },
    /// Close contact of a case, resting on the case's positive test. Both ids
    /// are required on input; in answers they are left out for officers
    /// without access to health data (who the case is and which test it was
    /// are health data).
    Contact {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        case_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        test_id: Option<String>,
    },
    /// The person's own positive test (the id is left out as for `contact`).
    PositiveTest {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        test_id: Option<String>,
    },
}

impl Basis {
    pub(crate) fn parse(self) -> Result<OrderBasis, ApiError> {
        Ok(match self {
            Self::Arrival { area } => {
                let area = area.trim();
                if area.is_empty() {
                    return Err(lazaret_core::ValidationError::new(
                        "basis.area",
                        "must not be empty",
                    )
                    .into());
                }
                OrderBasis::Arrival {
                    area: area.to_owned(),
                }
            }
            Self::Contact { case_id, test_id } => OrderBasis::Contact {
                case_id: PersonId::parse(&required(case_id, "basis.case_id")?)?,
                test_id: TestId::parse(&required(test_id, "basis.test_id")?)?,
            },
            Self::PositiveTest { test_id } => OrderBasis::PositiveTest {
                test_id: TestId::parse(&required(test_id, "basis.test_id")?)?,
            },
        })
    }

    /// The basis as an officer without health access sees it: its kind
    /// (and an arrival's area), not the case or the test.
    pub(crate) fn without_health_data(self) -> Self {
        match self {
            Self::Arrival { area } => Self::Arrival { area },
            Self::Contact { .. } => Self::Contact {
                case_id: None,
                test_id: None,
            },
            Self::PositiveTest { .. } => Self::PositiveTest { test_id: None },
        }
    }
}

fn required(v: Option<String>, field: &'static str) -> Result<String, ApiError> {
    v.ok_or_else(|| lazaret_core::ValidationError::new(field, "is required").into())
}

impl From<OrderBasis> for Basis {
    fn from(b: OrderBasis) -> Self {
        match b {
            OrderBasis::Arrival { area } => Self::Arrival { area },
            OrderBasis::Contact { case_id, test_id } => Self::Contact {
                case_id: Some(case_id.into()),
                test_id: Some(test_id.into()),
            },
            OrderBasis::PositiveTest { test_id } => Self::PositiveTest {
                test_id: Some(test_id.into()),
            },
        }
    }
}

/// Order states; only `proposed` → `active`/`released` and `active` →
/// `completed`/`released` are allowed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Proposed,
    Active,
    Completed,
    Released,
}

impl From<Status> for OrderStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Proposed => Self::Proposed,
            Status::Active => Self::Active,
            Status::Completed => Self::Completed,
            Status::Released => Self::Released,
        }
    }
}

impl From<OrderStatus> for Status {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::Proposed => Self::Proposed,
            OrderStatus::Active => Self::Active,
            OrderStatus::Completed => Self::Completed,
            OrderStatus::Released => Self::Released,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub person_id: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    /// Geofence radius in metres (default 100).
    pub radius_m: Option<f64>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub basis: Basis,
    /// IANA zone for the person's day (default UTC).
    pub time_zone: Option<String>,
    /// `active` (default) or `proposed`.
    pub status: Option<Status>,
    /// One of your districts. Default: your sole district; an officer of
    /// several districts must name it (422); a national officer's default
    /// is the person's district. A district not yours: 422, nothing created.
    pub district: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    pub person_id: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub radius_m: f64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: String,
    pub bases: Vec<Basis>,
    pub status: Status,
    pub status_reason: Option<String>,
    pub district: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<QuarantineOrder> for OrderView {
    fn from(o: QuarantineOrder) -> Self {
        Self {
            id: o.id.into(),
            person_id: o.person_id.into(),
            address: o.address.into(),
            lat: o.geofence.center.lat(),
            lon: o.geofence.center.lon(),
            radius_m: o.geofence.radius_m,
            starts_at: o.starts_at,
            ends_at: o.ends_at,
            time_zone: o.time_zone.into(),
            bases: o.bases.into_iter().map(Into::into).collect(),
            status: o.status.into(),
            status_reason: o.status_reason,
            district: o.district.into(),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

impl OrderView {
    /// The order as `officer` may see it: bases without case and test ids
    /// unless the role reads health data.
    pub fn seen_by(o: QuarantineOrder, officer: &Officer) -> Self {
        let mut v = Self::from(o);
        if !officer.role.allows(Permission::ReadHealth) {
            v.bases = v
                .bases
                .into_iter()
                .map(Basis::without_health_data)
                .collect();
        }
        v
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListOrders {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    pub status: Option<Status>,
    pub person_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// The state to move to.
    pub to: Status,
    /// Required when releasing.
    pub reason: Option<String>,
}

/// What creating an order did: a person has at most one active order, so
/// an active order for a person who already has one extends that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Written {
    /// A new order (201).
    Created,
    /// The person's active order took the new basis and/or the later end (200).
    Extended,
    /// The person's active order already had this basis and a late enough end (200).
    Unchanged,
}

impl From<OrderWrite> for Written {
    fn from(w: OrderWrite) -> Self {
        match w {
            OrderWrite::Created => Self::Created,
            OrderWrite::Extended => Self::Extended,
            OrderWrite::Unchanged => Self::Unchanged,
        }
    }
}

/// The order as it stands, and what the request did to it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WrittenOrderView {
    #[serde(flatten)]
    pub order: OrderView,
    pub written: Written,
}

pub(crate) fn written_status(w: OrderWrite) -> StatusCode {
    match w {
        OrderWrite::Created => StatusCode::CREATED,
        OrderWrite::Extended | OrderWrite::Unchanged => StatusCode::OK,
    }
}

/// Creating an active order for a person who already has one adds the new
/// basis to the existing order and moves its end to the later of the two
/// (the existing place, radius and time zone stay); the answer is then 200
/// with `written: extended` (or `unchanged`) instead of 201 `created`.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = NewOrder,
    security(("bearer" = [])),
    responses((status = 201, body = WrittenOrderView, description = "created"),
        (status = 200, body = WrittenOrderView, description = "the person's active order, extended or unchanged"),
        (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_order(
    State(state): State<AppState>,
    officer: Officer,
    ApiJson(body): ApiJson<NewOrder>,
) -> Result<(StatusCode, Json<WrittenOrderView>), ApiError> {
    officer.require(Permission::WriteOrders, "issue orders")?;
    let center = Coordinates::new(body.lat, body.lon)?;
    let new = orders::NewOrder {
        person_id: PersonId::parse(&body.person_id)?,
        geofence: Geofence::new(center, body.radius_m.unwrap_or(DEFAULT_RADIUS_M))?,
        starts_at: body.starts_at,
        ends_at: body.ends_at,
        status: body.status.unwrap_or(Status::Active).into(),
        address: Address::parse(&body.address)?,
        time_zone: body
            .time_zone
            .as_deref()
            .map(TimeZone::parse)
            .transpose()?
            .unwrap_or_default(),
        basis: body.basis.parse()?,
        district: body.district.as_deref().map(District::parse).transpose()?,
    };
    let w = orders::create_or_extend(&state, &officer.as_actor(), new).await?;
    Ok((
        written_status(w.write),
        Json(WrittenOrderView {
            order: OrderView::seen_by(w.order, &officer),
            written: w.write.into(),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// The new end; must be later than the current one and at most 60 days ahead.
    pub ends_at: DateTime<Utc>,
    /// Why (kept in the audit log).
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/extend", tag = "orders",
    params(("id" = String, Path, description = "Order id")), request_body = Extension,
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "the order is completed or released, or changed meanwhile"),
        (status = 422, body = Problem, description = "no reason, or the end is not later")))]
pub async fn extend_order(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Extension>,
) -> Result<Json<OrderView>, ApiError> {
    officer.require(Permission::WriteOrders, "extend orders")?;
    let actor = officer.as_actor();
    let order = orders::extend(&state, &actor, &id, body.ends_at, &body.reason).await?;
    Ok(Json(OrderView::seen_by(order, &officer)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BulkParams {
    /// Validate and report what would happen; store nothing.
    pub dry_run: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkRow {
    pub line: u64,
    pub person_id: String,
    pub order_id: String,
    pub written: Written,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkResult {
    pub rows: u64,
    pub created: u64,
    pub extended: u64,
    pub unchanged: u64,
    pub dry_run: bool,
    /// Whether the orders are now stored (false on a dry run).
    pub committed: bool,
    pub results: Vec<BulkRow>,
}

/// Many orders from a CSV body (`Content-Type: text/csv`) with the header
/// `person_id,address,lat,lon,radius_m,starts_at,ends_at,basis,time_zone[,district]`;
/// `radius_m` (100) and `time_zone` (UTC) may be empty; `district` as in
/// `POST /api/v1/orders` (a district not yours is a bad row); `basis` is
/// `arrival:AREA`, `positive_test:TEST_ID` or `contact:CASE_ID:TEST_ID`.
/// All rows are stored or none; a person with an active order gets it
/// extended, so sending the same file again changes nothing.
#[utoipa::path(post, path = "/api/v1/orders/bulk", tag = "orders", params(BulkParams),
    request_body(content = String, content_type = "text/csv"),
    security(("bearer" = [])),
    responses((status = 200, body = BulkResult), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem, description = "invalid_rows: `errors` lists the first bad rows (`[limits] csv_max_row_errors`), `error_count` all of them; nothing was stored"),
        (status = 429, body = Problem, description = "rate_limited, with Retry-After")))]
pub async fn bulk_orders(
    State(state): State<AppState>,
    officer: Officer,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<BulkParams>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BulkResult>, ApiError> {
    officer.require(Permission::WriteOrders, "issue orders")?;
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/csv"));
    if !is_csv {
        return Err(ApiError::UnsupportedMediaType("text/csv"));
    }
    let body = body.map_err(|_| ApiError::TooLarge)?;
    let dry_run = q.dry_run.unwrap_or(false);
    let report = orders::bulk(&state, &officer.as_actor(), &body[..], dry_run).await?;
    Ok(Json(BulkResult {
        rows: report.rows,
        created: report.created,
        extended: report.extended,
        unchanged: report.unchanged,
        dry_run: report.dry_run,
        committed: report.committed,
        results: report
            .results
            .into_iter()
            .map(|r| BulkRow {
                line: r.line,
                person_id: r.person_id,
                order_id: r.order_id,
                written: r.write.into(),
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get_order(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OrderView>, ApiError> {
    officer.require(Permission::ReadOrders, "read orders")?;
    let order = orders::read(&state, &officer.as_actor(), &id).await?;
    Ok(Json(OrderView::seen_by(order, &officer)))
}

#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(ListOrders),
    security(("bearer" = [])),
    responses((status = 200, body = OrderPage), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list_orders(
    State(state): State<AppState>,
    officer: Officer,
    ApiQuery(q): ApiQuery<ListOrders>,
) -> Result<Json<OrderPage>, ApiError> {
    officer.require(Permission::ReadOrders, "read orders")?;
    let filter = OrderFilter {
        status: q.status.map(Into::into),
        person_id: q.person_id.as_deref().map(PersonId::parse).transpose()?,
        ..OrderFilter::default()
    };
    let page = PageRequest {
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = orders::list(&state, &officer.as_actor(), &filter, &page).await?;
    Ok(Json(OrderPage {
        items: page
            .items
            .into_iter()
            .map(|o| OrderView::seen_by(o, &officer))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/transitions", tag = "orders",
    params(("id" = String, Path, description = "Order id")), request_body = Transition,
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn transition_order(
    State(state): State<AppState>,
    officer: Officer,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Transition>,
) -> Result<Json<OrderView>, ApiError> {
    officer.require(Permission::WriteOrders, "change orders")?;
    let actor = officer.as_actor();
    let to = body.to.into();
    let order = orders::transition(&state, &actor, &id, to, body.reason.as_deref()).await?;
    Ok(Json(OrderView::seen_by(order, &officer)))
}
