//! tract's graph of FaceLandmark68TinyNet.

use super::{CompiledNet, GraphBuilder, Padding, Wire};
use crate::landmarks::{NetLoadError, INPUT_SIZE};
use crate::weights::{WeightMap, WeightsError};

fn dense_block(
    g: &mut GraphBuilder,
    w: &WeightMap,
    x: &Wire,
    prefix: &str,
    cin: usize,
    cout: usize,
    first: bool,
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
    let out1 = g.relu(&c0);
    let out2 = sep(g, &out1, "conv1", cout, 1)?;
    let s12 = g.add(&out1, &out2);
    let in3 = g.relu(&s12);
    let out3 = sep(g, &in3, "conv2", cout, 1)?;
    let s23 = g.add(&out2, &out3);
    let s = g.add(&out1, &s23);
    Ok(g.relu(&s))
}

/// tract's graph of the landmark net: the reference `LandmarkNet::forward_normalized` is
/// tested against (`tests/it/parity.rs`).
pub fn landmarks_net(w: &WeightMap) -> Result<CompiledNet, NetLoadError> {
    let (mut g, x) = GraphBuilder::new([1, 3, INPUT_SIZE, INPUT_SIZE]);
    let mut out = dense_block(&mut g, w, &x, "dense0", 3, 32, true)?;
    out = dense_block(&mut g, w, &out, "dense1", 32, 64, false)?;
    out = dense_block(&mut g, w, &out, "dense2", 64, 128, false)?;
    out = g.global_mean(&out);
    let fc = w.get("fc/weights", &[128, 136])?;
    let fb = w.get("fc/bias", &[136])?;
    out = g.dense(&out, fc, Some(&fb.data));
    Ok(g.finish(&out)?)
}
