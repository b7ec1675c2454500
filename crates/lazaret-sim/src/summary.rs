//! Per policy, over its runs: medians with 95% intervals (the 2.5th and
//! 97.5th percentiles of the runs), and the comparison with the baseline run
//! by run (same seed), which is where common random numbers pay off.

use serde::Serialize;

use std::collections::BTreeMap;

use crate::model::{BySetting, RunOutcome};
use crate::runner::Results;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub median: f64,
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// Percentiles of `values` (NaN-free); `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        Some(Self {
            median: quantile(&v, 0.5),
            low: quantile(&v, 0.025),
            high: quantile(&v, 0.975),
        })
    }
}

/// Linear interpolation between order statistics (type 7, R's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    pub name: String,
    pub runs: u32,
    pub infections: Interval,
    /// Baseline infections minus this policy's, run by run.
    pub averted: Interval,
    /// Averted as a share of the baseline's infections, run by run.
    pub reduction: Option<Interval>,
    pub quarantine_person_days: Interval,
    pub isolation_person_days: Interval,
    /// Infections averted per 1,000 quarantine person-days, run by run (runs
    /// without quarantine left out), and over all runs pooled.
    pub averted_per_1000_quarantine_days: Option<Interval>,
    pub averted_per_1000_quarantine_days_pooled: Option<f64>,
    /// Share of contact orders whose person was infected.
    pub quarantined_infected_share: Option<f64>,
    pub contact_orders: Interval,
    pub confirmed_cases: Interval,
    pub false_positive_cases: f64,
    pub orders_revised: f64,
    pub peak_checkins_per_day: Interval,
    pub peak_alerts_per_day: Interval,
    pub peak_new_orders_per_day: Interval,
    pub peak_traced_cases_per_day: Interval,
    /// Share of runs with no local infection in the last weeks.
    pub controlled: f64,
    /// Mean per run: infections by setting, and those a trace of their
    /// infector found.
    pub infections_by_setting: BTreeMap<String, f64>,
    pub found_by_setting: BTreeMap<String, f64>,
    /// Mean contact quarantine person-days per run, by the rule that ordered them.
    pub quarantine_days_by_rule: BTreeMap<String, f64>,
    /// The case reproduction number of everyone infected in the first
    /// `EARLY_R_DAYS` days, pooled over the runs: the R a policy holds the
    /// outbreak to before immunity matters.
    pub early_r: Option<f64>,
    /// Median and 10th/90th percentile of new infections per day.
    pub daily_infections: Vec<Interval>,
    /// Case reproduction number by day of infection, over all runs pooled;
    /// `None` where too few were infected or their infections are not all
    /// in yet (the last 3 weeks).
    pub effective_r: Vec<Option<f64>>,
}

fn per_run(outcomes: &[RunOutcome], f: impl Fn(&RunOutcome) -> f64) -> Interval {
    let v: Vec<f64> = outcomes.iter().map(f).collect();
    Interval::of(&v).expect("at least one run")
}

fn peak(series: &[f64]) -> f64 {
    series.iter().copied().fold(0.0, f64::max)
}

fn peak_u32(series: &[u32]) -> f64 {
    f64::from(series.iter().copied().max().unwrap_or(0))
}

/// Days at the end whose R is left out: their secondary infections would
/// fall after the run ends.
const R_TAIL_DAYS: usize = 21;
const R_MIN_INFECTED: u32 = 20;
/// The days whose infections `early_r` pools.
pub const EARLY_R_DAYS: usize = 30;

pub fn summarise(results: &Results) -> Vec<PolicySummary> {
    let base = &results.outcomes[results.baseline()];
    results
        .policies
        .iter()
        .zip(&results.outcomes)
        .map(|(policy, runs)| summarise_one(&policy.name, runs, base, results.days as usize))
        .collect()
}

