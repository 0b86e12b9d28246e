//! [`PostgresStore`]: the backend for deployments that outgrow one machine.
//!
//! The server stays stateless, so several instances can share one database
//! (and one photo directory on shared storage). Pushes run side by side
//! across instances: each takes transaction-scoped advisory locks only on
//! the counties, device and actors it touches ([`push_keys`]), so pushes in
//! different counties never wait for each other. A pull cannot then take
//! the highest committed `seq` as its high-water mark (a push holding a
//! lower `seq` may commit later); each push instead holds a *marker* lock
//! on a sequence number drawn before any of its own, and a pull's
//! high-water mark stops below the lowest marker held ([`HIGH_WATER_SQL`];
//! the argument is in ARCHITECTURE.md, "Several instances"). [`PUSH_LOCK`]
//! is shared by every push and taken exclusively by the few writers that
//! must see no push at all. Migrations take another advisory lock so that
//! instances starting together do not race.
//!
//! This module holds the SQL and how a PostgreSQL column becomes a value;
//! what is not SQL is shared with SQLite (see [`super`]).
//!
//! Connections come from a deadpool pool; no TLS (the database is expected
//! on a private network or the same host).

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use app_core::domain::{
    CountyCode, CountyTag, DeviceId, DivisionLevel, DocId, PhotoHash, Role, Scope, Team, TeamId,
    Timestamp, User, UserId,
};
use app_core::stats::{Area, Register, Report, StatsRequest};
use app_core::store::{RegisterSlice, migrate};
use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls, Row};
use uuid::Uuid;

use app_core::scope::Principal;
use app_core::sync::protocol::Notice;

use super::admin::{self as shared, OpenRow, ReleaseBackend, ReleaseWrites, RowVerdict};
use super::conflicts::{self, ActorSource, ConflictPage, ConflictRow};
use super::push::{self, PushBackend};
use super::rows::{self, AUDIT_COLUMNS, Columns, DEVICE_COLUMNS, DIVISION_COLUMNS, prefixed};
use super::rows::{PHOTO_COLUMNS, PLACEMENT_COLUMNS, TEAM_COLUMNS, USER_COLUMNS, scope_columns};
use super::{
    AuditEntry, AuditPage, AuditRecord, DevicePage, DeviceRecord, DeviceRow, DeviceSync,
    DivisionImport, DocumentChanges, NewDevice, PhotoRecord, PhotoStart, PullPage, PullQuery,
    PushResult, QuarantineEntry, QuarantinePage, QuarantineRow, Quarantined, ReleaseReport, Result,
    ServerStore, StoreError, StoreStats, TeamPage, UploadQuota, UploadsHeld, UserPage, UserRecord,
    UserRow, photo, pull, slice,
};
use crate::config::redact_url;
use crate::sync::{PushBatch, PushFetched, PushWrites, RecordFacts};

/// Numbered migrations, recorded in `schema_migrations`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/postgres/0001_init.sql"),
    include_str!("migrations/postgres/0002_admin.sql"),
    include_str!("migrations/postgres/0003_stats.sql"),
    include_str!("migrations/postgres/0004_conflicts.sql"),
    include_str!("migrations/postgres/0005_budget.sql"),
    include_str!("migrations/postgres/0006_photo_refs.sql"),
    include_str!("migrations/postgres/0007_packed_stats.sql"),
];

// The statistics projection's SQL and binary reader (issue 13).
#[path = "postgres_stats.rs"]
mod stats;

/// Advisory lock every push holds shared and the writers that must run
/// with no push in flight (replacing a device, discarding quarantined
/// changes, the statistics backfill) hold exclusively (`"KTPPUSH1"`).
pub const PUSH_LOCK: i64 = 0x4b54_5050_5553_4831;

/// Bit 47 of an advisory key: set for the region locks ([`push_keys`]),
/// clear for the markers, whose low 47 bits are a sequence number.
const REGION_BIT: i64 = 1 << 47;
/// Kinds of region lock, in bits 40..47 of the key.
const KEY_COUNTY: i64 = 1;
const KEY_DEVICE: i64 = 2;
const KEY_ACTOR: i64 = 3;
/// The low 40 bits of a region key hold the county code, or 40 bits of a
/// hash of the device's or actor's ID (two IDs sharing them only wait for
/// each other).
const KEY_VALUE: i64 = (1 << 40) - 1;

/// A pull's high-water mark, in two columns: `v`, the last sequence number
/// drawn (live, not from a snapshot), and the lowest marker held by a push
/// of this schema (`$1` is [`PostgresStore::space`]), read after `v`
/// (the correlated subquery runs once `v` has been read). The pull returns
/// rows up to `min(v, marker - 1)`.
const HIGH_WATER_SQL: &str = "SELECT s.v, (
        SELECT min(((l.classid::bigint - $1::bigint * 65536) << 32) | l.objid::bigint)
        FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND s.v IS NOT NULL
          AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
          AND l.classid::bigint BETWEEN $1::bigint * 65536 AND $1::bigint * 65536 + 32767)
    FROM (SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS v FROM changes_seq_seq) s";
/// Advisory lock serialising migrations (`"KTPMIGR1"`).
pub const MIGRATE_LOCK: i64 = 0x4b54_504d_4947_5231;

/// Rows per statement when importing the register.
const IMPORT_CHUNK: usize = 5_000;

/// The PostgreSQL backend.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    url: String,
    /// This schema's lock space: the top 16 bits of every push lock key,
    /// from the schema's name, so that schemas sharing a database (the
    /// test suite's) keep their markers apart.
    space: i64,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A push's write transaction on PostgreSQL: a pooled connection with
/// `BEGIN` issued, [`PUSH_LOCK`] shared and the push's region locks and
/// marker held. Dropped before it commits, the
/// connection leaves the pool and closes, which rolls the transaction back
/// and releases the lock.
pub struct WriteTx {
    client: Option<Object>,
}

impl WriteTx {
    fn client(&self) -> &Object {
        self.client
            .as_ref()
            .expect("a write transaction has its connection")
    }
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTx").finish_non_exhaustive()
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(Object::take(client));
        }
    }
}

fn pool_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Pool(e.to_string())
}

/// A unique violation as [`StoreError::Conflict`] on `what`.
fn conflict(what: String) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |e| {
        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            StoreError::Conflict(what)
        } else {
            e.into()
        }
    }
}

impl Columns for Row {
    rows::columns_by_getter!(try_get:
        uuid -> Uuid,
        opt_uuid -> Option<Uuid>,
        int -> i64,
        opt_int -> Option<i64>,
        text -> String,
        opt_text -> Option<String>,
        flag -> bool,
        bytes -> Vec<u8>,
        opt_bytes -> Option<Vec<u8>>,
    );
}

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Every row of `sql`, mapped.
async fn all<T>(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    map: fn(&dyn Columns) -> Result<T>,
) -> Result<Vec<T>> {
    let stmt = c.prepare_cached(sql).await?;
    c.query(&stmt, params)
        .await?
        .iter()
        .map(|r| map(r))
        .collect()
}

