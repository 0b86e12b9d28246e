//! The review queue (审核): the team's logs waiting for review (handed in,
//! or changed since approval), newest first, filtered by member, township
//! and dates; select several and approve them at once, or open one. Works
//! offline: decisions are local edits that sync.

use std::collections::BTreeSet;

use app_core::api::{Place, ReviewQueue, ReviewQueueQuery};
use app_core::domain::{ReviewState, ServiceLogId, TownshipCode, UserId};
use chrono::NaiveDate;
use yew::prelude::*;

use super::{name_of, roster_names};
use crate::components::field::{TextField, event_value};
use crate::components::notice::ErrorLine;
use crate::components::page_header::PageHeader;
use crate::hooks::use_fetch;
use crate::i18n::labels::{Label, industry, short_place};
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc;
use crate::state::{Action, AppContext, Notice, Page, Remote};

/// Logs shown per step ("显示更多" adds as many).
pub const STEP: u32 = 100;

/// The queue's filters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueFilter {
    /// Only this member's.
    pub member: Option<UserId>,
    /// Only in this township.
    pub township: Option<TownshipCode>,
    /// From this day.
    pub from: Option<NaiveDate>,
    /// To this day.
    pub to: Option<NaiveDate>,
}

impl QueueFilter {
    fn query(&self, limit: u32) -> ReviewQueueQuery {
        ReviewQueueQuery {
            team: None,
            member: self.member,
            township: self.township,
            from: self.from,
            to: self.to,
            limit: Some(limit),
            offset: None,
        }
    }
}

/// The queue page: fetches (again after every change here or sync).
#[component]
pub fn QueuePage() -> Html {
    let app = use_context::<AppContext>().expect("QueuePage is rendered inside App");
    let filter = use_state(QueueFilter::default);
    let shown = use_state(|| STEP);
    let selected = use_state(BTreeSet::<ServiceLogId>::new);
    let busy = use_state(|| false);
    let query = filter.query(*shown);
    let queue = use_fetch((query, app.revision), |(q, _)| ipc::get_review_queue(q));
    let roster = use_fetch(app.revision, |_| ipc::get_team_roster());
    let register = use_fetch((), |_| ipc::get_register());
    let names = match &*roster {
        Remote::Ready(r) => roster_names(r.as_ref()),
        _ => Vec::new(),
    };
    let townships: Vec<Place> = match &*register {
        Remote::Ready(r) => r.townships.iter().map(|t| t.place.clone()).collect(),
        _ => Vec::new(),
    };
    let on_filter = {
        let (filter, selected) = (filter.clone(), selected.clone());
        Callback::from(move |f: QueueFilter| {
            selected.set(BTreeSet::new());
            filter.set(f);
        })
    };
    let on_toggle = {
        let selected = selected.clone();
        Callback::from(move |id: ServiceLogId| {
            let mut s = (*selected).clone();
            if !s.remove(&id) {
                s.insert(id);
            }
            selected.set(s);
        })
    };
    let on_select = {
        let selected = selected.clone();
        Callback::from(move |ids: Vec<ServiceLogId>| selected.set(ids.into_iter().collect()))
    };
    let on_approve = {
        let (selected, busy, app) = (selected.clone(), busy.clone(), app.clone());
        Callback::from(move |_| {
            if *busy || selected.is_empty() {
                return;
            }
            busy.set(true);
            let ids: Vec<ServiceLogId> = selected.iter().copied().collect();
            let (selected, busy, app) = (selected.clone(), busy.clone(), app.clone());
            yew::platform::spawn_local(async move {
                let result = ipc::approve_logs(ids).await;
                busy.set(false);
                match result {
                    Ok(_) => {
                        selected.set(BTreeSet::new());
                        app.dispatch(Action::RecordsChanged);
                        app.dispatch(Action::Notify(Notice {
                            key: Key::ApprovedMany,
                            details: vec![],
                            error: false,
                        }));
                    }
                    Err(e) => app.dispatch(Action::Notify(Notice {
                        key: ipc::error_key(&e.code),
                        details: vec![],
                        error: true,
                    })),
                }
            });
        })
    };
    let on_more = {
        let shown = shown.clone();
        Callback::from(move |_| shown.set(*shown + STEP))
    };
    let body = match &*queue {
        Remote::Loading => html! { <p class="muted">{ t(app.lang, Key::Loading) }</p> },
        Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
        Remote::Ready(q) => html! {
            <QueueView lang={app.lang} queue={q.clone()} {names} {townships}
                filter={(*filter).clone()} selected={(*selected).clone()} busy={*busy}
                {on_filter} {on_toggle} {on_select} {on_approve} {on_more} />
        },
    };
    html! {
        <section class="review-queue wide-page" data-testid="review-queue">
            <PageHeader title={t(app.lang, Key::ReviewTitle)} />
            { body }
        </section>
    }
}

