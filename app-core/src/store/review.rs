//! The team lead's review and the sync admin's record work on this device,
//! on behalf of a signed-in principal: the review queue, approving and
//! returning, conflicts with where each value came from and their
//! resolution, possible duplicates and marking them, and a record's history.
//!
//! Every write is checked with [`scope::check_write`] on the record as it
//! would be, before anything is written, so the device never makes a change
//! the server refuses; every write is an ordinary change through the outbox,
//! offline.

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::{Row, params};

use super::{Result, Store, StoreError};
use crate::api::{
    Approved, ConflictChoice, ConflictQuery, DuplicatePair, DuplicateSide, FieldConflict,
    MarkDuplicateInput, RecordConflicts, RecordHistory, ResolveInput, ReturnInput, ReviewDetail,
    ReviewQueue, ReviewQueueQuery, ValueOrigin,
};
use crate::doc::{Conflict, RecordDoc};
use crate::domain::resolution::{similar_texts, text_similarity, top_field};
use crate::domain::{
    Consultation, DocId, RecordKind, ReviewState, ServiceLog, ServiceLogId, Timestamp, UserId,
    VillageCode,
};
use crate::scope::{self, AnyRecord, Placement, Principal, Refusal};
use crate::sync::protocol::RefusalCode;

fn refused(id: DocId, r: Refusal) -> StoreError {
    match r.code {
        RefusalCode::NotYourRecord | RefusalCode::OutOfScope => StoreError::NotYours(id),
        code => StoreError::Refused(code.as_str(), r.reason),
    }
}

/// `scope::check_write` of an edit, as a store error.
fn check(who: &Principal, before: AnyRecord, after: AnyRecord) -> Result<()> {
    let id = after.id();
    scope::check_write(who, Some(&before), &after).map_err(|r| refused(id, r))
}

/// A record of either kind, read from its document.
fn any_record(doc: &RecordDoc) -> Result<AnyRecord> {
    Ok(match doc.kind()? {
        RecordKind::ServiceLog => AnyRecord::ServiceLog(doc.read()?),
        RecordKind::Consultation => AnyRecord::Consultation(doc.read()?),
    })
}

/// Who wrote with which actor, as far as the record shows: the actor that
/// created it is its author's; an actor that wrote a decision, resolution
/// or duplicate mark is that person's.
fn actor_users(doc: &RecordDoc, record: &AnyRecord) -> HashMap<String, UserId> {
    let mut users = HashMap::new();
    if let Some(actor) = doc.creator() {
        users.insert(actor, record.placement().author);
    }
    let by_id: HashMap<String, UserId> = record
        .reviews()
        .iter()
        .map(|d| (d.id.to_string(), d.by))
        .chain(
            record
                .resolutions()
                .iter()
                .map(|r| (r.id.to_string(), r.by)),
        )
        .collect();
    for key in ["reviews", "resolutions"] {
        for (actor, id) in doc.entry_actors(key) {
            if let Some(user) = by_id.get(&id) {
                users.entry(actor).or_insert(*user);
            }
        }
    }
    if let (Some(actor), Some(mark)) = (doc.object_actor("duplicate"), record.duplicate()) {
        users.entry(actor).or_insert(mark.by);
    }
    users
}

/// The conflicts of a record with the origin of each value and whether
/// `who` may resolve them.
fn field_conflicts(who: &Principal, doc: &RecordDoc, record: &AnyRecord) -> Vec<FieldConflict> {
    let users = actor_users(doc, record);
    let at = record.placement();
    doc.conflicts()
        .into_iter()
        .map(|c| {
            let path = c.path_string();
            FieldConflict {
                may_resolve: scope::may_resolve(who, &at, top_field(&path)),
                values: c
                    .values
                    .into_iter()
                    .map(|v| {
                        let (actor, time) = doc
                            .origin_of(&v.op)
                            .unwrap_or_else(|| (v.actor().to_string(), None));
                        ConflictChoice {
                            origin: ValueOrigin {
                                author: users.get(&actor).copied(),
                                actor,
                                at: time,
                            },
                            value: v.value,
                            op: v.op,
                        }
                    })
                    .collect(),
                path,
            }
        })
        .collect()
}

