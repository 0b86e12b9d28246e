//! The statistics projection on SQLite (issue 13): writing a record's row
//! in the push's transaction, the backfill of documents stored before it,
//! and reading rows into the engine. What a row holds is
//! [`crate::store::projection`]'s; this file only has the SQL.

use std::fmt::Write as _;

use app_core::domain::{CountyCode, CountyTag};
use app_core::stats::{Area, Register, ReportBuilder};
use rusqlite::types::Value;
use rusqlite::{Connection, TransactionBehavior, params, params_from_iter};

use super::{Columns, Result, StoreError, all, id};
use crate::store::projection::{
    self, ConsultationColumns, Decoder, LogColumns, Selection, encode_items,
};
use crate::sync::RecordFacts;

fn corrupt(e: rusqlite::types::FromSqlError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Writes (or replaces) the projection row of one record.
pub(super) fn project(c: &Connection, facts: &RecordFacts) -> Result<()> {
    match facts {
        RecordFacts::Log(e) => {
            let f = &e.fact;
            c.prepare_cached(
                "INSERT INTO stat_logs(doc_id, author, team, village, day, activity, status,
                                       duplicate, farmers, trainees, photos, items)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                 ON CONFLICT(doc_id) DO UPDATE SET author = excluded.author,
                   team = excluded.team, village = excluded.village, day = excluded.day,
                   activity = excluded.activity, status = excluded.status,
                   duplicate = excluded.duplicate, farmers = excluded.farmers,
                   trainees = excluded.trainees, photos = excluded.photos,
                   items = excluded.items",
            )?
            .execute(params![
                id(f.id.as_uuid()),
                id(f.author.as_uuid()),
                f.team.as_ref().map(|t| id(t.as_uuid())),
                f.village.as_int() as i64,
                projection::day_of(f.date),
                projection::activity_code(f.activity),
                projection::status_code(f.status),
                f.duplicate,
                i64::from(f.farmers_served),
                f.trainees.map(i64::from),
                i64::from(f.photos),
                encode_items(e.items()),
            ])?;
        }
        RecordFacts::Consultation(f) => {
            c.prepare_cached(
                "INSERT INTO stat_consultations(doc_id, author, team, village, asked_at,
                                                answered_at, duplicate)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(doc_id) DO UPDATE SET author = excluded.author,
                   team = excluded.team, village = excluded.village,
                   asked_at = excluded.asked_at, answered_at = excluded.answered_at,
                   duplicate = excluded.duplicate",
            )?
            .execute(params![
                id(f.id.as_uuid()),
                id(f.author.as_uuid()),
                f.team.as_ref().map(|t| id(t.as_uuid())),
                f.village.as_int() as i64,
                f.asked_at.as_millis(),
                f.first_answered_at.map(|t| t.as_millis()),
                f.duplicate,
            ])?;
        }
    }
    Ok(())
}

/// Projects the documents stored before the projection existed, if the
/// migration left that to do, in one transaction. Runs when the store
/// opens, before anything else can write.
pub(super) fn backfill(conn: &mut Connection) -> Result<()> {
    let pending: bool = conn
        .prepare("SELECT 1 FROM stat_backfill LIMIT 1")?
        .exists([])?;
    if !pending {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut n = 0u64;
    {
        let mut stmt = tx.prepare("SELECT doc_id, snapshot FROM documents")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let doc = app_core::domain::DocId::from_uuid(r.uuid(0)?);
            let snapshot = r.get_ref(1)?.as_blob().map_err(corrupt)?;
            if let Some(facts) = projection::facts_of_snapshot(doc, snapshot) {
                project(&tx, &facts)?;
                n += 1;
            }
        }
    }
    tx.execute("DELETE FROM stat_backfill", [])?;
    tx.commit()?;
    tracing::info!(records = n, "statistics projection backfilled");
    Ok(())
}

/// The `WHERE` conditions of a selection after its time column's (whose
/// bounds are `?1` and `?2`): the place ranges inline (integers), author
/// and team as the next parameters when set; and those parameters' values.
fn conditions(sel: &Selection) -> (String, Vec<Value>) {
    let mut values = Vec::new();
    let mut sql = String::new();
    if let Some(ranges) = &sel.villages {
        sql.push_str(" AND (");
        for (i, (lo, hi)) in ranges.iter().enumerate() {
            let or = if i == 0 { "" } else { " OR " };
            let _ = write!(sql, "{or}village BETWEEN {lo} AND {hi}");
        }
        sql.push(')');
    }
    for (column, uuid) in [("author", &sel.author), ("team", &sel.team)] {
        if let Some(uuid) = uuid {
            values.push(Value::Blob(id(uuid).to_vec()));
            let _ = write!(sql, " AND {column} = ?{}", values.len() + 2);
        }
    }
    (sql, values)
}

