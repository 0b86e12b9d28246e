//! Operator and sync admin actions, one implementation behind the
//! binary's subcommands and the admin API (`routes::admin`): teams and
//! users (create, move, change scope, disable and enable, reset a
//! password), devices (list, revoke), the quarantine (list with what each
//! refused change writes, release, discard), the audit log (pages, CSV),
//! county tags, importing the register and county lists embedded in the
//! binary, and seeding the demo county.
//!
//! Every action says who acts ([`Actor`]): an operator at the command line
//! reaches everything and is audited with no actor; a sync admin reaches
//! only their county or province ([`Area`]), and something outside it is
//! `NotFound` when it exists but cannot be seen (a user, a team, a device)
//! and `OutOfScope` when the admin asks to create or widen something
//! beyond it (a provincial account, a team in another county). Every
//! change is audited with the actor, their device, the subject's area,
//! and the subject before and after. Errors carry stable codes
//! ([`OpsError::code`]), the same on the wire and at the command line.

use std::collections::BTreeMap;
use std::sync::Arc;

use app_core::admin::{self as wire, DEFAULT_PAGE, MAX_PAGE, Page};
use app_core::clock::SharedClock;
use app_core::domain::{
    CountyCode, CountyTag, DeviceId, DivisionLevel, DocId, RecordKind, Role, Scope, Team, TeamId,
    Timestamp, User, UserId,
};
use app_core::reference::{CountyList, RegisterSource};
use app_core::scope::Principal;
use app_core::sync::protocol::RefusalCode;

use crate::auth::{Authed, PasswordError, hash_password};
use crate::config::PasswordCost;
use crate::store::admin::{MISSING_DEPS, action_filter, contains_pattern};
use crate::store::{
    Area, AuditEntry, AuditPage, DevicePage, DeviceRecord, DeviceRow, DivisionImport,
    QuarantinePage, QuarantineRow, RowVerdict, ServerStore, StoreError, TeamPage, UserPage,
    UserRow,
};

/// The division register the repository carries, embedded in the binary.
pub fn embedded_register() -> RegisterSource {
    RegisterSource::from_static([
        include_bytes!("../../data/divisions/provinces.csv.zst"),
        include_bytes!("../../data/divisions/cities.csv.zst"),
        include_bytes!("../../data/divisions/areas.csv.zst"),
        include_bytes!("../../data/divisions/streets.csv.zst"),
        include_bytes!("../../data/divisions/villages.csv.zst"),
    ])
}

/// The policy's county lists, embedded in the binary.
pub fn embedded_county_lists() -> Vec<CountyList> {
    vec![
        CountyList::from_static(
            CountyTag::PovertyAlleviated,
            "poverty_counties_832",
            include_bytes!("../../data/counties/poverty_counties_832.csv"),
        ),
        CountyList::from_static(
            CountyTag::NationalKey,
            "key_counties_160_partial",
            include_bytes!("../../data/counties/key_counties_160_partial.csv"),
        ),
    ]
}

/// The demo county: 正安县, Zunyi, Guizhou.
pub const DEMO_COUNTY: &str = "520324";

/// An action that failed, with a stable code ([`OpsError::code`]).
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The password could not be hashed.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// Reference data could not be read.
    #[error("reference data: {0}")]
    Reference(String),
    /// The demo seed's devices failed.
    #[error("demo seed: {0}")]
    Demo(String),
    /// A value of the request is not acceptable.
    #[error("{message}")]
    Invalid {
        /// Which rule, e.g. `weak_password`.
        code: &'static str,
        /// Which field, if one.
        field: Option<&'static str>,
        /// Details.
        message: String,
    },
    /// No such user, team, device or quarantined document in the actor's
    /// area.
    #[error("{0} not found")]
    NotFound(String),
    /// The actor asks for something beyond their county or province.
    #[error("{0}")]
    OutOfScope(String),
    /// The actor may not do this at all (not a sync admin).
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with what is there.
    #[error("{message}")]
    Conflict {
        /// Which conflict, e.g. `username_taken`.
        code: &'static str,
        /// Details.
        message: String,
    },
}

impl OpsError {
    /// The stable code, as the API sends it.
    pub fn code(&self) -> &'static str {
        match self {
            OpsError::Store(_)
            | OpsError::Password(_)
            | OpsError::Reference(_)
            | OpsError::Demo(_) => "internal",
            OpsError::Invalid { code, .. } | OpsError::Conflict { code, .. } => code,
            OpsError::NotFound(_) => "not_found",
            OpsError::OutOfScope(_) => "out_of_scope",
            OpsError::Forbidden(_) => "forbidden",
        }
    }
}

impl From<app_core::reference::ReferenceError> for OpsError {
    fn from(e: app_core::reference::ReferenceError) -> Self {
        OpsError::Reference(e.to_string())
    }
}

fn invalid(code: &'static str, field: &'static str, message: impl Into<String>) -> OpsError {
    OpsError::Invalid {
        code,
        field: Some(field),
        message: message.into(),
    }
}

/// Who acts.
#[derive(Debug, Clone)]
pub enum Actor {
    /// An operator at the server's command line: everything, no actor in
    /// the audit log.
    Operator,
    /// A sync admin, from one of their devices.
    Admin {
        /// The admin.
        user: User,
        /// What the scope rules see.
        principal: Principal,
        /// The device they act from.
        device: DeviceId,
        /// Their area.
        area: Area,
    },
}

impl Actor {
    /// The sync admin behind a request; `Forbidden` for anyone else.
    pub fn admin(authed: &Authed) -> Result<Actor, OpsError> {
        let area = Area::of(&authed.principal)
            .ok_or_else(|| OpsError::Forbidden("sync admins only".into()))?;
        Ok(Actor::Admin {
            user: authed.user.clone(),
            principal: authed.principal,
            device: authed.device.id,
            area,
        })
    }

    /// Where the actor may look.
    pub fn area(&self) -> Area {
        match self {
            Actor::Operator => Area::ALL,
            Actor::Admin { area, .. } => *area,
        }
    }

    /// The acting user, if not an operator.
    pub fn user(&self) -> Option<UserId> {
        match self {
            Actor::Operator => None,
            Actor::Admin { user, .. } => Some(user.id),
        }
    }

    fn device(&self) -> Option<DeviceId> {
        match self {
            Actor::Operator => None,
            Actor::Admin { device, .. } => Some(*device),
        }
    }
}

