//! The public API on the fixture photos (tests/fixtures/faces: person A frontal, frontal
//! again, turned left and right; person B): enrol, verify, liveness, quality, and bad input.

use crate::common::*;
use lazaret_face::liveness::LivenessIssue;
use lazaret_face::quality::QualityIssue;
use lazaret_face::{Challenge, Decision, FaceError, HeadPose, Template};

fn challenge() -> Challenge {
    Challenge::new("t", vec![HeadPose::Center, HeadPose::Left, HeadPose::Right]).unwrap()
}

#[test]
fn enrol_then_verify_same_and_other_person() {
    let e = engine();
    let t = e.enroll(&photo(ENROL)).unwrap();
    // Stored as bytes by others: must round-trip.
    let t = Template::from_bytes(&t.to_bytes()).unwrap();
    let same = e.verify(&t, &[photo(CENTER).as_slice()], None).unwrap();
    assert_eq!(same.decision, Decision::Match, "{same:?}");
    assert_eq!(same.threshold, e.config().decision_threshold());
    assert_eq!(same.frontal_frames, 1);
    assert!(same.distance.unwrap() < same.threshold);
    let other = e.verify(&t, &[photo(OTHER).as_slice()], None).unwrap();
    assert_eq!(other.decision, Decision::NoMatch, "{other:?}");
    assert!(other.distance.unwrap() > other.threshold);
    assert!(!other.reasons.is_empty());
}

/// Several frontal frames: the mean of their distances to the template, at the one-photo
/// threshold; turned frames of a challenge do not count.
#[test]
fn frontal_frames_are_judged_by_their_mean_distance() {
    let e = engine();
    let t = e.enroll(&photo(ENROL)).unwrap();
    let frames = [photo(CENTER), photo(LEFT), photo(RIGHT)];
    let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
    let distances: Vec<f32> = frames
        .iter()
        .map(|f| {
            let d = e.analyze(f).unwrap().descriptor;
            lazaret_face::recognition::euclidean(&t.descriptor, &d)
        })
        .collect();
    let v = e.verify(&t, &refs, None).unwrap();
    assert_eq!(v.frontal_frames, 3);
    assert_eq!(v.threshold, e.config().decision_threshold());
    let mean = distances.iter().sum::<f32>() / 3.0;
    assert!(
        (v.distance.unwrap() - mean).abs() < 1e-5,
        "{v:?} vs {distances:?}"
    );
    // With a challenge only the centre frame is frontal: its own distance.
    let c = e.verify(&t, &refs, Some(&challenge())).unwrap();
    assert_eq!(c.frontal_frames, 1);
    assert!((c.distance.unwrap() - distances[0]).abs() < 1e-5, "{c:?}");
    assert_eq!(c.threshold, v.threshold);
}

#[test]
fn template_from_another_model_is_refused() {
    let e = engine();
    let mut t = e.enroll(&photo(ENROL)).unwrap();
    t.model = "something-else".into();
    let err = e.verify(&t, &[photo(CENTER).as_slice()], None).unwrap_err();
    assert!(matches!(err, FaceError::TemplateMismatch { .. }), "{err}");
    assert!(matches!(
        Template::from_bytes(b"garbage"),
        Err(FaceError::BadTemplate(_))
    ));
}

#[test]
fn liveness_passes_when_the_head_turns_as_asked() {
    let e = engine();
    let t = e.enroll(&photo(ENROL)).unwrap();
    let frames = [photo(CENTER), photo(LEFT), photo(RIGHT)];
    let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
    let v = e.verify(&t, &refs, Some(&challenge())).unwrap();
    let live = v.liveness.as_ref().unwrap();
    assert!(live.passed, "{v:?}");
    assert_eq!(v.decision, Decision::Match, "{v:?}");
    // The same frames against a challenge asking the other way round fail the pose check.
    let swapped =
        Challenge::new("t", vec![HeadPose::Center, HeadPose::Right, HeadPose::Left]).unwrap();
    let v = e.verify(&t, &refs, Some(&swapped)).unwrap();
    let live = v.liveness.unwrap();
    assert!(!live.passed);
    assert!(live
        .issues
        .iter()
        .any(|i| matches!(i, LivenessIssue::PoseNotFollowed { frame: 1, .. })));
    assert_eq!(v.decision, Decision::Retry);
}

