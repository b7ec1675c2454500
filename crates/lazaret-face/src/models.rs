//! The three networks, loaded together from a models folder.

use std::path::Path;

use crate::detector::TinyFaceDetector;
use crate::inference::InferenceError;
use crate::landmarks::{LandmarkModel, LandmarkNet, NetLoadError};
use crate::models_fetch::{self, FetchError};
use crate::recognition::RecognitionNet;
use crate::weights::{WeightMap, WeightsError};

/// Why the models could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("bad model weights: {0}")]
    Weights(#[from] WeightsError),
    #[error(transparent)]
    Inference(#[from] InferenceError),
}

impl From<NetLoadError> for ModelError {
    fn from(e: NetLoadError) -> Self {
        match e {
            NetLoadError::Weights(w) => ModelError::Weights(w),
            NetLoadError::Inference(i) => ModelError::Inference(i),
        }
    }
}

/// Detector, landmark net and recognition net. Immutable once loaded; Send + Sync.
#[derive(Debug)]
pub struct FaceModels {
    pub detector: TinyFaceDetector,
    pub landmarks: LandmarkNet,
    pub recognition: RecognitionNet,
}

impl FaceModels {
    /// Loads the three models from `dir` (which must hold the extracted files), with the
    /// default (tiny) landmark net.
    pub fn load_dir(dir: &Path) -> Result<Self, ModelError> {
        Self::load_dir_with(dir, LandmarkModel::default())
    }

    /// As [`Self::load_dir`], with the landmark net `landmarks`.
    pub fn load_dir_with(dir: &Path, landmarks: LandmarkModel) -> Result<Self, ModelError> {
        let det = WeightMap::load(&dir.join(models_fetch::DETECTOR_MANIFEST))?;
        let lm = WeightMap::load(&dir.join(landmarks.manifest()))?;
        let rec = WeightMap::load(&dir.join(models_fetch::RECOGNITION_MANIFEST))?;
        Ok(FaceModels {
            detector: TinyFaceDetector::load(&det)?,
            landmarks: LandmarkNet::load(&lm, landmarks)?,
            recognition: RecognitionNet::load(&rec)?,
        })
    }

    /// Fetches the models into `dir` when missing (npm), then loads them.
    pub fn ensure_and_load(dir: &Path) -> Result<Self, ModelError> {
        Self::ensure_and_load_with(dir, LandmarkModel::default())
    }

    /// As [`Self::ensure_and_load`], with the landmark net `landmarks`.
    pub fn ensure_and_load_with(dir: &Path, landmarks: LandmarkModel) -> Result<Self, ModelError> {
        match landmarks {
            LandmarkModel::Tiny => models_fetch::ensure_models(dir)?,
            LandmarkModel::Full => models_fetch::ensure_all_models(dir)?,
        };
        Self::load_dir_with(dir, landmarks)
    }
}
