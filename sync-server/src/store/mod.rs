//! The server's state behind one trait, [`ServerStore`], with two
//! implementations: [`SqliteStore`] (embedded, the default) and
//! [`PostgresStore`] (for deployments that outgrow one machine). Only the
//! store speaks SQL; handlers check scope, then call it.
//!
//! Both backends hold the same tables (users, teams, devices, actors,
//! documents, changes, quarantine, divisions, county tags, photos, audit),
//! each with its own numbered migrations. The push logic itself is not here:
//! a store fetches what [`crate::sync::plan`] needs, runs the plan (the
//! costly part: Automerge applies and hydrates every document) *outside*
//! its write transaction so that pushes plan in parallel, then inside the
//! write transaction fetches the same rows again and writes the plan only if
//! they are unchanged; otherwise it plans again there (see
//! [`PushFetched`]). Plans are a pure function of the batch and the fetched
//! rows, so a plan made on equal rows is the plan the transaction would
//! have made.
//!
//! # Ordering of sequence numbers
//!
//! A pull returns changes with `seq` above the device's cursor. That is only
//! safe if a change with a lower `seq` can never become visible after one
//! with a higher `seq`: pushes are serialised (one writer connection on
//! SQLite, a transaction-scoped advisory lock on PostgreSQL), so sequence
//! numbers become visible in commit order, and a pull reads the highest
//! committed `seq` first and then only rows up to it.

pub mod postgres;
pub mod sqlite;

use app_core::domain::{
    CountyCode, CountyTag, DeviceId, DivisionLevel, DocId, PhotoHash, RecordKind, Role, Scope,
    Team, TeamId, Timestamp, User, UserId,
};
use app_core::scope::{Placement, Principal};
use app_core::store::RegisterSlice;
use app_core::sync::protocol::ChangeOutcome;
use serde::Serialize;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

use crate::sync::PushBatch;

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

/// A row of the quarantine to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuarantine {
    /// The document.
    pub doc: DocId,
    /// The change hash, if decoded.
    pub hash: Option<[u8; 32]>,
    /// The bytes as sent.
    pub bytes: Vec<u8>,
    /// Refusal code.
    pub code: &'static str,
    /// Why.
    pub reason: String,
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

/// Where a document sits and what it is, as written after a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocUpdate {
    /// The document.
    pub doc: DocId,
    /// Its kind.
    pub kind: RecordKind,
    /// Placement read from the record itself.
    pub placement: Placement,
    /// Automerge save of the whole document.
    pub snapshot: Vec<u8>,
    /// Its heads, 32 bytes each.
    pub heads: Vec<u8>,
}

/// Everything a push writes, decided by [`crate::sync::plan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushWrites {
    /// Actors to bind to the pushing device.
    pub bind_actors: Vec<Vec<u8>>,
    /// Accepted changes in the order they get sequence numbers.
    pub changes: Vec<(DocId, [u8; 32], Vec<u8>)>,
    /// Documents to insert or update.
    pub docs: Vec<DocUpdate>,
    /// Refused changes to keep.
    pub quarantine: Vec<NewQuarantine>,
}

/// What a push needs to read before planning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushNeeds {
    /// Documents touched.
    pub docs: Vec<DocId>,
    /// Actors of the changes.
    pub actors: Vec<Vec<u8>>,
    /// Change hashes (to find changes stored under another document).
    pub hashes: Vec<[u8; 32]>,
}

