//! Parity of our networks with the original face-api.js outputs in shared/golden.

mod common;

use common::*;
use lazaret_face::preprocess::RgbView;
use lazaret_face::recognition::euclidean;

#[test]
fn crop_descriptors_match_golden() {
    let g = golden("crops.json");
    let images = g["images"].as_array().unwrap();
    assert_eq!(images.len(), 40);
    let m = models();
    let mut worst = 0f32;
    for img in images {
        let path = shared_dir()
            .join("faces")
            .join(img["path"].as_str().unwrap());
        let rgb = decode_rgb(&path);
        let view = RgbView::new(rgb.as_raw(), rgb.width() as usize, rgb.height() as usize);
        let d = m.recognition.descriptor(&view).unwrap();
        let want = f32s(&img["descriptor"]);
        let dist = euclidean(&d, &want);
        worst = worst.max(dist);
        assert!(dist < 1e-4, "{}: L2 {dist}", path.display());
    }
    eprintln!("crops: worst descriptor L2 difference {worst:e}");
}
