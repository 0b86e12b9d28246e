//! Users and teams (用户与团队): the area's accounts and teams. Create a
//! team (county, name, leading industry, lead); create an account with a
//! role and scope; move a user to another team; change a scope; disable or
//! enable an account; reset a password. A new account and a reset give a
//! one-time password, shown once in a dialog that says so, with a copy
//! button; the user sets their own at first sign-in. Everything here is
//! the server's to check and audit; the forms keep what was typed when it
//! cannot be reached.

use app_core::admin::{NewTeam, NewUser, Page, TeamView, UserQuery, UserView};
use app_core::domain::{CountyCode, ProvinceCode, Role, Scope, TeamId, UserId};
use yew::prelude::*;

use super::common::{ConfirmBar, PAGE_SIZE, Pager, ready_page, use_paged};
use super::{ConsoleAction, ConsoleContext, TeamForm, UserForm};
use crate::components::field::event_value;
use crate::components::notice::ErrorLine;
use crate::i18n::labels::Label;
use crate::i18n::{Key, Lang, t, tf};
use crate::ipc::{self, IpcError};
use crate::state::{AppContext, Remote};

/// A one-time password to show once: for whom, and the password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Otp {
    /// The user's shown name and sign-in name.
    pub who: String,
    /// The password.
    pub password: String,
}

/// The list's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserFilters {
    /// Text in the sign-in or shown name.
    pub q: String,
    /// A role.
    pub role: Option<Role>,
    /// A team.
    pub team: Option<TeamId>,
    /// Enabled or disabled accounts.
    pub active: Option<bool>,
}

/// A scope in words.
pub fn scope_words(scope: Scope, lang: Lang, team_name: Option<String>) -> String {
    match scope {
        Scope::Own => t(lang, Key::AdmScopeOwn).to_owned(),
        Scope::Team(_) => team_name.unwrap_or_else(|| t(lang, Key::AdmScopeTeam).to_owned()),
        Scope::County(c) => tf(lang, Key::AdmScopeCounty, c),
        Scope::Province(p) => tf(lang, Key::AdmScopeProvince, p),
    }
}

/// The new account the form describes.
pub fn new_user(form: &UserForm) -> NewUser {
    let role = Role::from_code(&form.role).unwrap_or(Role::Commissioner);
    let scope = match role {
        Role::SyncAdmin => match form.admin_level.as_str() {
            "province" => form
                .area_code
                .trim()
                .parse::<ProvinceCode>()
                .ok()
                .map(Scope::Province),
            _ => CountyCode::parse(form.area_code.trim())
                .ok()
                .map(Scope::County),
        },
        _ => None,
    };
    NewUser {
        username: form.username.trim().to_owned(),
        display_name: form.display_name.trim().to_owned(),
        role,
        scope,
        team: (role != Role::SyncAdmin).then_some(form.team).flatten(),
    }
}

