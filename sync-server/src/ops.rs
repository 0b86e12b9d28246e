//! Operator actions, shared by the binary's subcommands and the tests: add
//! teams and users, import the division register and the county lists
//! embedded in the binary, list and revoke devices, tag counties, and seed
//! the demo county.
//!
//! Actions taken here (at the command line) are audited with no actor.

use std::sync::Arc;

use app_core::clock::SharedClock;
use app_core::domain::{
    CountyCode, CountyTag, DeviceId, DivisionLevel, Role, Scope, Team, TeamId, User, UserId,
};
use app_core::reference::{CountyList, RegisterSource};

use crate::auth::{PasswordError, hash_password};
use crate::config::PasswordCost;
use crate::store::{AuditEntry, DeviceRecord, DivisionImport, ServerStore, StoreError};

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

/// An operator action that failed.
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
    /// The request does not make sense.
    #[error("{0}")]
    Invalid(String),
}

impl From<app_core::reference::ReferenceError> for OpsError {
    fn from(e: app_core::reference::ReferenceError) -> Self {
        OpsError::Reference(e.to_string())
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
            .audit(&AuditEntry {
                at: self.clock.now(),
                actor: None,
                action: action.into(),
                subject,
                detail,
            })
            .await?;
        Ok(())
    }

    /// Adds a team (科技特派团) serving `county`.
    pub async fn add_team(
        &self,
        name: &str,
        county: CountyCode,
        leading_industry: &str,
    ) -> Result<Team, OpsError> {
        let team = Team {
            id: TeamId::new(self.clock.now()),
            name: name.trim().to_string(),
            county,
            leading_industry: leading_industry.trim().to_string(),
            lead: None,
        };
        if team.name.is_empty() {
            return Err(OpsError::Invalid("a team needs a name".into()));
        }
        self.store.create_team(&team, self.clock.now()).await?;
        self.audit(
            "team.add",
            team.id.to_string(),
            serde_json::json!({ "name": team.name, "county": county.to_string() }),
        )
        .await?;
        Ok(team)
    }

    /// Adds a user. Commissioners and team leads belong to a team and read
    /// it (unless given another scope); a team lead becomes the team's
    /// lead. Sync admins need a county or province scope.
    pub async fn add_user(&self, new: NewUser) -> Result<User, OpsError> {
        let username = new.username.trim().to_string();
        if username.is_empty() || username.chars().any(char::is_whitespace) {
            return Err(OpsError::Invalid(format!(
                "user name {username:?} must be non-empty, without spaces"
            )));
        }
        if new.password.chars().count() < 8 {
            return Err(OpsError::Invalid(
                "a password has at least 8 characters".into(),
            ));
        }
        let scope = match (new.role, new.scope, new.team) {
            (Role::SyncAdmin, Some(s @ (Scope::County(_) | Scope::Province(_))), _) => s,
            (Role::SyncAdmin, _, _) => {
                return Err(OpsError::Invalid(
                    "a sync admin needs a county or province scope".into(),
                ));
            }
            (_, _, None) => {
                return Err(OpsError::Invalid(
                    "commissioners and team leads belong to a team".into(),
                ));
            }
            (_, Some(s), Some(_)) => s,
            (_, None, Some(t)) => Scope::Team(t),
        };
        if let Some(t) = new.team
            && self.store.team(t).await?.is_none()
        {
            return Err(OpsError::Invalid(format!("no team {t}")));
        }
        let user = User {
            id: UserId::new(self.clock.now()),
            username,
            display_name: new.display_name.trim().to_string(),
            role: new.role,
            scope,
            team: if new.role == Role::SyncAdmin {
                None
            } else {
                new.team
            },
            active: true,
        };
        let password = new.password.clone();
        let cost = self.cost;
        let hash = tokio::task::spawn_blocking(move || hash_password(&password, cost))
            .await
            .map_err(|e| OpsError::Invalid(format!("hashing task: {e}")))??;
        self.store
            .create_user(&user, &hash, self.clock.now())
            .await?;
        if user.role == Role::TeamLead
            && let Some(t) = user.team
        {
            self.store.set_team_lead(t, Some(user.id)).await?;
        }
        self.audit(
            "user.add",
            user.id.to_string(),
            serde_json::json!({ "username": user.username, "role": user.role.code() }),
        )
        .await?;
        Ok(user)
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
        .map_err(|e| OpsError::Invalid(format!("register task: {e}")))??;
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

    /// Revokes a device; false if it was already revoked.
    pub async fn revoke_device(&self, id: DeviceId) -> Result<bool, OpsError> {
        if self.store.device(id).await?.is_none() {
            return Err(OpsError::Invalid(format!("no device {id}")));
        }
        let revoked = self.store.revoke_device(id, self.clock.now()).await?;
        self.audit(
            "device.revoke",
            id.to_string(),
            serde_json::json!({ "was_active": revoked }),
        )
        .await?;
        Ok(revoked)
    }

    /// Sets or clears a county tag.
    pub async fn tag_county(
        &self,
        county: CountyCode,
        tag: CountyTag,
        on: bool,
    ) -> Result<(), OpsError> {
        self.store
            .set_county_tag(county, tag, on, "operator")
            .await?;
        self.audit(
            if on { "county.tag" } else { "county.untag" },
            county.to_string(),
            serde_json::json!({ "tag": tag.code() }),
        )
        .await
    }

    /// Seeds the demo county 正安县 (520324): its register, the team
    /// 正安县科技特派团 (leading industry 茶叶), a team lead, two
    /// commissioners and a county sync admin, with known passwords. Running
    /// it again changes nothing and returns the same accounts.
    pub async fn demo(&self) -> Result<Vec<DemoAccount>, OpsError> {
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
        let accounts = [
            (
                "zhengan-lead",
                "李明",
                Role::TeamLead,
                "demo-lead-520324",
                None,
            ),
            (
                "zhengan-zhang",
                "张三",
                Role::Commissioner,
                "demo-zhang-520324",
                None,
            ),
            (
                "zhengan-wang",
                "王芳",
                Role::Commissioner,
                "demo-wang-520324",
                None,
            ),
            (
                "zhengan-admin",
                "赵敏",
                Role::SyncAdmin,
                "demo-admin-520324",
                Some(Scope::County(county)),
            ),
        ];
        let mut out = Vec::new();
        for (username, name, role, password, scope) in accounts {
            if self.store.user_by_name(username).await?.is_none() {
                self.add_user(NewUser {
                    username: username.into(),
                    display_name: name.into(),
                    role,
                    scope,
                    team: (role != Role::SyncAdmin).then_some(team.id),
                    password: password.into(),
                })
                .await?;
            }
            out.push(DemoAccount {
                username: username.into(),
                password: password.into(),
                role,
                display_name: name.into(),
            });
        }
        Ok(out)
    }
}
