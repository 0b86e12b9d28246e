//! The device's sync engine: pushes the outbox, pulls since the cursor,
//! applies, acknowledges; uploads photos with resume; retries what a retry
//! can fix and stops clearly on what it cannot. No sync logic lives in the
//! Tauri shell: it only starts [`SyncEngine::run`] and reads its status.
//!
//! A round ([`SyncEngine::sync_once`]) is: upload photos, push the outbox in
//! batches, pull pages until the server has nothing more, repair documents
//! whose changes arrived without their dependencies. Each step leaves the
//! store consistent, so a connection cut anywhere loses nothing: the next
//! round resends what was not acknowledged and re-pulls from the last saved
//! cursor.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

use super::protocol::{
    self, ChangeOutcome, EnrolRequest, EnrolResponse, Me, Problem, PullResponse, PushRequest,
    PushResponse, WireChange,
};
use super::status::{Progress, SyncErrorInfo, SyncPhase, SyncStatus};
use crate::domain::{CountyCode, DeviceId, DocId, PhotoHash};
use crate::store::{DocChange, RegisterSlice, Store, StoreError};

/// Meta key holding the [`Enrolment`] as JSON.
pub const META_ENROLMENT: &str = "sync.enrolment";
/// Meta key holding the pull cursor.
pub const META_CURSOR: &str = "sync.cursor";
/// Meta key holding the county slice's ETag.
pub const META_REGISTER_ETAG: &str = "sync.register_etag";

/// What a device keeps after enrolling: where the server is and its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    /// Base URL of the server, e.g. `https://sync.example.cn`.
    pub server: String,
    /// This device.
    pub device_id: DeviceId,
    /// The device token.
    pub token: String,
    /// Who the device acts for.
    pub me: Me,
}

/// A failed sync step.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server could not be reached, or the connection broke.
    #[error("network: {0}")]
    Network(String),
    /// The server answered with an error.
    #[error("server answered {status}: {code}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The problem's stable code.
        code: String,
        /// Whether a retry can help.
        retryable: bool,
    },
    /// The device was revoked by a sync admin.
    #[error("this device was revoked")]
    Revoked,
    /// The token expired from long disuse; enrol again.
    #[error("the device token expired")]
    Expired,
    /// The server does not know the token.
    #[error("the server does not know this device")]
    Unauthenticated,
    /// The device is not enrolled.
    #[error("not enrolled")]
    NotEnrolled,
    /// An answer that does not decode (often a body cut short).
    #[error("protocol: {0}")]
    Protocol(String),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// Whether retrying the same step later can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Network(_) | SyncError::Protocol(_) => true,
            SyncError::Server { retryable, .. } => *retryable,
            SyncError::Revoked
            | SyncError::Expired
            | SyncError::Unauthenticated
            | SyncError::NotEnrolled
            | SyncError::Store(_) => false,
        }
    }

    /// A stable code for the interface.
    pub fn code(&self) -> String {
        match self {
            SyncError::Network(_) => "network".into(),
            SyncError::Server { code, .. } => code.clone(),
            SyncError::Revoked => "token_revoked".into(),
            SyncError::Expired => "token_expired".into(),
            SyncError::Unauthenticated => "unauthenticated".into(),
            SyncError::NotEnrolled => "not_enrolled".into(),
            SyncError::Protocol(_) => "protocol".into(),
            SyncError::Store(e) => format!("store_{}", e.code()),
        }
    }
}

fn network(e: reqwest::Error) -> SyncError {
    SyncError::Network(e.to_string())
}

/// Tuning of the engine; the defaults suit 2G.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Most changes per push.
    pub push_max_changes: usize,
    /// About how many bytes of changes per push (a request on 2G at
    /// 70 kbit/s takes about 8 s per 64 KB).
    pub push_max_bytes: usize,
    /// Most changes per pull page.
    pub pull_limit: u32,
    /// Photo upload chunk size.
    pub photo_chunk: usize,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed for one request.
    pub request_timeout: Duration,
    /// Pause between rounds when everything is up to date.
    pub interval: Duration,
    /// Whether to reuse connections between requests (on 2G this saves a
    /// handshake per request; tests through a fault proxy turn it off so
    /// that each request meets its own fault).
    pub keep_alive: bool,
    /// First retry delay; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            push_max_changes: 500,
            push_max_bytes: 64 * 1024,
            pull_limit: protocol::MAX_PULL_CHANGES,
            photo_chunk: 64 * 1024,
            connect_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(120),
            interval: Duration::from_secs(60),
            keep_alive: true,
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// Changes acknowledged by the server (stored or already there).
    pub acknowledged: usize,
    /// Changes the server refused.
    pub refused: usize,
    /// Changes the server could not place yet (missing dependencies).
    pub missing_deps: usize,
    /// Changes received.
    pub pulled: usize,
    /// Received changes that were new here.
    pub applied: usize,
    /// Photos completed.
    pub photos_uploaded: usize,
    /// Photo bytes sent.
    pub photo_bytes_sent: u64,
    /// HTTP requests made.
    pub requests: usize,
}

