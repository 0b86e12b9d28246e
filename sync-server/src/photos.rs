//! Photo bytes, content-addressed by SHA-256, in one of two backends
//! ([`crate::config::PhotoBackend`]): files under `<data_dir>/photos`
//! (`ab/cd/<hash>` for finished photos, `partial/<hash>` for uploads in
//! progress), or an S3-compatible object store ([`object`], the choice for
//! several instances).
//!
//! The upload's offset lives in the database (the `photos` table), so that
//! several server instances sharing a database and a photo store agree
//! on it; this module only moves bytes. A chunk is durable (written and
//! fsynced, or stored as an object) before the offset moves past it, so an
//! offset the server reports is always backed by stored bytes. A finished
//! upload is hashed, and only bytes that hash to their name are kept as the
//! photo; otherwise they are deleted. A download streams from the store
//! ([`PhotoStore::stream`]).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use app_core::domain::PhotoHash;
use axum::body::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};

pub mod object;

use object::ObjectPhotos;

/// A download: the photo's bytes as they are read from the store.
pub type PhotoStream = BoxStream<'static, std::io::Result<Bytes>>;

/// Largest photo, in bytes.
pub const MAX_PHOTO: u64 = 8 * 1024 * 1024;
/// Largest upload chunk, in bytes.
pub const MAX_CHUNK: usize = 1024 * 1024;
/// What a download reads from the file at a time.
const STREAM_CHUNK: usize = 64 * 1024;

/// Where photos are kept: the photo directory or an object store.
#[derive(Debug, Clone)]
pub struct PhotoStore {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Local(LocalPhotos),
    Object(ObjectPhotos),
}

/// The photo directory.
#[derive(Debug, Clone)]
struct LocalPhotos {
    root: PathBuf,
}

/// What hashing a finished upload found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The bytes hash to the name; the photo is in place.
    Stored,
    /// They do not; the partial file was deleted.
    Mismatch(PhotoHash),
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(std::io::Error::other)?
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl PhotoStore {
    /// Files under `root` (created if missing).
    pub fn open(root: impl Into<PathBuf>) -> std::io::Result<PhotoStore> {
        let root = root.into();
        std::fs::create_dir_all(root.join("partial"))?;
        Ok(PhotoStore {
            backend: Backend::Local(LocalPhotos { root }),
        })
    }

    /// The backend `config` names: the photo directory, or its S3 bucket.
    pub fn from_config(config: &crate::config::Config) -> std::io::Result<PhotoStore> {
        match &config.photos {
            crate::config::PhotoBackend::Local => PhotoStore::open(config.photo_dir()),
            crate::config::PhotoBackend::S3(s3) => Ok(PhotoStore::object(ObjectPhotos::s3(s3)?)),
        }
    }

    /// Photos in an object store.
    pub fn object(store: ObjectPhotos) -> PhotoStore {
        PhotoStore {
            backend: Backend::Object(store),
        }
    }

    /// Which backend this is: `local` or `object`.
    pub fn kind(&self) -> &'static str {
        match &self.backend {
            Backend::Local(_) => "local",
            Backend::Object(_) => "object",
        }
    }

    /// Starts an upload afresh: no bytes stored.
    pub async fn begin(&self, hash: &PhotoHash) -> std::io::Result<()> {
        match &self.backend {
            Backend::Local(l) => l.begin(hash).await,
            Backend::Object(o) => o.discard(hash).await,
        }
    }

    /// How many bytes of an unfinished upload are stored from its start,
    /// if the store knows it.
    pub async fn partial_len(&self, hash: &PhotoHash) -> std::io::Result<Option<u64>> {
        match &self.backend {
            Backend::Local(l) => l.partial_len(hash).await,
            Backend::Object(o) => o.partial_len(hash).await.map(Some),
        }
    }

    /// Stores a chunk at `offset`, durably, before the caller moves the
    /// offset past it.
    pub async fn write_chunk(
        &self,
        hash: &PhotoHash,
        offset: u64,
        bytes: Bytes,
    ) -> std::io::Result<()> {
        match &self.backend {
            Backend::Local(l) => l.write_chunk(hash, offset, bytes).await,
            Backend::Object(o) => o.write_chunk(hash, offset, bytes).await,
        }
    }

    /// Hashes a finished upload and keeps it as the photo, or deletes it.
    pub async fn finish(&self, hash: &PhotoHash, length: u64) -> std::io::Result<Finish> {
        match &self.backend {
            Backend::Local(l) => l.finish(hash, length).await,
            Backend::Object(o) => o.finish(hash, length).await,
        }
    }

    /// Deletes an unfinished upload's bytes.
    pub async fn discard(&self, hash: &PhotoHash) -> std::io::Result<()> {
        match &self.backend {
            Backend::Local(l) => l.discard(hash).await,
            Backend::Object(o) => o.discard(hash).await,
        }
    }

    /// The bytes `start..start + len` of a finished photo as a stream of
    /// chunks read from the store as the client takes them: a download
    /// holds a chunk in memory, never the photo.
    pub async fn stream(
        &self,
        hash: &PhotoHash,
        start: u64,
        len: u64,
    ) -> std::io::Result<PhotoStream> {
        match &self.backend {
            Backend::Local(l) => Ok(l.stream(hash, start, len).await?.boxed()),
            Backend::Object(o) => o.stream(hash, start, len).await,
        }
    }

    /// Deletes the bytes of unfinished uploads the store has swept
    /// ([`crate::store::ServerStore::photo_sweep`]); a finished photo is
    /// never touched (it lives elsewhere).
    pub async fn discard_all(&self, hashes: Vec<PhotoHash>) -> std::io::Result<()> {
        for hash in hashes {
            self.discard(&hash).await?;
        }
        Ok(())
    }

    /// The hashes of the unfinished uploads whose bytes the store holds:
    /// the files under `partial/` named by a hash (the local backend). The
    /// sweep compares them with the database's rows to delete the files no
    /// row owns ([`crate::Server::sweep_uploads`]). An object store keeps
    /// chunk objects and lists none here.
    pub async fn partials(&self) -> std::io::Result<Vec<PhotoHash>> {
        match &self.backend {
            Backend::Local(l) => l.partials().await,
            Backend::Object(_) => Ok(Vec::new()),
        }
    }

    /// Reads `len` bytes of a finished photo from `start`.
    pub async fn read(&self, hash: &PhotoHash, start: u64, len: u64) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut s = self.stream(hash, start, len).await?;
        while let Some(chunk) = s.try_next().await? {
            out.extend_from_slice(&chunk);
        }
        if out.len() as u64 != len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("photo {hash}: {} bytes of {len}", out.len()),
            ));
        }
        Ok(out)
    }
}

