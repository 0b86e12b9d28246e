//! The audit log: `GET /api/v1/admin/audit` (pages, newest first) and `GET
//! /api/v1/admin/audit.csv` (every matching entry as a CSV file, UTF-8
//! with a byte-order mark for spreadsheets).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use app_core::admin::{AuditQuery, AuditView, Page};

use super::{actor, ops, query};
use crate::auth::Authed;
use crate::error::ApiError;
use crate::state::AppState;

/// Response header set when a CSV export left entries out (over
/// [`crate::ops::MAX_CSV_ROWS`]).
pub const TRUNCATED_HEADER: &str = "ketepai-truncated";

/// `GET /api/v1/admin/audit?actor=&action=&subject=&since=&until=&cursor=&limit=`.
pub async fn list(
    State(app): State<AppState>,
    authed: Authed,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Page<AuditView>>, ApiError> {
    let actor = actor(&authed)?;
    Ok(Json(ops(&app).audit_log(&actor, &query(q)?).await?))
}

/// `GET /api/v1/admin/audit.csv` with the same filters (no pages).
pub async fn csv(
    State(app): State<AppState>,
    authed: Authed,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let actor = actor(&authed)?;
    let (text, truncated) = ops(&app).audit_csv(&actor, &query(q)?).await?;
    let mut resp = text.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"ketepai-audit.csv\""),
    );
    if truncated {
        h.insert(TRUNCATED_HEADER, HeaderValue::from_static("true"));
    }
    Ok(resp)
}
