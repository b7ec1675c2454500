//! FaceRecognitionNet: dlib's 29-layer ResNet giving a 128-D descriptor.

use crate::conv_gemm::{
    conv3x3_same_batch, conv_s2_max_pool_plain, conv_strided_batch, Activation, Epilogue, Map,
    PackedConv,
};
use crate::inference::InferenceError;
use crate::landmarks::NetLoadError;
use crate::preprocess::{normalize_nchw, square_resize_normalized, RgbView, SquarePad};
use crate::weights::{WeightMap, WeightsError};
use crate::winograd::WinogradConv;

pub const INPUT_SIZE: usize = 150;
pub const DESCRIPTOR_LEN: usize = 128;
/// The per-channel mean subtracted from the input (0-255 scale).
pub const MEAN_RGB: [f32; 3] = [122.782, 117.001, 104.298];

/// The net, run by the hand-written convolutions of [`crate::conv_gemm`] (tract's graph of
/// it, `reference::recognition_net` behind the `reference` feature, is the test reference).
pub struct RecognitionNet {
    stem: PackedConv,
    blocks: Vec<Block>,
    /// `[256][128]`.
    fc: Vec<f32>,
}

impl std::fmt::Debug for RecognitionNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecognitionNet").finish_non_exhaustive()
    }
}

/// The residual blocks in order: name, output channels, whether it halves the size.
const BLOCKS: [(&str, usize, bool); 14] = [
    ("conv32_1", 32, false),
    ("conv32_2", 32, false),
    ("conv32_3", 32, false),
    ("conv64_down", 64, true),
    ("conv64_1", 64, false),
    ("conv64_2", 64, false),
    ("conv64_3", 64, false),
    ("conv128_down", 128, true),
    ("conv128_1", 128, false),
    ("conv128_2", 128, false),
    ("conv256_down", 256, true),
    ("conv256_1", 256, false),
    ("conv256_2", 256, false),
    ("conv256_down_out", 256, true),
];

/// One conv unit: its filter (TF layout), the affine scale layer's per-channel scale, and
/// the bias with that layer folded in.
struct Unit {
    filter: Vec<f32>,
    scale: Vec<f32>,
    bias: Vec<f32>,
}

fn unit(
    w: &WeightMap,
    prefix: &str,
    k: usize,
    cin: usize,
    cout: usize,
) -> Result<Unit, WeightsError> {
    let f = w.get(&format!("{prefix}/conv/filters"), &[k, k, cin, cout])?;
    let b = w.get(&format!("{prefix}/conv/bias"), &[cout])?;
    let s = w.get(&format!("{prefix}/scale/weights"), &[cout])?;
    let t = w.get(&format!("{prefix}/scale/biases"), &[cout])?;
    let bias: Vec<f32> = (0..cout)
        .map(|o| b.data[o] * s.data[o] + t.data[o])
        .collect();
    Ok(Unit {
        filter: f.data.clone(),
        scale: s.data.clone(),
        bias,
    })
}

fn packed_unit(
    w: &WeightMap,
    prefix: &str,
    k: usize,
    cin: usize,
    cout: usize,
) -> Result<PackedConv, WeightsError> {
    let u = unit(w, prefix, k, cin, cout)?;
    Ok(PackedConv::from_tf(
        &u.filter, k, cin, cout, &u.scale, &u.bias,
    ))
}

/// A 3×3 stride-1 convolution of the net, by Winograd F(2×2, 3×3) where its maps are large
/// enough for the 2×2 output tiles to pay (35×35 down to 8×8), directly on the 3×3 and 4×4
/// maps of the last stage (measured: docs/benchmarks-history.md).
enum Conv3 {
    Direct(PackedConv),
    Winograd(WinogradConv),
}

/// Output channels up to which the stride-1 convolutions run by Winograd (their maps are
/// 8×8 or larger; the 256-channel stage works on 3×3 and 4×4 maps).
const WINOGRAD_MAX_CHANNELS: usize = 128;

