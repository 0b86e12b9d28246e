//! app-core integration tests: one binary, modules per concern.

mod crash;
mod fixtures;
mod merge;
mod photos;
mod records;
mod register;
mod stats;
mod support;
