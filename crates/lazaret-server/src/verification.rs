//! Turning the face engine's verdict and the phone's location into one
//! check-in outcome with the evidence an officer needs.

use lazaret_core::checkin::CheckinOutcome;
use lazaret_core::geo::{Coordinates, FenceCheck, Geofence};
use lazaret_face::liveness::LivenessIssue;
use lazaret_face::{Challenge, FaceAnalysis, FaceEngine, FaceError, RgbImage, Template, Verdict};
use serde_json::json;

/// What one try showed.
pub struct Assessment {
    pub outcome: CheckinOutcome,
    pub evidence: serde_json::Value,
}

/// Verifies the decoded frames 1:1 against the template and checks the
/// location. CPU-heavy: call from a blocking thread. The frames are dropped
/// by the caller right after; nothing here keeps them.
pub fn assess(
    engine: &FaceEngine,
    template: &Template,
    frames: &[RgbImage],
    challenge: Option<&Challenge>,
    fence: &Geofence,
    at: &Coordinates,
    accuracy_m: f64,
) -> Result<Assessment, FaceError> {
    let analyses: Vec<Result<FaceAnalysis, FaceError>> =
        frames.iter().map(|f| engine.analyze_image(f)).collect();
    let verdict = engine.verify_analyses(template, &analyses, challenge)?;
    let capture = capture_problem(&analyses, &verdict);
    let fence_check = fence.locate(at, accuracy_m);
    let outcome = if let Some(o) = capture {
        o
    } else if verdict.distance.is_some_and(|d| d > verdict.threshold) || identity_changed(&verdict)
    {
        CheckinOutcome::FaceMismatch
    } else if verdict.liveness.as_ref().is_some_and(|l| !l.passed) {
        CheckinOutcome::LivenessFailed
    } else if verdict.decision != lazaret_face::Decision::Match {
        // Not usable for another reason the engine gave: ask again.
        CheckinOutcome::LowQuality
    } else {
        match fence_check {
            FenceCheck::Inside { .. } => CheckinOutcome::Verified,
            FenceCheck::Outside { .. } => CheckinOutcome::OutsideGeofence,
            FenceCheck::Unreliable { .. } => CheckinOutcome::LocationUnreliable,
        }
    };
    let distance_m = match fence_check {
        FenceCheck::Inside { distance_m }
        | FenceCheck::Outside { distance_m }
        | FenceCheck::Unreliable { distance_m } => distance_m,
    };
    let location = json!({
        "result": fence_check,
        "distance_m": (distance_m * 10.0).round() / 10.0,
        "accuracy_m": accuracy_m,
        "radius_m": fence.radius_m,
    });
    Ok(Assessment {
        outcome,
        evidence: json!({
            "face_distance": verdict.distance,
            "threshold": verdict.threshold,
            "decision": verdict.decision,
            "liveness": verdict.liveness,
            "quality": verdict.quality,
            "reasons": verdict.reasons,
            "frames": frames.len(),
            "location": location,
        }),
    })
}

fn identity_changed(v: &Verdict) -> bool {
    v.liveness.as_ref().is_some_and(|l| {
        l.issues
            .iter()
            .any(|i| matches!(i, LivenessIssue::IdentityChanged { .. }))
    })
}

/// An unusable capture: a frame without exactly one face, or of poor
/// quality. The verdict only says "not usable" in prose; the exact reason is
/// each failing frame's own analysis error.
fn capture_problem(
    analyses: &[Result<FaceAnalysis, FaceError>],
    verdict: &Verdict,
) -> Option<CheckinOutcome> {
    let mut worst: Option<CheckinOutcome> = None;
    for (analysis, q) in analyses.iter().zip(&verdict.quality) {
        let o = match q {
            Some(q) if q.ok() => continue,
            Some(_) => CheckinOutcome::LowQuality,
            None => match analysis {
                Err(FaceError::NoFace) => CheckinOutcome::NoFace,
                Err(FaceError::MultipleFaces { .. }) => CheckinOutcome::MultipleFaces,
                _ => CheckinOutcome::LowQuality,
            },
        };
        // Multiple faces outranks no face outranks low quality.
        let rank = |o: CheckinOutcome| match o {
            CheckinOutcome::MultipleFaces => 3,
            CheckinOutcome::NoFace => 2,
            _ => 1,
        };
        if worst.is_none_or(|w| rank(o) > rank(w)) {
            worst = Some(o);
        }
    }
    worst
}
