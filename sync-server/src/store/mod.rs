//! The server's state behind one trait, [`ServerStore`], with two
//! implementations: [`SqliteStore`] (embedded, the default) and
//! [`PostgresStore`] (for deployments that outgrow one machine). Only the
//! store speaks SQL; handlers check scope, then call it.
//!
//! Both backends hold the same tables (users, teams, devices, actors,
//! documents, changes, quarantine, divisions, county tags, photos, audit),
//! each with its own numbered migrations. A backend keeps its SQL and how it
//! decodes a column; what is not SQL is written once, here:
//!
//! - [`push`]: the push sequence. Plan ([`crate::sync::plan`], the costly
//!   part) on rows read *outside* the write transaction, so that pushes plan
//!   in parallel; inside it, read the same rows again and write the plan
//!   only if they are unchanged, else plan again there. A backend supplies
//!   "read", "open and read again" and "write and commit"
//!   ([`push::PushBackend`]).
//! - `pull`: the read filter of a scope and cutting a page at its limits.
//! - `rows`: records from column values, in a column order both schemas
//!   share.
//! - `photo`: what announcing an upload does ([`PhotoStart::decide`],
//!   [`PhotoStart::within_quota`]) and the photos a stored document names
//!   (the backfill of `photo_refs`).
//! - `slice`: which divisions a county's register slice needs, and the
//!   slice from them.
//! - [`projection`]: the statistics projection (one row per record with
//!   the fields the figures read, written in the push's transaction) and
//!   which rows a report selects; [`stats`]: reports, scores and
//!   spreadsheets for a division, team or commissioner, computed by
//!   `app_core::stats` from rows the backend streams.
//! - [`admin`]: the sync admin's console: the area a listing is cut to
//!   and its filters, rows of the listings, and the release sequence
//!   (check a document's refused changes again under today's rules, in the
//!   push's write transaction, with the push's plan).
//! - [`conflicts`]: records with fields to resolve: the listing's area and
//!   filters, where each actor writes from, the one-time check of
//!   documents stored before the flag was kept.
//! - Migrations: SQLite runs `app_core::store::migrate`, the runner the
//!   device uses too; PostgreSQL its own SQL over the same decision
//!   (`migrate::pending`).
//!
//! # Ordering of sequence numbers
//!
//! A pull returns changes with `seq` above the device's cursor, up to a
//! high-water mark below which nothing can still commit. On SQLite pushes
//! are serialised (one writer connection), so sequence numbers become
//! visible in commit order and the mark is the highest committed `seq`. On
//! PostgreSQL pushes in different counties run at once, each holding a
//! marker lock below its own sequence numbers until it commits, and the mark
//! stops below the lowest marker held (see [`postgres`]).

pub mod admin;
pub mod conflicts;
mod photo;
pub mod postgres;
pub mod projection;
mod pull;
pub mod push;
mod rows;
mod slice;
pub mod sqlite;
pub mod stats;

use app_core::admin::Backlog;
use app_core::domain::{
    CountyCode, CountyTag, DeviceId, DivisionLevel, DocId, PhotoHash, ProvinceCode, Role, Scope,
    Team, TeamId, Timestamp, User, UserId,
};
use app_core::scope::{Placement, Principal};
use app_core::stats::{Area as StatsArea, Register, Report, StatsRequest};
use app_core::store::RegisterSlice;
use app_core::store::migrate::{MigrateError, SchemaTooNew};
use app_core::sync::protocol::ChangeOutcome;
use app_core::sync::protocol::Notice;
use serde::Serialize;

pub use admin::{
    Area, AuditPage, AuditRecord, DevicePage, DeviceRow, QuarantinePage, QuarantineRow,
    Quarantined, ReleaseReport, RowVerdict, TeamPage, UserPage, UserRow,
};
pub use conflicts::{ActorSource, ConflictPage, ConflictRow};
pub use postgres::PostgresStore;
pub use pull::MAX_PULL_BYTES;
pub use sqlite::SqliteStore;

use crate::sync::{PushBatch, RecordFacts};

