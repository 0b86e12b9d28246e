//! Bodies on the wire: reading a request body under a size limit,
//! `Content-Encoding: zstd` decompression with a cap on the decompressed
//! size (a zstd bomb stops at the cap, it never fills memory), and zstd
//! compression of responses for clients that send `Accept-Encoding: zstd`.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError};

use crate::error::ApiError;

/// Responses smaller than this are sent uncompressed.
const COMPRESS_FROM: usize = 256;
/// zstd level for responses.
const LEVEL: i32 = 3;
/// Largest zstd window accepted from a client (2^24 = 16 MiB); a frame
/// asking for a bigger window is refused before anything is allocated.
const WINDOW_LOG_MAX: u32 = 24;

/// Refuses early when `Content-Length` announces more than `limit`.
pub fn check_length(headers: &HeaderMap, limit: usize) -> Result<(), ApiError> {
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(ApiError::BodyTooLarge(format!(
            "{len} bytes announced, at most {limit} accepted"
        )));
    }
    Ok(())
}

/// Reads a whole body, refusing it past `limit` bytes (or past the
/// router's global limit, whichever is lower). A body cut short (the client
/// went away) is an error, and nothing of it is used.
pub async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            if over_global_limit(&e) {
                ApiError::BodyTooLarge("body over the server's limit".into())
            } else if body_went_quiet(&e) {
                ApiError::BodyTimeout
            } else {
                ApiError::BadRequest(format!("body: {e}"))
            }
        })?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(ApiError::BodyTooLarge(format!("body over {limit} bytes")));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}

/// Whether a body failed because no byte of it came for the body idle
/// timeout (tower-http's `RequestBodyTimeoutLayer`).
pub(crate) fn body_went_quiet(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// Whether a body failed because it passed the router's global limit
/// (tower-http's `RequestBodyLimitLayer`).
fn over_global_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}

/// Whether the request's body is zstd; refuses other encodings.
pub fn request_is_zstd(headers: &HeaderMap) -> Result<bool, ApiError> {
    match headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
    {
        None => Ok(false),
        Some(e) if e.is_empty() || e == "identity" => Ok(false),
        Some(e) if e == "zstd" => Ok(true),
        Some(e) => Err(ApiError::UnsupportedMediaType(format!(
            "content encoding {e:?} (zstd or none)"
        ))),
    }
}

/// Decompresses a zstd body, refusing it once it passes `max` bytes.
pub fn unzstd(bytes: &[u8], max: usize) -> Result<Vec<u8>, ApiError> {
    let mut decoder = zstd::stream::read::Decoder::with_buffer(bytes)
        .map_err(|e| ApiError::BadRequest(format!("zstd: {e}")))?;
    decoder
        .window_log_max(WINDOW_LOG_MAX)
        .map_err(|e| ApiError::BadRequest(format!("zstd: {e}")))?;
    let mut out = Vec::new();
    let read = decoder
        .take(max as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::BadRequest(format!("body is not valid zstd: {e}")))?;
    if read > max {
        return Err(ApiError::BodyTooLarge(format!(
            "body decompresses to more than {max} bytes"
        )));
    }
    Ok(out)
}

/// The body as sent, decompressed when it says it is zstd.
pub fn decode_content(headers: &HeaderMap, raw: Bytes, max: usize) -> Result<Vec<u8>, ApiError> {
    if request_is_zstd(headers)? {
        unzstd(&raw, max)
    } else if raw.len() > max {
        Err(ApiError::BodyTooLarge(format!("body over {max} bytes")))
    } else {
        Ok(raw.to_vec())
    }
}

/// Whether the client accepts zstd responses (`Accept-Encoding: zstd`,
/// without `q=0`).
pub fn accepts_zstd(headers: &HeaderMap) -> bool {
    listed(headers, header::ACCEPT_ENCODING, "zstd")
}

/// Whether a list header (`Accept`, `Accept-Encoding`) names `item`
/// without `q=0`.
fn listed(headers: &HeaderMap, name: header::HeaderName, wanted: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            coding.eq_ignore_ascii_case(wanted) && !zero
        })
}

