//! Records as Automerge documents: one document per record.
//!
//! A document's root map holds the record's fields (mapped by autosurgeon)
//! plus two envelope keys: [`KEY_KIND`] (`"service_log"`, `"consultation"`) and
//! [`KEY_SCHEMA`], the schema version that wrote it. Narrative fields are text
//! objects ([`text`]); lists of photos, follow-ups and parties are keyed so
//! they merge item by item; scalars keep every concurrent value, which
//! [`conflicts`] surfaces.
//!
//! Edits go through [`RecordDoc::edit`]: hydrate, change the Rust value,
//! reconcile. Reconciling writes only what differs, so two devices editing
//! different fields never touch each other's keys.
//!
//! # Schema versions
//!
//! [`SCHEMA_VERSION`] is the version this code writes. Code must read every
//! older version: a field added later must be `Option` with
//! `#[autosurgeon(missing = "Default::default")]` or carry its own `missing`
//! default, and [`Record::upgrade`] fills what cannot be defaulted.
//! `tests/fixtures/` holds documents saved by each released version; the
//! tests load them.

pub mod conflicts;
pub(crate) mod text;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, Automerge, Change, ChangeHash, ReadDoc, ScalarValue, Value};

use crate::domain::{Consultation, DocId, RecordKind, ServiceLog, Timestamp};

pub use conflicts::Conflict;

/// The schema version this code writes.
pub const SCHEMA_VERSION: u64 = 1;
/// Root key holding the record kind's code.
pub const KEY_KIND: &str = "_kind";
/// Root key holding the schema version that last wrote the document.
pub const KEY_SCHEMA: &str = "_schema";

/// A record that lives in its own Automerge document.
pub trait Record:
    autosurgeon::Reconcile + autosurgeon::Hydrate + Clone + std::fmt::Debug + Send + 'static
{
    /// The kind written to [`KEY_KIND`].
    const KIND: RecordKind;

    /// The document's ID.
    fn doc_id(&self) -> DocId;

    /// Brings a record read from a document of schema `from` up to date. Called
    /// only when `from < SCHEMA_VERSION`.
    fn upgrade(&mut self, _from: u64) {}
}

impl Record for ServiceLog {
    const KIND: RecordKind = RecordKind::ServiceLog;
    fn doc_id(&self) -> DocId {
        self.id.into()
    }
}

impl Record for Consultation {
    const KIND: RecordKind = RecordKind::Consultation;
    fn doc_id(&self) -> DocId {
        self.id.into()
    }
}

/// Something wrong with a document.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// Automerge refused an operation or bytes.
    #[error("automerge: {0}")]
    Automerge(Box<automerge::AutomergeError>),
    /// Change bytes that do not decode.
    #[error("change does not decode: {0}")]
    BadChange(String),
    /// The record could not be written into the document.
    #[error("reconcile: {0}")]
    Reconcile(Box<autosurgeon::ReconcileError>),
    /// The document does not have the record's shape.
    #[error("document does not hold a valid {kind}: {source}")]
    Hydrate {
        /// What kind was expected.
        kind: RecordKind,
        /// What was wrong.
        source: Box<autosurgeon::HydrateError>,
    },
    /// The document has no kind, or an unknown one.
    #[error("document has no known record kind (found {0:?})")]
    UnknownKind(Option<String>),
    /// The document is of another kind than asked for.
    #[error("document is a {found}, not a {expected}")]
    WrongKind {
        /// Asked for.
        expected: RecordKind,
        /// Found.
        found: RecordKind,
    },
    /// An edit tried to change the record's ID.
    #[error("an edit may not change a record's id")]
    IdChanged,
}

impl DocError {
    /// A stable code for the interface and logs, as `StoreError::code` has
    /// (which passes this one on for a document failure).
    pub fn code(&self) -> &'static str {
        match self {
            DocError::Automerge(_) => "document_automerge",
            DocError::BadChange(_) => "document_bad_change",
            DocError::Reconcile(_) => "document_reconcile",
            DocError::Hydrate { .. } => "document_hydrate",
            DocError::UnknownKind(_) => "document_unknown_kind",
            DocError::WrongKind { .. } => "document_wrong_kind",
            DocError::IdChanged => "document_id_changed",
        }
    }
}

impl From<automerge::AutomergeError> for DocError {
    fn from(e: automerge::AutomergeError) -> Self {
        DocError::Automerge(Box::new(e))
    }
}

impl From<autosurgeon::ReconcileError> for DocError {
    fn from(e: autosurgeon::ReconcileError) -> Self {
        DocError::Reconcile(Box::new(e))
    }
}

/// One record's Automerge document.
#[derive(Debug, Clone)]
pub struct RecordDoc {
    doc: Automerge,
}

/// The outcome of an edit.
#[derive(Debug)]
pub struct Edited<T> {
    /// What the edit closure returned.
    pub output: T,
    /// The change the edit made, if it changed anything.
    pub change: Option<Change>,
}

fn commit_options(at: Timestamp) -> CommitOptions {
    CommitOptions::default().with_time(at.as_secs())
}

impl RecordDoc {
    /// A new document holding `record`, written by `actor` at `at`; returns
    /// the document and the one change that created it.
    pub fn create<R: Record>(
        record: &R,
        actor: ActorId,
        at: Timestamp,
    ) -> Result<(RecordDoc, Change), DocError> {
        let mut doc = Automerge::new().with_actor(actor);
        let result = doc.transact_with(
            |_| commit_options(at),
            |tx| -> Result<(), DocError> {
                tx.put(automerge::ROOT, KEY_KIND, R::KIND.code())?;
                tx.put(automerge::ROOT, KEY_SCHEMA, SCHEMA_VERSION)?;
                autosurgeon::reconcile(tx, record)?;
                Ok(())
            },
        );
        let hash = match result {
            Ok(success) => success.hash.expect("a new record writes at least its kind"),
            Err(failure) => return Err(failure.error),
        };
        let change = doc
            .get_change_by_hash(&hash)
            .expect("the change just committed is in the document");
        Ok((RecordDoc { doc }, change))
    }

