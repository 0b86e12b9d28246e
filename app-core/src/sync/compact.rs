//! The compact form of a streamed pull's parts (`application/vnd.ketepai.compact-parts`):
//! the same changes as a [`PullResponse`] part, without what both ends
//! already know from earlier in the same stream.
//!
//! An Automerge change chunk is `magic · checksum · type · uleb(len) · body`,
//! its hash SHA-256 of `type · uleb(len) · body` and its checksum the hash's
//! first 4 bytes (automerge 0.12, `storage/chunk.rs`); the body starts with
//! its dependencies (a count and 32-byte hashes), its actor (a length and
//! bytes), its sequence number, start op and time. A compact change drops
//! the chunk header (rebuilt by the device), sends each dependency that is
//! "the previous change of this document in this stream" as one byte, the
//! actor as an index into the stream's actor table, the time as a delta
//! from the same actor's previous change in the stream, the document as an
//! index into the stream's document table; the rest of the body goes byte
//! for byte. A change the encoder cannot rebuild exactly (a compressed
//! chunk, an encoding it does not expect) goes verbatim.
//!
//! Both ends keep the tables ([`CompactEncoder`], [`CompactDecoder`]) from
//! the first part of a response to its last; they hold one entry per
//! document and per actor seen, so they are bounded by the documents in
//! the caller's scope (and on the device by the bytes received: every new
//! entry arrived whole on the wire).
//!
//! Each part ends with a digest: SHA-256 over the hashes of its changes in
//! order. The device recomputes it from the changes it rebuilt and refuses
//! the part on a mismatch ([`CompactError::DigestMismatch`]), so a fault in
//! either end's tables can never save a change that is not the server's.
//!
//! A part, before the stream's framing ([`super::protocol::encode_part`]'s
//! `u32` length) and compression:
//!
//! ```text
//! part   = flags:u8 (bit 0: more) · uleb(len) cursor · uleb(n) change{n} · digest[32]
//! change = docref · kind:u8 · (verbatim | compact)
//! docref = uleb 0 · doc[16]  (new)   |  uleb k  (the k-th document of the stream, from 1)
//! verbatim = uleb(len) bytes
//! compact  = uleb(n) dep{n} · actorref · uleb seq · uleb start_op · sleb(time delta) · uleb(len) rest
//! dep      = 0 (the previous change of this document in this stream) | 1 · hash[32]
//! actorref = uleb 0 · uleb(len) actor  (new)  |  uleb k  (the k-th actor of the stream, from 1)
//! ```

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::protocol::{PullResponse, WireChange};
use crate::domain::DocId;

/// Media type of a streamed pull whose parts are compact (this module),
/// asked for with `Accept` and named in the answer's `Content-Type`.
pub const COMPACT_PARTS_MEDIA_TYPE: &str = "application/vnd.ketepai.compact-parts";

/// Response header of a streamed pull of compact parts whose tables the
/// server rebuilt from the broken stream the request named (`tables_from`):
/// `1` when the stream goes on with the tables the device kept.
pub const COMPACT_SEEDED_HEADER: &str = "ketepai-compact-seeded";

/// The magic bytes opening every Automerge chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// The chunk type of an uncompressed change.
const CHANGE_CHUNK: u8 = 1;
/// A change sent as its stored bytes.
const KIND_VERBATIM: u8 = 0;
/// A change sent compact.
const KIND_COMPACT: u8 = 1;
/// A dependency that is the document's previous change in the stream.
const DEP_PREVIOUS: u8 = 0;
/// A dependency sent as its hash.
const DEP_HASH: u8 = 1;
/// The hash recorded for a verbatim change that is not an Automerge change
/// (the device will refuse to apply it, as it would from a plain part).
const NO_HASH: [u8; 32] = [0; 32];

/// Why a compact part was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompactError {
    /// The part does not decode: truncated, a reference out of range, a
    /// rebuilt change that is not an Automerge change.
    #[error("malformed compact part: {0}")]
    Malformed(String),
    /// The changes rebuilt are not those the server sent (their digest
    /// differs from the part's).
    #[error("the rebuilt changes do not match the part's digest")]
    DigestMismatch,
    /// The rebuilt changes weigh more than the cap (bytes).
    #[error("a compact part rebuilds to more than {0} bytes")]
    TooLarge(usize),
}

