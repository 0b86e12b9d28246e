//! The sync admin's console in the store, written once for both backends:
//! the area a listing is cut to ([`Area`]) and the filters of each listing
//! (the backends put both in their `WHERE`, so a page is full whatever the
//! admin's scope), the rows the listings answer and how they are read from
//! columns both schemas share, and the release sequence ([`release`]).
//!
//! A release checks a document's refused changes again under today's
//! rules with the push's own plan ([`crate::sync::plan`]), inside the
//! push's write transaction ([`PushBackend::begin`]), so it is serialised
//! with pushes exactly as a push is; the backend adds the quarantine rows'
//! new states, the notices and the commit ([`ReleaseBackend::finish`]).

use std::future::Future;
use std::sync::Arc;

use app_core::admin::{Backlog, QuarantineState};
use app_core::domain::{
    CountyCode, DeviceId, DocId, ProvinceCode, Role, Scope, Team, TeamId, Timestamp, UserId,
};
use app_core::scope::Principal;
use app_core::sync::protocol::{ChangeOutcome, Notice, NoticeKind, PushRequest, WireChange};

use super::push::PushBackend;
use super::rows::{self, Columns};
use super::{AuditEntry, DeviceRecord, DeviceSync, Result, StoreError, UserRecord};
use crate::sync::{self, PushBatch, PushWrites};

/// Where a sync admin may look: the users (and their devices, quarantined
/// changes and audit entries) whose home county is `county`, or whose home
/// province is `province`; everything when both are `None` (an operator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Area {
    /// Only this county (a county admin).
    pub county: Option<CountyCode>,
    /// Only this province (a provincial admin).
    pub province: Option<ProvinceCode>,
}

impl Area {
    /// Everything: an operator at the command line.
    pub const ALL: Area = Area {
        county: None,
        province: None,
    };

    /// The area of a sync admin; `None` for anyone else.
    pub fn of(principal: &Principal) -> Option<Area> {
        if principal.role != Role::SyncAdmin {
            return None;
        }
        match principal.scope {
            Scope::County(c) => Some(Area {
                county: Some(c),
                province: None,
            }),
            Scope::Province(p) => Some(Area {
                county: None,
                province: Some(p),
            }),
            Scope::Own | Scope::Team(_) => None,
        }
    }

    /// Whether the area covers a county.
    pub fn covers_county(&self, county: CountyCode) -> bool {
        self.county.is_none_or(|c| c == county)
            && self.province.is_none_or(|p| p == county.province())
    }

    /// Whether the area covers something at home in `county`, or without
    /// a county in `province`.
    pub fn covers(&self, county: Option<CountyCode>, province: Option<ProvinceCode>) -> bool {
        let province = county.map(CountyCode::province).or(province);
        self.county.is_none_or(|c| county == Some(c))
            && self.province.is_none_or(|p| province == Some(p))
    }

    /// Whether the area covers a whole province (an operator, or that
    /// province's admin).
    pub fn covers_province(&self, province: ProvinceCode) -> bool {
        self.county.is_none() && self.province.is_none_or(|p| p == province)
    }

    /// The county as its SQL integer.
    pub fn county_int(&self) -> Option<i64> {
        self.county.map(|c| c.as_int() as i64)
    }

    /// The province as its SQL integer.
    pub fn province_int(&self) -> Option<i64> {
        self.province.map(|p| p.as_int() as i64)
    }
}

/// `text` as a `LIKE` pattern matching it anywhere, lowercase, with `%`,
/// `_` and the escape `\` escaped.
pub fn contains_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// An audit action filter: `user.disable` matches itself, `user.` every
/// action of the family. As (exact, `LIKE` prefix pattern).
pub fn action_filter(action: Option<&str>) -> (Option<String>, Option<String>) {
    match action.map(str::trim).filter(|a| !a.is_empty()) {
        None => (None, None),
        Some(a) if a.ends_with('.') => {
            let mut pattern = contains_pattern(a);
            pattern.remove(0);
            (None, Some(pattern))
        }
        Some(a) => (Some(a.to_owned()), None),
    }
}

