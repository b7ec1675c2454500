//! Active liveness: the check-in answers a random head-turn challenge with 3–5 frames.
//!
//! Checks: the yaw estimated from the landmarks moves as asked (relative to the first,
//! frontal frame); every frame shows the same person (descriptor distance); no two frames
//! are near-identical copies, and no frame is a copy of the enrolment photo (replay).
//!
//! Directions are in the subject's terms on the image as the camera captured it (not a
//! mirrored preview): when the person turns to their left, their nose moves towards the
//! image's right, and the yaw estimate grows.

use serde::{Deserialize, Serialize};

use crate::landmarks::Landmarks68;

/// The challenge is a domain type (`lazaret_core::challenge`): the prompt stores it and the
/// server checks the frame count against it; the engine answers it.
pub use lazaret_core::challenge::{Challenge, ChallengeError, HeadPose, MAX_FRAMES, MIN_FRAMES};

/// Thresholds for the liveness checks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LivenessConfig {
    /// A turn must move the yaw estimate this far from the frontal frame (yaw in −1..1).
    pub min_turn: f64,
    /// A "center" frame must stay within this of the first frame's yaw.
    pub center_tolerance: f64,
    /// Two frames whose face thumbnails differ by less than this (mean absolute grey level)
    /// are copies.
    pub min_frame_difference: f64,
    /// A frame closer than this (descriptor distance) to the template is a copy of the
    /// enrolment photo: two real captures of a person are never this close.
    pub replay_distance: f32,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        LivenessConfig {
            min_turn: 0.2,
            center_tolerance: 0.15,
            min_frame_difference: 1.0,
            replay_distance: 0.05,
        }
    }
}

/// Why liveness failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum LivenessIssue {
    FrameCountMismatch {
        expected: usize,
        got: usize,
    },
    NoFaceInFrame {
        frame: usize,
        error: String,
    },
    PoseNotFollowed {
        frame: usize,
        expected: HeadPose,
        yaw_change: f64,
    },
    IdentityChanged {
        frame: usize,
        distance: f32,
    },
    NearDuplicateFrames {
        first: usize,
        second: usize,
    },
    ReplayOfEnrolment {
        frame: usize,
        distance: f32,
    },
}

/// The liveness result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivenessOutcome {
    pub passed: bool,
    pub yaws: Vec<Option<f64>>,
    pub issues: Vec<LivenessIssue>,
}

/// Yaw in −1..1 from the landmarks: where the nose tip lies between the two jaw ends,
/// measured along the eye line (so a tilted head does not read as a turn). 0 is frontal;
/// positive when the nose is towards the image's right (the subject turned to their left).
pub fn yaw(lm: &Landmarks68) -> f64 {
    let (le, re) = (lm.left_eye(), lm.right_eye());
    let (ux, uy) = (re.x - le.x, re.y - le.y);
    let n = (ux * ux + uy * uy).sqrt().max(1e-9);
    let (ux, uy) = (ux / n, uy / n);
    let along = |p: crate::landmarks::Point| p.x * ux + p.y * uy;
    let a = along(lm.points[0]);
    let b = along(lm.points[16]);
    let t = (along(lm.nose_tip()) - a) / (b - a).abs().max(1e-9);
    (2.0 * t - 1.0).clamp(-1.0, 1.0)
}

/// What liveness needs to know about one frame.
#[derive(Debug, Clone)]
pub struct FrameEvidence {
    pub yaw: f64,
    pub descriptor: Vec<f32>,
    /// 32×32 grey thumbnail of the face box.
    pub thumbnail: Vec<u8>,
}

/// Mean absolute difference of two thumbnails.
pub fn thumbnail_difference(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .sum::<f64>()
        / a.len().max(1) as f64
}