fn malformed(what: impl Into<String>) -> CompactError {
    CompactError::Malformed(what.into())
}

fn put_uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_sleb(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0);
        if done {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// A cursor over bytes whose reads fail, never panic, past the end.
struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, at: 0 }
    }

    fn rest(&self) -> &'a [u8] {
        &self.buf[self.at..]
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.buf.get(self.at..end)?;
        self.at = end;
        Some(out)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N).and_then(|b| b.try_into().ok())
    }

    fn uleb(&mut self) -> Option<u64> {
        let (mut v, mut shift) = (0u64, 0u32);
        loop {
            let b = self.byte()?;
            if shift >= 64 || (shift == 63 && b & 0x7e != 0) {
                return None;
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
        }
    }

    fn sleb(&mut self) -> Option<i64> {
        let (mut v, mut shift) = (0i64, 0u32);
        loop {
            let b = self.byte()?;
            if shift >= 64 {
                return None;
            }
            v |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Some(v);
            }
        }
    }

    /// A length that cannot be longer than what is left.
    fn len(&mut self) -> Option<usize> {
        let n = usize::try_from(self.uleb()?).ok()?;
        (n <= self.buf.len() - self.at).then_some(n)
    }
}

/// The parts of a change's body that the compact form sends otherwise.
struct Head<'a> {
    deps: Vec<[u8; 32]>,
    actor: &'a [u8],
    seq: u64,
    start_op: u64,
    time: i64,
    rest: &'a [u8],
}

/// Reads a stored change's head; `None` when it is not one uncompressed
/// change chunk of the expected shape.
fn parse_change(bytes: &[u8]) -> Option<Head<'_>> {
    let mut r = Reader::new(bytes);
    if r.array::<4>()? != MAGIC {
        return None;
    }
    r.array::<4>()?;
    if r.byte()? != CHANGE_CHUNK {
        return None;
    }
    let len = r.len()?;
    if len != r.rest().len() {
        return None;
    }
    let n = r.len()?;
    let mut deps = Vec::new();
    for _ in 0..n {
        deps.push(r.array::<32>()?);
    }
    let alen = r.len()?;
    let actor = r.take(alen)?;
    let seq = r.uleb()?;
    let start_op = r.uleb()?;
    let time = r.sleb()?;
    Some(Head {
        deps,
        actor,
        seq,
        start_op,
        time,
        rest: r.rest(),
    })
}

/// The change chunk a head stands for, and its hash.
fn rebuild(head: &Head<'_>) -> (Vec<u8>, [u8; 32]) {
    let mut body = Vec::with_capacity(head.rest.len() + 48 + 33 * head.deps.len());
    put_uleb(&mut body, head.deps.len() as u64);
    for d in &head.deps {
        body.extend_from_slice(d);
    }
    put_uleb(&mut body, head.actor.len() as u64);
    body.extend_from_slice(head.actor);
    put_uleb(&mut body, head.seq);
    put_uleb(&mut body, head.start_op);
    put_sleb(&mut body, head.time);
    body.extend_from_slice(head.rest);
    let mut len = Vec::with_capacity(5);
    put_uleb(&mut len, body.len() as u64);
    let mut h = Sha256::new();
    h.update([CHANGE_CHUNK]);
    h.update(&len);
    h.update(&body);
    let hash: [u8; 32] = h.finalize().into();
    let mut out = Vec::with_capacity(9 + len.len() + body.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&hash[..4]);
    out.push(CHANGE_CHUNK);
    out.extend_from_slice(&len);
    out.extend_from_slice(&body);
    (out, hash)
}

/// The hash of a change sent verbatim, as Automerge computes it.
fn verbatim_hash(bytes: &[u8]) -> [u8; 32] {
    crate::doc::decode_change(bytes).map_or(NO_HASH, |c| c.hash().0)
}

/// What both ends know of a stream so far.
#[derive(Debug, Default)]
struct Tables {
    /// Per document of the stream (by index): its last change's hash.
    last: Vec<Option<[u8; 32]>>,
    /// Per actor of the stream (by index): its last change's time.
    times: Vec<i64>,
}

