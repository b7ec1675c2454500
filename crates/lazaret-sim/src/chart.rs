//! The comparison as one SVG: epidemic curves per policy (median new
//! infections per day, 10th–90th percentile band) beside the infections
//! averted per 1,000 quarantine person-days (median, 95% interval).

use std::fmt::Write as _;

use crate::summary::PolicySummary;

const COLOURS: [&str; 8] = [
    "#4c4c4c", "#1b6ca8", "#d1495b", "#2e8b57", "#e08e0b", "#6a4c93", "#00798c", "#8c564b",
];
const W: f64 = 1000.0;
const H: f64 = 460.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round axis maximum at or above `x`, and its tick step.
fn nice(x: f64) -> (f64, f64) {
    if x <= 0.0 {
        return (1.0, 0.25);
    }
    let mag = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * mag >= x {
            let top = m * mag;
            return (top, top / 4.0);
        }
    }
    (10.0 * mag, 2.5 * mag)
}

fn fmt_num(x: f64) -> String {
    if x.abs() >= 100.0 || x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// The curves panel's area in the whole chart's coordinates (`x y width
/// height`): a page can show each panel on its own.
const CURVES_BOX: &str = "0 36 610 424";
/// Where the bars panel's first bar starts, and the height of each row.
const BAR_TOP: f64 = 90.0;
const ROW_H: f64 = 50.0;

fn open(s: &mut String, view_box: &str, width: f64, height: f64) {
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view_box}" width="{width}" height="{height}" font-family="system-ui, sans-serif" font-size="12">"#
    );
}

/// Renders the whole chart; `title` names the region and runs.
pub fn render(title: &str, summaries: &[PolicySummary]) -> String {
    let mut s = String::new();
    open(&mut s, &format!("0 0 {W} {H}"), W, H);
    let _ = writeln!(
        s,
        r##"<rect width="100%" height="100%" fill="#fff"/><text x="20" y="24" font-size="15" font-weight="600">{}</text>"##,
        esc(title)
    );
    curves(&mut s, summaries);
    bars(&mut s, summaries);
    s.push_str("</svg>\n");
    s
}

/// The epidemic curves alone, as their own SVG.
pub fn render_curves(summaries: &[PolicySummary]) -> String {
    let mut s = String::new();
    open(&mut s, CURVES_BOX, 610.0, 424.0);
    curves(&mut s, summaries);
    s.push_str("</svg>\n");
    s
}

/// The averted per 1,000 quarantine days alone, as their own SVG, as tall
/// as its bars.
pub fn render_bars(summaries: &[PolicySummary]) -> String {
    let rows = summaries
        .iter()
        .filter(|p| p.averted_per_1000_quarantine_days.is_some())
        .count()
        .max(1);
    let height = BAR_TOP + ROW_H * rows as f64 + 30.0 - 36.0;
    let mut s = String::new();
    open(&mut s, &format!("610 36 390 {height}"), 390.0, height);
    bars(&mut s, summaries);
    s.push_str("</svg>\n");
    s
}

fn curves(s: &mut String, summaries: &[PolicySummary]) {
    let (x0, y0, pw, ph) = (60.0, 60.0, 520.0, 300.0);
    let days = summaries.first().map_or(0, |p| p.daily_infections.len());
    let top = summaries
        .iter()
        .flat_map(|p| p.daily_infections.iter().map(|i| i.high))
        .fold(0.0, f64::max);
    let (ymax, step) = nice(top);
    let x = |d: usize| x0 + pw * d as f64 / (days.max(2) - 1) as f64;
    let y = |v: f64| y0 + ph - ph * v / ymax;
    let _ = writeln!(
        s,
        r#"<text x="{x0}" y="{}" font-weight="600">New infections per day (median, 10–90% of runs)</text>"#,
        y0 - 12.0
    );
    let mut tick = 0.0;
    while tick <= ymax + 1e-9 {
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#e5e5e5"/><text x="{}" y="{:.1}" text-anchor="end" fill="#555">{}</text>"##,
            x0 + pw,
            x0 - 6.0,
            y(tick) + 4.0,
            fmt_num(tick),
            yy = y(tick)
        );
        tick += step;
    }
    for d in (0..days).step_by((days / 6).max(1).div_ceil(10) * 10) {
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#555">{d}</text>"##,
            x(d),
            y0 + ph + 16.0
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#555">day</text><line x1="{x0}" x2="{x0}" y1="{y0}" y2="{}" stroke="#999"/><line x1="{x0}" x2="{}" y1="{}" y2="{}" stroke="#999"/>"##,
        x0 + pw / 2.0,
        y0 + ph + 32.0,
        y0 + ph,
        x0 + pw,
        y0 + ph,
        y0 + ph
    );
    for (k, p) in summaries.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let upper: Vec<String> = p
            .daily_infections
            .iter()
            .enumerate()
            .map(|(d, i)| format!("{:.1},{:.1}", x(d), y(i.high)))
            .collect();
        let lower: Vec<String> = p
            .daily_infections
            .iter()
            .enumerate()
            .rev()
            .map(|(d, i)| format!("{:.1},{:.1}", x(d), y(i.low)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polygon points="{} {}" fill="{colour}" fill-opacity="0.12" stroke="none"/>"#,
            upper.join(" "),
            lower.join(" ")
        );
        let median: Vec<String> = p
            .daily_infections
            .iter()
            .enumerate()
            .map(|(d, i)| format!("{:.1},{:.1}", x(d), y(i.median)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            median.join(" ")
        );
        // The legend below the axis, two names a row, clear of the curves.
        let (lx, ly) = (
            x0 + 260.0 * (k % 2) as f64,
            y0 + ph + 50.0 + 16.0 * (k / 2) as f64,
        );
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" x2="{}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
            lx + 20.0,
            lx + 26.0,
            ly + 4.0,
            esc(&p.name)
        );
    }
}

