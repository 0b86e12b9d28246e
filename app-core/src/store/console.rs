//! What the sync admin's console and the device's notices read from this
//! device's store: records marked as duplicates (so a mark can be cleared),
//! a record as a screen shows it, and the notices a sync admin's decisions
//! left, each with the record it concerns in one line.

use chrono::NaiveDate;
use rusqlite::params;

use super::{Result, Store, StoreError};
use crate::api::{MarkedDuplicate, NoticeView, RecordBrief, RecordView};
use crate::domain::{Consultation, DivisionLevel, DocId, RecordKind, ServiceLog, UserId};
use crate::scope::{self, Principal};
use crate::sync::protocol::Notice;

fn doc_id(bytes: &[u8]) -> Result<DocId> {
    DocId::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Records marked as duplicates, newest day first: logs and consultations.
const MARKED: &str = "SELECT id, 'service_log', duplicate_of, author, date, village, summary
     FROM service_logs WHERE duplicate_of IS NOT NULL
     UNION ALL
     SELECT id, 'consultation', duplicate_of, author,
            date((asked_at + 28800000) / 1000, 'unixepoch'), village, summary
     FROM consultations WHERE duplicate_of IS NOT NULL
     ORDER BY 5 DESC, 1
     LIMIT ?1 OFFSET ?2";

impl Store {
    /// Records on this device marked as duplicates whose mark `who` may
    /// clear (their author, or a sync admin of their area), newest first.
    pub fn marked_duplicates_as(
        &self,
        who: &Principal,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<MarkedDuplicate>> {
        type Row = (Vec<u8>, String, Vec<u8>, Vec<u8>, String, i64, String);
        let rows: Vec<Row> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(MARKED)?;
            stmt.query_map(
                params![i64::from(limit.clamp(1, 500)), i64::from(offset)],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )?
            .collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (id, kind, of, author, date, village, summary) in rows {
            let id = doc_id(&id)?;
            let kind = RecordKind::from_code(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("record kind {kind:?}")))?;
            let placement = match kind {
                RecordKind::ServiceLog => (&self.service_log(id.into())?).into(),
                RecordKind::Consultation => (&self.consultation(id.into())?).into(),
            };
            if !scope::may_mark_duplicate(who, &placement) {
                continue;
            }
            out.push(MarkedDuplicate {
                id,
                kind,
                of: doc_id(&of)?,
                author: UserId::from_bytes(author.as_slice().try_into().map_err(|_| {
                    StoreError::Corrupt(format!("user id of {} bytes", author.len()))
                })?),
                date: NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                village_name: self.division_name(DivisionLevel::Village, village as u64)?,
                summary,
            });
        }
        Ok(out)
    }

    /// A log as a screen shows it, with its village's name.
    pub(super) fn log_view(&self, log: ServiceLog) -> Result<RecordView> {
        Ok(RecordView::ServiceLog {
            village_name: self.division_name(DivisionLevel::Village, log.village.as_int())?,
            log,
        })
    }

    /// A consultation as a screen shows it, with its village's name.
    pub(super) fn consultation_view(&self, consultation: Consultation) -> Result<RecordView> {
        Ok(RecordView::Consultation {
            village_name: self
                .division_name(DivisionLevel::Village, consultation.farmer.village.as_int())?,
            consultation,
        })
    }

    /// A record in one line, if it is on this device.
    pub fn record_brief(&self, id: DocId) -> Result<Option<RecordBrief>> {
        let doc = match self.load_doc(id) {
            Ok(doc) => doc,
            Err(StoreError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let (kind, date, village, text) = match doc.kind()? {
            RecordKind::ServiceLog => {
                let l: ServiceLog = doc.read()?;
                (RecordKind::ServiceLog, l.date, l.village, l.description)
            }
            RecordKind::Consultation => {
                let c: Consultation = doc.read()?;
                (
                    RecordKind::Consultation,
                    c.asked_at.china_date().unwrap_or_default(),
                    c.farmer.village,
                    c.problem,
                )
            }
        };
        Ok(Some(RecordBrief {
            kind,
            date,
            village_name: self.division_name(DivisionLevel::Village, village.as_int())?,
            summary: text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(60)
                .collect(),
        }))
    }

    /// The notices kept for the user, newest first, each with the record it
    /// concerns (when on this device) and the edits lost with a discard.
    pub fn notice_views(&self, notices: Vec<Notice>) -> Result<Vec<NoticeView>> {
        let mut out = Vec::with_capacity(notices.len());
        for notice in notices.into_iter().rev() {
            out.push(NoticeView {
                record: self.record_brief(notice.doc)?,
                lost_edits: self.lost_edits(notice.doc)?,
                notice,
            });
        }
        Ok(out)
    }
}
