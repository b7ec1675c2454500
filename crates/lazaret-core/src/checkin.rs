//! Check-in prompts and submissions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CheckinId, OrderId, PromptId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptStatus {
    /// Announced, waiting for an answer.
    Open,
    /// A verified check-in answered it.
    Answered,
    /// The deadline passed without a verified check-in.
    Missed,
    /// Withdrawn (order ended or released).
    Cancelled,
    /// The deadline passed without an answer and the prompt's message was
    /// never confirmed delivered: nothing says the person knew of it.
    NotDelivered,
}

/// A request to check in within a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    pub id: PromptId,
    pub order_id: OrderId,
    pub issued_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// The liveness challenge, as the face engine names it.
    pub challenge: Option<String>,
    pub status: PromptStatus,
    pub attempts: u32,
}

/// Most tries a person gets inside one prompt's window.
pub const MAX_ATTEMPTS: u32 = 3;

/// What a check-in showed. Every outcome but `Verified` reaches an officer
/// with its evidence if it is the final try; none sanctions anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckinOutcome {
    Verified,
    FaceMismatch,
    NoFace,
    MultipleFaces,
    LowQuality,
    LivenessFailed,
    OutsideGeofence,
    LocationUnreliable,
    Late,
}

impl CheckinOutcome {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::FaceMismatch => "face_mismatch",
            Self::NoFace => "no_face",
            Self::MultipleFaces => "multiple_faces",
            Self::LowQuality => "low_quality",
            Self::LivenessFailed => "liveness_failed",
            Self::OutsideGeofence => "outside_geofence",
            Self::LocationUnreliable => "location_unreliable",
            Self::Late => "late",
        }
    }
}

/// One submission answering a prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkin {
    pub id: CheckinId,
    pub prompt_id: PromptId,
    pub received_at: DateTime<Utc>,
    pub outcome: CheckinOutcome,
    /// Face distance, liveness result, distance to the place, accuracy.
    pub evidence: serde_json::Value,
}
