//! Corpora of seeded records, built fast: validated records from
//! [`crate::synth::Synth`], written straight into Automerge documents
//! (no device store, no fsync), with the change bytes each author's device
//! would push, the saved document and the record's JSON. The same corpus
//! seeds all three implementations, so they hold the same records.
//!
//! A year of a team is mostly service logs (服务日志) with some farmer
//! consultations (农户咨询); one record in five is edited later by its
//! author (a log's description and farmers served; a consultation answered),
//! and when the team has a lead, one log in three is approved (审核).

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use anyhow::Context as _;
use app_core::doc::RecordDoc;
use app_core::domain::validate::{Context, Register, VillageLookup};
use app_core::domain::{
    Consultation, ConsultationId, CountyCode, DocId, LogStatus, PartyId, RecordKind, ServiceLog,
    ServiceLogId, TeamId, Timestamp, UserId, VillageCode,
};
use app_core::store::RegisterSlice;
use automerge::ActorId;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest as _, Sha256};

use crate::synth::Synth;

/// One county's villages, as validation needs them.
#[derive(Debug, Clone)]
pub struct SliceRegister {
    villages: HashSet<u64>,
    county: CountyCode,
}

impl SliceRegister {
    /// The villages of `slice`.
    pub fn new(slice: &RegisterSlice) -> anyhow::Result<Self> {
        Ok(SliceRegister {
            villages: slice.villages.iter().map(|v| v.code).collect(),
            county: CountyCode::from_int(slice.county.code)?,
        })
    }
}

impl Register for SliceRegister {
    fn lookup_village(&self, village: VillageCode) -> VillageLookup {
        if self.villages.contains(&village.as_int()) {
            VillageLookup::Known
        } else if village.county() == self.county {
            VillageLookup::NotInRegister
        } else {
            VillageLookup::CountyNotLoaded
        }
    }
}

/// A member of a team who authors records.
#[derive(Debug, Clone)]
pub struct Member {
    /// The user.
    pub user: UserId,
    /// Their team.
    pub team: TeamId,
    /// The Automerge actor of the device that wrote their seeded records.
    pub actor: ActorId,
    /// How many records they write relative to the others.
    pub weight: usize,
}

/// Who pushes a seeded change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// The record's author (an index into the members).
    Member(usize),
    /// The team lead (an approval).
    Lead,
}

/// One seeded record.
#[derive(Debug, Clone)]
pub struct SeedDoc {
    /// The document.
    pub id: DocId,
    /// Log or consultation.
    pub kind: RecordKind,
    /// The author (index into the members).
    pub author: usize,
    /// Its changes in dependency order, with who pushes each.
    pub changes: Vec<(Writer, Vec<u8>)>,
    /// The whole document, saved.
    pub saved: Vec<u8>,
    /// The record as JSON (what the REST baseline stores).
    pub json: String,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Number of records.
    pub records: usize,
    /// Records are dated within this many days before 2026-11-28.
    pub days: u32,
    /// Seed of the generator.
    pub seed: u64,
    /// Whether one record in five is edited later by its author.
    pub edits: bool,
    /// Whether one log in three is approved by the team lead.
    pub approvals: bool,
}

/// The end of the simulated year (2026-11-28 20:00 China time).
pub fn year_end() -> Timestamp {
    let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
        .and_then(|d| d.and_hms_opt(20, 0, 0))
        .expect("a valid time");
    Timestamp::from_china_local(at)
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Generates `spec.records` records by `members` (by weight), on as many
/// threads as the machine has, over `slice`'s villages. `lead` approves.
pub fn generate(
    spec: &Spec,
    slice: &RegisterSlice,
    members: &[Member],
    lead: Option<&Member>,
) -> anyhow::Result<Vec<SeedDoc>> {
    anyhow::ensure!(!members.is_empty(), "a corpus needs authors");
    let register = SliceRegister::new(slice)?;
    let pattern: Vec<usize> = members
        .iter()
        .enumerate()
        .flat_map(|(i, m)| std::iter::repeat_n(i, m.weight.max(1)))
        .collect();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let parts: Vec<anyhow::Result<Vec<(usize, SeedDoc)>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (register, pattern) = (&register, &pattern);
                s.spawn(move || {
                    let mut synth =
                        Synth::new(StdRng::seed_from_u64(spec.seed ^ ((t as u64) << 32)), slice);
                    let mut out = Vec::new();
                    for i in (t..spec.records).step_by(threads) {
                        let author = pattern[i % pattern.len()];
                        let doc = one(&mut synth, register, i, author, members, lead, spec)
                            .with_context(|| format!("record {i}"))?;
                        out.push((i, doc));
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("generator thread"))
            .collect()
    });
    let mut all = Vec::with_capacity(spec.records);
    for part in parts {
        all.extend(part?);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, d)| d).collect())
}

