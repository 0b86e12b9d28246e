//! [`SqliteStore`]: the embedded backend, one SQLite file in the data
//! directory.
//!
//! One writer connection behind a mutex (SQLite has one writer anyway, and
//! this makes pushes strictly serial, which the pull cursor relies on) and a
//! small pool of read connections; WAL lets reads run beside the writer.
//! Every call runs on tokio's blocking pool. `synchronous=FULL`: a push that
//! answered `stored` survives power loss, because the device deletes the
//! change from its outbox when it reads that answer.
//!
//! This backend serves one server process; several instances need
//! PostgreSQL.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use app_core::domain::{
    CountyCode, CountyTag, DeviceId, DivisionLevel, DocId, PhotoHash, Role, Scope, Team, TeamId,
    Timestamp, User, UserId,
};
use app_core::store::{RegisterSlice, SliceDivision};
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};

use super::{
    AuditEntry, DeviceRecord, DivisionImport, DocumentChanges, NewDevice, PhotoRecord, PhotoStart,
    PullPage, PullQuery, PushFetched, PushResult, PushWrites, QuarantineEntry, ReadFilter, Result,
    ServerStore, StoreError, StoreStats, StoredChange, UserRecord, hex, level_code,
    photo_hash_from, placement_from, role_from_code, scope_columns, scope_from_columns,
};
use crate::sync::{self, PushBatch};

/// Numbered migrations; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[include_str!("migrations/sqlite/0001_init.sql")];

/// Most idle read connections kept.
const READ_POOL: usize = 8;

/// Largest pull page in bytes of change data (at least one change is sent).
pub(crate) const MAX_PULL_BYTES: usize = 4 * 1024 * 1024;

/// The embedded SQLite backend.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if version > supported {
        return Err(StoreError::SchemaTooNew {
            found: version,
            supported,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "sqlite migration applied");
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // rusqlite rolls back an open transaction when it is dropped during a
    // panic, so a poisoned connection is still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn blob16(bytes: &[u8]) -> Result<uuid::Uuid> {
    uuid::Uuid::from_slice(bytes)
        .map_err(|_| StoreError::Corrupt(format!("uuid of {} bytes", bytes.len())))
}

fn opt_uuid(bytes: Option<Vec<u8>>) -> Result<Option<uuid::Uuid>> {
    bytes.map(|b| blob16(&b)).transpose()
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == rusqlite::ErrorCode::ConstraintViolation
        && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
}

const USER_COLUMNS: &str = "id, username, display_name, role, scope_level, scope_code, team, \
                            active, password_hash, scope_epoch";

fn user_from_row(r: &rusqlite::Row<'_>) -> Result<UserRecord> {
    let id: Vec<u8> = r.get(0)?;
    let level: String = r.get(4)?;
    let code: Option<String> = r.get(5)?;
    let team: Option<Vec<u8>> = r.get(6)?;
    Ok(UserRecord {
        user: User {
            id: UserId::from_uuid(blob16(&id)?),
            username: r.get(1)?,
            display_name: r.get(2)?,
            role: role_from_code(&r.get::<_, String>(3)?)?,
            scope: scope_from_columns(&level, code.as_deref())?,
            team: opt_uuid(team)?.map(TeamId::from_uuid),
            active: r.get::<_, i64>(7)? != 0,
        },
        password_hash: r.get(8)?,
        scope_epoch: r.get(9)?,
    })
}

const DEVICE_COLUMNS: &str = "id, user_id, name, platform, created_at, last_seen_at, revoked_at";

fn device_from_row(r: &rusqlite::Row<'_>) -> Result<DeviceRecord> {
    Ok(DeviceRecord {
        id: DeviceId::from_uuid(blob16(&r.get::<_, Vec<u8>>(0)?)?),
        user: UserId::from_uuid(blob16(&r.get::<_, Vec<u8>>(1)?)?),
        name: r.get(2)?,
        platform: r.get(3)?,
        created_at: Timestamp::from_millis(r.get(4)?),
        last_seen_at: Timestamp::from_millis(r.get(5)?),
        revoked_at: r.get::<_, Option<i64>>(6)?.map(Timestamp::from_millis),
    })
}