fn summarise_one(
    name: &str,
    runs: &[RunOutcome],
    base: &[RunOutcome],
    days: usize,
) -> PolicySummary {
    let averted: Vec<f64> = runs
        .iter()
        .zip(base)
        .map(|(o, b)| f64::from(b.infections) - f64::from(o.infections))
        .collect();
    let reduction: Vec<f64> = runs
        .iter()
        .zip(base)
        .filter(|(_, b)| b.infections > 0)
        .map(|(o, b)| 1.0 - f64::from(o.infections) / f64::from(b.infections))
        .collect();
    let per_qday: Vec<f64> = runs
        .iter()
        .zip(&averted)
        .filter(|(o, _)| o.quarantine_person_days > 0)
        .map(|(o, a)| a / o.quarantine_person_days as f64 * 1000.0)
        .collect();
    let qdays: u64 = runs.iter().map(|o| o.quarantine_person_days).sum();
    let orders: u64 = runs.iter().map(|o| u64::from(o.contact_orders)).sum();
    let infected: u64 = runs.iter().map(|o| u64::from(o.orders_infected)).sum();
    let daily_infections = (0..days)
        .map(|d| {
            let mut v: Vec<f64> = runs
                .iter()
                .map(|o| f64::from(o.daily_infections[d]))
                .collect();
            v.sort_by(f64::total_cmp);
            Interval {
                median: quantile(&v, 0.5),
                low: quantile(&v, 0.1),
                high: quantile(&v, 0.9),
            }
        })
        .collect();
    let effective_r = (0..days)
        .map(|d| {
            let n: u32 = runs.iter().map(|o| o.cohort_infected[d]).sum();
            let s: u32 = runs.iter().map(|o| o.cohort_secondary[d]).sum();
            (n >= R_MIN_INFECTED && d + R_TAIL_DAYS < days).then(|| f64::from(s) / f64::from(n))
        })
        .collect();
    let early = EARLY_R_DAYS.min(days.saturating_sub(R_TAIL_DAYS));
    let early_n: u32 = runs.iter().flat_map(|o| &o.cohort_infected[..early]).sum();
    let early_s: u32 = runs.iter().flat_map(|o| &o.cohort_secondary[..early]).sum();
    let k = runs.len() as u64;
    let mean_by = |f: fn(&RunOutcome) -> &BySetting| {
        let mut m: BTreeMap<String, f64> = BTreeMap::new();
        for o in runs {
            for (setting, count) in f(o).entries() {
                *m.entry(setting.to_owned()).or_default() += count as f64 / k as f64;
            }
        }
        m
    };
    let mut by_rule: BTreeMap<String, f64> = BTreeMap::new();
    for o in runs {
        for (rule, d) in &o.quarantine_days_by_rule {
            *by_rule.entry((*rule).to_owned()).or_default() += *d as f64 / k as f64;
        }
    }
    let mean = |f: fn(&RunOutcome) -> u32| {
        runs.iter().map(|o| f64::from(f(o))).sum::<f64>() / runs.len() as f64
    };
    PolicySummary {
        name: name.to_owned(),
        runs: runs.len() as u32,
        infections: per_run(runs, |o| f64::from(o.infections)),
        averted: Interval::of(&averted).expect("at least one run"),
        reduction: Interval::of(&reduction),
        quarantine_person_days: per_run(runs, |o| o.quarantine_person_days as f64),
        isolation_person_days: per_run(runs, |o| o.isolation_person_days as f64),
        averted_per_1000_quarantine_days: Interval::of(&per_qday),
        averted_per_1000_quarantine_days_pooled: (qdays > 0)
            .then(|| averted.iter().sum::<f64>() / qdays as f64 * 1000.0),
        quarantined_infected_share: (orders > 0).then(|| infected as f64 / orders as f64),
        contact_orders: per_run(runs, |o| f64::from(o.contact_orders)),
        confirmed_cases: per_run(runs, |o| f64::from(o.confirmed_cases)),
        false_positive_cases: mean(|o| o.false_positive_cases),
        orders_revised: mean(|o| o.orders_revised),
        peak_checkins_per_day: per_run(runs, |o| peak(&o.daily_checkins)),
        peak_alerts_per_day: per_run(runs, |o| peak(&o.daily_alerts)),
        peak_new_orders_per_day: per_run(runs, |o| peak_u32(&o.daily_new_orders)),
        peak_traced_cases_per_day: per_run(runs, |o| peak_u32(&o.daily_traced_cases)),
        controlled: runs.iter().filter(|o| o.controlled).count() as f64 / runs.len() as f64,
        infections_by_setting: mean_by(|o| &o.infections_by_setting),
        found_by_setting: mean_by(|o| &o.found_by_setting),
        quarantine_days_by_rule: by_rule,
        early_r: (early_n >= R_MIN_INFECTED).then(|| f64::from(early_s) / f64::from(early_n)),
        daily_infections,
        effective_r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate() {
        let v: Vec<f64> = (0..=100).map(f64::from).collect();
        let i = Interval::of(&v).unwrap();
        assert_eq!((i.median, i.low, i.high), (50.0, 2.5, 97.5));
        let one = Interval::of(&[7.0]).unwrap();
        assert_eq!((one.low, one.median, one.high), (7.0, 7.0, 7.0));
        assert!(Interval::of(&[]).is_none());
    }
}
