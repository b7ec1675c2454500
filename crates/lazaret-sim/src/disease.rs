//! The course of one infection and how infectious it is each day, and the
//! calibration of the unrecorded community contacts to the region's R0.
//!
//! Infectiousness is 1 on each presymptomatic day and falls by
//! `infectiousness_decay` a day from onset on, scaled so the whole course sums
//! to 1 (times `asymptomatic_relative` without symptoms). A setting's attack
//! rate `ar` then becomes a daily hazard: a day of weight `w` infects one
//! susceptible person with `1 - exp(-β·w)`, `β = -ln(1 - ar)`, so over the
//! whole course the chance is exactly `ar` for a symptomatic case.

use crate::params::DiseaseParams;
use crate::random::Stream;
use crate::region::{GroupKind, Region};

/// One infection, in simulation days; infectious on `start..end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Course {
    pub infected: i32,
    pub start: i32,
    /// Symptom onset, or the day it would have been (the peak) without symptoms.
    pub peak: i32,
    pub end: i32,
    pub symptomatic: bool,
    /// Weight of a presymptomatic day (the curve's normaliser and the
    /// asymptomatic factor folded in).
    pub scale: f32,
}

impl Course {
    /// Draws the course of an infection on day `infected`.
    pub fn draw(d: &DiseaseParams, infected: i32, s: &mut Stream) -> Self {
        let symptomatic = !s.chance(d.asymptomatic_share);
        let incubation = s
            .lognormal(d.incubation_median_days, d.incubation_sdlog)
            .round()
            .max(1.0) as i32;
        let pre = (d.presymptomatic_days as i32).min(incubation - 1);
        let peak = infected + incubation;
        let start = peak - pre;
        let end = peak + d.symptomatic_days as i32;
        let total = f64::from(pre) + decayed_sum(d.infectiousness_decay, d.symptomatic_days);
        let rel = if symptomatic {
            1.0
        } else {
            d.asymptomatic_relative
        };
        Self {
            infected,
            start,
            peak,
            end,
            symptomatic,
            scale: (rel / total) as f32,
        }
    }

    /// Infectiousness on day `t` (0 outside the infectious days).
    pub fn weight(&self, t: i32, decay: f64) -> f64 {
        if t < self.start || t >= self.end {
            0.0
        } else if t < self.peak {
            f64::from(self.scale)
        } else {
            f64::from(self.scale) * (-decay * f64::from(t - self.peak)).exp()
        }
    }

    /// Infectiousness on day `t` relative to this course's mean day: what
    /// scales a one-off event's attack rate (a flight, a ride).
    pub fn relative(&self, t: i32, decay: f64) -> f64 {
        self.weight(t, decay) * f64::from(self.end - self.start)
    }
}

/// Σ_{k < days} exp(-decay·k).
fn decayed_sum(decay: f64, days: u32) -> f64 {
    (0..days).map(|k| (-decay * f64::from(k)).exp()).sum()
}

/// The daily hazard that makes `ar` the attack rate over a whole course.
pub fn hazard(ar: f64) -> f64 {
    -(1.0 - ar).ln()
}

/// Expected people one symptomatic case infects in a fully susceptible
/// region, per setting with a published attack rate.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct SettingR {
    pub household: f64,
    pub workplace: f64,
    pub school: f64,
    pub building: f64,
    pub rides: f64,
    pub flights: f64,
}

impl SettingR {
    pub fn total(&self) -> f64 {
        self.household + self.workplace + self.school + self.building + self.rides + self.flights
    }
}

/// The settings' shares of R0, from the region's structure.
pub fn setting_r(region: &Region) -> SettingR {
    let c = &region.config;
    let t = &c.transmission;
    let n = f64::from(region.population());
    let mut r = SettingR::default();
    for h in 0..region.household_building.len() as u32 {
        let size = f64::from(region.household_members(h).len() as u32);
        r.household += size * (size - 1.0) * t.household;
    }
    for b in 0..region.building_start.len() as u32 - 1 {
        for a in region.building_members(b) {
            let own = region.household_members(region.household[a as usize]).len();
            let others = region.building_members(b).len() - own;
            r.building += others as f64 * t.building;
        }
    }
    for g in 0..region.groups.len() as u32 {
        let size = region.groups.get(g).len() as f64;
        let ar = match region.group_kind[g as usize] {
            GroupKind::Workplace => t.workplace,
            GroupKind::School => t.school,
        };
        let pairs = size * (size - 1.0) * ar;
        match region.group_kind[g as usize] {
            GroupKind::Workplace => r.workplace += pairs,
            GroupKind::School => r.school += pairs,
        }
    }
    // One-off events: pairs per day per agent, times the mean infectious days.
    let days_infectious = f64::from(c.disease.presymptomatic_days + c.disease.symptomatic_days);
    let per_agent_day = n * f64::from(c.days);
    let mut rides = 0.0;
    for ride in &region.rides {
        let k = f64::from(ride.count);
        rides += k
            * (k - 1.0)
            * (1.0 - (-hazard(t.ride_per_hour) * f64::from(ride.minutes) / 60.0).exp());
    }
    r.rides = rides / per_agent_day * days_infectious;
    let mut flights = 0.0;
    for f in &region.flights {
        for a in &f.occupants {
            for b in &f.occupants {
                if a.agent != b.agent {
                    flights += if a.row > 0
                        && b.row > 0
                        && a.row.abs_diff(b.row) <= t.flight_near_rows as u16
                    {
                        t.flight_near
                    } else {
                        t.flight_far
                    };
                }
            }
        }
    }
    r.flights = flights / per_agent_day * days_infectious;
    r.household /= n;
    r.building /= n;
    r.workplace /= n;
    r.school /= n;
    r
}

