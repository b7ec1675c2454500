//! Coordinates and geofences.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS84 position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawCoordinates")]
pub struct Coordinates {
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
struct RawCoordinates {
    lat: f64,
    lon: f64,
}

impl TryFrom<RawCoordinates> for Coordinates {
    type Error = ValidationError;
    fn try_from(r: RawCoordinates) -> Result<Self, Self::Error> {
        Self::new(r.lat, r.lon)
    }
}

impl Coordinates {
    pub fn new(lat: f64, lon: f64) -> Result<Self, ValidationError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(ValidationError::new("lat", "must be between -90 and 90"));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(ValidationError::new("lon", "must be between -180 and 180"));
        }
        Ok(Self { lat, lon })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn lon(&self) -> f64 {
        self.lon
    }

    /// Great-circle distance in metres (haversine; well under 0.5% error,
    /// far below phone location accuracy).
    pub fn distance_m(&self, other: &Coordinates) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin()
    }
}

/// A circle around the place of an order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Geofence {
    pub center: Coordinates,
    pub radius_m: f64,
}

/// Limits on a geofence radius: below 10 m phones cannot tell inside from
/// outside; above 50 km the fence means nothing.
pub const MIN_RADIUS_M: f64 = 10.0;
pub const MAX_RADIUS_M: f64 = 50_000.0;
pub const DEFAULT_RADIUS_M: f64 = 100.0;

impl Geofence {
    pub fn new(center: Coordinates, radius_m: f64) -> Result<Self, ValidationError> {
        if !radius_m.is_finite() || !(MIN_RADIUS_M..=MAX_RADIUS_M).contains(&radius_m) {
            return Err(ValidationError::new(
                "radius_m",
                format!("must be between {MIN_RADIUS_M} and {MAX_RADIUS_M} metres"),
            ));
        }
        Ok(Self { center, radius_m })
    }

    /// Where a reported position lies relative to the fence, given the phone's
    /// own accuracy estimate (metres, 68% radius).
    pub fn locate(&self, at: &Coordinates, accuracy_m: f64) -> FenceCheck {
        let distance_m = self.center.distance_m(at);
        if !accuracy_m.is_finite() || accuracy_m < 0.0 || accuracy_m > self.radius_m {
            FenceCheck::Unreliable { distance_m }
        } else if distance_m <= self.radius_m {
            FenceCheck::Inside { distance_m }
        } else {
            FenceCheck::Outside { distance_m }
        }
    }
}

/// Result of a geofence check, with the evidence an officer needs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum FenceCheck {
    Inside {
        distance_m: f64,
    },
    Outside {
        distance_m: f64,
    },
    /// The phone's accuracy is worse than the fence radius: no conclusion.
    Unreliable {
        distance_m: f64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range() {
        assert!(Coordinates::new(91.0, 0.0).is_err());
        assert!(Coordinates::new(0.0, -180.5).is_err());
        assert!(Coordinates::new(f64::NAN, 0.0).is_err());
        assert!(serde_json::from_str::<Coordinates>(r#"{"lat": 100, "lon": 0}"#).is_err());
    }

    #[test]
    fn distance_of_one_degree_latitude() {
        let a = Coordinates::new(47.0, 8.0).unwrap();
        let b = Coordinates::new(48.0, 8.0).unwrap();
        let d = a.distance_m(&b);
        assert!((d - 111_195.0).abs() < 100.0, "{d}");
    }

    #[test]
    fn fence_inside_outside_unreliable() {
        let home = Coordinates::new(47.3769, 8.5417).unwrap();
        let fence = Geofence::new(home, 100.0).unwrap();
        let near = Coordinates::new(47.3772, 8.5419).unwrap();
        let far = Coordinates::new(47.4219, 8.5417).unwrap(); // ~5 km north
        assert!(matches!(
            fence.locate(&near, 15.0),
            FenceCheck::Inside { .. }
        ));
        match fence.locate(&far, 15.0) {
            FenceCheck::Outside { distance_m } => assert!((distance_m - 5004.0).abs() < 20.0),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            fence.locate(&near, 500.0),
            FenceCheck::Unreliable { .. }
        ));
        assert!(Geofence::new(home, 1.0).is_err());
    }
}
