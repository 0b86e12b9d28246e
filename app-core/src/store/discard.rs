//! A record whose changes a sync admin discarded: the device's copy is
//! replaced with the server's.
//!
//! A discarded change is archived on the server and reaches no one, but the
//! device that made it still holds it in its copy of the record, and every
//! edit it makes of the record afterwards depends on it, so the server could
//! never place those edits (`missing_deps`, forever). The copy is therefore
//! rebuilt from the server's changes plus this device's own unsent changes
//! that do not build on a discarded one. Those that do are lost with it:
//! they leave the outbox for the refused list (code
//! [`super::outbox::CODE_LOST`]), their bytes kept, so the interface can say
//! which edits went and why.

use std::collections::HashSet;

use automerge::{Change, ChangeHash, ReadDoc};
use rusqlite::params;

use super::documents::{heads_to_blob, insert_new, load};
use super::outbox::{CODE_DISCARDED, CODE_LOST};
use super::{Result, Store, projection};
use crate::doc::{RecordDoc, decode_change};
use crate::domain::DocId;

/// What replacing a record's copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Unsent changes of this device kept (they do not build on a
    /// discarded change and still wait in the outbox).
    pub kept: usize,
    /// Changes of this device lost with the discarded ones, now on the
    /// refused list.
    pub lost: usize,
    /// Whether the record is gone from this device (the server never held
    /// it: its creation was the discarded change).
    pub removed: bool,
}

impl Store {
    /// Replaces the copy of `doc` with the server's `changes` plus this
    /// device's unsent changes that build on none of `discarded` (nor on an
    /// edit that does). Changes that do are taken out of the outbox and
    /// listed as refused ([`super::outbox::CODE_LOST`]) with `reason`; the
    /// discarded ones are listed with [`super::outbox::CODE_DISCARDED`].
    /// One transaction; running it again changes nothing more.
    pub fn replace_with_server_copy(
        &self,
        doc: DocId,
        changes: &[Vec<u8>],
        discarded: &[ChangeHash],
        reason: &str,
    ) -> Result<Rebuilt> {
        let now = self.clock.now().as_millis();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let old = load(&tx, doc)?.map(|(d, _)| d);

        let mut copy = RecordDoc::empty();
        copy.apply(
            changes
                .iter()
                .map(|b| decode_change(b))
                .collect::<std::result::Result<Vec<Change>, _>>()?,
        )?;

        // This device's own changes the server lacks, in the order they
        // apply: kept unless they build on something gone.
        let mut gone: HashSet<ChangeHash> = discarded.iter().copied().collect();
        let mut lost: Vec<ChangeHash> = Vec::new();
        let mut kept = 0;
        for change in old
            .as_ref()
            .map(|d| d.changes_since(&[]))
            .unwrap_or_default()
        {
            let hash = change.hash();
            if copy.has_change(&hash) || gone.contains(&hash) {
                continue;
            }
            if change
                .deps()
                .iter()
                .any(|d| gone.contains(d) || !copy.has_change(d))
            {
                gone.insert(hash);
                lost.push(hash);
                continue;
            }
            copy.apply([change])?;
            kept += 1;
        }

        // The refused list: discarded changes with the admin's reason, lost
        // edits with why; neither is sent again.
        {
            let lost_reason = format!("it built on a change a sync admin discarded: {reason}");
            let mut settle = tx.prepare_cached(
                "INSERT OR REPLACE INTO refused_changes(hash, doc_id, bytes, code, reason, refused_at)
                 SELECT hash, doc_id, bytes, ?2, ?3, ?4 FROM outbox WHERE hash = ?1",
            )?;
            let mut relabel = tx.prepare_cached(
                "UPDATE refused_changes SET code = ?2, reason = ?3 WHERE hash = ?1",
            )?;
            let mut unqueue = tx.prepare_cached("DELETE FROM outbox WHERE hash = ?1")?;
            let mut from_doc = tx.prepare_cached(
                "INSERT OR IGNORE INTO refused_changes(hash, doc_id, bytes, code, reason, refused_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let labelled = discarded
                .iter()
                .map(|h| (h, CODE_DISCARDED, reason))
                .chain(lost.iter().map(|h| (h, CODE_LOST, lost_reason.as_str())));
            for (hash, code, why) in labelled {
                let key = hash.0.as_slice();
                settle.execute(params![key, code, why, now])?;
                relabel.execute(params![key, code, why])?;
                unqueue.execute([key])?;
                // A lost edit that had left the outbox (refused as
                // quarantined, say) is listed from the old copy.
                if let Some(change) = old.as_ref().and_then(|d| {
                    d.automerge()
                        .get_change_by_hash(hash)
                        .map(|c| c.raw_bytes().to_vec())
                }) {
                    from_doc.execute(params![key, doc.to_bytes(), change, code, why, now])?;
                }
            }
        }

        // The document itself: the copy, or nothing when the server never
        // held the record.
        tx.execute(
            "DELETE FROM doc_changes WHERE doc_id = ?1",
            [doc.to_bytes()],
        )?;
        tx.execute(
            "DELETE FROM pending_changes WHERE doc_id = ?1",
            [doc.to_bytes()],
        )?;
        let removed = copy.heads().is_empty();
        if removed {
            for sql in [
                "DELETE FROM service_logs WHERE id = ?1",
                "DELETE FROM consultations WHERE id = ?1",
                "DELETE FROM record_items WHERE record = ?1",
                "DELETE FROM documents WHERE doc_id = ?1",
            ] {
                tx.execute(sql, [doc.to_bytes()])?;
            }
        } else if old.is_some() {
            let snapshot = copy.save();
            tx.execute(
                "UPDATE documents SET snapshot = ?2, snapshot_len = ?3, increments_len = 0,
                     heads = ?4,
                     changed_seq = (SELECT coalesce(max(changed_seq), 0) + 1 FROM documents)
                 WHERE doc_id = ?1",
                params![
                    doc.to_bytes(),
                    snapshot,
                    snapshot.len() as i64,
                    heads_to_blob(&copy.heads())
                ],
            )?;
            projection::reproject(&tx, doc, &copy)?;
        } else {
            insert_new(&tx, doc, &copy)?;
            projection::reproject(&tx, doc, &copy)?;
        }
        tx.commit()?;
        Ok(Rebuilt {
            kept,
            lost: lost.len(),
            removed: removed && old.is_some(),
        })
    }
}
