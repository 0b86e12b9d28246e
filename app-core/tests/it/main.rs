//! app-core integration tests: one binary, modules per concern.

mod assess;
mod crash;
mod discard;
mod encryption;
#[cfg(feature = "export")]
mod export;
mod figures;
mod fixtures;
mod merge;
mod photos;
mod records;
mod register;
mod review;
mod stats;
mod support;
mod team;
