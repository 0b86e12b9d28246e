//! Projections: one plain, indexed row per record, written in the same
//! transaction as its document, so that lists, searches and statistics never
//! load Automerge.
//!
//! Invariant: a readable document has exactly one row in its kind's table
//! (and its items in `record_items`) matching its current state.

use chrono::NaiveDate;
use rusqlite::{Row, Transaction, params};

use super::{Result, Store, StoreError};
use crate::api::{
    ConsultationQuery, ConsultationSummary, LogQuery, LogSummary, ReviewQueue, ReviewQueueQuery,
};
use crate::doc::RecordDoc;
use crate::domain::{
    ActivityType, Consultation, ConsultationId, ConsultationStatus, DocId, LogStatus, PhotoMeta,
    RecordKind, ReviewState, ServiceLog, ServiceLogId, TeamId, Timestamp, UserId, VillageCode,
};

const SUMMARY_CHARS: usize = 80;

/// What the projection tables hold: 1, schema-1 rows; 2, the review state,
/// the last decision and duplicate marks; 3, the photos each record refers
/// to (`record_photos`). A store whose rows an older version wrote
/// re-projects every document when it opens.
pub const PROJECTION_VERSION: u32 = 3;
/// Meta key of the projection version.
const META_PROJECTION: &str = "projection_version";

/// Re-projects every document when the rows were written by an older
/// version of the projection (after a migration added columns), in one
/// transaction.
pub(super) fn refresh(conn: &mut rusqlite::Connection) -> Result<()> {
    use rusqlite::OptionalExtension;
    let current: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [META_PROJECTION],
            |r| r.get(0),
        )
        .optional()?;
    if current.as_deref() == Some(&PROJECTION_VERSION.to_string()) {
        return Ok(());
    }
    let tx = conn.transaction()?;
    let ids: Vec<Vec<u8>> = tx
        .prepare("SELECT doc_id FROM documents")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        let id = DocId::from_slice(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let Some((doc, _)) = super::documents::load(&tx, id)? {
            reproject(&tx, id, &doc)?;
        }
    }
    tx.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![META_PROJECTION, PROJECTION_VERSION.to_string()],
    )?;
    tx.commit()?;
    Ok(())
}

fn summary(text: &str) -> String {
    let mut s: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > SUMMARY_CHARS {
        s = s.chars().take(SUMMARY_CHARS).collect::<String>() + "…";
    }
    s
}

/// Rewrites the projection of document `id` from `doc`.
pub(super) fn reproject(tx: &Transaction<'_>, id: DocId, doc: &RecordDoc) -> Result<()> {
    let has_conflicts = !doc.conflicts().is_empty();
    let result = match doc.kind() {
        Ok(RecordKind::ServiceLog) => {
            doc.read::<ServiceLog>()
                .map_err(StoreError::from)
                .and_then(|log| {
                    project_service_log(tx, &log, has_conflicts)?;
                    attach_photos(tx, id, &log.photos)
                })
        }
        Ok(RecordKind::Consultation) => doc
            .read::<Consultation>()
            .map_err(StoreError::from)
            .and_then(|c| {
                project_consultation(tx, &c, has_conflicts)?;
                attach_photos(tx, id, &c.photos)
            }),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => {
            tx.execute(
                "UPDATE documents SET readable = 1 WHERE doc_id = ?1",
                [id.to_bytes()],
            )?;
            Ok(())
        }
        Err(StoreError::Doc(e)) => {
            // Keep the document (nothing received is thrown away), but take it
            // out of lists and statistics until a later change repairs it.
            tracing::warn!(%id, error = %e, "document does not read as its kind");
            tx.execute("DELETE FROM service_logs WHERE id = ?1", [id.to_bytes()])?;
            tx.execute("DELETE FROM consultations WHERE id = ?1", [id.to_bytes()])?;
            tx.execute(
                "DELETE FROM record_items WHERE record = ?1",
                [id.to_bytes()],
            )?;
            tx.execute(
                "DELETE FROM record_photos WHERE record = ?1",
                [id.to_bytes()],
            )?;
            tx.execute(
                "UPDATE documents SET readable = 0 WHERE doc_id = ?1",
                [id.to_bytes()],
            )?;
            Ok(())
        }
        Err(other) => Err(other),
    }
}

