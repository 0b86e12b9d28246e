//! The sync admin's console, end to end: the real app under WebDriver at
//! desktop size (1440×900) as 正安县's sync admin 赵敏, a real sync server
//! started in-process, and field devices driven by their real sync engines
//! in this test process (each its own SQLite store):
//!
//! 1. 张三's phone and tablet edit the same log's farmers count without
//!    seeing each other (a scalar conflict), and both log the same visit
//!    (a possible duplicate).
//! 2. The admin enrols the app; the console lists the conflict with each
//!    value's device and person; the admin keeps one value; the duplicate
//!    pair is shown side by side and one is marked. The resolution and the
//!    mark are ordinary changes: the phone and the tablet converge on them.
//! 3. The admin creates a team and moves 王芳 there; 王芳's device, whose
//!    enrolment still says her old team, writes a log the server refuses
//!    (quarantined). The quarantine shows it decoded; the admin moves her
//!    back to the right team and releases it: stored, and her device's
//!    refused list empties with a "released" notice.
//! 4. The admin revokes 张三's tablet; its status says so and what to do.
//! 5. The admin resets 王芳's password (the one-time password is shown
//!    once); the audit log shows it all and exports as CSV; the county's
//!    statistics and scores come from the server and the annual sheet
//!    exports as XLSX.
//! 6. 王芳 enrols a new app with the one-time password: the app asks for a
//!    new one, enrols, and she signs in with it offline.
//!
//! Screenshots at 1440×900 of every console screen land in
//! `<target dir>/screenshots/admin-*.png`. Two app launches in all.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app_core::clock::SystemClock;
use app_core::domain::{DocId, ServiceLogId, ServiceLogInput};
use app_core::store::Store;
use app_core::sync::protocol::EnrolRequest;
use app_core::sync::status::{Remedy, SyncPhase};
use app_core::sync::{self, EngineOptions, Enrolment, SyncEngine, SyncError};
use serde_json::json;

use crate::harness::{self, AppUnderTest};
use crate::steps::{
    self, ADMIN, TestServer, WAIT, WANG, ZHANG, check_png, choose, fill, invoke, submit_enrolment,
    tap, tap_nth, until, until_element, until_text,
};

const DESKTOP: (u32, u32) = (1440, 900);
/// 北苑社区, 凤仪街道, 正安县.
const VILLAGE: &str = "520324001001";

/// A field device driven by its sync engine in this process.
struct FieldDevice {
    engine: SyncEngine,
    enrolment: Enrolment,
}

impl FieldDevice {
    async fn enrol(dir: &Path, server: &str, (user, password): (&str, &str), name: &str) -> Self {
        let store = Arc::new(
            Store::open(dir.join(format!("{name}.sqlite")), SystemClock::shared())
                .expect("a device store"),
        );
        let options = EngineOptions::default();
        let request = EnrolRequest {
            username: user.into(),
            password: password.into(),
            device_name: name.into(),
            platform: "android".into(),
            replaces: None,
        };
        let answer = sync::enrol(server, &request, &options)
            .await
            .expect("the device enrols");
        let enrolment = sync::complete_enrolment(&store, server, answer, &options)
            .await
            .expect("the enrolment completes");
        let engine = SyncEngine::new(store, options).expect("an engine");
        FieldDevice { engine, enrolment }
    }

    fn store(&self) -> &Store {
        self.engine.store()
    }

    async fn sync(&self) {
        self.engine.sync_once().await.expect("a sync round");
    }

    fn log(&self, description: &str, farmers: i64) -> ServiceLogId {
        self.store()
            .create_service_log(
                &self.enrolment.identity(),
                &log_input(description, farmers),
                true,
            )
            .expect("a saved log")
            .value
            .id
    }
}

fn log_input(description: &str, farmers: i64) -> ServiceLogInput {
    ServiceLogInput {
        date: "2026-11-26".into(),
        village: VILLAGE.into(),
        activity: "technical_guidance".into(),
        industry: "茶叶".into(),
        farmers_served: farmers,
        description: description.into(),
        ..ServiceLogInput::default()
    }
}

/// Opens the actions of the user `username` in the users table (unless
/// they are open).
async fn manage(app: &AppUnderTest, username: &str) {
    let row = format!("[data-username={username}]");
    until_element(app, &row).await;
    let open = app
        .eval("return !!document.querySelector('[data-testid=user-actions]');")
        .await;
    if open != json!(true) {
        tap(app, &format!("{row} [data-testid=user-manage]")).await;
    }
    until_element(app, "[data-testid=user-actions]").await;
}

