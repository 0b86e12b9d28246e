//! Possible duplicates (重复记录): the same visit or question logged twice
//! (one author, one day, one village, similar text; often a phone and a
//! tablet), both side by side. The admin keeps one and marks the other as
//! its duplicate: it leaves the statistics and stays. Marks can be
//! cleared. Both are record edits on this device, offline if need be.

use app_core::api::{DuplicatePair, DuplicateSide, MarkedDuplicate, RecordView};
use app_core::domain::{DocId, RecordKind};
use yew::prelude::*;

use super::common::short;
use super::conflicts::kind_words;
use super::record_facts::RecordFacts;
use super::{ConsoleAction, ConsoleContext};
use crate::components::notice::ErrorLine;
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc::{self, IpcError};
use crate::state::{Action, AppContext, Remote};

/// A record of either kind, read from this device.
async fn record_view(kind: RecordKind, id: DocId) -> Result<RecordView, IpcError> {
    Ok(match kind {
        RecordKind::ServiceLog => {
            let d = ipc::get_service_log(id).await?;
            RecordView::ServiceLog {
                log: d.log,
                village_name: d.village_name,
            }
        }
        RecordKind::Consultation => {
            let d = ipc::get_consultation(id).await?;
            RecordView::Consultation {
                consultation: d.consultation,
                village_name: d.village_name,
            }
        }
    })
}

/// The duplicates screen.
#[component]
pub fn DuplicatesSection() -> Html {
    let app = use_context::<AppContext>().expect("inside App");
    let console = use_context::<ConsoleContext>().expect("inside the console");
    let lang = app.lang;
    let pairs = crate::hooks::use_fetch(console.revision, |_| ipc::list_duplicate_candidates());
    let marked = crate::hooks::use_fetch(console.revision, |_| ipc::admin::marked_duplicates());
    let result = use_state(|| None::<Result<Key, IpcError>>);
    let act = {
        let (console, app, result) = (console.clone(), app.clone(), result.clone());
        Callback::from(move |(id, of): (DocId, Option<DocId>)| {
            let (console, app, result) = (console.clone(), app.clone(), result.clone());
            yew::platform::spawn_local(async move {
                let answer = match of {
                    Some(of) => ipc::mark_duplicate(id, of)
                        .await
                        .map(|_| Key::AdmMarkedDone),
                    None => ipc::unmark_duplicate(id)
                        .await
                        .map(|_| Key::AdmUnmarkedDone),
                };
                if answer.is_ok() {
                    console.dispatch(ConsoleAction::Changed);
                    app.dispatch(Action::RecordsChanged);
                }
                result.set(Some(answer));
            });
        })
    };
    html! {
        <div class="console-page" data-testid="duplicates-section">
            <p class="section-intro">{ t(lang, Key::AdmDupIntro) }</p>
            <p class="source-note">{ t(lang, Key::AdmDupOnDevice) }</p>
            { match &*result {
                Some(Ok(k)) => html! { <p class="ok-box" data-testid="dup-result">{ t(lang, *k) }</p> },
                Some(Err(e)) => html! { <ErrorLine code={e.code.clone()} /> },
                None => html! {},
            } }
            { match &*pairs {
                Remote::Loading => html! { <p class="muted">{ t(lang, Key::Loading) }</p> },
                Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
                Remote::Ready(list) if list.is_empty() => html! {
                    <p class="muted empty" data-testid="no-duplicates">{ t(lang, Key::AdmNoDuplicates) }</p>
                },
                Remote::Ready(list) => html! {
                    { for list.iter().map(|p| html! {
                        <PairCard key={format!("{}-{}", p.first.id, p.second.id)} {lang} pair={p.clone()}
                            on_mark={act.reform(|(id, of): (DocId, DocId)| (id, Some(of)))} />
                    }) }
                },
            } }
            <h2>{ t(lang, Key::AdmMarkedTitle) }</h2>
            { match &*marked {
                Remote::Ready(list) => html! {
                    <MarkedList {lang} marked={list.clone()} on_unmark={act.reform(|id: DocId| (id, None))} />
                },
                Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
                Remote::Loading => html! {},
            } }
        </div>
    }
}

