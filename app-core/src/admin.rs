//! The sync admin's console (同步管理员控制台) on the wire: the JSON bodies,
//! answers and query filters of `/api/v1/admin/…`, shared by the server,
//! the device's client (`sync::http::SyncClient`'s admin methods) and the
//! interface. Plain serde with no I/O; it compiles to wasm.
//!
//! Lists come a page at a time ([`Page`]): at most `limit` items and, when
//! more wait, an opaque `next` cursor to send back as `cursor`. Filters
//! travel in the query string and the server applies them in its query,
//! so a page is full whatever the admin's scope.
//!
//! Also here, because the server and the interface must agree on them:
//! when a device counts as silent and when its backlog counts as growing
//! ([`DeviceFlags`], [`Backlog::after_report`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::domain::{
    CountyCode, DeviceId, DocId, ProvinceCode, RecordKind, Role, Scope, Team, TeamId, Timestamp,
    User, UserId, VillageCode,
};
use crate::sync::protocol::DeviceReport;

/// Items on a page when the query does not say.
pub const DEFAULT_PAGE: u32 = 50;
/// Most items on a page.
pub const MAX_PAGE: u32 = 200;

/// A device is silent when it has not been heard from for this long.
pub const SILENT_AFTER_MILLIS: i64 = 7 * DAY_MILLIS;
/// A backlog is growing when the outbox grew at this many reports in a row
/// (without shrinking in between)…
pub const GROWING_AFTER_RISES: u32 = 3;
/// …or when its oldest change has waited this long at a report.
pub const STALE_AFTER_MILLIS: i64 = 3 * DAY_MILLIS;

const DAY_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// Send as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

// --- Teams and users ----------------------------------------------------

/// `POST /api/v1/admin/teams`: a team (科技特派团) to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTeam {
    /// The county it serves.
    pub county: CountyCode,
    /// Its name, e.g. 正安县科技特派团.
    pub name: String,
    /// The county's leading industry (主导产业), e.g. 茶叶.
    pub leading_industry: String,
    /// An existing user to lead it (团长): they move to the team as its
    /// team lead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<UserId>,
}

/// A team as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    /// The team.
    #[serde(flatten)]
    pub team: Team,
    /// Its members (commissioners and leads), disabled ones included.
    pub members: u64,
}

/// `POST /api/v1/admin/users`: an account to create. The server makes a
/// one-time password for it ([`CreatedUser`]); the user sets their own at
/// first sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    /// Sign-in name: no spaces.
    pub username: String,
    /// The name shown to others (姓名).
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// For commissioners and leads `own` or their team (the team when
    /// absent); for sync admins a county or a province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// The team, for commissioners and team leads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
}

/// A user as the console shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// The user.
    #[serde(flatten)]
    pub user: User,
    /// Their team's name.
    pub team_name: Option<String>,
    /// The county they work in (their team's, or their county scope).
    pub county: Option<CountyCode>,
    /// The province they work in.
    pub province: Option<ProvinceCode>,
    /// Whether they must set a new password at their next sign-in (after a
    /// reset or a new account).
    pub must_change_password: bool,
}

/// Answer to creating a user (`201`): the account and its one-time
/// password, shown this once and never again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedUser {
    /// The account.
    pub user: UserView,
    /// The one-time password to give the user.
    pub one_time_password: String,
}

/// `POST /api/v1/admin/users/{id}/team`: moves a commissioner or team lead
/// to another team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveUser {
    /// The team to move to.
    pub team: TeamId,
}

/// `POST /api/v1/admin/users/{id}/scope`: changes how far a user reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeScope {
    /// The new scope.
    pub scope: Scope,
}

/// Answer to `POST /api/v1/admin/users/{id}/password-reset`: the one-time
/// password, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordReset {
    /// The account.
    pub user: UserView,
    /// The one-time password to give the user.
    pub one_time_password: String,
}

/// Query of `GET /api/v1/admin/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Members of this team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    /// Users of this county (within the admin's scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<CountyCode>,
    /// With this role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Enabled (`true`) or disabled (`false`) accounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Sign-in or shown name containing this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// From a previous page's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size (default 50, at most 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Query of `GET /api/v1/admin/teams`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamQuery {
    /// Teams of this county.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<CountyCode>,
    /// From a previous page's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

