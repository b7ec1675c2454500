//! Error rates of 1:1 verification as biometric systems state them: the false match rate
//! (FMR: impostor comparisons accepted) and the false non-match rate (FNMR: genuine
//! comparisons rejected, including those that could not be made because a photo failed),
//! FNMR at a fixed FMR with the threshold that gives it, and the DET curve (FNMR against
//! FMR over every threshold) as a small hand-written SVG.
//!
//! Scores are Euclidean descriptor distances: a comparison matches when `distance ≤
//! threshold`. Used by `lazaret face pairs` and `lazaret face checkins`; nothing here sees a
//! photo or a descriptor.

use serde::Serialize;

/// Genuine and impostor distances of one evaluation set.
#[derive(Debug, Clone, Default)]
pub struct Scores {
    /// Same-person comparisons.
    pub genuine: Vec<f32>,
    /// Different-person comparisons.
    pub impostor: Vec<f32>,
    /// Same-person comparisons that could not be made (a photo without a usable face):
    /// rejected at every threshold.
    pub genuine_failed: usize,
    /// Different-person comparisons that could not be made: never a false match.
    pub impostor_failed: usize,
}

/// The operating point for one FMR target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OperatingPoint {
    /// The FMR asked for.
    pub target_fmr: f64,
    /// The largest threshold whose FMR on this set is at most the target.
    pub threshold: f32,
    /// FMR and FNMR at that threshold, on this set.
    pub fmr: f64,
    pub fnmr: f64,
    /// Whether the set has enough impostor comparisons to show that FMR (at least one
    /// false match would be allowed, i.e. `target × impostors ≥ 1`); when not, the
    /// threshold is merely below every impostor distance seen.
    pub resolvable: bool,
}

impl Scores {
    fn genuine_total(&self) -> usize {
        self.genuine.len() + self.genuine_failed
    }

    fn impostor_total(&self) -> usize {
        self.impostor.len() + self.impostor_failed
    }

    /// FMR at `threshold`.
    pub fn fmr(&self, threshold: f32) -> f64 {
        let n = self.impostor.iter().filter(|d| **d <= threshold).count();
        n as f64 / self.impostor_total().max(1) as f64
    }

    /// FNMR at `threshold` (failed comparisons count as non-matches).
    pub fn fnmr(&self, threshold: f32) -> f64 {
        let n = self.genuine.iter().filter(|d| **d > threshold).count() + self.genuine_failed;
        n as f64 / self.genuine_total().max(1) as f64
    }

    /// The operating point at `target_fmr`: the threshold just below the impostor distance
    /// that would push the FMR over the target.
    pub fn at_fmr(&self, target_fmr: f64) -> OperatingPoint {
        let mut imp = self.impostor.clone();
        imp.sort_by(f32::total_cmp);
        let total = self.impostor_total().max(1);
        // At most `allowed` impostor distances may lie at or below the threshold.
        let allowed = (target_fmr * total as f64 + 1e-9).floor() as usize;
        let threshold = match imp.get(allowed) {
            // Just below the first impostor that must be rejected.
            Some(&d) => next_down(d),
            // Every impostor may match.
            None => imp
                .last()
                .copied()
                .unwrap_or(f32::MAX)
                .max(self.genuine.iter().copied().fold(f32::MIN, f32::max)),
        };
        OperatingPoint {
            target_fmr,
            threshold,
            fmr: self.fmr(threshold),
            fnmr: self.fnmr(threshold),
            resolvable: allowed >= 1,
        }
    }

    /// The equal error rate (where FMR and FNMR cross, their mean there) and its threshold.
    pub fn eer(&self) -> (f64, f32) {
        let mut best = (f64::MAX, 1.0f64, 0f32);
        for t in self.thresholds() {
            let (fmr, fnmr) = (self.fmr(t), self.fnmr(t));
            let gap = (fmr - fnmr).abs();
            if gap < best.0 {
                best = (gap, (fmr + fnmr) / 2.0, t);
            }
        }
        (best.1, best.2)
    }

    /// Every distinct distance, ascending: the thresholds where a rate changes.
    fn thresholds(&self) -> Vec<f32> {
        let mut t: Vec<f32> = self.genuine.iter().chain(&self.impostor).copied().collect();
        t.sort_by(f32::total_cmp);
        t.dedup();
        t
    }

    /// The DET curve: `(threshold, FMR, FNMR)` at every distinct distance, FMR rising.
    pub fn det(&self) -> Vec<(f32, f64, f64)> {
        let mut gen = self.genuine.clone();
        let mut imp = self.impostor.clone();
        gen.sort_by(f32::total_cmp);
        imp.sort_by(f32::total_cmp);
        let (gt, it) = (
            self.genuine_total().max(1) as f64,
            self.impostor_total().max(1) as f64,
        );
        let (mut gi, mut ii) = (0, 0);
        let mut out = Vec::new();
        for t in self.thresholds() {
            while gi < gen.len() && gen[gi] <= t {
                gi += 1;
            }
            while ii < imp.len() && imp[ii] <= t {
                ii += 1;
            }
            out.push((t, ii as f64 / it, (gt - gi as f64) / gt));
        }
        out
    }
}

/// The largest f32 below `x` (for positive finite `x`).
fn next_down(x: f32) -> f32 {
    if x > 0.0 && x.is_finite() {
        f32::from_bits(x.to_bits() - 1)
    } else {
        x
    }
}

