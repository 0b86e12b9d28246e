//! A record's main fields as a short list of facts (记录内容): what the
//! conflict screen shows around the conflicted fields, and what each side
//! of a possible duplicate shows.

use app_core::api::RecordView;
use yew::prelude::*;

use crate::i18n::labels::{Label, industry};
use crate::i18n::{Key, Lang, Mark, t};

/// Properties of [`RecordFacts`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct RecordFactsProps {
    /// Interface language.
    pub lang: Lang,
    /// The record.
    pub record: RecordView,
}

/// The record's facts.
#[component]
pub fn RecordFacts(props: &RecordFactsProps) -> Html {
    let lang = props.lang;
    let list = |items: &[String]| items.join(t(lang, Mark::ListSeparator));
    let rows: Vec<(Key, String)> = match &props.record {
        RecordView::ServiceLog { log, village_name } => {
            let mut rows = vec![
                (Key::FieldDate, log.date.to_string()),
                (
                    Key::FieldVillage,
                    village_name
                        .clone()
                        .unwrap_or_else(|| log.village.to_string()),
                ),
                (Key::FieldActivity, log.activity.label(lang).to_owned()),
                (Key::FieldIndustry, industry(&log.industry, lang).to_owned()),
                (Key::FieldFarmersServed, log.farmers_served.to_string()),
            ];
            if let Some(n) = log.trainees {
                rows.push((Key::FieldTrainees, n.to_string()));
            }
            if !log.technologies.is_empty() {
                rows.push((Key::FieldTechnologies, list(&log.technologies)));
            }
            if !log.varieties.is_empty() {
                rows.push((Key::FieldVarieties, list(&log.varieties)));
            }
            rows.push((Key::AdmFieldStatus, log.review_state().label_words(lang)));
            rows.push((Key::FieldDescription, log.description.clone()));
            rows
        }
        RecordView::Consultation {
            consultation: c,
            village_name,
        } => vec![
            (Key::FieldFarmerName, c.farmer.name.clone()),
            (
                Key::FieldFarmerVillage,
                village_name
                    .clone()
                    .unwrap_or_else(|| c.farmer.village.to_string()),
            ),
            (Key::FieldSubject, c.subject.clone()),
            (Key::FieldAskedAt, c.asked_at.to_string()),
            (Key::FieldProblem, c.problem.clone()),
            (Key::Advice, c.advice.clone()),
        ],
    };
    html! {
        <dl class="facts record-facts" data-testid="record-facts">
            { for rows.into_iter().map(|(k, v)| html! {
                <>
                    <dt>{ t(lang, k) }</dt>
                    <dd>{ v }</dd>
                </>
            }) }
        </dl>
    }
}

/// A review state in words.
trait StateWords {
    fn label_words(self, lang: Lang) -> String;
}

impl StateWords for app_core::domain::ReviewState {
    fn label_words(self, lang: Lang) -> String {
        use app_core::domain::{LogStatus, ReviewState};
        match self {
            ReviewState::Draft => LogStatus::Draft.label(lang).to_owned(),
            ReviewState::Submitted => LogStatus::Submitted.label(lang).to_owned(),
            ReviewState::Approved => LogStatus::Approved.label(lang).to_owned(),
            ReviewState::Returned => LogStatus::Returned.label(lang).to_owned(),
            ReviewState::ChangedSinceApproval => t(lang, Key::AdmChangedSinceApproval).to_owned(),
        }
    }
}
