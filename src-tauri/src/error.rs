//! The error type that crosses IPC: serialised as `app_core::api::IpcError`,
//! `{ code, message, fields }`.
//!
//! The interface branches on and translates `code` (stable, dotted,
//! lowercase); `message` is for logs and developers and is never shown to
//! users; `fields` names each invalid field of a form with its
//! `FieldError` code, so the form can say what is wrong next to the field.
//! Codes are part of the IPC contract: add new ones, do not rename shipped
//! ones.

use std::path::PathBuf;

use app_core::api::{FieldIssue, IpcError};
use app_core::doc::DocError;
use app_core::photo::PhotoError;
use app_core::store::StoreError;
use app_core::sync::SyncError;
use serde::ser::{Serialize, Serializer};

/// A command failure, as the interface receives it.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The data directory's path cannot be sent as text.
    #[error("data directory {} is not valid UTF-8", .0.display())]
    DataDirNotUtf8(PathBuf),
    /// The local store could not be opened at start.
    #[error("the local store could not be opened: {0}")]
    StoreOpen(String),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Talking to the sync server failed.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// A photo was refused.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// `add_photo` was called without the image bytes as its body.
    #[error("add_photo expects the image bytes as a raw body")]
    PhotoNoData,
    /// The server address is empty or not http(s).
    #[error("server address {0:?} is not an http(s) address")]
    BadServer(String),
    /// A required enrolment field is empty.
    #[error("{0} is required")]
    Required(&'static str),
    /// The device is not enrolled yet.
    #[error("this device is not enrolled")]
    NotEnrolled,
    /// The device is already enrolled.
    #[error("this device is already enrolled")]
    AlreadyEnrolled,
    /// Nobody is signed in.
    #[error("nobody is signed in")]
    SignedOut,
    /// The store is locked: the password opens it (`unlock`).
    #[error("the store is locked")]
    Locked,
    /// The password does not match the one kept at enrolment.
    #[error("wrong password")]
    WrongPassword,
    /// Password hashing failed.
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    /// The platform has no geolocation (desktop).
    #[error("this platform has no geolocation")]
    GpsUnavailable,
    /// The user refused location access.
    #[error("location permission denied")]
    GpsDenied,
    /// The position could not be read.
    #[error("position not available: {0}")]
    GpsFailed(String),
    /// A background task failed.
    #[error("background task failed: {0}")]
    Task(String),
    /// An export could not be written.
    #[error(transparent)]
    Export(#[from] app_core::stats::export::ExportError),
}

impl CommandError {
    /// The stable code the interface sees.
    pub fn code(&self) -> String {
        match self {
            CommandError::DataDirNotUtf8(_) => "data_dir.not_utf8".into(),
            CommandError::StoreOpen(_) => "store.open_failed".into(),
            CommandError::Store(e) => match e {
                StoreError::Invalid(_) | StoreError::Doc(DocError::BadValue { .. }) => {
                    "input.invalid".into()
                }
                StoreError::NoConflict(_) => "conflict.not_found".into(),
                StoreError::Refused(..) => "record.refused".into(),
                StoreError::NotFound(_) => "record.not_found".into(),
                StoreError::NotAllowed(_) => "record.not_allowed".into(),
                StoreError::NotYours(_) => "record.not_yours".into(),
                StoreError::SchemaTooNew { .. } => "store.too_new".into(),
                StoreError::WrongKey => "store.wrong_key".into(),
                StoreError::Key(k) => format!("store.{}", k.code()),
                _ => "store.failed".into(),
            },
            CommandError::Sync(e) => format!("sync.{}", e.code()),
            CommandError::Photo(e) => {
                format!("photo.{}", e.code().trim_start_matches("photo_"))
            }
            CommandError::PhotoNoData => "photo.no_data".into(),
            CommandError::Export(_) => "export.failed".into(),
            CommandError::BadServer(_) => "enrol.bad_server".into(),
            CommandError::Required(field) => format!("enrol.{field}_required"),
            CommandError::NotEnrolled => "session.not_enrolled".into(),
            CommandError::AlreadyEnrolled => "session.already_enrolled".into(),
            CommandError::SignedOut => "session.signed_out".into(),
            CommandError::WrongPassword => "session.wrong_password".into(),
            CommandError::Locked => "store.locked".into(),
            CommandError::PasswordHash(_) => "session.hash_failed".into(),
            CommandError::GpsUnavailable => "gps.unavailable".into(),
            CommandError::GpsDenied => "gps.denied".into(),
            CommandError::GpsFailed(_) => "gps.failed".into(),
            CommandError::Task(_) => "internal.task".into(),
        }
    }

    /// The wire form.
    pub fn to_ipc(&self) -> IpcError {
        let fields = match self {
            CommandError::Store(StoreError::Invalid(v)) => v
                .errors
                .iter()
                .map(|e| FieldIssue {
                    field: e.field().to_owned(),
                    code: e.code().to_owned(),
                })
                .collect(),
            // A value typed to resolve a conflict that the field cannot hold.
            CommandError::Store(StoreError::Doc(DocError::BadValue { path, .. })) => {
                vec![FieldIssue {
                    field: path.clone(),
                    code: "bad_value".to_owned(),
                }]
            }
            _ => Vec::new(),
        };
        IpcError {
            code: self.code(),
            message: self.to_string(),
            fields,
        }
    }
}

impl From<app_core::store::VaultError> for CommandError {
    fn from(e: app_core::store::VaultError) -> Self {
        match e {
            app_core::store::VaultError::WrongPassword => CommandError::WrongPassword,
            other => CommandError::Store(StoreError::Key(other)),
        }
    }
}

impl Serialize for CommandError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_ipc().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::domain::{FieldError, ValidationError};

    #[test]
    fn serialises_as_code_and_message() {
        let error = CommandError::DataDirNotUtf8(PathBuf::from("/data/x"));
        assert_eq!(
            serde_json::to_string(&error).unwrap(),
            r#"{"code":"data_dir.not_utf8","message":"data directory /data/x is not valid UTF-8"}"#
        );
    }

    #[test]
    fn invalid_input_names_each_field_with_its_code() {
        let error = CommandError::Store(StoreError::Invalid(ValidationError {
            errors: vec![
                FieldError::Required {
                    field: "village".into(),
                },
                FieldError::NegativeCount {
                    field: "farmers_served".into(),
                    value: -3,
                },
            ],
        }));
        let ipc = error.to_ipc();
        assert_eq!(ipc.code, "input.invalid");
        let fields: Vec<_> = ipc
            .fields
            .iter()
            .map(|f| (f.field.as_str(), f.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("village", "required"),
                ("farmers_served", "negative_count")
            ]
        );
    }

    #[test]
    fn review_and_conflict_failures_have_their_codes() {
        let bad = CommandError::Store(StoreError::Doc(DocError::BadValue {
            path: "farmers_served".into(),
            value: "\"很多\"".into(),
            reason: "a number of the wrong kind".into(),
        }));
        let ipc = bad.to_ipc();
        assert_eq!(ipc.code, "input.invalid");
        assert_eq!(
            ipc.fields,
            [FieldIssue {
                field: "farmers_served".into(),
                code: "bad_value".into()
            }]
        );
        let gone = CommandError::Store(StoreError::NoConflict("farmers_served".into()));
        assert_eq!(gone.code(), "conflict.not_found");
        let refused = CommandError::Store(StoreError::Refused("field_not_allowed", "x".into()));
        assert_eq!(refused.code(), "record.refused");
    }

    #[test]
    fn photo_and_sync_errors_keep_their_core_codes_under_a_prefix() {
        let corrupt = CommandError::Photo(PhotoError::Corrupt {
            message: "eof".into(),
        });
        assert_eq!(corrupt.code(), "photo.corrupt");
        let bomb = CommandError::Photo(PhotoError::TooManyPixels {
            width: 60_000,
            height: 60_000,
        });
        assert_eq!(bomb.code(), "photo.too_many_pixels");
        let creds = CommandError::Sync(SyncError::Server {
            status: 401,
            code: "bad_credentials".into(),
            retryable: false,
        });
        assert_eq!(creds.code(), "sync.bad_credentials");
    }
}
