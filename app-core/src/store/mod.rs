//! The device store: the only module that speaks SQL on a device.
//!
//! One SQLite file holds every record as an Automerge document (a snapshot
//! plus incremental change rows, compacted when the increments outgrow the
//! snapshot), a plain projection table per record kind updated in the same
//! transaction as the document, the outbox of changes the server has not
//! acknowledged, and the division register.
//!
//! # Durability
//!
//! The file runs in WAL mode with `synchronous=FULL`: every commit fsyncs the
//! WAL before it returns, so a save that returned survives power loss, not
//! only a killed process. ARCHITECTURE.md records the measured cost.
//!
//! # Encryption at rest
//!
//! On a device the file is encrypted by SQLCipher ([`Store::open_encrypted`]):
//! every page of the database, its WAL and its journal, with a random data
//! key kept by [`vault`] (sealed under the user's password, or in a platform
//! keystore). Plain [`Store::open`] stays for tests, the benchmark and the
//! server-side tools; a plain store from an earlier release is converted in
//! place by [`Store::encrypt_plain`].
//!
//! # Concurrency
//!
//! One connection, behind a mutex: one writer, and reads are short indexed
//! queries on the projections. Nothing here is async; callers on an async
//! runtime use `spawn_blocking`.

mod acting;
mod console;
mod discard;
mod documents;
mod drafts;
#[cfg(test)]
mod lead_probe;
pub mod migrate;
mod migrations;
mod outbox;
mod photos;
mod projection;
mod records;
mod register;
mod review;
mod stats;
mod team;
pub mod vault;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use automerge::ActorId;
use rusqlite::{Connection, OpenFlags};

use crate::clock::SharedClock;
use crate::doc::DocError;
use crate::domain::{DocId, ValidationError};

pub use crate::api::{
    ConsultationQuery, ConsultationSummary, Division, Identity, LogQuery, LogSummary, OutboxStats,
    ReviewDecision,
};
pub use discard::Rebuilt;
pub use documents::{ApplyReport, DocChange, Heads};
pub use migrations::{SCHEMA_VERSION as STORE_SCHEMA_VERSION, migrations};
pub use outbox::{CODE_DISCARDED, CODE_LOST, OutboxEntry};
pub use photos::{PendingPhoto, hash_bytes};
pub use records::EditContext;
pub use register::{ImportStats, RegisterSlice, SliceDivision};
pub use team::META_ROSTER;
pub use vault::{KeyKeeper, KeyState, NoKeystore, StoreKey, Vault, VaultError};

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A document could not be read or written.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// The input cannot be saved.
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationError),
    /// No record with this ID.
    #[error("no record {0}")]
    NotFound(DocId),
    /// The file was written by a newer version of Ketepai.
    #[error("store schema {found} is newer than this app understands ({supported})")]
    SchemaTooNew {
        /// Version in the file.
        found: u32,
        /// Newest version this code knows.
        supported: u32,
    },
    /// Stored data that cannot be what this code wrote.
    #[error("corrupt store: {0}")]
    Corrupt(String),
    /// The action is not allowed for this record in its current state.
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    /// The signed-in user may not change this record (`scope::may_edit`).
    #[error("record {0} belongs to someone else")]
    NotYours(DocId),
    /// The field named holds no concurrent values (any more).
    #[error("{0} holds no concurrent values")]
    NoConflict(String),
    /// The write rules (`scope::check_write`, which the server applies too)
    /// refuse the change.
    #[error("refused ({0}): {1}")]
    Refused(&'static str, String),
    /// Reading reference data failed.
    #[error("reference data: {0}")]
    Reference(String),
    /// The key does not open this file (or the file is not a database).
    #[error("the key does not open this store")]
    WrongKey,
    /// The store's key could not be read or written.
    #[error(transparent)]
    Key(#[from] VaultError),
}

impl StoreError {
    /// A stable code for the interface and logs.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Sqlite(_) => "storage",
            StoreError::Doc(e) => e.code(),
            StoreError::Invalid(_) => "invalid_input",
            StoreError::NotFound(_) => "not_found",
            StoreError::SchemaTooNew { .. } => "store_too_new",
            StoreError::Corrupt(_) => "corrupt",
            StoreError::NotAllowed(_) => "not_allowed",
            StoreError::NotYours(_) => "not_yours",
            StoreError::Refused(..) => "refused",
            StoreError::NoConflict(_) => "no_conflict",
            StoreError::Reference(_) => "reference_data",
            StoreError::WrongKey => "wrong_key",
            StoreError::Key(e) => e.code(),
        }
    }
}

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How a commit reaches the disk. `Full` is the product's setting; `Normal`
/// exists so that the benchmark can show what durability costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: the WAL is fsynced at every commit.
    Full,
    /// `synchronous=NORMAL`: survives a killed process, not power loss.
    Normal,
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Commit durability; [`Durability::Full`] unless measuring.
    pub durability: Durability,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            durability: Durability::Full,
        }
    }
}

