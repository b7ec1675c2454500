//! Capture-quality checks on the detected face, each with advice a person can act on.

use serde::{Deserialize, Serialize};

use crate::detector::BoxF;
use crate::landmarks::Landmarks68;
use crate::preprocess::RgbView;

/// Thresholds for the quality checks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QualityConfig {
    /// Smallest accepted face (shorter side of the detection box), pixels.
    pub min_face_px: f64,
    /// Mean luma of the face below this is too dark (0–255).
    pub min_brightness: f64,
    /// Mean luma of the face above this is too bright.
    pub max_brightness: f64,
    /// Sharpness (variance of the Laplacian on a 112×112 grey face crop) below this is blurry.
    pub min_sharpness: f64,
    /// A face whose box sticks out of the image by more than this fraction of its size is cut off.
    pub max_outside_fraction: f64,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            min_face_px: 60.0,
            min_brightness: 45.0,
            max_brightness: 215.0,
            min_sharpness: 25.0,
            max_outside_fraction: 0.12,
        }
    }
}

/// One quality problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityIssue {
    FaceTooSmall,
    TooDark,
    TooBright,
    TooBlurry,
    FaceCutOff,
}

impl QualityIssue {
    /// What the person should do about it.
    pub fn advice(&self) -> &'static str {
        match self {
            QualityIssue::FaceTooSmall => "face too small: move closer to the camera",
            QualityIssue::TooDark => "too dark: face a window or turn on a light",
            QualityIssue::TooBright => {
                "too bright: move out of direct light or away from the window"
            }
            QualityIssue::TooBlurry => "too blurry: hold the phone still and clean the lens",
            QualityIssue::FaceCutOff => "face cut off: keep the whole face inside the frame",
        }
    }
}

/// Measured values and the issues they raise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    pub face_px: f64,
    pub brightness: f64,
    pub sharpness: f64,
    pub outside_fraction: f64,
    pub issues: Vec<QualityIssue>,
}

impl QualityReport {
    pub fn ok(&self) -> bool {
        self.issues.is_empty()
    }
}

const GRID: usize = 112;

/// Assesses the face in `bbox` (with its landmarks) in `image`.
pub fn assess(
    image: &RgbView<'_>,
    bbox: &BoxF,
    lm: Option<&Landmarks68>,
    cfg: &QualityConfig,
) -> QualityReport {
    let face_px = bbox.width.min(bbox.height);
    // How far the box (or any landmark) reaches outside the image, relative to the face size.
    let (w, h) = (image.width as f64, image.height as f64);
    let mut outside: f64 = [
        (-bbox.x),
        (bbox.right() - w),
        (-bbox.y),
        (bbox.bottom() - h),
    ]
    .iter()
    .fold(0.0, |m, v| m.max(*v));
    if let Some(lm) = lm {
        for p in &lm.points {
            outside = outside.max(-p.x).max(p.x - w).max(-p.y).max(p.y - h);
        }
    }
    let outside_fraction = outside.max(0.0) / face_px.max(1.0);

    // Grey grid sampled over the clipped face box (nearest pixel), for brightness and blur.
    let x0 = bbox.x.max(0.0);
    let y0 = bbox.y.max(0.0);
    let x1 = bbox.right().min(w);
    let y1 = bbox.bottom().min(h);
    let (mut brightness, mut sharpness) = (0.0, 0.0);
    if x1 - x0 >= 2.0 && y1 - y0 >= 2.0 {
        let mut grey = vec![0f64; GRID * GRID];
        for r in 0..GRID {
            let y =
                ((y0 + (r as f64 + 0.5) * (y1 - y0) / GRID as f64) as usize).min(image.height - 1);
            for c in 0..GRID {
                let x = ((x0 + (c as f64 + 0.5) * (x1 - x0) / GRID as f64) as usize)
                    .min(image.width - 1);
                grey[r * GRID + c] = 0.299 * image.get(x, y, 0) as f64
                    + 0.587 * image.get(x, y, 1) as f64
                    + 0.114 * image.get(x, y, 2) as f64;
            }
        }
        brightness = grey.iter().sum::<f64>() / grey.len() as f64;
        sharpness = laplacian_variance(&grey, GRID);
    }
    let mut issues = Vec::new();
    if face_px < cfg.min_face_px {
        issues.push(QualityIssue::FaceTooSmall);
    }
    if brightness < cfg.min_brightness {
        issues.push(QualityIssue::TooDark);
    }
    if brightness > cfg.max_brightness {
        issues.push(QualityIssue::TooBright);
    }
    if sharpness < cfg.min_sharpness {
        issues.push(QualityIssue::TooBlurry);
    }
    if outside_fraction > cfg.max_outside_fraction {
        issues.push(QualityIssue::FaceCutOff);
    }
    QualityReport {
        face_px,
        brightness,
        sharpness,
        outside_fraction,
        issues,
    }
}

/// Variance of the 4-neighbour Laplacian: low on blurred images.
fn laplacian_variance(g: &[f64], n: usize) -> f64 {
    let mut vals = Vec::with_capacity((n - 2) * (n - 2));
    for r in 1..n - 1 {
        for c in 1..n - 1 {
            let i = r * n + c;
            vals.push(g[i - 1] + g[i + 1] + g[i - n] + g[i + n] - 4.0 * g[i]);
        }
    }
    let m = vals.iter().sum::<f64>() / vals.len() as f64;
    vals.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / vals.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(data: &[u8], n: usize, b: BoxF) -> QualityReport {
        assess(
            &RgbView::new(data, n, n),
            &b,
            None,
            &QualityConfig::default(),
        )
    }

    #[test]
    fn flags_dark_blurry_small_and_cut_off() {
        let n = 200;
        let flat = vec![10u8; n * n * 3];
        let b = BoxF {
            x: 150.0,
            y: 20.0,
            width: 80.0,
            height: 80.0,
        };
        let r = report(&flat, n, b);
        assert!(r.issues.contains(&QualityIssue::TooDark));
        assert!(r.issues.contains(&QualityIssue::TooBlurry));
        assert!(r.issues.contains(&QualityIssue::FaceCutOff));
        let small = BoxF {
            x: 10.0,
            y: 10.0,
            width: 30.0,
            height: 30.0,
        };
        assert!(report(&flat, n, small)
            .issues
            .contains(&QualityIssue::FaceTooSmall));
    }

    #[test]
    fn sharp_mid_grey_texture_passes() {
        let n = 200;
        let data: Vec<u8> = (0..n * n)
            .flat_map(|i| {
                let v = if ((i % n) / 3 + (i / n) / 3) % 2 == 0 {
                    80
                } else {
                    170
                };
                [v; 3]
            })
            .collect();
        let b = BoxF {
            x: 20.0,
            y: 20.0,
            width: 150.0,
            height: 150.0,
        };
        let r = report(&data, n, b);
        assert!(r.ok(), "{r:?}");
    }
}
