//! One service log (服务日志详情): everything recorded, its photos, its
//! review, and 修改 for the author.

use app_core::api::LogDetail;
use app_core::domain::ServiceLogId;
use yew::prelude::*;

use crate::components::notice::ErrorLine;
use crate::components::page_header::PageHeader;
use crate::components::photos::PhotoStrip;
use crate::components::review::{ChangesTable, ReviewHistory, StateBadge};
use crate::hooks::use_fetch;
use crate::i18n::labels::{Label, industry, short_place};
use crate::i18n::{Key, Lang, Mark, t, tf};
use crate::ipc;
use crate::state::{Action, AppContext, Page, Remote};
use app_core::domain::ReviewState;

/// Properties of [`LogDetailPage`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct LogDetailPageProps {
    /// The log.
    pub id: ServiceLogId,
}

/// The page: fetches the log (again when records change here).
#[component]
pub fn LogDetailPage(props: &LogDetailPageProps) -> Html {
    let app = use_context::<AppContext>().expect("LogDetailPage is rendered inside App");
    let detail = use_fetch((props.id, app.revision), |(id, _)| {
        ipc::get_service_log(id.into())
    });
    match &*detail {
        Remote::Loading => html! { <p class="muted">{ t(app.lang, Key::Loading) }</p> },
        Remote::Failed(e) => html! {
            <section><PageHeader title={t(app.lang, Key::LogFormTitle)} back=true /><ErrorLine code={e.code.clone()} /></section>
        },
        Remote::Ready(d) => html! { <LogDetailView lang={app.lang} detail={d.clone()} /> },
    }
}

/// Properties of [`LogDetailView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct LogDetailViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The log.
    pub detail: LogDetail,
}

/// What the commissioner recorded, as a list of facts (date and time,
/// place, activity, industry, counts, parties, technologies, varieties).
pub fn log_facts(lang: Lang, d: &LogDetail) -> Html {
    let log = &d.log;
    let place = format!(
        "{} · {}",
        d.village_name
            .as_deref()
            .map(short_place)
            .unwrap_or(&log.village.to_string()),
        d.township_name.clone().unwrap_or_default()
    );
    let time = match (log.start_time, log.end_time) {
        (Some(s), Some(e)) => format!("{} {}–{}", log.date, s.format("%H:%M"), e.format("%H:%M")),
        (Some(s), None) => format!("{} {}", log.date, s.format("%H:%M")),
        _ => log.date.to_string(),
    };
    let names = |kind: &str| {
        log.served
            .iter()
            .filter(|p| p.kind.code() == kind)
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
            .join(t(lang, Mark::ListSeparator))
    };
    let row = |key: Key, value: String, id: &'static str| {
        if value.is_empty() {
            html! {}
        } else {
            html! { <><dt>{ t(lang, key) }</dt><dd data-testid={id}>{ value }</dd></> }
        }
    };
    html! {
        <dl class="facts big">
            { row(Key::FieldDate, time, "detail-time") }
            { row(Key::FieldPlace, place, "detail-place") }
            { row(Key::FieldActivity, log.activity.label(lang).to_owned(), "detail-activity") }
            { row(Key::FieldIndustry, industry(&log.industry, lang).to_owned(), "detail-industry") }
            { row(Key::FieldFarmersServed, log.farmers_served.to_string(), "detail-farmers") }
            { row(Key::FieldTrainees, log.trainees.map(|n| n.to_string()).unwrap_or_default(), "detail-trainees") }
            { row(Key::FieldCooperatives, names("cooperative"), "detail-cooperatives") }
            { row(Key::FieldEnterprises, names("enterprise"), "detail-enterprises") }
            { row(Key::FieldTechnologies, log.technologies.join(t(lang, Mark::ListSeparator)), "detail-technologies") }
            { row(Key::FieldVarieties, log.varieties.join(t(lang, Mark::ListSeparator)), "detail-varieties") }
        </dl>
    }
}

