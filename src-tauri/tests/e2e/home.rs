//! The home page in the real app: Chinese by default, the two main actions,
//! the data directory from `app_info`, the language switch, a placeholder page
//! and back, and screenshots at phone and tablet size.

use serde_json::json;

use crate::harness::{self, AppUnderTest};

/// Phone (390×844) and tablet (1024×768) viewports.
const PHONE: (u32, u32) = (390, 844);
const TABLET: (u32, u32) = (1024, 768);

#[test]
fn home_page_shows_chinese_actions_data_dir_and_switches_language() {
    let Some(tools) = harness::require_tools() else {
        return;
    };
    harness::run(async {
        let data = tempfile::Builder::new()
            .prefix("ketepai-e2e-data-")
            .tempdir()
            .expect("create a data directory");
        let data_dir = data.path().to_str().expect("a UTF-8 temp path").to_owned();
        let app = AppUnderTest::launch(&tools, "home", data.path()).await;

        // Chinese first.
        app.wait_for_text("[data-testid=app-title]", "科特派").await;
        assert_eq!(
            app.text("[data-testid=new-service-log] .big-button-label")
                .await,
            "新建服务日志"
        );
        assert_eq!(
            app.text("[data-testid=new-consultation] .big-button-label")
                .await,
            "新建咨询"
        );
        assert_eq!(
            app.eval("return document.documentElement.lang;").await,
            json!("zh-CN")
        );
        let sync = app.text("[data-testid=sync-state]").await;
        assert!(sync == "在线" || sync == "离线", "sync state {sync:?}");

        // app_info, as the page shows it and as the IPC answers it.
        app.wait_for_text("[data-testid=data-dir]", &data_dir).await;
        app.wait_for_text("[data-testid=app-version]", env!("CARGO_PKG_VERSION"))
            .await;
        let info = app
            .eval_async(
                "const done = arguments[arguments.length - 1];\
                 window.__TAURI__.core.invoke('app_info').then(done, (e) => done({ error: e }));",
            )
            .await;
        assert_eq!(
            info,
            json!({ "version": env!("CARGO_PKG_VERSION"), "data_dir": data_dir })
        );
        assert!(
            app.data_dir().join("webview").is_dir(),
            "the webview's storage should live in the instance's data directory"
        );

        app.resize(PHONE.0, PHONE.1).await;
        check_png(&app.screenshot("home-zh-phone").await, PHONE);
        app.resize(TABLET.0, TABLET.1).await;
        check_png(&app.screenshot("home-zh-tablet").await, TABLET);

        // English on request, and back through a placeholder page.
        app.resize(PHONE.0, PHONE.1).await;
        app.click("[data-testid=lang-switch]").await;
        app.wait_for_text("[data-testid=app-title]", "Ketepai")
            .await;
        assert_eq!(
            app.eval("return document.documentElement.lang;").await,
            json!("en")
        );
        check_png(&app.screenshot("home-en-phone").await, PHONE);
        app.click("[data-testid=new-consultation]").await;
        app.wait_for_text("[data-testid=coming-soon] h1", "New consultation")
            .await;
        app.click("[data-testid=back]").await;
        app.wait_for_text("[data-testid=app-title]", "Ketepai")
            .await;

        app.close().await;
        assert_nothing_left(&data_dir);
    });
}

/// After close, no process may still mention the data directory.
fn assert_nothing_left(data_dir: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let left = harness::processes_mentioning(data_dir);
        if left.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "processes left running: {left:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A screenshot is a PNG of the viewport's size and not a blank page: a flat
/// image compresses to a few hundred bytes, a rendered page to tens of KB.
fn check_png(path: &std::path::Path, (width, height): (u32, u32)) {
    let png = std::fs::read(path).expect("read the screenshot");
    assert_eq!(
        &png[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes"));
    assert_eq!(
        (size(16), size(20)),
        (width, height),
        "{} has the wrong size",
        path.display()
    );
    assert!(
        png.len() > 8_000,
        "{} looks blank ({} bytes)",
        path.display(),
        png.len()
    );
}
