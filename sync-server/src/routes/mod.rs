//! The HTTP API, one module per resource. Handlers authenticate (the
//! [`crate::auth::Authed`] extractor), check scope, then call the store;
//! there is no SQL here. Every route is under `/api/v1/` except `/healthz`
//! and `/metrics`. `docs/protocol.md` is the contract.

mod admin;
mod devices;
mod health;
mod photos;
mod reference;
mod sync;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};

use app_core::sync::protocol::{PROTOCOL_HEADER, PROTOCOL_VERSION};

use crate::error::ApiError;
use crate::state::AppState;

/// The whole API.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/devices/enrol", post(devices::enrol))
        .route("/me", get(devices::me))
        .route("/sync/push", post(sync::push))
        .route("/sync/pull", get(sync::pull))
        .route("/sync/docs/{id}", get(sync::document))
        .route("/reference/county/{code}", get(reference::county))
        .route("/photos", post(photos::create))
        .route(
            "/photos/{hash}",
            get(photos::download)
                .head(photos::offset)
                .patch(photos::patch),
        )
        .route("/admin/devices", get(admin::devices))
        .route("/admin/devices/{id}/revoke", post(admin::revoke_device))
        .route("/admin/quarantine", get(admin::quarantine))
        .route("/admin/quarantine/release", post(admin::release))
        .route(
            "/admin/counties/{code}/tags/{tag}",
            put(admin::tag_county).delete(admin::untag_county),
        )
        .layer(middleware::from_fn(protocol_version));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .fallback(not_found)
        // Handlers read bodies themselves, each under its own limit.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
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
    app.metrics.request(method.as_str(), &route, status);
    tracing::info!(
        method = %method,
        route = %route,
        status,
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    resp
}
