//! Enrolment (`POST /api/v1/devices/enrol`) and the caller's profile
//! (`GET /api/v1/me`).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use app_core::domain::DeviceId;
use app_core::sync::protocol::{EnrolRequest, EnrolResponse, Me};

use crate::auth::{self, Authed, principal_county};
use crate::codec;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AuditEntry, DeviceRecord, NewDevice};

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
    app.limiter
        .attempt(&req.username)
        .map_err(|secs| ApiError::RateLimited {
            retry_after_secs: secs,
        })?;
    let record = app.store.user_by_name(&req.username).await?;
    let cost = app.config.password_cost;
    let phc = record
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| auth::dummy_hash(cost).to_string());
    let password = req.password.clone();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &phc))
        .await
        .map_err(|e| ApiError::Internal(format!("password check: {e}")))?;
    let Some(record) = record.filter(|_| ok) else {
        tracing::info!(username = %req.username, "enrolment refused: bad credentials");
        return Err(ApiError::BadCredentials);
    };
    app.limiter.succeeded(&req.username);
    if !record.user.active {
        return Err(ApiError::Forbidden("the account is disabled".into()));
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
    };
    app.store
        .create_device(&NewDevice {
            record: device.clone(),
            token_sha256: digest,
        })
        .await?;
    app.store
        .audit(&AuditEntry {
            at: now,
            actor: Some(record.user.id),
            action: "device.enrol".into(),
            subject: device.id.to_string(),
            detail: serde_json::json!({ "name": device.name, "platform": device.platform }),
        })
        .await?;
    if let Some(old) = req.replaces {
        app.store.replace_device(old, device.id, now).await?;
        app.store
            .audit(&AuditEntry {
                at: now,
                actor: Some(record.user.id),
                action: "device.replace".into(),
                subject: device.id.to_string(),
                detail: serde_json::json!({ "replaces": old.to_string() }),
            })
            .await?;
        tracing::info!(device = %device.id, %old, "device replaces an earlier one");
    }
    tracing::info!(device = %device.id, user = %record.user.username, "device enrolled");
    let county = principal_county(&record.user, team.as_ref());
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

/// `GET /api/v1/me`: who the token acts for.
pub async fn me(authed: Authed) -> Json<Me> {
    let county = authed.county();
    Json(Me {
        user: authed.user,
        team: authed.team,
        county,
    })
}
