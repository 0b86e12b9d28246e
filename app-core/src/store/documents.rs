//! Documents on disk: snapshot plus change rows, compaction, applying changes
//! from elsewhere and exporting the changes a peer lacks.
//!
//! Invariant: for every row of `documents`, loading `snapshot` and applying
//! its `doc_changes` rows in `id` order gives a document whose heads are
//! `heads`, and the kind's projection row reflects that document (or is
//! absent and `readable = 0`). Both are written in one transaction.

use std::collections::{BTreeMap, HashSet};

use automerge::{Change, ChangeHash};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use super::{Result, Store, StoreError, projection};
use crate::doc::{Conflict, RecordDoc, decode_change};
use crate::domain::DocId;

/// A document's heads.
pub type Heads = Vec<ChangeHash>;

/// One change of one document, as it travels between replicas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocChange {
    /// The document.
    pub doc_id: DocId,
    /// The change's bytes (Automerge's compressed change encoding).
    pub bytes: Vec<u8>,
}

/// What applying a batch of changes did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Changes newly applied (including held-back ones that now could be).
    pub applied: usize,
    /// Changes the store already had.
    pub duplicates: usize,
    /// Changes held back because their dependencies are missing.
    pub pending: usize,
    /// Changes that do not decode, with the reason.
    pub rejected: Vec<(DocId, String)>,
    /// Documents that changed.
    pub changed: Vec<DocId>,
}

pub(super) fn heads_to_blob(heads: &[ChangeHash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(heads.len() * 32);
    for h in heads {
        out.extend_from_slice(&h.0);
    }
    out
}

pub(super) fn blob_to_heads(blob: &[u8]) -> Result<Heads> {
    if !blob.len().is_multiple_of(32) {
        return Err(StoreError::Corrupt(format!(
            "heads blob of {} bytes",
            blob.len()
        )));
    }
    Ok(blob
        .chunks_exact(32)
        .map(|c| ChangeHash(c.try_into().expect("32-byte chunk")))
        .collect())
}

/// The sizes that decide compaction.
pub(super) struct DocRow {
    snapshot_len: i64,
    increments_len: i64,
}

/// Loads a document: its snapshot and the change rows after it.
pub(super) fn load(tx: &rusqlite::Connection, id: DocId) -> Result<Option<(RecordDoc, DocRow)>> {
    let row = tx
        .query_row(
            "SELECT snapshot, snapshot_len, increments_len FROM documents WHERE doc_id = ?1",
            [id.to_bytes()],
            |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((snapshot, snapshot_len, increments_len)) = row else {
        return Ok(None);
    };
    let mut doc = RecordDoc::load(&snapshot)?;
    if increments_len > 0 {
        let mut stmt =
            tx.prepare_cached("SELECT bytes FROM doc_changes WHERE doc_id = ?1 ORDER BY id")?;
        let changes = stmt
            .query_map([id.to_bytes()], |r| r.get::<_, Vec<u8>>(0))?
            .map(|bytes| {
                let bytes = bytes?;
                decode_change(&bytes).map_err(StoreError::from)
            })
            .collect::<Result<Vec<Change>>>()?;
        doc.apply(changes)?;
    }
    Ok(Some((
        doc,
        DocRow {
            snapshot_len,
            increments_len,
        },
    )))
}

fn next_changed_seq(tx: &Transaction<'_>) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT coalesce(max(changed_seq), 0) + 1 FROM documents",
        [],
        |r| r.get(0),
    )?)
}

/// Inserts a document that is new to this store, as a snapshot.
pub(super) fn insert_new(tx: &Transaction<'_>, id: DocId, doc: &RecordDoc) -> Result<()> {
    let kind = doc.kind().map(|k| k.code()).unwrap_or("unknown");
    let snapshot = doc.save();
    let seq = next_changed_seq(tx)?;
    tx.execute(
        "INSERT INTO documents(doc_id, kind, snapshot, snapshot_len, increments_len, heads, changed_seq)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
        params![
            id.to_bytes(),
            kind,
            snapshot,
            snapshot.len() as i64,
            heads_to_blob(&doc.heads()),
            seq
        ],
    )?;
    Ok(())
}

