//! Application state: [`AppState`], the [`Action`]s that change it, and its
//! reducer. Plain Rust, so it is unit-tested without a browser.
//!
//! Components read the state from context ([`AppContext`]) and change it only
//! by dispatching an [`Action`]. Side effects (IPC, browser events) happen in
//! components; their results come back as actions.
//!
//! What to show first follows from the session: not enrolled → enrolment,
//! enrolled but signed out → sign-in, signed in → the [`Page`] on top of the
//! history (see [`AppState::screen`]).

use std::rc::Rc;

use app_core::api::{AppInfo, IpcError, SessionState};
use app_core::domain::{
    ConsultationId, ConsultationStatus, Role, ServiceLogId, TownshipCode, UserId,
};
use app_core::sync::status::SyncStatus;
use chrono::NaiveDate;
use yew::prelude::*;

use crate::i18n::{Key, Lang};

/// Which page is on screen when signed in. The interface routes by this
/// enum, not by URL: the app is a single window with no address bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Page {
    /// The start page: sync state, today's work, the two main actions.
    #[default]
    Home,
    /// A new service log (`None`) or an edit of one.
    LogForm(Option<ServiceLogId>),
    /// One service log.
    LogDetail(ServiceLogId),
    /// My (or the team's) service logs, searchable.
    Records,
    /// Consultations of one status.
    Consultations(ConsultationStatus),
    /// A new consultation (`None`) or an edit of one.
    ConsultationForm(Option<ConsultationId>),
    /// One consultation.
    ConsultationDetail(ConsultationId),
    /// My statistics.
    Stats,
    /// Language, account, server, device, sign out.
    Settings,
    /// The team lead's review queue (审核).
    Review,
    /// One log under review, with its photos, changes and history.
    ReviewLog(ServiceLogId),
    /// The team dashboard (团队).
    Team,
    /// The team's logs of one member or one township over some days (a tap
    /// on the dashboard).
    TeamLogs(LogFilter),
    /// The team's assessment scores and the annual sheet's export.
    TeamReport,
}

/// Which of the team's logs [`Page::TeamLogs`] lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Only this member's.
    pub author: Option<UserId>,
    /// Only in this township.
    pub township: Option<TownshipCode>,
    /// From this day.
    pub from: Option<NaiveDate>,
    /// To this day.
    pub to: Option<NaiveDate>,
}

impl Page {
    /// The bottom-bar tab this page belongs to.
    pub fn tab(self) -> Tab {
        match self {
            Page::Home => Tab::Home,
            Page::LogForm(_) | Page::LogDetail(_) | Page::Records => Tab::Records,
            Page::Consultations(_) | Page::ConsultationForm(_) | Page::ConsultationDetail(_) => {
                Tab::Consultations
            }
            Page::Stats => Tab::Stats,
            Page::Settings => Tab::Settings,
            Page::Review | Page::ReviewLog(_) => Tab::Review,
            Page::Team | Page::TeamLogs(_) | Page::TeamReport => Tab::Team,
        }
    }

    /// The tab this page lights among `tabs` (a lead's own statistics sit
    /// under 团队, which has no 统计 tab of its own).
    pub fn tab_in(self, tabs: &[Tab]) -> Option<Tab> {
        let tab = self.tab();
        if tabs.contains(&tab) {
            Some(tab)
        } else if tab == Tab::Stats && tabs.contains(&Tab::Team) {
            Some(Tab::Team)
        } else {
            None
        }
    }
}

/// The tabs of the bottom bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    /// 首页.
    Home,
    /// 记录.
    Records,
    /// 咨询.
    Consultations,
    /// 统计.
    Stats,
    /// 设置.
    Settings,
    /// 审核 (team leads).
    Review,
    /// 团队 (team leads).
    Team,
}

impl Tab {
    /// A commissioner's tabs, in bar order.
    pub const ALL: [Tab; 5] = [
        Tab::Home,
        Tab::Records,
        Tab::Consultations,
        Tab::Stats,
        Tab::Settings,
    ];

