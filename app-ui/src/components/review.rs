//! The pieces of a log's review (审核) that the team lead's tablet and the
//! commissioner's phone both show: where the log stands, what changed since
//! the last decision (field, before, after), and the review history (who,
//! what, when, with which comment).

use app_core::domain::{ActivityType, Decision, FieldChange, ReviewState, UserId, Verdict};
use serde_json::Value;
use yew::prelude::*;

use crate::i18n::labels::Label;
use crate::i18n::{Key, Lang, Mark, t, tf};

/// The text of a field's label in the "what changed" table.
pub fn field_key(field: &str) -> Key {
    match field {
        "date" => Key::FieldDate,
        "start_time" => Key::FieldStartTime,
        "end_time" => Key::FieldEndTime,
        "village" => Key::FieldVillage,
        "location" => Key::FieldLocation,
        "activity" => Key::FieldActivity,
        "industry" => Key::FieldIndustry,
        "farmers_served" => Key::FieldFarmersServed,
        "trainees" => Key::FieldTrainees,
        "served" => Key::FieldServed,
        "technologies" => Key::FieldTechnologies,
        "varieties" => Key::FieldVarieties,
        "description" => Key::FieldDescription,
        "photos" => Key::FieldPhotos,
        _ => Key::ChangeField,
    }
}

/// A content value (as `content_changes` gives it) in words.
pub fn value_text(field: &str, value: &Value, lang: Lang) -> String {
    let sep = t(lang, Mark::ListSeparator);
    match (field, value) {
        (_, Value::Null) => t(lang, Key::EmptyValue).to_owned(),
        ("activity", Value::String(code)) => ActivityType::from_code(code)
            .map(|a| a.label(lang).to_owned())
            .unwrap_or_else(|| code.clone()),
        ("location", Value::Object(o)) => format!(
            "{:.5}, {:.5}",
            o.get("lat").and_then(Value::as_f64).unwrap_or_default(),
            o.get("lon").and_then(Value::as_f64).unwrap_or_default()
        ),
        ("photos", Value::Array(items)) => tf(lang, Key::PhotoCount, items.len()),
        ("served", Value::Array(items)) => items
            .iter()
            .filter_map(|p| p.get("name").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(sep),
        (_, Value::Array(items)) if items.is_empty() => t(lang, Key::EmptyValue).to_owned(),
        (_, Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(sep),
        (_, Value::String(s)) if s.is_empty() => t(lang, Key::EmptyValue).to_owned(),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

/// Properties of [`StateBadge`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct StateBadgeProps {
    /// Interface language.
    pub lang: Lang,
    /// Where the log stands.
    pub state: ReviewState,
}

/// Where a log stands in review, as a coloured badge.
#[component]
pub fn StateBadge(props: &StateBadgeProps) -> Html {
    html! {
        <span class={classes!("badge", format!("state-{}", props.state.code()))} data-testid="review-state">
            { props.state.label(props.lang) }
        </span>
    }
}

/// Properties of [`ChangesTable`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ChangesTableProps {
    /// Interface language.
    pub lang: Lang,
    /// What changed since the decision.
    pub changes: Vec<FieldChange>,
}

/// What changed since the last decision: field, before, after.
#[component]
pub fn ChangesTable(props: &ChangesTableProps) -> Html {
    let lang = props.lang;
    if props.changes.is_empty() {
        return html! {};
    }
    html! {
        <section class="changes" data-testid="changes">
            <h2>{ t(lang, Key::WhatChanged) }</h2>
            <table class="table">
                <thead><tr>
                    <th>{ t(lang, Key::ChangeField) }</th>
                    <th>{ t(lang, Key::ChangeBefore) }</th>
                    <th>{ t(lang, Key::ChangeAfter) }</th>
                </tr></thead>
                <tbody>
                    { for props.changes.iter().map(|c| html! {
                        <tr data-testid="change">
                            <th scope="row">{ t(lang, field_key(&c.field)) }</th>
                            <td class="before">{ value_text(&c.field, &c.before, lang) }</td>
                            <td class="after">{ value_text(&c.field, &c.after, lang) }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </section>
    }
}

/// Properties of [`ReviewHistory`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ReviewHistoryProps {
    /// Interface language.
    pub lang: Lang,
    /// The decisions, oldest first.
    pub reviews: Vec<Decision>,
    /// Names of the deciders, when known (a lead's roster); others are
    /// shown as 团长.
    #[prop_or_default]
    pub names: Vec<(UserId, String)>,
}

/// The review history, newest first: when, who, what, the comment.
#[component]
pub fn ReviewHistory(props: &ReviewHistoryProps) -> Html {
    let lang = props.lang;
    let name = |by: UserId| {
        props
            .names
            .iter()
            .find(|(u, _)| *u == by)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| t(lang, Key::TeamLead).to_owned())
    };
    html! {
        <section class="history" data-testid="review-history">
            <h2>{ t(lang, Key::ReviewHistory) }</h2>
            if props.reviews.is_empty() {
                <p class="muted">{ t(lang, Key::NoReviewYet) }</p>
            } else {
                <ol class="timeline">
                    { for props.reviews.iter().rev().map(|d| {
                        let (verdict, class) = match d.verdict {
                            Verdict::Approved => (Key::VerdictApproved, "ok"),
                            Verdict::Returned => (Key::VerdictReturned, "error"),
                        };
                        let when = d.at.to_china().map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
                        html! {
                            <li data-testid="decision">
                                <span class="timeline-when">{ when }</span>
                                <p class="decision-line">
                                    <strong>{ name(d.by) }</strong>{ " " }
                                    <span class={class}>{ t(lang, verdict) }</span>
                                </p>
                                if !d.comment.is_empty() {
                                    <p class="prose decision-comment">{ d.comment.clone() }</p>
                                }
                            </li>
                        }
                    }) }
                </ol>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_values_read_as_words() {
        let lang = Lang::ZhCn;
        assert_eq!(value_text("farmers_served", &Value::from(12), lang), "12");
        assert_eq!(value_text("trainees", &Value::Null, lang), "（无）");
        assert_eq!(
            value_text("activity", &Value::from("training"), lang),
            "技术培训"
        );
        assert_eq!(
            value_text(
                "technologies",
                &serde_json::json!(["绿色防控", "测土配方"]),
                lang
            ),
            "绿色防控、测土配方"
        );
        assert_eq!(
            value_text(
                "photos",
                &serde_json::json!([{"hash": "a"}, {"hash": "b"}]),
                lang
            ),
            "2 张照片"
        );
        assert_eq!(
            value_text(
                "served",
                &serde_json::json!([{"id": "x", "kind": "cooperative", "name": "白茶合作社"}]),
                lang
            ),
            "白茶合作社"
        );
        assert_eq!(field_key("farmers_served"), Key::FieldFarmersServed);
    }
}
