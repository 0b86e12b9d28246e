//! [`plan`]: the outcome of every change of a push and what to write, from
//! the batch and the rows a store read ([`super::PushFetched`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};

use app_core::doc::{DocError, RecordDoc};
use app_core::domain::validate::{Context, Register, VillageLookup};
use app_core::domain::{
    CountyCode, DeviceId, DocId, PhotoHash, RecordKind, Timestamp, VillageCode,
};
use app_core::scope::{AnyRecord, Placement, Principal, Refusal, check_write};
use app_core::stats::{ConsultationFact, LogEntry};
use app_core::sync::protocol::{ChangeOutcome, RefusalCode};
use automerge::Change;

use super::hidden::{check_hidden_writes, touched_fields};
use super::{Incoming, PushBatch, PushFetched};

/// Where a document sits and what it is, as written after a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocUpdate {
    /// The document.
    pub doc: DocId,
    /// Its kind.
    pub kind: RecordKind,
    /// Placement read from the record itself.
    pub placement: Placement,
    /// The whole document as `Automerge::load` reads it: a save of it, or,
    /// for a document this push creates with one change, that change's
    /// bytes (a load applies it; see [`plan`]).
    pub snapshot: Vec<u8>,
    /// Its heads, 32 bytes each.
    pub heads: Vec<u8>,
    /// What the statistics read of the record (the store's projection,
    /// written in the same transaction as the document).
    pub facts: RecordFacts,
    /// The photos (and thumbnails) the record names, each once: who may
    /// download them ([`record_photos`]), written in the same transaction.
    pub photos: Vec<PhotoHash>,
    /// Whether a field holds concurrent values (the conflict list).
    pub conflicted: bool,
}

/// The fields of a record that the figures of docs/statistics.md read, as
/// the server projects them beside the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordFacts {
    /// A service log's fact and its named items.
    Log(LogEntry),
    /// A consultation's fact.
    Consultation(ConsultationFact),
}

/// The facts of a record: the one place that decides how a record counts
/// (its effective review status and whether it is a duplicate). Called on
/// the record the plan already hydrated, and on stored documents when the
/// projection is backfilled.
///
/// The status counted is the log's derived review state and a record
/// marked as a duplicate is a duplicate (`LogFact::of`), as on the device.
pub fn record_facts(record: &AnyRecord) -> RecordFacts {
    match record {
        AnyRecord::ServiceLog(l) => RecordFacts::Log(LogEntry::of(l, false)),
        AnyRecord::Consultation(c) => RecordFacts::Consultation(ConsultationFact::of(c, false)),
    }
}

/// The photos a record names, photo and thumbnail alike, sorted and each
/// once: a device whose read scope holds the record may download them.
/// Called on the record the plan already hydrated, and on stored documents
/// when the references are backfilled.
pub fn record_photos(record: &AnyRecord) -> Vec<PhotoHash> {
    let metas = match record {
        AnyRecord::ServiceLog(l) => &l.photos,
        AnyRecord::Consultation(c) => &c.photos,
    };
    let set: BTreeSet<PhotoHash> = metas.iter().flat_map(|m| [m.hash, m.thumb]).collect();
    set.into_iter().collect()
}

/// A row of the quarantine to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuarantine {
    /// The document.
    pub doc: DocId,
    /// The change hash, if decoded.
    pub hash: Option<[u8; 32]>,
    /// The bytes as sent, or their first [`KEPT_HEAD`] bytes when `cut`.
    pub bytes: Vec<u8>,
    /// Refusal code.
    pub code: &'static str,
    /// Why.
    pub reason: String,
    /// Set when only the head of the change is kept.
    pub cut: Option<Cut>,
}

/// What is kept of a change cut down to its head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// The whole change's size.
    pub length: u64,
    /// SHA-256 of the whole change.
    pub sha256: [u8; 32],
}

/// A refused change over this size keeps only its head.
pub const MAX_KEPT_CHANGE: usize = 64 * 1024;
/// The head kept of a change that is cut.
pub const KEPT_HEAD: usize = 1024;
/// Bytes one device's open quarantine rows keep at most; past it every
/// refused change keeps only its head.
pub const MAX_DEVICE_QUARANTINE_BYTES: u64 = 16 * 1024 * 1024;

