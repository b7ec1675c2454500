//! Keyed random streams. Every draw in a run comes from a stream keyed by
//! (run seed, who, when, what for), not from one sequential generator: the same
//! person then draws the same incubation, the same compliance and the same
//! contacts on the same day under every policy compared. Those common random
//! numbers make the difference between two policies far less noisy than the
//! difference of two independent runs, and runs are independent of the order
//! in which threads execute them.

/// What a stream is for; part of its key so two purposes never share draws.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum Purpose {
    Region = 1,
    History = 2,
    Transmit = 3,
    Seed = 4,
    TestSeeking = 5,
    Comply = 6,
    Interview = 7,
    Background = 8,
    Import = 9,
    TestResult = 10,
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, passes BigCrush, and any
/// 64-bit state is a valid start, which is what keyed streams need.
#[derive(Debug, Clone)]
pub struct Stream(u64);

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Stream {
    /// The stream of `purpose` for `who` on `when` in the run with `seed`.
    pub fn keyed(seed: u64, purpose: Purpose, who: u64, when: u64) -> Self {
        let k = mix(seed ^ 0x9e37_79b9_7f4a_7c15);
        let k = mix(k ^ (purpose as u64).wrapping_mul(0xd6e8_feb8_6659_fd93));
        let k = mix(k ^ who.wrapping_mul(0xa076_1d64_78bd_642f));
        Self(mix(k ^ when.wrapping_mul(0xe703_7ed1_a0b4_28db)))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-32
    /// for every n a region has).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Standard normal (Box–Muller; one of the pair is dropped for simplicity).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    pub fn lognormal(&mut self, median: f64, sdlog: f64) -> f64 {
        median * (sdlog * self.normal()).exp()
    }

    /// Poisson with mean `lambda` (Knuth's product method below 30, a rounded
    /// normal above: the means here are contacts per day).
    pub fn poisson(&mut self, lambda: f64) -> u32 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda > 30.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u32;
        }
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut p = self.unit();
        while p > limit {
            k += 1;
            p *= self.unit();
        }
        k
    }

    /// How many Bernoulli(p) failures come before the next success: walking a
    /// long member list with these skips costs the successes, not the length.
    pub fn skip(&mut self, p: f64) -> usize {
        if p >= 1.0 {
            return 0;
        }
        if p <= 0.0 {
            return usize::MAX;
        }
        let u = 1.0 - self.unit();
        let k = (u.ln() / (1.0 - p).ln()).floor();
        if k >= usize::MAX as f64 {
            usize::MAX
        } else {
            k as usize
        }
    }

    /// An index into `weights` drawn in proportion to them.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_keyed_and_reproducible() {
        let a: Vec<u64> = (0..4)
            .map(|_| Stream::keyed(1, Purpose::History, 7, 0).next_u64())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]), "same key, same draw");
        let b = Stream::keyed(1, Purpose::History, 8, 0).next_u64();
        let c = Stream::keyed(2, Purpose::History, 7, 0).next_u64();
        let d = Stream::keyed(1, Purpose::Transmit, 7, 0).next_u64();
        assert!(a[0] != b && a[0] != c && a[0] != d);
    }

    #[test]
    fn distributions_have_their_means() {
        let mut s = Stream::keyed(3, Purpose::Region, 0, 0);
        let n = 200_000;
        let unit: f64 = (0..n).map(|_| s.unit()).sum::<f64>() / n as f64;
        assert!((unit - 0.5).abs() < 0.005, "{unit}");
        let pois: f64 = (0..n).map(|_| f64::from(s.poisson(4.0))).sum::<f64>() / n as f64;
        assert!((pois - 4.0).abs() < 0.03, "{pois}");
        let big: f64 = (0..n).map(|_| f64::from(s.poisson(50.0))).sum::<f64>() / n as f64;
        assert!((big - 50.0).abs() < 0.1, "{big}");
        // Failures before a success of p = 0.2: mean (1 - p) / p = 4.
        let skip: f64 = (0..n).map(|_| s.skip(0.2) as f64).sum::<f64>() / n as f64;
        assert!((skip - 4.0).abs() < 0.06, "{skip}");
        let below: Vec<u64> = (0..n).map(|_| s.below(10)).collect();
        assert!(below.iter().all(|&x| x < 10));
        let sevens = below.iter().filter(|&&x| x == 7).count() as f64 / n as f64;
        assert!((sevens - 0.1).abs() < 0.005, "{sevens}");
        let mut logs: Vec<f64> = (0..n).map(|_| s.lognormal(5.1, 0.4)).collect();
        logs.sort_by(f64::total_cmp);
        let median = logs[n / 2];
        assert!((median - 5.1).abs() < 0.05, "{median}");
        assert_eq!(s.skip(1.0), 0);
        assert_eq!(s.skip(0.0), usize::MAX);
    }
}
