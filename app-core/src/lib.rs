//! Ketepai's product logic: domain types, Automerge documents, the SQLite
//! store, reference data, the sync protocol and the device's sync engine,
//! permissions, statistics and photo processing.
//!
//! The crate is layered so that each user takes only what it needs:
//!
//! - [`domain`], [`clock`], [`api`], [`admin`], [`scope`], [`stats`],
//!   [`team`] and [`sync::protocol`] are plain Rust and serde with no I/O; they compile to
//!   `wasm32-unknown-unknown` with default features off, which is how
//!   `app-ui` uses them. [`scope`] holds the read and write rules the server
//!   enforces and the interface uses for hints.
//! - `doc` (feature `doc`) maps domain records to Automerge documents.
//! - `store` and `reference` (feature `store`, the default) own the device's
//!   SQLite file and import the division register.
//! - `photo` (feature `photos`) decodes, shrinks and reads EXIF on the device.
//! - `sync::client` (feature `sync-client`) is the device's HTTP sync engine.
//! - `demo` (feature `demo`) draws realistic synthetic records over a
//!   county's register, for the server's demo seed, scenarios and benchmarks.
//!
//! [`clock`] is the one place that reads the time; everything else is given
//! a [`Clock`] (the workspace's `clippy.toml` refuses `SystemTime::now`
//! elsewhere). See ARCHITECTURE.md at the repository root for the invariants
//! of each part.

pub mod admin;
pub mod api;
pub mod clock;
pub mod domain;
pub mod scope;
pub mod stats;
pub mod sync;
pub mod team;

#[cfg(feature = "doc")]
pub mod doc;

#[cfg(feature = "photos")]
pub mod photo;
#[cfg(feature = "store")]
pub mod reference;
// The store is the only module that speaks SQL on a device: `clippy.toml`
// refuses `rusqlite::Connection` everywhere else.
#[cfg(feature = "demo")]
pub mod demo;
#[cfg(feature = "store")]
#[allow(
    clippy::disallowed_types,
    reason = "the store is the one module that owns the SQLite connection"
)]
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use clock::Clock;
