//! Decoding untrusted image bytes: JPEG, PNG or WebP (format from the content, not the
//! name), EXIF orientation applied, with limits on bytes and pixels. The pixel limit is
//! checked from the header before any pixel is decoded, so a decompression bomb costs
//! nothing.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

pub use image::RgbImage;

use crate::error::FaceError;

/// Limits on untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageLimits {
    pub max_bytes: usize,
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        // A 24 MP phone photo is ~10 MB; 40 MP decoded is 120 MB of RGB, the most we accept.
        ImageLimits {
            max_bytes: 25 * 1024 * 1024,
            max_pixels: 40_000_000,
        }
    }
}

type Reader<'a> = ImageReader<Cursor<&'a [u8]>>;

fn reader(bytes: &[u8]) -> Result<(Reader<'_>, ImageFormat), FaceError> {
    let r = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| FaceError::CorruptImage(e.to_string()))?;
    match r.format() {
        Some(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => Ok((r, f)),
        _ => Err(FaceError::UnsupportedFormat),
    }
}

/// Refuses a picture of more than `max_pixels` (width × height) from its
/// header alone, before anything is decoded; also refuses what is not a
/// JPEG, PNG or WebP or has no readable header.
pub fn check_pixels(bytes: &[u8], max_pixels: u64) -> Result<(), FaceError> {
    if bytes.is_empty() {
        return Err(FaceError::EmptyImage);
    }
    let (r, _) = reader(bytes)?;
    let (width, height) = r
        .into_dimensions()
        .map_err(|e| FaceError::CorruptImage(e.to_string()))?;
    if width as u64 * height as u64 > max_pixels {
        return Err(FaceError::TooManyPixels {
            width,
            height,
            limit: max_pixels,
        });
    }
    Ok(())
}

/// Decodes `bytes` to 8-bit RGB within `limits`.
pub fn decode_rgb(bytes: &[u8], limits: &ImageLimits) -> Result<RgbImage, FaceError> {
    if bytes.is_empty() {
        return Err(FaceError::EmptyImage);
    }
    if bytes.len() > limits.max_bytes {
        return Err(FaceError::TooManyBytes {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let (r, format) = reader(bytes)?;
    let (width, height) = r
        .into_dimensions()
        .map_err(|e| FaceError::CorruptImage(e.to_string()))?;
    if width as u64 * height as u64 > limits.max_pixels {
        return Err(FaceError::TooManyPixels {
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    if format == ImageFormat::Png {
        check_png_palette(bytes)?;
    }
    let (mut r, _) = reader(bytes)?;
    let mut l = image::Limits::default();
    l.max_image_width = Some(width);
    l.max_image_height = Some(height);
    l.max_alloc = Some(limits.max_pixels * 4 + (64 << 20));
    r.limits(l);
    // A decoder that panics on hostile bytes (png 0.18.1 did, see
    // `check_png_palette`) must cost the sender a corrupt image, not the
    // face worker; the decoders share no state that a panic could leave
    // half-written.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut decoder = r
            .into_decoder()
            .map_err(|e| FaceError::CorruptImage(e.to_string()))?;
        let orientation = decoder
            .orientation()
            .unwrap_or(image::metadata::Orientation::NoTransforms);
        let mut img = DynamicImage::from_decoder(decoder)
            .map_err(|e| FaceError::CorruptImage(e.to_string()))?;
        img.apply_orientation(orientation);
        Ok(img.to_rgb8())
    }))
    .map_err(|_| FaceError::CorruptImage("the image decoder failed on this file".into()))?
}

/// Refuses a PNG whose palette (`PLTE`) is not whole RGB entries, which the
/// PNG specification makes an error: png 0.18.1 (the latest) panics on one
/// when it expands the palette (found by `fuzz/`, target `image_decode`).
fn check_png_palette(bytes: &[u8]) -> Result<(), FaceError> {
    // Chunks after the 8-byte signature: length (4, big-endian), type (4),
    // data, CRC (4). The palette comes before the first image data.
    let mut rest = bytes.get(8..).unwrap_or_default();
    while let (Some(len), Some(kind)) = (rest.get(..4), rest.get(4..8)) {
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if kind == b"PLTE" && !len.is_multiple_of(3) {
            return Err(FaceError::CorruptImage(format!(
                "the PNG palette is {len} bytes, not whole RGB entries"
            )));
        }
        if kind == b"IDAT" {
            break;
        }
        rest = rest.get(len.saturating_add(12)..).unwrap_or_default();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_text_and_oversize() {
        let l = ImageLimits::default();
        assert!(matches!(decode_rgb(b"", &l), Err(FaceError::EmptyImage)));
        assert!(matches!(
            decode_rgb(b"hello, I am not a picture", &l),
            Err(FaceError::UnsupportedFormat)
        ));
        let small = ImageLimits { max_bytes: 4, ..l };
        assert!(matches!(
            decode_rgb(b"12345", &small),
            Err(FaceError::TooManyBytes { size: 5, limit: 4 })
        ));
    }

    /// A 1×1 palette PNG whose `PLTE` is 4 bytes: png 0.18.1 panicked
    /// decoding it (fuzz target `image_decode`, minimised by hand).
    const PALETTE_OF_4_BYTES: [u8; 83] = [
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x03, 0x00, 0x00, 0x00, 0x28,
        0xcb, 0x34, 0xbb, 0x00, 0x00, 0x00, 0x04, 0x50, 0x4c, 0x54, 0x45, 0x00, 0x00, 0x00, 0x00,
        0xb4, 0xa3, 0xae, 0x7a, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63,
        0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x48, 0xaf, 0xa4, 0x71, 0x00, 0x00, 0x00, 0x00,
        0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    #[test]
    fn a_png_palette_of_partial_entries_is_corrupt_not_a_panic() {
        let l = ImageLimits::default();
        assert!(check_pixels(&PALETTE_OF_4_BYTES, l.max_pixels).is_ok());
        match decode_rgb(&PALETTE_OF_4_BYTES, &l) {
            Err(FaceError::CorruptImage(why)) => assert!(why.contains("palette"), "{why}"),
            other => panic!("expected a corrupt image, got {other:?}"),
        }
        // A whole palette (3 bytes: one entry) still decodes.
        let mut whole = PALETTE_OF_4_BYTES.to_vec();
        whole[36] = 3;
        whole.remove(44);
        let crc = crc32(&whole[37..44]);
        whole[44..48].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(decode_rgb(&whole, &l).unwrap().dimensions(), (1, 1));
    }

    /// The PNG chunk CRC (ISO 3309), for the test's edited palette.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    #[test]
    fn png_roundtrip_and_pixel_limit() {
        let img = RgbImage::from_fn(8, 4, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let back = decode_rgb(&png, &ImageLimits::default()).unwrap();
        assert_eq!(back, img);
        let tight = ImageLimits {
            max_pixels: 31,
            ..ImageLimits::default()
        };
        assert!(check_pixels(&png, 32).is_ok());
        assert!(matches!(
            check_pixels(&png, 31),
            Err(FaceError::TooManyPixels {
                width: 8,
                height: 4,
                limit: 31
            })
        ));
        assert!(matches!(
            check_pixels(b"not a picture", 31),
            Err(FaceError::UnsupportedFormat)
        ));
        assert!(matches!(
            decode_rgb(&png, &tight),
            Err(FaceError::TooManyPixels {
                width: 8,
                height: 4,
                ..
            })
        ));
    }
}
