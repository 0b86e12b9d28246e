//! What can go wrong in a sync step, and what each failure means: whether a
//! retry can help and the stable code the interface translates. Plain data,
//! no I/O, so the engine's decisions ([`super::decide`]) can be tested
//! without a network.

use crate::store::StoreError;

/// A failed sync step.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server could not be reached, or the connection broke.
    #[error("network: {0}")]
    Network(String),
    /// The server answered with an error.
    #[error("server answered {status}: {code}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The problem's stable code.
        code: String,
        /// Whether a retry can help.
        retryable: bool,
    },
    /// The device was revoked by a sync admin.
    #[error("this device was revoked")]
    Revoked,
    /// The token expired from long disuse; enrol again.
    #[error("the device token expired")]
    Expired,
    /// The server does not know the token.
    #[error("the server does not know this device")]
    Unauthenticated,
    /// The device is not enrolled.
    #[error("not enrolled")]
    NotEnrolled,
    /// An answer that does not decode (often a body cut short).
    #[error("protocol: {0}")]
    Protocol(String),
    /// A streamed pull announced a part over what the device accepts
    /// ([`crate::sync::protocol::MAX_PULL_PART`]); refused before it was
    /// read, and the same request would only send it again.
    #[error("a pull part over {cap} bytes")]
    PartTooLarge {
        /// The cap, in bytes.
        cap: usize,
    },
    /// A compact part of a streamed pull did not rebuild into the changes
    /// the server sent (malformed, or its digest differs): refused whole,
    /// nothing of it saved. Retryable: the engine's next round asks for
    /// plain parts from the saved cursor, and keeps to them until the app
    /// starts again.
    #[error("a corrupt pull part: {0}")]
    PartCorrupt(String),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// Whether retrying the same step later can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SyncError::Network(_) | SyncError::Protocol(_) | SyncError::PartCorrupt(_) => true,
            SyncError::Server { retryable, .. } => *retryable,
            SyncError::Revoked
            | SyncError::Expired
            | SyncError::Unauthenticated
            | SyncError::NotEnrolled
            | SyncError::PartTooLarge { .. }
            | SyncError::Store(_) => false,
        }
    }

    /// Whether the failure means the server was not reached at all.
    pub fn is_offline(&self) -> bool {
        matches!(self, SyncError::Network(_))
    }

    /// A stable code for the interface.
    pub fn code(&self) -> String {
        match self {
            SyncError::Network(_) => "network".into(),
            SyncError::Server { code, .. } => code.clone(),
            SyncError::Revoked => "token_revoked".into(),
            SyncError::Expired => "token_expired".into(),
            SyncError::Unauthenticated => "unauthenticated".into(),
            SyncError::NotEnrolled => "not_enrolled".into(),
            SyncError::Protocol(_) => "protocol".into(),
            SyncError::PartTooLarge { .. } => "pull_part_too_large".into(),
            SyncError::PartCorrupt(_) => "pull_part_corrupt".into(),
            SyncError::Store(e) => format!("store_{}", e.code()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_says_whether_a_retry_helps_and_its_code() {
        let server = |retryable| SyncError::Server {
            status: 503,
            code: "unavailable".into(),
            retryable,
        };
        let cases: Vec<(SyncError, bool, bool, &str)> = vec![
            // (error, retryable, offline, code)
            (SyncError::Network("reset".into()), true, true, "network"),
            (SyncError::Protocol("eof".into()), true, false, "protocol"),
            (server(true), true, false, "unavailable"),
            (server(false), false, false, "unavailable"),
            (SyncError::Revoked, false, false, "token_revoked"),
            (SyncError::Expired, false, false, "token_expired"),
            (SyncError::Unauthenticated, false, false, "unauthenticated"),
            (SyncError::NotEnrolled, false, false, "not_enrolled"),
            (
                SyncError::PartTooLarge { cap: 1 },
                false,
                false,
                "pull_part_too_large",
            ),
            (
                SyncError::PartCorrupt("digest".into()),
                true,
                false,
                "pull_part_corrupt",
            ),
            (
                SyncError::Store(StoreError::NotAllowed("x")),
                false,
                false,
                "store_not_allowed",
            ),
        ];
        for (error, retryable, offline, code) in cases {
            assert_eq!(error.is_retryable(), retryable, "{error}");
            assert_eq!(error.is_offline(), offline, "{error}");
            assert_eq!(error.code(), code, "{error}");
        }
    }
}
