//! Photo processing on the device (照片处理): decode what the camera or a file
//! gives, turn it upright, shrink it to about 1600 px on the long side and
//! 250 KB or less, make a small thumbnail, and read the time and GPS from
//! EXIF. Corrupt files and decompression bombs are refused with a typed error,
//! never a crash or an out-of-memory kill on a 2 GB phone.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ExtendedColorType, ImageFormat, ImageReader, Limits};
use serde::{Deserialize, Serialize};

use crate::domain::{GeoPoint, Timestamp};

/// Long side of a stored photo, in pixels.
pub const STORED_LONG_SIDE: u32 = 1600;
/// Long side of a thumbnail, in pixels.
pub const THUMB_LONG_SIDE: u32 = 240;
/// Target size of a stored photo.
pub const STORED_MAX_BYTES: usize = 250 * 1024;
/// Largest input file accepted.
pub const MAX_INPUT_BYTES: usize = 40 * 1024 * 1024;
/// Most pixels an input may declare (a 48 MP phone camera fits).
pub const MAX_INPUT_PIXELS: u64 = 64_000_000;

/// Why a photo was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum PhotoError {
    /// The file is larger than [`MAX_INPUT_BYTES`].
    #[error("photo file of {bytes} bytes is too large")]
    FileTooLarge {
        /// Its size.
        bytes: usize,
    },
    /// The image declares more pixels than [`MAX_INPUT_PIXELS`] (a
    /// decompression bomb or a panorama too large for the phone).
    #[error("photo of {width}×{height} pixels is too large")]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// Not a format the app reads (JPEG, PNG, WebP).
    #[error("photo format is not supported")]
    Unsupported,
    /// The bytes do not decode as an image.
    #[error("photo file is damaged: {message}")]
    Corrupt {
        /// What the decoder said.
        message: String,
    },
}

impl PhotoError {
    /// A stable code for the interface.
    pub fn code(&self) -> &'static str {
        match self {
            PhotoError::FileTooLarge { .. } => "photo_file_too_large",
            PhotoError::TooManyPixels { .. } => "photo_too_many_pixels",
            PhotoError::Unsupported => "photo_unsupported",
            PhotoError::Corrupt { .. } => "photo_corrupt",
        }
    }
}

/// A processed photo, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedPhoto {
    /// The stored image (JPEG).
    pub image: Vec<u8>,
    /// The thumbnail (JPEG).
    pub thumb: Vec<u8>,
    /// Width of the stored image.
    pub width: u32,
    /// Height of the stored image.
    pub height: u32,
    /// When it was taken, from EXIF (read as China time).
    pub taken_at: Option<Timestamp>,
    /// Where, from EXIF.
    pub location: Option<GeoPoint>,
}

impl ProcessedPhoto {
    /// The photo's metadata as a record keeps it, once the image and the
    /// thumbnail are stored under `hash` and `thumb`: taken when EXIF says,
    /// else `now` (the store's clock, when it was added), no caption yet.
    pub fn meta(
        &self,
        hash: crate::domain::PhotoHash,
        thumb: crate::domain::PhotoHash,
        now: Timestamp,
    ) -> crate::domain::PhotoMeta {
        crate::domain::PhotoMeta {
            hash,
            thumb,
            size_bytes: self.image.len() as u64,
            width: self.width,
            height: self.height,
            taken_at: Some(self.taken_at.unwrap_or(now)),
            location: self.location,
            caption: String::new(),
        }
    }
}

fn corrupt(e: impl std::fmt::Display) -> PhotoError {
    PhotoError::Corrupt {
        message: e.to_string(),
    }
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, PhotoError> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(corrupt)?;
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) => Ok(reader),
        _ => Err(PhotoError::Unsupported),
    }
}