/// Characters of a one-time password: no 0/O, 1/I/L to misread; 32 of
/// them, so a random byte picks one without bias.
const OTP_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A one-time password: 12 characters (60 bits) in groups of four,
/// `ABCD-EFGH-JKLM`.
pub fn one_time_password() -> String {
    let bytes: [u8; 12] = rand::random();
    let mut out = String::with_capacity(14);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        out.push(OTP_ALPHABET[usize::from(b & 31)] as char);
    }
    out
}

/// Whether a password is acceptable: at least 8 characters.
pub fn check_password(password: &str, field: &'static str) -> Result<(), OpsError> {
    if password.chars().count() < 8 {
        return Err(invalid(
            "weak_password",
            field,
            "a password has at least 8 characters",
        ));
    }
    Ok(())
}

/// A listing's page size: as asked, within `1..=MAX_PAGE`
/// (`DEFAULT_PAGE` when not asked).
pub fn page_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
}

pub(crate) fn bad_cursor(cursor: &str) -> OpsError {
    invalid(
        "bad_cursor",
        "cursor",
        format!("cursor {cursor:?} is not one this list gave"),
    )
}

/// A listing's cursor, the last item's key as the previous page gave it:
/// none when absent or empty, else the key, or `bad_cursor`.
pub fn parse_cursor<T: std::str::FromStr>(cursor: Option<&str>) -> Result<Option<T>, OpsError> {
    cursor
        .filter(|c| !c.is_empty())
        .map(|c| c.parse().map_err(|_| bad_cursor(c)))
        .transpose()
}

/// A user as the console shows them.
pub fn user_view(row: &UserRow) -> wire::UserView {
    wire::UserView {
        user: row.record.user.clone(),
        team_name: row.team_name.clone(),
        county: row.county,
        province: row.province,
        must_change_password: row.record.must_change_password,
    }
}

fn json<T: serde::Serialize>(value: &T) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// A device as the console lists it, with its flags at `now`.
pub fn device_view(row: &DeviceRow, now: Timestamp) -> wire::DeviceView {
    let d = &row.device;
    wire::DeviceView {
        id: d.id,
        user: d.user,
        username: row.username.clone(),
        display_name: row.display_name.clone(),
        name: d.name.clone(),
        platform: d.platform.clone(),
        app_version: d.sync.app_version.clone(),
        created_at: d.created_at,
        last_seen_at: d.last_seen_at,
        last_push_at: d.sync.last_push_at,
        last_pull_at: d.sync.last_pull_at,
        backlog: d.sync.backlog,
        revoked_at: d.revoked_at,
        notices_pending: d.sync.notices_pending,
        flags: wire::DeviceFlags::of(
            d.last_seen_at,
            d.revoked_at.is_some(),
            d.sync.backlog.as_ref(),
            now,
        ),
    }
}

/// A refusal code in Chinese words.
pub fn refusal_words(code: &str) -> String {
    match (RefusalCode::from_code(code), code) {
        (Some(c), _) => c.label_zh().to_owned(),
        (None, MISSING_DEPS) => "缺少此前的修改，服务器上没有".to_owned(),
        (None, crate::store::admin::TRUNCATED) => {
            "修改太大，服务器只留下了开头，无法放行".to_owned()
        }
        (None, other) => other.to_owned(),
    }
}

/// A user to add.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Scope; for commissioners and leads, `None` means their team.
    pub scope: Option<Scope>,
    /// Team, for commissioners and team leads.
    pub team: Option<TeamId>,
    /// Password.
    pub password: String,
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Division rows written.
    pub divisions: u64,
    /// County tags set.
    pub tags: u64,
}

/// A device with its user, for listings.
#[derive(Debug, Clone)]
pub struct DeviceLine {
    /// The device.
    pub device: DeviceRecord,
    /// Its user's sign-in name.
    pub username: String,
}

/// What the demo seed holds: its accounts and its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demo {
    /// The accounts, lead first, sync admin last.
    pub accounts: Vec<DemoAccount>,
    /// What the records' seed made, or found made; `None` when only the
    /// accounts were asked for ([`Ops::demo_accounts`]).
    pub seeded: Option<crate::demo::DemoSeed>,
}

/// An account the demo created (or found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    /// Sign-in name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Role.
    pub role: Role,
    /// Shown name.
    pub display_name: String,
}

/// Reads the register's rows: every province, prefecture and county, and
/// the townships and villages of `only` (all counties when `None`).
pub fn register_rows(
    source: &RegisterSource,
    only: Option<&[CountyCode]>,
) -> Result<Vec<DivisionImport>, OpsError> {
    let wanted: Option<Vec<u64>> = only.map(|c| c.iter().map(|c| c.as_int()).collect());
    let mut rows = Vec::new();
    for level in DivisionLevel::ALL {
        source.for_each(*level, |row| -> Result<(), OpsError> {
            let keep = match (&wanted, level) {
                (None, _) => true,
                (
                    Some(_),
                    DivisionLevel::Province | DivisionLevel::Prefecture | DivisionLevel::County,
                ) => true,
                (Some(set), l) => {
                    let county = row.code / 10u64.pow((l.digits() - 6) as u32);
                    set.contains(&county)
                }
            };
            if keep {
                rows.push(DivisionImport {
                    level: *level,
                    code: row.code,
                    name: row.name,
                });
            }
            Ok(())
        })?;
    }
    Ok(rows)
}

/// Operator actions over a store.
#[derive(Debug, Clone)]
pub struct Ops {
    store: Arc<dyn ServerStore>,
    clock: SharedClock,
    cost: PasswordCost,
}

impl Ops {
    /// Actions over `store`, timed by `clock`, hashing at `cost`.
    pub fn new(store: Arc<dyn ServerStore>, clock: SharedClock, cost: PasswordCost) -> Ops {
        Ops { store, clock, cost }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ServerStore> {
        &self.store
    }

    async fn audit(
        &self,
        action: &str,
        subject: String,
        detail: serde_json::Value,
    ) -> Result<(), OpsError> {
        self.store
            .audit(&AuditEntry::new(
                self.clock.now(),
                None,
                action,
                subject,
                detail,
            ))
            .await?;
        Ok(())
    }

    /// Appends an action of `actor` to the audit log.
    async fn record(&self, actor: &Actor, entry: AuditEntry) -> Result<(), OpsError> {
        let entry = AuditEntry {
            actor: actor.user(),
            device: actor.device(),
            ..entry
        };
        self.store.audit(&entry).await?;
        Ok(())
    }

    async fn hash(&self, password: String) -> Result<String, OpsError> {
        let cost = self.cost;
        Ok(
            tokio::task::spawn_blocking(move || hash_password(&password, cost))
                .await
                .map_err(|e| OpsError::Reference(format!("hashing task: {e}")))??,
        )
    }

    // --- Teams and users ------------------------------------------------

    /// The user `id` as `actor` sees them; `NotFound` outside their area.
    pub async fn find_user(&self, actor: &Actor, id: UserId) -> Result<UserRow, OpsError> {
        self.store
            .user_page(&UserPage {
                area: actor.area(),
                user: Some(id),
                limit: 1,
                ..UserPage::default()
            })
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| OpsError::NotFound(format!("user {id}")))
    }

