//! Parity of our networks with the original face-api.js outputs in the evaluation data's
//! golden/ (skipped, with one line, when that folder is absent: see `shared_dir`), and of the
//! hand-written networks with tract's graphs of the same networks on the fixture photos.

use crate::common::*;
use lazaret_face::landmarks::{LandmarkModel, LandmarkNet};
use lazaret_face::preprocess::RgbView;
use lazaret_face::recognition::euclidean;
use lazaret_face::reference::ReferenceDetector;
use lazaret_face::simd::{with_path, KernelPath};

/// Runs `check` once on every kernel path this CPU supports (portable, AVX2 + FMA, AVX-512),
/// not only on the one the process chose, so that each build of the kernels is held to the
/// reference on the machine that runs the tests.
fn on_every_path(mut check: impl FnMut(KernelPath)) {
    let paths = KernelPath::available();
    assert!(paths.contains(&KernelPath::Portable));
    for path in &paths {
        with_path(*path, || check(*path)).expect("an available path");
    }
    eprintln!("checked on every kernel path of this CPU: {paths:?}");
}

#[test]
fn crop_descriptors_match_golden() {
    let Some(shared) = shared_dir(&["golden", "faces"]) else {
        return;
    };
    let g = golden(&shared, "crops.json");
    let images = g["images"].as_array().unwrap();
    assert_eq!(images.len(), 40);
    let m = models();
    let crops: Vec<_> = images
        .iter()
        .map(|img| {
            let path = shared.join("faces").join(img["path"].as_str().unwrap());
            (decode_rgb(&path), f32s(&img["descriptor"]), path)
        })
        .collect();
    on_every_path(|kernels| {
        let mut worst = 0f32;
        for (rgb, want, path) in &crops {
            let view = RgbView::new(rgb.as_raw(), rgb.width() as usize, rgb.height() as usize);
            let d = m.recognition.descriptor(&view).unwrap();
            let dist = euclidean(&d, want);
            worst = worst.max(dist);
            assert!(dist < 1e-4, "{kernels}: {}: L2 {dist}", path.display());
        }
        eprintln!("crops on {kernels}: worst descriptor L2 difference {worst:e}");
    });
}

use lazaret_face::align::Alignment;
use lazaret_face::detector::{Detection, DetectorConfig};
use lazaret_face::pipeline;
use sha2::{Digest, Sha256};

fn hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn boxes(v: &serde_json::Value) -> Vec<([f64; 4], f64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let b = d["box"].as_array().unwrap();
            let f = |i: usize| b[i].as_f64().unwrap();
            ([f(0), f(1), f(2), f(3)], d["score"].as_f64().unwrap())
        })
        .collect()
}

#[derive(Default, Debug)]
struct Worst {
    score: f64,
    box_rel: f64,
    landmark_rel: f64,
    descriptor: f32,
    descriptor_same_box: f32,
}