/// The parameters of a selection's query: its time bounds, then `more`.
fn bound(lo: i64, hi: i64, more: &[Value]) -> Vec<Value> {
    let mut v = vec![Value::Integer(lo), Value::Integer(hi)];
    v.extend(more.iter().cloned());
    v
}

/// Feeds every projected row `sel` selects to `b`.
pub(super) fn feed(c: &Connection, sel: &Selection, b: &mut ReportBuilder<'_>) -> Result<()> {
    if sel.is_empty() {
        return Ok(());
    }
    let (more, values) = conditions(sel);
    let mut decoder = Decoder::default();
    let mut stmt = c.prepare_cached(&format!(
        "SELECT doc_id, author, team, village, day, activity, status, duplicate, farmers,
                trainees, photos, items
         FROM stat_logs WHERE day BETWEEN ?1 AND ?2{more}"
    ))?;
    let mut rows = stmt.query(params_from_iter(bound(
        sel.days.0.into(),
        sel.days.1.into(),
        &values,
    )))?;
    while let Some(r) = rows.next()? {
        let fact = LogColumns {
            id: r.uuid(0)?,
            author: r.uuid(1)?,
            team: r.opt_uuid(2)?,
            village: r.int(3)?,
            day: r.int(4)?,
            activity: r.int(5)?,
            status: r.int(6)?,
            duplicate: r.flag(7)?,
            farmers: r.int(8)?,
            trainees: r.opt_int(9)?,
            photos: r.int(10)?,
        }
        .fact(&mut decoder)?;
        let items = projection::items(r.get_ref(11)?.as_blob().map_err(corrupt)?)?;
        b.add_log(&fact, items);
    }
    drop(rows);
    let mut stmt = c.prepare_cached(&format!(
        "SELECT doc_id, author, team, village, asked_at, answered_at, duplicate
         FROM stat_consultations WHERE asked_at >= ?1 AND asked_at < ?2{more}"
    ))?;
    let mut rows = stmt.query(params_from_iter(bound(
        sel.instants.0,
        sel.instants.1,
        &values,
    )))?;
    while let Some(r) = rows.next()? {
        let fact = ConsultationColumns {
            id: r.uuid(0)?,
            author: r.uuid(1)?,
            team: r.opt_uuid(2)?,
            village: r.int(3)?,
            asked_at: r.int(4)?,
            answered_at: r.opt_int(5)?,
            duplicate: r.flag(6)?,
        }
        .fact(&mut decoder)?;
        b.add_consultation(&fact);
    }
    Ok(())
}

/// The register of `area` from the divisions table.
pub(super) fn register(c: &Connection, area: Option<Area>) -> Result<Register> {
    let mut reg = Register::new();
    let mut stmt = c.prepare_cached(
        "SELECT code, name FROM divisions WHERE level = ?1 AND code BETWEEN ?2 AND ?3",
    )?;
    for (level, lo, hi) in projection::register_ranges(area) {
        let mut rows = stmt.query(params![level.code(), lo, hi])?;
        while let Some(r) = rows.next()? {
            reg.insert(level, r.count(0)?, r.text(1)?);
        }
    }
    Ok(reg)
}

/// The counties carrying every one of `tags`.
pub(super) fn tagged(c: &Connection, tags: &[CountyTag]) -> Result<Vec<CountyCode>> {
    let mut out: Option<Vec<CountyCode>> = None;
    for tag in tags {
        let these = all(
            c,
            "SELECT county FROM county_tags WHERE tag = ?1 ORDER BY county",
            [tag.code()],
            |r| r.county(0),
        )?;
        out = Some(match out {
            None => these,
            Some(before) => before.into_iter().filter(|c| these.contains(c)).collect(),
        });
    }
    Ok(out.unwrap_or_default())
}

/// Projected logs and consultations.
pub(super) fn counts(c: &Connection) -> Result<(u64, u64)> {
    let n = |sql: &str| -> Result<u64> { Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
    Ok((
        n("SELECT count(*) FROM stat_logs")?,
        n("SELECT count(*) FROM stat_consultations")?,
    ))
}
