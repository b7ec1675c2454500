//! Per-stage CPU timing of the networks on one photo, each beside tract's graph of it:
//! `cargo run --release --workspace --features lazaret-face/reference --example
//! stage_timing -- PHOTO [N]`.

use std::time::Instant;

use lazaret_face::detector::DetectorConfig;
use lazaret_face::models::FaceModels;
use lazaret_face::preprocess::{normalize_nchw, square_resize, RgbView, SquarePad};
use lazaret_face::reference::ReferenceDetector;
use lazaret_face::weights::WeightMap;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: stage_timing PHOTO [N]");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50);
    let dir = lazaret_face::models_fetch::default_models_dir();
    let m = FaceModels::ensure_and_load(&dir).expect("models");
    let bytes = std::fs::read(path).expect("read");
    let img = lazaret_face::image_input::decode_rgb(&bytes, &Default::default()).expect("decode");
    let view = RgbView::new(img.as_raw(), img.width() as usize, img.height() as usize);
    let tract_detector = ReferenceDetector::load(
        WeightMap::load(&dir.join(lazaret_face::models_fetch::DETECTOR_MANIFEST))
            .expect("detector weights"),
    )
    .expect("detector weights");
    if std::env::var_os("SHOW_OPS").is_some() {
        for l in tract_detector.describe_ops(320).unwrap() {
            println!("{l}");
        }
    }
    let time = |name: &str, f: &mut dyn FnMut()| {
        f();
        // Mean and minimum: the minimum is robust to other load on a shared machine.
        let (mut total, mut best) = (0.0, f64::MAX);
        for _ in 0..n {
            let t = Instant::now();
            f();
            let dt = t.elapsed().as_secs_f64() * 1000.0;
            total += dt;
            best = best.min(dt);
        }
        println!(
            "{name:>24}: mean {:.2} ms, min {best:.2} ms",
            total / n as f64
        );
    };
    time("detector preprocess 320", &mut || {
        let hwc = square_resize(&view, SquarePad::BottomRight, 320);
        std::hint::black_box(normalize_nchw(&hwc, 320, [0.0; 3]));
    });
    time("detector forward 320", &mut || {
        std::hint::black_box(m.detector.forward(&view, 320).unwrap());
    });
    time("detector forward 320 (tract)", &mut || {
        std::hint::black_box(tract_detector.forward(&view, 320).unwrap());
    });
    let cfg = DetectorConfig::default();
    let det = m.detector.detect(&view, &cfg).unwrap()[0];
    time("landmarks", &mut || {
        std::hint::black_box(m.landmarks.detect(&view, &det.bbox).unwrap());
    });
    let lm = m.landmarks.detect(&view, &det.bbox).unwrap().unwrap();
    let lm_weights = WeightMap::load(&dir.join(lazaret_face::models_fetch::LANDMARKS_MANIFEST))
        .expect("landmark weights");
    let lm_reference = lazaret_face::reference::landmarks_net(
        &lm_weights,
        lazaret_face::landmarks::LandmarkModel::Tiny,
    )
    .expect("tract graph");
    let [x, y, w, h] = lm.crop;
    let lm_input = lazaret_face::preprocess::square_resize_normalized(
        &view.crop(x, y, w, h),
        SquarePad::Centered,
        lazaret_face::landmarks::INPUT_SIZE,
        [122.782, 117.001, 104.298],
    );
    time("landmarks net", &mut || {
        std::hint::black_box(m.landmarks.forward_normalized(&lm_input).unwrap());
    });
    time("landmarks net (tract)", &mut || {
        std::hint::black_box(lm_reference.run(lm_input.clone()).unwrap());
    });
    time("dlib chip", &mut || {
        std::hint::black_box(lazaret_face::align::dlib_chip(&view, &lm));
    });
    let chip = lazaret_face::align::dlib_chip(&view, &lm);
    time("recognition", &mut || {
        std::hint::black_box(m.recognition.descriptor_of_chip(&chip).unwrap());
    });
    // The same net as a tract graph (what the engine ran before `conv_gemm`), for A/B.
    let weights = WeightMap::load(&dir.join(lazaret_face::models_fetch::RECOGNITION_MANIFEST))
        .expect("recognition weights");
    let reference = lazaret_face::reference::recognition_net(&weights).expect("tract graph");
    let input = normalize_nchw(
        &chip,
        lazaret_face::recognition::INPUT_SIZE,
        [122.782, 117.001, 104.298],
    );
    time("recognition (tract)", &mut || {
        std::hint::black_box(reference.run(input.clone()).unwrap());
    });
}
