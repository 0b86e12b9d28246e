//! The device's figures: facts read from the projection tables (plain SQL
//! over indexed columns, no document loaded) and counted by the one engine in
//! [`crate::stats`], so the device and the server agree by construction.

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::params;

use super::{Result, Store, StoreError};
use crate::domain::{
    ActivityType, ConsultationId, DivisionLevel, ServiceLogId, TeamId, Timestamp, UserId,
    VillageCode,
};
use crate::stats::{
    ConsultationFact, FactStatus, ItemKind, LogFact, Period, Register, Report, ReportBuilder,
    StatsQuery, StatsRequest, WorkStats,
};

fn corrupt(what: &str, value: impl std::fmt::Display) -> StoreError {
    StoreError::Sqlite(rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("{what} {value}").into(),
    ))
}

fn blob<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r [u8]> {
    row.get_ref(i)?.as_blob().map_err(|e| corrupt("column", e))
}

/// Counted items by log id.
type ItemsOf = HashMap<[u8; 16], Vec<(ItemKind, String)>>;

/// Periods longer than this read their logs' items in one pass (see
/// [`Store::read_facts`]).
const ITEMS_IN_ONE_PASS_AFTER_DAYS: u32 = 92;

fn text<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r str> {
    row.get_ref(i)?.as_str().map_err(|e| corrupt("column", e))
}

