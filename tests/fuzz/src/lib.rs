//! What the fuzz targets share: the pushing principal and the rows a store
//! reads for a push (as the server's store would), the real plan run over
//! a push, a record document to change, and the fix-up of an Automerge
//! chunk's checksum so that mutated bytes reach the parser's inner layers.

use std::collections::BTreeSet;

use app_core::doc::RecordDoc;
use app_core::domain::{DeviceId, DocId, Role, Scope, Timestamp};
use app_core::scope::Principal;
use app_core::sync::protocol::{ChangeOutcome, PushRequest};
use app_core::testing;
use automerge::ActorId;
use sha2::{Digest, Sha256};
use sync_server::sync::{PushBatch, PushFetched, plan};

/// The commissioner (user 1 of team 1 in 正安) who pushes.
pub fn commissioner() -> Principal {
    Principal {
        user: testing::user_id(1),
        role: Role::Commissioner,
        scope: Scope::Team(testing::team_id(1)),
        team: Some(testing::team_id(1)),
        county: Some(testing::ZHENGAN.parse().unwrap()),
    }
}

/// The pushing device.
pub fn device() -> DeviceId {
    testing::device_id(1)
}

/// The actor the pushing device writes with.
pub fn actor() -> ActorId {
    ActorId::from(&[7u8; 16][..])
}

/// A service log of user 1 in 正安, created by [`actor`] at a fixed time:
/// the document, its ID and the change that created it.
pub fn stored_log() -> (RecordDoc, DocId, Vec<u8>) {
    let record = testing::service_log(
        testing::user_id(1),
        Some(testing::team_id(1)),
        testing::village(),
    );
    let (doc, mut change) = RecordDoc::create(&record, actor(), Timestamp::from_millis(5)).unwrap();
    (doc, record.id.into(), change.bytes().into_owned())
}

/// What a store reads for `batch`: the register of every county it needs
/// (正安's with the fixtures' village, others unknown), and `stored`
/// documents' snapshots.
pub fn fetched(batch: &PushBatch, stored: &[(DocId, &RecordDoc)]) -> PushFetched {
    let needs = batch.needs();
    let mut f = PushFetched::default();
    for county in needs.counties {
        f.register.insert(county, None);
    }
    let village = testing::village();
    f.register
        .insert(village.county(), Some(BTreeSet::from([village.as_int()])));
    for (id, doc) in stored {
        f.snapshots.insert(*id, doc.save());
    }
    f
}

/// Runs the server's push plan over `request` as the route does (decode
/// every change, read what the store would, plan) and checks what holds
/// for every push: one outcome per change, and nothing stored that the
/// plan did not accept.
pub fn plan_push(request: PushRequest, stored: &[(DocId, &RecordDoc)]) -> Vec<ChangeOutcome> {
    let n = request.changes.len();
    let batch = PushBatch::decode(commissioner(), device(), request);
    let fetched = fetched(&batch, stored);
    let (outcomes, writes) = plan(&batch, fetched);
    assert_eq!(outcomes.len(), n, "one outcome per pushed change");
    let stored_count = outcomes
        .iter()
        .filter(|o| matches!(o, ChangeOutcome::Stored))
        .count();
    assert_eq!(
        writes.changes.len(),
        stored_count,
        "the writes are the stored changes"
    );
    outcomes
}

/// Automerge chunks start with a magic number and a checksum (the first
/// four bytes of the SHA-256 of the chunk type, length and body). A
/// mutated chunk almost never keeps a valid checksum, so the fuzzer would
/// only ever test the checksum check; this writes the right one, when the
/// bytes look like a chunk, so that mutations reach the chunk's contents.
pub fn fix_checksum(bytes: &mut [u8]) {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    if bytes.len() < 9 || bytes[..4] != MAGIC {
        return;
    }
    // Chunk type (1 byte), then the body length as unsigned LEB128.
    let mut len: u64 = 0;
    let mut at = 9;
    let mut shift = 0;
    loop {
        let Some(&b) = bytes.get(at) else { return };
        at += 1;
        len |= u64::from(b & 0x7f) << shift.min(63);
        shift += 7;
        if b & 0x80 == 0 || shift > 63 {
            break;
        }
    }
    let Some(end) = usize::try_from(len).ok().and_then(|l| at.checked_add(l)) else {
        return;
    };
    let end = end.min(bytes.len());
    let digest = Sha256::digest(&bytes[8..end]);
    bytes[4..8].copy_from_slice(&digest[..4]);
}

/// Makes panics that the server catches (the plan runs Automerge under
/// `catch_unwind`, a panic refusing the one change) quiet and survivable:
/// libfuzzer-sys's own hook would abort on them. A panic that escapes the
/// target still aborts (libfuzzer-sys catches it and aborts), so a panic
/// the server would not catch is still a crash. With
/// `KETEPAI_FUZZ_PANICS` set, every panic is printed (to read a crash's).
pub fn quiet_caught_panics() {
    if std::env::var_os("KETEPAI_FUZZ_PANICS").is_some() {
        return;
    }
    std::panic::set_hook(Box::new(|_| {}));
}

/// The register a fuzzed push is checked against: 正安 with the fixtures'
/// one village, every other county not loaded.
pub struct FuzzRegister;

impl app_core::domain::validate::Register for FuzzRegister {
    fn lookup_village(
        &self,
        village: app_core::domain::VillageCode,
    ) -> app_core::domain::validate::VillageLookup {
        use app_core::domain::validate::VillageLookup;
        if village == testing::village() {
            VillageLookup::Known
        } else if village.county() == testing::village().county() {
            VillageLookup::NotInRegister
        } else {
            VillageLookup::CountyNotLoaded
        }
    }
}