/// Marks the photos a saved record refers to (and their thumbnails) as
/// ready to upload, and projects which photos the record refers to.
fn attach_photos(tx: &Transaction<'_>, record: DocId, photos: &[PhotoMeta]) -> Result<()> {
    let mut stmt =
        tx.prepare_cached("UPDATE photos SET attached = 1 WHERE hash = ?1 AND attached = 0")?;
    for p in photos {
        for hash in [&p.hash, &p.thumb] {
            stmt.execute([hash.as_bytes().as_slice()])?;
        }
    }
    tx.execute(
        "DELETE FROM record_photos WHERE record = ?1",
        [record.to_bytes()],
    )?;
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO record_photos(record, hash, thumb) VALUES (?1, ?2, ?3)",
    )?;
    for p in photos {
        stmt.execute(params![
            record.to_bytes(),
            p.hash.as_bytes().as_slice(),
            p.thumb.as_bytes().as_slice()
        ])?;
    }
    Ok(())
}

fn replace_items<'a>(
    tx: &Transaction<'_>,
    record: DocId,
    items: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<()> {
    tx.execute(
        "DELETE FROM record_items WHERE record = ?1",
        [record.to_bytes()],
    )?;
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO record_items(record, kind, value) VALUES (?1, ?2, ?3)",
    )?;
    for (kind, value) in items {
        stmt.execute(params![record.to_bytes(), kind, value])?;
    }
    Ok(())
}

pub(super) fn project_service_log(
    tx: &Transaction<'_>,
    log: &ServiceLog,
    has_conflicts: bool,
) -> Result<()> {
    let mut search = format!(
        "{} {} {}",
        log.industry, log.description, log.review.comment
    );
    for p in &log.served {
        search.push(' ');
        search.push_str(&p.name);
    }
    for t in log.technologies.iter().chain(&log.varieties) {
        search.push(' ');
        search.push_str(t);
    }
    let last = log.last_decision();
    tx.prepare_cached(
        "INSERT INTO service_logs(id, author, team, date, start_time, end_time, village, township,
             county, lat, lon, activity, industry, farmers_served, trainees, photo_count, status,
             reviewed_by, reviewed_at, has_conflicts, created_at, summary, search, review_state,
             duplicate_of, last_decision_at, last_decision_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)
         ON CONFLICT(id) DO UPDATE SET author = excluded.author, team = excluded.team,
             date = excluded.date, start_time = excluded.start_time, end_time = excluded.end_time,
             village = excluded.village, township = excluded.township, county = excluded.county,
             lat = excluded.lat, lon = excluded.lon, activity = excluded.activity,
             industry = excluded.industry, farmers_served = excluded.farmers_served,
             trainees = excluded.trainees, photo_count = excluded.photo_count,
             status = excluded.status, reviewed_by = excluded.reviewed_by,
             reviewed_at = excluded.reviewed_at, has_conflicts = excluded.has_conflicts,
             created_at = excluded.created_at, summary = excluded.summary, search = excluded.search,
             review_state = excluded.review_state, duplicate_of = excluded.duplicate_of,
             last_decision_at = excluded.last_decision_at,
             last_decision_by = excluded.last_decision_by",
    )?
    .execute(params![
        log.id.to_bytes(),
        log.author.to_bytes(),
        log.team.map(TeamId::to_bytes),
        log.date.format("%Y-%m-%d").to_string(),
        log.start_time.map(|t| t.format("%H:%M").to_string()),
        log.end_time.map(|t| t.format("%H:%M").to_string()),
        log.village.as_int() as i64,
        log.village.township().as_int() as i64,
        log.village.county().as_int() as i64,
        log.location.map(|l| l.lat),
        log.location.map(|l| l.lon),
        log.activity.code(),
        log.industry,
        log.farmers_served,
        log.trainees,
        log.photos.len() as i64,
        log.status.code(),
        log.review.by.map(UserId::to_bytes),
        log.review.at.map(Timestamp::as_millis),
        has_conflicts,
        log.created_at.as_millis(),
        summary(&log.description),
        search.to_lowercase(),
        log.review_state().code(),
        log.duplicate.map(|d| d.of.to_bytes()),
        last.map(|d| d.at.as_millis()),
        last.map(|d| d.by.to_bytes()),
    ])?;
    let items = log
        .technologies
        .iter()
        .map(|t| ("technology", t.as_str()))
        .chain(log.varieties.iter().map(|v| ("variety", v.as_str())))
        .chain(log.served.iter().map(|p| (p.kind.code(), p.name.as_str())));
    replace_items(tx, log.id.into(), items)
}

