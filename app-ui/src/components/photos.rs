//! Photos on a record: thumbnails (from a small cache, else from the
//! shell), and on forms the two ways to add one, 拍照 (the camera) and
//! 从相册选 (files), through plain file inputs. Processing happens in the
//! core; a refused file shows why, in words.

use std::cell::RefCell;
use std::collections::HashMap;

use app_core::domain::{PhotoHash, PhotoMeta};
use yew::prelude::*;

use crate::components::icon::{Icon, IconKind};
use crate::components::notice::ErrorLine;
use crate::i18n::{Key, Lang, t};
use crate::ipc;

thread_local! {
    /// Thumbnails seen: `Some(url)`, or `None` when not on this device.
    static THUMBS: RefCell<HashMap<PhotoHash, Option<String>>> = RefCell::new(HashMap::new());
}

/// Remembers a thumbnail's `data:` URL (the shell returns one with each
/// added photo).
pub fn remember_thumb(hash: PhotoHash, url: String) {
    THUMBS.with(|m| m.borrow_mut().insert(hash, Some(url)));
}

fn cached_thumb(hash: &PhotoHash) -> Option<Option<String>> {
    THUMBS.with(|m| m.borrow().get(hash).cloned())
}

/// Properties of [`PhotoStrip`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct PhotoStripProps {
    /// Interface language.
    pub lang: Lang,
    /// The photos.
    pub photos: Vec<PhotoMeta>,
    /// When set, the strip offers adding: called with each chosen file.
    #[prop_or_default]
    pub on_add: Option<Callback<web_sys::File>>,
    /// When set, each photo has a remove button.
    #[prop_or_default]
    pub on_remove: Option<Callback<PhotoHash>>,
    /// A photo is being processed.
    #[prop_or_default]
    pub busy: bool,
    /// The code of the last refusal, if any.
    #[prop_or_default]
    pub error: Option<AttrValue>,
}

/// Thumbnails, and on forms the add buttons.
#[component]
pub fn PhotoStrip(props: &PhotoStripProps) -> Html {
    let lang = props.lang;
    // Thumbnails not seen yet are fetched from the shell; the cache keeps
    // them (and which are not on this device) for every strip.
    let redraw = use_force_update();
    use_effect_with(props.photos.clone(), move |photos| {
        for photo in photos.clone() {
            let thumb = photo.thumb;
            if cached_thumb(&thumb).is_some() {
                continue;
            }
            let redraw = redraw.clone();
            yew::platform::spawn_local(async move {
                let url = ipc::get_photo(thumb).await.ok().flatten();
                THUMBS.with(|m| m.borrow_mut().insert(thumb, url));
                redraw.force_update();
            });
        }
    });

    let add = props.on_add.clone().map(|cb| {
        let onchange = Callback::from(move |e: Event| {
            use yew::TargetCast;
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            if let Some(files) = input.files() {
                for i in 0..files.length() {
                    if let Some(file) = files.get(i) {
                        cb.emit(file);
                    }
                }
            }
            input.set_value("");
        });
        html! {
            <div class="photo-add">
                <label class="photo-button" data-testid="photo-camera">
                    <input type="file" accept="image/*" capture="environment" class="visually-hidden"
                        onchange={onchange.clone()} />
                    <Icon kind={IconKind::Camera} />
                    <span>{ t(lang, Key::TakePhoto) }</span>
                </label>
                <label class="photo-button">
                    <input type="file" accept="image/*" multiple=true class="visually-hidden"
                        data-testid="photo-file" {onchange} />
                    <Icon kind={IconKind::Image} />
                    <span>{ t(lang, Key::ChoosePhoto) }</span>
                </label>
            </div>
        }
    });

    html! {
        <div class="photos" data-testid="photos">
            <div class="photo-grid">
                { for props.photos.iter().map(|photo| {
                    let seen = cached_thumb(&photo.thumb);
                    let missing = matches!(seen, Some(None));
                    let url = seen.flatten();
                    let remove = props.on_remove.clone().map(|cb| {
                        let hash = photo.hash;
                        Callback::from(move |_| cb.emit(hash))
                    });
                    html! {
                        <figure class="photo" data-testid="photo">
                            if let Some(url) = url {
                                <img src={url} alt="" data-testid="photo-thumb" />
                            } else if missing {
                                <div class="photo-missing">{ t(lang, Key::PhotoNotHere) }</div>
                            } else {
                                <div class="photo-missing">{ t(lang, Key::Loading) }</div>
                            }
                            if let Some(onclick) = remove {
                                <button type="button" class="photo-remove" data-testid="photo-remove" {onclick}>
                                    { t(lang, Key::RemovePhoto) }
                                </button>
                            }
                        </figure>
                    }
                }) }
            </div>
            if props.busy {
                <p class="muted" data-testid="photo-busy">{ t(lang, Key::ProcessingPhoto) }</p>
            }
            if let Some(code) = props.error.clone() {
                <ErrorLine {code} />
            }
            { add.unwrap_or_default() }
        </div>
    }
}