fn history(id: DocId, record: &AnyRecord) -> RecordHistory {
    RecordHistory {
        id,
        kind: record.placement().kind,
        reviews: record.reviews().to_vec(),
        resolutions: record.resolutions().to_vec(),
        duplicate: record.duplicate().copied(),
    }
}

fn blob_id<T>(row: &Row<'_>, i: usize, f: fn([u8; 16]) -> T) -> rusqlite::Result<T> {
    let bytes: Vec<u8> = row.get(i)?;
    let arr: [u8; 16] = bytes.as_slice().try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Blob,
            format!("id of {} bytes", bytes.len()).into(),
        )
    })?;
    Ok(f(arr))
}

fn village_of(row: &Row<'_>, i: usize) -> rusqlite::Result<VillageCode> {
    VillageCode::from_int(row.get::<_, i64>(i)? as u64).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Integer,
            e.to_string().into(),
        )
    })
}

/// A row of a pair query: the two records, their author, day and village.
struct PairRow {
    a: DocId,
    b: DocId,
    author: UserId,
    date: NaiveDate,
    village: VillageCode,
    village_name: Option<String>,
    sides: [(Timestamp, String, u32); 2],
}

fn pair_row(row: &Row<'_>) -> rusqlite::Result<PairRow> {
    let date: String = row.get(3)?;
    Ok(PairRow {
        a: blob_id(row, 0, |b| DocId::from_slice(&b).expect("16 bytes"))?,
        b: blob_id(row, 1, |b| DocId::from_slice(&b).expect("16 bytes"))?,
        author: blob_id(row, 2, UserId::from_bytes)?,
        date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                3,
                rusqlite::types::Type::Text,
                e.to_string().into(),
            )
        })?,
        village: village_of(row, 4)?,
        village_name: row.get(5)?,
        sides: [
            (
                Timestamp::from_millis(row.get(6)?),
                row.get(8)?,
                row.get(10)?,
            ),
            (
                Timestamp::from_millis(row.get(7)?),
                row.get(9)?,
                row.get(11)?,
            ),
        ],
    })
}

/// Logs of one author, day and village, neither marked.
const LOG_PAIRS: &str = "SELECT a.id, b.id, a.author, a.date, a.village, v.name,
        a.created_at, b.created_at, a.summary, b.summary, a.photo_count, b.photo_count
     FROM service_logs a
     JOIN service_logs b ON b.author = a.author AND b.date = a.date
          AND b.village = a.village AND b.id > a.id
     LEFT JOIN div_villages v ON v.code = a.village
     WHERE a.duplicate_of IS NULL AND b.duplicate_of IS NULL
     ORDER BY a.date DESC, a.id";

/// Consultations of one author, farmer's village and day asked (China
/// time), neither marked.
const CONSULTATION_PAIRS: &str = "SELECT a.id, b.id, a.author,
        date((a.asked_at + 28800000) / 1000, 'unixepoch'), a.village, v.name,
        a.created_at, b.created_at, a.summary, b.summary, a.photo_count, b.photo_count
     FROM consultations a
     JOIN consultations b ON b.author = a.author AND b.village = a.village
          AND (b.asked_at + 28800000) / 86400000 = (a.asked_at + 28800000) / 86400000
          AND b.id > a.id
     LEFT JOIN div_villages v ON v.code = a.village
     WHERE a.duplicate_of IS NULL AND b.duplicate_of IS NULL
     ORDER BY a.asked_at DESC, a.id";

/// The text two records of a pair are compared by.
fn pair_text(record: &AnyRecord) -> &str {
    match record {
        AnyRecord::ServiceLog(l) => &l.description,
        AnyRecord::Consultation(c) => &c.problem,
    }
}

impl Store {
    fn any_record(&self, id: DocId) -> Result<(RecordDoc, AnyRecord)> {
        let doc = self.load_doc(id)?;
        let record = any_record(&doc)?;
        Ok((doc, record))
    }

