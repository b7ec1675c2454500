//! 3×3 stride-1 "same" convolutions by Winograd's F(2×2, 3×3): each 2×2 block of outputs
//! from a 4×4 block of inputs with 16 multiplications per input and output channel pair
//! instead of 36, i.e. 2.25× fewer multiply-adds (Lavin & Gray, "Fast Algorithms for
//! Convolutional Neural Networks", 2016). The recognition net spends most of its time in
//! such convolutions (3×3, 32–256 channels, 35×35 down to 3×3 maps).
//!
//! The 4×4 input tiles (overlapping by 2) are transformed, `V = Bᵀ d B`; the 16 positions
//! of the transformed tiles are 16 independent matrix products `M = U · V` (`U = G g Gᵀ`,
//! the transformed filters, computed once at load), which run on the 1×1 kernels of
//! [`crate::conv_gemm`]; then `Y = Aᵀ M A` gives the 2×2 outputs, plus bias, residual and
//! activation. The transforms are whole-row vector operations (the tiles of one tile row
//! side by side), compiled for the same kernel path as the products.
//!
//! The transforms' constants are 0, ±½ and ±1: the results differ from the direct
//! convolution only by float rounding (tested against it on every kernel path).

// The crate denies `unsafe_code`; the transforms' `#[target_feature]` builds need it.
#![allow(unsafe_code)]

use crate::conv_gemm::{gemm_into, Activation, Epilogue, Map, Out, PackedConv};
use crate::simd::{isa, KernelPath};