/// A `200` response with `body`, zstd-compressed when the client accepts it
/// and the body is big enough to gain.
pub fn encoded(headers: &HeaderMap, content_type: &'static str, body: Vec<u8>) -> Response {
    encoded_with(headers, StatusCode::OK, content_type, body)
}

/// [`encoded`] with another status.
pub fn encoded_with(
    headers: &HeaderMap,
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
) -> Response {
    let compress = body.len() >= COMPRESS_FROM && accepts_zstd(headers);
    let (body, zstd) = if compress {
        match zstd::bulk::compress(&body, LEVEL) {
            Ok(c) if c.len() < body.len() => (c, true),
            _ => (body, false),
        }
    } else {
        (body, false)
    };
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if zstd {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("zstd"));
    }
    resp
}

/// zstd level of a streamed pull's one stream: a first sync is once per
/// device and mostly on a slow link, so it is worth more work than a page
/// (level 6 sends 8% fewer bytes than 3 for the benchmark's team year, at
/// under 2 s of CPU for its 56 MB; level 9 would save 5% more but needs
/// about three times the memory per open stream, and a training day can
/// enrol a county's tablets at once; docs/benchmarks.md has the sweep).
pub const STREAM_LEVEL: i32 = 6;
/// Window of a streamed pull's stream (2^21 = 2 MiB): a larger one gained
/// nothing measurable on the benchmark's year (0.1% at 8 MiB), and the
/// window is memory on the server and on the device for the whole
/// stream.
pub const STREAM_WINDOW_LOG: u32 = 21;

/// One zstd stream across the parts of a streamed pull: each part is
/// compressed and flushed (a block boundary, so the client can decode it
/// whole at once) with the window kept, so later parts refer back to
/// earlier ones.
pub struct StreamEncoder(zstd::stream::write::Encoder<'static, Vec<u8>>);

impl StreamEncoder {
    /// A new stream at [`STREAM_LEVEL`], window [`STREAM_WINDOW_LOG`].
    pub fn new() -> std::io::Result<Self> {
        Self::with(STREAM_LEVEL, STREAM_WINDOW_LOG)
    }

    /// A new stream at `level` with a window of `2^window_log` bytes.
    pub fn with(level: i32, window_log: u32) -> std::io::Result<Self> {
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), level)?;
        e.window_log(window_log)?;
        Ok(StreamEncoder(e))
    }

    /// Compresses `bytes` and returns everything the stream has ready,
    /// ending at a flushed block.
    pub fn write_flushed(&mut self, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        use std::io::Write;
        self.0.write_all(bytes)?;
        self.0.flush()?;
        Ok(std::mem::take(self.0.get_mut()))
    }

    /// Ends the stream; its last bytes.
    pub fn finish(self) -> std::io::Result<Vec<u8>> {
        self.0.finish()
    }
}

/// zstd level of a streamed pull of compact parts: the lowest level that
/// brings the benchmark's team year under 1.2× REST's bytes (6.49 MB of
/// compact parts against REST's 5.46 MB; level 9 with an 8 MiB window
/// leaves 6.83 MB, 1.25×). It costs about 1.8 s of server CPU per such
/// first sync and a compression context of about 57 MiB per open stream
/// (19 MiB at level 9), which a training day that enrols a county's
/// tablets at once multiplies; docs/benchmarks.md has the sweep. Plain
/// parts keep [`STREAM_LEVEL`].
pub const COMPACT_STREAM_LEVEL: i32 = 12;
/// Window of a streamed pull of compact parts (2^24 = 16 MiB): also the
/// device's decoding memory for the stream.
pub const COMPACT_STREAM_WINDOW_LOG: u32 = 24;
/// Streamed pulls an instance serves as compact parts at once. Each holds
/// about 57 MiB of compression context, so eight hold under 0.5 GiB; a
/// training day's further first syncs are served as plain parts (level 6,
/// about 5 MiB each, 1.4 times the bytes) until one of the eight ends.
pub const MAX_COMPACT_STREAMS: usize = 8;

