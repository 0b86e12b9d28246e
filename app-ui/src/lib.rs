//! The Ketepai field interface (placeholder until the UI lands).
