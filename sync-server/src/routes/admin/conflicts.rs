//! Records with fields to resolve: `GET /api/v1/admin/conflicts` (the
//! area's records whose fields hold concurrent values, each value with
//! the device and person it came from). Resolutions are record edits,
//! pushed like any change.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};

use app_core::admin::{ConflictListQuery, ConflictedRecord, Page};

use super::{actor, ops, query};
use crate::auth::Authed;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /api/v1/admin/conflicts?county=&team=&kind=&before=&cursor=&limit=`.
pub async fn list(
    State(app): State<AppState>,
    authed: Authed,
    q: Result<Query<ConflictListQuery>, QueryRejection>,
) -> Result<Json<Page<ConflictedRecord>>, ApiError> {
    let actor = actor(&authed)?;
    Ok(Json(ops(&app).conflicts(&actor, &query(q)?).await?))
}
