//! Where the officer's districts stand today: orders in force, today's
//! prompts, open alerts by kind and age, and (for roles that read health
//! data or aggregates) new cases and the tracing still to do. Counts only;
//! the read is audited.

use chrono::{DateTime, Utc};
use lazaret_core::user::Permission;
use lazaret_store::DistrictOverview;

use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// The overview at `now`; "today" is the UTC day so far.
#[derive(Debug, Clone)]
pub struct Overview {
    pub now: DateTime<Utc>,
    pub districts: Vec<DistrictOverview>,
    /// Whether the counts about cases (and `symptomatic` alerts) are in.
    pub with_cases: bool,
}

/// Whether `actor` sees the counts about cases: health roles, and analysts
/// (whose work is aggregates); not compliance officers.
pub fn sees_cases(actor: &Actor) -> bool {
    let role = actor.role();
    role.allows(Permission::ReadHealth) || role.allows(Permission::ReadAggregates)
}

pub async fn read(state: &AppState, actor: &Actor) -> Result<Overview, ServiceError> {
    let now = state.now();
    let day_start = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    let with_cases = sees_cases(actor);
    let districts = state
        .store
        .overview(now, day_start, actor.districts(), with_cases)
        .await?;
    let audit = actor.audit(
        now,
        "overview.read",
        "stats",
        "*",
        format!("districts={}", actor.districts()),
    );
    state.store.record_audit(&audit).await?;
    Ok(Overview {
        now,
        districts,
        with_cases,
    })
}
