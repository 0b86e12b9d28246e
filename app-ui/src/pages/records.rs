//! My records (我的记录): my service logs, or the team's, newest first,
//! searchable by village, industry and text.

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
        limit: Some(200),
        ..LogQuery::default()
    };
    let key = (format!("{query:?}"), app.revision);
    let logs = use_fetch(key, move |_| ipc::list_service_logs(query));
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
                { match &*logs {
                    Remote::Loading => html! { <p class="muted">{ t(lang, Key::Loading) }</p> },
                    Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
                    Remote::Ready(list) if list.is_empty() => html! { <p class="muted">{ t(lang, Key::NoRecords) }</p> },
                    Remote::Ready(list) => html! { <>{ for list.iter().map(|log| html! { <LogCard log={log.clone()} /> }) }</> },
                } }
            </div>
        </section>
    }
}
