//! Sync: the wire protocol shared by the server and the device, and the
//! device's sync engine.
//!
//! - [`compact`] (feature `doc`) is the compact form of a streamed
//!   pull's parts, encoded by the server and decoded by the device.
//! - [`protocol`] holds the message types and their encoding, and
//!   [`status`] what the engine tells the interface; both are plain serde
//!   with no I/O and compile everywhere (wasm included).
//! - [`error`] and [`decide`] (feature `store`) are the engine's failures
//!   and its decisions as pure functions with table tests: which outbox
//!   entries make the next push, what an answer means for the outbox, the
//!   cursor and the status, when to try again, where a photo upload
//!   resumes. No I/O.
//! - [`http`], [`enrol`] and [`engine`] (feature `sync-client`) do the I/O
//!   around those decisions: the HTTP client, enrolment, and the engine
//!   that runs rounds over the store.
//!
//! `docs/protocol.md` describes the protocol for people.

#[cfg(feature = "doc")]
pub mod compact;
#[cfg(feature = "store")]
pub mod decide;
#[cfg(feature = "sync-client")]
pub mod engine;
#[cfg(feature = "sync-client")]
pub mod enrol;
#[cfg(feature = "store")]
pub mod error;
#[cfg(feature = "sync-client")]
pub mod http;
pub mod protocol;
pub mod status;

#[cfg(feature = "sync-client")]
pub use engine::{EngineOptions, SyncEngine, SyncReport};
#[cfg(feature = "sync-client")]
pub use enrol::{
    Enrolment, change_password, complete_enrolment, enrol, re_enrol, stored_enrolment,
};
#[cfg(feature = "store")]
pub use error::SyncError;
#[cfg(feature = "sync-client")]
pub use http::SyncClient;