    /// Loads a document saved with [`RecordDoc::save`] (or any Automerge save
    /// or concatenation of changes).
    pub fn load(bytes: &[u8]) -> Result<RecordDoc, DocError> {
        Ok(RecordDoc {
            doc: Automerge::load(bytes)?,
        })
    }

    /// An empty document, to apply received changes to.
    pub fn empty() -> RecordDoc {
        RecordDoc {
            doc: Automerge::new(),
        }
    }

    /// The document's record kind.
    pub fn kind(&self) -> Result<RecordKind, DocError> {
        match self.doc.get(automerge::ROOT, KEY_KIND)? {
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Str(s) => RecordKind::from_code(s)
                    .ok_or_else(|| DocError::UnknownKind(Some(s.to_string()))),
                other => Err(DocError::UnknownKind(Some(other.to_string()))),
            },
            _ => Err(DocError::UnknownKind(None)),
        }
    }

    /// The schema version that last wrote the document (0 if none is recorded).
    pub fn schema(&self) -> u64 {
        match self.doc.get(automerge::ROOT, KEY_SCHEMA) {
            Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                ScalarValue::Uint(u) => *u,
                ScalarValue::Int(i) => u64::try_from(*i).unwrap_or(0),
                _ => 0,
            },
            _ => 0,
        }
    }

    /// Reads the record, upgrading from older schemas.
    pub fn read<R: Record>(&self) -> Result<R, DocError> {
        let kind = self.kind()?;
        if kind != R::KIND {
            return Err(DocError::WrongKind {
                expected: R::KIND,
                found: kind,
            });
        }
        let mut record: R =
            autosurgeon::hydrate(&self.doc).map_err(|source| DocError::Hydrate {
                kind: R::KIND,
                source: Box::new(source),
            })?;
        let schema = self.schema();
        if schema < SCHEMA_VERSION {
            record.upgrade(schema);
        }
        Ok(record)
    }

    /// Edits the record: reads it, lets `f` change it, writes back only what
    /// differs as one change by `actor` at `at`. If `f` fails, nothing is
    /// written.
    pub fn edit<R, T, E>(
        &mut self,
        actor: &ActorId,
        at: Timestamp,
        f: impl FnOnce(&mut R) -> Result<T, E>,
    ) -> Result<Edited<T>, E>
    where
        R: Record,
        E: From<DocError>,
    {
        let before: R = self.read()?;
        let mut record = before.clone();
        let output = f(&mut record)?;
        if record.doc_id() != before.doc_id() {
            return Err(DocError::IdChanged.into());
        }
        let upgrade = self.schema() < SCHEMA_VERSION;
        self.doc.set_actor(actor.clone());
        let result = self.doc.transact_with(
            |_| commit_options(at),
            |tx| -> Result<(), DocError> {
                if upgrade {
                    tx.put(automerge::ROOT, KEY_SCHEMA, SCHEMA_VERSION)?;
                }
                autosurgeon::reconcile(tx, &record)?;
                Ok(())
            },
        );
        let change = match result {
            Ok(success) => success.hash.and_then(|h| self.doc.get_change_by_hash(&h)),
            Err(failure) => return Err(failure.error.into()),
        };
        Ok(Edited { output, change })
    }

    /// Applies changes from elsewhere. Changes already present are ignored;
    /// changes whose dependencies are missing wait inside the document until
    /// the dependencies arrive (see [`RecordDoc::missing_deps`]).
    pub fn apply(&mut self, changes: impl IntoIterator<Item = Change>) -> Result<(), DocError> {
        let changes: Vec<Change> = changes.into_iter().collect();
        self.doc.apply_changes(changes)?;
        Ok(())
    }

    /// Hashes of changes this document needs before it can apply changes it
    /// is holding back.
    pub fn missing_deps(&self) -> Vec<ChangeHash> {
        self.doc.get_missing_deps(&[])
    }

    /// The document's current heads.
    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// Whether the document holds the change with this hash.
    pub fn has_change(&self, hash: &ChangeHash) -> bool {
        self.doc.get_change_by_hash(hash).is_some()
    }

    /// The changes a peer whose heads are `have` lacks (all of them for an
    /// empty `have`).
    pub fn changes_since(&self, have: &[ChangeHash]) -> Vec<Change> {
        self.doc.get_changes(have)
    }

    /// The compact saved form.
    pub fn save(&self) -> Vec<u8> {
        self.doc.save()
    }

    /// The fields with concurrent values.
    pub fn conflicts(&self) -> Vec<Conflict> {
        conflicts::find(&self.doc)
    }

    /// The underlying Automerge document, read-only.
    pub fn automerge(&self) -> &Automerge {
        &self.doc
    }
}

/// Decodes change bytes as they travel and are stored.
pub fn decode_change(bytes: &[u8]) -> Result<Change, DocError> {
    Change::from_bytes(bytes.to_vec()).map_err(|e| DocError::BadChange(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_failures_carry_stable_codes() {
        assert_eq!(
            decode_change(b"not a change").unwrap_err().code(),
            "document_bad_change"
        );
        assert_eq!(
            RecordDoc::load(b"not a document").unwrap_err().code(),
            "document_automerge"
        );
        let empty = RecordDoc::empty();
        assert_eq!(empty.kind().unwrap_err().code(), "document_unknown_kind");
        assert_eq!(
            empty.read::<ServiceLog>().unwrap_err().code(),
            "document_unknown_kind"
        );
    }
}