/// A failure of the server's store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had.
    #[error("postgres pool: {0}")]
    Pool(String),
    /// A stored value is not what this code writes.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// A row that must be unique already exists.
    #[error("{0} already exists")]
    Conflict(String),
    /// A referenced row does not exist.
    #[error("{0} does not exist")]
    Missing(String),
    /// The database was written by a newer server.
    #[error("database schema {found} is newer than this server understands ({supported})")]
    SchemaTooNew {
        /// Version found.
        found: i64,
        /// Newest known.
        supported: i64,
    },
    /// A blocking task panicked or was cancelled.
    #[error("task: {0}")]
    Task(String),
    /// File I/O (the data directory).
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    /// Whether the database cannot be reached at all (503), as opposed to a
    /// fault (500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Pool(_) => true,
            StoreError::Postgres(e) => {
                e.is_closed() || e.code().is_none() && e.as_db_error().is_none()
            }
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

impl From<SchemaTooNew> for StoreError {
    fn from(e: SchemaTooNew) -> Self {
        StoreError::SchemaTooNew {
            found: e.found.into(),
            supported: e.supported.into(),
        }
    }
}

impl From<MigrateError> for StoreError {
    fn from(e: MigrateError) -> Self {
        match e {
            MigrateError::Sqlite(e) => e.into(),
            MigrateError::TooNew(t) => t.into(),
        }
    }
}

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A user with what only the server keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The user.
    pub user: User,
    /// The argon2 PHC string.
    pub password_hash: String,
    /// Bumped whenever the user's scope or team changes; part of the pull
    /// cursor, so that a device re-reads its whole scope.
    pub scope_epoch: i64,
    /// The password is a one-time password: it only sets a new one.
    pub must_change_password: bool,
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRecord {
    /// The device.
    pub id: DeviceId,
    /// Whose device it is.
    pub user: UserId,
    /// A name the user recognises.
    pub name: String,
    /// `android`, `ios`, …
    pub platform: String,
    /// When it enrolled (server clock).
    pub created_at: Timestamp,
    /// When it last made a request (server clock, updated at most every few
    /// minutes).
    pub last_seen_at: Timestamp,
    /// When a sync admin revoked it.
    pub revoked_at: Option<Timestamp>,
    /// Its sync health: what it reports, when it last pushed and pulled.
    #[serde(flatten)]
    pub sync: DeviceSync,
}

/// A device's sync health as the server keeps it: written from its
/// reports and requests ([`ServerStore::record_sync`]), except
/// `notices_pending`, which the notices keep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeviceSync {
    /// The app version it last reported.
    pub app_version: Option<String>,
    /// When a push of it last succeeded.
    pub last_push_at: Option<Timestamp>,
    /// When a pull of it last succeeded.
    pub last_pull_at: Option<Timestamp>,
    /// Its outbox by its last report.
    pub backlog: Option<Backlog>,
    /// Notices it has not acknowledged.
    pub notices_pending: u64,
}

/// A new device and the digest of its token.
#[derive(Debug, Clone)]
pub struct NewDevice {
    /// The device.
    pub record: DeviceRecord,
    /// SHA-256 of the token.
    pub token_sha256: [u8; 32],
}

/// One page of changes for a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullQuery {
    /// Who reads.
    pub principal: Principal,
    /// The calling device (its own changes are left out).
    pub device: DeviceId,
    /// Changes with `seq` above this.
    pub after: i64,
    /// At most this many.
    pub limit: u32,
}

/// One change as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChange {
    /// Server sequence number.
    pub seq: i64,
    /// The document.
    pub doc: DocId,
    /// Automerge change bytes.
    pub bytes: Vec<u8>,
}

/// A page of a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullPage {
    /// Changes in `seq` order.
    pub changes: Vec<StoredChange>,
    /// Whether more in-scope changes wait after the last one.
    pub more: bool,
    /// The highest committed `seq` when the page was read; when `more` is
    /// false nothing in scope lies between the last change and this.
    pub high_water: i64,
}

/// A document's placement and every change, for the repair endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentChanges {
    /// Where the record sits now.
    pub placement: Placement,
    /// Every change in `seq` order.
    pub changes: Vec<StoredChange>,
}

