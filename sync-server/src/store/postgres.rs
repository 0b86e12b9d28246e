//! [`PostgresStore`]: the backend for deployments that outgrow one machine.
//!
//! The server stays stateless, so several instances can share one database
//! (and one photo directory on shared storage). Pushes take a
//! transaction-scoped advisory lock ([`PUSH_LOCK`]) so that they run one at
//! a time across every instance: sequence numbers then become visible in
//! commit order, and a pull that reads the highest committed `seq` first can
//! never skip a change that commits late. Migrations take another advisory
//! lock so that instances starting together do not race.
//!
//! Connections come from a deadpool pool; no TLS (the database is expected
//! on a private network or the same host).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use app_core::domain::{
    CountyCode, CountyTag, DeviceId, DivisionLevel, DocId, PhotoHash, Role, Scope, Team, TeamId,
    Timestamp, User, UserId,
};
use app_core::store::{RegisterSlice, SliceDivision};
use app_core::sync::protocol::ChangeOutcome;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};
use uuid::Uuid;

use super::sqlite::MAX_PULL_BYTES;
use super::{
    AuditEntry, DeviceRecord, DivisionImport, DocumentChanges, NewDevice, PhotoRecord, PhotoStart,
    PullPage, PullQuery, PushFetched, PushResult, PushWrites, QuarantineEntry, ReadFilter, Result,
    ServerStore, StoreError, StoreStats, StoredChange, UserRecord, hex, level_code,
    photo_hash_from, placement_from, role_from_code, scope_columns, scope_from_columns,
};
use crate::config::redact_url;
use crate::sync::{self, PushBatch};

/// Numbered migrations, recorded in `schema_migrations`.
const MIGRATIONS: &[&str] = &[include_str!("migrations/postgres/0001_init.sql")];

/// Advisory lock serialising pushes (`"KTPPUSH1"`).
pub const PUSH_LOCK: i64 = 0x4b54_5050_5553_4831;
/// Advisory lock serialising migrations (`"KTPMIGR1"`).
pub const MIGRATE_LOCK: i64 = 0x4b54_504d_4947_5231;

/// Rows per statement when importing the register.
const IMPORT_CHUNK: usize = 5_000;

/// The PostgreSQL backend.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    url: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

fn pool_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Pool(e.to_string())
}

fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

const USER_COLUMNS: &str = "id, username, display_name, role, scope_level, scope_code, team, \
                            active, password_hash, scope_epoch";

fn user_from_row(r: &Row) -> Result<UserRecord> {
    let level: String = r.try_get(4)?;
    let code: Option<String> = r.try_get(5)?;
    Ok(UserRecord {
        user: User {
            id: UserId::from_uuid(r.try_get(0)?),
            username: r.try_get(1)?,
            display_name: r.try_get(2)?,
            role: role_from_code(r.try_get::<_, &str>(3)?)?,
            scope: scope_from_columns(&level, code.as_deref())?,
            team: r.try_get::<_, Option<Uuid>>(6)?.map(TeamId::from_uuid),
            active: r.try_get(7)?,
        },
        password_hash: r.try_get(8)?,
        scope_epoch: r.try_get(9)?,
    })
}

const DEVICE_COLUMNS: &str = "id, user_id, name, platform, created_at, last_seen_at, revoked_at";

fn device_from_row(r: &Row) -> Result<DeviceRecord> {
    Ok(DeviceRecord {
        id: DeviceId::from_uuid(r.try_get(0)?),
        user: UserId::from_uuid(r.try_get(1)?),
        name: r.try_get(2)?,
        platform: r.try_get(3)?,
        created_at: Timestamp::from_millis(r.try_get(4)?),
        last_seen_at: Timestamp::from_millis(r.try_get(5)?),
        revoked_at: r.try_get::<_, Option<i64>>(6)?.map(Timestamp::from_millis),
    })
}

