//! The quarantine (隔离区): every document the server closed to a device
//! after refusing one of its changes, with the device, its user, when, the
//! reason in words, and what each refused change tried to write (field by
//! field, before and after). Release checks the changes again under
//! today's rules (after the user was moved to the right team, say) and
//! shows what passed and what is still refused; discard needs a reason,
//! which the device's user is told. Nothing is deleted either way.

use app_core::admin::{
    Discard, FieldWrite, Page, QuarantineQuery, QuarantineState, QuarantineTarget,
    QuarantinedChange, QuarantinedDoc, Released,
};
use app_core::domain::{DeviceId, DocId, Timestamp, UserId};
use yew::prelude::*;

use super::common::{
    Names, PAGE_SIZE, Pager, field_name, field_value_words, is_empty_value, ready_page, short,
    use_paged, when,
};
use super::conflicts::kind_words;
use super::{ConsoleAction, ConsoleContext};
use crate::components::field::event_value;
use crate::components::notice::ErrorLine;
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc::{self, IpcError};
use crate::state::{AppContext, Remote};

/// The list's filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuarantineFilters {
    /// Changes in this state (all when none).
    pub state: Option<QuarantineState>,
    /// Of this user's devices.
    pub user: Option<UserId>,
}

impl Default for QuarantineFilters {
    fn default() -> Self {
        QuarantineFilters {
            state: Some(QuarantineState::Open),
            user: None,
        }
    }
}

/// What an action on one document did, or why not.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A release's answer.
    Released(Released),
    /// A discard's count.
    Discarded(u64),
    /// A failure.
    Failed(IpcError),
}