/// What a quarantine row keeps of `bytes`, with `kept` the bytes the
/// device's open rows keep already (updated).
fn kept(bytes: &[u8], kept: &mut u64) -> (Vec<u8>, Option<Cut>) {
    let whole = bytes.len() as u64;
    if bytes.len() <= MAX_KEPT_CHANGE && *kept + whole <= MAX_DEVICE_QUARANTINE_BYTES {
        *kept += whole;
        return (bytes.to_vec(), None);
    }
    let head = &bytes[..bytes.len().min(KEPT_HEAD)];
    *kept += head.len() as u64;
    let sha256 = {
        use sha2::Digest;
        sha2::Sha256::digest(bytes).into()
    };
    (
        head.to_vec(),
        Some(Cut {
            length: whole,
            sha256,
        }),
    )
}

/// Everything a push writes, decided by [`plan`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushWrites {
    /// Actors to bind to the pushing device.
    pub bind_actors: Vec<Vec<u8>>,
    /// Accepted changes in the order they get sequence numbers.
    pub changes: Vec<(DocId, [u8; 32], Vec<u8>)>,
    /// Documents to insert or update.
    pub docs: Vec<DocUpdate>,
    /// Refused changes to keep.
    pub quarantine: Vec<NewQuarantine>,
}

/// Reads the record a document holds.
pub fn hydrate(doc: &RecordDoc) -> Result<AnyRecord, DocError> {
    Ok(match doc.kind()? {
        RecordKind::ServiceLog => AnyRecord::ServiceLog(doc.read()?),
        RecordKind::Consultation => AnyRecord::Consultation(doc.read()?),
    })
}

fn record_doc_id(r: &AnyRecord) -> DocId {
    match r {
        AnyRecord::ServiceLog(l) => l.id.into(),
        AnyRecord::Consultation(c) => c.id.into(),
    }
}

/// Where one document stands while a push is planned.
struct DocState {
    /// The document with every change accepted so far.
    doc: RecordDoc,
    /// The record it holds (none for a document not created yet).
    record: Option<AnyRecord>,
    /// Whether accepted changes must be written back.
    dirty: bool,
    /// Whether the document is quarantined for this device.
    quarantined: bool,
    /// Set when the stored document cannot be read: every change is refused.
    broken: Option<String>,
    /// For a document with no stored snapshot: the bytes of the one change
    /// accepted so far (empty before it), which load as the document; none
    /// for a stored document or once a second change is accepted.
    fresh: Option<Vec<u8>>,
}

/// What one change turned out to be.
enum Verdict {
    Duplicate,
    MissingDeps,
    Refused(Refusal),
    Accepted {
        next: Box<RecordDoc>,
        record: Box<AnyRecord>,
    },
}

fn refusal(code: RefusalCode, reason: impl Into<String>) -> Verdict {
    Verdict::Refused(Refusal {
        code,
        reason: reason.into(),
    })
}

