//! Device tokens and enrolment: wrong, expired (by the server's manual
//! clock) and revoked tokens; sliding expiry for devices that keep coming
//! back; bad credentials and their rate limit.

use app_core::sync::protocol::Me;

use crate::harness::{DAY, Doc, Env, T0, ZHENGAN, log_by, problem, villages};

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
    let me: Me = env
        .get(&phone, "/api/v1/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let (status, p) = problem(
        env.push_request(&phone, std::slice::from_ref(&change))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, p.code.as_str()), (401, "token_expired"));

    // Revoked by the county's sync admin.
    let phone2 = env.enrol(&w.c2).await;
    let admin = env.enrol(&w.admin_zhengan).await;
    let other_admin = env.enrol(&w.admin_wuchuan).await;
    let path = format!("/api/v1/admin/devices/{}/revoke", phone2.id);
    assert_eq!(
        env.post(&other_admin, &path).send().await.unwrap().status(),
        404
    );
    assert_eq!(env.post(&phone, &path).send().await.unwrap().status(), 401);
    let c1_again = env.enrol(&w.c1).await;
    let (status, p) = problem(env.post(&c1_again, &path).send().await.unwrap()).await;
    assert_eq!((status, p.code.as_str()), (403, "forbidden"));
    let listed: Vec<serde_json::Value> = env
        .get(&admin, "/api/v1/admin/devices")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed.iter().any(|d| d["id"] == phone2.id.as_str()));
    assert!(
        !listed.iter().any(|d| d["id"] == other_admin.id.as_str()),
        "a device out of scope"
    );
    let answer: serde_json::Value = env
        .post(&admin, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["revoked"], true);
    let answer: serde_json::Value = env
        .post(&admin, &path)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["revoked"], false);
    assert_eq!(
        me_status(&env, Some(&format!("Bearer {}", phone2.token))).await,
        (401, Some("token_revoked".into()))
    );
    let (status, p) = problem(env.push_request(&phone2, &[change]).send().await.unwrap()).await;
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
    let me: Me = env
        .get(&admin, "/api/v1/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me.county.map(|c| c.to_string()).as_deref(), Some(ZHENGAN));
    assert!(me.team.is_none());
}
