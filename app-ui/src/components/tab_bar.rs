//! The bottom bar (a side rail on tablets): 首页, 记录, 咨询, 统计, 设置 for a
//! commissioner; 首页, 审核 (with the count of logs waiting), 团队, 记录,
//! 咨询, 设置 for a team lead.

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
        Tab::Review => IconKind::Review,
        Tab::Team => IconKind::Team,
    }
}

/// The tab bar.
#[component]
pub fn TabBar() -> Html {
    let state = use_context::<AppContext>().expect("TabBar is rendered inside App");
    let tabs = state.tabs();
    let current = state.page().tab_in(tabs);
    let waiting = state.review_waiting.filter(|n| *n > 0);
    html! {
        <nav class={classes!("tab-bar", format!("tabs-{}", tabs.len()))} data-testid="tab-bar">
            { for tabs.iter().copied().map(|tab| {
                let onclick = {
                    let state = state.clone();
                    Callback::from(move |_| state.dispatch(Action::OpenTab(tab)))
                };
                let on = Some(tab) == current;
                html! {
                    <button type="button"
                        class={classes!("tab", on.then_some("active"))}
                        data-testid={format!("tab-{}", tab.id())}
                        aria-current={on.then_some("page")}
                        {onclick}>
                        <span class="tab-icon">
                            <Icon kind={icon(tab)} />
                            if let (Tab::Review, Some(n)) = (tab, waiting) {
                                <span class="tab-badge" data-testid="review-badge">
                                    { if n > 99 { "99+".to_owned() } else { n.to_string() } }
                                </span>
                            }
                        </span>
                        <span>{ t(state.lang, tab.key()) }</span>
                    </button>
                }
            }) }
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use app_core::domain::Role;

    use super::*;
    use crate::i18n::Lang;
    use crate::state::Page;
    use crate::testing::{render, signed_in, signed_in_as};

    #[test]
    fn a_lead_sees_review_with_its_count_and_team() {
        let mut state = signed_in_as(Lang::ZhCn, Role::TeamLead);
        state.review_waiting = Some(12);
        state.history = vec![Page::Stats];
        let html = render(state, html! { <TabBar /> });
        for text in ["首页", "审核", "团队", "记录", "咨询", "设置", "tabs-6"] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(!html.contains(">统计<"), "their statistics open from 团队");
        assert!(html.contains(r#"class="tab-badge">12<"#), "{html}");
        // 团队 is lit on the lead's own statistics.
        assert!(
            html.contains(r#"data-testid="tab-team" aria-current="page""#),
            "{html}"
        );
    }

    #[test]
    fn a_commissioner_keeps_five_tabs_and_no_badge() {
        let mut state = signed_in(Lang::ZhCn);
        state.review_waiting = Some(3);
        let html = render(state, html! { <TabBar /> });
        assert!(html.contains("tabs-5") && html.contains("统计"));
        assert!(!html.contains("审核") && !html.contains("review-badge"));
    }

    #[test]
    fn no_badge_when_nothing_waits() {
        let mut state = signed_in_as(Lang::En, Role::TeamLead);
        state.review_waiting = Some(0);
        let html = render(state, html! { <TabBar /> });
        assert!(html.contains("Review") && !html.contains("review-badge"));
    }
}
