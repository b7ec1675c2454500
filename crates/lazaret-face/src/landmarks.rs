//! face-api.js's 68-point landmark nets: FaceLandmark68TinyNet (three dense blocks of three
//! convolutions, the default) and FaceLandmark68Net (four blocks of four, about 4.6× the
//! weights), each with a fully connected head giving 68 points ([`LandmarkModel`] says which).

use crate::conv_gemm::{
    conv1x1, conv_strided, depthwise3x3_s2_same, depthwise3x3_same, Activation, Epilogue, Map,
    PackedConv,
};
use crate::detector::BoxF;
use crate::inference::InferenceError;
use crate::preprocess::{square_resize_normalized, RgbView, SquarePad};
use crate::weights::{WeightMap, WeightsError};

pub const INPUT_SIZE: usize = 112;
/// The per-channel mean subtracted from the input (0-255 scale).
pub const MEAN_RGB: [f32; 3] = [122.782, 117.001, 104.298];

/// A point in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// The 68 iBUG points of one face, in image pixels.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Landmarks68 {
    pub points: Vec<Point>,
    /// The face crop the net saw (detection box clipped to the image, floored): x, y, w, h.
    pub crop: [usize; 4],
}

fn mean(points: &[Point]) -> Point {
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), p| (a + p.x, b + p.y));
    Point {
        x: sx / points.len() as f64,
        y: sy / points.len() as f64,
    }
}

impl Landmarks68 {
    pub fn left_eye(&self) -> Point {
        mean(&self.points[36..42])
    }
    pub fn right_eye(&self) -> Point {
        mean(&self.points[42..48])
    }
    pub fn mouth(&self) -> Point {
        mean(&self.points[48..68])
    }
    pub fn nose_tip(&self) -> Point {
        self.points[30]
    }
}

/// The detection box clipped to the image and floored, as face-api's `clipAtImageBorders`.
pub fn clip_box(b: &BoxF, width: usize, height: usize) -> Option<[usize; 4]> {
    let x = b.x.max(0.0);
    let y = b.y.max(0.0);
    let w = (b.right() - x).min(width as f64 - x);
    let h = (b.bottom() - y).min(height as f64 - y);
    let (x, y, w, h) = (x.floor(), y.floor(), w.floor(), h.floor());
    if w <= 0.0 || h <= 0.0 || !(x.is_finite() && y.is_finite()) {
        return None;
    }
    let (x, y) = (x as usize, y as usize);
    // Flooring can push the far edge one pixel out; keep the crop inside the image.
    let w = (w as usize).min(width - x);
    let h = (h as usize).min(height - y);
    (w > 0 && h > 0).then_some([x, y, w, h])
}

/// The net, run by the hand-written convolutions of [`crate::conv_gemm`] (tract's graph of
/// it, `reference::landmarks_net` behind the `reference` feature, is the test reference).
pub struct LandmarkNet {
    model: LandmarkModel,
    blocks: Vec<DenseBlock>,
    /// `[channels of the last block][136]` and its bias.
    fc: Vec<f32>,
    fc_bias: Vec<f32>,
}

/// Depthwise 3×3 filters (nine taps per channel), then the pointwise conv with the bias.
struct Separable {
    depthwise: Vec<[f32; 9]>,
    pointwise: PackedConv,
}

impl Separable {
    fn load(w: &WeightMap, prefix: &str, cin: usize, cout: usize) -> Result<Self, WeightsError> {
        let dw = &w
            .get(&format!("{prefix}/depthwise_filter"), &[3, 3, cin, 1])?
            .data;
        let pw = w.get(&format!("{prefix}/pointwise_filter"), &[1, 1, cin, cout])?;
        let b = w.get(&format!("{prefix}/bias"), &[cout])?;
        Ok(Separable {
            depthwise: (0..cin)
                .map(|c| std::array::from_fn(|t| dw[t * cin + c]))
                .collect(),
            pointwise: PackedConv::from_tf(&pw.data, 1, cin, cout, &vec![1.0; cout], &b.data),
        })
    }

    fn run(&self, x: &Map, ep: Epilogue<'_>) -> Map {
        conv1x1(&depthwise3x3_same(x, &self.depthwise), &self.pointwise, ep)
    }
}

/// The first conv of a dense block (stride 2): a full 3×3 conv in the first block.
enum Downsample {
    Full(PackedConv),
    Separable(Separable),
}

/// Which of face-api.js's two landmark nets (same input, same 68 outputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LandmarkModel {
    /// `face_landmark_68_tiny_model`: 3 dense blocks of 3 convolutions (32–128 channels).
    #[default]
    Tiny,
    /// `face_landmark_68_model`: 4 dense blocks of 4 convolutions (32–256 channels).
    Full,
}

