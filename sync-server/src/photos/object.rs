//! Photos in an object store (an S3-compatible bucket, through the
//! `object_store` crate): the backend for several server instances, which
//! share the bucket as they share the database.
//!
//! A finished photo is the object `ab/cd/<hash>`. An unfinished upload is
//! its chunks, each an object of its own, `partial/<hash>/<offset>` (the
//! offset zero-padded to 20 digits, so the names sort by offset): a chunk
//! is stored (the store answered) before the database's offset moves past
//! it, and any instance can take the next chunk, since the offset lives in
//! the database and the bytes in the bucket. Finishing reads the chunks in
//! order from 0, hashes them and writes them to the photo's object through
//! a buffered writer (one `PUT` up to 5 MiB, a multipart upload of 5 MiB
//! parts beyond), which it completes only when the hash matches and
//! aborts otherwise; then it deletes the chunks. A finish holds at most
//! 5 MiB and one chunk (1 MiB) in memory; a download streams the object's
//! body as the store sends it.

use std::sync::Arc;

use app_core::domain::PhotoHash;
use axum::body::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{
    BackoffConfig, GetOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{Finish, PhotoStream};
use crate::config::S3Photos;

/// What a finish buffers before it writes a part of a multipart upload
/// (S3's smallest part but the last); a smaller photo is one `PUT`.
const ASSEMBLY_BUFFER: usize = 5 * 1024 * 1024;

/// How long a request to the store is retried before its error is the
/// answer (a `500`; the device tries the chunk again later).
const STORE_RETRY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Photos in an object store.
#[derive(Clone)]
pub struct ObjectPhotos {
    store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for ObjectPhotos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectPhotos({})", self.store)
    }
}

/// One stored chunk of an unfinished upload.
#[derive(Debug, Clone)]
struct Part {
    offset: u64,
    size: u64,
    location: Path,
}

impl ObjectPhotos {
    /// Photos in `store`.
    pub fn new(store: Arc<dyn ObjectStore>) -> ObjectPhotos {
        ObjectPhotos { store }
    }