/// Axis range of the DET plot (log-log, rates as fractions).
const DET_MIN: f64 = 1e-4;
const DET_MAX: f64 = 1.0;

/// A DET curve as SVG: FNMR against FMR on log axes from 0.01% to 100%, one polyline per
/// named curve, the given operating points marked. Rates of 0 are drawn at the axis floor.
pub fn det_svg(title: &str, curves: &[(&str, &Scores)], marks: &[(&str, f64, f64)]) -> String {
    const W: f64 = 560.0;
    const H: f64 = 480.0;
    const L: f64 = 70.0;
    const R: f64 = 20.0;
    const T: f64 = 40.0;
    const B: f64 = 60.0;
    let span = (DET_MAX / DET_MIN).log10();
    let px = |r: f64| L + (r.max(DET_MIN).log10() - DET_MIN.log10()) / span * (W - L - R);
    let py = |r: f64| T + (1.0 - (r.max(DET_MIN).log10() - DET_MIN.log10()) / span) * (H - T - B);
    let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n",
        W / 2.0,
        xml_escape(title)
    );
    // Grid and tick labels at each decade.
    let mut decade = DET_MIN;
    while decade <= DET_MAX * 1.0001 {
        let (x, y) = (px(decade), py(decade));
        let label = format!("{}%", trim_pct(decade * 100.0));
        s += &format!(
            "<line x1=\"{x:.1}\" y1=\"{T}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\n<line x1=\"{L}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\n<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>\n",
            H - B,
            W - R,
            H - B + 16.0,
            L - 6.0,
            y + 4.0
        );
        decade *= 10.0;
    }
    s += &format!(
        "<rect x=\"{L}\" y=\"{T}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#333\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">FMR (false match rate)</text>\n<text x=\"16\" y=\"{:.1}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {:.1})\">FNMR (false non-match rate)</text>\n",
        W - L - R,
        H - T - B,
        (L + W - R) / 2.0,
        H - 18.0,
        (T + H - B) / 2.0,
        (T + H - B) / 2.0
    );
    for (i, (name, scores)) in curves.iter().enumerate() {
        let colour = colours[i % colours.len()];
        let pts: Vec<String> = scores
            .det()
            .iter()
            .map(|(_, fmr, fnmr)| format!("{:.1},{:.1}", px(*fmr), py(*fnmr)))
            .collect();
        // Consecutive equal points add nothing to the picture (keeps the file small).
        let mut dedup = pts.clone();
        dedup.dedup();
        s += &format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>\n<text text-anchor=\"end\" x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\">{}</text>\n",
            dedup.join(" "),
            W - R - 8.0,
            T + 16.0 + 16.0 * i as f64,
            xml_escape(name)
        );
    }
    for (label, fmr, fnmr) in marks {
        let (x, y) = (px(*fmr), py(*fnmr));
        s += &format!(
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3.5\" fill=\"none\" stroke=\"#000\"/>\n<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>\n",
            x + 6.0,
            y - 6.0,
            xml_escape(label)
        );
    }
    s += "</svg>\n";
    s
}

fn trim_pct(p: f64) -> String {
    let s = format!("{p:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores() -> Scores {
        Scores {
            genuine: vec![0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7],
            impostor: (0..1000).map(|i| 0.5 + i as f32 * 0.0005).collect(),
            genuine_failed: 1,
            impostor_failed: 0,
        }
    }

    #[test]
    fn rates_count_failures_as_non_matches() {
        let s = scores();
        assert_eq!(s.fnmr(1.0), 0.1);
        assert_eq!(s.fnmr(0.45), 0.5);
        assert_eq!(s.fmr(0.4), 0.0);
        assert_eq!(s.fmr(0.5), 0.001);
    }

    #[test]
    fn the_threshold_at_a_target_fmr_admits_at_most_that_many_impostors() {
        let s = scores();
        let p = s.at_fmr(0.01);
        // Ten impostors (0.5 … 0.5045) may match; the eleventh (0.505) must not.
        assert!(
            p.threshold < 0.505 && p.threshold >= 0.5045,
            "{}",
            p.threshold
        );
        assert_eq!(p.fmr, 0.01);
        assert!(p.resolvable);
        assert_eq!(p.fnmr, 0.4); // 0.55, 0.6, 0.7 and the failure
        let p = s.at_fmr(0.001);
        assert_eq!(p.fmr, 0.001);
        assert!(p.resolvable);
        let p = s.at_fmr(0.0001);
        assert_eq!(p.fmr, 0.0);
        assert!(!p.resolvable);
        assert!(p.threshold < 0.5);
    }

    #[test]
    fn the_det_curve_runs_from_all_rejected_to_all_accepted() {
        let s = scores();
        let det = s.det();
        let first = det.first().unwrap();
        let last = det.last().unwrap();
        assert_eq!((first.1, first.2), (0.0, 0.9));
        assert_eq!((last.1, last.2), (1.0, 0.1));
        assert!(det.windows(2).all(|w| w[0].1 <= w[1].1 && w[0].2 >= w[1].2));
        let (eer, t) = s.eer();
        assert!((0.0..0.5).contains(&eer) && t > 0.4, "{eer} at {t}");
        let svg = det_svg("a <set>", &[("pairs", &s)], &[("FMR 1%", 0.01, 0.4)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("a &lt;set&gt;") && svg.contains("<polyline"));
    }
}
