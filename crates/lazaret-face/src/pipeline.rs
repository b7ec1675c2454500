//! The per-image steps shared by enrolment, check-ins and the CLI: find faces (with a
//! fallback over input sizes), require exactly one, then landmarks, alignment, descriptor.

use serde::{Deserialize, Serialize};

use crate::align::{self, Alignment};
use crate::detector::{Detection, DetectorConfig};
use crate::error::FaceError;
use crate::landmarks::Landmarks68;
use crate::models::FaceModels;
use crate::preprocess::RgbView;

/// How faces are searched for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectionPolicy {
    /// Input sizes tried in order; the first that finds a face wins. face-api.js uses 320
    /// alone; the fallback to 224 and 416 recovers most faces 320 misses (on LFW: 38 of 868
    /// golden images have no face at 320, 2 have none at any of 320/224/416).
    pub sizes: Vec<usize>,
    pub score_threshold: f64,
    /// Another face counts (making the photo "multiple faces") when its box area is at least
    /// this fraction of the main face's. Small faces far in the background are ignored.
    pub secondary_face_ratio: f64,
}

impl Default for DetectionPolicy {
    fn default() -> Self {
        DetectionPolicy {
            sizes: vec![320, 224, 416, 608],
            score_threshold: 0.5,
            secondary_face_ratio: 0.35,
        }
    }
}

impl DetectionPolicy {
    /// face-api.js's own behaviour: 320 only, threshold 0.5 (for parity runs).
    pub fn faceapi() -> Self {
        DetectionPolicy {
            sizes: vec![320],
            ..Default::default()
        }
    }
}

/// Faces found at the first input size that finds any; `(size, detections)`.
pub fn find_faces(
    models: &FaceModels,
    image: &RgbView,
    policy: &DetectionPolicy,
) -> Result<(usize, Vec<Detection>), FaceError> {
    let mut last = 0;
    for &size in &policy.sizes {
        last = size;
        let cfg = DetectorConfig {
            input_size: size,
            score_threshold: policy.score_threshold,
        };
        let dets = models.detector.detect(image, &cfg)?;
        if !dets.is_empty() {
            return Ok((size, dets));
        }
    }
    Ok((last, Vec::new()))
}

/// The one face of the photo: the best-scoring detection, unless another sizeable face is
/// present.
pub fn single_face(dets: &[Detection], policy: &DetectionPolicy) -> Result<Detection, FaceError> {
    let main = *dets.first().ok_or(FaceError::NoFace)?;
    let count = dets
        .iter()
        .filter(|d| d.bbox.area() >= policy.secondary_face_ratio * main.bbox.area())
        .count();
    if count > 1 {
        return Err(FaceError::MultipleFaces { count });
    }
    Ok(main)
}

/// Landmarks and descriptor of one detected face.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceDescription {
    pub detection: Detection,
    pub landmarks: Landmarks68,
    /// face-api alignment: the align box `[x, y, w, h]` before clipping.
    pub align_box: Option<[f64; 4]>,
    pub descriptor: Vec<f32>,
}

/// Landmarks for `det`.
pub fn landmarks(
    models: &FaceModels,
    image: &RgbView,
    det: &Detection,
) -> Result<Landmarks68, FaceError> {
    models
        .landmarks
        .detect(image, &det.bbox)?
        .ok_or(FaceError::FaceOutOfFrame)
}

/// The descriptor of the face with landmarks `lm`, cut out as `alignment` says.
pub fn descriptor(
    models: &FaceModels,
    image: &RgbView,
    lm: &Landmarks68,
    alignment: Alignment,
) -> Result<(Vec<f32>, Option<[f64; 4]>), FaceError> {
    match alignment {
        Alignment::FaceApi => {
            let b = align::faceapi_align_box(lm);
            let r = align::clip_region(b, image.width, image.height)
                .ok_or(FaceError::FaceOutOfFrame)?;
            let region = image.crop(r[0], r[1], r[2], r[3]);
            Ok((models.recognition.descriptor(&region)?, Some(b)))
        }
        Alignment::Dlib => {
            let chip = align::dlib_chip(image, lm);
            Ok((models.recognition.descriptor_of_chip(&chip)?, None))
        }
    }
}

/// Landmarks + descriptor for one detection.
pub fn describe(
    models: &FaceModels,
    image: &RgbView,
    det: &Detection,
    alignment: Alignment,
) -> Result<FaceDescription, FaceError> {
    let lm = landmarks(models, image, det)?;
    let (d, b) = descriptor(models, image, &lm, alignment)?;
    Ok(FaceDescription {
        detection: *det,
        landmarks: lm,
        align_box: b,
        descriptor: d,
    })
}
