//! The harness that runs the real Ketepai binary under Xvfb and drives it over
//! WebDriver: [`AppUnderTest`] plus the checks that the tools and the built
//! interface are present.
//!
//! One app instance is one stack of processes, each in its own process group
//! and each started through `setpriv --pdeathsig KILL` so that it dies with
//! its parent even if the test process is killed outright:
//!
//! ```text
//! test thread ─┬─ Xvfb :N                         (own group)
//!              └─ tauri-driver --port P           (own group, leader)
//!                  └─ WebKitWebDriver --port Q    (via a pdeathsig wrapper)
//!                      └─ ketepai --data-dir D    (via a pdeathsig wrapper)
//! ```
//!
//! Why (see /work/shared/TOOLCHAIN.md): killing tauri-driver alone leaves
//! WebKitWebDriver and the app running; one tauri-driver serves one session,
//! so every instance gets its own driver on free ports; an app that dies at
//! start makes session creation hang, so it is capped at 30 s; screenshots can
//! be stale, so each waits two animation frames first.
//!
//! The parent-death signal follows the *thread* that spawned the child: spawn
//! (call [`AppUnderTest::launch`]) from the test's own thread, e.g. inside
//! [`run`], not from a worker of a multi-threaded runtime.

use std::ffi::OsStr;
use std::fs;
use std::future::Future;
use std::io::Write as _;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// Set to `1` to skip the end-to-end tests (they fail otherwise when a tool
/// is missing).
pub const SKIP_ENV: &str = "KETEPAI_SKIP_E2E";

/// How long WebDriver session creation (which starts the app) may take.
const SESSION_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the interface to show something.
const UI_TIMEOUT: Duration = Duration::from_secs(15);
/// Size of the virtual screen; larger than any window a test asks for
/// (a tablet in either orientation, 1280×800 and 800×1280; the console's
/// 1440×900).
const SCREEN: &str = "1600x1400x24";

/// The external programs an end-to-end test needs.
#[derive(Clone, Debug)]
pub struct Tools {
    xvfb: PathBuf,
    tauri_driver: PathBuf,
    webkit_driver: PathBuf,
    setpriv: PathBuf,
}

/// Returns the tools, or `None` when [`SKIP_ENV`] is `1`.
///
/// Panics, listing what is missing and how to install it, when a tool or the
/// built interface is missing and the tests are not skipped.
pub fn require_tools() -> Option<Tools> {
    let found = Tools::find();
    let skip = std::env::var(SKIP_ENV).is_ok_and(|v| v == "1");
    let mut problems = match &found {
        Ok(_) => Vec::new(),
        Err(missing) => missing.clone(),
    };
    if let Err(problem) = check_ui_built() {
        problems.push(problem);
    }

    if skip {
        banner(&format!(
            "SKIPPING the end-to-end tests because {SKIP_ENV}=1.{}",
            if problems.is_empty() {
                String::new()
            } else {
                format!(" Also missing:\n  - {}", problems.join("\n  - "))
            }
        ));
        return None;
    }
    if !problems.is_empty() {
        let text = format!(
            "the end-to-end tests cannot run:\n  - {}\n\nInstall the tools with `bash .ci/setup` (as root), build the UI with \
             `app-ui/build.sh`, or set {SKIP_ENV}=1 to skip these tests.",
            problems.join("\n  - ")
        );
        banner(&text);
        panic!("{text}");
    }
    found.ok()
}

impl Tools {
    /// Finds every tool, or lists what is missing.
    fn find() -> Result<Tools, Vec<String>> {
        let mut missing = Vec::new();
        let mut need = |name: &str, extra: &[PathBuf], hint: &str| {
            find_program(name, extra).unwrap_or_else(|| {
                missing.push(format!("{name} not found ({hint})"));
                PathBuf::new()
            })
        };
        let cargo_bin = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .map(|home| home.join("bin"))
            .into_iter()
            .collect::<Vec<_>>();
        let tools = Tools {
            xvfb: need("Xvfb", &[], "apt-get install xvfb xauth"),
            tauri_driver: need(
                "tauri-driver",
                &cargo_bin,
                "cargo install tauri-driver --version =2.1.0 --locked",
            ),
            webkit_driver: need("WebKitWebDriver", &[], "apt-get install webkit2gtk-driver"),
            setpriv: need("setpriv", &[], "apt-get install util-linux"),
        };
        if missing.is_empty() {
            Ok(tools)
        } else {
            Err(missing)
        }
    }
}