    /// A team lead's tabs: the review queue and the team come second and
    /// third; their own statistics open from 团队.
    pub const LEAD: [Tab; 6] = [
        Tab::Home,
        Tab::Review,
        Tab::Team,
        Tab::Records,
        Tab::Consultations,
        Tab::Settings,
    ];

    /// The tabs someone in `role` gets.
    pub fn for_role(role: Option<Role>) -> &'static [Tab] {
        match role {
            Some(Role::TeamLead) => &Tab::LEAD,
            _ => &Tab::ALL,
        }
    }

    /// The page a tap on the tab opens.
    pub fn page(self) -> Page {
        match self {
            Tab::Home => Page::Home,
            Tab::Records => Page::Records,
            Tab::Consultations => Page::Consultations(ConsultationStatus::Open),
            Tab::Stats => Page::Stats,
            Tab::Settings => Page::Settings,
            Tab::Review => Page::Review,
            Tab::Team => Page::Team,
        }
    }

    /// Its label.
    pub fn key(self) -> Key {
        match self {
            Tab::Home => Key::TabHome,
            Tab::Records => Key::TabRecords,
            Tab::Consultations => Key::TabConsultations,
            Tab::Stats => Key::TabStats,
            Tab::Settings => Key::TabSettings,
            Tab::Review => Key::TabReview,
            Tab::Team => Key::TabTeam,
        }
    }

    /// A stable `data-testid` suffix.
    pub fn id(self) -> &'static str {
        match self {
            Tab::Home => "home",
            Tab::Records => "records",
            Tab::Consultations => "consultations",
            Tab::Stats => "stats",
            Tab::Settings => "settings",
            Tab::Review => "review",
            Tab::Team => "team",
        }
    }
}

/// Whether the device has a network connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Connectivity {
    /// A network interface is up.
    Online,
    /// No network; the app keeps working on local data. Assumed until the
    /// browser says otherwise, because that is the safe assumption in a village.
    #[default]
    Offline,
}

/// Something fetched from the shell.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Remote<T> {
    /// Not answered yet.
    #[default]
    Loading,
    /// Answered.
    Ready(T),
    /// Failed; the error's code is what the interface shows.
    Failed(IpcError),
}

impl<T> From<Result<T, IpcError>> for Remote<T> {
    fn from(result: Result<T, IpcError>) -> Self {
        match result {
            Ok(value) => Remote::Ready(value),
            Err(error) => Remote::Failed(error),
        }
    }
}

/// A short message at the top of the page (saved, warnings, an error).
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    /// The main text.
    pub key: Key,
    /// Further lines (warnings), already keys.
    pub details: Vec<Key>,
    /// Whether it reports a failure.
    pub error: bool,
}

/// What fills the screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Waiting for the session.
    Starting,
    /// The store cannot be used (its error is in the session).
    Broken,
    /// The store is locked: the password opens it.
    Unlock,
    /// Not enrolled yet.
    Enrol,
    /// Enrolled, signed out.
    SignIn,
    /// Signed in, on this page.
    Page(Page),
}

/// Everything the interface shows that is not local to one page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppState {
    /// Interface language.
    pub lang: Lang,
    /// Pages opened, the current one last (never empty).
    pub history: Vec<Page>,
    /// Network state as the webview sees it.
    pub connectivity: Connectivity,
    /// Version and data directory, from the shell.
    pub app_info: Remote<AppInfo>,
    /// Enrolment and sign-in.
    pub session: Remote<SessionState>,
    /// The last sync status read.
    pub sync: Option<SyncStatus>,
    /// The message on top, if any.
    pub notice: Option<Notice>,
    /// Bumped when records change here (a save, or a sync that
    /// succeeded), so lists reload.
    pub revision: u32,
    /// Logs waiting in the team lead's review queue: the count on the tab.
    pub review_waiting: Option<u64>,
}

