//! The language switch: one button offering the other language, named in
//! that language (English / 简体中文). The choice is remembered by the shell.

use yew::prelude::*;

use crate::i18n::{Key, Lang, t};
use crate::ipc;
use crate::state::{Action, AppContext};

/// A callback that switches to a language and remembers it.
pub fn switch_to(state: &AppContext) -> Callback<Lang> {
    let state = state.clone();
    Callback::from(move |lang: Lang| {
        state.dispatch(Action::SetLang(lang));
        yew::platform::spawn_local(async move {
            let _ = ipc::set_language(lang.tag()).await;
        });
    })
}

/// Switches between zh-CN and English.
#[component]
pub fn LangSwitch() -> Html {
    let state = use_context::<AppContext>().expect("LangSwitch is rendered inside App");
    let other = state.lang.other();
    let switch = switch_to(&state);
    let onclick = Callback::from(move |_| switch.emit(other));

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
