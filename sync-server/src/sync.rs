//! Push validation: which changes of a push are stored, and why the others
//! are not. No I/O and no SQL: a store reads what [`PushBatch::needs`] asks
//! for inside its write transaction, calls [`plan`], and writes the
//! [`PushWrites`] it returns in the same transaction.
//!
//! For each change, in request order:
//!
//! 1. it must decode (`refused/undecodable`);
//! 2. a change the document already holds is a `duplicate` (replays are
//!    harmless); a change stored under another document is
//!    `refused/wrong_document`;
//! 3. a document refused earlier for this device stays quarantined
//!    (`refused/quarantined`) until a sync admin releases it;
//! 4. its dependencies must be in the document, stored or accepted earlier
//!    in this push (`missing_deps`);
//! 5. its Automerge actor must not be bound to another device
//!    (`refused/foreign_actor`); an unbound actor is bound to this device
//!    when its first change is stored;
//! 6. it is applied to a copy of the document; the record is read before
//!    and after, and [`app_core::scope::check_write`] decides whether this
//!    user may make this change. The record's author, team and county come
//!    from the record itself, never from the device.
//! 7. Automerge keeps concurrent values, so a change can write a field
//!    without changing what the record shows (its value loses to another).
//!    Such hidden writes are checked against the same rules (see
//!    [`check_hidden_writes`]), so that no one can stash a value in a
//!    field they may not write.
//!
//! The first refusal quarantines the document for the rest of the push
//! (and for later pushes from the same device); other documents go through.

use std::collections::{BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};

use app_core::doc::{DocError, RecordDoc, decode_change};
use app_core::domain::{DeviceId, DocId, LogStatus, RecordKind, Role};
use app_core::scope::{AnyRecord, Principal, Refusal, can_read, check_write};
use app_core::sync::protocol::{ChangeOutcome, PushRequest, RefusalCode};
use automerge::{Change, ReadDoc};

use crate::store::{DocUpdate, NewQuarantine, PushFetched, PushNeeds, PushWrites};

/// One pushed change after decoding.
#[derive(Debug, Clone)]
pub enum Incoming {
    /// It decoded.
    Change {
        /// The document it claims.
        doc: DocId,
        /// The change.
        change: Box<Change>,
        /// Its uncompressed bytes (what is stored and served).
        bytes: Vec<u8>,
    },
    /// It did not.
    Undecodable {
        /// The document it claims.
        doc: DocId,
        /// The bytes as sent.
        bytes: Vec<u8>,
        /// Why.
        reason: String,
    },
}

/// A push, decoded, with who sent it.
#[derive(Debug, Clone)]
pub struct PushBatch {
    /// The user the device acts for.
    pub principal: Principal,
    /// The pushing device.
    pub device: DeviceId,
    /// The changes in request order.
    pub changes: Vec<Incoming>,
}

impl PushBatch {
    /// Decodes every change of a request.
    pub fn decode(principal: Principal, device: DeviceId, request: PushRequest) -> PushBatch {
        let changes = request
            .changes
            .into_iter()
            .map(|w| match decode_change(&w.bytes) {
                Ok(change) => Incoming::Change {
                    doc: w.doc,
                    // Stored and served uncompressed whatever the device
                    // sent: same change, same hash, and zstd over a pull
                    // page then shares what records have in common.
                    bytes: change.raw_bytes().to_vec(),
                    change: Box::new(change),
                },
                Err(e) => Incoming::Undecodable {
                    doc: w.doc,
                    bytes: w.bytes,
                    reason: match e {
                        DocError::BadChange(m) => format!("not an automerge change: {m}"),
                        other => other.to_string(),
                    },
                },
            })
            .collect();
        PushBatch {
            principal,
            device,
            changes,
        }
    }

