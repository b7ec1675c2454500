//! Cutting the face out for the recognition net, two ways:
//!
//! * [`Alignment::FaceApi`]: face-api.js's axis-aligned box from the eye and mouth centres
//!   (no rotation), copied exactly for parity with the original library.
//! * [`Alignment::Dlib`]: dlib's `get_face_chip_details(shape, 150, 0.25)`: a similarity
//!   transform (rotation, scale, shift) fitted from 38 landmarks to dlib's mean face, so the
//!   eyes are level and the scale fixed. This is what the recognition net was trained on
//!   and it is more accurate (see docs/benchmarks-history.md, "Verification accuracy"), so
//!   it is the default.

use serde::{Deserialize, Serialize};

use crate::landmarks::{Landmarks68, Point};
use crate::preprocess::RgbView;
use crate::recognition::INPUT_SIZE;

/// How the face is cut out before the recognition net.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Alignment {
    /// Rotated dlib chip (default, more accurate).
    #[default]
    Dlib,
    /// face-api.js's unrotated box (parity with the JS library).
    FaceApi,
}

/// face-api.js `align(null, {useDlibAlignment: true})`: `[x, y, w, h]` before clipping.
pub fn faceapi_align_box(lm: &Landmarks68) -> [f64; 4] {
    let (le, re, mo) = (lm.left_eye(), lm.right_eye(), lm.mouth());
    let dist = |p: Point| ((mo.x - p.x).powi(2) + (mo.y - p.y).powi(2)).sqrt();
    let size = ((dist(le) + dist(re)) / 2.0 / 0.45).floor();
    let cx = (le.x + re.x + mo.x) / 3.0;
    let cy = (le.y + re.y + mo.y) / 3.0;
    let x = (cx - 0.5 * size).max(0.0).floor();
    let y = (cy - 0.43 * size).max(0.0).floor();
    // face-api caps the size with the landmark crop's size plus x/y (a quirk kept for parity).
    let (cw, ch) = (lm.crop[2] as f64, lm.crop[3] as f64);
    [x, y, size.min(cw + x), size.min(ch + y)]
}

/// The align box clipped to the image and floored (`clipAtImageBorders`); `None` if empty.
pub fn clip_region(b: [f64; 4], width: usize, height: usize) -> Option<[usize; 4]> {
    crate::landmarks::clip_box(
        &crate::detector::BoxF {
            x: b[0],
            y: b[1],
            width: b[2],
            height: b[3],
        },
        width,
        height,
    )
}

/// dlib's mean face (points 17–67, in a unit square), from `get_face_chip_details`.
const MEAN_FACE_X: [f64; 51] = [
    0.000213256,
    0.0752622,
    0.18113,
    0.29077,
    0.393397,
    0.586856,
    0.689483,
    0.799124,
    0.904991,
    0.98004,
    0.490127,
    0.490127,
    0.490127,
    0.490127,
    0.36688,
    0.426036,
    0.490127,
    0.554217,
    0.613373,
    0.121737,
    0.187122,
    0.265825,
    0.334606,
    0.260918,
    0.182743,
    0.645647,
    0.714428,
    0.793132,
    0.858516,
    0.79751,
    0.719335,
    0.254149,
    0.340985,
    0.428858,
    0.490127,
    0.551395,
    0.639268,
    0.726104,
    0.642159,
    0.556721,
    0.490127,
    0.423532,
    0.338094,
    0.290379,
    0.428096,
    0.490127,
    0.552157,
    0.689874,
    0.553364,
    0.490127,
    0.42689,
];
const MEAN_FACE_Y: [f64; 51] = [
    0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915,
    0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345,
    0.587326, 0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852,
    0.178758, 0.216423, 0.244077, 0.245099, 0.780233, 0.745405, 0.727388, 0.742578, 0.727388,
    0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746,
    0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182,
];

/// Chip padding of `get_face_chip_details(shape, 150, 0.25)`.
pub const DLIB_PADDING: f64 = 0.25;

/// A 2-D similarity transform `p -> [a −b; b a]·p + t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f64,
    pub b: f64,
    pub tx: f64,
    pub ty: f64,
}

impl Similarity {
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.a * x - self.b * y + self.tx,
            self.b * x + self.a * y + self.ty,
        )
    }
    pub fn scale(&self) -> f64 {
        (self.a * self.a + self.b * self.b).sqrt()
    }
    /// Rotation in radians.
    pub fn angle(&self) -> f64 {
        self.b.atan2(self.a)
    }
}

