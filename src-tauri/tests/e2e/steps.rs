//! What every scenario does to the app and the server: the demo server on
//! its own runtime, waiting for the page, tapping and filling as a person
//! would, calling a command the way the interface does, enrolling, and
//! checking screenshots. Scenarios are written in these steps.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::{Value, json};
use sync_server::{Config, ServerHandle};

use crate::harness::AppUnderTest;

/// How long a step waits for the page or an answer.
pub const WAIT: Duration = Duration::from_secs(30);

/// The demo county's accounts (`sync-server demo`).
pub const ZHANG: (&str, &str) = ("zhengan-zhang", "demo-zhang-520324");
/// The demo team's lead.
pub const LEAD: (&str, &str) = ("zhengan-lead", "demo-lead-520324");
/// The demo team's second commissioner.
pub const WANG: (&str, &str) = ("zhengan-wang", "demo-wang-520324");
/// The demo county's sync admin.
pub const ADMIN: (&str, &str) = ("zhengan-admin", "demo-admin-520324");

/// The sync server, on its own runtime so that it answers while the test
/// waits, stoppable and restartable on the same directory and port.
pub struct TestServer {
    /// The runtime the server runs on.
    pub runtime: tokio::runtime::Handle,
    /// Its data directory.
    pub dir: PathBuf,
    /// Its address.
    pub addr: SocketAddr,
    /// The running server, if it runs.
    pub handle: Option<ServerHandle>,
}

impl TestServer {
    /// A server on a free port over `dir`, started on `runtime` and seeded
    /// with the demo county's accounts.
    pub async fn demo(runtime: tokio::runtime::Handle, dir: PathBuf) -> TestServer {
        let addr: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        let mut server = TestServer {
            runtime,
            dir,
            addr,
            handle: None,
        };
        server.start().await;
        server.seed_demo().await;
        server
    }

    /// Starts the server on its directory and port.
    pub async fn start(&mut self) {
        let (config, addr) = (Config::with_data_dir(&self.dir), self.addr);
        let handle = self
            .runtime
            .spawn(async move {
                let listener = tokio::net::TcpListener::bind(addr).await?;
                sync_server::launch(config, listener)
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))
            })
            .await
            .expect("the server task")
            .expect("the sync server starts");
        self.handle = Some(handle);
    }

    /// Seeds the demo county's accounts.
    pub async fn seed_demo(&self) {
        let ops = self.running().server().ops();
        self.runtime
            .spawn(async move { ops.demo_accounts().await.map(|_| ()) })
            .await
            .expect("the seeding task")
            .expect("the demo county seeds");
    }

    /// The running server.
    pub fn running(&self) -> &ServerHandle {
        self.handle.as_ref().expect("the server runs")
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        self.running().url()
    }

    /// Stops the server, cleanly.
    pub async fn stop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.runtime
                .spawn(async move { handle.shutdown().await })
                .await
                .expect("the shutdown task")
                .expect("the server stops cleanly");
        }
    }

    /// Whether the server holds document `doc` and has each of `photos`
    /// complete.
    pub async fn holds(&self, doc: &str, photos: &[String]) -> bool {
        let store = self.running().server().store();
        let doc: app_core::domain::DocId = doc.parse().expect("a document id");
        let photos: Vec<app_core::domain::PhotoHash> = photos
            .iter()
            .map(|h| h.parse().expect("a photo hash"))
            .collect();
        self.runtime
            .spawn(async move {
                let has_doc = store.document(doc).await.ok().flatten().is_some();
                let mut has_photos = true;
                for p in photos {
                    has_photos &= store
                        .photo(&p)
                        .await
                        .ok()
                        .flatten()
                        .is_some_and(|r| r.complete);
                }
                has_doc && has_photos
            })
            .await
            .unwrap_or(false)
    }
}

