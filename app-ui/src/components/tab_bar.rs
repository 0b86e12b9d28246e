//! The bottom bar (a side rail on tablets): 首页, 记录, 咨询, 统计, 设置.

use yew::prelude::*;

use crate::components::icon::{Icon, IconKind};
use crate::i18n::t;
use crate::state::{Action, AppContext, Tab};

fn icon(tab: Tab) -> IconKind {
    match tab {
        Tab::Home => IconKind::Home,
        Tab::Records => IconKind::List,
        Tab::Consultations => IconKind::Consultation,
        Tab::Stats => IconKind::Chart,
        Tab::Settings => IconKind::Gear,
    }
}

/// The tab bar.
#[component]
pub fn TabBar() -> Html {
    let state = use_context::<AppContext>().expect("TabBar is rendered inside App");
    let current = state.page().tab();
    html! {
        <nav class="tab-bar" data-testid="tab-bar">
            { for Tab::ALL.into_iter().map(|tab| {
                let onclick = {
                    let state = state.clone();
                    Callback::from(move |_| state.dispatch(Action::OpenTab(tab)))
                };
                html! {
                    <button type="button"
                        class={classes!("tab", (tab == current).then_some("active"))}
                        data-testid={format!("tab-{}", tab.id())}
                        aria-current={(tab == current).then_some("page")}
                        {onclick}>
                        <Icon kind={icon(tab)} />
                        <span>{ t(state.lang, tab.key()) }</span>
                    </button>
                }
            }) }
        </nav>
    }
}
