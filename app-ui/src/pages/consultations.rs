//! Farmer consultations (农户咨询) by status: 待答复, 已答复, 需回访, 已关闭,
//! with 新建咨询 on top.

use app_core::api::ConsultationQuery;
use app_core::domain::ConsultationStatus;
use yew::prelude::*;

use crate::components::big_button::BigButton;
use crate::components::icon::IconKind;
use crate::components::notice::ErrorLine;
use crate::components::page_header::PageHeader;
use crate::components::record_cards::ConsultationCard;
use crate::hooks::use_fetch;
use crate::i18n::labels::Label;
use crate::i18n::{Key, t};
use crate::ipc;
use crate::state::{Action, AppContext, Page, Remote};

/// Properties of [`ConsultationsPage`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct ConsultationsPageProps {
    /// The status shown.
    pub status: ConsultationStatus,
}

/// The consultations page.
#[component]
pub fn ConsultationsPage(props: &ConsultationsPageProps) -> Html {
    let app = use_context::<AppContext>().expect("ConsultationsPage is rendered inside App");
    let lang = app.lang;
    let status = props.status;
    let list = use_fetch((status, app.revision), |(status, _)| {
        ipc::list_consultations(ConsultationQuery {
            status: Some(status),
            limit: Some(200),
            ..ConsultationQuery::default()
        })
    });
    let new = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::Navigate(Page::ConsultationForm(None))))
    };
    html! {
        <section class="consultations" data-testid="consultations-page">
            <PageHeader title={t(lang, Key::ConsultationsTitle)} />
            <BigButton test_id="new-consultation" icon={IconKind::Consultation}
                label={t(lang, Key::NewConsultation)} onclick={new} />
            <div class="chips status-chips">
                { for ConsultationStatus::ALL.iter().map(|&s| {
                    let app = app.clone();
                    let onclick = Callback::from(move |_| app.dispatch(Action::Replace(Page::Consultations(s))));
                    html! {
                        <button type="button" class={classes!("chip", (s == status).then_some("chosen"))}
                            data-testid={format!("status-{}", s.code())} {onclick}>{ s.label(lang) }</button>
                    }
                }) }
            </div>
            <div class="cards" data-testid="consultations-list">
                { match &*list {
                    Remote::Loading => html! { <p class="muted">{ t(lang, Key::Loading) }</p> },
                    Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
                    Remote::Ready(l) if l.is_empty() => html! { <p class="muted">{ t(lang, Key::NoConsultations) }</p> },
                    Remote::Ready(l) => html! { <>{ for l.iter().map(|c| html! { <ConsultationCard item={c.clone()} /> }) }</> },
                } }
            </div>
        </section>
    }
}
