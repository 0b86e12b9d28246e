//! Application state: [`AppState`], the [`Action`]s that change it, and its
//! reducer. Plain Rust, so it is unit-tested without a browser.
//!
//! Components read the state from context ([`AppContext`]) and change it only
//! by dispatching an [`Action`]. Side effects (IPC, browser events) happen in
//! components; their results come back as actions.

use std::rc::Rc;

use yew::prelude::*;

use crate::i18n::Lang;
use crate::ipc::{AppInfo, IpcError};

/// Which page is on screen. The interface routes by this enum, not by URL:
/// the app is a single window with no address bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Page {
    /// The start page: sync state and the two main actions.
    #[default]
    Home,
    /// Record a service visit (新建服务日志). Not built yet.
    NewServiceLog,
    /// Record a farmer consultation (新建咨询). Not built yet.
    NewConsultation,
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

/// Everything the interface shows that is not local to one component.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppState {
    /// Interface language.
    pub lang: Lang,
    /// The page on screen.
    pub page: Page,
    /// Network state as the webview sees it.
    pub connectivity: Connectivity,
    /// Version and data directory, from the shell.
    pub app_info: Remote<AppInfo>,
}

impl AppState {
    /// The state the app starts in, in `lang` on `page`.
    pub fn new(lang: Lang, page: Page) -> Self {
        Self {
            lang,
            page,
            ..Self::default()
        }
    }
}

/// A change to [`AppState`].
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Show the interface in this language.
    SetLang(Lang),
    /// Go to a page.
    Navigate(Page),
    /// The browser reported a connectivity change.
    ConnectivityChanged(Connectivity),
    /// The shell answered `app_info`.
    AppInfoLoaded(Result<AppInfo, IpcError>),
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::SetLang(lang) => next.lang = lang,
            Action::Navigate(page) => next.page = page,
            Action::ConnectivityChanged(c) => next.connectivity = c,
            Action::AppInfoLoaded(result) => next.app_info = result.into(),
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

    #[test]
    fn starts_in_chinese_on_home_offline_and_loading() {
        let state = AppState::default();
        assert_eq!(state.lang, Lang::ZhCn);
        assert_eq!(state.page, Page::Home);
        assert_eq!(state.connectivity, Connectivity::Offline);
        assert_eq!(state.app_info, Remote::Loading);
    }

    #[test]
    fn switches_language_and_back() {
        let en = reduce(AppState::default(), Action::SetLang(Lang::En));
        assert_eq!(en.lang, Lang::En);
        assert_eq!(reduce(en, Action::SetLang(Lang::ZhCn)).lang, Lang::ZhCn);
    }

    #[test]
    fn navigates_between_pages() {
        let state = reduce(AppState::default(), Action::Navigate(Page::NewServiceLog));
        assert_eq!(state.page, Page::NewServiceLog);
        assert_eq!(reduce(state, Action::Navigate(Page::Home)).page, Page::Home);
    }

    #[test]
    fn records_connectivity() {
        let state = reduce(
            AppState::default(),
            Action::ConnectivityChanged(Connectivity::Online),
        );
        assert_eq!(state.connectivity, Connectivity::Online);
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
    fn an_action_that_changes_nothing_keeps_the_same_state() {
        let state = Rc::new(AppState::default());
        let same = Rc::clone(&state).reduce(Action::Navigate(Page::Home));
        assert!(Rc::ptr_eq(&state, &same));
    }

    #[test]
    fn other_fields_survive_an_action() {
        let state = AppState::new(Lang::En, Page::NewConsultation);
        let state = reduce(state, Action::ConnectivityChanged(Connectivity::Online));
        assert_eq!((state.lang, state.page), (Lang::En, Page::NewConsultation));
    }
}
