//! The HTTP side of the sync protocol, without state: one method per
//! request (push, pull, repair fetch, register slice, photo upload and
//! download, enrolment, notices, a new password), each turning an error
//! answer into a [`SyncError`] ([`problem_of`]). It decides nothing about
//! what to send or what an answer means for the store; the engine
//! ([`super::engine`]) does.
//!
//! The sync admin's console calls the server through the same client: one
//! method per `/api/v1/admin/…` endpoint, typed with [`crate::admin`]'s
//! wire types, so a shell calls them in a line each; and the statistics
//! endpoints (report, scores, spreadsheets) with [`crate::stats::wire`]'s.

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde::Serialize;

use super::compact::{
    COMPACT_PARTS_MEDIA_TYPE, COMPACT_SEEDED_HEADER, CompactDecoder, CompactError,
};
use super::engine::EngineOptions;
use super::error::SyncError;
use super::protocol::{
    self, DeviceReport, EnrolRequest, EnrolResponse, Me, NoticeAck, Notices, PasswordChange,
    Problem, PullResponse, PushRequest, PushResponse, WireChange,
};
use crate::admin::{
    AuditQuery, AuditView, ChangeScope, ConflictListQuery, ConflictedRecord, CreatedUser,
    DeviceQuery, DeviceView, Discard, Discarded, MoveUser, NewTeam, NewUser, Page, PasswordReset,
    QuarantineQuery, QuarantineTarget, QuarantinedDoc, Released, Revoked, TeamQuery, TeamView,
    UserQuery, UserView,
};
use crate::domain::{CountyCode, DeviceId, DocId, PhotoHash, UserId};
use crate::stats::assess::ScoreSheet;
use crate::stats::{Answer, StatsParams, StatsSubject};
use crate::store::RegisterSlice;

fn network(e: reqwest::Error) -> SyncError {
    SyncError::Network(e.to_string())
}

/// The HTTP side of the protocol, without state (but for the report it
/// sends with pushes and pulls, see [`SyncClient::reporting`]).
#[derive(Debug, Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    base: String,
    token: String,
    report: Option<DeviceReport>,
    compact_parts: bool,
    compact_after_cursor: bool,
}

/// A pull's answer with what its headers announce.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullAnswer {
    /// The page; `None` when nothing is new (`204`).
    pub page: Option<PullResponse>,
    /// Notices waiting for this device ([`protocol::NOTICES_HEADER`]).
    pub notices: u64,
}

fn build_http(options: &EngineOptions) -> Result<reqwest::Client, SyncError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        protocol::PROTOCOL_HEADER,
        HeaderValue::from_str(&protocol::PROTOCOL_VERSION.to_string()).expect("digits"),
    );
    let mut builder = reqwest::Client::builder();
    if !options.keep_alive {
        builder = builder.pool_max_idle_per_host(0);
    }
    builder
        .default_headers(headers)
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        .build()
        .map_err(network)
}

async fn problem(resp: reqwest::Response) -> SyncError {
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap_or_default();
    problem_of(status, &body)
}

/// What an error answer means: the problem document's stable code (or
/// `http_<status>` when the body is not one), the token failures as their
/// own errors, and whether a retry can help (the server says so, or it is
/// a server error, or `429` without a problem document).
pub fn problem_of(status: u16, body: &[u8]) -> SyncError {
    let problem: Option<Problem> = serde_json::from_slice(body).ok();
    let code = problem
        .as_ref()
        .map(|p| p.code.clone())
        .unwrap_or_else(|| format!("http_{status}"));
    match code.as_str() {
        "token_revoked" => return SyncError::Revoked,
        "token_expired" => return SyncError::Expired,
        "unauthenticated" => return SyncError::Unauthenticated,
        _ => {}
    }
    let server_error = (500..600).contains(&status);
    let retryable = problem.map_or(
        server_error || status == StatusCode::TOO_MANY_REQUESTS.as_u16(),
        |p| p.retryable || server_error,
    );
    SyncError::Server {
        status,
        code,
        retryable,
    }
}

