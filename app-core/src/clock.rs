//! The one place that reads the time: an injectable [`Clock`].
//!
//! Device clocks are wrong, so nothing in the product calls `SystemTime::now()`
//! directly; it asks the clock it was given. The workspace's `clippy.toml`
//! enforces this: [`SystemClock`] is the one allowed caller. Tests use [`ManualClock`] to set a
//! device a year off or to step time forward deterministically.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::domain::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + Debug {
    /// The current time as this clock sees it.
    fn now(&self) -> Timestamp;
}

/// A clock shared between the store, the sync engine and the server.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[cfg(not(target_arch = "wasm32"))]
impl Clock for SystemClock {
    #[allow(
        clippy::disallowed_methods,
        reason = "the one read of the wall clock; everything else is given a Clock"
    )]
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::from_millis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }
}

impl SystemClock {
    /// The system clock as a [`SharedClock`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

/// A clock that only moves when told to; for tests and for simulating a device
/// whose clock is off.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `at`.
    pub fn new(at: Timestamp) -> Self {
        ManualClock(Arc::new(AtomicI64::new(at.as_millis())))
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: Timestamp) {
        self.0.store(at.as_millis(), Ordering::SeqCst);
    }

    /// Moves the clock forward (or back, for a negative value) by `millis`.
    pub fn advance_millis(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }

    /// This clock as a [`SharedClock`]; the handle still controls it.
    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

/// A clock that reads another clock and adds a fixed offset: a device whose
/// clock is set wrong.
#[derive(Debug, Clone)]
pub struct SkewedClock {
    inner: SharedClock,
    offset_millis: i64,
}

impl SkewedClock {
    /// `inner` shifted by `offset_millis` (positive: the device runs ahead).
    pub fn new(inner: SharedClock, offset_millis: i64) -> Self {
        SkewedClock {
            inner,
            offset_millis,
        }
    }
}

impl Clock for SkewedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(
            self.inner
                .now()
                .as_millis()
                .saturating_add(self.offset_millis),
        )
    }
}