/// Properties of [`PairCard`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct PairCardProps {
    /// Interface language.
    pub lang: Lang,
    /// The two records.
    pub pair: DuplicatePair,
    /// Marks `(id, of)`: `id` as a duplicate of `of`.
    pub on_mark: Callback<(DocId, DocId)>,
}

/// Two records side by side, each read in full from this device.
#[component]
pub fn PairCard(props: &PairCardProps) -> Html {
    let kind = props.pair.kind;
    let left = crate::hooks::use_fetch(props.pair.first.id, move |id| record_view(kind, id));
    let right = crate::hooks::use_fetch(props.pair.second.id, move |id| record_view(kind, id));
    html! {
        <PairView lang={props.lang} pair={props.pair.clone()} left={(*left).clone()} right={(*right).clone()}
            on_mark={props.on_mark.clone()} />
    }
}

/// Properties of [`PairView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct PairViewProps {
    /// Interface language.
    pub lang: Lang,
    /// The two records.
    pub pair: DuplicatePair,
    /// The older record in full.
    pub left: Remote<RecordView>,
    /// The newer one.
    pub right: Remote<RecordView>,
    /// Marks `(id, of)`.
    pub on_mark: Callback<(DocId, DocId)>,
}

/// The pair as plain props (what tests render).
#[component]
pub fn PairView(props: &PairViewProps) -> Html {
    let console = use_context::<ConsoleContext>();
    let lang = props.lang;
    let p = &props.pair;
    let author = match &console {
        Some(c) => c.name(p.author),
        None => short(p.author),
    };
    let (a, b) = (p.first.id, p.second.id);
    let keep_left = props.on_mark.reform(move |_: MouseEvent| (b, a));
    let keep_right = props.on_mark.reform(move |_: MouseEvent| (a, b));
    let side = |s: &DuplicateSide, record: &Remote<RecordView>| {
        html! {
            <div class="dup-side" data-testid="dup-side">
                <p class="muted">{ tf(lang, Key::AdmMadeAt, s.created_at) }{ " · " }{ short(s.id) }</p>
                { match record {
                    Remote::Ready(r) => html! { <RecordFacts {lang} record={r.clone()} /> },
                    Remote::Loading => html! { <p class="muted">{ s.summary.clone() }</p> },
                    Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
                } }
                <p class="muted">{ tf(lang, Key::PhotoCount, s.photo_count) }</p>
            </div>
        }
    };
    html! {
        <article class="dup-pair" data-testid="dup-pair">
            <header class="dup-head">
                <strong>{ kind_words(p.kind, lang) }{ " · " }{ p.date.to_string() }{ " · " }
                    { p.village_name.clone().unwrap_or_else(|| p.village.to_string()) }</strong>
                <span>{ author }</span>
                <span class="badge">{ tf(lang, Key::AdmSimilarity, (p.similarity * 100.0).round() as u32) }</span>
            </header>
            <div class="dup-columns">
                { side(&p.first, &props.left) }
                { side(&p.second, &props.right) }
            </div>
            <div class="button-row">
                <button type="button" class="primary-small" data-testid="keep-left" onclick={keep_left}>{ t(lang, Key::AdmKeepLeft) }</button>
                <button type="button" class="primary-small" data-testid="keep-right" onclick={keep_right}>{ t(lang, Key::AdmKeepRight) }</button>
            </div>
        </article>
    }
}

/// Properties of [`MarkedList`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct MarkedListProps {
    /// Interface language.
    pub lang: Lang,
    /// The records marked.
    pub marked: Vec<MarkedDuplicate>,
    /// Clears a record's mark.
    pub on_unmark: Callback<DocId>,
}

