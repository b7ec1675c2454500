//! tract graphs of the three networks: the references the hand-written forward passes are
//! tested against (`tests/it/parity.rs`) and timed against (`examples/stage_timing.rs`).
//!
//! Behind the `reference` feature, which only the crate's own tests and examples enable:
//! the engine runs [`crate::conv_gemm`] and [`crate::winograd`], and tract is not in the
//! shipped binary. Networks describe themselves here with [`GraphBuilder`] (convolutions,
//! pooling, element-wise ops, in NCHW), which emits an NNEF graph plus its weight tensors
//! for tract to optimise and run on the CPU.

mod detector;
mod landmarks;
mod recognition;

pub use detector::ReferenceDetector;
pub use landmarks::landmarks_net;
pub use recognition::recognition_net;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use tract_nnef::ast::Identifier;
use tract_nnef::prelude::*;

use crate::inference::InferenceError;
use crate::weights::WeightTensor;

fn tract_error(e: impl std::fmt::Display) -> InferenceError {
    InferenceError(format!("{e:#}"))
}

/// A value in the graph under construction, with its (static) NCHW or NC shape.
#[derive(Debug, Clone)]
pub struct Wire {
    name: String,
    pub shape: Vec<usize>,
}

/// Padding for convolutions.
#[derive(Debug, Clone, Copy)]
pub enum Padding {
    /// No padding.
    Valid,
    /// TensorFlow "same": total max((⌈n/s⌉−1)·s + k − n, 0), the odd pixel at bottom/right.
    Same,
    /// Explicit (top, bottom, left, right).
    Explicit([usize; 4]),
}

fn tf_same(n: usize, k: usize, s: usize) -> (usize, usize) {
    let out = n.div_ceil(s);
    let total = ((out - 1) * s + k).saturating_sub(n);
    (total / 2, total - total / 2)
}

/// Builds a network graph; see module docs.
pub struct GraphBuilder {
    body: String,
    tensors: HashMap<Identifier, Arc<Tensor>>,
    next: usize,
    input: Wire,
}