#[test]
fn liveness_catches_replay_copies_and_identity_change() {
    let e = engine();
    let enrol = photo(ENROL);
    let t = e.enroll(&enrol).unwrap();
    // The enrolment photo sent three times: copies of each other and of the enrolment.
    let refs = [enrol.as_slice(), enrol.as_slice(), enrol.as_slice()];
    let v = e.verify(&t, &refs, Some(&challenge())).unwrap();
    let live = v.liveness.as_ref().unwrap();
    assert!(live
        .issues
        .iter()
        .any(|i| matches!(i, LivenessIssue::ReplayOfEnrolment { .. })));
    assert!(live
        .issues
        .iter()
        .any(|i| matches!(i, LivenessIssue::NearDuplicateFrames { .. })));
    assert_eq!(v.decision, Decision::NoMatch);
    // Someone else in the middle frame.
    let frames = [photo(CENTER), photo(OTHER), photo(RIGHT)];
    let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
    let v = e.verify(&t, &refs, Some(&challenge())).unwrap();
    assert!(v
        .liveness
        .unwrap()
        .issues
        .iter()
        .any(|i| matches!(i, LivenessIssue::IdentityChanged { frame: 1, .. })));
    assert_eq!(v.decision, Decision::NoMatch);
    // Wrong number of frames for the challenge is a caller error.
    assert!(matches!(
        e.verify(&t, &refs[..2], Some(&challenge())),
        Err(FaceError::FrameCount { got: 2, .. })
    ));
}

fn transformed(name: &str, f: impl Fn(&image::RgbImage) -> image::RgbImage) -> Vec<u8> {
    let img = image::load_from_memory(&photo(name)).unwrap().to_rgb8();
    png_bytes(&f(&img))
}

#[test]
fn quality_gives_actionable_reasons() {
    let e = engine();
    let dark = transformed(ENROL, |img| {
        let mut d = img.clone();
        d.pixels_mut()
            .for_each(|p| p.0.iter_mut().for_each(|v| *v = (*v as f32 * 0.18) as u8));
        d
    });
    match e.enroll(&dark) {
        Err(FaceError::PoorQuality { issues }) => {
            assert!(issues.contains(&QualityIssue::TooDark), "{issues:?}")
        }
        other => panic!("expected poor quality, got {other:?}"),
    }
    // The fixture is a soft studio portrait, resized. Blurred with σ 3 (about as far as the
    // detector still finds its face) its sharpness falls from ~880 to ~28, just above the
    // default limit of 25; against a limit of 100 it must read as too blurry, the sharp one not.
    let blurred = transformed(ENROL, |img| image::imageops::blur(img, 3.0));
    let mut cfg = lazaret_face::EngineConfig::default();
    cfg.quality.min_sharpness = 100.0;
    let strict =
        lazaret_face::FaceEngine::load(&lazaret_face::models_fetch::default_models_dir(), cfg)
            .unwrap();
    let a = strict.analyze(&blurred).unwrap();
    assert!(
        a.quality.issues.contains(&QualityIssue::TooBlurry),
        "{:?}",
        a.quality
    );
    let sharp = strict.analyze(&photo(ENROL)).unwrap();
    assert!(sharp.quality.ok(), "{:?}", sharp.quality);
    assert!(e.analyze(&photo(ENROL)).unwrap().quality.ok());
    // The face pushed half out of the frame on the left.
    let cut = transformed(ENROL, |img| {
        image::imageops::crop_imm(img, 110, 0, 140, 250).to_image()
    });
    if let Ok(a) = e.analyze(&cut) {
        assert!(
            a.quality.issues.contains(&QualityIssue::FaceCutOff),
            "{:?}",
            a.quality
        );
    }
}

