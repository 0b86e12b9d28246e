//! The home page (首页): a greeting, the sync state, the two main actions
//! 新建服务日志 and 新建咨询, today's work and the questions waiting for an
//! answer.

use app_core::api::{ConsultationQuery, LogQuery, LogSummary};
use app_core::domain::ConsultationStatus;
use yew::prelude::*;

use crate::components::big_button::BigButton;
use crate::components::icon::IconKind;
use crate::components::record_cards::LogCard;
use crate::components::sync_status::SyncStatusCard;
use crate::hooks::use_fetch;
use crate::i18n::{Key, t, tf};
use crate::ipc;
use crate::state::{Action, AppContext, Page, Remote};

/// What the home page lists: today's logs and the open questions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HomeData {
    /// My logs of today.
    pub today: Vec<LogSummary>,
    /// My consultations waiting for an answer.
    pub open_consultations: usize,
}

async fn load(me: Option<app_core::domain::UserId>) -> Result<HomeData, ipc::IpcError> {
    let now = ipc::get_now().await?;
    let day = now.date.parse().ok();
    let today = ipc::list_service_logs(LogQuery {
        author: me,
        from: day,
        to: day,
        ..LogQuery::default()
    })
    .await?;
    let open = ipc::list_consultations(ConsultationQuery {
        author: me,
        status: Some(ConsultationStatus::Open),
        limit: Some(500),
        ..ConsultationQuery::default()
    })
    .await?;
    Ok(HomeData {
        today,
        open_consultations: open.len(),
    })
}

/// The start page.
#[component]
pub fn HomePage() -> Html {
    let state = use_context::<AppContext>().expect("HomePage is rendered inside App");
    let me = state.profile().map(|p| p.user);
    let data = use_fetch((me, state.revision), move |(me, _)| load(me));
    let data = match &*data {
        Remote::Ready(d) => d.clone(),
        _ => HomeData::default(),
    };
    html! { <HomeView {data} /> }
}

/// Properties of [`HomeView`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct HomeViewProps {
    /// What to list.
    pub data: HomeData,
}

