//! TinyFaceDetector: a depthwise-separable tiny-YOLO with 5 anchors and one class.

use crate::conv_gemm::{
    conv1x1, conv1x1_max_pool_2x2, conv3x3_valid_pool_leaky, depthwise3x3_same, Activation,
    Epilogue, Map, PackedConv,
};
use crate::inference::InferenceError;
use crate::preprocess::{square_resize_normalized, RgbView, SquarePad};
use crate::weights::{WeightMap, WeightsError};

/// Input sizes the detector supports (multiples of 32).
pub const INPUT_SIZES: [usize; 4] = [224, 320, 416, 608];
pub(crate) const MEAN_RGB: [f32; 3] = [117.001, 114.697, 97.404];
const ANCHORS: [(f64, f64); 5] = [
    (1.603231, 2.094468),
    (6.041143, 7.080126),
    (2.882459, 3.518061),
    (4.266906, 5.178857),
    (9.041765, 10.66308),
];
/// NMS drops a box whose IoU with a kept, higher-scoring box exceeds this.
pub const IOU_THRESHOLD: f64 = 0.4;

/// Detector configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    pub input_size: usize,
    pub score_threshold: f64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            input_size: 320,
            score_threshold: 0.5,
        }
    }
}

/// An axis-aligned box in image pixels (top-left corner, size).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BoxF {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl BoxF {
    pub fn right(&self) -> f64 {
        self.x + self.width
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.height
    }
    pub fn area(&self) -> f64 {
        self.width * self.height
    }
    pub fn iou(&self, o: &BoxF) -> f64 {
        let w = (self.right().min(o.right()) - self.x.max(o.x)).max(0.0);
        let h = (self.bottom().min(o.bottom()) - self.y.max(o.y)).max(0.0);
        let inter = w * h;
        inter / (self.area() + o.area() - inter)
    }
}

/// One detected face.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Detection {
    pub bbox: BoxF,
    pub score: f64,
}

/// The detector, run by the hand-written convolutions of [`crate::conv_gemm`] (any input
/// size). The test reference, tract's graph
/// of the whole network, is `reference::ReferenceDetector` (the `reference` feature).
pub struct TinyFaceDetector {
    /// conv0: 3×3 "valid", 3 → 16 channels, then a 2×2 max-pool and leaky ReLU.
    stem: PackedConv,
    /// conv1..conv5: depthwise filters (9 taps per channel) and the pointwise conv.
    separable: Vec<(Vec<[f32; 9]>, PackedConv)>,
    /// conv8, its 25 output channels padded with zero filters to a multiple of 8.
    head: PackedConv,
}

const LEAKY_SLOPE: f32 = 0.1;
const HEAD_CHANNELS: usize = 25;

impl std::fmt::Debug for TinyFaceDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TinyFaceDetector").finish_non_exhaustive()
    }
}

/// Names and shapes the detector needs, checked at load.
pub(crate) fn required() -> Vec<(String, Vec<usize>)> {
    let mut v = vec![
        ("conv0/filters".to_string(), vec![3, 3, 3, 16]),
        ("conv0/bias".to_string(), vec![16]),
    ];
    let ch = [16, 32, 64, 128, 256, 512];
    for i in 1..=5 {
        let (cin, cout) = (ch[i - 1], ch[i]);
        v.push((format!("conv{i}/depthwise_filter"), vec![3, 3, cin, 1]));
        v.push((format!("conv{i}/pointwise_filter"), vec![1, 1, cin, cout]));
        v.push((format!("conv{i}/bias"), vec![cout]));
    }
    v.push(("conv8/filters".to_string(), vec![1, 1, 512, 25]));
    v.push(("conv8/bias".to_string(), vec![25]));
    v
}

impl TinyFaceDetector {
    pub fn load(weights: &WeightMap) -> Result<Self, WeightsError> {
        for (name, shape) in required() {
            weights.get(&name, &shape)?;
        }
        let stem = PackedConv::from_tf(
            &weights.get("conv0/filters", &[3, 3, 3, 16])?.data,
            3,
            3,
            16,
            &[1.0; 16],
            &weights.get("conv0/bias", &[16])?.data,
        );
        let ch = [16, 32, 64, 128, 256, 512];
        let mut separable = Vec::with_capacity(5);
        for i in 1..=5 {
            let (cin, cout) = (ch[i - 1], ch[i]);
            let dw = &weights
                .get(&format!("conv{i}/depthwise_filter"), &[3, 3, cin, 1])?
                .data;
            let filters = (0..cin)
                .map(|c| std::array::from_fn(|t| dw[t * cin + c]))
                .collect();
            let pw = weights.get(&format!("conv{i}/pointwise_filter"), &[1, 1, cin, cout])?;
            let bias = weights.get(&format!("conv{i}/bias"), &[cout])?;
            let pw = PackedConv::from_tf(&pw.data, 1, cin, cout, &vec![1.0; cout], &bias.data);
            separable.push((filters, pw));
        }
        let head = {
            let padded = HEAD_CHANNELS.next_multiple_of(crate::conv_gemm::MR);
            let f = &weights
                .get("conv8/filters", &[1, 1, 512, HEAD_CHANNELS])?
                .data;
            let b = &weights.get("conv8/bias", &[HEAD_CHANNELS])?.data;
            let mut filter = vec![0f32; 512 * padded];
            for c in 0..512 {
                filter[c * padded..c * padded + HEAD_CHANNELS]
                    .copy_from_slice(&f[c * HEAD_CHANNELS..(c + 1) * HEAD_CHANNELS]);
            }
            let mut bias = vec![0f32; padded];
            bias[..HEAD_CHANNELS].copy_from_slice(b);
            PackedConv::from_tf(&filter, 1, 512, padded, &vec![1.0; padded], &bias)
        };
        Ok(TinyFaceDetector {
            stem,
            separable,
            head,
        })
    }