/// Waits until `js` (a function body returning a boolean) is true.
pub async fn until(app: &AppUnderTest, what: &str, js: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        if app.client().execute(js, vec![]).await.ok() == Some(json!(true)) {
            return;
        }
        if Instant::now() > deadline {
            let body = app
                .eval("return document.body.innerText;")
                .await
                .to_string();
            panic!("timed out waiting for {what}; the page reads:\n{body}");
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Waits until the page's text contains `text`.
pub async fn until_text(app: &AppUnderTest, text: &str) {
    until(
        app,
        &format!("text {text:?}"),
        &format!("return document.body.innerText.includes({});", json!(text)),
    )
    .await;
}

/// Waits until an element matches `css`.
pub async fn until_element(app: &AppUnderTest, css: &str) {
    until(
        app,
        css,
        &format!("return !!document.querySelector({});", json!(css)),
    )
    .await;
}

/// Waits for the element at `css` to appear.
pub async fn element(app: &AppUnderTest, css: &str) -> fantoccini::elements::Element {
    app.client()
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
}

/// Taps the element at `css`: scrolled to the middle of the screen first,
/// so the bottom tab bar or the sticky save button never covers it.
pub async fn tap(app: &AppUnderTest, css: &str) {
    tap_nth(app, css, 0).await;
}

/// Taps the `n`th element at `css` (scrolled into view first).
pub async fn tap_nth(app: &AppUnderTest, css: &str, n: usize) {
    until(
        app,
        &format!("{css} #{n}"),
        &format!(
            "return document.querySelectorAll({}).length > {n};",
            json!(css)
        ),
    )
    .await;
    app.client()
        .execute(
            "const el = document.querySelectorAll(arguments[0])[arguments[1]];\
             el.scrollIntoView({ block: 'center' }); el.click(); return true;",
            vec![json!(css), json!(n)],
        )
        .await
        .unwrap_or_else(|e| panic!("tap {css} #{n}: {e}"));
}

/// Taps the first element at `css` whose text contains `text`.
pub async fn tap_text(app: &AppUnderTest, css: &str, text: &str) {
    until(
        app,
        &format!("{css} with {text:?}"),
        &format!(
            "return [...document.querySelectorAll({})].some(e => e.innerText.includes({}));",
            json!(css),
            json!(text)
        ),
    )
    .await;
    app.client()
        .execute(
            "const [css, text] = arguments;\
             const el = [...document.querySelectorAll(css)].find(e => e.innerText.includes(text));\
             el.scrollIntoView({ block: 'center' }); el.click(); return true;",
            vec![json!(css), json!(text)],
        )
        .await
        .unwrap_or_else(|e| panic!("tap {css} {text:?}: {e}"));
}

/// Sets an input's or select's value as typing would (`input` and `change`
/// events).
pub async fn fill(app: &AppUnderTest, css: &str, text: &str) {
    element(app, css).await;
    app.client()
        .execute(
            "const [css, text] = arguments; const el = document.querySelector(css);\
             el.focus(); el.value = text; el.dispatchEvent(new Event('input', { bubbles: true }));\
             el.dispatchEvent(new Event('change', { bubbles: true })); return true;",
            vec![json!(css), json!(text)],
        )
        .await
        .unwrap_or_else(|e| panic!("fill {css}: {e}"));
}

/// Picks the option whose text contains `label` in the select at `css`.
pub async fn choose(app: &AppUnderTest, css: &str, label: &str) {
    until(
        app,
        &format!("{label:?} in {css}"),
        &format!(
            "const s = document.querySelector({}); return !!s && [...s.options].some(o => o.text.includes({}));",
            json!(css),
            json!(label)
        ),
    )
    .await;
    app.client()
        .execute(
            "const [css, label] = arguments; const s = document.querySelector(css);\
             s.value = [...s.options].find(o => o.text.includes(label)).value;\
             s.dispatchEvent(new Event('change', { bubbles: true })); return true;",
            vec![json!(css), json!(label)],
        )
        .await
        .unwrap_or_else(|e| panic!("choose {label} in {css}: {e}"));
}

/// Calls a command the way the interface does and returns its answer.
pub async fn invoke(app: &AppUnderTest, command: &str, args: Value) -> Value {
    app.client()
        .execute_async(
            "const [cmd, args, done] = arguments;\
             window.__TAURI__.core.invoke(cmd, args).then(done, (e) => done({ error: e }));",
            vec![json!(command), args],
        )
        .await
        .unwrap_or_else(|e| panic!("invoke {command}: {e}"))
}

/// Calls `command` until its answer passes `ok`, and returns that answer.
pub async fn until_answer(
    app: &AppUnderTest,
    what: &str,
    command: &str,
    args: Value,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let answer = invoke(app, command, args.clone()).await;
        if ok(&answer) {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; {command} answers {answer}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Fills the enrolment page with the server's address and an account and
/// sends it.
pub async fn submit_enrolment(
    app: &AppUnderTest,
    addr: SocketAddr,
    (user, password): (&str, &str),
) {
    until_element(app, "[data-testid=enrol-page]").await;
    fill(app, "[data-testid=enrol-server]", &addr.to_string()).await;
    fill(app, "[data-testid=enrol-username]", user).await;
    fill(app, "[data-testid=enrol-password]", password).await;
    tap(app, "[data-testid=enrol-submit]").await;
}

/// Enrols the app as a field user and waits for the home page.
pub async fn enrol(app: &AppUnderTest, addr: SocketAddr, account: (&str, &str)) {
    submit_enrolment(app, addr, account).await;
    until_element(app, "[data-testid=home-page]").await;
}

/// Unlocks the encrypted store of a restarted app with `password` (the
/// desktop has no keystore: every start after enrolment asks for it).
pub async fn unlock(app: &AppUnderTest, password: &str) {
    until_element(app, "[data-testid=unlock-page]").await;
    fill(app, "[data-testid=unlock-password]", password).await;
    tap(app, "[data-testid=unlock-submit]").await;
}

/// The files under `dir` whose bytes contain `text` in UTF-8.
pub fn files_containing(dir: &Path, text: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if std::fs::read(&path)
                .is_ok_and(|b| b.windows(text.len()).any(|w| w == text.as_bytes()))
            {
                found.push(path);
            }
        }
    }
    found
}

/// Waits until no process mentions `data_dir` (the app and its helpers are
/// gone).
pub fn assert_nothing_left(data_dir: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = crate::harness::processes_mentioning(data_dir);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "processes left running: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A screenshot is a PNG of the viewport's size and not a blank page: a flat
/// image compresses to a few hundred bytes, a rendered page to tens of KB.
pub fn check_png(path: &Path, (width, height): (u32, u32)) {
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

/// A runtime of its own for the server (and devices driven in the test's
/// process), so that they answer while the scenario waits on the app.
pub fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the sync server")
}