/// Records changes appended to an existing document, compacting when the
/// increments have outgrown the snapshot.
pub(super) fn append(
    tx: &Transaction<'_>,
    id: DocId,
    doc: &RecordDoc,
    row: &DocRow,
    changes: &[(ChangeHash, &[u8])],
) -> Result<()> {
    let added: i64 = changes.iter().map(|(_, b)| b.len() as i64).sum();
    let increments = row.increments_len + added;
    let seq = next_changed_seq(tx)?;
    let heads = heads_to_blob(&doc.heads());
    if increments > row.snapshot_len {
        let snapshot = doc.save();
        tx.execute("DELETE FROM doc_changes WHERE doc_id = ?1", [id.to_bytes()])?;
        tx.execute(
            "UPDATE documents SET snapshot = ?2, snapshot_len = ?3, increments_len = 0,
                 heads = ?4, changed_seq = ?5
             WHERE doc_id = ?1",
            params![id.to_bytes(), snapshot, snapshot.len() as i64, heads, seq],
        )?;
    } else {
        let mut insert =
            tx.prepare_cached("INSERT INTO doc_changes(doc_id, hash, bytes) VALUES (?1, ?2, ?3)")?;
        for (hash, bytes) in changes {
            insert.execute(params![id.to_bytes(), hash.0.as_slice(), bytes])?;
        }
        tx.execute(
            "UPDATE documents SET increments_len = ?2, heads = ?3, changed_seq = ?4
             WHERE doc_id = ?1",
            params![id.to_bytes(), increments, heads, seq],
        )?;
    }
    Ok(())
}

impl Store {
    /// Loads a record's document.
    pub fn load_doc(&self, id: DocId) -> Result<RecordDoc> {
        let conn = self.conn();
        load(&conn, id)?
            .map(|(doc, _)| doc)
            .ok_or(StoreError::NotFound(id))
    }

    /// The fields of a record that hold concurrent values.
    pub fn conflicts(&self, id: DocId) -> Result<Vec<Conflict>> {
        Ok(self.load_doc(id)?.conflicts())
    }

    /// Every document's heads: what this replica has.
    pub fn heads(&self) -> Result<BTreeMap<DocId, Heads>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT doc_id, heads FROM documents")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (id, heads) = row?;
            let id = DocId::from_slice(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            out.insert(id, blob_to_heads(&heads)?);
        }
        Ok(out)
    }

    /// Documents holding received changes whose dependencies are missing.
    pub fn docs_with_pending_changes(&self) -> Result<Vec<DocId>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT DISTINCT doc_id FROM pending_changes")?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        rows.map(|r| DocId::from_slice(&r?).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect()
    }

    /// Number of record documents.
    pub fn doc_count(&self) -> Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM documents", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// The changes a peer that has `peer` lacks, in an order that applies
    /// (dependencies first within each document).
    pub fn changes_for_peer(&self, peer: &BTreeMap<DocId, Heads>) -> Result<Vec<DocChange>> {
        let ids: Vec<DocId> = self.heads()?.into_keys().collect();
        let conn = self.conn();
        let mut out = Vec::new();
        for id in ids {
            let Some((doc, _)) = load(&conn, id)? else {
                continue;
            };
            let have: Vec<ChangeHash> = peer
                .get(&id)
                .map(|heads| {
                    heads
                        .iter()
                        .filter(|h| doc.has_change(h))
                        .copied()
                        .collect()
                })
                .unwrap_or_default();
            if have.len() == doc.heads().len() && have.iter().all(|h| doc.heads().contains(h)) {
                continue;
            }
            for change in doc.changes_since(&have) {
                out.push(DocChange {
                    doc_id: id,
                    bytes: change.raw_bytes().to_vec(),
                });
            }
        }
        Ok(out)
    }

    /// Applies changes from another replica. Idempotent and order-independent:
    /// changes already here are counted as duplicates; changes whose
    /// dependencies are missing are held until they arrive. Everything is
    /// written in one transaction.
    pub fn apply_changes(&self, changes: &[DocChange]) -> Result<ApplyReport> {
        self.apply_changes_and_meta(changes, None)
    }

    /// [`Store::apply_changes`], and in the same transaction sets a meta
    /// key (`Some((key, value))`): the sync engine saves a pull's cursor
    /// with the changes it came with, so that a crash or a cut link never
    /// leaves a cursor past changes that were not kept, nor kept changes
    /// behind a cursor that was not.
    pub fn apply_changes_and_meta(
        &self,
        changes: &[DocChange],
        meta: Option<(&str, &str)>,
    ) -> Result<ApplyReport> {
        let mut by_doc: BTreeMap<DocId, Vec<&[u8]>> = BTreeMap::new();
        for c in changes {
            by_doc.entry(c.doc_id).or_default().push(&c.bytes);
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut report = ApplyReport::default();
        for (id, raw) in by_doc {
            apply_to_doc(&tx, id, &raw, &mut report)?;
        }
        if let Some((key, value)) = meta {
            tx.execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )?;
        }
        tx.commit()?;
        Ok(report)
    }
}