/// The quarantine screen.
#[component]
pub fn QuarantineSection() -> Html {
    let app = use_context::<AppContext>().expect("inside App");
    let console = use_context::<ConsoleContext>().expect("inside the console");
    let lang = app.lang;
    let filters = use_state(QuarantineFilters::default);
    let outcomes = use_state(Vec::<((DeviceId, DocId), Outcome)>::new);
    // Not read again after a release or discard (a decided document
    // leaves the open list, and its answer would go with it): "refresh".
    let paged = use_paged((*filters).clone(), |f: QuarantineFilters, cursor| {
        ipc::admin::list_quarantine(QuarantineQuery {
            state: f.state,
            user: f.user,
            cursor,
            limit: Some(PAGE_SIZE),
            ..QuarantineQuery::default()
        })
    });
    let on_release = {
        let (outcomes, console) = (outcomes.clone(), console.clone());
        Callback::from(move |target: QuarantineTarget| {
            let (outcomes, console) = (outcomes.clone(), console.clone());
            yew::platform::spawn_local(async move {
                let key = (target.device, target.doc);
                let outcome = match ipc::admin::release(target).await {
                    Ok(r) => Outcome::Released(r),
                    Err(e) => Outcome::Failed(e),
                };
                let ok = !matches!(outcome, Outcome::Failed(_));
                let mut next: Vec<_> = (*outcomes)
                    .iter()
                    .filter(|(k, _)| *k != key)
                    .cloned()
                    .collect();
                next.push((key, outcome));
                outcomes.set(next);
                if ok {
                    console.dispatch(ConsoleAction::Changed);
                }
            });
        })
    };
    let on_discard = {
        let (outcomes, console) = (outcomes.clone(), console.clone());
        Callback::from(move |discard: Discard| {
            let (outcomes, console) = (outcomes.clone(), console.clone());
            yew::platform::spawn_local(async move {
                let key = (discard.device, discard.doc);
                let outcome = match ipc::admin::discard(discard).await {
                    Ok(d) => Outcome::Discarded(d.discarded),
                    Err(e) => Outcome::Failed(e),
                };
                let ok = !matches!(outcome, Outcome::Failed(_));
                let mut next: Vec<_> = (*outcomes)
                    .iter()
                    .filter(|(k, _)| *k != key)
                    .cloned()
                    .collect();
                next.push((key, outcome));
                outcomes.set(next);
                if ok {
                    console.dispatch(ConsoleAction::Changed);
                }
            });
        })
    };
    let set_state = {
        let filters = filters.clone();
        Callback::from(move |e: Event| {
            let v = event_value(&e);
            filters.set(QuarantineFilters {
                state: match v.as_str() {
                    "open" => Some(QuarantineState::Open),
                    "released" => Some(QuarantineState::Released),
                    "discarded" => Some(QuarantineState::Discarded),
                    _ => None,
                },
                ..(*filters).clone()
            });
        })
    };
    let set_user = {
        let filters = filters.clone();
        Callback::from(move |e: Event| {
            filters.set(QuarantineFilters {
                user: event_value(&e).parse().ok(),
                ..(*filters).clone()
            });
        })
    };
    let mut people: Vec<(UserId, String)> =
        console.names.iter().map(|(k, v)| (*k, v.clone())).collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    let state_value = filters.state.map_or("", QuarantineState::as_str);
    html! {
        <div class="console-page" data-testid="quarantine-section">
            <p class="section-intro">{ t(lang, Key::AdmQIntro) }</p>
            <div class="filters">
                <label class="filter">
                    <span>{ t(lang, Key::AdmColState) }</span>
                    <select data-testid="filter-state" onchange={set_state}>
                        { for [("open", Key::AdmQOpen), ("released", Key::AdmQReleased), ("discarded", Key::AdmQDiscarded), ("", Key::AdmAll)]
                            .into_iter().map(|(v, k)| html! { <option value={v} selected={state_value == v}>{ t(lang, k) }</option> }) }
                    </select>
                </label>
                <label class="filter">
                    <span>{ t(lang, Key::AdmColUser) }</span>
                    <select data-testid="filter-user" onchange={set_user}>
                        <option value="" selected={filters.user.is_none()}>{ t(lang, Key::AdmAll) }</option>
                        { for people.into_iter().map(|(id, name)| html! {
                            <option value={id.to_string()} selected={filters.user == Some(id)}>{ name }</option>
                        }) }
                    </select>
                </label>
            </div>
            <div class="button-row">
                <button type="button" class="ghost-button" data-testid="refresh"
                    onclick={paged.reload.reform(|_: MouseEvent| ())}>{ t(lang, Key::AdmRefresh) }</button>
            </div>
            <QuarantineList {lang} now={console.now} remote={paged.remote.clone()} outcomes={(*outcomes).clone()}
                {on_release} {on_discard} on_retry={paged.reload.clone()} />
            if let Remote::Ready(page) = &paged.remote {
                <Pager {lang} number={paged.number} count={page.items.len()} has_next={page.next.is_some()}
                    on_prev={paged.prev.clone()} on_next={paged.next.clone()} />
            }
        </div>
    }
}

/// Properties of [`QuarantineList`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct QuarantineListProps {
    /// Interface language.
    pub lang: Lang,
    /// The time, for ages.
    pub now: Option<Timestamp>,
    /// The page.
    pub remote: Remote<Page<QuarantinedDoc>>,
    /// What the admin's actions did, by (device, document).
    #[prop_or_default]
    pub outcomes: Vec<((DeviceId, DocId), Outcome)>,
    /// Release a document's changes.
    pub on_release: Callback<QuarantineTarget>,
    /// Discard them with a reason.
    pub on_discard: Callback<Discard>,
    /// Try again after a failure.
    pub on_retry: Callback<()>,
}

/// The quarantined documents, one card each.
#[component]
pub fn QuarantineList(props: &QuarantineListProps) -> Html {
    let lang = props.lang;
    let page = match ready_page(&props.remote, lang, &props.on_retry) {
        Ok(page) => page,
        Err(shown) => return shown,
    };
    html! {
        <div class="q-list" data-testid="quarantine-list">
            { for page.items.iter().map(|d| {
                let key = (d.device, d.doc);
                let outcome = props.outcomes.iter().find(|(k, _)| *k == key).map(|(_, o)| o.clone());
                html! { <QuarantineCard key={format!("{}-{}", d.device, d.doc)} {lang} now={props.now} doc={d.clone()} {outcome}
                    on_release={props.on_release.clone()} on_discard={props.on_discard.clone()} /> }
            }) }
        </div>
    }
}

