//! The error type that crosses IPC: serialised as `{ code, message }`.
//!
//! The interface branches on and translates `code` (stable, dotted, lowercase);
//! `message` is for logs and developers and is never shown to users. Codes are
//! part of the IPC contract: add new ones, do not rename shipped ones.

use std::path::PathBuf;

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// A command failure, as the interface receives it.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The data directory's path cannot be sent as text.
    #[error("data directory {} is not valid UTF-8", .0.display())]
    DataDirNotUtf8(PathBuf),
}

impl CommandError {
    /// The stable code the interface sees.
    pub fn code(&self) -> &'static str {
        match self {
            CommandError::DataDirNotUtf8(_) => "data_dir.not_utf8",
        }
    }
}

impl Serialize for CommandError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("CommandError", 2)?;
        s.serialize_field("code", self.code())?;
        s.serialize_field("message", &self.to_string())?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_code_and_message() {
        let error = CommandError::DataDirNotUtf8(PathBuf::from("/data/x"));
        assert_eq!(
            serde_json::to_string(&error).unwrap(),
            r#"{"code":"data_dir.not_utf8","message":"data directory /data/x is not valid UTF-8"}"#
        );
    }
}