/// Properties of [`QueueView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct QueueViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The page of the queue and its count.
    pub queue: ReviewQueue,
    /// Members' names (the roster kept).
    pub names: Vec<(UserId, String)>,
    /// The county's townships, for the filter.
    pub townships: Vec<Place>,
    /// The filters.
    pub filter: QueueFilter,
    /// The logs selected.
    pub selected: BTreeSet<ServiceLogId>,
    /// An approval is under way.
    #[prop_or_default]
    pub busy: bool,
    /// New filters.
    pub on_filter: Callback<QueueFilter>,
    /// A log ticked or unticked.
    pub on_toggle: Callback<ServiceLogId>,
    /// Select exactly these.
    pub on_select: Callback<Vec<ServiceLogId>>,
    /// Approve the selected logs.
    pub on_approve: Callback<MouseEvent>,
    /// Show more.
    pub on_more: Callback<MouseEvent>,
}

/// The queue: filters, the count, the rows, the batch approval.
#[component]
pub fn QueueView(props: &QueueViewProps) -> Html {
    let app = use_context::<AppContext>().expect("QueueView is rendered inside App");
    let lang = props.lang;
    let f = props.filter.clone();
    let set = |change: fn(&mut QueueFilter, String)| {
        let (f, cb) = (f.clone(), props.on_filter.clone());
        Callback::from(move |v: String| {
            let mut next = f.clone();
            change(&mut next, v);
            cb.emit(next);
        })
    };
    let pick = |change: fn(&mut QueueFilter, String)| {
        let set = set(change);
        Callback::from(move |e: Event| set.emit(event_value(&e)))
    };
    let mut members = props.names.clone();
    members.sort_by(|a, b| a.1.cmp(&b.1));
    let ids: Vec<ServiceLogId> = props.queue.logs.iter().map(|l| l.id).collect();
    let all_selected = !ids.is_empty() && ids.iter().all(|id| props.selected.contains(id));
    let select_all = {
        let (cb, ids) = (props.on_select.clone(), ids.clone());
        Callback::from(move |_| {
            cb.emit(if all_selected {
                Vec::new()
            } else {
                ids.clone()
            })
        })
    };
    let n = props.selected.len();
    html! {
        <>
            <div class="filters" data-testid="queue-filters">
                <label class="field">
                    <span class="field-label">{ t(lang, Key::FilterMember) }</span>
                    <select data-testid="filter-member" onchange={pick(|f, v| f.member = v.parse().ok())}>
                        <option value="" selected={f.member.is_none()}>{ t(lang, Key::AllMembers) }</option>
                        { for members.iter().map(|(id, name)| html! {
                            <option value={id.to_string()} selected={f.member == Some(*id)}>{ name.clone() }</option>
                        }) }
                    </select>
                </label>
                <label class="field">
                    <span class="field-label">{ t(lang, Key::FieldTownship) }</span>
                    <select data-testid="filter-township" onchange={pick(|f, v| f.township = v.parse().ok())}>
                        <option value="" selected={f.township.is_none()}>{ t(lang, Key::AllTownships) }</option>
                        { for props.townships.iter().map(|p| html! {
                            <option value={p.code.clone()} selected={f.township.map(|t| t.to_string()) == Some(p.code.clone())}>{ p.name.clone() }</option>
                        }) }
                    </select>
                </label>
                <TextField {lang} label={Key::PeriodFrom} kind="date" test_id="filter-from"
                    value={f.from.map(|d| d.to_string()).unwrap_or_default()}
                    on_change={set(|f, v| f.from = v.parse().ok())} />
                <TextField {lang} label={Key::PeriodTo} kind="date" test_id="filter-to"
                    value={f.to.map(|d| d.to_string()).unwrap_or_default()}
                    on_change={set(|f, v| f.to = v.parse().ok())} />
            </div>
            <div class="queue-bar">
                <span class="queue-count" data-testid="queue-count">{ tf(lang, Key::ReviewCount, props.queue.total) }</span>
                if !ids.is_empty() {
                    <button type="button" class="secondary-button" data-testid="select-all" onclick={select_all}>
                        { t(lang, if all_selected { Key::ClearSelection } else { Key::SelectAll }) }
                    </button>
                }
            </div>
            if props.queue.logs.is_empty() {
                <p class="empty-state" data-testid="queue-empty">{ t(lang, Key::QueueEmpty) }</p>
            }
            <div class="queue-list" data-testid="queue-list">
                { for props.queue.logs.iter().map(|log| {
                    let id = log.id;
                    let checked = props.selected.contains(&id);
                    let toggle = props.on_toggle.reform(move |_: Event| id);
                    let open = {
                        let app = app.clone();
                        Callback::from(move |_| app.dispatch(Action::Navigate(Page::ReviewLog(id))))
                    };
                    let place = log.village_name.as_deref().map(short_place).map(str::to_owned)
                        .unwrap_or_else(|| log.village.to_string());
                    let changed = log.review_state == ReviewState::ChangedSinceApproval;
                    html! {
                        <div class={classes!("queue-row", checked.then_some("selected"))} data-testid="queue-row">
                            <label class="queue-check" aria-label={t(lang, Key::SelectLog)}>
                                <input type="checkbox" checked={checked} onchange={toggle} data-testid="queue-select" />
                            </label>
                            <button type="button" class="queue-open" data-testid="queue-open" onclick={open}>
                                <span class="queue-line">
                                    <strong class="queue-member" data-testid="queue-member">{ name_of(&props.names, log.author, lang) }</strong>
                                    <span class="queue-date">{ format!("{} {}", log.date, log.start_time.clone().unwrap_or_default()) }</span>
                                    if changed {
                                        <span class="badge state-changed_since_approval" data-testid="changed-badge">{ t(lang, Key::ChangedSinceApproval) }</span>
                                    }
                                </span>
                                <span class="queue-line">
                                    <span class="queue-place">{ format!("{place} · {}", log.township_name.clone().unwrap_or_default()) }</span>
                                    <span>{ format!("{} · {}", log.activity.label(lang), industry(&log.industry, lang)) }</span>
                                    if log.photo_count > 0 {
                                        <span class="muted" data-testid="queue-photos">{ tf(lang, Key::PhotoCount, log.photo_count) }</span>
                                    }
                                </span>
                                if !log.summary.is_empty() {
                                    <span class="queue-summary muted">{ log.summary.clone() }</span>
                                }
                            </button>
                        </div>
                    }
                }) }
            </div>
            if (props.queue.logs.len() as u64) < props.queue.total {
                <button type="button" class="secondary-button wide" data-testid="queue-more" onclick={props.on_more.clone()}>
                    { t(lang, Key::ShowMore) }
                </button>
            }
            if n > 0 {
                <div class="sticky-save">
                    <button type="button" class="primary-button" data-testid="approve-selected"
                        disabled={props.busy} onclick={props.on_approve.clone()}>
                        { tf(lang, Key::ApproveSelected, n) }
                    </button>
                </div>
            }
        </>
    }
}