/// Properties of [`QuarantineCard`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct QuarantineCardProps {
    /// Interface language.
    pub lang: Lang,
    /// The time, for ages.
    pub now: Option<Timestamp>,
    /// The document and its refused changes.
    pub doc: QuarantinedDoc,
    /// What the last action on it did.
    #[prop_or_default]
    pub outcome: Option<Outcome>,
    /// Release.
    pub on_release: Callback<QuarantineTarget>,
    /// Discard.
    pub on_discard: Callback<Discard>,
}

/// One quarantined document: who, when, why, what it tried to write, and
/// the two actions.
#[component]
pub fn QuarantineCard(props: &QuarantineCardProps) -> Html {
    let lang = props.lang;
    let d = &props.doc;
    let reason = use_state(String::new);
    let discarding = use_state(|| false);
    let reason_missing = use_state(|| false);
    let target = QuarantineTarget {
        device: d.device,
        doc: d.doc,
    };
    let release = props.on_release.reform(move |_: MouseEvent| target);
    let open_discard = {
        let discarding = discarding.clone();
        Callback::from(move |_: MouseEvent| discarding.set(true))
    };
    let cancel = {
        let discarding = discarding.clone();
        Callback::from(move |_: MouseEvent| discarding.set(false))
    };
    let confirm = {
        let (reason, missing, cb) = (
            reason.clone(),
            reason_missing.clone(),
            props.on_discard.clone(),
        );
        let (device, doc) = (d.device, d.doc);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let text = reason.trim().to_owned();
            if text.is_empty() {
                missing.set(true);
                return;
            }
            missing.set(false);
            cb.emit(Discard {
                device,
                doc,
                reason: text,
            });
        })
    };
    let on_reason = {
        let reason = reason.clone();
        Callback::from(move |e: InputEvent| reason.set(event_value(&e)))
    };
    let state = match d.state {
        QuarantineState::Open => ("open", Key::AdmQOpen),
        QuarantineState::Released => ("released", Key::AdmQReleased),
        QuarantineState::Discarded => ("discarded", Key::AdmQDiscarded),
    };
    let decided = matches!(
        props.outcome,
        Some(Outcome::Discarded(_))
            | Some(Outcome::Released(Released {
                still_open: false,
                ..
            }))
    );
    let record = match d.kind {
        Some(k) => format!("{} · {}", kind_words(k, lang), short(d.doc)),
        None => short(d.doc),
    };
    html! {
        <article class={classes!("q-card", state.0)} data-testid="q-card">
            <header class="q-head">
                <div>
                    <strong data-testid="q-user">{ d.display_name.clone() }</strong>{ " · " }{ d.username.clone() }
                    <div class="row-sub" data-testid="q-device">{ d.device_name.clone() }{ " · " }{ d.platform.clone() }</div>
                </div>
                <div>
                    <div>{ record }</div>
                    <div class="row-sub">{ d.county.map(|c| c.to_string()).unwrap_or_default() }</div>
                </div>
                <div>{ when(props.now, d.last_at, lang) }</div>
                <span class={classes!("badge", format!("q-{}", state.0))}>{ t(lang, state.1) }</span>
            </header>
            if d.kind.is_none() {
                <p class="muted">{ t(lang, Key::AdmNotOnServer) }</p>
            }
            { for d.changes.iter().map(|c| html! { <ChangeView {lang} change={c.clone()} names={d.names.clone()} /> }) }
            { match &props.outcome {
                Some(Outcome::Released(r)) => html! { <ReleasedView {lang} released={r.clone()} /> },
                Some(Outcome::Discarded(n)) => html! {
                    <p class="ok-box" data-testid="discarded-result">{ tf(lang, Key::AdmDiscardedDone, n) }</p>
                },
                Some(Outcome::Failed(e)) => html! { <ErrorLine code={e.code.clone()} /> },
                None => html! {},
            } }
            if d.state == QuarantineState::Open && !decided {
                if *discarding {
                    <form class="discard-form" onsubmit={confirm}>
                        <label class="filter grow">
                            <span>{ t(lang, Key::AdmDiscardReason) }</span>
                            <textarea rows="2" data-testid="discard-reason" value={(*reason).clone()} oninput={on_reason} />
                        </label>
                        if *reason_missing {
                            <p class="error" role="alert">{ t(lang, Key::AdmReasonRequired) }</p>
                        }
                        <div class="button-row">
                            <button type="submit" class="danger-small" data-testid="discard-confirm">{ t(lang, Key::AdmDiscardConfirm) }</button>
                            <button type="button" class="ghost-button" onclick={cancel}>{ t(lang, Key::AdmCancel) }</button>
                        </div>
                    </form>
                } else {
                    <div class="button-row">
                        <button type="button" class="primary-small" data-testid="release" onclick={release}
                            title={t(lang, Key::AdmReleaseHint)}>{ t(lang, Key::AdmRelease) }</button>
                        <button type="button" class="ghost-button danger-text" data-testid="discard" onclick={open_discard}>
                            { t(lang, Key::AdmDiscard) }
                        </button>
                        <span class="muted small">{ t(lang, Key::AdmReleaseHint) }</span>
                    </div>
                }
            }
        </article>
    }
}