    /// Photos in the S3 bucket `config` names (path-style requests, which
    /// every S3-compatible service answers). Nothing is asked of the
    /// service yet: a wrong key or a missing bucket shows at the first
    /// upload, as a `500` and in the log.
    pub fn s3(config: &S3Photos) -> std::io::Result<ObjectPhotos> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key)
            .with_secret_access_key(&config.secret_key)
            .with_allow_http(config.allow_http)
            // A few quick retries, not object_store's ten over three
            // minutes: a request waiting on a store that is down holds a
            // device's connection, and the device retries the chunk itself.
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: STORE_RETRY_TIMEOUT,
            });
        if let Some(endpoint) = &config.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let s3 = builder.build().map_err(std::io::Error::other)?;
        Ok(ObjectPhotos::new(Arc::new(s3)))
    }

    fn photo(hash: &PhotoHash) -> Path {
        let hex = hash.to_string();
        Path::from(format!("{}/{}/{hex}", &hex[0..2], &hex[2..4]))
    }

    fn parts_of(hash: &PhotoHash) -> Path {
        Path::from(format!("partial/{hash}"))
    }

    fn part(hash: &PhotoHash, offset: u64) -> Path {
        Path::from(format!("partial/{hash}/{offset:020}"))
    }

    /// The stored chunks of an upload, by offset.
    async fn parts(&self, hash: &PhotoHash) -> std::io::Result<Vec<Part>> {
        let prefix = Self::parts_of(hash);
        let metas: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        let mut parts: Vec<Part> = metas
            .into_iter()
            .filter_map(|m| {
                let offset = m.location.filename()?.parse().ok()?;
                Some(Part {
                    offset,
                    size: m.size,
                    location: m.location,
                })
            })
            .collect();
        parts.sort_by_key(|p| p.offset);
        Ok(parts)
    }

    /// How many bytes from the upload's start its stored chunks hold
    /// without a gap.
    pub async fn partial_len(&self, hash: &PhotoHash) -> std::io::Result<u64> {
        Ok(contiguous(&self.parts(hash).await?))
    }

    /// Stores a chunk at `offset` as an object of its own.
    pub async fn write_chunk(
        &self,
        hash: &PhotoHash,
        offset: u64,
        bytes: Bytes,
    ) -> std::io::Result<()> {
        self.store
            .put(&Self::part(hash, offset), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    async fn exists(&self, location: &Path) -> std::io::Result<bool> {
        match self.store.head(location).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Hashes the chunks of a finished upload and writes them as the
    /// photo's object, or deletes them.
    pub async fn finish(&self, hash: &PhotoHash, length: u64) -> std::io::Result<Finish> {
        let parts = self.parts(hash).await?;
        let target = Self::photo(hash);
        if parts.is_empty() && self.exists(&target).await? {
            // Finished earlier; only the database had not heard.
            return Ok(Finish::Stored);
        }
        let mut out = BufWriter::with_capacity(Arc::clone(&self.store), target, ASSEMBLY_BUFFER);
        let mut hasher = Sha256::new();
        let mut at = 0u64;
        for part in &parts {
            if part.offset != at || at >= length {
                break;
            }
            let bytes = self.store.get(&part.location).await?.bytes().await?;
            let take = bytes.slice(..bytes.len().min((length - at) as usize));
            hasher.update(&take);
            at += take.len() as u64;
            if let Err(e) = out.put(take).await {
                let _ = out.abort().await;
                return Err(e.into());
            }
        }
        let actual = PhotoHash::from_bytes(hasher.finalize().into());
        if actual != *hash || at != length {
            if let Err(e) = out.abort().await {
                tracing::warn!(photo = %hash, error = %e, "aborting a photo's assembly");
            }
            self.discard(hash).await?;
            return Ok(Finish::Mismatch(actual));
        }
        out.shutdown().await?;
        self.discard(hash).await?;
        Ok(Finish::Stored)
    }

    /// Deletes an unfinished upload's chunks.
    pub async fn discard(&self, hash: &PhotoHash) -> std::io::Result<()> {
        for part in self.parts(hash).await? {
            match self.store.delete(&part.location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The bytes `start..start + len` of a finished photo, streamed from
    /// the store's answer to a ranged `GET`.
    pub async fn stream(
        &self,
        hash: &PhotoHash,
        start: u64,
        len: u64,
    ) -> std::io::Result<PhotoStream> {
        let options = GetOptions::new().with_range(Some(start..start + len));
        let got = self.store.get_opts(&Self::photo(hash), options).await?;
        Ok(got.into_stream().map_err(std::io::Error::from).boxed())
    }
}

/// Where the chunks stored from offset 0 on end, up to the first gap.
fn contiguous(parts: &[Part]) -> u64 {
    let mut end = 0;
    for p in parts {
        if p.offset == end {
            end += p.size;
        } else if p.offset > end {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_bytes_end_at_the_first_gap() {
        let part = |offset, size| Part {
            offset,
            size,
            location: Path::from("x"),
        };
        assert_eq!(contiguous(&[]), 0);
        assert_eq!(contiguous(&[part(0, 10), part(10, 5)]), 15);
        assert_eq!(contiguous(&[part(0, 10), part(12, 5)]), 10);
        assert_eq!(contiguous(&[part(3, 10)]), 0);
    }

    #[test]
    fn chunk_names_sort_by_offset() {
        let hash = PhotoHash::from_bytes([1; 32]);
        let a = ObjectPhotos::part(&hash, 999_999).to_string();
        let b = ObjectPhotos::part(&hash, 1_048_576).to_string();
        assert!(a < b, "{a} {b}");
        assert!(a.starts_with(&format!("partial/{hash}/")));
    }
}
