//! A device in a scenario: its own store on a real SQLite file, its own
//! clock, and the real sync engine.

use std::sync::Arc;

use app_core::clock::{SharedClock, SkewedClock, SystemClock};
use app_core::store::{Identity, Store};
use app_core::sync::protocol::EnrolRequest;
use app_core::sync::{self, EngineOptions, SyncEngine, SyncError, SyncReport};

/// A phone or tablet under test.
pub struct Device {
    /// A name for messages.
    pub name: String,
    /// The device store.
    pub store: Arc<Store>,
    /// The sync engine.
    pub engine: SyncEngine,
    /// Who signed in.
    pub identity: Identity,
    _dir: tempfile::TempDir,
}

/// Engine options for tests: fast retries, one request per connection (so a
/// fault proxy can fault each request), small batches to exercise paging.
pub fn test_options() -> EngineOptions {
    EngineOptions {
        keep_alive: false,
        min_backoff: std::time::Duration::from_millis(5),
        max_backoff: std::time::Duration::from_millis(50),
        connect_timeout: std::time::Duration::from_secs(5),
        request_timeout: std::time::Duration::from_secs(20),
        ..EngineOptions::default()
    }
}

impl Device {
    /// Enrols a new device with `username`/`password` at `server`; its clock
    /// is the system clock shifted by `clock_offset_millis`.
    pub async fn enrol(
        name: &str,
        server: &str,
        username: &str,
        password: &str,
        clock_offset_millis: i64,
        options: EngineOptions,
    ) -> Result<Device, SyncError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock: SharedClock =
            Arc::new(SkewedClock::new(SystemClock::shared(), clock_offset_millis));
        let store = Arc::new(
            Store::open(dir.path().join("device.sqlite"), clock).map_err(SyncError::from)?,
        );
        let answer = sync::enrol(
            server,
            &EnrolRequest {
                username: username.into(),
                password: password.into(),
                device_name: name.into(),
                platform: "linux".into(),
                replaces: None,
            },
            &options,
        )
        .await?;
        let identity = Identity {
            user: answer.me.user.id,
            team: answer.me.user.team,
        };
        sync::complete_enrolment(&store, server, answer, &options).await?;
        let engine = SyncEngine::new(Arc::clone(&store), options)?;
        Ok(Device {
            name: name.into(),
            store,
            engine,
            identity,
            _dir: dir,
        })
    }

    /// One sync round.
    pub async fn sync(&self) -> Result<SyncReport, SyncError> {
        self.engine.sync_once().await
    }

    /// Syncs until a round succeeds, retrying errors a retry can fix (at
    /// most `rounds` attempts); returns the reports of all attempts.
    pub async fn sync_until_done(&self, rounds: usize) -> Result<Vec<SyncReport>, SyncError> {
        let mut reports = Vec::new();
        let mut last = None;
        for _ in 0..rounds {
            match self.sync().await {
                Ok(r) => {
                    reports.push(r);
                    return Ok(reports);
                }
                Err(e) if e.is_retryable() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(SyncError::Network("no rounds".into())))
    }

    /// Points the device at another address (a proxy, a restarted server).
    pub fn set_server(&self, server: &str) {
        sync::enrol::set_server(&self.store, server).expect("enrolled");
    }
}

/// Stores `bytes` on the device as a photo (and a small thumbnail) and
/// returns the metadata a record carries.
pub fn attach_photo(store: &Store, bytes: &[u8]) -> app_core::domain::PhotoMeta {
    let hash = store.put_photo(bytes).expect("store the photo");
    let thumb = store
        .put_photo(&bytes[..bytes.len().min(4096)])
        .expect("store the thumbnail");
    app_core::domain::PhotoMeta {
        hash,
        thumb,
        size_bytes: bytes.len() as u64,
        width: 1600,
        height: 1200,
        taken_at: None,
        location: None,
        caption: "现场照片".into(),
    }
}
