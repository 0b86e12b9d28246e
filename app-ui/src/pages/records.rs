//! My records (我的记录): my service logs, or the team's, newest first,
//! searchable by village, industry and text, a page of [`PAGE`] at a time
//! ("显示更多" fetches the next page; a year of work stays reachable).

use app_core::api::LogQuery;
use yew::prelude::*;

use crate::components::field::event_value;
use crate::components::notice::ErrorLine;
use crate::components::page_header::PageHeader;
use crate::components::record_cards::LogCard;
use crate::hooks::use_fetch;
use crate::i18n::{Key, t};
use crate::ipc;
use crate::state::{AppContext, Remote};

/// Logs fetched per page.
pub const PAGE: u32 = 100;

/// The records page.
#[component]
pub fn RecordsPage() -> Html {
    let app = use_context::<AppContext>().expect("RecordsPage is rendered inside App");
    let lang = app.lang;
    let text = use_state(String::new);
    let team_scope = use_state(|| false);
    let profile = app.profile().cloned();
    let query = LogQuery {
        author: if *team_scope {
            None
        } else {
            profile.as_ref().map(|p| p.user)
        },
        team: if *team_scope {
            profile.as_ref().and_then(|p| p.team)
        } else {
            None
        },
        text: Some((*text).clone()).filter(|s| !s.trim().is_empty()),
        ..LogQuery::default()
    };
    // Pages shown, counted for one query: a new search starts at one page
    // (derived at render, so the old count never fetches with the new query).
    let shown = use_state(|| (query.clone(), 1u32));
    let pages = if shown.0 == query { shown.1 } else { 1 };
    let on_more = {
        let (shown, query) = (shown.clone(), query.clone());
        Callback::from(move |()| shown.set((query.clone(), pages + 1)))
    };
    let on_search = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| text.set(event_value(&e)))
    };
    let scope = |team: bool| {
        let team_scope = team_scope.clone();
        Callback::from(move |_| team_scope.set(team))
    };
    html! {
        <section class="records" data-testid="records-page">
            <PageHeader title={t(lang, Key::RecordsTitle)} />
            <input type="search" class="search" data-testid="records-search"
                placeholder={t(lang, Key::SearchRecords)} value={(*text).clone()} oninput={on_search} />
            if profile.as_ref().is_some_and(|p| p.team.is_some()) {
                <div class="chips">
                    <button type="button" class={classes!("chip", (!*team_scope).then_some("chosen"))}
                        data-testid="scope-mine" onclick={scope(false)}>{ t(lang, Key::ScopeMine) }</button>
                    <button type="button" class={classes!("chip", (*team_scope).then_some("chosen"))}
                        data-testid="scope-team" onclick={scope(true)}>{ t(lang, Key::ScopeTeam) }</button>
                </div>
            }
            <div class="cards" data-testid="records-list">
                { for (0..pages).map(|n| html! {
                    <LogPage key={n} query={query.clone()} page={n} last={n + 1 == pages}
                        on_more={on_more.clone()} />
                }) }
            </div>
        </section>
    }
}

/// What [`LogPage`] takes.
#[derive(Properties, PartialEq)]
pub struct LogPageProps {
    /// The search, without paging.
    pub query: LogQuery,
    /// Which page, from 0.
    pub page: u32,
    /// Whether it is the last page shown (it offers the next).
    pub last: bool,
    /// Asks for one more page.
    pub on_more: Callback<()>,
}

/// One page of logs; fetched again when the query or the store changes.
/// It asks for one row more than it shows, to know whether more follow.
#[component]
pub fn LogPage(props: &LogPageProps) -> Html {
    let app = use_context::<AppContext>().expect("LogPage is rendered inside App");
    let lang = app.lang;
    let query = LogQuery {
        limit: Some(PAGE + 1),
        offset: Some(props.page * PAGE),
        ..props.query.clone()
    };
    let key = (format!("{query:?}"), app.revision);
    let logs = use_fetch(key, move |_| ipc::list_service_logs(query));
    match &*logs {
        Remote::Loading => html! { <p class="muted">{ t(lang, Key::Loading) }</p> },
        Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
        Remote::Ready(list) if list.is_empty() && props.page == 0 => {
            html! { <p class="muted">{ t(lang, Key::NoRecords) }</p> }
        }
        Remote::Ready(list) => {
            let more = list.len() > PAGE as usize;
            let on_more = props.on_more.reform(|_: MouseEvent| ());
            html! {
                <>
                    { for list.iter().take(PAGE as usize).map(|log| html! { <LogCard log={log.clone()} /> }) }
                    if more && props.last {
                        <button type="button" class="secondary-button" data-testid="records-more"
                            onclick={on_more}>{ t(lang, Key::ShowMore) }</button>
                    }
                </>
            }
        }
    }
}
