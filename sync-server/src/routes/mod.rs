//! The HTTP API, one module per resource. Handlers authenticate (the
//! [`crate::auth::Authed`] extractor), check scope, then call the store;
//! there is no SQL here. Every route is under `/api/v1/` except `/healthz`
//! and `/metrics`. `docs/protocol.md` is the contract.
//!
//! Around every route: tower-http's request timeout ([`REQUEST_TIMEOUT`]),
//! body idle timeout (`http_timeouts.body_idle_secs` between two pieces of
//! a body: `408 body_timeout`) and body limit ([`MAX_BODY`], a backstop;
//! handlers that read a body do so under their own tighter limit), whose
//! bare answers become problem documents like every other refusal; then
//! the request counter and log.

mod admin;
mod devices;
mod health;
mod photos;
mod reference;
mod stats;
pub(crate) mod sync;
mod team;

/// What the routes parse from a request's headers and query, reachable
/// from outside only for the fuzz targets (`tests/fuzz`), which must call
/// the real parsers.
#[doc(hidden)]
pub mod parsers {
    pub use super::admin::query;
    pub use super::photos::{PHOTO_SHA256, UPLOAD_LENGTH, UPLOAD_OFFSET, number, parse_hash};
    pub use super::stats::{Params as StatsParams, ask_of};
    pub use super::sync::{PullParams, parse_cursor, pull_limit};
    pub use crate::conflicts::parse_cursor as conflict_cursor;
    pub use crate::ops::{page_limit, parse_cursor as page_cursor};
}

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use app_core::sync::protocol::{MAX_PUSH_BODY, PROTOCOL_HEADER, PROTOCOL_VERSION};

use crate::error::{ApiError, PROBLEM_MEDIA_TYPE};
use crate::state::AppState;

/// How long a request may take, body included, before it is answered
/// `503 unavailable` (retryable). Longer than the device's own request
/// timeout (two minutes), so the server never cuts a request that a device
/// is still waiting for.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(180);

/// The largest body any route accepts: a push's. Routes that read a body
/// refuse smaller ones themselves (a photo chunk, an enrolment).
pub const MAX_BODY: usize = MAX_PUSH_BODY;

/// The whole API.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/devices/enrol", post(devices::enrol))
        .route("/account/password", post(devices::change_password))
        .route("/me", get(devices::me))
        .route("/sync/push", post(sync::push))
        .route("/sync/pull", get(sync::pull))
        .route("/sync/pull/stream", get(sync::pull_stream))
        .route("/sync/docs/{id}", get(sync::document))
        .route("/sync/notices", get(sync::notices))
        .route("/sync/notices/ack", post(sync::ack_notices))
        .route("/reference/county/{code}", get(reference::county))
        .route("/photos", post(photos::create))
        .route(
            "/photos/{hash}",
            get(photos::download)
                .head(photos::offset)
                .patch(photos::patch),
        )
        .route(
            "/admin/teams",
            get(admin::users::teams).post(admin::users::create_team),
        )
        .route(
            "/admin/users",
            get(admin::users::users).post(admin::users::create_user),
        )
        .route("/admin/users/{id}", get(admin::users::user))
        .route("/admin/users/{id}/team", post(admin::users::move_user))
        .route("/admin/users/{id}/scope", post(admin::users::change_scope))
        .route("/admin/users/{id}/disable", post(admin::users::disable))
        .route("/admin/users/{id}/enable", post(admin::users::enable))
        .route(
            "/admin/users/{id}/password-reset",
            post(admin::users::reset_password),
        )
        .route("/admin/devices", get(admin::devices::devices))
        .route("/admin/devices/{id}/revoke", post(admin::devices::revoke))
        .route("/admin/quarantine", get(admin::quarantine::list))
        .route(
            "/admin/quarantine/release",
            post(admin::quarantine::release),
        )
        .route(
            "/admin/quarantine/discard",
            post(admin::quarantine::discard),
        )
        .route("/admin/conflicts", get(admin::conflicts::list))
        .route("/admin/audit", get(admin::audit::list))
        .route("/admin/audit.csv", get(admin::audit::csv))
        .route(
            "/admin/counties/{code}/tags/{tag}",
            put(admin::tag_county).delete(admin::untag_county),
        )
        .merge(stats::routes())
        .merge(team::routes())
        .layer(middleware::from_fn(protocol_version));
    let app = Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .fallback(not_found);
    let body_idle = Duration::from_secs(state.config.http_timeouts.body_idle_secs.max(1));
    guard(app, REQUEST_TIMEOUT, MAX_BODY)
        .layer(RequestBodyTimeoutLayer::new(body_idle))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// `app` under a request timeout and a body limit, both answered with
/// problem documents.
fn guard<S: Clone + Send + Sync + 'static>(
    app: Router<S>,
    timeout: Duration,
    max_body: usize,
) -> Router<S> {
    // Handlers read bodies themselves (codec::read_body), each under its
    // own limit; axum's default limit for extractors does not apply.
    app.layer(DefaultBodyLimit::disable())
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            layer_problems(req, next, timeout, max_body)
        }))
}

