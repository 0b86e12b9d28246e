//! The message on top of a page: a save that worked (with its warnings), or
//! a failure in plain words with its code in small print.

use yew::prelude::*;

use crate::i18n::{Key, t};
use crate::state::{Action, AppContext};

/// Shows [`crate::state::AppState::notice`], if any.
#[component]
pub fn NoticeBar() -> Html {
    let state = use_context::<AppContext>().expect("NoticeBar is rendered inside App");
    let Some(notice) = state.notice.clone() else {
        return html! {};
    };
    let lang = state.lang;
    let dismiss = {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(Action::DismissNotice))
    };
    let class = if notice.error {
        "notice error-notice"
    } else {
        "notice ok-notice"
    };
    html! {
        <div class={class} role="status" data-testid="notice">
            <p class="notice-main" data-testid="notice-text">{ t(lang, notice.key) }</p>
            if !notice.details.is_empty() {
                <ul class="notice-details">
                    { for notice.details.iter().map(|k| html! { <li data-testid="notice-detail">{ t(lang, *k) }</li> }) }
                </ul>
            }
            <button type="button" class="notice-close" aria-label={t(lang, Key::Cancel)} onclick={dismiss}>{ "×" }</button>
        </div>
    }
}

/// An inline error: the translated text and, in small print, its code.
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ErrorLineProps {
    /// The code from the shell.
    pub code: AttrValue,
}

/// One error line.
#[component]
pub fn ErrorLine(props: &ErrorLineProps) -> Html {
    let state = use_context::<AppContext>().expect("ErrorLine is rendered inside App");
    let lang = state.lang;
    html! {
        <p class="error" role="alert" data-testid="error">
            { t(lang, crate::ipc::error_key(&props.code)) }
            <span class="error-code">{ format!(" ({} {})", t(lang, Key::ErrorCode), props.code) }</span>
        </p>
    }
}
