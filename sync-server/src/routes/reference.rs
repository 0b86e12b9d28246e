//! Reference data for devices: `GET /api/v1/reference/county/{code}`, the
//! county's [`app_core::store::RegisterSlice`] as JSON with an `ETag`, so a
//! device downloads it once and then gets `304` while it is current.

use axum::extract::{Path, State};
use axum::http::header::{self, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use app_core::domain::CountyCode;
use app_core::scope::covers_county;

use crate::auth::Authed;
use crate::codec;
use crate::error::ApiError;
use crate::state::AppState;

/// The ETag of a slice: the register version and a digest of the content
/// (which changes with the county's tags).
fn etag(version: &str, json: &[u8]) -> String {
    let digest = Sha256::digest(json);
    let short: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{version}-{short}\"")
}

fn matches(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == tag || t == "*")
}

/// `GET /api/v1/reference/county/{code}`.
pub async fn county(
    State(app): State<AppState>,
    authed: Authed,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let county = CountyCode::parse(&code).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if !covers_county(&authed.principal, county) {
        return Err(ApiError::NotFound);
    }
    let slice = app
        .store
        .register_slice(county)
        .await?
        .ok_or(ApiError::NotFound)?;
    let json = serde_json::to_vec(&slice).map_err(|e| ApiError::Internal(e.to_string()))?;
    let tag = etag(&slice.version, &json);
    let tag_value = HeaderValue::from_str(&tag).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut resp = if matches(&headers, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        codec::encoded(&headers, "application/json", json)
    };
    let h = resp.headers_mut();
    h.insert(header::ETAG, tag_value);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(resp)
}
