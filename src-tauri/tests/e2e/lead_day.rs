//! A team lead's day of review, end to end: two real apps (张三's phone and
//! 李明's tablet) and a real sync server started in-process on 127.0.0.1.
//!
//! 1. 张三 submits four logs with photos on his phone; they sync.
//! 2. The tablet enrols as the lead; the queue shows the four (the count on
//!    the 审核 tab), and the engine fetches their full photos in the
//!    background.
//! 3. The server goes down. Offline, the lead opens a log (its full photo is
//!    on the tablet), approves it, returns another (a return without a
//!    comment is refused in words, then sent with one), and approves the
//!    last two at once from the queue. Meanwhile, on the phone, also
//!    offline, 张三 edits one of those two.
//! 4. The server comes back; both sync. The phone shows the return with the
//!    lead's comment and the call to fix it; saving it unchanged is
//!    refused; 张三 changes it and submits it again.
//! 5. The tablet syncs: the fixed log is back in the queue and the lead
//!    approves it; the log edited on the phone while the lead approved it
//!    is back too, marked 审核后已修改, with what changed.
//! 6. The dashboard and the coverage against the register; the annual sheet
//!    exported into `exports/`.
//!
//! Screenshots (in `<target dir>/screenshots/`): the queue, a log under
//! review with its photos, the dashboard and the coverage with the villages
//! not served, each at 1280×800 and 800×1280; the log changed since
//! approval; the returned log on the phone at 390×844.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::field_day::PHONE;
use crate::harness::{self, AppUnderTest};
use crate::steps::{
    self, LEAD, TestServer, ZHANG, assert_nothing_left, check_png, enrol, fill, invoke, tap,
    tap_text, until, until_answer, until_text,
};

/// A tablet held sideways, and upright.
const LANDSCAPE: (u32, u32) = (1280, 800);
const PORTRAIT: (u32, u32) = (800, 1280);

/// A photo of a field: gradients in a colour of its own per `seed`, so every
/// log's photo has its own hash.
fn field_photo(seed: u8) -> Vec<u8> {
    let (w, h) = (1200u32, 900u32);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let g = ((x * 180 / w) as u8).wrapping_add(seed.wrapping_mul(37));
        image::Rgb([
            60u8.wrapping_add(seed.wrapping_mul(50)),
            g.max(90),
            ((y * 120 / h) as u8).wrapping_add(40),
        ])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode(&img, w, h, image::ExtendedColorType::Rgb8)
        .expect("encode a JPEG");
    out
}

/// Adds a photo the way the form does (the image bytes as the command's
/// body) and answers its metadata.
async fn add_photo(app: &AppUnderTest, jpeg: &[u8]) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD.encode(jpeg);
    let added = app
        .client()
        .execute_async(
            "const [b64, done] = arguments; const bin = atob(b64);\
             const bytes = new Uint8Array(bin.length);\
             for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);\
             window.__TAURI__.core.invoke('add_photo', bytes).then(done, (e) => done({ error: e }));",
            vec![json!(b64)],
        )
        .await
        .expect("add_photo");
    assert!(added.get("error").is_none(), "{added}");
    added["meta"].clone()
}

/// Asks for a sync round and waits until one that started after the ask
/// succeeded with nothing left to upload. (A round may be under way when
/// asked; it ends, then the round the ask woke runs.)
async fn synced(app: &AppUnderTest, what: &str) {
    let mut last = invoke(app, "get_sync_status", json!({})).await["last_success"].clone();
    for _ in 0..2 {
        invoke(app, "sync_now", json!({})).await;
        let before = last.clone();
        last = until_answer(app, what, "get_sync_status", json!({}), |s| {
            !s["last_success"].is_null() && s["last_success"] != before
        })
        .await["last_success"]
            .clone();
    }
    until_answer(app, what, "get_sync_status", json!({}), |s| {
        s["pending_records"] == json!(0) && s["pending_photo_bytes"] == json!(0)
    })
    .await;
}

/// Screenshots at both tablet orientations, scrolled to `anchor` (if any)
/// each time; back to landscape after.
async fn tablet_shots(app: &AppUnderTest, name: &str, anchor: Option<&str>) {
    for (size, orientation) in [(LANDSCAPE, "landscape"), (PORTRAIT, "portrait")] {
        app.resize(size.0, size.1).await;
        let scroll = match anchor {
            Some(css) => format!(
                "document.querySelector({}).scrollIntoView({{ block: 'start' }}); return true;",
                json!(css)
            ),
            None => "window.scrollTo(0, 0); return true;".to_owned(),
        };
        app.eval(&scroll).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        check_png(
            &app.screenshot(&format!("{name}-{orientation}")).await,
            size,
        );
    }
    app.resize(LANDSCAPE.0, LANDSCAPE.1).await;
}

/// A log as the phone saves it.
fn log_input(
    date: &str,
    village: &str,
    activity: &str,
    farmers: u32,
    text: &str,
    photo: &Value,
) -> Value {
    json!({
        "date": date,
        "start_time": "09:00",
        "end_time": "11:30",
        "village": village,
        "activity": activity,
        "industry": "茶叶",
        "farmers_served": farmers,
        "trainees": if activity == "training" { json!(30) } else { Value::Null },
        "served": [],
        "technologies": ["绿色防控"],
        "varieties": [],
        "description": text,
        "photos": [photo],
    })
}

