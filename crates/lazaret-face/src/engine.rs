//! [`FaceEngine`]: the public 1:1 API — `enroll` one photo into a [`Template`], `verify` a
//! check-in's frames against that one template. There is deliberately no call that compares
//! a face with several templates or says who a face is.

use std::path::Path;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::align::Alignment;
use crate::detector::Detection;
use crate::error::FaceError;
use crate::image_input::{decode_rgb, ImageLimits};
use crate::landmarks::{LandmarkModel, Landmarks68};
use crate::liveness::{self, Challenge, FrameEvidence, LivenessConfig, LivenessOutcome};
use crate::models::FaceModels;
use crate::pipeline::{self, DetectionPolicy};
use crate::preprocess::RgbView;
use crate::quality::{self, QualityConfig, QualityReport};
use crate::recognition::euclidean;
use crate::template::{Template, TEMPLATE_VERSION};

/// The false match rate per check-in try that the decision threshold is chosen for
/// (`[face] target_fmr`). Only calibrated targets exist: a threshold for a rate nobody
/// measured would state a guarantee the engine cannot give.
///
/// The decision is on the **mean of the distances** between the template and each frontal
/// frame, at the threshold that gives the target FMR for one photo. A check-in's frames are
/// taken seconds apart, so they are nearly the same photo; frames of a test set are taken days
/// apart. The rule has to hold in both cases. With near-identical frames the mean distance is
/// the one-photo distance: FMR and FNMR are the one-photo rates. With independent frames the
/// mean distance scatters less than one distance, so both rates fall (on lfw-fold1 with three
/// frames: FMR 0.56% and FNMR 0.68% at the 1% threshold, against 1.00% and 1.29% for one
/// photo). A stricter threshold per frame count, or the distance of the mean descriptor (which
/// lets an impostor's frames average towards the template), needs independent frames to keep
/// its FMR and raises the FNMR when frames are alike; the previous rule did that (review of
/// `546d3f5`). Calibration: `lazaret face checkins /work/shared/faces/lfw-fold1`
/// (docs/benchmarks.md, "Check-in-level error rates").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub enum TargetFmr {
    /// FMR ≤ 1% per try (the default): one-photo threshold 0.6157, FNMR 1.29% on the
    /// calibration set.
    OnePercent,
    /// FMR ≤ 0.1% per try: threshold 0.5464, FNMR 8.06%.
    PointOnePercent,
}

impl TargetFmr {
    pub const ALL: [TargetFmr; 2] = [TargetFmr::OnePercent, TargetFmr::PointOnePercent];

    pub fn rate(self) -> f64 {
        match self {
            Self::OnePercent => 0.01,
            Self::PointOnePercent => 0.001,
        }
    }

    /// The one-photo distance threshold that gives this FMR on the calibration set; the
    /// mean distance of a check-in's frontal frames is held to it.
    pub fn threshold(self) -> f32 {
        match self {
            Self::OnePercent => 0.6157,
            Self::PointOnePercent => 0.5464,
        }
    }
}

impl TryFrom<f64> for TargetFmr {
    type Error = String;
    fn try_from(rate: f64) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| (t.rate() - rate).abs() < 1e-12)
            .ok_or_else(|| {
                format!(
                    "{rate} is not a calibrated false match rate; use 0.01 (1%) or 0.001 (0.1%)"
                )
            })
    }
}

impl From<TargetFmr> for f64 {
    fn from(t: TargetFmr) -> f64 {
        t.rate()
    }
}

/// The threshold the liveness check uses to tell that a turned frame shows someone else than
/// the first frame. A turned head is naturally further from a frontal one, so this comparison
/// keeps its own, looser threshold instead of the FMR target's.
pub const IDENTITY_CHANGE_THRESHOLD: f32 = 0.6;

/// Engine settings. The defaults are the calibrated ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineConfig {
    pub detection: DetectionPolicy,
    pub alignment: Alignment,
    /// Average the descriptors of the chip and its mirror image (dlib alignment). Off by
    /// default: it doubles the recognition cost, and over lfw-fold1, deepface and crops
    /// together it classifies exactly as many pairs correctly as one pass at 0.60 (1,852 of
    /// 1,900 either way; docs/benchmarks-history.md, "Default: one recognition pass").
    pub flip_average: bool,
    /// Average the landmarks with those of the mirrored face crop (steadier alignment).
    pub landmark_mirror_average: bool,
    /// Which landmark net places the 68 points (the tiny one by default).
    #[serde(default)]
    pub landmark_model: LandmarkModel,
    /// The false match rate the thresholds are chosen for (default 1% per try).
    pub target_fmr: TargetFmr,
    /// A fixed threshold instead of the target's (for experiments with another alignment or
    /// model, which the calibration does not cover).
    pub threshold: Option<f32>,
    pub limits: ImageLimits,
    pub quality: QualityConfig,
    pub liveness: LivenessConfig,
}