/// Least-squares similarity mapping `from[i]` onto `to[i]` (2-D Umeyama, no reflection).
pub fn fit_similarity(from: &[(f64, f64)], to: &[(f64, f64)]) -> Similarity {
    let n = from.len() as f64;
    let mean = |v: &[(f64, f64)]| {
        let (sx, sy) = v.iter().fold((0.0, 0.0), |(a, b), p| (a + p.0, b + p.1));
        (sx / n, sy / n)
    };
    let (fx, fy) = mean(from);
    let (tx, ty) = mean(to);
    let (mut dot, mut cross, mut var) = (0.0, 0.0, 0.0);
    for (p, q) in from.iter().zip(to) {
        let (px, py) = (p.0 - fx, p.1 - fy);
        let (qx, qy) = (q.0 - tx, q.1 - ty);
        dot += px * qx + py * qy;
        cross += px * qy - py * qx;
        var += px * px + py * py;
    }
    let a = dot / var;
    let b = cross / var;
    Similarity {
        a,
        b,
        tx: tx - (a * fx - b * fy),
        ty: ty - (b * fx + a * fy),
    }
}

/// The chip-to-image transform of dlib's `get_face_chip_details(shape, size, padding)`.
pub fn dlib_chip_transform(lm: &Landmarks68, size: usize, padding: f64) -> Similarity {
    let mut from = Vec::with_capacity(38);
    let mut to = Vec::with_capacity(38);
    for i in 17..68 {
        // dlib ignores the eyebrows and the lower lip.
        if (17..=26).contains(&i) || (55..=59).contains(&i) || (65..=67).contains(&i) {
            continue;
        }
        let px = (padding + MEAN_FACE_X[i - 17]) / (2.0 * padding + 1.0) * size as f64;
        let py = (padding + MEAN_FACE_Y[i - 17]) / (2.0 * padding + 1.0) * size as f64;
        from.push((px, py));
        to.push((lm.points[i].x, lm.points[i].y));
    }
    fit_similarity(&from, &to)
}

/// Samples a `size × size` chip (HWC f32, 0..=255) through `tf` (chip -> image), bilinear,
/// black outside the image. When the chip shrinks the face by more than 1.5×, each chip
/// pixel averages a grid of samples over its footprint so large photos do not alias.
pub fn sample_chip(image: &RgbView<'_>, tf: &Similarity, size: usize) -> Vec<f32> {
    let scale = tf.scale();
    let k = if scale > 1.5 {
        (scale.ceil() as usize).min(8)
    } else {
        1
    };
    // The bilinear sample at image point (x, y), None outside (its 2×2 neighbourhood must
    // lie inside). `x < 0` is tested before truncating, so the truncation is the floor
    // (without a call to libm's `floor` per sample).
    let sample = |x: f64, y: f64| -> Option<[f64; 3]> {
        if !(x >= 0.0 && y >= 0.0) {
            return None;
        }
        let (xu, yu) = (x as usize, y as usize);
        // (Saturating: a huge coordinate truncates to usize::MAX, which must not wrap.)
        if xu >= image.width.saturating_sub(1) || yu >= image.height.saturating_sub(1) {
            return None;
        }
        let (fx, fy) = (x - xu as f64, y - yu as f64);
        let top = &image.row(yu)[xu * 3..][..6];
        let bottom = &image.row(yu + 1)[xu * 3..][..6];
        Some(std::array::from_fn(|ch| {
            let (tl, tr) = (top[ch] as f64, top[3 + ch] as f64);
            let (bl, br) = (bottom[ch] as f64, bottom[3 + ch] as f64);
            (1.0 - fy) * ((1.0 - fx) * tl + fx * tr) + fy * ((1.0 - fx) * bl + fx * br)
        }))
    };
    let mut out = vec![0f32; size * size * 3];
    if k == 1 {
        // One sample per chip pixel, at its centre: the grid average below with k = 1
        // (0 + v and v / 1 are exact, so the values are the same to the bit).
        for r in 0..size {
            for c in 0..size {
                let (x, y) = tf.apply(c as f64, r as f64);
                if let Some(v) = sample(x, y) {
                    let o = &mut out[(r * size + c) * 3..][..3];
                    for (d, v) in o.iter_mut().zip(v) {
                        *d = v as f32;
                    }
                }
            }
        }
        return out;
    }
    let offsets: Vec<f64> = (0..k).map(|i| (i as f64 + 0.5) / k as f64 - 0.5).collect();
    let n = (k * k) as f64;
    for r in 0..size {
        for c in 0..size {
            let mut acc = [0f64; 3];
            for &oy in &offsets {
                for &ox in &offsets {
                    let (x, y) = tf.apply(c as f64 + ox, r as f64 + oy);
                    if let Some(v) = sample(x, y) {
                        for (a, v) in acc.iter_mut().zip(v) {
                            *a += v;
                        }
                    }
                }
            }
            for ch in 0..3 {
                out[(r * size + c) * 3 + ch] = (acc[ch] / n) as f32;
            }
        }
    }
    out
}

