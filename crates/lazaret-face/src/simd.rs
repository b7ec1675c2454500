//! Which vector instructions the hand-written kernels use: chosen once per process by
//! **measurement**, not by CPU features alone.
//!
//! Having AVX-512 does not make the AVX-512 build of a kernel faster: on an AVX-512 Xeon it
//! ran the whole pipeline at half the speed of the AVX2 + FMA build (issue #16). So the first
//! time a kernel path is needed (the engine asks at load), every path this CPU supports runs
//! the same few convolutions shaped like the networks' real layers, alternately, and the
//! fastest is kept and logged. `LAZARET_FACE_ISA=portable|avx2|avx512` skips the measurement
//! and forces a path; an unknown value, or a path this CPU cannot run, is an error at engine
//! load rather than a silent fallback.
//!
//! Tests and `lazaret bench face --isa` run code on one chosen path with [`with_path`] (a
//! per-thread override), so every path the machine supports is checked against the portable
//! build, not only the one the measurement picked.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The environment variable that forces a kernel path (read here and nowhere else).
pub const ISA_ENV: &str = "LAZARET_FACE_ISA";

/// A build of the hand-written kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelPath {
    /// The baseline target (SSE2 on x86-64): runs everywhere; the tests' reference.
    Portable,
    /// AVX2 + FMA: 8-float vectors, 16 registers (intrinsics for the matrix kernel).
    Avx2,
    /// AVX-512F: 16-float vectors, 32 registers (auto-vectorised loops).
    Avx512,
}

impl KernelPath {
    /// Every path, in the order they are measured and listed.
    pub const ALL: [KernelPath; 3] = [KernelPath::Portable, KernelPath::Avx2, KernelPath::Avx512];

    /// The name `LAZARET_FACE_ISA` and `--isa` take.
    pub fn name(self) -> &'static str {
        match self {
            KernelPath::Portable => "portable",
            KernelPath::Avx2 => "avx2",
            KernelPath::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the path (std caches the CPU's answer).
    pub fn supported(self) -> bool {
        match self {
            KernelPath::Portable => true,
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The paths this CPU supports, portable first.
    pub fn available() -> Vec<KernelPath> {
        Self::ALL.into_iter().filter(|p| p.supported()).collect()
    }
}

impl fmt::Display for KernelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KernelPath {
    type Err = KernelPathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| KernelPathError::Unknown(s.to_string()))
    }
}

/// A kernel path that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KernelPathError {
    #[error("unknown kernel path {0:?}: expected portable, avx2 or avx512")]
    Unknown(String),
    #[error("this CPU cannot run the {0} kernels (available: {avail})", avail = names(&KernelPath::available()))]
    Unsupported(KernelPath),
}

fn names(paths: &[KernelPath]) -> String {
    paths
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// How the process's kernel path was chosen.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KernelChoice {
    pub path: KernelPath,
    /// `LAZARET_FACE_ISA` named it (no measurement ran).
    pub forced: bool,
    /// Best time of each supported path on the calibration layers, fastest first
    /// (empty when forced, or when only the portable path exists); in JSON as milliseconds.
    #[serde(serialize_with = "timings_ms")]
    pub timings: Vec<(KernelPath, Duration)>,
}

fn timings_ms<S: serde::Serializer>(t: &[(KernelPath, Duration)], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(t.len()))?;
    for (p, d) in t {
        m.serialize_entry(p.name(), &(d.as_secs_f64() * 1e3))?;
    }
    m.end()
}

impl fmt::Display for KernelChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.forced {
            return write!(f, "{} (forced by {ISA_ENV})", self.path);
        }
        if self.timings.is_empty() {
            return write!(f, "{} (the only path on this CPU)", self.path);
        }
        let t: Vec<String> = self
            .timings
            .iter()
            .map(|(p, d)| format!("{p} {:.2} ms", d.as_secs_f64() * 1e3))
            .collect();
        write!(f, "{} (measured: {})", self.path, t.join(", "))
    }
}

static CHOICE: OnceLock<Result<KernelChoice, KernelPathError>> = OnceLock::new();

thread_local! {
    static OVERRIDE: Cell<Option<KernelPath>> = const { Cell::new(None) };
}

