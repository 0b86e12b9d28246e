//! A page's title row, with a large back button when the page was opened
//! from another one.

use yew::prelude::*;

use crate::components::icon::{Icon, IconKind};
use crate::i18n::{Key, t};
use crate::state::{Action, AppContext};

/// Properties of [`PageHeader`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct PageHeaderProps {
    /// The title.
    pub title: AttrValue,
    /// Whether to show the back button.
    #[prop_or_default]
    pub back: bool,
}

/// The title row.
#[component]
pub fn PageHeader(props: &PageHeaderProps) -> Html {
    let state = use_context::<AppContext>().expect("PageHeader is rendered inside App");
    let back = {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(Action::Back))
    };
    html! {
        <div class="page-header">
            if props.back {
                <button type="button" class="back-button" data-testid="back" onclick={back}
                    aria-label={t(state.lang, Key::Back)}>
                    <Icon kind={IconKind::Back} />
                    <span>{ t(state.lang, Key::Back) }</span>
                </button>
            }
            <h1 data-testid="page-title">{ props.title.clone() }</h1>
        </div>
    }
}
