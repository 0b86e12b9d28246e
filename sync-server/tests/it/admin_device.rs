//! The device's side of the sync admin's decisions, with the device's own
//! store and sync engine: its pushes and pulls report the outbox and the
//! app version; a refused change that an admin discards reaches the user
//! as a notice with the admin's reason; a revoked device's status says to
//! enrol again, a disabled account's to ask the admin.

use app_core::admin::{DeviceQuery, Discard, QuarantineQuery};
use app_core::sync::protocol::NoticeKind;
use app_core::sync::status::{Remedy, SyncPhase};
use app_core::sync::{EngineOptions, SyncClient, SyncError, stored_enrolment};

use crate::client::{input, phone};
use crate::harness::Env;

pub async fn the_device_hears_of_a_discard_and_reports_its_outbox(env: Env) {
    let w = env.world.clone();
    let p1 = phone(&env, &w.c1).await;
    let log = p1
        .store
        .create_service_log(&p1.who, &input("指导茶园冬季管理"), true)
        .unwrap()
        .value;
    p1.engine.sync_once().await.unwrap();
    let p2 = phone(&env, &w.c2).await;
    p2.engine.sync_once().await.unwrap();
    p2.store
        .update_service_log(log.id, &input("改别人的日志"), false)
        .unwrap();
    assert_eq!(p2.engine.sync_once().await.unwrap().refused, 1);

    // The admin sees it and discards it with a reason.
    let admin_device = env.enrol(&w.admin_zhengan).await;
    let admin = SyncClient::new(
        &env.handle.url(),
        &admin_device.token,
        &EngineOptions::default(),
    )
    .unwrap();
    let page = admin
        .admin_quarantine(&QuarantineQuery::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let quarantined = &page.items[0];
    let p2_device = stored_enrolment(&p2.store).unwrap().unwrap().device_id;
    assert_eq!(quarantined.device, p2_device);
    let writes = quarantined.changes[0].writes.as_ref().unwrap();
    assert!(writes.iter().any(|f| f.field == "description"
        && f.after == Some(serde_json::json!("改别人的日志"))));
    admin
        .admin_discard(&Discard {
            device: p2_device,
            doc: quarantined.doc,
            reason: "这是张三的日志，请勿修改".into(),
        })
        .await
        .unwrap();

    // Its next round collects the notice, keeps it for the user and
    // acknowledges it.
    let report = p2.engine.sync_once().await.unwrap();
    assert_eq!(report.notices, 1);
    let status = p2.engine.status_now().unwrap();
    assert_eq!(status.notices.len(), 1);
    let n = &status.notices[0];
    assert_eq!((n.kind, n.doc), (NoticeKind::Discarded, quarantined.doc));
    assert_eq!(n.reason, "这是张三的日志，请勿修改");
    let report = p2.engine.sync_once().await.unwrap();
    assert_eq!(report.notices, 0, "acknowledged: not fetched again");
    assert_eq!(
        p2.engine.notices().unwrap().len(),
        1,
        "kept until dismissed"
    );
    p2.engine.dismiss_notice(n.id).unwrap();
    assert!(p2.engine.status_now().unwrap().notices.is_empty());

    // The server knows what each engine reported.
    let devices = admin.admin_devices(&DeviceQuery::default()).await.unwrap();
    let d = devices.items.iter().find(|d| d.id == p2_device).unwrap();
    assert_eq!(d.app_version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert!(d.last_push_at.is_some() && d.last_pull_at.is_some());
    assert_eq!(d.backlog.map(|b| b.changes), Some(0));
    assert_eq!(d.notices_pending, 0);

    // Revoked: the status says to enrol the device again.
    let p1_device = stored_enrolment(&p1.store).unwrap().unwrap().device_id;
    admin.admin_revoke_device(p1_device).await.unwrap();
    let err = p1.engine.sync_once().await.unwrap_err();
    assert!(matches!(err, SyncError::Revoked), "{err:?}");
    let status = p1.engine.status();
    assert_eq!(status.phase, SyncPhase::Stopped);
    assert_eq!(status.remedy(), Some(Remedy::EnrolAgain));

    // Disabled: the status says to ask the admin.
    admin.admin_disable_user(w.c2.user.id).await.unwrap();
    let err = p2.engine.sync_once().await.unwrap_err();
    assert_eq!(err.code(), "account_disabled");
    let status = p2.engine.status();
    assert_eq!(status.phase, SyncPhase::Stopped);
    assert_eq!(status.remedy(), Some(Remedy::ContactAdmin));
}

/// The engine's reports cost nothing on a reconnect with nothing new: it
/// sends one only when the server does not have it yet.
pub async fn a_reconnect_with_nothing_new_stays_small_with_reports(env: Env) {
    use std::sync::atomic::Ordering;

    let w = env.world.clone();
    let p1 = phone(&env, &w.c1).await;
    p1.store
        .create_service_log(&p1.who, &input("指导茶园冬季管理"), true)
        .unwrap();
    // The first round pushes and reports the outbox after it.
    p1.engine.sync_once().await.unwrap();
    let (proxy, up, down) = crate::pull::counting_proxy(env.handle.local_addr()).await;
    app_core::sync::enrol::set_server(&p1.store, &format!("http://{proxy}")).unwrap();
    let report = p1.engine.sync_once().await.unwrap();
    assert_eq!(report.requests, 1, "one pull, answered 204");
    let (up, down) = (up.load(Ordering::SeqCst), down.load(Ordering::SeqCst));
    eprintln!("engine reconnect with nothing new: {up} bytes up, {down} bytes down");
    assert!(up + down <= 300, "{up} + {down} bytes on the wire");
}
