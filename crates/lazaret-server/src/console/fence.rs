//! The geofence drawn to scale as a small SVG, no map tiles: the circle of
//! its radius around the address and, for a check-in, the phone's reported
//! position at its distance from the centre with its accuracy circle. The
//! alert page draws a try's location with it, the order page the fence.

use maud::{html, Markup};
use serde_json::Value;

use super::layout::Tr;

/// Where a check-in's phone said it was: its distance from the fence's
/// centre, its accuracy, and the stored fence check.
#[derive(Debug, Clone, Copy)]
pub struct Fix<'a> {
    pub distance_m: f64,
    pub accuracy_m: f64,
    /// The check-in's fence check: `"inside"` or `{"result": "inside", …}`.
    pub result: Option<&'a Value>,
}

/// The fence of `radius` metres and, with a `fix`, the phone's position.
pub fn fence_diagram(tr: Tr, radius: f64, fix: Option<Fix<'_>>) -> Markup {
    match fix {
        Some(fix) => with_fix(tr, radius, fix),
        None => fence_only(tr, radius),
    }
}

fn f(v: f64) -> String {
    format!("{v:.1}")
}

fn with_fix(tr: Tr, radius: f64, fix: Fix<'_>) -> Markup {
    let Fix {
        distance_m: dist,
        accuracy_m: acc,
        result,
    } = fix;
    let (w, h) = (240.0_f64, 150.0_f64);
    let (cx, cy) = (84.0, h / 2.0);
    // Fits the fence vertically and the phone with its accuracy to the right.
    let scale = (68.0 / radius.max(1.0)).min(148.0 / (dist + acc).max(radius).max(1.0));
    let px = cx + dist * scale;
    let result = result
        .and_then(|v| {
            v.as_str()
                .or_else(|| v.get("result").and_then(Value::as_str))
        })
        .unwrap_or("");
    let cls = match result {
        "inside" => "good",
        "outside" => "bad",
        _ => "warn",
    };
    let label =
        tr.0.text(&format!("c.fence.{result}"))
            .map_or_else(|| result.replace('_', " "), str::to_owned);
    let text = tr.f(
        "c.location_text",
        &[
            ("distance", &format!("{dist:.0}")),
            ("accuracy", &format!("{acc:.0}")),
            ("radius", &format!("{radius:.0}")),
        ],
    );
    html! {
        figure.fence {
            svg viewBox=(format!("0 0 {w} {h}")) width=(w) height=(h) role="img" aria-label=(text) {
                circle.fence-area cx=(f(cx)) cy=(f(cy)) r=(f(radius * scale)) {}
                circle.centre cx=(f(cx)) cy=(f(cy)) r="3" {}
                line.dist x1=(f(cx)) y1=(f(cy)) x2=(f(px)) y2=(f(cy)) {}
                circle class={ "accuracy " (cls) } cx=(f(cx + dist * scale)) cy=(f(cy)) r=(f((acc * scale).max(2.0))) {}
                circle class={ "phone " (cls) } cx=(f(px)) cy=(f(cy)) r="4" {}
            }
            figcaption {
                span class={ "status s-" (cls) } { (label) }
                " " (text)
            }
        }
    }
}

/// The fence alone: its circle, the centre (the address) and the radius
/// drawn and labelled.
fn fence_only(tr: Tr, radius: f64) -> Markup {
    let (w, h) = (240.0_f64, 150.0_f64);
    let (cx, cy) = (w / 2.0, h / 2.0);
    let r = 64.0;
    let metres = format!("{radius:.0} m");
    let text = tr.f("c.fence_text", &[("radius", &format!("{radius:.0}"))]);
    html! {
        figure.fence #fence {
            svg viewBox=(format!("0 0 {w} {h}")) width=(w) height=(h) role="img" aria-label=(text) {
                circle.fence-area cx=(f(cx)) cy=(f(cy)) r=(f(r)) {}
                circle.centre cx=(f(cx)) cy=(f(cy)) r="3" {}
                line.dist x1=(f(cx)) y1=(f(cy)) x2=(f(cx + r)) y2=(f(cy)) {}
                text.radius-label x=(f(cx + r / 2.0)) y=(f(cy - 6.0)) text-anchor="middle" { (metres) }
            }
            figcaption { (text) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::Lang;

    #[test]
    fn the_fence_alone_names_its_radius() {
        let svg = fence_diagram(Tr(Lang::En), 150.0, None).into_string();
        assert!(svg.contains(">150 m<"), "{svg}");
        assert!(svg.contains("150 m"), "{svg}");
        assert!(!svg.contains("phone"), "{svg}");
    }

    #[test]
    fn a_fix_outside_is_drawn_beyond_the_fence() {
        let result = Value::from("outside");
        let svg = fence_diagram(
            Tr(Lang::En),
            100.0,
            Some(Fix {
                distance_m: 300.0,
                accuracy_m: 20.0,
                result: Some(&result),
            }),
        )
        .into_string();
        assert!(svg.contains("phone bad"), "{svg}");
        assert!(svg.contains("Outside"), "{svg}");
    }
}