/// The SQLite store of one device.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    clock: SharedClock,
    actor: ActorId,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store at `path`, migrating it to the
    /// current schema.
    pub fn open(path: impl AsRef<Path>, clock: SharedClock) -> Result<Store> {
        Self::open_with(path, clock, StoreOptions::default())
    }

    /// [`Store::open`] with explicit options.
    pub fn open_with(
        path: impl AsRef<Path>,
        clock: SharedClock,
        options: StoreOptions,
    ) -> Result<Store> {
        Self::open_inner(path.as_ref(), None, clock, options)
    }

    /// Opens (creating if needed) the store at `path` encrypted by SQLCipher
    /// under `key`, migrating it to the current schema. A key that does not
    /// open the file is [`StoreError::WrongKey`], and the file is untouched.
    pub fn open_encrypted(
        path: impl AsRef<Path>,
        key: &StoreKey,
        clock: SharedClock,
    ) -> Result<Store> {
        Self::open_encrypted_with(path, key, clock, StoreOptions::default())
    }

    /// [`Store::open_encrypted`] with explicit options.
    pub fn open_encrypted_with(
        path: impl AsRef<Path>,
        key: &StoreKey,
        clock: SharedClock,
        options: StoreOptions,
    ) -> Result<Store> {
        Self::open_inner(path.as_ref(), Some(key), clock, options)
    }

    fn open_inner(
        path: &Path,
        key: Option<&StoreKey>,
        clock: SharedClock,
        options: StoreOptions,
    ) -> Result<Store> {
        let path = path.to_path_buf();
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        if let Some(key) = key {
            apply_key(&conn, key)?;
        }
        check_readable(&conn)?;
        configure(&conn, options.durability)?;
        migrations::migrate(&mut conn)?;
        projection::refresh(&mut conn)?;
        // A fresh actor per open: a store restored from a backup can never
        // reuse an (actor, seq) pair that already left the device.
        let actor = ActorId::random();
        Ok(Store {
            conn: Mutex::new(conn),
            clock,
            actor,
            path,
        })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The Automerge actor this store writes changes as (until reopened).
    pub fn actor(&self) -> &ActorId {
        &self.actor
    }

    /// The store's clock.
    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock left no transaction open (rusqlite
        // rolls back on drop), so the connection is still usable.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs SQLite's own consistency check; `Ok(())` when it says "ok".
    pub fn integrity_check(&self) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if rows == ["ok"] {
            Ok(())
        } else {
            Err(StoreError::Corrupt(rows.join("; ")))
        }
    }

    /// Reads a value from the store's key-value table.
    pub fn meta_get(&self, key: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Removes a value from the store's key-value table.
    pub fn meta_delete(&self, key: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM meta WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Writes a value to the store's key-value table (durably).
    pub fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}

/// Whether the file at `path` is a plain (unencrypted) SQLite database: its
/// first 16 bytes are SQLite's header, which SQLCipher encrypts.
pub fn is_plain_file(path: impl AsRef<Path>) -> Result<bool> {
    use std::io::Read;
    let mut header = [0u8; 16];
    match std::fs::File::open(path.as_ref()) {
        Ok(mut file) => match file.read_exact(&mut header) {
            Ok(()) => Ok(&header == b"SQLite format 3\0"),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(StoreError::Key(VaultError::Io(e))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::Key(VaultError::Io(e))),
    }
}

impl Store {
    /// Converts the plain store at `path` (a device upgraded from a release
    /// without encryption) into one encrypted under `key`: SQLCipher's
    /// `sqlcipher_export` into a new file beside it, which then replaces the
    /// plain one by rename (a crash leaves the plain store or the encrypted
    /// one, never half of each). Returns whether there was a plain store to
    /// convert. Call it with no connection open on `path`.
    pub fn encrypt_plain(path: impl AsRef<Path>, key: &StoreKey) -> Result<bool> {
        let path = path.as_ref();
        if !is_plain_file(path)? {
            return Ok(false);
        }
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(".encrypting");
        let tmp = PathBuf::from(tmp_name);
        remove_with_sidecars(&tmp)?;
        {
            // CREATE: ATTACH opens the new file with the main one's flags.
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            // Everything in the WAL goes into the file first.
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            let tmp_str = tmp
                .to_str()
                .ok_or_else(|| StoreError::Corrupt("store path is not UTF-8".into()))?;
            let attach = zeroize::Zeroizing::new(format!(
                "ATTACH DATABASE '{}' AS encrypted KEY {};",
                tmp_str.replace('\'', "''"),
                key.pragma_value().as_str()
            ));
            conn.execute_batch(&attach)?;
            conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
            conn.execute_batch(&format!(
                "PRAGMA encrypted.user_version = {version}; DETACH DATABASE encrypted;"
            ))?;
        }
        std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| StoreError::Key(VaultError::Io(e)))?;
        for sidecar in ["-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(sidecar);
            remove_if_present(Path::new(&name))?;
        }
        std::fs::rename(&tmp, path).map_err(|e| StoreError::Key(VaultError::Io(e)))?;
        vault::sync_parent(path);
        Ok(true)
    }
}

fn remove_with_sidecars(path: &Path) -> Result<()> {
    for sidecar in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(sidecar);
        remove_if_present(Path::new(&name))?;
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::Key(VaultError::Io(e))),
    }
}

/// Gives SQLCipher the raw key; must be the first statement on `conn`.
/// Refuses a SQLite built without SQLCipher (the key would be ignored).
fn apply_key(conn: &Connection, key: &StoreKey) -> Result<()> {
    use rusqlite::OptionalExtension;
    let statement =
        zeroize::Zeroizing::new(format!("PRAGMA key = {};", key.pragma_value().as_str()));
    conn.execute_batch(&statement)?;
    let cipher: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .optional()?;
    if cipher.is_none_or(|v| v.is_empty()) {
        return Err(StoreError::Corrupt(
            "this build's SQLite has no SQLCipher: refusing to write unencrypted".into(),
        ));
    }
    Ok(())
}

/// Reads the schema once: a wrong key (or a file that is not a database)
/// fails here, before anything is written.
fn check_readable(conn: &Connection) -> Result<()> {
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(StoreError::WrongKey)
        }
        Err(e) => Err(e.into()),
    }
}

fn configure(conn: &Connection, durability: Durability) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "journal_mode is {mode}, WAL is required"
        )));
    }
    let sync = match durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {sync};
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;"
    ))?;
    Ok(())
}
