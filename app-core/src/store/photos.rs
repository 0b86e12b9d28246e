//! Photo bytes on the device and their upload progress.
//!
//! Invariant: a photo is stored under the SHA-256 of its bytes, once; its
//! upload offset only grows, and it is marked uploaded only after the server
//! confirmed the whole photo (whose hash the server verified). A photo made
//! here is uploaded only once a saved record refers to it (`attached`, set
//! by the projection), so a discarded form's photos never leave the device.

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{Result, Store};
use crate::domain::PhotoHash;

/// A photo waiting to be uploaded, with how far the upload got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingPhoto {
    /// The photo.
    pub hash: PhotoHash,
    /// Its size.
    pub len: u64,
    /// Bytes the server has confirmed.
    pub offset: u64,
}

/// SHA-256 of `bytes`.
pub fn hash_bytes(bytes: &[u8]) -> PhotoHash {
    PhotoHash::from_bytes(Sha256::digest(bytes).into())
}

impl Store {
    /// Stores photo bytes made on this device (to be uploaded once a saved
    /// record refers to them); returns their hash. Storing the same bytes
    /// twice keeps one copy.
    pub fn put_photo(&self, bytes: &[u8]) -> Result<PhotoHash> {
        self.insert_photo(bytes, false)
    }

    /// Stores photo bytes fetched from the server (nothing to upload).
    pub fn put_downloaded_photo(&self, bytes: &[u8]) -> Result<PhotoHash> {
        self.insert_photo(bytes, true)
    }

    fn insert_photo(&self, bytes: &[u8], uploaded: bool) -> Result<PhotoHash> {
        let hash = hash_bytes(bytes);
        let now = self.clock.now().as_millis();
        self.conn().execute(
            "INSERT OR IGNORE INTO photos(hash, bytes, created_at, uploaded_offset, uploaded,
                 attached)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![
                hash.as_bytes().as_slice(),
                bytes,
                now,
                if uploaded { bytes.len() as i64 } else { 0 },
                uploaded
            ],
        )?;
        Ok(hash)
    }

    /// The bytes of a photo, if this device has them.
    pub fn photo(&self, hash: &PhotoHash) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT bytes FROM photos WHERE hash = ?1",
                [hash.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// A range of a photo's bytes (for chunked upload).
    pub fn photo_chunk(
        &self,
        hash: &PhotoHash,
        offset: u64,
        len: usize,
    ) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT substr(bytes, ?2, ?3) FROM photos WHERE hash = ?1",
                params![hash.as_bytes().as_slice(), offset as i64 + 1, len as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Photos made here, referred to by a saved record, that the server does
    /// not have yet, oldest first.
    pub fn photos_to_upload(&self) -> Result<Vec<PendingPhoto>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT hash, length(bytes), uploaded_offset FROM photos
             WHERE uploaded = 0 AND attached = 1 ORDER BY created_at, hash",
        )?;
        let rows = stmt.query_map([], |r| {
            let hash: Vec<u8> = r.get(0)?;
            Ok((hash, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (hash, len, offset) = row?;
            let hash: [u8; 32] = hash
                .as_slice()
                .try_into()
                .map_err(|_| super::StoreError::Corrupt("photo hash length".into()))?;
            out.push(PendingPhoto {
                hash: PhotoHash::from_bytes(hash),
                len: len as u64,
                offset: offset as u64,
            });
        }
        Ok(out)
    }

    /// Records how far an upload got (never moves backwards).
    pub fn set_photo_offset(&self, hash: &PhotoHash, offset: u64) -> Result<()> {
        self.conn().execute(
            "UPDATE photos SET uploaded_offset = max(uploaded_offset, ?2) WHERE hash = ?1",
            params![hash.as_bytes().as_slice(), offset as i64],
        )?;
        Ok(())
    }

    /// Resets an upload to start over (after the server lost or refused it).
    pub fn restart_photo_upload(&self, hash: &PhotoHash) -> Result<()> {
        self.conn().execute(
            "UPDATE photos SET uploaded_offset = 0 WHERE hash = ?1",
            [hash.as_bytes().as_slice()],
        )?;
        Ok(())
    }

    /// Marks a photo as held by the server.
    pub fn mark_photo_uploaded(&self, hash: &PhotoHash) -> Result<()> {
        self.conn().execute(
            "UPDATE photos SET uploaded = 1, uploaded_offset = length(bytes) WHERE hash = ?1",
            [hash.as_bytes().as_slice()],
        )?;
        Ok(())
    }

    /// Bytes of photos still to upload (those [`Store::photos_to_upload`]
    /// lists).
    pub fn pending_photo_bytes(&self) -> Result<u64> {
        Ok(self.conn().query_row(
            "SELECT coalesce(sum(length(bytes) - uploaded_offset), 0) FROM photos
             WHERE uploaded = 0 AND attached = 1",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }
}