/// What a push did, change by change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushResult {
    /// One outcome per change, in request order.
    pub outcomes: Vec<ChangeOutcome>,
}

/// A refused change kept for a sync admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantineEntry {
    /// Row ID.
    pub id: i64,
    /// The device that pushed it.
    pub device: DeviceId,
    /// The device's user.
    pub user: UserId,
    /// The document it was for.
    pub doc: DocId,
    /// The change hash (hex), if the bytes decoded.
    pub hash: Option<String>,
    /// Size of the kept bytes.
    pub size: usize,
    /// The refusal code.
    pub code: String,
    /// Why.
    pub reason: String,
    /// When (server clock).
    pub at: Timestamp,
    /// When a sync admin released the document for this device.
    pub released_at: Option<Timestamp>,
}

/// A photo upload, finished or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoRecord {
    /// The content hash.
    pub hash: PhotoHash,
    /// Announced length.
    pub length: u64,
    /// Bytes received so far.
    pub offset: u64,
    /// Whether the bytes are verified and in place.
    pub complete: bool,
    /// When the upload began.
    pub created_at: Timestamp,
    /// The device that announced the upload (none for uploads from
    /// before the server kept it).
    pub uploader: Option<DeviceId>,
}

impl PhotoRecord {
    /// Whether `device` may continue or read the offset of this upload:
    /// an unfinished upload is its uploader's; a stored photo passes here,
    /// and who may read it is [`ServerStore::photo_readable`]'s to say.
    pub fn open_to(&self, device: DeviceId) -> bool {
        self.complete || self.uploader.is_none_or(|u| u == device)
    }
}

/// What happened when an upload was announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotoStart {
    /// A new upload (or a restarted one: `restarted` when an unfinished
    /// upload of another length was dropped).
    Created {
        /// Whether an unfinished upload was thrown away.
        restarted: bool,
    },
    /// An unfinished upload of the same length exists.
    Resumed(PhotoRecord),
    /// The photo is already stored.
    Complete(PhotoRecord),
    /// Another device is uploading it (and did so within
    /// [`PhotoStart::ABANDONED_MILLIS`]): nothing changed.
    Taken,
    /// A new upload of this length would take the device or its user past
    /// their [`UploadQuota`]: nothing changed.
    OverQuota,
}

/// Caps on the bytes held in unfinished photo uploads, counted by their
/// announced lengths; uploads left for a day
/// ([`PhotoStart::ABANDONED_MILLIS`]) no longer count (the sweep deletes
/// them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadQuota {
    /// Most bytes one device's unfinished uploads may hold.
    pub device_bytes: u64,
    /// Most bytes the unfinished uploads of all of one user's devices may
    /// hold.
    pub user_bytes: u64,
}

impl Default for UploadQuota {
    fn default() -> Self {
        UploadQuota {
            device_bytes: 64 * 1024 * 1024,
            user_bytes: 128 * 1024 * 1024,
        }
    }
}

/// Bytes already held in unfinished uploads, other than the one being
/// announced, that still count against the quota.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UploadsHeld {
    /// The announcing device's.
    pub device: u64,
    /// Its user's, all devices.
    pub user: u64,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When (server clock).
    pub at: Timestamp,
    /// Who: a user, or none for an operator at the command line.
    pub actor: Option<UserId>,
    /// What, e.g. `device.revoke`.
    pub action: String,
    /// On what, e.g. a device ID.
    pub subject: String,
    /// Details as JSON.
    pub detail: serde_json::Value,
    /// From which device the actor acted.
    pub device: Option<DeviceId>,
    /// The county the subject belongs to (who may read the entry).
    pub county: Option<CountyCode>,
    /// The province the subject belongs to.
    pub province: Option<ProvinceCode>,
    /// The subject before the action.
    pub before: Option<serde_json::Value>,
    /// The subject after it.
    pub after: Option<serde_json::Value>,
}

