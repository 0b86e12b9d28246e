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
//! reconcile. Reconciling writes only what differs ([`guard`]: not even a
//! scalar whose value is unchanged, which Automerge would take as resolving
//! that key's conflict), so two devices editing different fields never touch
//! each other's keys and concurrent values stay until someone resolves them
//! ([`RecordDoc::resolve`]). Append-only lists (review decisions,
//! resolutions) are read and written by [`append_only`].
//!
//! # Schema versions
//!
//! [`SCHEMA_VERSION`] is the version this code writes. Code must read every
//! older version: a field added later must be `Option` with
//! `#[autosurgeon(missing = "Default::default")]` or carry its own `missing`
//! default, and [`Record::upgrade`] fills what cannot be defaulted.
//! `tests/fixtures/` holds documents saved by each released version; the
//! tests load them.

pub mod append_only;
pub mod conflicts;
mod guard;
mod resolve;
pub(crate) mod text;

use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{ActorId, Automerge, Change, ChangeHash, ReadDoc, ScalarValue, Value};

use crate::domain::{Consultation, DocId, RecordKind, ServiceLog, Timestamp};

pub use conflicts::{Conflict, ConflictValue, PathSegment};

/// The schema version this code writes. Schema 2 added the review history
/// (`reviews`), conflict resolutions (`resolutions`) and the duplicate mark
/// (`duplicate`); schema-1 documents read with them empty.
pub const SCHEMA_VERSION: u64 = 2;
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

    /// Root keys of the record's append-only lists ([`append_only`]).
    const APPEND_ONLY: &'static [&'static str] = &[];

    /// The document's ID.
    fn doc_id(&self) -> DocId;

    /// Brings a record read from a document of schema `from` up to date. Called
    /// only when `from < SCHEMA_VERSION`.
    fn upgrade(&mut self, _from: u64) {}

    /// Reads the append-only lists from the document into the record.
    fn read_appends(&mut self, _doc: &Automerge) -> Result<(), autosurgeon::HydrateError> {
        Ok(())
    }

    /// Checks that the record keeps every append-only entry of `before` and
    /// writes the entries it adds; with no `before` (a new document), creates
    /// the lists and writes every entry.
    fn write_appends(
        &self,
        _before: Option<&Self>,
        _tx: &mut Transaction<'_>,
    ) -> Result<(), DocError> {
        Ok(())
    }
}

/// Writes the new entries of one append-only field.
fn write_list<T: append_only::Entry>(
    tx: &mut Transaction<'_>,
    key: &str,
    before: Option<&[T]>,
    after: &[T],
) -> Result<(), DocError> {
    if before.is_none() {
        append_only::create(tx, key)?;
    }
    append_only::append(tx, key, before.unwrap_or_default(), after)
}

impl Record for ServiceLog {
    const KIND: RecordKind = RecordKind::ServiceLog;
    const APPEND_ONLY: &'static [&'static str] = &["reviews", "resolutions"];
    fn doc_id(&self) -> DocId {
        self.id.into()
    }
    fn read_appends(&mut self, doc: &Automerge) -> Result<(), autosurgeon::HydrateError> {
        self.reviews = append_only::read(doc, "reviews")?;
        self.resolutions = append_only::read(doc, "resolutions")?;
        Ok(())
    }
    fn write_appends(
        &self,
        before: Option<&Self>,
        tx: &mut Transaction<'_>,
    ) -> Result<(), DocError> {
        write_list(tx, "reviews", before.map(|b| &b.reviews[..]), &self.reviews)?;
        write_list(
            tx,
            "resolutions",
            before.map(|b| &b.resolutions[..]),
            &self.resolutions,
        )
    }
}

impl Record for Consultation {
    const KIND: RecordKind = RecordKind::Consultation;
    const APPEND_ONLY: &'static [&'static str] = &["resolutions"];
    fn doc_id(&self) -> DocId {
        self.id.into()
    }
    fn read_appends(&mut self, doc: &Automerge) -> Result<(), autosurgeon::HydrateError> {
        self.resolutions = append_only::read(doc, "resolutions")?;
        Ok(())
    }
    fn write_appends(
        &self,
        before: Option<&Self>,
        tx: &mut Transaction<'_>,
    ) -> Result<(), DocError> {
        write_list(
            tx,
            "resolutions",
            before.map(|b| &b.resolutions[..]),
            &self.resolutions,
        )
    }
}

