//! The supervisors' what-if: a bounded outbreak simulation (`lazaret-sim`)
//! comparing the tracing rules in force with a few variants of them, on a
//! synthetic region of the district's size. It reads no personal data and
//! writes nothing but its audit event; one runs at a time (a second waits up
//! to a minute, then is refused), on one core, so check-ins keep the rest of
//! the machine.

use std::sync::LazyLock;
use std::time::Instant;

use lazaret_core::error::ValidationError;
use lazaret_sim::params::RegionConfig;
use lazaret_sim::policy::{Measures, SimPolicy};
use lazaret_sim::region::Region;
use lazaret_sim::runner::{simulate, Plan};
use lazaret_sim::summary::{summarise, PolicySummary};
use tokio::sync::Semaphore;

use crate::services::{Actor, ServiceError};
use crate::state::AppState;

/// A change to the rules in force, to compare with them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The rules in force, unchanged.
    InForce,
    /// Only the household quarantined; the rest of the building neither
    /// quarantined nor notified.
    HouseholdOnly,
    /// Every resident of the case's building quarantined.
    WholeBuilding,
    /// Quarantine ends 10 days after the last exposure.
    TenDays,
    /// Interviews reach half of the contacts outside the registers.
    DeeperInterviews,
}

impl Variant {
    pub const ALL: [Self; 5] = [
        Self::InForce,
        Self::HouseholdOnly,
        Self::WholeBuilding,
        Self::TenDays,
        Self::DeeperInterviews,
    ];

    pub fn key(&self) -> &'static str {
        match self {
            Self::InForce => "in_force",
            Self::HouseholdOnly => "household_only",
            Self::WholeBuilding => "whole_building",
            Self::TenDays => "ten_days",
            Self::DeeperInterviews => "deeper_interviews",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.key() == raw)
    }

    fn policy(&self, region: &RegionConfig) -> SimPolicy {
        let mut rules = super::tracing::policy();
        let mut response = region.response.clone();
        match self {
            Self::InForce => {}
            Self::HouseholdOnly => {
                rules.residence.building_notify = false;
                rules.residence.building_close = false;
            }
            Self::WholeBuilding => rules.residence.building_close = true,
            Self::TenDays => rules.quarantine.days_after_last_exposure = 10,
            Self::DeeperInterviews => response.interview_reach = 0.5,
        }
        SimPolicy {
            name: self.key().to_owned(),
            measures: Measures::Tracing(rules),
            response,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WhatIfRequest {
    pub population: u32,
    pub days: u32,
    pub runs: u32,
    pub r0: f64,
    pub variants: Vec<Variant>,
}

impl Default for WhatIfRequest {
    fn default() -> Self {
        Self {
            population: 20_000,
            days: 90,
            runs: 8,
            r0: 2.5,
            variants: vec![
                Variant::InForce,
                Variant::HouseholdOnly,
                Variant::WholeBuilding,
            ],
        }
    }
}

pub const MAX_POPULATION: u32 = 50_000;
pub const MIN_POPULATION: u32 = 1_000;
pub const MAX_DAYS: u32 = 120;
pub const MIN_DAYS: u32 = 30;
pub const MAX_RUNS: u32 = 40;
/// The bound on one request's work (agents × days × runs × policies): about
/// 12 CPU-seconds at the bound with an epidemic that is not controlled
/// (measured: 20,000 × 90 × 8 × 4 in 11.6 s on one core).
pub const MAX_AGENT_DAYS: u64 = 60_000_000;

impl WhatIfRequest {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(MIN_POPULATION..=MAX_POPULATION).contains(&self.population) {
            return Err(ValidationError::new(
                "population",
                format!("must be {MIN_POPULATION} to {MAX_POPULATION}"),
            ));
        }
        if !(MIN_DAYS..=MAX_DAYS).contains(&self.days) {
            return Err(ValidationError::new(
                "days",
                format!("must be {MIN_DAYS} to {MAX_DAYS}"),
            ));
        }
        if !(1..=MAX_RUNS).contains(&self.runs) {
            return Err(ValidationError::new(
                "runs",
                format!("must be 1 to {MAX_RUNS}"),
            ));
        }
        if !(self.r0.is_finite() && (0.5..=5.0).contains(&self.r0)) {
            return Err(ValidationError::new("r0", "must be 0.5 to 5"));
        }
        if self.variants.is_empty() {
            return Err(ValidationError::new("variants", "choose at least one"));
        }
        if self.agent_days() > MAX_AGENT_DAYS {
            return Err(ValidationError::new(
                "runs",
                format!(
                    "people × days × runs × compared rules is {}; at most {MAX_AGENT_DAYS}: fewer runs or people",
                    self.agent_days()
                ),
            ));
        }
        Ok(())
    }

    /// The baseline (isolation alone) is always run besides the variants.
    pub fn agent_days(&self) -> u64 {
        u64::from(self.population)
            * u64::from(self.days)
            * u64::from(self.runs)
            * (self.variants.len() as u64 + 1)
    }
}

#[derive(Debug, Clone)]
pub struct WhatIf {
    pub request: WhatIfRequest,
    /// One per rule set, the baseline (`isolation`) first, then the variants
    /// by their keys.
    pub summaries: Vec<PolicySummary>,
    pub seconds: f64,
}

/// One simulation at a time in the whole process.
static RUNNING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(1));
/// How long a request waits for the one running before it is refused.
const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn run(
    state: &AppState,
    actor: &Actor,
    req: WhatIfRequest,
) -> Result<WhatIf, ServiceError> {
    req.validate()?;
    // A second request waits its turn, for a while.
    let permit = tokio::time::timeout(QUEUE_WAIT, RUNNING.acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or(ServiceError::RateLimited {
            what: "what-if simulations at once",
            retry_after_secs: 30,
        })?;
    let audit = actor.audit(
        state.now(),
        "whatif.run",
        "simulation",
        "-",
        format!(
            "population={} days={} runs={} r0={} variants={}",
            req.population,
            req.days,
            req.runs,
            req.r0,
            req.variants
                .iter()
                .map(Variant::key)
                .collect::<Vec<_>>()
                .join(",")
        ),
    );
    state.store.record_audit(&audit).await?;
    let started = Instant::now();
    let work = req.clone();
    let summaries = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let mut config = RegionConfig {
            name: "what-if".into(),
            population: work.population,
            days: work.days,
            ..RegionConfig::default()
        };
        config.disease.r0 = work.r0;
        let region = Region::generate(&config);
        let plan = Plan {
            policies: work.variants.iter().map(|v| v.policy(&config)).collect(),
            runs: work.runs,
            seed: 1,
            threads: 1,
        };
        summarise(&simulate(&region, &plan, &|_, _| {}))
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "the what-if simulation failed");
        ServiceError::Internal
    })?;
    Ok(WhatIf {
        request: req,
        summaries,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_bounded() {
        assert!(WhatIfRequest::default().validate().is_ok());
        let too_big = WhatIfRequest {
            population: MAX_POPULATION,
            days: MAX_DAYS,
            runs: MAX_RUNS,
            ..WhatIfRequest::default()
        };
        assert_eq!(too_big.validate().unwrap_err().field, "runs");
        let none = WhatIfRequest {
            variants: vec![],
            ..WhatIfRequest::default()
        };
        assert_eq!(none.validate().unwrap_err().field, "variants");
        let tiny = WhatIfRequest {
            population: 10,
            ..WhatIfRequest::default()
        };
        assert_eq!(tiny.validate().unwrap_err().field, "population");
        for v in Variant::ALL {
            assert_eq!(Variant::parse(v.key()), Some(v));
        }
    }
}