impl Conv3 {
    fn load(w: &WeightMap, prefix: &str, cin: usize, cout: usize) -> Result<Self, WeightsError> {
        let u = unit(w, prefix, 3, cin, cout)?;
        Ok(if cout <= WINOGRAD_MAX_CHANNELS {
            Conv3::Winograd(WinogradConv::from_tf(
                &u.filter, cin, cout, &u.scale, &u.bias,
            ))
        } else {
            Conv3::Direct(PackedConv::from_tf(
                &u.filter, 3, cin, cout, &u.scale, &u.bias,
            ))
        })
    }

    /// The conv of each map with its epilogue (a batch shares the direct convs' weight
    /// reads; Winograd runs map by map).
    fn run(&self, xs: &[Map], eps: &[Epilogue<'_>]) -> Vec<Map> {
        match self {
            Conv3::Direct(p) => conv3x3_same_batch(xs, p, eps),
            Conv3::Winograd(w) => xs.iter().zip(eps).map(|(x, ep)| w.run(x, *ep)).collect(),
        }
    }
}

struct Block {
    conv1: Conv1,
    conv2: Conv3,
}

impl Block {
    /// The block on each map of a batch.
    fn run(&self, xs: Vec<Map>) -> Vec<Map> {
        let relu = vec![Epilogue::RELU; xs.len()];
        match &self.conv1 {
            Conv1::Strided(c) => {
                let t = conv_strided_batch(&xs, c, 2, 0, &relu);
                let o = self.conv2.run(&t, &vec![Epilogue::IDENTITY; xs.len()]);
                o.iter()
                    .zip(&xs)
                    .map(|(o, x)| add_avg_pooled_relu(o, x))
                    .collect()
            }
            Conv1::Same(c) => {
                let t = c.run(&xs, &relu);
                let eps: Vec<Epilogue<'_>> = xs
                    .iter()
                    .map(|x| Epilogue {
                        residual: Some(x),
                        act: Activation::Relu,
                    })
                    .collect();
                self.conv2.run(&t, &eps)
            }
        }
    }
}

/// A block's first conv: stride 2 ("valid") in a down block, else stride 1 "same".
enum Conv1 {
    Strided(PackedConv),
    Same(Conv3),
}

impl RecognitionNet {
    pub fn load(w: &WeightMap) -> Result<Self, NetLoadError> {
        let stem = packed_unit(w, "conv32_down", 7, 3, 32)?;
        let mut blocks = Vec::with_capacity(BLOCKS.len());
        let mut cin = 32;
        for (name, cout, down) in BLOCKS {
            let conv1 = if down {
                Conv1::Strided(packed_unit(w, &format!("{name}/conv1"), 3, cin, cout)?)
            } else {
                Conv1::Same(Conv3::load(w, &format!("{name}/conv1"), cin, cout)?)
            };
            blocks.push(Block {
                conv1,
                conv2: Conv3::load(w, &format!("{name}/conv2"), cout, cout)?,
            });
            cin = cout;
        }
        let fc = w.get("fc", &[256, DESCRIPTOR_LEN])?.data.clone();
        Ok(RecognitionNet { stem, blocks, fc })
    }

    /// Descriptor of an already-normalised NCHW 150×150 input.
    pub fn forward_normalized(&self, input: Vec<f32>) -> Result<Vec<f32>, InferenceError> {
        let mut out = self.forward_normalized_batch(vec![input])?;
        Ok(out.pop().expect("one descriptor per input"))
    }