/// A page of users.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserPage {
    /// The admin's area.
    pub area: Area,
    /// Only this user.
    pub user: Option<UserId>,
    /// Members of this team.
    pub team: Option<TeamId>,
    /// At home in this county.
    pub county: Option<CountyCode>,
    /// With this role.
    pub role: Option<Role>,
    /// Enabled or disabled.
    pub active: Option<bool>,
    /// A [`contains_pattern`] on the sign-in or shown name.
    pub text: Option<String>,
    /// Sign-in names after this one.
    pub after: Option<String>,
    /// At most this many.
    pub limit: u32,
}

/// A user as a listing reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// The user.
    pub record: UserRecord,
    /// Their team's name.
    pub team_name: Option<String>,
    /// Their home county.
    pub county: Option<CountyCode>,
    /// Their home province.
    pub province: Option<ProvinceCode>,
}

/// A page of teams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamPage {
    /// The admin's area.
    pub area: Area,
    /// Of this county.
    pub county: Option<CountyCode>,
    /// IDs after this one.
    pub after: Option<TeamId>,
    /// At most this many.
    pub limit: u32,
}

/// A page of devices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DevicePage {
    /// The admin's area.
    pub area: Area,
    /// Only this device.
    pub device: Option<DeviceId>,
    /// Of this user.
    pub user: Option<UserId>,
    /// Of this team's members.
    pub team: Option<TeamId>,
    /// Revoked (`true`) or active.
    pub revoked: Option<bool>,
    /// Only flagged ones: silent (not seen since `silent_before`), with a
    /// growing backlog, or either when both are set.
    pub flag_silent: bool,
    /// See `flag_silent`.
    pub flag_backlog: bool,
    /// A device is silent when last seen before this.
    pub silent_before: Timestamp,
    /// IDs after this one.
    pub after: Option<DeviceId>,
    /// At most this many.
    pub limit: u32,
}

/// A device with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// The device.
    pub device: DeviceRecord,
    /// Its user's sign-in name.
    pub username: String,
    /// Its user's shown name.
    pub display_name: String,
}

/// A page of the quarantine, by document and device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuarantinePage {
    /// The admin's area (of the pushing device's user).
    pub area: Area,
    /// Changes in this state.
    pub state: Option<QuarantineState>,
    /// Of this device.
    pub device: Option<DeviceId>,
    /// Of this user's devices.
    pub user: Option<UserId>,
    /// Of this document.
    pub doc: Option<DocId>,
    /// With this code.
    pub code: Option<String>,
    /// Refused at or after.
    pub since: Option<Timestamp>,
    /// Refused before.
    pub until: Option<Timestamp>,
    /// Groups whose newest matching row is older than this row.
    pub before: Option<i64>,
    /// At most this many groups.
    pub limit: u32,
}

impl QuarantinePage {
    /// The state filter as its SQL text.
    pub fn state_code(&self) -> Option<&'static str> {
        self.state.map(QuarantineState::as_str)
    }
}

/// The `WHERE` of a quarantine page over `quarantine q`, `devices d` and
/// `user_homes h`, with the backend's parameter names for: area county,
/// area province, state, device, user, document, code, since, until.
pub fn quarantine_filter(p: [&str; 9]) -> String {
    let [
        county,
        province,
        state,
        device,
        user,
        doc,
        code,
        since,
        until,
    ] = p;
    format!(
        "({county} IS NULL OR h.county = {county}) AND ({province} IS NULL OR h.province = {province})
         AND ({state} IS NULL
              OR ({state} = 'open' AND q.released_at IS NULL)
              OR ({state} = 'released' AND q.released_at IS NOT NULL AND q.discarded_at IS NULL)
              OR ({state} = 'discarded' AND q.discarded_at IS NOT NULL))
         AND ({device} IS NULL OR q.device_id = {device}) AND ({user} IS NULL OR d.user_id = {user})
         AND ({doc} IS NULL OR q.doc_id = {doc}) AND ({code} IS NULL OR q.code = {code})
         AND ({since} IS NULL OR q.at >= {since}) AND ({until} IS NULL OR q.at < {until})"
    )
}