pub(super) fn project_consultation(
    tx: &Transaction<'_>,
    c: &Consultation,
    has_conflicts: bool,
) -> Result<()> {
    let mut search = format!("{} {} {} {}", c.farmer.name, c.subject, c.problem, c.advice);
    for f in &c.follow_ups {
        search.push(' ');
        search.push_str(&f.note);
    }
    tx.prepare_cached(
        "INSERT INTO consultations(id, author, team, farmer_name, farmer_phone, village, township,
             county, subject, channel, asked_at, first_answered_at, status, follow_up_count,
             last_follow_up_at, photo_count, has_conflicts, created_at, summary, search,
             duplicate_of)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19, ?20, ?21)
         ON CONFLICT(id) DO UPDATE SET author = excluded.author, team = excluded.team,
             farmer_name = excluded.farmer_name, farmer_phone = excluded.farmer_phone,
             village = excluded.village, township = excluded.township, county = excluded.county,
             subject = excluded.subject, channel = excluded.channel, asked_at = excluded.asked_at,
             first_answered_at = excluded.first_answered_at, status = excluded.status,
             follow_up_count = excluded.follow_up_count,
             last_follow_up_at = excluded.last_follow_up_at, photo_count = excluded.photo_count,
             has_conflicts = excluded.has_conflicts, created_at = excluded.created_at,
             summary = excluded.summary, search = excluded.search,
             duplicate_of = excluded.duplicate_of",
    )?
    .execute(params![
        c.id.to_bytes(),
        c.author.to_bytes(),
        c.team.map(TeamId::to_bytes),
        c.farmer.name,
        c.farmer.phone,
        c.farmer.village.as_int() as i64,
        c.farmer.village.township().as_int() as i64,
        c.farmer.village.county().as_int() as i64,
        c.subject,
        c.channel.code(),
        c.asked_at.as_millis(),
        c.first_answered_at.map(Timestamp::as_millis),
        c.status.code(),
        c.follow_ups.len() as i64,
        c.follow_ups.iter().map(|f| f.at.as_millis()).max(),
        c.photos.len() as i64,
        has_conflicts,
        c.created_at.as_millis(),
        summary(&c.problem),
        search.to_lowercase(),
        c.duplicate.map(|d| d.of.to_bytes()),
    ])?;
    replace_items(
        tx,
        c.id.into(),
        std::iter::once(("subject", c.subject.as_str())),
    )
}

fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn page(limit: Option<u32>, offset: Option<u32>) -> (i64, i64) {
    (
        i64::from(limit.unwrap_or(50).clamp(1, 500)),
        i64::from(offset.unwrap_or(0)),
    )
}

fn corrupt<E: std::fmt::Display>(e: E) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.to_string().into())
}

fn blob_id<T>(row: &Row<'_>, idx: usize, f: fn([u8; 16]) -> T) -> rusqlite::Result<T> {
    let bytes: Vec<u8> = row.get(idx)?;
    let arr: [u8; 16] = bytes.as_slice().try_into().map_err(corrupt)?;
    Ok(f(arr))
}