/// The server's half: encodes the parts of one streamed pull, in order.
#[derive(Debug, Default)]
pub struct CompactEncoder {
    docs: HashMap<DocId, usize>,
    actors: HashMap<Vec<u8>, usize>,
    tables: Tables,
}

impl CompactEncoder {
    /// The encoder of a new stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// The part's bytes (before the stream's framing).
    pub fn encode(&mut self, part: &PullResponse) -> Vec<u8> {
        let size: usize = part.changes.iter().map(|c| c.bytes.len() + 24).sum();
        let mut out = Vec::with_capacity(size + part.cursor.len() + 48);
        out.push(u8::from(part.more));
        put_uleb(&mut out, part.cursor.len() as u64);
        out.extend_from_slice(part.cursor.as_bytes());
        put_uleb(&mut out, part.changes.len() as u64);
        let mut digest = Sha256::new();
        for change in &part.changes {
            let hash = self.change(change, &mut out);
            digest.update(hash);
        }
        out.extend_from_slice(&digest.finalize());
        out
    }

    /// Writes one change; its hash.
    fn change(&mut self, change: &WireChange, out: &mut Vec<u8>) -> [u8; 32] {
        let doc = match self.docs.get(&change.doc) {
            Some(&i) => {
                put_uleb(out, i as u64 + 1);
                i
            }
            None => {
                put_uleb(out, 0);
                out.extend_from_slice(&change.doc.to_bytes());
                let i = self.tables.last.len();
                self.docs.insert(change.doc, i);
                self.tables.last.push(None);
                i
            }
        };
        let rebuilt = parse_change(&change.bytes).and_then(|head| {
            let (bytes, hash) = rebuild(&head);
            (bytes == change.bytes).then_some((head, hash))
        });
        let hash = match rebuilt {
            Some((head, hash)) => {
                self.compact(doc, &head, out);
                hash
            }
            None => {
                out.push(KIND_VERBATIM);
                put_uleb(out, change.bytes.len() as u64);
                out.extend_from_slice(&change.bytes);
                verbatim_hash(&change.bytes)
            }
        };
        if hash != NO_HASH {
            self.tables.last[doc] = Some(hash);
        }
        hash
    }

    fn compact(&mut self, doc: usize, head: &Head<'_>, out: &mut Vec<u8>) {
        out.push(KIND_COMPACT);
        put_uleb(out, head.deps.len() as u64);
        let previous = self.tables.last[doc];
        for d in &head.deps {
            if Some(*d) == previous {
                out.push(DEP_PREVIOUS);
            } else {
                out.push(DEP_HASH);
                out.extend_from_slice(d);
            }
        }
        let actor = match self.actors.get(head.actor) {
            Some(&i) => {
                put_uleb(out, i as u64 + 1);
                i
            }
            None => {
                put_uleb(out, 0);
                put_uleb(out, head.actor.len() as u64);
                out.extend_from_slice(head.actor);
                let i = self.tables.times.len();
                self.actors.insert(head.actor.to_vec(), i);
                self.tables.times.push(0);
                i
            }
        };
        put_uleb(out, head.seq);
        put_uleb(out, head.start_op);
        put_sleb(out, head.time.wrapping_sub(self.tables.times[actor]));
        self.tables.times[actor] = head.time;
        put_uleb(out, head.rest.len() as u64);
        out.extend_from_slice(head.rest);
    }
}

/// The device's half: decodes the parts of one streamed pull, in order.
#[derive(Debug, Default)]
pub struct CompactDecoder {
    docs: Vec<DocId>,
    actors: Vec<Vec<u8>>,
    tables: Tables,
}