impl GraphBuilder {
    /// A graph with one f32 input of `shape` (NCHW).
    pub fn new(input_shape: [usize; 4]) -> (Self, Wire) {
        let input = Wire {
            name: "input".into(),
            shape: input_shape.to_vec(),
        };
        let mut body = String::new();
        let _ = writeln!(
            body,
            "  input = external<scalar>(shape = {});",
            list(&input_shape)
        );
        (
            GraphBuilder {
                body,
                tensors: HashMap::new(),
                next: 0,
                input: input.clone(),
            },
            input,
        )
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn assign(&mut self, expr: String, shape: Vec<usize>) -> Wire {
        let name = self.fresh("t");
        let _ = writeln!(self.body, "  {name} = {expr};");
        Wire { name, shape }
    }

    fn variable(&mut self, shape: &[usize], data: Vec<f32>) -> String {
        let label = self.fresh("w");
        let tensor = Tensor::from_shape(shape, &data).expect("shape matches data length");
        self.tensors
            .insert(Identifier(label.clone()), Arc::new(tensor));
        let name = self.fresh("v");
        let _ = writeln!(
            self.body,
            "  {name} = variable<scalar>(label = '{label}', shape = {});",
            list(shape)
        );
        name
    }

    fn resolve_pad(x: &Wire, k: [usize; 2], s: usize, pad: Padding) -> [usize; 4] {
        match pad {
            Padding::Valid => [0; 4],
            Padding::Same => {
                let (t, b) = tf_same(x.shape[2], k[0], s);
                let (l, r) = tf_same(x.shape[3], k[1], s);
                [t, b, l, r]
            }
            Padding::Explicit(p) => p,
        }
    }

    fn conv_out(n: usize, k: usize, s: usize, before: usize, after: usize) -> usize {
        (n + before + after - k) / s + 1
    }

    /// Regular convolution with a TF `[kh, kw, in, out]` filter and optional bias.
    /// `out_scale` (per output channel) multiplies filter and bias: folds an affine layer in.
    pub fn conv(
        &mut self,
        x: &Wire,
        filter: &WeightTensor,
        bias: Option<&[f32]>,
        stride: usize,
        pad: Padding,
    ) -> Wire {
        let (kh, kw, cin, cout) = (
            filter.shape[0],
            filter.shape[1],
            filter.shape[2],
            filter.shape[3],
        );
        assert_eq!(x.shape[1], cin, "conv input channels");
        // TF HWIO -> NNEF OIHW.
        let mut oihw = vec![0f32; filter.data.len()];
        for h in 0..kh {
            for w in 0..kw {
                for i in 0..cin {
                    for o in 0..cout {
                        oihw[((o * cin + i) * kh + h) * kw + w] =
                            filter.data[((h * kw + w) * cin + i) * cout + o];
                    }
                }
            }
        }
        let f = self.variable(&[cout, cin, kh, kw], oihw);
        let b = match bias {
            Some(b) => self.variable(&[1, cout], b.to_vec()),
            None => "0.0".into(),
        };
        let p = Self::resolve_pad(x, [kh, kw], stride, pad);
        let shape = vec![
            x.shape[0],
            cout,
            Self::conv_out(x.shape[2], kh, stride, p[0], p[1]),
            Self::conv_out(x.shape[3], kw, stride, p[2], p[3]),
        ];
        self.assign(
            format!(
                "conv({}, {f}, {b}, border = 'constant', padding = [({}, {}), ({}, {})], stride = [{stride}, {stride}], dilation = [1, 1], groups = 1)",
                x.name, p[0], p[1], p[2], p[3]
            ),
            shape,
        )
    }

    /// Depthwise convolution with a TF `[kh, kw, C, 1]` filter, no bias.
    pub fn depthwise(
        &mut self,
        x: &Wire,
        filter: &WeightTensor,
        stride: usize,
        pad: Padding,
    ) -> Wire {
        let (kh, kw, c) = (filter.shape[0], filter.shape[1], filter.shape[2]);
        assert_eq!(filter.shape[3], 1, "depthwise multiplier");
        assert_eq!(x.shape[1], c, "depthwise channels");
        let mut chw = vec![0f32; filter.data.len()];
        for h in 0..kh {
            for w in 0..kw {
                for ch in 0..c {
                    chw[(ch * kh + h) * kw + w] = filter.data[(h * kw + w) * c + ch];
                }
            }
        }
        let f = self.variable(&[c, 1, kh, kw], chw);
        let p = Self::resolve_pad(x, [kh, kw], stride, pad);
        let shape = vec![
            x.shape[0],
            c,
            Self::conv_out(x.shape[2], kh, stride, p[0], p[1]),
            Self::conv_out(x.shape[3], kw, stride, p[2], p[3]),
        ];
        self.assign(
            format!(
                "conv({}, {f}, 0.0, border = 'constant', padding = [({}, {}), ({}, {})], stride = [{stride}, {stride}], dilation = [1, 1], groups = {c})",
                x.name, p[0], p[1], p[2], p[3]
            ),
            shape,
        )
    }

    /// Depthwise-separable convolution (depthwise, then pointwise + bias), as `tf.separableConv2d`.
    pub fn separable(
        &mut self,
        x: &Wire,
        depthwise: &WeightTensor,
        pointwise: &WeightTensor,
        bias: &[f32],
        stride: usize,
        pad: Padding,
    ) -> Wire {
        let d = self.depthwise(x, depthwise, stride, pad);
        self.conv(&d, pointwise, Some(bias), 1, Padding::Valid)
    }

    pub fn relu(&mut self, x: &Wire) -> Wire {
        self.assign(format!("relu({})", x.name), x.shape.clone())
    }

    pub fn leaky_relu(&mut self, x: &Wire, alpha: f32) -> Wire {
        self.assign(
            format!("leaky_relu({}, alpha = {alpha:?})", x.name),
            x.shape.clone(),
        )
    }

    pub fn add(&mut self, a: &Wire, b: &Wire) -> Wire {
        assert_eq!(a.shape, b.shape, "add shapes");
        self.assign(format!("add({}, {})", a.name, b.name), a.shape.clone())
    }

    /// Zero padding on the spatial axes (top, bottom, left, right) and channels (after).
    pub fn pad_zeros(&mut self, x: &Wire, spatial: [usize; 4], extra_channels: usize) -> Wire {
        let shape = vec![
            x.shape[0],
            x.shape[1] + extra_channels,
            x.shape[2] + spatial[0] + spatial[1],
            x.shape[3] + spatial[2] + spatial[3],
        ];
        self.assign(
            format!(
                "pad({}, padding = [(0, 0), (0, {extra_channels}), ({}, {}), ({}, {})], border = 'constant', value = 0.0)",
                x.name, spatial[0], spatial[1], spatial[2], spatial[3]
            ),
            shape,
        )
    }

    /// Max-pool with TF "same" (padding ignored) or "valid" semantics.
    pub fn max_pool(&mut self, x: &Wire, k: usize, s: usize, pad: Padding) -> Wire {
        let p = Self::resolve_pad(x, [k, k], s, pad);
        // Padding by edge replication equals TF's "ignore the padding" for a max.
        let padded = if p.iter().any(|&v| v > 0) {
            let shape = vec![
                x.shape[0],
                x.shape[1],
                x.shape[2] + p[0] + p[1],
                x.shape[3] + p[2] + p[3],
            ];
            self.assign(
                format!(
                    "pad({}, padding = [(0, 0), (0, 0), ({}, {}), ({}, {})], border = 'replicated')",
                    x.name, p[0], p[1], p[2], p[3]
                ),
                shape,
            )
        } else {
            x.clone()
        };
        let shape = vec![
            x.shape[0],
            x.shape[1],
            Self::conv_out(padded.shape[2], k, s, 0, 0),
            Self::conv_out(padded.shape[3], k, s, 0, 0),
        ];
        self.assign(
            format!(
                "max_pool({}, size = [1, 1, {k}, {k}], border = 'ignore', padding = [(0, 0), (0, 0), (0, 0), (0, 0)], stride = [1, 1, {s}, {s}])",
                padded.name
            ),
            shape,
        )
    }

    /// Average pool, "valid".
    pub fn avg_pool(&mut self, x: &Wire, k: usize, s: usize) -> Wire {
        let shape = vec![
            x.shape[0],
            x.shape[1],
            Self::conv_out(x.shape[2], k, s, 0, 0),
            Self::conv_out(x.shape[3], k, s, 0, 0),
        ];
        self.assign(
            format!(
                "avg_pool({}, size = [1, 1, {k}, {k}], border = 'ignore', padding = [(0, 0), (0, 0), (0, 0), (0, 0)], stride = [1, 1, {s}, {s}])",
                x.name
            ),
            shape,
        )
    }

    /// Mean over the spatial axes: `[N, C, H, W]` -> `[N, C]`.
    pub fn global_mean(&mut self, x: &Wire) -> Wire {
        let m = self.assign(
            format!("mean_reduce({}, axes = [2, 3])", x.name),
            vec![x.shape[0], x.shape[1], 1, 1],
        );
        self.assign(
            format!(
                "reshape({}, shape = [{}, {}])",
                m.name, x.shape[0], x.shape[1]
            ),
            vec![x.shape[0], x.shape[1]],
        )
    }

    /// Fully connected layer with a TF `[in, out]` weight and optional bias: `[N, in]` -> `[N, out]`.
    pub fn dense(&mut self, x: &Wire, weights: &WeightTensor, bias: Option<&[f32]>) -> Wire {
        let (cin, cout) = (weights.shape[0], weights.shape[1]);
        assert_eq!(x.shape[1], cin, "dense input");
        let w = self.variable(&[cin, cout], weights.data.clone());
        let mut y = self.assign(format!("matmul({}, {w})", x.name), vec![x.shape[0], cout]);
        if let Some(b) = bias {
            let bv = self.variable(&[1, cout], b.to_vec());
            y = self.assign(format!("add({}, {bv})", y.name), y.shape.clone());
        }
        y
    }

    /// Compiles the graph whose result is `output`.
    pub fn finish(self, output: &Wire) -> Result<CompiledNet, InferenceError> {
        let text = format!(
            "version 1.0;\n\ngraph net( input ) -> ( output )\n{{\n{}  output = copy({});\n}}\n",
            self.body, output.name
        );
        let doc = tract_nnef::ast::parse::parse_document(&text).map_err(tract_error)?;
        let proto = tract_nnef::ProtoModel {
            doc,
            tensors: self.tensors,
            quantization: None,
            resources: HashMap::new(),
        };
        let model = tract_nnef::nnef()
            .model_for_proto_model(&proto)
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(tract_error)?;
        Ok(CompiledNet {
            plan: model,
            states: Mutex::new(Vec::new()),
            input_shape: self.input.shape,
            output_shape: output.shape.clone(),
        })
    }
}

fn list(v: &[usize]) -> String {
    format!(
        "[{}]",
        v.iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A compiled network: fixed input shape, f32 in, f32 out. Cheap to share (Send + Sync).
pub struct CompiledNet {
    plan: Arc<TypedRunnableModel>,
    /// Idle run states, reused: making one per call (what `plan.run` does) costs time.
    states: Mutex<Vec<TypedSimpleState>>,
    input_shape: Vec<usize>,
    output_shape: Vec<usize>,
}

impl std::fmt::Debug for CompiledNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledNet")
            .field("input_shape", &self.input_shape)
            .field("output_shape", &self.output_shape)
            .finish()
    }
}

impl CompiledNet {
    /// One line per node of the optimised graph (op and output shape), for profiling.
    pub fn describe_ops(&self) -> Vec<String> {
        let m = self.plan.model();
        m.nodes()
            .iter()
            .map(|n| {
                format!(
                    "{} {:?}",
                    n.op().name(),
                    n.outputs.first().map(|o| &o.fact.shape)
                )
            })
            .collect()
    }

    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    pub fn output_shape(&self) -> &[usize] {
        &self.output_shape
    }

