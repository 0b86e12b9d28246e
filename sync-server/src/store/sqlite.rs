//! [`SqliteStore`]: the embedded backend, one SQLite file in the data
//! directory.
//!
//! One writer connection behind an async mutex (SQLite has one writer
//! anyway, and this makes pushes strictly serial, which the pull cursor
//! relies on) and a small pool of read connections; WAL lets reads run
//! beside the writer. Every statement runs on tokio's blocking pool.
//! `synchronous=FULL`: a push that answered `stored` survives power loss,
//! because the device deletes the change from its outbox when it reads that
//! answer.
//!
//! This module holds the SQL and how a SQLite column becomes a value
//! (UUIDs are 16-byte blobs, flags integers); what is not SQL is shared
//! with PostgreSQL (see [`super`]).
//!
//! This backend serves one server process; several instances need
//! PostgreSQL.

use std::collections::BTreeSet;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use app_core::domain::{
    CountyCode, CountyTag, DeviceId, DivisionLevel, DocId, PhotoHash, Role, Scope, Team, TeamId,
    Timestamp, User, UserId,
};
use app_core::stats::{Area, Register, Report, ReportBuilder, StatsRequest};
use app_core::store::{RegisterSlice, SliceDivision, migrate};
use rusqlite::{Connection, OpenFlags, Params, TransactionBehavior, params};
use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

use app_core::scope::Principal;
use app_core::sync::protocol::Notice;

use super::admin::{self as shared, OpenRow, ReleaseBackend, ReleaseWrites, RowVerdict};
use super::conflicts::{self, ActorSource, ConflictPage, ConflictRow};
use super::projection::Selection;
use super::push::{self, PushBackend};
use super::rows::{self, AUDIT_COLUMNS, Columns, DEVICE_COLUMNS, PHOTO_COLUMNS, PLACEMENT_COLUMNS};
use super::rows::{DIVISION_COLUMNS, TEAM_COLUMNS, USER_COLUMNS, prefixed, scope_columns};
use super::{
    AuditEntry, AuditPage, AuditRecord, DevicePage, DeviceRecord, DeviceRow, DeviceSync,
    DivisionImport, DocumentChanges, NewDevice, PhotoRecord, PhotoStart, PullPage, PullQuery,
    PushResult, QuarantineEntry, QuarantinePage, QuarantineRow, Quarantined, ReleaseReport, Result,
    ServerStore, StoreError, StoreStats, TeamPage, UploadQuota, UploadsHeld, UserPage, UserRecord,
    UserRow, photo, pull, slice,
};
use crate::sync::{PushBatch, PushFetched, PushWrites, RecordFacts};

/// Numbered migrations; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/sqlite/0001_init.sql"),
    include_str!("migrations/sqlite/0002_admin.sql"),
    include_str!("migrations/sqlite/0003_stats.sql"),
    include_str!("migrations/sqlite/0004_conflicts.sql"),
    include_str!("migrations/sqlite/0005_budget.sql"),
    include_str!("migrations/sqlite/0006_photo_refs.sql"),
];

// The statistics projection's SQL (issue 13).
#[path = "sqlite_stats.rs"]
mod stats;

/// Most idle read connections kept.
const READ_POOL: usize = 8;

/// The embedded SQLite backend.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    writer: Arc<tokio::sync::Mutex<Connection>>,
    readers: Mutex<Vec<Connection>>,
}

/// The writer connection, held. A transaction left open on it (an error,
/// a panic, a push whose request went away between its steps) is rolled
/// back when it is let go, so the next writer starts clean.
#[derive(Debug)]
struct Writer(OwnedMutexGuard<Connection>);

impl Deref for Writer {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0
    }
}

impl DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.0.is_autocommit()
            && let Err(e) = self.0.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %e, "rolling back an abandoned sqlite transaction");
        }
    }
}

/// A push's write transaction on SQLite: the writer connection, held, with
/// `BEGIN IMMEDIATE` issued.
#[derive(Debug)]
pub struct WriteTx(Writer);

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A pooled reader holds no transaction between uses, so a poisoned
    // pool is still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn blob16(bytes: &[u8]) -> Result<Uuid> {
    Uuid::from_slice(bytes)
        .map_err(|_| StoreError::Corrupt(format!("uuid of {} bytes", bytes.len())))
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == rusqlite::ErrorCode::ConstraintViolation
        && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
}

/// A unique violation as [`StoreError::Conflict`] on `what`.
fn conflict(what: String) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(what)
        } else {
            e.into()
        }
    }
}

impl Columns for rusqlite::Row<'_> {
    fn uuid(&self, i: usize) -> Result<Uuid> {
        blob16(&self.get::<_, Vec<u8>>(i)?)
    }
    fn opt_uuid(&self, i: usize) -> Result<Option<Uuid>> {
        self.get::<_, Option<Vec<u8>>>(i)?
            .map(|b| blob16(&b))
            .transpose()
    }
    fn flag(&self, i: usize) -> Result<bool> {
        Ok(self.get::<_, i64>(i)? != 0)
    }
    rows::columns_by_getter!(get:
        int -> i64,
        opt_int -> Option<i64>,
        text -> String,
        opt_text -> Option<String>,
        bytes -> Vec<u8>,
        opt_bytes -> Option<Vec<u8>>,
    );
}

/// Every row of `sql`, mapped.
fn all<T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    map: fn(&dyn Columns) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(map(r)?);
    }
    Ok(out)
}

/// The first row of `sql`, mapped.
fn first<T>(
    c: &Connection,
    sql: &str,
    params: impl Params,
    map: fn(&dyn Columns) -> Result<T>,
) -> Result<Option<T>> {
    let mut stmt = c.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    rows.next()?.map(|r| map(r)).transpose()
}

/// A UUID as SQLite stores it.
fn id(uuid: &Uuid) -> &[u8] {
    uuid.as_bytes()
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, migrating it.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt(format!(
                "journal_mode is {mode}, WAL is required"
            )));
        }
        configure(&conn)?;
        migrate::run(&mut conn, MIGRATIONS)?;
        stats::backfill(&mut conn)?;
        backfill_photo_refs(&mut conn)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: Arc::new(tokio::sync::Mutex::new(conn)),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn writer(&self) -> Writer {
        Writer(Arc::clone(&self.inner.writer).lock_owned().await)
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let mut writer = self.writer().await;
        blocking(move || f(&mut writer)).await
    }

    /// `f` in one `IMMEDIATE` transaction on the writer.
    async fn write_tx<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            let pooled = lock(&inner.readers).pop();
            let conn = match pooled {
                Some(c) => c,
                None => {
                    let c = Connection::open_with_flags(
                        &inner.path,
                        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    configure(&c)?;
                    c
                }
            };
            let out = f(&conn);
            let mut pool = lock(&inner.readers);
            if pool.len() < READ_POOL {
                pool.push(conn);
            }
            out
        })
        .await
    }

    /// `f` in one read transaction: everything it reads comes from one
    /// snapshot.
    async fn read_tx<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.read(move |c| {
            c.execute_batch("BEGIN DEFERRED")?;
            let out = f(c);
            c.execute_batch("COMMIT")?;
            out
        })
        .await
    }
}