#[cfg(test)]
mod tests {
    use app_core::api::LogSummary;
    use app_core::domain::{ActivityType, LogStatus, Role};

    use super::*;
    use crate::testing::{render, signed_in_as};

    pub(crate) fn row(n: u8, author: u8, state: ReviewState) -> LogSummary {
        LogSummary {
            id: format!("0192f000-0000-7000-8000-0000000000e{n}")
                .parse()
                .unwrap(),
            author: app_core::testing::user_id(author),
            date: "2026-11-28".parse().unwrap(),
            start_time: Some("09:30".into()),
            village: "520324001001".parse().unwrap(),
            village_name: Some("北苑社区居民委员会".into()),
            township_name: Some("凤仪街道".into()),
            activity: ActivityType::Training,
            industry: "茶叶".into(),
            farmers_served: 12,
            trainees: Some(30),
            photo_count: 3,
            status: LogStatus::Submitted,
            review_state: state,
            duplicate_of: None,
            has_conflicts: false,
            summary: "茶园秋冬管理".into(),
        }
    }

    fn view(queue: ReviewQueue, selected: BTreeSet<ServiceLogId>, lang: Lang) -> String {
        let names = vec![(app_core::testing::user_id(1), "张三".to_owned())];
        let townships = vec![Place {
            code: "520324001".into(),
            name: "凤仪街道".into(),
            initials: "fy".into(),
        }];
        render(
            signed_in_as(lang, Role::TeamLead),
            html! {
                <QueueView {lang} {queue} {names} {townships} filter={QueueFilter::default()} {selected}
                    on_filter={Callback::noop()} on_toggle={Callback::noop()} on_select={Callback::noop()}
                    on_approve={Callback::noop()} on_more={Callback::noop()} />
            },
        )
    }

    #[test]
    fn rows_show_member_date_village_activity_photos_and_the_changed_badge() {
        let queue = ReviewQueue {
            total: 2,
            logs: vec![
                row(1, 1, ReviewState::Submitted),
                row(2, 9, ReviewState::ChangedSinceApproval),
            ],
        };
        let html = view(queue, BTreeSet::new(), Lang::ZhCn);
        for text in [
            "共 2 条",
            "张三",
            "成员（名单未更新）",
            "2026-11-28 09:30",
            "北苑社区 · 凤仪街道",
            "技术培训 · 茶叶",
            "3 张照片",
            "审核后已修改",
            "全部成员",
            "全部乡镇",
            "全选本页",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert_eq!(html.matches(r#"data-testid="changed-badge""#).count(), 1);
        assert!(
            !html.contains("approve-selected"),
            "nothing selected, no batch button"
        );
    }

    #[test]
    fn selecting_offers_the_batch_approval_and_an_empty_queue_says_so() {
        let queue = ReviewQueue {
            total: 2,
            logs: vec![
                row(1, 1, ReviewState::Submitted),
                row(2, 1, ReviewState::Submitted),
            ],
        };
        let both: BTreeSet<ServiceLogId> = queue.logs.iter().map(|l| l.id).collect();
        let html = view(queue, both, Lang::ZhCn);
        assert!(html.contains("通过所选 2 条"), "{html}");
        assert!(html.contains("取消选择"));
        let html = view(
            ReviewQueue {
                total: 0,
                logs: vec![],
            },
            BTreeSet::new(),
            Lang::En,
        );
        assert!(
            html.contains("Nothing waits for review") && html.contains("0 in all"),
            "{html}"
        );
    }
}
