//! FaceRecognitionNet: dlib's 29-layer ResNet giving a 128-D descriptor.

use crate::conv_gemm::{
    conv3x3_same, conv_strided, conv_valid_strided_plain, Activation, Epilogue, Map, PackedConv,
};
use crate::inference::{CompiledNet, GraphBuilder, InferenceError, Padding, Wire};
use crate::landmarks::NetLoadError;
use crate::preprocess::{normalize_nchw, square_resize_normalized, RgbView, SquarePad};
use crate::weights::{WeightMap, WeightTensor, WeightsError};

pub const INPUT_SIZE: usize = 150;
pub const DESCRIPTOR_LEN: usize = 128;
/// The per-channel mean subtracted from the input (0-255 scale).
pub const MEAN_RGB: [f32; 3] = [122.782, 117.001, 104.298];

/// The net, run by the hand-written convolutions of [`crate::conv_gemm`] (tract's graph of
/// it, [`reference_net`], is the test reference).
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

/// conv + bias, then the per-channel affine "scale" layer, folded into the conv's weights.
/// Shape of one conv unit: kernel, output channels, stride, padding, ReLU after.
#[derive(Clone, Copy)]
struct Unit {
    k: usize,
    cout: usize,
    stride: usize,
    pad: Padding,
    relu: bool,
}

const fn unit(k: usize, cout: usize, stride: usize, pad: Padding, relu: bool) -> Unit {
    Unit {
        k,
        cout,
        stride,
        pad,
        relu,
    }
}

fn conv_unit(
    g: &mut GraphBuilder,
    w: &WeightMap,
    x: &Wire,
    prefix: &str,
    u: Unit,
) -> Result<Wire, WeightsError> {
    let Unit {
        k,
        cout,
        stride,
        pad,
        relu,
    } = u;
    let cin = x.shape[1];
    let f = w.get(&format!("{prefix}/conv/filters"), &[k, k, cin, cout])?;
    let b = w.get(&format!("{prefix}/conv/bias"), &[cout])?;
    let s = w.get(&format!("{prefix}/scale/weights"), &[cout])?;
    let t = w.get(&format!("{prefix}/scale/biases"), &[cout])?;
    let data = f
        .data
        .iter()
        .enumerate()
        .map(|(i, v)| v * s.data[i % cout])
        .collect();
    let folded = WeightTensor {
        shape: f.shape.clone(),
        data,
    };
    let bias: Vec<f32> = (0..cout)
        .map(|o| b.data[o] * s.data[o] + t.data[o])
        .collect();
    let y = g.conv(x, &folded, Some(&bias), stride, pad);
    Ok(if relu { g.relu(&y) } else { y })
}

fn residual(
    g: &mut GraphBuilder,
    w: &WeightMap,
    x: &Wire,
    prefix: &str,
) -> Result<Wire, WeightsError> {
    let c = x.shape[1];
    let o = conv_unit(
        g,
        w,
        x,
        &format!("{prefix}/conv1"),
        unit(3, c, 1, Padding::Same, true),
    )?;
    let o = conv_unit(
        g,
        w,
        &o,
        &format!("{prefix}/conv2"),
        unit(3, c, 1, Padding::Same, false),
    )?;
    let s = g.add(&o, x);
    Ok(g.relu(&s))
}

fn residual_down(
    g: &mut GraphBuilder,
    w: &WeightMap,
    x: &Wire,
    prefix: &str,
    cout: usize,
) -> Result<Wire, WeightsError> {
    let o = conv_unit(
        g,
        w,
        x,
        &format!("{prefix}/conv1"),
        unit(3, cout, 2, Padding::Valid, true),
    )?;
    let mut o = conv_unit(
        g,
        w,
        &o,
        &format!("{prefix}/conv2"),
        unit(3, cout, 1, Padding::Same, false),
    )?;
    let mut pooled = g.avg_pool(x, 2, 2);
    if pooled.shape[2] != o.shape[2] || pooled.shape[3] != o.shape[3] {
        // face-api appends one zero row and column to the conv output.
        o = g.pad_zeros(&o, [0, 1, 0, 1], 0);
    }
    if pooled.shape[1] != o.shape[1] {
        let extra = o.shape[1] - pooled.shape[1];
        pooled = g.pad_zeros(&pooled, [0; 4], extra);
    }
    let s = g.add(&pooled, &o);
    Ok(g.relu(&s))
}