impl AppState {
    /// The state the app starts in, in `lang` on `page`.
    pub fn new(lang: Lang, page: Page) -> Self {
        Self {
            lang,
            history: vec![page],
            ..Self::default()
        }
    }

    /// The page on top.
    pub fn page(&self) -> Page {
        self.history.last().copied().unwrap_or_default()
    }

    /// What fills the screen, from the session and the page.
    pub fn screen(&self) -> Screen {
        match &self.session {
            Remote::Loading => Screen::Starting,
            Remote::Failed(_) => Screen::Broken,
            Remote::Ready(s) if s.locked => Screen::Unlock,
            Remote::Ready(s) if s.profile.is_none() => Screen::Enrol,
            Remote::Ready(s) if !s.signed_in => Screen::SignIn,
            Remote::Ready(_) => Screen::Page(self.page()),
        }
    }

    /// The signed-in user's profile.
    pub fn profile(&self) -> Option<&app_core::api::Profile> {
        match &self.session {
            Remote::Ready(s) if s.signed_in => s.profile.as_ref(),
            _ => None,
        }
    }

    /// The signed-in user's role.
    pub fn role(&self) -> Option<Role> {
        self.profile().map(|p| p.role)
    }

    /// Whether a team lead is signed in.
    pub fn is_lead(&self) -> bool {
        self.role() == Some(Role::TeamLead)
    }

    /// The tabs of the signed-in user.
    pub fn tabs(&self) -> &'static [Tab] {
        Tab::for_role(self.role())
    }
}

/// A change to [`AppState`].
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Show the interface in this language.
    SetLang(Lang),
    /// Open a page on top of the current one.
    Navigate(Page),
    /// Replace the current page (after a save: the form becomes the record).
    Replace(Page),
    /// Go back one page (to home at the bottom).
    Back,
    /// Open a tab: its page alone.
    OpenTab(Tab),
    /// The browser reported a connectivity change.
    ConnectivityChanged(Connectivity),
    /// The shell answered `app_info`.
    AppInfoLoaded(Result<AppInfo, IpcError>),
    /// The shell answered a session question (start, enrol, sign in/out).
    SessionLoaded(Result<SessionState, IpcError>),
    /// A sync status was read.
    SyncLoaded(SyncStatus),
    /// Show a message.
    Notify(Notice),
    /// Hide the message.
    DismissNotice,
    /// Records changed on this device.
    RecordsChanged,
    /// The review queue's count was read.
    ReviewWaiting(u64),
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::SetLang(lang) => next.lang = lang,
            Action::Navigate(page) => {
                if next.page() != page {
                    next.history.push(page);
                }
                next.notice = None;
            }
            Action::Replace(page) => {
                next.history.pop();
                next.history.push(page);
            }
            Action::Back => {
                next.history.pop();
                if next.history.is_empty() {
                    next.history.push(Page::Home);
                }
                next.notice = None;
            }
            Action::OpenTab(tab) => {
                next.history = vec![tab.page()];
                next.notice = None;
            }
            Action::ConnectivityChanged(c) => next.connectivity = c,
            Action::AppInfoLoaded(result) => next.app_info = result.into(),
            Action::SessionLoaded(result) => {
                if let Ok(s) = &result {
                    if let Some(lang) = s.lang.as_deref().and_then(Lang::from_tag) {
                        next.lang = lang;
                    }
                    // A new session starts at home.
                    if !s.signed_in {
                        next.history = vec![Page::Home];
                    }
                }
                next.session = result.into();
            }
            Action::SyncLoaded(status) => {
                // A round that succeeded may have brought records: lists
                // and counts read again.
                let before = next.sync.as_ref().and_then(|s| s.last_success);
                if status.last_success.is_some() && status.last_success != before {
                    next.revision = next.revision.wrapping_add(1);
                }
                next.sync = Some(status);
            }
            Action::Notify(notice) => next.notice = Some(notice),
            Action::DismissNotice => next.notice = None,
            Action::RecordsChanged => next.revision = next.revision.wrapping_add(1),
            Action::ReviewWaiting(n) => next.review_waiting = Some(n),
        }
        // Keep the same Rc when nothing changed, so nothing re-renders.
        if next == *self { self } else { Rc::new(next) }
    }
}