    /// Everything after the stem, on its output.
    fn body(&self, mut x: Map) -> Vec<f32> {
        let leaky = Epilogue {
            residual: None,
            act: Activation::Leaky(LEAKY_SLOPE),
        };
        let last = self.separable.len() - 1;
        for (i, (dw, pw)) in self.separable.iter().enumerate() {
            let d = depthwise3x3_same(&x, dw);
            // Every pointwise conv but the last is followed by a stride-2 pool: fused.
            x = if i < last {
                conv1x1_max_pool_2x2(&d, pw, leaky.act)
            } else {
                conv1x1(&d, pw, leaky)
            };
        }
        x = max_pool_2x2_same(&x, 1);
        conv1x1(&x, &self.head, Epilogue::IDENTITY).to_plain(HEAD_CHANNELS)
    }

    /// Raw network output `[25, G, G]` for an image (the whole view).
    pub fn forward(&self, image: &RgbView<'_>, size: usize) -> Result<Vec<f32>, InferenceError> {
        size_index(size)?;
        let input = square_resize_normalized(image, SquarePad::BottomRight, size, MEAN_RGB);
        let pooled = conv3x3_valid_pool_leaky(input, size, &self.stem, LEAKY_SLOPE);
        Ok(self.body(pooled))
    }

    /// All faces scoring above the threshold, after NMS, highest score first.
    pub fn detect(
        &self,
        image: &RgbView<'_>,
        cfg: &DetectorConfig,
    ) -> Result<Vec<Detection>, InferenceError> {
        let size = cfg.input_size;
        let out = self.forward(image, size)?;
        Ok(decode(
            &out,
            size,
            image.width,
            image.height,
            cfg.score_threshold,
        ))
    }
}

pub(crate) fn size_index(size: usize) -> Result<usize, InferenceError> {
    INPUT_SIZES
        .iter()
        .position(|&s| s == size)
        .ok_or_else(|| InferenceError(format!("unsupported detector input size {size}")))
}