    /// Runs the net on an NCHW buffer of exactly the input shape; returns the output, row-major.
    pub fn run(&self, input: Vec<f32>) -> Result<Vec<f32>, InferenceError> {
        let tensor = Tensor::from_shape(&self.input_shape, &input).map_err(tract_error)?;
        let idle = self.states.lock().ok().and_then(|mut v| v.pop());
        let mut state = match idle {
            Some(s) => s,
            None => self.plan.spawn().map_err(tract_error)?,
        };
        let out = state
            .run(tvec!(tensor.into_tvalue()))
            .map_err(tract_error)?;
        if let Ok(mut v) = self.states.lock() {
            v.push(state);
        }
        let view = out[0].to_plain_array_view::<f32>().map_err(tract_error)?;
        Ok(view.iter().copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_matches_tf() {
        assert_eq!(tf_same(112, 3, 2), (0, 1));
        assert_eq!(tf_same(111, 2, 2), (0, 1));
        assert_eq!(tf_same(10, 2, 1), (0, 1));
        assert_eq!(tf_same(35, 3, 1), (1, 1));
    }

    #[test]
    fn conv_and_pool_run() {
        // 1x1x3x3 input, 2x2 all-ones filter, valid: sums of 2x2 windows.
        let (mut g, x) = GraphBuilder::new([1, 1, 3, 3]);
        let f = WeightTensor {
            shape: vec![2, 2, 1, 1],
            data: vec![1.0; 4],
        };
        let y = g.conv(&x, &f, Some(&[0.5]), 1, Padding::Valid);
        let z = g.max_pool(&y, 2, 2, Padding::Same);
        let net = g.finish(&z).unwrap();
        let out = net.run((1..=9).map(|v| v as f32).collect()).unwrap();
        // windows: 12,16,24,28 (+0.5); max-pool 2x2 "same" on 2x2 -> one value.
        assert_eq!(net.output_shape(), &[1, 1, 1, 1]);
        assert_eq!(out, vec![28.5]);
    }
}