/// The process's kernel path: from `LAZARET_FACE_ISA`, else measured. Decided on the first
/// call (tens of milliseconds) and logged; later calls return the same answer.
pub fn choice() -> Result<KernelChoice, KernelPathError> {
    CHOICE
        .get_or_init(|| {
            let c = choose(std::env::var(ISA_ENV).ok().as_deref());
            match &c {
                Ok(c) => tracing::info!(path = %c.path, choice = %c, "face kernel path"),
                Err(e) => tracing::error!(error = %e, "face kernel path"),
            }
            c
        })
        .clone()
}

/// Runs `f` on this thread with every kernel forced to `path` (tests, `bench face --isa`).
pub fn with_path<R>(path: KernelPath, f: impl FnOnce() -> R) -> Result<R, KernelPathError> {
    if !path.supported() {
        return Err(KernelPathError::Unsupported(path));
    }
    struct Restore(Option<KernelPath>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OVERRIDE.with(|o| o.replace(Some(path))));
    Ok(f())
}

/// The path a kernel runs now: this thread's override, else the process's choice. (When
/// `LAZARET_FACE_ISA` is invalid, engine load has already failed with the error; a kernel
/// called directly then runs portable.)
pub(crate) fn isa() -> KernelPath {
    OVERRIDE
        .with(Cell::get)
        .unwrap_or_else(|| choice().map_or(KernelPath::Portable, |c| c.path))
}

fn choose(forced: Option<&str>) -> Result<KernelChoice, KernelPathError> {
    if let Some(name) = forced.filter(|s| !s.trim().is_empty()) {
        let path: KernelPath = name.parse()?;
        if !path.supported() {
            return Err(KernelPathError::Unsupported(path));
        }
        return Ok(KernelChoice {
            path,
            forced: true,
            timings: Vec::new(),
        });
    }
    let available = KernelPath::available();
    if available.len() == 1 {
        return Ok(KernelChoice {
            path: available[0],
            forced: false,
            timings: Vec::new(),
        });
    }
    let timings = calibrate::measure(&available);
    Ok(KernelChoice {
        path: timings[0].0,
        forced: false,
        timings,
    })
}

/// The measurement: a few layers shaped like the networks' own, on synthetic data.
mod calibrate {
    use super::*;
    use crate::conv_gemm::{
        conv1x1, conv3x3_valid_plain, conv_strided, depthwise3x3_same, Activation, Epilogue, Map,
        PackedConv,
    };
    use crate::winograd::WinogradConv;

