//! A log under review (审核日志): everything the commissioner recorded,
//! the photos full size (downloaded on demand when not on the tablet; the
//! engine fetches the queue's photos ahead on Wi-Fi), what changed since
//! the last decision, the review history, and the two decisions: 通过, or
//! 退回 with a comment, which is required (the page says so and sends
//! nothing without one). Offline: a decision is a local edit that syncs.

use app_core::api::ReviewDetail;
use app_core::domain::{PhotoMeta, ReviewState, ServiceLogId, UserId};
use yew::prelude::*;

use super::{name_of, roster_names};
use crate::components::field::event_value;
use crate::components::notice::ErrorLine;
use crate::components::page_header::PageHeader;
use crate::components::review::{ChangesTable, ReviewHistory, StateBadge};
use crate::hooks::use_fetch;
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc;
use crate::pages::log_detail::log_facts;
use crate::state::{Action, AppContext, Notice, Remote};

/// Properties of [`ReviewLogPage`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ReviewLogPageProps {
    /// The log.
    pub id: ServiceLogId,
}

/// What a decision is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sending {
    Idle,
    Busy,
}

/// The page: fetches the log under review and the roster, decides.
#[component]
pub fn ReviewLogPage(props: &ReviewLogPageProps) -> Html {
    let app = use_context::<AppContext>().expect("ReviewLogPage is rendered inside App");
    let detail = use_fetch((props.id, app.revision), |(id, _)| {
        ipc::get_review_detail(id)
    });
    let roster = use_fetch(app.revision, |_| ipc::get_team_roster());
    let comment = use_state(String::new);
    let returning = use_state(|| false);
    let missing_comment = use_state(|| false);
    let sending = use_state(|| Sending::Idle);
    let names = match &*roster {
        Remote::Ready(r) => roster_names(r.as_ref()),
        _ => Vec::new(),
    };
    let done = |key: Key| {
        let app = app.clone();
        move || {
            app.dispatch(Action::RecordsChanged);
            app.dispatch(Action::Back);
            app.dispatch(Action::Notify(Notice {
                key,
                details: vec![],
                error: false,
            }));
        }
    };
    let failed = {
        let app = app.clone();
        move |code: String| {
            app.dispatch(Action::Notify(Notice {
                key: ipc::error_key(&code),
                details: vec![],
                error: true,
            }))
        }
    };
    let on_approve = {
        let (id, sending, done, failed) = (
            props.id,
            sending.clone(),
            done(Key::ApprovedOk),
            failed.clone(),
        );
        Callback::from(move |_| {
            if *sending == Sending::Busy {
                return;
            }
            sending.set(Sending::Busy);
            let (sending, done, failed) = (sending.clone(), done.clone(), failed.clone());
            yew::platform::spawn_local(async move {
                let result = ipc::approve_logs(vec![id]).await;
                sending.set(Sending::Idle);
                match result {
                    Ok(_) => done(),
                    Err(e) => failed(e.code),
                }
            });
        })
    };
    let on_start_return = {
        let returning = returning.clone();
        Callback::from(move |_| returning.set(true))
    };
    let on_comment = {
        let (comment, missing) = (comment.clone(), missing_comment.clone());
        Callback::from(move |e: InputEvent| {
            let v = event_value(&e);
            if !v.trim().is_empty() {
                missing.set(false);
            }
            comment.set(v);
        })
    };
    let on_return = {
        let (id, comment, missing, sending) = (
            props.id,
            comment.clone(),
            missing_comment.clone(),
            sending.clone(),
        );
        let (done, failed) = (done(Key::ReturnedOk), failed.clone());
        Callback::from(move |_| {
            let text = comment.trim().to_owned();
            if text.is_empty() {
                // A return needs a comment: say so, send nothing.
                missing.set(true);
                return;
            }
            if *sending == Sending::Busy {
                return;
            }
            sending.set(Sending::Busy);
            let (sending, done, failed) = (sending.clone(), done.clone(), failed.clone());
            yew::platform::spawn_local(async move {
                let result = ipc::return_log(id, text).await;
                sending.set(Sending::Idle);
                match result {
                    Ok(_) => done(),
                    Err(e) => failed(e.code),
                }
            });
        })
    };
    match &*detail {
        Remote::Loading => html! { <p class="muted">{ t(app.lang, Key::Loading) }</p> },
        Remote::Failed(e) => html! {
            <section><PageHeader title={t(app.lang, Key::ReviewLogTitle)} back=true /><ErrorLine code={e.code.clone()} /></section>
        },
        Remote::Ready(d) => html! {
            <ReviewView lang={app.lang} detail={d.clone()} {names}
                returning={*returning} comment={(*comment).clone()} missing_comment={*missing_comment}
                busy={*sending == Sending::Busy}
                {on_approve} {on_start_return} {on_comment} {on_return} />
        },
    }
}

