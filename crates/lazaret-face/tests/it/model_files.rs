//! The real model files, corrupted in a temp dir: each damage gets its typed error.

use crate::common;

use std::path::Path;

use lazaret_face::landmarks::LandmarkModel;
use lazaret_face::models::{FaceModels, ModelError};
use lazaret_face::models_fetch::{self, MODEL_FILES};
use lazaret_face::weights::{WeightMap, WeightsError};

fn copy_models(to: &Path) {
    common::models(); // makes sure they were fetched
    let from = models_fetch::default_models_dir();
    for (name, _) in MODEL_FILES {
        std::fs::copy(from.join(name), to.join(name)).unwrap();
    }
}

#[test]
fn fetched_files_are_verified_and_load() {
    let dir = models_fetch::default_models_dir();
    assert!(models_fetch::models_present(&dir));
    // Only the three networks we use are there: no age/gender/expression model.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            !name.contains("age") && !name.contains("gender") && !name.contains("expression"),
            "unexpected model file {name}"
        );
    }
    let rec = WeightMap::load(&dir.join(models_fetch::RECOGNITION_MANIFEST)).unwrap();
    // 8 conv64 filters are f32, the rest uint8: all 5.6M parameters arrive.
    assert_eq!(rec.get("fc", &[256, 128]).unwrap().data.len(), 256 * 128);
    assert_eq!(rec.len(), 117);
}

/// A folder fetched before the full landmark net was extracted still serves the default
/// engine (`serve` never fetches): only the evaluation option needs those two files.
#[test]
fn the_default_engine_needs_no_full_landmark_net() {
    let tmp = tempfile::tempdir().unwrap();
    copy_models(tmp.path());
    std::fs::remove_file(tmp.path().join(models_fetch::LANDMARKS_FULL_MANIFEST)).unwrap();
    std::fs::remove_file(tmp.path().join("face_landmark_68_model.bin")).unwrap();
    assert!(models_fetch::models_present(tmp.path()));
    FaceModels::load_dir(tmp.path()).expect("the default models load");
    assert!(FaceModels::load_dir_with(tmp.path(), LandmarkModel::Full).is_err());
}

#[test]
fn truncated_bin_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    copy_models(tmp.path());
    let bin = tmp.path().join("face_recognition_model.bin");
    let data = std::fs::read(&bin).unwrap();
    std::fs::write(&bin, &data[..data.len() - 1000]).unwrap();
    assert!(
        !models_fetch::models_present(tmp.path()),
        "checksum must catch it"
    );
    match FaceModels::load_dir(tmp.path()) {
        Err(ModelError::Weights(WeightsError::Truncated { name, .. })) => assert_eq!(name, "fc"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn shape_mismatch_and_missing_tensor_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    copy_models(tmp.path());
    let manifest = tmp
        .path()
        .join("face_landmark_68_tiny_model-weights_manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    // Same byte count, other shape.
    std::fs::write(
        &manifest,
        text.replace("[128, 136]", "[136, 128]")
            .replace("[128,136]", "[136,128]"),
    )
    .unwrap();
    match FaceModels::load_dir(tmp.path()) {
        Err(ModelError::Weights(WeightsError::ShapeMismatch { name, .. })) => {
            assert_eq!(name, "fc/weights")
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(&manifest, text.replace("\"fc/bias\"", "\"fc/renamed\"")).unwrap();
    match FaceModels::load_dir(tmp.path()) {
        Err(ModelError::Weights(WeightsError::Missing { name })) => assert_eq!(name, "fc/bias"),
        other => panic!("{other:?}"),
    }
    std::fs::write(&manifest, "{ not json").unwrap();
    assert!(matches!(
        FaceModels::load_dir(tmp.path()),
        Err(ModelError::Weights(WeightsError::Manifest(_)))
    ));
    std::fs::remove_file(tmp.path().join("tiny_face_detector_model.bin")).unwrap();
    assert!(matches!(
        FaceModels::load_dir(tmp.path()),
        Err(ModelError::Weights(WeightsError::Io { .. }))
    ));
}