/// Decides the outcome of every change of a push and what to write.
pub fn plan(batch: &PushBatch, fetched: PushFetched) -> (Vec<ChangeOutcome>, PushWrites) {
    let PushFetched {
        snapshots,
        mut actors,
        hashes,
        quarantined,
        register,
        quarantine_bytes,
    } = fetched;
    let mut quarantine_bytes = quarantine_bytes;
    let register = FetchedRegister(&register);
    let mut states: HashMap<DocId, DocState> = HashMap::new();
    let mut order: Vec<DocId> = Vec::new();
    let mut outcomes = Vec::with_capacity(batch.changes.len());
    let mut writes = PushWrites::default();

    let mut state_of = |doc: DocId, states: &mut HashMap<DocId, DocState>| {
        if states.contains_key(&doc) {
            return;
        }
        order.push(doc);
        let fresh = (!snapshots.contains_key(&doc)).then(Vec::new);
        let (doc_value, record, broken) = match snapshots.get(&doc) {
            None => (RecordDoc::empty(), None, None),
            Some(bytes) => match RecordDoc::load(bytes) {
                Ok(d) => match hydrate(&d) {
                    Ok(r) => (d, Some(r), None),
                    Err(e) => (d, None, Some(format!("stored document does not read: {e}"))),
                },
                Err(e) => (
                    RecordDoc::empty(),
                    None,
                    Some(format!("stored document does not load: {e}")),
                ),
            },
        };
        if let Some(why) = &broken {
            tracing::error!(%doc, ?why, "stored document is unreadable");
        }
        states.insert(
            doc,
            DocState {
                doc: doc_value,
                record,
                dirty: false,
                quarantined: quarantined.contains(&doc),
                broken,
                fresh,
            },
        );
    };

    for incoming in &batch.changes {
        let (doc, bytes) = match incoming {
            Incoming::Change { doc, bytes, .. } | Incoming::Undecodable { doc, bytes, .. } => {
                (*doc, bytes)
            }
        };
        state_of(doc, &mut states);
        let state = states.get_mut(&doc).expect("state was just made");
        let (verdict, hash) = match incoming {
            Incoming::Undecodable { reason, .. } => (
                if state.quarantined {
                    quarantined_verdict()
                } else {
                    refusal(RefusalCode::Undecodable, reason.clone())
                },
                None,
            ),
            Incoming::Change { change, .. } => {
                let hash = change.hash();
                let verdict = judge(batch, doc, change, state, &actors, &hashes, &register);
                (verdict, Some(hash.0))
            }
        };
        let outcome = match verdict {
            Verdict::Duplicate => ChangeOutcome::Duplicate,
            Verdict::MissingDeps => ChangeOutcome::MissingDeps,
            Verdict::Refused(r) => {
                state.quarantined = true;
                let (kept_bytes, cut) = kept(bytes, &mut quarantine_bytes);
                let reason = match &cut {
                    None => r.reason.clone(),
                    Some(c) => format!(
                        "{} (only the first {} of its {} bytes are kept, SHA-256 {})",
                        r.reason,
                        kept_bytes.len(),
                        c.length,
                        c.sha256
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect::<String>()
                    ),
                };
                writes.quarantine.push(NewQuarantine {
                    doc,
                    hash,
                    bytes: kept_bytes,
                    code: r.code.as_str(),
                    reason,
                    cut,
                });
                ChangeOutcome::Refused {
                    code: r.code,
                    reason: r.reason,
                }
            }
            Verdict::Accepted { next, record } => {
                let Incoming::Change { change, .. } = incoming else {
                    unreachable!("only decoded changes are accepted")
                };
                let actor = change.actor_id().to_bytes().to_vec();
                if !actors.contains_key(&actor) {
                    actors.insert(actor.clone(), batch.device);
                    writes.bind_actors.push(actor);
                }
                state.doc = *next;
                state.record = Some(*record);
                state.dirty = true;
                // A new document made by one change keeps that change as
                // its snapshot; one made by several is saved whole, so
                // that loading it does not apply them one by one.
                match &mut state.fresh {
                    Some(first) if first.is_empty() => first.extend_from_slice(bytes),
                    Some(_) => state.fresh = None,
                    None => {}
                }
                writes
                    .changes
                    .push((doc, hash.expect("decoded"), bytes.clone()));
                ChangeOutcome::Stored
            }
        };
        outcomes.push(outcome);
    }

    for doc in order {
        let state = states.remove(&doc).expect("every ordered doc has a state");
        if !state.dirty {
            continue;
        }
        let record = state.record.expect("an accepted change leaves a record");
        let placement = record.placement();
        let heads: Vec<u8> = state
            .doc
            .heads()
            .iter()
            .flat_map(|h| h.0.iter().copied())
            .collect();
        writes.docs.push(DocUpdate {
            doc,
            kind: placement.kind,
            placement,
            // A new document's one change is its compact form already:
            // `Automerge::load` reads change bytes and applies them, as it
            // reads a save. Saving afresh would encode every operation
            // again. Other documents are saved whole.
            snapshot: match state.fresh {
                Some(bytes) => bytes,
                None => state.doc.save(),
            },
            heads,
            facts: record_facts(&record),
            photos: record_photos(&record),
            conflicted: !state.doc.conflicts().is_empty(),
        });
    }
    (outcomes, writes)
}

fn quarantined_verdict() -> Verdict {
    refusal(
        RefusalCode::Quarantined,
        "an earlier change of this record from this device was refused; a sync admin must release it",
    )
}