fn team_from_row(r: &Row) -> Result<Team> {
    Ok(Team {
        id: TeamId::from_uuid(r.try_get(0)?),
        name: r.try_get(1)?,
        county: CountyCode::from_int(r.try_get::<_, i64>(2)? as u64)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        leading_industry: r.try_get(3)?,
        lead: r.try_get::<_, Option<Uuid>>(4)?.map(UserId::from_uuid),
    })
}

fn photo_from_row(r: &Row) -> Result<PhotoRecord> {
    Ok(PhotoRecord {
        hash: photo_hash_from(r.try_get::<_, &[u8]>(0)?)?,
        length: r.try_get::<_, i64>(1)? as u64,
        offset: r.try_get::<_, i64>(2)? as u64,
        complete: r.try_get(3)?,
        created_at: Timestamp::from_millis(r.try_get(4)?),
    })
}

impl PostgresStore {
    /// Connects to `url` with at most `pool_size` connections and migrates
    /// the schema (the first in the connection's `search_path`).
    pub async fn connect(url: &str, pool_size: usize) -> Result<PostgresStore> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Pool(format!("database url {}: {e}", redact_url(url))))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("ketepai-sync-server");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(30)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(pool_err)?;
        let store = PostgresStore {
            pool,
            url: redact_url(url),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Client> {
        self.pool.get().await.map_err(pool_err)
    }

    async fn migrate(&self) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY)",
        )
        .await?;
        let version: i64 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .try_get(0)?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations(version) VALUES ($1)",
                &[&(i as i64 + 1)],
            )
            .await?;
            tracing::info!(version = i + 1, "postgres migration applied");
        }
        tx.commit().await?;
        Ok(())
    }
}

async fn plan_blocking(
    batch: Arc<PushBatch>,
    fetched: PushFetched,
) -> Result<(Vec<ChangeOutcome>, PushWrites)> {
    tokio::task::spawn_blocking(move || sync::plan(&batch, fetched))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))
}

async fn fetch_for_push(
    tx: &deadpool_postgres::Transaction<'_>,
    batch: &PushBatch,
) -> Result<PushFetched> {
    let needs = batch.needs();
    let mut fetched = PushFetched::default();
    let docs: Vec<Uuid> = needs.docs.iter().map(|d| *d.as_uuid()).collect();
    for r in tx
        .query(
            "SELECT doc_id, snapshot FROM documents WHERE doc_id = ANY($1)",
            &[&docs],
        )
        .await?
    {
        fetched
            .snapshots
            .insert(DocId::from_uuid(r.try_get(0)?), r.try_get(1)?);
    }
    for r in tx
        .query(
            "SELECT DISTINCT doc_id FROM quarantine
             WHERE device_id = $1 AND doc_id = ANY($2) AND released_at IS NULL",
            &[batch.device.as_uuid(), &docs],
        )
        .await?
    {
        fetched.quarantined.insert(DocId::from_uuid(r.try_get(0)?));
    }
    for r in tx
        .query(
            "SELECT actor, device_id FROM actors WHERE actor = ANY($1)",
            &[&needs.actors],
        )
        .await?
    {
        fetched
            .actors
            .insert(r.try_get(0)?, DeviceId::from_uuid(r.try_get(1)?));
    }
    let hashes: Vec<&[u8]> = needs.hashes.iter().map(|h| &h[..]).collect();
    for r in tx
        .query(
            "SELECT hash, doc_id FROM changes WHERE hash = ANY($1)",
            &[&hashes],
        )
        .await?
    {
        let h: &[u8] = r.try_get(0)?;
        let h: [u8; 32] = h
            .try_into()
            .map_err(|_| StoreError::Corrupt("change hash".into()))?;
        fetched.hashes.insert(h, DocId::from_uuid(r.try_get(1)?));
    }
    Ok(fetched)
}

