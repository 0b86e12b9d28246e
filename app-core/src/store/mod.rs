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
        let path = path.as_ref().to_path_buf();
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
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