fn team_from_row(r: &rusqlite::Row<'_>) -> Result<Team> {
    Ok(Team {
        id: TeamId::from_uuid(blob16(&r.get::<_, Vec<u8>>(0)?)?),
        name: r.get(1)?,
        county: CountyCode::from_int(r.get::<_, i64>(2)? as u64)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        leading_industry: r.get(3)?,
        lead: opt_uuid(r.get(4)?)?.map(UserId::from_uuid),
    })
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
        migrate(&mut conn)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(conn),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&inner.writer);
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
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
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

fn fetch_for_push(tx: &Connection, batch: &PushBatch) -> Result<PushFetched> {
    let needs = batch.needs();
    let mut fetched = PushFetched::default();
    {
        let mut stmt = tx.prepare_cached("SELECT snapshot FROM documents WHERE doc_id = ?1")?;
        for doc in &needs.docs {
            if let Some(snapshot) = stmt
                .query_row([&doc.to_bytes()[..]], |r| r.get::<_, Vec<u8>>(0))
                .optional()?
            {
                fetched.snapshots.insert(*doc, snapshot);
            }
        }
    }
    {
        let mut stmt = tx.prepare_cached(
            "SELECT 1 FROM quarantine WHERE device_id = ?1 AND doc_id = ?2 AND released_at IS NULL LIMIT 1",
        )?;
        for doc in &needs.docs {
            if stmt.exists(params![&batch.device.to_bytes()[..], &doc.to_bytes()[..]])? {
                fetched.quarantined.insert(*doc);
            }
        }
    }
    {
        let mut stmt = tx.prepare_cached("SELECT device_id FROM actors WHERE actor = ?1")?;
        for actor in &needs.actors {
            if let Some(dev) = stmt
                .query_row([actor.as_slice()], |r| r.get::<_, Vec<u8>>(0))
                .optional()?
            {
                fetched
                    .actors
                    .insert(actor.clone(), DeviceId::from_uuid(blob16(&dev)?));
            }
        }
    }
    {
        let mut stmt = tx.prepare_cached("SELECT doc_id FROM changes WHERE hash = ?1")?;
        for hash in &needs.hashes {
            if let Some(doc) = stmt
                .query_row([&hash[..]], |r| r.get::<_, Vec<u8>>(0))
                .optional()?
            {
                fetched
                    .hashes
                    .insert(*hash, DocId::from_uuid(blob16(&doc)?));
            }
        }
    }
    Ok(fetched)
}

fn write_push(
    tx: &Transaction<'_>,
    device: DeviceId,
    writes: &PushWrites,
    at: Timestamp,
) -> Result<()> {
    let dev = device.to_bytes();
    let now = at.as_millis();
    for actor in &writes.bind_actors {
        tx.prepare_cached("INSERT INTO actors(actor, device_id, bound_at) VALUES (?1, ?2, ?3)")?
            .execute(params![actor, &dev[..], now])?;
    }
    for d in &writes.docs {
        tx.prepare_cached(
            "INSERT INTO documents(doc_id, kind, author, team, county, snapshot, heads, last_seq, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)
             ON CONFLICT(doc_id) DO UPDATE SET kind = excluded.kind, author = excluded.author,
               team = excluded.team, county = excluded.county, snapshot = excluded.snapshot,
               heads = excluded.heads, updated_at = excluded.updated_at",
        )?
        .execute(params![
            &d.doc.to_bytes()[..],
            d.kind.code(),
            &d.placement.author.to_bytes()[..],
            d.placement.team.map(|t| t.to_bytes().to_vec()),
            d.placement.county.as_int() as i64,
            d.snapshot,
            d.heads,
            now
        ])?;
    }
    let mut last: HashMap<DocId, i64> = HashMap::new();
    for (doc, hash, bytes) in &writes.changes {
        tx.prepare_cached(
            "INSERT INTO changes(doc_id, hash, bytes, device_id, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![&doc.to_bytes()[..], &hash[..], bytes, &dev[..], now])?;
        last.insert(*doc, tx.last_insert_rowid());
    }
    for (doc, seq) in last {
        tx.prepare_cached("UPDATE documents SET last_seq = ?2 WHERE doc_id = ?1")?
            .execute(params![&doc.to_bytes()[..], seq])?;
    }
    for q in &writes.quarantine {
        tx.prepare_cached(
            "INSERT INTO quarantine(device_id, doc_id, hash, bytes, code, reason, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            &dev[..],
            &q.doc.to_bytes()[..],
            q.hash.map(|h| h.to_vec()),
            q.bytes,
            q.code,
            q.reason,
            now
        ])?;
    }
    Ok(())
}