// --- Devices ------------------------------------------------------------

/// What a device's reports say about its outbox, as the server keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backlog {
    /// Changes it held unsent at its last report.
    pub changes: u64,
    /// When its oldest unsent change was made (server clock: the report's
    /// time less the age the device gave).
    pub oldest_at: Option<Timestamp>,
    /// When it last reported (server clock).
    pub reported_at: Timestamp,
    /// Reports in a row at which the outbox had grown.
    pub rises: u32,
    /// Whether the backlog counts as growing (see
    /// [`Backlog::after_report`]).
    pub growing: bool,
}

impl Backlog {
    /// The backlog after a report received at `at`, given the one before.
    ///
    /// Growing means: the outbox grew at [`GROWING_AFTER_RISES`] reports in
    /// a row (a report with as many changes as the one before neither
    /// counts nor breaks the run; one with fewer starts it again), or its
    /// oldest change had waited [`STALE_AFTER_MILLIS`] at this report. A
    /// device whose pushes go through reports an emptier outbox after each
    /// round, so neither happens to it.
    pub fn after_report(prev: Option<&Backlog>, report: &DeviceReport, at: Timestamp) -> Backlog {
        let changes = report.outbox_changes;
        let rises = match prev {
            Some(p) if changes > p.changes => p.rises.saturating_add(1),
            Some(p) if changes == p.changes => p.rises,
            _ => 0,
        };
        let oldest_at = report
            .oldest_pending_secs
            .filter(|_| changes > 0)
            .map(|secs| {
                let back = i64::try_from(secs)
                    .ok()
                    .and_then(|s| s.checked_mul(1000))
                    .unwrap_or(i64::MAX);
                Timestamp::from_millis(at.as_millis().saturating_sub(back).max(0))
            });
        let stale = oldest_at.is_some_and(|o| at.millis_since(o) >= STALE_AFTER_MILLIS);
        Backlog {
            changes,
            oldest_at,
            reported_at: at,
            rises,
            growing: changes > 0 && (rises >= GROWING_AFTER_RISES || stale),
        }
    }
}

/// What the console flags about a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeviceFlags {
    /// Not revoked, and not heard from for more than 7 days.
    pub silent: bool,
    /// Its backlog grows (see [`Backlog::after_report`]).
    pub growing_backlog: bool,
}

impl DeviceFlags {
    /// The flags of a device last seen at `last_seen`, at `now`.
    pub fn of(
        last_seen: Timestamp,
        revoked: bool,
        backlog: Option<&Backlog>,
        now: Timestamp,
    ) -> DeviceFlags {
        DeviceFlags {
            silent: !revoked && now.millis_since(last_seen) > SILENT_AFTER_MILLIS,
            growing_backlog: !revoked && backlog.is_some_and(|b| b.growing),
        }
    }
}

/// A device as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceView {
    /// The device.
    pub id: DeviceId,
    /// Whose it is.
    pub user: UserId,
    /// Their sign-in name.
    pub username: String,
    /// Their shown name.
    pub display_name: String,
    /// The name the user gave it (张三的手机).
    pub name: String,
    /// `android`, `ios`, …
    pub platform: String,
    /// The app version it last reported.
    pub app_version: Option<String>,
    /// When it enrolled.
    pub created_at: Timestamp,
    /// When it was last heard from (within a few minutes).
    pub last_seen_at: Timestamp,
    /// When a push of it last succeeded.
    pub last_push_at: Option<Timestamp>,
    /// When a pull of it last succeeded.
    pub last_pull_at: Option<Timestamp>,
    /// What it holds unsent, by its last report.
    pub backlog: Option<Backlog>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
    /// Notices about refused changes it has not collected yet.
    pub notices_pending: u64,
    /// What the console flags.
    pub flags: DeviceFlags,
}

/// Which devices to list by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Not revoked.
    Active,
    /// Revoked.
    Revoked,
}

/// Which devices to list by flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceFlag {
    /// Silent for more than 7 days.
    Silent,
    /// With a growing backlog.
    Backlog,
    /// Either.
    Any,
}

/// Query of `GET /api/v1/admin/devices`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceQuery {
    /// Devices of this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    /// Devices of users of this team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    /// Active or revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<DeviceState>,
    /// Only flagged devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<DeviceFlag>,
    /// From a previous page's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Answer to `POST /api/v1/admin/devices/{id}/revoke`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoked {
    /// Whether the device was active until now.
    pub revoked: bool,
}