/// Sends a request; a non-success status becomes the server's problem.
async fn send(req: reqwest::RequestBuilder) -> Result<reqwest::Response, SyncError> {
    let resp = req.send().await.map_err(network)?;
    if resp.status().is_success() {
        Ok(resp)
    } else {
        Err(problem(resp).await)
    }
}

/// Sends a request whose answer may legitimately be `absent` (204, 304,
/// 404): `None` then.
async fn send_optional(
    req: reqwest::RequestBuilder,
    absent: StatusCode,
) -> Result<Option<reqwest::Response>, SyncError> {
    let resp = req.send().await.map_err(network)?;
    if resp.status() == absent {
        Ok(None)
    } else if resp.status().is_success() {
        Ok(Some(resp))
    } else {
        Err(problem(resp).await)
    }
}

async fn read_msgpack<T: for<'de> Deserialize<'de>>(
    resp: reqwest::Response,
) -> Result<T, SyncError> {
    let bytes = resp.bytes().await.map_err(network)?;
    protocol::decode(&bytes).map_err(|e| SyncError::Protocol(e.to_string()))
}

async fn read_json<T: for<'de> Deserialize<'de>>(resp: reqwest::Response) -> Result<T, SyncError> {
    let bytes = resp.bytes().await.map_err(network)?;
    serde_json::from_slice(&bytes).map_err(|e| SyncError::Protocol(e.to_string()))
}

