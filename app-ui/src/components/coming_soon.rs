//! Stand-in for a page that is not built yet: its title, a short note and a
//! way back home. Replace the route in `app.rs` when the real page lands.

use yew::prelude::*;

use crate::i18n::{Key, t};
use crate::state::{Action, AppContext, Page};

/// Properties of [`ComingSoon`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ComingSoonProps {
    /// The title of the page that will be here.
    pub title: Key,
}

/// A placeholder page with a back button.
#[component]
pub fn ComingSoon(props: &ComingSoonProps) -> Html {
    let state = use_context::<AppContext>().expect("ComingSoon is rendered inside App");
    let lang = state.lang;
    let back = {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(Action::Navigate(Page::Home)))
    };

    html! {
        <section class="coming-soon" data-testid="coming-soon">
            <h1>{ t(lang, props.title) }</h1>
            <p class="badge">{ t(lang, Key::ComingSoonTitle) }</p>
            <p>{ t(lang, Key::ComingSoonBody) }</p>
            <button type="button" class="secondary-button" data-testid="back" onclick={back}>
                { t(lang, Key::Back) }
            </button>
        </section>
    }
}