impl CompactDecoder {
    /// The decoder of a new stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// The part a compact part stands for, its changes rebuilt byte for
    /// byte; refused when malformed, when the rebuilt changes weigh more
    /// than `cap` bytes, or when their digest is not the part's. After an
    /// error the stream cannot go on (its tables may be part-way).
    pub fn decode(&mut self, bytes: &[u8], cap: usize) -> Result<PullResponse, CompactError> {
        let truncated = || malformed("truncated");
        let body_len = bytes.len().checked_sub(32).ok_or_else(truncated)?;
        let (body, sent_digest) = bytes.split_at(body_len);
        let mut r = Reader::new(body);
        let flags = r.byte().ok_or_else(truncated)?;
        if flags > 1 {
            return Err(malformed(format!("flags {flags}")));
        }
        let clen = r.len().ok_or_else(truncated)?;
        let cursor = std::str::from_utf8(r.take(clen).ok_or_else(truncated)?)
            .map_err(|_| malformed("a cursor that is not UTF-8"))?
            .to_string();
        let n = r.uleb().ok_or_else(truncated)?;
        let mut changes = Vec::new();
        let mut digest = Sha256::new();
        let mut weight = 0usize;
        for _ in 0..n {
            let (change, hash) = self.change(&mut r)?;
            weight = weight.saturating_add(change.bytes.len());
            if weight > cap {
                return Err(CompactError::TooLarge(cap));
            }
            digest.update(hash);
            changes.push(change);
        }
        if !r.rest().is_empty() {
            return Err(malformed("bytes after the last change"));
        }
        if digest.finalize().as_slice() != sent_digest {
            return Err(CompactError::DigestMismatch);
        }
        Ok(PullResponse {
            changes,
            cursor,
            more: flags == 1,
        })
    }

    fn change(&mut self, r: &mut Reader<'_>) -> Result<(WireChange, [u8; 32]), CompactError> {
        let truncated = || malformed("truncated");
        let doc = match r.uleb().ok_or_else(truncated)? {
            0 => {
                let id = DocId::from_uuid(uuid::Uuid::from_bytes(
                    r.array::<16>().ok_or_else(truncated)?,
                ));
                self.docs.push(id);
                self.tables.last.push(None);
                self.docs.len() - 1
            }
            k => {
                let i = usize::try_from(k - 1).unwrap_or(usize::MAX);
                if i >= self.docs.len() {
                    return Err(malformed(format!("document {k} of {}", self.docs.len())));
                }
                i
            }
        };
        let (bytes, hash) = match r.byte().ok_or_else(truncated)? {
            KIND_VERBATIM => {
                let len = r.len().ok_or_else(truncated)?;
                let bytes = r.take(len).ok_or_else(truncated)?.to_vec();
                let hash = verbatim_hash(&bytes);
                (bytes, hash)
            }
            KIND_COMPACT => {
                let (bytes, hash) = self.compact(doc, r)?;
                // Under `catch_unwind`: Automerge panics on some malformed
                // operation columns (found by the `compact_part` target).
                crate::doc::decode_change(&bytes)
                    .map_err(|e| malformed(format!("a rebuilt change does not load: {e}")))?;
                (bytes, hash)
            }
            kind => return Err(malformed(format!("change kind {kind}"))),
        };
        if hash != NO_HASH {
            self.tables.last[doc] = Some(hash);
        }
        let change = WireChange {
            doc: self.docs[doc],
            bytes,
        };
        Ok((change, hash))
    }