    fn readable(&self, who: &Principal, id: DocId) -> Result<(RecordDoc, AnyRecord)> {
        let (doc, record) = self.any_record(id)?;
        if !scope::can_read(who, &record.placement()) {
            return Err(StoreError::NotYours(id));
        }
        Ok((doc, record))
    }

    /// The review queue of `q.team` (default: `who`'s team) for `who`, their
    /// own logs excluded; empty for someone with no team.
    pub fn review_queue_as(&self, who: &Principal, q: &ReviewQueueQuery) -> Result<ReviewQueue> {
        match q.team.or(who.team) {
            Some(team) => self.review_queue(team, who.user, q),
            None => Ok(ReviewQueue {
                total: 0,
                logs: Vec::new(),
            }),
        }
    }

    /// A log under review: its detail (state, history, what changed since
    /// the last decision) and its conflicts.
    pub fn review_detail_as(&self, who: &Principal, id: ServiceLogId) -> Result<ReviewDetail> {
        let (doc, record) = self.readable(who, id.into())?;
        Ok(ReviewDetail {
            conflicts: field_conflicts(who, &doc, &record),
            detail: self.service_log_detail(who, id)?,
        })
    }

    /// Approves logs as `who` (the lead of their team, or a sync admin),
    /// all or none: a log `who` may not decide on is
    /// [`StoreError::NotYours`], a draft [`StoreError::NotAllowed`], and
    /// nothing is written.
    pub fn approve_logs_as(&self, who: &Principal, ids: &[ServiceLogId]) -> Result<Approved> {
        for id in ids {
            let log = self.service_log(*id)?;
            if !scope::may_decide(who, &(&log).into()) {
                return Err(StoreError::NotYours((*id).into()));
            }
            if log.review_state() == ReviewState::Draft {
                return Err(StoreError::NotAllowed("a draft cannot be reviewed"));
            }
        }
        let logs = self.approve_service_logs(ids, who.user)?;
        Ok(Approved {
            ids: logs.iter().map(|l| l.id).collect(),
        })
    }

    /// Returns a log to its author with a comment (required:
    /// `input.invalid` with the field `comment`), as `who`.
    pub fn return_log_as(
        &self,
        who: &Principal,
        input: &ReturnInput,
    ) -> Result<crate::api::LogDetail> {
        let log = self.service_log(input.id)?;
        if !scope::may_decide(who, &(&log).into()) {
            return Err(StoreError::NotYours(input.id.into()));
        }
        self.review_service_log(
            input.id,
            who.user,
            crate::api::ReviewDecision::Return,
            &input.comment,
        )?;
        self.service_log_detail(who, input.id)
    }

    /// Who decided, resolved and marked what on a record `who` reads.
    pub fn record_history_as(&self, who: &Principal, id: DocId) -> Result<RecordHistory> {
        let (_, record) = self.readable(who, id)?;
        Ok(history(id, &record))
    }