fn doc_id_opt(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DocId>> {
    let bytes: Option<Vec<u8>> = row.get(idx)?;
    bytes
        .map(|b| DocId::from_slice(&b).map_err(corrupt))
        .transpose()
}

/// The columns [`log_summary`] reads, for `FROM service_logs l LEFT JOIN
/// div_villages v … LEFT JOIN div_townships t …`.
pub(super) const LOG_SUMMARY_COLUMNS: &str = "l.id, l.author, l.date, l.start_time, l.village,
    v.name, t.name, l.activity, l.industry, l.farmers_served, l.trainees, l.photo_count, l.status,
    l.has_conflicts, l.summary, l.review_state, l.duplicate_of";

pub(super) fn log_summary(row: &Row<'_>) -> rusqlite::Result<LogSummary> {
    let date: String = row.get(2)?;
    let activity: String = row.get(7)?;
    let status: String = row.get(12)?;
    let state: String = row.get(15)?;
    Ok(LogSummary {
        id: blob_id(row, 0, ServiceLogId::from_bytes)?,
        author: blob_id(row, 1, UserId::from_bytes)?,
        date: NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(corrupt)?,
        start_time: row.get(3)?,
        village: VillageCode::from_int(row.get::<_, i64>(4)? as u64).map_err(corrupt)?,
        village_name: row.get(5)?,
        township_name: row.get(6)?,
        activity: ActivityType::from_code(&activity).ok_or_else(|| corrupt(&activity))?,
        industry: row.get(8)?,
        farmers_served: row.get(9)?,
        trainees: row.get(10)?,
        photo_count: row.get(11)?,
        status: LogStatus::from_code(&status).ok_or_else(|| corrupt(&status))?,
        review_state: ReviewState::from_code(&state).ok_or_else(|| corrupt(&state))?,
        duplicate_of: doc_id_opt(row, 16)?,
        has_conflicts: row.get(13)?,
        summary: row.get(14)?,
    })
}

fn consultation_summary(row: &Row<'_>) -> rusqlite::Result<ConsultationSummary> {
    let status: String = row.get(8)?;
    Ok(ConsultationSummary {
        id: blob_id(row, 0, ConsultationId::from_bytes)?,
        author: blob_id(row, 1, UserId::from_bytes)?,
        farmer_name: row.get(2)?,
        village: VillageCode::from_int(row.get::<_, i64>(3)? as u64).map_err(corrupt)?,
        village_name: row.get(4)?,
        subject: row.get(5)?,
        asked_at: Timestamp::from_millis(row.get(6)?),
        first_answered_at: row.get::<_, Option<i64>>(7)?.map(Timestamp::from_millis),
        status: ConsultationStatus::from_code(&status).ok_or_else(|| corrupt(&status))?,
        follow_up_count: row.get(9)?,
        duplicate_of: doc_id_opt(row, 12)?,
        has_conflicts: row.get(10)?,
        summary: row.get(11)?,
    })
}

impl Store {
    /// Lists service logs, newest first.
    pub fn list_service_logs(&self, q: &LogQuery) -> Result<Vec<LogSummary>> {
        let (limit, offset) = page(q.limit, q.offset);
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {LOG_SUMMARY_COLUMNS}
             FROM service_logs l
             LEFT JOIN div_villages v ON v.code = l.village
             LEFT JOIN div_townships t ON t.code = l.township
             WHERE (?1 IS NULL OR l.author = ?1)
               AND (?2 IS NULL OR l.team = ?2)
               AND (?3 IS NULL OR l.status = ?3)
               AND (?4 IS NULL OR l.date >= ?4)
               AND (?5 IS NULL OR l.date <= ?5)
               AND (?6 IS NULL OR l.search LIKE ?6 ESCAPE '\\'
                    OR v.name LIKE ?6 ESCAPE '\\' OR t.name LIKE ?6 ESCAPE '\\')
               AND (?9 IS NULL OR l.township = ?9)
             ORDER BY l.date DESC, l.start_time DESC, l.id DESC
             LIMIT ?7 OFFSET ?8"
        ))?;
        let rows = stmt.query_map(
            params![
                q.author.map(UserId::to_bytes),
                q.team.map(TeamId::to_bytes),
                q.status.map(LogStatus::code),
                q.from.map(|d| d.format("%Y-%m-%d").to_string()),
                q.to.map(|d| d.format("%Y-%m-%d").to_string()),
                q.text
                    .as_deref()
                    .filter(|t| !t.trim().is_empty())
                    .map(like_pattern),
                limit,
                offset,
                q.township.map(|t| t.as_int() as i64)
            ],
            log_summary,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Lists consultations, most recently asked first.
    pub fn list_consultations(&self, q: &ConsultationQuery) -> Result<Vec<ConsultationSummary>> {
        let (limit, offset) = page(q.limit, q.offset);
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT c.id, c.author, c.farmer_name, c.village, v.name, c.subject, c.asked_at,
                    c.first_answered_at, c.status, c.follow_up_count, c.has_conflicts, c.summary,
                    c.duplicate_of
             FROM consultations c
             LEFT JOIN div_villages v ON v.code = c.village
             WHERE (?1 IS NULL OR c.author = ?1)
               AND (?2 IS NULL OR c.team = ?2)
               AND (?3 IS NULL OR c.status = ?3)
               AND (?4 IS NULL OR c.search LIKE ?4 ESCAPE '\\' OR v.name LIKE ?4 ESCAPE '\\')
             ORDER BY c.asked_at DESC, c.id DESC
             LIMIT ?5 OFFSET ?6",
        )?;
        let rows = stmt.query_map(
            params![
                q.author.map(UserId::to_bytes),
                q.team.map(TeamId::to_bytes),
                q.status.map(ConsultationStatus::code),
                q.text
                    .as_deref()
                    .filter(|t| !t.trim().is_empty())
                    .map(like_pattern),
                limit,
                offset
            ],
            consultation_summary,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Store {
    /// The review queue of `team`, `lead` excluded: logs handed in or changed
    /// since approval, not marked as duplicates, newest first, with the
    /// number waiting under the same filters.
    pub fn review_queue(
        &self,
        team: TeamId,
        lead: UserId,
        q: &ReviewQueueQuery,
    ) -> Result<ReviewQueue> {
        let (limit, offset) = page(q.limit, q.offset);
        let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        let filters = "l.team = ?1 AND l.author <> ?2
               AND l.review_state IN ('submitted', 'changed_since_approval')
               AND l.duplicate_of IS NULL
               AND (?3 IS NULL OR l.author = ?3)
               AND (?4 IS NULL OR l.township = ?4)
               AND (?5 IS NULL OR l.date >= ?5)
               AND (?6 IS NULL OR l.date <= ?6)";
        let (team, lead) = (team.to_bytes(), lead.to_bytes());
        let member = q.member.map(UserId::to_bytes);
        let township = q.township.map(|t| t.as_int() as i64);
        let (from, to) = (q.from.map(day), q.to.map(day));
        let conn = self.conn();
        let total: i64 = conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM service_logs l WHERE {filters}"
            ))?
            .query_row(params![team, lead, member, township, from, to], |r| {
                r.get(0)
            })?;
        // The page's ids first, from the covering index
        // `service_logs_for_review` alone (a sort of small entries), then
        // only those rows with their names.
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {LOG_SUMMARY_COLUMNS}
             FROM service_logs l
             LEFT JOIN div_villages v ON v.code = l.village
             LEFT JOIN div_townships t ON t.code = l.township
             WHERE l.id IN (
                 SELECT l.id FROM service_logs l
                 WHERE {filters}
                 ORDER BY l.date DESC, l.start_time DESC, l.id DESC
                 LIMIT ?7 OFFSET ?8)
             ORDER BY l.date DESC, l.start_time DESC, l.id DESC"
        ))?;
        let logs = stmt
            .query_map(
                params![team, lead, member, township, from, to, limit, offset],
                log_summary,
            )?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ReviewQueue {
            total: total as u64,
            logs,
        })
    }
}
