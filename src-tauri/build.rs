//! Build script: makes sure the interface to embed exists, then runs tauri-build.
//!
//! `generate_context!` embeds `../app-ui/dist` and fails when it is missing,
//! which is the state of a clean checkout (dist/ is built by `app-ui/build.sh`
//! and not committed). So when `dist/index.html` is missing this writes a
//! placeholder page that says how to build the real one; the workspace then
//! compiles, and the e2e test refuses to run against the placeholder.

use std::fs;
use std::path::Path;

const PLACEHOLDER: &str = r#"<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>科特派</title></head>
<body>
  <h1>界面尚未构建 / Interface not built</h1>
  <p>Run <code>app-ui/build.sh</code>, then rebuild the app.</p>
</body>
</html>
"#;

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../app-ui/dist");
    let index = dist.join("index.html");
    if !index.exists() {
        fs::create_dir_all(&dist).expect("create app-ui/dist");
        fs::write(&index, PLACEHOLDER).expect("write the placeholder app-ui/dist/index.html");
        println!(
            "cargo:warning=app-ui/dist was missing: embedded a placeholder page; run app-ui/build.sh for the real interface"
        );
    }
    // A directory: Cargo rescans it, so a rebuilt interface (new or changed
    // files) re-embeds on the next build.
    println!("cargo:rerun-if-changed=../app-ui/dist");
    tauri_build::build();
}
