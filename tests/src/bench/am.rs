//! Baseline 1: Automerge's own per-document sync protocol
//! (`automerge::sync`, a `sync::State` per document and peer) over HTTP,
//! one request per sync message exchange per document, as automerge-repo
//! or samod would run it over a request/response transport.
//!
//! - `POST /am/v1/session`: a peer (re)connects. Like automerge-repo on a
//!   new connection, the server restarts its sync states with this peer
//!   from what they persist (`State::encode`: the heads both sides shared).
//! - `POST /am/v1/docs/{id}/sync`: the body is the client's sync message
//!   for one document; the answer is the server's reply message (`200`) or
//!   nothing (`204`). The client repeats until it has nothing to send.
//!
//! Which documents exist is itself an Automerge document per team, the
//! index (a map from document ID to record kind), synced first, as an
//! automerge-repo application keeps a root document listing the others.
//! The client syncs every document it holds or the index names: that is
//! what it takes for each document to converge.
//!
//! Bodies use Ketepai's transport rules (zstd over 1 KiB, both ways). The
//! server keeps each document saved (compact bytes), writes through to
//! SQLite like the REST baseline, and checks nothing but the token: no
//! scope, no authorship, no validation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use app_core::doc::RecordDoc;
use app_core::domain::{DocId, RecordKind, TeamId};
use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ReadDoc};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::runtime::Handle;

use super::corpus::record_json;
use super::http::{
    COMPRESS_OVER, bad_request, bearer, no_content, request_body, respond, serve_on_loopback,
    unauthorized,
};
use super::rest::open_db;

/// The ID of a team's index document.
pub fn index_id(team: TeamId) -> DocId {
    DocId::from_uuid(*team.as_uuid())
}

/// A saved index document naming `entries`.
pub fn index_doc(entries: impl IntoIterator<Item = (DocId, RecordKind)>) -> Vec<u8> {
    let mut doc = Automerge::new().with_actor(ActorId::random());
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        for (id, kind) in entries {
            tx.put(automerge::ROOT, id.to_string(), kind.code())?;
        }
        Ok(())
    })
    .expect("writing an index in memory");
    doc.save()
}

#[derive(Debug, Default)]
struct Inner {
    docs: HashMap<DocId, Vec<u8>>,
    states: HashMap<u64, HashMap<DocId, sync::State>>,
    peers: HashMap<String, u64>,
}

#[derive(Debug)]
struct Shared {
    inner: Mutex<Inner>,
    db: Mutex<Connection>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running Automerge-sync baseline server.
#[derive(Debug)]
pub struct AmServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for AmServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const DOCS_TABLE: &str = "CREATE TABLE IF NOT EXISTS docs (
    id BLOB PRIMARY KEY, bytes BLOB NOT NULL, state BLOB)";

