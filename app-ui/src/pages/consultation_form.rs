//! The consultation form (新建咨询): the farmer, their village from the
//! register, crop or livestock, the problem in their words, how it came in,
//! when, and photos. Saved as a local draft as the user types.

use std::rc::Rc;

use app_core::api::{RegisterView, SaveConsultationInput};
use app_core::domain::{Channel, ConsultationId, DocId, PhotoHash};
use yew::prelude::*;

use crate::components::field::{Chips, FieldErrorText, TextField};
use crate::components::page_header::PageHeader;
use crate::components::photos::PhotoStrip;
use crate::components::village_picker::VillagePicker;
use crate::forms::consultation::{ConsultationField, ConsultationForm};
use crate::forms::{FormAction, FormState, page};
use crate::hooks::use_draft_autosave;
use crate::i18n::labels::Label;
use crate::i18n::{Key, t};
use crate::ipc;
use crate::state::{AppContext, Page};

/// The draft key of a consultation form.
pub fn draft_key(id: Option<ConsultationId>) -> String {
    match id {
        None => "new_consultation".to_owned(),
        Some(id) => format!("edit_consultation:{id}"),
    }
}

/// Properties of [`ConsultationFormPage`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ConsultationFormPageProps {
    /// The consultation being edited, or none.
    pub id: Option<ConsultationId>,
}

/// The page.
#[component]
pub fn ConsultationFormPage(props: &ConsultationFormPageProps) -> Html {
    let app = use_context::<AppContext>().expect("ConsultationFormPage is rendered inside App");
    let lang = app.lang;
    let form = use_reducer(FormState::<ConsultationForm>::default);
    let register = use_state(|| None::<Rc<RegisterView>>);
    let key = draft_key(props.id);
    {
        let (form, register, key) = (form.clone(), register.clone(), key.clone());
        use_effect_with(props.id, move |id| {
            let id = *id;
            yew::platform::spawn_local(async move {
                register.set(Some(Rc::new(ipc::get_register().await.unwrap_or_default())));
                let existing = id.map(|id| async move {
                    let detail = ipc::get_consultation(id.into()).await.ok()?;
                    Some(ConsultationForm::from_consultation(&detail.consultation))
                });
                if let Some(loaded) = page::load(key, existing, ConsultationForm::new_at).await {
                    form.dispatch(loaded);
                }
            });
        });
    }
    use_draft_autosave(key.clone(), form.form.clone(), form.dirty && !form.saving);

    let set = |field: ConsultationField| {
        let form = form.clone();
        Callback::from(move |v: String| form.dispatch(FormAction::Set(field, v)))
    };
    let on_pick = {
        let form = form.clone();
        Callback::from(move |(township, village): (String, String)| {
            form.dispatch(FormAction::PickPlace { township, village })
        })
    };
    let photos = page::use_photo_adder(form.clone());
    let on_remove = {
        let form = form.clone();
        Callback::from(move |h: PhotoHash| form.dispatch(FormAction::RemovePhoto(h)))
    };
    let on_save = {
        let (form, app, id, key) = (form.clone(), app.clone(), props.id, key.clone());
        Callback::from(move |_| {
            let key = key.clone();
            let save = move |input| {
                ipc::save_consultation(SaveConsultationInput {
                    id,
                    input,
                    draft_key: Some(key),
                })
            };
            let open = |id: DocId| Page::ConsultationDetail(id.into());
            page::submit(&form, &app, form.form.to_input(), save, open);
        })
    };

    let s = &*form;
    let f = &s.form;
    let err = |field: &str| s.error(field).map(|c| AttrValue::from(c.to_owned()));
    let channels: Vec<(AttrValue, AttrValue)> = Channel::ALL
        .iter()
        .map(|c| (AttrValue::from(c.code()), AttrValue::from(c.label(lang))))
        .collect();
    let title = t(
        lang,
        if props.id.is_some() {
            Key::EditConsultationTitle
        } else {
            Key::ConsultationFormTitle
        },
    );
    if !s.loaded {
        return html! { <section class="form-page"><PageHeader {title} back=true /><p class="muted">{ t(lang, Key::Loading) }</p></section> };
    }
    html! {
        <section class="form-page" data-testid="consultation-form">
            <PageHeader {title} back=true />
            if s.restored {
                <div class="draft-note" data-testid="draft-restored">{ t(lang, Key::DraftRestored) }</div>
            }
            <TextField {lang} label={Key::FieldFarmerName} value={f.farmer_name.clone()}
                on_change={set(ConsultationField::FarmerName)} error={err("farmer_name")} test_id="c-farmer" />
            <TextField {lang} label={Key::FieldFarmerPhone} kind="tel" value={f.farmer_phone.clone()}
                on_change={set(ConsultationField::FarmerPhone)} error={err("farmer_phone")} test_id="c-phone" />
            <VillagePicker {lang} label={Key::FieldFarmerVillage} register={(*register).clone()}
                township={f.township.clone()} village={f.village.clone()} {on_pick}
                on_code={set(ConsultationField::VillageCode)} error={err("farmer_village")} />
            <TextField {lang} label={Key::FieldSubject} value={f.subject.clone()}
                on_change={set(ConsultationField::Subject)} error={err("subject")} test_id="c-subject" />
            <TextField {lang} label={Key::FieldProblem} multiline=true value={f.problem.clone()}
                on_change={set(ConsultationField::Problem)} error={err("problem")} test_id="c-problem" />
            <div class="field">
                <span class="field-label">{ t(lang, Key::FieldChannel) }</span>
                <Chips options={channels} selected={f.channel.clone()} on_pick={set(ConsultationField::Channel)} test_id="channel" />
                <FieldErrorText {lang} code={err("channel")} field="channel" />
            </div>
            <div class="row">
                <TextField {lang} label={Key::FieldAskedAt} kind="date" value={f.asked_date.clone()}
                    on_change={set(ConsultationField::AskedDate)} error={err("asked_at")} test_id="c-date" />
                <TextField {lang} label={Key::FieldStartTime} kind="time" value={f.asked_time.clone()}
                    on_change={set(ConsultationField::AskedTime)} test_id="c-time" />
            </div>
            <div class="field">
                <span class="field-label">{ t(lang, Key::FieldPhotos) }</span>
                <PhotoStrip {lang} photos={f.photos.clone()} on_add={photos.on_add} on_remove={on_remove}
                    busy={photos.busy} error={photos.error} />
            </div>
            <button type="button" class="primary-button sticky-save" data-testid="save-consultation"
                disabled={s.saving || photos.busy} onclick={on_save}>
                { t(lang, if s.saving { Key::Saving } else { Key::SaveConsultation }) }
            </button>
        </section>
    }
}
