//! Harness for Ketepai's end-to-end scenarios and benchmarks: real server
//! processes, device stores with their sync engines, a fault-injecting proxy
//! and a generator of realistic records.

pub mod bench;
pub mod device;
pub mod pg;
pub mod proxy;
pub mod server;
pub mod synth;
