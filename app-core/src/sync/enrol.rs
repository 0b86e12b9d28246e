//! Enrolment: what a device keeps after enrolling with a user's password
//! (the server, its device ID and token, who it acts for), enrolling for
//! the first time, and enrolling again in its own place after a revocation
//! or an expired token. The enrolment lives in the store's meta table.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::engine::{EngineOptions, META_CURSOR, META_REGISTER_ETAG, SyncEngine, blocking};
use super::error::SyncError;
use super::http::SyncClient;
use super::protocol::{EnrolRequest, EnrolResponse, Me, PasswordChange};
use crate::api::Identity;
use crate::domain::DeviceId;
use crate::scope::Principal;
use crate::store::{Store, StoreError};

/// Meta key holding the [`Enrolment`] as JSON.
pub const META_ENROLMENT: &str = "sync.enrolment";

/// What a device keeps after enrolling: where the server is and its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    /// Base URL of the server, e.g. `https://sync.example.cn`.
    pub server: String,
    /// This device.
    pub device_id: DeviceId,
    /// The device token.
    pub token: String,
    /// Who the device acts for.
    pub me: Me,
}

impl Enrolment {
    /// Who the device acts for, as the scope rules see them (the same
    /// principal the server builds for this device's requests).
    pub fn principal(&self) -> Principal {
        Principal::of(&self.me.user, self.me.team.as_ref())
    }

    /// Who records made on this device are by: the user and their team.
    pub fn identity(&self) -> Identity {
        self.principal().identity()
    }
}

/// Enrols this device with a user's credentials (nothing is saved yet; see
/// [`complete_enrolment`]).
pub async fn enrol(
    server: &str,
    request: &EnrolRequest,
    options: &EngineOptions,
) -> Result<EnrolResponse, SyncError> {
    SyncClient::enrol(server, request, options).await
}

/// Sets a new password for `username` with a one-time password (or the
/// current one): what a device does when enrolment answers
/// `password_change_required`, before it enrols with the new password.
/// No token needed; the server keeps the same per-name limit as for
/// enrolment (`weak_password`, `same_password`, `bad_credentials`).
pub async fn change_password(
    server: &str,
    username: &str,
    password: &str,
    new_password: &str,
    options: &EngineOptions,
) -> Result<(), SyncError> {
    let request = PasswordChange {
        username: username.to_owned(),
        password: password.to_owned(),
        new_password: new_password.to_owned(),
    };
    SyncClient::change_password(server, &request, options).await
}

fn save(store: &Store, enrolment: &Enrolment) -> Result<(), StoreError> {
    let json = serde_json::to_string(enrolment)
        .map_err(|e| StoreError::Corrupt(format!("enrolment as JSON: {e}")))?;
    store.meta_set(META_ENROLMENT, &json)
}

/// Saves an enrolment into the store and fetches the county register.
/// The enrolment is saved before the register download, so a cut download
/// leaves the device enrolled (the engine fetches the register when it
/// starts).
pub async fn complete_enrolment(
    store: &Arc<Store>,
    server: &str,
    answer: EnrolResponse,
    options: &EngineOptions,
) -> Result<Enrolment, SyncError> {
    let enrolment = Enrolment {
        server: server.trim_end_matches('/').to_string(),
        device_id: answer.device_id,
        token: answer.token,
        me: answer.me,
    };
    let saved = enrolment.clone();
    blocking(store, move |s| {
        save(s, &saved)?;
        s.meta_delete(META_CURSOR)?;
        s.meta_delete(META_REGISTER_ETAG)
    })
    .await?;
    let engine = SyncEngine::new(Arc::clone(store), options.clone())?;
    engine.refresh_register().await?;
    Ok(enrolment)
}

/// Enrols this device again in place of its own earlier enrolment, with
/// its user's password: for a device that a sync admin revoked, or whose
/// token expired from months of disuse. The server moves the old device's
/// actors and quarantines to the new one, so everything still in the outbox
/// syncs as before; the pull cursor and register are kept. The answer must
/// be for the same user, or nothing is saved.
pub async fn re_enrol(
    store: &Arc<Store>,
    password: &str,
    device_name: &str,
    platform: &str,
    options: &EngineOptions,
) -> Result<Enrolment, SyncError> {
    let old = blocking(store, stored_enrolment)
        .await?
        .ok_or(SyncError::NotEnrolled)?;
    let request = EnrolRequest {
        username: old.me.user.username.clone(),
        password: password.to_owned(),
        device_name: device_name.to_owned(),
        platform: platform.to_owned(),
        replaces: Some(old.device_id),
    };
    let answer = enrol(&old.server, &request, options).await?;
    if answer.me.user.id != old.me.user.id {
        return Err(SyncError::Protocol(
            "the server answered for another user".into(),
        ));
    }
    let enrolment = Enrolment {
        server: old.server,
        device_id: answer.device_id,
        token: answer.token,
        me: answer.me,
    };
    let saved = enrolment.clone();
    blocking(store, move |s| save(s, &saved)).await?;
    Ok(enrolment)
}

/// The enrolment saved in a store, if any.
pub fn stored_enrolment(store: &Store) -> Result<Option<Enrolment>, StoreError> {
    Ok(store
        .meta_get(META_ENROLMENT)?
        .and_then(|json| serde_json::from_str(&json).ok()))
}

/// Points the saved enrolment at another address of the same server (a
/// proxy, a moved server); the token and everything else stay.
pub fn set_server(store: &Store, server: &str) -> Result<(), SyncError> {
    let mut enrolment = stored_enrolment(store)?.ok_or(SyncError::NotEnrolled)?;
    enrolment.server = server.trim_end_matches('/').to_string();
    Ok(save(store, &enrolment)?)
}
