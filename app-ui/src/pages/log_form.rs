//! The service log form (服务日志): new or edit. Date and time default to
//! now by the core's clock; the village comes from the county register
//! (township → village, or search); counts, parties, technologies,
//! description; photos; GPS where the device has it (its absence is only a
//! warning).
//!
//! Nothing typed is lost: the form is saved as a local draft half a second
//! after each change and restored when the form reopens; saving the log
//! discards the draft. A failed save keeps everything and marks the
//! fields to fix.

use std::rc::Rc;

use app_core::api::{RegisterView, SaveLogInput};
use app_core::domain::{ActivityType, PhotoHash, ReviewState, ServiceLogId};
use yew::prelude::*;

use crate::components::field::{Chips, TextField};
use crate::components::page_header::PageHeader;
use crate::components::photos::PhotoStrip;
use crate::components::village_picker::VillagePicker;
use crate::forms::log::{LogField, LogForm};
use crate::forms::{FormAction, FormState, page};
use crate::hooks::use_draft_autosave;
use crate::i18n::labels::{INDUSTRIES, Label, industry_value};
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc;
use crate::state::{Action, AppContext, Notice, Page};

/// The draft key of a log form.
pub fn draft_key(id: Option<ServiceLogId>) -> String {
    match id {
        None => "new_log".to_owned(),
        Some(id) => format!("edit_log:{id}"),
    }
}

/// Where the device's position stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Gps {
    /// Not asked (editing keeps the saved position).
    Idle,
    /// Asking.
    Locating,
    /// Got one, with its accuracy.
    Located(Option<f64>),
    /// None: the error's code (`gps.unavailable` on desktop).
    Failed(String),
}

/// The log form page.
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct LogFormPageProps {
    /// The log being edited, or none for a new one.
    pub id: Option<ServiceLogId>,
}

/// Asks the device for its position and puts it in the form; its absence
/// is shown, not an error.
async fn locate(form: UseReducerHandle<FormState<LogForm>>, gps: UseStateHandle<Gps>) {
    gps.set(Gps::Locating);
    match ipc::get_location().await {
        Ok(at) => {
            form.dispatch(FormAction::Located(at));
            gps.set(Gps::Located(at.accuracy_m));
        }
        Err(e) => gps.set(Gps::Failed(e.code)),
    }
}

/// The page: loads, autosaves, saves.
#[component]
pub fn LogFormPage(props: &LogFormPageProps) -> Html {
    let app = use_context::<AppContext>().expect("LogFormPage is rendered inside App");
    let form = use_reducer(FormState::<LogForm>::default);
    let register = use_state(|| None::<Rc<RegisterView>>);
    let gps = use_state(|| Gps::Idle);
    // A returned log being fixed: the lead's comment, and the form as the
    // log stood (saving it unchanged would leave the log returned).
    let returned = use_state(|| None::<Returned>);
    let key = draft_key(props.id);

    // Load: the draft if any, else the log to edit, else now by the core's clock.
    {
        let (form, register, gps, key) = (form.clone(), register.clone(), gps.clone(), key.clone());
        let returned = returned.clone();
        use_effect_with(props.id, move |id| {
            let id = *id;
            yew::platform::spawn_local(async move {
                register.set(Some(Rc::new(ipc::get_register().await.unwrap_or_default())));
                if let Some(id) = id
                    && let Ok(detail) = ipc::get_service_log(id.into()).await
                    && detail.review_state == ReviewState::Returned
                {
                    returned.set(Some(Returned {
                        comment: detail
                            .log
                            .last_decision()
                            .map(|d| d.comment.clone())
                            .unwrap_or_default(),
                        original: LogForm::from_log(&detail.log),
                    }));
                }
                let existing = id.map(|id| async move {
                    let detail = ipc::get_service_log(id.into()).await.ok()?;
                    Some(LogForm::from_log(&detail.log))
                });
                if let Some(loaded) = page::load(key, existing, LogForm::new_at).await {
                    form.dispatch(loaded);
                }
                if id.is_none() {
                    locate(form, gps).await;
                }
            });
        });
    }

    use_draft_autosave(key.clone(), form.form.clone(), form.dirty && !form.saving);

    let dispatch = {
        let form = form.clone();
        Callback::from(move |a: FormAction<LogForm>| form.dispatch(a))
    };
    let photos = page::use_photo_adder(form.clone());
    let on_locate = {
        let (form, gps) = (form.clone(), gps.clone());
        Callback::from(move |_| yew::platform::spawn_local(locate(form.clone(), gps.clone())))
    };
    let on_discard = {
        let (form, key) = (form.clone(), key.clone());
        Callback::from(move |_| {
            let (form, key) = (form.clone(), key.clone());
            yew::platform::spawn_local(async move {
                let _ = ipc::delete_form_draft(key).await;
                form.dispatch(FormAction::Loaded {
                    form: page::fresh(LogForm::new_at).await,
                    restored: false,
                });
            });
        })
    };
    let unchanged = (*returned)
        .as_ref()
        .is_some_and(|r| r.original == form.form);
    let on_save = {
        let (form, app, id, key) = (form.clone(), app.clone(), props.id, key.clone());
        Callback::from(move |_| {
            if unchanged {
                app.dispatch(Action::Notify(Notice {
                    key: Key::UnchangedReturned,
                    details: vec![],
                    error: true,
                }));
                return;
            }
            let key = key.clone();
            let save = move |input| {
                ipc::save_service_log(SaveLogInput {
                    id,
                    input,
                    draft_key: Some(key),
                })
            };
            let open = |id| Page::LogDetail(ServiceLogId::from(id));
            page::submit(&form, &app, form.form.to_input(), save, open);
        })
    };

    html! {
        <LogFormView
            lang={app.lang}
            editing={props.id.is_some()}
            return_comment={(*returned).as_ref().map(|r| AttrValue::from(r.comment.clone()))}
            {unchanged}
            state={Rc::new((*form).clone())}
            register={(*register).clone()}
            gps={(*gps).clone()}
            photo_busy={photos.busy}
            photo_error={photos.error}
            {dispatch} on_add_photo={photos.on_add} {on_locate} {on_discard} {on_save}
        />
    }
}