async fn write_push(
    tx: &deadpool_postgres::Transaction<'_>,
    device: DeviceId,
    writes: &PushWrites,
    at: Timestamp,
) -> Result<()> {
    let dev = *device.as_uuid();
    let now = at.as_millis();
    if !writes.bind_actors.is_empty() {
        tx.execute(
            "INSERT INTO actors(actor, device_id, bound_at)
             SELECT a, $2, $3 FROM unnest($1::bytea[]) AS t(a)",
            &[&writes.bind_actors, &dev, &now],
        )
        .await?;
    }
    if !writes.docs.is_empty() {
        let ids: Vec<Uuid> = writes.docs.iter().map(|d| *d.doc.as_uuid()).collect();
        let kinds: Vec<&str> = writes.docs.iter().map(|d| d.kind.code()).collect();
        let authors: Vec<Uuid> = writes
            .docs
            .iter()
            .map(|d| *d.placement.author.as_uuid())
            .collect();
        let teams: Vec<Option<Uuid>> = writes
            .docs
            .iter()
            .map(|d| d.placement.team.map(|t| *t.as_uuid()))
            .collect();
        let counties: Vec<i64> = writes
            .docs
            .iter()
            .map(|d| d.placement.county.as_int() as i64)
            .collect();
        let snapshots: Vec<&[u8]> = writes.docs.iter().map(|d| &d.snapshot[..]).collect();
        let heads: Vec<&[u8]> = writes.docs.iter().map(|d| &d.heads[..]).collect();
        tx.execute(
            "INSERT INTO documents(doc_id, kind, author, team, county, snapshot, heads, last_seq, updated_at)
             SELECT d, k, a, t, c, s, h, 0, $8
             FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::bigint[], $6::bytea[], $7::bytea[])
                  AS x(d, k, a, t, c, s, h)
             ON CONFLICT (doc_id) DO UPDATE SET kind = excluded.kind, author = excluded.author,
               team = excluded.team, county = excluded.county, snapshot = excluded.snapshot,
               heads = excluded.heads, updated_at = excluded.updated_at",
            &[
                &ids, &kinds, &authors, &teams, &counties, &snapshots, &heads, &now,
            ],
        )
        .await?;
    }
    if !writes.changes.is_empty() {
        let docs: Vec<Uuid> = writes.changes.iter().map(|c| *c.0.as_uuid()).collect();
        let hashes: Vec<&[u8]> = writes.changes.iter().map(|c| &c.1[..]).collect();
        let bytes: Vec<&[u8]> = writes.changes.iter().map(|c| &c.2[..]).collect();
        // WITH ORDINALITY and ORDER BY keep the request order, so sequence
        // numbers follow dependency order within each document.
        tx.execute(
            "INSERT INTO changes(doc_id, hash, bytes, device_id, received_at)
             SELECT d, h, b, $4, $5
             FROM unnest($1::uuid[], $2::bytea[], $3::bytea[]) WITH ORDINALITY AS x(d, h, b, n)
             ORDER BY n",
            &[&docs, &hashes, &bytes, &dev, &now],
        )
        .await?;
        let mut touched: Vec<Uuid> = docs.clone();
        touched.sort();
        touched.dedup();
        tx.execute(
            "UPDATE documents d SET last_seq = m.seq
             FROM (SELECT doc_id, max(seq) AS seq FROM changes WHERE doc_id = ANY($1) GROUP BY doc_id) m
             WHERE d.doc_id = m.doc_id",
            &[&touched],
        )
        .await?;
    }
    for q in &writes.quarantine {
        let hash: Option<&[u8]> = q.hash.as_ref().map(|h| &h[..]);
        tx.execute(
            "INSERT INTO quarantine(device_id, doc_id, hash, bytes, code, reason, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &dev,
                q.doc.as_uuid(),
                &hash,
                &q.bytes,
                &q.code,
                &q.reason,
                &now,
            ],
        )
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl ServerStore for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<()> {
        self.client().await?.query_one("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn stats(&self) -> Result<StoreStats> {
        let c = self.client().await?;
        let r = c
            .query_one(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM devices),
                        (SELECT count(*) FROM documents), (SELECT count(*) FROM changes),
                        (SELECT count(*) FROM quarantine),
                        (SELECT count(*) FROM photos WHERE complete),
                        (SELECT count(*) FROM divisions)",
                &[],
            )
            .await?;
        let n = |i: usize| -> Result<u64> { Ok(r.try_get::<_, i64>(i)? as u64) };
        Ok(StoreStats {
            users: n(0)?,
            devices: n(1)?,
            documents: n(2)?,
            changes: n(3)?,
            quarantined: n(4)?,
            photos: n(5)?,
            divisions: n(6)?,
        })
    }

    async fn create_team(&self, team: &Team, at: Timestamp) -> Result<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO teams(id, name, county, leading_industry, lead, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                team.id.as_uuid(),
                &team.name,
                &(team.county.as_int() as i64),
                &team.leading_industry,
                &team.lead.map(|u| *u.as_uuid()),
                &at.as_millis(),
            ],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("team {}", team.id))
            } else {
                e.into()
            }
        })?;
        Ok(())
    }

    async fn set_team_lead(&self, team: TeamId, lead: Option<UserId>) -> Result<()> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE teams SET lead = $2 WHERE id = $1",
                &[team.as_uuid(), &lead.map(|u| *u.as_uuid())],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Missing(format!("team {team}")));
        }
        Ok(())
    }

    async fn team(&self, id: TeamId) -> Result<Option<Team>> {
        let c = self.client().await?;
        c.query_opt(
            "SELECT id, name, county, leading_industry, lead FROM teams WHERE id = $1",
            &[id.as_uuid()],
        )
        .await?
        .map(|r| team_from_row(&r))
        .transpose()
    }

    async fn teams(&self) -> Result<Vec<Team>> {
        let c = self.client().await?;
        c.query(
            "SELECT id, name, county, leading_industry, lead FROM teams ORDER BY name",
            &[],
        )
        .await?
        .iter()
        .map(team_from_row)
        .collect()
    }

    async fn create_user(&self, user: &User, password_hash: &str, at: Timestamp) -> Result<()> {
        let c = self.client().await?;
        let (level, code) = scope_columns(&user.scope);
        c.execute(
            "INSERT INTO users(id, username, display_name, role, scope_level, scope_code, team,
                               active, password_hash, scope_epoch, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10)",
            &[
                user.id.as_uuid(),
                &user.username,
                &user.display_name,
                &user.role.code(),
                &level,
                &code,
                &user.team.map(|t| *t.as_uuid()),
                &user.active,
                &password_hash,
                &at.as_millis(),
            ],
        )
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("user {}", user.username))
            } else {
                e.into()
            }
        })?;
        Ok(())
    }

    async fn set_user_scope(
        &self,
        id: UserId,
        role: Role,
        scope: Scope,
        team: Option<TeamId>,
    ) -> Result<()> {
        let c = self.client().await?;
        let (level, code) = scope_columns(&scope);
        let n = c
            .execute(
                "UPDATE users SET role = $2, scope_level = $3, scope_code = $4, team = $5,
                                  scope_epoch = scope_epoch + 1
                 WHERE id = $1",
                &[
                    id.as_uuid(),
                    &role.code(),
                    &level,
                    &code,
                    &team.map(|t| *t.as_uuid()),
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Missing(format!("user {id}")));
        }
        Ok(())
    }

    async fn user(&self, id: UserId) -> Result<Option<UserRecord>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .await?;
        c.query_opt(&stmt, &[id.as_uuid()])
            .await?
            .map(|r| user_from_row(&r))
            .transpose()
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        let c = self.client().await?;
        c.query_opt(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"),
            &[&username],
        )
        .await?
        .map(|r| user_from_row(&r))
        .transpose()
    }

    async fn users(&self) -> Result<Vec<UserRecord>> {
        let c = self.client().await?;
        c.query(
            &format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"),
            &[],
        )
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn create_device(&self, device: &NewDevice) -> Result<()> {
        let c = self.client().await?;
        let r = &device.record;
        c.execute(
            "INSERT INTO devices(id, user_id, name, platform, token_sha256, created_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                r.id.as_uuid(),
                r.user.as_uuid(),
                &r.name,
                &r.platform,
                &&device.token_sha256[..],
                &r.created_at.as_millis(),
                &r.last_seen_at.as_millis(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn device_by_token(&self, token_sha256: &[u8; 32]) -> Result<Option<DeviceRecord>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(&format!(
                "SELECT {DEVICE_COLUMNS} FROM devices WHERE token_sha256 = $1"
            ))
            .await?;
        c.query_opt(&stmt, &[&&token_sha256[..]])
            .await?
            .map(|r| device_from_row(&r))
            .transpose()
    }

    async fn device(&self, id: DeviceId) -> Result<Option<DeviceRecord>> {
        let c = self.client().await?;
        c.query_opt(
            &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = $1"),
            &[id.as_uuid()],
        )
        .await?
        .map(|r| device_from_row(&r))
        .transpose()
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>> {
        let c = self.client().await?;
        c.query(
            &format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY created_at"),
            &[],
        )
        .await?
        .iter()
        .map(device_from_row)
        .collect()
    }

    async fn touch_device(&self, id: DeviceId, at: Timestamp) -> Result<()> {
        let c = self.client().await?;
        c.execute(
            "UPDATE devices SET last_seen_at = greatest(last_seen_at, $2) WHERE id = $1",
            &[id.as_uuid(), &at.as_millis()],
        )
        .await?;
        Ok(())
    }

    async fn revoke_device(&self, id: DeviceId, at: Timestamp) -> Result<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[id.as_uuid(), &at.as_millis()],
            )
            .await?;
        Ok(n > 0)
    }

    async fn replace_device(&self, old: DeviceId, new: DeviceId, at: Timestamp) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Pushes re-read the actor bindings under this lock before they
        // write: take it so that none writes on bindings half moved.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PUSH_LOCK])
            .await?;
        tx.execute(
            "UPDATE actors SET device_id = $2 WHERE device_id = $1",
            &[old.as_uuid(), new.as_uuid()],
        )
        .await?;
        tx.execute(
            "UPDATE quarantine SET device_id = $2 WHERE device_id = $1 AND released_at IS NULL",
            &[old.as_uuid(), new.as_uuid()],
        )
        .await?;
        tx.execute(
            "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[old.as_uuid(), &at.as_millis()],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn push(&self, batch: PushBatch, at: Timestamp) -> Result<PushResult> {
        let mut client = self.client().await?;
        // Plan before taking the push lock, beside other pushes (and other
        // server instances); applying and hydrating Automerge documents is
        // CPU work, kept off the async workers.
        let seen = {
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let seen = fetch_for_push(&tx, &batch).await?;
            tx.commit().await?;
            seen
        };
        let batch = Arc::new(batch);
        let planned = plan_blocking(Arc::clone(&batch), seen.clone()).await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PUSH_LOCK])
            .await?;
        let now = fetch_for_push(&tx, &batch).await?;
        let (outcomes, writes) = if now == seen {
            planned
        } else {
            // Another push touched the same documents, actors or hashes in
            // between: plan again on what is there now.
            tracing::debug!("push planned again inside the write transaction");
            plan_blocking(Arc::clone(&batch), now).await?
        };
        write_push(&tx, batch.device, &writes, at).await?;
        tx.commit().await?;
        Ok(PushResult { outcomes })
    }

    async fn pull(&self, query: &PullQuery) -> Result<PullPage> {
        let c = self.client().await?;
        // Pushes commit in seq order (see PUSH_LOCK), so every row up to
        // the high-water mark read here is already committed.
        let high_water: i64 = c
            .query_one("SELECT coalesce(max(seq), 0) FROM changes", &[])
            .await?
            .try_get(0)?;
        let f = ReadFilter::of(&query.principal);
        let stmt = c
            .prepare_cached(
                "SELECT c.seq, c.doc_id, c.bytes FROM changes c
                 JOIN documents d ON d.doc_id = c.doc_id
                 WHERE c.seq > $1 AND c.seq <= $2 AND c.device_id <> $3
                   AND (d.author = $4 OR d.team = $5 OR d.county BETWEEN $6 AND $7)
                 ORDER BY c.seq LIMIT $8",
            )
            .await?;
        let rows = c
            .query(
                &stmt,
                &[
                    &query.after,
                    &high_water,
                    query.device.as_uuid(),
                    &f.user,
                    &f.team,
                    &f.county_lo,
                    &f.county_hi,
                    &(i64::from(query.limit) + 1),
                ],
            )
            .await?;
        let mut changes = Vec::new();
        let mut total = 0usize;
        let mut more = false;
        for r in rows {
            let bytes: Vec<u8> = r.try_get(2)?;
            if changes.len() == query.limit as usize
                || (!changes.is_empty() && total + bytes.len() > MAX_PULL_BYTES)
            {
                more = true;
                break;
            }
            total += bytes.len();
            changes.push(StoredChange {
                seq: r.try_get(0)?,
                doc: DocId::from_uuid(r.try_get(1)?),
                bytes,
            });
        }
        Ok(PullPage {
            changes,
            more,
            high_water,
        })
    }

    async fn document(&self, doc: DocId) -> Result<Option<DocumentChanges>> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let Some(row) = tx
            .query_opt(
                "SELECT kind, author, team, county FROM documents WHERE doc_id = $1",
                &[doc.as_uuid()],
            )
            .await?
        else {
            return Ok(None);
        };
        let placement = placement_from(
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
        )?;
        let changes = tx
            .query(
                "SELECT seq, bytes FROM changes WHERE doc_id = $1 ORDER BY seq",
                &[doc.as_uuid()],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(StoredChange {
                    seq: r.try_get(0)?,
                    doc,
                    bytes: r.try_get(1)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(Some(DocumentChanges { placement, changes }))
    }

    async fn quarantine(&self, limit: u32) -> Result<Vec<QuarantineEntry>> {
        let c = self.client().await?;
        c.query(
            "SELECT q.id, q.device_id, d.user_id, q.doc_id, q.hash, octet_length(q.bytes), q.code,
                    q.reason, q.at, q.released_at
             FROM quarantine q JOIN devices d ON d.id = q.device_id
             ORDER BY q.id DESC LIMIT $1",
            &[&i64::from(limit)],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(QuarantineEntry {
                id: r.try_get(0)?,
                device: DeviceId::from_uuid(r.try_get(1)?),
                user: UserId::from_uuid(r.try_get(2)?),
                doc: DocId::from_uuid(r.try_get(3)?),
                hash: r.try_get::<_, Option<&[u8]>>(4)?.map(hex),
                size: r.try_get::<_, i32>(5)? as usize,
                code: r.try_get(6)?,
                reason: r.try_get(7)?,
                at: Timestamp::from_millis(r.try_get(8)?),
                released_at: r.try_get::<_, Option<i64>>(9)?.map(Timestamp::from_millis),
            })
        })
        .collect()
    }

    async fn release_quarantine(&self, device: DeviceId, doc: DocId, at: Timestamp) -> Result<u64> {
        let c = self.client().await?;
        Ok(c.execute(
            "UPDATE quarantine SET released_at = $3
             WHERE device_id = $1 AND doc_id = $2 AND released_at IS NULL",
            &[device.as_uuid(), doc.as_uuid(), &at.as_millis()],
        )
        .await?)
    }

    async fn import_divisions(&self, rows: Vec<DivisionImport>) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut n = 0;
        for chunk in rows.chunks(IMPORT_CHUNK) {
            let levels: Vec<&str> = chunk.iter().map(|r| level_code(r.level)).collect();
            let codes: Vec<i64> = chunk.iter().map(|r| r.code as i64).collect();
            let names: Vec<&str> = chunk.iter().map(|r| r.name.as_str()).collect();
            n += tx
                .execute(
                    "INSERT INTO divisions(level, code, name)
                     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])
                     ON CONFLICT (level, code) DO UPDATE SET name = excluded.name",
                    &[&levels, &codes, &names],
                )
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn import_county_tags(&self, tags: Vec<(CountyCode, CountyTag, String)>) -> Result<u64> {
        let c = self.client().await?;
        let counties: Vec<i64> = tags.iter().map(|t| t.0.as_int() as i64).collect();
        let codes: Vec<&str> = tags.iter().map(|t| t.1.code()).collect();
        let sources: Vec<&str> = tags.iter().map(|t| t.2.as_str()).collect();
        Ok(c.execute(
            "INSERT INTO county_tags(county, tag, source)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
             ON CONFLICT (county, tag) DO UPDATE SET source = excluded.source",
            &[&counties, &codes, &sources],
        )
        .await?)
    }

    async fn set_county_tag(
        &self,
        county: CountyCode,
        tag: CountyTag,
        on: bool,
        source: &str,
    ) -> Result<()> {
        let c = self.client().await?;
        let code = county.as_int() as i64;
        if on {
            c.execute(
                "INSERT INTO county_tags(county, tag, source) VALUES ($1, $2, $3)
                 ON CONFLICT (county, tag) DO UPDATE SET source = excluded.source",
                &[&code, &tag.code(), &source],
            )
            .await?;
        } else {
            c.execute(
                "DELETE FROM county_tags WHERE county = $1 AND tag = $2",
                &[&code, &tag.code()],
            )
            .await?;
        }
        Ok(())
    }

    async fn register_slice(&self, county: CountyCode) -> Result<Option<RegisterSlice>> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let one = |level: DivisionLevel, code: u64| {
            let tx = &tx;
            async move {
                Ok::<_, StoreError>(
                    tx.query_opt(
                        "SELECT name FROM divisions WHERE level = $1 AND code = $2",
                        &[&level_code(level), &(code as i64)],
                    )
                    .await?
                    .map(|r| r.try_get::<_, String>(0))
                    .transpose()?
                    .map(|name| SliceDivision { code, name }),
                )
            }
        };
        let range = |level: DivisionLevel, lo: u64, hi: u64| {
            let tx = &tx;
            async move {
                tx.query(
                    "SELECT code, name FROM divisions
                     WHERE level = $1 AND code BETWEEN $2 AND $3 ORDER BY code",
                    &[&level_code(level), &(lo as i64), &(hi as i64)],
                )
                .await?
                .iter()
                .map(|r| {
                    Ok(SliceDivision {
                        code: r.try_get::<_, i64>(0)? as u64,
                        name: r.try_get(1)?,
                    })
                })
                .collect::<Result<Vec<_>>>()
            }
        };
        let Some(county_row) = one(DivisionLevel::County, county.as_int()).await? else {
            return Ok(None);
        };
        let province = one(DivisionLevel::Province, county.province().as_int())
            .await?
            .unwrap_or(SliceDivision {
                code: county.province().as_int(),
                name: String::new(),
            });
        let prefecture = one(DivisionLevel::Prefecture, county.prefecture().as_int())
            .await?
            .unwrap_or(SliceDivision {
                code: county.prefecture().as_int(),
                name: String::new(),
            });
        let (lo, hi) = county.village_range();
        let townships = range(DivisionLevel::Township, lo / 1000, hi / 1000).await?;
        let villages = range(DivisionLevel::Village, lo, hi).await?;
        let tags = tx
            .query(
                "SELECT tag FROM county_tags WHERE county = $1 ORDER BY tag",
                &[&(county.as_int() as i64)],
            )
            .await?
            .iter()
            .filter_map(|r| r.try_get::<_, &str>(0).ok().and_then(CountyTag::from_code))
            .collect();
        tx.commit().await?;
        Ok(Some(RegisterSlice {
            version: app_core::reference::REGISTER_VERSION.to_string(),
            province,
            prefecture,
            county: county_row,
            townships,
            villages,
            tags,
        }))
    }

    async fn photo(&self, hash: &PhotoHash) -> Result<Option<PhotoRecord>> {
        let c = self.client().await?;
        c.query_opt(
            "SELECT sha256, length, received, complete, created_at FROM photos WHERE sha256 = $1",
            &[&&hash.as_bytes()[..]],
        )
        .await?
        .map(|r| photo_from_row(&r))
        .transpose()
    }

    async fn photo_start(
        &self,
        hash: &PhotoHash,
        length: u64,
        at: Timestamp,
    ) -> Result<PhotoStart> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let key = &hash.as_bytes()[..];
        let existing = tx
            .query_opt(
                "SELECT sha256, length, received, complete, created_at FROM photos
                 WHERE sha256 = $1 FOR UPDATE",
                &[&key],
            )
            .await?
            .map(|r| photo_from_row(&r))
            .transpose()?;
        let start = match existing {
            Some(p) if p.complete => PhotoStart::Complete(p),
            Some(p) if p.length == length => PhotoStart::Resumed(p),
            other => {
                tx.execute(
                    "INSERT INTO photos(sha256, length, received, complete, created_at)
                     VALUES ($1, $2, 0, false, $3)
                     ON CONFLICT (sha256) DO UPDATE SET length = excluded.length, received = 0,
                       created_at = excluded.created_at",
                    &[&key, &(length as i64), &at.as_millis()],
                )
                .await?;
                PhotoStart::Created {
                    restarted: other.is_some(),
                }
            }
        };
        tx.commit().await?;
        Ok(start)
    }

    async fn photo_advance(&self, hash: &PhotoHash, from: u64, to: u64) -> Result<bool> {
        let c = self.client().await?;
        let n = c
            .execute(
                "UPDATE photos SET received = $3
                 WHERE sha256 = $1 AND received = $2 AND NOT complete",
                &[&&hash.as_bytes()[..], &(from as i64), &(to as i64)],
            )
            .await?;
        Ok(n == 1)
    }

    async fn photo_complete(&self, hash: &PhotoHash) -> Result<()> {
        let c = self.client().await?;
        c.execute(
            "UPDATE photos SET complete = true, received = length WHERE sha256 = $1",
            &[&&hash.as_bytes()[..]],
        )
        .await?;
        Ok(())
    }

    async fn photo_discard(&self, hash: &PhotoHash) -> Result<()> {
        let c = self.client().await?;
        c.execute(
            "DELETE FROM photos WHERE sha256 = $1 AND NOT complete",
            &[&&hash.as_bytes()[..]],
        )
        .await?;
        Ok(())
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO audit(at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
            &[
                &entry.at.as_millis(),
                &entry.actor.map(|u| *u.as_uuid()),
                &entry.action,
                &entry.subject,
                &entry.detail.to_string(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let c = self.client().await?;
        c.query(
            "SELECT at, actor, action, subject, detail FROM audit ORDER BY id DESC LIMIT $1",
            &[&i64::from(limit)],
        )
        .await?
        .iter()
        .map(|r| {
            let detail: &str = r.try_get(4)?;
            Ok(AuditEntry {
                at: Timestamp::from_millis(r.try_get(0)?),
                actor: r.try_get::<_, Option<Uuid>>(1)?.map(UserId::from_uuid),
                action: r.try_get(2)?,
                subject: r.try_get(3)?,
                detail: serde_json::from_str(detail).unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
    }
}