fn one(
    synth: &mut Synth,
    register: &SliceRegister,
    i: usize,
    author: usize,
    members: &[Member],
    lead: Option<&Member>,
    spec: &Spec,
) -> anyhow::Result<SeedDoc> {
    let m = &members[author];
    let back = synth.rng().random_range(0..spec.days.max(1) as i64) * DAY_MS
        + synth.rng().random_range(0..10 * 3600 * 1000);
    let at = Timestamp::from_millis(year_end().as_millis() - back);
    let mint = move || *PartyId::new(at).as_uuid();
    let ctx = Context {
        now: at,
        register,
        mint: &mint,
    };
    let consultation = i % 5 == 2;
    let (mut doc, mut change, kind) = if consultation {
        let input = synth.consultation();
        let c = input
            .into_new(ConsultationId::new(at), m.user, Some(m.team), &ctx)?
            .value;
        let (doc, change) = RecordDoc::create(&c, m.actor.clone(), at)?;
        (doc, change, RecordKind::Consultation)
    } else {
        let input = synth.service_log(spec.days);
        let log = input
            .into_new(ServiceLogId::new(at), m.user, Some(m.team), true, &ctx)?
            .value;
        let (doc, change) = RecordDoc::create(&log, m.actor.clone(), at)?;
        (doc, change, RecordKind::ServiceLog)
    };
    let id = match kind {
        RecordKind::ServiceLog => doc.read::<ServiceLog>()?.id.into(),
        RecordKind::Consultation => doc.read::<Consultation>()?.id.into(),
    };
    let mut changes = vec![(Writer::Member(author), change.bytes().into_owned())];
    let later = Timestamp::from_millis(at.as_millis() + DAY_MS);
    if spec.edits && (i % 5 == 4 || (consultation && i % 10 == 7)) {
        let sentence = synth.sentence();
        let edited = match kind {
            RecordKind::ServiceLog => {
                doc.edit::<ServiceLog, (), app_core::doc::DocError>(&m.actor, later, |log| {
                    two_field_edit(log, sentence);
                    Ok(())
                })?
            }
            RecordKind::Consultation => {
                doc.edit::<Consultation, (), anyhow::Error>(&m.actor, later, |c| {
                    c.answer(&format!("建议：{sentence}"), later)?;
                    Ok(())
                })?
            }
        };
        if let Some(mut c) = edited.change {
            changes.push((Writer::Member(author), c.bytes().into_owned()));
        }
    }
    if let Some(lead) = lead.filter(|_| spec.approvals && kind == RecordKind::ServiceLog)
        && i.is_multiple_of(3)
    {
        let when = Timestamp::from_millis(at.as_millis() + 2 * DAY_MS);
        let edited =
            doc.edit::<ServiceLog, (), app_core::doc::DocError>(&lead.actor, when, |log| {
                log.status = LogStatus::Approved;
                log.review.by = Some(lead.user);
                log.review.at = Some(when);
                Ok(())
            })?;
        if let Some(mut c) = edited.change {
            changes.push((Writer::Lead, c.bytes().into_owned()));
        }
    }
    let saved = doc.save();
    let (_, json) = record_json(&doc)?;
    Ok(SeedDoc {
        id,
        kind,
        author,
        changes,
        saved,
        json,
    })
}

/// The edit the benchmark makes: two fields of a log (a sentence appended
/// to the description, one more farmer served).
pub fn two_field_edit(log: &mut ServiceLog, sentence: &str) {
    log.description.push_str(sentence);
    log.farmers_served += 1;
}

/// A document's record and its JSON, the form all three implementations
/// are compared in.
pub fn record_json(doc: &RecordDoc) -> anyhow::Result<(RecordKind, String)> {
    let kind = doc.kind()?;
    let json = match kind {
        RecordKind::ServiceLog => serde_json::to_string(&doc.read::<ServiceLog>()?)?,
        RecordKind::Consultation => serde_json::to_string(&doc.read::<Consultation>()?)?,
    };
    Ok((kind, json))
}

/// `json` compressed as the REST baseline sends it (gzip, default level).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

/// What a replica holds: record count and a SHA-256 over the records' JSON
/// in document order. Equal digests mean equal records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Digest {
    /// Records held.
    pub records: usize,
    /// Hex SHA-256 over `id \t json \n` lines in ID order.
    pub sha256: String,
}

impl Digest {
    /// The digest of records given as `id → JSON`.
    pub fn of(records: &BTreeMap<DocId, String>) -> Digest {
        let mut h = Sha256::new();
        for (id, json) in records {
            h.update(id.to_string().as_bytes());
            h.update(b"\t");
            h.update(json.as_bytes());
            h.update(b"\n");
        }
        Digest {
            records: records.len(),
            sha256: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// The digest of a seeded corpus.
    pub fn of_corpus<'a>(docs: impl IntoIterator<Item = &'a SeedDoc>) -> Digest {
        Digest::of(&docs.into_iter().map(|d| (d.id, d.json.clone())).collect())
    }
}