/// Runs the plan over changes pushed to `doc_id` (stored as `stored`, or
/// new) and checks what the server relies on: a stored change leaves a
/// document that loads, holds a record with the document's own ID, and
/// keeps the record rules the stored record kept.
pub fn plan_change(doc_id: DocId, changes: Vec<Vec<u8>>, stored: Option<&RecordDoc>) {
    use app_core::sync::protocol::WireChange;
    let n = changes.len();
    let request = PushRequest {
        changes: changes
            .into_iter()
            .map(|bytes| WireChange { doc: doc_id, bytes })
            .collect(),
    };
    let stored_docs: Vec<(DocId, &RecordDoc)> = stored.map(|d| (doc_id, d)).into_iter().collect();
    let batch = PushBatch::decode(commissioner(), device(), request);
    let fetched = fetched(&batch, &stored_docs);
    let (outcomes, writes) = plan(&batch, fetched);
    assert_eq!(outcomes.len(), n, "one outcome per pushed change");
    if !outcomes.iter().any(|o| matches!(o, ChangeOutcome::Stored)) {
        assert!(
            writes.docs.is_empty(),
            "a push storing nothing writes no document"
        );
        return;
    }
    assert_eq!(writes.docs.len(), 1);
    let update = &writes.docs[0];
    assert_eq!(update.doc, doc_id);
    let doc = RecordDoc::load(&update.snapshot).expect("a stored document loads");
    let after = sync_server::sync::hydrate(&doc).expect("a stored document holds a record");
    let before = stored.map(|d| sync_server::sync::hydrate(d).unwrap());
    sync_server::sync::check_record_rules(before.as_ref(), &after, &FuzzRegister)
        .expect("a stored record keeps the record rules");
}

/// Decodes `bytes` as JSON into `T` and, when it decodes, checks that the
/// value encodes and decodes back to itself.
pub fn json_round_trip<T>(bytes: &[u8]) -> Option<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let value: T = serde_json::from_slice(bytes).ok()?;
    let again = serde_json::to_vec(&value).expect("a decoded value encodes");
    let back: T = serde_json::from_slice(&again).expect("an encoded value decodes");
    assert_eq!(back, value, "JSON round trip");
    Some(value)
}

/// [`json_round_trip`] for the sync protocol's MessagePack.
pub fn msgpack_round_trip<T>(bytes: &[u8]) -> Option<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    use app_core::sync::protocol;
    let value: T = protocol::decode(bytes).ok()?;
    let again = protocol::encode(&value).expect("a decoded value encodes");
    let back: T = protocol::decode(&again).expect("an encoded value decodes");
    assert_eq!(back, value, "MessagePack round trip");
    Some(value)
}

/// A fresh device store (a real SQLite file: the store requires WAL, which
/// an in-memory database cannot give), at a fixed time, in a temporary
/// directory (on /dev/shm when there is one) removed with the handle.
pub fn device_store() -> (app_core::store::Store, tempfile::TempDir) {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("a temporary directory");
    let clock = app_core::clock::ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
    let store = app_core::store::Store::open(dir.path().join("device.sqlite"), clock.shared())
        .expect("a device store opens");
    (store, dir)
}

/// When `KETEPAI_FUZZ_SEEDS` names a directory, writes `seeds` there (one
/// file each, named by content): the seed corpus, made by the same build
/// from real encodings (`.ci/fuzz` sets it to the target's corpus).
pub fn write_seeds(seeds: impl FnOnce() -> Vec<Vec<u8>>) {
    let Ok(dir) = std::env::var("KETEPAI_FUZZ_SEEDS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("the seed directory");
    for seed in seeds() {
        let name: String = Sha256::digest(&seed)[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(dir.join(format!("seed-{name}")), seed).expect("a seed file");
    }
}

/// A real push: the stored log's creation and an edit of its description.
pub fn real_push() -> PushRequest {
    use app_core::domain::ServiceLog;
    use app_core::sync::protocol::WireChange;
    let (mut doc, id, created) = stored_log();
    let edited = doc
        .edit::<ServiceLog, (), app_core::doc::DocError>(&actor(), Timestamp::from_millis(6), |l| {
            l.description = "田间指导：玉米追肥".into();
            Ok(())
        })
        .unwrap();
    let edit = edited.change.unwrap().bytes().into_owned();
    PushRequest {
        changes: vec![
            WireChange {
                doc: id,
                bytes: created,
            },
            WireChange {
                doc: id,
                bytes: edit,
            },
        ],
    }
}

/// Applies a pulled page's changes to a fresh device store as the sync
/// engine does, and asserts that every change is accounted for (applied,
/// a duplicate, held for its dependencies, or rejected). A store error is
/// an answer, not a failure.
pub fn apply_page(changes: Vec<app_core::sync::protocol::WireChange>) {
    if changes.is_empty() {
        return;
    }
    let n = changes.len();
    let changes: Vec<app_core::store::DocChange> = changes
        .into_iter()
        .map(|c| app_core::store::DocChange {
            doc_id: c.doc,
            bytes: c.bytes,
        })
        .collect();
    let (store, _dir) = device_store();
    let Ok(report) = store.apply_changes(&changes) else {
        return;
    };
    assert!(
        report.applied + report.duplicates + report.pending + report.rejected.len() >= n,
        "every change of a page is accounted for: {report:?}"
    );
}