impl EngineConfig {
    /// Same person when the mean distance of the frontal frames is at most this.
    pub fn decision_threshold(&self) -> f32 {
        self.threshold
            .unwrap_or_else(|| self.target_fmr.threshold())
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            detection: DetectionPolicy::default(),
            alignment: Alignment::Dlib,
            flip_average: false,
            landmark_mirror_average: true,
            landmark_model: LandmarkModel::Tiny,
            target_fmr: TargetFmr::OnePercent,
            threshold: None,
            limits: ImageLimits::default(),
            quality: QualityConfig::default(),
            liveness: LivenessConfig::default(),
        }
    }
}

/// Everything measured on the single face of one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceAnalysis {
    pub width: usize,
    pub height: usize,
    /// Detector input size that found the face.
    pub input_size: usize,
    pub detection: Detection,
    pub landmarks: Landmarks68,
    pub quality: QualityReport,
    pub yaw: f64,
    pub descriptor: Vec<f32>,
    #[serde(skip)]
    thumbnail: Vec<u8>,
}

/// One face found by [`FaceEngine::inspect`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectedFace {
    pub detection: Detection,
    pub landmarks: Option<Landmarks68>,
    pub quality: QualityReport,
    pub yaw: Option<f64>,
}

/// All faces of a photo (no descriptors: inspection never identifies anyone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    pub width: usize,
    pub height: usize,
    pub input_size: usize,
    pub faces: Vec<InspectedFace>,
}

/// The outcome of a check-in. A person decides what follows; this is evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The frames show the enrolled person (and liveness passed, if asked).
    Match,
    /// They do not, or liveness found a different person or a replay.
    NoMatch,
    /// The capture was not usable (no face, poor quality, pose not followed): ask again.
    Retry,
}

/// What a verdict rests on, most telling first: a caller that must say why (the check-in's
/// outcome) maps it one-to-one instead of working it out again from the distances and issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// The enrolled person, live if a challenge was asked.
    Match,
    /// A frame shows more than one face (outranks the findings below).
    MultipleFaces,
    /// A frame shows no face.
    NoFace,
    /// A frame is too poor to use, or the capture is unusable for another reason.
    LowQuality,
    /// Not the enrolled person: the distance is above the threshold, or another person
    /// appears in a turned frame.
    NotEnrolledPerson,
    /// The challenge was not answered by a live face (poses not followed, copied frames,
    /// a replay of the enrolment photo).
    LivenessFailed,
}

/// Result of [`FaceEngine::verify`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub decision: Decision,
    /// Why, typed (see [`Finding`]).
    pub finding: Finding,
    /// The mean distance between the template and each frontal frame (None if
    /// no usable frame).
    pub distance: Option<f32>,
    /// The threshold applied.
    pub threshold: f32,
    /// How many frontal frames were compared.
    pub frontal_frames: usize,
    pub liveness: Option<LivenessOutcome>,
    /// Quality of each frame (None where no single face was found).
    pub quality: Vec<Option<QualityReport>>,
    /// Plain-language reasons behind the decision.
    pub reasons: Vec<String>,
}

/// Loaded models plus settings. Send + Sync: share it behind an `Arc`.
#[derive(Debug)]
pub struct FaceEngine {
    models: FaceModels,
    config: EngineConfig,
}

fn thumbnail(image: &RgbView<'_>, det: &Detection) -> Vec<u8> {
    const N: usize = 32;
    let b = det.bbox;
    let mut out = Vec::with_capacity(N * N);
    for r in 0..N {
        let y = (b.y + (r as f64 + 0.5) * b.height / N as f64).clamp(0.0, image.height as f64 - 1.0)
            as usize;
        for c in 0..N {
            let x = (b.x + (c as f64 + 0.5) * b.width / N as f64)
                .clamp(0.0, image.width as f64 - 1.0) as usize;
            let g = (image.get(x, y, 0) as u32 * 299
                + image.get(x, y, 1) as u32 * 587
                + image.get(x, y, 2) as u32 * 114)
                / 1000;
            out.push(g as u8);
        }
    }
    out
}