impl AmServer {
    /// Starts on a free loopback port, served by the runtime `rt`.
    pub async fn start(rt: &Handle) -> anyhow::Result<AmServer> {
        let dir = tempfile::tempdir()?;
        let db = open_db(&dir.path().join("automerge.sqlite"), DOCS_TABLE)?;
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            db: Mutex::new(db),
        });
        let app = Router::new()
            .route("/am/v1/session", post(session))
            .route("/am/v1/docs/{id}/sync", post(sync_doc))
            .with_state(Arc::clone(&shared));
        let (addr, task) = serve_on_loopback(rt, app).await?;
        Ok(AmServer {
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

    /// Accepts `token` as peer `id`.
    pub fn add_peer(&self, token: &str, id: u64) {
        lock(&self.shared.inner).peers.insert(token.to_string(), id);
    }

    /// Stores saved documents directly (seeding).
    pub fn seed(&self, docs: impl IntoIterator<Item = (DocId, Vec<u8>)>) -> anyhow::Result<()> {
        let mut db = lock(&self.shared.db);
        let mut inner = lock(&self.shared.inner);
        let tx = db.transaction()?;
        {
            let mut stmt = tx.prepare("INSERT OR REPLACE INTO docs (id, bytes) VALUES (?1, ?2)")?;
            for (id, bytes) in docs {
                stmt.execute(params![id.to_bytes(), bytes])?;
                inner.docs.insert(id, bytes);
            }
        }
        tx.commit()?;
        Ok(())
    }
}

fn peer_of(shared: &Shared, headers: &HeaderMap) -> Option<u64> {
    let token = bearer(headers)?;
    lock(&shared.inner).peers.get(token).copied()
}

async fn session(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let Some(peer) = peer_of(&shared, &headers) else {
        return unauthorized();
    };
    let mut inner = lock(&shared.inner);
    if let Some(states) = inner.states.get_mut(&peer) {
        for state in states.values_mut() {
            *state = sync::State::decode(&state.encode()).unwrap_or_default();
        }
    }
    no_content()
}

async fn sync_doc(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(peer) = peer_of(&shared, &headers) else {
        return unauthorized();
    };
    let Ok(id) = id.parse::<DocId>() else {
        return bad_request("bad document id");
    };
    let body = match request_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let Ok(message) = sync::Message::decode(&body) else {
        return bad_request("not a sync message");
    };
    let reply = {
        let db = lock(&shared.db);
        let mut inner = lock(&shared.inner);
        let mut doc = match inner.docs.get(&id).map(|b| Automerge::load(b)) {
            None => Automerge::new(),
            Some(Ok(d)) => d,
            Some(Err(e)) => return bad_request(&e.to_string()),
        };
        let mut state = inner
            .states
            .get_mut(&peer)
            .and_then(|s| s.remove(&id))
            .unwrap_or_default();
        let before = doc.get_heads();
        if let Err(e) = doc.receive_sync_message(&mut state, message) {
            return bad_request(&e.to_string());
        }
        if doc.get_heads() != before {
            let saved = doc.save();
            if let Err(e) = db.execute(
                "INSERT OR REPLACE INTO docs (id, bytes) VALUES (?1, ?2)",
                params![id.to_bytes(), saved],
            ) {
                return bad_request(&e.to_string());
            }
            inner.docs.insert(id, saved);
        }
        let reply = doc.generate_sync_message(&mut state);
        inner.states.entry(peer).or_default().insert(id, state);
        reply
    };
    match reply {
        Some(m) => respond(&headers, "application/octet-stream", m.encode()),
        None => no_content(),
    }
}

/// What a client session did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Session {
    /// HTTP requests.
    pub requests: u64,
    /// Requests on the critical path if every document's exchanges ran
    /// at once (the session request, the index, then the slowest document).
    pub critical: u64,
    /// Documents synced (the index included).
    pub docs: u64,
}

/// A device of the Automerge baseline: each document saved in a SQLite
/// file with its persisted sync state.
#[derive(Debug)]
pub struct AmClient {
    base: String,
    token: String,
    index: DocId,
    actor: ActorId,
    db: Connection,
    _dir: Option<tempfile::TempDir>,
}

/// Commit the client's writes every this many documents.
const COMMIT_EVERY: usize = 500;
/// More exchanges than this for one document means the protocol is stuck.
const MAX_EXCHANGES: u64 = 50;

impl AmClient {
    /// A client of `base` with `token` for `team`, its file in a fresh
    /// temporary directory (or in `dir`).
    pub fn new(
        base: &str,
        token: &str,
        team: TeamId,
        dir: Option<&std::path::Path>,
    ) -> anyhow::Result<Self> {
        let (tmp, path) = match dir {
            Some(d) => (None, d.join("automerge-client.sqlite")),
            None => {
                let t = tempfile::tempdir()?;
                let p = t.path().join("automerge-client.sqlite");
                (Some(t), p)
            }
        };
        Ok(AmClient {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            index: index_id(team),
            actor: ActorId::random(),
            db: open_db(&path, DOCS_TABLE)?,
            _dir: tmp,
        })
    }

    fn load(&self, id: DocId) -> anyhow::Result<(Option<Automerge>, Option<sync::State>)> {
        let row: Option<(Vec<u8>, Option<Vec<u8>>)> = self
            .db
            .query_row(
                "SELECT bytes, state FROM docs WHERE id = ?1",
                [id.to_bytes()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            None => (None, None),
            Some((bytes, state)) => (
                Some(Automerge::load(&bytes)?),
                state.map(|s| sync::State::decode(&s)).transpose()?,
            ),
        })
    }

    fn put(&self, id: DocId, doc: Option<&Automerge>, state: &sync::State) -> anyhow::Result<()> {
        match doc {
            Some(doc) => self.db.execute(
                "INSERT INTO docs (id, bytes, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET bytes = excluded.bytes, state = excluded.state",
                params![id.to_bytes(), doc.save(), state.encode()],
            )?,
            None => self.db.execute(
                "UPDATE docs SET state = ?2 WHERE id = ?1",
                params![id.to_bytes(), state.encode()],
            )?,
        };
        Ok(())
    }

