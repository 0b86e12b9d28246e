//! A large, full-width action button for field use: gloves, sun, one thumb.

use yew::prelude::*;

use crate::components::icon::{Icon, IconKind};

/// Properties of [`BigButton`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct BigButtonProps {
    /// The visible label, already translated.
    pub label: AttrValue,
    /// A decorative icon before the label.
    #[prop_or_default]
    pub icon: Option<IconKind>,
    /// A stable `data-testid` for end-to-end tests.
    pub test_id: AttrValue,
    /// What a tap does.
    pub onclick: Callback<MouseEvent>,
}

/// A primary action: at least 64 px tall, label in large type.
#[component]
pub fn BigButton(props: &BigButtonProps) -> Html {
    html! {
        <button
            type="button"
            class="big-button"
            data-testid={props.test_id.clone()}
            onclick={props.onclick.clone()}
        >
            if let Some(kind) = props.icon {
                <Icon {kind} />
            }
            <span class="big-button-label">{ props.label.clone() }</span>
        </button>
    }
}