/// The users and teams screen.
#[component]
pub fn PeopleSection() -> Html {
    let app = use_context::<AppContext>().expect("inside App");
    let console = use_context::<ConsoleContext>().expect("inside the console");
    let lang = app.lang;
    let filters = use_state(UserFilters::default);
    let otp = use_state(|| None::<Otp>);
    let message = use_state(|| None::<Result<String, IpcError>>);
    let paged = use_paged(
        ((*filters).clone(), console.revision),
        |(f, _): (UserFilters, u32), cursor| {
            ipc::admin::list_users(UserQuery {
                q: Some(f.q.trim().to_owned()).filter(|q| !q.is_empty()),
                role: f.role,
                team: f.team,
                active: f.active,
                cursor,
                limit: Some(PAGE_SIZE),
                ..UserQuery::default()
            })
        },
    );
    // One action on a user, its answer shown and the lists read again.
    let act = {
        let (console, message, otp) = (console.clone(), message.clone(), otp.clone());
        Callback::from(move |action: UserAction| {
            let (console, message, otp) = (console.clone(), message.clone(), otp.clone());
            yew::platform::spawn_local(async move {
                let answer = match action {
                    UserAction::Move(id, team) => ipc::admin::move_user(id, team).await,
                    UserAction::Scope(id, scope) => ipc::admin::change_scope(id, scope).await,
                    UserAction::Active(id, on) => ipc::admin::set_active(id, on).await,
                    UserAction::Reset(id) => match ipc::admin::reset_password(id).await {
                        Ok(r) => {
                            otp.set(Some(Otp {
                                who: format!(
                                    "{} · {}",
                                    r.user.user.display_name, r.user.user.username
                                ),
                                password: r.one_time_password,
                            }));
                            Ok(r.user)
                        }
                        Err(e) => Err(e),
                    },
                };
                match answer {
                    Ok(u) => {
                        message.set(Some(Ok(tf(lang, Key::AdmUserSaved, u.user.display_name))));
                        console.dispatch(ConsoleAction::Changed);
                    }
                    Err(e) => message.set(Some(Err(e))),
                }
            });
        })
    };
    let set = |f: fn(&mut UserFilters, String)| {
        let filters = filters.clone();
        Callback::from(move |e: Event| {
            let mut next = (*filters).clone();
            f(&mut next, event_value(&e));
            filters.set(next);
        })
    };
    let close_otp = {
        let otp = otp.clone();
        Callback::from(move |_| otp.set(None))
    };
    let on_created = {
        let (otp, message, console) = (otp.clone(), message.clone(), console.clone());
        Callback::from(move |created: Otp| {
            message.set(Some(Ok(tf(lang, Key::AdmUserCreated, created.who.clone()))));
            otp.set(Some(created));
            console.dispatch(ConsoleAction::Changed);
        })
    };
    html! {
        <div class="console-split people" data-testid="people-section">
            <div class="console-list">
                <div class="filters">
                    <label class="filter grow">
                        <span>{ t(lang, Key::AdmSearchUsers) }</span>
                        <input type="search" data-testid="filter-q" value={filters.q.clone()} onchange={set(|f, v| f.q = v)} />
                    </label>
                    <label class="filter">
                        <span>{ t(lang, Key::Role) }</span>
                        <select data-testid="filter-role" onchange={set(|f, v| f.role = Role::from_code(&v))}>
                            <option value="" selected={filters.role.is_none()}>{ t(lang, Key::AdmAll) }</option>
                            { for [Role::Commissioner, Role::TeamLead, Role::SyncAdmin].into_iter().map(|r| html! {
                                <option value={r.code()} selected={filters.role == Some(r)}>{ r.label(lang) }</option>
                            }) }
                        </select>
                    </label>
                    <label class="filter">
                        <span>{ t(lang, Key::AdmColTeam) }</span>
                        <select data-testid="filter-user-team" onchange={set(|f, v| f.team = v.parse().ok())}>
                            <option value="" selected={filters.team.is_none()}>{ t(lang, Key::AdmAll) }</option>
                            { for console.teams.iter().map(|tv| html! {
                                <option value={tv.team.id.to_string()} selected={filters.team == Some(tv.team.id)}>{ tv.team.name.clone() }</option>
                            }) }
                        </select>
                    </label>
                    <label class="filter">
                        <span>{ t(lang, Key::AdmColState) }</span>
                        <select data-testid="filter-active" onchange={set(|f, v| f.active = v.parse().ok())}>
                            <option value="" selected={filters.active.is_none()}>{ t(lang, Key::AdmAll) }</option>
                            <option value="true" selected={filters.active == Some(true)}>{ t(lang, Key::AdmActive) }</option>
                            <option value="false" selected={filters.active == Some(false)}>{ t(lang, Key::AdmDisabled) }</option>
                        </select>
                    </label>
                </div>
                { match &*message {
                    Some(Ok(text)) => html! { <p class="ok-box" data-testid="people-result">{ text.clone() }</p> },
                    Some(Err(e)) => html! { <ErrorLine code={e.code.clone()} /> },
                    None => html! {},
                } }
                <UserTable {lang} remote={paged.remote.clone()} teams={console.teams.clone()} on_action={act}
                    on_retry={paged.reload.clone()} />
                if let Remote::Ready(page) = &paged.remote {
                    <Pager {lang} number={paged.number} count={page.items.len()} has_next={page.next.is_some()}
                        on_prev={paged.prev.clone()} on_next={paged.next.clone()} />
                }
            </div>
            <div class="console-side">
                <NewUserForm {on_created} />
                <NewTeamForm />
                <h2>{ t(lang, Key::AdmTeams) }</h2>
                <TeamList {lang} teams={console.teams.clone()} names={console.names.clone()} />
            </div>
            if let Some(o) = &*otp {
                <OtpDialog {lang} otp={o.clone()} on_close={close_otp} />
            }
        </div>
    }
}

