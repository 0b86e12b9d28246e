//! The plan's input: a push decoded ([`PushBatch`]), the rows it needs
//! ([`PushNeeds`]) and what a store read of them ([`PushFetched`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use app_core::doc::{DocError, decode_change};
use app_core::domain::{CountyCode, DeviceId, DocId, VillageCode};
use app_core::scope::Principal;
use app_core::sync::protocol::PushRequest;
use automerge::Change;

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
    /// Counties of the village codes the changes write (every string value
    /// that reads as a village code), whose register the plan consults.
    pub counties: BTreeSet<CountyCode>,
}

impl PushBatch {
    /// Decodes every change of a request. Each change's operations are
    /// listed once, both to prove they decode and to find the villages it
    /// writes.
    pub fn decode(principal: Principal, device: DeviceId, request: PushRequest) -> PushBatch {
        let mut counties = BTreeSet::new();
        let changes = request
            .changes
            .into_iter()
            .map(
                |w| match decode_change(&w.bytes).and_then(|c| ops_decode(c, &mut counties)) {
                    Ok(change) => Incoming::Change {
                        doc: w.doc,
                        // Stored and served uncompressed whatever the device
                        // sent: same change, same hash, and zstd over a pull
                        // page then shares what records have in common. Bytes
                        // sent uncompressed are those bytes: kept, not copied.
                        bytes: if change.raw_bytes() == &w.bytes[..] {
                            w.bytes
                        } else {
                            change.raw_bytes().to_vec()
                        },
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
                },
            )
            .collect::<Vec<_>>();
        PushBatch {
            principal,
            device,
            changes,
            counties,
        }
    }

    /// What the store must read before [`super::plan`].
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
        let mut counties = self.counties.clone();
        counties.extend(self.principal.county);
        PushNeeds {
            docs: docs.into_iter().collect(),
            actors: actors.into_iter().collect(),
            hashes: hashes.into_iter().collect(),
            counties: counties.into_iter().collect(),
        }
    }
}

/// `change` if Automerge can list its operations, with the county of every
/// village code it writes added to `counties`. Automerge panics listing
/// those of some malformed changes (found by the `push_body` fuzz target:
/// an actor index past the change's actors); such a change is
/// undecodable, rather than a panic that fails the whole push.
fn ops_decode(change: Change, counties: &mut BTreeSet<CountyCode>) -> Result<Change, DocError> {
    match catch_unwind(AssertUnwindSafe(|| change.decode())) {
        Ok(expanded) => {
            written_counties(&expanded, counties);
            Ok(change)
        }
        Err(_) => Err(DocError::BadChange(
            "the change's operations do not decode".into(),
        )),
    }
}

/// Adds the county of every string value a change writes that reads as a
/// village code. A record's village is a string scalar (never text), so a
/// village a change sets is among these.
fn written_counties(change: &automerge::ExpandedChange, out: &mut BTreeSet<CountyCode>) {
    for op in &change.operations {
        if let automerge::legacy::OpType::Put(automerge::ScalarValue::Str(s)) = &op.action {
            let s = s.trim();
            if s.len() == 12
                && let Ok(v) = VillageCode::parse(s)
            {
                out.insert(v.county());
            }
        }
    }
}
/// What a push needs to read before planning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushNeeds {
    /// Documents touched.
    pub docs: Vec<DocId>,
    /// Actors of the changes.
    pub actors: Vec<Vec<u8>>,
    /// Change hashes (to find changes stored under another document).
    pub hashes: Vec<[u8; 32]>,
    /// Counties whose register to read: those of the villages the changes
    /// write and the pusher's own. A store adds the counties of the stored
    /// documents it reads.
    pub counties: Vec<CountyCode>,
}

/// What a store read for a push: everything [`super::plan`] depends on
/// besides the batch. Equal values give equal plans, which is what lets a
/// store plan before its write transaction and check inside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushFetched {
    /// Snapshots of existing documents.
    pub snapshots: HashMap<DocId, Vec<u8>>,
    /// Actors already bound, and to which device.
    pub actors: HashMap<Vec<u8>, DeviceId>,
    /// Hashes already stored, and in which document.
    pub hashes: HashMap<[u8; 32], DocId>,
    /// Documents quarantined for the pushing device.
    pub quarantined: HashSet<DocId>,
    /// The division register of every county in [`PushNeeds::counties`]
    /// and of every stored document's county: the county's village codes,
    /// or none when the register does not hold the county (then its villages
    /// are not checked, as on a device that has not loaded it).
    pub register: BTreeMap<CountyCode, Option<BTreeSet<u64>>>,
    /// Bytes the pushing device's open quarantine rows keep now.
    pub quarantine_bytes: u64,
}
