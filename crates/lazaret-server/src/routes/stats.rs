//! `GET /api/v1/stats`: aggregates for analysts, per district and UTC day.
//! Counts and rates only: no names, no person or order ids. The use case is
//! `services::stats`.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::district::District;
use lazaret_core::user::Permission;
use lazaret_store::DayStats;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Officer;
use crate::error::{ApiError, Problem};
use crate::extract::ApiQuery;
use crate::services::stats;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// Start (inclusive, from the start of its UTC day); default 30 days before `to`.
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive); default now. At most 366 days after `from`.
    pub to: Option<DateTime<Utc>>,
    /// One of your districts; default all of them.
    pub district: Option<String>,
}

/// One district's UTC day.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayStatsView {
    pub district: String,
    pub day: NaiveDate,
    /// Orders in force at some time of the day.
    pub orders_active: i64,
    pub orders_started: i64,
    /// Completed or released that day.
    pub orders_ended: i64,
    pub prompts_issued: i64,
    pub prompts_answered: i64,
    pub prompts_missed: i64,
    pub prompts_not_delivered: i64,
    /// Check-in tries, and those verified.
    pub checkins: i64,
    pub checkins_verified: i64,
    /// `checkins_verified / checkins`; absent without a try.
    pub checkin_pass_rate: Option<f64>,
    pub alerts_opened: i64,
}

impl From<DayStats> for DayStatsView {
    fn from(s: DayStats) -> Self {
        Self {
            district: s.district,
            day: s.day,
            orders_active: s.orders_active,
            orders_started: s.orders_started,
            orders_ended: s.orders_ended,
            prompts_issued: s.prompts_issued,
            prompts_answered: s.prompts_answered,
            prompts_missed: s.prompts_missed,
            prompts_not_delivered: s.prompts_not_delivered,
            checkins: s.checkins,
            checkins_verified: s.checkins_verified,
            checkin_pass_rate: s.checkin_pass_rate,
            alerts_opened: s.alerts_opened,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatsView {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The days that saw anything, oldest first, then by district.
    pub days: Vec<DayStatsView>,
}

#[utoipa::path(get, path = "/api/v1/stats", tag = "stats", params(StatsQuery),
    security(("bearer" = [])),
    responses((status = 200, body = StatsView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn get_stats(
    State(state): State<AppState>,
    officer: Officer,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Json<StatsView>, ApiError> {
    officer.require(Permission::ReadAggregates, "read statistics")?;
    let district = q.district.as_deref().map(District::parse).transpose()?;
    let to = q.to.unwrap_or_else(|| state.now());
    let from = q.from.unwrap_or(to - chrono::Duration::days(30));
    let days = stats::daily(&state, &officer.as_actor(), Some(from), Some(to), district).await?;
    Ok(Json(StatsView {
        from,
        to,
        days: days.into_iter().map(Into::into).collect(),
    }))
}
