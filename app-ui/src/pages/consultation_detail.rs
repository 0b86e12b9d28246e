//! One consultation (咨询详情): the farmer, the problem, photos, the advice,
//! the timeline of follow-ups, and for its author the actions 答复, 回访 and
//! 关闭. The answer and follow-up boxes keep drafts like every form.

use app_core::api::{AnswerInput, ConsultationDetail, FollowUpInput};
use app_core::domain::{ConsultationId, ConsultationStatus};
use yew::prelude::*;

use crate::components::field::TextField;
use crate::components::notice::ErrorLine;
use crate::components::page_header::PageHeader;
use crate::components::photos::PhotoStrip;
use crate::hooks::{use_draft_autosave, use_fetch};
use crate::i18n::labels::{Label, short_place};
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc;
use crate::state::{Action, AppContext, Notice, Page, Remote};

/// Properties of [`ConsultationDetailPage`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ConsultationDetailPageProps {
    /// The consultation.
    pub id: ConsultationId,
}

/// The page.
#[component]
pub fn ConsultationDetailPage(props: &ConsultationDetailPageProps) -> Html {
    let app = use_context::<AppContext>().expect("ConsultationDetailPage is rendered inside App");
    let detail = use_fetch((props.id, app.revision), |(id, _)| {
        ipc::get_consultation(id.into())
    });
    let edit = {
        let (app, id) = (app.clone(), props.id);
        Callback::from(move |_| app.dispatch(Action::Navigate(Page::ConsultationForm(Some(id)))))
    };
    match &*detail {
        Remote::Loading => html! { <p class="muted">{ t(app.lang, Key::Loading) }</p> },
        Remote::Failed(e) => html! {
            <section><PageHeader title={t(app.lang, Key::ConsultationsTitle)} back=true /><ErrorLine code={e.code.clone()} /></section>
        },
        Remote::Ready(d) => html! {
            <>
                <ConsultationDetailView lang={app.lang} detail={d.clone()} />
                if d.may_edit && d.consultation.status != ConsultationStatus::Closed {
                    <ConsultationActions id={props.id} advice={d.consultation.advice.clone()} />
                    <button type="button" class="secondary-button wide" data-testid="edit-consultation"
                        onclick={edit}>{ t(app.lang, Key::Edit) }</button>
                }
            </>
        },
    }
}

/// `minutes` as a person says it: 45 分钟, 3 小时, 2 天.
pub fn human_minutes(lang: Lang, minutes: i64) -> String {
    match minutes {
        m if m < 120 => tf(lang, Key::Minutes, m.max(0)),
        m if m < 48 * 60 => tf(lang, Key::Hours, m / 60),
        m => tf(lang, Key::Days, m / (24 * 60)),
    }
}

/// Properties of [`ConsultationDetailView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ConsultationDetailViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The consultation.
    pub detail: ConsultationDetail,
}

