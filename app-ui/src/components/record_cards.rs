//! List rows for service logs and consultations: big cards, one tap opens
//! the record.

use app_core::api::{ConsultationSummary, LogSummary};
use yew::prelude::*;

use crate::i18n::labels::{Label, industry, short_place};
use crate::i18n::{Key, t, tf};
use crate::state::{Action, AppContext, Page};

/// Properties of [`LogCard`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct LogCardProps {
    /// The log.
    pub log: LogSummary,
}

/// One service log in a list.
#[component]
pub fn LogCard(props: &LogCardProps) -> Html {
    let state = use_context::<AppContext>().expect("LogCard is rendered inside App");
    let lang = state.lang;
    let log = &props.log;
    let onclick = {
        let state = state.clone();
        let id = log.id;
        Callback::from(move |_| state.dispatch(Action::Navigate(Page::LogDetail(id))))
    };
    let place = log
        .village_name
        .as_deref()
        .map(short_place)
        .map(str::to_owned)
        .unwrap_or_else(|| log.village.to_string());
    html! {
        <button type="button" class="card" data-testid="log-card" {onclick}>
            <span class="card-top">
                <span class="card-date">{ format!("{} {}", log.date.format("%m-%d"), log.start_time.clone().unwrap_or_default()) }</span>
                <span class={classes!("badge", format!("state-{}", log.review_state.code()))}>{ log.review_state.label(lang) }</span>
            </span>
            <strong class="card-title">{ format!("{} · {}", place, log.activity.label(lang)) }</strong>
            <span class="card-text">{ format!("{} · {}", industry(&log.industry, lang), tf(lang, Key::FarmersCount, log.farmers_served)) }</span>
            if !log.summary.is_empty() {
                <span class="card-text muted">{ log.summary.clone() }</span>
            }
            if log.photo_count > 0 {
                <span class="card-text muted">{ tf(lang, Key::PhotoCount, log.photo_count) }</span>
            }
            if log.has_conflicts {
                <span class="card-text warning" data-testid="conflict">{ t(lang, Key::ConflictNote) }</span>
            }
        </button>
    }
}

/// Properties of [`ConsultationCard`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ConsultationCardProps {
    /// The consultation.
    pub item: ConsultationSummary,
}

/// One consultation in a list.
#[component]
pub fn ConsultationCard(props: &ConsultationCardProps) -> Html {
    let state = use_context::<AppContext>().expect("ConsultationCard is rendered inside App");
    let lang = state.lang;
    let c = &props.item;
    let onclick = {
        let state = state.clone();
        let id = c.id;
        Callback::from(move |_| state.dispatch(Action::Navigate(Page::ConsultationDetail(id))))
    };
    let place = c
        .village_name
        .as_deref()
        .map(short_place)
        .unwrap_or_default()
        .to_owned();
    html! {
        <button type="button" class="card" data-testid="consultation-card" {onclick}>
            <span class="card-top">
                <span class="card-date">{ c.asked_at.to_string() }</span>
                <span class={classes!("badge", format!("status-{}", c.status.code()))}>{ c.status.label(lang) }</span>
            </span>
            <strong class="card-title">{ format!("{} · {}", c.farmer_name, c.subject) }</strong>
            <span class="card-text">{ place }</span>
            <span class="card-text muted">{ c.summary.clone() }</span>
            if c.has_conflicts {
                <span class="card-text warning">{ t(lang, Key::ConflictNote) }</span>
            }
            if c.follow_up_count > 0 {
                <span class="card-text muted">{ format!("{} {}", t(lang, Key::FollowUps), c.follow_up_count) }</span>
            }
        </button>
    }
}
