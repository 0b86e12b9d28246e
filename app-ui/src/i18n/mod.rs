//! Interface text: the [`Lang`] enum, the typed [`Key`]s and [`Mark`]s, the
//! [`t`] lookup, and the labels of the core's code enums ([`labels`]).
//!
//! Chinese (zh-CN) is the default; English is switchable. Text is looked up
//! by a typed key, never by a string. Every key is declared once in
//! `texts.rs` with its Chinese and its English, side by side, so a missing
//! translation is a compile error and translators see both at once. No text
//! reaches the screen from anywhere else, except what records hold (names,
//! places, what the user typed) and the English of the core's code enums in
//! [`labels`], whose Chinese comes from the core.
//!
//! This module owns wording only. Which error code maps to which key lives
//! in [`crate::ipc`].

pub mod labels;
mod texts;

pub use texts::{Key, Mark};

/// Something with a text in each language: a [`Key`] or a [`Mark`].
pub trait Text: Copy {
    /// (Chinese, English).
    fn texts(self) -> (&'static str, &'static str);
}

impl Text for Key {
    fn texts(self) -> (&'static str, &'static str) {
        Key::texts(self)
    }
}

impl Text for Mark {
    fn texts(self) -> (&'static str, &'static str) {
        Mark::texts(self)
    }
}

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

    /// The language with this tag, if supported.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.tag() == tag)
    }

    /// The language's name in itself, as shown on the language switch.
    pub fn native_name(self) -> &'static str {
        t(self, Key::LanguageName)
    }

    /// The other language of the two: what the language switch offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }
}

/// The text of `key` in `lang`.
pub fn t(lang: Lang, key: impl Text) -> &'static str {
    let (zh, en) = key.texts();
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
    }
}

/// `key`'s text with `{}` replaced by `value` (for counts and names).
pub fn tf(lang: Lang, key: impl Text, value: impl std::fmt::Display) -> String {
    t(lang, key).replacen("{}", &value.to_string(), 1)
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
                assert_eq!(text, text.trim(), "{key:?} has stray whitespace");
            }
        }
    }

    #[test]
    fn chinese_is_chinese_and_english_is_not() {
        for &key in Key::ALL {
            assert!(has_cjk(t(Lang::ZhCn, key)), "{key:?} not in Chinese");
            assert!(!has_cjk(t(Lang::En, key)), "{key:?} has Chinese in English");
        }
    }

    #[test]
    fn placeholders_match_between_languages() {
        for &key in Key::ALL {
            assert_eq!(
                t(Lang::ZhCn, key).matches("{}").count(),
                t(Lang::En, key).matches("{}").count(),
                "{key:?}"
            );
        }
    }

    #[test]
    fn every_mark_has_its_placeholder_in_every_language() {
        for &mark in Mark::ALL {
            for lang in Lang::ALL {
                assert!(!t(lang, mark).is_empty(), "{mark:?} is empty in {lang:?}");
            }
            assert_eq!(
                t(Lang::ZhCn, mark).matches("{}").count(),
                t(Lang::En, mark).matches("{}").count(),
                "{mark:?}"
            );
        }
        assert_eq!(tf(Lang::En, Mark::Kilobytes, 250), "250 KB");
        assert_eq!(t(Lang::En, Mark::ListSeparator), ", ");
    }

    #[test]
    fn each_language_names_itself() {
        assert_eq!(Lang::ZhCn.native_name(), "简体中文");
        assert_eq!(Lang::En.native_name(), "English");
    }

    #[test]
    fn chinese_is_the_default_and_tags_round_trip() {
        assert_eq!(Lang::default(), Lang::ZhCn);
        assert_eq!(t(Lang::default(), Key::AppTitle), "科特派");
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
            assert_eq!(lang.other().other(), lang);
        }
        assert_eq!(Lang::from_tag("fr"), None);
    }

    #[test]
    fn formatted_text_fills_its_placeholder() {
        assert_eq!(tf(Lang::ZhCn, Key::PendingRecords, 3), "待上传 3 条记录");
        assert_eq!(tf(Lang::En, Key::PendingRecords, 3), "Records to upload: 3");
    }
}