async fn open_section(app: &AppUnderTest, id: &str) {
    tap(app, &format!("[data-testid=section-{id}]")).await;
    until_element(
        app,
        &format!("[data-testid=section-{id}][aria-current=page]"),
    )
    .await;
}

async fn shot(app: &AppUnderTest, name: &str) {
    check_png(&app.screenshot(name).await, DESKTOP);
}

/// Syncs the admin app now and waits until its outbox is empty.
async fn admin_synced(app: &AppUnderTest) {
    let deadline = Instant::now() + WAIT;
    loop {
        invoke(app, "sync_now", json!({})).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let status = invoke(app, "get_sync_status", json!({})).await;
        if status["pending_changes"] == json!(0) && status["phase"] == json!("idle") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the admin app never synced: {status}"
        );
    }
}

#[test]
fn the_county_admin_resolves_releases_revokes_and_resets_from_the_console() {
    let Some(tools) = harness::require_tools() else {
        return;
    };
    let _machine = harness::exclusive();
    let server_rt = steps::server_runtime();
    let rt = server_rt.handle().clone();
    harness::run(async move {
        let root = tempfile::Builder::new()
            .prefix("ketepai-e2e-admin-")
            .tempdir()
            .expect("a temp dir");
        let dir = root.path().to_owned();
        let mut server = TestServer::demo(rt.clone(), dir.join("server")).await;
        let addr = server.addr;
        let url = server.url();

        // --- 1. Field devices make a conflict and a duplicate. --------------
        let (phone, tablet, wang) = rt
            .spawn({
                let (dir, url) = (dir.clone(), url.clone());
                async move {
                    let phone = FieldDevice::enrol(&dir, &url, ZHANG, "张三的手机").await;
                    let tablet = FieldDevice::enrol(&dir, &url, ZHANG, "张三的平板").await;
                    let wang = FieldDevice::enrol(&dir, &url, WANG, "王芳的手机").await;
                    (phone, tablet, wang)
                }
            })
            .await
            .expect("the devices enrol");
        let phone = Arc::new(phone);
        let tablet = Arc::new(tablet);
        let wang = Arc::new(wang);
        let (conflicted, kept, twin) = rt
            .spawn({
                let (phone, tablet) = (Arc::clone(&phone), Arc::clone(&tablet));
                async move {
                    let log = phone.log("茶园冬季修剪和施基肥指导", 35);
                    phone.sync().await;
                    tablet.sync().await;
                    phone
                        .store()
                        .update_service_log(log, &log_input("茶园冬季修剪和施基肥指导", 38), true)
                        .unwrap();
                    tablet
                        .store()
                        .update_service_log(log, &log_input("茶园冬季修剪和施基肥指导", 40), true)
                        .unwrap();
                    let kept = phone.log("入户查看茶小绿叶蝉虫情，讲解黄板诱杀", 6);
                    let twin = tablet.log("入户查看茶小绿叶蝉虫情，讲解黄板诱杀。", 6);
                    phone.sync().await;
                    tablet.sync().await;
                    phone.sync().await;
                    (log, kept, twin)
                }
            })
            .await
            .expect("the field work");
        assert!(
            !phone
                .store()
                .conflicts(conflicted.into())
                .unwrap()
                .is_empty(),
            "the phone holds both counts"
        );

        // --- 2. The admin enrols the console and resolves. ------------------
        let admin = AppUnderTest::launch(&tools, "admin", &dir.join("admin-app")).await;
        admin.resize(DESKTOP.0, DESKTOP.1).await;
        submit_enrolment(&admin, addr, ADMIN).await;
        until_element(&admin, "[data-testid=admin-console]").await;
        admin
            .wait_for_text("[data-testid=console-who]", "赵敏 · 同步管理员")
            .await;
        admin_synced(&admin).await;

        open_section(&admin, "conflicts").await;
        until_text(&admin, "来自服务器").await;
        tap(&admin, "[data-testid=conflict-row]").await;
        until(
            &admin,
            "the two values side by side",
            "return document.querySelectorAll('[data-testid=value-card]').length === 2;",
        )
        .await;
        until_text(&admin, "设备：张三的手机").await;
        until_text(&admin, "设备：张三的平板").await;
        until_text(&admin, "填写人：张三").await;
        shot(&admin, "admin-conflicts").await;
        // Keep the tablet's 40.
        let forty = admin
            .eval(
                "return [...document.querySelectorAll('[data-testid=value-card]')]\
                 .findIndex(c => c.querySelector('[data-testid=value]').innerText.trim() === '40');",
            )
            .await;
        let forty = forty.as_u64().expect("a card shows 40") as usize;
        tap_nth(&admin, "[data-testid=keep-value]", forty).await;
        until_element(&admin, "[data-testid=all-resolved]").await;
        until_element(&admin, "[data-testid=history-resolution]").await;

        open_section(&admin, "duplicates").await;
        until_element(&admin, "[data-testid=dup-pair]").await;
        until(
            &admin,
            "both sides in full",
            "return document.querySelectorAll('[data-testid=dup-side] [data-testid=record-facts]').length === 2;",
        )
        .await;
        shot(&admin, "admin-duplicates").await;
        tap(&admin, "[data-testid=keep-left]").await;
        until_element(&admin, "[data-testid=marked-row]").await;
        admin_synced(&admin).await;

        // The devices converge on the resolution and the mark.
        rt.spawn({
            let (phone, tablet) = (Arc::clone(&phone), Arc::clone(&tablet));
            async move {
                phone.sync().await;
                tablet.sync().await;
            }
        })
        .await
        .unwrap();
        for device in [&phone, &tablet] {
            let log = device.store().service_log(conflicted).unwrap();
            assert_eq!(log.farmers_served, 40, "the admin's choice everywhere");
            assert!(
                device
                    .store()
                    .conflicts(conflicted.into())
                    .unwrap()
                    .is_empty()
            );
            let resolution = &log.resolutions[0];
            assert_eq!(resolution.chosen, "40");
            assert_eq!(resolution.role, app_core::domain::Role::SyncAdmin);
            let marked = device.store().service_log(twin).unwrap();
            assert_eq!(
                marked.duplicate.map(|d| d.of),
                Some(DocId::from(kept)),
                "the newer one marked as the older's duplicate"
            );
        }

        // --- 3. A team, a move, a refused change, released. -----------------
        open_section(&admin, "people").await;
        fill(
            &admin,
            "[data-testid=team-name]",
            "正安县白茶产业科技特派团",
        )
        .await;
        fill(&admin, "[data-testid=team-industry]", "白茶").await;
        tap(&admin, "[data-testid=create-team]").await;
        until_text(&admin, "已创建团队 正安县白茶产业科技特派团").await;
        manage(&admin, "zhengan-wang").await;
        choose(&admin, "[data-testid=move-team]", "白茶产业").await;
        tap(&admin, "[data-testid=move-user]").await;
        until_text(&admin, "已保存 王芳").await;

        let refused_log = rt
            .spawn({
                let wang = Arc::clone(&wang);
                async move {
                    let id = wang.log("茶园冬季管理现场指导（王芳）", 9);
                    wang.sync().await;
                    id
                }
            })
            .await
            .unwrap();
        assert_eq!(
            wang.store().refused_count().unwrap(),
            1,
            "her old team on the record: refused"
        );

        open_section(&admin, "quarantine").await;
        until_element(&admin, "[data-testid=q-card]").await;
        until_text(&admin, "王芳的手机").await;
        until_element(&admin, "[data-testid=write-row]").await;
        // Codes in words and IDs by name, not as stored.
        until_text(&admin, "技术指导").await;
        shot(&admin, "admin-quarantine").await;

        // Moved back to the team her record names, then released.
        open_section(&admin, "people").await;
        manage(&admin, "zhengan-wang").await;
        choose(&admin, "[data-testid=move-team]", "正安县科技特派团").await;
        tap(&admin, "[data-testid=move-user]").await;
        until_text(&admin, "已保存 王芳").await;
        open_section(&admin, "quarantine").await;
        tap(&admin, "[data-testid=release]").await;
        until_element(&admin, "[data-testid=released-result]").await;
        until_text(&admin, "已放行并保存 1 处修改").await;
        rt.spawn({
            let wang = Arc::clone(&wang);
            async move { wang.sync().await }
        })
        .await
        .unwrap();
        assert_eq!(wang.store().refused_count().unwrap(), 0, "released");
        let notices = wang.engine.notices().unwrap();
        assert!(
            notices
                .iter()
                .any(|n| n.kind == app_core::sync::protocol::NoticeKind::Released
                    && n.doc == DocId::from(refused_log)),
            "{notices:?}"
        );

        // --- 4. The tablet is revoked; its status says what to do. ----------
        open_section(&admin, "devices").await;
        until_text(&admin, "张三的平板").await;
        shot(&admin, "admin-devices").await;
        let tablet_row = admin
            .eval(
                "return [...document.querySelectorAll('[data-testid=device-row]')]\
                 .findIndex(r => r.innerText.includes('张三的平板'));",
            )
            .await
            .as_u64()
            .expect("the tablet's row") as usize;
        let revoke_index = admin
            .eval(&format!(
                "const rows = [...document.querySelectorAll('[data-testid=device-row]')];\
                 return rows.slice(0, {tablet_row}).filter(r => r.querySelector('[data-testid=revoke]')).length;"
            ))
            .await
            .as_u64()
            .unwrap() as usize;
        tap_nth(&admin, "[data-testid=revoke]", revoke_index).await;
        tap(&admin, "[data-testid=revoke-confirm]").await;
        until_element(&admin, "[data-testid=revoke-done]").await;
        let error = rt
            .spawn({
                let tablet = Arc::clone(&tablet);
                async move { tablet.engine.sync_once().await.err() }
            })
            .await
            .unwrap();
        assert!(matches!(error, Some(SyncError::Revoked)), "{error:?}");
        let status = tablet.engine.status_now().unwrap();
        assert_eq!(status.phase, SyncPhase::Stopped);
        assert_eq!(status.remedy(), Some(Remedy::EnrolAgain));

        // --- 5. A password reset, the audit log and its CSV. ----------------
        open_section(&admin, "people").await;
        manage(&admin, "zhengan-wang").await;
        tap(&admin, "[data-testid=reset-password]").await;
        tap(&admin, "[data-testid=confirm-user-action]").await;
        until_element(&admin, "[data-testid=otp-dialog]").await;
        until_text(&admin, "只显示这一次").await;
        shot(&admin, "admin-users-otp").await;
        let otp = admin.text("[data-testid=otp]").await;
        assert_eq!(otp.len(), 14, "{otp}");
        tap(&admin, "[data-testid=otp-close]").await;
        assert!(
            admin
                .eval("return !document.querySelector('[data-testid=otp-dialog]');")
                .await
                == json!(true),
            "gone for good"
        );

        open_section(&admin, "audit").await;
        until_element(&admin, "[data-action='quarantine.release']").await;
        until_element(&admin, "[data-action='user.password_reset']").await;
        // A move reads by the teams' names.
        until_text(&admin, "所属团队：正安县").await;
        shot(&admin, "admin-audit").await;
        tap(&admin, "[data-testid=export-audit]").await;
        until_element(&admin, "[data-testid=export-path]").await;
        let path = admin.text("[data-testid=export-path]").await;
        assert!(path.contains("/exports/audit-"), "{path}");
        let csv = std::fs::read_to_string(&path).expect("the exported CSV");
        assert!(csv.starts_with('\u{feff}'), "a byte-order mark");
        for action in [
            "team.create",
            "user.move",
            "quarantine.release",
            "device.revoke",
        ] {
            assert!(csv.contains(action), "{action} in the CSV");
        }

        // --- The area's statistics from the server, and the annual sheet. ----
        open_section(&admin, "stats").await;
        until_element(&admin, "[data-testid=stats-total]").await;
        until_element(&admin, "[data-testid=score-row]").await;
        let county = admin
            .text("[data-testid=stats-table] [data-testid=stats-row]")
            .await;
        assert!(county.contains("正安县"), "{county}");
        shot(&admin, "admin-statistics").await;
        tap(&admin, "[data-testid=export-xlsx]").await;
        until_element(&admin, "[data-testid=exported-file]").await;
        let path = admin.text("[data-testid=exported-file]").await;
        assert!(
            path.contains("/exports/") && path.ends_with(".xlsx"),
            "{path}"
        );
        assert!(std::fs::metadata(&path).expect("the workbook").len() > 1_000);

        open_section(&admin, "settings").await;
        until_element(&admin, "[data-testid=settings-page]").await;
        admin.close().await;

        // --- 6. 王芳 enrols a new app with the one-time password. -----------
        let field = AppUnderTest::launch(&tools, "wang", &dir.join("wang-app")).await;
        field.resize(390, 844).await;
        submit_enrolment(&field, addr, (WANG.0, &otp)).await;
        until_element(&field, "[data-testid=enrol-password-step]").await;
        until_text(&field, "设置新密码").await;
        fill(&field, "[data-testid=enrol-password-new]", "白茶园-2026").await;
        fill(&field, "[data-testid=enrol-password-repeat]", "白茶园-2026").await;
        tap(&field, "[data-testid=enrol-submit]").await;
        until_element(&field, "[data-testid=home-page]").await;
        tap(&field, "[data-testid=tab-settings]").await;
        tap(&field, "[data-testid=sign-out]").await;
        until_element(&field, "[data-testid=sign-in-page]").await;
        fill(&field, "[data-testid=sign-in-password]", "白茶园-2026").await;
        tap(&field, "[data-testid=sign-in-submit]").await;
        until_element(&field, "[data-testid=home-page]").await;
        field.close().await;

        server.stop().await;
    });
    server_rt.shutdown_timeout(Duration::from_secs(5));
}
