//! What the sync engine tells the interface: pending work, progress, last
//! success, last error. Plain serde, so it crosses IPC and compiles to wasm.

use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;

/// What the engine is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Waiting for the next round.
    #[default]
    Idle,
    /// Uploading photos.
    UploadingPhotos,
    /// Sending local changes.
    Pushing,
    /// Fetching changes from the server.
    Pulling,
    /// Waiting before retrying after an error a retry can fix.
    Backoff,
    /// Stopped on an error a retry cannot fix (revoked device, expired token).
    Stopped,
}

/// How far the current phase got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Units done (changes or bytes).
    pub done: u64,
    /// Units in all, when known.
    pub total: Option<u64>,
}

/// The last error, as the interface shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncErrorInfo {
    /// Stable code to translate (`network`, `token_revoked`, …).
    pub code: String,
    /// Whether the engine will retry by itself.
    pub retryable: bool,
    /// When, by the device clock.
    pub at: Timestamp,
}

/// The sync state of a device.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncStatus {
    /// Current phase.
    pub phase: SyncPhase,
    /// Progress of the current phase.
    pub progress: Option<Progress>,
    /// Local changes the server has not acknowledged.
    pub pending_changes: u64,
    /// Records those changes belong to.
    pub pending_records: u64,
    /// Photo bytes still to upload.
    pub pending_photo_bytes: u64,
    /// Local changes the server refused (kept, waiting for an admin).
    pub refused_changes: u64,
    /// Whether the last attempt reached the server.
    pub online: bool,
    /// When the last complete round succeeded.
    pub last_success: Option<Timestamp>,
    /// The last error, cleared by a success.
    pub last_error: Option<SyncErrorInfo>,
}

/// Work waiting on this device, as the store counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PendingWork {
    /// Local changes the server has not acknowledged.
    pub changes: u64,
    /// Records those changes belong to.
    pub records: u64,
    /// Photo bytes still to upload.
    pub photo_bytes: u64,
    /// Local changes the server refused.
    pub refused: u64,
}

impl SyncStatus {
    /// Whether everything made here has reached the server.
    pub fn is_up_to_date(&self) -> bool {
        self.pending_changes == 0 && self.pending_photo_bytes == 0
    }

    /// Sets the pending counts; the phase, progress and history stay.
    pub fn set_pending(&mut self, pending: &PendingWork) {
        self.pending_changes = pending.changes;
        self.pending_records = pending.records;
        self.pending_photo_bytes = pending.photo_bytes;
        self.refused_changes = pending.refused;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_counts_replace_only_the_counts() {
        let mut status = SyncStatus {
            phase: SyncPhase::Pushing,
            online: true,
            last_success: Some(Timestamp::from_millis(5)),
            pending_changes: 9,
            ..SyncStatus::default()
        };
        status.set_pending(&PendingWork {
            changes: 0,
            records: 0,
            photo_bytes: 0,
            refused: 2,
        });
        assert!(status.is_up_to_date());
        assert_eq!(status.refused_changes, 2);
        assert_eq!(
            (status.phase, status.online, status.last_success),
            (SyncPhase::Pushing, true, Some(Timestamp::from_millis(5)))
        );
        status.set_pending(&PendingWork {
            photo_bytes: 1,
            ..PendingWork::default()
        });
        assert!(!status.is_up_to_date(), "a photo still to upload");
    }
}
