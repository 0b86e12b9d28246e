//! The home page (首页): the sync state and the two main actions, 新建服务日志
//! and 新建咨询, plus what this instance is (version, data directory).

use yew::prelude::*;

use crate::components::about::About;
use crate::components::big_button::BigButton;
use crate::components::icon::IconKind;
use crate::components::sync_status::SyncStatus;
use crate::i18n::{Key, t};
use crate::state::{Action, AppContext, Page};

/// The start page.
#[component]
pub fn HomePage() -> Html {
    let state = use_context::<AppContext>().expect("HomePage is rendered inside App");
    let lang = state.lang;
    let go = |page: Page| {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(Action::Navigate(page)))
    };

    html! {
        <section class="home">
            <h1 class="app-title" data-testid="app-title">{ t(lang, Key::AppTitle) }</h1>
            <p class="tagline">{ t(lang, Key::AppTagline) }</p>
            <SyncStatus />
            <nav class="actions">
                <BigButton
                    test_id="new-service-log"
                    icon={IconKind::Log}
                    label={t(lang, Key::NewServiceLog)}
                    onclick={go(Page::NewServiceLog)}
                />
                <BigButton
                    test_id="new-consultation"
                    icon={IconKind::Consultation}
                    label={t(lang, Key::NewConsultation)}
                    onclick={go(Page::NewConsultation)}
                />
            </nav>
            <About />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use crate::app::{AppProps, render_to_string};
    use crate::i18n::Lang;

    #[test]
    fn renders_in_chinese_by_default() {
        let html = render_to_string(AppProps::default());
        for text in ["科特派", "新建服务日志", "新建咨询", "同步状态", "离线"] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(!html.contains("New service log"), "{html}");
    }

    #[test]
    fn renders_in_english_when_switched() {
        let html = render_to_string(AppProps {
            initial_lang: Lang::En,
            ..AppProps::default()
        });
        for text in [
            "Ketepai",
            "New service log",
            "New consultation",
            "Sync",
            "Offline",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(!html.contains("新建服务日志"), "{html}");
        // The switch offers Chinese back, in Chinese.
        assert!(html.contains("简体中文"), "{html}");
    }

    #[test]
    fn the_two_actions_are_buttons_with_stable_test_ids() {
        let html = render_to_string(AppProps::default());
        assert!(html.contains(r#"data-testid="new-service-log""#), "{html}");
        assert!(html.contains(r#"data-testid="new-consultation""#), "{html}");
        assert_eq!(
            html.matches("<button").count(),
            3,
            "two actions and the language switch: {html}"
        );
    }
}