fn slice_one(conn: &Connection, level: DivisionLevel, code: u64) -> Result<Option<SliceDivision>> {
    Ok(conn
        .prepare_cached("SELECT name FROM divisions WHERE level = ?1 AND code = ?2")?
        .query_row(params![level_code(level), code as i64], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .map(|name| SliceDivision { code, name }))
}

fn slice_range(
    conn: &Connection,
    level: DivisionLevel,
    lo: u64,
    hi: u64,
) -> Result<Vec<SliceDivision>> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, name FROM divisions WHERE level = ?1 AND code BETWEEN ?2 AND ?3 ORDER BY code",
    )?;
    let rows = stmt.query_map(params![level_code(level), lo as i64, hi as i64], |r| {
        Ok(SliceDivision {
            code: r.get::<_, i64>(0)? as u64,
            name: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
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
                    &team.id.to_bytes()[..],
                    team.name,
                    team.county.as_int() as i64,
                    team.leading_industry,
                    team.lead.map(|u| u.to_bytes().to_vec()),
                    at.as_millis()
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("team {}", team.id))
                } else {
                    e.into()
                }
            })?;
            Ok(())
        })
        .await
    }

    async fn set_team_lead(&self, team: TeamId, lead: Option<UserId>) -> Result<()> {
        self.write(move |c| {
            let n = c.execute(
                "UPDATE teams SET lead = ?2 WHERE id = ?1",
                params![&team.to_bytes()[..], lead.map(|u| u.to_bytes().to_vec())],
            )?;
            if n == 0 {
                return Err(StoreError::Missing(format!("team {team}")));
            }
            Ok(())
        })
        .await
    }

    async fn team(&self, id: TeamId) -> Result<Option<Team>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, county, leading_industry, lead FROM teams WHERE id = ?1",
            )?;
            let mut rows = stmt.query([&id.to_bytes()[..]])?;
            match rows.next()? {
                Some(r) => Ok(Some(team_from_row(r)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn teams(&self) -> Result<Vec<Team>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, county, leading_industry, lead FROM teams ORDER BY name",
            )?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(team_from_row(r)?);
            }
            Ok(out)
        })
        .await
    }

    async fn create_user(&self, user: &User, password_hash: &str, at: Timestamp) -> Result<()> {
        let user = user.clone();
        let hash = password_hash.to_string();
        self.write(move |c| {
            let (level, code) = scope_columns(&user.scope);
            c.execute(
                "INSERT INTO users(id, username, display_name, role, scope_level, scope_code, team,
                                   active, password_hash, scope_epoch, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10)",
                params![
                    &user.id.to_bytes()[..],
                    user.username,
                    user.display_name,
                    user.role.code(),
                    level,
                    code,
                    user.team.map(|t| t.to_bytes().to_vec()),
                    user.active as i64,
                    hash,
                    at.as_millis()
                ],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!("user {}", user.username))
                } else {
                    e.into()
                }
            })?;
            Ok(())
        })
        .await
    }

    async fn set_user_scope(
        &self,
        id: UserId,
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
                    &id.to_bytes()[..],
                    role.code(),
                    level,
                    code,
                    team.map(|t| t.to_bytes().to_vec())
                ],
            )?;
            if n == 0 {
                return Err(StoreError::Missing(format!("user {id}")));
            }
            Ok(())
        })
        .await
    }

    async fn user(&self, id: UserId) -> Result<Option<UserRecord>> {
        self.read(move |c| {
            let mut stmt =
                c.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))?;
            let mut rows = stmt.query([&id.to_bytes()[..]])?;
            match rows.next()? {
                Some(r) => Ok(Some(user_from_row(r)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        let username = username.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users WHERE username = ?1"
            ))?;
            let mut rows = stmt.query([username])?;
            match rows.next()? {
                Some(r) => Ok(Some(user_from_row(r)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn users(&self) -> Result<Vec<UserRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY username"
            ))?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(user_from_row(r)?);
            }
            Ok(out)
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
                    &r.id.to_bytes()[..],
                    &r.user.to_bytes()[..],
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
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices WHERE token_sha256 = ?1"
            ))?;
            let mut rows = stmt.query([&digest[..]])?;
            match rows.next()? {
                Some(r) => Ok(Some(device_from_row(r)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn device(&self, id: DeviceId) -> Result<Option<DeviceRecord>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices WHERE id = ?1"
            ))?;
            let mut rows = stmt.query([&id.to_bytes()[..]])?;
            match rows.next()? {
                Some(r) => Ok(Some(device_from_row(r)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices ORDER BY created_at"
            ))?;
            let mut rows = stmt.query([])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(device_from_row(r)?);
            }
            Ok(out)
        })
        .await
    }

    async fn touch_device(&self, id: DeviceId, at: Timestamp) -> Result<()> {
        self.write(move |c| {
            c.prepare_cached(
                "UPDATE devices SET last_seen_at = max(last_seen_at, ?2) WHERE id = ?1",
            )?
            .execute(params![&id.to_bytes()[..], at.as_millis()])?;
            Ok(())
        })
        .await
    }

    async fn revoke_device(&self, id: DeviceId, at: Timestamp) -> Result<bool> {
        self.write(move |c| {
            let n = c.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![&id.to_bytes()[..], at.as_millis()],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn replace_device(&self, old: DeviceId, new: DeviceId, at: Timestamp) -> Result<()> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (old, new) = (&old.to_bytes()[..], &new.to_bytes()[..]);
            tx.execute(
                "UPDATE actors SET device_id = ?2 WHERE device_id = ?1",
                params![old, new],
            )?;
            tx.execute(
                "UPDATE quarantine SET device_id = ?2 WHERE device_id = ?1 AND released_at IS NULL",
                params![old, new],
            )?;
            tx.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![old, at.as_millis()],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn push(&self, batch: PushBatch, at: Timestamp) -> Result<PushResult> {
        // Plan on a read connection, beside other pushes and the writer.
        let batch = Arc::new(batch);
        let (seen, planned) = {
            let batch = Arc::clone(&batch);
            self.read(move |c| {
                c.execute_batch("BEGIN DEFERRED")?;
                let fetched = fetch_for_push(c, &batch);
                c.execute_batch("COMMIT")?;
                let fetched = fetched?;
                let planned = sync::plan(&batch, fetched.clone());
                Ok((fetched, planned))
            })
            .await?
        };
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = fetch_for_push(&tx, &batch)?;
            let (outcomes, writes) = if now == seen {
                planned
            } else {
                // Another push touched the same documents, actors or hashes
                // in between: plan again on what is there now.
                tracing::debug!("push planned again inside the write transaction");
                sync::plan(&batch, now)
            };
            write_push(&tx, batch.device, &writes, at)?;
            tx.commit()?;
            Ok(PushResult { outcomes })
        })
        .await
    }

    async fn pull(&self, query: &PullQuery) -> Result<PullPage> {
        let q = query.clone();
        self.read(move |c| {
            // One read transaction: the high-water mark and the rows come
            // from the same snapshot.
            c.execute_batch("BEGIN DEFERRED")?;
            let result = (|| -> Result<PullPage> {
                let high_water: i64 =
                    c.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
                        r.get(0)
                    })?;
                let f = ReadFilter::of(&q.principal);
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
                    &q.device.to_bytes()[..],
                    &f.user.as_bytes()[..],
                    f.team.map(|t| t.as_bytes().to_vec()),
                    f.county_lo,
                    f.county_hi,
                    i64::from(q.limit) + 1
                ])?;
                let mut changes = Vec::new();
                let mut bytes_total = 0usize;
                let mut more = false;
                while let Some(r) = rows.next()? {
                    let bytes: Vec<u8> = r.get(2)?;
                    if changes.len() == q.limit as usize
                        || (!changes.is_empty() && bytes_total + bytes.len() > MAX_PULL_BYTES)
                    {
                        more = true;
                        break;
                    }
                    bytes_total += bytes.len();
                    changes.push(StoredChange {
                        seq: r.get(0)?,
                        doc: DocId::from_uuid(blob16(&r.get::<_, Vec<u8>>(1)?)?),
                        bytes,
                    });
                }
                Ok(PullPage {
                    changes,
                    more,
                    high_water,
                })
            })();
            c.execute_batch("COMMIT")?;
            result
        })
        .await
    }

    async fn document(&self, doc: DocId) -> Result<Option<DocumentChanges>> {
        self.read(move |c| {
            c.execute_batch("BEGIN DEFERRED")?;
            let result = (|| -> Result<Option<DocumentChanges>> {
                let row = c
                    .query_row(
                        "SELECT kind, author, team, county FROM documents WHERE doc_id = ?1",
                        [&doc.to_bytes()[..]],
                        |r| {
                            Ok((
                                r.get::<_, String>(0)?,
                                r.get::<_, Vec<u8>>(1)?,
                                r.get::<_, Option<Vec<u8>>>(2)?,
                                r.get::<_, i64>(3)?,
                            ))
                        },
                    )
                    .optional()?;
                let Some((kind, author, team, county)) = row else {
                    return Ok(None);
                };
                let placement = placement_from(&kind, blob16(&author)?, opt_uuid(team)?, county)?;
                let mut stmt = c.prepare_cached(
                    "SELECT seq, bytes FROM changes WHERE doc_id = ?1 ORDER BY seq",
                )?;
                let rows = stmt.query_map([&doc.to_bytes()[..]], |r| {
                    Ok(StoredChange {
                        seq: r.get(0)?,
                        doc,
                        bytes: r.get(1)?,
                    })
                })?;
                Ok(Some(DocumentChanges {
                    placement,
                    changes: rows.collect::<rusqlite::Result<_>>()?,
                }))
            })();
            c.execute_batch("COMMIT")?;
            result
        })
        .await
    }

    async fn quarantine(&self, limit: u32) -> Result<Vec<QuarantineEntry>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT q.id, q.device_id, d.user_id, q.doc_id, q.hash, length(q.bytes), q.code,
                        q.reason, q.at, q.released_at
                 FROM quarantine q JOIN devices d ON d.id = q.device_id
                 ORDER BY q.id DESC LIMIT ?1",
            )?;
            let mut rows = stmt.query([i64::from(limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(QuarantineEntry {
                    id: r.get(0)?,
                    device: DeviceId::from_uuid(blob16(&r.get::<_, Vec<u8>>(1)?)?),
                    user: UserId::from_uuid(blob16(&r.get::<_, Vec<u8>>(2)?)?),
                    doc: DocId::from_uuid(blob16(&r.get::<_, Vec<u8>>(3)?)?),
                    hash: r.get::<_, Option<Vec<u8>>>(4)?.map(|h| hex(&h)),
                    size: r.get::<_, i64>(5)? as usize,
                    code: r.get(6)?,
                    reason: r.get(7)?,
                    at: Timestamp::from_millis(r.get(8)?),
                    released_at: r.get::<_, Option<i64>>(9)?.map(Timestamp::from_millis),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn release_quarantine(&self, device: DeviceId, doc: DocId, at: Timestamp) -> Result<u64> {
        self.write(move |c| {
            let n = c.execute(
                "UPDATE quarantine SET released_at = ?3
                 WHERE device_id = ?1 AND doc_id = ?2 AND released_at IS NULL",
                params![&device.to_bytes()[..], &doc.to_bytes()[..], at.as_millis()],
            )?;
            Ok(n as u64)
        })
        .await
    }

    async fn import_divisions(&self, rows: Vec<DivisionImport>) -> Result<u64> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut n = 0u64;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO divisions(level, code, name) VALUES (?1, ?2, ?3)
                     ON CONFLICT(level, code) DO UPDATE SET name = excluded.name",
                )?;
                for row in &rows {
                    n += stmt.execute(params![level_code(row.level), row.code as i64, row.name])?
                        as u64;
                }
            }
            tx.commit()?;
            Ok(n)
        })
        .await
    }

    async fn import_county_tags(&self, tags: Vec<(CountyCode, CountyTag, String)>) -> Result<u64> {
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut n = 0u64;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO county_tags(county, tag, source) VALUES (?1, ?2, ?3)
                     ON CONFLICT(county, tag) DO UPDATE SET source = excluded.source",
                )?;
                for (county, tag, source) in &tags {
                    n += stmt.execute(params![county.as_int() as i64, tag.code(), source])? as u64;
                }
            }
            tx.commit()?;
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
        self.read(move |c| {
            c.execute_batch("BEGIN DEFERRED")?;
            let result = (|| -> Result<Option<RegisterSlice>> {
                let Some(county_row) = slice_one(c, DivisionLevel::County, county.as_int())? else {
                    return Ok(None);
                };
                let province = slice_one(c, DivisionLevel::Province, county.province().as_int())?
                    .unwrap_or(SliceDivision {
                        code: county.province().as_int(),
                        name: String::new(),
                    });
                let prefecture =
                    slice_one(c, DivisionLevel::Prefecture, county.prefecture().as_int())?
                        .unwrap_or(SliceDivision {
                            code: county.prefecture().as_int(),
                            name: String::new(),
                        });
                let (lo, hi) = county.village_range();
                let townships = slice_range(c, DivisionLevel::Township, lo / 1000, hi / 1000)?;
                let villages = slice_range(c, DivisionLevel::Village, lo, hi)?;
                let mut stmt =
                    c.prepare_cached("SELECT tag FROM county_tags WHERE county = ?1 ORDER BY tag")?;
                let tags = stmt
                    .query_map([county.as_int() as i64], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()?
                    .into_iter()
                    .filter_map(|t| CountyTag::from_code(&t))
                    .collect();
                Ok(Some(RegisterSlice {
                    version: app_core::reference::REGISTER_VERSION.to_string(),
                    province,
                    prefecture,
                    county: county_row,
                    townships,
                    villages,
                    tags,
                }))
            })();
            c.execute_batch("COMMIT")?;
            result
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
    ) -> Result<PhotoStart> {
        let hash = *hash;
        self.write(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let existing = photo_row(&tx, &hash)?;
            let start = match existing {
                Some(p) if p.complete => PhotoStart::Complete(p),
                Some(p) if p.length == length => PhotoStart::Resumed(p),
                other => {
                    tx.execute(
                        "INSERT INTO photos(sha256, length, received, complete, created_at)
                         VALUES (?1, ?2, 0, 0, ?3)
                         ON CONFLICT(sha256) DO UPDATE SET length = excluded.length, received = 0,
                           created_at = excluded.created_at",
                        params![&hash.as_bytes()[..], length as i64, at.as_millis()],
                    )?;
                    PhotoStart::Created {
                        restarted: other.is_some(),
                    }
                }
            };
            tx.commit()?;
            Ok(start)
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
        self.write(move |c| {
            c.execute(
                "INSERT INTO audit(at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    e.at.as_millis(),
                    e.actor.map(|u| u.to_bytes().to_vec()),
                    e.action,
                    e.subject,
                    e.detail.to_string()
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT at, actor, action, subject, detail FROM audit ORDER BY id DESC LIMIT ?1",
            )?;
            let mut rows = stmt.query([i64::from(limit)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let detail: String = r.get(4)?;
                out.push(AuditEntry {
                    at: Timestamp::from_millis(r.get(0)?),
                    actor: opt_uuid(r.get(1)?)?.map(UserId::from_uuid),
                    action: r.get(2)?,
                    subject: r.get(3)?,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                });
            }
            Ok(out)
        })
        .await
    }
}

fn photo_row(c: &Connection, hash: &PhotoHash) -> Result<Option<PhotoRecord>> {
    let row = c
        .prepare_cached(
            "SELECT sha256, length, received, complete, created_at FROM photos WHERE sha256 = ?1",
        )?
        .query_row([&hash.as_bytes()[..]], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .optional()?;
    row.map(|(h, length, received, complete, created)| {
        Ok(PhotoRecord {
            hash: photo_hash_from(&h)?,
            length: length as u64,
            offset: received as u64,
            complete: complete != 0,
            created_at: Timestamp::from_millis(created),
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_to_a_fresh_file_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        SqliteStore::open(&path).unwrap();
        let store = SqliteStore::open(&path).unwrap();
        let v: i64 = lock(&store.inner.writer)
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
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
}