/// What the admin does to an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserAction {
    /// Move to a team.
    Move(UserId, TeamId),
    /// Change the scope.
    Scope(UserId, Scope),
    /// Enable (`true`) or disable.
    Active(UserId, bool),
    /// Reset the password.
    Reset(UserId),
}

/// Properties of [`UserTable`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct UserTableProps {
    /// Interface language.
    pub lang: Lang,
    /// The page.
    pub remote: Remote<Page<UserView>>,
    /// The area's teams.
    pub teams: Vec<TeamView>,
    /// An action on an account.
    pub on_action: Callback<UserAction>,
    /// Try again after a failure.
    pub on_retry: Callback<()>,
}

/// The accounts; a row opens its actions.
#[component]
pub fn UserTable(props: &UserTableProps) -> Html {
    let lang = props.lang;
    let open = use_state(|| None::<UserId>);
    let page = match ready_page(&props.remote, lang, &props.on_retry) {
        Ok(page) => page,
        Err(shown) => return shown,
    };
    html! {
        <table class="console-table" data-testid="user-table">
            <thead><tr>
                <th>{ t(lang, Key::AdmDisplayName) }</th>
                <th>{ t(lang, Key::Role) }</th>
                <th>{ t(lang, Key::AdmColTeam) }</th>
                <th>{ t(lang, Key::AdmScope) }</th>
                <th>{ t(lang, Key::AdmColState) }</th>
                <th></th>
            </tr></thead>
            <tbody>
            { for page.items.iter().map(|u| {
                let id = u.user.id;
                let toggle = {
                    let open = open.clone();
                    Callback::from(move |_: MouseEvent| open.set(if *open == Some(id) { None } else { Some(id) }))
                };
                html! {
                    <>
                    <tr class={classes!((!u.user.active).then_some("revoked"))} data-testid="user-row" data-username={u.user.username.clone()}>
                        <td><strong>{ u.user.display_name.clone() }</strong><div class="row-sub">{ u.user.username.clone() }</div></td>
                        <td>{ u.user.role.label(lang) }</td>
                        <td>{ u.team_name.clone().unwrap_or_default() }</td>
                        <td>{ scope_words(u.user.scope, lang, u.team_name.clone()) }</td>
                        <td>
                            <span class={classes!("flag", (!u.user.active).then_some("warn"))}>
                                { t(lang, if u.user.active { Key::AdmActive } else { Key::AdmDisabled }) }
                            </span>
                            if u.must_change_password { <span class="flag">{ t(lang, Key::AdmMustChange) }</span> }
                        </td>
                        <td><button type="button" class="ghost-button" data-testid="user-manage" onclick={toggle}>{ t(lang, Key::AdmManage) }</button></td>
                    </tr>
                    if *open == Some(id) {
                        <tr class="actions-row"><td colspan="6">
                            <UserActions {lang} user={u.clone()} teams={props.teams.clone()} on_action={props.on_action.clone()} />
                        </td></tr>
                    }
                    </>
                }
            }) }
            </tbody>
        </table>
    }
}

/// Properties of [`UserActions`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct UserActionsProps {
    /// Interface language.
    pub lang: Lang,
    /// The account.
    pub user: UserView,
    /// The area's teams.
    pub teams: Vec<TeamView>,
    /// An action.
    pub on_action: Callback<UserAction>,
}

