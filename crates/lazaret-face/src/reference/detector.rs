//! tract's graph of the whole detector, one per input size.

use std::sync::OnceLock;

use super::{CompiledNet, GraphBuilder, Padding};
use crate::detector::{required, size_index, MEAN_RGB};
use crate::inference::InferenceError;
use crate::preprocess::{normalize_nchw, square_resize, RgbView, SquarePad};
use crate::weights::{WeightMap, WeightsError};

/// The detector run entirely by tract: the reference for `TinyFaceDetector::forward`
/// (the hand-written stem and `conv_gemm`). Graphs are built on first use per input size.
pub struct ReferenceDetector {
    weights: WeightMap,
    nets: [OnceLock<Result<CompiledNet, String>>; 4],
}

impl std::fmt::Debug for ReferenceDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReferenceDetector").finish_non_exhaustive()
    }
}

impl ReferenceDetector {
    /// Checks the detector's weights (names and shapes) and keeps them for the graphs.
    pub fn load(weights: WeightMap) -> Result<Self, WeightsError> {
        for (name, shape) in required() {
            weights.get(&name, &shape)?;
        }
        Ok(ReferenceDetector {
            weights,
            nets: Default::default(),
        })
    }

    /// Raw network output `[25, G, G]` for an image (the whole view), as
    /// `TinyFaceDetector::forward`.
    pub fn forward(&self, image: &RgbView<'_>, size: usize) -> Result<Vec<f32>, InferenceError> {
        let net = self.net(size)?;
        let hwc = square_resize(image, SquarePad::BottomRight, size);
        net.run(normalize_nchw(&hwc, size, MEAN_RGB))
    }

    /// The ops of tract's optimised graph at `size` (for profiling).
    pub fn describe_ops(&self, size: usize) -> Result<Vec<String>, InferenceError> {
        Ok(self.net(size)?.describe_ops())
    }

    fn net(&self, size: usize) -> Result<&CompiledNet, InferenceError> {
        let idx = size_index(size)?;
        self.nets[idx]
            .get_or_init(|| self.build(size).map_err(|e| e.0))
            .as_ref()
            .map_err(|e| InferenceError(e.clone()))
    }

    /// tract's graph of the whole network at `size`.
    fn build(&self, size: usize) -> Result<CompiledNet, InferenceError> {
        let w = |n: &str| {
            let (name, shape) = required()
                .into_iter()
                .find(|(k, _)| k == n)
                .expect("known name");
            self.weights.get(&name, &shape).expect("checked at load")
        };
        let (mut g, x) = GraphBuilder::new([1, 3, size, size]);
        let mut out = g.conv(
            &x,
            w("conv0/filters"),
            Some(&w("conv0/bias").data),
            1,
            Padding::Valid,
        );
        out = g.leaky_relu(&out, 0.1);
        for i in 1..=5 {
            out = g.max_pool(&out, 2, 2, Padding::Same);
            // face-api pads by one pixel, then a "valid" separable conv.
            out = g.separable(
                &out,
                w(&format!("conv{i}/depthwise_filter")),
                w(&format!("conv{i}/pointwise_filter")),
                &w(&format!("conv{i}/bias")).data,
                1,
                Padding::Explicit([1, 1, 1, 1]),
            );
            out = g.leaky_relu(&out, 0.1);
        }
        out = g.max_pool(&out, 2, 1, Padding::Same);
        out = g.conv(
            &out,
            w("conv8/filters"),
            Some(&w("conv8/bias").data),
            1,
            Padding::Valid,
        );
        g.finish(&out)
    }
}