/// `f` on tokio's blocking pool.
async fn blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
}

fn fetch_for_push(c: &Connection, batch: &PushBatch) -> Result<PushFetched> {
    let needs = batch.needs();
    let mut fetched = PushFetched::default();
    let mut counties: BTreeSet<CountyCode> = needs.counties.iter().copied().collect();
    for doc in &needs.docs {
        let key = id(doc.as_uuid());
        let snapshot = first(
            c,
            "SELECT snapshot, county FROM documents WHERE doc_id = ?1",
            [key],
            |r| Ok((r.bytes(0)?, r.int(1)?)),
        )?;
        if let Some((snapshot, county)) = snapshot {
            fetched.snapshots.insert(*doc, snapshot);
            counties.extend(CountyCode::from_int(county as u64).ok());
        }
        if c.prepare_cached(
            "SELECT 1 FROM quarantine WHERE device_id = ?1 AND doc_id = ?2 AND released_at IS NULL LIMIT 1",
        )?
        .exists(params![id(batch.device.as_uuid()), key])?
        {
            fetched.quarantined.insert(*doc);
        }
    }
    for actor in &needs.actors {
        let device = first(
            c,
            "SELECT device_id FROM actors WHERE actor = ?1",
            [actor],
            |r| r.uuid(0),
        )?;
        if let Some(device) = device {
            fetched
                .actors
                .insert(actor.clone(), DeviceId::from_uuid(device));
        }
    }
    for hash in &needs.hashes {
        let doc = first(
            c,
            "SELECT doc_id FROM changes WHERE hash = ?1",
            [&hash[..]],
            |r| r.uuid(0),
        )?;
        if let Some(doc) = doc {
            fetched.hashes.insert(*hash, DocId::from_uuid(doc));
        }
    }
    fetched.quarantine_bytes = first(
        c,
        "SELECT coalesce(sum(length(bytes)), 0) FROM quarantine
         WHERE device_id = ?1 AND released_at IS NULL",
        [id(batch.device.as_uuid())],
        |r| r.int(0),
    )?
    .unwrap_or(0) as u64;
    for county in counties {
        let loaded = c
            .prepare_cached("SELECT 1 FROM divisions WHERE level = ?1 AND code = ?2")?
            .exists(params![
                DivisionLevel::County.code(),
                county.as_int() as i64
            ])?;
        let villages = if loaded {
            let (lo, hi) = county.village_range();
            let codes = all(
                c,
                "SELECT code FROM divisions WHERE level = ?1 AND code BETWEEN ?2 AND ?3",
                params![DivisionLevel::Village.code(), lo as i64, hi as i64],
                |r| r.int(0),
            )?;
            Some(codes.into_iter().map(|v| v as u64).collect())
        } else {
            None
        };
        fetched.register.insert(county, villages);
    }
    Ok(fetched)
}

fn write_push(c: &Connection, device: DeviceId, writes: &PushWrites, at: Timestamp) -> Result<()> {
    let dev = id(device.as_uuid());
    let now = at.as_millis();
    for actor in &writes.bind_actors {
        c.prepare_cached("INSERT INTO actors(actor, device_id, bound_at) VALUES (?1, ?2, ?3)")?
            .execute(params![actor, dev, now])?;
    }
    for d in &writes.docs {
        c.prepare_cached(
            "INSERT INTO documents(doc_id, kind, author, team, county, snapshot, heads, last_seq,
                 updated_at, conflicts_since, conflicts_checked)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, CASE WHEN ?9 THEN ?8 END, 1)
             ON CONFLICT(doc_id) DO UPDATE SET kind = excluded.kind, author = excluded.author,
               team = excluded.team, county = excluded.county, snapshot = excluded.snapshot,
               heads = excluded.heads, updated_at = excluded.updated_at,
               conflicts_since = CASE WHEN excluded.conflicts_since IS NULL THEN NULL
                 ELSE coalesce(documents.conflicts_since, excluded.conflicts_since) END,
               conflicts_checked = 1",
        )?
        .execute(params![
            id(d.doc.as_uuid()),
            d.kind.code(),
            id(d.placement.author.as_uuid()),
            d.placement.team.as_ref().map(|t| id(t.as_uuid())),
            d.placement.county.as_int() as i64,
            d.snapshot,
            d.heads,
            now,
            d.conflicted
        ])?;
        stats::project(c, &d.facts)?;
        c.prepare_cached("DELETE FROM photo_refs WHERE doc_id = ?1")?
            .execute([id(d.doc.as_uuid())])?;
        for photo in &d.photos {
            c.prepare_cached("INSERT INTO photo_refs(sha256, doc_id) VALUES (?1, ?2)")?
                .execute(params![&photo.as_bytes()[..], id(d.doc.as_uuid())])?;
        }
    }
    let mut last = std::collections::HashMap::new();
    for (doc, hash, bytes) in &writes.changes {
        c.prepare_cached(
            "INSERT INTO changes(doc_id, hash, bytes, device_id, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![id(doc.as_uuid()), &hash[..], bytes, dev, now])?;
        last.insert(*doc, c.last_insert_rowid());
    }
    for (doc, seq) in last {
        c.prepare_cached("UPDATE documents SET last_seq = ?2 WHERE doc_id = ?1")?
            .execute(params![id(doc.as_uuid()), seq])?;
    }
    for q in &writes.quarantine {
        c.prepare_cached(
            "INSERT INTO quarantine(device_id, doc_id, hash, bytes, code, reason, at, length, sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            dev,
            id(q.doc.as_uuid()),
            q.hash.as_ref().map(|h| &h[..]),
            q.bytes,
            q.code,
            q.reason,
            now,
            q.cut.map(|c| c.length as i64),
            q.cut.as_ref().map(|c| &c.sha256[..]),
        ])?;
    }
    Ok(())
}

/// Bytes the unfinished uploads of `device` and of its user hold, other
/// than `hash` and those abandoned by `at`.
fn uploads_held(
    c: &Connection,
    hash: &PhotoHash,
    device: DeviceId,
    at: Timestamp,
) -> Result<UploadsHeld> {
    let since = PhotoStart::alive_since(at).as_millis();
    let (device_bytes, user_bytes) = c
        .prepare_cached(
            "SELECT coalesce(sum(CASE WHEN p.uploader = ?2 THEN p.length END), 0),
                    coalesce(sum(p.length), 0)
             FROM photos p JOIN devices d ON d.id = p.uploader
             WHERE p.complete = 0 AND p.sha256 <> ?1 AND p.created_at >= ?3
               AND d.user_id = (SELECT user_id FROM devices WHERE id = ?2)",
        )?
        .query_row(
            params![&hash.as_bytes()[..], id(device.as_uuid()), since],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
        )?;
    Ok(UploadsHeld {
        device: device_bytes as u64,
        user: user_bytes as u64,
    })
}