/// The HTTP side of the protocol, without state.
#[derive(Debug, Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    base: String,
    token: String,
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
    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    let problem: Option<Problem> = serde_json::from_slice(&body).ok();
    let code = problem
        .as_ref()
        .map(|p| p.code.clone())
        .unwrap_or_else(|| format!("http_{}", status.as_u16()));
    match code.as_str() {
        "token_revoked" => return SyncError::Revoked,
        "token_expired" => return SyncError::Expired,
        "unauthenticated" => return SyncError::Unauthenticated,
        _ => {}
    }
    let retryable = problem.map_or(
        status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS,
        |p| p.retryable || status.is_server_error(),
    );
    SyncError::Server {
        status: status.as_u16(),
        code,
        retryable,
    }
}

/// Enrols this device with a user's credentials.
pub async fn enrol(
    server: &str,
    request: &EnrolRequest,
    options: &EngineOptions,
) -> Result<EnrolResponse, SyncError> {
    let http = build_http(options)?;
    let resp = http
        .post(format!(
            "{}/api/v1/devices/enrol",
            server.trim_end_matches('/')
        ))
        .json(request)
        .send()
        .await
        .map_err(network)?;
    if !resp.status().is_success() {
        return Err(problem(resp).await);
    }
    let bytes = resp.bytes().await.map_err(network)?;
    serde_json::from_slice(&bytes).map_err(|e| SyncError::Protocol(e.to_string()))
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
        })
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
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
        let mut req = self
            .http
            .post(format!("{}/api/v1/sync/push", self.base))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, protocol::MEDIA_TYPE);
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
        let limit = limit.to_string();
        let mut query: Vec<(&str, &str)> = vec![("limit", &limit)];
        if let Some(c) = cursor {
            query.push(("cursor", c));
        }
        let req = self.get("/api/v1/sync/pull").query(&query);
        match send_optional(req, StatusCode::NO_CONTENT).await? {
            None => Ok(None),
            Some(resp) => read_msgpack(resp).await.map(Some),
        }
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
            s => Err(SyncError::Server {
                status: s.as_u16(),
                code: format!("http_{}", s.as_u16()),
                retryable: s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS,
            }),
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

/// Runs a store operation off the async runtime's threads.
async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, SyncError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| SyncError::Protocol(format!("store task failed: {e}")))?
        .map_err(SyncError::from)
}

/// Saves an enrolment into the store and fetches the county register.
pub async fn complete_enrolment(
    store: &Arc<Store>,
    server: &str,
    answer: EnrolResponse,
    options: &EngineOptions,
) -> Result<Enrolment, SyncError> {
    let enrolment = Enrolment {
        server: server.trim_end_matches('/').to_string(),
        device_id: answer.device_id,
        token: answer.token,
        me: answer.me,
    };
    let json = serde_json::to_string(&enrolment).map_err(|e| SyncError::Protocol(e.to_string()))?;
    blocking(store, move |s| {
        s.meta_set(META_ENROLMENT, &json)?;
        s.meta_delete(META_CURSOR)?;
        s.meta_delete(META_REGISTER_ETAG)
    })
    .await?;
    let engine = SyncEngine::new(Arc::clone(store), options.clone())?;
    engine.refresh_register().await?;
    Ok(enrolment)
}