/// Processes a photo from the camera or a file.
pub fn process(bytes: &[u8]) -> Result<ProcessedPhoto, PhotoError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(PhotoError::FileTooLarge { bytes: bytes.len() });
    }
    // Check the declared size before decoding anything.
    let (width, height) = reader(bytes)?.into_dimensions().map_err(corrupt)?;
    if u64::from(width) * u64::from(height) > MAX_INPUT_PIXELS || width == 0 || height == 0 {
        return Err(PhotoError::TooManyPixels { width, height });
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    limits.max_alloc = Some(MAX_INPUT_PIXELS * 4 + 64 * 1024 * 1024);
    let mut decoding = reader(bytes)?;
    decoding.limits(limits);
    let mut img = decoding.decode().map_err(corrupt)?;

    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(bytes))
        .ok();
    if let Some(o) = exif
        .as_ref()
        .and_then(|e| e.get_field(exif::Tag::Orientation, exif::In::PRIMARY))
        .and_then(|f| f.value.get_uint(0))
        .and_then(|v| u8::try_from(v).ok())
        .and_then(Orientation::from_exif)
    {
        img.apply_orientation(o);
    }

    let stored = shrink(&img, STORED_LONG_SIDE);
    let image = encode_within(&stored, STORED_MAX_BYTES)?;
    let thumb = encode(&shrink(&img, THUMB_LONG_SIDE), 70)?;
    Ok(ProcessedPhoto {
        image,
        thumb,
        width: stored.width(),
        height: stored.height(),
        taken_at: exif.as_ref().and_then(taken_at),
        location: exif.as_ref().and_then(location),
    })
}

fn shrink(img: &DynamicImage, long_side: u32) -> DynamicImage {
    if img.width().max(img.height()) <= long_side {
        img.clone()
    } else {
        img.resize(long_side, long_side, FilterType::Triangle)
    }
}

fn encode(img: &DynamicImage, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let rgb = img.to_rgb8();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode(&rgb, rgb.width(), rgb.height(), ExtendedColorType::Rgb8)
        .map_err(corrupt)?;
    Ok(out)
}

/// Encodes at the best quality that fits `max_bytes` (down to quality 40,
/// then smaller dimensions).
fn encode_within(img: &DynamicImage, max_bytes: usize) -> Result<Vec<u8>, PhotoError> {
    for quality in [82, 75, 68, 60, 50, 40] {
        let out = encode(img, quality)?;
        if out.len() <= max_bytes {
            return Ok(out);
        }
    }
    let smaller = shrink(img, img.width().max(img.height()) * 3 / 4);
    encode_within(&smaller, max_bytes)
}

fn taken_at(e: &exif::Exif) -> Option<Timestamp> {
    let field = e
        .get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY)
        .or_else(|| e.get_field(exif::Tag::DateTime, exif::In::PRIMARY))?;
    let exif::Value::Ascii(ref parts) = field.value else {
        return None;
    };
    let dt = exif::DateTime::from_ascii(parts.first()?).ok()?;
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::from(dt.year),
        u32::from(dt.month),
        u32::from(dt.day),
    )?;
    let at = date.and_hms_opt(
        u32::from(dt.hour),
        u32::from(dt.minute),
        u32::from(dt.second),
    )?;
    Some(Timestamp::from_china_local(at))
}

fn degrees(e: &exif::Exif, tag: exif::Tag, reference: exif::Tag, negative: &str) -> Option<f64> {
    let field = e.get_field(tag, exif::In::PRIMARY)?;
    let exif::Value::Rational(ref v) = field.value else {
        return None;
    };
    if v.len() < 3 {
        return None;
    }
    let value = v[0].to_f64() + v[1].to_f64() / 60.0 + v[2].to_f64() / 3600.0;
    let sign = match e.get_field(reference, exif::In::PRIMARY) {
        Some(f) if f.display_value().to_string().trim_matches('"') == negative => -1.0,
        _ => 1.0,
    };
    Some(sign * value)
}