/// A `YYYY-MM-DD` day as the projection stores it, read without chrono's
/// format parser (it runs once per log of a report); anything else is left
/// to that parser.
fn parse_day(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && let (Some(y), Some(m), Some(d)) = (digits(0..4), digits(5..7), digits(8..10))
    {
        return NaiveDate::from_ymd_opt(y as i32, m, d);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// One fact read from the projection tables.
pub(super) enum Fact<'a> {
    /// A log with its named items.
    Log(&'a LogFact, &'a [(ItemKind, String)]),
    /// A consultation.
    Consultation(&'a ConsultationFact),
}

fn id16<T>(bytes: &[u8], f: fn([u8; 16]) -> T) -> Result<T> {
    let arr: [u8; 16] = bytes
        .try_into()
        .map_err(|_| corrupt("id of", bytes.len()))?;
    Ok(f(arr))
}

impl Store {
    /// The figures for `q`: the total of [`Store::stats_report`].
    pub fn work_stats(&self, q: &StatsQuery) -> Result<WorkStats> {
        Ok(self.stats_report(&StatsRequest::from_query(q), None)?.total)
    }

    /// A report over the records on this device (a commissioner's own, or
    /// a team lead's team), counted by [`crate::stats::engine`]. Only rows
    /// that can match the request's period are read; the engine applies the
    /// rest of the rules.
    pub fn stats_report(
        &self,
        request: &StatsRequest,
        register: Option<&Register>,
    ) -> Result<Report> {
        let mut b = ReportBuilder::new(request, register);
        let f = &request.filter;
        self.read_facts(request.period, f.author, f.team, &mut |fact| match fact {
            Fact::Log(fact, items) => b.add_log(fact, items.iter().map(|(k, v)| (*k, v.as_str()))),
            Fact::Consultation(fact) => b.add_consultation(fact),
        })?;
        Ok(b.finish())
    }

    /// Feeds every fact that can belong to `period` (of `author`, of
    /// `team`, when set) to `on_fact`: each log once with all its items,
    /// then the consultations asked within the period's instants.
    /// Plain SQL over the projection tables; what counts is the engine's to
    /// decide.
    pub(super) fn read_facts(
        &self,
        period: Period,
        author: Option<UserId>,
        team: Option<TeamId>,
        on_fact: &mut dyn FnMut(Fact<'_>),
    ) -> Result<()> {
        let author = author.map(UserId::to_bytes);
        let team = team.map(TeamId::to_bytes);
        let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        let conn = self.conn();

        // Over a long period a lead's device reads most of its logs: their
        // counted items are then read in one pass over `record_items`'
        // (kind, value) index and looked up by log, which costs less than
        // a seek into `record_items` per log. Over a short one, the join's
        // seeks are fewer than the items of every record.
        let mut items_of: Option<ItemsOf> = None;
        if period.days() > ITEMS_IN_ONE_PASS_AFTER_DAYS {
            let mut map = ItemsOf::new();
            let mut stmt = conn.prepare_cached(
                "SELECT record, kind, value FROM record_items
                 WHERE kind IN ('technology', 'variety', 'enterprise', 'cooperative')",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let Ok(record) = <[u8; 16]>::try_from(blob(row, 0)?) else {
                    continue;
                };
                if let Some(kind) = ItemKind::from_code(text(row, 1)?) {
                    map.entry(record)
                        .or_default()
                        .push((kind, text(row, 2)?.to_owned()));
                }
            }
            items_of = Some(map);
        }

        // Logs with their items, one row per item (or one row without), in
        // log order: each log is fed once with all its items. By date then
        // id, the order of the covering index `service_logs_for_stats`: the
        // logs' rows themselves are never read. With the items read above,
        // there is no join (one row per log).
        let (item_columns, join) = if items_of.is_some() {
            ("NULL, NULL", "")
        } else {
            (
                "i.kind, i.value",
                "LEFT JOIN record_items i ON i.record = l.id",
            )
        };
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT l.id, l.author, l.team, l.date, l.village, l.activity, l.review_state,
                    l.farmers_served, l.trainees, l.photo_count, {item_columns},
                    l.duplicate_of IS NOT NULL
             FROM service_logs l
             {join}
             WHERE l.date BETWEEN ?1 AND ?2
               AND (?3 IS NULL OR l.author = ?3)
               AND (?4 IS NULL OR l.team = ?4)
             ORDER BY l.date, l.id"
        ))?;
        let mut rows = stmt.query(params![day(period.from), day(period.to), author, team])?;
        let mut current: Option<LogFact> = None;
        let mut items: Vec<(ItemKind, String)> = Vec::new();
        while let Some(row) = rows.next()? {
            let id = id16(blob(row, 0)?, ServiceLogId::from_bytes)?;
            if current.as_ref().is_none_or(|c| c.id != id) {
                if let Some(fact) = &current {
                    on_fact(Fact::Log(fact, &items));
                }
                items.clear();
                if let Some(map) = &mut items_of
                    && let Some(found) = map.remove(&id.to_bytes())
                {
                    items = found;
                }
                // Text columns are read in place (no copy per row).
                let date = text(row, 3)?;
                let activity = text(row, 5)?;
                let status = text(row, 6)?;
                let team = row
                    .get_ref(2)?
                    .as_blob_or_null()
                    .map_err(|e| corrupt("team", e))?;
                current = Some(LogFact {
                    id,
                    author: id16(blob(row, 1)?, UserId::from_bytes)?,
                    team: team.map(|t| id16(t, TeamId::from_bytes)).transpose()?,
                    village: VillageCode::from_int(row.get::<_, i64>(4)? as u64)
                        .map_err(|e| corrupt("village", e))?,
                    date: parse_day(date).ok_or_else(|| corrupt("date", date))?,
                    activity: ActivityType::from_code(activity)
                        .ok_or_else(|| corrupt("activity", activity))?,
                    // The derived review state (审核后已修改 included), not
                    // the stored status.
                    status: FactStatus::from_code(status)
                        .ok_or_else(|| corrupt("review_state", status))?,
                    duplicate: row.get(12)?,
                    farmers_served: row.get(7)?,
                    trainees: row.get(8)?,
                    photos: row.get(9)?,
                });
            }
            let kind = row
                .get_ref(10)?
                .as_str_or_null()
                .map_err(|e| corrupt("kind", e))?;
            if let Some(kind) = kind.and_then(ItemKind::from_code) {
                items.push((kind, text(row, 11)?.to_owned()));
            }
        }
        if let Some(fact) = &current {
            on_fact(Fact::Log(fact, &items));
        }
        drop(rows);

        // Consultations asked within the period's instants (China time).
        let (start, end) = period.instants();
        let mut stmt = conn.prepare_cached(
            "SELECT c.id, c.author, c.team, c.village, c.asked_at, c.first_answered_at,
                    c.duplicate_of IS NOT NULL
             FROM consultations c
             WHERE c.asked_at >= ?1 AND c.asked_at < ?2
               AND (?3 IS NULL OR c.author = ?3)
               AND (?4 IS NULL OR c.team = ?4)",
        )?;
        let mut rows = stmt.query(params![start.as_millis(), end.as_millis(), author, team])?;
        while let Some(row) = rows.next()? {
            let team: Option<Vec<u8>> = row.get(2)?;
            on_fact(Fact::Consultation(&ConsultationFact {
                id: id16(blob(row, 0)?, ConsultationId::from_bytes)?,
                author: id16(blob(row, 1)?, UserId::from_bytes)?,
                team: team
                    .as_deref()
                    .map(|t| id16(t, TeamId::from_bytes))
                    .transpose()?,
                village: VillageCode::from_int(row.get::<_, i64>(3)? as u64)
                    .map_err(|e| corrupt("village", e))?,
                asked_at: Timestamp::from_millis(row.get(4)?),
                first_answered_at: row.get::<_, Option<i64>>(5)?.map(Timestamp::from_millis),
                duplicate: row.get(6)?,
            }));
        }
        Ok(())
    }

    /// The register on this device (the loaded counties' townships and
    /// villages, and the names above them), for coverage on a lead's tablet.
    pub fn stats_register(&self) -> Result<Register> {
        let mut reg = Register::new();
        let conn = self.conn();
        // Townships and villages only of counties loaded whole, so that a
        // county's register total is never a part of it.
        for (level, sql) in [
            (
                DivisionLevel::Province,
                "SELECT code, name FROM div_provinces",
            ),
            (
                DivisionLevel::Prefecture,
                "SELECT code, name FROM div_prefectures",
            ),
            (DivisionLevel::County, "SELECT code, name FROM div_counties"),
            (
                DivisionLevel::Township,
                "SELECT code, name FROM div_townships
                 WHERE code / 1000 IN (SELECT county FROM register_counties)",
            ),
            (
                DivisionLevel::Village,
                "SELECT code, name FROM div_villages
                 WHERE code / 1000000 IN (SELECT county FROM register_counties)",
            ),
        ] {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                reg.insert(
                    level,
                    row.get::<_, i64>(0)? as u64,
                    row.get::<_, String>(1)?,
                );
            }
        }
        Ok(reg)
    }
}
