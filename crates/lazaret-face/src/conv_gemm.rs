//! Convolutions as small matrix products, hand-written for the three networks (tract ran
//! them at 9–25 GMAC/s: lazy im2col, generic direct convolutions, NCHW depthwise loops).
//!
//! Feature maps are NCHW planes with a one-pixel zero border ([`Map`]). A 3×3 stride-1
//! "same" convolution then needs no im2col at all: output pixel `(y, x)` reads input
//! `(y + ky, x + kx)` of the padded plane, i.e. flat index `q + ky·Wp + kx` with
//! `q = y·Wp + x`, so every tap is the same contiguous run of the input shifted by a fixed
//! offset. The kernel computes "wide" rows (`x` up to `Wp`), writes them shifted into the
//! output's interior, and the two garbage columns land exactly on the output's border, which
//! is zeroed again afterwards. Strided 3×3 layers go through an explicit im2col into the
//! same wide layout and run the same kernel; the 7×7 stride-2 stem reads the four phases of
//! its input (even/odd rows × columns) at fixed offsets instead. Where a max-pool follows
//! the detector's stem and pointwise convs, the conv runs a strip of rows at a time into a
//! cached buffer and is pooled from there, never written out whole. Maps of at most 16
//! pixels (the recognition net's last stage) put the output channels across the lanes
//! instead (`pixels_into`).
//!
//! The kernel keeps 8 output channels × 32 pixels in registers (16 AVX-512 accumulators,
//! broadcast weight × two input loads per tap, auto-vectorised); with AVX2 only (16
//! registers) an intrinsics kernel of 4 channels × 16 pixels runs; otherwise the plain loop. 1×1 convs
//! use the same kernel (one tap per input channel); depthwise 3×3 convs are a plain
//! vectorised loop over the wide rows.

// The crate denies `unsafe_code`; the kernels here need it for `#[target_feature]`
// functions and unchecked loads, each block with its SAFETY argument.
#![allow(unsafe_code)]

use crate::simd::{isa, KernelPath};

/// Output channels per kernel block.
pub const MR: usize = 8;
/// Output pixels per kernel block (two AVX-512 registers).
const NR: usize = 32;
/// Floats after the last plane, so that the kernel's full-width loads past the end of a
/// row stay inside the buffer.
pub(crate) const SLACK: usize = NR + 8;

/// A feature map: `c` planes of `(h + 2) × (w + 2)` with a zero border, then `SLACK` spare floats.
#[derive(Debug, Clone)]
pub struct Map {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub data: Vec<f32>,
}

impl Map {
    pub fn zeros(c: usize, h: usize, w: usize) -> Self {
        Map {
            c,
            h,
            w,
            data: vec![0f32; c * (h + 2) * (w + 2) + SLACK],
        }
    }

    /// From a plain NCHW `c × h × w` buffer.
    pub fn from_plain(c: usize, h: usize, w: usize, plain: &[f32]) -> Self {
        assert_eq!(plain.len(), c * h * w, "plain map size");
        let mut m = Map::zeros(c, h, w);
        for ch in 0..c {
            for y in 0..h {
                let at = m.at(ch, y, 0);
                m.data[at..at + w].copy_from_slice(&plain[(ch * h + y) * w..][..w]);
            }
        }
        m
    }

    /// The first `c` channels as a plain NCHW buffer.
    pub fn to_plain(&self, c: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(c * self.h * self.w);
        for ch in 0..c {
            for y in 0..self.h {
                let at = self.at(ch, y, 0);
                out.extend_from_slice(&self.data[at..at + self.w]);
            }
        }
        out
    }

    /// Row stride of a plane (width plus border).
    pub fn wp(&self) -> usize {
        self.w + 2
    }

    /// Floats per channel plane, border included.
    pub fn plane(&self) -> usize {
        (self.h + 2) * (self.w + 2)
    }

    /// Flat index of interior pixel `(y, x)` of channel `c`.
    #[inline]
    pub fn at(&self, c: usize, y: usize, x: usize) -> usize {
        c * self.plane() + (y + 1) * self.wp() + x + 1
    }

    /// Zeroes the border columns the wide kernel writes garbage into.
    fn clear_side_borders(&mut self) {
        let (wp, plane, w) = (self.wp(), self.plane(), self.w);
        for c in 0..self.c {
            for r in 1..=self.h + 1 {
                self.data[c * plane + r * wp] = 0.0;
                self.data[c * plane + r * wp + w + 1] = 0.0;
            }
        }
    }
}

/// A convolution's weights packed for the kernel: `[cout / MR][taps][MR]`, taps ordered
/// `(cin, ky, kx)`, plus the bias.
#[derive(Debug, Clone)]
pub struct PackedConv {
    pub k: usize,
    pub cin: usize,
    pub cout: usize,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl PackedConv {
    /// From a TF `[k, k, cin, cout]` filter; `scale` multiplies each output channel's filter
    /// (folding an affine layer in) and the bias is taken as given.
    pub fn from_tf(
        filter: &[f32],
        k: usize,
        cin: usize,
        cout: usize,
        scale: &[f32],
        bias: &[f32],
    ) -> Self {
        assert_eq!(filter.len(), k * k * cin * cout, "filter size");
        assert_eq!(cout % MR, 0, "output channels must be a multiple of {MR}");
        assert_eq!(
            (scale.len(), bias.len()),
            (cout, cout),
            "scale and bias size"
        );
        let taps = cin * k * k;
        let mut weights = vec![0f32; cout * taps];
        for o in 0..cout {
            for ci in 0..cin {
                for ky in 0..k {
                    for kx in 0..k {
                        let tap = (ci * k + ky) * k + kx;
                        weights[((o / MR) * taps + tap) * MR + o % MR] =
                            filter[((ky * k + kx) * cin + ci) * cout + o] * scale[o];
                    }
                }
            }
        }
        PackedConv {
            k,
            cin,
            cout,
            weights,
            bias: bias.to_vec(),
        }
    }

    fn taps(&self) -> usize {
        self.cin * self.k * self.k
    }
}

/// The activation applied to a convolution's output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    Identity,
    Relu,
    /// `x` if positive, else `slope · x`.
    Leaky(f32),
}

/// What happens to a convolution's output before it is stored.
#[derive(Debug, Clone, Copy)]
pub struct Epilogue<'a> {
    /// Added (same geometry as the output), before the activation.
    pub residual: Option<&'a Map>,
    pub act: Activation,
}

impl Epilogue<'_> {
    pub const IDENTITY: Epilogue<'static> = Epilogue {
        residual: None,
        act: Activation::Identity,
    };
    pub const RELU: Epilogue<'static> = Epilogue {
        residual: None,
        act: Activation::Relu,
    };
}

/// 3×3 stride-1 "same" convolution of a bordered map (the output has the same size).
pub fn conv3x3_same(x: &Map, w: &PackedConv, ep: Epilogue<'_>) -> Map {
    let mut out = conv3x3_same_batch(std::slice::from_ref(x), w, &[ep]);
    out.pop().expect("one output per input")
}