/// Mirror image of an HWC chip (left-right).
pub fn flip_chip(chip: &[f32], size: usize) -> Vec<f32> {
    let mut out = vec![0f32; chip.len()];
    for r in 0..size {
        for c in 0..size {
            let (s, d) = ((r * size + c) * 3, (r * size + size - 1 - c) * 3);
            out[d..d + 3].copy_from_slice(&chip[s..s + 3]);
        }
    }
    out
}

/// The dlib-style 150×150 chip of the face with landmarks `lm`.
pub fn dlib_chip(image: &RgbView<'_>, lm: &Landmarks68) -> Vec<f32> {
    let tf = dlib_chip_transform(lm, INPUT_SIZE, DLIB_PADDING);
    sample_chip(image, &tf, INPUT_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_fit_recovers_transform() {
        let truth = Similarity {
            a: 2.0 * 0.3f64.cos(),
            b: 2.0 * 0.3f64.sin(),
            tx: 5.0,
            ty: -7.0,
        };
        let from = [(0.0, 0.0), (10.0, 0.0), (3.0, 8.0), (-4.0, 2.0)];
        let to: Vec<_> = from.iter().map(|p| truth.apply(p.0, p.1)).collect();
        let fit = fit_similarity(&from, &to);
        assert!((fit.a - truth.a).abs() < 1e-9 && (fit.b - truth.b).abs() < 1e-9);
        assert!((fit.tx - 5.0).abs() < 1e-9 && (fit.ty + 7.0).abs() < 1e-9);
        assert!((fit.angle() - 0.3).abs() < 1e-9 && (fit.scale() - 2.0).abs() < 1e-9);
    }

    /// The chip sampler against its definition (per sample: floor, bounds, bilinear in f64,
    /// summed over the k × k grid and divided), to the bit: one sample per pixel and a grid,
    /// rotated, partly outside the image, on a cropped view.
    #[test]
    fn chip_sampling_matches_its_definition() {
        let (w, h) = (61, 47);
        let data: Vec<u8> = (0..w * h * 3).map(|v| (v * 37 % 251) as u8).collect();
        let full = RgbView::new(&data, w, h);
        let view = full.crop(5, 3, 50, 40);
        for tf in [
            Similarity {
                a: 0.9,
                b: 0.2,
                tx: -3.3,
                ty: 4.1,
            },
            Similarity {
                a: 2.7,
                b: -0.6,
                tx: 1.25,
                ty: -8.0,
            },
        ] {
            let size = 24;
            let got = sample_chip(&view, &tf, size);
            let scale = tf.scale();
            let k = if scale > 1.5 {
                (scale.ceil() as usize).min(8)
            } else {
                1
            };
            let offsets: Vec<f64> = (0..k).map(|i| (i as f64 + 0.5) / k as f64 - 0.5).collect();
            for r in 0..size {
                for c in 0..size {
                    let mut acc = [0f64; 3];
                    for &oy in &offsets {
                        for &ox in &offsets {
                            let (x, y) = tf.apply(c as f64 + ox, r as f64 + oy);
                            let (x0, y0) = (x.floor() as i64, y.floor() as i64);
                            if x0 < 0
                                || y0 < 0
                                || x0 + 1 >= view.width as i64
                                || y0 + 1 >= view.height as i64
                            {
                                continue;
                            }
                            let (fx, fy) = (x - x0 as f64, y - y0 as f64);
                            let (xu, yu) = (x0 as usize, y0 as usize);
                            for (ch, a) in acc.iter_mut().enumerate() {
                                let p =
                                    |dx: usize, dy: usize| view.get(xu + dx, yu + dy, ch) as f64;
                                *a += (1.0 - fy) * ((1.0 - fx) * p(0, 0) + fx * p(1, 0))
                                    + fy * ((1.0 - fx) * p(0, 1) + fx * p(1, 1));
                            }
                        }
                    }
                    for ch in 0..3 {
                        let want = (acc[ch] / (k * k) as f64) as f32;
                        assert_eq!(
                            got[(r * size + c) * 3 + ch].to_bits(),
                            want.to_bits(),
                            "k {k} at {r},{c},{ch}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn mean_face_chip_of_mean_face_is_identity() {
        // Landmarks placed exactly on the mean face in chip coordinates give the identity.
        let mut points = vec![Point { x: 0.0, y: 0.0 }; 68];
        for i in 17..68 {
            points[i] = Point {
                x: (DLIB_PADDING + MEAN_FACE_X[i - 17]) / 1.5 * 150.0,
                y: (DLIB_PADDING + MEAN_FACE_Y[i - 17]) / 1.5 * 150.0,
            };
        }
        let lm = Landmarks68 {
            points,
            crop: [0, 0, 150, 150],
        };
        let tf = dlib_chip_transform(&lm, 150, DLIB_PADDING);
        assert!((tf.a - 1.0).abs() < 1e-9 && tf.b.abs() < 1e-9 && tf.tx.abs() < 1e-7);
    }
}