fn apply_to_doc(
    tx: &Transaction<'_>,
    id: DocId,
    raw: &[&[u8]],
    report: &mut ApplyReport,
) -> Result<()> {
    let existing = load(tx, id)?;
    let is_new = existing.is_none();
    let (mut doc, row) = match existing {
        Some((doc, row)) => (doc, Some(row)),
        None => (RecordDoc::empty(), None),
    };

    let mut candidates: Vec<(Change, Vec<u8>)> = Vec::new();
    let mut seen: HashSet<ChangeHash> = HashSet::new();
    for bytes in raw {
        match decode_change(bytes) {
            Ok(change) => {
                let hash = change.hash();
                if doc.has_change(&hash) || !seen.insert(hash) {
                    report.duplicates += 1;
                } else {
                    candidates.push((change, bytes.to_vec()));
                }
            }
            Err(e) => report.rejected.push((id, e.to_string())),
        }
    }
    if candidates.is_empty() {
        return Ok(());
    }
    let from_this_page = candidates.len();
    // Changes held back earlier may apply now.
    {
        let mut stmt = tx.prepare_cached("SELECT bytes FROM pending_changes WHERE doc_id = ?1")?;
        let held = stmt
            .query_map([id.to_bytes()], |r| r.get::<_, Vec<u8>>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for bytes in held {
            let change = decode_change(&bytes)?;
            if seen.insert(change.hash()) && !doc.has_change(&change.hash()) {
                candidates.push((change, bytes));
            }
        }
    }

    // Automerge can panic on crafted changes (found by the `pull_answer`
    // fuzz target: changes that apply but cannot be read back). Nothing of
    // this document is written before this point, so such changes are
    // rejected for this document and the store keeps what it had.
    let present = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        doc.apply(candidates.iter().map(|(c, _)| c.clone()))?;
        Ok::<Vec<bool>, crate::doc::DocError>(
            candidates
                .iter()
                .map(|(c, _)| doc.has_change(&c.hash()))
                .collect(),
        )
    }));
    let present = match present {
        Ok(present) => present?,
        Err(_) => {
            // Each of this page's changes for the document is refused (the
            // report counts changes); those held back earlier stay held.
            report.rejected.extend(std::iter::repeat_n(
                (id, "the changes cannot be applied".to_string()),
                from_this_page,
            ));
            return Ok(());
        }
    };

    let mut applied: Vec<(ChangeHash, &[u8])> = Vec::new();
    for ((change, bytes), present) in candidates.iter().zip(present) {
        let hash = change.hash();
        if present {
            tx.execute(
                "DELETE FROM pending_changes WHERE hash = ?1",
                [hash.0.as_slice()],
            )?;
            applied.push((hash, bytes));
        } else {
            tx.execute(
                "INSERT OR IGNORE INTO pending_changes(hash, doc_id, bytes) VALUES (?1, ?2, ?3)",
                params![hash.0.as_slice(), id.to_bytes(), bytes],
            )?;
            report.pending += 1;
        }
    }
    if applied.is_empty() {
        return Ok(());
    }
    report.applied += applied.len();
    match row {
        None if is_new => insert_new(tx, id, &doc)?,
        Some(row) => append(tx, id, &doc, &row, &applied)?,
        None => unreachable!("a document without a row is new"),
    }
    projection::reproject(tx, id, &doc)?;
    report.changed.push(id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::domain::Timestamp;

    fn unhex(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Found by the `pull_answer` fuzz target: a pull page whose changes
    /// Automerge applies but then panics reading back
    /// (`get_change_by_hash`) took the device's sync down with it. They
    /// are rejected, and the store stays usable.
    #[test]
    fn changes_that_panic_automerge_are_rejected_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
        let store = Store::open(dir.path().join("device.sqlite"), clock.shared()).unwrap();
        let doc_id: DocId = "0192f000-0000-7000-8000-0000000bbbbb".parse().unwrap();
        let changes = vec![
            DocChange {
                doc_id,
                bytes: unhex(concat!(
                    "856f4a83357c38ac02cb0385504d8b134110adee999d999d5d4324ebd59b780af48c715daffe083d0e9d9e4a",
                    "d2381fa1bb666451134fca4250bc88a007118920a8b0875c14f6b6bfc383c9c68bf813643678f1b2eff0aa5e",
                    "f1ea5114b4fdffc0180084acc55b97bdcea52bbf596feb4ee7eef57b3fd898437b0ac00300c70170a13d6d03",
                    "0f3ae03857c1853d1f20dc3826b0e73108c75bc97d5da47e62d50873c975eac98a46a5710965eea69230b424",
                    "0d25a4730cb048cf1bbfd65926871864a592a4cb22908a74ade930d0455a593287ad8134391a9b583435a601",
                    "19a90b44eb6df42ea11a1565560e355a6093ed5a1a8da4d1eea46895d1e3261682da1b8f4a2aad674952653d",
                    "83b5c607be2af31c0be2fd432e29540625619a48da4eab71a69524f4374ebb63d09659d5a4d936e341d8629c",
                    "3f66dc0dd823cec07539e79305eb38a7ee74ce383c3c6530e7838e03d339e710ec4fe0157361aa1d682ed70a",
                    "93ac1c7211dd8e074288ae68e8564307ffa410a2dfe0024f83e8228f94228a45bcdf8da26e7c70331637e25e",
                    "b326a2f3076a25b36458e954160ad7b3c5f2c562b7296f3e9f7d3b591f1dff7a7dbc7afe71357bb6fcfabd99",
                    "3f7dfbf3e4cbf2e8d37ab658bd7b69ab7eae89307df2e7ecc3fbde35f80b",
                )),
            },
            DocChange {
                doc_id,
                bytes: unhex(concat!(
                    "856f4a833497486701a00101357c38ac991a7c59e34cc1f3ef2197437ed8a3cdab3b0bdf69cf6116fe3a2c1b",
                    "100707070707070707070707070707070702260000000b010202021104130e3406424e560957157009710273",
                    "040d000d1300010c007d00267004017effff10007e6c150002050401010201050304017e0301023605000436",
                    "7e0036e794b0e997b4efbc9ae78e89e7b1b3e8bfbde882a50200050104007e010006007f160501",
                )),
            },
        ];
        let report = store.apply_changes(&changes).unwrap();
        assert_eq!(report.applied, 0, "{report:?}");
        assert_eq!(
            report.duplicates + report.pending + report.rejected.len(),
            changes.len(),
            "every change is accounted for: {report:?}"
        );
        assert!(report.changed.is_empty());
        // The store still works.
        assert_eq!(store.apply_changes(&[]).unwrap(), ApplyReport::default());
    }

    /// A pull page (found by the `pull_answer` fuzz target) whose changes
    /// of one document apply and then make Automerge panic: every change
    /// of the page is accounted for, each refused one by itself.
    #[test]
    fn a_page_that_panics_automerge_accounts_for_each_change() {
        let input = unhex(concat!(
            "0083a1639282a164c4100192f0000000700080000000000bbbbba162c501d6856f4a83357c38ac02cb038550",
            "4d8b134110adee999d999d5d4324ebd59b780af48c715daffe083d0e9d9e4ad2381fa1bb666451134fca4250",
            "bc88a007118920a8b0875c14f6b6bfc383c9c68bf813643678f1b2eff0aa5ef1ea5114b4fdffc0180084acc5",
            "5b97bdcea52bbf596feb4ee7eef57b3fd898437b0ac00300c70170a13d6d030f3ae03857c1853d1f20dc3826",
            "b0e73108c75bc97d5da47e62d50873c975eac98a46a5710965eea69230b4240d25a4730cb048cf1bbfd65926",
            "871864a592a4cb22908a74ade930d0455a593287ad8134391a9b583435a60119a90b44eb6df42ea11a156556",
            "0e355a6093ed5a1a8da4d1eea46895d1e3261682da1b8f4a2aad674952653d83b5c607be2af31c0be2fd432e",
            "29540625619a48da4eab71a69524f4374ebb63d09659d5a4d936e341d8629c3f66dc0dd823cec17519e79305",
            "eb38a7ee74ce383c3c6530e7838e03d339e710ec4fe0157361aa1d682ed70a93ac1c7211dd8e074288ae68e8",
            "564307ffa410a2dfe0024f83e8228f94228a45bcdf8da26e7c70331637e25eb326a2f3076a25b36458e95416",
            "0ad7b3c5f2c562b7296f3e9f7d3b591f1dff7a7dbc7afe71357bb6fcfabd993f7dfbf3e4cbf2e8d37ab658bd",
            "7b69ab7eae89307df2e7ecc3fbde35f80b82a164c4100192f0000000700080000000000bbbbba162c4ab856f",
            "4a833497486701a00101357c38ac991a7c59e34cc1f3ef2197437ed8a3cdab3b0bdf69cf6116fe3a2c1b1007",
            "07070707070707070707070707070702260000000b010202021104130e34064209560957157009710273040d",
            "000d1300010c007d00267004017e7b1802017e6c150002050401010201050304017e03010236050004367e00",
            "36e794b0e997b4efbc9ae78e89e7b1b3e8bfbde882a50200050104007e010006007f160501a16ea4332e3137",
            "a16dc3",
        ));
        // The fuzz target's first byte chooses the decoder; the rest is the page.
        let page: crate::sync::protocol::PullResponse =
            crate::sync::protocol::decode(&input[1..]).unwrap();
        let changes: Vec<DocChange> = page
            .changes
            .into_iter()
            .map(|c| DocChange {
                doc_id: c.doc,
                bytes: c.bytes,
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
        let store = Store::open(dir.path().join("device.sqlite"), clock.shared()).unwrap();
        let report = store.apply_changes(&changes).unwrap();
        assert_eq!(
            report.applied + report.duplicates + report.pending + report.rejected.len(),
            changes.len(),
            "every change is accounted for: {report:?}"
        );
        assert_eq!(store.apply_changes(&[]).unwrap(), ApplyReport::default());
    }
}