/// 2×2 max-pool with TF "same" padding (the odd row/column at the bottom/right is pooled
/// alone: padding is ignored), stride 1 or 2.
fn max_pool_2x2_same(x: &Map, stride: usize) -> Map {
    let (ho, wo) = (x.h.div_ceil(stride), x.w.div_ceil(stride));
    let mut out = Map::zeros(x.c, ho, wo);
    // Row by row: the max of the two input rows first (one vector pass), then of each
    // output pixel's two columns.
    let mut rowmax = vec![0f32; x.w];
    for c in 0..x.c {
        for y in 0..ho {
            let (y0, y1) = (y * stride, (y * stride + 1).min(x.h - 1));
            let (a0, a1) = (x.at(c, y0, 0), x.at(c, y1, 0));
            let (r0, r1) = (&x.data[a0..a0 + x.w], &x.data[a1..a1 + x.w]);
            for ((m, p), q) in rowmax.iter_mut().zip(r0).zip(r1) {
                *m = p.max(*q);
            }
            let at = out.at(c, y, 0);
            let dst = &mut out.data[at..at + wo];
            if stride == 2 {
                // Pairs of columns; an odd last column is pooled alone.
                let pairs = x.w / 2;
                for (d, pair) in dst.iter_mut().zip(rowmax.chunks_exact(2)) {
                    *d = pair[0].max(pair[1]);
                }
                if x.w % 2 == 1 {
                    dst[pairs] = rowmax[x.w - 1];
                }
            } else {
                for (xx, d) in dst.iter_mut().enumerate() {
                    *d = rowmax[xx].max(rowmax[(xx + 1).min(x.w - 1)]);
                }
            }
        }
    }
    out
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Decodes the `[5 anchors × 5, G, G]` output into boxes in image pixels, then NMS.
pub fn decode(
    out: &[f32],
    size: usize,
    width: usize,
    height: usize,
    threshold: f64,
) -> Vec<Detection> {
    let g = size / 32;
    let plane = g * g;
    debug_assert_eq!(out.len(), 25 * plane);
    let scale = size as f64 / width.max(height) as f64;
    let (rw, rh) = (
        (width as f64 * scale).round(),
        (height as f64 * scale).round(),
    );
    let side = rw.max(rh);
    let (cfx, cfy) = (side / rw, side / rh);
    let gf = g as f64;
    let mut found: Vec<(BoxF, f64)> = Vec::new();
    for row in 0..g {
        for col in 0..g {
            for (a, &(aw, ah)) in ANCHORS.iter().enumerate() {
                let t = |k: usize| out[(a * 5 + k) * plane + row * g + col] as f64;
                let score = sigmoid(t(4));
                if score <= threshold {
                    continue;
                }
                let cx = ((col as f64 + sigmoid(t(0))) / gf) * cfx;
                let cy = ((row as f64 + sigmoid(t(1))) / gf) * cfy;
                let bw = ((t(2).exp() * aw) / gf) * cfx;
                let bh = ((t(3).exp() * ah) / gf) * cfy;
                let (x, y) = (cx - bw / 2.0, cy - bh / 2.0);
                // Relative box as left/top/right/bottom, like face-api's BoundingBox.
                found.push((
                    BoxF {
                        x,
                        y,
                        width: (x + bw) - x,
                        height: (y + bh) - y,
                    },
                    score,
                ));
            }
        }
    }
    let keep = nms(&found, size as f64);
    keep.into_iter()
        .map(|i| {
            let (b, score) = found[i];
            Detection {
                bbox: BoxF {
                    x: b.x * width as f64,
                    y: b.y * height as f64,
                    width: b.width * width as f64,
                    height: b.height * height as f64,
                },
                score,
            }
        })
        .collect()
}

/// Greedy NMS on boxes scaled by `scale`; returns kept indices by descending score.
fn nms(found: &[(BoxF, f64)], scale: f64) -> Vec<usize> {
    let scaled: Vec<BoxF> = found
        .iter()
        .map(|(b, _)| BoxF {
            x: b.x * scale,
            y: b.y * scale,
            width: b.width * scale,
            height: b.height * scale,
        })
        .collect();
    let mut order: Vec<usize> = (0..found.len()).collect();
    // Ascending by score, stable; the highest is popped from the end (as face-api does).
    order.sort_by(|&a, &b| found[a].1.total_cmp(&found[b].1));
    let mut pick = Vec::new();
    while let Some(cur) = order.pop() {
        pick.push(cur);
        order.retain(|&i| scaled[cur].iou(&scaled[i]) <= IOU_THRESHOLD);
    }
    pick
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row-wise pool against the definition, odd and even sizes, both strides.
    #[test]
    fn max_pool_matches_its_definition() {
        for (h, w) in [(6, 8), (5, 7), (1, 1), (4, 3)] {
            let plain: Vec<f32> = (0..2 * h * w)
                .map(|i| ((i * 7919 % 101) as f32 - 50.0) / 10.0)
                .collect();
            let x = Map::from_plain(2, h, w, &plain);
            for stride in [1, 2] {
                let got = max_pool_2x2_same(&x, stride);
                let (ho, wo) = (h.div_ceil(stride), w.div_ceil(stride));
                assert_eq!((got.h, got.w), (ho, wo));
                for c in 0..2 {
                    for y in 0..ho {
                        for xx in 0..wo {
                            let v = |yy: usize, xc: usize| {
                                plain[(c * h + yy.min(h - 1)) * w + xc.min(w - 1)]
                            };
                            let (y0, x0) = (y * stride, xx * stride);
                            let want = v(y0, x0)
                                .max(v(y0, x0 + 1))
                                .max(v(y0 + 1, x0))
                                .max(v(y0 + 1, x0 + 1));
                            assert_eq!(
                                got.data[got.at(c, y, xx)],
                                want,
                                "{h}×{w} stride {stride} at {c},{y},{xx}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn nms_drops_overlaps_keeps_disjoint() {
        let b = |x: f64| BoxF {
            x,
            y: 0.0,
            width: 0.2,
            height: 0.2,
        };
        let found = vec![(b(0.0), 0.9), (b(0.01), 0.95), (b(0.5), 0.6)];
        assert_eq!(nms(&found, 320.0), vec![1, 2]);
    }

    #[test]
    fn decode_places_a_confident_cell() {
        // One strong anchor-0 score at cell (row 2, col 3) on a 224 grid (G=7), square image.
        let g = 7;
        let mut out = vec![-20f32; 25 * g * g];
        let at = |k: usize| k * g * g + 2 * g + 3;
        out[at(4)] = 5.0;
        for k in 0..4 {
            out[at(k)] = 0.0;
        }
        let d = decode(&out, 224, 700, 700, 0.5);
        assert_eq!(d.len(), 1);
        let bw = ANCHORS[0].0 / 7.0 * 700.0;
        assert!((d[0].bbox.width - bw).abs() < 1e-9);
        assert!((d[0].bbox.x + bw / 2.0 - 3.5 / 7.0 * 700.0).abs() < 1e-9);
        assert!((d[0].score - sigmoid(5.0)).abs() < 1e-12);
    }
}
