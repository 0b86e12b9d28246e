//! The Ketepai sync server (filled by the sync-server issue).
