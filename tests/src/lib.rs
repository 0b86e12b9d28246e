//! Shared harness for Ketepai end-to-end scenarios.