/// The outcome of one decoded change against the document as it stands.
fn judge(
    batch: &PushBatch,
    doc: DocId,
    change: &Change,
    state: &DocState,
    actors: &HashMap<Vec<u8>, DeviceId>,
    hashes: &HashMap<[u8; 32], DocId>,
    register: &FetchedRegister<'_>,
) -> Verdict {
    let hash = change.hash();
    if state.doc.has_change(&hash) {
        return Verdict::Duplicate;
    }
    if let Some(other) = hashes.get(&hash.0)
        && *other != doc
    {
        return refusal(
            RefusalCode::WrongDocument,
            format!("this change belongs to document {other}"),
        );
    }
    if state.quarantined {
        return quarantined_verdict();
    }
    if let Some(why) = &state.broken {
        return refusal(RefusalCode::InvalidRecord, why.clone());
    }
    if change.deps().iter().any(|d| !state.doc.has_change(d)) {
        return Verdict::MissingDeps;
    }
    let actor = change.actor_id().to_bytes();
    if let Some(owner) = actors.get(actor)
        && *owner != batch.device
    {
        return refusal(
            RefusalCode::ForeignActor,
            "the change's actor belongs to another device",
        );
    }
    // Automerge is fed untrusted bytes here; a panic inside it must refuse
    // the change, not fail the whole push.
    match catch_unwind(AssertUnwindSafe(|| {
        apply_and_check(&batch.principal, doc, change, state, register)
    })) {
        Ok(v) => v,
        Err(_) => {
            tracing::error!(%doc, hash = %hash, "automerge panicked on a pushed change");
            refusal(RefusalCode::InvalidRecord, "the change cannot be applied")
        }
    }
}

fn apply_and_check(
    who: &Principal,
    doc: DocId,
    change: &Change,
    state: &DocState,
    register: &FetchedRegister<'_>,
) -> Verdict {
    let mut next = state.doc.clone();
    if let Err(e) = next.apply([change.clone()]) {
        return refusal(
            RefusalCode::InvalidRecord,
            format!("the change does not apply: {e}"),
        );
    }
    if !next.has_change(&change.hash()) {
        return Verdict::MissingDeps;
    }
    let after = match hydrate(&next) {
        Ok(r) => r,
        Err(e) => {
            return refusal(
                RefusalCode::InvalidRecord,
                format!("the document would not hold a valid record: {e}"),
            );
        }
    };
    if record_doc_id(&after) != doc {
        return refusal(
            RefusalCode::WrongDocument,
            format!(
                "the record's id {} is not the document {doc}",
                record_doc_id(&after)
            ),
        );
    }
    if let Err(r) = check_write(who, state.record.as_ref(), &after) {
        return Verdict::Refused(r);
    }
    if let Some(before) = &state.record {
        let touched = touched_fields(change, &next);
        let visible = AnyRecord::changed_fields(before, &after);
        let hidden: Vec<String> = touched
            .into_iter()
            .filter(|f| !visible.contains(f))
            .collect();
        if let Err(r) = check_hidden_writes(who, before, &hidden) {
            return Verdict::Refused(r);
        }
    }
    if let Err(r) = check_record_rules(state.record.as_ref(), &after, register) {
        return Verdict::Refused(r);
    }
    Verdict::Accepted {
        next: Box::new(next),
        record: Box::new(after),
    }
}

/// The division register a push read ([`PushFetched::register`]), as
/// validation asks it.
struct FetchedRegister<'a>(&'a BTreeMap<CountyCode, Option<BTreeSet<u64>>>);

impl Register for FetchedRegister<'_> {
    fn lookup_village(&self, village: VillageCode) -> VillageLookup {
        match self.0.get(&village.county()) {
            Some(Some(villages)) if villages.contains(&village.as_int()) => VillageLookup::Known,
            Some(Some(_)) => VillageLookup::NotInRegister,
            Some(None) => VillageLookup::CountyNotLoaded,
            // A county the store was not asked about: the village was
            // written in a way `PushBatch::decode` does not see (no honest
            // device does that). Refused rather than stored unchecked.
            None => VillageLookup::NotInRegister,
        }
    }
}

