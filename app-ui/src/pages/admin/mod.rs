//! The sync admin's console (同步管理员控制台): what a user whose role is sync
//! admin sees once signed in, laid out for a desktop or laptop window
//! (about 1440×900) and still usable on a tablet. A sidebar of sections
//! with counts, each section a screen of its own module:
//!
//! - [`conflicts`] 冲突: records whose fields hold concurrent values, each
//!   value side by side with where it came from; pick one or type one.
//! - [`duplicates`] 重复记录: possible duplicates side by side; mark, unmark.
//! - [`quarantine`] 隔离区: refused changes decoded; release or discard.
//! - [`devices`] 设备: sync health and flags; revoke.
//! - [`people`] 用户与团队: teams and accounts, one-time passwords.
//! - [`audit`] 审计日志: filters, pages, CSV export.
//! - [`stats`] 统计: the area's figures and scores for a period, from the
//!   server; the annual sheet exported as XLSX or CSV.
//! - [`settings`] 设置: language, account, this device's sync.
//!
//! Conflicts and duplicates are record edits and work offline; the other
//! screens need the server and say so plainly when it cannot be reached,
//! keeping what the admin typed (the create forms live in the console's
//! state, so even leaving the section keeps them).
//!
//! The console has its own navigation state ([`Console`], given to the
//! sections as [`ConsoleContext`]); the app's routing only decides that
//! the console is shown.

pub mod audit;
pub mod common;
pub mod conflicts;
pub mod devices;
pub mod duplicates;
pub mod people;
pub mod quarantine;
pub mod record_facts;
pub mod settings;
pub mod stats;

use std::collections::HashMap;
use std::rc::Rc;

use app_core::admin::{
    ConflictListQuery, DeviceFlag, DeviceQuery, DeviceState, QuarantineQuery, QuarantineState,
    TeamQuery, TeamView, UserQuery,
};
use app_core::api::ConflictQuery;
use app_core::domain::{Scope, TeamId, Timestamp, UserId};
use yew::prelude::*;

use crate::components::lang_switch::LangSwitch;
use crate::components::notice::NoticeBar;
use crate::hooks::use_interval;
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc;
use crate::state::AppContext;

/// How often the sidebar's counts are read again.
const COUNTS_EVERY_MS: u32 = 60_000;
/// The most items a count reads; more shows as `100+`.
const COUNT_LIMIT: u32 = 100;

/// A section of the console.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Section {
    /// 冲突.
    #[default]
    Conflicts,
    /// 重复记录.
    Duplicates,
    /// 隔离区.
    Quarantine,
    /// 设备.
    Devices,
    /// 用户与团队.
    People,
    /// 审计日志.
    Audit,
    /// 统计.
    Stats,
    /// 设置.
    Settings,
}

impl Section {
    /// Every section, in sidebar order.
    pub const ALL: [Section; 8] = [
        Section::Conflicts,
        Section::Duplicates,
        Section::Quarantine,
        Section::Devices,
        Section::People,
        Section::Audit,
        Section::Stats,
        Section::Settings,
    ];

    /// Its name.
    pub fn key(self) -> Key {
        match self {
            Section::Conflicts => Key::AdmSecConflicts,
            Section::Duplicates => Key::AdmSecDuplicates,
            Section::Quarantine => Key::AdmSecQuarantine,
            Section::Devices => Key::AdmSecDevices,
            Section::People => Key::AdmSecPeople,
            Section::Audit => Key::AdmSecAudit,
            Section::Stats => Key::AdmSecStats,
            Section::Settings => Key::AdmSecSettings,
        }
    }

    /// A stable `data-testid` suffix.
    pub fn id(self) -> &'static str {
        match self {
            Section::Conflicts => "conflicts",
            Section::Duplicates => "duplicates",
            Section::Quarantine => "quarantine",
            Section::Devices => "devices",
            Section::People => "people",
            Section::Audit => "audit",
            Section::Stats => "stats",
            Section::Settings => "settings",
        }
    }
}

/// A count on the sidebar: how many a list read, and whether more wait.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count {
    /// Items read.
    pub n: usize,
    /// Whether more than that exist.
    pub more: bool,
}

impl Count {
    /// `12`, or `100+`.
    pub fn words(self) -> String {
        if self.more {
            format!("{}+", self.n)
        } else {
            self.n.to_string()
        }
    }
}

/// The form that creates an account, kept while the admin moves around.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserForm {
    /// Sign-in name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// `commissioner`, `team_lead` or `sync_admin`.
    pub role: String,
    /// The team (commissioners and leads).
    pub team: Option<TeamId>,
    /// `county` or `province` (sync admins).
    pub admin_level: String,
    /// The county or province code (sync admins).
    pub area_code: String,
}