/// The tract graph of the net: the reference the hand-written forward pass is tested
/// against (`tests/parity.rs`), not used by the engine.
pub fn reference_net(w: &WeightMap) -> Result<CompiledNet, NetLoadError> {
    let (mut builder, x) = GraphBuilder::new([1, 3, INPUT_SIZE, INPUT_SIZE]);
    let g = &mut builder;
    let mut o = conv_unit(
        g,
        w,
        &x,
        "conv32_down",
        unit(7, 32, 2, Padding::Valid, true),
    )?;
    o = g.max_pool(&o, 3, 2, Padding::Valid);
    for i in 1..=3 {
        o = residual(g, w, &o, &format!("conv32_{i}"))?;
    }
    o = residual_down(g, w, &o, "conv64_down", 64)?;
    for i in 1..=3 {
        o = residual(g, w, &o, &format!("conv64_{i}"))?;
    }
    o = residual_down(g, w, &o, "conv128_down", 128)?;
    for i in 1..=2 {
        o = residual(g, w, &o, &format!("conv128_{i}"))?;
    }
    o = residual_down(g, w, &o, "conv256_down", 256)?;
    for i in 1..=2 {
        o = residual(g, w, &o, &format!("conv256_{i}"))?;
    }
    o = residual_down(g, w, &o, "conv256_down_out", 256)?;
    o = g.global_mean(&o);
    let fc = w.get("fc", &[256, 128])?;
    o = g.dense(&o, fc, None);
    Ok(builder.finish(&o)?)
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

/// One conv unit's weights with bias and the affine scale layer folded in.
fn packed_unit(
    w: &WeightMap,
    prefix: &str,
    k: usize,
    cin: usize,
    cout: usize,
) -> Result<PackedConv, WeightsError> {
    let f = w.get(&format!("{prefix}/conv/filters"), &[k, k, cin, cout])?;
    let b = w.get(&format!("{prefix}/conv/bias"), &[cout])?;
    let s = w.get(&format!("{prefix}/scale/weights"), &[cout])?;
    let t = w.get(&format!("{prefix}/scale/biases"), &[cout])?;
    let bias: Vec<f32> = (0..cout)
        .map(|o| b.data[o] * s.data[o] + t.data[o])
        .collect();
    Ok(PackedConv::from_tf(&f.data, k, cin, cout, &s.data, &bias))
}

struct Block {
    conv1: PackedConv,
    conv2: PackedConv,
    down: bool,
}

impl RecognitionNet {
    pub fn load(w: &WeightMap) -> Result<Self, NetLoadError> {
        let stem = packed_unit(w, "conv32_down", 7, 3, 32)?;
        let mut blocks = Vec::with_capacity(BLOCKS.len());
        let mut cin = 32;
        for (name, cout, down) in BLOCKS {
            blocks.push(Block {
                conv1: packed_unit(w, &format!("{name}/conv1"), 3, cin, cout)?,
                conv2: packed_unit(w, &format!("{name}/conv2"), 3, cout, cout)?,
                down,
            });
            cin = cout;
        }
        let fc = w.get("fc", &[256, DESCRIPTOR_LEN])?.data.clone();
        Ok(RecognitionNet { stem, blocks, fc })
    }

    /// Descriptor of an already-normalised NCHW 150×150 input.
    pub fn forward_normalized(&self, input: Vec<f32>) -> Result<Vec<f32>, InferenceError> {
        if input.len() != 3 * INPUT_SIZE * INPUT_SIZE {
            return Err(InferenceError(format!(
                "recognition input has {} values, expected {}",
                input.len(),
                3 * INPUT_SIZE * INPUT_SIZE
            )));
        }
        let relu = Epilogue::RELU;
        let stem = conv_valid_strided_plain(&input, (INPUT_SIZE, INPUT_SIZE), &self.stem, 2, relu);
        let mut x = max_pool_3x3_s2(&stem);
        for b in &self.blocks {
            x = if b.down {
                let t = conv_strided(&x, &b.conv1, 2, 0, relu);
                let o = conv3x3_same(&t, &b.conv2, Epilogue::IDENTITY);
                add_avg_pooled_relu(&o, &x)
            } else {
                let t = conv3x3_same(&x, &b.conv1, relu);
                conv3x3_same(
                    &t,
                    &b.conv2,
                    Epilogue {
                        residual: Some(&x),
                        act: Activation::Relu,
                    },
                )
            };
        }
        // Global mean, then the fully connected layer (no bias).
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
        Ok(out)
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
}

/// 3×3 stride-2 "valid" max-pool.
fn max_pool_3x3_s2(x: &Map) -> Map {
    let (ho, wo) = ((x.h - 3) / 2 + 1, (x.w - 3) / 2 + 1);
    let mut out = Map::zeros(x.c, ho, wo);
    for c in 0..x.c {
        for y in 0..ho {
            for xx in 0..wo {
                let mut m = f32::NEG_INFINITY;
                for ky in 0..3 {
                    for kx in 0..3 {
                        m = m.max(x.data[x.at(c, 2 * y + ky, 2 * xx + kx)]);
                    }
                }
                let at = out.at(c, y, xx);
                out.data[at] = m;
            }
        }
    }
    out
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
