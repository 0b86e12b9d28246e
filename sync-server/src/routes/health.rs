//! Operations: `GET /healthz` (200 when the database answers) and
//! `GET /metrics` (Prometheus text, behind the operator token when one is
//! configured).

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// `GET /healthz`.
pub async fn healthz(State(app): State<AppState>) -> Result<&'static str, ApiError> {
    app.store
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok("ok")
}

/// `GET /metrics`; with `metrics_token` configured, only for
/// `Authorization: Bearer <token>` (else `401 unauthenticated`).
pub async fn metrics(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(token) = &app.config.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        // Compared as digests, so the time taken says nothing of the token.
        let digest = |s: &str| -> [u8; 32] { Sha256::digest(s.as_bytes()).into() };
        if digest(given) != digest(token) {
            return Err(ApiError::Unauthenticated);
        }
    }
    Ok((
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        app.metrics.render(),
    ))
}