thread_local! {
    /// V and M of the last Winograd convolution on this thread (about 1.3 MB for the
    /// recognition net's first stage), kept for the next instead of allocated and zeroed.
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A 3×3 convolution's filters transformed for F(2×2, 3×3), with its bias.
#[derive(Debug, Clone)]
pub struct WinogradConv {
    cin: usize,
    cout: usize,
    /// `U` at each of the 16 tile positions, as a 1×1 convolution `cin → cout` (no bias).
    positions: Vec<PackedConv>,
    bias: Vec<f32>,
}

/// `G`, 4×3: `U = G g Gᵀ`.
const G: [[f64; 3]; 4] = [
    [1.0, 0.0, 0.0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0.0, 0.0, 1.0],
];

impl WinogradConv {
    /// From a TF `[3, 3, cin, cout]` filter; `scale` multiplies each output channel's filter
    /// (as [`PackedConv::from_tf`]), the bias is taken as given.
    pub fn from_tf(filter: &[f32], cin: usize, cout: usize, scale: &[f32], bias: &[f32]) -> Self {
        assert_eq!(filter.len(), 9 * cin * cout, "filter size");
        assert_eq!(
            (scale.len(), bias.len()),
            (cout, cout),
            "scale and bias size"
        );
        // One 1×1 TF filter `[cin][cout]` per position.
        let mut per_position = vec![vec![0f32; cin * cout]; 16];
        for o in 0..cout {
            for c in 0..cin {
                let g = |ky: usize, kx: usize| {
                    filter[((ky * 3 + kx) * cin + c) * cout + o] as f64 * scale[o] as f64
                };
                for i in 0..4 {
                    for j in 0..4 {
                        let mut u = 0f64;
                        for (ky, gi) in G[i].iter().enumerate() {
                            for (kx, gj) in G[j].iter().enumerate() {
                                u += gi * g(ky, kx) * gj;
                            }
                        }
                        per_position[i * 4 + j][c * cout + o] = u as f32;
                    }
                }
            }
        }
        let ones = vec![1f32; cout];
        let zeros = vec![0f32; cout];
        WinogradConv {
            cin,
            cout,
            positions: per_position
                .iter()
                .map(|f| PackedConv::from_tf(f, 1, cin, cout, &ones, &zeros))
                .collect(),
            bias: bias.to_vec(),
        }
    }

    /// The convolution of `x` (same size out), then the epilogue, as
    /// [`crate::conv_gemm::conv3x3_same`] computes it.
    pub fn run(&self, x: &Map, ep: Epilogue<'_>) -> Map {
        assert_eq!(x.c, self.cin, "winograd input channels");
        if let Some(r) = ep.residual {
            assert_eq!((r.c, r.h, r.w), (self.cout, x.h, x.w), "residual shape");
        }
        let (th, tw) = (x.h.div_ceil(2), x.w.div_ceil(2));
        let tiles = th * tw;
        // V and M: `[16][channels][tiles]`, V with room for the kernels' full-width loads.
        let slack = crate::conv_gemm::SLACK;
        let v_len = self.cin * tiles;
        let m_len = self.cout * tiles;
        SCRATCH.with_borrow_mut(|scratch| {
            // Every value of V and M that is read is written first in this call: the
            // buffer is reused as it is (zeroed only where it grows).
            let need = 16 * (v_len + m_len) + slack;
            if scratch.len() < need {
                scratch.resize(need, 0.0);
            }
            let (v, m) = scratch.split_at_mut(16 * v_len + slack);
            self.run_with(x, ep, (th, tw), v, &mut m[..16 * m_len])
        })
    }

    fn run_with(
        &self,
        x: &Map,
        ep: Epilogue<'_>,
        (th, tw): (usize, usize),
        v: &mut [f32],
        m: &mut [f32],
    ) -> Map {
        let tiles = th * tw;
        let (v_len, m_len) = (self.cin * tiles, self.cout * tiles);
        let mut out = Map::zeros(self.cout, x.h, x.w);
        match isa() {
            // SAFETY: `isa()` returns only paths this CPU supports (AVX-512F and FMA here).
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => unsafe { input_transform_avx512(x, tw, th, v) },
            // SAFETY: `isa()` returns only paths this CPU supports (AVX2 and FMA here).
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => unsafe { input_transform_avx2(x, tw, th, v) },
            _ => input_transform(x, tw, th, v),
        }
        let offsets: Vec<usize> = (0..self.cin).map(|c| c * tiles).collect();
        for (p, u) in self.positions.iter().enumerate() {
            gemm_into(
                u,
                &v[p * v_len..],
                &offsets,
                tiles,
                &mut Out {
                    data: &mut m[p * m_len..(p + 1) * m_len],
                    plane: tiles,
                    shift: 0,
                },
                None,
                Activation::Identity,
            );
        }
        let args = OutputArgs {
            m,
            tiles,
            tw,
            th,
            bias: &self.bias,
            ep,
        };
        match isa() {
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => unsafe { output_transform_avx512(&args, &mut out) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => unsafe { output_transform_avx2(&args, &mut out) },
            _ => output_transform(&args, &mut out),
        }
        out
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn input_transform_avx512(x: &Map, tw: usize, th: usize, v: &mut [f32]) {
    input_transform(x, tw, th, v)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn input_transform_avx2(x: &Map, tw: usize, th: usize, v: &mut [f32]) {
    input_transform(x, tw, th, v)
}

/// `V = Bᵀ d B` for every 4×4 tile of every channel, into `v[position][channel][tile]`.
/// Tile `(ty, tx)` covers rows `2ty..2ty+4` and columns `2tx..2tx+4` of the bordered plane
/// (the border is the convolution's zero padding); rows and columns past the plane (odd
/// sizes) are zero. Each plane is first split into its even and odd columns, so that every
/// step after is a contiguous vector operation over the tiles of a tile row.
#[inline(always)]
fn input_transform(x: &Map, tw: usize, th: usize, v: &mut [f32]) {
    let (wp, plane) = (x.wp(), x.plane());
    let tiles = tw * th;
    let v_len = x.c * tiles;
    let half = tw + 1;
    let rows = 2 * th + 2;
    // Even and odd columns of the plane, `rows × half`, zero past it.
    let mut even = vec![0f32; rows * half];
    let mut odd = vec![0f32; rows * half];
    let (mut ce, mut co) = (vec![0f32; half], vec![0f32; half]);
    for c in 0..x.c {
        for r in 0..rows {
            let (e, o) = (
                &mut even[r * half..(r + 1) * half],
                &mut odd[r * half..(r + 1) * half],
            );
            if r >= x.h + 2 {
                e.fill(0.0);
                o.fill(0.0);
                continue;
            }
            let src = &x.data[c * plane + r * wp..c * plane + (r + 1) * wp];
            let pairs = src.chunks_exact(2);
            let last = pairs.remainder().first().copied();
            let n = wp / 2;
            for ((pair, e), o) in pairs.zip(e.iter_mut()).zip(o.iter_mut()) {
                *e = pair[0];
                *o = pair[1];
            }
            // An odd row width leaves one even column and no odd one at the end.
            if let Some(l) = last {
                e[n] = l;
                o[n] = 0.0;
            }
        }
        for ty in 0..th {
            let er: [&[f32]; 4] = std::array::from_fn(|k| &even[(2 * ty + k) * half..][..half]);
            let or: [&[f32]; 4] = std::array::from_fn(|k| &odd[(2 * ty + k) * half..][..half]);
            let base = c * tiles + ty * tw;
            // Bᵀ d: row combinations i = 0..4 of the tile's four rows, even and odd columns.
            for i in 0..4 {
                combine_rows(i, &er, &mut ce);
                combine_rows(i, &or, &mut co);
                // · B: column combinations j = 0..4 of columns 2t..2t+4.
                let (e_now, e_next, o_now, o_next) =
                    (&ce[..tw], &ce[1..=tw], &co[..tw], &co[1..=tw]);
                let [v0, v1, v2, v3] = four_mut(v, i * 4, v_len, base, tw);
                for t in 0..tw {
                    v0[t] = e_now[t] - e_next[t];
                    v1[t] = o_now[t] + e_next[t];
                    v2[t] = e_next[t] - o_now[t];
                    v3[t] = o_now[t] - o_next[t];
                }
            }
        }
    }
}

/// Row `i` of `Bᵀ d` for rows `a`: `a0 − a2`, `a1 + a2`, `a2 − a1`, `a1 − a3`.
#[inline(always)]
fn combine_rows(i: usize, a: &[&[f32]; 4], out: &mut [f32]) {
    let (p, q, sign) = match i {
        0 => (a[0], a[2], -1.0),
        1 => (a[1], a[2], 1.0),
        2 => (a[2], a[1], -1.0),
        _ => (a[1], a[3], -1.0),
    };
    for ((o, x), y) in out.iter_mut().zip(p).zip(q) {
        *o = x + sign * y;
    }
}

/// The `len`-long runs at `base` of positions `first..first + 4` of `[position][stride]`.
fn four_mut(
    v: &mut [f32],
    first: usize,
    stride: usize,
    base: usize,
    len: usize,
) -> [&mut [f32]; 4] {
    let (_, rest) = v.split_at_mut(first * stride);
    let (p0, rest) = rest.split_at_mut(stride);
    let (p1, rest) = rest.split_at_mut(stride);
    let (p2, rest) = rest.split_at_mut(stride);
    let p3 = &mut rest[..stride];
    [
        &mut p0[base..base + len],
        &mut p1[base..base + len],
        &mut p2[base..base + len],
        &mut p3[base..base + len],
    ]
}

struct OutputArgs<'a> {
    m: &'a [f32],
    tiles: usize,
    tw: usize,
    th: usize,
    bias: &'a [f32],
    ep: Epilogue<'a>,
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
unsafe fn output_transform_avx512(a: &OutputArgs<'_>, out: &mut Map) {
    output_transform(a, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn output_transform_avx2(a: &OutputArgs<'_>, out: &mut Map) {
    output_transform(a, out)
}

/// `Y = Aᵀ M A` per tile, plus bias, then residual and activation, into `out`'s interior
/// (outputs past an odd size are dropped). Contiguous vector operations over the tiles of a
/// tile row, then one interleaving pass per output row.
#[inline(always)]
fn output_transform(a: &OutputArgs<'_>, out: &mut Map) {
    let (tw, tiles) = (a.tw, a.tiles);
    let m_len = out.c * tiles;
    // Aᵀ M over the tile rows: s[row of Y · 4 + column of M][tile].
    let mut s = vec![vec![0f32; tw]; 8];
    // Even and odd columns of an output row, then the row itself (2·tw wide).
    let (mut ye, mut yo) = (vec![0f32; tw], vec![0f32; tw]);
    let mut y = vec![0f32; 2 * tw];
    let pos = |p: usize, o: usize, ty: usize| {
        let at = p * m_len + o * tiles + ty * tw;
        &a.m[at..at + tw]
    };
    for o in 0..out.c {
        let bias = a.bias[o];
        for ty in 0..a.th {
            for j in 0..4 {
                let (m0, m1, m2, m3) = (
                    pos(j, o, ty),
                    pos(4 + j, o, ty),
                    pos(8 + j, o, ty),
                    pos(12 + j, o, ty),
                );
                let (lo, hi) = s.split_at_mut(4);
                let (s0, s1) = (&mut lo[j][..tw], &mut hi[j][..tw]);
                for t in 0..tw {
                    s0[t] = m0[t] + m1[t] + m2[t];
                    s1[t] = m1[t] - m2[t] - m3[t];
                }
            }
            for r in 0..2 {
                let row = 2 * ty + r;
                if row >= out.h {
                    break;
                }
                let (c0, c1, c2, c3) = (
                    &s[4 * r][..tw],
                    &s[4 * r + 1][..tw],
                    &s[4 * r + 2][..tw],
                    &s[4 * r + 3][..tw],
                );
                let (ye, yo) = (&mut ye[..tw], &mut yo[..tw]);
                for t in 0..tw {
                    ye[t] = c0[t] + c1[t] + c2[t] + bias;
                    yo[t] = c1[t] - c2[t] - c3[t] + bias;
                }
                for ((pair, e), o) in y.chunks_exact_mut(2).zip(ye.iter()).zip(yo.iter()) {
                    pair[0] = *e;
                    pair[1] = *o;
                }
                let at = out.at(o, row, 0);
                let w = out.w;
                let residual = a.ep.residual.map(|res| &res.data[at..at + w]);
                store_row(&mut out.data[at..at + w], &y[..w], residual, a.ep.act);
            }
        }
    }
}

#[inline(always)]
fn store_row(dst: &mut [f32], src: &[f32], residual: Option<&[f32]>, act: Activation) {
    match (residual, act) {
        (None, Activation::Identity) => dst.copy_from_slice(src),
        (None, Activation::Relu) => {
            for (d, v) in dst.iter_mut().zip(src) {
                *d = v.max(0.0);
            }
        }
        (Some(r), Activation::Identity) => {
            for ((d, v), q) in dst.iter_mut().zip(src).zip(r) {
                *d = v + q;
            }
        }
        (Some(r), Activation::Relu) => {
            for ((d, v), q) in dst.iter_mut().zip(src).zip(r) {
                *d = (v + q).max(0.0);
            }
        }
        (r, Activation::Leaky(slope)) => {
            for (i, (d, v)) in dst.iter_mut().zip(src).enumerate() {
                let x = v + r.map_or(0.0, |r| r[i]);
                *d = if x < 0.0 { x * slope } else { x };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv_gemm::conv3x3_same;
    use crate::simd::with_path;

    fn pseudo(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (((i * 7919 + seed * 104729) % 1013) as f32 - 506.0) / 700.0)
            .collect()
    }

    /// Winograd against the direct convolution, odd and even sizes, each epilogue, every
    /// kernel path of this CPU.
    #[test]
    fn matches_the_direct_convolution_on_every_path() {
        for (cin, cout, h, w) in [
            (8, 16, 7, 9),
            (16, 8, 8, 8),
            (32, 32, 35, 35),
            (8, 8, 3, 3),
            (8, 8, 1, 2),
        ] {
            let x = Map::from_plain(cin, h, w, &pseudo(cin * h * w, 1));
            let filter = pseudo(9 * cin * cout, 2);
            let scale: Vec<f32> = (0..cout).map(|o| 0.5 + o as f32 / cout as f32).collect();
            let bias = pseudo(cout, 3);
            let direct_w = PackedConv::from_tf(&filter, 3, cin, cout, &scale, &bias);
            let wino = WinogradConv::from_tf(&filter, cin, cout, &scale, &bias);
            let residual = Map::from_plain(cout, h, w, &pseudo(cout * h * w, 4));
            let eps = [
                Epilogue::IDENTITY,
                Epilogue::RELU,
                Epilogue {
                    residual: Some(&residual),
                    act: Activation::Relu,
                },
                Epilogue {
                    residual: Some(&residual),
                    act: Activation::Leaky(0.1),
                },
            ];
            for path in KernelPath::available() {
                with_path(path, || {
                    for (k, ep) in eps.iter().enumerate() {
                        let want = conv3x3_same(&x, &direct_w, *ep);
                        let got = wino.run(&x, *ep);
                        assert_eq!((got.c, got.h, got.w), (want.c, want.h, want.w));
                        let worst = crate::conv_gemm::max_abs_diff(&got.data, &want.data);
                        let scale = want.data.iter().fold(0f32, |m, v| m.max(v.abs()));
                        assert!(
                            worst <= 1e-5 * scale.max(1.0),
                            "{path} {cin}→{cout} {h}×{w} epilogue {k}: max difference {worst} (values up to {scale})"
                        );
                    }
                })
                .unwrap();
            }
        }
    }
}
