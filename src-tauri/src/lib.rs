//! The Ketepai shell (科特派): a thin Tauri 2 layer between the Yew interface
//! (`app-ui`, embedded from `app-ui/dist`) and the product logic (`app-core`).
//!
//! It owns the window, the data directory ([`paths`]), the local store and
//! background sync ([`core`], [`background`]), offline sign-in
//! ([`session`]) and the IPC commands ([`commands`]; the sync admin's
//! console in [`admin`] and [`commands_admin`]; errors as
//! `{ code, message, fields }` from [`error`]). It holds no product logic:
//! commands are a few lines over app-core.

pub mod admin;
pub mod background;
pub mod commands;
pub mod commands_admin;
pub mod core;
pub mod error;
pub mod location;
pub mod lock;
pub mod paths;
pub mod register;
pub mod session;

use std::sync::Arc;

use app_core::clock::SystemClock;
use app_core::sync::EngineOptions;
use tauri::{Manager, WebviewWindowBuilder};

use crate::commands::CoreSlot;
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

    let builder = tauri::Builder::default();
    #[cfg(mobile)]
    let builder = builder.plugin(tauri_plugin_geolocation::init());
    let result = builder
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::get_session,
            commands::unlock,
            commands::enrol_device,
            commands::re_enrol_device,
            commands::sign_in,
            commands::sign_out,
            commands::set_language,
            commands::get_sync_status,
            commands::sync_now,
            commands::get_now,
            commands::get_register,
            commands::save_form_draft,
            commands::load_form_draft,
            commands::delete_form_draft,
            commands::save_service_log,
            commands::get_service_log,
            commands::list_service_logs,
            commands::save_consultation,
            commands::get_consultation,
            commands::list_consultations,
            commands::answer_consultation,
            commands::add_follow_up,
            commands::close_consultation,
            commands::get_review_queue,
            commands::get_review_detail,
            commands::approve_logs,
            commands::return_log,
            commands::list_conflicts,
            commands::resolve_conflict,
            commands::list_duplicate_candidates,
            commands::mark_duplicate,
            commands::unmark_duplicate,
            commands::get_record_history,
            commands::add_photo,
            commands::get_photo,
            commands::get_my_stats,
            commands::get_location,
            commands::get_team_dashboard,
            commands::get_team_roster,
            commands::refresh_team,
            commands::get_team_scores,
            commands::export_team_sheet,
            commands::get_prefetch_setting,
            commands::set_prefetch_setting,
            commands_admin::admin_list_teams,
            commands_admin::admin_create_team,
            commands_admin::admin_list_users,
            commands_admin::admin_create_user,
            commands_admin::admin_move_user,
            commands_admin::admin_change_scope,
            commands_admin::admin_disable_user,
            commands_admin::admin_enable_user,
            commands_admin::admin_reset_password,
            commands_admin::admin_list_devices,
            commands_admin::admin_revoke_device,
            commands_admin::admin_list_quarantine,
            commands_admin::admin_release,
            commands_admin::admin_discard,
            commands_admin::admin_list_audit,
            commands_admin::admin_export_audit,
            commands_admin::admin_stats_report,
            commands_admin::admin_stats_scores,
            commands_admin::admin_export_stats,
            commands_admin::admin_list_conflicts,
            commands_admin::admin_open_conflict,
            commands_admin::admin_marked_duplicates,
            commands_admin::list_notices,
            commands_admin::dismiss_notice,
        ])
        .setup(move |app| {
            let data_dir = match data_dir_override {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            std::fs::create_dir_all(&data_dir)?;
            let paths = AppPaths { data_dir };
            // The desktop has no keystore: the password opens the store at
            // every start (a mobile shell passes its platform's keeper).
            let gate = lock::Gate::start(
                &paths.data_dir.join(core::STORE_FILE),
                SystemClock::shared(),
                EngineOptions {
                    // Desktops count as unmetered (the review queue's photos
                    // download in the background); a phone or tablet build
                    // says so only once a platform plugin reports Wi-Fi.
                    unmetered: cfg!(desktop),
                    ..EngineOptions::default()
                },
                Arc::new(app_core::store::NoKeystore),
            );
            app.manage(CoreSlot(Arc::new(gate)));
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
