//! Tauri commands: the IPC surface the interface calls through `app-ui`'s
//! `ipc` module. Each is a few lines over plain Rust; names are `verb_noun`.
//!
//! Wire types here are mirrored in `app-ui/src/ipc.rs` until app-core has a
//! wasm-safe module for command types; the tests pin the JSON shape.

use std::path::Path;

use serde::Serialize;
use tauri::State;

use crate::error::CommandError;
use crate::paths::AppPaths;

/// Facts about the running app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppInfo {
    /// The app version, e.g. `0.1.0`.
    pub version: String,
    /// This instance's data directory, absolute.
    pub data_dir: String,
}

impl AppInfo {
    /// The info for an app keeping its data in `data_dir`.
    pub fn new(data_dir: &Path) -> Result<Self, CommandError> {
        let data_dir = data_dir
            .to_str()
            .ok_or_else(|| CommandError::DataDirNotUtf8(data_dir.to_owned()))?;
        Ok(Self {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            data_dir: data_dir.to_owned(),
        })
    }
}

/// The app version and data directory.
#[tauri::command]
pub fn app_info(paths: State<'_, AppPaths>) -> Result<AppInfo, CommandError> {
    AppInfo::new(&paths.data_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_info_wire_shape() {
        let info = AppInfo::new(Path::new("/data/ketepai")).unwrap();
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "version": env!("CARGO_PKG_VERSION"), "data_dir": "/data/ketepai" })
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_non_utf8_data_dir_is_an_error_with_a_code() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;

        let dir = Path::new(OsStr::from_bytes(b"/data/\xff"));
        let error = AppInfo::new(dir).unwrap_err();
        assert_eq!(error.code(), "data_dir.not_utf8");
    }
}