/// The append-only root keys of a kind of record.
pub fn append_only_keys(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::ServiceLog => ServiceLog::APPEND_ONLY,
        RecordKind::Consultation => Consultation::APPEND_ONLY,
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
    /// An edit tried to change or remove an entry of an append-only list.
    #[error("entries of {0} are never changed or removed")]
    AppendOnly(String),
    /// A resolution names a field that holds no concurrent values.
    #[error("{0} holds no concurrent values")]
    NoConflict(String),
    /// A value that the record's field cannot hold.
    #[error("{path} cannot hold {value}: {reason}")]
    BadValue {
        /// The field.
        path: String,
        /// The value, as JSON.
        value: String,
        /// Why not.
        reason: String,
    },
    /// Heads that are not hex change hashes or not in the document.
    #[error("heads {0:?} are not in this document")]
    UnknownHeads(Vec<String>),
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
            DocError::AppendOnly(_) => "document_append_only",
            DocError::NoConflict(_) => "document_no_conflict",
            DocError::BadValue { .. } => "document_bad_value",
            DocError::UnknownHeads(_) => "document_unknown_heads",
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
                record.write_appends(None, tx)?;
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
        let hydrate_error = |source| DocError::Hydrate {
            kind: R::KIND,
            source: Box::new(source),
        };
        let mut record: R = autosurgeon::hydrate(&self.doc).map_err(hydrate_error)?;
        record.read_appends(&self.doc).map_err(hydrate_error)?;
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
        let change = self.write(actor, at, &before, &record, None)?;
        Ok(Edited { output, change })
    }

    /// Writes `record` over `before` (what [`RecordDoc::read`] gave) as one
    /// change: only what differs, append-only entries appended; with
    /// `collapse`, the concurrent values at that path become the one
    /// `record` holds ([`RecordDoc::resolve`]).
    fn write<R: Record>(
        &mut self,
        actor: &ActorId,
        at: Timestamp,
        before: &R,
        record: &R,
        collapse: Option<&[PathSegment]>,
    ) -> Result<Option<Change>, DocError> {
        if record.doc_id() != before.doc_id() {
            return Err(DocError::IdChanged);
        }
        let upgrade = self.schema() < SCHEMA_VERSION;
        self.doc.set_actor(actor.clone());
        let result = self.doc.transact_with(
            |_| commit_options(at),
            |tx| -> Result<(), DocError> {
                if upgrade {
                    tx.put(automerge::ROOT, KEY_SCHEMA, SCHEMA_VERSION)?;
                }
                match collapse {
                    None => autosurgeon::reconcile(&mut guard::Guarded::new(tx), record)?,
                    Some(path) => resolve::collapse(tx, path, record)?,
                }
                record.write_appends(Some(before), tx)?;
                Ok(())
            },
        );
        match result {
            Ok(success) => Ok(success.hash.and_then(|h| self.doc.get_change_by_hash(&h))),
            Err(failure) => Err(failure.error),
        }
    }

    /// Resolves the conflict at `path` (a path [`RecordDoc::conflicts`]
    /// lists): `f` sets the chosen value on the record (and may append to
    /// its lists, as the record of the resolution); the change writes it
    /// over every concurrent value the document holds there, so that every
    /// replica converges on it, and writes nothing else that did not change.
    pub fn resolve<R, T, E>(
        &mut self,
        actor: &ActorId,
        at: Timestamp,
        path: &[PathSegment],
        f: impl FnOnce(&mut R) -> Result<T, E>,
    ) -> Result<Edited<T>, E>
    where
        R: Record,
        E: From<DocError>,
    {
        let before: R = self.read()?;
        let mut record = before.clone();
        let output = f(&mut record)?;
        let change = self.write(actor, at, &before, &record, Some(path))?;
        Ok(Edited { output, change })
    }

    /// The record as the document held it at `heads` (what someone saw when
    /// they decided), or [`DocError::UnknownHeads`] when the document does
    /// not hold them.
    pub fn read_at<R: Record>(&self, heads: &[String]) -> Result<R, DocError> {
        let unknown = || DocError::UnknownHeads(heads.to_vec());
        let hashes = heads
            .iter()
            .map(|h| h.parse::<ChangeHash>().map_err(|_| unknown()))
            .collect::<Result<Vec<_>, _>>()?;
        if hashes.is_empty() || !hashes.iter().all(|h| self.has_change(h)) {
            return Err(unknown());
        }
        let doc = self.doc.fork_at(&hashes)?;
        RecordDoc { doc }.read()
    }

    /// The record with the JSON `value` (as [`RecordDoc::conflicts`] shows
    /// values) at `path`, typed and checked by the record's own mapping:
    /// [`DocError::BadValue`] when the field cannot hold it. The document is
    /// not changed.
    pub fn read_with<R: Record>(
        &self,
        path: &[PathSegment],
        value: &serde_json::Value,
    ) -> Result<R, DocError> {
        let bad = |reason: String| DocError::BadValue {
            path: conflicts::path_string(path),
            value: value.to_string(),
            reason,
        };
        let mut fork = self.doc.fork();
        fork.transact::<_, _, DocError>(|tx| resolve::put_json(tx, path, value))
            .map_err(|f| f.error)?;
        RecordDoc { doc: fork }
            .read()
            .map_err(|e| bad(e.to_string()))
    }

    /// The actor (hex) and time of the change that holds operation `op`
    /// (`counter@actor`, as [`ConflictValue::op`]).
    pub fn origin_of(&self, op: &str) -> Option<(String, Option<Timestamp>)> {
        let (counter, actor) = op.split_once('@')?;
        let counter: u64 = counter.parse().ok()?;
        let at = self
            .doc
            .get_changes(&[])
            .into_iter()
            .find(|c| {
                let start = c.start_op().get();
                c.actor_id().to_hex_string() == actor
                    && (start..start + c.len() as u64).contains(&counter)
            })
            .map(|c| c.timestamp())
            .filter(|secs| *secs > 0)
            .map(|secs| Timestamp::from_millis(secs.saturating_mul(1000)));
        Some((actor.to_string(), at))
    }

    /// The actor (hex) of the change that created the document.
    pub fn creator(&self) -> Option<String> {
        self.doc
            .get_changes(&[])
            .into_iter()
            .find(|c| c.deps().is_empty())
            .map(|c| c.actor_id().to_hex_string())
    }

    /// For each entry of the append-only list(s) at `key`: the actor (hex)
    /// that wrote it and the entry's `id`.
    pub fn entry_actors(&self, key: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (_, list) in self.doc.get_all(automerge::ROOT, key).unwrap_or_default() {
            for i in 0..self.doc.length(&list) {
                let Ok(Some((_, item))) = self.doc.get(&list, i) else {
                    continue;
                };
                let id = match self.doc.get(&item, "id") {
                    Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
                        ScalarValue::Str(s) => s.to_string(),
                        _ => continue,
                    },
                    _ => continue,
                };
                if let automerge::ObjId::Id(_, actor, _) = &item {
                    out.push((actor.to_hex_string(), id));
                }
            }
        }
        out
    }

    /// The actor (hex) that wrote the object the root key `key` shows.
    pub fn object_actor(&self, key: &str) -> Option<String> {
        match self.doc.get(automerge::ROOT, key) {
            Ok(Some((Value::Object(_), automerge::ObjId::Id(_, actor, _)))) => {
                Some(actor.to_hex_string())
            }
            _ => None,
        }
    }

    /// The document's heads as hex, as a decision records them.
    pub fn heads_hex(&self) -> Vec<String> {
        self.heads().iter().map(ToString::to_string).collect()
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

    /// The fields with concurrent values (not the append-only lists, whose
    /// concurrent copies are read as one).
    pub fn conflicts(&self) -> Vec<Conflict> {
        let skip = self.kind().map(append_only_keys).unwrap_or_default();
        conflicts::find(&self.doc, skip)
    }

    /// The underlying Automerge document, read-only.
    pub fn automerge(&self) -> &Automerge {
        &self.doc
    }
}

