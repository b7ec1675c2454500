//! Turning the face engine's verdict and the phone's location into one
//! check-in outcome with the evidence an officer needs.

use lazaret_core::challenge::Challenge;
use lazaret_core::checkin::CheckinOutcome;
use lazaret_core::geo::{Coordinates, FenceCheck, Geofence};
use lazaret_face::{FaceAnalysis, FaceEngine, FaceError, Finding, RgbImage, Template};
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
    let fence_check = fence.locate(at, accuracy_m);
    // The engine's finding, one to one; only a face match looks at the place.
    let outcome = match verdict.finding {
        Finding::MultipleFaces => CheckinOutcome::MultipleFaces,
        Finding::NoFace => CheckinOutcome::NoFace,
        Finding::LowQuality => CheckinOutcome::LowQuality,
        Finding::NotEnrolledPerson => CheckinOutcome::FaceMismatch,
        Finding::LivenessFailed => CheckinOutcome::LivenessFailed,
        Finding::Match => match fence_check {
            FenceCheck::Inside { .. } => CheckinOutcome::Verified,
            FenceCheck::Outside { .. } => CheckinOutcome::OutsideGeofence,
            FenceCheck::Unreliable { .. } => CheckinOutcome::LocationUnreliable,
        },
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
            // The distance is the mean of this many frontal frames' distances.
            "frontal_frames": verdict.frontal_frames,
            "decision": verdict.decision,
            "liveness": verdict.liveness,
            "quality": verdict.quality,
            "reasons": verdict.reasons,
            "frames": frames.len(),
            "location": location,
        }),
    })
}
