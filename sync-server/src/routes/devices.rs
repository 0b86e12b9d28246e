//! Enrolment (`POST /api/v1/devices/enrol`), setting a new password
//! (`POST /api/v1/account/password`, the way out of a one-time password)
//! and the caller's profile (`GET /api/v1/me`).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use app_core::domain::DeviceId;
use app_core::sync::protocol::{EnrolRequest, EnrolResponse, Me, PasswordChange};

use crate::auth::{self, Authed, SourceAddr, principal_county};
use crate::codec;
use crate::error::ApiError;
use crate::ops;
use crate::state::AppState;
use crate::store::{AuditEntry, DeviceRecord, DeviceSync, NewDevice, UserRecord};

/// Largest enrolment body.
const MAX_ENROL_BODY: usize = 16 * 1024;

fn clean(text: &str, max_chars: usize, fallback: &str) -> String {
    let t: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect();
    if t.is_empty() {
        fallback.to_string()
    } else {
        t
    }
}

/// `POST /api/v1/devices/enrol`: a user's credentials buy a device token.
pub async fn enrol(
    State(app): State<AppState>,
    from: SourceAddr,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<EnrolResponse>), ApiError> {
    if !codec::content_type_is(&headers, "application/json") {
        return Err(ApiError::UnsupportedMediaType(
            "enrolment is application/json".into(),
        ));
    }
    codec::check_length(&headers, MAX_ENROL_BODY)?;
    let raw = codec::read_body(body, MAX_ENROL_BODY).await?;
    let req: EnrolRequest = serde_json::from_slice(&raw)
        .map_err(|e| ApiError::BadRequest(format!("enrolment body: {e}")))?;
    let now = app.clock.now();
    let record = signed_in(&app, from, &req.username, &req.password).await?;
    if record.must_change_password {
        // The password is right, but it is a one-time password: it only
        // sets a new one.
        return Err(ApiError::PasswordChangeRequired);
    }
    // A device enrolling again in place of one of this user's devices
    // (revoked, most often): checked before anything is created. Another
    // user's device and an unknown one get the same answer.
    if let Some(old) = req.replaces {
        let mine = app.store.device(old).await?;
        if mine.is_none_or(|d| d.user != record.user.id) {
            return Err(ApiError::Forbidden(
                "the device to replace is not one of this user's devices".into(),
            ));
        }
    }
    let team = match record.user.team {
        Some(t) => app.store.team(t).await?,
        None => None,
    };
    let (token, digest) = auth::new_token();
    let device = DeviceRecord {
        id: DeviceId::new(now),
        user: record.user.id,
        name: clean(&req.device_name, 64, "device"),
        platform: clean(&req.platform, 16, "unknown"),
        created_at: now,
        last_seen_at: now,
        revoked_at: None,
        sync: DeviceSync::default(),
    };
    app.store
        .create_device(&NewDevice {
            record: device.clone(),
            token_sha256: digest,
        })
        .await?;
    let county = principal_county(&record.user, team.as_ref());
    let province = match record.user.scope {
        app_core::domain::Scope::Province(p) => Some(p),
        _ => None,
    };
    app.store
        .audit(
            &AuditEntry::new(
                now,
                Some(record.user.id),
                "device.enrol",
                device.id.to_string(),
                serde_json::json!({ "name": device.name, "platform": device.platform }),
            )
            .from_device(Some(device.id))
            .within(county, province),
        )
        .await?;
    if let Some(old) = req.replaces {
        app.store.replace_device(old, device.id, now).await?;
        app.store
            .audit(
                &AuditEntry::new(
                    now,
                    Some(record.user.id),
                    "device.replace",
                    device.id.to_string(),
                    serde_json::json!({ "replaces": old.to_string() }),
                )
                .from_device(Some(device.id))
                .within(county, province),
            )
            .await?;
        tracing::info!(device = %device.id, %old, "device replaces an earlier one");
    }
    tracing::info!(device = %device.id, user = ?record.user.username, "device enrolled");
    Ok((
        StatusCode::CREATED,
        Json(EnrolResponse {
            device_id: device.id,
            token,
            me: Me {
                user: record.user,
                team,
                county,
            },
            server_time: now.as_millis(),
        }),
    ))
}

