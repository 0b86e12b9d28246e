//! The Ketepai shell (科特派): a thin Tauri 2 layer between the Yew interface
//! (`app-ui`, embedded from `app-ui/dist`) and the product logic (`app-core`).
//!
//! It owns the window, the data directory ([`paths`]) and the IPC commands
//! ([`commands`], errors as `{ code, message }` from [`error`]). It holds no
//! product logic: commands are a few lines over app-core.

pub mod commands;
pub mod error;
pub mod paths;

use tauri::{Manager, WebviewWindowBuilder};

use crate::paths::AppPaths;

/// The label of the one window, as in `tauri.conf.json` and the capabilities.
pub const MAIN_WINDOW: &str = "main";

/// Starts the app; returns when the last window closes.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let cwd = std::env::current_dir().unwrap_or_default();
    let data_dir_override = paths::data_dir_override(
        std::env::args_os().skip(1),
        std::env::var_os(paths::DATA_DIR_ENV),
        &cwd,
    );

    let result = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![commands::app_info])
        .setup(move |app| {
            let data_dir = match data_dir_override {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            std::fs::create_dir_all(&data_dir)?;
            let paths = AppPaths { data_dir };
            open_main_window(app, &paths)?;
            app.manage(paths);
            Ok(())
        })
        .run(tauri::generate_context!());

    if let Err(error) = result {
        eprintln!("ketepai: {error}");
        std::process::exit(1);
    }
}

/// Opens the main window from its configuration (`create: false` there), with
/// the webview's storage inside this instance's data directory.
fn open_main_window(app: &tauri::App, paths: &AppPaths) -> tauri::Result<()> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN_WINDOW)
        .ok_or_else(|| tauri::Error::WindowNotFound)?
        .clone();
    let builder = WebviewWindowBuilder::from_config(app.handle(), &config)?;
    // Mobile webviews keep their storage in the app sandbox.
    #[cfg(desktop)]
    let builder = builder.data_directory(paths.webview_dir());
    #[cfg(mobile)]
    let _ = paths;
    builder.build()?;
    Ok(())
}
