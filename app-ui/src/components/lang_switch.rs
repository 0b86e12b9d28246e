//! The language switch: one button offering the other language, named in
//! that language (English / 简体中文).

use yew::prelude::*;

use crate::i18n::{Key, t};
use crate::state::{Action, AppContext};

/// Switches between zh-CN and English.
#[component]
pub fn LangSwitch() -> Html {
    let state = use_context::<AppContext>().expect("LangSwitch is rendered inside App");
    let other = state.lang.other();
    let onclick = {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(Action::SetLang(other)))
    };

    html! {
        <button
            type="button"
            class="lang-switch"
            data-testid="lang-switch"
            lang={other.tag()}
            aria-label={t(state.lang, Key::SwitchLanguage)}
            {onclick}
        >
            { other.native_name() }
        </button>
    }
}
