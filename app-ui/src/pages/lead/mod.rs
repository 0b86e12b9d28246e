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