impl LocalPhotos {
    /// Where a finished photo lives.
    fn path(&self, hash: &PhotoHash) -> PathBuf {
        let hex = hash.to_string();
        self.root.join(&hex[0..2]).join(&hex[2..4]).join(hex)
    }

    fn partial(&self, hash: &PhotoHash) -> PathBuf {
        self.root.join("partial").join(hash.to_string())
    }

    /// Starts an upload afresh: an empty partial file.
    pub async fn begin(&self, hash: &PhotoHash) -> std::io::Result<()> {
        let path = self.partial(hash);
        blocking(move || {
            let f = File::create(&path)?;
            f.sync_all()
        })
        .await
    }

    /// Length of the partial file, if any.
    pub async fn partial_len(&self, hash: &PhotoHash) -> std::io::Result<Option<u64>> {
        let path = self.partial(hash);
        blocking(move || match std::fs::metadata(&path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    /// Writes a chunk at `offset` and fsyncs it.
    pub async fn write_chunk(
        &self,
        hash: &PhotoHash,
        offset: u64,
        bytes: Bytes,
    ) -> std::io::Result<()> {
        let path = self.partial(hash);
        blocking(move || {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            f.seek(SeekFrom::Start(offset))?;
            f.write_all(&bytes)?;
            f.sync_data()
        })
        .await
    }

    /// Hashes a finished upload and moves it into place, or deletes it.
    pub async fn finish(&self, hash: &PhotoHash, length: u64) -> std::io::Result<Finish> {
        let partial = self.partial(hash);
        let target = self.path(hash);
        let expected = *hash;
        blocking(move || {
            if !partial.exists() && target.exists() {
                // Finished earlier; only the database had not heard.
                return Ok(Finish::Stored);
            }
            let mut f = File::open(&partial)?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 64 * 1024];
            let mut left = length;
            while left > 0 {
                let want = buf.len().min(left as usize);
                let n = f.read(&mut buf[..want])?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                left -= n as u64;
            }
            let actual = PhotoHash::from_bytes(hasher.finalize().into());
            if actual != expected || left > 0 {
                std::fs::remove_file(&partial)?;
                return Ok(Finish::Mismatch(actual));
            }
            drop(f);
            let dir = target.parent().expect("photo paths have a parent");
            std::fs::create_dir_all(dir)?;
            std::fs::rename(&partial, &target)?;
            sync_dir(dir)?;
            Ok(Finish::Stored)
        })
        .await
    }

    /// The hashes naming files under `partial/` (other names are not
    /// the server's and are left alone).
    pub async fn partials(&self) -> std::io::Result<Vec<PhotoHash>> {
        let dir = self.root.join("partial");
        blocking(move || {
            let mut hashes = Vec::new();
            for entry in std::fs::read_dir(&dir)? {
                let name = entry?.file_name();
                if let Some(hash) = name.to_str().and_then(|n| PhotoHash::parse(n).ok())
                    && hash.to_string() == name.to_string_lossy()
                {
                    hashes.push(hash);
                }
            }
            hashes.sort_unstable();
            Ok(hashes)
        })
        .await
    }

    /// Deletes an unfinished upload's file.
    pub async fn discard(&self, hash: &PhotoHash) -> std::io::Result<()> {
        let path = self.partial(hash);
        blocking(move || match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        })
        .await
    }

    /// The bytes `start..start + len` of a finished photo as a stream of
    /// chunks read from the file as the client takes them: a download
    /// holds one chunk in memory, never the photo.
    pub async fn stream(
        &self,
        hash: &PhotoHash,
        start: u64,
        len: u64,
    ) -> std::io::Result<tokio_util::io::ReaderStream<tokio::io::Take<tokio::fs::File>>> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let mut f = tokio::fs::File::open(self.path(hash)).await?;
        f.seek(SeekFrom::Start(start)).await?;
        Ok(tokio_util::io::ReaderStream::with_capacity(
            f.take(len),
            STREAM_CHUNK,
        ))
    }
}