/// Turns every bare error answer into a problem document: tower-http's
/// timeout `503` and body limit `413` (an announced length over the
/// limit), axum's `405` (its `Allow` kept) and its rejections of a query,
/// path or body that does not parse (`400 bad_request` with axum's text as
/// the detail). The API's own refusals are problem documents already.
async fn layer_problems(req: Request, next: Next, timeout: Duration, max_body: usize) -> Response {
    let resp = next.run(req).await;
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_MEDIA_TYPE.as_bytes());
    if is_problem {
        return resp;
    }
    match resp.status() {
        StatusCode::SERVICE_UNAVAILABLE => {
            ApiError::Unavailable(format!("no answer within {} s", timeout.as_secs_f64()))
                .into_response()
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::BodyTooLarge(format!("announced length over {max_body} bytes"))
                .into_response()
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = resp.headers().get(header::ALLOW).cloned();
            let mut problem = ApiError::MethodNotAllowed.into_response();
            if let Some(allow) = allow {
                problem.headers_mut().insert(header::ALLOW, allow);
            }
            problem
        }
        // axum's own rejections (a query string or path that does not
        // parse, a JSON body of the wrong shape): plain text, made a
        // problem with that text as its detail.
        s if s.is_client_error() => {
            let text = axum::body::to_bytes(resp.into_body(), 4096)
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            match s {
                StatusCode::NOT_FOUND => ApiError::NotFound,
                StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(text),
                _ => ApiError::BadRequest(text),
            }
            .into_response()
        }
        _ => resp,
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// Refuses a protocol version this server does not speak. A request without
/// the header is served (curl, browsers, operators).
async fn protocol_version(req: Request, next: Next) -> Response {
    if let Some(v) = req.headers().get(PROTOCOL_HEADER) {
        let spoken =
            v.to_str().ok().and_then(|v| v.trim().parse::<u32>().ok()) == Some(PROTOCOL_VERSION);
        if !spoken {
            return ApiError::ProtocolUnsupported(v.to_str().unwrap_or("?").to_string())
                .into_response();
        }
    }
    next.run(req).await
}

/// Counts requests by route and status and logs them.
async fn track(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    app.metrics.request(&method, &route, status);
    tracing::info!(
        method = %method,
        route = %route,
        status,
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::body::Body;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use crate::codec;

    /// A router with a route that never answers and one that reads a body
    /// under a limit above the global one, guarded by a short timeout and a
    /// 1 KiB body limit, served on loopback.
    async fn serve() -> std::net::SocketAddr {
        let routes = Router::new()
            .route("/stuck", get(std::future::pending::<&'static str>))
            .route(
                "/echo",
                post(|body: Body| async move {
                    codec::read_body(body, 1 << 20)
                        .await
                        .map(|b| b.len().to_string())
                }),
            );
        let app = guard(routes, Duration::from_millis(50), 1024);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    /// Sends raw bytes and returns the whole answer.
    async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        // The server may answer and close before reading everything.
        let _ = s.write_all(request).await;
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer).await;
        String::from_utf8_lossy(&answer).to_string()
    }

    fn problem_code(answer: &str) -> (u16, String) {
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        assert!(
            answer
                .to_ascii_lowercase()
                .contains(&format!("content-type: {PROBLEM_MEDIA_TYPE}")),
            "{answer}"
        );
        let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
        let p: app_core::sync::protocol::Problem = serde_json::from_str(body).unwrap();
        assert_eq!(p.status, status);
        (status, p.code)
    }

    #[tokio::test]
    async fn a_request_past_the_timeout_is_a_retryable_problem() {
        let addr = serve().await;
        let answer = raw(
            addr,
            b"GET /stuck HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(problem_code(&answer), (503, "unavailable".to_string()));
        assert!(answer.contains("\"retryable\":true"), "{answer}");
    }

    #[tokio::test]
    async fn a_body_over_the_global_limit_is_a_problem() {
        let addr = serve().await;
        // Announced: refused before the handler runs.
        let answer = raw(
            addr,
            b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 2048\r\nconnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(problem_code(&answer), (413, "body_too_large".to_string()));
        // Streamed without a length: refused once it passes the limit.
        let mut chunked =
            b"POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
                .to_vec();
        for _ in 0..3 {
            chunked.extend_from_slice(b"258\r\n");
            chunked.extend_from_slice(&[b'a'; 600]);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let answer = raw(addr, &chunked).await;
        assert_eq!(problem_code(&answer), (413, "body_too_large".to_string()));
        // Under the limit: served.
        let mut small =
            b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n"
                .to_vec();
        small.extend_from_slice(&[b'a'; 1000]);
        let answer = raw(addr, &small).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("1000"), "{answer}");
    }
}
