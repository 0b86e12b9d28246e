//! Baseline 2: a plain REST upload of each record as gzip'd JSON, last
//! write wins, which is what ODK-style data collection does.
//!
//! - `PUT /rest/v1/records/{kind}/{id}`: the whole record as JSON, gzip'd;
//!   the server keeps the last one it received (`204`).
//! - `GET /rest/v1/records?since=<seq>&limit=<n>`: the team's records
//!   written by other devices after a server sequence number, gzip'd JSON
//!   pages of at most 2,000 (`204` when nothing is new).
//!
//! The server writes every upload through to SQLite (WAL,
//! `synchronous=FULL`, one writer), like Ketepai's embedded backend. It
//! checks nothing but the token and the team, and never merges: an edit on
//! one device silently replaces a concurrent edit on another. The client
//! keeps records as JSON in its own SQLite file and uploads every record
//! saved since its last session, one request each.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use app_core::domain::{DocId, RecordKind, TeamId};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, put};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use tokio::runtime::Handle;

use super::corpus::gzip;
use super::http::{
    bad_request, bearer, no_content, request_body, respond, serve_on_loopback, unauthorized,
};

/// Largest page of a download.
pub const PAGE: usize = 2_000;

/// Who a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The device (0 is the server itself, for seeded records).
    pub device: u64,
    /// The device user's team.
    pub team: TeamId,
}

#[derive(Debug)]
struct Row {
    kind: RecordKind,
    team: TeamId,
    device: u64,
    seq: u64,
    json: String,
}

#[derive(Debug, Default)]
struct Inner {
    rows: HashMap<DocId, Row>,
    by_seq: BTreeMap<u64, DocId>,
    seq: u64,
    peers: HashMap<String, Peer>,
}

#[derive(Debug)]
struct Shared {
    inner: Mutex<Inner>,
    db: Mutex<Connection>,
}

/// A running REST baseline server.
#[derive(Debug)]
pub struct RestServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for RestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Opens a SQLite file the way both baselines do: WAL, `synchronous=FULL`.
pub fn open_db(path: &std::path::Path, schema: &str) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let _: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA synchronous = FULL;")?;
    conn.execute_batch(schema)?;
    Ok(conn)
}

