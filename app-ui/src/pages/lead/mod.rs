//! The team lead's screens (团长): the review queue ([`queue`]), a log
//! under review ([`review`]), the team dashboard ([`dashboard`]), the
//! team's logs of one member or township ([`team_logs`]) and the scores
//! and annual sheet ([`report`]). Each fetches in its page component and
//! renders a view of plain props, which tests render.

pub mod dashboard;
pub mod queue;
pub mod report;
pub mod review;
pub mod team_logs;

use app_core::domain::UserId;
use app_core::team::TeamRoster;

use crate::i18n::{Key, Lang, t};

/// Names of the team's members from the roster kept on the device.
pub fn roster_names(roster: Option<&TeamRoster>) -> Vec<(UserId, String)> {
    roster
        .map(|r| {
            r.members
                .iter()
                .map(|m| (m.user, m.display_name.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// A member's name, or a placeholder saying the list is not up to date.
pub fn name_of(names: &[(UserId, String)], user: UserId, lang: Lang) -> String {
    names
        .iter()
        .find(|(u, _)| *u == user)
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| t(lang, Key::UnknownMember).to_owned())
}

#[cfg(test)]
mod tests {
    use app_core::domain::Role;
    use yew::prelude::*;

    use super::*;
    use crate::state::LogFilter;
    use crate::testing::{render, signed_in_as};

    /// Each page before its data arrives: its title (or a loading line) and
    /// nothing broken, in both languages.
    #[test]
    fn every_lead_page_renders_while_loading() {
        let id: app_core::domain::ServiceLogId =
            "0192f000-0000-7000-8000-0000000000e1".parse().unwrap();
        let filter = LogFilter {
            author: Some(app_core::testing::user_id(1)),
            ..LogFilter::default()
        };
        for lang in [Lang::ZhCn, Lang::En] {
            let state = signed_in_as(lang, Role::TeamLead);
            let pages = [
                (html! { <queue::QueuePage /> }, Key::ReviewTitle),
                (html! { <review::ReviewLogPage {id} /> }, Key::Loading),
                (html! { <dashboard::TeamPage /> }, Key::TeamTitle),
                (
                    html! { <team_logs::TeamLogsPage {filter} /> },
                    Key::ShowMore,
                ),
                (html! { <report::TeamReportPage /> }, Key::ScoresTitle),
            ];
            for (page, key) in pages {
                let html = render(state.clone(), page);
                let want = if key == Key::ShowMore {
                    t(lang, Key::UnknownMember)
                } else {
                    t(lang, key)
                };
                assert!(html.contains(want), "missing {want:?} in {html}");
            }
        }
    }

    #[test]
    fn names_come_from_the_roster_or_say_it_is_not_updated() {
        let names = vec![(app_core::testing::user_id(1), "张三".to_owned())];
        assert_eq!(
            name_of(&names, app_core::testing::user_id(1), Lang::ZhCn),
            "张三"
        );
        assert_eq!(
            name_of(&names, app_core::testing::user_id(2), Lang::En),
            "Member (list not updated)"
        );
        assert!(roster_names(None).is_empty());
    }
}
