//! The sync admin's API (`/api/v1/admin/…`), JSON in and out: teams and
//! users ([`users`]), devices and their sync health ([`devices`]), the
//! quarantine ([`quarantine`]), the audit log ([`audit`]), records with
//! fields to resolve ([`conflicts`]) and county tags.
//!
//! Only users with the sync admin role (else `403 forbidden`), and only
//! within their county or province: what exists outside it answers `404`,
//! a request to create or widen something beyond it `403 out_of_scope`.
//! Handlers only read the request and answer; every action is one method
//! of [`crate::ops::Ops`], the same the command line calls, which checks
//! the area and writes the audit log. Lists come a page at a time with an
//! opaque `next` cursor, their filters in the query string.

pub mod audit;
pub mod conflicts;
pub mod devices;
pub mod quarantine;
pub mod users;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use app_core::domain::{CountyCode, CountyTag};

use crate::auth::Authed;
use crate::codec;
use crate::error::ApiError;
use crate::ops::{Actor, Ops};
use crate::state::AppState;

/// Largest admin request body.
const MAX_ADMIN_BODY: usize = 16 * 1024;

/// The operator actions over this server's store.
pub(crate) fn ops(app: &AppState) -> Ops {
    Ops::new(
        app.store.clone(),
        app.clock.clone(),
        app.config.password_cost,
    )
}

/// The sync admin behind a request (`403 forbidden` for anyone else).
pub(crate) fn actor(authed: &Authed) -> Result<Actor, ApiError> {
    Ok(Actor::admin(authed)?)
}

/// A JSON body under the admin limit.
pub(crate) async fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    if !codec::content_type_is(headers, "application/json") {
        return Err(ApiError::UnsupportedMediaType("application/json".into()));
    }
    codec::check_length(headers, MAX_ADMIN_BODY)?;
    let raw = codec::read_body(body, MAX_ADMIN_BODY).await?;
    serde_json::from_slice(&raw).map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// A query string's filters (`400 bad_request` when they do not parse).
pub fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(q)| q)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

/// An ID from the path (`400 bad_request` when it does not parse).
pub(crate) fn id<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, ApiError> {
    text.parse()
        .map_err(|_| ApiError::BadRequest(format!("{what} id {text:?}")))
}

async fn set_tag(
    app: &AppState,
    authed: &Authed,
    code: &str,
    tag: &str,
    on: bool,
) -> Result<StatusCode, ApiError> {
    let actor = actor(authed)?;
    let county = CountyCode::parse(code).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let tag = CountyTag::from_code(tag)
        .ok_or_else(|| ApiError::BadRequest(format!("county tag {tag:?}")))?;
    ops(app).tag(&actor, county, tag, on).await?;
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