/// Properties of [`ReviewView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ReviewViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The log under review.
    pub detail: ReviewDetail,
    /// Members' names.
    pub names: Vec<(UserId, String)>,
    /// The return form is open.
    #[prop_or_default]
    pub returning: bool,
    /// The return comment typed so far.
    #[prop_or_default]
    pub comment: AttrValue,
    /// A return was tried without a comment.
    #[prop_or_default]
    pub missing_comment: bool,
    /// A decision is being written.
    #[prop_or_default]
    pub busy: bool,
    /// 通过.
    pub on_approve: Callback<MouseEvent>,
    /// 退回: opens the comment.
    pub on_start_return: Callback<MouseEvent>,
    /// The comment changed.
    pub on_comment: Callback<InputEvent>,
    /// 确认退回.
    pub on_return: Callback<MouseEvent>,
}

/// The log, its photos, changes and history, and the decision panel.
#[component]
pub fn ReviewView(props: &ReviewViewProps) -> Html {
    let lang = props.lang;
    let d = &props.detail.detail;
    let log = &d.log;
    let member = name_of(&props.names, log.author, lang);
    let waiting = d.review_state.awaits_review();
    html! {
        <section class="detail review-log wide-page" data-testid="review-log">
            <PageHeader title={t(lang, Key::ReviewLogTitle)} back=true />
            <p class="detail-top">
                <StateBadge {lang} state={d.review_state} />
                <strong class="review-member" data-testid="review-member">{ format!(" {}", tf(lang, Key::RecordedBy, &member)) }</strong>
            </p>
            if d.review_state == ReviewState::ChangedSinceApproval || !d.changes_since_decision.is_empty() {
                <div class="changed-note">
                    <ChangesTable {lang} changes={d.changes_since_decision.clone()} />
                </div>
            }
            <div class="review-columns">
                <div class="review-facts">
                    { log_facts(lang, d) }
                    if !log.description.is_empty() {
                        <h2>{ t(lang, Key::FieldDescription) }</h2>
                        <p class="prose" data-testid="detail-description">{ log.description.clone() }</p>
                    }
                    <ReviewHistory {lang} reviews={log.reviews.clone()} names={props.names.clone()} />
                </div>
                if !log.photos.is_empty() {
                    <div class="review-photos">
                        <h2>{ t(lang, Key::PhotosFull) }</h2>
                        <FullPhotos {lang} photos={log.photos.clone()} />
                    </div>
                }
            </div>
            if d.may_review && waiting {
                <div class="decision-panel" data-testid="decision-panel">
                    if props.returning {
                        <label class="field">
                            <span class="field-label">{ t(lang, Key::ReturnCommentLabel) }</span>
                            <span class="field-hint">{ t(lang, Key::ReturnCommentHint) }</span>
                            <textarea data-testid="return-comment-input" value={props.comment.clone()}
                                oninput={props.on_comment.clone()} />
                            if props.missing_comment {
                                <span class="field-error" role="alert" data-testid="return-needs-comment">{ t(lang, Key::ReturnNeedsComment) }</span>
                            }
                        </label>
                        <button type="button" class="danger-button" data-testid="send-return"
                            disabled={props.busy} onclick={props.on_return.clone()}>
                            { t(lang, Key::SendReturn) }
                        </button>
                    } else {
                        <div class="action-row">
                            <button type="button" class="primary-button" data-testid="approve"
                                disabled={props.busy} onclick={props.on_approve.clone()}>
                                { t(lang, Key::Approve) }
                            </button>
                            <button type="button" class="danger-button" data-testid="return"
                                disabled={props.busy} onclick={props.on_start_return.clone()}>
                                { t(lang, Key::ReturnLog) }
                            </button>
                        </div>
                    }
                </div>
            }
        </section>
    }
}

/// Properties of [`FullPhotos`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct FullPhotosProps {
    /// Interface language.
    pub lang: Lang,
    /// The photos.
    pub photos: Vec<PhotoMeta>,
}

/// The photos full size: each read from the device, else downloaded from
/// the server once (and kept); without a connection, a note.
#[component]
pub fn FullPhotos(props: &FullPhotosProps) -> Html {
    let lang = props.lang;
    html! {
        <div class="full-photos" data-testid="full-photos">
            { for props.photos.iter().map(|p| html! { <FullPhoto key={p.hash.to_string()} {lang} photo={p.clone()} /> }) }
        </div>
    }
}

