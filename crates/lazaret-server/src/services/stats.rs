//! Aggregates for analysts: counts and rates per district and UTC day,
//! limited to the analyst's districts; no names, no person ids. The read
//! is audited with its query.

use chrono::{DateTime, Duration, Utc};
use lazaret_core::district::{District, DistrictScope};
use lazaret_core::ValidationError;
use lazaret_store::DayStats;

use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// The longest period one request may ask for.
pub const MAX_DAYS: i64 = 366;

/// Days of `[from, to)` (default: the 30 days up to now) in the actor's
/// districts, or in one of them (`district`; one outside them gives no rows,
/// as if it had no data).
pub async fn daily(
    state: &AppState,
    actor: &Actor,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    district: Option<District>,
) -> Result<Vec<DayStats>, ServiceError> {
    let to = to.unwrap_or_else(|| state.now());
    let from = from.unwrap_or(to - Duration::days(30));
    if from >= to {
        return Err(ValidationError::new("to", "must be after from").into());
    }
    if to - from > Duration::days(MAX_DAYS) {
        return Err(ValidationError::new(
            "from",
            format!("a request covers at most {MAX_DAYS} days"),
        )
        .into());
    }
    let scope = match district {
        Some(d) if actor.districts().covers(&d) => DistrictScope::Only([d].into()),
        Some(_) => DistrictScope::Only(Default::default()),
        None => actor.districts().clone(),
    };
    let rows = state.store.stats(from, to, &scope).await?;
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
    Ok(rows)
}
