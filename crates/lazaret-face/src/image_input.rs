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
    let (r, _) = reader(bytes)?;
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
    let (mut r, _) = reader(bytes)?;
    let mut l = image::Limits::default();
    l.max_image_width = Some(width);
    l.max_image_height = Some(height);
    l.max_alloc = Some(limits.max_pixels * 4 + (64 << 20));
    r.limits(l);
    let mut decoder = r
        .into_decoder()
        .map_err(|e| FaceError::CorruptImage(e.to_string()))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| FaceError::CorruptImage(e.to_string()))?;
    img.apply_orientation(orientation);
    Ok(img.to_rgb8())
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