/// Properties of [`ChangeView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ChangeViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The refused change.
    pub change: QuarantinedChange,
    /// Names of the IDs and village codes its values mention.
    #[prop_or_default]
    pub names: Names,
}

/// One refused change: when, why in words, and what it writes.
#[component]
pub fn ChangeView(props: &ChangeViewProps) -> Html {
    let lang = props.lang;
    let c = &props.change;
    let names = &props.names;
    html! {
        <div class="q-change" data-testid="q-change">
            <p class="q-why">
                <span class="muted">{ c.at.to_string() }</span>{ " · " }
                <strong data-testid="q-words">{ c.words.clone() }</strong>
                <span class="muted small">{ " · " }{ c.code.clone() }</span>
            </p>
            if let Some(reason) = &c.discard_reason {
                <p class="muted">{ tf(lang, Key::AdmDiscardedBecause, reason) }</p>
            }
            if let Some(at) = c.resolved_at {
                <p class="muted small">{ tf(lang, Key::AdmResolvedAt, at) }</p>
            }
            { match (&c.writes, &c.undecoded) {
                (Some(writes), _) => html! { <WritesTable {lang} writes={writes.clone()} names={names.clone()} /> },
                (None, Some(why)) => html! { <p class="muted">{ tf(lang, Key::AdmUndecoded, why) }</p> },
                (None, None) => html! {},
            } }
        </div>
    }
}

/// Properties of [`WritesTable`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct WritesTableProps {
    /// Interface language.
    pub lang: Lang,
    /// What the change writes.
    pub writes: Vec<FieldWrite>,
    /// Names of the IDs and village codes the values mention.
    #[prop_or_default]
    pub names: Names,
}

/// Field, value on the server, value the change would give.
#[component]
pub fn WritesTable(props: &WritesTableProps) -> Html {
    let lang = props.lang;
    let words = |field: &str, v: &Option<serde_json::Value>| match v {
        Some(v) => field_value_words(field, v, &props.names, lang),
        None => t(lang, Key::AdmEmptyValue).to_owned(),
    };
    html! {
        <table class="writes" data-testid="writes">
            <caption>{ t(lang, Key::AdmWrites) }</caption>
            <thead><tr>
                <th>{ t(lang, Key::AdmField) }</th>
                <th>{ t(lang, Key::AdmBefore) }</th>
                <th>{ t(lang, Key::AdmAfter) }</th>
            </tr></thead>
            <tbody>
            { for props.writes.iter().filter(|w| writes_something(w)).map(|w| html! {
                <tr data-testid="write-row">
                    <td>{ field_name(&w.field, lang) }</td>
                    <td class="before">{ words(&w.field, &w.before) }</td>
                    <td class="after">
                        { words(&w.field, &w.after) }
                        if w.hidden { <div class="muted small">{ t(lang, Key::AdmHiddenWrite) }</div> }
                    </td>
                </tr>
            }) }
            </tbody>
        </table>
    }
}

