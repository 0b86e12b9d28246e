//! Interface text: the [`Lang`] enum, the typed [`Key`]s and the [`t`] lookup.
//!
//! Chinese (zh-CN) is the default; English is switchable. Text is looked up by a
//! typed key, never by a string, so a missing translation is a compile error
//! (each language module matches every key exhaustively) and a renamed key
//! cannot silently fall back to a raw identifier on screen.
//!
//! This module owns wording only. It does not know about IPC error codes: the
//! mapping from a stable error code to a [`Key`] lives in [`crate::ipc`].

mod en;
mod zh_cn;

/// An interface language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    /// Simplified Chinese (简体中文), the default.
    #[default]
    ZhCn,
    /// English.
    En,
}

impl Lang {
    /// Every supported language, default first.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag, for `<html lang>` (it also picks the right CJK glyphs).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language's name in itself, as shown on the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::ZhCn => "简体中文",
            Lang::En => "English",
        }
    }

    /// The other language of the two: what the language switch offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }
}

/// Declares [`Key`] and `Key::ALL` from one list so they cannot drift apart.
macro_rules! keys {
    ($($(#[$doc:meta])* $name:ident,)+) => {
        /// A piece of interface text. Look it up with [`t`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Key {
            $($(#[$doc])* $name,)+
        }

        impl Key {
            /// Every key, in declaration order.
            pub const ALL: &'static [Key] = &[$(Key::$name,)+];
        }
    };
}

keys! {
    /// The product name (科特派).
    AppTitle,
    /// One line under the product name.
    AppTagline,
    /// Accessible label of the language switch.
    SwitchLanguage,
    /// Heading of the sync state area.
    SyncHeading,
    /// Sync state: the device has a network connection.
    SyncOnline,
    /// Sync state: the device has no network connection.
    SyncOffline,
    /// Sync detail: nothing has been synced yet; records stay on the device.
    SyncNeverSynced,
    /// Sync detail shown while offline: work goes on, sync happens later.
    SyncOfflineHint,
    /// Home action: record a service visit (服务日志).
    NewServiceLog,
    /// Home action: record a farmer consultation (农户咨询).
    NewConsultation,
    /// Heading of a page that is not built yet.
    ComingSoonTitle,
    /// Body of a page that is not built yet.
    ComingSoonBody,
    /// Back to the home page.
    Back,
    /// Label of the app version in the about area.
    Version,
    /// Label of the data directory in the about area.
    DataDir,
    /// Placeholder while something loads.
    Loading,
    /// Label before a stable error code.
    ErrorCode,
    /// Error: the app core (Tauri) cannot be reached.
    ErrIpcUnavailable,
    /// Error: the app core answered something the interface does not understand.
    ErrIpcBadResponse,
    /// Error: anything without a more specific text.
    ErrUnexpected,
}

/// The text of `key` in `lang`.
pub fn t(lang: Lang, key: Key) -> &'static str {
    match lang {
        Lang::ZhCn => zh_cn::text(key),
        Lang::En => en::text(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_cjk(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    #[test]
    fn every_key_has_text_in_every_language() {
        for &key in Key::ALL {
            for lang in Lang::ALL {
                let text = t(lang, key);
                assert!(!text.trim().is_empty(), "{key:?} is empty in {lang:?}");
                assert_eq!(
                    text,
                    text.trim(),
                    "{key:?} has stray whitespace in {lang:?}"
                );
            }
        }
    }

    #[test]
    fn chinese_is_chinese_and_english_is_not() {
        for &key in Key::ALL {
            assert!(
                has_cjk(t(Lang::ZhCn, key)),
                "{key:?} is not translated to Chinese"
            );
            assert!(
                !has_cjk(t(Lang::En, key)),
                "{key:?} has Chinese in the English text"
            );
        }
    }

    #[test]
    fn chinese_is_the_default() {
        assert_eq!(Lang::default(), Lang::ZhCn);
        assert_eq!(t(Lang::default(), Key::AppTitle), "科特派");
    }

    #[test]
    fn the_switch_offers_the_other_language() {
        for lang in Lang::ALL {
            assert_ne!(lang.other(), lang);
            assert_eq!(lang.other().other(), lang);
        }
    }
}
