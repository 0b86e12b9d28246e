//! Operations: health, metrics, unknown routes, the demo seed, and a
//! graceful shutdown.

use app_core::domain::Role;

use crate::harness::{Env, Fetch};

pub async fn health_metrics_demo_and_shutdown(env: Env) {
    let resp = env.http.get(env.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "ok");
    let (status, p) = env.http.get(env.url("/nowhere")).fetch_problem().await;
    assert_eq!((status, p.code.as_str()), (404, "not_found"));

    // The demo seed is idempotent and its accounts work.
    let ops = env.handle.server().ops();
    let users_before = env.store().stats().await.unwrap().users;
    // (Its records are `demo.rs`'s; here the accounts alone.)
    let devices_before = env.store().stats().await.unwrap().devices;
    let demo = ops.demo_accounts().await.unwrap();
    assert_eq!(demo.seeded, None);
    let accounts = demo.accounts;
    assert_eq!(ops.demo_accounts().await.unwrap().accounts, accounts);
    let stats = env.store().stats().await.unwrap();
    assert_eq!(stats.users, users_before + 8);
    assert_eq!(stats.devices, devices_before);
    let roles: Vec<Role> = accounts.iter().map(|a| a.role).collect();
    assert_eq!(roles[0], Role::TeamLead);
    assert_eq!(roles[1..7], [Role::Commissioner; 6]);
    assert_eq!(roles[7], Role::SyncAdmin);
    let names: Vec<&str> = accounts.iter().map(|a| a.username.as_str()).collect();
    for kept in [
        "zhengan-lead",
        "zhengan-zhang",
        "zhengan-wang",
        "zhengan-admin",
    ] {
        assert!(names.contains(&kept), "{kept}");
    }
    for a in &accounts {
        let resp = env.enrol_raw(&a.username, &a.password).await;
        assert_eq!(resp.status(), 201, "{}", a.username);
    }

    let text = env
        .http
        .get(env.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "ketepai_http_requests_total{method=\"POST\",route=\"/api/v1/devices/enrol\",status=\"201\"} 8"
        ),
        "{text}"
    );
    assert!(text.contains(
        "ketepai_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1"
    ));

    let addr = env.handle.local_addr();
    env.handle.shutdown().await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