/// Records marked as duplicates, each with "clear the mark".
#[component]
pub fn MarkedList(props: &MarkedListProps) -> Html {
    let console = use_context::<ConsoleContext>();
    let lang = props.lang;
    if props.marked.is_empty() {
        return html! { <p class="muted">{ t(lang, Key::AdmNoMarked) }</p> };
    }
    html! {
        <table class="console-table" data-testid="marked-list">
            <thead><tr>
                <th>{ t(lang, Key::AdmColRecord) }</th>
                <th>{ t(lang, Key::AdmColAuthor) }</th>
                <th>{ t(lang, Key::AdmFieldDuplicate) }</th>
                <th></th>
            </tr></thead>
            <tbody>
            { for props.marked.iter().map(|m| {
                let id = m.id;
                let author = match &console { Some(c) => c.name(m.author), None => short(m.author) };
                html! {
                    <tr data-testid="marked-row">
                        <td><strong>{ kind_words(m.kind, lang) }{ " · " }{ m.date.to_string() }</strong>{ " " }
                            { m.village_name.clone().unwrap_or_default() }
                            <div class="row-sub">{ m.summary.clone() }</div></td>
                        <td>{ author }</td>
                        <td>{ short(m.of) }</td>
                        <td><button type="button" class="ghost-button" data-testid="unmark"
                            onclick={props.on_unmark.reform(move |_: MouseEvent| id)}>{ t(lang, Key::AdmUnmark) }</button></td>
                    </tr>
                }
            }) }
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use app_core::testing::{service_log, team_id, user_id, village};

    use super::super::testing::{NOW, render};
    use super::*;

    fn pair() -> DuplicatePair {
        let a = service_log(user_id(1), Some(team_id(1)), village());
        DuplicatePair {
            kind: RecordKind::ServiceLog,
            author: user_id(1),
            date: a.date,
            village: village(),
            village_name: Some("北苑社区".into()),
            first: DuplicateSide {
                id: a.id.into(),
                created_at: NOW,
                summary: "茶园修剪".into(),
                photo_count: 1,
            },
            second: DuplicateSide {
                id: "0192f000-0000-7000-8000-0000000000e9".parse().unwrap(),
                created_at: NOW.add_millis(60_000),
                summary: "茶园修剪。".into(),
                photo_count: 0,
            },
            similarity: 0.93,
        }
    }

    #[test]
    fn a_pair_shows_both_records_side_by_side_with_the_two_choices() {
        let log = service_log(user_id(1), Some(team_id(1)), village());
        let full = Remote::Ready(RecordView::ServiceLog {
            log,
            village_name: Some("北苑社区".into()),
        });
        let html = render(
            Lang::ZhCn,
            html! { <PairView lang={Lang::ZhCn} pair={pair()} left={full.clone()} right={full}
            on_mark={Callback::noop()} /> },
        );
        assert_eq!(
            html.matches("data-testid=\"dup-side\"").count(),
            2,
            "{html}"
        );
        for text in [
            "相似度 93%",
            "张三",
            "保留左边，右边标为重复",
            "保留右边，左边标为重复",
            "工作内容",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }

    #[test]
    fn marked_records_can_be_unmarked() {
        let m = MarkedDuplicate {
            id: pair().second.id,
            kind: RecordKind::ServiceLog,
            of: pair().first.id,
            author: user_id(2),
            date: pair().date,
            village_name: Some("北苑社区".into()),
            summary: "茶园修剪。".into(),
        };
        let html = render(
            Lang::ZhCn,
            html! { <MarkedList lang={Lang::ZhCn} marked={vec![m]} on_unmark={Callback::noop()} /> },
        );
        assert!(html.contains("取消重复标记"), "{html}");
        assert!(html.contains("王芳"), "{html}");
        let none = render(
            Lang::ZhCn,
            html! { <MarkedList lang={Lang::ZhCn} marked={vec![]} on_unmark={Callback::noop()} /> },
        );
        assert!(none.contains("还没有标为重复的记录"));
    }
}
