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
    /// A house: home.
    Home,
    /// A list: records.
    List,
    /// Bars: statistics.
    Chart,
    /// A gear: settings.
    Gear,
    /// A camera.
    Camera,
    /// A picture.
    Image,
    /// Two arrows in a circle: sync.
    Sync,
    /// An arrow to the left: back.
    Back,
    /// A clipboard with a tick: review.
    Review,
    /// Three people: the team.
    Team,
}

impl IconKind {
    /// SVG path data on a 24×24 grid, drawn as strokes.
    fn path(self) -> &'static str {
        match self {
            IconKind::Log => "M5 3h10l4 4v14H5z M15 3v4h4 M8 11h8 M8 15h8 M8 19h5",
            IconKind::Consultation => "M4 5h16v11H10l-5 4v-4H4z M8 9h8 M8 12h5",
            IconKind::Home => "M3 11l9-7 9 7 M5 10v10h14V10 M10 20v-6h4v6",
            IconKind::List => "M8 6h12 M8 12h12 M8 18h12 M4 6h.01 M4 12h.01 M4 18h.01",
            IconKind::Chart => "M4 20h16 M7 20V11 M12 20V5 M17 20v-7",
            IconKind::Gear => {
                "M12 9a3 3 0 1 0 0 6a3 3 0 1 0 0-6 M12 2v3 M12 19v3 M2 12h3 M19 12h3 M4.9 4.9l2.1 2.1 M17 17l2.1 2.1 M4.9 19.1L7 17 M17 7l2.1-2.1"
            }
            IconKind::Camera => {
                "M4 8h3l2-3h6l2 3h3v11H4z M12 10a3.5 3.5 0 1 0 0 7a3.5 3.5 0 1 0 0-7"
            }
            IconKind::Image => "M4 5h16v14H4z M4 16l5-5 4 4 3-3 4 4 M15 9h.01",
            IconKind::Sync => "M20 11a8 8 0 0 0-14-4 M4 4v4h4 M4 13a8 8 0 0 0 14 4 M20 20v-4h-4",
            IconKind::Back => "M15 5l-7 7 7 7",
            IconKind::Review => "M8 4h8v3H8z M6 5H5v16h14V5h-1 M8 14l3 3 5-6",
            IconKind::Team => {
                "M9 11a3 3 0 1 0 0-6a3 3 0 1 0 0 6 M3 20c0-3.5 2.7-6 6-6s6 2.5 6 6 M16 11a2.5 2.5 0 1 0 0-5 M17 14c2.5.4 4 2.6 4 6"
            }
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
