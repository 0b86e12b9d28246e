//! Photos, uploaded in the manner of tus 1.0: `POST /api/v1/photos`
//! announces an upload (`Upload-Length`, `Photo-Sha256`), `HEAD` reads its
//! offset, `PATCH` appends a chunk at `Upload-Offset`, and `GET` downloads
//! a finished photo, honouring `Range`.
//!
//! Any enrolled device may upload. A finished photo is downloaded (`GET`,
//! `HEAD`) only by a device whose read scope holds a record naming it, or
//! by the device that uploaded it (`ServerStore::photo_readable`); to
//! anyone else it is `404`, as if it did not exist. An unfinished upload is
//! the announcing device's own: another device can neither reset, continue
//! nor see it until it has been left for a day (`PhotoStart::decide`). A
//! new upload counts against the device's and its user's quota of bytes in
//! unfinished uploads (`config::PhotoUploads`); past it `POST` is `429
//! upload_quota` and changes nothing.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use app_core::domain::PhotoHash;

use crate::auth::Authed;
use crate::codec;
use crate::error::ApiError;
use crate::photos::{Finish, MAX_CHUNK, MAX_PHOTO, RangeRequest, parse_range};
use crate::state::AppState;
use crate::store::{PhotoRecord, PhotoStart};

/// `Upload-Offset`: where a chunk goes, and how far an upload got.
pub const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
/// `Upload-Length`: the whole photo's size.
pub const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
/// `Photo-Sha256`: the photo's hash, announced with the upload.
pub const PHOTO_SHA256: HeaderName = HeaderName::from_static("photo-sha256");
/// Media type of a chunk.
const CHUNK_TYPE: &str = "application/offset+octet-stream";

/// Parses a photo's hash from the path or `Photo-Sha256`.
pub fn parse_hash(text: &str) -> Result<PhotoHash, ApiError> {
    PhotoHash::parse(text).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// Reads a required decimal header (`Upload-Length`, `Upload-Offset`).
pub fn number(headers: &HeaderMap, name: &HeaderName) -> Result<u64, ApiError> {
    headers
        .get(name)
        .ok_or_else(|| ApiError::BadRequest(format!("{name} is required")))?
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ApiError::BadRequest(format!("{name} is not a number")))
}