impl AuditEntry {
    /// An entry with no device, area, before or after.
    pub fn new(
        at: Timestamp,
        actor: Option<UserId>,
        action: &str,
        subject: impl Into<String>,
        detail: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            at,
            actor,
            action: action.into(),
            subject: subject.into(),
            detail,
            device: None,
            county: None,
            province: None,
            before: None,
            after: None,
        }
    }

    /// From `device`.
    pub fn from_device(mut self, device: Option<DeviceId>) -> AuditEntry {
        self.device = device;
        self
    }

    /// About something in `county` (or, without one, `province`): the
    /// sync admins of either read the entry.
    pub fn within(
        mut self,
        county: Option<CountyCode>,
        province: Option<ProvinceCode>,
    ) -> AuditEntry {
        self.county = county;
        self.province = county.map(CountyCode::province).or(province);
        self
    }

    /// With the subject before and after.
    pub fn changing(
        mut self,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> AuditEntry {
        self.before = before;
        self.after = after;
        self
    }
}

/// Counts for health and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    /// Users.
    pub users: u64,
    /// Devices.
    pub devices: u64,
    /// Documents.
    pub documents: u64,
    /// Stored changes.
    pub changes: u64,
    /// Quarantined changes.
    pub quarantined: u64,
    /// Completed photos.
    pub photos: u64,
    /// Divisions of the register, all levels.
    pub divisions: u64,
}

/// A division row to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionImport {
    /// Its level.
    pub level: DivisionLevel,
    /// Its code as an integer.
    pub code: u64,
    /// Its name.
    pub name: String,
}

/// The server's state, by role. One implementation per database.
#[async_trait::async_trait]
pub trait ServerStore: Send + Sync + std::fmt::Debug {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Answers when the database is reachable.
    async fn ping(&self) -> Result<()>;

    /// Counts, for health and tests.
    async fn stats(&self) -> Result<StoreStats>;

    // ---- accounts ----

