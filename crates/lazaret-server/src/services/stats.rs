//! Aggregates for analysts: counts and rates per district and UTC day,
//! limited to the analyst's districts; no names, no person ids. The read
//! is audited with its query. The indicators over the period come with
//! each figure's definition (`docs/indicators.md`).

use chrono::{DateTime, Duration, Utc};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::indicators::{self, Indicator};
use lazaret_store::DayStats;

use crate::services::exports::checked_period;
use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// The longest period one request may ask for.
pub const MAX_DAYS: i64 = 366;

/// The period and districts a request asks for: `[from, to)` (default:
/// the 30 days up to now) in the actor's districts, or in one of them
/// (`district`; one outside them gives no rows, as if it had no data).
fn period(
    state: &AppState,
    actor: &Actor,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    district: Option<District>,
) -> Result<(DateTime<Utc>, DateTime<Utc>, DistrictScope), ServiceError> {
    let (from, to) = checked_period(
        state.now(),
        from,
        to,
        30,
        MAX_DAYS,
        &format!("a request covers at most {MAX_DAYS} days"),
    )?;
    let scope = match district {
        Some(d) if actor.districts().covers(&d) => DistrictScope::Only([d].into()),
        Some(_) => DistrictScope::Only(Default::default()),
        None => actor.districts().clone(),
    };
    Ok((from, to, scope))
}

/// The days of the period that saw anything, and the indicators over the
/// whole period ([`lazaret_core::indicators`]). The read is audited.
pub async fn report(
    state: &AppState,
    actor: &Actor,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    district: Option<District>,
) -> Result<Report, ServiceError> {
    let (from, to, scope) = period(state, actor, from, to, district)?;
    let days = state.store.stats(from, to, &scope).await?;
    let facts = state.store.indicator_facts(from, to, &scope).await?;
    let audit = actor.audit(
        state.now(),
        "stats.read",
        "stats",
        "*",
        format!(
            "from={} to={} districts={scope}",
            from.to_rfc3339(),
            to.to_rfc3339()
        ),
    );
    state.store.record_audit(&audit).await?;
    Ok(Report {
        from,
        to,
        days,
        indicators: indicators::compute(&facts, from, to),
    })
}

/// What `GET /api/v1/stats` and the console overview show.
#[derive(Debug)]
pub struct Report {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub days: Vec<DayStats>,
    pub indicators: Vec<Indicator>,
}

/// The indicators of the last `days` days in each of `districts` (those of
/// the officer's overview), for the console. Districts outside the
/// actor's are skipped. One audit event for the read.
pub async fn recent_by_district(
    state: &AppState,
    actor: &Actor,
    districts: &[String],
    days: i64,
) -> Result<Vec<(String, Vec<Indicator>)>, ServiceError> {
    let to = state.now();
    let from = to - Duration::days(days);
    let mut out = Vec::with_capacity(districts.len());
    for name in districts {
        let d = District::parse(name)?;
        if !actor.districts().covers(&d) {
            continue;
        }
        let facts = state
            .store
            .indicator_facts(from, to, &DistrictScope::Only([d].into()))
            .await?;
        out.push((name.clone(), indicators::compute(&facts, from, to)));
    }
    let audit = actor.audit(
        to,
        "stats.read",
        "stats",
        "*",
        format!(
            "from={} to={} districts={} (overview)",
            from.to_rfc3339(),
            to.to_rfc3339(),
            districts.join(",")
        ),
    );
    state.store.record_audit(&audit).await?;
    Ok(out)
}
