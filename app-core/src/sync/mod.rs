//! Sync: the wire protocol shared by the server and the device client.
//!
//! [`protocol`] holds the message types and their encoding; it has no I/O and
//! compiles everywhere. The HTTP client that drives a device's sync lives in
//! `client` behind the `sync-client` feature. `docs/protocol.md` describes
//! the protocol for people.

#[cfg(feature = "sync-client")]
pub mod client;
pub mod protocol;
pub mod status;