/// How many notices a pull's answer announces ([`protocol::NOTICES_HEADER`]).
fn notices_of(resp: &reqwest::Response) -> u64 {
    resp.headers()
        .get(protocol::NOTICES_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The longest a streamed pull may take in all (a county's first sync on
/// 2G); each read is bounded by the idle time instead.
const STREAM_DEADLINE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// An open streamed pull: its parts in order, each read whole before it is
/// handed out, so that a cut link leaves the device at the last whole part.
#[derive(Debug)]
pub struct PullStream {
    body: Option<reqwest::Response>,
    reader: protocol::PartReader,
    /// The stream's tables when the server answered compact parts
    /// (`Content-Type` [`COMPACT_PARTS_MEDIA_TYPE`]).
    compact: Option<CompactDecoder>,
    /// The cursor the compact tables start from: this request's cursor, or
    /// a broken stream's when the server seeded the tables from it.
    tables_from: Option<String>,
    /// Whether the server seeded this stream's tables from a broken one.
    seeded: bool,
    notices: u64,
    idle: std::time::Duration,
}

/// What a compact stream that broke part-way leaves for the next one: its
/// tables as the device holds them after its last whole part, and the
/// cursor they start from. Sent back (as `tables_from`), it lets the server
/// rebuild the same tables, so that the resumed stream goes on referring to
/// the documents, actors and changes the broken one sent (docs/protocol.md,
/// "Compact parts").
#[derive(Debug)]
pub struct CompactSeed {
    from: Option<String>,
    decoder: CompactDecoder,
}

impl PullStream {
    /// Notices waiting for this device ([`protocol::NOTICES_HEADER`]).
    pub fn notices(&self) -> u64 {
        self.notices
    }

    /// Whether the server answered `204`: nothing is new.
    pub fn is_empty(&self) -> bool {
        self.body.is_none() && self.reader.is_empty()
    }

    /// The next whole part; `None` once the body has ended. A body cut
    /// inside a part, or silent for the idle time, is a network error; a
    /// part announced over [`protocol::MAX_PULL_PART`] is
    /// [`SyncError::PartTooLarge`], before any of it is buffered.
    /// A compact part that does not rebuild into the server's changes is
    /// [`SyncError::PartCorrupt`], and nothing of it is returned.
    pub async fn next_part(&mut self) -> Result<Option<PullResponse>, SyncError> {
        loop {
            match self.reader.next_frame() {
                Ok(Some(bytes)) => return self.read_part(&bytes).map(Some),
                Ok(None) => {}
                Err(protocol::CodecError::TooLarge(cap)) => {
                    self.body = None;
                    return Err(SyncError::PartTooLarge { cap });
                }
                Err(e) => return Err(SyncError::Protocol(e.to_string())),
            }
            let Some(body) = self.body.as_mut() else {
                return Ok(None);
            };
            let chunk = tokio::time::timeout(self.idle, body.chunk())
                .await
                .map_err(|_| SyncError::Network(format!("no byte for {:?}", self.idle)))?
                .map_err(network)?;
            match chunk {
                Some(bytes) => self.reader.extend(&bytes),
                None => {
                    self.body = None;
                    if !self.reader.is_empty() {
                        return Err(SyncError::Network(
                            "the pull stream ended inside a part".into(),
                        ));
                    }
                    return Ok(None);
                }
            }
        }
    }
}

impl PullStream {
    /// Whether the server sends compact parts.
    pub fn is_compact(&self) -> bool {
        self.compact.is_some()
    }

    /// Whether the server seeded this compact stream's tables from the
    /// broken stream the request named.
    pub fn is_seeded(&self) -> bool {
        self.seeded
    }

    /// The stream's compact tables, for resuming it after the link broke
    /// ([`SyncClient::pull_stream_resuming`]); `None` for plain parts or
    /// once a part failed to decode.
    pub fn take_seed(&mut self) -> Option<CompactSeed> {
        let decoder = self.compact.take()?;
        Some(CompactSeed {
            from: self.tables_from.take(),
            decoder,
        })
    }

    fn read_part(&mut self, bytes: &[u8]) -> Result<PullResponse, SyncError> {
        let Some(decoder) = self.compact.as_mut() else {
            return protocol::decode(bytes).map_err(|e| SyncError::Protocol(e.to_string()));
        };
        decoder.decode(bytes, protocol::MAX_PULL_PART).map_err(|e| {
            // The stream's tables may be part-way: it cannot go on.
            self.body = None;
            self.compact = None;
            match e {
                CompactError::TooLarge(cap) => SyncError::PartTooLarge { cap },
                e => SyncError::PartCorrupt(e.to_string()),
            }
        })
    }
}

fn upload_offset(resp: &reqwest::Response) -> Result<u64, SyncError> {
    resp.headers()
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| SyncError::Protocol("no Upload-Offset".into()))
}

impl SyncClient {
    /// A client for `server` with a device token.
    pub fn new(server: &str, token: &str, options: &EngineOptions) -> Result<Self, SyncError> {
        Ok(SyncClient {
            http: build_http(options)?,
            base: server.trim_end_matches('/').to_string(),
            token: token.to_string(),
            report: None,
            compact_parts: options.compact_parts,
            compact_after_cursor: false,
        })
    }

    /// This client, asking streamed pulls for compact parts or not
    /// (plain parts only).
    pub fn with_compact_parts(&self, compact: bool) -> SyncClient {
        SyncClient {
            compact_parts: compact,
            ..self.clone()
        }
    }

    /// This client, asking streamed pulls for compact parts after a
    /// cursor too when `resume` (the engine resuming a compact stream that
    /// broke); by default only a pull from no cursor asks, so that a
    /// reconnect with nothing new stays the same bare request.
    pub fn resuming_compact(&self, resume: bool) -> SyncClient {
        SyncClient {
            compact_after_cursor: resume,
            ..self.clone()
        }
    }

    /// The `Accept` of a streamed pull when it asks for compact parts
    /// (plain parts listed after them); `None` to send none, as before
    /// compact parts existed.
    fn parts_accept(&self, cursor: Option<&str>) -> Option<String> {
        (self.compact_parts && (cursor.is_none() || self.compact_after_cursor))
            .then(|| format!("{COMPACT_PARTS_MEDIA_TYPE}, {}", protocol::PARTS_MEDIA_TYPE))
    }

    /// This client, sending `report` with its pushes and pulls (what the
    /// device holds unsent, its app version).
    pub fn reporting(&self, report: DeviceReport) -> SyncClient {
        SyncClient {
            report: Some(report),
            ..self.clone()
        }
    }

    fn with_report(&self, mut req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some(report) = &self.report {
            for (name, value) in report.headers() {
                req = req.header(name, value);
            }
        }
        req
    }

    /// `POST /api/v1/account/password`: sets a new password with the
    /// current (or one-time) one; no token needed.
    pub async fn change_password(
        server: &str,
        request: &PasswordChange,
        options: &EngineOptions,
    ) -> Result<(), SyncError> {
        let http = build_http(options)?;
        let req = http
            .post(format!(
                "{}/api/v1/account/password",
                server.trim_end_matches('/')
            ))
            .json(request);
        send(req).await.map(|_| ())
    }

    /// `POST /api/v1/devices/enrol`: enrols a device with a user's
    /// credentials (no token yet).
    pub async fn enrol(
        server: &str,
        request: &EnrolRequest,
        options: &EngineOptions,
    ) -> Result<EnrolResponse, SyncError> {
        let http = build_http(options)?;
        let req = http
            .post(format!(
                "{}/api/v1/devices/enrol",
                server.trim_end_matches('/')
            ))
            .json(request);
        read_json(send(req).await?).await
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    async fn get_json<T: for<'de> Deserialize<'de>, Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<T, SyncError> {
        read_json(send(self.get(path).query(query)).await?).await
    }

    async fn post_json<T: for<'de> Deserialize<'de>, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, SyncError> {
        read_json(send(self.post(path).json(body)).await?).await
    }

    async fn post_empty<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T, SyncError> {
        read_json(send(self.post(path)).await?).await
    }

    /// `GET /api/v1/me`.
    pub async fn me(&self) -> Result<Me, SyncError> {
        read_json(send(self.get("/api/v1/me")).await?).await
    }

    /// Pushes changes; one outcome per change, in order.
    pub async fn push(&self, changes: Vec<WireChange>) -> Result<PushResponse, SyncError> {
        let n = changes.len();
        let body = protocol::encode(&PushRequest { changes })
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        let mut req = self.with_report(
            self.http
                .post(format!("{}/api/v1/sync/push", self.base))
                .bearer_auth(&self.token)
                .header(reqwest::header::CONTENT_TYPE, protocol::MEDIA_TYPE),
        );
        let body = if body.len() > 1024 {
            req = req.header(reqwest::header::CONTENT_ENCODING, "zstd");
            zstd::bulk::compress(&body, 3).map_err(|e| SyncError::Protocol(e.to_string()))?
        } else {
            body
        };
        let answer: PushResponse = read_msgpack(send(req.body(body)).await?).await?;
        if answer.outcomes.len() != n {
            return Err(SyncError::Protocol(format!(
                "{} outcomes for {n} changes",
                answer.outcomes.len()
            )));
        }
        Ok(answer)
    }

    /// Pulls a page after `cursor`; `None` when nothing is new.
    pub async fn pull(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Option<PullResponse>, SyncError> {
        Ok(self.pull_page(cursor, limit).await?.page)
    }

    /// Pulls a page after `cursor`, with the notices its answer announces.
    pub async fn pull_page(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<PullAnswer, SyncError> {
        let limit = limit.to_string();
        let mut query: Vec<(&str, &str)> = vec![("limit", &limit)];
        if let Some(c) = cursor {
            query.push(("cursor", c));
        }
        let req = self.with_report(self.get("/api/v1/sync/pull").query(&query));
        let resp = req.send().await.map_err(network)?;
        if !resp.status().is_success() {
            return Err(problem(resp).await);
        }
        let notices = notices_of(&resp);
        let page = if resp.status() == StatusCode::NO_CONTENT {
            None
        } else {
            Some(read_msgpack(resp).await?)
        };
        Ok(PullAnswer { page, notices })
    }

    /// `GET /api/v1/sync/pull/stream`: every change after `cursor` in one
    /// request, as parts of at most `limit` changes each (docs/protocol.md,
    /// "Streamed pull"). `None` with the notices announced when nothing is
    /// new (`204`); otherwise the open stream, read part by part with
    /// [`PullStream::next_part`]. No byte for `idle` fails the read.
    pub async fn pull_stream(
        &self,
        cursor: Option<&str>,
        limit: u32,
        idle: std::time::Duration,
    ) -> Result<PullStream, SyncError> {
        self.pull_stream_resuming(cursor, limit, idle, None).await
    }

    /// [`Self::pull_stream`] resuming a compact stream that broke: with
    /// `seed` (from [`PullStream::take_seed`]) the request names the cursor
    /// the broken stream's tables start from, and a server that rebuilds
    /// them says so (`Ketepai-Compact-Seeded`); then the stream goes on
    /// with them, else with new ones.
    pub async fn pull_stream_resuming(
        &self,
        cursor: Option<&str>,
        limit: u32,
        idle: std::time::Duration,
        seed: Option<CompactSeed>,
    ) -> Result<PullStream, SyncError> {
        let limit = limit.to_string();
        let mut query: Vec<(&str, &str)> = vec![("limit", &limit)];
        if let Some(c) = cursor {
            query.push(("cursor", c));
        }
        let asks_compact = self.parts_accept(cursor).is_some();
        let seed = seed.filter(|_| asks_compact);
        if let Some(seed) = &seed {
            query.push(("tables_from", seed.from.as_deref().unwrap_or("")));
        }
        // A first sync on 2G takes many minutes: the request's own deadline
        // is lifted, and each read instead must see a byte within `idle`.
        // Compact parts when asked for and the server has them, plain parts
        // otherwise: the answer's Content-Type says which came.
        let mut req = self.get("/api/v1/sync/pull/stream").query(&query);
        if let Some(accept) = self.parts_accept(cursor) {
            req = req.header(reqwest::header::ACCEPT, accept);
        }
        let req = self.with_report(req.timeout(STREAM_DEADLINE));
        let resp = tokio::time::timeout(idle, req.send())
            .await
            .map_err(|_| SyncError::Network(format!("no answer within {idle:?}")))?
            .map_err(network)?;
        if !resp.status().is_success() {
            return Err(problem(resp).await);
        }
        let notices = notices_of(&resp);
        let compact = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(COMPACT_PARTS_MEDIA_TYPE));
        let seeded = compact
            && resp
                .headers()
                .get(COMPACT_SEEDED_HEADER)
                .is_some_and(|v| v == "1");
        let (decoder, tables_from) = match seed {
            Some(seed) if seeded => (seed.decoder, seed.from),
            _ => (CompactDecoder::new(), cursor.map(str::to_string)),
        };
        let body = (resp.status() != StatusCode::NO_CONTENT).then_some(resp);
        Ok(PullStream {
            body,
            reader: protocol::PartReader::new(protocol::MAX_PULL_PART),
            compact: compact.then_some(decoder),
            tables_from,
            seeded,
            notices,
            idle,
        })
    }

    /// `GET /api/v1/sync/notices`: what sync admins decided about this
    /// device's refused changes, not yet acknowledged.
    pub async fn notices(&self) -> Result<Notices, SyncError> {
        read_json(send(self.get("/api/v1/sync/notices")).await?).await
    }

    /// `POST /api/v1/sync/notices/ack`: the device keeps the notices up to
    /// `up_to`.
    pub async fn ack_notices(&self, up_to: i64) -> Result<(), SyncError> {
        let req = self
            .post("/api/v1/sync/notices/ack")
            .json(&NoticeAck { up_to });
        send(req).await.map(|_| ())
    }

    /// Fetches every change of one document (repair); `None` outside scope.
    pub async fn document(&self, id: DocId) -> Result<Option<PullResponse>, SyncError> {
        match send_optional(
            self.get(&format!("/api/v1/sync/docs/{id}")),
            StatusCode::NOT_FOUND,
        )
        .await?
        {
            None => Ok(None),
            Some(resp) => read_msgpack(resp).await.map(Some),
        }
    }

    /// Fetches a county's register slice unless `etag` is still current.
    pub async fn county(
        &self,
        county: CountyCode,
        etag: Option<&str>,
    ) -> Result<Option<(RegisterSlice, Option<String>)>, SyncError> {
        let mut req = self.get(&format!("/api/v1/reference/county/{county}"));
        if let Some(tag) = etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, tag);
        }
        let Some(resp) = send_optional(req, StatusCode::NOT_MODIFIED).await? else {
            return Ok(None);
        };
        let tag = resp
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(Some((read_json(resp).await?, tag)))
    }

    /// Starts (or finds) an upload; returns the server's offset.
    pub async fn photo_create(&self, hash: &PhotoHash, len: u64) -> Result<u64, SyncError> {
        let req = self
            .http
            .post(format!("{}/api/v1/photos", self.base))
            .bearer_auth(&self.token)
            .header("upload-length", len.to_string())
            .header("photo-sha256", hash.to_string());
        upload_offset(&send(req).await?)
    }

    /// The server's offset for an upload, if it knows the photo.
    pub async fn photo_offset(&self, hash: &PhotoHash) -> Result<Option<u64>, SyncError> {
        let req = self
            .http
            .head(format!("{}/api/v1/photos/{hash}", self.base))
            .bearer_auth(&self.token);
        // A HEAD answer has no body to carry a problem document.
        let resp = req.send().await.map_err(network)?;
        match resp.status() {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => upload_offset(&resp).map(Some),
            s => Err(problem_of(s.as_u16(), &[])),
        }
    }

    /// Sends one chunk at `offset`; returns the new offset.
    pub async fn photo_patch(
        &self,
        hash: &PhotoHash,
        offset: u64,
        chunk: Vec<u8>,
    ) -> Result<u64, SyncError> {
        let req = self
            .http
            .patch(format!("{}/api/v1/photos/{hash}", self.base))
            .bearer_auth(&self.token)
            .header("upload-offset", offset.to_string())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/offset+octet-stream",
            )
            .body(chunk);
        upload_offset(&send(req).await?)
    }

    /// Downloads a photo's bytes.
    pub async fn photo_get(&self, hash: &PhotoHash) -> Result<Option<Vec<u8>>, SyncError> {
        match send_optional(
            self.get(&format!("/api/v1/photos/{hash}")),
            StatusCode::NOT_FOUND,
        )
        .await?
        {
            None => Ok(None),
            Some(resp) => Ok(Some(resp.bytes().await.map_err(network)?.to_vec())),
        }
    }
}

/// The team lead's tablet: the team's members and when their devices last
/// synced (docs/protocol.md, "Team").
impl SyncClient {
    /// `GET /api/v1/team/members`: the signed-in lead's team; `forbidden`
    /// for anyone who is not a team lead.
    pub async fn team_members(&self) -> Result<crate::team::TeamRoster, SyncError> {
        read_json(send(self.get("/api/v1/team/members")).await?).await
    }
}

/// The sync admin's console: one method per `/api/v1/admin/…` endpoint
/// (docs/protocol.md, "Administration"). Errors are the server's problem
/// codes ([`SyncError::Server`]); a device whose user is not a sync admin
/// gets `forbidden`.
impl SyncClient {
    /// `GET /api/v1/admin/teams`.
    pub async fn admin_teams(&self, query: &TeamQuery) -> Result<Page<TeamView>, SyncError> {
        self.get_json("/api/v1/admin/teams", query).await
    }

    /// `POST /api/v1/admin/teams`.
    pub async fn admin_create_team(&self, team: &NewTeam) -> Result<TeamView, SyncError> {
        self.post_json("/api/v1/admin/teams", team).await
    }

    /// `GET /api/v1/admin/users`.
    pub async fn admin_users(&self, query: &UserQuery) -> Result<Page<UserView>, SyncError> {
        self.get_json("/api/v1/admin/users", query).await
    }

    /// `GET /api/v1/admin/users/{id}`.
    pub async fn admin_user(&self, id: UserId) -> Result<UserView, SyncError> {
        read_json(send(self.get(&format!("/api/v1/admin/users/{id}"))).await?).await
    }

    /// `POST /api/v1/admin/users`: the answer holds the one-time password,
    /// shown once.
    pub async fn admin_create_user(&self, user: &NewUser) -> Result<CreatedUser, SyncError> {
        self.post_json("/api/v1/admin/users", user).await
    }

    /// `POST /api/v1/admin/users/{id}/team`.
    pub async fn admin_move_user(&self, id: UserId, to: &MoveUser) -> Result<UserView, SyncError> {
        self.post_json(&format!("/api/v1/admin/users/{id}/team"), to)
            .await
    }

    /// `POST /api/v1/admin/users/{id}/scope`.
    pub async fn admin_change_scope(
        &self,
        id: UserId,
        scope: &ChangeScope,
    ) -> Result<UserView, SyncError> {
        self.post_json(&format!("/api/v1/admin/users/{id}/scope"), scope)
            .await
    }

    /// `POST /api/v1/admin/users/{id}/disable`: its devices stop syncing
    /// (`account_disabled`).
    pub async fn admin_disable_user(&self, id: UserId) -> Result<UserView, SyncError> {
        self.post_empty(&format!("/api/v1/admin/users/{id}/disable"))
            .await
    }

    /// `POST /api/v1/admin/users/{id}/enable`.
    pub async fn admin_enable_user(&self, id: UserId) -> Result<UserView, SyncError> {
        self.post_empty(&format!("/api/v1/admin/users/{id}/enable"))
            .await
    }

    /// `POST /api/v1/admin/users/{id}/password-reset`: the answer holds the
    /// one-time password, shown once.
    pub async fn admin_reset_password(&self, id: UserId) -> Result<PasswordReset, SyncError> {
        self.post_empty(&format!("/api/v1/admin/users/{id}/password-reset"))
            .await
    }

    /// `GET /api/v1/admin/devices`.
    pub async fn admin_devices(&self, query: &DeviceQuery) -> Result<Page<DeviceView>, SyncError> {
        self.get_json("/api/v1/admin/devices", query).await
    }

    /// `POST /api/v1/admin/devices/{id}/revoke`.
    pub async fn admin_revoke_device(&self, id: DeviceId) -> Result<Revoked, SyncError> {
        self.post_empty(&format!("/api/v1/admin/devices/{id}/revoke"))
            .await
    }

    /// `GET /api/v1/admin/quarantine`.
    pub async fn admin_quarantine(
        &self,
        query: &QuarantineQuery,
    ) -> Result<Page<QuarantinedDoc>, SyncError> {
        self.get_json("/api/v1/admin/quarantine", query).await
    }

    /// `POST /api/v1/admin/quarantine/release`: checks the document's
    /// refused changes again under today's rules.
    pub async fn admin_release(&self, target: &QuarantineTarget) -> Result<Released, SyncError> {
        self.post_json("/api/v1/admin/quarantine/release", target)
            .await
    }

    /// `POST /api/v1/admin/quarantine/discard`.
    pub async fn admin_discard(&self, discard: &Discard) -> Result<Discarded, SyncError> {
        self.post_json("/api/v1/admin/quarantine/discard", discard)
            .await
    }

    /// `GET /api/v1/admin/conflicts`: records of the area whose fields
    /// hold concurrent values, with who wrote each value on which device.
    pub async fn admin_conflicts(
        &self,
        query: &ConflictListQuery,
    ) -> Result<Page<ConflictedRecord>, SyncError> {
        self.get_json("/api/v1/admin/conflicts", query).await
    }

    /// `GET /api/v1/admin/audit`.
    pub async fn admin_audit(&self, query: &AuditQuery) -> Result<Page<AuditView>, SyncError> {
        self.get_json("/api/v1/admin/audit", query).await
    }

    /// `GET /api/v1/admin/audit.csv`: every entry the query matches, as a
    /// CSV file (UTF-8 with a byte-order mark, for spreadsheets).
    pub async fn admin_audit_csv(&self, query: &AuditQuery) -> Result<Vec<u8>, SyncError> {
        Ok(self.admin_audit_csv_file(query).await?.0)
    }

    /// [`SyncClient::admin_audit_csv`], and whether the server cut the
    /// file short (`Ketepai-Truncated: true`).
    pub async fn admin_audit_csv_file(
        &self,
        query: &AuditQuery,
    ) -> Result<(Vec<u8>, bool), SyncError> {
        let resp = send(self.get("/api/v1/admin/audit.csv").query(query)).await?;
        let truncated = resp
            .headers()
            .get("ketepai-truncated")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
        Ok((resp.bytes().await.map_err(network)?.to_vec(), truncated))
    }

    // --- Statistics (`/api/v1/stats/…`) ------------------------------------

    /// `GET /api/v1/stats/{level}/{code}`: the figures of a division, a
    /// team or a commissioner (the server decides who may ask what).
    pub async fn stats_report(
        &self,
        subject: &StatsSubject,
        params: &StatsParams,
    ) -> Result<Answer, SyncError> {
        let path = format!("/api/v1/stats/{}", subject.path());
        self.get_json(&path, &params.pairs()).await
    }

    /// `GET /api/v1/stats/{level}/{code}/scores?scheme=`: the scores of the
    /// subject's commissioners under `params.scheme` (the server's default
    /// scheme when none).
    pub async fn stats_scores(
        &self,
        subject: &StatsSubject,
        params: &StatsParams,
    ) -> Result<ScoreSheet, SyncError> {
        let path = format!("/api/v1/stats/{}/scores", subject.path());
        self.get_json(&path, &params.pairs()).await
    }

    /// `GET /api/v1/stats/{level}/{code}/export/{file}`: a spreadsheet's
    /// bytes, `file` being `workbook.xlsx` or `{sheet}.xlsx` / `{sheet}.csv`
    /// (`annual`, `uncovered`, `scores` …).
    pub async fn stats_export(
        &self,
        subject: &StatsSubject,
        params: &StatsParams,
        file: &str,
    ) -> Result<Vec<u8>, SyncError> {
        let path = format!("/api/v1/stats/{}/export/{file}", subject.path());
        let resp = send(self.get(&path).query(&params.pairs())).await?;
        Ok(resp.bytes().await.map_err(network)?.to_vec())
    }

    /// `PUT` or `DELETE /api/v1/admin/counties/{code}/tags/{tag}`.
    pub async fn admin_tag_county(
        &self,
        county: CountyCode,
        tag: crate::domain::CountyTag,
        on: bool,
    ) -> Result<(), SyncError> {
        let url = format!(
            "{}/api/v1/admin/counties/{county}/tags/{}",
            self.base,
            tag.code()
        );
        let req = if on {
            self.http.put(url)
        } else {
            self.http.delete(url)
        };
        send(req.bearer_auth(&self.token)).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(status: u16, body: &str) -> (String, Option<bool>) {
        match problem_of(status, body.as_bytes()) {
            SyncError::Server {
                status: s,
                code,
                retryable,
            } => {
                assert_eq!(s, status);
                (code, Some(retryable))
            }
            other => (other.code(), None),
        }
    }

    #[test]
    fn error_answers_become_errors_with_codes_and_retry_advice() {
        let problem = |code: &str, retryable: bool| {
            format!(
                r#"{{"type":"about:blank","status":0,"code":"{code}","retryable":{retryable}}}"#
            )
        };
        // (status, body, code, retryable; None = a token error of its own)
        let cases: Vec<(u16, String, &str, Option<bool>)> = vec![
            (
                400,
                problem("bad_request", false),
                "bad_request",
                Some(false),
            ),
            (409, problem("busy", true), "busy", Some(true)),
            (
                503,
                problem("unavailable", false),
                "unavailable",
                Some(true),
            ),
            (500, String::new(), "http_500", Some(true)),
            (
                502,
                "<html>bad gateway</html>".into(),
                "http_502",
                Some(true),
            ),
            (429, String::new(), "http_429", Some(true)),
            (
                429,
                problem("rate_limited", false),
                "rate_limited",
                Some(false),
            ),
            (404, String::new(), "http_404", Some(false)),
            (401, problem("token_revoked", false), "token_revoked", None),
            (401, problem("token_expired", false), "token_expired", None),
            (
                401,
                problem("unauthenticated", false),
                "unauthenticated",
                None,
            ),
            (401, String::new(), "http_401", Some(false)),
        ];
        for (status, body, code, retryable) in cases {
            assert_eq!(
                decoded(status, &body),
                (code.to_string(), retryable),
                "{status} {body}"
            );
        }
    }
}