/// What writes a streamed pull's parts: plain or compact
/// ([`app_core::sync::compact`]), through the stream's compression or not.
/// It keeps the stream's state (the compression's window, the compact
/// form's tables) from the first part to the last.
pub struct PartWriter {
    zstd: Option<StreamEncoder>,
    compact: Option<app_core::sync::compact::CompactEncoder>,
}

impl PartWriter {
    /// The writer of a new stream: compressed with `zstd`, compact parts
    /// with `compact` (which also sets the compression's level and window).
    pub fn new(zstd: bool, compact: bool) -> std::io::Result<Self> {
        let zstd = match (zstd, compact) {
            (false, _) => None,
            (true, false) => Some(StreamEncoder::new()?),
            (true, true) => Some(StreamEncoder::with(
                COMPACT_STREAM_LEVEL,
                COMPACT_STREAM_WINDOW_LOG,
            )?),
        };
        Ok(PartWriter {
            zstd,
            compact: compact.then(app_core::sync::compact::CompactEncoder::new),
        })
    }

    /// A part as it goes on the wire: encoded, framed
    /// ([`app_core::sync::protocol::frame`]) and, with compression, through
    /// the stream's; off the async threads (a page of about 4 MiB takes
    /// milliseconds). Gives the writer back.
    pub async fn write(
        mut self,
        part: app_core::sync::protocol::PullResponse,
    ) -> std::io::Result<(Bytes, PartWriter)> {
        use app_core::sync::protocol;
        tokio::task::spawn_blocking(move || {
            let body = match self.compact.as_mut() {
                Some(c) => c.encode(&part),
                None => protocol::encode(&part).map_err(std::io::Error::other)?,
            };
            drop(part);
            let framed = protocol::frame(body).map_err(std::io::Error::other)?;
            let out = match self.zstd.as_mut() {
                None => framed,
                Some(e) => e.write_flushed(&framed)?,
            };
            Ok((Bytes::from(out), self))
        })
        .await
        .map_err(std::io::Error::other)?
    }

    /// Reads a part into the compact tables without writing it (a broken
    /// stream's part read again, see `routes::sync`'s `seed_tables`); off
    /// the async threads. Gives the writer back.
    pub async fn observe(
        mut self,
        part: app_core::sync::protocol::PullResponse,
    ) -> std::io::Result<PartWriter> {
        tokio::task::spawn_blocking(move || {
            if let Some(c) = self.compact.as_mut() {
                c.encode(&part);
            }
            self
        })
        .await
        .map_err(std::io::Error::other)
    }

    /// This writer (its compression) with the compact tables of `other`.
    pub fn with_tables_of(mut self, other: PartWriter) -> PartWriter {
        self.compact = other.compact;
        self
    }

    /// Ends the stream; its last bytes (the compression's epilogue).
    pub fn finish(self) -> std::io::Result<Vec<u8>> {
        match self.zstd {
            Some(e) => e.finish(),
            None => Ok(Vec::new()),
        }
    }
}

/// Whether the request's `Accept` lists `media` (without `q=0`).
pub fn accepts(headers: &HeaderMap, media: &str) -> bool {
    listed(headers, header::ACCEPT, media)
}

/// Whether the request's `Content-Type` is `expected` (parameters ignored).
pub fn content_type_is(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zstd_bomb_stops_at_the_cap() {
        let zeros = vec![0u8; 64 * 1024 * 1024];
        let bomb = zstd::bulk::compress(&zeros, 19).unwrap();
        assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
        assert!(matches!(
            unzstd(&bomb, 16 * 1024 * 1024),
            Err(ApiError::BodyTooLarge(_))
        ));
        assert_eq!(unzstd(&bomb, 64 * 1024 * 1024).unwrap().len(), zeros.len());
    }

    #[test]
    fn garbage_is_not_zstd() {
        assert!(matches!(
            unzstd(b"not zstd at all", 1024),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn accept_encoding_is_parsed() {
        let mut h = HeaderMap::new();
        assert!(!accepts_zstd(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, zstd"),
        );
        assert!(accepts_zstd(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("zstd;q=0, gzip"),
        );
        assert!(!accepts_zstd(&h));
    }
}