/// Properties of [`FullPhoto`].
#[derive(Clone, Debug, PartialEq, Properties)]
struct FullPhotoProps {
    lang: Lang,
    photo: PhotoMeta,
}

#[component]
fn FullPhoto(props: &FullPhotoProps) -> Html {
    let lang = props.lang;
    let url = use_fetch(props.photo.hash, ipc::get_photo);
    html! {
        <figure class="photo-full">
            { match &*url {
                Remote::Ready(Some(src)) => html! {
                    <img src={src.clone()} alt={props.photo.caption.clone()} data-testid="photo-full" />
                },
                Remote::Loading => html! { <div class="photo-missing">{ t(lang, Key::PhotoDownloading) }</div> },
                _ => html! { <div class="photo-missing" data-testid="photo-full-missing">{ t(lang, Key::PhotoNotHere) }</div> },
            } }
            if !props.photo.caption.is_empty() {
                <figcaption>{ props.photo.caption.clone() }</figcaption>
            }
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use app_core::api::LogDetail;
    use app_core::domain::{FieldChange, Role, Verdict};
    use app_core::testing;

    use super::*;
    use crate::testing::{render, signed_in_as};

    fn detail(state: ReviewState) -> ReviewDetail {
        let mut log = testing::service_log(
            testing::user_id(1),
            Some(testing::team_id(1)),
            testing::village(),
        );
        log.description = "茶园修剪、施基肥".into();
        log.photos = vec![app_core::domain::PhotoMeta {
            hash: "a".repeat(64).parse().unwrap(),
            thumb: "b".repeat(64).parse().unwrap(),
            size_bytes: 1,
            width: 4,
            height: 3,
            taken_at: None,
            location: None,
            caption: String::new(),
        }];
        if state == ReviewState::ChangedSinceApproval {
            log = testing::decided(log, testing::user_id(2), Verdict::Approved);
        }
        ReviewDetail {
            detail: LogDetail {
                log,
                village_name: Some("北苑社区居民委员会".into()),
                township_name: Some("凤仪街道".into()),
                mine: false,
                may_edit: false,
                may_review: true,
                review_state: state,
                changes_since_decision: if state == ReviewState::ChangedSinceApproval {
                    vec![FieldChange {
                        field: "farmers_served".into(),
                        before: 12.into(),
                        after: 40.into(),
                    }]
                } else {
                    vec![]
                },
                may_mark_duplicate: false,
                has_conflicts: false,
            },
            conflicts: vec![],
        }
    }

    fn view(d: ReviewDetail, returning: bool, missing: bool) -> String {
        let names = vec![
            (testing::user_id(1), "张三".to_owned()),
            (testing::user_id(2), "李明".to_owned()),
        ];
        render(
            signed_in_as(Lang::ZhCn, Role::TeamLead),
            html! {
                <ReviewView lang={Lang::ZhCn} detail={d} {names} {returning} missing_comment={missing}
                    on_approve={Callback::noop()} on_start_return={Callback::noop()}
                    on_comment={Callback::noop()} on_return={Callback::noop()} />
            },
        )
    }

    #[test]
    fn a_submitted_log_offers_approve_and_return_with_its_photos() {
        let html = view(detail(ReviewState::Submitted), false, false);
        for text in [
            "审核日志",
            "待审核",
            "记录人：张三",
            "茶园修剪、施基肥",
            "照片（原图）",
            "通过",
            "退回",
            "还没有审核记录",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(html.contains(r#"data-testid="full-photos""#));
        assert!(!html.contains(r#"data-testid="changes""#));
    }

    #[test]
    fn returning_asks_for_the_comment_and_says_when_it_is_missing() {
        let html = view(detail(ReviewState::Submitted), true, false);
        assert!(
            html.contains("退回意见（必填）") && html.contains("确认退回"),
            "{html}"
        );
        assert!(!html.contains("退回必须填写意见"));
        let html = view(detail(ReviewState::Submitted), true, true);
        assert!(html.contains("退回必须填写意见"), "{html}");
    }

    #[test]
    fn a_log_changed_since_approval_shows_what_changed_and_the_history() {
        let html = view(detail(ReviewState::ChangedSinceApproval), false, false);
        for text in [
            "审核后已修改",
            "审核后修改了什么",
            "服务农户数",
            "12",
            "40",
            "审核记录",
            "李明",
            "通过",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }

    #[test]
    fn a_decided_log_has_no_decision_panel() {
        let mut d = detail(ReviewState::Submitted);
        d.detail.review_state = ReviewState::Approved;
        let html = view(d, false, false);
        assert!(!html.contains("decision-panel"));
    }
}