    /// What the store must read before [`plan`].
    pub fn needs(&self) -> PushNeeds {
        let mut docs = BTreeSet::new();
        let mut actors = BTreeSet::new();
        let mut hashes = BTreeSet::new();
        for c in &self.changes {
            match c {
                Incoming::Change { doc, change, .. } => {
                    docs.insert(*doc);
                    actors.insert(change.actor_id().to_bytes().to_vec());
                    hashes.insert(change.hash().0);
                }
                Incoming::Undecodable { doc, .. } => {
                    docs.insert(*doc);
                }
            }
        }
        PushNeeds {
            docs: docs.into_iter().collect(),
            actors: actors.into_iter().collect(),
            hashes: hashes.into_iter().collect(),
        }
    }
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
    } = fetched;
    let mut states: HashMap<DocId, DocState> = HashMap::new();
    let mut order: Vec<DocId> = Vec::new();
    let mut outcomes = Vec::with_capacity(batch.changes.len());
    let mut writes = PushWrites::default();

    let mut state_of = |doc: DocId, states: &mut HashMap<DocId, DocState>| {
        if states.contains_key(&doc) {
            return;
        }
        order.push(doc);
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
            tracing::error!(%doc, %why, "stored document is unreadable");
        }
        states.insert(
            doc,
            DocState {
                doc: doc_value,
                record,
                dirty: false,
                quarantined: quarantined.contains(&doc),
                broken,
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
                let verdict = judge(batch, doc, change, state, &actors, &hashes);
                (verdict, Some(hash.0))
            }
        };
        let outcome = match verdict {
            Verdict::Duplicate => ChangeOutcome::Duplicate,
            Verdict::MissingDeps => ChangeOutcome::MissingDeps,
            Verdict::Refused(r) => {
                state.quarantined = true;
                writes.quarantine.push(NewQuarantine {
                    doc,
                    hash,
                    bytes: bytes.clone(),
                    code: r.code.as_str(),
                    reason: r.reason.clone(),
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
            snapshot: state.doc.save(),
            heads,
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
        apply_and_check(&batch.principal, doc, change, state)
    })) {
        Ok(v) => v,
        Err(_) => {
            tracing::error!(%doc, hash = %hash, "automerge panicked on a pushed change");
            refusal(RefusalCode::InvalidRecord, "the change cannot be applied")
        }
    }
}

fn apply_and_check(who: &Principal, doc: DocId, change: &Change, state: &DocState) -> Verdict {
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
    Verdict::Accepted {
        next: Box::new(next),
        record: Box::new(after),
    }
}

/// The top-level fields of the record that a change's operations write,
/// whether or not the written value wins.
pub fn touched_fields(change: &Change, doc_after: &RecordDoc) -> BTreeSet<String> {
    let am = doc_after.automerge();
    let mut out = BTreeSet::new();
    for op in change.decode().operations {
        match &op.obj {
            automerge::legacy::ObjectId::Root => {
                if let automerge::legacy::Key::Map(name) = &op.key {
                    out.insert(name.to_string());
                }
            }
            other => {
                let field = am
                    .import_obj(&other.to_string())
                    .ok()
                    .and_then(|obj| am.parents(&obj).ok())
                    .and_then(|p| p.path().into_iter().next())
                    .and_then(|(_, prop)| match prop {
                        automerge::Prop::Map(name) => Some(name),
                        automerge::Prop::Seq(_) => None,
                    });
                // An object whose place cannot be found is counted as a
                // write to an unknown field, which only an author or an
                // admin may make.
                out.insert(field.unwrap_or_else(|| "?".to_string()));
            }
        }
    }
    out
}

/// Envelope keys of a document, outside the record's fields.
const SCHEMA_KEY: &str = app_core::doc::KEY_SCHEMA;
/// Fields no one writes after creation, hidden or not.
const IDENTITY: &[&str] = &["id", "author", "created_at", app_core::doc::KEY_KIND];
/// What a team lead writes on a team member's log.
const REVIEW: &[&str] = &["status", "review"];