/// The form that creates a team.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TeamForm {
    /// The county's code.
    pub county: String,
    /// The name.
    pub name: String,
    /// The leading industry.
    pub leading_industry: String,
    /// An existing user to lead it.
    pub lead: Option<UserId>,
}

/// The console's own state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Console {
    /// The section on screen.
    pub section: Section,
    /// The time by the core's clock, for ages.
    pub now: Option<Timestamp>,
    /// Shown names of the area's users, by ID (from the server).
    pub names: HashMap<UserId, String>,
    /// The area's teams (from the server).
    pub teams: Vec<TeamView>,
    /// Whether the server answered the last time it was asked.
    pub online: Option<bool>,
    /// The sidebar's counts.
    pub counts: HashMap<Section, Count>,
    /// The create-account form.
    pub user_form: UserForm,
    /// The create-team form.
    pub team_form: TeamForm,
    /// What the statistics screen shows (period, rows, county tags).
    pub stats: stats::StatsChoice,
    /// Bumped after a change, so lists and counts are read again.
    pub revision: u32,
}

impl Console {
    /// A user's shown name, or the start of their ID.
    pub fn name(&self, id: UserId) -> String {
        self.names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| common::short(id))
    }

    /// A team's name, if known.
    pub fn team_name(&self, id: TeamId) -> Option<String> {
        self.teams
            .iter()
            .find(|t| t.team.id == id)
            .map(|t| t.team.name.clone())
    }
}

/// A change to [`Console`].
#[derive(Clone, Debug, PartialEq)]
pub enum ConsoleAction {
    /// Show a section.
    Open(Section),
    /// The clock was read.
    Now(Timestamp),
    /// The area's users and teams were read.
    People(HashMap<UserId, String>, Vec<TeamView>),
    /// A section's count was read.
    Counted(Section, Count),
    /// The server answered (or could not be reached).
    Online(bool),
    /// The create-account form changed.
    UserForm(UserForm),
    /// The create-team form changed.
    TeamForm(TeamForm),
    /// The statistics screen's choice changed.
    Stats(stats::StatsChoice),
    /// Something changed on the server or in records: read again.
    Changed,
}

impl Reducible for Console {
    type Action = ConsoleAction;

    fn reduce(self: Rc<Self>, action: ConsoleAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            ConsoleAction::Open(s) => next.section = s,
            ConsoleAction::Now(now) => next.now = Some(now),
            ConsoleAction::People(names, teams) => {
                next.names = names;
                next.teams = teams;
            }
            ConsoleAction::Counted(s, c) => {
                next.counts.insert(s, c);
            }
            ConsoleAction::Online(o) => next.online = Some(o),
            ConsoleAction::UserForm(f) => next.user_form = f,
            ConsoleAction::TeamForm(f) => next.team_form = f,
            ConsoleAction::Stats(c) => next.stats = c,
            ConsoleAction::Changed => next.revision = next.revision.wrapping_add(1),
        }
        if next == *self { self } else { Rc::new(next) }
    }
}

/// The handle sections get from context.
pub type ConsoleContext = UseReducerHandle<Console>;

/// The area the admin manages, in words (`正安县`, `省 52`).
pub fn area_words(scope: Option<Scope>, county_name: Option<&str>, lang: Lang) -> String {
    match (scope, county_name) {
        (_, Some(name)) => name.to_owned(),
        (Some(Scope::County(c)), None) => tf(lang, Key::AdmScopeCounty, c),
        (Some(Scope::Province(p)), None) => tf(lang, Key::AdmScopeProvince, p),
        _ => String::new(),
    }
}

fn count_of<T>(page: &app_core::admin::Page<T>) -> Count {
    Count {
        n: page.items.len(),
        more: page.next.is_some(),
    }
}

