//! Device tokens and enrolment: wrong, expired (by the server's manual
//! clock) and revoked tokens; sliding expiry for devices that keep coming
//! back; bad credentials and their rate limit; a revoked device enrolling
//! again in its own place.

use app_core::sync::protocol::Me;

use crate::harness::{DAY, Doc, Env, Fetch, T0, ZHENGAN, log_by, problem, villages};

async fn me_status(env: &Env, token: Option<&str>) -> (u16, Option<String>) {
    let mut req = env.http.get(env.url("/api/v1/me"));
    if let Some(t) = token {
        req = req.header("authorization", t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    if status == 200 {
        (status, None)
    } else {
        let (_, p) = problem(resp).await;
        (status, Some(p.code))
    }
}

pub async fn wrong_expired_and_revoked_tokens(env: Env) {
    let w = env.world.clone();
    let unauth = (401, Some("unauthenticated".to_string()));
    assert_eq!(me_status(&env, None).await, unauth);
    assert_eq!(me_status(&env, Some("Bearer abc")).await, unauth);
    assert_eq!(
        me_status(&env, Some("Basic YWxhZGRpbjpvcGVuc2VzYW1l")).await,
        unauth
    );
    let unknown = format!("Bearer {}", "A".repeat(43));
    assert_eq!(me_status(&env, Some(&unknown)).await, unauth);

    let phone = env.enrol(&w.c1).await;
    let bearer = format!("Bearer {}", phone.token);
    let me: Me = env.get(&phone, "/api/v1/me").fetch_json().await;
    assert_eq!(me.user.username, "c1");
    assert_eq!(me.county.map(|c| c.to_string()).as_deref(), Some(ZHENGAN));
    assert_eq!(me.team.map(|t| t.id), Some(w.team1.id));

    // Offline for weeks, then back: still valid, and each use renews it.
    let idle = i64::from(env.config.token_idle_days);
    env.clock.advance_millis((idle - 1) * DAY);
    assert_eq!(me_status(&env, Some(&bearer)).await, (200, None));
    env.clock.advance_millis((idle - 1) * DAY);
    assert_eq!(me_status(&env, Some(&bearer)).await, (200, None));
    // Unused for longer than the expiry: expired.
    env.clock.advance_millis((idle + 1) * DAY);
    assert_eq!(
        me_status(&env, Some(&bearer)).await,
        (401, Some("token_expired".into()))
    );
    let v = villages(ZHENGAN, 1)[0];
    let (_, change) = Doc::create_log(&phone, &log_by(&w.c1.user, Some(w.team1.id), v, T0));
    let (status, p) = env
        .push_request(&phone, std::slice::from_ref(&change))
        .fetch_problem()
        .await;
    assert_eq!((status, p.code.as_str()), (401, "token_expired"));

    // Revoked by the county's sync admin.
    let phone2 = env.enrol(&w.c2).await;
    let admin = env.enrol(&w.admin_zhengan).await;
    let other_admin = env.enrol(&w.admin_wuchuan).await;
    let path = format!("/api/v1/admin/devices/{}/revoke", phone2.id);
    assert_eq!(env.post(&other_admin, &path).fetch_status().await, 404);
    assert_eq!(env.post(&phone, &path).fetch_status().await, 401);
    let c1_again = env.enrol(&w.c1).await;
    let (status, p) = env.post(&c1_again, &path).fetch_problem().await;
    assert_eq!((status, p.code.as_str()), (403, "forbidden"));
    let listed: serde_json::Value = env.get(&admin, "/api/v1/admin/devices").fetch_json().await;
    let listed = listed["items"].as_array().unwrap();
    assert!(listed.iter().any(|d| d["id"] == phone2.id.as_str()));
    assert!(
        !listed.iter().any(|d| d["id"] == other_admin.id.as_str()),
        "a device out of scope"
    );
    let answer: serde_json::Value = env.post(&admin, &path).fetch_json().await;
    assert_eq!(answer["revoked"], true);
    let answer: serde_json::Value = env.post(&admin, &path).fetch_json().await;
    assert_eq!(answer["revoked"], false);
    assert_eq!(
        me_status(&env, Some(&format!("Bearer {}", phone2.token))).await,
        (401, Some("token_revoked".into()))
    );
    let (status, p) = env.push_request(&phone2, &[change]).fetch_problem().await;
    assert_eq!((status, p.code.as_str()), (401, "token_revoked"));
    // The user enrols the phone again and carries on.
    let phone2b = env.enrol(&w.c2).await;
    assert_eq!(
        me_status(&env, Some(&format!("Bearer {}", phone2b.token))).await,
        (200, None)
    );
    // The operator's command does the same.
    let id = phone2b.id.parse().unwrap();
    assert!(env.handle.server().ops().revoke_device(id).await.unwrap());
    assert_eq!(
        me_status(&env, Some(&format!("Bearer {}", phone2b.token))).await,
        (401, Some("token_revoked".into()))
    );
    assert_eq!(env.counts().await.0, 0);
    let audit = env.store().audit_log(100).await.unwrap();
    assert_eq!(
        audit.iter().filter(|a| a.action == "device.revoke").count(),
        3
    );
}

pub async fn enrolment_and_its_rate_limit(env: Env) {
    let w = env.world.clone();
    let (status, p) = problem(env.enrol_raw("c1", "wrong password").await).await;
    assert_eq!((status, p.code.as_str()), (401, "bad_credentials"));
    let (status, p) = problem(env.enrol_raw("nobody", "whatever-password").await).await;
    assert_eq!((status, p.code.as_str()), (401, "bad_credentials"));
    let resp = env
        .http
        .post(env.url("/api/v1/devices/enrol"))
        .header("content-type", "text/plain")
        .body("c1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    for _ in 0..10 {
        env.enrol_raw("c2", "guess").await;
    }
    let resp = env.enrol_raw("c2", &w.c2.password).await;
    assert!(resp.headers().contains_key("retry-after"));
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (429, "rate_limited"));
    assert!(p.retryable);
    // Another user is not affected; the limit lifts after its window.
    env.enrol(&w.c1).await;
    env.clock.advance_millis(16 * 60 * 1000);
    let d = env.enrol(&w.c2).await;
    assert_eq!(d.token.len(), 43);
    // A sync admin's county comes from their scope.
    let admin = env.enrol(&w.admin_zhengan).await;
    let me: Me = env.get(&admin, "/api/v1/me").fetch_json().await;
    assert_eq!(me.county.map(|c| c.to_string()).as_deref(), Some(ZHENGAN));
    assert!(me.team.is_none());
}

/// A revoked (or long-expired) device enrols again in place of itself and
/// keeps its work: the changes it made offline under its old actor are its
/// own, and its quarantines follow it. Only the same user may do this.
pub async fn a_revoked_device_enrols_again_in_its_own_place(env: Env) {
    let w = env.world.clone();
    let v = villages(ZHENGAN, 2);
    let old = env.enrol(&w.c1).await;
    let (mut doc, created) = Doc::create_log(&old, &log_by(&w.c1.user, Some(w.team1.id), v[0], T0));
    env.push(&old, std::slice::from_ref(&created)).await;
    // A refused change quarantines a record for this device.
    let other = env.enrol(&w.c2).await;
    let (_, foreign) = Doc::create_log(&other, &log_by(&w.c2.user, Some(w.team1.id), v[1], T0));
    env.push(&other, std::slice::from_ref(&foreign)).await;
    // The other's record, as a device that received it holds it.
    let theirs = || {
        let mut d = Doc {
            id: foreign.0,
            doc: app_core::doc::RecordDoc::empty(),
        };
        let change = app_core::doc::decode_change(&foreign.1).unwrap();
        d.doc.apply([change]).unwrap();
        d
    };
    let hijack = theirs().edit_log(&old, |l| l.farmers_served += 100);
    let refused = env.push(&old, std::slice::from_ref(&hijack)).await;
    assert_eq!(codes(&refused), ["not_your_record"]);

    // Offline, the phone keeps working; meanwhile an admin revokes it.
    let offline_edit = doc.edit_log(&old, |l| l.description.push_str("回访时补充。"));
    let id: app_core::domain::DeviceId = old.id.parse().unwrap();
    assert!(env.handle.server().ops().revoke_device(id).await.unwrap());
    let (status, p) = env
        .push_request(&old, std::slice::from_ref(&offline_edit))
        .fetch_problem()
        .await;
    assert_eq!((status, p.code.as_str()), (401, "token_revoked"));

    // Someone else cannot take its place, nor name a device that does not exist.
    for (account, replaces) in [
        (&w.c2, id.to_string()),
        (&w.c1, "0192f000-0000-7000-8000-000000000000".to_string()),
    ] {
        let resp = env
            .http
            .post(env.url("/api/v1/devices/enrol"))
            .json(&serde_json::json!({
                "username": account.user.username, "password": account.password,
                "device_name": "换机", "platform": "android", "replaces": replaces,
            }))
            .send()
            .await
            .unwrap();
        let (status, p) = problem(resp).await;
        assert_eq!((status, p.code.as_str()), (403, "forbidden"));
    }

    // Its user enrols it again in its own place: the offline edit, made by
    // the old actor, is accepted as the new device's own.
    let resp = env
        .http
        .post(env.url("/api/v1/devices/enrol"))
        .json(&serde_json::json!({
            "username": w.c1.user.username, "password": w.c1.password,
            "device_name": "张三的手机", "platform": "android", "replaces": id.to_string(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let answer: app_core::sync::protocol::EnrolResponse = resp.json().await.unwrap();
    let again = crate::harness::Device {
        id: answer.device_id.to_string(),
        token: answer.token,
        actor: old.actor.clone(),
    };
    assert_eq!(codes(&env.push(&again, &[offline_edit]).await), ["stored"]);
    // The quarantine came along: the record it tried to take is still
    // closed to it until a sync admin releases it.
    let retry = theirs().edit_log(&again, |l| l.farmers_served += 1);
    assert_eq!(codes(&env.push(&again, &[retry]).await), ["quarantined"]);
    // Another device of the same user writing with that actor is refused.
    let third = env.enrol(&w.c1).await;
    let stolen = crate::harness::Device {
        actor: old.actor.clone(),
        ..third
    };
    let more = doc.edit_log(&stolen, |l| l.farmers_served += 1);
    assert_eq!(codes(&env.push(&stolen, &[more]).await), ["foreign_actor"]);
}

fn codes(outcomes: &[app_core::sync::protocol::ChangeOutcome]) -> Vec<&'static str> {
    outcomes.iter().map(crate::harness::code).collect()
}