/// One quarantined change in a listing, with its group's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineRow {
    /// The newest matching row of its (device, document) group: the page's
    /// order and cursor.
    pub key: i64,
    /// Its row.
    pub id: i64,
    /// The device.
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
    /// The change hash.
    pub hash: Option<String>,
    /// Size of the kept bytes.
    pub size: u64,
    /// The refusal code.
    pub code: String,
    /// Why.
    pub reason: String,
    /// When refused.
    pub at: Timestamp,
    /// When released or discarded.
    pub released_at: Option<Timestamp>,
    /// When discarded.
    pub discarded_at: Option<Timestamp>,
    /// Why discarded.
    pub discard_reason: Option<String>,
    /// Who released or discarded it.
    pub resolved_by: Option<UserId>,
    /// The stored document's kind, when it exists.
    pub kind: Option<String>,
    /// The stored document's county.
    pub county: Option<CountyCode>,
}

impl QuarantineRow {
    /// Where the change stands.
    pub fn state(&self) -> QuarantineState {
        match (self.released_at, self.discarded_at) {
            (None, _) => QuarantineState::Open,
            (Some(_), None) => QuarantineState::Released,
            (Some(_), Some(_)) => QuarantineState::Discarded,
        }
    }
}

/// Columns of [`quarantine_row`] over `quarantine q` joined to `devices
/// d`, `users u` and (left) `documents doc`; `size` is the backend's
/// expression for the byte length of `q.bytes` as a 64-bit integer.
pub fn quarantine_row_columns(size: &str) -> String {
    format!(
        "q.id, q.device_id, d.name, d.platform, d.user_id, u.username, u.display_name, q.doc_id,
         q.hash, {size}, q.code, q.reason, q.at, q.released_at, q.discarded_at,
         q.discard_reason, q.resolved_by, doc.kind, doc.county"
    )
}

/// A quarantine row from [`quarantine_row_columns`]; its `key` is the
/// caller's to set.
pub(crate) fn quarantine_row(r: &dyn Columns) -> Result<QuarantineRow> {
    Ok(QuarantineRow {
        key: 0,
        id: r.int(0)?,
        device: DeviceId::from_uuid(r.uuid(1)?),
        device_name: r.text(2)?,
        platform: r.text(3)?,
        user: UserId::from_uuid(r.uuid(4)?),
        username: r.text(5)?,
        display_name: r.text(6)?,
        doc: DocId::from_uuid(r.uuid(7)?),
        hash: r.opt_bytes(8)?.map(|h| rows::hex(&h)),
        size: r.count(9)?,
        code: r.text(10)?,
        reason: r.text(11)?,
        at: r.time(12)?,
        released_at: r.opt_time(13)?,
        discarded_at: r.opt_time(14)?,
        discard_reason: r.opt_text(15)?,
        resolved_by: r.opt_uuid(16)?.map(UserId::from_uuid),
        kind: r.opt_text(17)?,
        county: r
            .opt_int(18)?
            .and_then(|c| u64::try_from(c).ok())
            .and_then(|c| CountyCode::from_int(c).ok()),
    })
}

/// An open row for a release from `id, hash, code, bytes`.
pub(crate) fn open_row(r: &dyn Columns) -> Result<OpenRow> {
    Ok(OpenRow {
        id: r.int(0)?,
        hash: r.opt_bytes(1)?,
        code: r.text(2)?,
        bytes: r.bytes(3)?,
        cut: r.int(4)? != 0,
    })
}

/// Columns of a [`super::QuarantineEntry`] over `quarantine q` joined to
/// `devices d`; `size` as in [`quarantine_row_columns`].
pub fn quarantine_entry_columns(size: &str) -> String {
    format!(
        "q.id, q.device_id, d.user_id, q.doc_id, q.hash, {size}, q.code, q.reason, q.at,
         q.released_at"
    )
}

