//! The quarantine: `GET /api/v1/admin/quarantine` (documents refused for a
//! device, with what each refused change writes), `POST
//! /api/v1/admin/quarantine/release` and `POST
//! /api/v1/admin/quarantine/discard`.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;

use app_core::admin::{
    Discard, Discarded, Page, QuarantineQuery, QuarantineTarget, QuarantinedDoc, Released,
};

use super::{actor, json_body, ops, query};
use crate::auth::Authed;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /api/v1/admin/quarantine?state=&device=&user=&doc=&code=&since=&until=&cursor=&limit=`.
pub async fn list(
    State(app): State<AppState>,
    authed: Authed,
    q: Result<Query<QuarantineQuery>, QueryRejection>,
) -> Result<Json<Page<QuarantinedDoc>>, ApiError> {
    let actor = actor(&authed)?;
    Ok(Json(ops(&app).quarantine(&actor, &query(q)?).await?))
}

/// `POST /api/v1/admin/quarantine/release` with a [`QuarantineTarget`].
pub async fn release(
    State(app): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Released>, ApiError> {
    let actor = actor(&authed)?;
    let target: QuarantineTarget = json_body(&headers, body).await?;
    Ok(Json(ops(&app).release(&actor, &target).await?))
}

/// `POST /api/v1/admin/quarantine/discard` with a [`Discard`].
pub async fn discard(
    State(app): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Discarded>, ApiError> {
    let actor = actor(&authed)?;
    let discard: Discard = json_body(&headers, body).await?;
    Ok(Json(ops(&app).discard(&actor, &discard).await?))
}