/// Moving, scope, disabling and resetting one account.
#[component]
pub fn UserActions(props: &UserActionsProps) -> Html {
    let lang = props.lang;
    let u = &props.user.user;
    let id = u.id;
    let team = use_state(|| u.team);
    let scope_choice = use_state(|| match u.scope {
        Scope::Own => "own".to_owned(),
        Scope::Team(_) => "team".to_owned(),
        Scope::County(_) => "county".to_owned(),
        Scope::Province(_) => "province".to_owned(),
    });
    let area = use_state(|| match u.scope {
        Scope::County(c) => c.to_string(),
        Scope::Province(p) => p.to_string(),
        _ => String::new(),
    });
    let confirm = use_state(|| None::<UserAction>);
    let on_team = {
        let team = team.clone();
        Callback::from(move |e: Event| team.set(event_value(&e).parse().ok()))
    };
    let move_to = {
        let (team, cb) = (team.clone(), props.on_action.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(t) = *team {
                cb.emit(UserAction::Move(id, t));
            }
        })
    };
    let on_scope = {
        let s = scope_choice.clone();
        Callback::from(move |e: Event| s.set(event_value(&e)))
    };
    let on_area = {
        let a = area.clone();
        Callback::from(move |e: Event| a.set(event_value(&e)))
    };
    let user_team = u.team;
    let save_scope = {
        let (s, a, cb) = (scope_choice.clone(), area.clone(), props.on_action.clone());
        Callback::from(move |_: MouseEvent| {
            let scope = match s.as_str() {
                "own" => Some(Scope::Own),
                "team" => user_team.map(Scope::Team),
                "county" => CountyCode::parse(a.trim()).ok().map(Scope::County),
                "province" => a.trim().parse().ok().map(Scope::Province),
                _ => None,
            };
            if let Some(scope) = scope {
                cb.emit(UserAction::Scope(id, scope));
            }
        })
    };
    let ask = |action: UserAction| {
        let confirm = confirm.clone();
        Callback::from(move |_: MouseEvent| confirm.set(Some(action.clone())))
    };
    let name = format!("{} · {}", u.display_name, u.username);
    let admin = u.role == Role::SyncAdmin;
    html! {
        <div class="user-actions" data-testid="user-actions">
            if !admin {
                <div class="action-group">
                    <label class="filter">
                        <span>{ t(lang, Key::AdmMoveTo) }</span>
                        <select data-testid="move-team" onchange={on_team}>
                            { for props.teams.iter().map(|tv| html! {
                                <option value={tv.team.id.to_string()} selected={*team == Some(tv.team.id)}>{ tv.team.name.clone() }</option>
                            }) }
                        </select>
                    </label>
                    <button type="button" class="ghost-button" data-testid="move-user" onclick={move_to}>{ t(lang, Key::AdmMove) }</button>
                </div>
            }
            <div class="action-group">
                <label class="filter">
                    <span>{ t(lang, Key::AdmChangeScope) }</span>
                    <select data-testid="scope-level" onchange={on_scope}>
                        if admin {
                            <option value="county" selected={*scope_choice == "county"}>{ t(lang, Key::AdmCountyCode) }</option>
                            <option value="province" selected={*scope_choice == "province"}>{ t(lang, Key::AdmProvinceCode) }</option>
                        } else {
                            <option value="own" selected={*scope_choice == "own"}>{ t(lang, Key::AdmScopeOwn) }</option>
                            <option value="team" selected={*scope_choice == "team"}>{ t(lang, Key::AdmScopeTeam) }</option>
                        }
                    </select>
                </label>
                if admin {
                    <label class="filter">
                        <span>{ t(lang, Key::AdmScope) }</span>
                        <input type="text" inputmode="numeric" data-testid="scope-code" value={(*area).clone()} onchange={on_area} />
                    </label>
                }
                <button type="button" class="ghost-button" data-testid="save-scope" onclick={save_scope}>{ t(lang, Key::AdmSave) }</button>
            </div>
            <div class="action-group">
                if u.active {
                    <button type="button" class="ghost-button danger-text" data-testid="disable-user"
                        onclick={ask(UserAction::Active(id, false))}>{ t(lang, Key::AdmDisable) }</button>
                } else {
                    <button type="button" class="ghost-button" data-testid="enable-user"
                        onclick={props.on_action.reform(move |_: MouseEvent| UserAction::Active(id, true))}>{ t(lang, Key::AdmEnable) }</button>
                }
                <button type="button" class="ghost-button" data-testid="reset-password"
                    onclick={ask(UserAction::Reset(id))}>{ t(lang, Key::AdmResetPassword) }</button>
            </div>
            if let Some(action) = (*confirm).clone() {
                <ConfirmBar {lang}
                    question={match action { UserAction::Reset(_) => tf(lang, Key::AdmConfirmReset, &name), _ => tf(lang, Key::AdmConfirmDisable, &name) }}
                    confirm={match action { UserAction::Reset(_) => Key::AdmResetPassword, _ => Key::AdmDisable }}
                    test_id="confirm-user-action"
                    on_confirm={{
                        let (cb, confirm) = (props.on_action.clone(), confirm.clone());
                        Callback::from(move |_| { confirm.set(None); cb.emit(action.clone()); })
                    }}
                    on_cancel={{ let confirm = confirm.clone(); Callback::from(move |_| confirm.set(None)) }} />
            }
        </div>
    }
}