/// Whether a row says something: a new record's empty fields and its own
/// ID (the document's, shown above the table) are left out.
fn writes_something(w: &FieldWrite) -> bool {
    let empty = |v: &Option<serde_json::Value>| v.as_ref().is_none_or(is_empty_value);
    w.field != "id" && !(empty(&w.before) && empty(&w.after))
}

/// Properties of [`ReleasedView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ReleasedViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The release's answer.
    pub released: Released,
}

/// What a release stored and what is still refused, and why.
#[component]
pub fn ReleasedView(props: &ReleasedViewProps) -> Html {
    let lang = props.lang;
    let r = &props.released;
    html! {
        <div class={classes!(if r.still_open { "left-box" } else { "ok-box" })} data-testid="released-result">
            <p>{ tf(lang, Key::AdmReleasedStored, r.stored) }
                if r.duplicate > 0 { { " · " }{ tf(lang, Key::AdmReleasedDuplicate, r.duplicate) } }</p>
            if !r.still_refused.is_empty() {
                <p>{ tf(lang, Key::AdmStillRefused, r.still_refused.len()) }</p>
                <ul>
                    { for r.still_refused.iter().map(|s| html! {
                        <li data-testid="still-refused">{ ipc_refusal_words(&s.code, lang) }{ " · " }{ s.reason.clone() }</li>
                    }) }
                </ul>
            }
            if r.still_open {
                <p>{ t(lang, Key::AdmStillOpen) }</p>
            }
        </div>
    }
}

