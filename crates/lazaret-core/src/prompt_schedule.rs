//! Where a day's random check-in prompts fall.
//!
//! The times are random to the person but the same for every server
//! instance: they come from a keyed hash of (secret, order, day), so two
//! instances planning the same day agree, and nobody without the secret can
//! predict them from the order id.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ValidationError;
use crate::ids::OrderId;
use crate::order::TimeZone;

/// How prompts are placed and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromptPolicy {
    pub per_day: u32,
    /// Local time of day of the earliest prompt.
    pub day_start: NaiveTime,
    /// Local time by which the last prompt's window has ended.
    pub day_end: NaiveTime,
    pub min_gap_minutes: u32,
    /// How long a person has to answer.
    pub window_minutes: u32,
    /// After the deadline, answers are still taken (as `late`) this long.
    pub late_grace_minutes: u32,
    /// Consecutive missed prompts that escalate to a welfare check.
    pub welfare_after_misses: u32,
}

impl Default for PromptPolicy {
    fn default() -> Self {
        Self {
            per_day: 3,
            day_start: NaiveTime::from_hms_opt(8, 0, 0).expect("valid time"),
            day_end: NaiveTime::from_hms_opt(21, 0, 0).expect("valid time"),
            min_gap_minutes: 120,
            window_minutes: 20,
            late_grace_minutes: 10,
            welfare_after_misses: 2,
        }
    }
}

impl PromptPolicy {
    /// Refuses a policy whose prompts cannot fit in the day.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.window_minutes == 0 {
            return Err(ValidationError::new("window_minutes", "must be positive"));
        }
        if self.welfare_after_misses == 0 {
            return Err(ValidationError::new(
                "welfare_after_misses",
                "must be positive",
            ));
        }
        if self.spare_minutes().is_none() {
            return Err(ValidationError::new(
                "per_day",
                "the prompts, their gaps and the last window do not fit between day_start and day_end",
            ));
        }
        Ok(())
    }

    pub fn window(&self) -> Duration {
        Duration::minutes(self.window_minutes.into())
    }

    pub fn late_grace(&self) -> Duration {
        Duration::minutes(self.late_grace_minutes.into())
    }

    /// Minutes of the day left to place prompts after the fixed gaps.
    fn spare_minutes(&self) -> Option<i64> {
        let day = (self.day_end - self.day_start).num_minutes();
        let fixed = i64::from(self.per_day.saturating_sub(1)) * i64::from(self.min_gap_minutes)
            + i64::from(self.window_minutes);
        (self.per_day > 0 && day >= fixed).then_some(day - fixed)
    }

    /// The issue times of the prompts of `order` on local day `day`, in
    /// order. Times that do not exist locally (a DST gap) move to the next
    /// valid minute.
    pub fn plan_day(
        &self,
        secret: &[u8],
        order: &OrderId,
        tz: TimeZone,
        day: NaiveDate,
    ) -> Vec<DateTime<Utc>> {
        let Some(spare) = self.spare_minutes() else {
            return Vec::new();
        };
        let mut offsets: Vec<i64> = (0..self.per_day)
            .map(|i| draw(secret, order, day, i) % (spare as u64 + 1))
            .map(|m| m as i64)
            .collect();
        offsets.sort_unstable();
        offsets
            .iter()
            .enumerate()
            .filter_map(|(i, off)| {
                let minutes = off + i as i64 * i64::from(self.min_gap_minutes);
                let local = day.and_time(self.day_start) + Duration::minutes(minutes);
                local_to_utc(tz, local)
            })
            .collect()
    }
}

fn draw(secret: &[u8], order: &OrderId, day: NaiveDate, i: u32) -> u64 {
    let mut h = Sha256::new();
    h.update((secret.len() as u64).to_be_bytes());
    h.update(secret);
    h.update(order.as_str().as_bytes());
    h.update([0]);
    h.update(day.to_string().as_bytes());
    h.update(i.to_be_bytes());
    let d = h.finalize();
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

fn local_to_utc(tz: TimeZone, local: chrono::NaiveDateTime) -> Option<DateTime<Utc>> {
    // In a DST gap the local time does not exist: try the following minutes.
    (0..=120).find_map(|m| {
        (local + Duration::minutes(m))
            .and_local_timezone(tz.tz())
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn order(n: u32) -> OrderId {
        OrderId::parse(&format!("o{n}")).unwrap()
    }

    #[test]
    fn prompts_fall_inside_the_local_day_and_apart() {
        let p = PromptPolicy::default();
        let tz = TimeZone::parse("Europe/Zurich").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        for n in 0..200 {
            let times = p.plan_day(b"k", &order(n), tz, day);
            assert_eq!(times.len(), 3);
            for w in times.windows(2) {
                assert!(w[1] - w[0] >= Duration::hours(2), "{times:?}");
            }
            for t in &times {
                let local = t.with_timezone(&tz.tz());
                assert_eq!(local.date_naive(), day);
                assert!(local.hour() >= 8, "{local}");
                assert!(local.time() + p.window() <= p.day_end, "{local}");
            }
        }
    }

    #[test]
    fn same_inputs_same_plan_other_secret_other_plan() {
        let p = PromptPolicy::default();
        let tz = TimeZone::default();
        let day = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        assert_eq!(
            p.plan_day(b"k", &order(1), tz, day),
            p.plan_day(b"k", &order(1), tz, day)
        );
        let differ = (0..20)
            .filter(|n| {
                p.plan_day(b"k", &order(*n), tz, day) != p.plan_day(b"j", &order(*n), tz, day)
            })
            .count();
        assert!(differ >= 18, "{differ}");
    }

    #[test]
    fn impossible_policy_is_refused() {
        let p = PromptPolicy {
            per_day: 8,
            ..PromptPolicy::default()
        };
        assert!(p.validate().is_err());
        assert!(PromptPolicy::default().validate().is_ok());
    }
}
