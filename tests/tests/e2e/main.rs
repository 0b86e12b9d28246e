//! End-to-end scenarios: real sync-server processes on loopback, several
//! device stores with their real sync engines, and a fault-injecting proxy.
//! One test binary, modules per scenario.

mod clocks;
mod concurrent;
mod faults;
mod many_devices;
mod offline_week;
mod photos;
mod revoked;
mod support;
