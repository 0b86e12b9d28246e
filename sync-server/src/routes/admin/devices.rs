//! Devices and their sync health: `GET /api/v1/admin/devices` and `POST
//! /api/v1/admin/devices/{id}/revoke`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};

use app_core::admin::{DeviceQuery, DeviceView, Page, Revoked};
use app_core::domain::DeviceId;

use super::{actor, id, ops, query};
use crate::auth::Authed;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /api/v1/admin/devices?user=&team=&state=&flag=&cursor=&limit=`.
pub async fn devices(
    State(app): State<AppState>,
    authed: Authed,
    q: Result<Query<DeviceQuery>, QueryRejection>,
) -> Result<Json<Page<DeviceView>>, ApiError> {
    let actor = actor(&authed)?;
    Ok(Json(ops(&app).devices(&actor, &query(q)?).await?))
}

/// `POST /api/v1/admin/devices/{id}/revoke`.
pub async fn revoke(
    State(app): State<AppState>,
    authed: Authed,
    Path(device): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    let actor = actor(&authed)?;
    let device: DeviceId = id(&device, "device")?;
    let revoked = ops(&app).revoke(&actor, device).await?;
    Ok(Json(Revoked { revoked }))
}