    /// Descriptors of several normalised inputs, run through the net together: the last
    /// stage's convs (3×3 and smaller maps, 2.4 MB of weights each) read their weights once
    /// for the whole batch. Each descriptor is the one its input gives alone, to the bit.
    pub fn forward_normalized_batch(
        &self,
        inputs: Vec<Vec<f32>>,
    ) -> Result<Vec<Vec<f32>>, InferenceError> {
        let want = 3 * INPUT_SIZE * INPUT_SIZE;
        if let Some(bad) = inputs.iter().find(|i| i.len() != want) {
            return Err(InferenceError(format!(
                "recognition input has {} values, expected {want}",
                bad.len()
            )));
        }
        let mut xs: Vec<Map> = inputs
            .iter()
            .map(|input| {
                conv_s2_max_pool_plain(
                    input,
                    (INPUT_SIZE, INPUT_SIZE),
                    &self.stem,
                    Activation::Relu,
                )
            })
            .collect();
        for b in &self.blocks {
            xs = b.run(xs);
        }
        Ok(xs.iter().map(|x| self.head(x)).collect())
    }

    /// Global mean, then the fully connected layer (no bias).
    fn head(&self, x: &Map) -> Vec<f32> {
        let n = (x.h * x.w) as f32;
        let mean: Vec<f32> = (0..x.c)
            .map(|c| {
                let mut s = 0f32;
                for y in 0..x.h {
                    for xx in 0..x.w {
                        s += x.data[x.at(c, y, xx)];
                    }
                }
                s / n
            })
            .collect();
        let mut out = vec![0f32; DESCRIPTOR_LEN];
        for (i, m) in mean.iter().enumerate() {
            for (o, w) in out
                .iter_mut()
                .zip(&self.fc[i * DESCRIPTOR_LEN..(i + 1) * DESCRIPTOR_LEN])
            {
                *o += m * w;
            }
        }
        out
    }

    /// Descriptor of an image region: padded to a square (centred), resized to 150.
    pub fn descriptor(&self, region: &RgbView<'_>) -> Result<Vec<f32>, InferenceError> {
        self.forward_normalized(square_resize_normalized(
            region,
            SquarePad::Centered,
            INPUT_SIZE,
            MEAN_RGB,
        ))
    }

    /// Descriptor of an HWC f32 150×150 chip (values 0..=255), e.g. a rotated dlib chip.
    pub fn descriptor_of_chip(&self, chip: &[f32]) -> Result<Vec<f32>, InferenceError> {
        self.forward_normalized(normalize_nchw(chip, INPUT_SIZE, MEAN_RGB))
    }

    /// [`Self::descriptor_of_chip`] of several chips, run as one batch (see
    /// [`Self::forward_normalized_batch`]).
    pub fn descriptors_of_chips(&self, chips: &[&[f32]]) -> Result<Vec<Vec<f32>>, InferenceError> {
        self.forward_normalized_batch(
            chips
                .iter()
                .map(|c| normalize_nchw(c, INPUT_SIZE, MEAN_RGB))
                .collect(),
        )
    }
}

/// The end of a down block: `relu(o + avg_pool_2x2(x))`, where `o` is zero-extended to the
/// pooled size (face-api appends a zero row and column when the conv output is smaller)
/// and the pooled input is zero-extended to `o`'s channels.
fn add_avg_pooled_relu(o: &Map, x: &Map) -> Map {
    let (h, w) = (x.h / 2, x.w / 2);
    let mut out = Map::zeros(o.c, h, w);
    for c in 0..o.c {
        for y in 0..h {
            for xx in 0..w {
                let mut v = if y < o.h && xx < o.w {
                    o.data[o.at(c, y, xx)]
                } else {
                    0.0
                };
                if c < x.c {
                    let p = |dy: usize, dx: usize| x.data[x.at(c, 2 * y + dy, 2 * xx + dx)];
                    v += (p(0, 0) + p(0, 1) + p(1, 0) + p(1, 1)) / 4.0;
                }
                let at = out.at(c, y, xx);
                out.data[at] = v.max(0.0);
            }
        }
    }
    out
}

/// Euclidean distance between two descriptors.
pub fn euclidean(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let d = (*x as f64) - (*y as f64);
            d * d
        })
        .sum::<f64>()
        .sqrt() as f32
}
