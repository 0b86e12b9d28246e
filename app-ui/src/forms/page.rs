//! What the two record form pages share: loading (the draft, else the
//! record being edited, else a new form at the core's clock), attaching
//! photos, and saving with its notices.

use std::future::Future;

use app_core::api::{FieldIssue, Saved};
use app_core::domain::DocId;
use yew::prelude::*;

use super::{FormAction, FormData, FormState};
use crate::components::photos::remember_thumb;
use crate::hooks::Busy;
use crate::i18n::Key;
use crate::ipc::{self, IpcError};
use crate::state::{Action, AppContext, Notice, Page};

/// A new form dated now by the core's clock (device clocks are wrong).
pub async fn fresh<F: FormData>(new_at: fn(&str, &str) -> F) -> F {
    let now = ipc::get_now().await.ok();
    let (date, time) = now.map(|n| (n.date, n.time)).unwrap_or_default();
    new_at(&date, &time)
}

/// What a form page opens with: the draft saved under `key` if there is
/// one, else the record `existing` fetches (when editing), else a new form.
/// `None` when the record to edit cannot be read.
pub async fn load<F, Fut>(
    key: String,
    existing: Option<Fut>,
    new_at: fn(&str, &str) -> F,
) -> Option<FormAction<F>>
where
    F: FormData,
    Fut: Future<Output = Option<F>>,
{
    let draft = ipc::load_form_draft(key).await.ok().flatten();
    if let Some(form) = draft.and_then(|json| serde_json::from_str::<F>(&json).ok()) {
        return Some(FormAction::Loaded {
            form,
            restored: true,
        });
    }
    let form = match existing {
        Some(fetch) => fetch.await?,
        None => fresh(new_at).await,
    };
    Some(FormAction::Loaded {
        form,
        restored: false,
    })
}

/// Adding photos to a form: what [`use_photo_adder`] gives the page.
pub struct PhotoAdder {
    /// For the photo strip: a chosen file, processed by the core.
    pub on_add: Callback<web_sys::File>,
    /// Photos still being processed (saving waits for them).
    pub busy: bool,
    /// Why the last photo was refused, as a code.
    pub error: Option<AttrValue>,
}

/// Processes chosen files in the core and attaches them to `form`.
#[hook]
pub fn use_photo_adder<F: FormData>(form: UseReducerHandle<FormState<F>>) -> PhotoAdder {
    let busy = use_reducer(Busy::default);
    let error = use_state(|| None::<String>);
    let on_add = {
        let (busy, error) = (busy.clone(), error.clone());
        Callback::from(move |file: web_sys::File| {
            let (form, busy, error) = (form.clone(), busy.clone(), error.clone());
            busy.dispatch(true);
            error.set(None);
            yew::platform::spawn_local(async move {
                match ipc::add_photo(file).await {
                    Ok(added) => {
                        remember_thumb(added.meta.thumb, added.thumb_url);
                        form.dispatch(FormAction::AddPhoto(added.meta));
                    }
                    Err(e) => error.set(Some(e.code)),
                }
                busy.dispatch(false);
            });
        })
    };
    PhotoAdder {
        on_add,
        busy: busy.0 > 0,
        error: (*error).clone().map(AttrValue::from),
    }
}

/// Saves a form: an invalid `input` marks its fields and says so without a
/// request; otherwise `save` runs once (a second tap while saving does
/// nothing). On success the app opens the saved record (`open`) and says
/// which warnings it was saved with; on failure the form keeps everything
/// and marks the fields the core refused.
pub fn submit<F, I, Fut>(
    form: &UseReducerHandle<FormState<F>>,
    app: &AppContext,
    input: Result<I, Vec<FieldIssue>>,
    save: impl FnOnce(I) -> Fut + 'static,
    open: impl FnOnce(DocId) -> Page + 'static,
) where
    F: FormData,
    Fut: Future<Output = Result<Saved, IpcError>> + 'static,
{
    if form.saving {
        return;
    }
    let input = match input {
        Ok(input) => input,
        Err(errors) => {
            form.dispatch(FormAction::Failed(errors));
            app.dispatch(Action::Notify(Notice {
                key: Key::FixErrors,
                details: vec![],
                error: true,
            }));
            return;
        }
    };
    form.dispatch(FormAction::Saving);
    let request = save(input);
    let (form, app) = (form.clone(), app.clone());
    yew::platform::spawn_local(async move {
        match request.await {
            Ok(saved) => {
                let details: Vec<Key> = saved.warnings.iter().map(ipc::warning_key).collect();
                app.dispatch(Action::RecordsChanged);
                app.dispatch(Action::Replace(open(saved.id)));
                app.dispatch(Action::Notify(Notice {
                    key: if details.is_empty() {
                        Key::SavedOk
                    } else {
                        Key::SavedWithWarnings
                    },
                    details,
                    error: false,
                }));
            }
            Err(e) => {
                form.dispatch(FormAction::Failed(e.fields.clone()));
                app.dispatch(Action::Notify(Notice {
                    key: ipc::error_key(&e.code),
                    details: vec![],
                    error: true,
                }));
            }
        }
    });
}
