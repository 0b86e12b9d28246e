//! Inline SVG icons. Drawn rather than emoji so that they look the same on
//! every device, with no emoji font and no network.

use yew::prelude::*;

/// The icons the interface uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IconKind {
    /// A notebook with a pencil: writing a service log.
    Log,
    /// A speech bubble: a farmer's question.
    Consultation,
}

impl IconKind {
    /// SVG path data on a 24×24 grid, drawn as strokes.
    fn path(self) -> &'static str {
        match self {
            IconKind::Log => "M5 3h10l4 4v14H5z M15 3v4h4 M8 11h8 M8 15h8 M8 19h5",
            IconKind::Consultation => "M4 5h16v11H10l-5 4v-4H4z M8 9h8 M8 12h5",
        }
    }
}

/// Properties of [`Icon`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct IconProps {
    /// Which icon.
    pub kind: IconKind,
}

/// A decorative icon in the current text colour (hidden from screen readers).
#[component]
pub fn Icon(props: &IconProps) -> Html {
    html! {
        <svg
            class="icon"
            viewBox="0 0 24 24"
            width="28"
            height="28"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
        >
            <path d={props.kind.path()} />
        </svg>
    }
}
