//! The team's logs of one member or one township over the dashboard's
//! period (a tap on the dashboard): the records list, filtered.

use app_core::api::LogQuery;
use yew::prelude::*;

use super::{name_of, roster_names};
use crate::components::page_header::PageHeader;
use crate::hooks::use_fetch;
use crate::i18n::{Key, t, tf};
use crate::ipc;
use crate::pages::records::LogPage;
use crate::state::{AppContext, LogFilter, Remote};

/// Properties of [`TeamLogsPage`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct TeamLogsPageProps {
    /// Whose logs, where, when.
    pub filter: LogFilter,
}

/// The filtered list, a page of 100 at a time.
#[component]
pub fn TeamLogsPage(props: &TeamLogsPageProps) -> Html {
    let app = use_context::<AppContext>().expect("TeamLogsPage is rendered inside App");
    let lang = app.lang;
    let f = props.filter;
    let roster = use_fetch((), |_| ipc::get_team_roster());
    let register = use_fetch((), |_| ipc::get_register());
    let who = match (f.author, &*roster) {
        (Some(u), Remote::Ready(r)) => Some(name_of(&roster_names(r.as_ref()), u, lang)),
        (Some(_), _) => Some(t(lang, Key::UnknownMember).to_owned()),
        (None, _) => None,
    };
    let place = match (f.township, &*register) {
        (Some(code), Remote::Ready(r)) => r
            .townships
            .iter()
            .find(|tw| tw.place.code == code.to_string())
            .map(|tw| tw.place.name.clone())
            .or_else(|| Some(code.to_string())),
        (Some(code), _) => Some(code.to_string()),
        (None, _) => None,
    };
    let subject = [who, place]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let period = match (f.from, f.to) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        _ => String::new(),
    };
    let query = LogQuery {
        author: f.author,
        team: app.profile().and_then(|p| p.team),
        township: f.township,
        from: f.from,
        to: f.to,
        ..LogQuery::default()
    };
    let shown = use_state(|| 1u32);
    let on_more = {
        let shown = shown.clone();
        Callback::from(move |()| shown.set(*shown + 1))
    };
    html! {
        <section class="records" data-testid="team-logs">
            <PageHeader title={tf(lang, Key::LogsOf, &subject)} back=true />
            <p class="muted">{ period }</p>
            <div class="cards" data-testid="records-list">
                { for (0..*shown).map(|n| html! {
                    <LogPage key={n} query={query.clone()} page={n} last={n + 1 == *shown} on_more={on_more.clone()} />
                }) }
            </div>
        </section>
    }
}
