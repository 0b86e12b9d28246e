//! Ketepai's product logic: domain types, Automerge documents, the SQLite store,
//! reference data and (in later modules) sync, permissions and statistics.
//!
//! The crate is layered so that the interface can take only what it needs:
//!
//! - [`domain`] and [`clock`] are plain Rust and serde with no I/O; they compile
//!   to `wasm32-unknown-unknown` with default features off, which is how
//!   `app-ui` uses them.
//! - [`doc`] (feature `doc`) maps domain records to Automerge documents.
//! - [`store`] and [`reference`] (feature `store`) own the SQLite file.
//!
//! See ARCHITECTURE.md at the repository root for the invariants of each part.

pub mod api;
pub mod clock;
pub mod domain;
pub mod scope;
pub mod stats;
pub mod sync;

#[cfg(feature = "doc")]
pub mod doc;

#[cfg(feature = "photos")]
pub mod photo;
#[cfg(feature = "store")]
pub mod reference;
#[cfg(feature = "store")]
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use clock::Clock;
