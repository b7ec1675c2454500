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
    /// What to do when several sizeable faces are found.
    pub multiple_faces: MultipleFaces,
    /// When no size finds a face, retry once on the image with a border added.
    pub pad_fallback: bool,
}

/// Policy for photos with more than one sizeable face.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MultipleFaces {
    /// Refuse with `multiple_faces` (enrolment and check-ins: someone else is in frame).
    #[default]
    Refuse,
    /// Use the face nearest the image centre (evaluation on photo collections such as LFW,
    /// whose subject is by definition the centred face).
    UseCentral,
}

impl Default for DetectionPolicy {
    fn default() -> Self {
        DetectionPolicy {
            sizes: vec![320, 224, 416, 608],
            score_threshold: 0.5,
            secondary_face_ratio: 0.35,
            multiple_faces: MultipleFaces::Refuse,
            pad_fallback: true,
        }
    }
}

impl DetectionPolicy {
    /// face-api.js's own behaviour: 320 only, threshold 0.5 (for parity runs).
    pub fn faceapi() -> Self {
        DetectionPolicy {
            sizes: vec![320],
            pad_fallback: false,
            ..Default::default()
        }
    }
}

/// Faces found at the first input size that finds any; `(size, detections)`.
pub fn find_faces(
    models: &FaceModels,
    image: &RgbView<'_>,
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
    if policy.pad_fallback && image.width * image.height <= PAD_FALLBACK_MAX_PIXELS {
        return find_faces_padded(models, image, policy);
    }
    Ok((last, Vec::new()))
}

/// Largest image (pixels) that the padded fallback copies.
const PAD_FALLBACK_MAX_PIXELS: usize = 4_000_000;

/// A face that fills the whole frame (a close selfie, a tight crop) is often missed: the
/// detector was trained on faces with context. Retry on a copy with a grey border of a
/// quarter of the longer side all round, and map the boxes back.
fn find_faces_padded(
    models: &FaceModels,
    image: &RgbView<'_>,
    policy: &DetectionPolicy,
) -> Result<(usize, Vec<Detection>), FaceError> {
    let pad = image.width.max(image.height) / 4;
    let (w, h) = (image.width + 2 * pad, image.height + 2 * pad);
    let mut data = vec![128u8; w * h * 3];
    for y in 0..image.height {
        for x in 0..image.width {
            for c in 0..3 {
                data[((y + pad) * w + x + pad) * 3 + c] = image.get(x, y, c);
            }
        }
    }
    let padded = RgbView::new(&data, w, h);
    let mut last = 0;
    for &size in &policy.sizes {
        last = size;
        let cfg = DetectorConfig {
            input_size: size,
            score_threshold: policy.score_threshold,
        };
        let mut dets = models.detector.detect(&padded, &cfg)?;
        if !dets.is_empty() {
            for d in &mut dets {
                d.bbox.x -= pad as f64;
                d.bbox.y -= pad as f64;
            }
            return Ok((size, dets));
        }
    }
    Ok((last, Vec::new()))
}

/// The one face of the photo: the best-scoring detection, unless another sizeable face is
/// present (then refused, or the central face is taken, as the policy says).
pub fn single_face(
    dets: &[Detection],
    policy: &DetectionPolicy,
    width: usize,
    height: usize,
) -> Result<Detection, FaceError> {
    let main = *dets.first().ok_or(FaceError::NoFace)?;
    let sizeable: Vec<&Detection> = dets
        .iter()
        .filter(|d| d.bbox.area() >= policy.secondary_face_ratio * main.bbox.area())
        .collect();
    if sizeable.len() == 1 {
        return Ok(main);
    }
    match policy.multiple_faces {
        MultipleFaces::Refuse => Err(FaceError::MultipleFaces {
            count: sizeable.len(),
        }),
        MultipleFaces::UseCentral => {
            let (cx, cy) = (width as f64 / 2.0, height as f64 / 2.0);
            let off = |d: &Detection| {
                let (x, y) = (
                    d.bbox.x + d.bbox.width / 2.0,
                    d.bbox.y + d.bbox.height / 2.0,
                );
                (x - cx).powi(2) + (y - cy).powi(2)
            };
            Ok(**sizeable
                .iter()
                .min_by(|a, b| off(a).total_cmp(&off(b)))
                .expect("non-empty"))
        }
    }
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

/// Landmarks for `det`; with `mirror_average`, averaged with the mirrored crop's.
pub fn landmarks(
    models: &FaceModels,
    image: &RgbView<'_>,
    det: &Detection,
    mirror_average: bool,
) -> Result<Landmarks68, FaceError> {
    let lm = if mirror_average {
        models.landmarks.detect_mirror_averaged(image, &det.bbox)?
    } else {
        models.landmarks.detect(image, &det.bbox)?
    };
    lm.ok_or(FaceError::FaceOutOfFrame)
}

/// The descriptor of the face with landmarks `lm`, cut out as `alignment` says. With
/// `flip_average` (dlib alignment only) the descriptor is the mean of the chip's and its
/// mirror image's: a second recognition pass that removes much of the pose noise
/// (lfw-fold1 at the default threshold: 99.00% -> 99.33%; see docs/benchmarks-history.md).
pub fn descriptor(
    models: &FaceModels,
    image: &RgbView<'_>,
    lm: &Landmarks68,
    alignment: Alignment,
    flip_average: bool,
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
            if !flip_average {
                return Ok((models.recognition.descriptor_of_chip(&chip)?, None));
            }
            // The chip and its mirror image in one batch (the net's last stage reads its
            // weights once for both).
            let flipped = align::flip_chip(&chip, crate::recognition::INPUT_SIZE);
            let mut both = models
                .recognition
                .descriptors_of_chips(&[&chip, &flipped])?;
            let f = both.pop().expect("two descriptors");
            let mut d = both.pop().expect("two descriptors");
            d.iter_mut().zip(f).for_each(|(a, b)| *a = (*a + b) / 2.0);
            Ok((d, None))
        }
    }
}

/// Landmarks + descriptor for one detection.
pub fn describe(
    models: &FaceModels,
    image: &RgbView<'_>,
    det: &Detection,
    alignment: Alignment,
    flip_average: bool,
) -> Result<FaceDescription, FaceError> {
    let lm = landmarks(models, image, det, false)?;
    let (d, b) = descriptor(models, image, &lm, alignment, flip_average)?;
    Ok(FaceDescription {
        detection: *det,
        landmarks: lm,
        align_box: b,
        descriptor: d,
    })
}
