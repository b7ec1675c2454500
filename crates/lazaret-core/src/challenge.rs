//! The liveness challenge of a check-in: which head poses the person shows, one frame each.
//!
//! A domain concept, not a face-engine detail: the prompt stores it, the check-in page and
//! the announcement describe it, the submission must bring one frame per pose, and the face
//! engine checks the frames against it.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

/// Fewest frames of a challenge.
pub const MIN_FRAMES: usize = 3;
/// Most frames of a challenge, and of a check-in without one.
pub const MAX_FRAMES: usize = 5;

/// A head pose asked for in one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadPose {
    /// Look straight at the camera.
    Center,
    /// Turn the head to your left.
    Left,
    /// Turn the head to your right.
    Right,
}

impl HeadPose {
    /// The pose's name on the wire and in storage (`center`, `left`, `right`).
    pub fn as_str(&self) -> &'static str {
        match self {
            HeadPose::Center => "center",
            HeadPose::Left => "left",
            HeadPose::Right => "right",
        }
    }

    /// The instruction in English (the pages and messages have their own translations).
    pub fn instruction(&self) -> &'static str {
        match self {
            HeadPose::Center => "look straight at the camera",
            HeadPose::Left => "turn your head to your left",
            HeadPose::Right => "turn your head to your right",
        }
    }
}

/// A challenge the server issues and stores; the check-in sends one frame per pose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub id: String,
    pub poses: Vec<HeadPose>,
}

/// A challenge that cannot be answered in a valid way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid challenge: {0}")]
pub struct ChallengeError(pub String);

impl Challenge {
    /// Checks the shape: 3–5 poses, frontal first, at least one turn.
    pub fn new(id: impl Into<String>, poses: Vec<HeadPose>) -> Result<Self, ChallengeError> {
        if !(MIN_FRAMES..=MAX_FRAMES).contains(&poses.len()) {
            return Err(ChallengeError(format!(
                "{} poses; {MIN_FRAMES} to {MAX_FRAMES} are needed",
                poses.len()
            )));
        }
        if poses[0] != HeadPose::Center {
            return Err(ChallengeError("the first pose must be center".into()));
        }
        if !poses.iter().any(|p| *p != HeadPose::Center) {
            return Err(ChallengeError("at least one head turn is needed".into()));
        }
        Ok(Challenge {
            id: id.into(),
            poses,
        })
    }

    /// A fresh random challenge (OS randomness): center, then 2–4 poses with at least one
    /// turn and no pose repeated back to back.
    pub fn random() -> Self {
        let id = uuid::Uuid::new_v4();
        let bytes = *uuid::Uuid::new_v4().as_bytes();
        let len = MIN_FRAMES + (bytes[0] as usize % (MAX_FRAMES - MIN_FRAMES + 1));
        let mut poses = vec![HeadPose::Center];
        for i in 1..len {
            let prev = poses[i - 1];
            let options: Vec<HeadPose> = [HeadPose::Left, HeadPose::Right, HeadPose::Center]
                .into_iter()
                .filter(|p| *p != prev && !(i == 1 && *p == HeadPose::Center))
                .collect();
            poses.push(options[bytes[i] as usize % options.len()]);
        }
        Challenge::new(id.to_string(), poses).expect("generated challenge is valid")
    }

    /// How many frames a check-in answering `challenge` brings: one per pose, or one to
    /// [`MAX_FRAMES`] frontal frames when liveness is off (no challenge).
    pub fn frames_expected(challenge: Option<&Challenge>) -> RangeInclusive<usize> {
        match challenge {
            Some(c) => c.poses.len()..=c.poses.len(),
            None => 1..=MAX_FRAMES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_shape_rules() {
        for _ in 0..50 {
            let c = Challenge::random();
            assert!((MIN_FRAMES..=MAX_FRAMES).contains(&c.poses.len()));
            assert_eq!(c.poses[0], HeadPose::Center);
            assert!(c.poses.windows(2).all(|w| w[0] != w[1]));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Challenge>(&json).unwrap(), c);
        }
        assert!(Challenge::new("x", vec![HeadPose::Center; 3]).is_err());
        assert!(
            Challenge::new("x", vec![HeadPose::Left, HeadPose::Center, HeadPose::Right]).is_err()
        );
        assert!(Challenge::new("x", vec![HeadPose::Center, HeadPose::Left]).is_err());
    }

    #[test]
    fn the_stored_form_and_the_pose_names_stay_as_they_were() {
        let c = Challenge::new(
            "c1",
            vec![HeadPose::Center, HeadPose::Left, HeadPose::Right],
        )
        .unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"id":"c1","poses":["center","left","right"]}"#);
        for p in [HeadPose::Center, HeadPose::Left, HeadPose::Right] {
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
    }

    #[test]
    fn frames_expected_is_one_per_pose_or_up_to_the_maximum() {
        let c = Challenge::new(
            "c1",
            vec![HeadPose::Center, HeadPose::Left, HeadPose::Right],
        )
        .unwrap();
        assert_eq!(Challenge::frames_expected(Some(&c)), 3..=3);
        assert_eq!(Challenge::frames_expected(None), 1..=MAX_FRAMES);
    }
}