impl RestServer {
    /// Starts on a free loopback port, served by the runtime `rt`.
    pub async fn start(rt: &Handle) -> anyhow::Result<RestServer> {
        let dir = tempfile::tempdir()?;
        let db = open_db(
            &dir.path().join("rest.sqlite"),
            "CREATE TABLE IF NOT EXISTS records (
                 id BLOB PRIMARY KEY, kind TEXT NOT NULL, team BLOB NOT NULL,
                 device INTEGER NOT NULL, seq INTEGER NOT NULL, json TEXT NOT NULL)",
        )?;
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            db: Mutex::new(db),
        });
        let app = Router::new()
            .route("/rest/v1/records/{kind}/{id}", put(put_record))
            .route("/rest/v1/records", get(get_records))
            .with_state(Arc::clone(&shared));
        let (addr, task) = serve_on_loopback(rt, app).await?;
        Ok(RestServer {
            shared,
            addr,
            task,
            _dir: dir,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Accepts `token` as `peer`.
    pub fn add_peer(&self, token: &str, peer: Peer) {
        lock(&self.shared.inner)
            .peers
            .insert(token.to_string(), peer);
    }

    /// Stores records directly (seeding), as written by the server itself.
    pub fn seed<'a>(
        &self,
        records: impl IntoIterator<Item = (DocId, RecordKind, TeamId, &'a str)>,
    ) -> anyhow::Result<()> {
        let mut db = lock(&self.shared.db);
        let mut inner = lock(&self.shared.inner);
        let tx = db.transaction()?;
        for (id, kind, team, json) in records {
            store(&tx, &mut inner, id, kind, team, 0, json.to_string())?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn store(
    db: &Connection,
    inner: &mut Inner,
    id: DocId,
    kind: RecordKind,
    team: TeamId,
    device: u64,
    json: String,
) -> anyhow::Result<()> {
    inner.seq += 1;
    let seq = inner.seq;
    db.prepare_cached(
        "INSERT OR REPLACE INTO records (id, kind, team, device, seq, json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id.to_bytes(),
        kind.code(),
        team.to_bytes(),
        device as i64,
        seq as i64,
        json
    ])?;
    if let Some(old) = inner.rows.insert(
        id,
        Row {
            kind,
            team,
            device,
            seq,
            json,
        },
    ) {
        inner.by_seq.remove(&old.seq);
    }
    inner.by_seq.insert(seq, id);
    Ok(())
}

fn peer_of(shared: &Shared, headers: &HeaderMap) -> Option<Peer> {
    let token = bearer(headers)?;
    lock(&shared.inner).peers.get(token).copied()
}

async fn put_record(
    State(shared): State<Arc<Shared>>,
    Path((kind, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(peer) = peer_of(&shared, &headers) else {
        return unauthorized();
    };
    let (Some(kind), Ok(id)) = (RecordKind::from_code(&kind), id.parse::<DocId>()) else {
        return bad_request("bad record path");
    };
    let json = match request_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&json) else {
        return bad_request("not JSON");
    };
    if value.get("team").and_then(|t| t.as_str()) != Some(&peer.team.to_string()) {
        return bad_request("not a record of the device's team");
    }
    let Ok(json) = String::from_utf8(json) else {
        return bad_request("not UTF-8");
    };
    let db = lock(&shared.db);
    let mut inner = lock(&shared.inner);
    match store(&db, &mut inner, id, kind, peer.team, peer.device, json) {
        Ok(()) => no_content(),
        Err(e) => bad_request(&e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
struct Since {
    since: Option<u64>,
    limit: Option<usize>,
}

async fn get_records(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<Since>,
    headers: HeaderMap,
) -> Response {
    let Some(peer) = peer_of(&shared, &headers) else {
        return unauthorized();
    };
    let limit = q.limit.unwrap_or(PAGE).clamp(1, PAGE);
    let since = q.since.unwrap_or(0);
    let body = {
        let inner = lock(&shared.inner);
        let mut page: Vec<(&DocId, &Row)> = inner
            .by_seq
            .range(since + 1..)
            .map(|(_, id)| (id, &inner.rows[id]))
            .filter(|(_, r)| r.team == peer.team && r.device != peer.device)
            .take(limit + 1)
            .collect();
        if page.is_empty() {
            return no_content();
        }
        let more = page.len() > limit;
        page.truncate(limit);
        let next = if more {
            page.last().map_or(since, |(_, r)| r.seq)
        } else {
            inner.seq
        };
        let mut out = format!("{{\"next\":{next},\"more\":{more},\"records\":[");
        for (i, (id, r)) in page.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&format!(
                "{{\"kind\":\"{}\",\"id\":\"{id}\",\"record\":{}}}",
                r.kind.code(),
                r.json
            ));
        }
        out.push_str("]}");
        out
    };
    respond(&headers, "application/json", body.into_bytes())
}

/// What a client session did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Session {
    /// HTTP requests.
    pub requests: u64,
    /// Records uploaded.
    pub uploaded: u64,
    /// Records downloaded.
    pub downloaded: u64,
}

#[derive(Debug, Deserialize)]
struct Page<'a> {
    next: u64,
    more: bool,
    #[serde(borrow)]
    records: Vec<Item<'a>>,
}

#[derive(Debug, Deserialize)]
struct Item<'a> {
    kind: String,
    id: String,
    /// The record's JSON text as the server sent it.
    #[serde(borrow)]
    record: &'a serde_json::value::RawValue,
}

/// A device of the REST baseline: records as JSON in a SQLite file, the
/// ones saved since the last session marked for upload.
#[derive(Debug)]
pub struct RestClient {
    base: String,
    token: String,
    db: Connection,
    _dir: Option<tempfile::TempDir>,
}

impl RestClient {
    /// A client of `base` with `token`, its file in a fresh temporary
    /// directory (or in `dir` when given).
    pub fn new(base: &str, token: &str, dir: Option<&std::path::Path>) -> anyhow::Result<Self> {
        let (tmp, path) = match dir {
            Some(d) => (None, d.join("rest-client.sqlite")),
            None => {
                let t = tempfile::tempdir()?;
                let p = t.path().join("rest-client.sqlite");
                (Some(t), p)
            }
        };
        let db = open_db(
            &path,
            "CREATE TABLE IF NOT EXISTS records (
                 id BLOB PRIMARY KEY, kind TEXT NOT NULL, json TEXT NOT NULL,
                 dirty INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
        )?;
        Ok(RestClient {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            db,
            _dir: tmp,
        })
    }

    /// Saves a record on the device, to upload at the next session.
    pub fn save(&self, id: DocId, kind: RecordKind, json: &str) -> anyhow::Result<()> {
        self.db.execute(
            "INSERT OR REPLACE INTO records (id, kind, json, dirty) VALUES (?1, ?2, ?3, 1)",
            params![id.to_bytes(), kind.code(), json],
        )?;
        Ok(())
    }

    /// One session: upload every record saved since the last one, then
    /// download what others wrote.
    pub async fn session(&mut self) -> anyhow::Result<Session> {
        let http = reqwest::Client::new();
        let mut s = Session::default();
        let dirty: Vec<(Vec<u8>, String, String)> = {
            let mut stmt = self
                .db
                .prepare("SELECT id, kind, json FROM records WHERE dirty = 1 ORDER BY rowid")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        for (id, kind, json) in &dirty {
            let id = DocId::from_slice(id)?;
            let resp = http
                .put(format!("{}/rest/v1/records/{kind}/{id}", self.base))
                .bearer_auth(&self.token)
                .header("content-type", "application/json")
                .header("content-encoding", "gzip")
                .header("accept-encoding", "gzip")
                .body(gzip(json.as_bytes()))
                .send()
                .await?;
            s.requests += 1;
            anyhow::ensure!(resp.status().is_success(), "upload: {}", resp.status());
            s.uploaded += 1;
        }
        {
            let tx = self.db.transaction()?;
            for (id, _, _) in &dirty {
                tx.execute("UPDATE records SET dirty = 0 WHERE id = ?1", [id])?;
            }
            tx.commit()?;
        }
        let mut since: u64 = self
            .db
            .query_row("SELECT value FROM meta WHERE key = 'since'", [], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .unwrap_or(0) as u64;
        loop {
            let resp = http
                .get(format!("{}/rest/v1/records", self.base))
                .query(&[("since", since.to_string()), ("limit", PAGE.to_string())])
                .bearer_auth(&self.token)
                .header("accept-encoding", "gzip")
                .send()
                .await?;
            s.requests += 1;
            if resp.status() == reqwest::StatusCode::NO_CONTENT {
                break;
            }
            anyhow::ensure!(resp.status().is_success(), "download: {}", resp.status());
            let gz = resp
                .headers()
                .get("content-encoding")
                .is_some_and(|v| v == "gzip");
            let bytes = resp.bytes().await?;
            let json = if gz {
                super::http::gunzip(&bytes)?
            } else {
                bytes.to_vec()
            };
            let page: Page<'_> = serde_json::from_slice(&json).context("a page of records")?;
            let tx = self.db.transaction()?;
            for item in &page.records {
                let id: DocId = item.id.parse()?;
                tx.execute(
                    "INSERT INTO records (id, kind, json, dirty) VALUES (?1, ?2, ?3, 0)
                     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, json = excluded.json
                     WHERE dirty = 0",
                    params![id.to_bytes(), item.kind, item.record.get()],
                )?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('since', ?1)",
                [page.next as i64],
            )?;
            tx.commit()?;
            s.downloaded += page.records.len() as u64;
            since = page.next;
            if !page.more {
                break;
            }
        }
        Ok(s)
    }

    /// Every record on the device, as `id → JSON` (the text as it was
    /// written on the device that made it: the comparison form).
    pub fn records(&self) -> anyhow::Result<BTreeMap<DocId, String>> {
        let mut stmt = self.db.prepare("SELECT id, json FROM records")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (id, json) = row?;
            out.insert(DocId::from_slice(&id)?, json);
        }
        Ok(out)
    }
}
