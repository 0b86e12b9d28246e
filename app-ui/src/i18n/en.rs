//! English text for every [`Key`].

use super::Key;

/// The English text of `key`.
pub(super) fn text(key: Key) -> &'static str {
    match key {
        Key::AppTitle => "Ketepai",
        Key::AppTagline => "Field assistant for S&T commissioners",
        Key::SwitchLanguage => "Switch language",
        Key::SyncHeading => "Sync",
        Key::SyncOnline => "Online",
        Key::SyncOffline => "Offline",
        Key::SyncNeverSynced => "Not synced yet; records are kept on this device",
        Key::SyncOfflineHint => "Keep working offline; records sync once you are connected",
        Key::NewServiceLog => "New service log",
        Key::NewConsultation => "New consultation",
        Key::ComingSoonTitle => "Coming soon",
        Key::ComingSoonBody => "This feature is being built.",
        Key::Back => "Back",
        Key::Version => "Version",
        Key::DataDir => "Data directory",
        Key::Loading => "Loading…",
        Key::ErrorCode => "Error code",
        Key::ErrIpcUnavailable => "Cannot reach the app core",
        Key::ErrIpcBadResponse => "The app core sent data the interface does not understand",
        Key::ErrUnexpected => "Something went wrong",
    }
}