fn with_offsets(status: StatusCode, offset: u64, length: u64) -> Response {
    let mut resp = status.into_response();
    let h = resp.headers_mut();
    h.insert(UPLOAD_OFFSET, HeaderValue::from(offset));
    h.insert(UPLOAD_LENGTH, HeaderValue::from(length));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `POST /api/v1/photos`: announces an upload.
pub async fn create(
    State(app): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let length = number(&headers, &UPLOAD_LENGTH)?;
    let hash = parse_hash(
        headers
            .get(&PHOTO_SHA256)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::BadRequest("photo-sha256 is required".into()))?,
    )?;
    if length == 0 {
        return Err(ApiError::BadRequest("a photo has at least one byte".into()));
    }
    if length > MAX_PHOTO {
        return Err(ApiError::BodyTooLarge(format!(
            "photo of {length} bytes, at most {MAX_PHOTO}"
        )));
    }
    let device = authed.device.id;
    let mut resp = match app
        .store
        .photo_start(
            &hash,
            length,
            app.clock.now(),
            device,
            app.config.photo_uploads.quota(),
        )
        .await?
    {
        start @ (PhotoStart::OverQuota | PhotoStart::Taken) => {
            return Err(refusal(start, length));
        }
        PhotoStart::Complete(p) => with_offsets(StatusCode::OK, p.length, p.length),
        PhotoStart::Resumed(p) => {
            // The database's offset is only as good as the bytes behind it
            // (a photo directory lost or not shared, a bucket emptied):
            // never claim more.
            let on_disk = app.photos.partial_len(&hash).await.map_err(io)?;
            if on_disk.is_none_or(|n| n < p.offset) {
                app.photos.begin(&hash).await.map_err(io)?;
                app.store.photo_discard(&hash).await?;
                let again = app
                    .store
                    .photo_start(
                        &hash,
                        length,
                        app.clock.now(),
                        device,
                        app.config.photo_uploads.quota(),
                    )
                    .await?;
                if !again.writes_fresh_row() {
                    // Another request took it meanwhile, or (its own bytes
                    // no longer counted) the quota is spent.
                    return Err(refusal(again, length));
                }
                with_offsets(StatusCode::CREATED, 0, length)
            } else {
                with_offsets(StatusCode::CREATED, p.offset, length)
            }
        }
        PhotoStart::Created { .. } => {
            app.photos.begin(&hash).await.map_err(io)?;
            with_offsets(StatusCode::CREATED, 0, length)
        }
    };
    if let Ok(loc) = HeaderValue::from_str(&format!("/api/v1/photos/{hash}")) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

/// The answer to an announcement that wrote nothing.
fn refusal(start: PhotoStart, length: u64) -> ApiError {
    match start {
        PhotoStart::OverQuota => ApiError::UploadQuota(format!(
            "a new upload of {length} bytes is past this device's or its user's quota \
             for unfinished uploads; finish them or wait"
        )),
        _ => ApiError::Conflict {
            code: "upload_in_progress",
            message: "another device is uploading this photo".into(),
        },
    }
}

fn io(e: std::io::Error) -> ApiError {
    ApiError::Internal(format!("photo store: {e}"))
}

async fn known(app: &AppState, hash: &PhotoHash) -> Result<PhotoRecord, ApiError> {
    app.store.photo(hash).await?.ok_or(ApiError::NotFound)
}

/// A photo the caller may see: its own unfinished upload, or a finished
/// photo a record in its read scope names (or that it uploaded). Anything
/// else, another device's upload or a photo out of scope, is not found.
async fn visible(
    app: &AppState,
    hash: &PhotoHash,
    authed: &Authed,
) -> Result<PhotoRecord, ApiError> {
    let p = known(app, hash).await?;
    let device = authed.device.id;
    let seen = if p.complete {
        app.store
            .photo_readable(hash, &authed.principal, device)
            .await?
    } else {
        p.open_to(device)
    };
    if seen { Ok(p) } else { Err(ApiError::NotFound) }
}

/// `HEAD /api/v1/photos/{sha256}`: where an upload stands.
pub async fn offset(
    State(app): State<AppState>,
    authed: Authed,
    Path(hash): Path<String>,
) -> Result<Response, ApiError> {
    let hash = parse_hash(&hash)?;
    let p = visible(&app, &hash, &authed).await?;
    Ok(with_offsets(StatusCode::OK, p.offset, p.length))
}

/// `PATCH /api/v1/photos/{sha256}`: one chunk at `Upload-Offset`.
pub async fn patch(
    State(app): State<AppState>,
    authed: Authed,
    Path(hash): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let hash = parse_hash(&hash)?;
    if !codec::content_type_is(&headers, CHUNK_TYPE) {
        return Err(ApiError::UnsupportedMediaType(format!(
            "chunks are {CHUNK_TYPE}"
        )));
    }
    let offset = number(&headers, &UPLOAD_OFFSET)?;
    codec::check_length(&headers, MAX_CHUNK)?;
    let p = visible(&app, &hash, &authed).await?;
    // The whole chunk is read before anything is written: a chunk cut
    // short writes nothing, and the offset stays where it was.
    let chunk = codec::read_body(body, MAX_CHUNK).await?;
    if p.complete {
        if offset == p.length && chunk.is_empty() {
            return Ok(with_offsets(StatusCode::NO_CONTENT, p.length, p.length));
        }
        return Err(ApiError::UploadOffsetMismatch {
            sent: offset,
            current: p.length,
        });
    }
    if offset != p.offset {
        return Err(ApiError::UploadOffsetMismatch {
            sent: offset,
            current: p.offset,
        });
    }
    let end = offset + chunk.len() as u64;
    if end > p.length {
        return Err(ApiError::BadRequest(format!(
            "chunk ends at {end}, past upload-length {}",
            p.length
        )));
    }
    if !chunk.is_empty() {
        let n = chunk.len() as u64;
        app.photos
            .write_chunk(&hash, offset, chunk)
            .await
            .map_err(io)?;
        if !app.store.photo_advance(&hash, offset, end).await? {
            let now = known(&app, &hash).await?;
            return Err(ApiError::UploadOffsetMismatch {
                sent: offset,
                current: now.offset,
            });
        }
        app.metrics.photo_received(n);
    }
    if end == p.length {
        match app.photos.finish(&hash, p.length).await.map_err(io)? {
            Finish::Stored => {
                app.store.photo_complete(&hash).await?;
                tracing::info!(photo = %hash, bytes = p.length, "photo stored");
            }
            Finish::Mismatch(actual) => {
                app.store.photo_discard(&hash).await?;
                return Err(ApiError::HashMismatch {
                    expected: hash.to_string(),
                    actual: actual.to_string(),
                });
            }
        }
    }
    Ok(with_offsets(StatusCode::NO_CONTENT, end, p.length))
}

/// `GET /api/v1/photos/{sha256}`: the bytes, whole or a `Range`, streamed
/// from the photo store (the file, or the object store's answer).
pub async fn download(
    State(app): State<AppState>,
    authed: Authed,
    Path(hash): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let hash = parse_hash(&hash)?;
    let p = visible(&app, &hash, &authed).await?;
    if !p.complete {
        return Err(ApiError::NotFound);
    }
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        p.length,
    );
    let (status, start, end) = match range {
        RangeRequest::Full => (StatusCode::OK, 0, p.length - 1),
        RangeRequest::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end),
        RangeRequest::Unsatisfiable => {
            return Err(ApiError::RangeNotSatisfiable { length: p.length });
        }
    };
    let len = end - start + 1;
    let stream = app.photos.stream(&hash, start, len).await.map_err(io)?;
    app.metrics.photo_sent(len);
    let mut resp = (status, Body::from_stream(stream)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{hash}\"")) {
        h.insert(header::ETAG, tag);
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{}", p.length))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    Ok(resp)
}