/// [`conv3x3_same`] of equally shaped maps, each with its epilogue: on few-pixel maps the
/// images share the reads of the weights (see `gemm_batch`); the values are those of
/// one call per image, to the bit.
pub fn conv3x3_same_batch(xs: &[Map], w: &PackedConv, eps: &[Epilogue<'_>]) -> Vec<Map> {
    let Some(x) = xs.first() else {
        return Vec::new();
    };
    assert_eq!((w.k, w.cin), (3, x.c), "conv3x3 weights");
    assert!(
        xs.iter().all(|m| (m.c, m.h, m.w) == (x.c, x.h, x.w)),
        "inputs of one shape"
    );
    let (wp, plane) = (x.wp(), x.plane());
    let offsets: Vec<usize> = (0..x.c)
        .flat_map(|c| (0..3).flat_map(move |ky| (0..3).map(move |kx| c * plane + ky * wp + kx)))
        .collect();
    let mut outs: Vec<Map> = xs.iter().map(|_| Map::zeros(w.cout, x.h, x.w)).collect();
    let inputs: Vec<&[f32]> = xs.iter().map(|m| &m.data[..]).collect();
    gemm_batch(w, &inputs, &offsets, x.h * wp, &mut outs, eps);
    outs
}

/// 1×1 convolution of a bordered map (the output has the same size).
pub fn conv1x1(x: &Map, w: &PackedConv, ep: Epilogue<'_>) -> Map {
    assert_eq!((w.k, w.cin), (1, x.c), "conv1x1 weights");
    let (wp, plane) = (x.wp(), x.plane());
    // Wide position q is interior pixel (q / wp, q % wp), at q + wp + 1 in the input.
    let offsets: Vec<usize> = (0..x.c).map(|c| c * plane + wp + 1).collect();
    let mut out = Map::zeros(w.cout, x.h, x.w);
    gemm(w, &x.data, &offsets, x.h * wp, &mut out, ep);
    out
}

/// Floats of conv output per strip of the fused conv + pool functions (192 KB: inside L2).
const STRIP_FLOATS: usize = 48 * 1024;

/// [`conv1x1`] with activation `act`, then a 2×2 stride-2 max-pool with TF "same" padding
/// (an odd last row or column is pooled alone), a strip of rows at a time: the full conv
/// output (the detector's first pointwise conv: 32 × 159 × 159 floats) is never written out
/// and read back. The values are those of the conv and then the pool, to the bit.
pub fn conv1x1_max_pool_2x2(x: &Map, w: &PackedConv, act: Activation) -> Map {
    assert_eq!((w.k, w.cin), (1, x.c), "conv1x1 weights");
    let (wp, plane) = (x.wp(), x.plane());
    let offsets: Vec<usize> = (0..x.c).map(|c| c * plane + wp + 1).collect();
    let (ho, wo) = (x.h.div_ceil(2), x.w.div_ceil(2));
    let mut out = Map::zeros(w.cout, ho, wo);
    // Output rows per strip (two conv rows each).
    let pooled_rows = (STRIP_FLOATS / (w.cout * 2 * wp)).max(1);
    let strip_plane = 2 * pooled_rows * wp;
    let mut strip = vec![0f32; w.cout * strip_plane];
    let mut rowmax = vec![0f32; x.w];
    for y0 in (0..ho).step_by(pooled_rows) {
        // Conv rows 2·y0 .. 2·y0 + rows of the input, at wide positions r·wp + x.
        let rows = (2 * pooled_rows).min(x.h - 2 * y0);
        let mut o = Out {
            data: &mut strip,
            plane: strip_plane,
            shift: 0,
        };
        gemm_into(
            w,
            &x.data[2 * y0 * wp..],
            &offsets,
            rows * wp,
            &mut o,
            None,
            act,
        );
        for c in 0..w.cout {
            for p in 0..rows.div_ceil(2) {
                let r0 = &strip[c * strip_plane + 2 * p * wp..][..x.w];
                // An odd last row is pooled alone.
                let r1 = &strip[c * strip_plane + (2 * p + 1).min(rows - 1) * wp..][..x.w];
                // The two rows' max first (one vector pass), then each pair of columns.
                for ((m, a), b) in rowmax.iter_mut().zip(r0).zip(r1) {
                    *m = a.max(*b);
                }
                let at = out.at(c, y0 + p, 0);
                let dst = &mut out.data[at..at + wo];
                for (d, pair) in dst.iter_mut().zip(rowmax.chunks_exact(2)) {
                    *d = pair[0].max(pair[1]);
                }
                if x.w % 2 == 1 {
                    dst[wo - 1] = rowmax[x.w - 1];
                }
            }
        }
    }
    out
}

/// 3×3 stride-2 depthwise convolution (no bias) with TF "same" padding of an even-sized
/// bordered map (one zero row and column after the image, none before).
pub fn depthwise3x3_s2_same(x: &Map, filters: &[[f32; 9]]) -> Map {
    assert_eq!(filters.len(), x.c, "one filter per channel");
    assert!(x.h.is_multiple_of(2) && x.w.is_multiple_of(2), "even size");
    let (ho, wo) = (x.h / 2, x.w / 2);
    let mut out = Map::zeros(x.c, ho, wo);
    for (c, f) in filters.iter().enumerate() {
        for y in 0..ho {
            for xx in 0..wo {
                let mut s = 0f32;
                for ky in 0..3 {
                    // Row 2y + ky may be the bottom border (zero): index it from the border.
                    let row = c * x.plane() + (2 * y + ky + 1) * x.wp() + 2 * xx + 1;
                    for kx in 0..3 {
                        s += f[ky * 3 + kx] * x.data[row + kx];
                    }
                }
                let at = out.at(c, y, xx);
                out.data[at] = s;
            }
        }
    }
    out
}

/// 3×3 depthwise "same" convolution (no bias) of a bordered map; `filters` holds nine
/// taps `(ky, kx)` per channel.
pub fn depthwise3x3_same(x: &Map, filters: &[[f32; 9]]) -> Map {
    assert_eq!(filters.len(), x.c, "one filter per channel");
    let mut out = Map::zeros(x.c, x.h, x.w);
    match isa() {
        // SAFETY: `isa()` returns only paths this CPU supports (AVX-512F and FMA here).
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => unsafe { depthwise_avx512(x, filters, &mut out) },
        // SAFETY: `isa()` returns only paths this CPU supports (AVX2 and FMA here).
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => unsafe { depthwise_avx2(x, filters, &mut out) },
        _ => depthwise_impl(x, filters, &mut out),
    }
    out.clear_side_borders();
    out
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn depthwise_avx512(x: &Map, filters: &[[f32; 9]], out: &mut Map) {
    depthwise_impl(x, filters, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn depthwise_avx2(x: &Map, filters: &[[f32; 9]], out: &mut Map) {
    depthwise_impl(x, filters, out)
}

#[inline(always)]
fn depthwise_impl(x: &Map, filters: &[[f32; 9]], out: &mut Map) {
    let (wp, plane) = (x.wp(), x.plane());
    let n = x.h * wp;
    for (c, f) in filters.iter().enumerate() {
        let src = &x.data[c * plane..c * plane + n + 2 * wp + 2];
        let tap = |t: usize| {
            let off = (t / 3) * wp + t % 3;
            &src[off..off + n]
        };
        let (s0, s1, s2, s3, s4, s5, s6, s7, s8) = (
            tap(0),
            tap(1),
            tap(2),
            tap(3),
            tap(4),
            tap(5),
            tap(6),
            tap(7),
            tap(8),
        );
        let dst = &mut out.data[c * plane + wp + 1..c * plane + wp + 1 + n];
        for i in 0..n {
            dst[i] = s0[i] * f[0]
                + s1[i] * f[1]
                + s2[i] * f[2]
                + s3[i] * f[3]
                + s4[i] * f[4]
                + s5[i] * f[5]
                + s6[i] * f[6]
                + s7[i] * f[7]
                + s8[i] * f[8];
        }
    }
}

/// `k × k` convolution with `stride` of a bordered map (im2col first): "valid" with
/// `pad_after == 0`; with 1, one zero row and column after the image (TF "same" for a 3×3
/// stride-2 conv of an even size).
pub fn conv_strided(
    x: &Map,
    w: &PackedConv,
    stride: usize,
    pad_after: usize,
    ep: Epilogue<'_>,
) -> Map {
    let mut out = conv_strided_batch(std::slice::from_ref(x), w, stride, pad_after, &[ep]);
    out.pop().expect("one output per input")
}

/// [`conv_strided`] of equally shaped maps, each with its epilogue (as
/// [`conv3x3_same_batch`]: the same values as one call per image).
pub fn conv_strided_batch(
    xs: &[Map],
    w: &PackedConv,
    stride: usize,
    pad_after: usize,
    eps: &[Epilogue<'_>],
) -> Vec<Map> {
    let Some(x) = xs.first() else {
        return Vec::new();
    };
    assert_eq!(w.cin, x.c, "conv input channels");
    assert!(
        xs.iter().all(|m| (m.c, m.h, m.w) == (x.c, x.h, x.w)),
        "inputs of one shape"
    );
    assert!(pad_after <= 1, "the border is one pixel");
    let ho = (x.h + pad_after - w.k) / stride + 1;
    let wo = (x.w + pad_after - w.k) / stride + 1;
    let origin = x.wp() + 1;
    let cols: Vec<Vec<f32>> = xs
        .iter()
        .map(|m| im2col(&m.data, m.c, m.plane(), m.wp(), origin, w.k, stride, ho, wo))
        .collect();
    let nq = ho * (wo + 2);
    let offsets: Vec<usize> = (0..w.taps()).map(|t| t * nq).collect();
    let mut outs: Vec<Map> = xs.iter().map(|_| Map::zeros(w.cout, ho, wo)).collect();
    let inputs: Vec<&[f32]> = cols.iter().map(|c| &c[..]).collect();
    gemm_batch(w, &inputs, &offsets, nq, &mut outs, eps);
    outs
}

/// 3×3 stride-1 "valid" convolution of a plain (borderless) NCHW `cin × size × size` input,
/// without im2col: output pixel `(y, x)` reads input `(y + ky, x + kx)`, so with the output's
/// row stride equal to the input's (`size`: the output is `size − 2` wide plus its border)
/// every tap is the input at a fixed offset, as for [`conv3x3_same`].
pub fn conv3x3_valid_plain(
    mut input: Vec<f32>,
    size: usize,
    w: &PackedConv,
    ep: Epilogue<'_>,
) -> Map {
    assert!(size >= 3, "input smaller than the kernel");
    let offsets = valid3x3_offsets(&mut input, size, w);
    let mut out = Map::zeros(w.cout, size - 2, size - 2);
    gemm(w, &input, &offsets, (size - 2) * size, &mut out, ep);
    out
}

/// The tap offsets of a 3×3 "valid" conv of a plain `cin × size × size` input (row stride
/// `size`, so every tap is a fixed offset), after checking the input's size and appending
/// room for the kernels' full-width loads past the last row.
fn valid3x3_offsets(input: &mut Vec<f32>, size: usize, w: &PackedConv) -> Vec<usize> {
    assert_eq!(
        (w.k, input.len()),
        (3, w.cin * size * size),
        "conv3x3 valid input"
    );
    input.resize(input.len() + SLACK, 0.0);
    let plane = size * size;
    (0..w.cin)
        .flat_map(|c| (0..3).flat_map(move |ky| (0..3).map(move |kx| c * plane + ky * size + kx)))
        .collect()
}

/// Conv rows per strip of [`conv3x3_valid_pool_leaky`]: 16 channels × 8 rows × 320 wide
/// positions is 160 KB, inside L2 on the machines measured.
const POOL_STRIP_ROWS: usize = 8;

/// [`conv3x3_valid_plain`] (no activation), then a 2×2 stride-2 "valid" max-pool and leaky
/// ReLU with `slope`, a strip of conv rows at a time: the full conv output (the detector's
/// stem at 320: 16 × 318 × 320 floats, 6.5 MB) is never written out and read back, and each
/// strip is pooled while it is still in cache. The pool comes before the activation:
/// leaky ReLU is monotonic, so `max(leaky(a), leaky(b)) == leaky(max(a, b))` exactly, and
/// the values are those of conv, then pool, then activation, to the bit.
pub fn conv3x3_valid_pool_leaky(
    mut input: Vec<f32>,
    size: usize,
    w: &PackedConv,
    slope: f32,
) -> Map {
    assert!(size >= 4, "input too small for a pooled output");
    let offsets = valid3x3_offsets(&mut input, size, w);
    let side = (size - 2) / 2;
    let mut out = Map::zeros(w.cout, side, side);
    // One strip: `POOL_STRIP_ROWS` wide conv rows per channel (row stride `size`, the
    // input's, so that every tap is a fixed offset as in `conv3x3_valid_plain`).
    let strip_plane = POOL_STRIP_ROWS * size;
    let mut strip = vec![0f32; w.cout * strip_plane];
    let pairs_per_strip = POOL_STRIP_ROWS / 2;
    for y0 in (0..side).step_by(pairs_per_strip) {
        let pairs = pairs_per_strip.min(side - y0);
        let mut o = Out {
            data: &mut strip,
            plane: strip_plane,
            shift: 0,
        };
        // Conv row r of the strip is conv row 2·y0 + r: input rows from 2·y0 on.
        gemm_into(
            w,
            &input[2 * y0 * size..],
            &offsets,
            2 * pairs * size,
            &mut o,
            None,
            Activation::Identity,
        );
        for c in 0..w.cout {
            for p in 0..pairs {
                let r0 = &strip[c * strip_plane + 2 * p * size..][..2 * side];
                let r1 = &strip[c * strip_plane + (2 * p + 1) * size..][..2 * side];
                let at = out.at(c, y0 + p, 0);
                let dst = &mut out.data[at..at + side];
                for (x, d) in dst.iter_mut().enumerate() {
                    let m = r0[2 * x]
                        .max(r1[2 * x])
                        .max(r0[2 * x + 1].max(r1[2 * x + 1]));
                    *d = if m > 0.0 { m } else { m * slope };
                }
            }
        }
    }
    out
}

thread_local! {
    /// The wide conv output of the last [`conv_s2_max_pool_plain`] on this thread (690 KB
    /// for the recognition net's stem), reused rather than allocated and faulted in again.
    static STEM_SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A `k × k` (odd `k`) stride-2 "valid" convolution of a plain NCHW input of even height and
/// width, then a 3×3 stride-2 "valid" max-pool: the recognition net's stem, without im2col.
/// Split into its four phases (even or odd rows × even or odd columns, each `h/2 × w/2`),
/// the input of tap `(ky, kx)` is phase `(ky % 2, kx % 2)` shifted by `(ky / 2, kx / 2)`: a
/// fixed offset, as for [`conv3x3_same`], so the kernel reads the phases directly (the
/// im2col columns were 3.2 MB for a 150×150 input; the phases are its 270 KB). The taps are
/// summed in the same order as through im2col: the values are the same to the bit.
pub fn conv_s2_max_pool_plain(
    input: &[f32],
    (h, w_in): (usize, usize),
    w: &PackedConv,
    act: Activation,
) -> Map {
    assert_eq!(input.len(), w.cin * h * w_in, "input size");
    assert!(
        h.is_multiple_of(2) && w_in.is_multiple_of(2) && w.k % 2 == 1,
        "even input, odd kernel"
    );
    assert!(
        h >= w.k + 4 && w_in >= w.k + 4,
        "input too small for the pool"
    );
    let (hh, wh) = (h / 2, w_in / 2);
    let phase = hh * wh;
    let mut phases = vec![0f32; w.cin * 4 * phase + SLACK];
    for c in 0..w.cin {
        let src = &input[c * h * w_in..(c + 1) * h * w_in];
        for a in 0..2 {
            for b in 0..2 {
                let dst = &mut phases[((c * 2 + a) * 2 + b) * phase..][..phase];
                for (i, row) in dst.chunks_exact_mut(wh).enumerate() {
                    let s = &src[(2 * i + a) * w_in + b..];
                    for (j, d) in row.iter_mut().enumerate() {
                        *d = s[2 * j];
                    }
                }
            }
        }
    }
    let k = w.k;
    let offsets: Vec<usize> = (0..w.cin)
        .flat_map(|c| {
            (0..k).flat_map(move |ky| {
                (0..k)
                    .map(move |kx| ((c * 2 + ky % 2) * 2 + kx % 2) * phase + (ky / 2) * wh + kx / 2)
            })
        })
        .collect();
    // Conv output (y, x) at wide position y·wh + x: the last (k − 1)/2 columns of each
    // wide row are garbage and never pooled.
    let (ho, wo) = ((h - k) / 2 + 1, (w_in - k) / 2 + 1);
    let nq = ho * wh;
    let (po, pw) = ((ho - 3) / 2 + 1, (wo - 3) / 2 + 1);
    let mut out = Map::zeros(w.cout, po, pw);
    STEM_SCRATCH.with_borrow_mut(|conv| {
        conv.resize(w.cout * nq, 0.0);
        let mut o = Out {
            data: conv,
            plane: nq,
            shift: 0,
        };
        gemm_into(w, &phases, &offsets, nq, &mut o, None, act);
        let mut rowmax = vec![0f32; wo];
        for c in 0..w.cout {
            let plane = &conv[c * nq..(c + 1) * nq];
            for y in 0..po {
                let rows: [&[f32]; 3] = std::array::from_fn(|d| &plane[(2 * y + d) * wh..][..wo]);
                for (x, m) in rowmax.iter_mut().enumerate() {
                    *m = rows[0][x].max(rows[1][x]).max(rows[2][x]);
                }
                let at = out.at(c, y, 0);
                for (x, d) in out.data[at..at + pw].iter_mut().enumerate() {
                    *d = rowmax[2 * x].max(rowmax[2 * x + 1]).max(rowmax[2 * x + 2]);
                }
            }
        }
    });
    out
}

/// `k × k` "valid" strided convolution of a plain (borderless) NCHW `c × h × w` input, by
/// im2col: the reference the phase-split [`conv_s2_max_pool_plain`] is tested against.
#[cfg(test)]
pub(crate) fn conv_valid_strided_plain(
    input: &[f32],
    (h, w_in): (usize, usize),
    w: &PackedConv,
    stride: usize,
    ep: Epilogue<'_>,
) -> Map {
    assert_eq!(input.len(), w.cin * h * w_in, "input size");
    let (ho, wo) = ((h - w.k) / stride + 1, (w_in - w.k) / stride + 1);
    let cols = im2col(input, w.cin, h * w_in, w_in, 0, w.k, stride, ho, wo);
    let nq = ho * (wo + 2);
    let offsets: Vec<usize> = (0..w.taps()).map(|t| t * nq).collect();
    let mut out = Map::zeros(w.cout, ho, wo);
    gemm(w, &cols, &offsets, nq, &mut out, ep);
    out
}

/// Columns `[taps][ho · (wo + 2)]` in the wide layout (two zero columns per output row).
#[allow(clippy::too_many_arguments)]
fn im2col(
    input: &[f32],
    cin: usize,
    plane: usize,
    row: usize,
    origin: usize,
    k: usize,
    stride: usize,
    ho: usize,
    wo: usize,
) -> Vec<f32> {
    let nq = ho * (wo + 2);
    let mut cols = vec![0f32; cin * k * k * nq + SLACK];
    for c in 0..cin {
        for ky in 0..k {
            for kx in 0..k {
                let tap = (c * k + ky) * k + kx;
                let dst = &mut cols[tap * nq..(tap + 1) * nq];
                for oy in 0..ho {
                    let src = &input[c * plane + origin + (oy * stride + ky) * row + kx..];
                    let d = &mut dst[oy * (wo + 2)..oy * (wo + 2) + wo];
                    for (ox, v) in d.iter_mut().enumerate() {
                        *v = src[ox * stride];
                    }
                }
            }
        }
    }
    cols
}

/// Where a kernel writes: output channel `co`'s value at wide position `q` goes to
/// `data[co · plane + shift + q]` (and a residual is read at the same index of its data).
pub(crate) struct Out<'a> {
    pub data: &'a mut [f32],
    pub plane: usize,
    pub shift: usize,
}

/// `out[co][q + shift] = ep(bias[co] + Σ_t w[co][t] · b[offsets[t] + q])` for `q < nq`,
/// where `shift` puts wide position `q` at interior pixel `(q / Wp, q % Wp)` of `out`.
fn gemm(w: &PackedConv, b: &[f32], offsets: &[usize], nq: usize, out: &mut Map, ep: Epilogue<'_>) {
    gemm_batch(w, &[b], offsets, nq, std::slice::from_mut(out), &[ep]);
}

/// [`gemm`] for a batch of equally shaped images (inputs, outputs and epilogues in step).
/// On few-pixel maps the batch shares each load of the weights: the 256-channel convs of
/// the recognition net read 2.4 MB of weights for 16 pixels or fewer, so a second image
/// (the mirrored chip) costs much less than a second call.
fn gemm_batch(
    w: &PackedConv,
    inputs: &[&[f32]],
    offsets: &[usize],
    nq: usize,
    outs: &mut [Map],
    eps: &[Epilogue<'_>],
) {
    assert!(
        inputs.len() == outs.len() && eps.len() == outs.len(),
        "one input and one epilogue per output"
    );
    let Some(first) = outs.first() else { return };
    let (c, h, wd) = (first.c, first.h, first.w);
    assert_eq!(c, w.cout, "output channels");
    assert_eq!(nq, h * first.wp(), "wide positions of the output");
    assert!(
        outs.iter().all(|o| (o.c, o.h, o.w) == (c, h, wd)),
        "outputs of one shape"
    );
    for ep in eps {
        if let Some(r) = ep.residual {
            assert_eq!((r.c, r.h, r.w), (c, h, wd), "residual shape");
        }
    }
    let (plane, shift) = (first.plane(), first.wp() + 1);
    #[cfg(target_arch = "x86_64")]
    if h * wd <= FEW_PIXELS && isa() != KernelPath::Portable {
        // Only the real pixels' wide positions (the wide layout would fill 16-lane blocks
        // with 9 of them, or 1).
        let wp = first.wp();
        let qs: Vec<usize> = (0..h)
            .flat_map(|y| (0..wd).map(move |x| y * wp + x))
            .collect();
        let mut jobs: Vec<PixelJob<'_>> = inputs
            .iter()
            .zip(outs.iter_mut())
            .zip(eps)
            .map(|((b, out), ep)| PixelJob {
                b,
                out: &mut out.data,
                ep: Ep {
                    residual: ep.residual.map(|r| &r.data[..]),
                    act: ep.act,
                },
            })
            .collect();
        pixels_into(w, offsets, nq, &qs, &mut jobs, (plane, shift));
        return;
    }
    for ((b, out), ep) in inputs.iter().zip(outs.iter_mut()).zip(eps) {
        let mut o = Out {
            data: &mut out.data,
            plane,
            shift,
        };
        gemm_into(
            w,
            b,
            offsets,
            nq,
            &mut o,
            ep.residual.map(|r| &r.data[..]),
            ep.act,
        );
        out.clear_side_borders();
    }
}

/// The kernel dispatch behind [`gemm`], writing through `out` (checked: every store and
/// every load stays inside its buffer).
pub(crate) fn gemm_into(
    w: &PackedConv,
    b: &[f32],
    offsets: &[usize],
    nq: usize,
    out: &mut Out<'_>,
    residual: Option<&[f32]>,
    act: Activation,
) {
    assert_eq!(offsets.len(), w.taps(), "one offset per tap");
    let max_off = offsets.iter().copied().max().unwrap_or(0);
    // Every load of the kernels (at most NR floats from offset + q, q < nq) stays inside
    // `b`: this is what makes their unchecked loads sound.
    assert!(
        max_off + nq + NR <= b.len(),
        "input too short for the kernel"
    );
    let end = (w.cout - 1) * out.plane + out.shift + nq;
    assert!(end <= out.data.len(), "output too short");
    if let Some(r) = residual {
        assert!(end <= r.len(), "residual too short");
    }
    let ep = Ep { residual, act };
    match isa() {
        // SAFETY: `isa()` returns only paths this CPU supports; bounds asserted above.
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx512 => unsafe { gemm_avx512(w, b, offsets, nq, out, ep) },
        // SAFETY: `isa()` returns only paths this CPU supports; bounds asserted above.
        #[cfg(target_arch = "x86_64")]
        KernelPath::Avx2 => unsafe { gemm_avx2(w, b, offsets, nq, out, ep) },
        _ => gemm_portable(w, b, offsets, nq, out, ep),
    }
}

/// Maps of at most this many pixels (the recognition net's last stage: 4×4 to 1×1) run on
/// [`pixels_avx2`]: 3×3 256→256 on 4×4 at 2× the wide kernel. Not more: the detector's 10×10
/// layers ran faster alone on it (1×1 256→512: 30 → 43 GMAC/s) but slowed the whole
/// detector in the pipeline (docs/benchmarks-history.md).
const FEW_PIXELS: usize = 16;

/// One image of [`pixels_into`]: its input, its output planes and its epilogue.
#[cfg(target_arch = "x86_64")]
struct PixelJob<'a> {
    b: &'a [f32],
    out: &'a mut [f32],
    ep: Ep<'a>,
}

/// [`gemm_into`] for the wide positions `qs` only (each `< nq`) of every image in `jobs`,
/// on the AVX2 kernel (checked like it: every load and store stays inside its buffer).
/// Each 8-channel block of weights is read from memory once for all pixels of all images.
#[cfg(target_arch = "x86_64")]
fn pixels_into(
    w: &PackedConv,
    offsets: &[usize],
    nq: usize,
    qs: &[usize],
    jobs: &mut [PixelJob<'_>],
    (plane, shift): (usize, usize),
) {
    assert_eq!(offsets.len(), w.taps(), "one offset per tap");
    assert!(
        qs.iter().all(|&q| q < nq),
        "positions inside the wide range"
    );
    let max_off = offsets.iter().copied().max().unwrap_or(0);
    let end = (w.cout - 1) * plane + shift + nq;
    for job in jobs.iter() {
        assert!(
            max_off + nq <= job.b.len(),
            "input too short for the kernel"
        );
        assert!(end <= job.out.len(), "output too short");
        if let Some(r) = job.ep.residual {
            assert!(end <= r.len(), "residual too short");
        }
    }
    // Every CPU with AVX-512F has AVX2 and FMA; checked rather than assumed.
    assert!(
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma"),
        "the few-pixels kernel needs AVX2 and FMA"
    );
    // Every pixel of every image: (image, wide position).
    let pixels: Vec<(usize, usize)> = (0..jobs.len())
        .flat_map(|k| qs.iter().map(move |&q| (k, q)))
        .collect();
    // Chunks of at most PIXELS_BLOCK pixels, as even as possible: 16 pixels run as 8 + 8,
    // each with enough accumulators to hide the FMA latency (12 + 4 ran at half speed).
    let n = pixels.len();
    let parts = n.div_ceil(PIXELS_BLOCK);
    let bounds: Vec<(usize, usize)> = (0..parts)
        .map(|i| (i * n / parts, (i + 1) * n / parts))
        .collect();
    // Each chunk's inputs gathered tap-major (`packed[start·taps + t·len + p]`): the kernel
    // then reads one pointer at fixed offsets, not one address register per pixel.
    let taps = offsets.len();
    let mut packed = vec![0f32; taps * n];
    for &(start, end) in &bounds {
        let len = end - start;
        let dst = &mut packed[start * taps..end * taps];
        for (p, &(k, q)) in pixels[start..end].iter().enumerate() {
            let src = &jobs[k].b[q..q + max_off + 1];
            for (d, &off) in dst[p..].iter_mut().step_by(len).zip(offsets) {
                *d = src[off];
            }
        }
    }
    // Channel blocks outside: a block's weights (taps × 8 floats) stay in cache while
    // every chunk of pixels uses them.
    for cb in 0..w.cout / MR {
        for &(start, end) in &bounds {
            let chunk = &packed[start * taps..end * taps];
            // SAFETY: AVX2 and FMA are present (asserted above); `chunk` holds taps × its
            // pixel count values; the outputs and residuals reach `end` (asserted above).
            unsafe { pixels_avx2(w, chunk, &pixels[start..end], cb, jobs, (plane, shift)) };
        }
    }
}

/// Pixels per block of [`pixels_avx2`]: 12 accumulators, one weight vector, one broadcast.
const PIXELS_BLOCK: usize = 12;

/// 8 output channels (one vector: the packed block's weights of a tap, loaded whole) ×
/// up to 12 pixels (the input value of each broadcast): every lane computes a real output.
/// The taps are summed in the same order, from the bias, with one FMA each, as in
/// [`gemm_avx2`]: the results are the same to the bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn pixels_avx2(
    w: &PackedConv,
    chunk: &[f32],
    pixels: &[(usize, usize)],
    cb: usize,
    jobs: &mut [PixelJob<'_>],
    (plane, shift): (usize, usize),
) {
    assert_eq!(
        chunk.len(),
        w.taps() * pixels.len(),
        "one value per tap and pixel"
    );
    macro_rules! sized {
        ($($n:literal)*) => {
            match pixels.len() {
                $($n => {
                    // SAFETY: as the caller's; `chunk` holds taps × $n values (asserted).
                    let acc = unsafe { pixels_block::<$n>(w, chunk.as_ptr(), cb) };
                    for (vals, &(k, q)) in acc.iter().zip(pixels) {
                        let job = &mut jobs[k];
                        store_pixel(vals, q, cb * MR, job.out, (plane, shift), job.ep);
                    }
                })*
                n => unreachable!("{n} pixels in a block"),
            }
        };
    }
    sized!(1 2 3 4 5 6 7 8 9 10 11 12);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn pixels_block<const P: usize>(w: &PackedConv, x: *const f32, cb: usize) -> [[f32; MR]; P] {
    use std::arch::x86_64::*;
    let taps = w.taps();
    // SAFETY: the packed block holds taps × MR weights and the bias cout values; `x` holds
    // taps × P values (asserted by the caller).
    unsafe {
        let wk = w.weights.as_ptr().add(cb * taps * MR);
        let bias = _mm256_loadu_ps(w.bias.as_ptr().add(cb * MR));
        let mut acc = [bias; P];
        // The next channel block's weights, a tap at a time: read from memory while this
        // block's later chunks run on cached weights.
        let next = wk.wrapping_add(taps * MR);
        for t in 0..taps {
            _mm_prefetch::<_MM_HINT_T1>(next.wrapping_add(t * MR) as *const i8);
            let wv = _mm256_loadu_ps(wk.add(t * MR));
            let xt = x.add(t * P);
            for (p, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(wv, _mm256_broadcast_ss(&*xt.add(p)), *a);
            }
        }
        let mut res = [[0f32; MR]; P];
        for (r, a) in res.iter_mut().zip(&acc) {
            _mm256_storeu_ps(r.as_mut_ptr(), *a);
        }
        res
    }
}

/// Stores one pixel's 8 channels of [`pixels_block`] into the channel planes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn store_pixel(
    vals: &[f32; MR],
    q: usize,
    co0: usize,
    out: &mut [f32],
    (plane, shift): (usize, usize),
    ep: Ep<'_>,
) {
    for (m, &v) in vals.iter().enumerate() {
        let at = (co0 + m) * plane + shift + q;
        let v = v + ep.residual.map_or(0.0, |r| r[at]);
        out[at] = match ep.act {
            Activation::Identity => v,
            Activation::Relu => v.max(0.0),
            Activation::Leaky(s) => {
                if v < 0.0 {
                    v * s
                } else {
                    v
                }
            }
        };
    }
}

/// The epilogue as the kernels see it: the residual's buffer has the output's geometry.
#[derive(Clone, Copy)]
pub(crate) struct Ep<'a> {
    residual: Option<&'a [f32]>,
    act: Activation,
}

/// Stores one `MR × NR` block (`valid` pixels of it) through the epilogue.
#[inline(always)]
fn store<const N: usize, const M: usize>(
    acc: &[[f32; N]; M],
    co0: usize,
    q: usize,
    valid: usize,
    out: &mut Out<'_>,
    ep: Ep<'_>,
) {
    // One loop per activation, so that each one vectorises without a branch inside.
    match ep.act {
        Activation::Identity => store_with(acc, co0, q, valid, out, ep.residual, |v| v),
        Activation::Relu => store_with(acc, co0, q, valid, out, ep.residual, |v| v.max(0.0)),
        Activation::Leaky(s) => store_with(acc, co0, q, valid, out, ep.residual, |v| {
            if v < 0.0 {
                v * s
            } else {
                v
            }
        }),
    }
}

#[inline(always)]
fn store_with<const N: usize, const M: usize>(
    acc: &[[f32; N]; M],
    co0: usize,
    q: usize,
    valid: usize,
    out: &mut Out<'_>,
    residual: Option<&[f32]>,
    act: impl Fn(f32) -> f32,
) {
    let (plane, shift) = (out.plane, out.shift);
    for (m, a) in acc.iter().enumerate() {
        let at = (co0 + m) * plane + shift + q;
        let dst = &mut out.data[at..at + valid];
        match residual {
            Some(r) => {
                let res = &r[at..at + valid];
                for ((d, v), s) in dst.iter_mut().zip(a).zip(res) {
                    *d = act(v + s);
                }
            }
            None => {
                for (d, v) in dst.iter_mut().zip(a) {
                    *d = act(*v);
                }
            }
        }
    }
}

/// AVX-512 intrinsics: blocks of 8 output channels × 32 pixels (16 of the 32 vector
/// registers as accumulators; 2 input loads and 8 broadcasts per 16 FMAs), the whole packed
/// 8-channel block at once, the epilogue in registers for whole blocks; a last block of at
/// most 16 pixels takes one register per channel, so small maps (the recognition net's
/// 3×3 stage: 15 wide positions) waste no half-empty vectors. (The auto-vectorised
/// [`gemm_impl`] built for AVX-512 ran at half the AVX2 kernel's speed.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn gemm_avx512(
    w: &PackedConv,
    b: &[f32],
    offsets: &[usize],
    nq: usize,
    out: &mut Out<'_>,
    ep: Ep<'_>,
) {
    let mut q = 0;
    while q < nq {
        let valid = NR.min(nq - q);
        for cb in 0..w.cout / MR {
            // SAFETY: this CPU has AVX-512F and FMA (we are in such a function); the
            // bounds are those asserted by `gemm_into` (q + 32 <= nq + NR loads).
            unsafe {
                if valid <= NR / 2 {
                    block_avx512::<1>(w, b, offsets, q, valid, cb, out, ep)
                } else {
                    block_avx512::<2>(w, b, offsets, q, valid, cb, out, ep)
                }
            }
        }
        q += NR;
    }
}

/// One block of [`gemm_avx512`]: 8 output channels × `16 · V` pixels from wide position `q`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn block_avx512<const V: usize>(
    w: &PackedConv,
    b: &[f32],
    offsets: &[usize],
    q: usize,
    valid: usize,
    cb: usize,
    out: &mut Out<'_>,
    ep: Ep<'_>,
) {
    use std::arch::x86_64::*;
    let taps = w.taps();
    let bp = b.as_ptr();
    // SAFETY: within the packed weights (cout / MR blocks of taps × MR values).
    let wk = unsafe { w.weights.as_ptr().add(cb * taps * MR) };
    let co0 = cb * MR;
    let mut c: [[__m512; V]; MR] = std::array::from_fn(|m| [_mm512_set1_ps(w.bias[co0 + m]); V]);
    for (t, &off) in offsets.iter().enumerate() {
        // SAFETY: off + q + NR <= b.len() (asserted by `gemm_into`), 16 · V <= NR; the
        // packed weights hold taps × MR values per block.
        let (x, wt) = unsafe {
            let p = bp.add(off + q);
            let x: [__m512; V] = std::array::from_fn(|k| _mm512_loadu_ps(p.add(16 * k)));
            (x, wk.add(t * MR))
        };
        for (m, cm) in c.iter_mut().enumerate() {
            // SAFETY: m < MR values at wt (see above).
            let a = _mm512_set1_ps(unsafe { *wt.add(m) });
            for (acc, xv) in cm.iter_mut().zip(&x) {
                *acc = _mm512_fmadd_ps(a, *xv, *acc);
            }
        }
    }
    if valid == 16 * V {
        for (m, cm) in c.iter().enumerate() {
            let at = (co0 + m) * out.plane + out.shift + q;
            for (k, &acc) in cm.iter().enumerate() {
                // SAFETY: at + 16 · V <= end <= out.data.len() and, with a residual, <= its
                // length (asserted by `gemm_into`; q + valid <= nq).
                unsafe {
                    let mut v = acc;
                    if let Some(r) = ep.residual {
                        v = _mm512_add_ps(v, _mm512_loadu_ps(r.as_ptr().add(at + 16 * k)));
                    }
                    v = match ep.act {
                        Activation::Identity => v,
                        Activation::Relu => _mm512_max_ps(v, _mm512_setzero_ps()),
                        Activation::Leaky(slope) => {
                            let neg = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(v, _mm512_setzero_ps());
                            _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(slope))
                        }
                    };
                    _mm512_storeu_ps(out.data.as_mut_ptr().add(at + 16 * k), v);
                }
            }
        }
        return;
    }
    let mut acc = [[0f32; NR]; MR];
    for (row, cm) in acc.iter_mut().zip(&c) {
        for (k, v) in cm.iter().enumerate() {
            // SAFETY: each row of `acc` holds 32 >= 16 · V floats.
            unsafe { _mm512_storeu_ps(row.as_mut_ptr().add(16 * k), *v) };
        }
    }
    store(&acc, co0, q, valid, out, ep);
}

/// Pixels per AVX2 block: two 8-float registers.
const NR_AVX2: usize = 16;

/// AVX2 has 16 vector registers: blocks of 4 output channels × 16 pixels (8 accumulators,
/// 2 input loads and 4 broadcasts per tap), each half of a packed 8-channel block in turn.
/// (4 × 24 spills on LLVM's register allocation; 8 × 8 needs 9 loads per 8 FMAs.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gemm_avx2(
    w: &PackedConv,
    b: &[f32],
    offsets: &[usize],
    nq: usize,
    out: &mut Out<'_>,
    ep: Ep<'_>,
) {
    use std::arch::x86_64::*;
    const HALF: usize = MR / 2;
    let taps = w.taps();
    let bp = b.as_ptr();
    for q in (0..nq).step_by(NR_AVX2) {
        let valid = NR_AVX2.min(nq - q);
        for cb in 0..w.cout / MR {
            for half in 0..2 {
                // SAFETY: within the packed block of taps × MR values.
                let wk = unsafe { w.weights.as_ptr().add(cb * taps * MR + half * HALF) };
                let co0 = cb * MR + half * HALF;
                let mut c = [[_mm256_setzero_ps(); 2]; HALF];
                for (m, cm) in c.iter_mut().enumerate() {
                    *cm = [_mm256_set1_ps(w.bias[co0 + m]); 2];
                }
                for (t, &off) in offsets.iter().enumerate() {
                    // SAFETY: off + q + NR_AVX2 <= b.len() (asserted by `gemm`); the packed
                    // weights hold taps × MR values per block.
                    let (x0, x1, wt) = unsafe {
                        let p = bp.add(off + q);
                        (
                            _mm256_loadu_ps(p),
                            _mm256_loadu_ps(p.add(8)),
                            wk.add(t * MR),
                        )
                    };
                    for (m, cm) in c.iter_mut().enumerate() {
                        // SAFETY: m < HALF values at wt (see above).
                        let a = _mm256_set1_ps(unsafe { *wt.add(m) });
                        cm[0] = _mm256_fmadd_ps(a, x0, cm[0]);
                        cm[1] = _mm256_fmadd_ps(a, x1, cm[1]);
                    }
                }
                if valid == NR_AVX2 {
                    // A whole block: the epilogue in registers, stored straight to the
                    // output (the scalar path below costs as much as a short tap loop).
                    for (m, cm) in c.iter().enumerate() {
                        let at = (co0 + m) * out.plane + out.shift + q;
                        for (k, &acc) in cm.iter().enumerate() {
                            // SAFETY: at + 16 <= end <= out.data.len() and, with a residual,
                            // <= its length (asserted by `gemm_into`; q + 16 <= nq here).
                            unsafe {
                                let mut v = acc;
                                if let Some(r) = ep.residual {
                                    v = _mm256_add_ps(
                                        v,
                                        _mm256_loadu_ps(r.as_ptr().add(at + 8 * k)),
                                    );
                                }
                                v = match ep.act {
                                    Activation::Identity => v,
                                    Activation::Relu => _mm256_max_ps(v, _mm256_setzero_ps()),
                                    Activation::Leaky(slope) => {
                                        let neg =
                                            _mm256_cmp_ps::<_CMP_LT_OQ>(v, _mm256_setzero_ps());
                                        _mm256_blendv_ps(
                                            v,
                                            _mm256_mul_ps(v, _mm256_set1_ps(slope)),
                                            neg,
                                        )
                                    }
                                };
                                _mm256_storeu_ps(out.data.as_mut_ptr().add(at + 8 * k), v);
                            }
                        }
                    }
                    continue;
                }
                let mut acc = [[0f32; NR_AVX2]; HALF];
                for (row, cm) in acc.iter_mut().zip(&c) {
                    for (k, v) in cm.iter().enumerate() {
                        // SAFETY: each row of `acc` holds 16 floats.
                        unsafe { _mm256_storeu_ps(row.as_mut_ptr().add(8 * k), *v) };
                    }
                }
                store(&acc, co0, q, valid, out, ep);
            }
        }
    }
}

/// The same blocking built for the baseline target (the fallback, and the reference in tests).
fn gemm_portable(
    w: &PackedConv,
    b: &[f32],
    offsets: &[usize],
    nq: usize,
    out: &mut Out<'_>,
    ep: Ep<'_>,
) {
    gemm_impl::<false>(w, b, offsets, nq, out, ep)
}

/// `FUSED`: multiply-add with one rounding (`mul_add`), only where the CPU has FMA.
#[inline(always)]
fn gemm_impl<const FUSED: bool>(
    w: &PackedConv,
    b: &[f32],
    offsets: &[usize],
    nq: usize,
    out: &mut Out<'_>,
    ep: Ep<'_>,
) {
    let taps = w.taps();
    for q in (0..nq).step_by(NR) {
        for cb in 0..w.cout / MR {
            let wk = &w.weights[cb * taps * MR..(cb + 1) * taps * MR];
            let mut acc = [[0f32; NR]; MR];
            for (m, a) in acc.iter_mut().enumerate() {
                *a = [w.bias[cb * MR + m]; NR];
            }
            for (&off, wt) in offsets.iter().zip(wk.chunks_exact(MR)) {
                let x: &[f32; NR] = b[off + q..off + q + NR].try_into().expect("NR values");
                for (a, &wv) in acc.iter_mut().zip(wt) {
                    for i in 0..NR {
                        a[i] = if FUSED {
                            wv.mul_add(x[i], a[i])
                        } else {
                            a[i] + wv * x[i]
                        };
                    }
                }
            }
            store(&acc, cb * MR, q, NR.min(nq - q), out, ep);
        }
    }
}

/// The largest absolute difference between two equally long buffers (for the tests).
#[cfg(test)]
pub(crate) fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "compared buffers differ in length");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The im2col-free "valid" conv equals the im2col one (stride 1), on every path.
    #[test]
    fn valid_conv_without_im2col_matches_im2col() {
        for (cin, cout, size) in [(3, 16, 20), (2, 8, 5)] {
            let input = pseudo(cin * size * size, 3);
            let w = PackedConv::from_tf(
                &pseudo(9 * cin * cout, 4),
                3,
                cin,
                cout,
                &vec![1.0; cout],
                &pseudo(cout, 5),
            );
            for path in crate::simd::KernelPath::available() {
                crate::simd::with_path(path, || {
                    let want =
                        conv_valid_strided_plain(&input, (size, size), &w, 1, Epilogue::RELU);
                    let got = conv3x3_valid_plain(input.clone(), size, &w, Epilogue::RELU);
                    assert_eq!((got.c, got.h, got.w), (want.c, want.h, want.w));
                    let worst = max_abs_diff(&got.data, &want.data);
                    assert!(worst < 1e-5, "{path} {cin}->{cout} at {size}: {worst}");
                })
                .unwrap();
            }
        }
    }

    /// The strip-wise stem (conv, pool, leaky ReLU) equals the whole conv followed by the
    /// pool and activation as defined (leaky ReLU on each value, then the window's max), to
    /// the bit, on every path; even and odd sizes, strips cut short at the end.
    #[test]
    fn pooled_stem_equals_conv_then_pool() {
        for (cin, cout, size) in [(3, 16, 23), (3, 16, 36), (2, 8, 4), (3, 8, 21)] {
            let input = pseudo(cin * size * size, 6);
            let w = PackedConv::from_tf(
                &pseudo(9 * cin * cout, 7),
                3,
                cin,
                cout,
                &vec![1.0; cout],
                &pseudo(cout, 8),
            );
            let slope = 0.1;
            for path in crate::simd::KernelPath::available() {
                crate::simd::with_path(path, || {
                    let conv = conv3x3_valid_plain(input.clone(), size, &w, Epilogue::IDENTITY);
                    let got = conv3x3_valid_pool_leaky(input.clone(), size, &w, slope);
                    let side = (size - 2) / 2;
                    assert_eq!((got.c, got.h, got.w), (cout, side, side));
                    let leaky = |v: f32| if v > 0.0 { v } else { v * slope };
                    for c in 0..cout {
                        for y in 0..side {
                            for x in 0..side {
                                let v = |dy: usize, dx: usize| {
                                    leaky(conv.data[conv.at(c, 2 * y + dy, 2 * x + dx)])
                                };
                                let want = v(0, 0).max(v(0, 1)).max(v(1, 0)).max(v(1, 1));
                                assert_eq!(
                                    got.data[got.at(c, y, x)].to_bits(),
                                    want.to_bits(),
                                    "{path} size {size} at {c},{y},{x}"
                                );
                            }
                        }
                    }
                    // The border stays zero.
                    for c in 0..cout {
                        for i in 0..side + 2 {
                            let plane = &got.data[c * got.plane()..(c + 1) * got.plane()];
                            let wp = got.wp();
                            assert_eq!(plane[i], 0.0);
                            assert_eq!(plane[(side + 1) * wp + i], 0.0);
                            assert_eq!(plane[i * wp], 0.0);
                            assert_eq!(plane[i * wp + side + 1], 0.0);
                        }
                    }
                })
                .unwrap();
            }
        }
    }

    /// The strip-wise pointwise conv + pool equals the conv followed by the 2×2 "same"
    /// pool as defined, to the bit, on every path (odd and even sizes, short last strips).
    #[test]
    fn pooled_pointwise_equals_conv_then_pool() {
        for (cin, cout, h, w_in) in [
            (16, 32, 37, 37),
            (8, 16, 6, 9),
            (32, 64, 1, 1),
            (8, 256, 11, 10),
        ] {
            let (x, _) = map_from(cin, h, w_in, 50);
            let w = PackedConv::from_tf(
                &pseudo(cin * cout, 51),
                1,
                cin,
                cout,
                &vec![1.0; cout],
                &pseudo(cout, 52),
            );
            let act = Activation::Leaky(0.1);
            for path in crate::simd::KernelPath::available() {
                crate::simd::with_path(path, || {
                    let conv = conv1x1(
                        &x,
                        &w,
                        Epilogue {
                            residual: None,
                            act,
                        },
                    );
                    let got = conv1x1_max_pool_2x2(&x, &w, act);
                    let (ho, wo) = (h.div_ceil(2), w_in.div_ceil(2));
                    assert_eq!((got.c, got.h, got.w), (cout, ho, wo));
                    for c in 0..cout {
                        for y in 0..ho {
                            for xo in 0..wo {
                                let v = |yy: usize, xx: usize| {
                                    conv.data[conv.at(c, yy.min(h - 1), xx.min(w_in - 1))]
                                };
                                let want = v(2 * y, 2 * xo)
                                    .max(v(2 * y, 2 * xo + 1))
                                    .max(v(2 * y + 1, 2 * xo))
                                    .max(v(2 * y + 1, 2 * xo + 1));
                                assert_eq!(
                                    got.data[got.at(c, y, xo)].to_bits(),
                                    want.to_bits(),
                                    "{path} {h}×{w_in} at {c},{y},{xo}"
                                );
                            }
                        }
                    }
                })
                .unwrap();
            }
        }
    }

    /// The phase-split stride-2 conv and its pool equal the im2col conv followed by a
    /// 3×3 stride-2 max-pool as defined, to the bit, on every path (7×7 as in the
    /// recognition net's stem, and 3×3; odd pooled sizes and even ones).
    #[test]
    fn phase_split_stem_equals_im2col_then_pool() {
        for (k, cin, cout, h, w_in) in [(7, 3, 32, 30, 26), (7, 3, 8, 16, 16), (3, 2, 8, 12, 18)] {
            let input = pseudo(cin * h * w_in, 11);
            let w = PackedConv::from_tf(
                &pseudo(k * k * cin * cout, 12),
                k,
                cin,
                cout,
                &vec![0.5; cout],
                &pseudo(cout, 13),
            );
            for path in crate::simd::KernelPath::available() {
                crate::simd::with_path(path, || {
                    let conv = conv_valid_strided_plain(&input, (h, w_in), &w, 2, Epilogue::RELU);
                    let got = conv_s2_max_pool_plain(&input, (h, w_in), &w, Activation::Relu);
                    let (po, pw) = ((conv.h - 3) / 2 + 1, (conv.w - 3) / 2 + 1);
                    assert_eq!((got.c, got.h, got.w), (cout, po, pw));
                    for c in 0..cout {
                        for y in 0..po {
                            for x in 0..pw {
                                let mut want = f32::NEG_INFINITY;
                                for dy in 0..3 {
                                    for dx in 0..3 {
                                        want =
                                            want.max(conv.data[conv.at(c, 2 * y + dy, 2 * x + dx)]);
                                    }
                                }
                                assert_eq!(
                                    got.data[got.at(c, y, x)].to_bits(),
                                    want.to_bits(),
                                    "{path} {k}×{k} {h}×{w_in} at {c},{y},{x}"
                                );
                            }
                        }
                    }
                })
                .unwrap();
            }
        }
    }

    /// A batch gives each image what it gives alone, to the bit, on every path: few-pixel
    /// maps (one weight read for the batch) and larger ones, with residuals per image.
    #[test]
    fn a_batch_equals_one_call_per_image() {
        for (c, side) in [(16, 4), (16, 3), (16, 1), (16, 6)] {
            let xs: Vec<Map> = (0..3).map(|i| map_from(c, side, side, 30 + i).0).collect();
            let w = PackedConv::from_tf(
                &pseudo(9 * c * c, 40),
                3,
                c,
                c,
                &vec![1.0; c],
                &pseudo(c, 41),
            );
            let ws =
                PackedConv::from_tf(&pseudo(9 * c * 8, 42), 3, c, 8, &[1.0; 8], &pseudo(8, 43));
            for path in crate::simd::KernelPath::available() {
                crate::simd::with_path(path, || {
                    let eps: Vec<Epilogue<'_>> = xs
                        .iter()
                        .map(|x| Epilogue {
                            residual: Some(x),
                            act: Activation::Relu,
                        })
                        .collect();
                    let batch = conv3x3_same_batch(&xs, &w, &eps);
                    for ((x, ep), got) in xs.iter().zip(&eps).zip(&batch) {
                        let alone = conv3x3_same(x, &w, *ep);
                        assert!(
                            got.data
                                .iter()
                                .zip(&alone.data)
                                .all(|(a, b)| a.to_bits() == b.to_bits()),
                            "{path} 3×3 on {side}×{side}"
                        );
                    }
                    if side >= 3 {
                        let relu = vec![Epilogue::RELU; xs.len()];
                        let batch = conv_strided_batch(&xs, &ws, 2, 0, &relu);
                        for (x, got) in xs.iter().zip(&batch) {
                            let alone = conv_strided(x, &ws, 2, 0, Epilogue::RELU);
                            assert!(
                                got.data
                                    .iter()
                                    .zip(&alone.data)
                                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                                "{path} stride 2 on {side}×{side}"
                            );
                        }
                    }
                })
                .unwrap();
            }
        }
    }

    fn pseudo(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 7919 + seed * 104729) % 1013) as f32 - 506.0) / 700.0)
            .collect()
    }

    fn map_from(c: usize, h: usize, w: usize, seed: usize) -> (Map, Vec<f32>) {
        let plain = pseudo(c * h * w, seed);
        let mut m = Map::zeros(c, h, w);
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    let at = m.at(ch, y, x);
                    m.data[at] = plain[(ch * h + y) * w + x];
                }
            }
        }
        (m, plain)
    }

    /// Direct convolution in f64 on a plain NCHW input with explicit zero padding.
    #[allow(clippy::too_many_arguments)]
    fn reference(
        x: &[f32],
        (c, h, w): (usize, usize, usize),
        f: &[f32],
        k: usize,
        cout: usize,
        bias: &[f32],
        stride: usize,
        pad: usize,
    ) -> (Vec<f64>, usize, usize) {
        let ho = (h + 2 * pad - k) / stride + 1;
        let wo = (w + 2 * pad - k) / stride + 1;
        let mut out = vec![0f64; cout * ho * wo];
        for o in 0..cout {
            for oy in 0..ho {
                for ox in 0..wo {
                    let mut s = bias[o] as f64;
                    for ci in 0..c {
                        for ky in 0..k {
                            for kx in 0..k {
                                let (iy, ix) = (
                                    (oy * stride + ky) as isize - pad as isize,
                                    (ox * stride + kx) as isize - pad as isize,
                                );
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                    continue;
                                }
                                s += f[((ky * k + kx) * c + ci) * cout + o] as f64
                                    * x[(ci * h + iy as usize) * w + ix as usize] as f64;
                            }
                        }
                    }
                    out[(o * ho + oy) * wo + ox] = s;
                }
            }
        }
        (out, ho, wo)
    }

    fn check(got: &Map, want: &[f64], relu: bool) {
        let mut worst = 0f64;
        for c in 0..got.c {
            for y in 0..got.h {
                for x in 0..got.w {
                    let mut r = want[(c * got.h + y) * got.w + x];
                    if relu {
                        r = r.max(0.0);
                    }
                    worst = worst.max((got.data[got.at(c, y, x)] as f64 - r).abs());
                }
            }
        }
        assert!(worst < 1e-3, "max difference {worst}");
        // The border stays zero (the next 3×3 conv reads it as padding).
        let (wp, plane) = (got.wp(), got.plane());
        for c in 0..got.c {
            for r in 0..got.h + 2 {
                for x in 0..wp {
                    if r == 0 || r == got.h + 1 || x == 0 || x == wp - 1 {
                        assert_eq!(got.data[c * plane + r * wp + x], 0.0, "border {c} {r} {x}");
                    }
                }
            }
        }
    }

    #[test]
    fn conv3x3_same_matches_direct_convolution() {
        for (c, cout, h, w) in [
            (8, 16, 5, 5),
            (16, 8, 13, 11),
            (32, 32, 35, 35),
            (24, 16, 3, 3),
        ] {
            let (x, plain) = map_from(c, h, w, 1);
            let f = pseudo(9 * c * cout, 2);
            let bias = pseudo(cout, 3);
            let packed = PackedConv::from_tf(&f, 3, c, cout, &vec![1.0; cout], &bias);
            let (want, _, _) = reference(&plain, (c, h, w), &f, 3, cout, &bias, 1, 1);
            let got = conv3x3_same(&x, &packed, Epilogue::IDENTITY);
            check(&got, &want, false);
            let got = conv3x3_same(&x, &packed, Epilogue::RELU);
            check(&got, &want, true);
            // Residual: adding the output to itself doubles it.
            let base = conv3x3_same(&x, &packed, Epilogue::IDENTITY);
            let doubled = conv3x3_same(
                &x,
                &packed,
                Epilogue {
                    residual: Some(&base),
                    act: Activation::Identity,
                },
            );
            let want2: Vec<f64> = want.iter().map(|v| 2.0 * v).collect();
            check(&doubled, &want2, false);
        }
    }

    #[test]
    fn strided_valid_matches_direct_convolution() {
        for (c, cout, h, w, k, s) in [
            (8, 16, 17, 17, 3, 2),
            (16, 8, 8, 8, 3, 2),
            (3, 8, 21, 19, 7, 2),
        ] {
            let (x, plain) = map_from(c, h, w, 4);
            let f = pseudo(k * k * c * cout, 5);
            let bias = pseudo(cout, 6);
            let packed = PackedConv::from_tf(&f, k, c, cout, &vec![1.0; cout], &bias);
            let (want, ho, wo) = reference(&plain, (c, h, w), &f, k, cout, &bias, s, 0);
            let got = conv_strided(&x, &packed, s, 0, Epilogue::RELU);
            assert_eq!((got.h, got.w), (ho, wo));
            check(&got, &want, true);
            let got = conv_valid_strided_plain(&plain, (h, w), &packed, s, Epilogue::IDENTITY);
            check(&got, &want, false);
        }
    }

    #[test]
    fn pointwise_and_depthwise_match_direct_convolution() {
        let (c, cout, h, w) = (16, 24, 11, 9);
        let (x, plain) = map_from(c, h, w, 10);
        let f = pseudo(c * cout, 11);
        let bias = pseudo(cout, 12);
        let packed = PackedConv::from_tf(&f, 1, c, cout, &vec![1.0; cout], &bias);
        let (want, _, _) = reference(&plain, (c, h, w), &f, 1, cout, &bias, 1, 0);
        check(&conv1x1(&x, &packed, Epilogue::IDENTITY), &want, false);
        let leaky = conv1x1(
            &x,
            &packed,
            Epilogue {
                residual: None,
                act: Activation::Leaky(0.1),
            },
        );
        for (i, v) in want.iter().enumerate() {
            let (ch, y, xx) = (i / (h * w), i / w % h, i % w);
            let expect = if *v < 0.0 { v * 0.1 } else { *v };
            assert!((leaky.data[leaky.at(ch, y, xx)] as f64 - expect).abs() < 1e-3);
        }
        // Depthwise: each channel convolved with its own filter (a 1-in, 1-out dense conv).
        let dw = pseudo(9 * c, 13);
        let filters: Vec<[f32; 9]> = (0..c)
            .map(|ch| std::array::from_fn(|t| dw[ch * 9 + t]))
            .collect();
        let got = depthwise3x3_same(&x, &filters);
        let mut want = Vec::new();
        for ch in 0..c {
            let (r, _, _) = reference(
                &plain[ch * h * w..(ch + 1) * h * w],
                (1, h, w),
                &filters[ch],
                3,
                1,
                &[0.0],
                1,
                1,
            );
            want.extend(r);
        }
        check(&got, &want, false);
        assert_eq!(Map::from_plain(c, h, w, &plain).to_plain(c), plain);
    }

    /// TF "same" for stride 2 on an even size pads one row and column after the image only.
    fn reference_same_s2(
        x: &[f32],
        (c, h, w): (usize, usize, usize),
        f: &[f32],
        cout: usize,
        bias: &[f32],
    ) -> Vec<f64> {
        let mut padded = vec![0f32; c * (h + 1) * (w + 1)];
        for ch in 0..c {
            for y in 0..h {
                for xx in 0..w {
                    padded[(ch * (h + 1) + y) * (w + 1) + xx] = x[(ch * h + y) * w + xx];
                }
            }
        }
        reference(&padded, (c, h + 1, w + 1), f, 3, cout, bias, 2, 0).0
    }

    #[test]
    fn stride2_same_conv_and_depthwise_match_direct_convolution() {
        let (c, cout, h, w) = (3, 16, 12, 10);
        let (x, plain) = map_from(c, h, w, 14);
        let f = pseudo(9 * c * cout, 15);
        let bias = pseudo(cout, 16);
        let packed = PackedConv::from_tf(&f, 3, c, cout, &vec![1.0; cout], &bias);
        let got = conv_strided(&x, &packed, 2, 1, Epilogue::IDENTITY);
        assert_eq!((got.h, got.w), (6, 5));
        check(
            &got,
            &reference_same_s2(&plain, (c, h, w), &f, cout, &bias),
            false,
        );
        let dw = pseudo(9 * c, 17);
        let filters: Vec<[f32; 9]> = (0..c)
            .map(|ch| std::array::from_fn(|t| dw[ch * 9 + t]))
            .collect();
        let got = depthwise3x3_s2_same(&x, &filters);
        // To the bit against the sum in its definition's order (ky, kx from zero).
        for ch in 0..c {
            for y in 0..h / 2 {
                for xo in 0..w / 2 {
                    let mut s = 0f32;
                    for ky in 0..3 {
                        for kx in 0..3 {
                            let (iy, ix) = (2 * y + ky, 2 * xo + kx);
                            let v = if iy < h && ix < w {
                                plain[(ch * h + iy) * w + ix]
                            } else {
                                0.0
                            };
                            s += filters[ch][ky * 3 + kx] * v;
                        }
                    }
                    assert_eq!(
                        got.data[got.at(ch, y, xo)].to_bits(),
                        s.to_bits(),
                        "{ch},{y},{xo}"
                    );
                }
            }
        }
        let mut want = Vec::new();
        for ch in 0..c {
            want.extend(reference_same_s2(
                &plain[ch * h * w..(ch + 1) * h * w],
                (1, h, w),
                &filters[ch],
                1,
                &[0.0],
            ));
        }
        check(&got, &want, false);
    }

    /// Every kernel path this CPU supports gives the portable build's output (to rounding:
    /// FMA rounds once), on each kind of layer, not only the path the process chose.
    #[test]
    fn every_supported_path_matches_the_portable_build() {
        use crate::simd::{with_path, KernelPath};
        let (x, _) = map_from(16, 9, 10, 7);
        let (big, _) = map_from(32, 35, 35, 8);
        // 4×4, 3×3 and 1×1 maps: the few-pixels kernel on the SIMD paths.
        let (small, _) = map_from(16, 3, 3, 25);
        let (four, _) = map_from(16, 4, 4, 26);
        let w3 = PackedConv::from_tf(
            &pseudo(9 * 16 * 16, 8),
            3,
            16,
            16,
            &[0.5; 16],
            &pseudo(16, 9),
        );
        let w3b = PackedConv::from_tf(
            &pseudo(9 * 32 * 32, 18),
            3,
            32,
            32,
            &[1.0; 32],
            &pseudo(32, 19),
        );
        let w1 = PackedConv::from_tf(&pseudo(16 * 24, 20), 1, 16, 24, &[1.0; 24], &pseudo(24, 21));
        let ws = PackedConv::from_tf(
            &pseudo(9 * 32 * 16, 22),
            3,
            32,
            16,
            &[1.0; 16],
            &pseudo(16, 23),
        );
        let dw = pseudo(9 * 16, 24);
        let filters: Vec<[f32; 9]> = (0..16)
            .map(|ch| std::array::from_fn(|t| dw[ch * 9 + t]))
            .collect();
        let leaky = Epilogue {
            residual: None,
            act: Activation::Leaky(0.1),
        };
        let run = || {
            let base = conv3x3_same(&x, &w3, Epilogue::IDENTITY);
            let res = conv3x3_same(
                &x,
                &w3,
                Epilogue {
                    residual: Some(&base),
                    act: Activation::Relu,
                },
            );
            vec![
                base.clone(),
                res,
                conv3x3_same(&big, &w3b, Epilogue::RELU),
                conv1x1(&x, &w1, leaky),
                depthwise3x3_same(&x, &filters),
                conv_strided(&big, &ws, 2, 0, Epilogue::RELU),
                conv_strided(&big, &ws, 2, 1, Epilogue::IDENTITY),
                conv3x3_same(
                    &small,
                    &w3,
                    Epilogue {
                        residual: Some(&small),
                        act: Activation::Relu,
                    },
                ),
                conv1x1(&small, &w1, leaky),
                conv_strided(&small, &w3, 2, 0, Epilogue::RELU),
                conv3x3_same(
                    &four,
                    &w3,
                    Epilogue {
                        residual: Some(&four),
                        act: Activation::Relu,
                    },
                ),
            ]
        };
        let reference = with_path(KernelPath::Portable, run).unwrap();
        let available = KernelPath::available();
        assert!(available.contains(&KernelPath::Portable));
        for path in available {
            let got = with_path(path, run).unwrap();
            for (layer, (g, r)) in got.iter().zip(&reference).enumerate() {
                assert_eq!((g.c, g.h, g.w), (r.c, r.h, r.w));
                let worst = max_abs_diff(&g.data, &r.data);
                assert!(
                    worst < 1e-4,
                    "{path}, layer {layer}: max difference {worst}"
                );
            }
        }
        // The portable entry point itself, as the tests of other modules use it.
        let (wp, plane) = (x.wp(), x.plane());
        let offsets: Vec<usize> = (0..16)
            .flat_map(|c| (0..3).flat_map(move |ky| (0..3).map(move |kx| c * plane + ky * wp + kx)))
            .collect();
        let mut slow = Map::zeros(16, 9, 10);
        let (plane, shift) = (slow.plane(), slow.wp() + 1);
        gemm_portable(
            &w3,
            &x.data,
            &offsets,
            9 * wp,
            &mut Out {
                data: &mut slow.data,
                plane,
                shift,
            },
            Ep {
                residual: None,
                act: Activation::Identity,
            },
        );
        slow.clear_side_borders();
        assert_eq!(slow.data, reference[0].data);
    }
}