/// The handle components get from context: read the state, dispatch actions.
pub type AppContext = UseReducerHandle<AppState>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::codes;

    fn reduce(state: AppState, action: Action) -> AppState {
        (*Rc::new(state).reduce(action)).clone()
    }

    fn session(enrolled: bool, signed_in: bool, lang: Option<&str>) -> SessionState {
        SessionState {
            locked: false,
            profile: enrolled.then(|| app_core::api::Profile {
                user: "0192f000-0000-7000-8000-000000000001".parse().unwrap(),
                username: "zhengan-zhang".into(),
                display_name: "张三".into(),
                role: app_core::domain::Role::Commissioner,
                team: None,
                team_name: None,
                county: None,
                county_name: None,
                server: "http://127.0.0.1:8750".into(),
                device: "0192f000-0000-7000-8000-0000000000dd".parse().unwrap(),
            }),
            signed_in,
            lang: lang.map(str::to_owned),
        }
    }

    #[test]
    fn starts_in_chinese_on_home_offline_and_waiting_for_the_session() {
        let state = AppState::new(Lang::default(), Page::default());
        assert_eq!(state.lang, Lang::ZhCn);
        assert_eq!(state.page(), Page::Home);
        assert_eq!(state.connectivity, Connectivity::Offline);
        assert_eq!(state.screen(), Screen::Starting);
    }

    #[test]
    fn the_session_decides_between_enrolment_sign_in_and_pages() {
        let base = AppState::new(Lang::ZhCn, Page::Home);
        let s = reduce(
            base.clone(),
            Action::SessionLoaded(Ok(session(false, false, None))),
        );
        assert_eq!(s.screen(), Screen::Enrol);
        let s = reduce(
            base.clone(),
            Action::SessionLoaded(Ok(session(true, false, None))),
        );
        assert_eq!(s.screen(), Screen::SignIn);
        let s = reduce(
            base.clone(),
            Action::SessionLoaded(Ok(session(true, true, None))),
        );
        assert_eq!(s.screen(), Screen::Page(Page::Home));
        assert_eq!(s.profile().unwrap().display_name, "张三");
        let locked = SessionState {
            locked: true,
            ..session(false, false, None)
        };
        let s = reduce(base.clone(), Action::SessionLoaded(Ok(locked)));
        assert_eq!(s.screen(), Screen::Unlock);
        assert!(s.profile().is_none());
        let s = reduce(
            base,
            Action::SessionLoaded(Err(IpcError::new("store.open_failed", "x"))),
        );
        assert_eq!(s.screen(), Screen::Broken);
    }

    #[test]
    fn the_remembered_language_wins_at_start() {
        let s = reduce(
            AppState::default(),
            Action::SessionLoaded(Ok(session(true, true, Some("en")))),
        );
        assert_eq!(s.lang, Lang::En);
        let s = reduce(
            AppState::new(Lang::En, Page::Home),
            Action::SessionLoaded(Ok(session(true, true, None))),
        );
        assert_eq!(
            s.lang,
            Lang::En,
            "no remembered choice keeps the current one"
        );
    }

    #[test]
    fn signing_out_returns_to_home_under_the_sign_in_screen() {
        let s = reduce(
            AppState::new(Lang::ZhCn, Page::Stats),
            Action::SessionLoaded(Ok(session(true, false, None))),
        );
        assert_eq!(s.history, vec![Page::Home]);
    }

    #[test]
    fn navigation_keeps_a_history_and_back_returns() {
        let s = AppState::new(Lang::ZhCn, Page::Home);
        let s = reduce(s, Action::Navigate(Page::LogForm(None)));
        assert_eq!(s.page(), Page::LogForm(None));
        let id: ServiceLogId = "0192f000-0000-7000-8000-0000000000ee".parse().unwrap();
        let s = reduce(s, Action::Replace(Page::LogDetail(id)));
        assert_eq!(s.history, vec![Page::Home, Page::LogDetail(id)]);
        let s = reduce(s, Action::Back);
        assert_eq!(s.page(), Page::Home);
        let s = reduce(s, Action::Back);
        assert_eq!(s.page(), Page::Home, "back at the bottom stays home");
        let s = reduce(s, Action::OpenTab(Tab::Stats));
        assert_eq!(s.history, vec![Page::Stats]);
        assert_eq!(s.page().tab(), Tab::Stats);
    }

    #[test]
    fn notices_show_and_go_away_on_navigation() {
        let notice = Notice {
            key: Key::SavedOk,
            details: vec![],
            error: false,
        };
        let s = reduce(AppState::default(), Action::Notify(notice.clone()));
        assert_eq!(s.notice, Some(notice));
        let s = reduce(s, Action::Navigate(Page::Records));
        assert_eq!(s.notice, None);
    }

    #[test]
    fn stores_app_info_or_its_error() {
        let info = AppInfo {
            version: "0.1.0".into(),
            data_dir: "/data".into(),
        };
        let ok = reduce(AppState::default(), Action::AppInfoLoaded(Ok(info.clone())));
        assert_eq!(ok.app_info, Remote::Ready(info));
        let error = IpcError::new(codes::UNAVAILABLE, "no tauri");
        let failed = reduce(
            AppState::default(),
            Action::AppInfoLoaded(Err(error.clone())),
        );
        assert_eq!(failed.app_info, Remote::Failed(error));
    }

    #[test]
    fn a_lead_gets_review_and_team_tabs_and_their_statistics_sit_under_team() {
        assert_eq!(Tab::for_role(Some(Role::Commissioner)), &Tab::ALL);
        assert_eq!(Tab::for_role(None), &Tab::ALL);
        let lead = Tab::for_role(Some(Role::TeamLead));
        assert_eq!(
            lead,
            [
                Tab::Home,
                Tab::Review,
                Tab::Team,
                Tab::Records,
                Tab::Consultations,
                Tab::Settings
            ]
        );
        assert_eq!(Page::Stats.tab_in(lead), Some(Tab::Team));
        assert_eq!(Page::Stats.tab_in(&Tab::ALL), Some(Tab::Stats));
        let id: ServiceLogId = "0192f000-0000-7000-8000-0000000000ee".parse().unwrap();
        assert_eq!(Page::ReviewLog(id).tab_in(lead), Some(Tab::Review));
        assert_eq!(
            Page::TeamLogs(LogFilter::default()).tab_in(lead),
            Some(Tab::Team)
        );
        assert_eq!(Page::Review.tab_in(&Tab::ALL), None);
    }

    #[test]
    fn a_sync_that_succeeds_reloads_lists_once() {
        let at = app_core::domain::Timestamp::from_millis(1_795_914_000_000);
        let synced = |t| SyncStatus {
            last_success: t,
            ..SyncStatus::default()
        };
        let s = reduce(AppState::default(), Action::SyncLoaded(synced(None)));
        assert_eq!(s.revision, 0);
        let s = reduce(s, Action::SyncLoaded(synced(Some(at))));
        assert_eq!(s.revision, 1);
        let s = reduce(s, Action::SyncLoaded(synced(Some(at))));
        assert_eq!(s.revision, 1, "the same round again changes nothing");
        let s = reduce(s, Action::SyncLoaded(synced(Some(at.add_millis(60_000)))));
        assert_eq!(s.revision, 2);
        let s = reduce(s, Action::ReviewWaiting(7));
        assert_eq!(s.review_waiting, Some(7));
    }

    #[test]
    fn an_action_that_changes_nothing_keeps_the_same_state() {
        let state = Rc::new(AppState::new(Lang::ZhCn, Page::Home));
        let same = Rc::clone(&state).reduce(Action::Navigate(Page::Home));
        assert!(Rc::ptr_eq(&state, &same));
    }
}