    /// Takes a document's changes made on this device (the bytes of the
    /// same document as Ketepai's store holds it); `new` names the kind of
    /// a document just created, which is then added to the index.
    pub fn absorb(&self, id: DocId, saved: &[u8], new: Option<RecordKind>) -> anyhow::Result<()> {
        let (doc, state) = self.load(id)?;
        let mut doc = doc.unwrap_or_default();
        doc.load_incremental(saved)?;
        self.put(id, Some(&doc), &state.unwrap_or_default())?;
        if let Some(kind) = new {
            let (index, state) = self.load(self.index)?;
            let mut index = index.unwrap_or_default().with_actor(self.actor.clone());
            index
                .transact::<_, _, automerge::AutomergeError>(|tx| {
                    tx.put(automerge::ROOT, id.to_string(), kind.code())?;
                    Ok(())
                })
                .map_err(|f| f.error)?;
            self.put(self.index, Some(&index), &state.unwrap_or_default())?;
        }
        Ok(())
    }

    /// One session: the session request, the index, then every document
    /// the device holds or the index names.
    pub async fn session(&mut self) -> anyhow::Result<Session> {
        let http = reqwest::Client::new();
        let mut s = Session::default();
        let resp = http
            .post(format!("{}/am/v1/session", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        anyhow::ensure!(resp.status().is_success(), "session: {}", resp.status());
        s.requests += 1;
        let index_exchanges = self.sync_one(&http, self.index).await?;
        s.requests += index_exchanges;
        s.docs += 1;
        let mut ids: BTreeSet<DocId> = BTreeSet::new();
        if let (Some(index), _) = self.load(self.index)? {
            for key in index.keys(automerge::ROOT) {
                ids.insert(key.parse().context("an index key")?);
            }
        }
        {
            let mut stmt = self.db.prepare("SELECT id FROM docs")?;
            for id in stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))? {
                ids.insert(DocId::from_slice(&id?)?);
            }
        }
        ids.remove(&self.index);
        let mut slowest = 0;
        self.db.execute_batch("BEGIN")?;
        for (n, id) in ids.into_iter().enumerate() {
            if n > 0 && n % COMMIT_EVERY == 0 {
                self.db.execute_batch("COMMIT; BEGIN")?;
            }
            let exchanges = match self.sync_one(&http, id).await {
                Ok(e) => e,
                Err(e) => {
                    self.db.execute_batch("ROLLBACK")?;
                    return Err(e);
                }
            };
            s.requests += exchanges;
            s.docs += 1;
            slowest = slowest.max(exchanges);
        }
        self.db.execute_batch("COMMIT")?;
        s.critical = 1 + index_exchanges + slowest;
        Ok(s)
    }

    /// Syncs one document until this side has nothing to send; returns the
    /// number of exchanges (requests).
    async fn sync_one(&self, http: &reqwest::Client, id: DocId) -> anyhow::Result<u64> {
        let (doc, state) = self.load(id)?;
        let known = doc.is_some();
        let mut doc = doc.unwrap_or_default();
        let mut state = state.unwrap_or_default();
        let before = doc.get_heads();
        let exchanges = converse(http, &self.base, &self.token, id, &mut doc, &mut state).await?;
        let changed = !known || doc.get_heads() != before;
        self.put(id, changed.then_some(&doc), &state)?;
        Ok(exchanges)
    }

    /// Every record on the device, as `id → JSON` (the index left out).
    pub fn records(&self) -> anyhow::Result<BTreeMap<DocId, String>> {
        let mut stmt = self.db.prepare("SELECT id, bytes FROM docs")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (id, bytes) = row?;
            let id = DocId::from_slice(&id)?;
            if id == self.index {
                continue;
            }
            let (_, json) = record_json(&RecordDoc::load(&bytes)?)?;
            out.insert(id, json);
        }
        Ok(out)
    }
}

/// One document's sync conversation with the server at `base`, until this
/// side has nothing more to send (at most [`MAX_EXCHANGES`] messages);
/// returns the number of requests.
pub async fn converse(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    id: DocId,
    doc: &mut Automerge,
    state: &mut sync::State,
) -> anyhow::Result<u64> {
    let mut exchanges = 0;
    while let Some(message) = doc.generate_sync_message(state) {
        anyhow::ensure!(exchanges < MAX_EXCHANGES, "document {id} does not converge");
        let body = message.encode();
        let mut req = http
            .post(format!("{base}/am/v1/docs/{id}/sync"))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream");
        let body = if body.len() > COMPRESS_OVER {
            req = req.header("content-encoding", "zstd");
            zstd::bulk::compress(&body, 3)?
        } else {
            body
        };
        let resp = req.body(body).send().await?;
        exchanges += 1;
        match resp.status() {
            reqwest::StatusCode::NO_CONTENT => {}
            s if s.is_success() => {
                let bytes = resp.bytes().await?;
                let message = sync::Message::decode(&bytes).context("a sync message")?;
                doc.receive_sync_message(state, message)?;
            }
            s => anyhow::bail!("sync of {id}: {s}"),
        }
    }
    Ok(exchanges)
}
