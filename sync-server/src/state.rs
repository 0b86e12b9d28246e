//! [`AppState`]: what every handler shares — the store, the clock, the
//! configuration, the photo directory, metrics and the enrolment limiter.
//! Cheap to clone (everything is behind an `Arc`).

use std::sync::Arc;

use app_core::clock::SharedClock;

use crate::auth::{EnrolLimiter, PasswordGate};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::photos::PhotoStore;
use crate::store::ServerStore;

/// Shared state of one server instance.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database.
    pub store: Arc<dyn ServerStore>,
    /// The server's clock: receipt times, token expiry.
    pub clock: SharedClock,
    /// Resolved configuration.
    pub config: Arc<Config>,
    /// Photo files.
    pub photos: PhotoStore,
    /// The `/metrics` registry of this instance.
    pub metrics: Arc<Metrics>,
    /// Sign-in attempts per user name from one source address.
    pub limiter: Arc<EnrolLimiter>,
    /// Sign-in attempts per user name from anywhere (a larger allowance:
    /// guessing from many addresses is bounded, and locking a user out
    /// takes many addresses and lasts only while they keep at it).
    pub name_limiter: Arc<EnrolLimiter>,
    /// Sign-in attempts per source address, whatever the names.
    pub address_limiter: Arc<EnrolLimiter>,
    /// Password hashes and checks in flight.
    pub password_gate: Arc<PasswordGate>,
    /// Streamed pulls served as compact parts at once
    /// ([`crate::codec::MAX_COMPACT_STREAMS`]): each holds a large zstd
    /// context; past the cap a stream is served as plain parts.
    pub compact_streams: Arc<tokio::sync::Semaphore>,
}