fn location(e: &exif::Exif) -> Option<GeoPoint> {
    let lat = degrees(e, exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, "S")?;
    let lon = degrees(e, exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef, "W")?;
    let point = GeoPoint {
        lat,
        lon,
        accuracy_m: None,
    };
    point.is_valid().then_some(point)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy_jpeg(width: u32, height: u32) -> Vec<u8> {
        // Smooth gradients with noise compress like a real field photo.
        let mut seed = 0x2545_f491_u32;
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let n = (seed % 40) as u8;
            image::Rgb([
                ((x * 255 / width) as u8).saturating_add(n),
                ((y * 255 / height) as u8).saturating_add(n / 2),
                (((x + y) * 127 / (width + height)) as u8).saturating_add(n),
            ])
        });
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 92)
            .encode(&img, width, height, ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    #[test]
    fn a_camera_photo_is_shrunk_to_1600px_and_250kb_with_a_thumbnail() {
        let original = noisy_jpeg(4000, 3000);
        assert!(
            original.len() > 1_000_000,
            "a realistic original ({} bytes)",
            original.len()
        );
        let p = process(&original).unwrap();
        assert_eq!((p.width, p.height), (1600, 1200));
        assert!(p.image.len() <= STORED_MAX_BYTES, "{} bytes", p.image.len());
        let thumb = image::load_from_memory(&p.thumb).unwrap();
        assert_eq!(thumb.width().max(thumb.height()), THUMB_LONG_SIDE);
        assert_eq!(p.taken_at, None);
        assert_eq!(p.location, None);
    }

    /// Inserts an EXIF APP1 segment with time, GPS and orientation.
    fn with_exif(jpeg: &[u8], orientation: u32) -> Vec<u8> {
        use exif::{Field, In, Rational, Tag, Value};
        let fields = [
            Field {
                tag: Tag::DateTimeOriginal,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![b"2026:11:28 10:15:30".to_vec()]),
            },
            Field {
                tag: Tag::Orientation,
                ifd_num: In::PRIMARY,
                value: Value::Short(vec![orientation as u16]),
            },
            Field {
                tag: Tag::GPSLatitudeRef,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![b"N".to_vec()]),
            },
            Field {
                tag: Tag::GPSLatitude,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![
                    Rational::from((28, 1)),
                    Rational::from((33, 1)),
                    Rational::from((0, 1)),
                ]),
            },
            Field {
                tag: Tag::GPSLongitudeRef,
                ifd_num: In::PRIMARY,
                value: Value::Ascii(vec![b"E".to_vec()]),
            },
            Field {
                tag: Tag::GPSLongitude,
                ifd_num: In::PRIMARY,
                value: Value::Rational(vec![
                    Rational::from((107, 1)),
                    Rational::from((26, 1)),
                    Rational::from((24, 1)),
                ]),
            },
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

    #[test]
    fn time_gps_and_orientation_come_from_exif() {
        let p = process(&with_exif(&noisy_jpeg(1200, 900), 6)).unwrap();
        let expected = chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_opt(10, 15, 30)
            .unwrap();
        assert_eq!(p.taken_at, Some(Timestamp::from_china_local(expected)));
        let at = p.location.unwrap();
        assert!((at.lat - 28.55).abs() < 1e-9, "{at:?}");
        assert!((at.lon - 107.44).abs() < 1e-9, "{at:?}");
        assert_eq!(
            (p.width, p.height),
            (900, 1200),
            "rotated upright (orientation 6)"
        );
    }

    #[test]
    fn a_small_photo_keeps_its_size() {
        let p = process(&noisy_jpeg(800, 600)).unwrap();
        assert_eq!((p.width, p.height), (800, 600));
    }

    #[test]
    fn damaged_and_foreign_files_are_refused() {
        let mut truncated = noisy_jpeg(640, 480);
        truncated.truncate(200);
        assert!(matches!(
            process(&truncated),
            Err(PhotoError::Corrupt { .. })
        ));
        assert_eq!(
            process(b"GIF89a not really").unwrap_err(),
            PhotoError::Unsupported
        );
        assert_eq!(process(b"hello").unwrap_err(), PhotoError::Unsupported);
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_decoding() {
        // A real JPEG whose frame header is patched to declare 65,000 ×
        // 65,000 pixels: decoding it would need 12 GB.
        let mut bomb = noisy_jpeg(16, 16);
        let sof = bomb.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        bomb[sof + 5..sof + 7].copy_from_slice(&65_000u16.to_be_bytes());
        bomb[sof + 7..sof + 9].copy_from_slice(&65_000u16.to_be_bytes());
        match process(&bomb) {
            Err(PhotoError::TooManyPixels { width, height }) => {
                assert_eq!((width, height), (65_000, 65_000))
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