/// The built interface must exist: the app embeds `app-ui/dist` at compile
/// time, and without it the window shows only a placeholder page.
fn check_ui_built() -> Result<(), String> {
    let wasm = repo_root().join("app-ui/dist/app-ui_bg.wasm");
    if wasm.is_file() {
        Ok(())
    } else {
        Err(format!(
            "{} is missing: run `app-ui/build.sh` first (then cargo rebuilds the app with the real interface)",
            wasm.display()
        ))
    }
}

/// The repository root (the workspace holding `src-tauri`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("src-tauri has a parent")
        .to_owned()
}

/// Cargo's target directory: the nearest ancestor of the app binary holding
/// `CACHEDIR.TAG` (cargo writes one there), so `CARGO_TARGET_DIR` is honoured.
pub fn target_dir() -> PathBuf {
    let exe = Path::new(env!("CARGO_BIN_EXE_ketepai"));
    exe.ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .or_else(|| exe.parent().and_then(Path::parent))
        .expect("the app binary lives in a target directory")
        .to_owned()
}

/// Where screenshots go: `<target dir>/screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    target_dir().join("screenshots")
}

/// Holds the machine for one scenario: scenarios run one at a time (each
/// starts apps, drivers and X servers; CI has two cores), whatever the
/// test runner's threads.
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs an async test body on a current-thread runtime, so every child
/// process is spawned from the test's own thread (see the module doc).
pub fn run<F: Future<Output = ()>>(body: F) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(body);
}

/// The real Ketepai app, running under its own Xvfb, driven by WebDriver.
pub struct AppUnderTest {
    name: String,
    data_dir: PathBuf,
    client: Option<Client>,
    driver: Option<Child>,
    display: Option<Xvfb>,
    /// Logs and wrapper scripts; removed on drop (after printing the logs
    /// when the test is failing).
    work: tempfile::TempDir,
}