    fn compact(
        &mut self,
        doc: usize,
        r: &mut Reader<'_>,
    ) -> Result<(Vec<u8>, [u8; 32]), CompactError> {
        let truncated = || malformed("truncated");
        // Each dependency takes at least one byte: the count is bounded by
        // what is left.
        let n = r.len().ok_or_else(truncated)?;
        let mut deps = Vec::with_capacity(n.min(64));
        for _ in 0..n {
            match r.byte().ok_or_else(truncated)? {
                DEP_PREVIOUS => deps.push(
                    self.tables.last[doc]
                        .ok_or_else(|| malformed("no previous change of the document"))?,
                ),
                DEP_HASH => deps.push(r.array::<32>().ok_or_else(truncated)?),
                tag => return Err(malformed(format!("dependency tag {tag}"))),
            }
        }
        let actor = match r.uleb().ok_or_else(truncated)? {
            0 => {
                let len = r.len().ok_or_else(truncated)?;
                self.actors
                    .push(r.take(len).ok_or_else(truncated)?.to_vec());
                self.tables.times.push(0);
                self.actors.len() - 1
            }
            k => {
                let i = usize::try_from(k - 1).unwrap_or(usize::MAX);
                if i >= self.actors.len() {
                    return Err(malformed(format!("actor {k} of {}", self.actors.len())));
                }
                i
            }
        };
        let seq = r.uleb().ok_or_else(truncated)?;
        let start_op = r.uleb().ok_or_else(truncated)?;
        let time = self.tables.times[actor].wrapping_add(r.sleb().ok_or_else(truncated)?);
        self.tables.times[actor] = time;
        let len = r.len().ok_or_else(truncated)?;
        let rest = r.take(len).ok_or_else(truncated)?;
        let head = Head {
            deps,
            actor: &self.actors[actor],
            seq,
            start_op,
            time,
            rest,
        };
        Ok(rebuild(&head))
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::{CommitOptions, Transactable};
    use automerge::{ActorId, AutoCommit, ROOT};

    use super::*;

    fn doc_id(n: u128) -> DocId {
        DocId::from_uuid(uuid::Uuid::from_u128(
            0x0192_f000_0000_7000_8000_0000_0000_0000 | n,
        ))
    }

    fn commit(doc: &mut AutoCommit, time: i64, message: Option<&str>) {
        let mut options = CommitOptions::default().with_time(time);
        if let Some(m) = message {
            options = options.with_message(m.to_string());
        }
        doc.commit_with(options);
    }

    /// Changes as a team's stream holds them: records made by two members,
    /// edits, the lead's approvals (another actor), a record edited on two
    /// devices and merged (a change with two dependencies), a time that
    /// goes back, and two changes that go verbatim (a compressed chunk and
    /// bytes that are no change at all).
    fn corpus() -> Vec<WireChange> {
        let member = ActorId::from(vec![0xa1; 16]);
        let other = ActorId::from(vec![0xb2; 16]);
        let lead = ActorId::from(vec![0x1e; 16]);
        let mut out = Vec::new();
        let mut docs = Vec::new();
        for n in 0..6u128 {
            let mut doc = AutoCommit::new().with_actor(if n % 2 == 0 {
                member.clone()
            } else {
                other.clone()
            });
            doc.put(ROOT, "farmer", format!("张{n}")).unwrap();
            doc.put(ROOT, "hours", 2 + n as i64).unwrap();
            commit(&mut doc, 1_764_000_000_000 + n as i64 * 60_000, None);
            doc.put(ROOT, "notes", "施肥指导").unwrap();
            commit(
                &mut doc,
                1_764_000_030_000 + n as i64 * 60_000,
                Some("edit"),
            );
            docs.push(doc);
        }
        // The lead approves records 0, 2 and 3.
        for n in [0usize, 2, 3] {
            let mut mine = docs[n].fork().with_actor(lead.clone());
            mine.put(ROOT, "approved", true).unwrap();
            commit(&mut mine, 1_764_100_000_000 - n as i64, Some("审核通过"));
            docs[n].merge(&mut mine).unwrap();
        }
        // Record 1 edited on two devices at once, then merged and edited:
        // the last change depends on both heads.
        let mut a = docs[1].fork().with_actor(other.clone());
        let mut b = docs[1].fork().with_actor(member.clone());
        a.put(ROOT, "hours", 9).unwrap();
        commit(&mut a, 1_764_200_000_000, None);
        b.put(ROOT, "notes", "补充").unwrap();
        commit(&mut b, 1_764_200_000_500, None);
        a.merge(&mut b).unwrap();
        a.put(ROOT, "merged", true).unwrap();
        commit(&mut a, 1_764_100_000_000, None);
        docs[1] = a;
        for (n, doc) in docs.iter_mut().enumerate() {
            for change in doc.get_changes(&[]) {
                out.push(WireChange {
                    doc: doc_id(n as u128),
                    bytes: change.raw_bytes().to_vec(),
                });
            }
        }
        // A big change stored compressed goes verbatim.
        let mut big = AutoCommit::new().with_actor(member);
        big.put(ROOT, "text", "田间记录".repeat(200)).unwrap();
        commit(&mut big, 1_764_300_000_000, None);
        let mut change = big.get_changes(&[]).into_iter().next().unwrap().clone();
        let compressed = change.bytes().to_vec();
        assert_eq!(compressed[8], 2, "a compressed chunk");
        out.push(WireChange {
            doc: doc_id(7),
            bytes: compressed,
        });
        out.push(WireChange {
            doc: doc_id(0),
            bytes: vec![1, 2, 3],
        });
        out
    }

    fn parts(changes: &[WireChange], per: usize) -> Vec<PullResponse> {
        let chunks: Vec<&[WireChange]> = changes.chunks(per).collect();
        chunks
            .iter()
            .enumerate()
            .map(|(i, c)| PullResponse {
                changes: c.to_vec(),
                cursor: format!("3.{}", i * 10),
                more: i + 1 < chunks.len(),
            })
            .collect()
    }

    #[test]
    fn rebuilt_changes_are_the_stored_bytes() {
        let mut corpus = corpus();
        corpus.truncate(corpus.len() - 2);
        assert!(corpus.len() > 15, "{}", corpus.len());
        for change in &corpus {
            let head = parse_change(&change.bytes).expect("an uncompressed change");
            let (bytes, hash) = rebuild(&head);
            let loaded = automerge::Change::from_bytes(bytes.clone()).unwrap();
            assert_eq!(bytes, loaded.raw_bytes());
            assert_eq!(bytes, change.bytes);
            assert_eq!(hash, loaded.hash().0);
        }
    }

    #[test]
    fn parts_round_trip_across_a_stream() {
        let corpus = corpus();
        for per in [1, 3, corpus.len()] {
            let sent = parts(&corpus, per);
            let mut encoder = CompactEncoder::new();
            let mut decoder = CompactDecoder::new();
            let mut compact_bytes = 0;
            for part in &sent {
                let bytes = encoder.encode(part);
                compact_bytes += bytes.len();
                assert_eq!(
                    decoder.decode(&bytes, usize::MAX).unwrap(),
                    *part,
                    "{per} a part"
                );
            }
            let plain: usize = sent
                .iter()
                .map(|p| super::super::protocol::encode_part(p).unwrap().len())
                .sum();
            assert!(compact_bytes < plain, "{compact_bytes} ≥ {plain}");
        }
    }

    #[test]
    fn the_lead_s_approval_and_a_merge_refer_to_earlier_changes() {
        let corpus = corpus();
        let mut encoder = CompactEncoder::new();
        let mut out = Vec::new();
        let merged = corpus.iter().rfind(|c| c.doc == doc_id(1)).unwrap();
        let loaded = automerge::Change::from_bytes(merged.bytes.clone()).unwrap();
        assert_eq!(loaded.deps().len(), 2, "the merge has two dependencies");
        for change in &corpus {
            encoder.change(change, &mut out);
        }
        // Every document's first change is sent with its id, later ones by
        // index: the 16 bytes of the id appear once per document.
        let id = doc_id(1).to_bytes();
        assert_eq!(out.windows(16).filter(|w| *w == id).count(), 1);
        // The hash of a change followed by a change of the same document is
        // never sent whole.
        let first = corpus.iter().find(|c| c.doc == doc_id(0)).unwrap();
        let hash = automerge::Change::from_bytes(first.bytes.clone())
            .unwrap()
            .hash()
            .0;
        assert_eq!(out.windows(32).filter(|w| *w == hash).count(), 0);
    }

    #[test]
    fn a_wrong_digest_or_a_broken_part_is_refused() {
        let corpus = corpus();
        let sent = parts(&corpus, 8);
        let mut encoder = CompactEncoder::new();
        let wire: Vec<Vec<u8>> = sent.iter().map(|p| encoder.encode(p)).collect();

        let mut bad = wire[0].clone();
        *bad.last_mut().unwrap() ^= 1;
        let mut decoder = CompactDecoder::new();
        assert_eq!(
            decoder.decode(&bad, usize::MAX),
            Err(CompactError::DigestMismatch)
        );

        // A decoder that missed the first part cannot read the second.
        let mut late = CompactDecoder::new();
        assert!(matches!(
            late.decode(&wire[1], usize::MAX),
            Err(CompactError::Malformed(_))
        ));

        // Every cut of a part is an error, never a panic.
        for cut in 0..wire[0].len() {
            let mut decoder = CompactDecoder::new();
            assert!(
                decoder.decode(&wire[0][..cut], usize::MAX).is_err(),
                "cut at {cut}"
            );
        }

        // A part rebuilding to more than the cap is refused.
        let mut decoder = CompactDecoder::new();
        assert_eq!(
            decoder.decode(&wire[0], 100),
            Err(CompactError::TooLarge(100))
        );
    }

    #[test]
    fn leb128_round_trips() {
        for v in [
            0i64,
            1,
            -1,
            63,
            64,
            -64,
            -65,
            i64::MAX,
            i64::MIN,
            1_764_000_000_000,
        ] {
            let mut out = Vec::new();
            put_sleb(&mut out, v);
            assert_eq!(Reader::new(&out).sleb(), Some(v), "{v}");
        }
        for v in [0u64, 127, 128, u64::MAX] {
            let mut out = Vec::new();
            put_uleb(&mut out, v);
            assert_eq!(Reader::new(&out).uleb(), Some(v), "{v}");
        }
        assert_eq!(Reader::new(&[0x80; 11]).uleb(), None);
    }

    /// Found by the `compact_part` fuzz target in CI's seeded run: a
    /// compact part whose rebuilt change has operation columns that make
    /// Automerge panic in `Change::from_bytes` (`types.rs:464`). The
    /// decoder now checks rebuilt changes through `doc::decode_change`,
    /// under `catch_unwind`: a typed error, not a panic.
    #[test]
    fn a_rebuilt_change_that_panics_automerge_is_an_error() {
        let hex = concat!(
            "0000031c0004332e313702000192f0000000700080000000000bbbbb0100001007070707070707070707070707070707",
            "010100d70400000a010e020e1106130d15ee0134054213562757e001700200107f000002080000030300000400107fff",
            "ffffffffffff001e000400140700000a00107f0000027e00140601000a70055f6b696e64075f736368656d6102696406",
            "617574686f72047465616d04646174650a73746172745f74696d6508656e645f74696d650776696c6c616765086c6f63",
            "6174696f6e08616374697669747908696e6475737472790e6661726d6572735f73657276656408747261696e65657306",
            "7365727665640c746563686e6f6c6f6769657300017e097661726965746965730b6465736372697074696f6e00087606",
            "70686f746f73067374617475730672657669657707636f6d6d656e740262790261740a637265617465645f6174096475",
            "706c696361746507726576696577730b7265736f6c7574696f6e73100102080a0e0102027d01020408017c0201000404",
            "0102027eb6011303c6047fa60102007bc60100a602661303007fa602020008367e00960104007f690300736572766963",
            "655f6c6f670230313932663030302d303030302d373030302d383030302d303030303030306262626262303139326630",
            "30302d303030302d373030302d383030302d30303030303030303030303130313932663030302d303030302d37303030",
            "2d383030302d303030303030303061613031323032362d31312d3238353230333234303031303031746563686e696361",
            "6c5f67756964616e6365e88cb6e58fb60ce88cb6e59bade7bbbfe889b2e998b2e68ea7e68c87e5afbce88cb6e5869ce4",
            "bfaee589aae88cb6e6a0917375626d697474656480f0e7a4a234250001010100010226006b00000b010202021104130e",
            "34064209560957157009710273040d000d1300010c007d00267004017e7b1802017e6c15000205040101020105030401",
            "7e03010236050004367e0036e794b0e997b4efbc9ae78e89e7b1b3e8bfbde882a50202050104007e010006007f160501",
            "8f97a1cadd18757ed04dd186d7674bf825a4aae706da06942db9db18d8d2d83b",
        );
        let data: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let mut reader =
            crate::sync::protocol::PartReader::new(crate::sync::protocol::MAX_PULL_PART);
        reader.extend(&data);
        let mut decoder = CompactDecoder::new();
        let mut errors = 0;
        while let Ok(Some(bytes)) = reader.next_frame() {
            match decoder.decode(&bytes, crate::sync::protocol::MAX_PULL_PART) {
                Ok(_) => {}
                Err(e) => {
                    errors += 1;
                    assert!(matches!(e, CompactError::Malformed(_)), "{e}");
                    break;
                }
            }
        }
        assert_eq!(errors, 1, "the part is refused");
    }
}
