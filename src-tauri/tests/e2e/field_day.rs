//! A commissioner's field day, end to end, with the real app and a real
//! sync server started in-process on 127.0.0.1:
//!
//! 1. The server runs, seeded with the demo county 正安县 (520324).
//! 2. Device A starts in Chinese on the enrolment page and enrols as 张三.
//! 3. The server goes down. 张三 fills a service log (village found by
//!    pinyin initials, a training with trainees, a photo; a damaged photo
//!    and a decompression bomb are refused in words).
//! 4. The app is closed mid-form and restarted: its encrypted store is
//!    locked, a wrong password is refused in words, the right one unlocks
//!    it, and the draft is restored; no farmer's words can be read from
//!    the data directory's files. The log is saved while the server is down
//!    (warnings shown, not blocking).
//! 5. The app is restarted again (unlocked with the password): the log is
//!    there, waiting to upload.
//! 6. The server comes back on the same data directory; "sync now"; the
//!    record and its photos arrive on the server.
//! 7. A consultation is asked and answered; statistics count the day.
//! 8. Device B enrols as the team lead 李明 and, after its sync, opens the
//!    log 张三 made, with its photo fetched from the server.
//!
//! Screenshots of the main pages at phone and tablet size are saved under
//! `<target dir>/screenshots/`. Four app launches in all, to keep CI cheap.

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::json;

use crate::harness::{self, AppUnderTest};
use crate::steps::{
    self, LEAD, TestServer, WAIT, ZHANG, assert_nothing_left, check_png, element, enrol, fill,
    invoke, tap, unlock, until, until_text,
};

/// Phone (390×844) and tablet (1024×768) viewports.
pub(crate) const PHONE: (u32, u32) = (390, 844);
const TABLET: (u32, u32) = (1024, 768);

/// Chooses a file for the file input at `css`, as the file picker would:
/// WebDriver sends the path of a file written to `dir`.
async fn choose_file(app: &AppUnderTest, dir: &Path, css: &str, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the photo file");
    element(app, css)
        .await
        .send_keys(path.to_str().expect("a UTF-8 path"))
        .await
        .unwrap_or_else(|e| panic!("choose {name}: {e}"));
}

/// Presses Enter in a field, as a person finishing a form does.
async fn press_enter(app: &AppUnderTest, css: &str) {
    element(app, css)
        .await
        .send_keys("\u{E007}")
        .await
        .unwrap_or_else(|e| panic!("Enter in {css}: {e}"));
}

/// A camera-like JPEG: large, with gradients and noise.
pub(crate) fn camera_jpeg() -> Vec<u8> {
    let (w, h) = (2400u32, 1800u32);
    let mut seed = 0x2545_f491_u32;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed % 40) as u8;
        image::Rgb([
            ((x * 200 / w) as u8).saturating_add(n),
            ((y * 255 / h) as u8).saturating_add(n / 2),
            60u8.saturating_add(n),
        ])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(&img, w, h, image::ExtendedColorType::Rgb8)
        .expect("encode a JPEG");
    out
}

/// A real JPEG whose header claims 65,000 × 65,000 pixels.
fn bomb_jpeg() -> Vec<u8> {
    let mut out = Vec::new();
    let img = image::RgbImage::from_pixel(16, 16, image::Rgb([200, 10, 10]));
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(&img, 16, 16, image::ExtendedColorType::Rgb8)
        .expect("encode a JPEG");
    let sof = out
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("SOF0");
    out[sof + 5..sof + 9].copy_from_slice(&[0xFD, 0xE8, 0xFD, 0xE8]);
    out
}

async fn shots(app: &AppUnderTest, name: &str) {
    app.resize(PHONE.0, PHONE.1).await;
    check_png(&app.screenshot(&format!("{name}-phone")).await, PHONE);
    app.resize(TABLET.0, TABLET.1).await;
    check_png(&app.screenshot(&format!("{name}-tablet")).await, TABLET);
    app.resize(PHONE.0, PHONE.1).await;
}