/// Lists the photos of the documents stored before `photo_refs` existed,
/// if the migration left that to do, in one transaction. Runs when the
/// store opens, before anything else can write.
fn backfill_photo_refs(conn: &mut Connection) -> Result<()> {
    let pending: bool = conn
        .prepare("SELECT 1 FROM photo_refs_backfill LIMIT 1")?
        .exists([])?;
    if !pending {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut n = 0u64;
    {
        let mut stmt = tx.prepare("SELECT doc_id, snapshot FROM documents")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let doc = DocId::from_uuid(r.uuid(0)?);
            let snapshot = r
                .get_ref(1)?
                .as_blob()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            for photo in photo::photos_of_snapshot(doc, snapshot).unwrap_or_default() {
                tx.prepare_cached(
                    "INSERT INTO photo_refs(sha256, doc_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                )?
                .execute(params![&photo.as_bytes()[..], id(doc.as_uuid())])?;
                n += 1;
            }
        }
    }
    tx.execute("DELETE FROM photo_refs_backfill", [])?;
    tx.commit()?;
    tracing::info!(references = n, "photo references backfilled");
    Ok(())
}

fn photo_row(c: &Connection, hash: &PhotoHash) -> Result<Option<PhotoRecord>> {
    first(
        c,
        &format!("SELECT {PHOTO_COLUMNS} FROM photos WHERE sha256 = ?1"),
        [&hash.as_bytes()[..]],
        rows::photo,
    )
}

impl PushBackend for SqliteStore {
    type Tx = WriteTx;

    async fn fetch(&self, batch: Arc<PushBatch>) -> Result<PushFetched> {
        // On a read connection, beside other pushes and the writer.
        self.read_tx(move |c| fetch_for_push(c, &batch)).await
    }

    async fn begin(&self, batch: Arc<PushBatch>) -> Result<(WriteTx, PushFetched)> {
        let writer = self.writer().await;
        blocking(move || {
            writer.execute_batch("BEGIN IMMEDIATE")?;
            let fetched = fetch_for_push(&writer, &batch)?;
            Ok((WriteTx(writer), fetched))
        })
        .await
    }

    async fn commit(
        &self,
        tx: WriteTx,
        device: DeviceId,
        writes: PushWrites,
        at: Timestamp,
    ) -> Result<()> {
        blocking(move || {
            let WriteTx(writer) = tx;
            write_push(&writer, device, &writes, at)?;
            writer.execute_batch("COMMIT")?;
            Ok(())
        })
        .await
    }
}

#[async_trait::async_trait]
impl ServerStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<()> {
        self.read(|c| {
            c.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    async fn stats(&self) -> Result<StoreStats> {
        self.read(|c| {
            let n = |sql: &str| -> Result<u64> {
                Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
            };
            Ok(StoreStats {
                users: n("SELECT count(*) FROM users")?,
                devices: n("SELECT count(*) FROM devices")?,
                documents: n("SELECT count(*) FROM documents")?,
                changes: n("SELECT count(*) FROM changes")?,
                quarantined: n("SELECT count(*) FROM quarantine")?,
                photos: n("SELECT count(*) FROM photos WHERE complete = 1")?,
                divisions: n("SELECT count(*) FROM divisions")?,
            })
        })
        .await
    }

    async fn create_team(&self, team: &Team, at: Timestamp) -> Result<()> {
        let team = team.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO teams(id, name, county, leading_industry, lead, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id(team.id.as_uuid()),
                    team.name,
                    team.county.as_int() as i64,
                    team.leading_industry,
                    team.lead.as_ref().map(|u| id(u.as_uuid())),
                    at.as_millis()
                ],
            )
            .map_err(conflict(format!("team {}", team.id)))?;
            Ok(())
        })
        .await
    }

    async fn set_team_lead(&self, team: TeamId, lead: Option<UserId>) -> Result<()> {
        self.write(move |c| {
            let n = c.execute(
                "UPDATE teams SET lead = ?2 WHERE id = ?1",
                params![id(team.as_uuid()), lead.as_ref().map(|u| id(u.as_uuid()))],
            )?;
            if n == 0 {
                return Err(StoreError::Missing(format!("team {team}")));
            }
            Ok(())
        })
        .await
    }

    async fn team(&self, team: TeamId) -> Result<Option<Team>> {
        self.read(move |c| {
            let sql = format!("SELECT {TEAM_COLUMNS} FROM teams WHERE id = ?1");
            first(c, &sql, [id(team.as_uuid())], rows::team)
        })
        .await
    }

    async fn teams(&self) -> Result<Vec<Team>> {
        self.read(|c| {
            let sql = format!("SELECT {TEAM_COLUMNS} FROM teams ORDER BY name");
            all(c, &sql, [], rows::team)
        })
        .await
    }

    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        must_change: bool,
        at: Timestamp,
    ) -> Result<()> {
        let user = user.clone();
        let hash = password_hash.to_string();
        self.write(move |c| {
            let (level, code) = scope_columns(&user.scope);
            c.execute(
                "INSERT INTO users(id, username, display_name, role, scope_level, scope_code, team,
                                   active, password_hash, must_change_password, scope_epoch,
                                   created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11, 1, ?10)",
                params![
                    id(user.id.as_uuid()),
                    user.username,
                    user.display_name,
                    user.role.code(),
                    level,
                    code,
                    user.team.as_ref().map(|t| id(t.as_uuid())),
                    user.active as i64,
                    hash,
                    at.as_millis(),
                    must_change
                ],
            )
            .map_err(conflict(format!("user {}", user.username)))?;
            Ok(())
        })
        .await
    }

    async fn set_user_scope(
        &self,
        user: UserId,
        role: Role,
        scope: Scope,
        team: Option<TeamId>,
    ) -> Result<()> {
        self.write(move |c| {
            let (level, code) = scope_columns(&scope);
            let n = c.execute(
                "UPDATE users SET role = ?2, scope_level = ?3, scope_code = ?4, team = ?5,
                                  scope_epoch = scope_epoch + 1
                 WHERE id = ?1",
                params![
                    id(user.as_uuid()),
                    role.code(),
                    level,
                    code,
                    team.as_ref().map(|t| id(t.as_uuid()))
                ],
            )?;
            if n == 0 {
                return Err(StoreError::Missing(format!("user {user}")));
            }
            Ok(())
        })
        .await
    }

    async fn user(&self, user: UserId) -> Result<Option<UserRecord>> {
        self.read(move |c| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
            first(c, &sql, [id(user.as_uuid())], rows::user)
        })
        .await
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        let username = username.to_string();
        self.read(move |c| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1");
            first(c, &sql, [username], rows::user)
        })
        .await
    }

    async fn users(&self) -> Result<Vec<UserRecord>> {
        self.read(|c| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
            all(c, &sql, [], rows::user)
        })
        .await
    }

    async fn create_device(&self, device: &NewDevice) -> Result<()> {
        let d = device.clone();
        self.write(move |c| {
            let r = &d.record;
            c.execute(
                "INSERT INTO devices(id, user_id, name, platform, token_sha256, created_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id(r.id.as_uuid()),
                    id(r.user.as_uuid()),
                    r.name,
                    r.platform,
                    &d.token_sha256[..],
                    r.created_at.as_millis(),
                    r.last_seen_at.as_millis()
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn device_by_token(&self, token_sha256: &[u8; 32]) -> Result<Option<DeviceRecord>> {
        let digest = *token_sha256;
        self.read(move |c| {
            let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE token_sha256 = ?1");
            first(c, &sql, [&digest[..]], rows::device)
        })
        .await
    }

    async fn device(&self, device: DeviceId) -> Result<Option<DeviceRecord>> {
        self.read(move |c| {
            let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1");
            first(c, &sql, [id(device.as_uuid())], rows::device)
        })
        .await
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>> {
        self.read(|c| {
            let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY created_at");
            all(c, &sql, [], rows::device)
        })
        .await
    }

    async fn touch_device(&self, device: DeviceId, at: Timestamp) -> Result<()> {
        self.write(move |c| {
            c.prepare_cached(
                "UPDATE devices SET last_seen_at = max(last_seen_at, ?2) WHERE id = ?1",
            )?
            .execute(params![id(device.as_uuid()), at.as_millis()])?;
            Ok(())
        })
        .await
    }

    async fn revoke_device(&self, device: DeviceId, at: Timestamp) -> Result<bool> {
        self.write(move |c| {
            let n = c.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id(device.as_uuid()), at.as_millis()],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn replace_device(&self, old: DeviceId, new: DeviceId, at: Timestamp) -> Result<()> {
        // On the writer, so that no push reads bindings half moved.
        self.write_tx(move |tx| {
            let (old, new) = (id(old.as_uuid()), id(new.as_uuid()));
            tx.execute(
                "UPDATE actors SET device_id = ?2 WHERE device_id = ?1",
                params![old, new],
            )?;
            tx.execute(
                "UPDATE quarantine SET device_id = ?2 WHERE device_id = ?1 AND released_at IS NULL",
                params![old, new],
            )?;
            // Its unfinished photo uploads are the new device's to resume.
            tx.execute(
                "UPDATE photos SET uploader = ?2 WHERE uploader = ?1 AND complete = 0",
                params![old, new],
            )?;
            tx.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![old, at.as_millis()],
            )?;
            // Notices not collected yet go to the device that holds the
            // changes now.
            tx.execute(
                "UPDATE device_notices SET device_id = ?2 WHERE device_id = ?1 AND acked_at IS NULL",
                params![old, new],
            )?;
            for d in [old, new] {
                recount_notices(tx, d)?;
            }
            Ok(())
        })
        .await
    }

    async fn push(&self, batch: PushBatch, at: Timestamp) -> Result<PushResult> {
        push::push(self, batch, at).await
    }

    async fn pull(&self, query: &PullQuery) -> Result<PullPage> {
        let q = query.clone();
        // One read transaction: the high-water mark and the rows come from
        // the same snapshot.
        self.read_tx(move |c| {
            let high_water: i64 =
                c.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
                    r.get(0)
                })?;
            let f = pull::ReadFilter::of(&q.principal);
            let mut stmt = c.prepare_cached(
                "SELECT c.seq, c.doc_id, c.bytes FROM changes c
                 JOIN documents d ON d.doc_id = c.doc_id
                 WHERE c.seq > ?1 AND c.seq <= ?2 AND c.device_id <> ?3
                   AND (d.author = ?4 OR d.team = ?5 OR d.county BETWEEN ?6 AND ?7)
                 ORDER BY c.seq LIMIT ?8",
            )?;
            let mut rows = stmt.query(params![
                q.after,
                high_water,
                id(q.device.as_uuid()),
                id(&f.user),
                f.team.as_ref().map(id),
                f.county_lo,
                f.county_hi,
                pull::rows_for(q.limit)
            ])?;
            let changes = std::iter::from_fn(|| match rows.next() {
                Ok(Some(r)) => Some(rows::change(r)),
                Ok(None) => None,
                Err(e) => Some(Err(e.into())),
            });
            pull::cut_page(changes, q.limit, high_water)
        })
        .await
    }

    async fn document(&self, doc: DocId) -> Result<Option<DocumentChanges>> {
        self.read_tx(move |c| {
            let key = id(doc.as_uuid());
            let sql = format!("SELECT {PLACEMENT_COLUMNS} FROM documents WHERE doc_id = ?1");
            let Some(placement) = first(c, &sql, [key], rows::placement)? else {
                return Ok(None);
            };
            let changes = all(
                c,
                "SELECT seq, doc_id, bytes FROM changes WHERE doc_id = ?1 ORDER BY seq",
                [key],
                rows::change,
            )?;
            Ok(Some(DocumentChanges { placement, changes }))
        })
        .await
    }

    async fn import_divisions(&self, rows: Vec<DivisionImport>) -> Result<u64> {
        self.write_tx(move |tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO divisions(level, code, name) VALUES (?1, ?2, ?3)
                 ON CONFLICT(level, code) DO UPDATE SET name = excluded.name",
            )?;
            let mut n = 0u64;
            for row in &rows {
                n += stmt.execute(params![row.level.code(), row.code as i64, row.name])? as u64;
            }
            Ok(n)
        })
        .await
    }

    async fn import_county_tags(&self, tags: Vec<(CountyCode, CountyTag, String)>) -> Result<u64> {
        self.write_tx(move |tx| {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO county_tags(county, tag, source) VALUES (?1, ?2, ?3)
                 ON CONFLICT(county, tag) DO UPDATE SET source = excluded.source",
            )?;
            let mut n = 0u64;
            for (county, tag, source) in &tags {
                n += stmt.execute(params![county.as_int() as i64, tag.code(), source])? as u64;
            }
            Ok(n)
        })
        .await
    }

    async fn set_county_tag(
        &self,
        county: CountyCode,
        tag: CountyTag,
        on: bool,
        source: &str,
    ) -> Result<()> {
        let source = source.to_string();
        self.write(move |c| {
            if on {
                c.execute(
                    "INSERT INTO county_tags(county, tag, source) VALUES (?1, ?2, ?3)
                     ON CONFLICT(county, tag) DO UPDATE SET source = excluded.source",
                    params![county.as_int() as i64, tag.code(), source],
                )?;
            } else {
                c.execute(
                    "DELETE FROM county_tags WHERE county = ?1 AND tag = ?2",
                    params![county.as_int() as i64, tag.code()],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn register_slice(&self, county: CountyCode) -> Result<Option<RegisterSlice>> {
        self.read_tx(move |c| {
            let divisions = slice::queries(county)
                .into_iter()
                .map(|(level, lo, hi)| divisions(c, level, lo, hi))
                .collect::<Result<Vec<_>>>()?;
            let tags = all(
                c,
                "SELECT tag FROM county_tags WHERE county = ?1 ORDER BY tag",
                [county.as_int() as i64],
                |r| r.text(0),
            )?;
            Ok(slice::assemble(county, divisions, &tags))
        })
        .await
    }

    async fn photo(&self, hash: &PhotoHash) -> Result<Option<PhotoRecord>> {
        let hash = *hash;
        self.read(move |c| photo_row(c, &hash)).await
    }

    async fn photo_start(
        &self,
        hash: &PhotoHash,
        length: u64,
        at: Timestamp,
        device: DeviceId,
        quota: UploadQuota,
    ) -> Result<PhotoStart> {
        let hash = *hash;
        self.write_tx(move |tx| {
            let mut start = PhotoStart::decide(photo_row(tx, &hash)?, length, device, at);
            if start.writes_fresh_row() {
                let held = uploads_held(tx, &hash, device, at)?;
                start = start.within_quota(length, held, quota);
            }
            if start.writes_fresh_row() {
                tx.execute(
                    "INSERT INTO photos(sha256, length, received, complete, created_at, uploader)
                     VALUES (?1, ?2, 0, 0, ?3, ?4)
                     ON CONFLICT(sha256) DO UPDATE SET length = excluded.length, received = 0,
                       created_at = excluded.created_at, uploader = excluded.uploader",
                    params![
                        &hash.as_bytes()[..],
                        length as i64,
                        at.as_millis(),
                        id(device.as_uuid())
                    ],
                )?;
            }
            Ok(start)
        })
        .await
    }

    async fn photo_readable(
        &self,
        hash: &PhotoHash,
        principal: &Principal,
        device: DeviceId,
    ) -> Result<bool> {
        let hash = *hash;
        let f = pull::ReadFilter::of(principal);
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM photos WHERE sha256 = ?1 AND uploader = ?2)
                     OR EXISTS (SELECT 1 FROM photo_refs r JOIN documents d ON d.doc_id = r.doc_id
                                WHERE r.sha256 = ?1
                                  AND (d.author = ?3 OR d.team = ?4 OR d.county BETWEEN ?5 AND ?6))",
            )?
            .query_row(
                params![
                    &hash.as_bytes()[..],
                    id(device.as_uuid()),
                    id(&f.user),
                    f.team.as_ref().map(id),
                    f.county_lo,
                    f.county_hi
                ],
                |r| r.get::<_, bool>(0),
            )?)
        })
        .await
    }

    async fn photo_sweep(&self, before: Timestamp) -> Result<Vec<PhotoHash>> {
        self.write_tx(move |tx| {
            let hashes = all(
                tx,
                "DELETE FROM photos WHERE complete = 0 AND created_at <= ?1 RETURNING sha256",
                [before.as_millis()],
                |r| r.bytes(0),
            )?;
            hashes
                .into_iter()
                .map(|h| {
                    <[u8; 32]>::try_from(&h[..])
                        .map(PhotoHash::from_bytes)
                        .map_err(|_| StoreError::Corrupt("photos.sha256".into()))
                })
                .collect()
        })
        .await
    }

    async fn photo_advance(&self, hash: &PhotoHash, from: u64, to: u64) -> Result<bool> {
        let hash = *hash;
        self.write(move |c| {
            let n = c.execute(
                "UPDATE photos SET received = ?3 WHERE sha256 = ?1 AND received = ?2 AND complete = 0",
                params![&hash.as_bytes()[..], from as i64, to as i64],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn photo_complete(&self, hash: &PhotoHash) -> Result<()> {
        let hash = *hash;
        self.write(move |c| {
            c.execute(
                "UPDATE photos SET complete = 1, received = length WHERE sha256 = ?1",
                [&hash.as_bytes()[..]],
            )?;
            Ok(())
        })
        .await
    }

    async fn photo_discard(&self, hash: &PhotoHash) -> Result<()> {
        let hash = *hash;
        self.write(move |c| {
            c.execute(
                "DELETE FROM photos WHERE sha256 = ?1 AND complete = 0",
                [&hash.as_bytes()[..]],
            )?;
            Ok(())
        })
        .await
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<()> {
        let e = entry.clone();
        self.write(move |c| insert_audit(c, &e)).await
    }

    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        self.read(move |c| {
            let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit ORDER BY id DESC LIMIT ?1");
            all(c, &sql, [i64::from(limit)], rows::audit)
        })
        .await
    }

    // ==== the sync admin's console ====

    async fn set_user_active(&self, user: UserId, active: bool) -> Result<bool> {
        self.write(move |c| {
            let n = c.execute(
                "UPDATE users SET active = ?2 WHERE id = ?1",
                params![id(user.as_uuid()), active],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn set_user_password(&self, user: UserId, hash: &str, must_change: bool) -> Result<()> {
        let hash = hash.to_owned();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE users SET password_hash = ?2, must_change_password = ?3 WHERE id = ?1",
                params![id(user.as_uuid()), hash, must_change],
            )?;
            if n == 0 {
                return Err(StoreError::Missing(format!("user {user}")));
            }
            Ok(())
        })
        .await
    }

    async fn user_page(&self, q: &UserPage) -> Result<Vec<UserRow>> {
        let q = q.clone();
        self.read(move |c| {
            let sql = format!(
                "SELECT {}, t.name, h.county, h.province
                 FROM users u JOIN user_homes h ON h.user_id = u.id LEFT JOIN teams t ON t.id = u.team
                 WHERE (?1 IS NULL OR h.county = ?1) AND (?2 IS NULL OR h.province = ?2)
                   AND (?3 IS NULL OR u.id = ?3) AND (?4 IS NULL OR u.team = ?4)
                   AND (?5 IS NULL OR h.county = ?5) AND (?6 IS NULL OR u.role = ?6)
                   AND (?7 IS NULL OR u.active = ?7)
                   AND (?8 IS NULL OR lower(u.username) LIKE ?8 ESCAPE '\\'
                        OR lower(u.display_name) LIKE ?8 ESCAPE '\\')
                   AND (?9 IS NULL OR u.username > ?9)
                 ORDER BY u.username LIMIT ?10",
                prefixed(USER_COLUMNS, "u")
            );
            all(
                c,
                &sql,
                params![
                    q.area.county_int(),
                    q.area.province_int(),
                    q.user.as_ref().map(|u| id(u.as_uuid())),
                    q.team.as_ref().map(|t| id(t.as_uuid())),
                    q.county.map(|c| c.as_int() as i64),
                    q.role.map(|r| r.code()),
                    q.active,
                    q.text,
                    q.after,
                    i64::from(q.limit)
                ],
                shared::user_row,
            )
        })
        .await
    }

    async fn team_page(&self, q: &TeamPage) -> Result<Vec<(Team, u64)>> {
        let q = q.clone();
        self.read(move |c| {
            let sql = format!(
                "SELECT {}, (SELECT count(*) FROM users m WHERE m.team = t.id) FROM teams t
                 WHERE (?1 IS NULL OR t.county = ?1) AND (?2 IS NULL OR t.county / 10000 = ?2)
                   AND (?3 IS NULL OR t.county = ?3) AND (?4 IS NULL OR t.id > ?4)
                 ORDER BY t.id LIMIT ?5",
                prefixed(TEAM_COLUMNS, "t")
            );
            all(
                c,
                &sql,
                params![
                    q.area.county_int(),
                    q.area.province_int(),
                    q.county.map(|c| c.as_int() as i64),
                    q.after.as_ref().map(|t| id(t.as_uuid())),
                    i64::from(q.limit)
                ],
                shared::team_with_members,
            )
        })
        .await
    }

    async fn device_page(&self, q: &DevicePage) -> Result<Vec<DeviceRow>> {
        let q = q.clone();
        self.read(move |c| {
            let sql = format!(
                "SELECT {}, u.username, u.display_name
                 FROM devices d JOIN users u ON u.id = d.user_id JOIN user_homes h ON h.user_id = d.user_id
                 WHERE (?1 IS NULL OR h.county = ?1) AND (?2 IS NULL OR h.province = ?2)
                   AND (?3 IS NULL OR d.id = ?3) AND (?4 IS NULL OR d.user_id = ?4)
                   AND (?5 IS NULL OR u.team = ?5)
                   AND (?6 IS NULL OR (d.revoked_at IS NOT NULL) = ?6)
                   AND ((?7 = 0 AND ?8 = 0)
                        OR (d.revoked_at IS NULL
                            AND ((?7 = 1 AND d.last_seen_at < ?9) OR (?8 = 1 AND d.backlog_growing = 1))))
                   AND (?10 IS NULL OR d.id > ?10)
                 ORDER BY d.id LIMIT ?11",
                prefixed(DEVICE_COLUMNS, "d")
            );
            all(
                c,
                &sql,
                params![
                    q.area.county_int(),
                    q.area.province_int(),
                    q.device.as_ref().map(|d| id(d.as_uuid())),
                    q.user.as_ref().map(|u| id(u.as_uuid())),
                    q.team.as_ref().map(|t| id(t.as_uuid())),
                    q.revoked,
                    q.flag_silent,
                    q.flag_backlog,
                    q.silent_before.as_millis(),
                    q.after.as_ref().map(|d| id(d.as_uuid())),
                    i64::from(q.limit)
                ],
                shared::device_row,
            )
        })
        .await
    }

    async fn record_sync(&self, device: DeviceId, sync: &DeviceSync, at: Timestamp) -> Result<()> {
        let sync = sync.clone();
        self.write(move |c| {
            let b = sync.backlog.as_ref();
            c.prepare_cached(
                "UPDATE devices SET app_version = ?2, last_push_at = ?3, last_pull_at = ?4,
                   outbox_changes = ?5, outbox_oldest_at = ?6, reported_at = ?7, backlog_rises = ?8,
                   backlog_growing = ?9, last_seen_at = max(last_seen_at, ?10)
                 WHERE id = ?1",
            )?
            .execute(params![
                id(device.as_uuid()),
                sync.app_version,
                sync.last_push_at.map(Timestamp::as_millis),
                sync.last_pull_at.map(Timestamp::as_millis),
                b.map(|b| b.changes as i64),
                b.and_then(|b| b.oldest_at).map(Timestamp::as_millis),
                b.map(|b| b.reported_at.as_millis()),
                b.map_or(0, |b| i64::from(b.rises)),
                b.is_some_and(|b| b.growing),
                at.as_millis()
            ])?;
            Ok(())
        })
        .await
    }

    async fn quarantine_page(&self, q: &QuarantinePage) -> Result<Vec<QuarantineRow>> {
        let q = q.clone();
        self.read_tx(move |c| {
            let filter =
                shared::quarantine_filter(["?1", "?2", "?3", "?4", "?5", "?6", "?7", "?8", "?9"]);
            let (county, province, state) =
                (q.area.county_int(), q.area.province_int(), q.state_code());
            let device = q.device.map(|d| d.to_bytes().to_vec());
            let user = q.user.map(|u| u.to_bytes().to_vec());
            let doc = q.doc.map(|d| d.to_bytes().to_vec());
            let (since, until) = (
                q.since.map(Timestamp::as_millis),
                q.until.map(Timestamp::as_millis),
            );
            let filters: [&dyn rusqlite::ToSql; 9] = [
                &county, &province, &state, &device, &user, &doc, &q.code, &since, &until,
            ];
            let groups_sql = format!(
                "SELECT q.device_id, q.doc_id, max(q.id) AS k
                 FROM quarantine q JOIN devices d ON d.id = q.device_id
                   JOIN user_homes h ON h.user_id = d.user_id
                 WHERE {filter}
                 GROUP BY q.device_id, q.doc_id HAVING (?10 IS NULL OR max(q.id) < ?10)
                 ORDER BY k DESC LIMIT ?11"
            );
            let mut stmt = c.prepare_cached(&groups_sql)?;
            let mut all_params: Vec<&dyn rusqlite::ToSql> = filters.to_vec();
            let before = q.before;
            let limit = i64::from(q.limit);
            all_params.push(&before);
            all_params.push(&limit);
            let mut groups = Vec::new();
            let mut found = stmt.query(&all_params[..])?;
            while let Some(r) = found.next()? {
                groups.push((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                ));
            }
            drop(found);
            let rows_sql = format!(
                "SELECT {} FROM quarantine q JOIN devices d ON d.id = q.device_id
                   JOIN users u ON u.id = d.user_id JOIN user_homes h ON h.user_id = d.user_id
                   LEFT JOIN documents doc ON doc.doc_id = q.doc_id
                 WHERE {filter} AND q.device_id = ?10 AND q.doc_id = ?11 ORDER BY q.id",
                shared::quarantine_row_columns("coalesce(q.length, length(q.bytes))")
            );
            let mut out = Vec::new();
            for (device, doc, key) in groups {
                let mut p: Vec<&dyn rusqlite::ToSql> = filters.to_vec();
                p.push(&device);
                p.push(&doc);
                let mut rows = all(c, &rows_sql, &p[..], shared::quarantine_row)?;
                for r in &mut rows {
                    r.key = key;
                }
                out.extend(rows);
            }
            Ok(out)
        })
        .await
    }

    async fn quarantined(&self, device: DeviceId, doc: DocId) -> Result<Quarantined> {
        self.read_tx(move |c| {
            let key = id(doc.as_uuid());
            let snapshot = first(
                c,
                "SELECT snapshot FROM documents WHERE doc_id = ?1",
                [key],
                |r| r.bytes(0),
            )?;
            let rows = all(
                c,
                "SELECT id, bytes FROM quarantine WHERE device_id = ?1 AND doc_id = ?2 ORDER BY id",
                params![id(device.as_uuid()), key],
                |r| Ok((r.int(0)?, r.bytes(1)?)),
            )?;
            Ok(Quarantined { snapshot, rows })
        })
        .await
    }

    async fn release_quarantine(
        &self,
        device: DeviceId,
        doc: DocId,
        principal: Principal,
        by: Option<UserId>,
        at: Timestamp,
    ) -> Result<ReleaseReport> {
        shared::release(self, device, doc, principal, by, at).await
    }

    async fn discard_quarantine(
        &self,
        device: DeviceId,
        doc: DocId,
        reason: &str,
        by: Option<UserId>,
        at: Timestamp,
    ) -> Result<Vec<QuarantineEntry>> {
        let reason = reason.to_owned();
        self.write_tx(move |tx| {
            let (dev, key) = (id(device.as_uuid()), id(doc.as_uuid()));
            let sql = format!(
                "SELECT {} FROM quarantine q JOIN devices d ON d.id = q.device_id
                 WHERE q.device_id = ?1 AND q.doc_id = ?2 AND q.released_at IS NULL ORDER BY q.id",
                shared::quarantine_entry_columns("coalesce(q.length, length(q.bytes))")
            );
            let entries = all(tx, &sql, params![dev, key], rows::quarantine)?;
            for e in &entries {
                tx.execute(
                    "INSERT INTO device_notices(device_id, doc_id, hash, kind, code, reason, at)
                     SELECT device_id, doc_id, hash, 'discarded', 'discarded', ?2, ?3
                     FROM quarantine WHERE id = ?1",
                    params![e.id, reason, at.as_millis()],
                )?;
            }
            tx.execute(
                "UPDATE quarantine SET released_at = ?3, discarded_at = ?3, discard_reason = ?4,
                   resolved_by = ?5
                 WHERE device_id = ?1 AND doc_id = ?2 AND released_at IS NULL",
                params![
                    dev,
                    key,
                    at.as_millis(),
                    reason,
                    by.as_ref().map(|u| id(u.as_uuid()))
                ],
            )?;
            recount_notices(tx, dev)?;
            Ok(entries)
        })
        .await
    }

    async fn notices(&self, device: DeviceId) -> Result<Vec<Notice>> {
        self.read(move |c| {
            let sql = format!(
                "SELECT {} FROM device_notices WHERE device_id = ?1 AND acked_at IS NULL ORDER BY id",
                shared::NOTICE_COLUMNS
            );
            all(c, &sql, [id(device.as_uuid())], shared::notice)
        })
        .await
    }

    async fn ack_notices(&self, device: DeviceId, up_to: i64, at: Timestamp) -> Result<u64> {
        self.write_tx(move |tx| {
            let dev = id(device.as_uuid());
            let n = tx.execute(
                "UPDATE device_notices SET acked_at = ?3
                 WHERE device_id = ?1 AND id <= ?2 AND acked_at IS NULL",
                params![dev, up_to, at.as_millis()],
            )?;
            recount_notices(tx, dev)?;
            Ok(n as u64)
        })
        .await
    }

    async fn audit_page(&self, q: &AuditPage) -> Result<Vec<AuditRecord>> {
        let q = q.clone();
        self.read(move |c| {
            let sql = format!(
                "SELECT a.id, {}, u.username FROM audit a LEFT JOIN users u ON u.id = a.actor
                 WHERE (?1 IS NULL OR a.county = ?1) AND (?2 IS NULL OR a.province = ?2)
                   AND (?3 IS NULL OR a.actor = ?3) AND (?4 IS NULL OR a.action = ?4)
                   AND (?5 IS NULL OR a.action LIKE ?5 ESCAPE '\\') AND (?6 IS NULL OR a.subject = ?6)
                   AND (?7 IS NULL OR a.at >= ?7) AND (?8 IS NULL OR a.at < ?8)
                   AND (?9 IS NULL OR a.id < ?9)
                 ORDER BY a.id DESC LIMIT ?10",
                prefixed(AUDIT_COLUMNS, "a")
            );
            all(
                c,
                &sql,
                params![
                    q.area.county_int(),
                    q.area.province_int(),
                    q.actor.as_ref().map(|u| id(u.as_uuid())),
                    q.action,
                    q.action_like,
                    q.subject,
                    q.since.map(Timestamp::as_millis),
                    q.until.map(Timestamp::as_millis),
                    q.before,
                    i64::from(q.limit)
                ],
                shared::audit_record,
            )
        })
        .await
    }

    // ---- statistics (issue 13) ----

    async fn stats_report(
        &self,
        request: &StatsRequest,
        register: Option<Arc<Register>>,
    ) -> Result<Report> {
        let request = request.clone();
        self.read_tx(move |c| {
            let mut b = ReportBuilder::new(&request, register.as_deref());
            stats::feed(c, &Selection::of(&request), &mut b)?;
            Ok(b.finish())
        })
        .await
    }

    async fn stats_register(&self, area: Option<Area>) -> Result<Register> {
        self.read_tx(move |c| stats::register(c, area)).await
    }

    async fn tagged_counties(&self, tags: &[CountyTag]) -> Result<Vec<CountyCode>> {
        let tags = tags.to_vec();
        self.read(move |c| stats::tagged(c, &tags)).await
    }

    async fn project(&self, facts: Vec<RecordFacts>) -> Result<u64> {
        self.write_tx(move |tx| {
            for f in &facts {
                stats::project(tx, f)?;
            }
            Ok(facts.len() as u64)
        })
        .await
    }

    async fn projected(&self) -> Result<(u64, u64)> {
        self.read(stats::counts).await
    }

    async fn conflict_page(&self, q: &ConflictPage) -> Result<Vec<ConflictRow>> {
        let q = q.clone();
        self.read(move |c| {
            let filter =
                conflicts::conflict_filter(["?1", "?2", "?3", "?4", "?5", "?6", "?7", "?8"]);
            all(
                c,
                &format!(
                    "SELECT {} FROM {} WHERE {filter}
                     ORDER BY d.conflicts_since, d.doc_id LIMIT ?9",
                    conflicts::CONFLICT_COLUMNS,
                    conflicts::CONFLICT_FROM
                ),
                params![
                    q.area.county_int(),
                    q.area.province_int(),
                    q.county.map(|c| c.as_int() as i64),
                    q.team.as_ref().map(|t| id(t.as_uuid())),
                    q.kind.map(|k| k.code()),
                    q.before.map(Timestamp::as_millis),
                    q.after.map(|(at, _)| at.as_millis()),
                    q.after.as_ref().map(|(_, d)| id(d.as_uuid())),
                    i64::from(q.limit)
                ],
                conflicts::conflict_row,
            )
        })
        .await
    }

    async fn actor_sources(&self, actors: Vec<Vec<u8>>) -> Result<Vec<ActorSource>> {
        self.read(move |c| {
            let mut out = Vec::new();
            for actor in &actors {
                out.extend(first(
                    c,
                    &format!(
                        "SELECT {} FROM actors a JOIN devices d ON d.id = a.device_id
                           JOIN users u ON u.id = d.user_id WHERE a.actor = ?1",
                        conflicts::ACTOR_COLUMNS
                    ),
                    [actor],
                    conflicts::actor_source,
                )?);
            }
            Ok(out)
        })
        .await
    }

    async fn village_names(&self, codes: Vec<u64>) -> Result<Vec<(u64, String)>> {
        self.read(move |c| {
            let mut out = Vec::new();
            for code in codes {
                if let Some(name) = first(
                    c,
                    "SELECT name FROM divisions WHERE level = ?1 AND code = ?2",
                    params![DivisionLevel::Village.code(), code as i64],
                    |r| r.text(0),
                )? {
                    out.push((code, name));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn conflicts_unchecked(&self, limit: u32) -> Result<Vec<(DocId, Vec<u8>)>> {
        self.read(move |c| {
            all(
                c,
                "SELECT doc_id, snapshot FROM documents WHERE conflicts_checked = 0
                 ORDER BY doc_id LIMIT ?1",
                [i64::from(limit)],
                |r| Ok((DocId::from_uuid(r.uuid(0)?), r.bytes(1)?)),
            )
        })
        .await
    }

    async fn set_conflicts_checked(&self, flags: Vec<(DocId, bool)>, at: Timestamp) -> Result<()> {
        self.write_tx(move |c| {
            let mut stmt = c.prepare_cached(
                "UPDATE documents SET conflicts_checked = 1,
                     conflicts_since = CASE WHEN ?2 THEN coalesce(conflicts_since, ?3) END
                 WHERE doc_id = ?1",
            )?;
            for (doc, conflicted) in &flags {
                stmt.execute(params![id(doc.as_uuid()), conflicted, at.as_millis()])?;
            }
            Ok(())
        })
        .await
    }
}

fn insert_audit(c: &Connection, e: &AuditEntry) -> Result<()> {
    let v = rows::audit_values(e);
    c.prepare_cached(
        "INSERT INTO audit(at, actor, action, subject, detail, device, county, province,
                           before_json, after_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        v.0,
        v.1.as_ref().map(id),
        v.2,
        v.3,
        v.4,
        v.5.as_ref().map(id),
        v.6,
        v.7,
        v.8,
        v.9
    ])?;
    Ok(())
}

/// Sets a device's count of notices it has not acknowledged.
fn recount_notices(c: &Connection, device: &[u8]) -> Result<()> {
    c.prepare_cached(
        "UPDATE devices SET notices_pending =
           (SELECT count(*) FROM device_notices WHERE device_id = ?1 AND acked_at IS NULL)
         WHERE id = ?1",
    )?
    .execute([device])?;
    Ok(())
}

impl ReleaseBackend for SqliteStore {
    async fn open_rows(&self, device: DeviceId, doc: DocId) -> Result<Vec<OpenRow>> {
        self.read(move |c| open_rows(c, device, doc)).await
    }

    async fn open_ids_in(
        &self,
        tx: WriteTx,
        device: DeviceId,
        doc: DocId,
    ) -> Result<(WriteTx, Vec<i64>)> {
        blocking(move || {
            let ids = open_rows(&tx.0, device, doc)?
                .iter()
                .map(|r| r.id)
                .collect();
            Ok((tx, ids))
        })
        .await
    }

    async fn finish(&self, tx: WriteTx, w: ReleaseWrites) -> Result<()> {
        blocking(move || {
            let WriteTx(writer) = tx;
            let c: &Connection = &writer;
            write_push(c, w.device, &w.writes, w.at)?;
            let by = w.by.as_ref().map(|u| id(u.as_uuid()).to_vec());
            for v in &w.verdicts {
                match v {
                    RowVerdict::Stored { id: row } | RowVerdict::Duplicate { id: row } => {
                        c.prepare_cached(
                            "UPDATE quarantine SET released_at = ?2, resolved_by = ?3 WHERE id = ?1",
                        )?
                        .execute(params![row, w.at.as_millis(), by])?;
                    }
                    RowVerdict::Refused { id: row, code, reason } => {
                        c.prepare_cached(
                            "UPDATE quarantine SET code = ?2, reason = ?3, rechecked_at = ?4 WHERE id = ?1",
                        )?
                        .execute(params![row, code, reason, w.at.as_millis()])?;
                    }
                }
            }
            let dev = id(w.device.as_uuid());
            for n in &w.notices {
                c.prepare_cached(
                    "INSERT INTO device_notices(device_id, doc_id, hash, kind, code, reason, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    dev,
                    id(n.doc.as_uuid()),
                    n.hash,
                    n.kind.as_str(),
                    n.code,
                    n.reason,
                    w.at.as_millis()
                ])?;
            }
            recount_notices(c, dev)?;
            writer.execute_batch("COMMIT")?;
            Ok(())
        })
        .await
    }
}

fn open_rows(c: &Connection, device: DeviceId, doc: DocId) -> Result<Vec<OpenRow>> {
    all(
        c,
        "SELECT id, hash, code, bytes, length IS NOT NULL FROM quarantine
         WHERE device_id = ?1 AND doc_id = ?2 AND released_at IS NULL ORDER BY id",
        params![id(device.as_uuid()), id(doc.as_uuid())],
        shared::open_row,
    )
}

/// Divisions of one level with codes in `[lo, hi]`, by code.
fn divisions(c: &Connection, level: DivisionLevel, lo: u64, hi: u64) -> Result<Vec<SliceDivision>> {
    all(
        c,
        &format!(
            "SELECT {DIVISION_COLUMNS} FROM divisions
             WHERE level = ?1 AND code BETWEEN ?2 AND ?3 ORDER BY code"
        ),
        params![level.code(), lo as i64, hi as i64],
        rows::division,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn migrations_apply_to_a_fresh_file_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        SqliteStore::open(&path).unwrap();
        let store = SqliteStore::open(&path).unwrap();
        let v: u32 = store
            .read(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(v, migrate::latest(MIGRATIONS));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        assert!(matches!(
            SqliteStore::open(&path),
            Err(StoreError::SchemaTooNew { found: 99, .. })
        ));
    }

    #[tokio::test]
    async fn a_transaction_left_open_is_rolled_back_for_the_next_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("s.sqlite")).unwrap();
        // A push's write transaction, abandoned after it wrote (as when
        // its request goes away between steps).
        let tx = store
            .write(|c| {
                c.execute_batch("BEGIN IMMEDIATE")?;
                c.execute(
                    "INSERT INTO audit(at, actor, action, subject, detail) VALUES (1, NULL, 'x', 'y', '{}')",
                    [],
                )?;
                Ok(())
            })
            .await;
        tx.unwrap();
        assert!(store.audit_log(10).await.unwrap().is_empty());
        store
            .audit(&AuditEntry::new(
                Timestamp::from_millis(2),
                None,
                "next",
                "writer",
                serde_json::Value::Null,
            ))
            .await
            .unwrap();
        let log = store.audit_log(10).await.unwrap();
        assert_eq!(
            log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["next"]
        );
    }
}
