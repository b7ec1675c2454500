//! `GET /api/v1/stats`: aggregates for analysts, per district and UTC day,
//! and the tracing indicators over the period.
//! Counts and rates only: no names, no person or order ids. The use case is
//! `services::stats`.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use lazaret_core::district::District;
use lazaret_core::indicators::Indicator;
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
    /// The tracing indicators over the whole period, each with the name of
    /// its definition (`docs/indicators.md`).
    pub indicators: Vec<IndicatorView>,
}

/// One indicator over the period.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IndicatorView {
    /// The name of its definition, e.g. `contacts_reached_within_24h`.
    pub name: String,
    /// Absent when there is nothing to compute it from.
    pub value: Option<f64>,
    /// `cases`, `contacts`, `share` (0 to 1), `hours`, `alerts`, `messages`.
    pub unit: String,
    /// For shares: what was counted, and out of what.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numerator: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denominator: Option<i64>,
    /// For means and medians: over how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observations: Option<i64>,
    pub definition: String,
}

impl From<Indicator> for IndicatorView {
    fn from(i: Indicator) -> Self {
        Self {
            name: i.name.to_owned(),
            value: i.value,
            unit: i.unit.to_owned(),
            numerator: i.numerator,
            denominator: i.denominator,
            observations: i.observations,
            definition: i.definition.to_owned(),
        }
    }
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
    let r = stats::report(&state, &officer.as_actor(), q.from, q.to, district).await?;
    Ok(Json(StatsView {
        from: r.from,
        to: r.to,
        days: r.days.into_iter().map(Into::into).collect(),
        indicators: r.indicators.into_iter().map(Into::into).collect(),
    }))
}
