//! The team lead's roster (`GET /api/v1/team/members`): the lead's own
//! team, its members and when each member's devices last synced. A device
//! cannot know when a teammate's device last reached the server; the
//! server does (a device's last successful push and pull). Only a team
//! lead, only their own team: anyone else is `403 forbidden`, a lead
//! without a team `404`. No SQL here: the store's listings, cut to the
//! team in their `WHERE`.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use app_core::domain::{Role, Timestamp, UserId};
use app_core::team::{TeamMember, TeamRoster};

use crate::auth::Authed;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::admin::{Area, DevicePage, UserPage};

/// The routes of this module, under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/team/members", get(members))
}

/// Rows per store page while collecting a team (a team is tens of people).
const PAGE: u32 = 500;

/// `GET /api/v1/team/members`.
pub async fn members(
    State(app): State<AppState>,
    authed: Authed,
) -> Result<Json<TeamRoster>, ApiError> {
    if authed.principal.role != Role::TeamLead {
        return Err(ApiError::Forbidden("team leads only".into()));
    }
    let team = authed.team.clone().ok_or(ApiError::NotFound)?;
    let mut users = Vec::new();
    let mut after = None;
    loop {
        let page = app
            .store
            .user_page(&UserPage {
                area: Area::ALL,
                team: Some(team.id),
                after: after.clone(),
                limit: PAGE,
                ..UserPage::default()
            })
            .await?;
        let full = page.len() == PAGE as usize;
        after = page.last().map(|r| r.record.user.username.clone());
        users.extend(page.into_iter().map(|r| r.record.user));
        if !full {
            break;
        }
    }
    let mut last_sync: std::collections::HashMap<UserId, Timestamp> = Default::default();
    let mut after = None;
    loop {
        let page = app
            .store
            .device_page(&DevicePage {
                area: Area::ALL,
                team: Some(team.id),
                revoked: Some(false),
                after,
                limit: PAGE,
                ..DevicePage::default()
            })
            .await?;
        let full = page.len() == PAGE as usize;
        after = page.last().map(|r| r.device.id);
        for row in page {
            let d = row.device;
            let latest = d.sync.last_push_at.max(d.sync.last_pull_at);
            if let Some(at) = latest {
                let seen = last_sync.entry(d.user).or_insert(at);
                *seen = (*seen).max(at);
            }
        }
        if !full {
            break;
        }
    }
    let members = users
        .into_iter()
        .map(|u| TeamMember {
            last_sync: last_sync.get(&u.id).copied(),
            user: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            active: u.active,
        })
        .collect();
    Ok(Json(TeamRoster {
        team: team.id,
        name: team.name,
        members,
        at: app.clock.now(),
    }))
}
