//! The root component: owns [`AppState`], provides it as context, starts the
//! app-wide effects (connectivity, `app_info`, document language) and routes
//! to the page named by [`Page`].
//!
//! Routing is a `match` on the state enum: the app is one window with no
//! address bar, so there is no URL router. A new page is a new [`Page`]
//! variant, a module in `pages/`, and one arm below.

use yew::prelude::*;

use crate::browser;
use crate::components::coming_soon::ComingSoon;
use crate::components::lang_switch::LangSwitch;
use crate::i18n::{Key, Lang};
use crate::ipc;
use crate::pages::home::HomePage;
use crate::state::{Action, AppContext, AppState, Page};

/// Where the app starts. The browser build uses the defaults; tests pick a
/// language or a page.
#[derive(Clone, Debug, Default, PartialEq, Properties)]
pub struct AppProps {
    /// The language to start in (zh-CN unless told otherwise).
    #[prop_or_default]
    pub initial_lang: Lang,
    /// The page to start on (home unless told otherwise).
    #[prop_or_default]
    pub initial_page: Page,
}

/// The whole interface.
#[component]
pub fn App(props: &AppProps) -> Html {
    let (lang, page) = (props.initial_lang, props.initial_page);
    let state = use_reducer(move || AppState::new(lang, page));

    // Connectivity: read it now and follow the browser's online/offline events.
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            state.dispatch(Action::ConnectivityChanged(browser::connectivity()));
            let watch = browser::watch_connectivity(move |c| {
                state.dispatch(Action::ConnectivityChanged(c))
            });
            move || drop(watch)
        });
    }

    // Facts about this instance, once.
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            yew::platform::spawn_local(async move {
                state.dispatch(Action::AppInfoLoaded(ipc::app_info().await));
            });
        });
    }

    use_effect_with(state.lang, |lang| browser::set_document_lang(lang.tag()));

    let body = match state.page {
        Page::Home => html! { <HomePage /> },
        Page::NewServiceLog => html! { <ComingSoon title={Key::NewServiceLog} /> },
        Page::NewConsultation => html! { <ComingSoon title={Key::NewConsultation} /> },
    };

    html! {
        <ContextProvider<AppContext> context={state}>
            <div class="app">
                <header class="app-bar">
                    <LangSwitch />
                </header>
                <main class="page">{ body }</main>
            </div>
        </ContextProvider<AppContext>>
    }
}

/// Renders [`App`] with `props` to HTML, as tests see it (no effects run).
#[cfg(test)]
pub(crate) fn render_to_string(props: AppProps) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime for rendering");
    rt.block_on(
        yew::ServerRenderer::<App>::with_props(move || props)
            .hydratable(false)
            .render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_language_switch_offering_english() {
        let html = render_to_string(AppProps::default());
        assert!(html.contains("English"), "{html}");
        assert!(html.contains(r#"lang="en""#), "{html}");
    }

    #[test]
    fn routes_unbuilt_pages_to_coming_soon() {
        let html = render_to_string(AppProps {
            initial_page: Page::NewServiceLog,
            ..AppProps::default()
        });
        assert!(html.contains("即将推出"), "{html}");
        assert!(html.contains("新建服务日志"), "{html}");
        assert!(html.contains("返回"), "{html}");
    }
}