impl FaceEngine {
    pub fn new(models: FaceModels, config: EngineConfig) -> Self {
        FaceEngine { models, config }
    }

    /// Loads the models from `dir`, fetching them with npm first when missing, and settles the
    /// kernel path (measured once per process, or `LAZARET_FACE_ISA`; see [`crate::simd`]),
    /// so that a bad override stops the load instead of the first photo.
    pub fn load(dir: &Path, config: EngineConfig) -> Result<Self, FaceError> {
        crate::simd::choice()?;
        let models = FaceModels::ensure_and_load_with(dir, config.landmark_model)?;
        Ok(Self::new(models, config))
    }

    /// Loads from the default models folder (see [`crate::models_fetch::default_models_dir`]).
    pub fn load_default() -> Result<Self, FaceError> {
        Self::load(
            &crate::models_fetch::default_models_dir(),
            EngineConfig::default(),
        )
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn models(&self) -> &FaceModels {
        &self.models
    }

    /// Tag stored in templates: networks, package version, alignment.
    pub fn model_tag(&self) -> String {
        let align = match self.config.alignment {
            Alignment::Dlib => "dlib",
            Alignment::FaceApi => "faceapi",
        };
        let flip = if self.config.flip_average && self.config.alignment == Alignment::Dlib {
            "+flip"
        } else {
            ""
        };
        let lm = if self.config.landmark_mirror_average {
            "+lmflip"
        } else {
            ""
        };
        let net = self.models.landmarks.model().tag();
        format!("face-api-1.7.15/tfd+{net}+frn/align={align}{flip}{lm}")
    }

    /// Decodes untrusted bytes within the configured limits.
    pub fn decode(&self, bytes: &[u8]) -> Result<RgbImage, FaceError> {
        decode_rgb(bytes, &self.config.limits)
    }

    /// The single face of a photo: detection, landmarks, quality, yaw and descriptor.
    pub fn analyze(&self, bytes: &[u8]) -> Result<FaceAnalysis, FaceError> {
        let img = self.decode(bytes)?;
        self.analyze_image(&img)
    }

    /// As [`Self::analyze`], on decoded pixels.
    pub fn analyze_image(&self, img: &RgbImage) -> Result<FaceAnalysis, FaceError> {
        let view = RgbView::new(img.as_raw(), img.width() as usize, img.height() as usize);
        let (size, dets) = pipeline::find_faces(&self.models, &view, &self.config.detection)?;
        let det = pipeline::single_face(&dets, &self.config.detection, view.width, view.height)?;
        let lm = pipeline::landmarks(
            &self.models,
            &view,
            &det,
            self.config.landmark_mirror_average,
        )?;
        let (descriptor, _) = pipeline::descriptor(
            &self.models,
            &view,
            &lm,
            self.config.alignment,
            self.config.flip_average,
        )?;
        Ok(FaceAnalysis {
            width: view.width,
            height: view.height,
            input_size: size,
            detection: det,
            quality: quality::assess(&view, &det.bbox, Some(&lm), &self.config.quality),
            yaw: liveness::yaw(&lm),
            landmarks: lm,
            descriptor,
            thumbnail: thumbnail(&view, &det),
        })
    }

    /// Every face in a photo with landmarks and quality (for diagnostics; no descriptors).
    pub fn inspect(&self, bytes: &[u8]) -> Result<Inspection, FaceError> {
        let img = self.decode(bytes)?;
        let view = RgbView::new(img.as_raw(), img.width() as usize, img.height() as usize);
        let (size, dets) = pipeline::find_faces(&self.models, &view, &self.config.detection)?;
        let mut faces = Vec::with_capacity(dets.len());
        for det in dets {
            let lm = self.models.landmarks.detect(&view, &det.bbox)?;
            faces.push(InspectedFace {
                detection: det,
                quality: quality::assess(&view, &det.bbox, lm.as_ref(), &self.config.quality),
                yaw: lm.as_ref().map(liveness::yaw),
                landmarks: lm,
            });
        }
        Ok(Inspection {
            width: view.width,
            height: view.height,
            input_size: size,
            faces,
        })
    }

    /// Enrols one photo: exactly one face of acceptable quality.
    pub fn enroll(&self, bytes: &[u8]) -> Result<Template, FaceError> {
        let a = self.analyze(bytes)?;
        if !a.quality.ok() {
            return Err(FaceError::PoorQuality {
                issues: a.quality.issues.clone(),
            });
        }
        Ok(self.template_of(&a))
    }

    /// The template of an analysed face (no quality gate; for evaluation tools).
    pub fn template_of(&self, a: &FaceAnalysis) -> Template {
        Template {
            version: TEMPLATE_VERSION,
            model: self.model_tag(),
            descriptor: a.descriptor.clone(),
        }
    }

    /// A template made by this engine's model and variant, and one frame per pose.
    fn check_inputs(
        &self,
        template: &Template,
        frames: usize,
        challenge: Option<&Challenge>,
    ) -> Result<(), FaceError> {
        if template.model != self.model_tag() {
            return Err(FaceError::TemplateMismatch {
                found: template.model.clone(),
                expected: self.model_tag(),
            });
        }
        check_frame_count(frames, challenge)
    }

    /// Verifies a check-in's frames against the enrolled template (1:1). With a challenge,
    /// `frames[i]` answers `challenge.poses[i]` and liveness is checked too.
    pub fn verify(
        &self,
        template: &Template,
        frames: &[&[u8]],
        challenge: Option<&Challenge>,
    ) -> Result<Verdict, FaceError> {
        // Before the expensive part: a wrong template or count fails without analysing anything.
        self.check_inputs(template, frames.len(), challenge)?;
        let analyses: Vec<Result<FaceAnalysis, FaceError>> =
            frames.iter().map(|f| self.analyze(f)).collect();
        self.verify_analyses(template, &analyses, challenge)
    }

    /// [`FaceEngine::verify`] on frames already analysed (one result per frame, in order), for
    /// a caller that decoded them itself and needs each frame's error afterwards.
    pub fn verify_analyses(
        &self,
        template: &Template,
        analyses: &[Result<FaceAnalysis, FaceError>],
        challenge: Option<&Challenge>,
    ) -> Result<Verdict, FaceError> {
        self.check_inputs(template, analyses.len(), challenge)?;
        let mut reasons = Vec::new();
        let mut retry = false;
        let mut no_match = false;
        for (i, a) in analyses.iter().enumerate() {
            match a {
                Err(e) => {
                    retry = true;
                    reasons.push(format!("frame {i}: {e}"));
                }
                Ok(a) if !a.quality.ok() => {
                    retry = true;
                    for q in &a.quality.issues {
                        reasons.push(format!("frame {i}: {}", q.advice()));
                    }
                }
                Ok(_) => {}
            }
        }
        // The mean distance of the frontal frames (turned heads are naturally further away):
        // see `TargetFmr` for why the mean of the distances at the one-photo threshold.
        let frontal: Vec<f32> = analyses
            .iter()
            .enumerate()
            .filter(|(i, _)| challenge.is_none_or(|c| c.poses[*i] == liveness::HeadPose::Center))
            .filter_map(|(_, a)| a.as_ref().ok())
            .map(|a| euclidean(&template.descriptor, &a.descriptor))
            .collect();
        let threshold = self.config.decision_threshold();
        let distance =
            (!frontal.is_empty()).then(|| frontal.iter().sum::<f32>() / frontal.len() as f32);
        match distance {
            Some(d) if d > threshold => {
                no_match = true;
                reasons.push(format!("distance {d:.3} is above the threshold {threshold:.3}: not the enrolled person"));
            }
            Some(d) => reasons.push(format!(
                "distance {d:.3} is within the threshold {threshold:.3}"
            )),
            None => {
                retry = true;
                reasons.push("no frontal frame with a usable face".into());
            }
        }
        let live = challenge.map(|c| {
            let evidence: Vec<Result<FrameEvidence, String>> = analyses
                .iter()
                .map(|a| match a {
                    Ok(a) => Ok(FrameEvidence {
                        yaw: a.yaw,
                        descriptor: a.descriptor.clone(),
                        thumbnail: a.thumbnail.clone(),
                    }),
                    Err(e) => Err(e.code().to_string()),
                })
                .collect();
            liveness::check(
                c,
                &evidence,
                &template.descriptor,
                self.config.threshold.unwrap_or(IDENTITY_CHANGE_THRESHOLD),
                &self.config.liveness,
            )
        });
        if let Some(l) = &live {
            for issue in &l.issues {
                use liveness::LivenessIssue as L;
                match issue {
                    L::IdentityChanged { .. }
                    | L::NearDuplicateFrames { .. }
                    | L::ReplayOfEnrolment { .. } => no_match = true,
                    _ => retry = true,
                }
                reasons.push(format!(
                    "liveness: {}",
                    serde_json::to_string(issue).unwrap_or_default()
                ));
            }
        }
        let decision = if no_match {
            Decision::NoMatch
        } else if retry {
            Decision::Retry
        } else {
            Decision::Match
        };
        let finding = finding(analyses, distance, threshold, live.as_ref(), decision);
        Ok(Verdict {
            decision,
            finding,
            distance,
            threshold,
            frontal_frames: frontal.len(),
            liveness: live,
            quality: analyses
                .iter()
                .map(|a| a.as_ref().ok().map(|a| a.quality.clone()))
                .collect(),
            reasons,
        })
    }
}

/// The finding behind a verdict. A capture problem comes first (the person can retake it; multiple
/// faces outrank no face outranks low quality), then another person, then failed liveness.
fn finding(
    analyses: &[Result<FaceAnalysis, FaceError>],
    distance: Option<f32>,
    threshold: f32,
    live: Option<&LivenessOutcome>,
    decision: Decision,
) -> Finding {
    let capture = |a: &Result<FaceAnalysis, FaceError>| match a {
        Ok(a) if a.quality.ok() => None,
        Ok(_) => Some(Finding::LowQuality),
        Err(FaceError::NoFace) => Some(Finding::NoFace),
        Err(FaceError::MultipleFaces { .. }) => Some(Finding::MultipleFaces),
        Err(_) => Some(Finding::LowQuality),
    };
    let rank = |f: &Finding| match f {
        Finding::MultipleFaces => 3,
        Finding::NoFace => 2,
        _ => 1,
    };
    if let Some(worst) = analyses.iter().filter_map(capture).max_by_key(rank) {
        return worst;
    }
    let identity_changed = live.is_some_and(|l| {
        l.issues
            .iter()
            .any(|i| matches!(i, liveness::LivenessIssue::IdentityChanged { .. }))
    });
    if distance.is_some_and(|d| d > threshold) || identity_changed {
        Finding::NotEnrolledPerson
    } else if live.is_some_and(|l| !l.passed) {
        Finding::LivenessFailed
    } else if decision != Decision::Match {
        Finding::LowQuality
    } else {
        Finding::Match
    }
}

/// One frame per challenge pose, or 1..=MAX_FRAMES without a challenge (the rule is
/// `Challenge::frames_expected`, the one the server checks before a try is spent).
fn check_frame_count(got: usize, challenge: Option<&Challenge>) -> Result<(), FaceError> {
    let expected = Challenge::frames_expected(challenge);
    if !expected.contains(&got) {
        return Err(FaceError::FrameCount {
            got,
            min: *expected.start(),
            max: *expected.end(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_problem_is_the_finding_multiple_faces_first() {
        let no_face = || Err(FaceError::NoFace);
        let frames = [no_face(), Err(FaceError::FaceOutOfFrame), no_face()];
        let f = finding(&frames, None, 0.6, None, Decision::Retry);
        assert_eq!(f, Finding::NoFace);
        let frames = [
            no_face(),
            Err(FaceError::MultipleFaces { count: 2 }),
            Err(FaceError::FaceOutOfFrame),
        ];
        let f = finding(&frames, None, 0.6, None, Decision::Retry);
        assert_eq!(f, Finding::MultipleFaces);
        let frames = [Err(FaceError::FaceOutOfFrame)];
        let f = finding(&frames, None, 0.6, None, Decision::Retry);
        assert_eq!(f, Finding::LowQuality);
    }

    #[test]
    fn the_threshold_follows_the_target_unless_one_is_fixed() {
        for t in TargetFmr::ALL {
            assert_eq!(TargetFmr::try_from(t.rate()), Ok(t));
        }
        assert!(TargetFmr::PointOnePercent.threshold() < TargetFmr::OnePercent.threshold());
        let err = TargetFmr::try_from(0.05).unwrap_err();
        assert!(err.contains("0.01") && err.contains("0.001"), "{err}");
        let mut c = EngineConfig::default();
        assert_eq!(c.decision_threshold(), TargetFmr::OnePercent.threshold());
        c.target_fmr = TargetFmr::PointOnePercent;
        assert_eq!(c.decision_threshold(), 0.5464);
        c.threshold = Some(0.5);
        assert_eq!(c.decision_threshold(), 0.5);
    }

    #[test]
    fn engine_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<FaceEngine>();
    }
}
