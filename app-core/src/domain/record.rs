//! What every synced record has in common: its kind and its document ID.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ConsultationId, IdError, ServiceLogId};

code_enum! {
    /// The kinds of record that are Automerge documents and sync.
    pub enum RecordKind {
        /// 服务日志.
        ServiceLog = ("service_log", "服务日志"),
        /// 农户咨询.
        Consultation = ("consultation", "农户咨询"),
    }
}

/// The ID of any synced document, whatever its kind. Record IDs convert into
/// it; the store and the wire speak of documents by this ID.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DocId(Uuid);

impl DocId {
    /// Wraps a UUID.
    pub const fn from_uuid(uuid: Uuid) -> Self {
        DocId(uuid)
    }
    /// The UUID inside.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
    /// The 16 bytes stored in SQLite and on the wire.
    pub fn to_bytes(self) -> [u8; 16] {
        *self.0.as_bytes()
    }
    /// From a slice that must hold 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, IdError> {
        Uuid::from_slice(bytes).map(DocId).map_err(|_| IdError {
            kind: "DocId",
            value: format!("{} bytes", bytes.len()),
        })
    }
}

impl std::fmt::Display for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl std::fmt::Debug for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DocId({})", self.0.hyphenated())
    }
}

impl std::str::FromStr for DocId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Uuid::parse_str(s).map(DocId).map_err(|_| IdError {
            kind: "DocId",
            value: s.to_string(),
        })
    }
}

doc_as_string!(DocId);

impl From<ServiceLogId> for DocId {
    fn from(id: ServiceLogId) -> Self {
        DocId(*id.as_uuid())
    }
}

impl From<ConsultationId> for DocId {
    fn from(id: ConsultationId) -> Self {
        DocId(*id.as_uuid())
    }
}

impl From<DocId> for ServiceLogId {
    fn from(id: DocId) -> Self {
        ServiceLogId::from_uuid(id.0)
    }
}

impl From<DocId> for ConsultationId {
    fn from(id: DocId) -> Self {
        ConsultationId::from_uuid(id.0)
    }
}