/// Decodes change bytes as they travel and are stored. Automerge panics
/// on some malformed changes (an out-of-range key index, found by the
/// `push_body` fuzz target): that is caught here and refused like any
/// other bad change, since these bytes come from other devices.
///
/// `Change::from_bytes` does not check a change's header checksum (the
/// first four bytes of its hash), while `Automerge::load` does: a change
/// with a wrong one would be stored and served, and then neither the
/// server's snapshot of its document nor any device could load it (found
/// by the `fresh_record` fuzz target on a compressed change, whose
/// uncompressed form keeps the header's checksum). Such a change is
/// refused here, before anything stores it.
pub fn decode_change(bytes: &[u8]) -> Result<Change, DocError> {
    let change = std::panic::catch_unwind(|| Change::from_bytes(bytes.to_vec()))
        .map_err(|_| DocError::BadChange("the change's operations do not decode".into()))?
        .map_err(|e| DocError::BadChange(e.to_string()))?;
    // The chunk header: magic (4 bytes), checksum (4), type, length, body.
    // The checksum is the first four bytes of the change's hash.
    let raw = change.raw_bytes();
    if raw.get(4..8) != Some(&change.hash().0[..4]) {
        return Err(DocError::BadChange(
            "the change's checksum does not match its content".into(),
        ));
    }
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `push_body` fuzz target: a change whose operation
    /// columns hold a key index past `u32` made Automerge panic in
    /// `Change::from_bytes`, failing the whole push on the server (and a
    /// pull page on a device) instead of refusing the one change.
    /// Found by the `fresh_record` fuzz target: a compressed change whose
    /// header checksum was computed over its compressed body decoded, and
    /// its uncompressed bytes, which the server stores and serves, did not
    /// load anywhere. The same holds of an uncompressed change with a wrong
    /// checksum. An honest change still decodes, compressed or not, and its
    /// uncompressed bytes load.
    #[test]
    fn a_compressed_change_with_a_wrong_checksum_is_refused() {
        use sha2::Digest as _;
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        let text = tx
            .put_object(automerge::ROOT, "description", automerge::ObjType::Text)
            .unwrap();
        tx.splice_text(&text, 0, 0, &"在村里讲解玉米病虫害的防治。".repeat(20))
            .unwrap();
        tx.commit();
        let change = doc.get_changes(&[]).into_iter().next().unwrap().clone();
        let compressed = change.clone().bytes().into_owned();
        assert_ne!(compressed, change.raw_bytes(), "the change is compressed");

        let honest = decode_change(&compressed).expect("an honest compressed change decodes");
        assert_eq!(honest.hash(), change.hash());
        Automerge::load(honest.raw_bytes()).expect("its uncompressed bytes load");

        // The checksum of the compressed chunk's own type, length and body.
        let mut tampered = compressed.clone();
        let digest = sha2::Sha256::digest(&tampered[8..]);
        tampered[4..8].copy_from_slice(&digest[..4]);
        assert_ne!(tampered, compressed, "the checksum changed");
        let err = decode_change(&tampered).unwrap_err();
        assert_eq!(err.code(), "document_bad_change");
        assert!(err.to_string().contains("checksum"), "{err}");

        // The same class uncompressed: any wrong checksum is refused.
        let mut wrong = change.raw_bytes().to_vec();
        wrong[4] ^= 0x01;
        let err = decode_change(&wrong).unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        let mut right = wrong;
        right[4] ^= 0x01;
        decode_change(&right).expect("the change as made decodes");
        Automerge::load(&right).expect("and loads");
    }

    #[test]
    fn a_change_that_panics_automerge_is_refused() {
        let hex = concat!(
            "856f4a833497486701a00101357c38ac991a7c59e34cc1f3ef2197437ed8a3cdab3b0bdf69cf6116fe3a2c1b",
            "100707070707070707070707070707070702260000000b010202021104130e34064209560957157009710273",
            "040d000d1300010c007d00ffffffffffffffff017e6c15000205bb0101020105030401780301023605000436",
            "7e0036e794b0e997b4efbc9ae78e89e7b1b3e8bfbde882a50200050104007e010006007f160501",
        );
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let err = decode_change(&bytes).unwrap_err();
        assert_eq!(err.code(), "document_bad_change");
    }

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