/// Runs the checks. `frames[i]` answers `challenge.poses[i]`; `Err` holds the frame's error code.
pub fn check(
    challenge: &Challenge,
    frames: &[Result<FrameEvidence, String>],
    template: &[f32],
    identity_threshold: f32,
    cfg: &LivenessConfig,
) -> LivenessOutcome {
    let mut issues = Vec::new();
    if frames.len() != challenge.poses.len() {
        issues.push(LivenessIssue::FrameCountMismatch {
            expected: challenge.poses.len(),
            got: frames.len(),
        });
    }
    for (i, f) in frames.iter().enumerate() {
        if let Err(e) = f {
            issues.push(LivenessIssue::NoFaceInFrame {
                frame: i,
                error: e.clone(),
            });
        }
    }
    let yaws: Vec<Option<f64>> = frames
        .iter()
        .map(|f| f.as_ref().ok().map(|e| e.yaw))
        .collect();
    if let Some(Ok(base)) = frames.first() {
        for (i, (f, pose)) in frames.iter().zip(&challenge.poses).enumerate().skip(1) {
            let Ok(f) = f else { continue };
            let change = f.yaw - base.yaw;
            let followed = match pose {
                HeadPose::Center => change.abs() <= cfg.center_tolerance,
                HeadPose::Left => change >= cfg.min_turn,
                HeadPose::Right => change <= -cfg.min_turn,
            };
            if !followed {
                issues.push(LivenessIssue::PoseNotFollowed {
                    frame: i,
                    expected: *pose,
                    yaw_change: change,
                });
            }
        }
    }
    let ok: Vec<(usize, &FrameEvidence)> = frames
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.as_ref().ok().map(|f| (i, f)))
        .collect();
    for (k, &(i, a)) in ok.iter().enumerate() {
        // Same person throughout: every frame close to the first usable one.
        if k > 0 {
            let d = crate::recognition::euclidean(&ok[0].1.descriptor, &a.descriptor);
            if d > identity_threshold {
                issues.push(LivenessIssue::IdentityChanged {
                    frame: i,
                    distance: d,
                });
            }
        }
        for &(j, b) in &ok[k + 1..] {
            if thumbnail_difference(&a.thumbnail, &b.thumbnail) < cfg.min_frame_difference {
                issues.push(LivenessIssue::NearDuplicateFrames {
                    first: i,
                    second: j,
                });
            }
        }
        let d = crate::recognition::euclidean(template, &a.descriptor);
        if d < cfg.replay_distance {
            issues.push(LivenessIssue::ReplayOfEnrolment {
                frame: i,
                distance: d,
            });
        }
    }
    LivenessOutcome {
        passed: issues.is_empty(),
        yaws,
        issues,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(yaw: f64, d0: f32, thumb: u8) -> Result<FrameEvidence, String> {
        let mut descriptor = vec![0.0; 128];
        descriptor[0] = d0;
        Ok(FrameEvidence {
            yaw,
            descriptor,
            thumbnail: vec![thumb; 1024],
        })
    }

    #[test]
    fn checks_pose_identity_duplicates_and_replay() {
        let c =
            Challenge::new("x", vec![HeadPose::Center, HeadPose::Left, HeadPose::Right]).unwrap();
        let t = vec![0.3; 128];
        let mut tpl = t.clone();
        tpl[0] = 5.0; // far from every frame: no replay
        let cfg = LivenessConfig::default();
        let good = [ev(0.0, 0.0, 10), ev(0.4, 0.1, 40), ev(-0.4, 0.05, 80)];
        let _ = t;
        let tpl_near = vec![0.0; 128];
        let out = check(&c, &good, &tpl_near, 0.6, &cfg);
        assert!(out
            .issues
            .iter()
            .any(|i| matches!(i, LivenessIssue::ReplayOfEnrolment { frame: 0, .. })));
        let far: Vec<f32> = (0..128).map(|i| if i == 1 { 0.5 } else { 0.0 }).collect();
        let out = check(&c, &good, &far, 0.6, &cfg);
        assert!(out.passed, "{out:?}");
        let wrong_way = [ev(0.0, 0.0, 10), ev(-0.4, 0.1, 40), ev(-0.4, 0.05, 80)];
        let out = check(&c, &wrong_way, &far, 0.6, &cfg);
        assert!(matches!(
            out.issues[..],
            [LivenessIssue::PoseNotFollowed { frame: 1, .. }]
        ));
        let other_person = [ev(0.0, 0.0, 10), ev(0.4, 0.9, 40), ev(-0.4, 0.05, 80)];
        let out = check(&c, &other_person, &far, 0.6, &cfg);
        assert!(matches!(
            out.issues[..],
            [LivenessIssue::IdentityChanged { frame: 1, .. }]
        ));
        let copies = [ev(0.0, 0.0, 10), ev(0.4, 0.1, 10), ev(-0.4, 0.05, 80)];
        let out = check(&c, &copies, &far, 0.6, &cfg);
        assert!(matches!(
            out.issues[..],
            [LivenessIssue::NearDuplicateFrames {
                first: 0,
                second: 1
            }]
        ));
    }
}
