//! tract's graphs of FaceLandmark68TinyNet and FaceLandmark68Net.

use super::{CompiledNet, GraphBuilder, Padding, Wire};
use crate::landmarks::{LandmarkModel, NetLoadError, INPUT_SIZE};
use crate::weights::{WeightMap, WeightsError};

#[allow(clippy::too_many_arguments)]
fn dense_block(
    g: &mut GraphBuilder,
    w: &WeightMap,
    x: &Wire,
    prefix: &str,
    cin: usize,
    cout: usize,
    first: bool,
    convs: usize,
) -> Result<Wire, WeightsError> {
    let sep = |g: &mut GraphBuilder,
               x: &Wire,
               name: &str,
               ci: usize,
               stride: usize|
     -> Result<Wire, WeightsError> {
        let dw = w.get(&format!("{prefix}/{name}/depthwise_filter"), &[3, 3, ci, 1])?;
        let pw = w.get(
            &format!("{prefix}/{name}/pointwise_filter"),
            &[1, 1, ci, cout],
        )?;
        let b = w.get(&format!("{prefix}/{name}/bias"), &[cout])?;
        Ok(g.separable(x, dw, pw, &b.data, stride, Padding::Same))
    };
    let c0 = if first {
        let f = w.get(&format!("{prefix}/conv0/filters"), &[3, 3, cin, cout])?;
        let b = w.get(&format!("{prefix}/conv0/bias"), &[cout])?;
        g.conv(x, f, Some(&b.data), 2, Padding::Same)
    } else {
        sep(g, x, "conv0", cin, 2)?
    };
    // face-api's denseBlock3/4: each conv after the first is fed relu(out1 + … + out_i).
    let out1 = g.relu(&c0);
    let mut sum = out1.clone();
    let mut input = out1;
    for i in 1..convs {
        let out = sep(g, &input, &format!("conv{i}"), cout, 1)?;
        sum = g.add(&sum, &out);
        input = g.relu(&sum);
    }
    Ok(input)
}

/// tract's graph of a landmark net: the reference `LandmarkNet::forward_normalized` is
/// tested against (`tests/it/parity.rs`).
pub fn landmarks_net(w: &WeightMap, model: LandmarkModel) -> Result<CompiledNet, NetLoadError> {
    let (blocks, convs) = model.shape();
    let (mut g, x) = GraphBuilder::new([1, 3, INPUT_SIZE, INPUT_SIZE]);
    let mut out = x;
    let (mut cin, mut cout) = (3, 32);
    for b in 0..blocks {
        out = dense_block(
            &mut g,
            w,
            &out,
            &format!("dense{b}"),
            cin,
            cout,
            b == 0,
            convs,
        )?;
        cin = cout;
        cout *= 2;
    }
    out = g.global_mean(&out);
    let fc = w.get("fc/weights", &[cin, 136])?;
    let fb = w.get("fc/bias", &[136])?;
    out = g.dense(&out, fc, Some(&fb.data));
    Ok(g.finish(&out)?)
}
