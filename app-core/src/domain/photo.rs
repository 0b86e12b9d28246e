//! Photo metadata (照片). The image bytes themselves live in the store's blob
//! table and on the server's photo store, addressed by their SHA-256.

use serde::{Deserialize, Serialize};

use super::{GeoPoint, Timestamp};

/// The SHA-256 of a stored image's bytes, shown as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhotoHash([u8; 32]);

/// A photo hash that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("photo hash {0:?} is not 64 hex digits")]
pub struct PhotoHashError(pub String);

impl PhotoHash {
    /// Wraps a digest.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        PhotoHash(bytes)
    }

    /// The digest.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 hex digits (either case).
    pub fn parse(s: &str) -> Result<Self, PhotoHashError> {
        let err = || PhotoHashError(s.to_string());
        if s.len() != 64 {
            return Err(err());
        }
        let mut out = [0u8; 32];
        for (i, pair) in s.as_bytes().chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16).ok_or_else(err)?;
            let lo = (pair[1] as char).to_digit(16).ok_or_else(err)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Ok(PhotoHash(out))
    }
}

impl std::fmt::Display for PhotoHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for PhotoHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhotoHash({self})")
    }
}

impl std::str::FromStr for PhotoHash {
    type Err = PhotoHashError;
    fn from_str(s: &str) -> Result<Self, PhotoHashError> {
        PhotoHash::parse(s)
    }
}

impl Serialize for PhotoHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PhotoHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        PhotoHash::parse(&s).map_err(serde::de::Error::custom)
    }
}

doc_as_string!(PhotoHash);

/// A photo attached to a record (照片): evidence of the work or material for a
/// diagnosis. Items in a record's photo list are keyed by `hash`, so two
/// devices adding photos at once both keep theirs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "doc", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct PhotoMeta {
    /// SHA-256 of the stored (resized) image.
    #[cfg_attr(feature = "doc", key)]
    pub hash: PhotoHash,
    /// SHA-256 of the thumbnail.
    pub thumb: PhotoHash,
    /// Size of the stored image in bytes.
    pub size_bytes: u64,
    /// Width in pixels of the stored image.
    pub width: u32,
    /// Height in pixels of the stored image.
    pub height: u32,
    /// When the picture was taken (from EXIF, else when it was attached).
    pub taken_at: Option<Timestamp>,
    /// Where, from EXIF or the device.
    pub location: Option<GeoPoint>,
    /// The commissioner's caption.
    pub caption: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_as_lowercase_hex() {
        let h = PhotoHash::from_bytes([0xab; 32]);
        let s = h.to_string();
        assert_eq!(s, "ab".repeat(32));
        assert_eq!(PhotoHash::parse(&s.to_uppercase()).unwrap(), h);
        assert!(PhotoHash::parse("abc").is_err());
        assert!(PhotoHash::parse(&"zz".repeat(32)).is_err());
    }
}