/// A returned log being fixed.
#[derive(Clone, Debug, PartialEq)]
struct Returned {
    comment: String,
    original: LogForm,
}

/// Properties of [`LogFormView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct LogFormViewProps {
    /// Interface language.
    pub lang: Lang,
    /// Editing a saved log.
    pub editing: bool,
    /// When fixing a returned log: the team lead's comment.
    #[prop_or_default]
    pub return_comment: Option<AttrValue>,
    /// When fixing a returned log: nothing changed yet (saving is refused).
    #[prop_or_default]
    pub unchanged: bool,
    /// The form.
    pub state: Rc<FormState<LogForm>>,
    /// The county register.
    pub register: Option<Rc<RegisterView>>,
    /// The position.
    pub gps: Gps,
    /// A photo is being processed.
    pub photo_busy: bool,
    /// The last photo refusal.
    pub photo_error: Option<AttrValue>,
    /// Changes to the form.
    pub dispatch: Callback<FormAction<LogForm>>,
    /// A file chosen for a photo.
    pub on_add_photo: Callback<web_sys::File>,
    /// "Locate again".
    pub on_locate: Callback<()>,
    /// "Start over".
    pub on_discard: Callback<()>,
    /// "Save and submit".
    pub on_save: Callback<()>,
}

/// The form itself.
#[component]
pub fn LogFormView(props: &LogFormViewProps) -> Html {
    let lang = props.lang;
    let s = &props.state;
    let f = &s.form;
    let set = |field: LogField| {
        let d = props.dispatch.clone();
        Callback::from(move |v: String| d.emit(FormAction::Set(field, v)))
    };
    let err = |field: &str| s.error(field).map(|c| AttrValue::from(c.to_owned()));
    let activities: Vec<(AttrValue, AttrValue)> = ActivityType::ALL
        .iter()
        .map(|a| (AttrValue::from(a.code()), AttrValue::from(a.label(lang))))
        .collect();
    let industries: Vec<(AttrValue, AttrValue)> = INDUSTRIES
        .iter()
        .map(|&i| {
            (
                AttrValue::from(industry_value(i)),
                AttrValue::from(t(lang, i)),
            )
        })
        .collect();
    let on_pick = {
        let d = props.dispatch.clone();
        Callback::from(move |(township, village): (String, String)| {
            d.emit(FormAction::PickPlace { township, village })
        })
    };
    let on_remove = {
        let d = props.dispatch.clone();
        Callback::from(move |h: PhotoHash| d.emit(FormAction::RemovePhoto(h)))
    };
    let save = {
        let cb = props.on_save.clone();
        Callback::from(move |_| cb.emit(()))
    };
    let discard = {
        let cb = props.on_discard.clone();
        Callback::from(move |_| cb.emit(()))
    };
    let locate = {
        let cb = props.on_locate.clone();
        Callback::from(move |_| cb.emit(()))
    };
    let gps_line = match &props.gps {
        Gps::Idle => html! {},
        Gps::Locating => {
            html! { <p class="muted" data-testid="gps">{ t(lang, Key::Locating) }</p> }
        }
        Gps::Located(acc) => html! {
            <p class="ok" data-testid="gps">{ tf(lang, Key::LocationOk, acc.map(|a| a.round() as i64).unwrap_or(0)) }</p>
        },
        Gps::Failed(code) => html! {
            <p class="warning" data-testid="gps">
                { t(lang, ipc::error_key(code)) }
                if code != "gps.unavailable" {
                    <button type="button" class="link-button" onclick={locate}>{ t(lang, Key::LocateAgain) }</button>
                }
            </p>
        },
    };

    if !s.loaded {
        return html! {
            <section class="form-page" data-testid="log-form">
                <PageHeader title={t(lang, Key::LogFormTitle)} back=true />
                <p class="muted">{ t(lang, Key::Loading) }</p>
            </section>
        };
    }

    html! {
        <section class="form-page" data-testid="log-form">
            <PageHeader title={t(lang, if props.editing { Key::EditLogTitle } else { Key::LogFormTitle })} back=true />
            if let Some(comment) = props.return_comment.clone() {
                <div class="returned-banner" data-testid="returned-banner">
                    <p class="returned-title">{ t(lang, Key::ReturnedBanner) }</p>
                    if !comment.is_empty() {
                        <blockquote class="returned-comment" data-testid="return-comment">{ comment }</blockquote>
                    }
                    <p class="returned-hint" data-testid="returned-hint">
                        { t(lang, if props.unchanged { Key::UnchangedReturned } else { Key::ReturnedHint }) }
                    </p>
                </div>
            }
            if s.restored {
                <div class="draft-note" data-testid="draft-restored">
                    <span>{ t(lang, Key::DraftRestored) }</span>
                    <button type="button" class="link-button" data-testid="discard-draft" onclick={discard}>
                        { t(lang, Key::DiscardDraft) }
                    </button>
                </div>
            } else {
                <p class="muted small">{ t(lang, Key::DraftSavedHint) }</p>
            }
            <div class="row">
                <TextField {lang} label={Key::FieldDate} kind="date" value={f.date.clone()}
                    on_change={set(LogField::Date)} error={err("date")} test_id="log-date" />
                <TextField {lang} label={Key::FieldStartTime} kind="time" value={f.start_time.clone()}
                    on_change={set(LogField::StartTime)} error={err("start_time")} test_id="log-start" />
                <TextField {lang} label={Key::FieldEndTime} kind="time" value={f.end_time.clone()}
                    on_change={set(LogField::EndTime)} error={err("end_time")} test_id="log-end" />
            </div>
            <VillagePicker {lang} label={Key::FieldPlace} register={props.register.clone()}
                township={f.township.clone()} village={f.village.clone()} {on_pick}
                on_code={set(LogField::VillageCode)} error={err("village")} />
            <div class="field">
                <span class="field-label">{ t(lang, Key::FieldActivity) }</span>
                <Chips options={activities} selected={f.activity.clone()} on_pick={set(LogField::Activity)} test_id="activity" />
                <crate::components::field::FieldErrorText {lang} code={err("activity")} field="activity" />
            </div>
            <div class="field">
                <TextField {lang} label={Key::FieldIndustry} value={f.industry.clone()}
                    on_change={set(LogField::Industry)} error={err("industry")} test_id="log-industry" />
                <Chips options={industries} selected={f.industry.clone()} on_pick={set(LogField::Industry)} test_id="industry" />
            </div>
            <div class="row">
                <TextField {lang} label={Key::FieldFarmersServed} inputmode="numeric" value={f.farmers_served.clone()}
                    on_change={set(LogField::FarmersServed)} error={err("farmers_served")} test_id="log-farmers" />
                if f.is_training() {
                    <TextField {lang} label={Key::FieldTrainees} inputmode="numeric" value={f.trainees.clone()}
                        on_change={set(LogField::Trainees)} error={err("trainees")} test_id="log-trainees" />
                }
            </div>
            <TextField {lang} label={Key::FieldCooperatives} hint={Key::ListHint} value={f.cooperatives.clone()}
                on_change={set(LogField::Cooperatives)} error={err("served")} test_id="log-cooperatives" />
            <TextField {lang} label={Key::FieldEnterprises} value={f.enterprises.clone()}
                on_change={set(LogField::Enterprises)} test_id="log-enterprises" />
            <TextField {lang} label={Key::FieldTechnologies} hint={Key::ListHint} value={f.technologies.clone()}
                on_change={set(LogField::Technologies)} error={err("technologies")} test_id="log-technologies" />
            <TextField {lang} label={Key::FieldVarieties} value={f.varieties.clone()}
                on_change={set(LogField::Varieties)} error={err("varieties")} test_id="log-varieties" />
            <TextField {lang} label={Key::FieldDescription} multiline=true value={f.description.clone()}
                on_change={set(LogField::Description)} error={err("description")} test_id="log-description" />
            <div class="field">
                <span class="field-label">{ t(lang, Key::FieldPhotos) }</span>
                <PhotoStrip {lang} photos={f.photos.clone()} on_add={props.on_add_photo.clone()}
                    on_remove={on_remove} busy={props.photo_busy} error={props.photo_error.clone()} />
            </div>
            <div class="field">
                <span class="field-label">{ t(lang, Key::FieldLocation) }</span>
                { gps_line }
            </div>
            <button type="button" class="primary-button sticky-save" data-testid="save-log"
                disabled={s.saving || props.photo_busy} onclick={save}>
                { t(lang, if s.saving { Key::Saving } else { Key::SubmitLog }) }
            </button>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use app_core::api::{FieldIssue, Place, Township};

    use super::*;
    use crate::testing::{render, signed_in};

    fn view(state: FormState<LogForm>, gps: Gps, lang: Lang) -> String {
        let register = Rc::new(RegisterView {
            county: None,
            townships: vec![Township {
                place: Place {
                    code: "520324001".into(),
                    name: "凤仪街道".into(),
                    initials: "fyjd".into(),
                },
                villages: vec![Place {
                    code: "520324001001".into(),
                    name: "北苑社区居民委员会".into(),
                    initials: "byjmwyh".into(),
                }],
            }],
        });
        render(
            signed_in(lang),
            html! {
                <LogFormView {lang} editing=false state={Rc::new(state)} register={Some(register)} {gps}
                    photo_busy=false photo_error={None::<AttrValue>}
                    dispatch={Callback::noop()} on_add_photo={Callback::noop()} on_locate={Callback::noop()}
                    on_discard={Callback::noop()} on_save={Callback::noop()} />
            },
        )
    }

    fn loaded(form: LogForm) -> FormState<LogForm> {
        FormState {
            form,
            loaded: true,
            ..FormState::default()
        }
    }

    #[test]
    fn a_new_form_shows_now_every_field_and_the_village_picker() {
        let html = view(
            loaded(LogForm::new_at("2026-11-29", "09:30")),
            Gps::Idle,
            Lang::ZhCn,
        );
        for text in [
            "服务日志",
            "日期",
            "服务地点",
            "凤仪街道",
            "活动类型",
            "技术指导",
            "产业",
            "茶叶",
            "服务农户数",
            "服务的合作社",
            "推广的新技术",
            "推广的新品种",
            "工作内容",
            "拍照",
            "从相册选",
            "保存并提交",
        ] {
            assert!(html.contains(text), "missing {text:?}");
        }
        assert!(html.contains(r#"value="2026-11-29""#));
        assert!(html.contains(r#"value="09:30""#));
        assert!(!html.contains("培训人次"), "trainees only for trainings");
    }

    #[test]
    fn trainings_ask_for_trainees() {
        let mut form = LogForm::new_at("2026-11-29", "09:30");
        form.activity = "training".into();
        let html = view(loaded(form), Gps::Idle, Lang::ZhCn);
        assert!(html.contains("培训人次"));
        assert!(html.contains(r#"data-testid="log-trainees""#));
    }

    #[test]
    fn field_errors_show_next_to_their_fields_in_words() {
        let mut state = loaded(LogForm::new_at("2026-11-29", "09:30"));
        state.errors = vec![
            FieldIssue {
                field: "village".into(),
                code: "required".into(),
            },
            FieldIssue {
                field: "farmers_served".into(),
                code: "negative_count".into(),
            },
        ];
        let html = view(state, Gps::Idle, Lang::ZhCn);
        assert!(html.contains(r#"data-testid="error-village""#), "{html}");
        assert!(html.contains(r#"data-testid="error-log-farmers""#));
        assert!(html.contains("必填") && html.contains("不能是负数"));
        assert!(
            !html.contains("required"),
            "codes are not shown as text: {html}"
        );
    }

    #[test]
    fn a_restored_draft_says_so_and_offers_to_start_over() {
        let mut state = loaded(LogForm::new_at("2026-11-29", "09:30"));
        state.restored = true;
        let html = view(state, Gps::Idle, Lang::ZhCn);
        assert!(html.contains("已恢复上次未填完的内容"));
        assert!(html.contains(r#"data-testid="discard-draft""#));
    }

    #[test]
    fn no_gps_on_this_device_is_a_warning_not_an_error() {
        let html = view(
            loaded(LogForm::default()),
            Gps::Failed("gps.unavailable".into()),
            Lang::ZhCn,
        );
        assert!(html.contains("本设备不支持定位，日志照常保存"), "{html}");
        let at = html.find(r#"data-testid="save-log""#).unwrap();
        let button =
            &html[html[..at].rfind("<button").unwrap()..at + html[at..].find('>').unwrap()];
        assert!(
            !button.contains("disabled"),
            "saving stays possible: {button}"
        );
        let html = view(
            loaded(LogForm::default()),
            Gps::Located(Some(12.4)),
            Lang::En,
        );
        assert!(html.contains("Located (about 12 m)"));
    }

    #[test]
    fn industry_chips_speak_the_interface_language_and_save_chinese() {
        let mut form = LogForm::new_at("2026-11-29", "09:30");
        form.industry = "茶叶".into();
        let html = view(loaded(form), Gps::Idle, Lang::En);
        for text in [
            "Tea",
            "Kiwifruit",
            "Potato",
            "Beef cattle",
            "Medicinal herbs",
            "Vegetables",
        ] {
            assert!(html.contains(&format!(">{text}<")), "missing {text:?}");
        }
        // The chip still saves (and is found by) the Chinese name.
        assert!(html.contains(r#"data-testid="industry-茶叶""#), "{html}");
        for zh in ["猕猴桃", "马铃薯", "肉牛", "中药材", "蔬菜"] {
            assert!(!html.contains(&format!(">{zh}<")), "{zh} shown in English");
        }
    }

    #[test]
    fn the_draft_key_names_the_form() {
        assert_eq!(draft_key(None), "new_log");
        let id: ServiceLogId = "0192f000-0000-7000-8000-0000000000e1".parse().unwrap();
        assert_eq!(draft_key(Some(id)), format!("edit_log:{id}"));
    }

    #[test]
    fn fixing_a_returned_log_shows_the_comment_and_refuses_no_change() {
        let state = FormState::<LogForm> {
            loaded: true,
            ..FormState::default()
        };
        let render_with = |unchanged: bool| {
            crate::testing::render(
                crate::testing::signed_in(Lang::ZhCn),
                html! {
                    <LogFormView lang={Lang::ZhCn} editing=true state={Rc::new(state.clone())}
                        register={None::<Rc<RegisterView>>} gps={Gps::Idle}
                        photo_busy=false photo_error={None::<AttrValue>}
                        return_comment={Some(AttrValue::from("培训人次与照片不符"))} {unchanged}
                        dispatch={Callback::noop()} on_add_photo={Callback::noop()}
                        on_locate={Callback::noop()} on_discard={Callback::noop()} on_save={Callback::noop()} />
                },
            )
        };
        let html = render_with(true);
        for text in [
            "团长退回了这条日志",
            "培训人次与照片不符",
            "内容还没有修改，请先按退回意见修改",
            "修改服务日志",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        let html = render_with(false);
        assert!(html.contains("请按意见修改后保存"), "{html}");
    }
}