/// The consultation's content and timeline.
#[component]
pub fn ConsultationDetailView(props: &ConsultationDetailViewProps) -> Html {
    let lang = props.lang;
    let d = &props.detail;
    let c = &d.consultation;
    let me = c.author;
    html! {
        <section class="detail" data-testid="consultation-detail">
            <PageHeader title={format!("{} · {}", c.farmer.name, c.subject)} back=true />
            <p class="detail-top">
                <span class={classes!("badge", format!("status-{}", c.status.code()))} data-testid="consultation-status">
                    { c.status.label(lang) }
                </span>
            </p>
            <h2>{ t(lang, Key::Farmer) }</h2>
            <dl class="facts big">
                <dt>{ t(lang, Key::FieldFarmerName) }</dt><dd data-testid="detail-farmer">{ c.farmer.name.clone() }</dd>
                if !c.farmer.phone.is_empty() {
                    <dt>{ t(lang, Key::FieldFarmerPhone) }</dt>
                    <dd><a href={format!("tel:{}", c.farmer.phone)}>{ c.farmer.phone.clone() }</a></dd>
                }
                <dt>{ t(lang, Key::FieldFarmerVillage) }</dt>
                <dd>{ d.village_name.as_deref().map(short_place).map(str::to_owned).unwrap_or_else(|| c.farmer.village.to_string()) }</dd>
                <dt>{ t(lang, Key::FieldChannel) }</dt><dd>{ c.channel.label(lang) }</dd>
                <dt>{ t(lang, Key::AskedOn) }</dt><dd>{ c.asked_at.to_string() }</dd>
                if let Some(ms) = c.time_to_first_answer_millis() {
                    <dt>{ t(lang, Key::FirstAnswerAfter) }</dt><dd>{ human_minutes(lang, ms / 60_000) }</dd>
                }
            </dl>
            <h2>{ t(lang, Key::Problem) }</h2>
            <p class="prose" data-testid="detail-problem">{ c.problem.clone() }</p>
            if !c.photos.is_empty() {
                <PhotoStrip {lang} photos={c.photos.clone()} />
            }
            <h2>{ t(lang, Key::Advice) }</h2>
            if c.advice.is_empty() {
                <p class="muted" data-testid="detail-advice">{ t(lang, Key::NotAnsweredYet) }</p>
            } else {
                <p class="prose" data-testid="detail-advice">{ c.advice.clone() }</p>
            }
            <h2>{ t(lang, Key::FollowUps) }</h2>
            if c.follow_ups.is_empty() {
                <p class="muted">{ t(lang, Key::NoFollowUps) }</p>
            } else {
                <ol class="timeline" data-testid="timeline">
                    { for c.follow_ups.iter().map(|f| html! {
                        <li data-testid="follow-up">
                            <span class="timeline-when">{ format!("{} · {}", f.at, if f.by == me { t(lang, Key::Me) } else { t(lang, Key::Teammate) }) }</span>
                            <p class="prose">{ f.note.clone() }</p>
                        </li>
                    }) }
                </ol>
            }
        </section>
    }
}

/// Properties of [`ConsultationActions`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ConsultationActionsProps {
    /// The consultation.
    pub id: ConsultationId,
    /// The advice given so far (the answer box starts from it).
    pub advice: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Open {
    None,
    Answer,
    FollowUp,
    Close,
}