/// Checks writes that do not show in the record (values that lose to a
/// concurrent value) against the rules of [`app_core::scope`]: identity
/// never; an author anything but team and review; a team lead only the
/// review fields of the team's logs; a sync admin anything in scope; anyone
/// else nothing.
pub fn check_hidden_writes(
    who: &Principal,
    before: &AnyRecord,
    hidden: &[String],
) -> Result<(), Refusal> {
    let hidden: Vec<&str> = hidden
        .iter()
        .map(String::as_str)
        .filter(|f| *f != SCHEMA_KEY)
        .collect();
    if hidden.is_empty() {
        return Ok(());
    }
    let refuse = |code, reason: String| Err(Refusal { code, reason });
    let at = before.placement();
    if let Some(f) = hidden.iter().find(|f| IDENTITY.contains(f)) {
        return refuse(
            RefusalCode::FieldNotAllowed,
            format!("{f} never changes after a record is made"),
        );
    }
    if !can_read(who, &at) {
        return refuse(
            RefusalCode::OutOfScope,
            "the record is outside the author's scope".into(),
        );
    }
    if who.role == Role::SyncAdmin {
        return Ok(());
    }
    if at.author == who.user {
        if let Some(f) = hidden.iter().find(|f| matches!(**f, "team" | "review")) {
            return refuse(
                RefusalCode::FieldNotAllowed,
                format!("the author does not write {f}"),
            );
        }
        return Ok(());
    }
    if who.role == Role::TeamLead
        && at.kind == RecordKind::ServiceLog
        && who.team.is_some()
        && at.team == who.team
    {
        if let Some(f) = hidden.iter().find(|f| !REVIEW.contains(f)) {
            return refuse(
                RefusalCode::FieldNotAllowed,
                format!("a team lead writes only the review, not {f}"),
            );
        }
        if let AnyRecord::ServiceLog(l) = before
            && l.status == LogStatus::Draft
        {
            return refuse(
                RefusalCode::FieldNotAllowed,
                "a draft is not ready for review".into(),
            );
        }
        return Ok(());
    }
    refuse(
        RefusalCode::NotYourRecord,
        "only the author edits this record".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::domain::{
        ActivityType, CountyCode, Review, Scope, ServiceLog, ServiceLogId, TeamId, Timestamp,
        UserId, VillageCode,
    };
    use app_core::sync::protocol::WireChange;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, Automerge};

    fn uid(n: u8) -> UserId {
        format!("0192f000-0000-7000-8000-0000000000{n:02x}")
            .parse()
            .unwrap()
    }
    fn team(n: u8) -> TeamId {
        format!("0192f000-0000-7000-8000-00000000aa{n:02x}")
            .parse()
            .unwrap()
    }
    fn device(n: u8) -> DeviceId {
        format!("0192f000-0000-7000-8000-00000000dd{n:02x}")
            .parse()
            .unwrap()
    }
    fn commissioner(n: u8) -> Principal {
        Principal {
            user: uid(n),
            role: Role::Commissioner,
            scope: Scope::Team(team(1)),
            team: Some(team(1)),
            county: Some(CountyCode::parse("520324").unwrap()),
        }
    }
    fn log(author: u8) -> ServiceLog {
        ServiceLog {
            id: "0192f000-0000-7000-8000-0000000bbbbb"
                .parse::<ServiceLogId>()
                .unwrap(),
            author: uid(author),
            team: Some(team(1)),
            date: "2026-11-28".parse().unwrap(),
            start_time: None,
            end_time: None,
            village: VillageCode::parse("520324100200").unwrap(),
            location: None,
            activity: ActivityType::TechnicalGuidance,
            industry: "茶叶".into(),
            farmers_served: 10,
            trainees: None,
            served: vec![],
            technologies: vec![],
            varieties: vec![],
            description: "指导".into(),
            photos: vec![],
            status: LogStatus::Submitted,
            review: Review::default(),
            created_at: Timestamp::from_millis(1),
        }
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

    fn stored_state(doc: &RecordDoc, id: DocId) -> PushFetched {
        let mut f = PushFetched::default();
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
        let (outcomes, writes) = plan(&b, PushFetched::default());
        assert_eq!(
            outcomes,
            vec![ChangeOutcome::Stored, ChangeOutcome::Duplicate]
        );
        assert_eq!(writes.changes.len(), 1);
        assert_eq!(writes.bind_actors, vec![actor.to_bytes().to_vec()]);
        assert_eq!(writes.docs.len(), 1);
        assert_eq!(writes.docs[0].placement.author, uid(1));
        assert_eq!(writes.docs[0].placement.county.to_string(), "520324");
    }

    #[test]
    fn a_change_without_its_dependency_waits() {
        let actor = ActorId::random();
        let (mut doc, id, _first) = created(1, &actor);
        let second = edited(&mut doc, &actor, |l| l.farmers_served = 12);
        let b = batch(commissioner(1), device(1), vec![(id, second)]);
        let (outcomes, writes) = plan(&b, PushFetched::default());
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
        let (outcomes, writes) = plan(&b, PushFetched::default());
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

    #[test]
    fn an_actor_bound_to_another_device_is_refused() {
        let actor = ActorId::random();
        let (_, id, bytes) = created(1, &actor);
        let mut fetched = PushFetched::default();
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
}