// --- Quarantine ---------------------------------------------------------

/// Where a quarantined change stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuarantineState {
    /// Waiting for a sync admin; the document is closed to the device.
    Open,
    /// Checked again and stored (or found already stored).
    Released,
    /// Discarded with a reason; archived, never deleted.
    Discarded,
}

impl QuarantineState {
    /// The state as a string.
    pub const fn as_str(self) -> &'static str {
        match self {
            QuarantineState::Open => "open",
            QuarantineState::Released => "released",
            QuarantineState::Discarded => "discarded",
        }
    }
}

/// One field a refused change writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldWrite {
    /// The record's field, as in its JSON (`description`, `status`, …).
    pub field: String,
    /// Its value on the server before the change (absent: not set, or a
    /// new record).
    pub before: Option<serde_json::Value>,
    /// Its value with the change.
    pub after: Option<serde_json::Value>,
    /// The change writes the field without changing what the record shows
    /// (its value loses to a concurrent one): `after` is what shows.
    #[serde(default)]
    pub hidden: bool,
}

/// A refused change, decoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantinedChange {
    /// Its row; increasing in the order the server received them.
    pub id: i64,
    /// The Automerge change hash (hex), when the bytes decoded.
    pub hash: Option<String>,
    /// Size of the kept bytes.
    pub size: u64,
    /// The refusal code (see `RefusalCode`; `missing_deps` when a release
    /// found it waiting for changes the server does not have).
    pub code: String,
    /// Why, in the server's words (English, for the log).
    pub reason: String,
    /// Why, in Chinese words for people.
    pub words: String,
    /// When it was refused (server clock).
    pub at: Timestamp,
    /// Where it stands.
    pub state: QuarantineState,
    /// When it was released or discarded.
    pub resolved_at: Option<Timestamp>,
    /// Who released or discarded it (absent: an operator).
    pub resolved_by: Option<UserId>,
    /// The sync admin's reason for discarding it.
    pub discard_reason: Option<String>,
    /// What it tries to write: it applied to a copy of the document as the
    /// server has it (with the earlier refused changes of the same device
    /// and document), and the record read before and after.
    pub writes: Option<Vec<FieldWrite>>,
    /// Why `writes` is absent (the bytes do not decode, it needs changes
    /// the server does not have, …).
    pub undecoded: Option<String>,
}

/// A document quarantined for one device, with its refused changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantinedDoc {
    /// The device that pushed the changes.
    pub device: DeviceId,
    /// Its name.
    pub device_name: String,
    /// Its platform.
    pub platform: String,
    /// Its user.
    pub user: UserId,
    /// Their sign-in name.
    pub username: String,
    /// Their shown name.
    pub display_name: String,
    /// The document.
    pub doc: DocId,
    /// The record's kind, when the server holds the document.
    pub kind: Option<RecordKind>,
    /// The record's county, when the server holds the document.
    pub county: Option<CountyCode>,
    /// `open` while any change is open, else the state of the last one.
    pub state: QuarantineState,
    /// When the last change was refused.
    pub last_at: Timestamp,
    /// The changes matching the query's state, oldest first.
    pub changes: Vec<QuarantinedChange>,
    /// Names of the users, teams, devices and villages its changes' values
    /// mention by ID or code (keyed by the text the values carry), for
    /// those in the admin's area.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
}

/// Query of `GET /api/v1/admin/quarantine`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineQuery {
    /// Changes in this state (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<QuarantineState>,
    /// Pushed by this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceId>,
    /// Pushed by devices of this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    /// Of this document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<DocId>,
    /// With this refusal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Refused at or after this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Refused before this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// From a previous page's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size (documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Body of `POST /api/v1/admin/quarantine/release`: a document's refused
/// changes from one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineTarget {
    /// The device.
    pub device: DeviceId,
    /// The document.
    pub doc: DocId,
}

/// Body of `POST /api/v1/admin/quarantine/discard`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discard {
    /// The device.
    pub device: DeviceId,
    /// The document.
    pub doc: DocId,
    /// Why, for the device's user (1 to 500 characters).
    pub reason: String,
}

