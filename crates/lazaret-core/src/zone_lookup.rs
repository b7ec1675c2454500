//! The IANA time zone of a place, looked up offline from its coordinates.
//!
//! Orders place prompts and symptom-form days in their local day, so an
//! order needs the zone of its place. The zone polygons (timezone-boundary-
//! builder, ODbL, via the `tzf-rs`/`tzf-dist` crates) are compiled into the
//! binary: no network, no geocoding service learns where anyone lives.

use std::sync::OnceLock;

use tzf_rs::EmbeddedFinder;

use crate::geo::Coordinates;
use crate::order::TimeZone;

/// The finder reads the embedded polygons in place; it is built once, on
/// the first lookup (about a millisecond), and shared.
fn finder() -> &'static EmbeddedFinder {
    static FINDER: OnceLock<EmbeddedFinder> = OnceLock::new();
    FINDER.get_or_init(EmbeddedFinder::new)
}

/// The zone at `c`, or `None` where the data has none or names one that
/// this build's zone database does not know.
pub fn time_zone_at(c: &Coordinates) -> Option<TimeZone> {
    let name = finder().get_tz_name(c.lon(), c.lat());
    if name.is_empty() {
        return None;
    }
    TimeZone::parse(name).ok()
}

/// The zone for an order at `place`: the zone found there, else `default`
/// (a place without coordinates, or one the lookup cannot place).
pub fn order_time_zone(place: Option<&Coordinates>, default: TimeZone) -> TimeZone {
    place.and_then(time_zone_at).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lon: f64) -> Option<&'static str> {
        time_zone_at(&Coordinates::new(lat, lon).unwrap()).map(|z| z.name())
    }

    #[test]
    fn places_get_their_own_zone() {
        assert_eq!(at(55.7558, 37.6173), Some("Europe/Moscow"));
        assert_eq!(at(47.3769, 8.5417), Some("Europe/Zurich"));
        assert_eq!(at(40.7128, -74.0060), Some("America/New_York"));
        assert_eq!(at(-33.8688, 151.2093), Some("Australia/Sydney"));
    }

    #[test]
    fn no_place_falls_back_to_the_default() {
        let zurich = TimeZone::parse("Europe/Zurich").unwrap();
        assert_eq!(order_time_zone(None, zurich), zurich);
        let moscow = Coordinates::new(55.7558, 37.6173).unwrap();
        assert_eq!(
            order_time_zone(Some(&moscow), zurich).name(),
            "Europe/Moscow"
        );
    }
}