/// Enrols this device again in place of its own earlier enrolment, with
/// its user's password: for a device that a sync admin revoked, or whose
/// token expired from months of disuse. The server moves the old device's
/// actors and quarantines to the new one, so everything still in the outbox
/// syncs as before; the pull cursor and register are kept. The answer must
/// be for the same user, or nothing is saved.
pub async fn re_enrol(
    store: &Arc<Store>,
    password: &str,
    device_name: &str,
    platform: &str,
    options: &EngineOptions,
) -> Result<Enrolment, SyncError> {
    let old = blocking(store, enrolment)
        .await?
        .ok_or(SyncError::NotEnrolled)?;
    let request = EnrolRequest {
        username: old.me.user.username.clone(),
        password: password.to_owned(),
        device_name: device_name.to_owned(),
        platform: platform.to_owned(),
        replaces: Some(old.device_id),
    };
    let answer = enrol(&old.server, &request, options).await?;
    if answer.me.user.id != old.me.user.id {
        return Err(SyncError::Protocol(
            "the server answered for another user".into(),
        ));
    }
    let enrolment = Enrolment {
        server: old.server,
        device_id: answer.device_id,
        token: answer.token,
        me: answer.me,
    };
    let json = serde_json::to_string(&enrolment).map_err(|e| SyncError::Protocol(e.to_string()))?;
    blocking(store, move |s| s.meta_set(META_ENROLMENT, &json)).await?;
    Ok(enrolment)
}

/// The enrolment saved in a store, if any.
pub fn enrolment(store: &Store) -> Result<Option<Enrolment>, StoreError> {
    Ok(store
        .meta_get(META_ENROLMENT)?
        .and_then(|json| serde_json::from_str(&json).ok()))
}

/// Running totals of what an engine put on the wire, across rounds
/// (including rounds that failed part-way).
#[derive(Debug, Default)]
pub struct EngineCounters {
    /// Photo chunk bytes handed to the network, acknowledged or not.
    pub photo_bytes_attempted: std::sync::atomic::AtomicU64,
}

/// The background sync engine of one device.
#[derive(Debug, Clone)]
pub struct SyncEngine {
    store: Arc<Store>,
    options: EngineOptions,
    status: Arc<Mutex<SyncStatus>>,
    counters: Arc<EngineCounters>,
}

impl SyncEngine {
    /// An engine over `store`.
    pub fn new(store: Arc<Store>, options: EngineOptions) -> Result<Self, SyncError> {
        Ok(SyncEngine {
            store,
            options,
            status: Arc::new(Mutex::new(SyncStatus::default())),
            counters: Arc::default(),
        })
    }

    /// What this engine has put on the wire so far.
    pub fn counters(&self) -> &EngineCounters {
        &self.counters
    }