    /// Adds a team.
    async fn create_team(&self, team: &Team, at: Timestamp) -> Result<()>;
    /// Appoints (or clears) a team's lead.
    async fn set_team_lead(&self, team: TeamId, lead: Option<UserId>) -> Result<()>;
    /// A team.
    async fn team(&self, id: TeamId) -> Result<Option<Team>>;
    /// Every team.
    async fn teams(&self) -> Result<Vec<Team>>;
    /// Adds a user with a password hash, in one write; `must_change` makes
    /// it a one-time password (a new one is set before the first sign-in).
    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        must_change: bool,
        at: Timestamp,
    ) -> Result<()>;
    /// Changes a user's role, scope and team; bumps their scope epoch.
    async fn set_user_scope(
        &self,
        id: UserId,
        role: Role,
        scope: Scope,
        team: Option<TeamId>,
    ) -> Result<()>;
    /// A user by ID.
    async fn user(&self, id: UserId) -> Result<Option<UserRecord>>;
    /// A user by sign-in name.
    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>>;
    /// Every user.
    async fn users(&self) -> Result<Vec<UserRecord>>;

    // ---- devices ----

    /// Adds a device.
    async fn create_device(&self, device: &NewDevice) -> Result<()>;
    /// The device holding a token, by the token's SHA-256.
    async fn device_by_token(&self, token_sha256: &[u8; 32]) -> Result<Option<DeviceRecord>>;
    /// A device by ID.
    async fn device(&self, id: DeviceId) -> Result<Option<DeviceRecord>>;
    /// Every device.
    async fn devices(&self) -> Result<Vec<DeviceRecord>>;
    /// Records that a device was seen.
    async fn touch_device(&self, id: DeviceId, at: Timestamp) -> Result<()>;
    /// Revokes a device; false if it was already revoked or does not exist.
    async fn revoke_device(&self, id: DeviceId, at: Timestamp) -> Result<bool>;
    /// Moves `old`'s Automerge actors and open quarantines to `new` and
    /// revokes `old` if it is not yet, in one transaction: a device that
    /// enrols again keeps writing as itself. The caller checks that both
    /// are the same user's.
    async fn replace_device(&self, old: DeviceId, new: DeviceId, at: Timestamp) -> Result<()>;

    // ---- sync ----

    /// Validates and stores a push in one transaction (see
    /// [`crate::sync`]); `at` is the server's receipt time.
    async fn push(&self, batch: PushBatch, at: Timestamp) -> Result<PushResult>;
    /// A page of changes in the caller's scope.
    async fn pull(&self, query: &PullQuery) -> Result<PullPage>;
    /// Every change of a document, with its placement.
    async fn document(&self, doc: DocId) -> Result<Option<DocumentChanges>>;

    // ---- reference data ----

    /// Imports divisions (insert or rename); returns how many rows.
    async fn import_divisions(&self, rows: Vec<DivisionImport>) -> Result<u64>;
    /// Sets many county tags at once (an import); returns how many.
    async fn import_county_tags(&self, tags: Vec<(CountyCode, CountyTag, String)>) -> Result<u64>;
    /// Sets or clears a tag on a county; `source` says who decided.
    async fn set_county_tag(
        &self,
        county: CountyCode,
        tag: CountyTag,
        on: bool,
        source: &str,
    ) -> Result<()>;
    /// The slice of one county, if the register has it.
    async fn register_slice(&self, county: CountyCode) -> Result<Option<RegisterSlice>>;

    // ---- photos ----

    /// A photo upload.
    async fn photo(&self, hash: &PhotoHash) -> Result<Option<PhotoRecord>>;
    /// Announces an upload: a fresh one only within `quota`
    /// ([`PhotoStart::OverQuota`] otherwise, nothing written).
    async fn photo_start(
        &self,
        hash: &PhotoHash,
        length: u64,
        at: Timestamp,
        device: DeviceId,
        quota: UploadQuota,
    ) -> Result<PhotoStart>;
    /// Whether `device`, acting as `principal`, may download a finished
    /// photo: a record in the principal's read scope (the pull's filter)
    /// names it, or the device uploaded it.
    async fn photo_readable(
        &self,
        hash: &PhotoHash,
        principal: &Principal,
        device: DeviceId,
    ) -> Result<bool>;
    /// Deletes the rows of unfinished uploads announced at or before
    /// `before` (never a finished photo's) and returns their hashes, for
    /// their files to be deleted.
    async fn photo_sweep(&self, before: Timestamp) -> Result<Vec<PhotoHash>>;
    /// Moves an upload's offset from `from` to `to`; false if it was not at
    /// `from` (another request moved it).
    async fn photo_advance(&self, hash: &PhotoHash, from: u64, to: u64) -> Result<bool>;
    /// Marks an upload complete.
    async fn photo_complete(&self, hash: &PhotoHash) -> Result<()>;
    /// Forgets an unfinished upload.
    async fn photo_discard(&self, hash: &PhotoHash) -> Result<()>;

    // ---- audit ----

    /// Appends to the audit log.
    async fn audit(&self, entry: &AuditEntry) -> Result<()>;
    /// The newest audit entries.
    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>>;

    // ==== the sync admin's console (routes/admin, ops) ====================
    //
    // Listings filter the admin's area and the query's filters in SQL and
    // page by cursor ([`admin`]); nothing is cut after the query.

    /// Enables or disables a user; false if there is no such user.
    async fn set_user_active(&self, id: UserId, active: bool) -> Result<bool>;
    /// Replaces a user's password hash; `must_change` makes it one-time.
    async fn set_user_password(&self, id: UserId, hash: &str, must_change: bool) -> Result<()>;
    /// A page of users, by sign-in name.
    async fn user_page(&self, query: &UserPage) -> Result<Vec<UserRow>>;
    /// A page of teams with their member counts, in creation order.
    async fn team_page(&self, query: &TeamPage) -> Result<Vec<(Team, u64)>>;
    /// A page of devices with their users, in enrolment order.
    async fn device_page(&self, query: &DevicePage) -> Result<Vec<DeviceRow>>;
    /// Writes a device's sync health (not `notices_pending`) and moves its
    /// `last_seen_at` to `at` if later.
    async fn record_sync(&self, id: DeviceId, sync: &DeviceSync, at: Timestamp) -> Result<()>;
    /// A page of quarantined documents (per device), newest first, with
    /// their changes that match the query.
    async fn quarantine_page(&self, query: &QuarantinePage) -> Result<Vec<QuarantineRow>>;
    /// Every change quarantined for `device` in `doc` (every state), with
    /// its bytes, in the order received, and the document's stored snapshot
    /// (to decode what they write).
    async fn quarantined(&self, device: DeviceId, doc: DocId) -> Result<Quarantined>;
    /// Checks the open quarantined changes of `doc` from `device` again as
    /// `principal` (the device's user as they are now), in a push's write
    /// transaction: what passes is stored and its rows released (by `by`),
    /// what fails stays open with today's code and reason; a notice for
    /// each goes to the device.
    async fn release_quarantine(
        &self,
        device: DeviceId,
        doc: DocId,
        principal: app_core::scope::Principal,
        by: Option<UserId>,
        at: Timestamp,
    ) -> Result<ReleaseReport>;
    /// Discards the open quarantined changes of `doc` from `device` with a
    /// reason: archived (never deleted), closed, and a notice for each to
    /// the device. Returns the rows as they were.
    async fn discard_quarantine(
        &self,
        device: DeviceId,
        doc: DocId,
        reason: &str,
        by: Option<UserId>,
        at: Timestamp,
    ) -> Result<Vec<QuarantineEntry>>;
    /// The notices `device` has not acknowledged, oldest first.
    async fn notices(&self, device: DeviceId) -> Result<Vec<Notice>>;
    /// Acknowledges `device`'s notices up to `up_to`; returns how many.
    async fn ack_notices(&self, device: DeviceId, up_to: i64, at: Timestamp) -> Result<u64>;
    /// A page of the audit log, newest first.
    async fn audit_page(&self, query: &AuditPage) -> Result<Vec<AuditRecord>>;

    // ---- statistics (issue 13): the projection and what reads it ----

    /// Counts the projected records `request` selects into a report. The
    /// backend only selects rows ([`projection::Selection`]); every figure
    /// comes from `app_core::stats::ReportBuilder`, which applies the
    /// request's rules to each row. Coverage is measured against `register`
    /// when one is given.
    async fn stats_report(
        &self,
        request: &StatsRequest,
        register: Option<std::sync::Arc<Register>>,
    ) -> Result<Report>;
    /// The register of `area` (the whole of it when `None`) from the
    /// divisions table: names of the area and its ancestors, and its
    /// townships and villages.
    async fn stats_register(&self, area: Option<StatsArea>) -> Result<Register>;
    /// The counties that carry every one of `tags` (none given: none).
    async fn tagged_counties(&self, tags: &[CountyTag]) -> Result<Vec<CountyCode>>;
    /// Writes projection rows directly, replacing those of the same
    /// records, in one transaction; returns how many. Pushes project their
    /// records themselves: this is for loading a projection from elsewhere
    /// (the benchmark's province).
    async fn project(&self, facts: Vec<RecordFacts>) -> Result<u64>;
    /// How many logs and consultations the projection holds.
    async fn projected(&self) -> Result<(u64, u64)>;

    // ---- records with fields to resolve ([`conflicts`]) ----

    /// A page of records with conflicts in the area, oldest conflict first.
    async fn conflict_page(&self, query: &ConflictPage) -> Result<Vec<ConflictRow>>;
    /// Where these Automerge actors write from (those bound to a device).
    async fn actor_sources(&self, actors: Vec<Vec<u8>>) -> Result<Vec<ActorSource>>;
    /// The names of these villages, where the register has them.
    async fn village_names(&self, codes: Vec<u64>) -> Result<Vec<(u64, String)>>;
    /// Up to `limit` documents whose conflict flag was never written, with
    /// their snapshots ([`conflicts::backfill`]).
    async fn conflicts_unchecked(&self, limit: u32) -> Result<Vec<(DocId, Vec<u8>)>>;
    /// Writes checked documents' conflict flags (since `at` when conflicted).
    async fn set_conflicts_checked(&self, flags: Vec<(DocId, bool)>, at: Timestamp) -> Result<()>;
}
