//! Forms as plain data with one reducer: [`FormState`] over a [`FormData`]
//! ([`log::LogForm`], [`consultation::ConsultationForm`]).
//!
//! A form's data is what the user typed, as strings, and is what the draft
//! keeps (serialised to JSON, saved as the user types, restored when the
//! form reopens). Turning it into the core's input is `to_input`, which
//! catches what the core cannot see (a count that is not a number); the
//! core validates the rest and its field errors come back into
//! [`FormState::errors`], shown next to each field.

pub mod consultation;
pub mod log;
pub mod page;

use std::rc::Rc;

use app_core::api::FieldIssue;
use app_core::domain::{GeoPoint, PhotoHash, PhotoMeta};
use serde::Serialize;
use serde::de::DeserializeOwned;
use yew::prelude::*;

/// A form's typed content.
pub trait FormData: Clone + PartialEq + Default + Serialize + DeserializeOwned + 'static {
    /// Which text field.
    type Field: Copy + PartialEq + std::fmt::Debug + 'static;
    /// Sets a text field.
    fn set(&mut self, field: Self::Field, value: String);
    /// The chosen township and village codes.
    fn place_mut(&mut self) -> (&mut String, &mut String);
    /// The attached photos.
    fn photos_mut(&mut self) -> &mut Vec<PhotoMeta>;
    /// Records the device's position (forms without one ignore it).
    fn set_location(&mut self, _at: GeoPoint) {}
}

/// A form on screen: its content and what happened to it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FormState<F: FormData> {
    /// The content.
    pub form: F,
    /// Whether the content was loaded (defaults, draft or record).
    pub loaded: bool,
    /// Whether the content came from a draft.
    pub restored: bool,
    /// Whether the user changed something since loading (only then is a
    /// draft written).
    pub dirty: bool,
    /// Whether a save is under way.
    pub saving: bool,
    /// Invalid fields from the last save.
    pub errors: Vec<FieldIssue>,
}

impl<F: FormData> FormState<F> {
    /// The error code of `field` (an input field name), if any.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field || e.field.starts_with(&format!("{field}.")))
            .map(|e| e.code.as_str())
    }
}

/// A change to a [`FormState`].
#[derive(Clone, Debug, PartialEq)]
pub enum FormAction<F: FormData> {
    /// Content loaded: fresh defaults, a restored draft, or a record to edit.
    Loaded {
        /// The content.
        form: F,
        /// Whether it is a restored draft.
        restored: bool,
    },
    /// A text field changed.
    Set(F::Field, String),
    /// A township (and maybe a village) was picked.
    PickPlace {
        /// Township code.
        township: String,
        /// Village code, or empty.
        village: String,
    },
    /// A processed photo was attached.
    AddPhoto(PhotoMeta),
    /// A photo was removed.
    RemovePhoto(PhotoHash),
    /// The device's position arrived.
    Located(GeoPoint),
    /// Saving started.
    Saving,
    /// Saving failed with these invalid fields (empty for other failures).
    Failed(Vec<FieldIssue>),
}

impl<F: FormData> Reducible for FormState<F> {
    type Action = FormAction<F>;

    fn reduce(self: Rc<Self>, action: FormAction<F>) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            FormAction::Loaded { form, restored } => {
                next = FormState {
                    form,
                    loaded: true,
                    restored,
                    ..FormState::default()
                };
            }
            FormAction::Set(field, value) => {
                next.form.set(field, value);
                next.dirty = true;
            }
            FormAction::PickPlace { township, village } => {
                let (t, v) = next.form.place_mut();
                *t = township;
                *v = village;
                next.dirty = true;
                next.errors
                    .retain(|e| e.field != "village" && e.field != "farmer_village");
            }
            FormAction::AddPhoto(meta) => {
                let photos = next.form.photos_mut();
                if !photos.iter().any(|p| p.hash == meta.hash) {
                    photos.push(meta);
                }
                next.dirty = true;
            }
            FormAction::RemovePhoto(hash) => {
                next.form.photos_mut().retain(|p| p.hash != hash);
                next.dirty = true;
            }
            FormAction::Located(at) => {
                next.form.set_location(at);
            }
            FormAction::Saving => {
                next.saving = true;
            }
            FormAction::Failed(errors) => {
                next.saving = false;
                next.errors = errors;
            }
        }
        if next == *self { self } else { Rc::new(next) }
    }
}

/// Splits a list typed as one line: 、，, ; and new lines separate items.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(['、', '，', ',', ';', '；', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Joins a list for a one-line field.
pub fn join_list(items: &[String]) -> String {
    items.join("、")
}

/// A count typed by the user: empty is `None`, digits (full-width too) are
/// a number, anything else is the `not_a_number` error on `field`.
pub fn parse_count(field: &str, text: &str, errors: &mut Vec<FieldIssue>) -> Option<i64> {
    let ascii: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '－' => '-',
            c => c,
        })
        .collect();
    if ascii.is_empty() {
        return None;
    }
    match ascii.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FieldIssue {
                field: field.to_owned(),
                code: "not_a_number".to_owned(),
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_chinese_and_latin_separators() {
        assert_eq!(
            split_list("绿色防控、 测土配方，水肥一体化;;"),
            vec!["绿色防控", "测土配方", "水肥一体化"]
        );
        assert!(split_list(" 、 ").is_empty());
        assert_eq!(join_list(&split_list("a,b")), "a、b");
    }

    #[test]
    fn counts_accept_full_width_digits_and_refuse_words() {
        let mut errors = Vec::new();
        assert_eq!(parse_count("trainees", "１２", &mut errors), Some(12));
        assert_eq!(parse_count("trainees", " 7 ", &mut errors), Some(7));
        assert_eq!(parse_count("trainees", "", &mut errors), None);
        assert!(errors.is_empty());
        assert_eq!(parse_count("trainees", "十二", &mut errors), None);
        assert_eq!(errors[0].code, "not_a_number");
    }
}