#[test]
fn a_field_day_offline_then_synced_to_the_team_lead() {
    let Some(tools) = harness::require_tools() else {
        return;
    };
    let _machine = harness::exclusive();
    let server_rt = steps::server_runtime();
    let runtime = server_rt.handle().clone();
    harness::run(async move {
        let root = tempfile::Builder::new()
            .prefix("ketepai-e2e-")
            .tempdir()
            .expect("a temp dir");
        let mut server = TestServer::demo(runtime, root.path().join("server")).await;
        let addr = server.addr;

        // --- Device A: first start, in Chinese, enrolment. ---------------------
        let dir_a = root.path().join("device-a");
        let data_a = dir_a.to_str().expect("UTF-8").to_owned();
        let app = AppUnderTest::launch(&tools, "a1", &dir_a).await;
        app.resize(PHONE.0, PHONE.1).await;
        until_text(&app, "注册本设备").await;
        assert_eq!(
            app.eval("return document.documentElement.lang;").await,
            json!("zh-CN")
        );
        let info = invoke(&app, "app_info", json!({})).await;
        assert_eq!(
            info,
            json!({ "version": env!("CARGO_PKG_VERSION"), "data_dir": data_a })
        );
        assert!(
            app.data_dir().join("webview").is_dir(),
            "webview storage in the data dir"
        );

        // A wrong password is refused in words, without raw error text.
        // (Sent with Enter in the password box: the form submits, and an
        // address without a scheme is not blocked by the browser.)
        fill(&app, "[data-testid=enrol-server]", &addr.to_string()).await;
        fill(&app, "[data-testid=enrol-username]", ZHANG.0).await;
        fill(&app, "[data-testid=enrol-password]", "wrong").await;
        press_enter(&app, "[data-testid=enrol-password]").await;
        until_text(&app, "用户名或密码不对").await;
        enrol(&app, addr, ZHANG).await;
        until_text(&app, "您好，张三").await;
        assert_eq!(
            app.text("[data-testid=greeting]").await,
            "您好，张三 · 正安县科技特派团"
        );

        // --- The server goes down; a visit is logged. ----------------------------
        server.stop().await;
        tap(&app, "[data-testid=new-service-log]").await;
        until(&app, "the form with today's date",
            "const d = document.querySelector('[data-testid=log-date]'); return !!d && d.value.length === 10;").await;
        let now = invoke(&app, "get_now", json!({})).await;
        assert_eq!(
            app.eval("return document.querySelector('[data-testid=log-date]').value;")
                .await,
            now["date"]
        );
        until_text(&app, "本设备不支持定位，日志照常保存").await;

        fill(&app, "[data-testid=village-search]", "by").await;
        tap(&app, "[data-testid=village-option]").await;
        app.wait_for_text("[data-testid=village-picked]", "北苑社区 · 凤仪街道")
            .await;
        tap(&app, "[data-testid=activity-training]").await;
        fill(&app, "[data-testid=log-trainees]", "30").await;
        tap(&app, "[data-testid='industry-茶叶']").await;
        fill(&app, "[data-testid=log-farmers]", "12").await;
        fill(&app, "[data-testid=log-technologies]", "绿色防控、测土配方").await;
        fill(
            &app,
            "[data-testid=log-description]",
            "茶园秋冬管理：修剪、施基肥，讲解病虫害绿色防控",
        )
        .await;

        choose_file(
            &app,
            root.path(),
            "[data-testid=photo-file]",
            "damaged.jpg",
            &camera_jpeg()[..400],
        )
        .await;
        until_text(&app, "照片文件已损坏").await;
        choose_file(
            &app,
            root.path(),
            "[data-testid=photo-file]",
            "bomb.jpg",
            &bomb_jpeg(),
        )
        .await;
        until_text(&app, "照片尺寸太大").await;
        choose_file(
            &app,
            root.path(),
            "[data-testid=photo-file]",
            "tea.jpg",
            &camera_jpeg(),
        )
        .await;
        until(
            &app,
            "the photo's thumbnail",
            "return document.querySelectorAll('[data-testid=photo-thumb]').length === 1;",
        )
        .await;
        shots(&app, "log-form").await;
        // Let the draft be written (half a second after the last change).
        tokio::time::sleep(Duration::from_millis(1500)).await;
        app.close().await;

        // --- Restart mid-form: the draft is back. ----------------------------------
        let app = AppUnderTest::launch(&tools, "a2", &dir_a).await;
        app.resize(PHONE.0, PHONE.1).await;
        unlock(&app, "wrong").await;
        until_text(&app, "密码不对").await;
        shots(&app, "unlock").await;
        unlock(&app, ZHANG.1).await;
        until(
            &app,
            "home, still signed in",
            "return !!document.querySelector('[data-testid=home-page]');",
        )
        .await;
        tap(&app, "[data-testid=new-service-log]").await;
        until_text(&app, "已恢复上次未填完的内容").await;
        assert_eq!(
            app.eval("return document.querySelector('[data-testid=log-description]').value;")
                .await,
            json!("茶园秋冬管理：修剪、施基肥，讲解病虫害绿色防控")
        );
        app.wait_for_text("[data-testid=village-picked]", "北苑社区 · 凤仪街道")
            .await;
        until(
            &app,
            "the restored photo",
            "return document.querySelectorAll('[data-testid=photo-thumb]').length === 1;",
        )
        .await;
        tap(&app, "[data-testid=save-log]").await;
        until(
            &app,
            "the saved log",
            "return !!document.querySelector('[data-testid=log-detail]');",
        )
        .await;
        until_text(&app, "已保存。请注意：").await;
        until_text(&app, "没有定位").await;
        app.wait_for_text("[data-testid=review-state]", "待审核")
            .await;
        tap(&app, "[data-testid=tab-home]").await;
        until_text(&app, "待上传 1 条记录").await;
        app.wait_for_text("[data-testid=sync-state]", "离线").await;
        shots(&app, "home-offline").await;
        app.close().await;
        assert_nothing_left(&data_a);
        // What was written in the field cannot be read from any file in the
        // data directory, the webview's included: the store is encrypted.
        let readable = steps::files_containing(&dir_a, "讲解病虫害绿色防控");
        assert!(readable.is_empty(), "readable in {readable:?}");

        // --- Restart: the log is there; the server comes back. -------------------
        let app = AppUnderTest::launch(&tools, "a3", &dir_a).await;
        app.resize(PHONE.0, PHONE.1).await;
        unlock(&app, ZHANG.1).await;
        until(
            &app,
            "home",
            "return !!document.querySelector('[data-testid=home-page]');",
        )
        .await;
        app.click("[data-testid=tab-records]").await;
        until_text(&app, "北苑社区 · 技术培训").await;
        let logs = invoke(&app, "list_service_logs", json!({ "input": {} })).await;
        let log_id = logs[0]["id"].as_str().expect("a log id").to_owned();
        let detail = invoke(
            &app,
            "get_service_log",
            json!({ "input": { "id": log_id } }),
        )
        .await;
        let photos: Vec<String> = detail["log"]["photos"]
            .as_array()
            .expect("photos")
            .iter()
            .flat_map(|p| {
                [
                    p["hash"].as_str().unwrap().to_owned(),
                    p["thumb"].as_str().unwrap().to_owned(),
                ]
            })
            .collect();
        assert_eq!(photos.len(), 2, "one photo and its thumbnail");

        server.start().await;
        tap(&app, "[data-testid=tab-home]").await;
        tap(&app, "[data-testid=sync-now]").await;
        until_text(&app, "全部已上传").await;
        app.wait_for_text("[data-testid=sync-state]", "在线").await;
        let deadline = Instant::now() + WAIT;
        while !server.holds(&log_id, &photos).await {
            assert!(
                Instant::now() < deadline,
                "the log and its photos never reached the server"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        shots(&app, "home-synced").await;

        // --- A consultation, answered; the day's statistics. ---------------------
        tap(&app, "[data-testid=new-consultation]").await;
        until(
            &app,
            "the consultation form",
            "return !!document.querySelector('[data-testid=c-farmer]');",
        )
        .await;
        fill(&app, "[data-testid=c-farmer]", "王大姐").await;
        fill(&app, "[data-testid=village-search]", "北苑").await;
        tap(&app, "[data-testid=village-option]").await;
        fill(&app, "[data-testid=c-subject]", "茶树").await;
        fill(&app, "[data-testid=c-problem]", "新叶发黄卷曲，叶背有小虫").await;
        tap(&app, "[data-testid=save-consultation]").await;
        until(
            &app,
            "the consultation",
            "return !!document.querySelector('[data-testid=consultation-detail]');",
        )
        .await;
        app.wait_for_text("[data-testid=consultation-status]", "待答复")
            .await;
        tap(&app, "[data-testid=action-answer]").await;
        fill(
            &app,
            "[data-testid=answer-text]",
            "疑似茶小绿叶蝉，建议挂黄板诱杀，七天后回访",
        )
        .await;
        tap(&app, "[data-testid=save-answer]").await;
        app.wait_for_text("[data-testid=consultation-status]", "已答复")
            .await;
        until_text(&app, "疑似茶小绿叶蝉").await;
        shots(&app, "consultation-detail").await;

        app.click("[data-testid=tab-stats]").await;
        app.wait_for_text("[data-testid=stat-visits]", "1").await;
        app.wait_for_text("[data-testid=stat-trainees]", "30").await;
        app.wait_for_text("[data-testid=stat-consultations]", "1 / 1")
            .await;
        shots(&app, "stats").await;

        // English on request, remembered.
        tap(&app, "[data-testid=tab-settings]").await;
        tap(&app, "[data-testid=lang-en]").await;
        until_text(&app, "Sign out").await;
        assert_eq!(
            app.eval("return document.documentElement.lang;").await,
            json!("en")
        );
        tap(&app, "[data-testid=tab-home]").await;
        until_text(&app, "New service log").await;
        check_png(&app.screenshot("home-en-phone").await, PHONE);

        // A year of earlier work stays reachable: the list pages by 100.
        for i in 0..100 {
            let saved = invoke(
                &app,
                "save_service_log",
                json!({ "input": { "input": {
                    "date": format!("2025-{:02}-{:02}", 1 + i / 28, 1 + i % 28),
                    "village": detail["log"]["village"],
                    "activity": "technical_guidance",
                    "industry": "茶叶",
                    "farmers_served": 3,
                    "served": [], "technologies": [], "varieties": [],
                    "description": format!("第{i}次入户指导"),
                    "photos": [],
                } } }),
            )
            .await;
            assert!(saved.get("error").is_none(), "{saved}");
        }
        tap(&app, "[data-testid=tab-records]").await;
        until(
            &app,
            "a first page of 100",
            "return document.querySelectorAll('[data-testid=log-card]').length === 100;",
        )
        .await;
        tap(&app, "[data-testid=records-more]").await;
        until(
            &app,
            "the second page, and no more",
            "return document.querySelectorAll('[data-testid=log-card]').length === 101\
             && !document.querySelector('[data-testid=records-more]');",
        )
        .await;
        app.close().await;

        // --- Device B: the team lead sees the log after sync. --------------------
        let dir_b = root.path().join("device-b");
        let lead = AppUnderTest::launch(&tools, "b1", &dir_b).await;
        lead.resize(TABLET.0, TABLET.1).await;
        enrol(&lead, addr, LEAD).await;
        until_text(&lead, "您好，李明").await;
        tap(&lead, "[data-testid=tab-records]").await;
        tap(&lead, "[data-testid=scope-team]").await;
        let deadline = Instant::now() + WAIT;
        loop {
            let text = lead.eval("return document.body.innerText;").await;
            if text
                .as_str()
                .is_some_and(|t| t.contains("北苑社区 · 技术培训"))
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the lead never received the log: {text}"
            );
            // Re-open the list so it reads what the sync brought.
            tap(&lead, "[data-testid=scope-mine]").await;
            tap(&lead, "[data-testid=scope-team]").await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        tap(&lead, "[data-testid=log-card]").await;
        until_text(&lead, "茶园秋冬管理：修剪、施基肥，讲解病虫害绿色防控").await;
        until_text(&lead, "队友").await;
        until(
            &lead,
            "the photo, fetched from the server",
            "return document.querySelectorAll('[data-testid=photo-thumb]').length === 1;",
        )
        .await;
        assert!(
            lead.client()
                .find(Locator::Css("[data-testid=edit-log]"))
                .await
                .is_err(),
            "the lead cannot edit the commissioner's log"
        );
        shots(&lead, "log-detail-lead").await;
        lead.close().await;

        server.stop().await;
        for dir in [&data_a, dir_b.to_str().expect("UTF-8")] {
            assert_nothing_left(dir);
        }
    });
    server_rt.shutdown_timeout(Duration::from_secs(5));
}
