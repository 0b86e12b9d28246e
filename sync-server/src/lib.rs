//! The Ketepai sync server: accounts and devices, batched resumable sync of
//! record changes with authorisation of every change, photo storage, and
//! the division register for devices.
//!
//! The server is a library with a thin binary (`src/main.rs`, which only
//! parses the command line). [`launch`] opens the store the configuration
//! names and serves on a listener the caller bound; [`Server`] does the same
//! in two steps so that tests and operators can seed the store first.
//!
//! - [`config`]: defaults → TOML file → `KETEPAI_*` environment.
//! - [`store`]: the [`store::ServerStore`] trait, SQLite (default) and
//!   PostgreSQL; the only place that speaks SQL.
//! - [`sync`]: push validation, independent of the backend.
//! - [`routes`]: the HTTP API (`docs/protocol.md` is the contract), under
//!   tower-http's request timeout and body limit.
//! - [`auth`]: device tokens, passwords, the authenticated-request extractor,
//!   the enrolment limiter (governor).
//! - [`error`]: the one [`ApiError`], sent as RFC 9457 problems.
//! - [`metrics`]: the `/metrics` registry (prometheus-client).
//! - [`photos`]: content-addressed photo files with resumable upload.
//! - [`ops`]: operator and sync admin actions, one implementation behind
//!   the binary's subcommands and the admin API.
//! - [`quarantine`]: what a refused change tries to write, for the console.
//! - [`demo`]: the demo county's month of records, made by demo devices and
//!   stored through the push sequence.

pub mod auth;
pub mod cli;
pub mod codec;
pub mod config;
pub mod conflicts;
mod csv;
pub mod demo;
pub mod error;
pub mod metrics;
mod names;
pub mod ops;
pub mod photos;
pub mod quarantine;
pub mod routes;
pub mod state;
// The only place with SQL: `clippy.toml` refuses `rusqlite::Connection` and
// `tokio_postgres::connect` everywhere else.
#[allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "the store is the one module that owns the database connections"
)]
pub mod store;
pub mod sync;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app_core::clock::{SharedClock, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::Config;
pub use error::ApiError;
pub use state::AppState;
pub use store::ServerStore;

use crate::auth::{EnrolLimiter, PasswordGate};
use crate::config::{Backend, redact_url};
use crate::metrics::Metrics;
use crate::ops::Ops;
use crate::photos::PhotoStore;
use crate::store::{PostgresStore, SqliteStore, StoreError};

/// A server that could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The data directory or the listener failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// The serving task ended abnormally.
    #[error("server task: {0}")]
    Task(String),
}

/// Opens the store the configuration names, migrating it.
pub async fn open_store(config: &Config) -> Result<Arc<dyn ServerStore>, ServerError> {
    Ok(match config.backend() {
        Backend::Sqlite(path) => {
            tracing::info!(path = %path.display(), "opening embedded sqlite");
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
                .await
                .map_err(|e| ServerError::Task(e.to_string()))??;
            Arc::new(store)
        }
        Backend::Postgres(url) => {
            tracing::info!(url = %redact_url(&url), "connecting to postgres");
            Arc::new(PostgresStore::connect(&url, config.database_pool_size).await?)
        }
    })
}

/// A server whose store is open, not yet serving.
#[derive(Debug, Clone)]
pub struct Server {
    state: AppState,
}

impl Server {
    /// Opens the store and the photo directory.
    pub async fn open(config: Config, clock: SharedClock) -> Result<Server, ServerError> {
        std::fs::create_dir_all(&config.data_dir)?;
        let store = open_store(&config).await?;
        // Documents stored before the conflict flag was kept get it once.
        let checked = store::conflicts::backfill(&*store, clock.now()).await?;
        if checked > 0 {
            tracing::info!(checked, "documents checked for conflicts");
        }
        Self::with_store(config, clock, store)
    }

    /// A server over an already opened store.
    pub fn with_store(
        config: Config,
        clock: SharedClock,
        store: Arc<dyn ServerStore>,
    ) -> Result<Server, ServerError> {
        let photos = PhotoStore::from_config(&config)?;
        tracing::info!(backend = photos.kind(), "photo store");
        let budget = config.password_hashing;
        Ok(Server {
            state: AppState {
                store,
                clock: Arc::clone(&clock),
                photos,
                metrics: Arc::new(Metrics::default()),
                limiter: Arc::new(EnrolLimiter::new(Arc::clone(&clock))),
                name_limiter: Arc::new(EnrolLimiter::with_quota(
                    Arc::clone(&clock),
                    EnrolLimiter::MAX_FAILURES_PER_NAME,
                    EnrolLimiter::NAME_WINDOW_MILLIS,
                )),
                address_limiter: Arc::new(EnrolLimiter::with_quota(
                    Arc::clone(&clock),
                    budget.per_address,
                    budget.per_address_refill_secs.saturating_mul(1000),
                )),
                password_gate: Arc::new(PasswordGate::new(budget.concurrent, budget.queue)),
                compact_streams: Arc::new(tokio::sync::Semaphore::new(codec::MAX_COMPACT_STREAMS)),
                config: Arc::new(config),
            },
        })
    }

