//! The outbox: local changes the server has not acknowledged yet.
//!
//! Invariant: every change this device makes enters the outbox in the same
//! transaction as its document, and leaves only when the server acknowledges
//! its hash. Changes received from elsewhere never enter it.

use automerge::ChangeHash;
use rusqlite::{Transaction, params};

use super::{DocChange, Result, Store, StoreError};
use crate::api::OutboxStats;
use crate::domain::{DocId, Timestamp};
use crate::sync::status::PendingWork;

/// Code of a refused change a sync admin discarded.
pub const CODE_DISCARDED: &str = "discarded";
/// Code of a change of this device lost with a discarded one: it built on
/// it, so the server can never take it.
pub const CODE_LOST: &str = "lost_with_discard";

/// A change waiting for the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Position in the outbox (creation order).
    pub seq: i64,
    /// The change's hash.
    pub hash: ChangeHash,
    /// The document and the bytes.
    pub change: DocChange,
}

pub(super) fn push(
    tx: &Transaction<'_>,
    doc_id: DocId,
    hash: ChangeHash,
    bytes: &[u8],
    at: Timestamp,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO outbox(doc_id, hash, bytes, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        doc_id.to_bytes(),
        hash.0.as_slice(),
        bytes,
        at.as_millis()
    ])?;
    Ok(())
}

impl Store {
    /// The oldest waiting changes, up to `max_changes` and about `max_bytes`
    /// (at least one change if any is waiting, however large).
    pub fn outbox_peek(&self, max_changes: usize, max_bytes: usize) -> Result<Vec<OutboxEntry>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT seq, doc_id, hash, bytes FROM outbox ORDER BY seq LIMIT ?1")?;
        let mut rows = stmt.query([max_changes as i64])?;
        let mut out = Vec::new();
        let mut total = 0usize;
        while let Some(row) = rows.next()? {
            let bytes: Vec<u8> = row.get(3)?;
            if !out.is_empty() && total + bytes.len() > max_bytes {
                break;
            }
            total += bytes.len();
            let doc: Vec<u8> = row.get(1)?;
            let hash: Vec<u8> = row.get(2)?;
            out.push(OutboxEntry {
                seq: row.get(0)?,
                hash: ChangeHash::try_from(hash.as_slice())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                change: DocChange {
                    doc_id: DocId::from_slice(&doc)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    bytes,
                },
            });
        }
        Ok(out)
    }

    /// Removes acknowledged changes; returns how many were waiting.
    pub fn outbox_ack(&self, hashes: &[ChangeHash]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut removed = 0;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM outbox WHERE hash = ?1")?;
            for h in hashes {
                removed += stmt.execute([h.0.as_slice()])?;
            }
        }
        tx.commit()?;
        Ok(removed)
    }

    /// Moves a change the server refused out of the outbox into
    /// `refused_changes`, with the server's code and reason.
    pub fn outbox_refuse(&self, hash: &ChangeHash, code: &str, reason: &str) -> Result<()> {
        let now = self.clock.now().as_millis();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO refused_changes(hash, doc_id, bytes, code, reason, refused_at)
             SELECT hash, doc_id, bytes, ?2, ?3, ?4 FROM outbox WHERE hash = ?1",
            params![hash.0.as_slice(), code, reason, now],
        )?;
        tx.execute("DELETE FROM outbox WHERE hash = ?1", [hash.0.as_slice()])?;
        tx.commit()?;
        Ok(())
    }

    /// Changes the server refused, as `(document, code, reason)`.
    pub fn refused_changes(&self) -> Result<Vec<(DocId, String, String)>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT doc_id, code, reason FROM refused_changes ORDER BY refused_at")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (doc, code, reason) = row?;
            out.push((
                DocId::from_slice(&doc).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                code,
                reason,
            ));
        }
        Ok(out)
    }

    /// How many refused changes still wait for a sync admin (not those an
    /// admin discarded, nor the edits lost with them: those are settled,
    /// and the notices say so).
    pub fn refused_count(&self) -> Result<u64> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM refused_changes WHERE code NOT IN (?1, ?2)",
            [CODE_DISCARDED, CODE_LOST],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Takes changes a sync admin released off the refused list: the server
    /// checked them again and stored them (or had them). Returns how many
    /// were listed.
    pub fn refused_release(&self, hashes: &[ChangeHash]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut removed = 0;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM refused_changes WHERE hash = ?1")?;
            for h in hashes {
                removed += stmt.execute([h.0.as_slice()])?;
            }
        }
        tx.commit()?;
        Ok(removed)
    }

    /// This device's edits of a record that were lost with a change a sync
    /// admin discarded (they built on it), and how many.
    pub fn lost_edits(&self, doc: DocId) -> Result<u64> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM refused_changes WHERE doc_id = ?1 AND code = ?2",
            params![doc.to_bytes(), CODE_LOST],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Everything waiting on this device for the sync: unacknowledged
    /// changes and their records, photo bytes to upload, refused changes.
    pub fn pending_work(&self) -> Result<PendingWork> {
        let outbox = self.outbox_stats()?;
        Ok(PendingWork {
            changes: outbox.changes,
            records: outbox.records,
            photo_bytes: self.pending_photo_bytes()?,
            refused: self.refused_count()?,
        })
    }

    /// How much is waiting for the server.
    pub fn outbox_stats(&self) -> Result<OutboxStats> {
        Ok(self.conn().query_row(
            "SELECT count(*), coalesce(sum(length(bytes)), 0), count(DISTINCT doc_id) FROM outbox",
            [],
            |r| {
                Ok(OutboxStats {
                    changes: r.get::<_, i64>(0)? as u64,
                    bytes: r.get::<_, i64>(1)? as u64,
                    records: r.get::<_, i64>(2)? as u64,
                })
            },
        )?)
    }
}