impl LandmarkModel {
    /// The weights manifest of the model in the models folder.
    pub fn manifest(self) -> &'static str {
        match self {
            LandmarkModel::Tiny => crate::models_fetch::LANDMARKS_MANIFEST,
            LandmarkModel::Full => crate::models_fetch::LANDMARKS_FULL_MANIFEST,
        }
    }

    /// Short name in model tags and reports.
    pub fn tag(self) -> &'static str {
        match self {
            LandmarkModel::Tiny => "lm68tiny",
            LandmarkModel::Full => "lm68",
        }
    }

    /// (blocks, convolutions per block) of face-api's `denseBlock3` / `denseBlock4` nets.
    pub(crate) fn shape(self) -> (usize, usize) {
        match self {
            LandmarkModel::Tiny => (3, 3),
            LandmarkModel::Full => (4, 4),
        }
    }
}

struct DenseBlock {
    conv0: Downsample,
    /// conv1, conv2 (and conv3 in the full net), each fed the ReLU of the running sum.
    rest: Vec<Separable>,
}

impl DenseBlock {
    fn load(
        w: &WeightMap,
        prefix: &str,
        cin: usize,
        cout: usize,
        first: bool,
        convs: usize,
    ) -> Result<Self, WeightsError> {
        let conv0 = if first {
            let f = w.get(&format!("{prefix}/conv0/filters"), &[3, 3, cin, cout])?;
            let b = w.get(&format!("{prefix}/conv0/bias"), &[cout])?;
            Downsample::Full(PackedConv::from_tf(
                &f.data,
                3,
                cin,
                cout,
                &vec![1.0; cout],
                &b.data,
            ))
        } else {
            Downsample::Separable(Separable::load(w, &format!("{prefix}/conv0"), cin, cout)?)
        };
        let rest = (1..convs)
            .map(|i| Separable::load(w, &format!("{prefix}/conv{i}"), cout, cout))
            .collect::<Result<_, _>>()?;
        Ok(DenseBlock { conv0, rest })
    }

    /// `out1 = relu(conv0(x))`, `out2 = conv1(out1)`, `out3 = conv2(relu(out1 + out2))`, …,
    /// result `relu(out1 + … + outN)`, as face-api's `denseBlock3` and `denseBlock4`.
    fn run(&self, x: &Map) -> Map {
        let out1 = match &self.conv0 {
            // TF "same" for stride 2 on even sizes: one zero row/column after the image.
            Downsample::Full(c) => conv_strided(x, c, 2, 1, Epilogue::RELU),
            Downsample::Separable(s) => conv1x1(
                &depthwise3x3_s2_same(x, &s.depthwise),
                &s.pointwise,
                Epilogue::RELU,
            ),
        };
        let (last, middle) = self.rest.split_last().expect("a dense block has conv1");
        // out1 is already non-negative: it is the first input as it stands.
        let mut sum = out1.clone();
        let mut input = out1;
        for conv in middle {
            let out = conv.run(&input, Epilogue::IDENTITY);
            for (s, a) in sum.data.iter_mut().zip(&out.data) {
                *s += a;
            }
            input = sum.clone();
            for v in &mut input.data {
                *v = v.max(0.0);
            }
        }
        last.run(
            &input,
            Epilogue {
                residual: Some(&sum),
                act: Activation::Relu,
            },
        )
    }
}

impl std::fmt::Debug for LandmarkNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LandmarkNet").finish_non_exhaustive()
    }
}

/// Error loading a network: bad weights or a graph the backend refused.
#[derive(Debug, thiserror::Error)]
pub enum NetLoadError {
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error(transparent)]
    Inference(#[from] InferenceError),
}

const OUTPUTS: usize = 136;

impl LandmarkNet {
    /// The net of `model` from its weights (a missing or misshapen tensor is an error).
    pub fn load(w: &WeightMap, model: LandmarkModel) -> Result<Self, NetLoadError> {
        let (blocks, convs) = model.shape();
        let mut cin = 3;
        let mut cout = 32;
        let mut loaded = Vec::with_capacity(blocks);
        for b in 0..blocks {
            loaded.push(DenseBlock::load(
                w,
                &format!("dense{b}"),
                cin,
                cout,
                b == 0,
                convs,
            )?);
            cin = cout;
            cout *= 2;
        }
        Ok(LandmarkNet {
            model,
            blocks: loaded,
            fc: w.get("fc/weights", &[cin, OUTPUTS])?.data.clone(),
            fc_bias: w.get("fc/bias", &[OUTPUTS])?.data.clone(),
        })
    }

    pub fn model(&self) -> LandmarkModel {
        self.model
    }

    /// Raw output of an already-normalised NCHW 112×112 input.
    pub fn forward_normalized(&self, input: &[f32]) -> Result<Vec<f32>, InferenceError> {
        if input.len() != 3 * INPUT_SIZE * INPUT_SIZE {
            return Err(InferenceError(format!(
                "landmark input has {} values, expected {}",
                input.len(),
                3 * INPUT_SIZE * INPUT_SIZE
            )));
        }
        let mut x = Map::from_plain(3, INPUT_SIZE, INPUT_SIZE, input);
        for b in &self.blocks {
            x = b.run(&x);
        }
        let n = (x.h * x.w) as f32;
        let mut out = self.fc_bias.clone();
        for c in 0..x.c {
            let mut s = 0f32;
            for y in 0..x.h {
                let at = x.at(c, y, 0);
                s += x.data[at..at + x.w].iter().sum::<f32>();
            }
            let m = s / n;
            for (o, w) in out.iter_mut().zip(&self.fc[c * OUTPUTS..(c + 1) * OUTPUTS]) {
                *o += m * w;
            }
        }
        Ok(out)
    }

