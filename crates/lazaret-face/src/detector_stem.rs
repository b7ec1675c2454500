//! The detector's first layer, hand-written: conv0 (3×3, 3→16 channels, "valid", + bias),
//! 2×2 stride-2 max-pool, leaky ReLU 0.1. Its 3 input channels do not suit the matrix
//! kernels of [`crate::conv_gemm`], which run the rest of the net (tract ran this layer
//! with a generic direct convolution at about half of the detector's time); this loop keeps
//! 16 outputs of 8 channels in registers and lets LLVM vectorise it, compiled for AVX-512 or
//! AVX2 when the CPU has them (runtime detection), with a plain build of the same code as the
//! fallback.
//!
//! The pool comes before the activation: leaky ReLU is monotonic, so
//! `max(leaky(a), leaky(b)) == leaky(max(a, b))` exactly, and it runs on a quarter of the
//! values. Each lane does the same IEEE multiply and add in the same order on every code
//! path, so all paths give bit-identical results (tested).

// The crate denies `unsafe_code`; the `#[target_feature]` builds of the loop need it.
#![allow(unsafe_code)]

use crate::simd::{isa, KernelPath};

/// Input channels, output channels and kernel side of conv0.
pub const IN_CHANNELS: usize = 3;
pub const OUT_CHANNELS: usize = 16;
const K: usize = 3;
const TAPS: usize = IN_CHANNELS * K * K;
/// Output pixels computed together (one AVX-512 register of f32 per channel).
const LANES: usize = 16;
const LEAKY_SLOPE: f32 = 0.1;

/// conv0's weights, laid out `[out][in][ky][kx]`, and its bias.
#[derive(Debug, Clone)]
pub struct StemWeights {
    filters: Vec<[f32; TAPS]>,
    bias: [f32; OUT_CHANNELS],
}

impl StemWeights {
    /// From a TF `[kh, kw, in, out]` filter (`3×3×3×16`) and a 16-value bias.
    pub fn from_tf(filter: &[f32], bias: &[f32]) -> Self {
        assert_eq!(filter.len(), TAPS * OUT_CHANNELS, "conv0 filter size");
        assert_eq!(bias.len(), OUT_CHANNELS, "conv0 bias size");
        let filters = (0..OUT_CHANNELS)
            .map(|o| {
                let mut f = [0f32; TAPS];
                for c in 0..IN_CHANNELS {
                    for ky in 0..K {
                        for kx in 0..K {
                            f[(c * K + ky) * K + kx] =
                                filter[((ky * K + kx) * IN_CHANNELS + c) * OUT_CHANNELS + o];
                        }
                    }
                }
                f
            })
            .collect();
        let mut b = [0f32; OUT_CHANNELS];
        b.copy_from_slice(bias);
        StemWeights { filters, bias: b }
    }
}

/// Side of the stem's output for a `size × size` input: conv "valid" then pool by 2.
pub fn output_side(size: usize) -> usize {
    (size - (K - 1)) / 2
}