/// Reads the clock, the area's people and teams, and the counts.
fn refresh(console: ConsoleContext) {
    yew::platform::spawn_local(async move {
        if let Ok(now) = ipc::get_now().await {
            console.dispatch(ConsoleAction::Now(now.at));
        }
        let limit = Some(COUNT_LIMIT);
        let teams = ipc::admin::list_teams(TeamQuery {
            limit: Some(200),
            ..TeamQuery::default()
        })
        .await;
        let users = ipc::admin::list_users(UserQuery {
            limit: Some(200),
            ..UserQuery::default()
        })
        .await;
        let online = !matches!(&teams, Err(e) if ipc::admin::is_offline(e));
        console.dispatch(ConsoleAction::Online(online));
        if let (Ok(teams), Ok(users)) = (teams, users) {
            let names = users
                .items
                .into_iter()
                .map(|u| (u.user.id, u.user.display_name))
                .collect();
            console.dispatch(ConsoleAction::People(names, teams.items));
        }
        let conflicts = match ipc::admin::list_conflicts(ConflictListQuery {
            limit,
            ..ConflictListQuery::default()
        })
        .await
        {
            Ok(page) => Some(Count {
                n: page.items.len(),
                more: page.next.is_some(),
            }),
            Err(_) => ipc::list_conflicts(ConflictQuery {
                limit,
                ..ConflictQuery::default()
            })
            .await
            .ok()
            .map(|l| Count {
                n: l.len(),
                more: l.len() as u32 >= COUNT_LIMIT,
            }),
        };
        if let Some(c) = conflicts {
            console.dispatch(ConsoleAction::Counted(Section::Conflicts, c));
        }
        if let Ok(pairs) = ipc::list_duplicate_candidates().await {
            console.dispatch(ConsoleAction::Counted(
                Section::Duplicates,
                Count {
                    n: pairs.len(),
                    more: false,
                },
            ));
        }
        if let Ok(q) = ipc::admin::list_quarantine(QuarantineQuery {
            state: Some(QuarantineState::Open),
            limit,
            ..QuarantineQuery::default()
        })
        .await
        {
            console.dispatch(ConsoleAction::Counted(Section::Quarantine, count_of(&q)));
        }
        if let Ok(d) = ipc::admin::list_devices(DeviceQuery {
            state: Some(DeviceState::Active),
            flag: Some(DeviceFlag::Any),
            limit,
            ..DeviceQuery::default()
        })
        .await
        {
            console.dispatch(ConsoleAction::Counted(Section::Devices, count_of(&d)));
        }
    });
}

/// Properties of [`AdminConsole`].
#[derive(Clone, Debug, Default, PartialEq, Properties)]
pub struct AdminConsoleProps {
    /// The section to start on (tests pick one).
    #[prop_or_default]
    pub initial: Section,
}

