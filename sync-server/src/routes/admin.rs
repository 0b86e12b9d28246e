//! Sync admin endpoints (`/api/v1/admin/…`): list and revoke devices, read
//! and release the quarantine, tag counties. Only users with the sync admin
//! role, and only within their county or province; every action is
//! written to the audit log.

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

use app_core::domain::{CountyCode, CountyTag, DeviceId, DocId, Scope, Team, TeamId, User, UserId};
use app_core::scope::{Principal, covers_county, covers_province};

use crate::auth::{Authed, principal_county};
use crate::codec;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AuditEntry, DeviceRecord, QuarantineEntry};

/// Whether an admin's scope covers a user (the user's county, or their
/// province scope).
pub fn covers_user(admin: &Principal, user: &User, team: Option<&Team>) -> bool {
    if user.id == admin.user {
        return true;
    }
    match (principal_county(user, team), user.scope) {
        (Some(c), _) => covers_county(admin, c),
        (None, Scope::Province(p)) => covers_province(admin, p),
        _ => false,
    }
}

/// The users an admin covers, by ID.
async fn covered_users(app: &AppState, admin: &Authed) -> Result<HashMap<UserId, User>, ApiError> {
    let teams: HashMap<TeamId, Team> = app
        .store
        .teams()
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    Ok(app
        .store
        .users()
        .await?
        .into_iter()
        .map(|r| r.user)
        .filter(|u| covers_user(&admin.principal, u, u.team.and_then(|t| teams.get(&t))))
        .map(|u| (u.id, u))
        .collect())
}

/// A device as an admin sees it.
#[derive(Debug, Serialize)]
pub struct DeviceListing {
    /// The device.
    #[serde(flatten)]
    pub device: DeviceRecord,
    /// Its user's sign-in name.
    pub username: String,
    /// Its user's name.
    pub display_name: String,
}

/// `GET /api/v1/admin/devices`.
pub async fn devices(
    State(app): State<AppState>,
    authed: Authed,
) -> Result<Json<Vec<DeviceListing>>, ApiError> {
    authed.require_admin()?;
    let users = covered_users(&app, &authed).await?;
    let out = app
        .store
        .devices()
        .await?
        .into_iter()
        .filter_map(|d| {
            let u = users.get(&d.user)?;
            Some(DeviceListing {
                username: u.username.clone(),
                display_name: u.display_name.clone(),
                device: d,
            })
        })
        .collect();
    Ok(Json(out))
}

/// Answer to a revocation.
#[derive(Debug, Serialize, Deserialize)]
pub struct Revoked {
    /// Whether the device was active until now.
    pub revoked: bool,
}

/// `POST /api/v1/admin/devices/{id}/revoke`.
pub async fn revoke_device(
    State(app): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    authed.require_admin()?;
    let id: DeviceId = id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("device id {id:?}")))?;
    let device = app.store.device(id).await?.ok_or(ApiError::NotFound)?;
    let users = covered_users(&app, &authed).await?;
    if !users.contains_key(&device.user) {
        return Err(ApiError::NotFound);
    }
    let now = app.clock.now();
    let revoked = app.store.revoke_device(id, now).await?;
    app.store
        .audit(&AuditEntry {
            at: now,
            actor: Some(authed.user.id),
            action: "device.revoke".into(),
            subject: id.to_string(),
            detail: serde_json::json!({ "user": device.user.to_string(), "was_active": revoked }),
        })
        .await?;
    tracing::info!(device = %id, by = %authed.user.username, "device revoked");
    Ok(Json(Revoked { revoked }))
}

/// Query of the quarantine list.
#[derive(Debug, Deserialize)]
pub struct QuarantineParams {
    /// At most this many entries (default 200, at most 1000).
    pub limit: Option<u32>,
}

/// `GET /api/v1/admin/quarantine`: refused changes of covered users.
pub async fn quarantine(
    State(app): State<AppState>,
    authed: Authed,
    Query(q): Query<QuarantineParams>,
) -> Result<Json<Vec<QuarantineEntry>>, ApiError> {
    authed.require_admin()?;
    let users = covered_users(&app, &authed).await?;
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    let entries = app
        .store
        .quarantine(limit)
        .await?
        .into_iter()
        .filter(|e| users.contains_key(&e.user))
        .collect();
    Ok(Json(entries))
}

/// Body of a release.
#[derive(Debug, Serialize, Deserialize)]
pub struct Release {
    /// The device whose document is released.
    pub device: DeviceId,
    /// The document.
    pub doc: DocId,
}

/// Answer to a release.
#[derive(Debug, Serialize, Deserialize)]
pub struct Released {
    /// Quarantine entries released.
    pub released: u64,
}

/// `POST /api/v1/admin/quarantine/release`: the device's next pushes of
/// the document are checked anew.
pub async fn release(
    State(app): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Released>, ApiError> {
    authed.require_admin()?;
    if !codec::content_type_is(&headers, "application/json") {
        return Err(ApiError::UnsupportedMediaType("application/json".into()));
    }
    let raw = codec::read_body(body, 4096).await?;
    let req: Release =
        serde_json::from_slice(&raw).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let device = app
        .store
        .device(req.device)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !covered_users(&app, &authed)
        .await?
        .contains_key(&device.user)
    {
        return Err(ApiError::NotFound);
    }
    let now = app.clock.now();
    let released = app
        .store
        .release_quarantine(req.device, req.doc, now)
        .await?;
    app.store
        .audit(&AuditEntry {
            at: now,
            actor: Some(authed.user.id),
            action: "quarantine.release".into(),
            subject: req.doc.to_string(),
            detail: serde_json::json!({ "device": req.device.to_string(), "entries": released }),
        })
        .await?;
    Ok(Json(Released { released }))
}

fn county_and_tag(
    app_admin: &Authed,
    code: &str,
    tag: &str,
) -> Result<(CountyCode, CountyTag), ApiError> {
    let county = CountyCode::parse(code).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let tag = CountyTag::from_code(tag)
        .ok_or_else(|| ApiError::BadRequest(format!("county tag {tag:?}")))?;
    if !covers_county(&app_admin.principal, county) {
        return Err(ApiError::NotFound);
    }
    Ok((county, tag))
}

async fn set_tag(
    app: &AppState,
    authed: &Authed,
    code: &str,
    tag: &str,
    on: bool,
) -> Result<StatusCode, ApiError> {
    authed.require_admin()?;
    let (county, tag) = county_and_tag(authed, code, tag)?;
    app.store
        .set_county_tag(county, tag, on, &format!("admin:{}", authed.user.username))
        .await?;
    app.store
        .audit(&AuditEntry {
            at: app.clock.now(),
            actor: Some(authed.user.id),
            action: if on { "county.tag" } else { "county.untag" }.into(),
            subject: county.to_string(),
            detail: serde_json::json!({ "tag": tag.code() }),
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/admin/counties/{code}/tags/{tag}`.
pub async fn tag_county(
    State(app): State<AppState>,
    authed: Authed,
    Path((code, tag)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    set_tag(&app, &authed, &code, &tag, true).await
}

/// `DELETE /api/v1/admin/counties/{code}/tags/{tag}`.
pub async fn untag_county(
    State(app): State<AppState>,
    authed: Authed,
    Path((code, tag)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    set_tag(&app, &authed, &code, &tag, false).await
}