/// The calibration: what the community contacts must add so that a case
/// infects `r0` people on average (asymptomatic cases counted at their
/// relative infectiousness).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Calibration {
    pub settings: SettingR,
    /// Expected infections of a symptomatic case through community contacts.
    pub community: f64,
    /// Daily hazard per community contact at weight 1.
    pub community_hazard: f64,
    /// R0 the region reaches (above the target when the settings alone exceed it).
    pub r0: f64,
}

pub fn calibrate(region: &Region) -> Calibration {
    let d = &region.config.disease;
    let settings = setting_r(region);
    let mean_rel = 1.0 - d.asymptomatic_share + d.asymptomatic_share * d.asymptomatic_relative;
    let m = region.config.community.contacts_per_day;
    let days = f64::from(d.presymptomatic_days + d.symptomatic_days);
    let community = if m > 0.0 {
        (d.r0 / mean_rel - settings.total()).max(0.0)
    } else {
        0.0
    };
    // m contacts a day over the course: Σ_d m·(1 - e^{-h·w_d}) = community, with
    // Σ w_d = 1; for small h·w this is m·h, refined by a few Newton-free bisections.
    let community_hazard = if community > 0.0 {
        let expected = |h: f64| -> f64 {
            let course = Course {
                infected: 0,
                start: 0,
                peak: d.presymptomatic_days as i32,
                end: (d.presymptomatic_days + d.symptomatic_days) as i32,
                symptomatic: true,
                scale: (1.0
                    / (f64::from(d.presymptomatic_days)
                        + decayed_sum(d.infectiousness_decay, d.symptomatic_days)))
                    as f32,
            };
            (0..days as i32)
                .map(|t| m * (1.0 - (-h * course.weight(t, d.infectiousness_decay)).exp()))
                .sum()
        };
        let (mut lo, mut hi) = (0.0, community / m * 50.0 + 1.0);
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if expected(mid) < community {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    } else {
        0.0
    };
    Calibration {
        settings,
        community,
        community_hazard,
        r0: mean_rel * (settings.total() + community),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::RegionConfig;
    use crate::random::Purpose;

    #[test]
    fn a_course_sums_to_one_and_the_attack_rate_holds() {
        let d = DiseaseParams {
            asymptomatic_share: 0.0,
            ..DiseaseParams::default()
        };
        let mut s = Stream::keyed(1, Purpose::History, 0, 0);
        for _ in 0..100 {
            let c = Course::draw(&d, 10, &mut s);
            assert!(c.start > 10 && c.start <= c.peak && c.peak < c.end);
            let sum: f64 = (c.start..c.end)
                .map(|t| c.weight(t, d.infectiousness_decay))
                .sum();
            assert!((sum - 1.0).abs() < 1e-6, "{sum}");
            // Over the whole course a pair meets the setting's attack rate.
            let h = hazard(0.166);
            let escape: f64 = (c.start..c.end)
                .map(|t| (-h * c.weight(t, d.infectiousness_decay)).exp())
                .product();
            assert!((1.0 - escape - 0.166).abs() < 1e-6);
            let mean_rel: f64 = (c.start..c.end)
                .map(|t| c.relative(t, d.infectiousness_decay))
                .sum::<f64>()
                / f64::from(c.end - c.start);
            assert!((mean_rel - 1.0).abs() < 1e-6);
        }
        // Presymptomatic share of infectiousness: 2 / (2 + Σ_{k<8} e^{-0.3k}) = 0.3631.
        let c = std::iter::repeat_with(|| Course::draw(&d, 0, &mut s))
            .find(|c| c.peak - c.start == 2)
            .unwrap();
        let pre: f64 = (c.start..c.peak).map(|t| c.weight(t, 0.3)).sum();
        assert!((pre - 0.3631).abs() < 0.0005, "{pre}");
    }

    #[test]
    fn calibration_reaches_r0() {
        let config = RegionConfig {
            population: 20_000,
            days: 30,
            ..RegionConfig::default()
        };
        let region = Region::generate(&config);
        let c = calibrate(&region);
        assert!((c.r0 - 2.5).abs() < 1e-9, "{c:?}");
        assert!(c.community > 0.5 && c.settings.household > 0.1, "{c:?}");
        // Households alone: mean over people of (size - 1) × SAR.
        let mut others = 0.0;
        for a in 0..region.population() {
            others += (region.household_members(region.household[a as usize]).len() - 1) as f64;
        }
        let expected = others / 20_000.0 * 0.166;
        assert!((c.settings.household - expected).abs() < 1e-9);
    }
}