    /// The store.
    pub fn store(&self) -> Arc<dyn ServerStore> {
        Arc::clone(&self.state.store)
    }

    /// Operator actions on this server's store.
    pub fn ops(&self) -> Ops {
        Ops::new(
            self.store(),
            Arc::clone(&self.state.clock),
            self.state.config.password_cost,
        )
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Deletes the unfinished photo uploads left for a day by the server's
    /// clock ([`store::PhotoStart::ABANDONED_MILLIS`], the line after which
    /// another device may take an upload over): their rows, then their
    /// files; a finished photo is never touched. Returns how many. Then
    /// deletes every partial file that no row owns (the local backend):
    /// one a late chunk re-created after an earlier sweep deleted its row
    /// and file (a `PATCH` that passed its row check before the sweep and
    /// wrote after it), or one a crash left between the row and the file.
    /// Runs when the server starts serving and every
    /// `photo_uploads.sweep_minutes` after.
    pub async fn sweep_uploads(&self) -> Result<usize, ServerError> {
        let now = self.state.clock.now().as_millis();
        let before =
            app_core::domain::Timestamp::from_millis(now - store::PhotoStart::ABANDONED_MILLIS);
        let swept = self.state.store.photo_sweep(before).await?;
        let n = swept.len();
        self.state.photos.discard_all(swept).await?;
        if n > 0 {
            tracing::info!(uploads = n, "abandoned photo uploads deleted");
        }
        // A row is always written before its file is created (`POST`), so a
        // file found here without a row is no upload's; one announced
        // between this check and the deletion restarts from its row's
        // offset at worst (its bytes are hashed before they are kept).
        let mut orphans = 0usize;
        for hash in self.state.photos.partials().await? {
            if self.state.store.photo(&hash).await?.is_none() {
                self.state.photos.discard(&hash).await?;
                orphans += 1;
            }
        }
        if orphans > 0 {
            tracing::info!(
                files = orphans,
                "partial photo files without an upload deleted"
            );
        }
        Ok(n)
    }

    /// The HTTP application.
    pub fn router(&self) -> axum::Router {
        routes::router(self.state.clone())
    }

    /// Serves on `listener` until [`ServerHandle::shutdown`]: HTTP/1.1
    /// with the configuration's connection timeouts
    /// ([`config::HttpTimeouts`]); on shutdown it stops accepting, lets
    /// requests in flight finish and closes idle connections.
    pub async fn serve(self, listener: TcpListener) -> Result<ServerHandle, ServerError> {
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let app = self.router();
        let timeouts = self.state.config.http_timeouts;
        let task = tokio::spawn(accept_loop(listener, app, timeouts, rx));
        let sweeper = AbortOnDrop(tokio::spawn(sweep_loop(
            self.clone(),
            Duration::from_secs(self.state.config.photo_uploads.sweep_minutes.max(1) * 60),
        )));
        tracing::info!(%addr, backend = self.state.store.backend(), "serving");
        Ok(ServerHandle {
            addr,
            shutdown: Some(tx),
            task,
            _sweeper: sweeper,
            server: self,
        })
    }
}

/// Sweeps abandoned uploads now and every `every` ([`Server::sweep_uploads`]).
async fn sweep_loop(server: Server, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = server.sweep_uploads().await {
            tracing::warn!(error = %e, "sweeping abandoned photo uploads failed");
        }
    }
}

/// A task stopped when its handle is dropped.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Accepts connections until `stop`, each served by hyper with a header
/// read timeout (which also closes a connection that says nothing, or
/// stays idle between requests, for that long); then waits for the
/// connections to finish their requests.
async fn accept_loop(
    listener: TcpListener,
    app: axum::Router,
    timeouts: config::HttpTimeouts,
    mut stop: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower_service::Service;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut make = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(timeouts.header_read_secs.max(1)))
        .keep_alive(true);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment
                    // rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let Ok(service) = make.call(peer).await;
        let service = hyper_util::service::TowerToHyperService::new(service);
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection closed with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Opens the store named by `config` and serves on `listener`, with the
/// system clock.
pub async fn launch(config: Config, listener: TcpListener) -> Result<ServerHandle, ServerError> {
    launch_with_clock(config, listener, SystemClock::shared()).await
}

/// [`launch`] with a given clock (tests use a manual one).
pub async fn launch_with_clock(
    config: Config,
    listener: TcpListener,
    clock: SharedClock,
) -> Result<ServerHandle, ServerError> {
    Server::open(config, clock).await?.serve(listener).await
}

/// A running server.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// The sweep of abandoned uploads, stopped with the handle.
    _sweeper: AbortOnDrop,
    server: Server,
}

impl ServerHandle {
    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server (its store, operator actions).
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Stops accepting connections, lets requests in flight finish, and
    /// waits for the server to stop.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.wait().await
    }

    /// Waits until the server stops.
    pub async fn wait(self) -> Result<(), ServerError> {
        self.task
            .await
            .map_err(|e| ServerError::Task(e.to_string()))?
            .map_err(ServerError::Io)
    }

    /// Asks the server to stop without waiting.
    pub fn signal_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
