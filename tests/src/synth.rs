//! Synthetic but realistic field records for scenarios and benchmarks: the
//! generator lives in `app_core::demo` (feature `demo`), shared with the
//! server's demo seed.

pub use app_core::demo::Synth;