    /// The user signing in as `username`, as `actor` sees them.
    pub async fn find_username(&self, actor: &Actor, username: &str) -> Result<UserRow, OpsError> {
        let record = self
            .store
            .user_by_name(username)
            .await?
            .ok_or_else(|| OpsError::NotFound(format!("user {username:?}")))?;
        self.find_user(actor, record.user.id).await
    }

    /// The team `id` as `actor` sees it; `NotFound` outside their area.
    pub async fn find_team(&self, actor: &Actor, id: TeamId) -> Result<Team, OpsError> {
        self.store
            .team(id)
            .await?
            .filter(|t| actor.area().covers_county(t.county))
            .ok_or_else(|| OpsError::NotFound(format!("team {id}")))
    }

    /// Adds a team (科技特派团) serving `county`, as an operator.
    pub async fn add_team(
        &self,
        name: &str,
        county: CountyCode,
        leading_industry: &str,
    ) -> Result<Team, OpsError> {
        let new = wire::NewTeam {
            county,
            name: name.into(),
            leading_industry: leading_industry.into(),
            lead: None,
        };
        Ok(self.create_team(&Actor::Operator, &new).await?.team)
    }

    /// Creates a team in a county of the actor's area; its lead, if named,
    /// moves to it as its team lead.
    pub async fn create_team(
        &self,
        actor: &Actor,
        new: &wire::NewTeam,
    ) -> Result<wire::TeamView, OpsError> {
        let name = new.name.trim().to_string();
        let industry = new.leading_industry.trim().to_string();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(invalid(
                "invalid_name",
                "name",
                "a team needs a name of at most 64 characters",
            ));
        }
        if industry.chars().count() > 32 {
            return Err(invalid(
                "invalid_industry",
                "leading_industry",
                "a leading industry has at most 32 characters",
            ));
        }
        if !actor.area().covers_county(new.county) {
            return Err(OpsError::OutOfScope(format!(
                "county {} is outside the admin's area",
                new.county
            )));
        }
        if self.store.register_slice(new.county).await?.is_none()
            && self.store.stats().await?.divisions > 0
        {
            return Err(invalid(
                "unknown_county",
                "county",
                format!("county {} is not in the division register", new.county),
            ));
        }
        let lead = match new.lead {
            Some(id) => {
                let row = self.find_user(actor, id).await?;
                if row.record.user.role == Role::SyncAdmin {
                    return Err(invalid(
                        "invalid_lead",
                        "lead",
                        "a sync admin cannot lead a team",
                    ));
                }
                Some(row)
            }
            None => None,
        };
        let now = self.clock.now();
        let team = Team {
            id: TeamId::new(now),
            name,
            county: new.county,
            leading_industry: industry,
            lead: None,
        };
        self.store.create_team(&team, now).await?;
        self.record(
            actor,
            AuditEntry::new(
                now,
                None,
                "team.create",
                team.id.to_string(),
                serde_json::json!({ "name": team.name, "county": team.county.to_string() }),
            )
            .within(Some(team.county), None)
            .changing(None, json(&team)),
        )
        .await?;
        if let Some(lead) = lead {
            self.place(actor, &lead, Role::TeamLead, &team).await?;
        }
        self.team_view(team.id).await
    }

    async fn team_view(&self, id: TeamId) -> Result<wire::TeamView, OpsError> {
        let team = self
            .store
            .team(id)
            .await?
            .ok_or_else(|| OpsError::NotFound(format!("team {id}")))?;
        let members = self
            .store
            .team_page(&TeamPage {
                area: Area::ALL,
                county: Some(team.county),
                after: None,
                limit: MAX_PAGE,
            })
            .await?
            .into_iter()
            .find(|(t, _)| t.id == id)
            .map_or(0, |(_, n)| n);
        Ok(wire::TeamView { team, members })
    }

    /// Moves `row`'s user to `team` with `role` (a team lead becomes the
    /// team's lead if it has none), audited as `user.move`.
    async fn place(
        &self,
        actor: &Actor,
        row: &UserRow,
        role: Role,
        team: &Team,
    ) -> Result<UserRow, OpsError> {
        let user = &row.record.user;
        let scope = match user.scope {
            Scope::Own => Scope::Own,
            _ => Scope::Team(team.id),
        };
        self.store
            .set_user_scope(user.id, role, scope, Some(team.id))
            .await?;
        if let Some(old) = user.team.filter(|t| *t != team.id)
            && let Some(old_team) = self.store.team(old).await?
            && old_team.lead == Some(user.id)
        {
            self.store.set_team_lead(old, None).await?;
        }
        if role == Role::TeamLead
            && self
                .store
                .team(team.id)
                .await?
                .and_then(|t| t.lead)
                .is_none()
        {
            self.store.set_team_lead(team.id, Some(user.id)).await?;
        }
        let after = self.find_user(&Actor::Operator, user.id).await?;
        self.record(
            actor,
            AuditEntry::new(
                self.clock.now(),
                None,
                "user.move",
                user.id.to_string(),
                serde_json::json!({
                    "from": user.team.map(|t| t.to_string()),
                    "to": team.id.to_string(),
                    "from_county": row.county.map(|c| c.to_string()),
                }),
            )
            .within(after.county, after.province)
            .changing(json(&user_view(row)), json(&user_view(&after))),
        )
        .await?;
        Ok(after)
    }

    /// Adds a user with a password, as an operator. Commissioners and team
    /// leads belong to a team and read it (unless given `own`); a team lead
    /// becomes the team's lead. Sync admins need a county or province
    /// scope.
    pub async fn add_user(&self, new: NewUser) -> Result<User, OpsError> {
        let spec = wire::NewUser {
            username: new.username,
            display_name: new.display_name,
            role: new.role,
            scope: new.scope,
            team: new.team,
        };
        let (row, _) = self
            .create_user(&Actor::Operator, &spec, Some(new.password))
            .await?;
        Ok(row.record.user)
    }

    /// Creates a user in the actor's area. Without a password the server
    /// makes a one-time password, returned once, that only sets a new one.
    pub async fn create_user(
        &self,
        actor: &Actor,
        new: &wire::NewUser,
        password: Option<String>,
    ) -> Result<(UserRow, Option<String>), OpsError> {
        let username = new.username.trim().to_string();
        if username.is_empty()
            || username.chars().count() > 64
            || username
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                "invalid_username",
                "username",
                format!("user name {username:?} must be 1 to 64 characters without spaces"),
            ));
        }
        let display_name = new.display_name.trim().to_string();
        if display_name.is_empty() || display_name.chars().count() > 64 {
            return Err(invalid(
                "invalid_display_name",
                "display_name",
                "a name of 1 to 64 characters is needed",
            ));
        }
        if let Some(p) = &password {
            check_password(p, "password")?;
        }
        let area = actor.area();
        let (scope, team) = match new.role {
            Role::SyncAdmin => {
                if new.team.is_some() {
                    return Err(invalid(
                        "invalid_team",
                        "team",
                        "sync admins belong to no team",
                    ));
                }
                match new.scope {
                    Some(Scope::County(c)) if area.covers_county(c) => (Scope::County(c), None),
                    Some(Scope::Province(p)) if area.covers_province(p) => {
                        (Scope::Province(p), None)
                    }
                    Some(Scope::County(_) | Scope::Province(_)) => {
                        return Err(OpsError::OutOfScope(
                            "the new admin's scope is wider than or outside the acting admin's"
                                .into(),
                        ));
                    }
                    _ => {
                        return Err(invalid(
                            "invalid_scope",
                            "scope",
                            "a sync admin needs a county or province scope",
                        ));
                    }
                }
            }
            Role::Commissioner | Role::TeamLead => {
                let Some(t) = new.team else {
                    return Err(invalid(
                        "team_required",
                        "team",
                        "commissioners and team leads belong to a team",
                    ));
                };
                let team = self.find_team(actor, t).await?;
                let scope = match new.scope {
                    None => Scope::Team(team.id),
                    Some(Scope::Own) => Scope::Own,
                    Some(Scope::Team(x)) if x == team.id => Scope::Team(x),
                    Some(_) => {
                        return Err(invalid(
                            "invalid_scope",
                            "scope",
                            "commissioners and team leads read their own records or their team's",
                        ));
                    }
                };
                (scope, Some(team))
            }
        };
        let now = self.clock.now();
        let user = User {
            id: UserId::new(now),
            username,
            display_name,
            role: new.role,
            scope,
            team: team.as_ref().map(|t| t.id),
            active: true,
        };
        let (password, one_time) = match password {
            Some(p) => (p, None),
            None => {
                let otp = one_time_password();
                (otp.clone(), Some(otp))
            }
        };
        let hash = self.hash(password).await?;
        self.store
            .create_user(&user, &hash, one_time.is_some(), now)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => OpsError::Conflict {
                    code: "username_taken",
                    message: format!("user name {:?} is taken", user.username),
                },
                other => other.into(),
            })?;
        if user.role == Role::TeamLead
            && let Some(t) = &team
        {
            self.store.set_team_lead(t.id, Some(user.id)).await?;
        }
        let row = self.find_user(&Actor::Operator, user.id).await?;
        self.record(
            actor,
            AuditEntry::new(
                now,
                None,
                "user.create",
                user.id.to_string(),
                serde_json::json!({ "username": user.username, "role": user.role.code() }),
            )
            .within(row.county, row.province)
            .changing(None, json(&user_view(&row))),
        )
        .await?;
        Ok((row, one_time))
    }

    /// Moves a commissioner or team lead to another team of the actor's
    /// area (their scope follows: their team's, or still their own).
    pub async fn move_user(
        &self,
        actor: &Actor,
        id: UserId,
        team: TeamId,
    ) -> Result<UserRow, OpsError> {
        let row = self.find_user(actor, id).await?;
        let role = row.record.user.role;
        if role == Role::SyncAdmin {
            return Err(invalid(
                "invalid_role",
                "team",
                "sync admins belong to no team",
            ));
        }
        let team = self.find_team(actor, team).await?;
        if row.record.user.team == Some(team.id) {
            return Ok(row);
        }
        self.place(actor, &row, role, &team).await
    }

    /// Changes how far a user reads: `own` or their team for commissioners
    /// and leads, a county or province of the actor's area for sync admins.
    pub async fn change_scope(
        &self,
        actor: &Actor,
        id: UserId,
        scope: Scope,
    ) -> Result<UserRow, OpsError> {
        let row = self.find_user(actor, id).await?;
        let user = &row.record.user;
        let area = actor.area();
        let ok = match (user.role, scope) {
            (Role::SyncAdmin, Scope::County(c)) => {
                if !area.covers_county(c) {
                    return Err(OpsError::OutOfScope(format!(
                        "county {c} is outside the admin's area"
                    )));
                }
                true
            }
            (Role::SyncAdmin, Scope::Province(p)) => {
                if !area.covers_province(p) {
                    return Err(OpsError::OutOfScope(format!(
                        "province {p} is wider than or outside the admin's area"
                    )));
                }
                true
            }
            (Role::SyncAdmin, _) => false,
            (_, Scope::Own) => true,
            (_, Scope::Team(t)) => user.team == Some(t),
            (_, _) => false,
        };
        if !ok {
            return Err(invalid(
                "invalid_scope",
                "scope",
                "commissioners and leads read their own records or their team's; sync admins a county or a province",
            ));
        }
        if user.scope == scope {
            return Ok(row);
        }
        self.store
            .set_user_scope(user.id, user.role, scope, user.team)
            .await?;
        let after = self.find_user(&Actor::Operator, id).await?;
        self.record(
            actor,
            AuditEntry::new(
                self.clock.now(),
                None,
                "user.scope",
                id.to_string(),
                serde_json::json!({ "scope": scope }),
            )
            .within(after.county.or(row.county), after.province.or(row.province))
            .changing(json(&user_view(&row)), json(&user_view(&after))),
        )
        .await?;
        Ok(after)
    }

    /// Disables (its devices stop syncing with `account_disabled`) or
    /// enables an account. An admin cannot disable their own.
    pub async fn set_active(
        &self,
        actor: &Actor,
        id: UserId,
        active: bool,
    ) -> Result<UserRow, OpsError> {
        let row = self.find_user(actor, id).await?;
        if !active && actor.user() == Some(id) {
            return Err(OpsError::Conflict {
                code: "cannot_disable_self",
                message: "an admin cannot disable their own account".into(),
            });
        }
        if row.record.user.active == active {
            return Ok(row);
        }
        self.store.set_user_active(id, active).await?;
        let after = self.find_user(&Actor::Operator, id).await?;
        self.record(
            actor,
            AuditEntry::new(
                self.clock.now(),
                None,
                if active {
                    "user.enable"
                } else {
                    "user.disable"
                },
                id.to_string(),
                serde_json::json!({ "username": row.record.user.username }),
            )
            .within(row.county, row.province)
            .changing(json(&user_view(&row)), json(&user_view(&after))),
        )
        .await?;
        Ok(after)
    }

    /// Resets a password: a one-time password, returned once (and never
    /// logged), that only sets a new one at the next sign-in.
    pub async fn reset_password(
        &self,
        actor: &Actor,
        id: UserId,
    ) -> Result<(UserRow, String), OpsError> {
        let row = self.find_user(actor, id).await?;
        let otp = one_time_password();
        let hash = self.hash(otp.clone()).await?;
        self.store.set_user_password(id, &hash, true).await?;
        let after = self.find_user(&Actor::Operator, id).await?;
        self.record(
            actor,
            AuditEntry::new(
                self.clock.now(),
                None,
                "user.password_reset",
                id.to_string(),
                serde_json::json!({ "username": row.record.user.username }),
            )
            .within(row.county, row.province)
            .changing(json(&user_view(&row)), json(&user_view(&after))),
        )
        .await?;
        Ok((after, otp))
    }

    /// A page of the users in the actor's area, by sign-in name.
    pub async fn users(
        &self,
        actor: &Actor,
        q: &wire::UserQuery,
    ) -> Result<Page<wire::UserView>, OpsError> {
        let limit = page_limit(q.limit);
        let mut rows = self
            .store
            .user_page(&UserPage {
                area: actor.area(),
                user: None,
                team: q.team,
                county: q.county,
                role: q.role,
                active: q.active,
                text: q
                    .q
                    .as_deref()
                    .filter(|t| !t.trim().is_empty())
                    .map(contains_pattern),
                after: q.cursor.clone().filter(|c| !c.is_empty()),
                limit: limit + 1,
            })
            .await?;
        let next = cut(&mut rows, limit, |r| r.record.user.username.clone());
        Ok(Page {
            items: rows.iter().map(user_view).collect(),
            next,
        })
    }

    /// A page of the teams in the actor's area, in creation order.
    pub async fn teams(
        &self,
        actor: &Actor,
        q: &wire::TeamQuery,
    ) -> Result<Page<wire::TeamView>, OpsError> {
        let limit = page_limit(q.limit);
        let mut rows = self
            .store
            .team_page(&TeamPage {
                area: actor.area(),
                county: q.county,
                after: parse_cursor(q.cursor.as_deref())?,
                limit: limit + 1,
            })
            .await?;
        let next = cut(&mut rows, limit, |(t, _)| t.id.to_string());
        Ok(Page {
            items: rows
                .into_iter()
                .map(|(team, members)| wire::TeamView { team, members })
                .collect(),
            next,
        })
    }

    // --- Devices --------------------------------------------------------

    /// A page of the devices of users in the actor's area, in enrolment
    /// order, with their sync health and flags.
    pub async fn devices(
        &self,
        actor: &Actor,
        q: &wire::DeviceQuery,
    ) -> Result<Page<wire::DeviceView>, OpsError> {
        let limit = page_limit(q.limit);
        let now = self.clock.now();
        let (flag_silent, flag_backlog) = match q.flag {
            None => (false, false),
            Some(wire::DeviceFlag::Silent) => (true, false),
            Some(wire::DeviceFlag::Backlog) => (false, true),
            Some(wire::DeviceFlag::Any) => (true, true),
        };
        let mut rows = self
            .store
            .device_page(&DevicePage {
                area: actor.area(),
                device: None,
                user: q.user,
                team: q.team,
                revoked: q.state.map(|s| s == wire::DeviceState::Revoked),
                flag_silent,
                flag_backlog,
                silent_before: now.add_millis(-wire::SILENT_AFTER_MILLIS),
                after: parse_cursor(q.cursor.as_deref())?,
                limit: limit + 1,
            })
            .await?;
        let next = cut(&mut rows, limit, |r| r.device.id.to_string());
        Ok(Page {
            items: rows.iter().map(|r| device_view(r, now)).collect(),
            next,
        })
    }

    /// The device `id` as `actor` sees it; `NotFound` outside their area.
    pub async fn find_device(&self, actor: &Actor, id: DeviceId) -> Result<DeviceRow, OpsError> {
        self.store
            .device_page(&DevicePage {
                area: actor.area(),
                device: Some(id),
                limit: 1,
                ..DevicePage::default()
            })
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| OpsError::NotFound(format!("device {id}")))
    }

    /// Revokes a device of the actor's area: it is refused on its next
    /// request (`token_revoked`) and its user is told to enrol it again.
    /// False if it was revoked already.
    pub async fn revoke(&self, actor: &Actor, id: DeviceId) -> Result<bool, OpsError> {
        let row = self.find_device(actor, id).await?;
        let owner = self.find_user(&Actor::Operator, row.device.user).await?;
        let now = self.clock.now();
        let revoked = self.store.revoke_device(id, now).await?;
        let after = self.find_device(&Actor::Operator, id).await?;
        self.record(
            actor,
            AuditEntry::new(
                now,
                None,
                "device.revoke",
                id.to_string(),
                serde_json::json!({ "user": row.device.user.to_string(), "was_active": revoked }),
            )
            .within(owner.county, owner.province)
            .changing(
                json(&device_view(&row, now)),
                json(&device_view(&after, now)),
            ),
        )
        .await?;
        tracing::info!(device = %id, "device revoked");
        Ok(revoked)
    }

    /// Imports the embedded register (only the townships and villages of
    /// `only`, when given) and the county lists.
    pub async fn import_divisions(
        &self,
        only: Option<&[CountyCode]>,
    ) -> Result<ImportReport, OpsError> {
        let only_owned = only.map(<[CountyCode]>::to_vec);
        let rows = tokio::task::spawn_blocking(move || {
            register_rows(&embedded_register(), only_owned.as_deref())
        })
        .await
        .map_err(|e| OpsError::Reference(format!("register task: {e}")))??;
        self.import_rows(rows).await
    }

    /// Imports rows read with [`register_rows`], and the county lists.
    pub async fn import_rows(&self, rows: Vec<DivisionImport>) -> Result<ImportReport, OpsError> {
        let mut report = ImportReport::default();
        for chunk in rows.chunks(50_000) {
            report.divisions += self.store.import_divisions(chunk.to_vec()).await?;
        }
        let mut tags = std::collections::BTreeMap::new();
        for list in embedded_county_lists() {
            for county in list.counties()? {
                tags.insert(
                    (county, list.tag.code()),
                    (list.tag, list.source.to_string()),
                );
            }
        }
        let tags = tags
            .into_iter()
            .map(|((county, _), (tag, source))| (county, tag, source))
            .collect();
        report.tags = self.store.import_county_tags(tags).await?;
        self.audit(
            "register.import",
            app_core::reference::REGISTER_VERSION.into(),
            serde_json::json!({ "divisions": report.divisions, "tags": report.tags }),
        )
        .await?;
        Ok(report)
    }

    /// Every device with its user.
    pub async fn list_devices(&self) -> Result<Vec<DeviceLine>, OpsError> {
        let users = self.store.users().await?;
        Ok(self
            .store
            .devices()
            .await?
            .into_iter()
            .map(|d| DeviceLine {
                username: users
                    .iter()
                    .find(|u| u.user.id == d.user)
                    .map(|u| u.user.username.clone())
                    .unwrap_or_default(),
                device: d,
            })
            .collect())
    }

    /// Revokes a device, as an operator; false if it was already revoked.
    pub async fn revoke_device(&self, id: DeviceId) -> Result<bool, OpsError> {
        self.revoke(&Actor::Operator, id).await
    }

    /// Sets or clears a county tag, as an operator.
    pub async fn tag_county(
        &self,
        county: CountyCode,
        tag: CountyTag,
        on: bool,
    ) -> Result<(), OpsError> {
        self.tag(&Actor::Operator, county, tag, on).await
    }

    /// Sets or clears a tag on a county of the actor's area (`NotFound`
    /// outside it).
    pub async fn tag(
        &self,
        actor: &Actor,
        county: CountyCode,
        tag: CountyTag,
        on: bool,
    ) -> Result<(), OpsError> {
        if !actor.area().covers_county(county) {
            return Err(OpsError::NotFound(format!("county {county}")));
        }
        let source = match actor {
            Actor::Operator => "operator".to_owned(),
            Actor::Admin { user, .. } => format!("admin:{}", user.username),
        };
        self.store.set_county_tag(county, tag, on, &source).await?;
        self.record(
            actor,
            AuditEntry::new(
                self.clock.now(),
                None,
                if on { "county.tag" } else { "county.untag" },
                county.to_string(),
                serde_json::json!({ "tag": tag.code() }),
            )
            .within(Some(county), None),
        )
        .await
    }

    // --- Quarantine -----------------------------------------------------

    /// A page of the documents quarantined for devices of users in the
    /// actor's area, newest first, each with its changes that match the
    /// query and what each writes.
    pub async fn quarantine(
        &self,
        actor: &Actor,
        q: &wire::QuarantineQuery,
    ) -> Result<Page<wire::QuarantinedDoc>, OpsError> {
        let limit = page_limit(q.limit);
        let rows = self
            .store
            .quarantine_page(&QuarantinePage {
                area: actor.area(),
                state: q.state,
                device: q.device,
                user: q.user,
                doc: q.doc,
                code: q.code.clone().filter(|c| !c.is_empty()),
                since: q.since,
                until: q.until,
                before: parse_cursor(q.cursor.as_deref())?,
                limit: limit + 1,
            })
            .await?;
        let mut groups: Vec<Vec<QuarantineRow>> = Vec::new();
        for row in rows {
            match groups.last_mut() {
                Some(g) if g[0].key == row.key => g.push(row),
                _ => groups.push(vec![row]),
            }
        }
        let next = cut(&mut groups, limit, |g| g[0].key.to_string());
        let mut items = Vec::with_capacity(groups.len());
        for group in groups {
            let mut doc = self.quarantined_doc(group).await?;
            let mut mentions = crate::names::Mentions::default();
            for w in doc.changes.iter().flat_map(|c| c.writes.iter().flatten()) {
                mentions.add_opt(w.before.as_ref());
                mentions.add_opt(w.after.as_ref());
            }
            doc.names = self.names_of(actor, mentions).await?;
            items.push(doc);
        }
        Ok(Page { items, next })
    }

    async fn quarantined_doc(
        &self,
        group: Vec<QuarantineRow>,
    ) -> Result<wire::QuarantinedDoc, OpsError> {
        let first = &group[0];
        let (device, doc) = (first.device, first.doc);
        let all = self.store.quarantined(device, doc).await?;
        let mut decoded = tokio::task::spawn_blocking(move || {
            crate::quarantine::decode(all.snapshot.as_deref(), &all.rows)
        })
        .await
        .map_err(|e| OpsError::Reference(format!("decoding task: {e}")))?;
        let state = if group
            .iter()
            .any(|r| r.state() == wire::QuarantineState::Open)
        {
            wire::QuarantineState::Open
        } else {
            group
                .last()
                .map_or(wire::QuarantineState::Open, QuarantineRow::state)
        };
        let changes = group
            .iter()
            .map(|r| {
                let (writes, undecoded) = match decoded.remove(&r.id) {
                    Some(Ok(w)) => (Some(w), None),
                    Some(Err(why)) => (None, Some(why)),
                    None => (None, Some("not found again".to_owned())),
                };
                wire::QuarantinedChange {
                    id: r.id,
                    hash: r.hash.clone(),
                    size: r.size,
                    code: r.code.clone(),
                    reason: r.reason.clone(),
                    words: refusal_words(&r.code),
                    at: r.at,
                    state: r.state(),
                    resolved_at: r.released_at,
                    resolved_by: r.resolved_by,
                    discard_reason: r.discard_reason.clone(),
                    writes,
                    undecoded,
                }
            })
            .collect();
        Ok(wire::QuarantinedDoc {
            device,
            device_name: first.device_name.clone(),
            platform: first.platform.clone(),
            user: first.user,
            username: first.username.clone(),
            display_name: first.display_name.clone(),
            doc,
            kind: first.kind.as_deref().and_then(RecordKind::from_code),
            county: first.county,
            state,
            last_at: group.iter().map(|r| r.at).max().unwrap_or(first.at),
            changes,
            names: BTreeMap::new(),
        })
    }

    /// Where a device's user works, and the device, as `actor` sees it.
    async fn device_owner(
        &self,
        actor: &Actor,
        device: DeviceId,
    ) -> Result<(DeviceRecord, UserRow), OpsError> {
        let row = self.find_device(actor, device).await?;
        let owner = self.find_user(&Actor::Operator, row.device.user).await?;
        Ok((row.device, owner))
    }

    /// Checks the open refused changes of a document from a device of the
    /// actor's area again under today's rules (its user's team and scope
    /// now): what passes is stored and reaches the team, what fails stays
    /// with today's reason. The device is told either way.
    pub async fn release(
        &self,
        actor: &Actor,
        target: &wire::QuarantineTarget,
    ) -> Result<wire::Released, OpsError> {
        let (_, owner) = self.device_owner(actor, target.device).await?;
        let team = match owner.record.user.team {
            Some(t) => self.store.team(t).await?,
            None => None,
        };
        let principal = Principal::of(&owner.record.user, team.as_ref());
        let now = self.clock.now();
        let report = self
            .store
            .release_quarantine(target.device, target.doc, principal, actor.user(), now)
            .await?;
        if report.verdicts.is_empty() {
            return Err(not_quarantined(target.device, target.doc));
        }
        let mut out = wire::Released::default();
        for v in &report.verdicts {
            match v {
                RowVerdict::Stored { .. } => out.stored += 1,
                RowVerdict::Duplicate { .. } => out.duplicate += 1,
                RowVerdict::Refused { id, code, reason } => {
                    out.still_refused.push(wire::StillRefused {
                        id: *id,
                        code: code.clone(),
                        reason: reason.clone(),
                    })
                }
            }
        }
        out.still_open = !out.still_refused.is_empty();
        self.record(
            actor,
            AuditEntry::new(
                now,
                None,
                "quarantine.release",
                target.doc.to_string(),
                serde_json::json!({
                    "device": target.device.to_string(),
                    "user": owner.record.user.id.to_string(),
                    "stored": out.stored,
                    "duplicate": out.duplicate,
                    "still_refused": out.still_refused.len(),
                }),
            )
            .within(owner.county, owner.province)
            .changing(
                Some(serde_json::json!({
                    "open": report.verdicts.iter().map(RowVerdict::id).collect::<Vec<_>>(),
                })),
                json(&out),
            ),
        )
        .await?;
        Ok(out)
    }

    /// Discards the open refused changes of a document from a device of the
    /// actor's area, with a reason for its user: archived, never deleted;
    /// the device is told on its next sync.
    pub async fn discard(
        &self,
        actor: &Actor,
        discard: &wire::Discard,
    ) -> Result<wire::Discarded, OpsError> {
        let reason = discard.reason.trim().to_string();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(invalid(
                "reason_required",
                "reason",
                "a discard needs a reason of 1 to 500 characters for the device's user",
            ));
        }
        let (_, owner) = self.device_owner(actor, discard.device).await?;
        let now = self.clock.now();
        let rows = self
            .store
            .discard_quarantine(discard.device, discard.doc, &reason, actor.user(), now)
            .await?;
        if rows.is_empty() {
            return Err(not_quarantined(discard.device, discard.doc));
        }
        let out = wire::Discarded {
            discarded: rows.len() as u64,
        };
        self.record(
            actor,
            AuditEntry::new(
                now,
                None,
                "quarantine.discard",
                discard.doc.to_string(),
                serde_json::json!({
                    "device": discard.device.to_string(),
                    "user": owner.record.user.id.to_string(),
                    "reason": reason,
                    "discarded": out.discarded,
                }),
            )
            .within(owner.county, owner.province)
            .changing(
                json(&rows),
                Some(serde_json::json!({ "state": "discarded", "reason": reason })),
            ),
        )
        .await?;
        Ok(out)
    }

    // --- Audit ----------------------------------------------------------

    fn audit_query(&self, actor: &Actor, q: &wire::AuditQuery) -> Result<AuditPage, OpsError> {
        let (action, action_like) = action_filter(q.action.as_deref());
        Ok(AuditPage {
            area: actor.area(),
            actor: q.actor,
            action,
            action_like,
            subject: q.subject.clone().filter(|s| !s.trim().is_empty()),
            since: q.since,
            until: q.until,
            before: parse_cursor(q.cursor.as_deref())?,
            limit: 0,
        })
    }

    /// A page of the audit entries about the actor's area, newest first.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        q: &wire::AuditQuery,
    ) -> Result<Page<wire::AuditView>, OpsError> {
        let limit = page_limit(q.limit);
        let mut page = self.audit_query(actor, q)?;
        page.limit = limit + 1;
        let mut rows = self.store.audit_page(&page).await?;
        let next = cut(&mut rows, limit, |r| r.id.to_string());
        let mut items: Vec<wire::AuditView> = rows.into_iter().map(audit_view).collect();
        let mentions = |e: &wire::AuditView| {
            let mut m = crate::names::Mentions::default();
            m.add(&serde_json::Value::String(e.subject.clone()));
            m.add(&e.detail);
            m.add_opt(e.before.as_ref());
            m.add_opt(e.after.as_ref());
            m
        };
        let mut all = crate::names::Mentions::default();
        items.iter().for_each(|e| all.extend(mentions(e)));
        let names = self.names_of(actor, all).await?;
        for e in &mut items {
            e.names = mentions(e).pick(&names);
        }
        Ok(Page { items, next })
    }

    /// Every audit entry the query matches (at most [`MAX_CSV_ROWS`],
    /// newest first) as CSV: UTF-8 with a byte-order mark, so that
    /// spreadsheets read the Chinese. Also whether rows were left out.
    pub async fn audit_csv(
        &self,
        actor: &Actor,
        q: &wire::AuditQuery,
    ) -> Result<(String, bool), OpsError> {
        let mut page = self.audit_query(actor, q)?;
        page.limit = 1_000;
        let mut out = String::from("\u{feff}");
        out.push_str(&crate::csv::row(&[
            "id", "time", "actor", "actor_id", "device", "action", "subject", "county", "province",
            "detail", "before", "after",
        ]));
        let mut n = 0usize;
        loop {
            let rows = self.store.audit_page(&page).await?;
            let Some(last) = rows.last().map(|r| r.id) else {
                return Ok((out, false));
            };
            for r in rows {
                if n == MAX_CSV_ROWS {
                    return Ok((out, true));
                }
                let e = &r.entry;
                let text = |v: &Option<serde_json::Value>| {
                    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
                };
                out.push_str(&crate::csv::row(&[
                    &r.id.to_string(),
                    &e.at
                        .to_china()
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_default(),
                    r.actor_name.as_deref().unwrap_or(""),
                    &e.actor.map(|u| u.to_string()).unwrap_or_default(),
                    &e.device.map(|d| d.to_string()).unwrap_or_default(),
                    &e.action,
                    &e.subject,
                    &e.county.map(|c| c.to_string()).unwrap_or_default(),
                    &e.province.map(|p| p.to_string()).unwrap_or_default(),
                    &e.detail.to_string(),
                    &text(&e.before),
                    &text(&e.after),
                ]));
                n += 1;
            }
            page.before = Some(last);
        }
    }

    /// Seeds the demo county 正安县 (520324): its register, the team
    /// 正安县科技特派团 (leading industry 茶叶), a team lead, six
    /// commissioners and a county sync admin, with known passwords, and
    /// the team's devices with a month of records ending today by the
    /// server's clock ([`crate::demo`]). Running it again changes nothing
    /// and returns the same accounts.
    pub async fn demo(&self) -> Result<Demo, OpsError> {
        let (accounts, team, members, county) = self.demo_team().await?;
        let slice = self
            .store
            .register_slice(county)
            .await?
            .ok_or_else(|| OpsError::Reference(format!("no register slice of {county}")))?;
        let seeded = crate::demo::seed(
            self.store.as_ref(),
            &team,
            &members,
            &slice,
            self.clock.now(),
        )
        .await
        .map_err(|e| match e {
            crate::demo::DemoError::Server(e) => OpsError::Store(e),
            other => OpsError::Demo(other.to_string()),
        })?;
        Ok(Demo {
            accounts,
            seeded: Some(seeded),
        })
    }

    /// The demo county's register, team and accounts only, as
    /// [`Ops::demo`] makes them: no devices, no records. Idempotent.
    pub async fn demo_accounts(&self) -> Result<Demo, OpsError> {
        let (accounts, ..) = self.demo_team().await?;
        Ok(Demo {
            accounts,
            seeded: None,
        })
    }

    /// The demo's register, team and accounts, created when missing: the
    /// accounts, the team as it is now, its members with the devices the
    /// seed gives them (lead first), and the county.
    async fn demo_team(
        &self,
    ) -> Result<(Vec<DemoAccount>, Team, Vec<crate::demo::Member>, CountyCode), OpsError> {
        let county = CountyCode::parse(DEMO_COUNTY).expect("a valid county code");
        if self
            .store
            .register_slice(county)
            .await?
            .is_none_or(|s| s.villages.is_empty())
        {
            self.import_divisions(Some(&[county])).await?;
        }
        let team = match self
            .store
            .teams()
            .await?
            .into_iter()
            .find(|t| t.county == county && t.name == "正安县科技特派团")
        {
            Some(t) => t,
            None => self.add_team("正安县科技特派团", county, "茶叶").await?,
        };
        let phone = ("手机", "android");
        let accounts = [
            (
                "zhengan-lead",
                "李明",
                Role::TeamLead,
                "demo-lead-520324",
                &[("平板", "android")][..],
            ),
            (
                "zhengan-zhang",
                "张三",
                Role::Commissioner,
                "demo-zhang-520324",
                &[phone, ("平板", "android")][..],
            ),
            (
                "zhengan-wang",
                "王芳",
                Role::Commissioner,
                "demo-wang-520324",
                &[phone][..],
            ),
            (
                "zhengan-chen",
                "陈建国",
                Role::Commissioner,
                "demo-chen-520324",
                &[phone][..],
            ),
            (
                "zhengan-liu",
                "刘晓燕",
                Role::Commissioner,
                "demo-liu-520324",
                &[phone][..],
            ),
            (
                "zhengan-yang",
                "杨志强",
                Role::Commissioner,
                "demo-yang-520324",
                &[phone][..],
            ),
            (
                "zhengan-zhou",
                "周丽华",
                Role::Commissioner,
                "demo-zhou-520324",
                &[phone][..],
            ),
            (
                "zhengan-admin",
                "赵敏",
                Role::SyncAdmin,
                "demo-admin-520324",
                &[][..],
            ),
        ];
        let mut out = Vec::new();
        let mut members = Vec::new();
        for (username, name, role, password, devices) in accounts {
            let user = match self.store.user_by_name(username).await? {
                Some(found) => found.user,
                None => {
                    self.add_user(NewUser {
                        username: username.into(),
                        display_name: name.into(),
                        role,
                        scope: (role == Role::SyncAdmin).then_some(Scope::County(county)),
                        team: (role != Role::SyncAdmin).then_some(team.id),
                        password: password.into(),
                    })
                    .await?
                }
            };
            out.push(DemoAccount {
                username: username.into(),
                password: password.into(),
                role,
                display_name: name.into(),
            });
            if role != Role::SyncAdmin {
                members.push(crate::demo::Member {
                    devices: devices
                        .iter()
                        .map(|(kind, platform)| (format!("{name}的{kind}"), *platform))
                        .collect(),
                    user,
                });
            }
        }
        // The team as it is now (the lead appointed).
        let team = self.store.team(team.id).await?.unwrap_or(team);
        Ok((out, team, members, county))
    }
}

/// Most rows of an audit CSV.
pub const MAX_CSV_ROWS: usize = 100_000;

fn not_quarantined(device: DeviceId, doc: DocId) -> OpsError {
    OpsError::Conflict {
        code: "not_quarantined",
        message: format!("no open quarantined change of document {doc} from device {device}"),
    }
}

/// Keeps the first `limit` of `rows` (read with one more than a page) and
/// returns the cursor of the next page, the last kept row's key, if rows
/// were left.
pub(crate) fn cut<T>(rows: &mut Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Option<String> {
    let limit = limit as usize;
    if rows.len() <= limit {
        return None;
    }
    rows.truncate(limit);
    rows.last().map(key)
}

/// An audit entry as the console shows it.
pub fn audit_view(r: crate::store::AuditRecord) -> wire::AuditView {
    let e = r.entry;
    wire::AuditView {
        id: r.id,
        at: e.at,
        actor: e.actor,
        actor_name: r.actor_name,
        device: e.device,
        action: e.action,
        subject: e.subject,
        county: e.county,
        province: e.province,
        detail: e.detail,
        before: e.before,
        after: e.after,
        names: BTreeMap::new(),
    }
}