#[test]
fn a_lead_reviews_offline_and_nothing_is_silently_approved() {
    let Some(tools) = harness::require_tools() else {
        return;
    };
    let _machine = harness::exclusive();
    let server_rt = steps::server_runtime();
    let runtime = server_rt.handle().clone();
    harness::run(async move {
        let root = tempfile::Builder::new()
            .prefix("ketepai-e2e-lead-")
            .tempdir()
            .expect("a temp dir");
        let mut server = TestServer::demo(runtime, root.path().join("server")).await;
        let addr = server.addr;

        // --- 1. 张三's phone: four logs with photos. ------------------------------
        let dir_phone = root.path().join("phone");
        let phone = AppUnderTest::launch(&tools, "phone", &dir_phone).await;
        phone.resize(PHONE.0, PHONE.1).await;
        enrol(&phone, addr, ZHANG).await;
        let now = invoke(&phone, "get_now", json!({})).await;
        let today = now["date"].as_str().expect("today").to_owned();
        let logs = [
            (
                "520324001001",
                "training",
                35,
                "A：春茶修剪与施肥培训，讲解绿色防控",
            ),
            (
                "520324101201",
                "technical_guidance",
                12,
                "B：茶园病虫害现场指导",
            ),
            ("520324001002", "demonstration", 20, "C：白茶标准化采摘示范"),
            (
                "520324101001",
                "technical_guidance",
                8,
                "D：茶园冬季管理入户指导",
            ),
        ];
        let mut inputs = Vec::new();
        let mut ids = Vec::new();
        for (i, (village, activity, farmers, text)) in logs.iter().enumerate() {
            let photo = add_photo(&phone, &field_photo(i as u8)).await;
            let input = log_input(&today, village, activity, *farmers, text, &photo);
            let saved = invoke(
                &phone,
                "save_service_log",
                json!({ "input": { "input": input.clone() } }),
            )
            .await;
            assert!(saved.get("error").is_none(), "{saved}");
            ids.push(saved["id"].as_str().expect("an id").to_owned());
            inputs.push(input);
        }
        synced(&phone, "the phone's logs and photos uploaded").await;

        // --- 2. 李明's tablet: the queue, and its photos fetched ahead. -----------
        let dir_tablet = root.path().join("tablet");
        let tablet = AppUnderTest::launch(&tools, "tablet", &dir_tablet).await;
        tablet.resize(LANDSCAPE.0, LANDSCAPE.1).await;
        enrol(&tablet, addr, LEAD).await;
        until_text(&tablet, "您好，李明").await;
        for tab in ["首页", "审核", "团队", "记录", "咨询", "设置"] {
            until_text(&tablet, tab).await;
        }
        tablet
            .wait_for_text("[data-testid=review-badge]", "4")
            .await;
        tap(&tablet, "[data-testid=tab-review]").await;
        tablet
            .wait_for_text("[data-testid=queue-count]", "共 4 条")
            .await;
        until_text(&tablet, "张三").await;
        tablet_shots(&tablet, "lead-queue", None).await;
        // One more round after the names arrived: the photos are surely in.
        synced(&tablet, "the tablet's first rounds").await;

        // --- 3. Offline: decisions on the tablet, an edit on the phone. ----------
        server.stop().await;
        tap_text(&tablet, "[data-testid=queue-open]", "A：春茶修剪").await;
        until(
            &tablet,
            "the full photo, fetched before the server went down",
            "return !!document.querySelector('[data-testid=photo-full]');",
        )
        .await;
        until_text(&tablet, "A：春茶修剪与施肥培训").await;
        tablet_shots(&tablet, "lead-review", None).await;
        tap(&tablet, "[data-testid=approve]").await;
        until_text(&tablet, "已通过，联网后同步").await;
        tablet
            .wait_for_text("[data-testid=queue-count]", "共 3 条")
            .await;

        tap_text(&tablet, "[data-testid=queue-open]", "B：茶园病虫害").await;
        tap(&tablet, "[data-testid=return]").await;
        tap(&tablet, "[data-testid=send-return]").await;
        until_text(&tablet, "退回必须填写意见").await;
        fill(
            &tablet,
            "[data-testid=return-comment-input]",
            "服务农户数与照片不符，请核实后修改",
        )
        .await;
        tap(&tablet, "[data-testid=send-return]").await;
        until_text(&tablet, "已退回，联网后同步").await;
        tablet
            .wait_for_text("[data-testid=queue-count]", "共 2 条")
            .await;

        // C and D at once.
        tap(&tablet, "[data-testid=select-all]").await;
        tablet
            .wait_for_text("[data-testid=approve-selected]", "通过所选 2 条")
            .await;
        tap(&tablet, "[data-testid=approve-selected]").await;
        tablet
            .wait_for_text("[data-testid=queue-count]", "共 0 条")
            .await;
        until_text(&tablet, "没有待审核的日志").await;

        // Meanwhile, on the phone, D gets more farmers.
        let mut d = inputs[3].clone();
        d["farmers_served"] = json!(18);
        let saved = invoke(
            &phone,
            "save_service_log",
            json!({ "input": { "id": ids[3], "input": d } }),
        )
        .await;
        assert!(saved.get("error").is_none(), "{saved}");

        // --- 4. Back online: the return reaches the phone. -----------------------
        server.start().await;
        synced(&tablet, "the lead's decisions uploaded").await;
        synced(&phone, "the phone's edit uploaded").await;
        until_answer(
            &phone,
            "the return on the phone",
            "get_service_log",
            json!({ "input": { "id": ids[1] } }),
            |d| d["review_state"] == json!("returned"),
        )
        .await;
        tap(&phone, "[data-testid=tab-records]").await;
        tap_text(&phone, "[data-testid=log-card]", "B：茶园病虫害").await;
        phone
            .wait_for_text(
                "[data-testid=return-comment]",
                "服务农户数与照片不符，请核实后修改",
            )
            .await;
        until_text(&phone, "修改后重新提交").await;
        check_png(&phone.screenshot("phone-returned-log").await, PHONE);
        tap(&phone, "[data-testid=fix-log]").await;
        until(
            &phone,
            "the form of the returned log",
            "const f = document.querySelector('[data-testid=log-farmers]'); return !!f && f.value === '12';",
        )
        .await;
        until_text(&phone, "团长退回了这条日志").await;
        tap(&phone, "[data-testid=save-log]").await;
        phone
            .wait_for_text(
                "[data-testid=notice-text]",
                "内容还没有修改，请先按退回意见修改",
            )
            .await;
        fill(&phone, "[data-testid=log-farmers]", "9").await;
        tap(&phone, "[data-testid=save-log]").await;
        phone
            .wait_for_text("[data-testid=review-state]", "待审核")
            .await;
        until_text(&phone, "已修改，等待团长重新审核").await;
        synced(&phone, "the fixed log uploaded").await;

        // --- 5. The tablet: the fixed log, and the one changed since approval. ---
        synced(&tablet, "the tablet catching up").await;
        tap(&tablet, "[data-testid=tab-review]").await;
        tablet
            .wait_for_text("[data-testid=queue-count]", "共 2 条")
            .await;
        tablet
            .wait_for_text("[data-testid=changed-badge]", "审核后已修改")
            .await;
        tap_text(&tablet, "[data-testid=queue-open]", "D：茶园冬季管理").await;
        until_text(&tablet, "审核后修改了什么").await;
        until(
            &tablet,
            "farmers 8 → 18 in the changes",
            "const t = document.querySelector('[data-testid=changes]').innerText;\
             return t.includes('服务农户数') && t.includes('8') && t.includes('18');",
        )
        .await;
        check_png(
            &tablet
                .screenshot("lead-changed-since-approval-landscape")
                .await,
            LANDSCAPE,
        );
        tap(&tablet, "[data-testid=back]").await;
        tap_text(&tablet, "[data-testid=queue-open]", "B：茶园病虫害").await;
        until_text(&tablet, "服务农户数与照片不符").await;
        tap(&tablet, "[data-testid=approve]").await;
        tablet
            .wait_for_text("[data-testid=queue-count]", "共 1 条")
            .await;
        let b = invoke(
            &tablet,
            "get_service_log",
            json!({ "input": { "id": ids[1] } }),
        )
        .await;
        assert_eq!(b["review_state"], json!("approved"));
        assert_eq!(b["log"]["reviews"].as_array().map(Vec::len), Some(2));

        // --- 6. The dashboard, the coverage, the annual sheet. -------------------
        tap(&tablet, "[data-testid=tab-team]").await;
        until(
            &tablet,
            "the dashboard with 张三's row",
            "return [...document.querySelectorAll('[data-testid=member-row]')].some(r => r.innerText.includes('张三'));",
        )
        .await;
        tablet
            .wait_for_text("[data-testid=total-visits]", "4")
            .await;
        until_text(&tablet, "王芳").await;
        until_text(&tablet, "尚未覆盖的行政村").await;
        tablet_shots(&tablet, "lead-dashboard", None).await;
        tablet_shots(
            &tablet,
            "lead-coverage",
            Some("[data-testid=coverage-section]"),
        )
        .await;
        tap(&tablet, "[data-testid=open-team-report]").await;
        until_text(&tablet, "科技特派员").await;
        tap(&tablet, "[data-testid=export-xlsx]").await;
        let file = tablet.text("[data-testid=exported-file]").await;
        assert!(file.ends_with("年度统计.xlsx"), "{file}");
        assert!(file.starts_with(dir_tablet.join("exports").to_str().expect("UTF-8")));
        assert!(
            std::fs::read(&file)
                .expect("the exported file")
                .starts_with(b"PK")
        );

        phone.close().await;
        tablet.close().await;
        server.stop().await;
        for dir in [&dir_phone, &dir_tablet] {
            assert_nothing_left(dir.to_str().expect("UTF-8"));
        }
    });
    server_rt.shutdown_timeout(Duration::from_secs(5));
}