/// The device's record rules ([`app_core::domain::ServiceLog::validate`],
/// [`app_core::domain::Consultation::validate`]: text lengths, ranges,
/// dates, required fields, the village against the register) on the record
/// as it would be after the change. The first impossible value the change
/// brings refuses it as `invalid_record`, its reason naming the field and
/// the rule's code; warnings (a future date, no GPS) do not.
///
/// A rule the stored record already broke (`before`: say its village was
/// stored while the county's register was not loaded, or the rules grew
/// since) does not refuse a change that leaves it as broken: a lead's
/// approval or an admin's resolution of an old record still lands. Only
/// breakage the change adds is refused.
pub fn check_record_rules(
    before: Option<&AnyRecord>,
    after: &AnyRecord,
    register: &dyn Register,
) -> Result<(), Refusal> {
    let Err(errors) = record_errors(after, register) else {
        return Ok(());
    };
    let known: Vec<(String, &'static str)> = match before.map(|b| record_errors(b, register)) {
        Some(Err(before)) => before
            .errors
            .iter()
            .map(|f| (f.field().to_owned(), f.code()))
            .collect(),
        _ => Vec::new(),
    };
    let Some(first) = errors
        .errors
        .iter()
        .find(|f| !known.contains(&(f.field().to_owned(), f.code())))
    else {
        return Ok(());
    };
    Err(Refusal {
        code: RefusalCode::InvalidRecord,
        reason: clip(format!("{}: {}: {first}", first.field(), first.code())),
    })
}

/// The record's impossible values under the device's rules.
fn record_errors(
    record: &AnyRecord,
    register: &dyn Register,
) -> Result<(), app_core::domain::ValidationError> {
    let ctx = Context {
        // Only warnings read the time (a date in the future or long ago),
        // and the server keeps no warnings, so the plan stays a pure
        // function of its input.
        now: Timestamp::from_millis(0),
        register,
        // A stored record's list items all have their IDs already.
        mint: &uuid::Uuid::nil,
    };
    match record {
        AnyRecord::ServiceLog(l) => l.validate(&ctx).map(drop),
        AnyRecord::Consultation(c) => c.validate(&ctx).map(drop),
    }
}

