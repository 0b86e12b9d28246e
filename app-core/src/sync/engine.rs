//! The device's sync engine: the I/O around the decisions of
//! [`super::decide`]. It reads the store, talks to the server through
//! [`SyncClient`], and does what the decisions answer: pushes the outbox,
//! pulls since the cursor, applies, acknowledges; uploads photos with
//! resume; downloads and verifies a teammate's photo; keeps the status and
//! the time of the last success; retries what a retry can fix and stops
//! clearly on what it cannot. No sync logic lives in the Tauri shell: it
//! only starts [`SyncEngine::run`] and reads [`SyncEngine::status_now`].
//!
//! A round ([`SyncEngine::sync_once`]) is: upload photos, push the outbox in
//! batches, pull pages until the server has nothing more, collect the
//! notices a pull announces (what sync admins decided about this device's
//! refused changes), repair documents whose changes arrived without their
//! dependencies. Each step leaves the store consistent, so a connection cut
//! anywhere loses nothing: the next round resends what was not acknowledged
//! and re-pulls from the last saved cursor. Pushes and pulls carry a report
//! of the outbox ([`protocol::DeviceReport`]), so a sync admin sees a
//! device whose backlog does not go out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::decide::{self, PatchNext, PullNext, PushLimits, UploadStart, Wait};
use super::enrol::stored_enrolment;
use super::error::SyncError;
use super::http::SyncClient;
use super::protocol::{self, DeviceReport, Notice, WireChange};
use super::status::{Progress, SyncPhase, SyncStatus};
use crate::domain::{PhotoHash, Timestamp};
use crate::store::{DocChange, OutboxEntry, PendingPhoto, Store, StoreError};

/// Meta key holding the pull cursor.
pub const META_CURSOR: &str = "sync.cursor";
/// Meta key holding the county slice's ETag.
pub const META_REGISTER_ETAG: &str = "sync.register_etag";
/// Meta key holding the time of the last successful round (milliseconds),
/// kept across restarts. (Named before the engine kept it, when the shell
/// did; devices in the field have it under this name.)
pub const META_LAST_SUCCESS: &str = "ui.last_sync";
/// Meta key holding the notices kept for the user (JSON).
pub const META_NOTICES: &str = "sync.notices";
/// Meta key holding the user's choice about downloading the review
/// queue's photos in the background (`off` turns it off; on otherwise).
pub const META_PREFETCH: &str = "sync.prefetch_photos";
/// Most photos the background prefetch downloads in one round.
pub const PREFETCH_PER_ROUND: u32 = 60;

/// Tuning of the engine; the defaults suit 2G.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Most changes per push.
    pub push_max_changes: usize,
    /// About how many bytes of changes per push (a request on 2G at
    /// 70 kbit/s takes about 8 s per 64 KB).
    pub push_max_bytes: usize,
    /// Most changes per pull page (per part of a streamed pull).
    pub pull_limit: u32,
    /// Whether to pull in one streamed request
    /// (`GET /api/v1/sync/pull/stream`, parts applied and checkpointed one
    /// by one) rather than a request per page. A server without the
    /// streamed route (`404`) is pulled by pages whatever this says.
    pub pull_stream: bool,
    /// Whether a streamed pull asks for compact parts
    /// ([`super::compact`]): the same changes in fewer bytes. A server
    /// without them answers plain parts whatever this says.
    pub compact_parts: bool,
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
    /// The app's version, reported to the server with pushes and pulls.
    pub app_version: String,
    /// Whether the platform says the connection does not cost by the byte
    /// (Wi-Fi, a wired desktop): the background download of the review
    /// queue's photos runs only then ([`decide::prefetch_photos`]).
    pub unmetered: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            push_max_changes: 500,
            push_max_bytes: 64 * 1024,
            pull_limit: protocol::MAX_PULL_CHANGES,
            pull_stream: true,
            compact_parts: true,
            photo_chunk: 64 * 1024,
            connect_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(120),
            interval: Duration::from_secs(60),
            keep_alive: true,
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
            unmetered: false,
        }
    }
}

impl EngineOptions {
    /// The limits of one push.
    pub fn push_limits(&self) -> PushLimits {
        PushLimits {
            max_changes: self.push_max_changes,
            max_bytes: self.push_max_bytes,
        }
    }