/// The log's content, where it stands in review and, for its author, what
/// to do about a return.
#[component]
pub fn LogDetailView(props: &LogDetailViewProps) -> Html {
    let app = use_context::<AppContext>().expect("LogDetailView is rendered inside App");
    let lang = props.lang;
    let d = &props.detail;
    let log = &d.log;
    let edit = {
        let (app, id) = (app.clone(), log.id);
        Callback::from(move |_| app.dispatch(Action::Navigate(Page::LogForm(Some(id)))))
    };
    let returned = d.review_state == ReviewState::Returned;
    let last = log.last_decision();
    html! {
        <section class="detail" data-testid="log-detail">
            <PageHeader title={t(lang, Key::LogFormTitle)} back=true />
            if returned {
                <div class="returned-banner" role="alert" data-testid="returned-banner">
                    <p class="returned-title">{ t(lang, Key::ReturnedBanner) }</p>
                    if let Some(d) = last.filter(|d| !d.comment.is_empty()) {
                        <blockquote class="returned-comment" data-testid="return-comment">{ d.comment.clone() }</blockquote>
                    }
                    if d.may_edit {
                        <p class="returned-hint">{ t(lang, Key::ReturnedHint) }</p>
                        <button type="button" class="primary-button" data-testid="fix-log" onclick={edit.clone()}>
                            { t(lang, Key::FixAndResubmit) }
                        </button>
                    }
                </div>
            }
            <p class="detail-top">
                <StateBadge {lang} state={d.review_state} />
                if !d.mine {
                    <span class="muted">{ format!(" {}", tf(lang, Key::RecordedBy, t(lang, Key::Teammate))) }</span>
                }
            </p>
            if d.mine && !d.changes_since_decision.is_empty() {
                <p class="muted" data-testid="waiting-again">{ t(lang, match d.review_state {
                    ReviewState::ChangedSinceApproval => Key::ChangedAfterApprovalNote,
                    _ => Key::ResubmittedNote,
                }) }</p>
            }
            { log_facts(lang, d) }
            if !log.description.is_empty() {
                <h2>{ t(lang, Key::FieldDescription) }</h2>
                <p class="prose" data-testid="detail-description">{ log.description.clone() }</p>
            }
            if !log.photos.is_empty() {
                <h2>{ t(lang, Key::FieldPhotos) }</h2>
                <PhotoStrip {lang} photos={log.photos.clone()} />
            }
            <ChangesTable {lang} changes={d.changes_since_decision.clone()} />
            if !log.reviews.is_empty() || d.mine {
                <ReviewHistory {lang} reviews={log.reviews.clone()} />
            } else if !log.review.comment.is_empty() {
                <h2>{ t(lang, Key::ReviewComment) }</h2>
                <p class="prose">{ log.review.comment.clone() }</p>
            }
            if d.may_edit && !returned {
                <button type="button" class="secondary-button wide" data-testid="edit-log" onclick={edit}>
                    { t(lang, Key::Edit) }
                </button>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use app_core::domain::{ActivityType, ServiceLog, Timestamp};
    use app_core::testing;

    use super::*;
    use crate::testing::{render, signed_in};

    pub(crate) fn detail(mine: bool) -> LogDetail {
        LogDetail {
            log: ServiceLog {
                date: "2026-11-29".parse().unwrap(),
                start_time: Some("09:30".parse().unwrap()),
                end_time: Some("11:00".parse().unwrap()),
                activity: ActivityType::Training,
                trainees: Some(30),
                technologies: vec!["绿色防控".into(), "测土配方".into()],
                description: "茶园秋冬管理：修剪、施基肥".into(),
                created_at: Timestamp::from_millis(0),
                ..testing::service_log(testing::user_id(1), None, testing::village())
            },
            village_name: Some("北苑社区居民委员会".into()),
            township_name: Some("凤仪街道".into()),
            mine,
            may_edit: mine,
            may_review: false,
            review_state: app_core::domain::ReviewState::Submitted,
            changes_since_decision: vec![],
            may_mark_duplicate: mine,
            has_conflicts: false,
        }
    }

    #[test]
    fn shows_what_was_recorded_with_place_names() {
        let html = render(
            signed_in(Lang::ZhCn),
            html! { <LogDetailView lang={Lang::ZhCn} detail={detail(true)} /> },
        );
        for text in [
            "2026-11-29 09:30–11:00",
            "北苑社区 · 凤仪街道",
            "技术培训",
            "茶叶",
            "30",
            "绿色防控、测土配方",
            "茶园秋冬管理：修剪、施基肥",
            "待审核",
            "修改",
            "还没有审核记录",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }

    #[test]
    fn a_returned_log_shows_the_comment_and_the_call_to_fix_it() {
        let mut d = detail(true);
        d.log = testing::decided(
            d.log,
            testing::user_id(2),
            app_core::domain::Verdict::Returned,
        );
        d.log.reviews[0].comment = "培训人次与照片不符，请核实".into();
        d.review_state = ReviewState::Returned;
        let html = render(
            signed_in(Lang::ZhCn),
            html! { <LogDetailView lang={Lang::ZhCn} detail={d.clone()} /> },
        );
        for text in [
            "团长退回了这条日志",
            "培训人次与照片不符，请核实",
            "修改后重新提交",
            "内容没有修改，日志仍为已退回",
            "已退回",
            "审核记录",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(html.contains(r#"data-testid="fix-log""#));
        assert!(
            !html.contains(r#"data-testid="edit-log""#),
            "one call to act"
        );

        // After the author's edit: submitted again, and what changed.
        d.review_state = ReviewState::Submitted;
        d.changes_since_decision = vec![app_core::domain::FieldChange {
            field: "trainees".into(),
            before: 30.into(),
            after: 24.into(),
        }];
        let html = render(
            signed_in(Lang::En),
            html! { <LogDetailView lang={Lang::En} detail={d} /> },
        );
        for text in [
            "Changed; waiting for the team lead again",
            "Trainees",
            "30",
            "24",
            "returned",
            "Team lead",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(!html.contains("returned-banner"));
    }

    #[test]
    fn a_teammates_log_is_read_only() {
        let html = render(
            signed_in(Lang::ZhCn),
            html! { <LogDetailView lang={Lang::ZhCn} detail={detail(false)} /> },
        );
        assert!(!html.contains(r#"data-testid="edit-log""#));
        assert!(html.contains("队友"));
    }
}
