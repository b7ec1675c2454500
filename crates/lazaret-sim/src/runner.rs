//! Many runs of every policy on one region, spread over threads. Run `r` of
//! every policy uses the same seed, so the policies face the same
//! introductions, courses and contacts until their measures make the
//! outbreaks differ (common random numbers); the baseline (`isolation`) is
//! always run, because "averted" is measured against it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Serialize;

use crate::disease::{calibrate, Calibration};
use crate::model::{run, RunOutcome};
use crate::policy::{SimPolicy, BASELINE};
use crate::region::Region;

#[derive(Debug, Clone)]
pub struct Plan {
    pub policies: Vec<SimPolicy>,
    pub runs: u32,
    /// Seed of run 0; run `r` uses `seed + r`.
    pub seed: u64,
    pub threads: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub region: String,
    pub population: u32,
    pub days: u32,
    pub runs: u32,
    pub seed: u64,
    pub calibration: Calibration,
    pub policies: Vec<SimPolicy>,
    /// `outcomes[p][r]`: policy `p`, run `r`.
    #[serde(skip)]
    pub outcomes: Vec<Vec<RunOutcome>>,
}

impl Results {
    pub fn baseline(&self) -> usize {
        self.policies
            .iter()
            .position(|p| p.name == BASELINE)
            .expect("the baseline is always run")
    }
}

/// Runs `plan` on `region`; `progress(done, total)` after each run.
pub fn simulate(region: &Region, plan: &Plan, progress: &(dyn Fn(u64, u64) + Sync)) -> Results {
    let mut policies = plan.policies.clone();
    if !policies.iter().any(|p| p.name == BASELINE) {
        let baseline = SimPolicy::builtin(BASELINE, &region.config.response)
            .expect("the baseline is built in");
        policies.insert(0, baseline);
    }
    let calibration = calibrate(region);
    let runs = plan.runs.max(1) as usize;
    let total = runs * policies.len();
    let slots: Vec<Mutex<Option<RunOutcome>>> = (0..total).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..plan.threads.clamp(1, total) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= total {
                    return;
                }
                let (r, p) = (k / policies.len(), k % policies.len());
                let outcome = run(
                    region,
                    &calibration,
                    &policies[p],
                    plan.seed.wrapping_add(r as u64),
                );
                *slots[k]
                    .lock()
                    .expect("no run panics while holding its slot") = Some(outcome);
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(d as u64, total as u64);
            });
        }
    });
    let mut outcomes: Vec<Vec<RunOutcome>> = vec![Vec::with_capacity(runs); policies.len()];
    for (k, slot) in slots.into_iter().enumerate() {
        let outcome = slot
            .into_inner()
            .expect("no run panics while holding its slot")
            .expect("every run finished");
        outcomes[k % policies.len()].push(outcome);
    }
    Results {
        region: region.config.name.clone(),
        population: region.population(),
        days: region.config.days,
        runs: runs as u32,
        seed: plan.seed,
        calibration,
        policies,
        outcomes,
    }
}
