//! Test support: renders a component inside an [`AppState`] context with
//! Yew's local server renderer (initial render only, no effects).

use yew::prelude::*;

use crate::state::{AppContext, AppState};

#[derive(Properties, PartialEq)]
struct HostProps {
    state: AppState,
    #[prop_or_default]
    children: Html,
}

#[component]
fn Host(props: &HostProps) -> Html {
    let initial = props.state.clone();
    let state = use_reducer(move || initial);
    html! {
        <ContextProvider<AppContext> context={state}>
            { props.children.clone() }
        </ContextProvider<AppContext>>
    }
}

/// Renders `body` with `state` as the app state, to HTML.
pub fn render(state: AppState, body: Html) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime for rendering");
    rt.block_on(
        yew::LocalServerRenderer::<Host>::with_props(HostProps {
            state,
            children: body,
        })
        .hydratable(false)
        .render(),
    )
}

/// A signed-in state in `lang` (张三, a commissioner of a team).
pub fn signed_in(lang: crate::i18n::Lang) -> AppState {
    signed_in_as(lang, app_core::domain::Role::Commissioner)
}

/// A signed-in state in `lang` with `role` (李明 for a team lead).
pub fn signed_in_as(lang: crate::i18n::Lang, role: app_core::domain::Role) -> AppState {
    let lead = role == app_core::domain::Role::TeamLead;
    let mut state = AppState::new(lang, crate::state::Page::Home);
    state.session = crate::state::Remote::Ready(app_core::api::SessionState {
        locked: false,
        profile: Some(app_core::api::Profile {
            user: if lead {
                "0192f000-0000-7000-8000-000000000002".parse().unwrap()
            } else {
                "0192f000-0000-7000-8000-000000000001".parse().unwrap()
            },
            username: if lead {
                "zhengan-lead"
            } else {
                "zhengan-zhang"
            }
            .into(),
            display_name: if lead { "李明" } else { "张三" }.into(),
            role,
            team: Some("0192f000-0000-7000-8000-0000000000aa".parse().unwrap()),
            team_name: Some("正安县科技特派团".into()),
            county: Some("520324".parse().unwrap()),
            county_name: Some("正安县".into()),
            server: "http://127.0.0.1:8750".into(),
            device: "0192f000-0000-7000-8000-0000000000dd".parse().unwrap(),
        }),
        signed_in: true,
        lang: None,
    });
    state
}