/// A refusal code in words where the interface has them (the server gives
/// Chinese words with each listed change; a release answers codes).
fn ipc_refusal_words(code: &str, lang: Lang) -> String {
    let key = crate::ipc::admin::error_key(&format!("sync.{code}"));
    match key {
        Some(k) => t(lang, k).to_owned(),
        None => code.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use app_core::admin::StillRefused;
    use app_core::domain::RecordKind;
    use app_core::testing::{device_id, user_id};

    use super::super::testing::{NOW, render};
    use super::*;

    fn quarantined() -> QuarantinedDoc {
        QuarantinedDoc {
            device: device_id(1),
            device_name: "张三的手机".into(),
            platform: "android".into(),
            user: user_id(1),
            username: "zhengan-zhang".into(),
            display_name: "张三".into(),
            doc: "0192f000-0000-7000-8000-0000000000e1".parse().unwrap(),
            kind: Some(RecordKind::ServiceLog),
            county: Some("520324".parse().unwrap()),
            state: QuarantineState::Open,
            last_at: NOW,
            names: Names::new(),
            changes: vec![QuarantinedChange {
                id: 7,
                hash: Some("ab".repeat(32)),
                size: 210,
                code: "not_your_record".into(),
                reason: "not the author".into(),
                words: "只有记录作者可以修改这条记录".into(),
                at: NOW,
                state: QuarantineState::Open,
                resolved_at: None,
                resolved_by: None,
                discard_reason: None,
                writes: Some(vec![FieldWrite {
                    field: "farmers_served".into(),
                    before: Some(35.into()),
                    after: Some(50.into()),
                    hidden: false,
                }]),
                undecoded: None,
            }],
        }
    }

    #[test]
    fn a_new_records_empty_fields_and_its_id_are_left_out_of_what_it_writes() {
        let write = |field: &str, after: serde_json::Value| FieldWrite {
            field: field.into(),
            before: None,
            after: Some(after),
            hidden: false,
        };
        let html = render(
            Lang::ZhCn,
            html! { <WritesTable lang={Lang::ZhCn} writes={vec![
                write("id", "0192f000-0000-7000-8000-0000000000e1".into()),
                write("end_time", serde_json::Value::Null),
                write("photos", serde_json::json!([])),
                write("farmers_served", 9.into()),
                write("author", "0192f000-0000-7000-8000-0000000000a1".into()),
            ]} /> },
        );
        assert_eq!(
            html.matches("data-testid=\"write-row\"").count(),
            2,
            "{html}"
        );
        assert!(
            html.contains("服务农户数") && html.contains("作者"),
            "{html}"
        );
        assert!(
            !html.contains("0000000000e1"),
            "the record's own id: {html}"
        );
    }

    #[test]
    fn what_a_change_writes_reads_as_words_and_names() {
        let team = app_core::testing::team_id(3).to_string();
        let author = app_core::testing::user_id(2).to_string();
        let write = |field: &str, after: serde_json::Value| FieldWrite {
            field: field.into(),
            before: None,
            after: Some(after),
            hidden: false,
        };
        let names: Names = [
            (team.clone(), "正安县白茶产业科技特派团".to_owned()),
            (author.clone(), "王芳".to_owned()),
            ("520324001001".to_owned(), "坪上村".to_owned()),
        ]
        .into_iter()
        .collect();
        let html = render(
            Lang::ZhCn,
            html! { <WritesTable lang={Lang::ZhCn} names={names} writes={vec![
                write("activity", "technical_guidance".into()),
                write("status", "submitted".into()),
                write("review", serde_json::json!({ "at": null, "by": null, "comment": "" })),
                write("team", team.clone().into()),
                write("author", author.clone().into()),
                write("village", "520324001001".into()),
                write("created_at", NOW.as_millis().into()),
            ]} /> },
        );
        for text in [
            "技术指导",
            "已提交",
            "正安县白茶产业科技特派团",
            "王芳",
            "坪上村",
            "2026-11-29 09:00",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        for raw in ["technical_guidance", "submitted", "comment", &team, &author] {
            assert!(!html.contains(raw), "{raw:?} shown raw in {html}");
        }
        assert_eq!(
            html.matches("data-testid=\"write-row\"").count(),
            6,
            "an empty review says nothing: {html}"
        );
    }

    #[test]
    fn a_quarantined_change_shows_who_when_why_and_what_it_writes() {
        let html = render(
            Lang::ZhCn,
            html! { <QuarantineCard lang={Lang::ZhCn} now={Some(NOW)} doc={quarantined()}
            on_release={Callback::noop()} on_discard={Callback::noop()} /> },
        );
        for text in [
            "张三",
            "张三的手机 · android",
            "只有记录作者可以修改这条记录",
            "服务农户数",
            "35",
            "50",
            "这次修改想写入",
            "重新检查并放行",
            "放弃",
            "待处理",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }

    #[test]
    fn a_release_shows_what_passed_and_what_is_still_refused() {
        let released = Released {
            stored: 1,
            duplicate: 0,
            still_refused: vec![StillRefused {
                id: 8,
                code: "out_of_scope".into(),
                reason: "village outside the team's county".into(),
            }],
            still_open: true,
        };
        let html = render(
            Lang::ZhCn,
            html! { <QuarantineCard lang={Lang::ZhCn} now={Some(NOW)} doc={quarantined()}
            outcome={Some(Outcome::Released(released))}
            on_release={Callback::noop()} on_discard={Callback::noop()} /> },
        );
        assert!(html.contains("已放行并保存 1 处修改"), "{html}");
        assert!(html.contains("仍被拒绝 1 处："), "{html}");
        assert!(html.contains("超出了您的管理范围"), "{html}");
        assert!(html.contains("仍在隔离中"), "{html}");
        let html = render(
            Lang::ZhCn,
            html! { <QuarantineCard lang={Lang::ZhCn} now={Some(NOW)} doc={quarantined()}
            outcome={Some(Outcome::Discarded(1))}
            on_release={Callback::noop()} on_discard={Callback::noop()} /> },
        );
        assert!(html.contains("已放弃 1 处修改，已通知该设备"), "{html}");
        assert!(
            !html.contains("data-testid=\"release\""),
            "decided: no more actions"
        );
    }

    #[test]
    fn the_list_says_when_the_server_cannot_be_reached() {
        let html = render(
            Lang::En,
            html! { <QuarantineList lang={Lang::En} now={Some(NOW)}
            remote={Remote::Failed(IpcError::new("sync.network", "x"))}
            on_release={Callback::noop()} on_discard={Callback::noop()} on_retry={Callback::noop()} /> },
        );
        assert!(html.contains("cannot be reached"), "{html}");
    }
}
