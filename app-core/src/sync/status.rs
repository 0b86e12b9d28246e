//! What the sync engine tells the interface: pending work, progress, last
//! success, last error and what the user can do about it ([`Remedy`]), and
//! the notices a sync admin's decisions left for this device. Plain serde,
//! so it crosses IPC and compiles to wasm.

use serde::{Deserialize, Serialize};

use super::protocol::Notice;
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

impl SyncErrorInfo {
    /// What the user can do about this error.
    pub fn remedy(&self) -> Remedy {
        Remedy::for_error(&self.code, self.retryable)
    }
}

/// What the user of a device can do about a sync error: the interface
/// shows the matching advice (and, for [`Remedy::EnrolAgain`], the
/// password box that enrols the device again in its own place).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Nothing: the engine tries again by itself (no signal, a busy server).
    Wait,
    /// Enrol this device again with the password: a sync admin revoked it,
    /// or its token expired from long disuse, or the server does not know
    /// it. The work it holds is kept and syncs once it is enrolled.
    EnrolAgain,
    /// Set a new password: a sync admin reset it, and the one-time password
    /// works only to set a new one.
    SetNewPassword,
    /// Ask the sync admin: the account is disabled, or the server refuses
    /// what the device sends in a way the device cannot fix.
    ContactAdmin,
    /// Update the app: the server speaks a newer protocol.
    UpdateApp,
}

impl Remedy {
    /// The remedy for an error with this code (as in [`SyncErrorInfo`]).
    pub fn for_error(code: &str, retryable: bool) -> Remedy {
        match code {
            "token_revoked" | "token_expired" | "unauthenticated" => Remedy::EnrolAgain,
            "password_change_required" => Remedy::SetNewPassword,
            "protocol_unsupported" => Remedy::UpdateApp,
            _ if retryable => Remedy::Wait,
            "network" | "protocol" => Remedy::Wait,
            _ => Remedy::ContactAdmin,
        }
    }
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
    /// What sync admins decided about changes of this device the server
    /// had refused (released, still refused, discarded with a reason),
    /// newest last, until the user dismisses them.
    #[serde(default)]
    pub notices: Vec<Notice>,
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

    /// What the user can do about the last error, if there is one.
    pub fn remedy(&self) -> Option<Remedy> {
        self.last_error.as_ref().map(SyncErrorInfo::remedy)
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

    #[test]
    fn each_stop_says_what_the_user_can_do() {
        let cases = [
            ("token_revoked", false, Remedy::EnrolAgain),
            ("token_expired", false, Remedy::EnrolAgain),
            ("unauthenticated", false, Remedy::EnrolAgain),
            ("password_change_required", false, Remedy::SetNewPassword),
            ("account_disabled", false, Remedy::ContactAdmin),
            ("forbidden", false, Remedy::ContactAdmin),
            ("protocol_unsupported", false, Remedy::UpdateApp),
            ("network", true, Remedy::Wait),
            ("unavailable", true, Remedy::Wait),
            ("protocol", true, Remedy::Wait),
            ("store_corrupt", false, Remedy::ContactAdmin),
        ];
        for (code, retryable, remedy) in cases {
            let status = SyncStatus {
                phase: SyncPhase::Stopped,
                last_error: Some(SyncErrorInfo {
                    code: code.into(),
                    retryable,
                    at: Timestamp::from_millis(0),
                }),
                ..SyncStatus::default()
            };
            assert_eq!(status.remedy(), Some(remedy), "{code}");
        }
        assert_eq!(SyncStatus::default().remedy(), None);
    }
}
