//! Where this instance keeps its data.
//!
//! Order: the `--data-dir <path>` argument (or `--data-dir=<path>`), then the
//! `KETEPAI_DATA_DIR` environment variable, then the platform's app-data
//! directory. Tests give every app instance its own directory this way; the
//! webview's storage lives inside it too (`<data dir>/webview`), so two
//! instances on one machine share nothing.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The command-line flag that picks the data directory.
pub const DATA_DIR_FLAG: &str = "--data-dir";
/// The environment variable that picks the data directory.
pub const DATA_DIR_ENV: &str = "KETEPAI_DATA_DIR";

/// Resolved directories of this instance, managed as Tauri state.
#[derive(Clone, Debug)]
pub struct AppPaths {
    /// Root of everything this instance stores, absolute.
    pub data_dir: PathBuf,
}

impl AppPaths {
    /// Where the webview keeps its own storage (local storage, caches).
    pub fn webview_dir(&self) -> PathBuf {
        self.data_dir.join("webview")
    }
}

/// The data directory chosen by `args` (program name excluded) or `env_value`,
/// made absolute against `cwd`; `None` means "use the platform default".
pub fn data_dir_override(
    args: impl IntoIterator<Item = OsString>,
    env_value: Option<OsString>,
    cwd: &Path,
) -> Option<PathBuf> {
    let mut args = args.into_iter();
    let mut from_args = None;
    while let Some(arg) = args.next() {
        if arg == DATA_DIR_FLAG {
            from_args = args.next();
        } else if let Some(value) = arg
            .to_str()
            .and_then(|a| a.strip_prefix(DATA_DIR_FLAG))
            .and_then(|rest| rest.strip_prefix('='))
        {
            from_args = Some(OsString::from(value));
        }
    }
    let chosen = from_args.or(env_value).filter(|v| !v.is_empty())?;
    let path = PathBuf::from(chosen);
    Some(if path.is_absolute() {
        path
    } else {
        cwd.join(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_argument_wins_over_the_environment() {
        let dir = data_dir_override(
            args(&["--data-dir", "/a"]),
            Some("/b".into()),
            Path::new("/"),
        );
        assert_eq!(dir, Some(PathBuf::from("/a")));
    }

    #[test]
    fn accepts_the_equals_form() {
        let dir = data_dir_override(args(&["--data-dir=/a"]), None, Path::new("/"));
        assert_eq!(dir, Some(PathBuf::from("/a")));
    }

    #[test]
    fn falls_back_to_the_environment_then_to_none() {
        assert_eq!(
            data_dir_override(args(&["--other"]), Some("/b".into()), Path::new("/")),
            Some(PathBuf::from("/b"))
        );
        assert_eq!(data_dir_override(args(&[]), None, Path::new("/")), None);
        assert_eq!(
            data_dir_override(args(&[]), Some("".into()), Path::new("/")),
            None
        );
    }

    #[test]
    fn relative_paths_are_made_absolute() {
        let dir = data_dir_override(args(&["--data-dir", "d"]), None, Path::new("/work"));
        assert_eq!(dir, Some(PathBuf::from("/work/d")));
    }

    #[test]
    fn ignores_unrelated_arguments_around_it() {
        let dir = data_dir_override(
            args(&["--automation", "--data-dir", "/a", "x"]),
            None,
            Path::new("/"),
        );
        assert_eq!(dir, Some(PathBuf::from("/a")));
    }
}