    /// Records on this device with fields holding concurrent values, by
    /// county, team and age (oldest first), each value with its origin.
    pub fn conflicts_as(&self, who: &Principal, q: &ConflictQuery) -> Result<Vec<RecordConflicts>> {
        let (limit, offset) = (
            i64::from(q.limit.unwrap_or(50).clamp(1, 500)),
            i64::from(q.offset.unwrap_or(0)),
        );
        let rows: Vec<(DocId, Option<String>)> = {
            let conn = self.conn();
            let mut stmt = conn.prepare_cached(
                "SELECT id, kind, county, team, created_at, name FROM (
                     SELECT l.id, 'service_log' AS kind, l.county, l.team, l.created_at,
                            v.name AS name
                     FROM service_logs l LEFT JOIN div_villages v ON v.code = l.village
                     WHERE l.has_conflicts = 1
                     UNION ALL
                     SELECT c.id, 'consultation', c.county, c.team, c.created_at, v.name
                     FROM consultations c LEFT JOIN div_villages v ON v.code = c.village
                     WHERE c.has_conflicts = 1)
                 WHERE ?1 IS NULL OR kind = ?1
                 ORDER BY county, team, created_at, id
                 LIMIT ?2 OFFSET ?3",
            )?;
            stmt.query_map(params![q.kind.map(RecordKind::code), limit, offset], |r| {
                Ok((
                    blob_id(r, 0, |b| DocId::from_slice(&b).expect("16 bytes"))?,
                    r.get(5)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (id, village_name) in rows {
            let (doc, record) = self.any_record(id)?;
            let at = record.placement();
            if !scope::can_read(who, &at) {
                continue;
            }
            let fields = field_conflicts(who, &doc, &record);
            if fields.is_empty() {
                continue;
            }
            let (village, date, created_at, summary) = match &record {
                AnyRecord::ServiceLog(l) => (l.village, l.date, l.created_at, &l.description),
                AnyRecord::Consultation(c) => (
                    c.farmer.village,
                    c.asked_at.china_date().unwrap_or_default(),
                    c.created_at,
                    &c.problem,
                ),
            };
            out.push(RecordConflicts {
                id,
                kind: at.kind,
                author: at.author,
                team: at.team,
                county: at.county,
                village,
                village_name,
                date,
                created_at,
                summary: summary.chars().take(80).collect(),
                fields,
            });
        }
        Ok(out)
    }

    /// A record with fields to resolve, as the sync admin's console opens
    /// it: the record as it shows now, its conflicts with what `who` may
    /// resolve, and its history (`fetched` is the caller's to set).
    pub fn conflict_detail_as(
        &self,
        who: &Principal,
        id: DocId,
    ) -> Result<crate::api::ConflictDetail> {
        let (doc, record) = self.readable(who, id)?;
        let fields = field_conflicts(who, &doc, &record);
        let history = history(id, &record);
        let record = match record {
            AnyRecord::ServiceLog(l) => self.log_view(l)?,
            AnyRecord::Consultation(c) => self.consultation_view(c)?,
        };
        Ok(crate::api::ConflictDetail {
            record,
            fields,
            history,
            fetched: false,
        })
    }

    /// Resolves a conflict of a record as `who`: the author the content, the
    /// team lead the review fields, a sync admin anything but identity. The
    /// chosen value is one of the listed ones (by its operation) or a new one
    /// that passes the record's validation (`input.invalid`); a path that no
    /// longer holds concurrent values is `conflict.not_found`. Answers the
    /// record's conflicts that are left.
    pub fn resolve_conflict_as(
        &self,
        who: &Principal,
        input: &ResolveInput,
    ) -> Result<Vec<FieldConflict>> {
        let (doc, record) = self.readable(who, input.id)?;
        let conflict: Conflict = doc
            .conflicts()
            .into_iter()
            .find(|c| c.path_string() == input.path)
            .ok_or_else(|| StoreError::NoConflict(input.path.clone()))?;
        let at = record.placement();
        if !scope::may_resolve(who, &at, top_field(&input.path)) {
            return Err(StoreError::NotYours(input.id));
        }
        match at.kind {
            RecordKind::ServiceLog => {
                self.resolve_conflict_of::<ServiceLog>(
                    input.id,
                    &conflict,
                    &input.choice,
                    who.user,
                    who.role,
                    |b, a| {
                        check(
                            who,
                            AnyRecord::ServiceLog(b.clone()),
                            AnyRecord::ServiceLog(a.clone()),
                        )
                    },
                )?;
            }
            RecordKind::Consultation => {
                self.resolve_conflict_of::<Consultation>(
                    input.id,
                    &conflict,
                    &input.choice,
                    who.user,
                    who.role,
                    |b, a| {
                        check(
                            who,
                            AnyRecord::Consultation(b.clone()),
                            AnyRecord::Consultation(a.clone()),
                        )
                    },
                )?;
            }
        }
        let (doc, record) = self.any_record(input.id)?;
        Ok(field_conflicts(who, &doc, &record))
    }

    /// Marks `input.id` as a duplicate of `input.of` (a record of the same
    /// kind on this device), as its author or a sync admin.
    pub fn mark_duplicate_as(
        &self,
        who: &Principal,
        input: &MarkDuplicateInput,
    ) -> Result<RecordHistory> {
        if input.id == input.of {
            return Err(StoreError::NotAllowed("a record cannot duplicate itself"));
        }
        let (_, record) = self.readable(who, input.id)?;
        let (_, kept) = self.readable(who, input.of)?;
        if kept.placement().kind != record.placement().kind {
            return Err(StoreError::NotAllowed(
                "a record duplicates a record of its kind",
            ));
        }
        self.set_duplicate_as(who, input.id, Some(input.of), record.placement())
    }

    /// Clears the duplicate mark of a record, as its author or a sync admin.
    pub fn unmark_duplicate_as(&self, who: &Principal, id: DocId) -> Result<RecordHistory> {
        let (_, record) = self.readable(who, id)?;
        self.set_duplicate_as(who, id, None, record.placement())
    }

    fn set_duplicate_as(
        &self,
        who: &Principal,
        id: DocId,
        of: Option<DocId>,
        at: Placement,
    ) -> Result<RecordHistory> {
        if !scope::may_mark_duplicate(who, &at) {
            return Err(StoreError::NotYours(id));
        }
        let record = match at.kind {
            RecordKind::ServiceLog => AnyRecord::ServiceLog(self.set_duplicate::<ServiceLog>(
                id,
                of,
                who.user,
                |b, a| {
                    check(
                        who,
                        AnyRecord::ServiceLog(b.clone()),
                        AnyRecord::ServiceLog(a.clone()),
                    )
                },
            )?),
            RecordKind::Consultation => AnyRecord::Consultation(
                self.set_duplicate::<Consultation>(id, of, who.user, |b, a| {
                    check(
                        who,
                        AnyRecord::Consultation(b.clone()),
                        AnyRecord::Consultation(a.clone()),
                    )
                })?,
            ),
        };
        Ok(history(id, &record))
    }

    /// Possible duplicates on this device that `who` may mark: two logs by
    /// one author, of one day, in one village, with similar descriptions
    /// (or two consultations by one author, from one village, asked the
    /// same day, with similar problems), most alike first.
    pub fn duplicate_candidates_as(&self, who: &Principal) -> Result<Vec<DuplicatePair>> {
        let mut out = Vec::new();
        for (kind, sql) in [
            (RecordKind::ServiceLog, LOG_PAIRS),
            (RecordKind::Consultation, CONSULTATION_PAIRS),
        ] {
            let rows: Vec<PairRow> = {
                let conn = self.conn();
                let mut stmt = conn.prepare_cached(sql)?;
                stmt.query_map([], pair_row)?
                    .collect::<rusqlite::Result<_>>()?
            };
            for row in rows {
                let (_, a) = self.any_record(row.a)?;
                let (_, b) = self.any_record(row.b)?;
                if !scope::may_mark_duplicate(who, &a.placement())
                    || !scope::may_mark_duplicate(who, &b.placement())
                {
                    continue;
                }
                let (ta, tb) = (pair_text(&a), pair_text(&b));
                if !similar_texts(ta, tb) {
                    continue;
                }
                let similarity = text_similarity(ta, tb);
                let mut sides = [(row.a, row.sides[0].clone()), (row.b, row.sides[1].clone())];
                sides.sort_by_key(|(id, (created, _, _))| (*created, *id));
                let side = |(id, (created_at, summary, photo_count)): (
                    DocId,
                    (Timestamp, String, u32),
                )| {
                    DuplicateSide {
                        id,
                        created_at,
                        summary,
                        photo_count,
                    }
                };
                let [first, second] = sides;
                out.push(DuplicatePair {
                    kind,
                    author: row.author,
                    date: row.date,
                    village: row.village,
                    village_name: row.village_name.clone(),
                    first: side(first),
                    second: side(second),
                    similarity,
                });
            }
        }
        out.sort_by(|x, y| {
            y.similarity
                .total_cmp(&x.similarity)
                .then(y.date.cmp(&x.date))
        });
        Ok(out)
    }
}