/// 答复, 回访, 关闭.
#[component]
pub fn ConsultationActions(props: &ConsultationActionsProps) -> Html {
    let app = use_context::<AppContext>().expect("ConsultationActions is rendered inside App");
    let lang = app.lang;
    let open = use_state(|| Open::None);
    let advice = use_state(|| props.advice.clone());
    let note = use_state(String::new);
    let needs_more = use_state(|| false);
    let error = use_state(|| None::<String>);
    let answer_key = format!("answer:{}", props.id);
    let follow_key = format!("follow_up:{}", props.id);
    let typed = use_state(|| false);

    // Restore the drafts of both boxes.
    {
        let (advice, note, open, ak, fk) = (
            advice.clone(),
            note.clone(),
            open.clone(),
            answer_key.clone(),
            follow_key.clone(),
        );
        use_effect_with(props.id, move |_| {
            yew::platform::spawn_local(async move {
                if let Ok(Some(a)) = ipc::load_form_draft(ak).await
                    && let Ok(a) = serde_json::from_str::<String>(&a)
                {
                    advice.set(a);
                    open.set(Open::Answer);
                }
                if let Ok(Some(n)) = ipc::load_form_draft(fk).await
                    && let Ok(n) = serde_json::from_str::<String>(&n)
                {
                    note.set(n);
                    open.set(Open::FollowUp);
                }
            });
        });
    }
    use_draft_autosave(
        answer_key.clone(),
        (*advice).clone(),
        *typed && *open == Open::Answer,
    );
    use_draft_autosave(
        follow_key.clone(),
        (*note).clone(),
        *typed && *open == Open::FollowUp,
    );

    let show = |what: Open| {
        let open = open.clone();
        Callback::from(move |_| open.set(what))
    };
    let done = {
        let (app, open, typed, error) = (app.clone(), open.clone(), typed.clone(), error.clone());
        Callback::from(
            move |result: Result<ConsultationDetail, ipc::IpcError>| match result {
                Ok(_) => {
                    typed.set(false);
                    open.set(Open::None);
                    app.dispatch(Action::RecordsChanged);
                    app.dispatch(Action::Notify(Notice {
                        key: Key::SavedOk,
                        details: vec![],
                        error: false,
                    }));
                }
                Err(e) => error.set(Some(e.code)),
            },
        )
    };
    let save_answer = {
        let (id, advice, done, key, typed) = (
            props.id,
            advice.clone(),
            done.clone(),
            answer_key.clone(),
            typed.clone(),
        );
        Callback::from(move |_| {
            typed.set(false);
            let (input, done) = (
                AnswerInput {
                    id,
                    advice: (*advice).clone(),
                    draft_key: Some(key.clone()),
                },
                done.clone(),
            );
            yew::platform::spawn_local(
                async move { done.emit(ipc::answer_consultation(input).await) },
            );
        })
    };
    let save_follow_up = {
        let (id, note, needs_more, done, key, typed) = (
            props.id,
            note.clone(),
            needs_more.clone(),
            done.clone(),
            follow_key.clone(),
            typed.clone(),
        );
        Callback::from(move |_| {
            typed.set(false);
            let input = FollowUpInput {
                id,
                note: (*note).clone(),
                needs_more: *needs_more,
                draft_key: Some(key.clone()),
            };
            let done = done.clone();
            yew::platform::spawn_local(async move { done.emit(ipc::add_follow_up(input).await) });
        })
    };
    let close = {
        let (id, app, done) = (props.id, app.clone(), done.clone());
        Callback::from(move |_| {
            let (app, done) = (app.clone(), done.clone());
            yew::platform::spawn_local(async move {
                let result = ipc::close_consultation(id.into()).await;
                if result.is_ok() {
                    app.dispatch(Action::Replace(Page::ConsultationDetail(id)));
                }
                done.emit(result);
            });
        })
    };
    let on_advice = {
        let (advice, typed) = (advice.clone(), typed.clone());
        Callback::from(move |v: String| {
            advice.set(v);
            typed.set(true);
        })
    };
    let on_note = {
        let (note, typed) = (note.clone(), typed.clone());
        Callback::from(move |v: String| {
            note.set(v);
            typed.set(true);
        })
    };
    let toggle_more = {
        let needs_more = needs_more.clone();
        Callback::from(move |_| needs_more.set(!*needs_more))
    };

    html! {
        <section class="actions-panel" data-testid="consultation-actions">
            if let Some(code) = (*error).clone() { <ErrorLine {code} /> }
            { match *open {
                Open::None => html! {
                    <div class="action-row">
                        <button type="button" class="primary-button" data-testid="action-answer" onclick={show(Open::Answer)}>{ t(lang, Key::Answer) }</button>
                        <button type="button" class="secondary-button" data-testid="action-follow-up" onclick={show(Open::FollowUp)}>{ t(lang, Key::FollowUp) }</button>
                        <button type="button" class="secondary-button" data-testid="action-close" onclick={show(Open::Close)}>{ t(lang, Key::CloseConsultation) }</button>
                    </div>
                },
                Open::Answer => html! {
                    <div>
                        <TextField {lang} label={Key::Advice} multiline=true value={(*advice).clone()} on_change={on_advice} test_id="answer-text" />
                        <div class="action-row">
                            <button type="button" class="primary-button" data-testid="save-answer" onclick={save_answer}>{ t(lang, Key::SaveAnswer) }</button>
                            <button type="button" class="secondary-button" onclick={show(Open::None)}>{ t(lang, Key::Cancel) }</button>
                        </div>
                    </div>
                },
                Open::FollowUp => html! {
                    <div>
                        <TextField {lang} label={Key::FollowUpNote} multiline=true value={(*note).clone()} on_change={on_note} test_id="follow-up-text" />
                        <label class="check">
                            <input type="checkbox" data-testid="needs-more" checked={*needs_more} onchange={toggle_more} />
                            <span>{ t(lang, Key::NeedsMore) }</span>
                        </label>
                        <div class="action-row">
                            <button type="button" class="primary-button" data-testid="save-follow-up" onclick={save_follow_up}>{ t(lang, Key::SaveFollowUp) }</button>
                            <button type="button" class="secondary-button" onclick={show(Open::None)}>{ t(lang, Key::Cancel) }</button>
                        </div>
                    </div>
                },
                Open::Close => html! {
                    <div>
                        <p>{ t(lang, Key::ConfirmClose) }</p>
                        <div class="action-row">
                            <button type="button" class="danger-button" data-testid="confirm-close" onclick={close}>{ t(lang, Key::Confirm) }</button>
                            <button type="button" class="secondary-button" onclick={show(Open::None)}>{ t(lang, Key::Cancel) }</button>
                        </div>
                    </div>
                },
            } }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use app_core::domain::{Consultation, FarmerContact, FollowUp, Timestamp};
    use app_core::testing;

    use super::*;
    use crate::testing::{render, signed_in};

    fn detail() -> ConsultationDetail {
        let me = testing::user_id(1);
        let asked = Timestamp::from_millis(1_795_914_000_000);
        ConsultationDetail {
            consultation: Consultation {
                farmer: FarmerContact {
                    name: "王大姐".into(),
                    phone: "13800000000".into(),
                    village: testing::village(),
                },
                problem: "新叶发黄卷曲".into(),
                asked_at: asked,
                advice: "疑似茶小绿叶蝉，建议黄板诱杀".into(),
                first_answered_at: Some(asked.add_millis(3 * 3_600_000)),
                status: ConsultationStatus::FollowUpNeeded,
                follow_ups: vec![FollowUp {
                    id: "0192f000-0000-7000-8000-0000000000f1".parse().unwrap(),
                    at: asked.add_millis(86_400_000),
                    by: me,
                    note: "黄板已挂，虫口下降".into(),
                }],
                created_at: asked,
                ..testing::consultation(me, None, testing::village())
            },
            village_name: Some("北苑社区居民委员会".into()),
            mine: true,
            may_edit: true,
            may_mark_duplicate: true,
            has_conflicts: false,
        }
    }

    #[test]
    fn shows_farmer_problem_advice_and_timeline() {
        let html = render(
            signed_in(Lang::ZhCn),
            html! { <ConsultationDetailView lang={Lang::ZhCn} detail={detail()} /> },
        );
        for text in [
            "王大姐 · 茶树",
            "需回访",
            "tel:13800000000",
            "北苑社区",
            "电话",
            "新叶发黄卷曲",
            "疑似茶小绿叶蝉，建议黄板诱杀",
            "黄板已挂，虫口下降",
            "2026-11-30 09:00 · 我",
            "3 小时",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }

    #[test]
    fn an_unanswered_question_says_so() {
        let mut d = detail();
        d.consultation.advice.clear();
        d.consultation.follow_ups.clear();
        let html = render(
            signed_in(Lang::En),
            html! { <ConsultationDetailView lang={Lang::En} detail={d} /> },
        );
        assert!(
            html.contains("Not answered yet") && html.contains("No follow-ups yet"),
            "{html}"
        );
    }

    #[test]
    fn the_author_gets_answer_follow_up_and_close() {
        let id = detail().consultation.id;
        let html = render(
            signed_in(Lang::ZhCn),
            html! { <ConsultationActions {id} advice="" /> },
        );
        for text in ["答复", "回访", "关闭咨询"] {
            assert!(html.contains(text), "missing {text:?}");
        }
    }

    #[test]
    fn waiting_times_read_naturally() {
        assert_eq!(human_minutes(Lang::ZhCn, 45), "45 分钟");
        assert_eq!(human_minutes(Lang::ZhCn, 180), "3 小时");
        assert_eq!(human_minutes(Lang::En, 3 * 24 * 60), "3 days");
    }
}