/// Which golden images the end-to-end test covers: all deepface photos and every
/// `LAZARET_PARITY_STRIDE`-th LFW image (default 8, as golden/README.md sampled; 1 = all 807).
fn selected(images: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    let stride: usize = std::env::var("LAZARET_PARITY_STRIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let mut lfw = 0;
    images
        .iter()
        .filter(|im| {
            let p = im["path"].as_str().unwrap();
            if p.starts_with("lfw-fold1/") {
                lfw += 1;
                (lfw - 1) % stride == 0
            } else {
                true
            }
        })
        .collect()
}

#[test]
fn end_to_end_matches_golden() {
    let Some(shared) = shared_dir(&["golden", "faces"]) else {
        return;
    };
    let g = golden(&shared, "detections.json");
    let images = g["images"].as_array().unwrap();
    let m = models();
    let (mut tight_n, mut tight_ok, mut loose_n, mut loose_ok, mut loose_face_ok) = (0, 0, 0, 0, 0);
    let mut worst = Worst::default();
    let mut failures = Vec::new();
    for im in selected(images) {
        let path = shared.join("faces").join(im["path"].as_str().unwrap());
        let rgb = decode_rgb(&path);
        let view = RgbView::new(rgb.as_raw(), rgb.width() as usize, rgb.height() as usize);
        let same_pixels = hex(rgb.as_raw()) == im["sha256"].as_str().unwrap();
        assert_eq!(
            hex(rgb.as_raw()),
            im["sha256_image_rs"].as_str().unwrap(),
            "decoder drift"
        );
        let mut ok = true;
        let mut face_ok = true;
        let mut why = String::new();
        // Detections at the three sizes.
        for size in [224usize, 320, 416] {
            let want = boxes(&im["detections"][size.to_string()]);
            let got: Vec<Detection> = m
                .detector
                .detect(
                    &view,
                    &DetectorConfig {
                        input_size: size,
                        score_threshold: 0.5,
                    },
                )
                .unwrap();
            // Boxes scoring near the threshold may exist on one side only.
            let firm = |s: f64| (s - 0.5).abs() > if same_pixels { 1e-3 } else { 0.05 };
            let want_firm: Vec<_> = want.iter().filter(|w| firm(w.1)).collect();
            for w in &want_firm {
                let scale = w.0[2].max(w.0[3]);
                let best = got.iter().min_by(|a, b| {
                    let da = (a.bbox.x - w.0[0]).abs() + (a.bbox.y - w.0[1]).abs();
                    let db = (b.bbox.x - w.0[0]).abs() + (b.bbox.y - w.0[1]).abs();
                    da.total_cmp(&db)
                });
                let Some(b) = best else {
                    ok = false;
                    why += &format!(" missing box at {size};");
                    continue;
                };
                let dbox = [
                    b.bbox.x - w.0[0],
                    b.bbox.y - w.0[1],
                    b.bbox.width - w.0[2],
                    b.bbox.height - w.0[3],
                ]
                .iter()
                .fold(0f64, |m, v| m.max(v.abs()));
                let ds = (b.score - w.1).abs();
                worst.score = worst.score.max(ds);
                worst.box_rel = worst.box_rel.max(dbox / scale);
                let (smax, bmax) = if same_pixels {
                    (1e-4, 0.05)
                } else {
                    (0.05, 0.02 * scale)
                };
                if ds > smax || dbox > bmax {
                    ok = false;
                    why += &format!(" box/score off at {size} ({dbox:.3} px, {ds:.2e});");
                }
            }
            let got_firm = got.iter().filter(|d| firm(d.score)).count();
            if got_firm != want_firm.len() {
                ok = false;
                why += &format!(
                    " {got_firm} firm boxes at {size}, golden {};",
                    want_firm.len()
                );
            }
        }
        // Best face at 320 through the face-api pipeline.
        let best = &im["best320"];
        if !best.is_null() {
            let (_, dets) =
                pipeline::find_faces(m, &view, &pipeline::DetectionPolicy::faceapi()).unwrap();
            match dets.first() {
                None => {
                    face_ok = false;
                    why += " no best face;";
                }
                Some(det) => {
                    let d = pipeline::describe(m, &view, det, Alignment::FaceApi, false).unwrap();
                    let bw = best["box"][2].as_f64().unwrap();
                    let lm_err = d
                        .landmarks
                        .points
                        .iter()
                        .zip(best["landmarks"].as_array().unwrap())
                        .map(|(p, q)| {
                            let q = q.as_array().unwrap();
                            (p.x - q[0].as_f64().unwrap())
                                .abs()
                                .max((p.y - q[1].as_f64().unwrap()).abs())
                        })
                        .fold(0f64, f64::max);
                    worst.landmark_rel = worst.landmark_rel.max(lm_err / bw);
                    let want_box: Vec<f64> = best["align_box"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap())
                        .collect();
                    let same_box = d.align_box.unwrap().to_vec() == want_box;
                    let dist = euclidean(&d.descriptor, &f32s(&best["descriptor"]));
                    worst.descriptor = worst.descriptor.max(dist);
                    if same_box {
                        worst.descriptor_same_box = worst.descriptor_same_box.max(dist);
                    }
                    let (lmax, dmax) = if same_pixels {
                        (0.05, 1e-4)
                    } else {
                        (0.03 * bw, 0.15)
                    };
                    if lm_err > lmax || dist > dmax || (same_pixels && !same_box) {
                        face_ok = false;
                        why += &format!(" landmarks {lm_err:.3} px, descriptor L2 {dist:.4}, same align box {same_box};");
                    }
                }
            }
        }
        if same_pixels {
            tight_n += 1;
            tight_ok += (ok && face_ok) as usize;
        } else {
            loose_n += 1;
            loose_ok += ok as usize;
            loose_face_ok += face_ok as usize;
        }
        if !(ok && face_ok) {
            failures.push(format!("{}:{why}", im["path"]));
        }
    }
    eprintln!(
        "end-to-end parity: tight {tight_ok}/{tight_n}; cross-decoder detections {loose_ok}/{loose_n}, best face {loose_face_ok}/{loose_n}; worst {worst:?}"
    );
    for f in &failures {
        eprintln!("  outside tolerance: {f}");
    }
    assert!(tight_n > 0, "no byte-identical image covered");
    assert!(
        tight_ok * 100 >= tight_n * 99,
        "tight parity on {tight_ok}/{tight_n}"
    );
    // Another JPEG decoder moves scores by up to ~0.06 and small boxes by up to ~10%
    // (golden/README.md), so cross-decoder detections are held loosely and statistically.
    assert!(
        loose_ok * 100 >= loose_n * 90,
        "cross-decoder detections agree on {loose_ok}/{loose_n}"
    );
    assert!(
        loose_face_ok * 100 >= loose_n * 97,
        "cross-decoder best face agrees on {loose_face_ok}/{loose_n}"
    );
}

/// The hand-written detector (`conv_gemm`) gives the same network output as the whole
/// detector run in tract, on real photos at every input size.
#[test]
fn detector_matches_tract_graph() {
    let m = models();
    let tract =
        ReferenceDetector::load(model_weights(lazaret_face::models_fetch::DETECTOR_MANIFEST))
            .unwrap();
    let photos: Vec<_> = reference_photos()
        .iter()
        .map(|p| (p.clone(), decode_rgb(p)))
        .collect();
    on_every_path(|kernels| {
        for (path, img) in &photos {
            let view = RgbView::new(img.as_raw(), img.width() as usize, img.height() as usize);
            for size in lazaret_face::detector::INPUT_SIZES {
                let fast = m.detector.forward(&view, size).unwrap();
                let reference = tract.forward(&view, size).unwrap();
                assert_eq!(fast.len(), reference.len());
                let worst = fast
                    .iter()
                    .zip(&reference)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                // Only the summation order differs; the outputs are logits of order 1-10.
                assert!(
                    worst < 1e-3,
                    "{kernels}: {} at {size}: max difference {worst}",
                    path.display()
                );
            }
        }
    });
}

/// A network's weights from the model cache, to build tract's reference graph from.
fn model_weights(manifest: &str) -> lazaret_face::weights::WeightMap {
    let dir = lazaret_face::models_fetch::default_models_dir();
    lazaret_face::weights::WeightMap::load(&dir.join(manifest)).unwrap()
}

/// Two fixture photos (two people, one in colour, one grey) for the per-network comparisons.
fn reference_photos() -> [std::path::PathBuf; 2] {
    [fixture_path(ENROL), fixture_path(OTHER)]
}

/// The hand-written recognition net (`conv_gemm`) gives the descriptor of tract's graph of
/// the same net, on real faces (whole photo and its mirror image as the 150×150 input).
#[test]
fn recognition_matches_tract_graph() {
    let m = models();
    let weights = model_weights(lazaret_face::models_fetch::RECOGNITION_MANIFEST);
    let reference = lazaret_face::reference::recognition_net(&weights).unwrap();
    let cases: Vec<_> = reference_photos()
        .iter()
        .map(|path| {
            let img = decode_rgb(path);
            let view = RgbView::new(img.as_raw(), img.width() as usize, img.height() as usize);
            let input = lazaret_face::preprocess::square_resize_normalized(
                &view,
                lazaret_face::preprocess::SquarePad::Centered,
                lazaret_face::recognition::INPUT_SIZE,
                lazaret_face::recognition::MEAN_RGB,
            );
            let want = reference.run(input.clone()).unwrap();
            (path.clone(), input, want)
        })
        .collect();
    on_every_path(|kernels| {
        for (path, input, want) in &cases {
            let fast = m.recognition.forward_normalized(input.clone()).unwrap();
            assert_eq!(fast.len(), want.len());
            let d = euclidean(&fast, want);
            // Only the summation order differs; descriptors are ~1 long, same-person
            // distances ~0.4.
            assert!(
                d < 1e-4,
                "{kernels}: {}: distance to tract's descriptor {d}",
                path.display()
            );
        }
    });
}

/// Each hand-written landmark net (tiny and full) gives tract's output for the same net on
/// real face crops.
#[test]
fn landmarks_match_tract_graph() {
    for model in [LandmarkModel::Tiny, LandmarkModel::Full] {
        landmarks_match_tract_graph_for(model);
    }
}

fn landmarks_match_tract_graph_for(model: LandmarkModel) {
    let m = models();
    let weights = model_weights(model.manifest());
    let net = LandmarkNet::load(&weights, model).unwrap();
    let reference = lazaret_face::reference::landmarks_net(&weights, model).unwrap();
    for path in &reference_photos() {
        let img = decode_rgb(path);
        let view = RgbView::new(img.as_raw(), img.width() as usize, img.height() as usize);
        let det = m
            .detector
            .detect(&view, &Default::default())
            .unwrap()
            .first()
            .copied()
            .expect("a face");
        let b = det.bbox;
        let (x, y) = (b.x.max(0.0) as usize, b.y.max(0.0) as usize);
        let crop = view.crop(
            x,
            y,
            (b.width as usize).min(view.width - x),
            (b.height as usize).min(view.height - y),
        );
        let input = lazaret_face::preprocess::square_resize_normalized(
            &crop,
            lazaret_face::preprocess::SquarePad::Centered,
            lazaret_face::landmarks::INPUT_SIZE,
            lazaret_face::landmarks::MEAN_RGB,
        );
        let want = reference.run(input.clone()).unwrap();
        on_every_path(|kernels| {
            let fast = net.forward_normalized(&input).unwrap();
            assert_eq!(fast.len(), want.len());
            let worst = fast
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            // Outputs are fractions of the 112-px input: 1e-4 is a hundredth of a pixel.
            assert!(
                worst < 1e-4,
                "{model:?}, {kernels}: {}: max difference {worst}",
                path.display()
            );
        });
    }
}