    /// The current status.
    pub fn status(&self) -> SyncStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn update(&self, f: impl FnOnce(&mut SyncStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Refreshes the pending counts from the store.
    pub async fn refresh_counts(&self) -> Result<(), SyncError> {
        let (outbox, photo_bytes, refused) = blocking(&self.store, |s| {
            Ok((
                s.outbox_stats()?,
                s.pending_photo_bytes()?,
                s.refused_changes()?.len() as u64,
            ))
        })
        .await?;
        self.update(|st| {
            st.pending_changes = outbox.changes;
            st.pending_records = outbox.records;
            st.pending_photo_bytes = photo_bytes;
            st.refused_changes = refused;
        });
        Ok(())
    }

    async fn client(&self) -> Result<SyncClient, SyncError> {
        let enrolment = blocking(&self.store, enrolment)
            .await?
            .ok_or(SyncError::NotEnrolled)?;
        SyncClient::new(&enrolment.server, &enrolment.token, &self.options)
    }

    /// Downloads the user's county register if it changed.
    pub async fn refresh_register(&self) -> Result<bool, SyncError> {
        let enrolment = blocking(&self.store, enrolment)
            .await?
            .ok_or(SyncError::NotEnrolled)?;
        let Some(county) = enrolment.me.county else {
            return Ok(false);
        };
        let client = self.client().await?;
        let etag = blocking(&self.store, |s| s.meta_get(META_REGISTER_ETAG)).await?;
        match client.county(county, etag.as_deref()).await? {
            None => Ok(false),
            Some((slice, tag)) => {
                blocking(&self.store, move |s| {
                    s.import_slice(&slice)?;
                    if let Some(tag) = tag {
                        s.meta_set(META_REGISTER_ETAG, &tag)?;
                    }
                    Ok(())
                })
                .await?;
                Ok(true)
            }
        }
    }

    /// One full round: photos, push, pull, repair. Updates the status.
    pub async fn sync_once(&self) -> Result<SyncReport, SyncError> {
        let result = self.round().await;
        let now = self.store.clock().now();
        match &result {
            Ok(_) => self.update(|st| {
                st.online = true;
                st.last_success = Some(now);
                st.last_error = None;
                st.phase = SyncPhase::Idle;
                st.progress = None;
            }),
            Err(e) => {
                let info = SyncErrorInfo {
                    code: e.code(),
                    retryable: e.is_retryable(),
                    at: now,
                };
                let offline = matches!(e, SyncError::Network(_));
                self.update(|st| {
                    st.online = !offline;
                    st.last_error = Some(info);
                    st.phase = if e.is_retryable() {
                        SyncPhase::Backoff
                    } else {
                        SyncPhase::Stopped
                    };
                    st.progress = None;
                });
            }
        }
        self.refresh_counts().await.ok();
        result
    }

    async fn round(&self) -> Result<SyncReport, SyncError> {
        let client = self.client().await?;
        let mut report = SyncReport::default();
        self.refresh_counts().await?;
        self.upload_photos(&client, &mut report).await?;
        self.push_all(&client, &mut report).await?;
        self.pull_all(&client, &mut report).await?;
        self.repair(&client, &mut report).await?;
        Ok(report)
    }

    async fn upload_photos(
        &self,
        client: &SyncClient,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let pending = blocking(&self.store, |s| s.photos_to_upload()).await?;
        if pending.is_empty() {
            return Ok(());
        }
        let total: u64 = pending.iter().map(|p| p.len - p.offset).sum();
        let mut done = 0u64;
        self.update(|st| {
            st.phase = SyncPhase::UploadingPhotos;
            st.progress = Some(Progress {
                done: 0,
                total: Some(total),
            });
        });
        for photo in pending {
            // Ask the server where it stands: it may have more than we
            // recorded (a chunk whose answer was lost) or nothing at all.
            report.requests += 1;
            let mut offset = match client.photo_offset(&photo.hash).await? {
                Some(o) => o,
                None => {
                    report.requests += 1;
                    client.photo_create(&photo.hash, photo.len).await?
                }
            };
            while offset < photo.len {
                let hash = photo.hash;
                let len = self.options.photo_chunk;
                let chunk = blocking(&self.store, move |s| s.photo_chunk(&hash, offset, len))
                    .await?
                    .ok_or_else(|| SyncError::Protocol(format!("photo {hash} vanished")))?;
                let sent = chunk.len() as u64;
                self.counters
                    .photo_bytes_attempted
                    .fetch_add(sent, std::sync::atomic::Ordering::Relaxed);
                report.requests += 1;
                match client.photo_patch(&photo.hash, offset, chunk).await {
                    Ok(next) => {
                        report.photo_bytes_sent += sent;
                        done += next.saturating_sub(offset);
                        offset = next;
                        blocking(&self.store, move |s| s.set_photo_offset(&hash, next)).await?;
                        self.update(|st| {
                            st.progress = Some(Progress {
                                done,
                                total: Some(total),
                            })
                        });
                    }
                    Err(SyncError::Server { code, .. }) if code == "upload_offset_mismatch" => {
                        report.requests += 1;
                        offset = match client.photo_offset(&photo.hash).await? {
                            Some(o) => o,
                            None => client.photo_create(&photo.hash, photo.len).await?,
                        };
                    }
                    Err(e) => return Err(e),
                }
            }
            let hash = photo.hash;
            blocking(&self.store, move |s| s.mark_photo_uploaded(&hash)).await?;
            report.photos_uploaded += 1;
        }
        Ok(())
    }

    async fn push_all(
        &self,
        client: &SyncClient,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let total = blocking(&self.store, |s| s.outbox_stats()).await?.changes;
        let mut done = 0u64;
        // Entries the server could not place yet are skipped this round.
        let mut skip: usize = 0;
        loop {
            let (max_changes, max_bytes) =
                (self.options.push_max_changes, self.options.push_max_bytes);
            let batch = blocking(&self.store, move |s| {
                s.outbox_peek(max_changes + skip, usize::MAX)
            })
            .await?;
            let batch: Vec<_> = batch.into_iter().skip(skip).collect();
            let mut size = 0usize;
            let batch: Vec<_> = batch
                .into_iter()
                .take_while(|e| {
                    size += e.change.bytes.len();
                    size <= max_bytes || size == e.change.bytes.len()
                })
                .take(max_changes)
                .collect();
            if batch.is_empty() {
                return Ok(());
            }
            self.update(|st| {
                st.phase = SyncPhase::Pushing;
                st.progress = Some(Progress {
                    done,
                    total: Some(total),
                });
            });
            let wire: Vec<WireChange> = batch
                .iter()
                .map(|e| WireChange {
                    doc: e.change.doc_id,
                    bytes: e.change.bytes.clone(),
                })
                .collect();
            report.requests += 1;
            let answer = client.push(wire).await?;
            let mut acked = Vec::new();
            for (entry, outcome) in batch.iter().zip(&answer.outcomes) {
                match outcome {
                    ChangeOutcome::Stored | ChangeOutcome::Duplicate => acked.push(entry.hash),
                    ChangeOutcome::Refused { code, reason } => {
                        report.refused += 1;
                        let (hash, code, reason) =
                            (entry.hash, code.as_str().to_string(), reason.clone());
                        tracing::warn!(doc = %entry.change.doc_id, %code, %reason, "change refused");
                        blocking(&self.store, move |s| s.outbox_refuse(&hash, &code, &reason))
                            .await?;
                    }
                    ChangeOutcome::MissingDeps => {
                        report.missing_deps += 1;
                        skip += 1;
                    }
                }
            }
            report.acknowledged += acked.len();
            done += batch.len() as u64;
            blocking(&self.store, move |s| s.outbox_ack(&acked)).await?;
        }
    }

    async fn pull_all(
        &self,
        client: &SyncClient,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let mut cursor = blocking(&self.store, |s| s.meta_get(META_CURSOR)).await?;
        loop {
            self.update(|st| {
                st.phase = SyncPhase::Pulling;
                st.progress = Some(Progress {
                    done: report.pulled as u64,
                    total: None,
                });
            });
            report.requests += 1;
            let Some(page) = client
                .pull(cursor.as_deref(), self.options.pull_limit)
                .await?
            else {
                return Ok(());
            };
            report.pulled += page.changes.len();
            let more = page.more;
            let next = page.cursor.clone();
            let applied = self.apply(page.changes).await?;
            report.applied += applied;
            // Save the cursor only after the changes are durable: a cut here
            // re-pulls the page, which applies as duplicates.
            let saved = next.clone();
            blocking(&self.store, move |s| s.meta_set(META_CURSOR, &saved)).await?;
            cursor = Some(next);
            if !more {
                return Ok(());
            }
        }
    }

    async fn apply(&self, changes: Vec<WireChange>) -> Result<usize, SyncError> {
        let changes: Vec<DocChange> = changes
            .into_iter()
            .map(|c| DocChange {
                doc_id: c.doc,
                bytes: c.bytes,
            })
            .collect();
        let report = blocking(&self.store, move |s| s.apply_changes(&changes)).await?;
        for (doc, why) in &report.rejected {
            tracing::warn!(%doc, %why, "server sent a change that does not decode");
        }
        Ok(report.applied)
    }

    async fn repair(&self, client: &SyncClient, report: &mut SyncReport) -> Result<(), SyncError> {
        let docs = blocking(&self.store, |s| s.docs_with_pending_changes()).await?;
        for doc in docs {
            report.requests += 1;
            if let Some(page) = client.document(doc).await? {
                report.applied += self.apply(page.changes).await?;
            }
        }
        Ok(())
    }

    /// Runs rounds until `stop` resolves: after a success, waits for `wake`
    /// or the interval; after a retryable error, backs off exponentially
    /// with jitter; after any other error, waits for `wake` (a new sign-in).
    pub async fn run(
        self,
        wake: Arc<tokio::sync::Notify>,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut backoff = self.options.min_backoff;
        loop {
            let wait = match self.sync_once().await {
                Ok(report) => {
                    tracing::debug!(?report, "sync round done");
                    backoff = self.options.min_backoff;
                    Some(self.options.interval)
                }
                Err(e) if e.is_retryable() => {
                    tracing::info!(error = %e, ?backoff, "sync round failed; will retry");
                    let jitter = Duration::from_millis(
                        rand::random::<u64>() % (backoff.as_millis() as u64 / 4 + 1),
                    );
                    let wait = backoff + jitter;
                    backoff = (backoff * 2).min(self.options.max_backoff);
                    Some(wait)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "sync stopped");
                    None
                }
            };
            match wait {
                Some(wait) => tokio::select! {
                    _ = &mut stop => return,
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                },
                None => tokio::select! {
                    _ = &mut stop => return,
                    _ = wake.notified() => {}
                },
            }
        }
    }
}