/// Every change of one (device, document) group with its bytes, and the
/// stored document's snapshot: what decoding needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quarantined {
    /// The stored document, if any.
    pub snapshot: Option<Vec<u8>>,
    /// `(row, bytes)` in the order received.
    pub rows: Vec<(i64, Vec<u8>)>,
}

/// A page of the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditPage {
    /// The admin's area.
    pub area: Area,
    /// By this user.
    pub actor: Option<UserId>,
    /// This action exactly.
    pub action: Option<String>,
    /// Actions matching this `LIKE` pattern (a family).
    pub action_like: Option<String>,
    /// On this subject.
    pub subject: Option<String>,
    /// At or after.
    pub since: Option<Timestamp>,
    /// Before.
    pub until: Option<Timestamp>,
    /// Entries older than this one.
    pub before: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// An audit entry as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Its position in the log.
    pub id: i64,
    /// The entry.
    pub entry: AuditEntry,
    /// The actor's sign-in name.
    pub actor_name: Option<String>,
}

/// An audit record from `id`, [`rows::AUDIT_COLUMNS`] and the actor's
/// name.
pub(crate) fn audit_record(r: &dyn Columns) -> Result<AuditRecord> {
    Ok(AuditRecord {
        id: r.int(0)?,
        entry: rows::audit_at(r, 1)?,
        actor_name: r.opt_text(1 + rows::AUDIT_COLUMN_COUNT)?,
    })
}

/// Columns of [`notice`].
pub const NOTICE_COLUMNS: &str = "id, doc_id, hash, kind, code, reason, at";

/// A notice from [`NOTICE_COLUMNS`].
pub(crate) fn notice(r: &dyn Columns) -> Result<Notice> {
    let kind = r.text(3)?;
    Ok(Notice {
        id: r.int(0)?,
        doc: DocId::from_uuid(r.uuid(1)?),
        hash: r.opt_bytes(2)?.map(|h| rows::hex(&h)),
        kind: NoticeKind::from_code(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("notice kind {kind:?}")))?,
        code: r.text(4)?,
        reason: r.text(5)?,
        at: r.time(6)?,
    })
}

/// A device's sync health from its columns, starting at `i`:
/// the columns of [`rows::DEVICE_COLUMNS`] from `app_version` on.
pub(crate) fn device_sync(r: &dyn Columns, i: usize) -> Result<DeviceSync> {
    let backlog = match r.opt_time(i + 5)? {
        None => None,
        Some(reported_at) => Some(Backlog {
            changes: r
                .opt_int(i + 3)?
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
            oldest_at: r.opt_time(i + 4)?,
            reported_at,
            rises: u32::try_from(r.int(i + 6)?).unwrap_or(u32::MAX),
            growing: r.flag(i + 7)?,
        }),
    };
    Ok(DeviceSync {
        app_version: r.opt_text(i)?,
        last_push_at: r.opt_time(i + 1)?,
        last_pull_at: r.opt_time(i + 2)?,
        backlog,
        notices_pending: r.count(i + 8)?,
    })
}

/// A team and its member count from [`rows::TEAM_COLUMNS`] and a count.
pub(crate) fn team_with_members(r: &dyn Columns) -> Result<(Team, u64)> {
    Ok((rows::team(r)?, r.count(5)?))
}

/// A user row from [`rows::USER_COLUMNS`], the team's name, home county
/// and home province.
pub(crate) fn user_row(r: &dyn Columns) -> Result<UserRow> {
    let n = rows::USER_COLUMN_COUNT;
    Ok(UserRow {
        record: rows::user(r)?,
        team_name: r.opt_text(n)?,
        county: r
            .opt_int(n + 1)?
            .and_then(|c| u64::try_from(c).ok())
            .and_then(|c| CountyCode::from_int(c).ok()),
        province: r
            .opt_int(n + 2)?
            .and_then(|c| u64::try_from(c).ok())
            .and_then(|c| ProvinceCode::from_int(c).ok()),
    })
}