/// A byte range of a photo, resolved against its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable `Range`: send everything.
    Full,
    /// Bytes `start..=end`.
    Part {
        /// First byte.
        start: u64,
        /// Last byte, inclusive.
        end: u64,
    },
    /// A range outside the photo (`416`).
    Unsatisfiable,
}

/// Parses a `Range` header (one range of bytes; anything else is ignored,
/// as RFC 9110 allows, and the whole photo is sent).
pub fn parse_range(header: Option<&str>, length: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    if length == 0 {
        return RangeRequest::Unsatisfiable;
    }
    if a.is_empty() {
        // A suffix: the last `b` bytes.
        return match b.parse::<u64>() {
            Ok(0) => RangeRequest::Unsatisfiable,
            Ok(n) => RangeRequest::Part {
                start: length - n.min(length),
                end: length - 1,
            },
            Err(_) => RangeRequest::Full,
        };
    }
    let Ok(start) = a.parse::<u64>() else {
        return RangeRequest::Full;
    };
    let end = if b.is_empty() {
        length - 1
    } else {
        match b.parse::<u64>() {
            Ok(e) => e.min(length - 1),
            Err(_) => return RangeRequest::Full,
        }
    };
    if start >= length {
        return RangeRequest::Unsatisfiable;
    }
    if end < start {
        return RangeRequest::Full;
    }
    RangeRequest::Part { start, end }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 10), Full);
        assert_eq!(
            parse_range(Some("bytes=0-3"), 10),
            Part { start: 0, end: 3 }
        );
        assert_eq!(parse_range(Some("bytes=5-"), 10), Part { start: 5, end: 9 });
        assert_eq!(parse_range(Some("bytes=-4"), 10), Part { start: 6, end: 9 });
        assert_eq!(
            parse_range(Some("bytes=8-100"), 10),
            Part { start: 8, end: 9 }
        );
        assert_eq!(parse_range(Some("bytes=10-"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), Full);
        assert_eq!(parse_range(Some("bytes=4-2"), 10), Full);
    }

    #[tokio::test]
    async fn a_photo_is_verified_before_it_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = PhotoStore::open(dir.path()).unwrap();
        let bytes = b"a leaf with spots".to_vec();
        let hash = PhotoHash::from_bytes(Sha256::digest(&bytes).into());
        store.begin(&hash).await.unwrap();
        store
            .write_chunk(&hash, 0, bytes[..5].to_vec().into())
            .await
            .unwrap();
        store
            .write_chunk(&hash, 5, bytes[5..].to_vec().into())
            .await
            .unwrap();
        assert_eq!(
            store.finish(&hash, bytes.len() as u64).await.unwrap(),
            Finish::Stored
        );
        assert_eq!(store.read(&hash, 2, 4).await.unwrap(), bytes[2..6].to_vec());

        let wrong = PhotoHash::from_bytes([7; 32]);
        store.begin(&wrong).await.unwrap();
        store
            .write_chunk(&wrong, 0, bytes.clone().into())
            .await
            .unwrap();
        assert!(matches!(
            store.finish(&wrong, bytes.len() as u64).await.unwrap(),
            Finish::Mismatch(h) if h == hash
        ));
        assert_eq!(store.partial_len(&wrong).await.unwrap(), None);
        assert!(store.read(&wrong, 0, 1).await.is_err());
    }
}