/// One change a release checked again and that is still refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StillRefused {
    /// Its row.
    pub id: i64,
    /// Today's refusal code.
    pub code: String,
    /// Today's reason.
    pub reason: String,
}

/// Answer to a release: the document's open changes were checked again
/// under today's rules; what passed is stored, what failed stays open with
/// today's reason.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Released {
    /// Changes stored now.
    pub stored: u64,
    /// Changes the server already had.
    pub duplicate: u64,
    /// Changes still refused, with why.
    pub still_refused: Vec<StillRefused>,
    /// Whether the document stays quarantined for the device.
    pub still_open: bool,
}

/// Answer to a discard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Discarded {
    /// Changes archived as discarded.
    pub discarded: u64,
}

// --- Conflicts ----------------------------------------------------------

/// Query of `GET /api/v1/admin/conflicts`: records in the admin's area
/// whose fields hold concurrent values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictListQuery {
    /// Records of this county.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<CountyCode>,
    /// Records of this team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamId>,
    /// Records of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<RecordKind>,
    /// Records whose conflict arose before this time (server clock): the
    /// ones that have waited longest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Timestamp>,
    /// From a previous page's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// Where a concurrent value came from, as the server knows it: the change
/// that wrote it, its Automerge actor, the device that actor is bound to
/// and that device's user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueSource {
    /// The value, as JSON in the record's form.
    pub value: serde_json::Value,
    /// The operation that wrote it (`counter@actor`): a resolution picks it
    /// by this.
    pub op: String,
    /// The actor (hex).
    pub actor: String,
    /// When, by the writing device's clock (to the second).
    pub at: Option<Timestamp>,
    /// The device the actor is bound to.
    pub device: Option<DeviceId>,
    /// Its name.
    pub device_name: Option<String>,
    /// Its platform.
    pub platform: Option<String>,
    /// The device's user.
    pub user: Option<UserId>,
    /// Their sign-in name.
    pub username: Option<String>,
    /// Their shown name.
    pub display_name: Option<String>,
}

/// A field with concurrent values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictedField {
    /// Where: `farmers_served`, `farmer.name`, `served.1.name`.
    pub path: String,
    /// The values; the first is the one shown now.
    pub values: Vec<ValueSource>,
}

/// A record with fields to resolve, as the console lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictedRecord {
    /// The record.
    pub doc: DocId,
    /// Its kind.
    pub kind: RecordKind,
    /// Its county.
    pub county: CountyCode,
    /// Its team.
    pub team: Option<TeamId>,
    /// The team's name.
    pub team_name: Option<String>,
    /// Its author.
    pub author: UserId,
    /// The author's shown name.
    pub author_name: Option<String>,
    /// Its village (a log's, or the farmer's).
    pub village: VillageCode,
    /// The village's name, when known.
    pub village_name: Option<String>,
    /// The work date, or the day asked.
    pub date: NaiveDate,
    /// When the record was made (its author's clock).
    pub created_at: Timestamp,
    /// Since when its fields conflict (server clock; absent when not known,
    /// e.g. listed from a device).
    pub since: Option<Timestamp>,
    /// Start of its description or problem.
    pub summary: String,
    /// The fields with concurrent values.
    pub fields: Vec<ConflictedField>,
}

// --- Audit --------------------------------------------------------------

/// One entry of the audit log (审计日志) as the console shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    /// Increasing; the log's order.
    pub id: i64,
    /// When (server clock).
    pub at: Timestamp,
    /// Who (absent: an operator at the server's command line).
    pub actor: Option<UserId>,
    /// Their sign-in name.
    pub actor_name: Option<String>,
    /// From which device.
    pub device: Option<DeviceId>,
    /// What, e.g. `user.disable`.
    pub action: String,
    /// On what, e.g. a user's ID.
    pub subject: String,
    /// The county the subject belongs to, when one.
    pub county: Option<CountyCode>,
    /// The province the subject belongs to, when one.
    pub province: Option<ProvinceCode>,
    /// Details.
    pub detail: serde_json::Value,
    /// The subject before the action.
    pub before: Option<serde_json::Value>,
    /// The subject after it.
    pub after: Option<serde_json::Value>,
    /// Names of the users, teams, devices and villages the entry mentions
    /// by ID or code (keyed by the text it carries), for those in the
    /// admin's area.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
}

