//! What this instance is: the app version and its data directory, from the
//! shell's `app_info`. Errors show as translated text plus their stable code.

use yew::prelude::*;

use crate::i18n::{Key, t};
use crate::state::{AppContext, Remote};

/// A small footer with the version and the data directory.
#[component]
pub fn About() -> Html {
    let state = use_context::<AppContext>().expect("About is rendered inside App");
    let lang = state.lang;

    let body = match &state.app_info {
        Remote::Loading => html! { <p class="muted">{ t(lang, Key::Loading) }</p> },
        Remote::Ready(info) => html! {
            <dl class="facts">
                <dt>{ t(lang, Key::Version) }</dt>
                <dd data-testid="app-version">{ info.version.clone() }</dd>
                <dt>{ t(lang, Key::DataDir) }</dt>
                <dd class="path" data-testid="data-dir">{ info.data_dir.clone() }</dd>
            </dl>
        },
        Remote::Failed(error) => html! {
            <p class="error" role="alert" data-testid="app-info-error">
                { t(lang, crate::ipc::error_key(&error.code)) }
                <span class="error-code">{ format!(" ({} {})", t(lang, Key::ErrorCode), error.code) }</span>
            </p>
        },
    };

    html! { <footer class="about" data-testid="about">{ body }</footer> }
}