/// The console: sidebar and the section on screen.
#[component]
pub fn AdminConsole(props: &AdminConsoleProps) -> Html {
    let app = use_context::<AppContext>().expect("AdminConsole is rendered inside App");
    let initial = props.initial;
    let console = use_reducer(move || Console {
        section: initial,
        ..Console::default()
    });
    let lang = app.lang;

    {
        let console = console.clone();
        use_interval(
            COUNTS_EVERY_MS,
            true,
            Callback::from(move |_| refresh(console.clone())),
        );
    }
    {
        // The interval reads everything at mount; a change reads it again.
        let console = console.clone();
        let mounted = use_mut_ref(|| false);
        use_effect_with((console.revision, app.revision), move |_| {
            if std::mem::replace(&mut *mounted.borrow_mut(), true) {
                refresh(console);
            }
        });
    }

    let profile = app.profile().cloned();
    let (who, area) = match &profile {
        Some(p) => (
            format!(
                "{} · {}",
                p.display_name,
                crate::i18n::labels::Label::label(p.role, lang)
            ),
            area_words(None, p.county_name.as_deref(), lang),
        ),
        None => (String::new(), String::new()),
    };
    let section = console.section;
    let body = match section {
        Section::Conflicts => html! { <conflicts::ConflictsSection /> },
        Section::Duplicates => html! { <duplicates::DuplicatesSection /> },
        Section::Quarantine => html! { <quarantine::QuarantineSection /> },
        Section::Devices => html! { <devices::DevicesSection /> },
        Section::People => html! { <people::PeopleSection /> },
        Section::Audit => html! { <audit::AuditSection /> },
        Section::Stats => html! { <stats::StatsSection /> },
        Section::Settings => html! { <settings::SettingsSection /> },
    };
    let online_class = match console.online {
        Some(true) => "online",
        Some(false) => "offline",
        None => "unknown",
    };
    html! {
        <ContextProvider<ConsoleContext> context={console.clone()}>
            <div class="console" data-testid="admin-console">
                <nav class="console-nav" aria-label={t(lang, Key::AdmConsoleTitle)}>
                    <div class="console-brand">
                        <span class="console-app">{ t(lang, Key::AppTitle) }</span>
                        <span class="console-title">{ t(lang, Key::AdmConsoleTitle) }</span>
                    </div>
                    <p class="console-who" data-testid="console-who">{ who }</p>
                    if !area.is_empty() {
                        <p class="console-area">{ tf(lang, Key::AdmArea, area) }</p>
                    }
                    <p class={classes!("console-link", online_class)} data-testid="console-online">
                        <span class="sync-dot" aria-hidden="true"></span>
                        { t(lang, if console.online == Some(false) { Key::SyncOffline } else { Key::SyncOnline }) }
                    </p>
                    <ul class="console-sections">
                        { for Section::ALL.into_iter().map(|s| {
                            let open = {
                                let console = console.clone();
                                Callback::from(move |_| console.dispatch(ConsoleAction::Open(s)))
                            };
                            let count = console.counts.get(&s).copied().filter(|c| c.n > 0);
                            html! {
                                <li>
                                    <button type="button" data-testid={format!("section-{}", s.id())}
                                        class={classes!("console-section", (s == section).then_some("active"))}
                                        aria-current={(s == section).then_some("page")} onclick={open}>
                                        <span>{ t(lang, s.key()) }</span>
                                        if let Some(c) = count {
                                            <span class="console-count" data-testid={format!("count-{}", s.id())}>{ c.words() }</span>
                                        }
                                    </button>
                                </li>
                            }
                        }) }
                    </ul>
                    <div class="console-lang"><LangSwitch /></div>
                </nav>
                <main class="console-main">
                    <NoticeBar />
                    <header class="console-head">
                        <h1 data-testid="section-title">{ t(lang, section.key()) }</h1>
                    </header>
                    { body }
                </main>
            </div>
        </ContextProvider<ConsoleContext>>
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Rendering console sections in tests: an admin signed in, a console
    //! with a clock and names.

    use super::*;

    /// A signed-in sync admin of 正安县.
    pub fn admin_state(lang: Lang) -> crate::state::AppState {
        let mut state = crate::testing::signed_in(lang);
        if let crate::state::Remote::Ready(s) = &mut state.session
            && let Some(p) = s.profile.as_mut()
        {
            p.display_name = "赵敏".into();
            p.username = "zhengan-admin".into();
            p.role = app_core::domain::Role::SyncAdmin;
            p.team = None;
            p.team_name = None;
        }
        state
    }

    /// 2026-11-29 09:00 China time.
    pub const NOW: Timestamp = Timestamp::from_millis(1_795_914_000_000);

    #[derive(Properties, PartialEq)]
    struct HostProps {
        console: Console,
        #[prop_or_default]
        children: Html,
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        let initial = props.console.clone();
        let console = use_reducer(move || initial);
        html! {
            <ContextProvider<ConsoleContext> context={console}>
                { props.children.clone() }
            </ContextProvider<ConsoleContext>>
        }
    }

    /// Renders `body` inside the app and a console with a clock and the
    /// names of 张三 and 王芳.
    pub fn render(lang: Lang, body: Html) -> String {
        let mut console = Console {
            now: Some(NOW),
            online: Some(true),
            ..Console::default()
        };
        console
            .names
            .insert(app_core::testing::user_id(1), "张三".into());
        console
            .names
            .insert(app_core::testing::user_id(2), "王芳".into());
        crate::testing::render(admin_state(lang), html! { <Host {console}>{ body }</Host> })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_shows_every_section_in_the_sidebar() {
        let html = crate::testing::render(
            testing::admin_state(Lang::ZhCn),
            html! { <AdminConsole initial={Section::Settings} /> },
        );
        for text in [
            "同步管理控制台",
            "冲突",
            "重复记录",
            "隔离区",
            "设备",
            "用户与团队",
            "审计日志",
            "统计",
            "设置",
            "赵敏 · 同步管理员",
            "管理范围：正安县",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
        assert!(html.contains(r#"data-testid="section-settings""#));
        assert_eq!(html.matches(r#"aria-current="page""#).count(), 1);
    }

    #[test]
    fn counts_read_like_a_badge_and_the_console_state_keeps_forms() {
        assert_eq!(Count { n: 7, more: false }.words(), "7");
        assert_eq!(Count { n: 100, more: true }.words(), "100+");
        let c = Rc::new(Console::default());
        let form = UserForm {
            username: "zhengan-li".into(),
            ..UserForm::default()
        };
        let c = c.reduce(ConsoleAction::UserForm(form.clone()));
        let c = c.reduce(ConsoleAction::Open(Section::Audit));
        let c = c.reduce(ConsoleAction::Open(Section::People));
        assert_eq!(c.user_form, form, "moving between sections keeps the form");
        let same = Rc::clone(&c).reduce(ConsoleAction::Open(Section::People));
        assert!(Rc::ptr_eq(&c, &same));
    }
}