/// Seconds a `busy` answer asks a client to wait.
const BUSY_RETRY_SECS: u64 = 1;

/// Checks a user name and password under the sign-in limiters (per source
/// address, per name from that address, per name from anywhere) and the
/// password gate: the user, if both are right and the account is enabled.
async fn signed_in(
    app: &AppState,
    from: SourceAddr,
    username: &str,
    password: &str,
) -> Result<UserRecord, ApiError> {
    let limited = |secs| ApiError::RateLimited {
        retry_after_secs: secs,
    };
    let address = from.0.map(|a| a.to_string()).unwrap_or_default();
    app.address_limiter.attempt(&address).map_err(limited)?;
    let name_here = format!("{username}\u{0}{address}");
    app.limiter.attempt(&name_here).map_err(limited)?;
    app.name_limiter.attempt(username).map_err(limited)?;
    let record = app.store.user_by_name(username).await?;
    let cost = app.config.password_cost;
    let phc = record
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| auth::dummy_hash(cost).to_string());
    let password = password.to_owned();
    let ok = app
        .password_gate
        .run(move || auth::verify_password(&password, &phc))
        .await
        .map_err(|_| ApiError::Busy {
            retry_after_secs: BUSY_RETRY_SECS,
        })?;
    let Some(record) = record.filter(|_| ok) else {
        tracing::info!(username = ?username, "sign-in refused: bad credentials");
        return Err(ApiError::BadCredentials);
    };
    app.limiter.succeeded(&name_here);
    app.name_limiter.succeeded(username);
    if !record.user.active {
        return Err(ApiError::AccountDisabled);
    }
    Ok(record)
}

/// `POST /api/v1/account/password`: a new password for the current (or
/// one-time) one; `204`. Under the enrolment limiter like enrolment.
pub async fn change_password(
    State(app): State<AppState>,
    from: SourceAddr,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, ApiError> {
    if !codec::content_type_is(&headers, "application/json") {
        return Err(ApiError::UnsupportedMediaType(
            "a password change is application/json".into(),
        ));
    }
    codec::check_length(&headers, MAX_ENROL_BODY)?;
    let raw = codec::read_body(body, MAX_ENROL_BODY).await?;
    let req: PasswordChange = serde_json::from_slice(&raw)
        .map_err(|e| ApiError::BadRequest(format!("password change body: {e}")))?;
    let record = signed_in(&app, from, &req.username, &req.password).await?;
    ops::check_password(&req.new_password, "new_password")?;
    if req.new_password == req.password {
        return Err(ApiError::Invalid {
            code: "same_password",
            field: Some("new_password"),
            message: "the new password must differ from the current one".into(),
        });
    }
    let cost = app.config.password_cost;
    let new = req.new_password.clone();
    let hash = app
        .password_gate
        .run(move || auth::hash_password(&new, cost))
        .await
        .map_err(|_| ApiError::Busy {
            retry_after_secs: BUSY_RETRY_SECS,
        })?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    app.store
        .set_user_password(record.user.id, &hash, false)
        .await?;
    let team = match record.user.team {
        Some(t) => app.store.team(t).await?,
        None => None,
    };
    let province = match record.user.scope {
        app_core::domain::Scope::Province(p) => Some(p),
        _ => None,
    };
    app.store
        .audit(
            &AuditEntry::new(
                app.clock.now(),
                Some(record.user.id),
                "user.password_change",
                record.user.id.to_string(),
                serde_json::json!({
                    "username": record.user.username,
                    "after_reset": record.must_change_password,
                }),
            )
            .within(principal_county(&record.user, team.as_ref()), province),
        )
        .await?;
    tracing::info!(user = ?record.user.username, "password changed");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me`: who the token acts for.
pub async fn me(authed: Authed) -> Json<Me> {
    let county = authed.county();
    Json(Me {
        user: authed.user,
        team: authed.team,
        county,
    })
}