impl AppUnderTest {
    /// Starts Xvfb, tauri-driver and the app with its store in `data_dir`,
    /// and waits until a WebDriver session is open. `name` labels logs.
    ///
    /// Panics (after printing the logs) when anything fails to start.
    pub async fn launch(tools: &Tools, name: &str, data_dir: &Path) -> Self {
        let work = tempfile::Builder::new()
            .prefix(&format!("ketepai-e2e-{name}-"))
            .tempdir()
            .expect("create the e2e work directory");
        let mut app = AppUnderTest {
            name: name.to_owned(),
            data_dir: data_dir.to_owned(),
            client: None,
            driver: None,
            display: None,
            work,
        };

        let display = Xvfb::start(tools, app.work.path());
        let display_name = display.name();
        app.display = Some(display);

        let native_driver = app.write_wrapper("webkit-driver.sh", tools, &tools.webkit_driver);
        let app_binary = Path::new(env!("CARGO_BIN_EXE_ketepai"));
        let app_wrapper = app.write_wrapper("ketepai.sh", tools, app_binary);

        let port = free_port();
        let native_port = free_port();
        let mut driver = Command::new(&tools.setpriv);
        driver
            .args(["--pdeathsig", "KILL", "--"])
            .arg(&tools.tauri_driver)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .arg("--native-driver")
            .arg(&native_driver)
            .env("DISPLAY", &display_name)
            .env_remove("WAYLAND_DISPLAY")
            .env("GDK_BACKEND", "x11")
            .env("NO_AT_BRIDGE", "1")
            .env("XDG_RUNTIME_DIR", app.work.path())
            .stdin(Stdio::null())
            .stdout(log_file(app.work.path(), "driver.log"))
            .stderr(log_file(app.work.path(), "driver.log"))
            .process_group(0);
        app.driver = Some(driver.spawn().expect("start tauri-driver"));

        if let Err(why) = app.wait_for_port(port, Duration::from_secs(10)) {
            app.fail(&format!(
                "tauri-driver did not listen on port {port}: {why}"
            ));
        }
        if let Err(why) = app.wait_for_port(native_port, Duration::from_secs(10)) {
            app.fail(&format!(
                "WebKitWebDriver did not listen on port {native_port}: {why}"
            ));
        }

        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "tauri:options".into(),
            json!({
                "application": app_wrapper,
                "args": ["--data-dir", data_dir],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(capabilities);
        match tokio::time::timeout(SESSION_TIMEOUT, builder.connect(&url)).await {
            Ok(Ok(client)) => app.client = Some(client),
            Ok(Err(error)) => app.fail(&format!("WebDriver session failed: {error}")),
            Err(_) => app.fail(&format!(
                "WebDriver session not created within {}s (did the app die at start?)",
                SESSION_TIMEOUT.as_secs()
            )),
        }
        app
    }

    /// The WebDriver client of this instance.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// This instance's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Waits until the element at `css` exists and its text, trimmed, equals
    /// `expected`; panics with the last text seen otherwise.
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut last = String::from("<no element>");
        loop {
            if let Ok(element) = self.client().find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
            {
                if text.trim() == expected {
                    return;
                }
                last = text;
            }
            if Instant::now() > deadline {
                self.fail(&format!(
                    "{css}: expected text {expected:?}, last saw {last:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The trimmed text of the element at `css` (waiting for it to exist).
    pub async fn text(&self, css: &str) -> String {
        let element = self
            .client()
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| self.fail(&format!("{css} did not appear: {e}")));
        element
            .text()
            .await
            .expect("element text")
            .trim()
            .to_owned()
    }

    /// Clicks the element at `css` (waiting for it to exist).
    pub async fn click(&self, css: &str) {
        let element = self
            .client()
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| self.fail(&format!("{css} did not appear: {e}")));
        element
            .click()
            .await
            .unwrap_or_else(|e| self.fail(&format!("click on {css} failed: {e}")));
    }

    /// Runs `script` (a function body; `return` a value) in the page.
    pub async fn eval(&self, script: &str) -> Value {
        self.client()
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| self.fail(&format!("script failed: {e}\n{script}")))
    }

    /// Runs asynchronous `script` in the page; it must call
    /// `arguments[arguments.length - 1](value)` when done.
    pub async fn eval_async(&self, script: &str) -> Value {
        self.client()
            .execute_async(script, Vec::new())
            .await
            .unwrap_or_else(|e| self.fail(&format!("async script failed: {e}\n{script}")))
    }

    /// Resizes the window so that the page viewport is `width`×`height` CSS
    /// pixels, and checks that the page sees that size.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client()
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| self.fail(&format!("resize to {width}x{height} failed: {e}")));
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let seen = self
                .eval("return [window.innerWidth, window.innerHeight];")
                .await;
            if seen == json!([width, height]) {
                return;
            }
            if Instant::now() > deadline {
                self.fail(&format!(
                    "asked for a {width}x{height} viewport, the page reports {seen}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a screenshot of the page as `<target>/screenshots/<name>.png`
    /// and returns its path. Waits two animation frames first so that the
    /// shot shows the current state, not a stale frame.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        self.eval_async(
            "const done = arguments[arguments.length - 1];\
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
        )
        .await;
        let png = self
            .client()
            .screenshot()
            .await
            .unwrap_or_else(|e| self.fail(&format!("screenshot {name} failed: {e}")));
        let dir = screenshot_dir();
        fs::create_dir_all(&dir).expect("create the screenshot directory");
        let path = dir.join(format!("{name}.png"));
        fs::write(&path, &png).expect("write the screenshot");
        println!("screenshot: {}", path.display());
        path
    }

    /// Ends the WebDriver session (which closes the app), then stops the
    /// driver and Xvfb. Dropping without closing also stops everything, just
    /// less politely.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            // The app may already be gone; the process cleanup below is what
            // guarantees nothing is left.
            let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
        }
    }

    /// Writes an executable wrapper that starts `program` with a parent-death
    /// signal, so it dies with whoever started it.
    fn write_wrapper(&self, file: &str, tools: &Tools, program: &Path) -> PathBuf {
        let path = self.work.path().join(file);
        let script = format!(
            "#!/bin/sh\nexec {} --pdeathsig KILL -- {} \"$@\"\n",
            shell_quote(tools.setpriv.as_os_str()),
            shell_quote(program.as_os_str()),
        );
        fs::write(&path, script).expect("write a wrapper script");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
            .expect("make the wrapper executable");
        path
    }

    /// Waits until something listens on `port`, failing early if the driver exits.
    fn wait_for_port(&mut self, port: u16, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            if let Some(driver) = self.driver.as_mut()
                && let Ok(Some(status)) = driver.try_wait()
            {
                return Err(format!("tauri-driver exited: {status}"));
            }
            if Instant::now() > deadline {
                return Err(format!("nothing after {}s", limit.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Panics with `what`; unwinding drops `self`, which prints the logs.
    fn fail(&self, what: &str) -> ! {
        panic!("[{}] {what}", self.name);
    }

    fn print_logs(&self) {
        for log in ["xvfb.log", "driver.log"] {
            let text = fs::read_to_string(self.work.path().join(log)).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(60).collect();
            eprintln!(
                "----- [{}] {log} (last {} lines) -----",
                self.name,
                tail.len()
            );
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

impl Drop for AppUnderTest {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.print_logs();
        }
        // Driver first (its group holds WebKitWebDriver and the app), Xvfb last.
        if let Some(mut driver) = self.driver.take() {
            kill_group(&driver);
            let _ = driver.wait();
        }
        self.display.take();
    }
}

/// A private X server on a free display number.
struct Xvfb {
    child: Child,
    display: u32,
}

/// Spreads parallel instances (threads of one test binary) over display numbers.
static NEXT_DISPLAY: AtomicU32 = AtomicU32::new(0);

impl Xvfb {
    fn start(tools: &Tools, work: &Path) -> Xvfb {
        let base = 100 + (std::process::id() % 400) * 8;
        for _ in 0..40 {
            let display = base + NEXT_DISPLAY.fetch_add(1, Ordering::Relaxed) % 3000;
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{display}"));
            if socket.exists() || Path::new(&format!("/tmp/.X{display}-lock")).exists() {
                continue;
            }
            let mut child = Command::new(&tools.setpriv)
                .args(["--pdeathsig", "KILL", "--"])
                .arg(&tools.xvfb)
                .arg(format!(":{display}"))
                .args(["-screen", "0", SCREEN, "-nolisten", "tcp", "-noreset"])
                .stdin(Stdio::null())
                .stdout(log_file(work, "xvfb.log"))
                .stderr(log_file(work, "xvfb.log"))
                .process_group(0)
                .spawn()
                .expect("start Xvfb");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if socket.exists() {
                    return Xvfb { child, display };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // display taken meanwhile: try the next one
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            kill_group(&child);
            let _ = child.wait();
        }
        let log = fs::read_to_string(work.join("xvfb.log")).unwrap_or_default();
        panic!("could not start Xvfb on any display; last log:\n{log}");
    }

    fn name(&self) -> String {
        format!(":{}", self.display)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        kill_group(&self.child);
        let _ = self.child.wait();
    }
}

/// SIGKILLs the process group led by `child` (spawned with `process_group(0)`).
fn kill_group(child: &Child) {
    let pid = rustix::process::Pid::from_child(child);
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
}

/// Process ids whose command line mentions `needle` (e.g. a data directory):
/// how a test checks that nothing was left running.
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .map(|raw| {
                    String::from_utf8_lossy(&raw)
                        .replace('\0', " ")
                        .contains(needle)
                })
                .unwrap_or(false)
        })
        .collect()
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// An append-mode log file in `dir`, shared by stdout and stderr.
fn log_file(dir: &Path, name: &str) -> fs::File {
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(name))
        .expect("open a log file")
}

/// `program` on `PATH` or in one of `extra`.
fn find_program(program: &str, extra: &[PathBuf]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.iter().cloned())
        .map(|dir| dir.join(program))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Single-quotes a path for /bin/sh.
fn shell_quote(raw: &OsStr) -> String {
    format!("'{}'", raw.to_string_lossy().replace('\'', r"'\''"))
}

/// Prints `text` so that it stands out in `cargo test` output.
fn banner(text: &str) {
    let line = "=".repeat(78);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "\n{line}\nKETEPAI E2E: {text}\n{line}\n");
}