/// The home page's content.
#[component]
pub fn HomeView(props: &HomeViewProps) -> Html {
    let state = use_context::<AppContext>().expect("HomeView is rendered inside App");
    let lang = state.lang;
    let go = |page: Page| {
        let state = state.clone();
        Callback::from(move |_| state.dispatch(Action::Navigate(page)))
    };
    let name = state
        .profile()
        .map(|p| p.display_name.clone())
        .unwrap_or_default();
    let team = state.profile().and_then(|p| p.team_name.clone());
    html! {
        <section class="home" data-testid="home-page">
            <h1 class="app-title" data-testid="app-title">{ t(lang, Key::AppTitle) }</h1>
            <p class="tagline" data-testid="greeting">
                { tf(lang, Key::Hello, name) }
                if let Some(team) = team { <span class="muted">{ format!(" · {team}") }</span> }
            </p>
            <SyncStatusCard />
            if state.is_lead() {
                <nav class="actions lead-actions" data-testid="lead-actions">
                    <BigButton test_id="open-review" icon={IconKind::Review}
                        label={match state.review_waiting {
                            Some(n) if n > 0 => tf(lang, Key::LeadWaiting, n),
                            Some(_) => t(lang, Key::LeadNoneWaiting).to_owned(),
                            None => t(lang, Key::ReviewTitle).to_owned(),
                        }}
                        onclick={go(Page::Review)} />
                    <BigButton test_id="open-team" icon={IconKind::Team}
                        label={t(lang, Key::TeamTitle)} onclick={go(Page::Team)} />
                </nav>
            }
            <nav class="actions">
                <BigButton test_id="new-service-log" icon={IconKind::Log}
                    label={t(lang, Key::NewServiceLog)} onclick={go(Page::LogForm(None))} />
                <BigButton test_id="new-consultation" icon={IconKind::Consultation}
                    label={t(lang, Key::NewConsultation)} onclick={go(Page::ConsultationForm(None))} />
            </nav>
            if props.data.open_consultations > 0 {
                <button type="button" class="link-button" data-testid="open-consultations"
                    onclick={go(Page::Consultations(ConsultationStatus::Open))}>
                    { tf(lang, Key::OpenConsultations, props.data.open_consultations) }
                </button>
            }
            <h2>{ t(lang, Key::TodayWork) }</h2>
            <div class="cards" data-testid="today">
                if props.data.today.is_empty() {
                    <p class="muted">{ t(lang, Key::NothingToday) }</p>
                }
                { for props.data.today.iter().map(|log| html! { <LogCard log={log.clone()} /> }) }
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use app_core::domain::{ActivityType, LogStatus};
    use app_core::sync::status::SyncStatus;

    use super::*;
    use crate::i18n::Lang;
    use crate::testing::{render, signed_in};

    fn log() -> LogSummary {
        LogSummary {
            id: "0192f000-0000-7000-8000-0000000000e1".parse().unwrap(),
            author: "0192f000-0000-7000-8000-000000000001".parse().unwrap(),
            date: "2026-11-29".parse().unwrap(),
            start_time: Some("09:30".into()),
            village: "520324001001".parse().unwrap(),
            village_name: Some("北苑社区居民委员会".into()),
            township_name: Some("凤仪街道".into()),
            activity: ActivityType::Training,
            industry: "茶叶".into(),
            farmers_served: 12,
            trainees: Some(30),
            photo_count: 2,
            status: LogStatus::Submitted,
            review_state: app_core::domain::ReviewState::Submitted,
            duplicate_of: None,
            has_conflicts: false,
            summary: "茶园秋冬管理".into(),
        }
    }

    #[test]
    fn greets_by_name_and_offers_the_two_actions_in_chinese() {
        let html = render(
            signed_in(Lang::ZhCn),
            html! { <HomeView data={HomeData::default()} /> },
        );
        for text in [
            "科特派",
            "您好，张三",
            "正安县科技特派团",
            "新建服务日志",
            "新建咨询",
            "今天还没有记录",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(html.contains(r#"data-testid="new-service-log""#));
        assert!(
            html.contains(r#"data-testid="sync-now""#),
            "enrolled: sync now offered"
        );
    }

    #[test]
    fn lists_todays_logs_and_open_questions() {
        let data = HomeData {
            today: vec![log()],
            open_consultations: 3,
        };
        let html = render(signed_in(Lang::ZhCn), html! { <HomeView {data} /> });
        assert!(html.contains("北苑社区 · 技术培训"), "{html}");
        assert!(html.contains("待审核"));
        assert!(html.contains("2 张照片"));
        assert!(html.contains("待答复咨询 3 条"));
        assert!(!html.contains("今天还没有记录"));
        assert!(!html.contains("同时修改"), "no conflict, no note");

        let mut conflicted = log();
        conflicted.has_conflicts = true;
        let data = HomeData {
            today: vec![conflicted],
            open_consultations: 0,
        };
        let html = render(signed_in(Lang::ZhCn), html! { <HomeView {data} /> });
        assert!(html.contains("这条记录在两台设备上被同时修改过"), "{html}");
        assert!(!html.contains("待答复咨询"));
    }

    #[test]
    fn a_lead_starts_from_the_queue_and_the_team() {
        let mut state = crate::testing::signed_in_as(Lang::ZhCn, app_core::domain::Role::TeamLead);
        state.review_waiting = Some(4);
        let html = render(state, html! { <HomeView data={HomeData::default()} /> });
        for text in ["您好，李明", "待审核日志 4 条", "团队看板", "新建服务日志"]
        {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        let html = render(
            signed_in(Lang::ZhCn),
            html! { <HomeView data={HomeData::default()} /> },
        );
        assert!(
            !html.contains("lead-actions"),
            "a commissioner has no queue"
        );
    }

    #[test]
    fn shows_pending_records_in_the_sync_card_and_reads_in_english() {
        let mut state = signed_in(Lang::En);
        state.sync = Some(SyncStatus {
            pending_records: 1,
            pending_changes: 1,
            ..SyncStatus::default()
        });
        let html = render(state, html! { <HomeView data={HomeData::default()} /> });
        for text in [
            "Hello, 张三",
            "Offline",
            "Records to upload: 1",
            "New service log",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(!html.contains("新建服务日志"));
    }
}