/// What a store read for a push: everything [`crate::sync::plan`] depends
/// on besides the batch. Equal values give equal plans, which is what lets
/// a store plan before its write transaction and check inside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushFetched {
    /// Snapshots of existing documents.
    pub snapshots: std::collections::HashMap<DocId, Vec<u8>>,
    /// Actors already bound, and to which device.
    pub actors: std::collections::HashMap<Vec<u8>, DeviceId>,
    /// Hashes already stored, and in which document.
    pub hashes: std::collections::HashMap<[u8; 32], DocId>,
    /// Documents quarantined for the pushing device.
    pub quarantined: std::collections::HashSet<DocId>,
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
    /// Adds a user with a password hash.
    async fn create_user(&self, user: &User, password_hash: &str, at: Timestamp) -> Result<()>;
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

    // ---- quarantine ----

    /// Quarantined changes, newest first, at most `limit`.
    async fn quarantine(&self, limit: u32) -> Result<Vec<QuarantineEntry>>;
    /// Releases a document for a device: its next pushes are checked anew.
    /// Returns how many entries were released.
    async fn release_quarantine(&self, device: DeviceId, doc: DocId, at: Timestamp) -> Result<u64>;

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
    /// Announces an upload.
    async fn photo_start(&self, hash: &PhotoHash, length: u64, at: Timestamp)
    -> Result<PhotoStart>;
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
}

// ---- helpers shared by both backends ----

/// A scope as two columns: level and code.
pub(crate) fn scope_columns(scope: &Scope) -> (&'static str, Option<String>) {
    match scope {
        Scope::Own => ("own", None),
        Scope::Team(t) => ("team", Some(t.to_string())),
        Scope::County(c) => ("county", Some(c.to_string())),
        Scope::Province(p) => ("province", Some(p.to_string())),
    }
}

/// The scope from its two columns.
pub(crate) fn scope_from_columns(level: &str, code: Option<&str>) -> Result<Scope> {
    let bad = || StoreError::Corrupt(format!("scope {level}/{code:?}"));
    Ok(match (level, code) {
        ("own", _) => Scope::Own,
        ("team", Some(c)) => Scope::Team(c.parse().map_err(|_| bad())?),
        ("county", Some(c)) => Scope::County(c.parse().map_err(|_| bad())?),
        ("province", Some(c)) => Scope::Province(c.parse().map_err(|_| bad())?),
        _ => return Err(bad()),
    })
}

/// Parses a role code.
pub(crate) fn role_from_code(code: &str) -> Result<Role> {
    Role::from_code(code).ok_or_else(|| StoreError::Corrupt(format!("role {code:?}")))
}

/// The pull filter's parameters: `author = user OR team = team OR county in
/// [lo, hi]`, with the unused alternatives made impossible. The same
/// semantics as [`app_core::scope::can_read`].
pub(crate) struct ReadFilter {
    pub user: uuid::Uuid,
    pub team: Option<uuid::Uuid>,
    pub county_lo: i64,
    pub county_hi: i64,
}

impl ReadFilter {
    pub(crate) fn of(who: &Principal) -> ReadFilter {
        let none = (-1, -1);
        let (team, (lo, hi)) = match who.scope {
            Scope::Own => (None, none),
            Scope::Team(t) => (Some(*t.as_uuid()), none),
            Scope::County(c) => (None, (c.as_int() as i64, c.as_int() as i64)),
            Scope::Province(p) => {
                let base = p.as_int() as i64 * 10_000;
                (None, (base, base + 9_999))
            }
        };
        ReadFilter {
            user: *who.user.as_uuid(),
            team,
            county_lo: lo,
            county_hi: hi,
        }
    }
}

/// The photo hash from stored bytes.
pub(crate) fn photo_hash_from(bytes: &[u8]) -> Result<PhotoHash> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::Corrupt(format!("photo hash of {} bytes", bytes.len())))?;
    Ok(PhotoHash::from_bytes(arr))
}

/// Hex of a 32-byte hash.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A placement from its columns.
pub(crate) fn placement_from(
    kind: &str,
    author: uuid::Uuid,
    team: Option<uuid::Uuid>,
    county: i64,
) -> Result<Placement> {
    Ok(Placement {
        kind: RecordKind::from_code(kind)
            .ok_or_else(|| StoreError::Corrupt(format!("record kind {kind:?}")))?,
        author: UserId::from_uuid(author),
        team: team.map(TeamId::from_uuid),
        county: CountyCode::from_int(county as u64)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

/// The level of a division from its stored code.
pub(crate) fn level_code(level: DivisionLevel) -> &'static str {
    level.code()
}
