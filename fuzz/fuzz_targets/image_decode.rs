//! Untrusted image bytes as a check-in frame or an enrolment photo meets
//! them: the pixel bound from the header, then the decode (JPEG, PNG, WebP,
//! EXIF orientation). Fast: no model is loaded (face_frame runs the networks).

use lazaret_face::image_input::{check_pixels, decode_rgb, ImageLimits};

/// The server's default `[limits] max_frame_pixels`.
const MAX_FRAME_PIXELS: u64 = 12_000_000;

fn main() {
    let limits = ImageLimits::default();
    afl::fuzz!(|data: &[u8]| {
        if check_pixels(data, MAX_FRAME_PIXELS).is_err() {
            return;
        }
        if let Ok(img) = decode_rgb(data, &limits) {
            // The header's bound must hold for what was decoded.
            let pixels = u64::from(img.width()) * u64::from(img.height());
            assert!(pixels <= MAX_FRAME_PIXELS, "decoded {pixels} pixels");
            assert_eq!(img.as_raw().len() as u64, pixels * 3);
        }
    });
}