/// A reason cut to 300 characters: an error may quote the value, and the
/// value may be as long as the push allowed.
fn clip(reason: String) -> String {
    match reason.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &reason[..at]),
        None => reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::domain::{Role, Scope, ServiceLog, Timestamp};
    use app_core::sync::protocol::{PushRequest, WireChange};
    use app_core::testing::{self, device_id as device, team_id as team, user_id as uid};
    use automerge::transaction::Transactable;
    use automerge::{ActorId, Automerge};

    fn commissioner(n: u8) -> Principal {
        Principal {
            user: uid(n),
            role: Role::Commissioner,
            scope: Scope::Team(team(1)),
            team: Some(team(1)),
            county: Some(testing::ZHENGAN.parse().unwrap()),
        }
    }
    fn log(author: u8) -> ServiceLog {
        testing::service_log(uid(author), Some(team(1)), testing::village())
    }

    fn batch(who: Principal, dev: DeviceId, changes: Vec<(DocId, Vec<u8>)>) -> PushBatch {
        PushBatch::decode(
            who,
            dev,
            PushRequest {
                changes: changes
                    .into_iter()
                    .map(|(doc, bytes)| WireChange { doc, bytes })
                    .collect(),
            },
        )
    }

    fn created(author: u8, actor: &ActorId) -> (RecordDoc, DocId, Vec<u8>) {
        let record = log(author);
        let (doc, mut change) =
            RecordDoc::create(&record, actor.clone(), Timestamp::from_millis(5)).unwrap();
        (doc, record.id.into(), change.bytes().into_owned())
    }

    fn edited(doc: &mut RecordDoc, actor: &ActorId, f: impl FnOnce(&mut ServiceLog)) -> Vec<u8> {
        let edited = doc
            .edit::<ServiceLog, (), DocError>(actor, Timestamp::from_millis(6), |l| {
                f(l);
                Ok(())
            })
            .unwrap();
        edited.change.unwrap().bytes().into_owned()
    }

    /// What a store reads for a push in 正安 whose register it does not
    /// hold.
    fn fetched() -> PushFetched {
        let mut f = PushFetched::default();
        f.register.insert(testing::village().county(), None);
        f
    }

    fn stored_state(doc: &RecordDoc, id: DocId) -> PushFetched {
        let mut f = fetched();
        f.snapshots.insert(id, doc.save());
        f
    }

    #[test]
    fn a_new_record_is_stored_and_its_actor_bound() {
        let actor = ActorId::random();
        let (_, id, bytes) = created(1, &actor);
        let b = batch(
            commissioner(1),
            device(1),
            vec![(id, bytes.clone()), (id, bytes)],
        );
        let (outcomes, writes) = plan(&b, fetched());
        assert_eq!(
            outcomes,
            vec![ChangeOutcome::Stored, ChangeOutcome::Duplicate]
        );
        assert_eq!(writes.changes.len(), 1);
        assert_eq!(writes.bind_actors, vec![actor.to_bytes().to_vec()]);
        assert_eq!(writes.docs.len(), 1);
        assert_eq!(writes.docs[0].placement.author, uid(1));
        assert_eq!(writes.docs[0].placement.county.to_string(), "520324");
        // The statistics' facts come from the same record.
        assert_eq!(
            writes.docs[0].facts,
            RecordFacts::Log(LogEntry::of(&log(1), false))
        );
    }

    /// A document a push creates with one change is stored as that
    /// change's bytes, which load as the same document and record, and a
    /// later push edits it; one created with several changes is saved
    /// whole.
    #[test]
    fn a_new_document_is_stored_as_its_change_and_loads_as_itself() {
        let actor = ActorId::random();
        let (doc, id, bytes) = created(1, &actor);
        let b = batch(commissioner(1), device(1), vec![(id, bytes.clone())]);
        let (_, writes) = plan(&b, fetched());
        let snapshot = &writes.docs[0].snapshot;
        // The stored change row's bytes (uncompressed, as served).
        assert_eq!(snapshot, &writes.changes[0].2);
        let loaded = RecordDoc::load(snapshot).unwrap();
        assert_eq!(loaded.heads(), doc.heads());
        assert_eq!(hydrate(&loaded).unwrap(), hydrate(&doc).unwrap());
        // The next push reads that snapshot and edits the record.
        let mut edited_doc = doc.clone();
        let second = edited(&mut edited_doc, &actor, |l| l.farmers_served = 13);
        let mut stored = fetched();
        stored.snapshots.insert(id, snapshot.clone());
        stored.actors.insert(actor.to_bytes().to_vec(), device(1));
        let b = batch(commissioner(1), device(1), vec![(id, second.clone())]);
        let (outcomes, writes) = plan(&b, stored);
        assert_eq!(outcomes, vec![ChangeOutcome::Stored]);
        let loaded = RecordDoc::load(&writes.docs[0].snapshot).unwrap();
        assert_eq!(loaded.heads(), edited_doc.heads());
        // Created and edited in one push: saved whole.
        let b = batch(
            commissioner(1),
            device(1),
            vec![(id, bytes.clone()), (id, second)],
        );
        let (outcomes, writes) = plan(&b, fetched());
        assert_eq!(outcomes, vec![ChangeOutcome::Stored, ChangeOutcome::Stored]);
        assert_ne!(writes.docs[0].snapshot, writes.changes[0].2);
        let loaded = RecordDoc::load(&writes.docs[0].snapshot).unwrap();
        assert_eq!(loaded.heads(), edited_doc.heads());
        assert_eq!(hydrate(&loaded).unwrap(), hydrate(&edited_doc).unwrap());
    }

    #[test]
    fn a_change_without_its_dependency_waits() {
        let actor = ActorId::random();
        let (mut doc, id, _first) = created(1, &actor);
        let second = edited(&mut doc, &actor, |l| l.farmers_served = 13);
        let b = batch(commissioner(1), device(1), vec![(id, second)]);
        let (outcomes, writes) = plan(&b, fetched());
        assert_eq!(outcomes, vec![ChangeOutcome::MissingDeps]);
        assert_eq!(writes, PushWrites::default());
    }

    #[test]
    fn undecodable_bytes_are_refused_and_quarantine_the_document() {
        let actor = ActorId::random();
        let (_, id, bytes) = created(1, &actor);
        let b = batch(
            commissioner(1),
            device(1),
            vec![(id, vec![1, 2, 3]), (id, bytes)],
        );
        let (outcomes, writes) = plan(&b, fetched());
        assert!(matches!(
            &outcomes[0],
            ChangeOutcome::Refused {
                code: RefusalCode::Undecodable,
                ..
            }
        ));
        assert!(matches!(
            &outcomes[1],
            ChangeOutcome::Refused {
                code: RefusalCode::Quarantined,
                ..
            }
        ));
        assert_eq!(writes.quarantine.len(), 2);
        assert!(writes.changes.is_empty());
    }

    fn unhex(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Found by the `push_body` fuzz target: changes that decode but whose
    /// operations make Automerge panic when listed (`Change::decode`, read
    /// for the villages a push writes) failed the whole push. They are
    /// refused as undecodable, and the push is answered.
    #[test]
    fn changes_that_panic_automerge_are_refused_not_fatal() {
        let id: DocId = "0192f000-0000-7000-8000-0000000bbbbb".parse().unwrap();
        let first = unhex(concat!(
            "856f4a83357c38ac02cb0385524d8b134110adee999d999d5d4324ebd59b780af48c715daffe083d",
            "0e9d9e4ad2381fa1bb666451134fca4250bc88a007118920a8b0875c14f6b6bfc383c9c68bf81364",
            "3678f1b2eff0aa5ef1ea5114b4fdffc0180084acc55b97bdcea52bbf596feb4ee7eef57b3fd89843",
            "7b0ac00300c70170a13d6d030f3ae03857c1853d1f20dc3826b0e73108c75bc97d5da47e62d50873",
            "c975eac98a46a5710965eea69230b4240d25a4730cb048cf1bbfd65926871864a592a4cb22908a74",
            "ade930d0455a593287ad8134391a9b583435a60119a90b44eb6df42ea11a1565560e355a6093ed5a",
            "1a8da4d1eea46895d1e3261682da1b8f4a2aad674952653d83b5c607be2af31c0be2fd432e295406",
            "25619a48da4eab71a69524f4374ebb63d09659d5a4d936e341d8629c3f66dc0dd823cec07519e793",
            "05eb38a7ee74ce383c3c6530e7838e03d339e710ec4fe0157361aa1d682ed70a93ac1c7211dd8e07",
            "4288ae68e8564360ffa41092dfe0024f83e8228f94228a45bcdf8da26e7c70331637e25eb326a2f3",
            "076a25b36458e954160ad7b3c5f2c562b7296f3e9f7d3b591f1dff7abc7d7afe71357bb6fcfabd99",
            "3f7dfbf3e4cbf2e8d37ab658bd7b69ab7eae89307df2e7ecc3fbde35f80b",
        ));
        let second = unhex(concat!(
            "856f4a833497486701a00101357c38ac991a7c59e34cc1f3ef2197437ed8a3cdab3b0bdf69cf6116",
            "fe3a2c1b100707070707070707070707070707070702260000000b010202021104130e3406420956",
            "0957157009710273040d000d13fa000c007d00267004017e7b1802017e6c15000205040101020105",
            "0304017e03010236050004367e0036e794b0e997b4efbc9ae78e89e7b1b3e8bfbde882a502000501",
            "04007e010006007f160501",
        ));
        let b = batch(commissioner(1), device(1), vec![(id, first), (id, second)]);
        let (outcomes, writes) = plan(&b, fetched());
        assert_eq!(outcomes.len(), 2);
        assert!(
            matches!(
                &outcomes[0],
                ChangeOutcome::Refused {
                    code: RefusalCode::Undecodable,
                    ..
                }
            ),
            "{outcomes:?}"
        );
        assert!(writes.changes.is_empty());
    }

    #[test]
    fn an_actor_bound_to_another_device_is_refused() {
        let actor = ActorId::random();
        let (_, id, bytes) = created(1, &actor);
        let mut fetched = fetched();
        fetched.actors.insert(actor.to_bytes().to_vec(), device(2));
        let b = batch(commissioner(1), device(1), vec![(id, bytes)]);
        let (outcomes, _) = plan(&b, fetched);
        assert!(matches!(
            &outcomes[0],
            ChangeOutcome::Refused {
                code: RefusalCode::ForeignActor,
                ..
            }
        ));
    }

    #[test]
    fn a_teammate_cannot_edit_and_a_stored_quarantine_holds() {
        let owner = ActorId::random();
        let (mut doc, id, _) = created(1, &owner);
        let stored = stored_state(&doc, id);
        let mate = ActorId::random();
        let edit = edited(&mut doc, &mate, |l| l.description = "改".into());
        let b = batch(commissioner(2), device(2), vec![(id, edit.clone())]);
        let (outcomes, writes) = plan(&b, stored.clone());
        assert!(matches!(
            &outcomes[0],
            ChangeOutcome::Refused {
                code: RefusalCode::NotYourRecord,
                ..
            }
        ));
        assert!(writes.docs.is_empty());
        let mut q = stored;
        q.quarantined.insert(id);
        let b = batch(commissioner(1), device(1), vec![(id, edit)]);
        let (outcomes, _) = plan(&b, q);
        assert!(matches!(
            &outcomes[0],
            ChangeOutcome::Refused {
                code: RefusalCode::Quarantined,
                ..
            }
        ));
    }

    #[test]
    fn a_hidden_write_to_the_author_is_refused() {
        let owner = ActorId::from(vec![0xffu8; 16]);
        let (doc, id, _) = created(1, &owner);
        // A change made without seeing the record: its value for `author`
        // is concurrent with the creation's and loses to it (lower actor),
        // so the record still shows the real author.
        let mut am = Automerge::new().with_actor(ActorId::from(vec![0u8; 16]));
        am.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(automerge::ROOT, "author", uid(2).to_string())?;
            Ok(())
        })
        .unwrap();
        let mut sneaky = am.get_changes(&[]).into_iter().next().unwrap().clone();
        let bytes = sneaky.bytes().into_owned();
        let mut check = doc.clone();
        check.apply([sneaky]).unwrap();
        assert_eq!(
            hydrate(&check).unwrap(),
            hydrate(&doc).unwrap(),
            "the write is hidden"
        );
        let b = batch(commissioner(1), device(1), vec![(id, bytes)]);
        let (outcomes, writes) = plan(&b, stored_state(&doc, id));
        assert!(
            matches!(
                &outcomes[0],
                ChangeOutcome::Refused {
                    code: RefusalCode::FieldNotAllowed,
                    ..
                }
            ),
            "{outcomes:?}"
        );
        assert!(writes.changes.is_empty());
    }

    #[test]
    fn the_record_rules_and_the_register_refuse_what_the_device_would() {
        let actor = ActorId::random();
        let (_, id, bytes) = created(1, &actor);
        // The register holds 正安 without this village.
        let mut f = fetched();
        f.register
            .insert(testing::village().county(), Some(BTreeSet::from([1])));
        let b = batch(commissioner(1), device(1), vec![(id, bytes.clone())]);
        let (outcomes, writes) = plan(&b, f);
        assert!(
            matches!(&outcomes[0], ChangeOutcome::Refused { code: RefusalCode::InvalidRecord, reason }
                if reason.starts_with("village: village_not_in_register")),
            "{outcomes:?}"
        );
        assert!(writes.docs.is_empty() && writes.changes.is_empty());
        assert_eq!(writes.quarantine.len(), 1);
        // A county the store was not asked about is refused too, never
        // stored unchecked.
        let (outcomes, _) = plan(&b, PushFetched::default());
        assert!(matches!(
            &outcomes[0],
            ChangeOutcome::Refused {
                code: RefusalCode::InvalidRecord,
                ..
            }
        ));
        // Too long a description.
        let mut l = log(1);
        l.description = "长".repeat(10_001);
        let (_, mut change) = RecordDoc::create(&l, actor, Timestamp::from_millis(5)).unwrap();
        let b = batch(
            commissioner(1),
            device(1),
            vec![(l.id.into(), change.bytes().into_owned())],
        );
        let (outcomes, _) = plan(&b, fetched());
        assert!(
            matches!(&outcomes[0], ChangeOutcome::Refused { code: RefusalCode::InvalidRecord, reason }
                if reason.starts_with("description: too_long")),
            "{outcomes:?}"
        );
    }

    #[test]
    fn refused_bytes_keep_only_a_head_past_the_size_or_the_budget() {
        let id: DocId = log(1).id.into();
        let small = vec![7u8; 100];
        let big = vec![9u8; MAX_KEPT_CHANGE + 1];
        let b = batch(
            commissioner(1),
            device(1),
            vec![(id, small.clone()), (id, big.clone())],
        );
        let (_, writes) = plan(&b, fetched());
        assert_eq!(writes.quarantine[0].bytes, small);
        assert_eq!(writes.quarantine[0].cut, None);
        assert_eq!(writes.quarantine[1].bytes, big[..KEPT_HEAD]);
        let cut = writes.quarantine[1].cut.unwrap();
        assert_eq!(cut.length, big.len() as u64);
        use sha2::Digest;
        assert_eq!(cut.sha256, <[u8; 32]>::from(sha2::Sha256::digest(&big)));
        // A device whose open rows are at its budget keeps heads only.
        let mut full = fetched();
        full.quarantine_bytes = MAX_DEVICE_QUARANTINE_BYTES - 50;
        let (_, writes) = plan(&b, full);
        assert_eq!(writes.quarantine[0].bytes, small[..]);
        assert!(writes.quarantine[0].cut.is_some());
    }
}
