//! Facts about a check-in's location that may point to a faked position,
//! for officers to weigh (a browser cannot prove where a phone is, and the
//! person under order may send any coordinates): the same coordinates as
//! earlier check-ins to the last digit, the same accuracy again and again
//! (a real fix varies), and a speed between two consecutive check-ins no
//! traveller reaches. They are evidence, never a verdict: nothing here
//! changes an outcome. Computed when a check-in is recorded and stored in
//! its evidence (`location_signals`); the console's alert page shows them.

use chrono::{DateTime, Utc};
use lazaret_core::geo::Coordinates;
use serde_json::{json, Map, Value};

/// Faster than this between two check-ins, in km/h, is noted: more than a
/// fast train, less than an airliner (an order's person is not flying).
pub const IMPLAUSIBLE_KMH: f64 = 300.0;

/// The same accuracy in at least this many check-ins in a row (this one
/// included) is noted.
pub const SAME_ACCURACY_IN_A_ROW: usize = 3;

/// Earlier check-ins of the order compared with a new one.
pub const COMPARED: u32 = 20;

/// Where one check-in said it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    pub checkin_id: String,
    pub at: Coordinates,
    pub accuracy_m: f64,
    pub received_at: DateTime<Utc>,
}

impl Fix {
    /// The fix stored in a check-in's evidence (`location.lat`, `.lon`,
    /// `.accuracy_m`), if it has one.
    pub fn from_evidence(
        checkin_id: &str,
        evidence: &Value,
        received_at: DateTime<Utc>,
    ) -> Option<Fix> {
        let l = evidence.get("location")?;
        let at = Coordinates::new(l.get("lat")?.as_f64()?, l.get("lon")?.as_f64()?).ok()?;
        Some(Fix {
            checkin_id: checkin_id.to_owned(),
            at,
            accuracy_m: l.get("accuracy_m")?.as_f64()?,
            received_at,
        })
    }
}

/// The signals of `now` against `earlier` (the order's earlier check-ins,
/// newest first); an empty object when nothing stands out.
pub fn signals(now: &Fix, earlier: &[Fix]) -> Value {
    let mut out = Map::new();
    let same_place = earlier
        .iter()
        .filter(|f| f.at.lat() == now.at.lat() && f.at.lon() == now.at.lon())
        .count();
    if same_place > 0 {
        out.insert(
            "identical_coordinates".into(),
            json!({ "earlier_checkins": same_place, "compared": earlier.len() }),
        );
    }
    let same_accuracy = 1 + earlier
        .iter()
        .take_while(|f| f.accuracy_m == now.accuracy_m)
        .count();
    if same_accuracy >= SAME_ACCURACY_IN_A_ROW {
        out.insert(
            "constant_accuracy".into(),
            json!({ "accuracy_m": now.accuracy_m, "checkins_in_a_row": same_accuracy }),
        );
    }
    if let Some(prev) = earlier.first() {
        let metres = prev.at.distance_m(&now.at);
        let seconds = (now.received_at - prev.received_at).num_milliseconds() as f64 / 1000.0;
        // Within both fixes' accuracy the phone may not have moved at all.
        let moved = metres > prev.accuracy_m + now.accuracy_m;
        if moved && seconds >= 0.0 {
            let kmh = if seconds > 0.0 {
                metres / 1000.0 / (seconds / 3600.0)
            } else {
                f64::INFINITY
            };
            if kmh > IMPLAUSIBLE_KMH {
                out.insert(
                    "implausible_travel".into(),
                    json!({
                        "from_checkin": prev.checkin_id,
                        "distance_m": metres.round(),
                        "seconds": seconds.round(),
                        // JSON has no infinity: two fixes in the same instant.
                        "speed_kmh": if kmh.is_finite() { json!(kmh.round()) } else { Value::Null },
                        "above_kmh": IMPLAUSIBLE_KMH,
                    }),
                );
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn fix(id: &str, lat: f64, lon: f64, acc: f64, minutes: i64) -> Fix {
        Fix {
            checkin_id: id.into(),
            at: Coordinates::new(lat, lon).unwrap(),
            accuracy_m: acc,
            received_at: "2026-03-10T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
                + Duration::minutes(minutes),
        }
    }

    #[test]
    fn an_ordinary_series_raises_nothing() {
        let now = fix("c3", 47.37251, 8.54401, 14.0, 240);
        let earlier = [
            fix("c2", 47.37262, 8.54388, 21.0, 120),
            fix("c1", 47.37240, 8.54420, 9.5, 0),
        ];
        assert_eq!(signals(&now, &earlier), json!({}));
        assert_eq!(signals(&now, &[]), json!({}));
    }

    #[test]
    fn identical_coordinates_and_a_constant_accuracy_are_noted() {
        let now = fix("c4", 47.3725, 8.544, 5.0, 360);
        let earlier = [
            fix("c3", 47.3725, 8.544, 5.0, 240),
            fix("c2", 47.3725, 8.544, 5.0, 120),
            fix("c1", 47.3726, 8.544, 12.0, 0),
        ];
        let s = signals(&now, &earlier);
        assert_eq!(
            s["identical_coordinates"],
            json!({ "earlier_checkins": 2, "compared": 3 })
        );
        assert_eq!(
            s["constant_accuracy"],
            json!({ "accuracy_m": 5.0, "checkins_in_a_row": 3 })
        );
        assert!(s.get("implausible_travel").is_none(), "{s}");
        // Two in a row is not yet a pattern.
        let s = signals(&now, &earlier[..1]);
        assert!(s.get("constant_accuracy").is_none(), "{s}");
    }

    #[test]
    fn an_impossible_speed_between_consecutive_checkins_is_noted() {
        // Zürich to Geneva (about 224 km) in 30 minutes: about 450 km/h.
        let now = fix("c2", 46.2044, 6.1432, 10.0, 30);
        let earlier = [fix("c1", 47.3769, 8.5417, 10.0, 0)];
        let s = signals(&now, &earlier);
        let t = &s["implausible_travel"];
        assert_eq!(t["from_checkin"], "c1");
        let kmh = t["speed_kmh"].as_f64().unwrap();
        assert!((400.0..500.0).contains(&kmh), "{s}");
        assert_eq!(t["seconds"], 1800.0);
        // The same trip in three hours is a car's: nothing.
        let later = fix("c2", 46.2044, 6.1432, 10.0, 180);
        assert_eq!(signals(&later, &earlier), json!({}));
        // A jump within the fixes' accuracy is no travel at all.
        let near = fix("c2", 47.3770, 8.5417, 10.0, 0);
        assert_eq!(signals(&near, &earlier), json!({}));
    }
}