/// Runs the stem on a normalised NCHW `3 × size × size` input; returns NCHW
/// `16 × s × s` with `s = output_side(size)`. `size` must be even and at least 18.
pub fn run(input: &[f32], size: usize, w: &StemWeights) -> Vec<f32> {
    match isa() {
        // SAFETY: `isa()` returns only paths this CPU supports (AVX-512F and FMA here).
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => unsafe { run_avx512(input, size, w) },
        // SAFETY: `isa()` returns only paths this CPU supports (AVX2 and FMA here).
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => unsafe { run_avx2(input, size, w) },
        _ => run_portable(input, size, w),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512(input: &[f32], size: usize, w: &StemWeights) -> Vec<f32> {
    run_impl(input, size, w)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2(input: &[f32], size: usize, w: &StemWeights) -> Vec<f32> {
    run_impl(input, size, w)
}

/// The same loop built for the baseline target (the fallback, and the reference in tests).
pub fn run_portable(input: &[f32], size: usize, w: &StemWeights) -> Vec<f32> {
    run_impl(input, size, w)
}

/// Output channels computed together: independent accumulators that hide the add latency
/// and share each input load.
const CH_BLOCK: usize = 8;

#[inline(always)]
fn max2(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

#[inline(always)]
fn run_impl(input: &[f32], size: usize, w: &StemWeights) -> Vec<f32> {
    assert!(
        size.is_multiple_of(2) && size >= LANES + K - 1,
        "stem input size"
    );
    assert_eq!(input.len(), IN_CHANNELS * size * size, "stem input length");
    let conv_w = size - (K - 1);
    let side = conv_w / 2;
    let plane = size * size;
    let mut out = vec![0f32; OUT_CHANNELS * side * side];
    // Conv rows 2r and 2r + 1 of every channel (`[dy][channel][x]`), pooled into row r.
    let mut rows = vec![0f32; 2 * OUT_CHANNELS * conv_w];
    // Block starts: every LANES pixels, the last block moved back to end at the edge
    // (it recomputes a few pixels rather than running a scalar tail).
    let starts: Vec<usize> = (0..conv_w.div_ceil(LANES))
        .map(|b| (b * LANES).min(conv_w - LANES))
        .collect();
    for r in 0..side {
        for dy in 0..2 {
            let y = 2 * r + dy;
            for &x0 in &starts {
                for o0 in (0..OUT_CHANNELS).step_by(CH_BLOCK) {
                    let mut acc = [[0f32; LANES]; CH_BLOCK];
                    for (k, a) in acc.iter_mut().enumerate() {
                        *a = [w.bias[o0 + k]; LANES];
                    }
                    for c in 0..IN_CHANNELS {
                        for ky in 0..K {
                            let src = &input[c * plane + (y + ky) * size + x0..][..LANES + K - 1];
                            for kx in 0..K {
                                let tap = (c * K + ky) * K + kx;
                                let s: &[f32; LANES] =
                                    src[kx..kx + LANES].try_into().expect("LANES values");
                                for (k, a) in acc.iter_mut().enumerate() {
                                    let wv = w.filters[o0 + k][tap];
                                    for i in 0..LANES {
                                        a[i] += wv * s[i];
                                    }
                                }
                            }
                        }
                    }
                    for (k, a) in acc.iter().enumerate() {
                        let at = (dy * OUT_CHANNELS + o0 + k) * conv_w + x0;
                        rows[at..at + LANES].copy_from_slice(a);
                    }
                }
            }
        }
        for o in 0..OUT_CHANNELS {
            let top = &rows[o * conv_w..][..2 * side];
            let bottom = &rows[(OUT_CHANNELS + o) * conv_w..][..2 * side];
            let dst = &mut out[(o * side + r) * side..][..side];
            // Zipped pairs (no indexing) so the loop vectorises.
            for ((d, t), b) in dst
                .iter_mut()
                .zip(top.chunks_exact(2))
                .zip(bottom.chunks_exact(2))
            {
                let m = max2(max2(t[0], t[1]), max2(b[0], b[1]));
                *d = if m > 0.0 { m } else { m * LEAKY_SLOPE };
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights() -> StemWeights {
        let filter: Vec<f32> = (0..TAPS * OUT_CHANNELS)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 61.0)
            .collect();
        let bias: Vec<f32> = (0..OUT_CHANNELS).map(|i| i as f32 * 0.05 - 0.4).collect();
        StemWeights::from_tf(&filter, &bias)
    }

    fn input(size: usize) -> Vec<f32> {
        (0..IN_CHANNELS * size * size)
            .map(|i| ((i * 7919 % 1013) as f32 - 506.0) / 900.0)
            .collect()
    }

    /// Straightforward conv + bias + leaky ReLU + max-pool, in f64.
    fn reference(x: &[f32], size: usize, w: &StemWeights) -> Vec<f64> {
        let cw = size - 2;
        let side = cw / 2;
        let conv = |o: usize, y: usize, xx: usize| {
            let mut s = w.bias[o] as f64;
            for c in 0..3 {
                for ky in 0..3 {
                    for kx in 0..3 {
                        s += w.filters[o][(c * 3 + ky) * 3 + kx] as f64
                            * x[c * size * size + (y + ky) * size + xx + kx] as f64;
                    }
                }
            }
            if s > 0.0 {
                s
            } else {
                s * 0.1
            }
        };
        let mut out = Vec::new();
        for o in 0..OUT_CHANNELS {
            for r in 0..side {
                for j in 0..side {
                    let m = [(0, 0), (0, 1), (1, 0), (1, 1)]
                        .iter()
                        .map(|&(dy, dx)| conv(o, 2 * r + dy, 2 * j + dx))
                        .fold(f64::MIN, f64::max);
                    out.push(m);
                }
            }
        }
        out
    }

    #[test]
    fn matches_a_plain_convolution() {
        // 38: two full blocks and an overlapping last one; 224 is a real detector size.
        for size in [18, 38, 224] {
            let w = weights();
            let x = input(size);
            let got = run(&x, size, &w);
            let want = reference(&x, size, &w);
            assert_eq!(got.len(), OUT_CHANNELS * output_side(size).pow(2));
            for (i, (g, r)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (*g as f64 - r).abs() < 1e-5,
                    "size {size} at {i}: {g} vs {r}"
                );
            }
        }
    }

    #[test]
    fn every_code_path_is_bit_identical() {
        use crate::simd::{with_path, KernelPath};
        let w = weights();
        let x = input(320);
        let portable = run_portable(&x, 320, &w);
        assert_eq!(run(&x, 320, &w), portable);
        for path in KernelPath::available() {
            let got = with_path(path, || run(&x, 320, &w)).unwrap();
            assert_eq!(got, portable, "{path}");
        }
    }
}