/// Query of `GET /api/v1/admin/audit` and `GET /api/v1/admin/audit.csv`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// By this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<UserId>,
    /// This action, or a family of them ending in `.` (`user.`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// On this subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// At or after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// From a previous page's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Page size (at most 200; the CSV has no pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(changes: u64, oldest_secs: Option<u64>) -> DeviceReport {
        DeviceReport {
            outbox_changes: changes,
            oldest_pending_secs: oldest_secs,
            app_version: None,
        }
    }

    const HOUR: i64 = 60 * 60 * 1000;

    #[test]
    fn a_backlog_grows_after_three_rises_in_a_row_or_an_old_change() {
        /// (label, (outbox, oldest age in hours) at each report, growing after).
        type Case = (&'static str, &'static [(u64, u64)], bool);
        let cases: &[Case] = &[
            (
                "pushes go through",
                &[(5, 1), (0, 0), (3, 1), (0, 0)],
                false,
            ),
            ("three rises", &[(1, 1), (2, 2), (3, 3), (4, 4)], true),
            ("two rises", &[(1, 1), (2, 2), (3, 3)], false),
            (
                "equal reports keep the run",
                &[(1, 1), (2, 2), (2, 2), (3, 3), (4, 4)],
                true,
            ),
            (
                "a shrink starts again",
                &[(1, 1), (2, 2), (3, 3), (1, 3), (2, 4), (3, 5)],
                false,
            ),
            ("one change waiting three days", &[(1, 72)], true),
            ("one change waiting a day", &[(1, 24)], false),
            (
                "empty after growing",
                &[(1, 1), (2, 2), (3, 3), (4, 4), (0, 0)],
                false,
            ),
        ];
        for (label, reports, growing) in cases {
            let mut backlog = None;
            for (i, (changes, hours)) in reports.iter().enumerate() {
                let at = Timestamp::from_millis(1_000 * HOUR + i as i64 * HOUR);
                let age = (*changes > 0).then_some(hours * 3600);
                backlog = Some(Backlog::after_report(
                    backlog.as_ref(),
                    &report(*changes, age),
                    at,
                ));
            }
            assert_eq!(backlog.unwrap().growing, *growing, "{label}");
        }
    }

    #[test]
    fn the_oldest_change_is_placed_on_the_servers_clock() {
        let at = Timestamp::from_millis(100 * HOUR);
        let b = Backlog::after_report(None, &report(2, Some(3600)), at);
        assert_eq!(b.oldest_at, Some(Timestamp::from_millis(99 * HOUR)));
        assert_eq!(b.reported_at, at);
        let empty = Backlog::after_report(Some(&b), &report(0, Some(3600)), at);
        assert_eq!(
            empty.oldest_at, None,
            "an empty outbox has no oldest change"
        );
        let absurd = Backlog::after_report(None, &report(1, Some(u64::MAX)), at);
        assert_eq!(absurd.oldest_at, Some(Timestamp::from_millis(0)));
    }

    #[test]
    fn silent_means_more_than_seven_days_and_not_revoked() {
        let now = Timestamp::from_millis(1_000 * DAY_MILLIS);
        let seen = |days: i64| now.add_millis(-days * DAY_MILLIS);
        assert!(!DeviceFlags::of(seen(7), false, None, now).silent);
        assert!(DeviceFlags::of(seen(7).add_millis(-1), false, None, now).silent);
        assert!(!DeviceFlags::of(seen(30), true, None, now).silent);
        let growing = Backlog {
            changes: 3,
            oldest_at: None,
            reported_at: now,
            rises: 3,
            growing: true,
        };
        assert!(DeviceFlags::of(seen(0), false, Some(&growing), now).growing_backlog);
        assert!(!DeviceFlags::of(seen(0), true, Some(&growing), now).growing_backlog);
    }

    #[test]
    fn queries_travel_as_query_strings() {
        // What reqwest's `query` and axum's `Query` do: no empty fields.
        let q = QuarantineQuery {
            state: Some(QuarantineState::Open),
            since: Some(Timestamp::from_millis(5)),
            ..QuarantineQuery::default()
        };
        let json = serde_json::to_value(&q).unwrap();
        assert_eq!(json, serde_json::json!({ "state": "open", "since": 5 }));
    }
}