/// A device row from [`rows::DEVICE_COLUMNS`] and its user's names.
pub(crate) fn device_row(r: &dyn Columns) -> Result<DeviceRow> {
    let n = rows::DEVICE_COLUMN_COUNT;
    Ok(DeviceRow {
        device: rows::device(r)?,
        username: r.text(n)?,
        display_name: r.text(n + 1)?,
    })
}

// --- Release --------------------------------------------------------------

/// What a release decided for one quarantined row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowVerdict {
    /// Stored now: the row is released.
    Stored {
        /// The row.
        id: i64,
    },
    /// The server already had it: the row is released.
    Duplicate {
        /// The row.
        id: i64,
    },
    /// Still refused: the row stays open with today's code and reason.
    Refused {
        /// The row.
        id: i64,
        /// Today's code.
        code: String,
        /// Today's reason.
        reason: String,
    },
}

impl RowVerdict {
    /// The row.
    pub fn id(&self) -> i64 {
        match self {
            RowVerdict::Stored { id }
            | RowVerdict::Duplicate { id }
            | RowVerdict::Refused { id, .. } => *id,
        }
    }
}

/// What a release did, row by row, in the order received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseReport {
    /// One verdict per open row checked.
    pub verdicts: Vec<RowVerdict>,
}

/// An open quarantined row, for a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRow {
    /// Its row.
    pub id: i64,
    /// The change hash.
    pub hash: Option<Vec<u8>>,
    /// Its code now.
    pub code: String,
    /// The bytes as sent, or only their head when `cut`.
    pub bytes: Vec<u8>,
    /// Whether only the head of the change was kept (it cannot be
    /// released: the whole is gone).
    pub cut: bool,
}

/// A notice to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    /// The document.
    pub doc: DocId,
    /// The change hash.
    pub hash: Option<Vec<u8>>,
    /// What happened.
    pub kind: NoticeKind,
    /// Its code.
    pub code: String,
    /// Why.
    pub reason: String,
}

/// Everything a release writes, in the push's write transaction.
#[derive(Debug, Clone)]
pub struct ReleaseWrites {
    /// The device whose rows these are.
    pub device: DeviceId,
    /// What the plan stores (its quarantine rows are not written: the
    /// existing rows take the verdicts).
    pub writes: PushWrites,
    /// The rows' new states.
    pub verdicts: Vec<RowVerdict>,
    /// Notices for the device.
    pub notices: Vec<NewNotice>,
    /// Who released.
    pub by: Option<UserId>,
    /// When.
    pub at: Timestamp,
}

/// What a backend adds to [`PushBackend`] for [`release`].
pub trait ReleaseBackend: PushBackend {
    /// The open rows of `doc` from `device`, in the order received, read
    /// outside any write transaction.
    fn open_rows(
        &self,
        device: DeviceId,
        doc: DocId,
    ) -> impl Future<Output = Result<Vec<OpenRow>>> + Send;

    /// The IDs of the same rows read inside the write transaction.
    fn open_ids_in(
        &self,
        tx: Self::Tx,
        device: DeviceId,
        doc: DocId,
    ) -> impl Future<Output = Result<(Self::Tx, Vec<i64>)>> + Send;

