//! tract's graph of dlib's ResNet (FaceRecognitionNet).

use super::{CompiledNet, GraphBuilder, Padding, Wire};
use crate::landmarks::NetLoadError;
use crate::recognition::INPUT_SIZE;
use crate::weights::{WeightMap, WeightTensor, WeightsError};

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

/// tract's graph of the recognition net: the reference `RecognitionNet::forward_normalized`
/// is tested against (`tests/it/parity.rs`).
pub fn recognition_net(w: &WeightMap) -> Result<CompiledNet, NetLoadError> {
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