    /// Raw output (136 values, x/y interleaved, fractions of the padded square) for a crop.
    pub fn forward(&self, crop: &RgbView<'_>) -> Result<Vec<f32>, InferenceError> {
        self.forward_normalized(&square_resize_normalized(
            crop,
            SquarePad::Centered,
            INPUT_SIZE,
            MEAN_RGB,
        ))
    }

    /// Landmarks averaged with those found on the mirrored crop (mapped back and re-indexed):
    /// less jitter for the alignment, at the cost of a second (cheap) landmark pass.
    pub fn detect_mirror_averaged(
        &self,
        image: &RgbView<'_>,
        det: &BoxF,
    ) -> Result<Option<Landmarks68>, InferenceError> {
        let Some(mut lm) = self.detect(image, det)? else {
            return Ok(None);
        };
        let [x0, y0, cw, ch] = lm.crop;
        let view = image.crop(x0, y0, cw, ch);
        let mut mirrored = Vec::with_capacity(cw * ch * 3);
        for y in 0..ch {
            for x in (0..cw).rev() {
                for c in 0..3 {
                    mirrored.push(view.get(x, y, c));
                }
            }
        }
        let out = self.forward(&RgbView::new(&mirrored, cw, ch))?;
        let flipped = to_points(&out, cw, ch, 0.0, 0.0);
        for (i, p) in lm.points.iter_mut().enumerate() {
            let q = flipped[MIRROR_68[i]];
            // Mirror x back inside the crop, then into image coordinates like `to_points`.
            let qx = (cw as f64 - q.x) + det.x;
            let qy = q.y + det.y;
            p.x = (p.x + qx) / 2.0;
            p.y = (p.y + qy) / 2.0;
        }
        Ok(Some(lm))
    }

    /// Landmarks of the face in `det` (image pixels), as face-api places them.
    pub fn detect(
        &self,
        image: &RgbView<'_>,
        det: &BoxF,
    ) -> Result<Option<Landmarks68>, InferenceError> {
        let Some(crop) = clip_box(det, image.width, image.height) else {
            return Ok(None);
        };
        let view = image.crop(crop[0], crop[1], crop[2], crop[3]);
        let out = self.forward(&view)?;
        Ok(Some(Landmarks68 {
            points: to_points(&out, crop[2], crop[3], det.x, det.y),
            crop,
        }))
    }
}

/// The iBUG-68 index of each point's mirror image (left and right swapped).
const MIRROR_68: [usize; 68] = [
    16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, // jaw
    26, 25, 24, 23, 22, 21, 20, 19, 18, 17, // brows
    27, 28, 29, 30, // nose bridge
    35, 34, 33, 32, 31, // nostrils
    45, 44, 43, 42, 47, 46, // left eye <- right eye
    39, 38, 37, 36, 41, 40, // right eye <- left eye
    54, 53, 52, 51, 50, 49, 48, // upper outer lip
    59, 58, 57, 56, 55, // lower outer lip
    64, 63, 62, 61, 60, // upper inner lip
    67, 66, 65, // lower inner lip
];

/// Output fractions -> image pixels. The arithmetic mirrors face-api's f32 tensor ops, then
/// its f64 `relative × crop size + unclipped box corner`.
pub fn to_points(out: &[f32], cw: usize, ch: usize, shift_x: f64, shift_y: f64) -> Vec<Point> {
    let scale = INPUT_SIZE as f64 / cw.max(ch) as f64;
    let (w, h) = (cw as f64 * scale, ch as f64 * scale);
    let pad_x = if w < h { (w - h).abs() / 2.0 } else { 0.0 } as f32;
    let pad_y = if h < w { (w - h).abs() / 2.0 } else { 0.0 } as f32;
    let (wf, hf) = (w as f32, h as f32);
    (0..68)
        .map(|i| {
            let rx = (out[2 * i] * INPUT_SIZE as f32 - pad_x) / wf;
            let ry = (out[2 * i + 1] * INPUT_SIZE as f32 - pad_y) / hf;
            Point {
                x: rx as f64 * cw as f64 + shift_x,
                y: ry as f64 * ch as f64 + shift_y,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_map_is_an_involution() {
        for i in 0..68 {
            assert_eq!(MIRROR_68[MIRROR_68[i]], i, "point {i}");
        }
    }

    #[test]
    fn clip_box_floors_and_clips() {
        let b = BoxF {
            x: -3.5,
            y: 10.7,
            width: 50.0,
            height: 500.0,
        };
        assert_eq!(clip_box(&b, 40, 100), Some([0, 10, 40, 89]));
        let out = BoxF {
            x: 200.0,
            y: 0.0,
            width: 5.0,
            height: 5.0,
        };
        assert_eq!(clip_box(&out, 40, 100), None);
    }
}
