//! Per-stage CPU timing of the networks on one photo: `cargo run --release --example
//! stage_timing -p lazaret-face -- PHOTO [N]`.

use std::time::Instant;

use lazaret_face::detector::DetectorConfig;
use lazaret_face::models::FaceModels;
use lazaret_face::preprocess::{normalize_nchw, square_resize, RgbView, SquarePad};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).expect("usage: stage_timing PHOTO [N]");
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50);
    let dir = lazaret_face::models_fetch::default_models_dir();
    let m = FaceModels::ensure_and_load(&dir).expect("models");
    let bytes = std::fs::read(path).expect("read");
    let img = lazaret_face::image_input::decode_rgb(&bytes, &Default::default()).expect("decode");
    let view = RgbView::new(img.as_raw(), img.width() as usize, img.height() as usize);
    let time = |name: &str, f: &mut dyn FnMut()| {
        f();
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        println!(
            "{name:>24}: {:.2} ms",
            t.elapsed().as_secs_f64() * 1000.0 / n as f64
        );
    };
    time("detector preprocess 320", &mut || {
        let hwc = square_resize(&view, SquarePad::BottomRight, 320);
        std::hint::black_box(normalize_nchw(&hwc, 320, [0.0; 3]));
    });
    time("detector forward 320", &mut || {
        std::hint::black_box(m.detector.forward(&view, 320).unwrap());
    });
    let cfg = DetectorConfig::default();
    let det = m.detector.detect(&view, &cfg).unwrap()[0];
    time("landmarks", &mut || {
        std::hint::black_box(m.landmarks.detect(&view, &det.bbox).unwrap());
    });
    let lm = m.landmarks.detect(&view, &det.bbox).unwrap().unwrap();
    time("dlib chip", &mut || {
        std::hint::black_box(lazaret_face::align::dlib_chip(&view, &lm));
    });
    let chip = lazaret_face::align::dlib_chip(&view, &lm);
    time("recognition", &mut || {
        std::hint::black_box(m.recognition.descriptor_of_chip(&chip).unwrap());
    });
}