    fn pseudo(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 7919 + seed * 104_729) % 1013) as f32 - 506.0) / 700.0)
            .collect()
    }

    fn map(c: usize, side: usize, seed: usize) -> Map {
        Map::from_plain(c, side, side, &pseudo(c * side * side, seed))
    }

    fn packed(k: usize, cin: usize, cout: usize, seed: usize) -> PackedConv {
        PackedConv::from_tf(
            &pseudo(k * k * cin * cout, seed),
            k,
            cin,
            cout,
            &vec![1.0; cout],
            &pseudo(cout, seed + 1),
        )
    }

    /// One pass over the layers, weighted roughly as one image's work is: the recognition
    /// net's 3×3 convs (its bulk; a 32-channel residual conv at 35×35 by Winograd and a
    /// stride-2 down conv), the detector's depthwise + pointwise pair and its stem. About
    /// 20 MMAC: under 2 ms with AVX2 on a quiet core, so the whole measurement stays in the
    /// tens of ms.
    struct Layers {
        r32: (Map, WinogradConv),
        down: (Map, PackedConv),
        dw: (Map, Vec<[f32; 9]>, PackedConv),
        stem: (Vec<f32>, PackedConv),
    }

    const STEM_SIZE: usize = 66;

    impl Layers {
        fn new() -> Self {
            let dw_filters = pseudo(9 * 64, 9);
            Layers {
                r32: (
                    map(32, 35, 1),
                    WinogradConv::from_tf(
                        &pseudo(9 * 32 * 32, 2),
                        32,
                        32,
                        &[1.0; 32],
                        &pseudo(32, 3),
                    ),
                ),
                down: (map(64, 17, 5), packed(3, 64, 128, 6)),
                dw: (
                    map(64, 32, 7),
                    (0..64)
                        .map(|c| std::array::from_fn(|t| dw_filters[c * 9 + t]))
                        .collect(),
                    packed(1, 64, 64, 8),
                ),
                stem: (pseudo(3 * STEM_SIZE * STEM_SIZE, 12), packed(3, 3, 16, 13)),
            }
        }

        /// Returns a checksum so that no layer can be optimised away.
        fn run(&self) -> f32 {
            let leaky = Epilogue {
                residual: None,
                act: Activation::Leaky(0.1),
            };
            let o = self.r32.1.run(&self.r32.0, Epilogue::RELU);
            let mut s = o.data[o.at(0, 3, 3)];
            let o = conv_strided(&self.down.0, &self.down.1, 2, 0, Epilogue::RELU);
            s += o.data[o.at(2, 1, 1)];
            let o = conv1x1(
                &depthwise3x3_same(&self.dw.0, &self.dw.1),
                &self.dw.2,
                leaky,
            );
            s += o.data[o.at(3, 4, 4)];
            let o = conv3x3_valid_plain(self.stem.0.clone(), STEM_SIZE, &self.stem.1, leaky);
            s + o.data[o.at(5, 7, 7)]
        }
    }

    /// Best of two alternating rounds per path, after a warm-up round (the minimum is the figure least disturbed
    /// by other work on a shared machine), fastest first. On a tie within 3% the earlier
    /// (simpler) path wins, so noise cannot trade a known path for a wider one.
    pub(super) fn measure(paths: &[KernelPath]) -> Vec<(KernelPath, Duration)> {
        const ROUNDS: usize = 2;
        let layers = Layers::new();
        let mut best = vec![Duration::MAX; paths.len()];
        let mut sink = 0f32;
        for round in 0..=ROUNDS {
            for (i, &p) in paths.iter().enumerate() {
                let t = Instant::now();
                sink += with_path(p, || layers.run()).expect("only supported paths are measured");
                // Round 0 warms caches and page-faults the buffers in; it is not counted.
                if round > 0 {
                    best[i] = best[i].min(t.elapsed());
                }
            }
        }
        std::hint::black_box(sink);
        let mut timed: Vec<(KernelPath, Duration)> = paths.iter().copied().zip(best).collect();
        timed.sort_by_key(|(_, d)| *d);
        // A wider path must beat a narrower one by more than the noise to be chosen.
        let fastest = timed[0];
        let keep = timed
            .iter()
            .filter(|(_, d)| d.as_secs_f64() <= fastest.1.as_secs_f64() * 1.03)
            .min_by_key(|(p, _)| KernelPath::ALL.iter().position(|q| q == p))
            .copied()
            .unwrap_or(fastest);
        timed.retain(|t| t.0 != keep.0);
        timed.insert(0, keep);
        timed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_bad_values_are_errors() {
        for p in KernelPath::ALL {
            assert_eq!(p.name().parse::<KernelPath>(), Ok(p));
        }
        assert_eq!("AVX2".parse::<KernelPath>(), Ok(KernelPath::Avx2));
        assert_eq!(
            "sse9".parse::<KernelPath>(),
            Err(KernelPathError::Unknown("sse9".into()))
        );
        assert!(matches!(
            choose(Some("neon")),
            Err(KernelPathError::Unknown(_))
        ));
        assert!(KernelPath::Portable.supported());
        for p in KernelPath::ALL {
            match choose(Some(p.name())) {
                Ok(c) => {
                    assert!(p.supported());
                    assert_eq!((c.path, c.forced), (p, true));
                }
                Err(e) => {
                    assert!(!p.supported());
                    assert_eq!(e, KernelPathError::Unsupported(p));
                    assert!(with_path(p, || ()).is_err());
                }
            }
        }
    }

    #[test]
    fn measurement_keeps_a_supported_path_and_times_every_one() {
        let c = choose(None).unwrap();
        assert!(!c.forced);
        assert!(c.path.supported());
        let avail = KernelPath::available();
        if avail.len() > 1 {
            assert_eq!(c.timings.len(), avail.len());
            assert_eq!(c.timings[0].0, c.path);
        }
    }

    #[test]
    fn the_override_applies_on_this_thread_and_is_restored() {
        let before = isa();
        let inner = with_path(KernelPath::Portable, || {
            let nested = with_path(KernelPath::Portable, isa).unwrap();
            (isa(), nested)
        })
        .unwrap();
        assert_eq!(inner, (KernelPath::Portable, KernelPath::Portable));
        assert_eq!(isa(), before);
    }
}