fn bars(s: &mut String, summaries: &[PolicySummary]) {
    let (x0, y0, pw) = (640.0, 60.0, 310.0);
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" font-weight="600">Infections averted per 1,000 quarantine days</text><text x="{}" y="{}" fill="#555">median and 95% interval of runs, against isolation alone</text>"##,
        x0 - 20.0,
        y0 - 12.0,
        x0 - 20.0,
        y0 + 4.0
    );
    let rows: Vec<(usize, &PolicySummary)> = summaries
        .iter()
        .enumerate()
        .filter(|(_, p)| p.averted_per_1000_quarantine_days.is_some())
        .collect();
    if rows.is_empty() {
        let _ = writeln!(
            s,
            r##"<text x="{x0}" y="{}" fill="#555">no policy quarantined anyone</text>"##,
            y0 + 40.0
        );
        return;
    }
    let (lo, hi) = rows.iter().fold((0.0f64, 0.0f64), |(lo, hi), (_, p)| {
        let i = p.averted_per_1000_quarantine_days.expect("filtered");
        (lo.min(i.low), hi.max(i.high))
    });
    let (top, _) = nice(hi.max(1e-9));
    let bottom = if lo < 0.0 { -nice(-lo).0 } else { 0.0 };
    let x = |v: f64| x0 + pw * (v - bottom) / (top - bottom);
    let bar_h = 22.0;
    for (row, (k, p)) in rows.iter().enumerate() {
        let i = p.averted_per_1000_quarantine_days.expect("filtered");
        let colour = COLOURS[k % COLOURS.len()];
        let yb = BAR_TOP + row as f64 * ROW_H;
        let (a, b) = (x(0.0).min(x(i.median)), x(0.0).max(x(i.median)));
        let ym = yb + bar_h / 2.0;
        let _ = writeln!(
            s,
            r##"<text x="{x0}" y="{:.1}">{}</text><rect x="{a:.1}" y="{:.1}" width="{:.1}" height="{bar_h}" fill="{colour}" fill-opacity="0.8"/><line x1="{:.1}" x2="{:.1}" y1="{ym:.1}" y2="{ym:.1}" stroke="#222"/><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#222"/><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#222"/><text x="{:.1}" y="{:.1}" fill="#222">{}</text>"##,
            yb - 4.0,
            esc(&p.name),
            yb,
            (b - a).max(1.0),
            x(i.low),
            x(i.high),
            x(i.low),
            x(i.low),
            ym - 6.0,
            ym + 6.0,
            x(i.high),
            x(i.high),
            ym - 6.0,
            ym + 6.0,
            x(i.high).max(b) + 6.0,
            ym + 4.0,
            fmt_num(i.median),
        );
    }
    let axis_y = BAR_TOP + rows.len() as f64 * ROW_H;
    let _ = writeln!(
        s,
        r##"<line x1="{x0}" x2="{}" y1="{axis_y}" y2="{axis_y}" stroke="#999"/><text x="{x0}" y="{}" fill="#555">{}</text><text x="{}" y="{}" text-anchor="end" fill="#555">{}</text><line x1="{z:.1}" x2="{z:.1}" y1="{}" y2="{axis_y}" stroke="#999"/>"##,
        x0 + pw,
        axis_y + 16.0,
        fmt_num(bottom),
        x0 + pw,
        axis_y + 16.0,
        fmt_num(top),
        y0 + 20.0,
        z = x(0.0)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::Interval;

    #[test]
    fn axes_round_up() {
        assert_eq!(nice(7.3).0, 10.0);
        assert_eq!(nice(180.0).0, 200.0);
        assert_eq!(nice(0.0).0, 1.0);
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        let _ = Interval::of(&[1.0]);
    }
}