/// Properties of [`NewUserForm`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct NewUserFormProps {
    /// The account was created: its one-time password.
    pub on_created: Callback<Otp>,
}

/// Creates an account; the form lives in the console's state, so it is
/// kept when the server cannot be reached or the admin looks elsewhere.
#[component]
pub fn NewUserForm(props: &NewUserFormProps) -> Html {
    let app = use_context::<AppContext>().expect("inside App");
    let console = use_context::<ConsoleContext>().expect("inside the console");
    let lang = app.lang;
    let error = use_state(|| None::<IpcError>);
    let busy = use_state(|| false);
    let form = console.user_form.clone();
    let set = |f: fn(&mut UserForm, String)| {
        let console = console.clone();
        Callback::from(move |e: Event| {
            let mut next = console.user_form.clone();
            f(&mut next, event_value(&e));
            console.dispatch(ConsoleAction::UserForm(next));
        })
    };
    let submit = {
        let (console, error, busy, done) = (
            console.clone(),
            error.clone(),
            busy.clone(),
            props.on_created.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            let new = new_user(&console.user_form);
            let (console, error, busy, done) =
                (console.clone(), error.clone(), busy.clone(), done.clone());
            yew::platform::spawn_local(async move {
                match ipc::admin::create_user(new).await {
                    Ok(created) => {
                        error.set(None);
                        console.dispatch(ConsoleAction::UserForm(UserForm::default()));
                        done.emit(Otp {
                            who: format!(
                                "{} · {}",
                                created.user.user.display_name, created.user.user.username
                            ),
                            password: created.one_time_password,
                        });
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let role = Role::from_code(&form.role).unwrap_or(Role::Commissioner);
    html! {
        <form class="side-form" data-testid="new-user-form" onsubmit={submit} novalidate=true>
            <h2>{ t(lang, Key::AdmNewUser) }</h2>
            <label class="filter"><span>{ t(lang, Key::Username) }</span>
                <input type="text" data-testid="new-username" value={form.username.clone()} onchange={set(|f, v| f.username = v)} /></label>
            <label class="filter"><span>{ t(lang, Key::AdmDisplayName) }</span>
                <input type="text" data-testid="new-display-name" value={form.display_name.clone()} onchange={set(|f, v| f.display_name = v)} /></label>
            <label class="filter"><span>{ t(lang, Key::Role) }</span>
                <select data-testid="new-role" onchange={set(|f, v| f.role = v)}>
                    { for [Role::Commissioner, Role::TeamLead, Role::SyncAdmin].into_iter().map(|r| html! {
                        <option value={r.code()} selected={role == r}>{ r.label(lang) }</option>
                    }) }
                </select></label>
            if role == Role::SyncAdmin {
                <label class="filter"><span>{ t(lang, Key::AdmScope) }</span>
                    <select data-testid="new-admin-level" onchange={set(|f, v| f.admin_level = v)}>
                        <option value="county" selected={form.admin_level != "province"}>{ t(lang, Key::AdmCountyCode) }</option>
                        <option value="province" selected={form.admin_level == "province"}>{ t(lang, Key::AdmProvinceCode) }</option>
                    </select></label>
                <label class="filter"><span>{ t(lang, if form.admin_level == "province" { Key::AdmProvinceCode } else { Key::AdmCountyCode }) }</span>
                    <input type="text" inputmode="numeric" data-testid="new-area-code" value={form.area_code.clone()} onchange={set(|f, v| f.area_code = v)} /></label>
            } else {
                <label class="filter"><span>{ t(lang, Key::AdmColTeam) }</span>
                    <select data-testid="new-team" onchange={set(|f, v| f.team = v.parse().ok())}>
                        <option value="" selected={form.team.is_none()}>{ t(lang, Key::AdmPickTeam) }</option>
                        { for console.teams.iter().map(|tv| html! {
                            <option value={tv.team.id.to_string()} selected={form.team == Some(tv.team.id)}>{ tv.team.name.clone() }</option>
                        }) }
                    </select></label>
            }
            if let Some(e) = &*error {
                if ipc::admin::is_offline(e) {
                    <p class="console-alert" role="alert" data-testid="offline-note">{ t(lang, Key::AdmServerUnreachable) }</p>
                } else {
                    <ErrorLine code={e.code.clone()} />
                }
            }
            <button type="submit" class="primary-small" data-testid="create-user" disabled={*busy}>
                { t(lang, if *busy { Key::AdmWorking } else { Key::AdmCreate }) }
            </button>
        </form>
    }
}

/// Creates a team; the form lives in the console's state.
#[component]
pub fn NewTeamForm() -> Html {
    let app = use_context::<AppContext>().expect("inside App");
    let console = use_context::<ConsoleContext>().expect("inside the console");
    let lang = app.lang;
    let error = use_state(|| None::<IpcError>);
    let done = use_state(|| None::<String>);
    let my_county = app
        .profile()
        .and_then(|p| p.county)
        .map(|c| c.to_string())
        .unwrap_or_default();
    let form = TeamForm {
        county: if console.team_form.county.is_empty() {
            my_county
        } else {
            console.team_form.county.clone()
        },
        ..console.team_form.clone()
    };
    let set = |f: fn(&mut TeamForm, String)| {
        let (console, form) = (console.clone(), form.clone());
        Callback::from(move |e: Event| {
            let mut next = form.clone();
            f(&mut next, event_value(&e));
            console.dispatch(ConsoleAction::TeamForm(next));
        })
    };
    let submit = {
        let (console, error, done, form) =
            (console.clone(), error.clone(), done.clone(), form.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (console, error, done) = (console.clone(), error.clone(), done.clone());
            let Ok(county) = CountyCode::parse(form.county.trim()) else {
                error.set(Some(IpcError::new(
                    "sync.unknown_county",
                    "not a county code",
                )));
                return;
            };
            let new = NewTeam {
                county,
                name: form.name.trim().to_owned(),
                leading_industry: form.leading_industry.trim().to_owned(),
                lead: form.lead,
            };
            yew::platform::spawn_local(async move {
                match ipc::admin::create_team(new).await {
                    Ok(team) => {
                        error.set(None);
                        done.set(Some(team.team.name));
                        console.dispatch(ConsoleAction::TeamForm(TeamForm::default()));
                        console.dispatch(ConsoleAction::Changed);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let mut people: Vec<(UserId, String)> =
        console.names.iter().map(|(k, v)| (*k, v.clone())).collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    html! {
        <form class="side-form" data-testid="new-team-form" onsubmit={submit} novalidate=true>
            <h2>{ t(lang, Key::AdmNewTeam) }</h2>
            <label class="filter"><span>{ t(lang, Key::AdmCountyCode) }</span>
                <input type="text" inputmode="numeric" data-testid="team-county" value={form.county.clone()} onchange={set(|f, v| f.county = v)} /></label>
            <label class="filter"><span>{ t(lang, Key::AdmTeamName) }</span>
                <input type="text" data-testid="team-name" value={form.name.clone()} onchange={set(|f, v| f.name = v)} /></label>
            <label class="filter"><span>{ t(lang, Key::AdmLeadingIndustry) }</span>
                <input type="text" data-testid="team-industry" value={form.leading_industry.clone()} onchange={set(|f, v| f.leading_industry = v)} /></label>
            <label class="filter"><span>{ t(lang, Key::AdmTeamLead) }</span>
                <select data-testid="team-lead" onchange={set(|f, v| f.lead = v.parse().ok())}>
                    <option value="" selected={form.lead.is_none()}>{ t(lang, Key::AdmNoLead) }</option>
                    { for people.into_iter().map(|(id, name)| html! {
                        <option value={id.to_string()} selected={form.lead == Some(id)}>{ name }</option>
                    }) }
                </select></label>
            if let Some(e) = &*error {
                if ipc::admin::is_offline(e) {
                    <p class="console-alert" role="alert">{ t(lang, Key::AdmServerUnreachable) }</p>
                } else {
                    <ErrorLine code={e.code.clone()} />
                }
            }
            if let Some(name) = &*done {
                <p class="ok-box">{ tf(lang, Key::AdmTeamCreated, name) }</p>
            }
            <button type="submit" class="primary-small" data-testid="create-team">{ t(lang, Key::AdmCreate) }</button>
        </form>
    }
}

/// Properties of [`TeamList`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct TeamListProps {
    /// Interface language.
    pub lang: Lang,
    /// The teams.
    pub teams: Vec<TeamView>,
    /// Shown names, for the leads.
    pub names: std::collections::HashMap<UserId, String>,
}

/// The area's teams: county, leading industry, lead, members.
#[component]
pub fn TeamList(props: &TeamListProps) -> Html {
    let lang = props.lang;
    html! {
        <ul class="team-list" data-testid="team-list">
            { for props.teams.iter().map(|tv| {
                let lead = tv.team.lead.map(|l| props.names.get(&l).cloned().unwrap_or_else(|| super::common::short(l)));
                html! {
                    <li data-testid="team-row">
                        <strong>{ tv.team.name.clone() }</strong>
                        <div class="row-sub">
                            { tv.team.county.to_string() }{ " · " }{ tv.team.leading_industry.clone() }{ " · " }
                            { tf(lang, Key::AdmMembers, tv.members) }
                            if let Some(l) = lead { { " · " }{ t(lang, Key::AdmTeamLead) }{ " " }{ l } }
                        </div>
                    </li>
                }
            }) }
        </ul>
    }
}

/// Properties of [`OtpDialog`].
#[derive(Clone, Debug, PartialEq, Properties)]
pub struct OtpDialogProps {
    /// Interface language.
    pub lang: Lang,
    /// For whom, and the password.
    pub otp: Otp,
    /// Closed (the password is gone for good).
    pub on_close: Callback<()>,
}

/// The one-time password, shown this once.
#[component]
pub fn OtpDialog(props: &OtpDialogProps) -> Html {
    let lang = props.lang;
    let copied = use_state(|| false);
    let copy = {
        let (copied, text) = (copied.clone(), props.otp.password.clone());
        Callback::from(move |_: MouseEvent| copied.set(crate::browser::copy_to_clipboard(&text)))
    };
    html! {
        <div class="modal-backdrop">
            <div class="modal" role="dialog" aria-modal="true" data-testid="otp-dialog">
                <h2>{ tf(lang, Key::AdmOtpFor, &props.otp.who) }</h2>
                <p class="otp" data-testid="otp">{ props.otp.password.clone() }</p>
                <p class="warn-box">{ t(lang, Key::AdmOtpShownOnce) }</p>
                <div class="button-row">
                    <button type="button" class="ghost-button" data-testid="otp-copy" onclick={copy}>
                        { t(lang, Key::AdmOtpCopy) }
                    </button>
                    if *copied { <span class="muted small">{ t(lang, Key::AdmOtpCopyHint) }</span> }
                </div>
                <button type="button" class="primary-small" data-testid="otp-close"
                    onclick={props.on_close.reform(|_: MouseEvent| ())}>{ t(lang, Key::AdmOtpClose) }</button>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use app_core::domain::{Team, User};
    use app_core::testing::{team_id, user_id};

    use super::super::testing::render;
    use super::*;

    fn user(active: bool, must_change: bool) -> UserView {
        UserView {
            user: User {
                id: user_id(1),
                username: "zhengan-zhang".into(),
                display_name: "张三".into(),
                role: Role::Commissioner,
                scope: Scope::Team(team_id(1)),
                team: Some(team_id(1)),
                active,
            },
            team_name: Some("正安县科技特派团".into()),
            county: Some("520324".parse().unwrap()),
            province: None,
            must_change_password: must_change,
        }
    }

    fn team() -> TeamView {
        TeamView {
            team: Team {
                id: team_id(1),
                name: "正安县科技特派团".into(),
                county: "520324".parse().unwrap(),
                leading_industry: "茶叶".into(),
                lead: Some(user_id(2)),
            },
            members: 3,
        }
    }

    #[test]
    fn accounts_read_with_role_team_scope_and_state() {
        let page = Page {
            items: vec![user(true, true), user(false, false)],
            next: None,
        };
        let html = render(
            Lang::ZhCn,
            html! { <UserTable lang={Lang::ZhCn} remote={Remote::Ready(page)} teams={vec![team()]}
            on_action={Callback::noop()} on_retry={Callback::noop()} /> },
        );
        for text in [
            "张三",
            "科技特派员",
            "正安县科技特派团",
            "正常",
            "待设新密码",
            "已停用",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }

    #[test]
    fn a_users_actions_offer_moving_scope_disabling_and_a_reset() {
        let html = render(
            Lang::ZhCn,
            html! { <UserActions lang={Lang::ZhCn} user={user(true, false)} teams={vec![team()]}
            on_action={Callback::noop()} /> },
        );
        for text in [
            "调到团队",
            "修改数据范围",
            "仅本人",
            "本团队",
            "停用账号",
            "重置密码",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }

    #[test]
    fn the_one_time_password_is_shown_once_with_a_copy_button() {
        let otp = Otp {
            who: "李四 · zhengan-li".into(),
            password: "ABCD-EFGH-JKLM".into(),
        };
        let html = render(
            Lang::ZhCn,
            html! { <OtpDialog lang={Lang::ZhCn} {otp} on_close={Callback::noop()} /> },
        );
        for text in [
            "李四 · zhengan-li 的一次性密码",
            "ABCD-EFGH-JKLM",
            "只显示这一次",
            "复制",
            "我已记下，关闭",
        ] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }

    #[test]
    fn the_new_account_form_builds_the_request() {
        let form = UserForm {
            username: " zhengan-li ".into(),
            display_name: "李四".into(),
            role: "commissioner".into(),
            team: Some(team_id(1)),
            ..UserForm::default()
        };
        let new = new_user(&form);
        assert_eq!(new.username, "zhengan-li");
        assert_eq!(
            (new.role, new.team, new.scope),
            (Role::Commissioner, Some(team_id(1)), None)
        );
        let admin = UserForm {
            role: "sync_admin".into(),
            admin_level: "county".into(),
            area_code: "520324".into(),
            ..form
        };
        let new = new_user(&admin);
        assert_eq!(new.team, None, "an admin has no team");
        assert_eq!(new.scope, Some(Scope::County("520324".parse().unwrap())));
    }

    #[test]
    fn teams_list_their_county_industry_lead_and_members() {
        let mut names = std::collections::HashMap::new();
        names.insert(user_id(2), "李明".to_owned());
        let html = render(
            Lang::ZhCn,
            html! { <TeamList lang={Lang::ZhCn} teams={vec![team()]} {names} /> },
        );
        for text in ["正安县科技特派团", "520324", "茶叶", "3 人", "团长 李明"] {
            assert!(html.contains(text), "missing {text:?} in {html}");
        }
    }
}