#[test]
fn bad_input_gets_typed_errors() {
    let e = engine();
    assert!(matches!(e.enroll(b""), Err(FaceError::EmptyImage)));
    assert!(matches!(
        e.enroll(b"this is a text file named photo.jpg\n"),
        Err(FaceError::UnsupportedFormat)
    ));
    // Truncated JPEG: either refused as corrupt, or decoded partly and then without a face.
    let jpg = photo(ENROL);
    match e.enroll(&jpg[..jpg.len() / 3]) {
        Err(FaceError::CorruptImage(_) | FaceError::NoFace | FaceError::PoorQuality { .. }) => {}
        other => panic!("truncated JPEG: {other:?}"),
    }
    match e.enroll(&jpg[..200]) {
        Err(FaceError::CorruptImage(_) | FaceError::NoFace) => {}
        other => panic!("JPEG header only: {other:?}"),
    }
    // A 20000×20000 PNG (a decompression bomb's header): refused before decoding.
    let bomb = png_header_only(20_000, 20_000);
    match e.enroll(&bomb) {
        Err(FaceError::TooManyPixels {
            width: 20_000,
            height: 20_000,
            ..
        }) => {}
        other => panic!("bomb: {other:?}"),
    }
    // No face: a smooth gradient.
    let gradient = image::RgbImage::from_fn(400, 300, |x, y| {
        image::Rgb([(x / 2) as u8, (y / 2) as u8, 90])
    });
    assert!(matches!(
        e.enroll(&png_bytes(&gradient)),
        Err(FaceError::NoFace)
    ));
    // Three faces side by side.
    let names = [OTHER, CENTER, LEFT];
    let mut three = image::RgbImage::new(750, 250);
    for (i, n) in names.iter().enumerate() {
        let img = image::load_from_memory(&photo(n)).unwrap().to_rgb8();
        image::imageops::replace(&mut three, &img, 250 * i as i64, 0);
    }
    match e.enroll(&png_bytes(&three)) {
        Err(FaceError::MultipleFaces { count: 3 }) => {}
        other => panic!("three faces: {other:?}"),
    }
    // Codes are stable for APIs.
    assert_eq!(FaceError::NoFace.code(), "no_face");
    assert_eq!(
        FaceError::MultipleFaces { count: 3 }.code(),
        "multiple_faces"
    );
}

/// The fixtures for refusals are refused with their reasons, and the ones the other tests
/// rely on are what they claim: one face each, turned as named, person B someone else.
#[test]
fn fixtures_are_what_the_tests_take_them_for() {
    let e = engine();
    assert!(matches!(e.enroll(&photo(NO_FACE)), Err(FaceError::NoFace)));
    match e.enroll(&photo(TWO_FACES)) {
        Err(FaceError::MultipleFaces { count: 2 }) => {}
        other => panic!("two faces: {other:?}"),
    }
    match e.enroll(&photo(CORRUPT)) {
        Err(err @ FaceError::CorruptImage(_)) => assert_eq!(err.code(), "corrupt_image"),
        other => panic!("corrupt file: {other:?}"),
    }
    let t = e.enroll(&photo(ENROL)).unwrap();
    let yaw = |name: &str| {
        let a = e.analyze(&photo(name)).unwrap();
        assert!(a.quality.ok(), "{name}: {:?}", a.quality);
        a.yaw
    };
    let center = yaw(CENTER);
    assert!(center.abs() < 0.15, "center yaw {center}");
    assert!(yaw(LEFT) - center > 0.2, "left yaw {}", yaw(LEFT));
    assert!(center - yaw(RIGHT) > 0.2, "right yaw {}", yaw(RIGHT));
    for name in [CENTER, LEFT, RIGHT] {
        let v = e.verify(&t, &[photo(name).as_slice()], None).unwrap();
        let d = v.distance.unwrap();
        // Same person, and not a copy of the enrolment photo (replay limit 0.05).
        assert!(d > 0.05 && d < v.threshold, "{name}: {d}");
    }
}

/// A PNG claiming `w × h` grey pixels whose IDAT holds only the first rows (zeros, which
/// would compress ~1000:1 — the shape of a decompression bomb), then IEND.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut z, &vec![0u8; 4 * (w as usize + 1)]).unwrap();
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}
