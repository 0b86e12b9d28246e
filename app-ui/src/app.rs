//! The root component: owns [`AppState`], provides it as context, starts the
//! app-wide effects (session, connectivity, `app_info`, sync polling,
//! document language) and shows what [`AppState::screen`] says.
//!
//! Routing is a `match` on the state: the app is one window with no address
//! bar, so there is no URL router. A new page is a [`Page`] variant, a
//! module in `pages/`, and one arm below.

use app_core::domain::Role;
use yew::prelude::*;

use crate::browser;
use crate::components::lang_switch::LangSwitch;
use crate::components::notice::{ErrorLine, NoticeBar};
use crate::components::tab_bar::TabBar;
use crate::hooks::use_interval;
use crate::i18n::{Key, Lang, t};
use crate::ipc;
use crate::pages::consultation_detail::ConsultationDetailPage;
use crate::pages::consultation_form::ConsultationFormPage;
use crate::pages::consultations::ConsultationsPage;
use crate::pages::enrol::EnrolPage;
use crate::pages::home::HomePage;
use crate::pages::lead::dashboard::TeamPage;
use crate::pages::lead::queue::QueuePage;
use crate::pages::lead::report::TeamReportPage;
use crate::pages::lead::review::ReviewLogPage;
use crate::pages::lead::team_logs::TeamLogsPage;
use crate::pages::log_detail::LogDetailPage;
use crate::pages::log_form::LogFormPage;
use crate::pages::records::RecordsPage;
use crate::pages::settings::SettingsPage;
use crate::pages::sign_in::SignInPage;
use crate::pages::stats::StatsPage;
use crate::pages::unlock::UnlockPage;
use crate::state::{Action, AppContext, AppState, Page, Remote, Screen};

/// How often the sync state is read.
const SYNC_POLL_MS: u32 = 1_500;

/// Where the app starts. The browser build uses the defaults; tests pick a
/// language or a page.
#[derive(Clone, Debug, Default, PartialEq, Properties)]
pub struct AppProps {
    /// The language to start in (zh-CN unless told otherwise or remembered).
    #[prop_or_default]
    pub initial_lang: Lang,
    /// The page to start on (home unless told otherwise).
    #[prop_or_default]
    pub initial_page: Page,
}

/// The whole interface.
#[component]
pub fn App(props: &AppProps) -> Html {
    let (lang, page) = (props.initial_lang, props.initial_page);
    let state = use_reducer(move || AppState::new(lang, page));

    // The session decides what to show; connectivity and app facts, once.
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            state.dispatch(Action::ConnectivityChanged(browser::connectivity()));
            let watch = {
                let state = state.clone();
                browser::watch_connectivity(move |c| state.dispatch(Action::ConnectivityChanged(c)))
            };
            yew::platform::spawn_local(async move {
                state.dispatch(Action::SessionLoaded(ipc::get_session().await));
                state.dispatch(Action::AppInfoLoaded(ipc::app_info().await));
            });
            move || drop(watch)
        });
    }

    // The sync state, read every 1.5 s while enrolled.
    {
        let enrolled = matches!(&state.session, Remote::Ready(s) if s.profile.is_some());
        let state = state.clone();
        use_interval(
            SYNC_POLL_MS,
            enrolled,
            Callback::from(move |_| {
                let state = state.clone();
                yew::platform::spawn_local(async move {
                    match ipc::get_sync_status().await {
                        Ok(status) => state.dispatch(Action::SyncLoaded(status)),
                        // The device learned it was revoked and locked its
                        // store: the session now says so (the unlock page).
                        Err(e) if e.code == "store.locked" => {
                            state.dispatch(Action::SessionLoaded(ipc::get_session().await));
                        }
                        Err(_) => {}
                    }
                });
            }),
        );
    }

    use_effect_with(state.lang, |lang| browser::set_document_lang(lang.tag()));

    // A team lead online: the team's roster (names, last syncs) from the
    // server, kept for offline use; lists read again when it arrives.
    {
        let lead = state.is_lead();
        let online = state.connectivity == crate::state::Connectivity::Online;
        let state = state.clone();
        use_effect_with((lead, online), move |&(lead, online)| {
            if lead && online {
                yew::platform::spawn_local(async move {
                    if let Ok(Some(_)) = ipc::refresh_team().await {
                        state.dispatch(Action::RecordsChanged);
                    }
                });
            }
        });
    }

    // A team lead: the count of logs waiting on the 审核 tab, read again
    // after every change here and every sync that succeeded.
    {
        let lead = state.is_lead();
        let state = state.clone();
        use_effect_with((lead, state.revision), move |(lead, _)| {
            if *lead {
                yew::platform::spawn_local(async move {
                    let query = app_core::api::ReviewQueueQuery {
                        limit: Some(1),
                        ..Default::default()
                    };
                    if let Ok(q) = ipc::get_review_queue(query).await {
                        state.dispatch(Action::ReviewWaiting(q.total));
                    }
                });
            }
        });
    }

    let screen = state.screen();
    let body = match screen {
        Screen::Starting => html! { <p class="muted center">{ t(state.lang, Key::Loading) }</p> },
        Screen::Broken => match &state.session {
            Remote::Failed(e) => html! { <ErrorLine code={e.code.clone()} /> },
            _ => html! {},
        },
        Screen::Enrol => html! { <EnrolPage /> },
        Screen::SignIn => html! { <SignInPage /> },
        Screen::Unlock => html! { <UnlockPage /> },
        Screen::Page(page) => page_html(page),
    };
    let signed_in = matches!(screen, Screen::Page(_));
    // A sync admin signed in gets the console, with its own navigation.
    if signed_in && state.profile().is_some_and(|p| p.role == Role::SyncAdmin) {
        return html! {
            <ContextProvider<AppContext> context={state}>
                <crate::pages::admin::AdminConsole />
            </ContextProvider<AppContext>>
        };
    }

    html! {
        <ContextProvider<AppContext> context={state}>
            <div class={classes!("app", signed_in.then_some("with-tabs"))}>
                <header class="app-bar">
                    <LangSwitch />
                </header>
                <main class="page">
                    <NoticeBar />
                    { body }
                </main>
                if signed_in {
                    <TabBar />
                }
            </div>
        </ContextProvider<AppContext>>
    }
}