/// The row of `sql`, if any, mapped.
async fn first<T>(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    map: fn(&dyn Columns) -> Result<T>,
) -> Result<Option<T>> {
    let stmt = c.prepare_cached(sql).await?;
    c.query_opt(&stmt, params)
        .await?
        .as_ref()
        .map(|r| map(r))
        .transpose()
}

/// A read-only transaction on one snapshot.
async fn snapshot(client: &mut Object) -> Result<deadpool_postgres::Transaction<'_>> {
    Ok(client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?)
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
        let mut store = PostgresStore {
            pool,
            url: redact_url(url),
            space: 0,
        };
        store.migrate().await?;
        // 4096..=12287: clear of the other advisory keys' top bits.
        store.space = store
            .client()
            .await?
            .query_one(
                "SELECT (hashtext(current_schema()) & 8191)::bigint + 4096",
                &[],
            )
            .await?
            .try_get(0)?;
        Ok(store)
    }

    async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(pool_err)
    }

    /// Runs the migrations `schema_migrations` does not list yet, in one
    /// transaction under [`MIGRATE_LOCK`]; which ones is the decision the
    /// SQLite runner makes too ([`migrate::pending`]).
    async fn migrate(&self) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY)",
        )
        .await?;
        let found: i64 = tx
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .try_get(0)?;
        let current = u32::try_from(found).map_err(|_| StoreError::SchemaTooNew {
            found,
            supported: migrate::latest(MIGRATIONS).into(),
        })?;
        for (version, sql) in migrate::pending(current, MIGRATIONS)? {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations(version) VALUES ($1)",
                &[&i64::from(version)],
            )
            .await?;
            tracing::info!(version, "postgres schema migrated");
        }
        stats::backfill(&tx).await?;
        backfill_photo_refs(&tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn fetch_for_push(c: &impl GenericClient, batch: &PushBatch) -> Result<PushFetched> {
    let needs = batch.needs();
    let mut fetched = PushFetched::default();
    let docs: Vec<Uuid> = needs.docs.iter().map(|d| *d.as_uuid()).collect();
    let hashes: Vec<&[u8]> = needs.hashes.iter().map(|h| &h[..]).collect();
    let pair = |r: &dyn Columns| Ok((r.uuid(0)?, r.bytes(1)?));
    let mut counties: BTreeSet<CountyCode> = needs.counties.iter().copied().collect();
    for (doc, snapshot, county) in all(
        c,
        "SELECT doc_id, snapshot, county FROM documents WHERE doc_id = ANY($1)",
        &[&docs],
        |r| Ok((r.uuid(0)?, r.bytes(1)?, r.int(2)?)),
    )
    .await?
    {
        fetched.snapshots.insert(DocId::from_uuid(doc), snapshot);
        counties.extend(CountyCode::from_int(county as u64).ok());
    }
    for doc in all(
        c,
        "SELECT DISTINCT doc_id FROM quarantine
         WHERE device_id = $1 AND doc_id = ANY($2) AND released_at IS NULL",
        &[batch.device.as_uuid(), &docs],
        |r| r.uuid(0),
    )
    .await?
    {
        fetched.quarantined.insert(DocId::from_uuid(doc));
    }
    for (device, actor) in all(
        c,
        "SELECT device_id, actor FROM actors WHERE actor = ANY($1)",
        &[&needs.actors],
        pair,
    )
    .await?
    {
        fetched.actors.insert(actor, DeviceId::from_uuid(device));
    }
    for (doc, hash) in all(
        c,
        "SELECT doc_id, hash FROM changes WHERE hash = ANY($1)",
        &[&hashes],
        pair,
    )
    .await?
    {
        let hash: [u8; 32] = hash
            .try_into()
            .map_err(|_| StoreError::Corrupt("change hash".into()))?;
        fetched.hashes.insert(hash, DocId::from_uuid(doc));
    }
    fetched.quarantine_bytes = first(
        c,
        "SELECT coalesce(sum(octet_length(bytes)), 0)::bigint FROM quarantine
         WHERE device_id = $1 AND released_at IS NULL",
        &[batch.device.as_uuid()],
        |r| r.int(0),
    )
    .await?
    .unwrap_or(0) as u64;
    for county in counties {
        let code = county.as_int() as i64;
        let loaded = first(
            c,
            "SELECT 1::bigint FROM divisions WHERE level = $1 AND code = $2",
            &[&DivisionLevel::County.code(), &code],
            |r| r.int(0),
        )
        .await?
        .is_some();
        let villages = if loaded {
            let (lo, hi) = county.village_range();
            let codes = all(
                c,
                "SELECT code FROM divisions WHERE level = $1 AND code BETWEEN $2 AND $3",
                &[&DivisionLevel::Village.code(), &(lo as i64), &(hi as i64)],
                |r| r.int(0),
            )
            .await?;
            Some(codes.into_iter().map(|v| v as u64).collect())
        } else {
            None
        };
        fetched.register.insert(county, villages);
    }
    Ok(fetched)
}

async fn write_push(
    c: &impl GenericClient,
    device: DeviceId,
    writes: &PushWrites,
    at: Timestamp,
) -> Result<()> {
    let dev = *device.as_uuid();
    let now = at.as_millis();
    if !writes.bind_actors.is_empty() {
        c.execute(
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
        let conflicted: Vec<bool> = writes.docs.iter().map(|d| d.conflicted).collect();
        let params: [&(dyn ToSql + Sync); 9] = [
            &ids,
            &kinds,
            &authors,
            &teams,
            &counties,
            &snapshots,
            &heads,
            &now,
            &conflicted,
        ];
        let documents = c.execute(
            "INSERT INTO documents(doc_id, kind, author, team, county, snapshot, heads, last_seq,
                 updated_at, conflicts_since, conflicts_checked)
             SELECT d, k, a, t, c, s, h, 0, $8::bigint, CASE WHEN f THEN $8::bigint END, true
             FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::bigint[], $6::bytea[],
                         $7::bytea[], $9::bool[])
                  AS x(d, k, a, t, c, s, h, f)
             ON CONFLICT (doc_id) DO UPDATE SET kind = excluded.kind, author = excluded.author,
               team = excluded.team, county = excluded.county, snapshot = excluded.snapshot,
               heads = excluded.heads, updated_at = excluded.updated_at,
               conflicts_since = CASE WHEN excluded.conflicts_since IS NULL THEN NULL
                 ELSE coalesce(documents.conflicts_since, excluded.conflicts_since) END,
               conflicts_checked = true",
            &params,
        );
        // The statistics' rows go in the same round trip (pipelined).
        let facts: Vec<&RecordFacts> = writes.docs.iter().map(|d| &d.facts).collect();
        // The photos each record names, replacing what it named before.
        let ref_docs: Vec<Uuid> = writes
            .docs
            .iter()
            .flat_map(|d| d.photos.iter().map(|_| *d.doc.as_uuid()))
            .collect();
        let ref_hashes: Vec<&[u8]> = writes
            .docs
            .iter()
            .flat_map(|d| d.photos.iter().map(|p| &p.as_bytes()[..]))
            .collect();
        let refs = async {
            c.execute("DELETE FROM photo_refs WHERE doc_id = ANY($1)", &[&ids])
                .await?;
            if !ref_docs.is_empty() {
                c.execute(
                    "INSERT INTO photo_refs(sha256, doc_id)
                     SELECT s, d FROM unnest($1::bytea[], $2::uuid[]) AS x(s, d)",
                    &[&ref_hashes, &ref_docs],
                )
                .await?;
            }
            Ok::<_, tokio_postgres::Error>(())
        };
        let (written, projected, referenced) =
            tokio::join!(documents, stats::project(c, &facts), refs);
        written?;
        projected?;
        referenced?;
    }
    if !writes.changes.is_empty() {
        let docs: Vec<Uuid> = writes.changes.iter().map(|c| *c.0.as_uuid()).collect();
        let hashes: Vec<&[u8]> = writes.changes.iter().map(|c| &c.1[..]).collect();
        let bytes: Vec<&[u8]> = writes.changes.iter().map(|c| &c.2[..]).collect();
        // WITH ORDINALITY and ORDER BY keep the request order, so sequence
        // numbers follow dependency order within each document.
        c.execute(
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
        c.execute(
            "UPDATE documents d SET last_seq = m.seq
             FROM (SELECT doc_id, max(seq) AS seq FROM changes WHERE doc_id = ANY($1) GROUP BY doc_id) m
             WHERE d.doc_id = m.doc_id",
            &[&touched],
        )
        .await?;
    }
    for q in &writes.quarantine {
        let hash: Option<&[u8]> = q.hash.as_ref().map(|h| &h[..]);
        let length: Option<i64> = q.cut.map(|c| c.length as i64);
        let sha256: Option<&[u8]> = q.cut.as_ref().map(|c| &c.sha256[..]);
        c.execute(
            "INSERT INTO quarantine(device_id, doc_id, hash, bytes, code, reason, at, length, sha256)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &dev,
                q.doc.as_uuid(),
                &hash,
                &q.bytes,
                &q.code,
                &q.reason,
                &now,
                &length,
                &sha256,
            ],
        )
        .await?;
    }
    Ok(())
}