    /// The pacing of rounds these options give.
    pub fn backoff(&self) -> decide::Backoff {
        decide::Backoff::new(self.min_backoff, self.max_backoff, self.interval)
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
    /// Photos of the review queue downloaded in the background.
    pub photos_prefetched: usize,
    /// Notices collected (a sync admin's decisions on refused changes).
    pub notices: usize,
    /// Photo bytes sent.
    pub photo_bytes_sent: u64,
    /// HTTP requests made.
    pub requests: usize,
}

/// Running totals of what an engine put on the wire, across rounds
/// (including rounds that failed part-way).
#[derive(Debug, Default)]
pub struct EngineCounters {
    /// Photo chunk bytes handed to the network, acknowledged or not.
    pub photo_bytes_attempted: AtomicU64,
}

/// Runs a store operation off the async runtime's threads.
pub(crate) async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, SyncError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| SyncError::Protocol(format!("store task failed: {e}")))?
        .map_err(SyncError::from)
}

fn kept_notices(store: &Store) -> Result<Vec<Notice>, StoreError> {
    Ok(store
        .meta_get(META_NOTICES)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

fn keep_notices(store: &Store, notices: &[Notice]) -> Result<(), StoreError> {
    let json = serde_json::to_string(notices)
        .map_err(|e| StoreError::Corrupt(format!("notices as JSON: {e}")))?;
    store.meta_set(META_NOTICES, &json)
}

fn kept_last_success(store: &Store) -> Result<Option<Timestamp>, StoreError> {
    Ok(store
        .meta_get(META_LAST_SUCCESS)?
        .and_then(|s| s.parse::<i64>().ok())
        .map(Timestamp::from_millis))
}

/// The background sync engine of one device.
#[derive(Debug, Clone)]
pub struct SyncEngine {
    store: Arc<Store>,
    options: EngineOptions,
    status: Arc<Mutex<SyncStatus>>,
    counters: Arc<EngineCounters>,
    /// The last report a pull carried that the server answered: a pull
    /// sends the report only when it differs, so that a reconnect with
    /// nothing new stays one bare request.
    reported: Arc<Mutex<Option<DeviceReport>>>,
    /// Whether the last streamed pull was a compact one that broke
    /// part-way: the next one asks for compact parts again although it has
    /// a cursor (otherwise only a pull from no cursor asks, so that a
    /// reconnect with nothing new stays the same bare request).
    resume_compact: Arc<std::sync::atomic::AtomicBool>,
    /// Whether a pull from no cursor that asked for compact parts was
    /// answered `204`: later ones do not ask again (while this engine
    /// runs), so that a device with nothing to receive reconnects with the
    /// same bare request as before compact parts.
    compact_found_nothing: Arc<std::sync::atomic::AtomicBool>,
    /// Whether a compact part failed to rebuild ([`SyncError::PartCorrupt`]):
    /// then every later pull of this run asks for plain parts, so that a
    /// fault in the compact form (or a proxy that mangles it) costs one
    /// round, not the device's sync.
    compact_refused: Arc<std::sync::atomic::AtomicBool>,
    /// The tables of the compact stream that broke last, for the next
    /// pull to resume it with ([`super::http::CompactSeed`]).
    compact_seed: Arc<std::sync::Mutex<Option<super::http::CompactSeed>>>,
}

impl SyncEngine {
    /// An engine over `store`; its status starts with the last success
    /// kept in the store.
    pub fn new(store: Arc<Store>, options: EngineOptions) -> Result<Self, SyncError> {
        let status = SyncStatus {
            last_success: kept_last_success(&store)?,
            notices: kept_notices(&store)?,
            ..SyncStatus::default()
        };
        Ok(SyncEngine {
            store,
            options,
            status: Arc::new(Mutex::new(status)),
            counters: Arc::default(),
            reported: Arc::default(),
            resume_compact: Arc::default(),
            compact_found_nothing: Arc::default(),
            compact_refused: Arc::default(),
            compact_seed: Arc::default(),
        })
    }

    /// The store this engine syncs.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// What this engine has put on the wire so far.
    pub fn counters(&self) -> &EngineCounters {
        &self.counters
    }

    /// The current status, with the pending counts of the last refresh.
    pub fn status(&self) -> SyncStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The current status with the pending counts read from the store now,
    /// so that a save shows at once (blocks briefly on SQLite).
    pub fn status_now(&self) -> Result<SyncStatus, SyncError> {
        let pending = self.store.pending_work()?;
        let mut status = self.status();
        status.set_pending(&pending);
        status.notices = kept_notices(&self.store)?;
        Ok(status)
    }

    /// The notices kept for the user: what sync admins decided about this
    /// device's refused changes, oldest first.
    pub fn notices(&self) -> Result<Vec<Notice>, SyncError> {
        Ok(kept_notices(&self.store)?)
    }

    /// Forgets a notice the user has read.
    pub fn dismiss_notice(&self, id: i64) -> Result<(), SyncError> {
        let mut notices = kept_notices(&self.store)?;
        notices.retain(|n| n.id != id);
        keep_notices(&self.store, &notices)?;
        self.update(|st| st.notices = notices);
        Ok(())
    }

    fn update(&self, f: impl FnOnce(&mut SyncStatus)) {
        f(&mut self.status.lock().unwrap_or_else(|p| p.into_inner()));
    }

    fn enter(&self, phase: SyncPhase, done: u64, total: Option<u64>) {
        self.update(|st| {
            st.phase = phase;
            st.progress = Some(Progress { done, total });
        });
    }

    /// Refreshes the pending counts from the store.
    pub async fn refresh_counts(&self) -> Result<(), SyncError> {
        let pending = blocking(&self.store, |s| s.pending_work()).await?;
        self.update(|st| st.set_pending(&pending));
        Ok(())
    }

    async fn client(&self) -> Result<SyncClient, SyncError> {
        let enrolment = blocking(&self.store, stored_enrolment)
            .await?
            .ok_or(SyncError::NotEnrolled)?;
        SyncClient::new(&enrolment.server, &enrolment.token, &self.options)
    }

    /// Downloads the user's county register if it changed.
    pub async fn refresh_register(&self) -> Result<bool, SyncError> {
        let enrolment = blocking(&self.store, stored_enrolment)
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

    /// A photo's bytes: this device's copy, or else (a teammate's photo)
    /// fetched from the server once, checked against its hash and kept.
    /// `None` when not enrolled, offline, or the server does not have it
    /// (or sent bytes that are not the photo).
    pub async fn fetch_photo(&self, hash: PhotoHash) -> Result<Option<Vec<u8>>, SyncError> {
        if let Some(bytes) = blocking(&self.store, move |s| s.photo(&hash)).await? {
            return Ok(Some(bytes));
        }
        if blocking(&self.store, stored_enrolment).await?.is_none() {
            return Ok(None);
        }
        let client = self.client().await?;
        let answer = client.photo_get(&hash).await.unwrap_or_else(|e| {
            tracing::debug!(%hash, error = %e, "photo download failed");
            None
        });
        let Some(bytes) = decide::verified_photo(&hash, answer) else {
            return Ok(None);
        };
        let kept = bytes.clone();
        blocking(&self.store, move |s| s.put_downloaded_photo(&kept)).await?;
        Ok(Some(bytes))
    }

    /// Fetches one record's whole document from the server and applies it
    /// here (the sync admin's console opens records this device may not
    /// hold). `false` when the server does not serve it (not in scope);
    /// an error when the server cannot be reached.
    pub async fn fetch_document(&self, id: crate::domain::DocId) -> Result<bool, SyncError> {
        let client = self.client().await?;
        match client.document(id).await? {
            None => Ok(false),
            Some(page) => {
                self.apply(page.changes).await?;
                Ok(true)
            }
        }
    }

    /// One full round: photos, push, pull, repair. Updates the status, and
    /// after a success keeps its time in the store.
    pub async fn sync_once(&self) -> Result<SyncReport, SyncError> {
        let result = self.round().await;
        let now = self.store.clock().now();
        let outcome = result.as_ref().map(|_| ());
        self.update(|st| *st = decide::status_after_round(std::mem::take(st), outcome, now));
        if result.is_ok() {
            let kept = blocking(&self.store, move |s| {
                if decide::keep_last_success(kept_last_success(s)?, now) {
                    s.meta_set(META_LAST_SUCCESS, &now.as_millis().to_string())?;
                }
                Ok(())
            })
            .await;
            if let Err(e) = kept {
                tracing::warn!(error = %e, "the time of the last sync could not be kept");
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
        // Pushes report the outbox as the round found it; pulls what the
        // pushes left (the server watches whether that grows), unless the
        // server has that report already.
        let before_push = self.outbox_report().await?;
        let pushing = client.reporting(before_push.clone());
        let requests = report.requests;
        self.push_all(&pushing, &mut report).await?;
        if report.requests > requests {
            // The server has the pushes' report now.
            *self.reported.lock().unwrap_or_else(|p| p.into_inner()) = Some(before_push);
        }
        let after_push = self.outbox_report().await?;
        let known = self
            .reported
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            == Some(&after_push);
        let pulling = if known {
            client.clone()
        } else {
            client.reporting(after_push.clone())
        };
        let announced = self.pull_all(&pulling, &mut report).await?;
        *self.reported.lock().unwrap_or_else(|p| p.into_inner()) = Some(after_push);
        if announced > 0 {
            self.collect_notices(&client, &mut report).await?;
        }
        self.repair(&client, &mut report).await?;
        self.prefetch_photos(&client, &mut report).await?;
        Ok(report)
    }

    /// Whether the user lets the engine download the review queue's photos
    /// in the background (on unless turned off).
    pub fn prefetch_enabled(&self) -> Result<bool, SyncError> {
        Ok(self.store.meta_get(META_PREFETCH)?.as_deref() != Some("off"))
    }

    /// Turns the background download of the review queue's photos on or off.
    pub fn set_prefetch_enabled(&self, on: bool) -> Result<(), SyncError> {
        Ok(self
            .store
            .meta_set(META_PREFETCH, if on { "on" } else { "off" })?)
    }

    /// Whether this engine's platform reports an unmetered connection.
    pub fn unmetered(&self) -> bool {
        self.options.unmetered
    }

    /// Downloads photos of a team lead's review queue that are not on the
    /// device (thumbnails first), so that review works offline; only when
    /// [`decide::prefetch_photos`] allows. A photo the server lacks or sends
    /// wrong is skipped (the next round tries again); a network failure
    /// ends the prefetch, not the round.
    async fn prefetch_photos(
        &self,
        client: &SyncClient,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let enabled = blocking(&self.store, |s| {
            Ok(s.meta_get(META_PREFETCH)?.as_deref() != Some("off"))
        })
        .await?;
        if !decide::prefetch_photos(enabled, self.options.unmetered) {
            return Ok(());
        }
        let wanted = blocking(&self.store, |s| match stored_enrolment(s)? {
            Some(e) => s.review_photos_to_fetch(&e.principal(), PREFETCH_PER_ROUND),
            None => Ok(Vec::new()),
        })
        .await?;
        for hash in wanted {
            report.requests += 1;
            let answer = match client.photo_get(&hash).await {
                Ok(answer) => answer,
                Err(e) => {
                    tracing::debug!(%hash, error = %e, "photo prefetch stopped");
                    return Ok(());
                }
            };
            if let Some(bytes) = decide::verified_photo(&hash, answer) {
                blocking(&self.store, move |s| s.put_downloaded_photo(&bytes)).await?;
                report.photos_prefetched += 1;
            }
        }
        Ok(())
    }

    /// Fetches the signed-in team lead's roster (members, when their
    /// devices last synced) and keeps it for offline use. `None` for anyone
    /// but a team lead.
    pub async fn refresh_team(&self) -> Result<Option<crate::team::TeamRoster>, SyncError> {
        let enrolment = blocking(&self.store, stored_enrolment)
            .await?
            .ok_or(SyncError::NotEnrolled)?;
        if enrolment.me.user.role != crate::domain::Role::TeamLead {
            return Ok(None);
        }
        let roster = self.client().await?.team_members().await?;
        let kept = roster.clone();
        blocking(&self.store, move |s| s.keep_team_roster(&kept)).await?;
        Ok(Some(roster))
    }

    /// What this device reports about its outbox now.
    async fn outbox_report(&self) -> Result<DeviceReport, SyncError> {
        let (changes, oldest) = blocking(&self.store, |s| {
            let changes = s.outbox_stats()?.changes;
            // The oldest waiting change carries the time it was made.
            let oldest = s
                .outbox_peek(1, usize::MAX)?
                .first()
                .and_then(|e| crate::doc::decode_change(&e.change.bytes).ok())
                .map(|c| c.timestamp());
            Ok((changes, oldest))
        })
        .await?;
        Ok(decide::device_report(
            changes,
            oldest,
            self.store.clock().now(),
            &self.options.app_version,
        ))
    }

    /// Fetches the notices waiting on the server, settles the outbox
    /// entries they concern, keeps them for the user and acknowledges them.
    async fn collect_notices(
        &self,
        client: &SyncClient,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        report.requests += 1;
        let new = client.notices().await?.notices;
        let Some(up_to) = decide::notices_up_to(&new) else {
            return Ok(());
        };
        report.notices += new.len();
        for n in &new {
            tracing::info!(doc = %n.doc, kind = n.kind.as_str(), code = %n.code, reason = %n.reason, "notice");
        }
        let settle = decide::discarded_changes(&new);
        let released = decide::released_changes(&new);
        // A record with discarded changes is replaced with the server's
        // copy, so that later edits of it do not wait forever for them.
        let mut copies = Vec::new();
        for d in decide::discarded_docs(&new) {
            report.requests += 1;
            let changes: Vec<Vec<u8>> = client
                .document(d.doc)
                .await?
                .map(|page| page.changes.into_iter().map(|c| c.bytes).collect())
                .unwrap_or_default();
            copies.push((d, changes));
        }
        let kept = blocking(&self.store, move |s| {
            for (hash, reason) in &settle {
                s.outbox_refuse(hash, crate::store::CODE_DISCARDED, reason)?;
            }
            s.refused_release(&released)?;
            for (d, changes) in &copies {
                let rebuilt = s.replace_with_server_copy(d.doc, changes, &d.hashes, &d.reason)?;
                tracing::info!(doc = %d.doc, ?rebuilt, "replaced with the server's copy after a discard");
            }
            let kept = decide::merge_notices(kept_notices(s)?, new);
            keep_notices(s, &kept)?;
            Ok(kept)
        })
        .await?;
        self.update(|st| st.notices = kept);
        report.requests += 1;
        client.ack_notices(up_to).await
    }

    /// Where the server stands on a photo's upload, creating the upload
    /// when it does not know the photo.
    async fn server_offset(
        &self,
        client: &SyncClient,
        photo: &PendingPhoto,
        report: &mut SyncReport,
    ) -> Result<u64, SyncError> {
        report.requests += 1;
        match decide::upload_start(client.photo_offset(&photo.hash).await?) {
            UploadStart::At(offset) => Ok(offset),
            UploadStart::Create => {
                report.requests += 1;
                client.photo_create(&photo.hash, photo.len).await
            }
        }
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
        let total = decide::upload_remaining(&pending);
        let mut done = 0u64;
        self.enter(SyncPhase::UploadingPhotos, 0, Some(total));
        for photo in pending {
            let hash = photo.hash;
            let mut offset = self.server_offset(client, &photo, report).await?;
            while let Some((at, len)) =
                decide::next_chunk(offset, photo.len, self.options.photo_chunk)
            {
                let chunk = blocking(&self.store, move |s| s.photo_chunk(&hash, at, len))
                    .await?
                    .ok_or_else(|| SyncError::Protocol(format!("photo {hash} vanished")))?;
                let sent = chunk.len() as u64;
                self.counters
                    .photo_bytes_attempted
                    .fetch_add(sent, Ordering::Relaxed);
                report.requests += 1;
                let answer = client.photo_patch(&hash, at, chunk).await;
                match decide::after_patch(at, answer.as_ref().copied()) {
                    PatchNext::Advanced {
                        offset: next,
                        progress,
                    } => {
                        report.photo_bytes_sent += sent;
                        done += progress;
                        offset = next;
                        blocking(&self.store, move |s| s.set_photo_offset(&hash, next)).await?;
                        self.enter(SyncPhase::UploadingPhotos, done, Some(total));
                    }
                    PatchNext::AskOffset => {
                        offset = self.server_offset(client, &photo, report).await?;
                    }
                    PatchNext::Fail => return answer.map(|_| ()),
                }
            }
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
        let limits = self.options.push_limits();
        let mut done = 0u64;
        // Entries the server could not place yet are skipped this round.
        let mut skip: usize = 0;
        loop {
            let window = decide::push_window(limits, skip);
            let waiting = blocking(&self.store, move |s| s.outbox_peek(window, usize::MAX)).await?;
            let sizes: Vec<usize> = waiting.iter().map(|e| e.change.bytes.len()).collect();
            let batch: &[OutboxEntry] = &waiting[decide::next_push(&sizes, skip, limits)];
            if batch.is_empty() {
                return Ok(());
            }
            self.enter(SyncPhase::Pushing, done, Some(total));
            let wire: Vec<WireChange> = batch
                .iter()
                .map(|e| WireChange {
                    doc: e.change.doc_id,
                    bytes: e.change.bytes.clone(),
                })
                .collect();
            report.requests += 1;
            let answer = client.push(wire).await?;
            let sent: Vec<&OutboxEntry> = batch.iter().collect();
            let verdict = decide::read_push_answer(&sent, &answer.outcomes);
            for refused in verdict.refuse {
                report.refused += 1;
                let entry = refused.change;
                let (hash, code, reason) = (entry.hash, refused.code, refused.reason);
                tracing::warn!(doc = %entry.change.doc_id, %code, %reason, "change refused");
                blocking(&self.store, move |s| s.outbox_refuse(&hash, &code, &reason)).await?;
            }
            report.missing_deps += verdict.skip;
            skip += verdict.skip;
            let acked: Vec<_> = verdict.ack.iter().map(|e| e.hash).collect();
            report.acknowledged += acked.len();
            done += batch.len() as u64;
            blocking(&self.store, move |s| s.outbox_ack(&acked)).await?;
        }
    }

    /// Pulls everything new, streamed when the options say so (falling
    /// back to pages on a server without the streamed route); returns how
    /// many notices the answers announced.
    async fn pull_all(
        &self,
        client: &SyncClient,
        report: &mut SyncReport,
    ) -> Result<u64, SyncError> {
        if self.options.pull_stream {
            match self.pull_streamed(client, report).await {
                Err(SyncError::Server { status: 404, .. }) => {
                    tracing::info!("the server has no streamed pull; pulling by pages");
                }
                done => return done,
            }
        }
        self.pull_pages(client, report).await
    }

    /// Pulls in one streamed request: applies each part and saves its
    /// cursor in the same transaction before reading the next, so a cut
    /// link leaves the device at the last whole part and the next round
    /// resumes from there. Should a stream end while more changes wait (a
    /// server stopping early), asks again from the saved cursor as long as
    /// each stream brings something.
    async fn pull_streamed(
        &self,
        client: &SyncClient,
        report: &mut SyncReport,
    ) -> Result<u64, SyncError> {
        use std::sync::atomic::Ordering;
        let mut cursor = blocking(&self.store, |s| s.meta_get(META_CURSOR)).await?;
        let mut announced = 0;
        loop {
            self.enter(SyncPhase::Pulling, report.pulled as u64, None);
            report.requests += 1;
            let refused = self.compact_refused.load(Ordering::SeqCst);
            let client = client
                .resuming_compact(!refused && self.resume_compact.load(Ordering::SeqCst))
                .with_compact_parts(
                    self.options.compact_parts
                        && !refused
                        && !(cursor.is_none() && self.compact_found_nothing.load(Ordering::SeqCst)),
                );
            let seed = self
                .compact_seed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            let mut stream = client
                .pull_stream_resuming(
                    cursor.as_deref(),
                    self.options.pull_limit,
                    self.options.request_timeout,
                    seed,
                )
                .await?;
            if cursor.is_none() && stream.is_empty() {
                self.compact_found_nothing.store(true, Ordering::SeqCst);
            }
            announced = announced.max(stream.notices());
            let mut parts = 0usize;
            let mut more = false;
            loop {
                let part = match stream.next_part().await {
                    Ok(Some(part)) => part,
                    Ok(None) => break,
                    Err(e) => {
                        if matches!(e, SyncError::PartCorrupt(_)) {
                            tracing::warn!(error = %e, "a compact part did not rebuild; pulling plain parts from now on");
                            self.compact_refused.store(true, Ordering::SeqCst);
                        }
                        let cut = stream.is_compact() && e.is_retryable();
                        self.resume_compact.store(cut, Ordering::SeqCst);
                        if cut {
                            // The link broke: keep the tables for the
                            // next round to go on with.
                            *self
                                .compact_seed
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                                stream.take_seed();
                        }
                        return Err(e);
                    }
                };
                let (next, part_more) = match decide::read_pull_answer(Some(&part)) {
                    PullNext::CaughtUp => break,
                    PullNext::Apply { cursor, more } => (cursor, more),
                };
                parts += 1;
                report.pulled += part.changes.len();
                report.applied += self.apply_with_cursor(part.changes, next.clone()).await?;
                self.enter(SyncPhase::Pulling, report.pulled as u64, None);
                cursor = Some(next);
                more = part_more;
                if !more {
                    // Read the body's end (the compression's epilogue), so
                    // that the connection can be used again; what it says
                    // no longer matters, everything is saved.
                    let _ = stream.next_part().await;
                    break;
                }
            }
            self.resume_compact.store(false, Ordering::SeqCst);
            if !more || parts == 0 {
                return Ok(announced);
            }
        }
    }

    /// Pulls page by page, a request each; returns how many notices the
    /// answers announced.
    async fn pull_pages(
        &self,
        client: &SyncClient,
        report: &mut SyncReport,
    ) -> Result<u64, SyncError> {
        let mut cursor = blocking(&self.store, |s| s.meta_get(META_CURSOR)).await?;
        let mut announced = 0;
        loop {
            self.enter(SyncPhase::Pulling, report.pulled as u64, None);
            report.requests += 1;
            let answer = client
                .pull_page(cursor.as_deref(), self.options.pull_limit)
                .await?;
            announced = announced.max(answer.notices);
            let page = answer.page;
            let (next, more) = match decide::read_pull_answer(page.as_ref()) {
                PullNext::CaughtUp => return Ok(announced),
                PullNext::Apply { cursor, more } => (cursor, more),
            };
            let changes = page.map(|p| p.changes).unwrap_or_default();
            report.pulled += changes.len();
            report.applied += self.apply_with_cursor(changes, next.clone()).await?;
            cursor = Some(next);
            if !more {
                return Ok(announced);
            }
        }
    }

    async fn apply(&self, changes: Vec<WireChange>) -> Result<usize, SyncError> {
        self.apply_and_save(changes, None).await
    }

    /// Applies pulled changes and saves the cursor they came with, in one
    /// transaction.
    async fn apply_with_cursor(
        &self,
        changes: Vec<WireChange>,
        cursor: String,
    ) -> Result<usize, SyncError> {
        self.apply_and_save(changes, Some(cursor)).await
    }

    async fn apply_and_save(
        &self,
        changes: Vec<WireChange>,
        cursor: Option<String>,
    ) -> Result<usize, SyncError> {
        let changes: Vec<DocChange> = changes
            .into_iter()
            .map(|c| DocChange {
                doc_id: c.doc,
                bytes: c.bytes,
            })
            .collect();
        let report = blocking(&self.store, move |s| {
            let meta = cursor.as_deref().map(|c| (META_CURSOR, c));
            s.apply_changes_and_meta(&changes, meta)
        })
        .await?;
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

    /// Runs rounds until `stop` resolves, paced by [`decide::Backoff`]:
    /// after a success, waits for `wake` or the interval; after a retryable
    /// error, backs off exponentially with random jitter; after any other
    /// error, waits for `wake` (a new sign-in).
    pub async fn run(
        self,
        wake: Arc<tokio::sync::Notify>,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let mut random = |up_to: u64| rand::random::<u64>() % up_to.saturating_add(1);
        self.run_with_jitter(wake, stop, &mut random).await
    }

    /// [`SyncEngine::run`] with the retry jitter from `jitter`.
    pub async fn run_with_jitter(
        self,
        wake: Arc<tokio::sync::Notify>,
        stop: impl std::future::Future<Output = ()>,
        jitter: &mut impl decide::Jitter,
    ) {
        tokio::pin!(stop);
        let mut backoff = self.options.backoff();
        loop {
            let result = self.sync_once().await;
            match &result {
                Ok(report) => tracing::debug!(?report, "sync round done"),
                Err(e) if e.is_retryable() => tracing::info!(
                    error = %e,
                    backoff = ?backoff.current(),
                    "sync round failed; will retry"
                ),
                Err(e) => tracing::warn!(error = %e, "sync stopped"),
            }
            match backoff.after(result.as_ref().map(|_| ()), jitter) {
                Wait::For(wait) => tokio::select! {
                    _ = &mut stop => return,
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                },
                Wait::UntilWoken => tokio::select! {
                    _ = &mut stop => return,
                    _ = wake.notified() => {}
                },
            }
        }
    }
}
