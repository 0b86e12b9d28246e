//! HTTP pieces shared by the two baseline servers: bearer tokens, request
//! bodies in gzip or zstd, and responses compressed the way the client
//! asked. The rule for zstd is Ketepai's own (bodies over 1 KiB), so that
//! Automerge's sync travels over the same transport as Ketepai's protocol.
//! Also: serving a baseline's router on a loopback port.

use std::io::Read;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Bodies at least this large are compressed (Ketepai's rule).
pub const COMPRESS_OVER: usize = 1024;

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// A request body, decompressed according to its `Content-Encoding` (the
/// error is the response to send).
pub fn request_body(headers: &HeaderMap, body: &[u8]) -> Result<Vec<u8>, Box<Response>> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match encoding {
        "" | "identity" => Ok(body.to_vec()),
        "gzip" => gunzip(body).map_err(|e| Box::new(bad_request(&e.to_string()))),
        "zstd" => zstd::stream::decode_all(body).map_err(|e| Box::new(bad_request(&e.to_string()))),
        other => Err(Box::new(bad_request(&format!("content encoding {other}")))),
    }
}

/// Decompresses gzip.
pub fn gunzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body).read_to_end(&mut out)?;
    Ok(out)
}

fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|c| c.trim().starts_with(coding)))
}

/// A `200` with `body`: gzip'd when the client accepts gzip (the REST
/// baseline asks for it), else zstd'd over 1 KiB when it accepts zstd.
pub fn respond(headers: &HeaderMap, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut out = HeaderMap::new();
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let body = if accepts(headers, "gzip") {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        super::corpus::gzip(&body)
    } else if body.len() > COMPRESS_OVER && accepts(headers, "zstd") {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("zstd"));
        zstd::bulk::compress(&body, 3).expect("compressing in memory")
    } else {
        body
    };
    (StatusCode::OK, out, body).into_response()
}

/// `204 No Content`.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// `400` with a short reason.
pub fn bad_request(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, why.to_string()).into_response()
}

/// `401`.
pub fn unauthorized() -> Response {
    StatusCode::UNAUTHORIZED.into_response()
}

/// Serves `app` on a free loopback port from the runtime `rt`; returns the
/// address and the serving task (abort it to stop).
pub async fn serve_on_loopback(
    rt: &tokio::runtime::Handle,
    app: axum::Router,
) -> anyhow::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    rt.spawn(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        anyhow::Ok((addr, task))
    })
    .await?
}