/// Documents stored before a projection existed, walked once for a
/// backfill that its migration asked for by leaving a row in a marker
/// table: inside the migration's transaction (so one instance does it,
/// once), holding the push lock (so no push writes while a stored document
/// is read), a page of documents at a time.
pub(super) struct Backfill<'t, 'c> {
    tx: &'t deadpool_postgres::Transaction<'c>,
    marker: &'static str,
    after: Uuid,
}

/// Documents read per page of a backfill.
const BACKFILL_PAGE: i64 = 500;

impl<'t, 'c> Backfill<'t, 'c> {
    /// The backfill `marker` (a table name) asks for, holding the push
    /// lock, or `None` when there is nothing to do.
    pub(super) async fn due(
        tx: &'t deadpool_postgres::Transaction<'c>,
        marker: &'static str,
    ) -> Result<Option<Backfill<'t, 'c>>> {
        if tx
            .query_opt(&format!("SELECT 1 FROM {marker} LIMIT 1"), &[])
            .await?
            .is_none()
        {
            return Ok(None);
        }
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PUSH_LOCK])
            .await?;
        Ok(Some(Backfill {
            tx,
            marker,
            after: Uuid::nil(),
        }))
    }

    /// What `read` makes of each document of the next page (Automerge's
    /// work, so off the async threads), or `None` after the last page.
    pub(super) async fn next<T: Send + 'static>(
        &mut self,
        read: fn(DocId, &[u8]) -> Vec<T>,
    ) -> Result<Option<Vec<T>>> {
        let page = all(
            self.tx,
            "SELECT doc_id, snapshot FROM documents WHERE doc_id > $1 ORDER BY doc_id LIMIT $2",
            &[&self.after, &BACKFILL_PAGE],
            |r| Ok((r.uuid(0)?, r.bytes(1)?)),
        )
        .await?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        self.after = last.0;
        let read = tokio::task::spawn_blocking(move || {
            page.iter()
                .flat_map(|(doc, snapshot)| read(DocId::from_uuid(*doc), snapshot))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        Ok(Some(read))
    }

    /// Marks the backfill done.
    pub(super) async fn done(self) -> Result<()> {
        self.tx
            .execute(&format!("DELETE FROM {}", self.marker), &[])
            .await?;
        Ok(())
    }
}

/// Lists the photos of the documents stored before `photo_refs` existed,
/// if the migration left that to do ([`Backfill`]).
async fn backfill_photo_refs(tx: &deadpool_postgres::Transaction<'_>) -> Result<()> {
    let Some(mut walk) = Backfill::due(tx, "photo_refs_backfill").await? else {
        return Ok(());
    };
    let mut n = 0usize;
    while let Some(refs) = walk
        .next(|doc, snapshot| {
            photo::photos_of_snapshot(doc, snapshot)
                .unwrap_or_default()
                .into_iter()
                .map(|p| (p.as_bytes().to_vec(), *doc.as_uuid()))
                .collect()
        })
        .await?
    {
        n += refs.len();
        let hashes: Vec<&[u8]> = refs.iter().map(|r| &r.0[..]).collect();
        let docs: Vec<Uuid> = refs.iter().map(|r| r.1).collect();
        tx.execute(
            "INSERT INTO photo_refs(sha256, doc_id)
             SELECT s, d FROM unnest($1::bytea[], $2::uuid[]) AS x(s, d)
             ON CONFLICT DO NOTHING",
            &[&hashes, &docs],
        )
        .await?;
    }
    walk.done().await?;
    tracing::info!(references = n, "photo references backfilled");
    Ok(())
}

async fn photo_row(
    c: &impl GenericClient,
    hash: &PhotoHash,
    lock: bool,
) -> Result<Option<PhotoRecord>> {
    let sql = format!(
        "SELECT {PHOTO_COLUMNS} FROM photos WHERE sha256 = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    first(c, &sql, &[&&hash.as_bytes()[..]], rows::photo).await
}

/// The counties where `docs` are stored now.
async fn stored_counties(c: &impl GenericClient, docs: &[Uuid]) -> Result<Vec<i64>> {
    all(
        c,
        "SELECT DISTINCT county FROM documents WHERE doc_id = ANY($1)",
        &[&docs],
        |r| r.int(0),
    )
    .await
}

/// The region locks of a push in `space`, sorted: every county whose
/// documents or register it reads or writes, its device (its quarantine and
/// budget) and its actors (their bindings). Two pushes that could plan on
/// the same rows share at least one key.
fn push_keys(
    space: i64,
    counties: &BTreeSet<i64>,
    device: DeviceId,
    actors: &[Vec<u8>],
) -> BTreeSet<i64> {
    let key =
        |kind: i64, value: i64| (space << 48) | REGION_BIT | (kind << 40) | (value & KEY_VALUE);
    // FNV-1a over every byte: device IDs are UUIDv7, whose first bytes are
    // the time they were made, shared by devices enrolled together.
    let low40 = |bytes: &[u8]| {
        let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
        (h & KEY_VALUE as u64) as i64
    };
    let mut keys: BTreeSet<i64> = counties.iter().map(|c| key(KEY_COUNTY, *c)).collect();
    keys.insert(key(KEY_DEVICE, low40(device.as_uuid().as_bytes())));
    keys.extend(actors.iter().map(|a| key(KEY_ACTOR, low40(a))));
    keys
}

impl PushBackend for PostgresStore {
    type Tx = WriteTx;

    async fn fetch(&self, batch: Arc<PushBatch>) -> Result<PushFetched> {
        // Before the push lock, beside other pushes (and other server
        // instances).
        let mut client = self.client().await?;
        let tx = snapshot(&mut client).await?;
        let fetched = fetch_for_push(&tx, &batch).await?;
        tx.commit().await?;
        Ok(fetched)
    }

    async fn begin(&self, batch: Arc<PushBatch>) -> Result<(WriteTx, PushFetched)> {
        let tx = WriteTx {
            client: Some(self.client().await?),
        };
        let c = tx.client();
        c.batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock_shared({PUSH_LOCK})"
        ))
        .await?;
        let needs = batch.needs();
        let docs: Vec<Uuid> = needs.docs.iter().map(|d| *d.as_uuid()).collect();
        let mut counties: BTreeSet<i64> =
            needs.counties.iter().map(|c| c.as_int() as i64).collect();
        let mut held: BTreeSet<i64> = BTreeSet::new();
        loop {
            counties.extend(stored_counties(c, &docs).await?);
            let keys = push_keys(self.space, &counties, batch.device, &needs.actors);
            let new: Vec<i64> = keys.difference(&held).copied().collect();
            if new.is_empty() {
                break;
            }
            // In ascending order, as every push takes them: no deadlock.
            // A document moved to another county while we waited adds its
            // new county on the next round.
            c.execute(
                "SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k",
                &[&new],
            )
            .await?;
            held.extend(new);
        }
        // The marker: drawn before any sequence number of this push's
        // changes and held until it commits.
        c.execute(
            "SELECT pg_advisory_xact_lock($1::bigint | nextval('changes_seq_seq'))",
            &[&(self.space << 48)],
        )
        .await?;
        let fetched = fetch_for_push(c, &batch).await?;
        Ok((tx, fetched))
    }

    async fn commit(
        &self,
        mut tx: WriteTx,
        device: DeviceId,
        writes: PushWrites,
        at: Timestamp,
    ) -> Result<()> {
        let c = tx.client();
        write_push(c, device, &writes, at).await?;
        c.batch_execute("COMMIT").await?;
        // Committed: the connection goes back to the pool.
        drop(tx.client.take());
        Ok(())
    }
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
        Ok(StoreStats {
            users: r.count(0)?,
            devices: r.count(1)?,
            documents: r.count(2)?,
            changes: r.count(3)?,
            quarantined: r.count(4)?,
            photos: r.count(5)?,
            divisions: r.count(6)?,
        })
    }

    async fn create_team(&self, team: &Team, at: Timestamp) -> Result<()> {
        self.client()
            .await?
            .execute(
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
            .map_err(conflict(format!("team {}", team.id)))?;
        Ok(())
    }

    async fn set_team_lead(&self, team: TeamId, lead: Option<UserId>) -> Result<()> {
        let n = self
            .client()
            .await?
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

    async fn team(&self, team: TeamId) -> Result<Option<Team>> {
        let sql = format!("SELECT {TEAM_COLUMNS} FROM teams WHERE id = $1");
        first(&self.client().await?, &sql, &[team.as_uuid()], rows::team).await
    }

    async fn teams(&self) -> Result<Vec<Team>> {
        let sql = format!("SELECT {TEAM_COLUMNS} FROM teams ORDER BY name");
        all(&self.client().await?, &sql, &[], rows::team).await
    }

    async fn create_user(
        &self,
        user: &User,
        password_hash: &str,
        must_change: bool,
        at: Timestamp,
    ) -> Result<()> {
        let (level, code) = scope_columns(&user.scope);
        self.client()
            .await?
            .execute(
                "INSERT INTO users(id, username, display_name, role, scope_level, scope_code, team,
                                   active, password_hash, must_change_password, scope_epoch,
                                   created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $11, 1, $10)",
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
                    &must_change,
                ],
            )
            .await
            .map_err(conflict(format!("user {}", user.username)))?;
        Ok(())
    }

    async fn set_user_scope(
        &self,
        user: UserId,
        role: Role,
        scope: Scope,
        team: Option<TeamId>,
    ) -> Result<()> {
        let (level, code) = scope_columns(&scope);
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE users SET role = $2, scope_level = $3, scope_code = $4, team = $5,
                                  scope_epoch = scope_epoch + 1
                 WHERE id = $1",
                &[
                    user.as_uuid(),
                    &role.code(),
                    &level,
                    &code,
                    &team.map(|t| *t.as_uuid()),
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Missing(format!("user {user}")));
        }
        Ok(())
    }

    async fn user(&self, user: UserId) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        first(&self.client().await?, &sql, &[user.as_uuid()], rows::user).await
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        first(&self.client().await?, &sql, &[&username], rows::user).await
    }

    async fn users(&self) -> Result<Vec<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        all(&self.client().await?, &sql, &[], rows::user).await
    }

    async fn create_device(&self, device: &NewDevice) -> Result<()> {
        let r = &device.record;
        self.client()
            .await?
            .execute(
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
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE token_sha256 = $1");
        let digest = &token_sha256[..];
        first(&self.client().await?, &sql, &[&digest], rows::device).await
    }

    async fn device(&self, device: DeviceId) -> Result<Option<DeviceRecord>> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE id = $1");
        first(
            &self.client().await?,
            &sql,
            &[device.as_uuid()],
            rows::device,
        )
        .await
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM devices ORDER BY created_at");
        all(&self.client().await?, &sql, &[], rows::device).await
    }

    async fn touch_device(&self, device: DeviceId, at: Timestamp) -> Result<()> {
        self.client()
            .await?
            .execute(
                "UPDATE devices SET last_seen_at = greatest(last_seen_at, $2) WHERE id = $1",
                &[device.as_uuid(), &at.as_millis()],
            )
            .await?;
        Ok(())
    }

    async fn revoke_device(&self, device: DeviceId, at: Timestamp) -> Result<bool> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[device.as_uuid(), &at.as_millis()],
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
        // Its unfinished photo uploads are the new device's to resume.
        tx.execute(
            "UPDATE photos SET uploader = $2 WHERE uploader = $1 AND NOT complete",
            &[old.as_uuid(), new.as_uuid()],
        )
        .await?;
        tx.execute(
            "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[old.as_uuid(), &at.as_millis()],
        )
        .await?;
        // Notices not collected yet go to the device that holds the
        // changes now.
        tx.execute(
            "UPDATE device_notices SET device_id = $2 WHERE device_id = $1 AND acked_at IS NULL",
            &[old.as_uuid(), new.as_uuid()],
        )
        .await?;
        for d in [old, new] {
            recount_notices(&tx, d).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn push(&self, batch: PushBatch, at: Timestamp) -> Result<PushResult> {
        push::push(self, batch, at).await
    }

    async fn pull(&self, query: &PullQuery) -> Result<PullPage> {
        let c = self.client().await?;
        // Every change up to `v` was drawn before `v` was read, by a push
        // that then held its marker (lower than its changes) until it
        // committed: below the lowest marker held, all are committed, and
        // the next statement's snapshot sees them.
        let mark = c.prepare_cached(HIGH_WATER_SQL).await?;
        let row = c.query_one(&mark, &[&self.space]).await?;
        let drawn: i64 = row.try_get(0)?;
        let marker: Option<i64> = row.try_get(1)?;
        let safe = marker.map_or(drawn, |m| drawn.min(m - 1));
        // A cursor past `drawn` comes from another database (the route
        // starts over); one between `safe` and `drawn` was safe when it was
        // given and waits where it is.
        let high_water = if query.after > drawn {
            drawn
        } else {
            safe.max(query.after)
        };
        let f = pull::ReadFilter::of(&query.principal);
        let stmt = c
            .prepare_cached(
                "SELECT c.seq, c.doc_id, c.bytes FROM changes c
                 JOIN documents d ON d.doc_id = c.doc_id
                 WHERE c.seq > $1 AND c.seq <= $2 AND c.device_id <> $3
                   AND (d.author = $4 OR d.team = $5 OR d.county BETWEEN $6 AND $7)
                 ORDER BY c.seq LIMIT $8",
            )
            .await?;
        let found = c
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
                    &pull::rows_for(query.limit),
                ],
            )
            .await?;
        pull::cut_page(
            found.iter().map(|r| rows::change(r)),
            query.limit,
            high_water,
        )
    }

    async fn document(&self, doc: DocId) -> Result<Option<DocumentChanges>> {
        let mut client = self.client().await?;
        let tx = snapshot(&mut client).await?;
        let sql = format!("SELECT {PLACEMENT_COLUMNS} FROM documents WHERE doc_id = $1");
        let Some(placement) = first(&tx, &sql, &[doc.as_uuid()], rows::placement).await? else {
            return Ok(None);
        };
        let changes = all(
            &tx,
            "SELECT seq, doc_id, bytes FROM changes WHERE doc_id = $1 ORDER BY seq",
            &[doc.as_uuid()],
            rows::change,
        )
        .await?;
        tx.commit().await?;
        Ok(Some(DocumentChanges { placement, changes }))
    }

    async fn import_divisions(&self, rows: Vec<DivisionImport>) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut n = 0;
        for chunk in rows.chunks(IMPORT_CHUNK) {
            let levels: Vec<&str> = chunk.iter().map(|r| r.level.code()).collect();
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
        let counties: Vec<i64> = tags.iter().map(|t| t.0.as_int() as i64).collect();
        let codes: Vec<&str> = tags.iter().map(|t| t.1.code()).collect();
        let sources: Vec<&str> = tags.iter().map(|t| t.2.as_str()).collect();
        Ok(self
            .client()
            .await?
            .execute(
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
        let tx = snapshot(&mut client).await?;
        let sql = format!(
            "SELECT {DIVISION_COLUMNS} FROM divisions
             WHERE level = $1 AND code BETWEEN $2 AND $3 ORDER BY code"
        );
        let mut divisions = Vec::new();
        for (level, lo, hi) in slice::queries(county) {
            let (lo, hi) = (lo as i64, hi as i64);
            divisions.push(all(&tx, &sql, &[&level.code(), &lo, &hi], rows::division).await?);
        }
        let tags = all(
            &tx,
            "SELECT tag FROM county_tags WHERE county = $1 ORDER BY tag",
            &[&(county.as_int() as i64)],
            |r| r.text(0),
        )
        .await?;
        tx.commit().await?;
        Ok(slice::assemble(county, divisions, &tags))
    }

    async fn photo(&self, hash: &PhotoHash) -> Result<Option<PhotoRecord>> {
        photo_row(&self.client().await?, hash, false).await
    }

    async fn photo_start(
        &self,
        hash: &PhotoHash,
        length: u64,
        at: Timestamp,
        device: DeviceId,
        quota: UploadQuota,
    ) -> Result<PhotoStart> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let mut start = PhotoStart::decide(photo_row(&tx, hash, true).await?, length, device, at);
        if start.writes_fresh_row() {
            // One user's announcements one at a time, so that two at once
            // cannot both fit under the quota that only one fits.
            tx.execute(
                "SELECT 1 FROM users WHERE id = (SELECT user_id FROM devices WHERE id = $1)
                 FOR UPDATE",
                &[device.as_uuid()],
            )
            .await?;
            let since = PhotoStart::alive_since(at).as_millis();
            let row = tx
                .query_one(
                    "SELECT coalesce(sum(CASE WHEN p.uploader = $2 THEN p.length END), 0)::bigint,
                            coalesce(sum(p.length), 0)::bigint
                     FROM photos p JOIN devices d ON d.id = p.uploader
                     WHERE NOT p.complete AND p.sha256 <> $1 AND p.created_at >= $3
                       AND d.user_id = (SELECT user_id FROM devices WHERE id = $2)",
                    &[&&hash.as_bytes()[..], device.as_uuid(), &since],
                )
                .await?;
            let held = UploadsHeld {
                device: row.try_get::<_, i64>(0)? as u64,
                user: row.try_get::<_, i64>(1)? as u64,
            };
            start = start.within_quota(length, held, quota);
        }
        if start.writes_fresh_row() {
            tx.execute(
                "INSERT INTO photos(sha256, length, received, complete, created_at, uploader)
                 VALUES ($1, $2, 0, false, $3, $4)
                 ON CONFLICT (sha256) DO UPDATE SET length = excluded.length, received = 0,
                   created_at = excluded.created_at, uploader = excluded.uploader",
                &[
                    &&hash.as_bytes()[..],
                    &(length as i64),
                    &at.as_millis(),
                    device.as_uuid(),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(start)
    }

    async fn photo_readable(
        &self,
        hash: &PhotoHash,
        principal: &Principal,
        device: DeviceId,
    ) -> Result<bool> {
        let f = pull::ReadFilter::of(principal);
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM photos WHERE sha256 = $1 AND uploader = $2)
                     OR EXISTS (SELECT 1 FROM photo_refs r JOIN documents d ON d.doc_id = r.doc_id
                                WHERE r.sha256 = $1
                                  AND (d.author = $3 OR d.team = $4 OR d.county BETWEEN $5 AND $6))",
            )
            .await?;
        let row = c
            .query_one(
                &stmt,
                &[
                    &&hash.as_bytes()[..],
                    device.as_uuid(),
                    &f.user,
                    &f.team,
                    &f.county_lo,
                    &f.county_hi,
                ],
            )
            .await?;
        Ok(row.try_get(0)?)
    }

    async fn photo_sweep(&self, before: Timestamp) -> Result<Vec<PhotoHash>> {
        let rows = self
            .client()
            .await?
            .query(
                "DELETE FROM photos WHERE NOT complete AND created_at <= $1 RETURNING sha256",
                &[&before.as_millis()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let h: &[u8] = r.try_get(0)?;
                <[u8; 32]>::try_from(h)
                    .map(PhotoHash::from_bytes)
                    .map_err(|_| StoreError::Corrupt("photos.sha256".into()))
            })
            .collect()
    }

    async fn photo_advance(&self, hash: &PhotoHash, from: u64, to: u64) -> Result<bool> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE photos SET received = $3
                 WHERE sha256 = $1 AND received = $2 AND NOT complete",
                &[&&hash.as_bytes()[..], &(from as i64), &(to as i64)],
            )
            .await?;
        Ok(n == 1)
    }

    async fn photo_complete(&self, hash: &PhotoHash) -> Result<()> {
        self.client()
            .await?
            .execute(
                "UPDATE photos SET complete = true, received = length WHERE sha256 = $1",
                &[&&hash.as_bytes()[..]],
            )
            .await?;
        Ok(())
    }

    async fn photo_discard(&self, hash: &PhotoHash) -> Result<()> {
        self.client()
            .await?
            .execute(
                "DELETE FROM photos WHERE sha256 = $1 AND NOT complete",
                &[&&hash.as_bytes()[..]],
            )
            .await?;
        Ok(())
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<()> {
        insert_audit(&self.client().await?, entry).await
    }

    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit ORDER BY id DESC LIMIT $1");
        all(
            &self.client().await?,
            &sql,
            &[&i64::from(limit)],
            rows::audit,
        )
        .await
    }

    // ==== the sync admin's console ====

    async fn set_user_active(&self, user: UserId, active: bool) -> Result<bool> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE users SET active = $2 WHERE id = $1",
                &[user.as_uuid(), &active],
            )
            .await?;
        Ok(n > 0)
    }

    async fn set_user_password(&self, user: UserId, hash: &str, must_change: bool) -> Result<()> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE users SET password_hash = $2, must_change_password = $3 WHERE id = $1",
                &[user.as_uuid(), &hash, &must_change],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Missing(format!("user {user}")));
        }
        Ok(())
    }

    async fn user_page(&self, q: &UserPage) -> Result<Vec<UserRow>> {
        let sql = format!(
            "SELECT {}, t.name, h.county, h.province
             FROM users u JOIN user_homes h ON h.user_id = u.id LEFT JOIN teams t ON t.id = u.team
             WHERE ($1::bigint IS NULL OR h.county = $1) AND ($2::bigint IS NULL OR h.province = $2)
               AND ($3::uuid IS NULL OR u.id = $3) AND ($4::uuid IS NULL OR u.team = $4)
               AND ($5::bigint IS NULL OR h.county = $5) AND ($6::text IS NULL OR u.role = $6)
               AND ($7::boolean IS NULL OR u.active = $7)
               AND ($8::text IS NULL OR lower(u.username) LIKE $8 ESCAPE '\\'
                    OR lower(u.display_name) LIKE $8 ESCAPE '\\')
               AND ($9::text IS NULL OR u.username COLLATE \"C\" > $9)
             ORDER BY u.username COLLATE \"C\" LIMIT $10",
            prefixed(USER_COLUMNS, "u")
        );
        all(
            &self.client().await?,
            &sql,
            &[
                &q.area.county_int(),
                &q.area.province_int(),
                &q.user.map(|u| *u.as_uuid()),
                &q.team.map(|t| *t.as_uuid()),
                &q.county.map(|c| c.as_int() as i64),
                &q.role.map(|r| r.code()),
                &q.active,
                &q.text,
                &q.after,
                &i64::from(q.limit),
            ],
            shared::user_row,
        )
        .await
    }

    async fn team_page(&self, q: &TeamPage) -> Result<Vec<(Team, u64)>> {
        let sql = format!(
            "SELECT {}, (SELECT count(*) FROM users m WHERE m.team = t.id) FROM teams t
             WHERE ($1::bigint IS NULL OR t.county = $1) AND ($2::bigint IS NULL OR t.county / 10000 = $2)
               AND ($3::bigint IS NULL OR t.county = $3) AND ($4::uuid IS NULL OR t.id > $4)
             ORDER BY t.id LIMIT $5",
            prefixed(TEAM_COLUMNS, "t")
        );
        all(
            &self.client().await?,
            &sql,
            &[
                &q.area.county_int(),
                &q.area.province_int(),
                &q.county.map(|c| c.as_int() as i64),
                &q.after.map(|t| *t.as_uuid()),
                &i64::from(q.limit),
            ],
            shared::team_with_members,
        )
        .await
    }

    async fn device_page(&self, q: &DevicePage) -> Result<Vec<DeviceRow>> {
        let sql = format!(
            "SELECT {}, u.username, u.display_name
             FROM devices d JOIN users u ON u.id = d.user_id JOIN user_homes h ON h.user_id = d.user_id
             WHERE ($1::bigint IS NULL OR h.county = $1) AND ($2::bigint IS NULL OR h.province = $2)
               AND ($3::uuid IS NULL OR d.id = $3) AND ($4::uuid IS NULL OR d.user_id = $4)
               AND ($5::uuid IS NULL OR u.team = $5)
               AND ($6::boolean IS NULL OR (d.revoked_at IS NOT NULL) = $6)
               AND ((NOT $7::boolean AND NOT $8::boolean)
                    OR (d.revoked_at IS NULL
                        AND (($7 AND d.last_seen_at < $9) OR ($8 AND d.backlog_growing))))
               AND ($10::uuid IS NULL OR d.id > $10)
             ORDER BY d.id LIMIT $11",
            prefixed(DEVICE_COLUMNS, "d")
        );
        all(
            &self.client().await?,
            &sql,
            &[
                &q.area.county_int(),
                &q.area.province_int(),
                &q.device.map(|d| *d.as_uuid()),
                &q.user.map(|u| *u.as_uuid()),
                &q.team.map(|t| *t.as_uuid()),
                &q.revoked,
                &q.flag_silent,
                &q.flag_backlog,
                &q.silent_before.as_millis(),
                &q.after.map(|d| *d.as_uuid()),
                &i64::from(q.limit),
            ],
            shared::device_row,
        )
        .await
    }

    async fn record_sync(&self, device: DeviceId, sync: &DeviceSync, at: Timestamp) -> Result<()> {
        let b = sync.backlog.as_ref();
        self.client()
            .await?
            .execute(
                "UPDATE devices SET app_version = $2, last_push_at = $3, last_pull_at = $4,
                   outbox_changes = $5, outbox_oldest_at = $6, reported_at = $7, backlog_rises = $8,
                   backlog_growing = $9, last_seen_at = greatest(last_seen_at, $10)
                 WHERE id = $1",
                &[
                    device.as_uuid(),
                    &sync.app_version,
                    &sync.last_push_at.map(Timestamp::as_millis),
                    &sync.last_pull_at.map(Timestamp::as_millis),
                    &b.map(|b| b.changes as i64),
                    &b.and_then(|b| b.oldest_at).map(Timestamp::as_millis),
                    &b.map(|b| b.reported_at.as_millis()),
                    &b.map_or(0, |b| i64::from(b.rises)),
                    &b.is_some_and(|b| b.growing),
                    &at.as_millis(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn quarantine_page(&self, q: &QuarantinePage) -> Result<Vec<QuarantineRow>> {
        let mut client = self.client().await?;
        let tx = snapshot(&mut client).await?;
        let filter = shared::quarantine_filter([
            "$1::bigint",
            "$2::bigint",
            "$3::text",
            "$4::uuid",
            "$5::uuid",
            "$6::uuid",
            "$7::text",
            "$8::bigint",
            "$9::bigint",
        ]);
        let (county, province, state) =
            (q.area.county_int(), q.area.province_int(), q.state_code());
        let device = q.device.map(|d| *d.as_uuid());
        let user = q.user.map(|u| *u.as_uuid());
        let doc = q.doc.map(|d| *d.as_uuid());
        let (since, until) = (
            q.since.map(Timestamp::as_millis),
            q.until.map(Timestamp::as_millis),
        );
        let filters: [&(dyn ToSql + Sync); 9] = [
            &county, &province, &state, &device, &user, &doc, &q.code, &since, &until,
        ];
        let groups_sql = format!(
            "SELECT q.device_id, q.doc_id, max(q.id) AS k
             FROM quarantine q JOIN devices d ON d.id = q.device_id
               JOIN user_homes h ON h.user_id = d.user_id
             WHERE {filter}
             GROUP BY q.device_id, q.doc_id HAVING ($10::bigint IS NULL OR max(q.id) < $10)
             ORDER BY k DESC LIMIT $11"
        );
        let limit = i64::from(q.limit);
        let mut p: Vec<&(dyn ToSql + Sync)> = filters.to_vec();
        p.push(&q.before);
        p.push(&limit);
        let groups = all(&tx, &groups_sql, &p, |r| {
            Ok((r.uuid(0)?, r.uuid(1)?, r.int(2)?))
        })
        .await?;
        let rows_sql = format!(
            "SELECT {} FROM quarantine q JOIN devices d ON d.id = q.device_id
               JOIN users u ON u.id = d.user_id JOIN user_homes h ON h.user_id = d.user_id
               LEFT JOIN documents doc ON doc.doc_id = q.doc_id
             WHERE {filter} AND q.device_id = $10 AND q.doc_id = $11 ORDER BY q.id",
            shared::quarantine_row_columns("coalesce(q.length, octet_length(q.bytes))::bigint")
        );
        let mut out = Vec::new();
        for (device, doc, key) in groups {
            let mut p: Vec<&(dyn ToSql + Sync)> = filters.to_vec();
            p.push(&device);
            p.push(&doc);
            let mut rows = all(&tx, &rows_sql, &p, shared::quarantine_row).await?;
            for r in &mut rows {
                r.key = key;
            }
            out.extend(rows);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn quarantined(&self, device: DeviceId, doc: DocId) -> Result<Quarantined> {
        let mut client = self.client().await?;
        let tx = snapshot(&mut client).await?;
        let snapshot = first(
            &tx,
            "SELECT snapshot FROM documents WHERE doc_id = $1",
            &[doc.as_uuid()],
            |r| r.bytes(0),
        )
        .await?;
        let rows = all(
            &tx,
            "SELECT id, bytes FROM quarantine WHERE device_id = $1 AND doc_id = $2 ORDER BY id",
            &[device.as_uuid(), doc.as_uuid()],
            |r| Ok((r.int(0)?, r.bytes(1)?)),
        )
        .await?;
        tx.commit().await?;
        Ok(Quarantined { snapshot, rows })
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
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // In turn with pushes, which read the quarantine under this lock.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PUSH_LOCK])
            .await?;
        let sql = format!(
            "SELECT {} FROM quarantine q JOIN devices d ON d.id = q.device_id
             WHERE q.device_id = $1 AND q.doc_id = $2 AND q.released_at IS NULL ORDER BY q.id",
            shared::quarantine_entry_columns("coalesce(q.length, octet_length(q.bytes))::bigint")
        );
        let entries = all(
            &tx,
            &sql,
            &[device.as_uuid(), doc.as_uuid()],
            rows::quarantine,
        )
        .await?;
        let now = at.as_millis();
        tx.execute(
            "INSERT INTO device_notices(device_id, doc_id, hash, kind, code, reason, at)
             SELECT device_id, doc_id, hash, 'discarded', 'discarded', $3, $4
             FROM quarantine WHERE device_id = $1 AND doc_id = $2 AND released_at IS NULL
             ORDER BY id",
            &[device.as_uuid(), doc.as_uuid(), &reason, &now],
        )
        .await?;
        tx.execute(
            "UPDATE quarantine SET released_at = $3, discarded_at = $3, discard_reason = $4,
               resolved_by = $5
             WHERE device_id = $1 AND doc_id = $2 AND released_at IS NULL",
            &[
                device.as_uuid(),
                doc.as_uuid(),
                &now,
                &reason,
                &by.map(|u| *u.as_uuid()),
            ],
        )
        .await?;
        recount_notices(&tx, device).await?;
        tx.commit().await?;
        Ok(entries)
    }

    async fn notices(&self, device: DeviceId) -> Result<Vec<Notice>> {
        let sql = format!(
            "SELECT {} FROM device_notices WHERE device_id = $1 AND acked_at IS NULL ORDER BY id",
            shared::NOTICE_COLUMNS
        );
        all(
            &self.client().await?,
            &sql,
            &[device.as_uuid()],
            shared::notice,
        )
        .await
    }

    async fn ack_notices(&self, device: DeviceId, up_to: i64, at: Timestamp) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "UPDATE device_notices SET acked_at = $3
                 WHERE device_id = $1 AND id <= $2 AND acked_at IS NULL",
                &[device.as_uuid(), &up_to, &at.as_millis()],
            )
            .await?;
        recount_notices(&tx, device).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn audit_page(&self, q: &AuditPage) -> Result<Vec<AuditRecord>> {
        let sql = format!(
            "SELECT a.id, {}, u.username FROM audit a LEFT JOIN users u ON u.id = a.actor
             WHERE ($1::bigint IS NULL OR a.county = $1) AND ($2::bigint IS NULL OR a.province = $2)
               AND ($3::uuid IS NULL OR a.actor = $3) AND ($4::text IS NULL OR a.action = $4)
               AND ($5::text IS NULL OR a.action LIKE $5 ESCAPE '\\')
               AND ($6::text IS NULL OR a.subject = $6)
               AND ($7::bigint IS NULL OR a.at >= $7) AND ($8::bigint IS NULL OR a.at < $8)
               AND ($9::bigint IS NULL OR a.id < $9)
             ORDER BY a.id DESC LIMIT $10",
            prefixed(AUDIT_COLUMNS, "a")
        );
        all(
            &self.client().await?,
            &sql,
            &[
                &q.area.county_int(),
                &q.area.province_int(),
                &q.actor.map(|u| *u.as_uuid()),
                &q.action,
                &q.action_like,
                &q.subject,
                &q.since.map(Timestamp::as_millis),
                &q.until.map(Timestamp::as_millis),
                &q.before,
                &i64::from(q.limit),
            ],
            shared::audit_record,
        )
        .await
    }

    // ---- statistics (issue 13) ----

    async fn stats_report(
        &self,
        request: &StatsRequest,
        register: Option<Arc<Register>>,
    ) -> Result<Report> {
        self.report(request, register).await
    }

    async fn stats_register(&self, area: Option<Area>) -> Result<Register> {
        stats::register(&self.client().await?, area).await
    }

    async fn tagged_counties(&self, tags: &[CountyTag]) -> Result<Vec<CountyCode>> {
        stats::tagged(&self.client().await?, tags).await
    }

    async fn project(&self, facts: Vec<RecordFacts>) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        stats::project(&tx, &facts.iter().collect::<Vec<_>>()).await?;
        tx.commit().await?;
        Ok(facts.len() as u64)
    }

    async fn projected(&self) -> Result<(u64, u64)> {
        stats::counts(&self.client().await?).await
    }

    async fn conflict_page(&self, q: &ConflictPage) -> Result<Vec<ConflictRow>> {
        let filter = conflicts::conflict_filter([
            "$1::bigint",
            "$2::bigint",
            "$3::bigint",
            "$4::uuid",
            "$5::text",
            "$6::bigint",
            "$7::bigint",
            "$8::uuid",
        ]);
        let sql = format!(
            "SELECT {} FROM {} WHERE {filter}
             ORDER BY d.conflicts_since, d.doc_id LIMIT $9",
            conflicts::CONFLICT_COLUMNS,
            conflicts::CONFLICT_FROM
        );
        all(
            &self.client().await?,
            &sql,
            &[
                &q.area.county_int(),
                &q.area.province_int(),
                &q.county.map(|c| c.as_int() as i64),
                &q.team.map(|t| *t.as_uuid()),
                &q.kind.map(|k| k.code()),
                &q.before.map(Timestamp::as_millis),
                &q.after.map(|(at, _)| at.as_millis()),
                &q.after.map(|(_, d)| *d.as_uuid()),
                &i64::from(q.limit),
            ],
            conflicts::conflict_row,
        )
        .await
    }

    async fn actor_sources(&self, actors: Vec<Vec<u8>>) -> Result<Vec<ActorSource>> {
        all(
            &self.client().await?,
            &format!(
                "SELECT {} FROM actors a JOIN devices d ON d.id = a.device_id
                   JOIN users u ON u.id = d.user_id WHERE a.actor = ANY($1::bytea[])",
                conflicts::ACTOR_COLUMNS
            ),
            &[&actors],
            conflicts::actor_source,
        )
        .await
    }

    async fn village_names(&self, codes: Vec<u64>) -> Result<Vec<(u64, String)>> {
        let codes: Vec<i64> = codes.into_iter().map(|c| c as i64).collect();
        all(
            &self.client().await?,
            "SELECT code, name FROM divisions WHERE level = $1 AND code = ANY($2::bigint[])",
            &[&app_core::domain::DivisionLevel::Village.code(), &codes],
            |r| Ok((r.count(0)?, r.text(1)?)),
        )
        .await
    }

    async fn conflicts_unchecked(&self, limit: u32) -> Result<Vec<(DocId, Vec<u8>)>> {
        all(
            &self.client().await?,
            "SELECT doc_id, snapshot FROM documents WHERE NOT conflicts_checked
             ORDER BY doc_id LIMIT $1",
            &[&i64::from(limit)],
            |r| Ok((DocId::from_uuid(r.uuid(0)?), r.bytes(1)?)),
        )
        .await
    }

    async fn set_conflicts_checked(&self, flags: Vec<(DocId, bool)>, at: Timestamp) -> Result<()> {
        let ids: Vec<Uuid> = flags.iter().map(|(d, _)| *d.as_uuid()).collect();
        let conflicted: Vec<bool> = flags.iter().map(|(_, f)| *f).collect();
        self.client()
            .await?
            .execute(
                "UPDATE documents SET conflicts_checked = true,
                     conflicts_since = CASE WHEN x.f THEN coalesce(documents.conflicts_since, $3::bigint) END
                 FROM unnest($1::uuid[], $2::bool[]) AS x(d, f) WHERE documents.doc_id = x.d",
                &[&ids, &conflicted, &at.as_millis()],
            )
            .await?;
        Ok(())
    }
}

async fn insert_audit(c: &impl GenericClient, e: &AuditEntry) -> Result<()> {
    let v = rows::audit_values(e);
    c.execute(
        "INSERT INTO audit(at, actor, action, subject, detail, device, county, province,
                           before_json, after_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[&v.0, &v.1, &v.2, &v.3, &v.4, &v.5, &v.6, &v.7, &v.8, &v.9],
    )
    .await?;
    Ok(())
}

/// Sets a device's count of notices it has not acknowledged.
async fn recount_notices(c: &impl GenericClient, device: DeviceId) -> Result<()> {
    c.execute(
        "UPDATE devices SET notices_pending =
           (SELECT count(*) FROM device_notices WHERE device_id = $1 AND acked_at IS NULL)
         WHERE id = $1",
        &[device.as_uuid()],
    )
    .await?;
    Ok(())
}

async fn open_rows(c: &impl GenericClient, device: DeviceId, doc: DocId) -> Result<Vec<OpenRow>> {
    all(
        c,
        "SELECT id, hash, code, bytes, (length IS NOT NULL)::int::bigint FROM quarantine
         WHERE device_id = $1 AND doc_id = $2 AND released_at IS NULL ORDER BY id",
        &[device.as_uuid(), doc.as_uuid()],
        shared::open_row,
    )
    .await
}

impl ReleaseBackend for PostgresStore {
    async fn open_rows(&self, device: DeviceId, doc: DocId) -> Result<Vec<OpenRow>> {
        open_rows(&self.client().await?, device, doc).await
    }

    async fn open_ids_in(
        &self,
        tx: WriteTx,
        device: DeviceId,
        doc: DocId,
    ) -> Result<(WriteTx, Vec<i64>)> {
        let ids = open_rows(tx.client(), device, doc)
            .await?
            .iter()
            .map(|r| r.id)
            .collect();
        Ok((tx, ids))
    }

    async fn finish(&self, mut tx: WriteTx, w: ReleaseWrites) -> Result<()> {
        let c = tx.client();
        write_push(c, w.device, &w.writes, w.at).await?;
        let by = w.by.map(|u| *u.as_uuid());
        let at = w.at.as_millis();
        for v in &w.verdicts {
            match v {
                RowVerdict::Stored { id } | RowVerdict::Duplicate { id } => {
                    c.execute(
                        "UPDATE quarantine SET released_at = $2, resolved_by = $3 WHERE id = $1",
                        &[id, &at, &by],
                    )
                    .await?;
                }
                RowVerdict::Refused { id, code, reason } => {
                    c.execute(
                        "UPDATE quarantine SET code = $2, reason = $3, rechecked_at = $4 WHERE id = $1",
                        &[id, code, reason, &at],
                    )
                    .await?;
                }
            }
        }
        for n in &w.notices {
            c.execute(
                "INSERT INTO device_notices(device_id, doc_id, hash, kind, code, reason, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    w.device.as_uuid(),
                    n.doc.as_uuid(),
                    &n.hash,
                    &n.kind.as_str(),
                    &n.code,
                    &n.reason,
                    &at,
                ],
            )
            .await?;
        }
        recount_notices(c, w.device).await?;
        c.batch_execute("COMMIT").await?;
        drop(tx.client.take());
        Ok(())
    }
}
