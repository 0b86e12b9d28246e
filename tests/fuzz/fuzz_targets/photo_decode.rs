//! A photo as the device receives it from the camera or a picked file:
//! any bytes, through `app_core::photo::process` (the function the shell
//! calls when a commissioner attaches a photo): format sniffing, the
//! declared-size check and the decoder's `Limits`, EXIF orientation, time
//! and GPS, the shrink and the JPEG encodes.
//!
//! Asserts: nothing panics and no allocation passes the fuzzer's memory
//! limit (a decompression bomb is refused before it is decoded); a refusal
//! is one of the typed errors, and a size refusal names a size past
//! [`MAX_INPUT_PIXELS`] (or an empty one); a photo that is accepted is a
//! JPEG of its stated dimensions, at most [`STORED_LONG_SIDE`] on the long
//! side and [`STORED_MAX_BYTES`] long, with a JPEG thumbnail at most
//! [`THUMB_LONG_SIDE`] on the long side, and a location only if valid.
#![no_main]

use std::io::Cursor;

use app_core::photo::{
    MAX_INPUT_PIXELS, PhotoError, STORED_LONG_SIDE, STORED_MAX_BYTES, THUMB_LONG_SIDE, process,
};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder, ImageFormat, ImageReader};
use libfuzzer_sys::fuzz_target;

/// A small gradient with some noise, `width` × `height`, RGB.
fn picture(width: u32, height: u32) -> image::RgbImage {
    let mut seed = 0x2545_f491_u32;
    image::RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed % 40) as u8;
        image::Rgb([
            ((x * 255 / width) as u8).saturating_add(n),
            ((y * 255 / height) as u8).saturating_add(n / 2),
            (((x + y) * 127 / (width + height)) as u8).saturating_add(n),
        ])
    })
}

/// Real small photos made by the same `image` crate the device uses: a
/// JPEG, a PNG (RGB and grey with alpha), a lossless WebP, and a JPEG with
/// an EXIF block (orientation, time, GPS).
fn seeds() -> Vec<Vec<u8>> {
    let rgb = picture(24, 16);
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode(&rgb, 24, 16, ExtendedColorType::Rgb8)
        .unwrap();
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(&rgb, 24, 16, ExtendedColorType::Rgb8)
        .unwrap();
    let grey: Vec<u8> = (0..12 * 8).flat_map(|i| [i as u8 * 2, 200]).collect();
    let mut grey_png = Vec::new();
    PngEncoder::new(&mut grey_png)
        .write_image(&grey, 12, 8, ExtendedColorType::La8)
        .unwrap();
    let mut webp = Vec::new();
    WebPEncoder::new_lossless(&mut webp)
        .write_image(&rgb, 24, 16, ExtendedColorType::Rgb8)
        .unwrap();
    vec![jpeg.clone(), png, grey_png, webp, with_exif(&jpeg)]
}

/// `jpeg` with an APP1 EXIF segment: orientation 6, a time, a GPS point.
fn with_exif(jpeg: &[u8]) -> Vec<u8> {
    use exif::{Field, In, Rational, Tag, Value};
    let field = |tag, value| Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    };
    let fields = [
        field(
            Tag::DateTimeOriginal,
            Value::Ascii(vec![b"2026:11:28 10:15:30".to_vec()]),
        ),
        field(Tag::Orientation, Value::Short(vec![6])),
        field(Tag::GPSLatitudeRef, Value::Ascii(vec![b"N".to_vec()])),
        field(
            Tag::GPSLatitude,
            Value::Rational(vec![
                Rational::from((28, 1)),
                Rational::from((33, 1)),
                Rational::from((0, 1)),
            ]),
        ),
        field(Tag::GPSLongitudeRef, Value::Ascii(vec![b"E".to_vec()])),
        field(
            Tag::GPSLongitude,
            Value::Rational(vec![
                Rational::from((107, 1)),
                Rational::from((26, 1)),
                Rational::from((24, 1)),
            ]),
        ),
    ];
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// The dimensions of a JPEG the device wrote.
fn jpeg_dimensions(bytes: &[u8]) -> (u32, u32) {
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(ImageFormat::Jpeg);
    reader.into_dimensions().expect("the device writes JPEGs")
}

fuzz_target!(
    init: ketepai_fuzz::write_seeds(seeds),
    |data: &[u8]| {
        match process(data) {
            Ok(photo) => {
                let (w, h) = (photo.width, photo.height);
                assert!(w >= 1 && h >= 1, "{w}×{h}");
                assert!(w.max(h) <= STORED_LONG_SIDE, "{w}×{h}");
                assert!(photo.image.len() <= STORED_MAX_BYTES, "{} bytes", photo.image.len());
                assert_eq!(jpeg_dimensions(&photo.image), (w, h), "the stated dimensions");
                let (tw, th) = jpeg_dimensions(&photo.thumb);
                assert!(tw >= 1 && th >= 1 && tw.max(th) <= THUMB_LONG_SIDE, "thumb {tw}×{th}");
                if let Some(at) = photo.location {
                    assert!(at.is_valid(), "{at:?}");
                }
            }
            Err(PhotoError::TooManyPixels { width, height }) => {
                let pixels = u64::from(width) * u64::from(height);
                assert!(pixels > MAX_INPUT_PIXELS || pixels == 0, "{width}×{height} refused");
            }
            Err(PhotoError::FileTooLarge { .. }) => {
                panic!("libFuzzer's inputs are far below the file limit")
            }
            Err(PhotoError::Unsupported | PhotoError::Corrupt { .. }) => {}
        }
    }
);