fn page_html(page: Page) -> Html {
    match page {
        Page::Home => html! { <HomePage /> },
        Page::LogForm(id) => html! { <LogFormPage key={format!("log-form-{id:?}")} {id} /> },
        Page::LogDetail(id) => html! { <LogDetailPage key={format!("log-{id}")} {id} /> },
        Page::Records => html! { <RecordsPage /> },
        Page::Consultations(status) => html! { <ConsultationsPage {status} /> },
        Page::ConsultationForm(id) => {
            html! { <ConsultationFormPage key={format!("consultation-form-{id:?}")} {id} /> }
        }
        Page::ConsultationDetail(id) => {
            html! { <ConsultationDetailPage key={format!("consultation-{id}")} {id} /> }
        }
        Page::Stats => html! { <StatsPage /> },
        Page::Settings => html! { <SettingsPage /> },
        Page::Review => html! { <QueuePage /> },
        Page::ReviewLog(id) => html! { <ReviewLogPage key={format!("review-{id}")} {id} /> },
        Page::Team => html! { <TeamPage /> },
        Page::TeamLogs(filter) => {
            html! { <TeamLogsPage key={format!("team-logs-{filter:?}")} {filter} /> }
        }
        Page::TeamReport => html! { <TeamReportPage /> },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(props: AppProps) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for rendering");
        rt.block_on(
            yew::ServerRenderer::<App>::with_props(move || props)
                .hydratable(false)
                .render(),
        )
    }

    #[test]
    fn starts_by_waiting_for_the_session_with_the_language_switch() {
        let html = render(AppProps::default());
        assert!(html.contains("正在加载"), "{html}");
        assert!(html.contains("English"), "{html}");
        assert!(!html.contains("tab-bar"), "no tabs before sign-in: {html}");
    }

    #[test]
    fn the_signed_in_frame_has_five_tabs() {
        let html = crate::testing::render(
            crate::testing::signed_in(Lang::ZhCn),
            html! { <crate::components::tab_bar::TabBar /> },
        );
        for text in ["首页", "记录", "咨询", "统计", "设置"] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(html.contains(r#"aria-current="page""#));
    }

    #[test]
    fn enrolment_and_sign_in_pages_read_plainly() {
        let mut state = crate::testing::signed_in(Lang::ZhCn);
        let html = crate::testing::render(state.clone(), html! { <EnrolPage /> });
        for text in ["注册本设备", "服务器地址", "用户名", "密码", "注册并登录"]
        {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        if let Remote::Ready(s) = &mut state.session {
            s.signed_in = false;
        }
        let html = crate::testing::render(state, html! { <SignInPage /> });
        assert!(html.contains("张三，请输入密码"), "{html}");
        assert!(html.contains("无需联网"));
    }

    #[test]
    fn the_unlock_page_asks_for_the_password_in_either_language() {
        let mut state = crate::testing::signed_in(Lang::ZhCn);
        state.session = Remote::Ready(app_core::api::SessionState {
            locked: true,
            profile: None,
            signed_in: false,
            lang: None,
        });
        let html = crate::testing::render(state.clone(), html! { <UnlockPage /> });
        for text in ["本机数据已加锁", "密码", "解锁", "unlock-password"] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        state.lang = Lang::En;
        let html = crate::testing::render(state, html! { <UnlockPage /> });
        assert!(html.contains("Unlock"), "{html}");
        assert!(html.contains("locked"), "{html}");
    }
}
