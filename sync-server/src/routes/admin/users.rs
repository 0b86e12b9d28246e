//! Teams and users: `GET`/`POST /api/v1/admin/teams`, `GET`/`POST
//! /api/v1/admin/users`, `GET /api/v1/admin/users/{id}` and the actions on
//! one user (`team`, `scope`, `disable`, `enable`, `password-reset`).

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};

use app_core::admin::{
    ChangeScope, CreatedUser, MoveUser, NewTeam, NewUser, Page, PasswordReset, TeamQuery, TeamView,
    UserQuery, UserView,
};
use app_core::domain::UserId;

use super::{actor, id, json_body, ops, query};
use crate::auth::Authed;
use crate::error::ApiError;
use crate::ops::user_view;
use crate::state::AppState;

/// `GET /api/v1/admin/teams?county=&cursor=&limit=`.
pub async fn teams(
    State(app): State<AppState>,
    authed: Authed,
    q: Result<Query<TeamQuery>, QueryRejection>,
) -> Result<Json<Page<TeamView>>, ApiError> {
    let actor = actor(&authed)?;
    Ok(Json(ops(&app).teams(&actor, &query(q)?).await?))
}

/// `POST /api/v1/admin/teams` with a [`NewTeam`]; `201` with the team.
pub async fn create_team(
    State(app): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<TeamView>), ApiError> {
    let actor = actor(&authed)?;
    let new: NewTeam = json_body(&headers, body).await?;
    let team = ops(&app).create_team(&actor, &new).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// `GET /api/v1/admin/users?team=&county=&role=&active=&q=&cursor=&limit=`.
pub async fn users(
    State(app): State<AppState>,
    authed: Authed,
    q: Result<Query<UserQuery>, QueryRejection>,
) -> Result<Json<Page<UserView>>, ApiError> {
    let actor = actor(&authed)?;
    Ok(Json(ops(&app).users(&actor, &query(q)?).await?))
}

/// `GET /api/v1/admin/users/{id}`.
pub async fn user(
    State(app): State<AppState>,
    authed: Authed,
    Path(user): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    let actor = actor(&authed)?;
    let user: UserId = id(&user, "user")?;
    let row = ops(&app).find_user(&actor, user).await?;
    Ok(Json(user_view(&row)))
}

/// `POST /api/v1/admin/users` with a [`NewUser`]; `201` with the account
/// and its one-time password.
pub async fn create_user(
    State(app): State<AppState>,
    authed: Authed,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    let actor = actor(&authed)?;
    let new: NewUser = json_body(&headers, body).await?;
    let (row, otp) = ops(&app).create_user(&actor, &new, None).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: user_view(&row),
            one_time_password: otp.unwrap_or_default(),
        }),
    ))
}

/// `POST /api/v1/admin/users/{id}/team` with a [`MoveUser`].
pub async fn move_user(
    State(app): State<AppState>,
    authed: Authed,
    Path(user): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UserView>, ApiError> {
    let actor = actor(&authed)?;
    let user: UserId = id(&user, "user")?;
    let to: MoveUser = json_body(&headers, body).await?;
    let row = ops(&app).move_user(&actor, user, to.team).await?;
    Ok(Json(user_view(&row)))
}

/// `POST /api/v1/admin/users/{id}/scope` with a [`ChangeScope`].
pub async fn change_scope(
    State(app): State<AppState>,
    authed: Authed,
    Path(user): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UserView>, ApiError> {
    let actor = actor(&authed)?;
    let user: UserId = id(&user, "user")?;
    let change: ChangeScope = json_body(&headers, body).await?;
    let row = ops(&app).change_scope(&actor, user, change.scope).await?;
    Ok(Json(user_view(&row)))
}

async fn set_active(
    app: &AppState,
    authed: &Authed,
    user: &str,
    active: bool,
) -> Result<Json<UserView>, ApiError> {
    let actor = actor(authed)?;
    let user: UserId = id(user, "user")?;
    let row = ops(app).set_active(&actor, user, active).await?;
    Ok(Json(user_view(&row)))
}

/// `POST /api/v1/admin/users/{id}/disable`: the user's devices stop
/// syncing (`403 account_disabled`).
pub async fn disable(
    State(app): State<AppState>,
    authed: Authed,
    Path(user): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    set_active(&app, &authed, &user, false).await
}

/// `POST /api/v1/admin/users/{id}/enable`.
pub async fn enable(
    State(app): State<AppState>,
    authed: Authed,
    Path(user): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    set_active(&app, &authed, &user, true).await
}

/// `POST /api/v1/admin/users/{id}/password-reset`: a one-time password,
/// shown once.
pub async fn reset_password(
    State(app): State<AppState>,
    authed: Authed,
    Path(user): Path<String>,
) -> Result<Json<PasswordReset>, ApiError> {
    let actor = actor(&authed)?;
    let user: UserId = id(&user, "user")?;
    let (row, otp) = ops(&app).reset_password(&actor, user).await?;
    Ok(Json(PasswordReset {
        user: user_view(&row),
        one_time_password: otp,
    }))
}