    /// Writes the plan's stored changes, the rows' verdicts and the
    /// notices, and commits.
    fn finish(
        &self,
        tx: Self::Tx,
        writes: ReleaseWrites,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// How often a release is tried when its rows change under it.
const RELEASE_TRIES: usize = 3;

/// Checks the open quarantined changes of `doc` from `device` again as
/// `principal`, and writes what that decides (see the module's doc).
pub async fn release<B: ReleaseBackend>(
    backend: &B,
    device: DeviceId,
    doc: DocId,
    principal: Principal,
    by: Option<UserId>,
    at: Timestamp,
) -> Result<ReleaseReport> {
    for _ in 0..RELEASE_TRIES {
        let rows = backend.open_rows(device, doc).await?;
        if rows.is_empty() {
            return Ok(ReleaseReport::default());
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let request = PushRequest {
            changes: rows
                .iter()
                .map(|r| WireChange {
                    doc,
                    bytes: r.bytes.clone(),
                })
                .collect(),
        };
        let batch = Arc::new(
            tokio::task::spawn_blocking(move || PushBatch::decode(principal, device, request))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?,
        );
        let (tx, mut fetched) = backend.begin(Arc::clone(&batch)).await?;
        let (tx, now) = backend.open_ids_in(tx, device, doc).await?;
        if now != ids {
            // A push or another release moved the rows: start again.
            drop(tx);
            continue;
        }
        // Checked as if the document had never been closed to the device.
        fetched.quarantined.remove(&doc);
        let planned = Arc::clone(&batch);
        let (outcomes, mut writes) =
            tokio::task::spawn_blocking(move || sync::plan(&planned, fetched))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?;
        writes.quarantine.clear();
        let (verdicts, notices) = verdicts(doc, &rows, &outcomes);
        backend
            .finish(
                tx,
                ReleaseWrites {
                    device,
                    writes,
                    verdicts: verdicts.clone(),
                    notices,
                    by,
                    at,
                },
            )
            .await?;
        return Ok(ReleaseReport { verdicts });
    }
    Err(StoreError::Conflict(format!(
        "the quarantine of {doc} for {device} kept changing during its release"
    )))
}

/// Code of a row of which only the head was kept: it cannot be released.
pub const TRUNCATED: &str = "truncated";
const TRUNCATED_REASON: &str = "only the head of this change was kept (it was over the size \
     the server keeps, or past the device's quarantine budget): it cannot be released; \
     discard it, and the device sends its records again";

/// Code of a row still waiting for changes the server does not have.
pub const MISSING_DEPS: &str = "missing_deps";

/// The rows' verdicts from the plan's outcomes, and the notices for the
/// device: one for each row stored (or found stored), and one for each row
/// still refused for another reason than before.
fn verdicts(
    doc: DocId,
    rows: &[OpenRow],
    outcomes: &[ChangeOutcome],
) -> (Vec<RowVerdict>, Vec<NewNotice>) {
    let mut verdicts = Vec::new();
    let mut notices = Vec::new();
    for (row, outcome) in rows.iter().zip(outcomes) {
        if row.cut {
            // Only the head was kept: nothing to release; the admin
            // discards it (the device still holds the change).
            let notice = (row.code != TRUNCATED).then(|| NewNotice {
                doc,
                hash: row.hash.clone(),
                kind: NoticeKind::Refused,
                code: TRUNCATED.to_owned(),
                reason: TRUNCATED_REASON.to_owned(),
            });
            notices.extend(notice);
            verdicts.push(RowVerdict::Refused {
                id: row.id,
                code: TRUNCATED.to_owned(),
                reason: TRUNCATED_REASON.to_owned(),
            });
            continue;
        }
        let (verdict, notice) = match outcome {
            ChangeOutcome::Stored => (
                RowVerdict::Stored { id: row.id },
                Some((NoticeKind::Released, "stored".to_owned(), String::new())),
            ),
            ChangeOutcome::Duplicate => (
                RowVerdict::Duplicate { id: row.id },
                Some((NoticeKind::Released, "stored".to_owned(), String::new())),
            ),
            ChangeOutcome::Refused { code, reason } => (
                RowVerdict::Refused {
                    id: row.id,
                    code: code.as_str().to_owned(),
                    reason: reason.clone(),
                },
                (code.as_str() != row.code).then(|| {
                    (
                        NoticeKind::Refused,
                        code.as_str().to_owned(),
                        reason.clone(),
                    )
                }),
            ),
            ChangeOutcome::MissingDeps => (
                RowVerdict::Refused {
                    id: row.id,
                    code: MISSING_DEPS.to_owned(),
                    reason: "it needs changes the server does not have".to_owned(),
                },
                None,
            ),
        };
        if let Some((kind, code, reason)) = notice {
            notices.push(NewNotice {
                doc,
                hash: row.hash.clone(),
                kind,
                code,
                reason,
            });
        }
        verdicts.push(verdict);
    }
    (verdicts, notices)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::testing::{team_id, user_id};

    fn admin(scope: Scope) -> Principal {
        Principal {
            user: user_id(1),
            role: Role::SyncAdmin,
            scope,
            team: None,
            county: None,
        }
    }

    #[test]
    fn an_area_is_a_county_or_a_province_and_covers_what_is_in_it() {
        let zhengan: CountyCode = "520324".parse().unwrap();
        let wuchuan: CountyCode = "520326".parse().unwrap();
        let kunming: CountyCode = "530102".parse().unwrap();
        let guizhou = zhengan.province();
        let county = Area::of(&admin(Scope::County(zhengan))).unwrap();
        let province = Area::of(&admin(Scope::Province(guizhou))).unwrap();
        assert!(county.covers_county(zhengan) && !county.covers_county(wuchuan));
        assert!(province.covers_county(wuchuan) && !province.covers_county(kunming));
        assert!(county.covers(Some(zhengan), None));
        assert!(!county.covers(None, Some(guizhou)), "a provincial user");
        assert!(province.covers(None, Some(guizhou)));
        assert!(!province.covers(None, None));
        assert!(!county.covers_province(guizhou) && province.covers_province(guizhou));
        assert!(Area::ALL.covers(None, None) && Area::ALL.covers_province(guizhou));
        let lead = Principal {
            role: Role::TeamLead,
            ..admin(Scope::Team(team_id(1)))
        };
        assert_eq!(Area::of(&lead), None);
        assert_eq!(Area::of(&admin(Scope::Own)), None);
    }

    #[test]
    fn text_and_action_filters_escape_like() {
        assert_eq!(contains_pattern(" Zhang_3% "), "%zhang\\_3\\%%");
        assert_eq!(
            action_filter(Some("user.disable")),
            (Some("user.disable".into()), None)
        );
        assert_eq!(action_filter(Some("user.")), (None, Some("user.%".into())));
        assert_eq!(action_filter(Some("  ")), (None, None));
    }

    #[test]
    fn a_release_notices_what_passed_and_what_fails_anew() {
        let doc: DocId = "0192f000-0000-7000-8000-000000000001".parse().unwrap();
        let row = |id: i64, code: &str| OpenRow {
            id,
            hash: Some(vec![id as u8; 32]),
            code: code.into(),
            bytes: Vec::new(),
            cut: false,
        };
        let rows = [
            row(1, "out_of_scope"),
            row(2, "quarantined"),
            row(3, "quarantined"),
            row(4, "out_of_scope"),
            row(5, "quarantined"),
        ];
        let refused = |code| ChangeOutcome::Refused {
            code,
            reason: "why".into(),
        };
        use app_core::sync::protocol::RefusalCode;
        let outcomes = [
            ChangeOutcome::Stored,
            ChangeOutcome::Duplicate,
            refused(RefusalCode::NotYourRecord),
            refused(RefusalCode::OutOfScope),
            ChangeOutcome::MissingDeps,
        ];
        let (verdicts, notices) = verdicts(doc, &rows, &outcomes);
        assert_eq!(
            verdicts.iter().map(RowVerdict::id).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert!(matches!(&verdicts[4], RowVerdict::Refused { code, .. } if code == MISSING_DEPS));
        let kinds: Vec<(NoticeKind, &str)> =
            notices.iter().map(|n| (n.kind, n.code.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (NoticeKind::Released, "stored"),
                (NoticeKind::Released, "stored"),
                (NoticeKind::Refused, "not_your_record"),
            ],
            "the same refusal again is no news"
        );
    }
}
