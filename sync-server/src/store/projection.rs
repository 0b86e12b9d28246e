//! The statistics projection (统计投影), written once for both backends: how
//! a record's facts ([`RecordFacts`]) become column values and back, which
//! rows a report selects ([`Selection`]), and the facts of a stored document
//! for the backfill. No SQL here; `sqlite_stats.rs` and `postgres_stats.rs`
//! hold each backend's.
//!
//! The projection holds one row per record the server accepted
//! (`stat_logs`, `stat_consultations`), with only the fields the figures of
//! docs/statistics.md read, written in the push's transaction beside the
//! document. The figures themselves are never computed in SQL: a backend
//! selects rows by period, place, author and team, and feeds them to
//! `app_core::stats::ReportBuilder`, which applies every rule (and the
//! filter again). So the SQL may select more than a report needs, never
//! less.
//!
//! Columns: integer codes for the activity, the status and the kind of a
//! named item (the tables below, never reordered); the work date as days
//! from the common era (`NaiveDate::num_days_from_ce`); a log's named items
//! (technologies, varieties, enterprises, cooperatives, as written) in one
//! binary column ([`encode_items`]), so that a log is one row and a report
//! reads no join.

use app_core::doc::RecordDoc;
use app_core::domain::{
    ActivityType, ConsultationId, DivisionLevel, DocId, ServiceLogId, TeamId, Timestamp, UserId,
    VillageCode,
};
use app_core::stats::{Area, ConsultationFact, FactStatus, ItemKind, LogFact, StatsRequest};
use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::{Result, StoreError};
use crate::sync::{RecordFacts, hydrate, record_facts};

/// The integer code of an activity in `stat_logs.activity`.
pub fn activity_code(a: ActivityType) -> i16 {
    match a {
        ActivityType::TechnicalGuidance => 1,
        ActivityType::Training => 2,
        ActivityType::Demonstration => 3,
        ActivityType::Consultation => 4,
        ActivityType::Entrepreneurship => 5,
        ActivityType::Project => 6,
        ActivityType::Other => 7,
    }
}

/// The activity of an integer code.
pub fn activity_of(code: i64) -> Result<ActivityType> {
    ActivityType::ALL
        .iter()
        .copied()
        .find(|a| i64::from(activity_code(*a)) == code)
        .ok_or_else(|| StoreError::Corrupt(format!("activity code {code}")))
}

/// The integer code of a status in `stat_logs.status`.
pub fn status_code(s: FactStatus) -> i16 {
    match s {
        FactStatus::Draft => 1,
        FactStatus::Submitted => 2,
        FactStatus::Approved => 3,
        FactStatus::Returned => 4,
        FactStatus::ChangedSinceApproval => 5,
    }
}

/// The status of an integer code.
pub fn status_of(code: i64) -> Result<FactStatus> {
    FactStatus::ALL
        .into_iter()
        .find(|s| i64::from(status_code(*s)) == code)
        .ok_or_else(|| StoreError::Corrupt(format!("status code {code}")))
}

fn kind_code(k: ItemKind) -> u8 {
    match k {
        ItemKind::Technology => 1,
        ItemKind::Variety => 2,
        ItemKind::Enterprise => 3,
        ItemKind::Cooperative => 4,
    }
}

fn kind_of(code: u8) -> Result<ItemKind> {
    ItemKind::ALL
        .into_iter()
        .find(|k| kind_code(*k) == code)
        .ok_or_else(|| StoreError::Corrupt(format!("item kind {code}")))
}

/// A log's named items as one column: for each item its kind's code (one
/// byte), the length of its name in bytes (LEB128), the name (UTF-8), in
/// the log's order. No items: no bytes.
pub fn encode_items<'a>(items: impl IntoIterator<Item = (ItemKind, &'a str)>) -> Vec<u8> {
    let mut out = Vec::new();
    for (kind, name) in items {
        out.push(kind_code(kind));
        let mut n = name.len();
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
        out.extend_from_slice(name.as_bytes());
    }
    out
}

/// A named item as the engine takes it: its kind and its name's UTF-8
/// bytes, which the engine decodes once per distinct spelling.
type Item<'a> = (ItemKind, &'a [u8]);

/// The first item of an [`encode_items`] column and the rest of it, or
/// `None` at its end.
fn next_item(bytes: &[u8]) -> Result<Option<(Item<'_>, &[u8])>> {
    let bad = || StoreError::Corrupt("stat_logs.items".into());
    let Some((&kind, mut rest)) = bytes.split_first() else {
        return Ok(None);
    };
    let kind = kind_of(kind)?;
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let (&b, r) = rest.split_first().ok_or_else(bad)?;
        rest = r;
        if shift > 28 {
            return Err(bad());
        }
        len |= usize::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    if rest.len() < len {
        return Err(bad());
    }
    let (name, rest) = rest.split_at(len);
    Ok(Some(((kind, name), rest)))
}

/// The items of an [`encode_items`] column, checked whole first, then
/// read lazily (borrowing from `bytes`, allocating nothing).
pub fn items(bytes: &[u8]) -> Result<Items<'_>> {
    let mut rest = bytes;
    while let Some((_, r)) = next_item(rest)? {
        rest = r;
    }
    Ok(Items { rest: bytes })
}

/// The items of a checked column ([`items`]).
#[derive(Debug, Clone)]
pub struct Items<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Items<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        // Checked by `items`: never an error here.
        let (item, rest) = next_item(self.rest).ok().flatten()?;
        self.rest = rest;
        Some(item)
    }
}

/// A work date as the `day` column holds it.
pub fn day_of(date: NaiveDate) -> i32 {
    date.num_days_from_ce()
}

/// The work date of a `day` column.
pub fn date_of(day: i64) -> Result<NaiveDate> {
    i32::try_from(day)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .ok_or_else(|| StoreError::Corrupt(format!("day {day}")))
}

/// A village of a `village` column.
pub fn village_of(code: i64) -> Result<VillageCode> {
    u64::try_from(code)
        .ok()
        .and_then(|c| VillageCode::from_int(c).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("village {code}")))
}

/// A count column (farmers, trainees, photos) as the fact holds it.
pub fn count_of(n: i64) -> Result<u32> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("count {n}")))
}

/// What rows need decoded once per report, not once per row: a village
/// code is checked (and its text form parsed) the first time it is seen.
#[derive(Debug, Default)]
pub struct Decoder {
    villages: std::collections::HashMap<i64, VillageCode>,
}

impl Decoder {
    fn village(&mut self, code: i64) -> Result<VillageCode> {
        if let Some(v) = self.villages.get(&code) {
            return Ok(*v);
        }
        let v = village_of(code)?;
        self.villages.insert(code, v);
        Ok(v)
    }
}

/// A log's row, column by column, as a backend decoded it.
#[derive(Debug, Clone, Copy)]
pub struct LogColumns {
    /// `doc_id`.
    pub id: Uuid,
    /// `author`.
    pub author: Uuid,
    /// `team`.
    pub team: Option<Uuid>,
    /// `village`.
    pub village: i64,
    /// `day`.
    pub day: i64,
    /// `activity`.
    pub activity: i64,
    /// `status`.
    pub status: i64,
    /// `duplicate`.
    pub duplicate: bool,
    /// `farmers`.
    pub farmers: i64,
    /// `trainees`.
    pub trainees: Option<i64>,
    /// `photos`.
    pub photos: i64,
}

impl LogColumns {
    /// The log's fact.
    pub fn fact(&self, d: &mut Decoder) -> Result<LogFact> {
        Ok(LogFact {
            id: ServiceLogId::from_uuid(self.id),
            author: UserId::from_uuid(self.author),
            team: self.team.map(TeamId::from_uuid),
            village: d.village(self.village)?,
            date: date_of(self.day)?,
            activity: activity_of(self.activity)?,
            status: status_of(self.status)?,
            duplicate: self.duplicate,
            farmers_served: count_of(self.farmers)?,
            trainees: self.trainees.map(count_of).transpose()?,
            photos: count_of(self.photos)?,
        })
    }
}

/// A consultation's row, column by column.
#[derive(Debug, Clone, Copy)]
pub struct ConsultationColumns {
    /// `doc_id`.
    pub id: Uuid,
    /// `author`.
    pub author: Uuid,
    /// `team`.
    pub team: Option<Uuid>,
    /// `village`.
    pub village: i64,
    /// `asked_at`, milliseconds.
    pub asked_at: i64,
    /// `answered_at`, milliseconds.
    pub answered_at: Option<i64>,
    /// `duplicate`.
    pub duplicate: bool,
}

impl ConsultationColumns {
    /// The consultation's fact.
    pub fn fact(&self, d: &mut Decoder) -> Result<ConsultationFact> {
        Ok(ConsultationFact {
            id: ConsultationId::from_uuid(self.id),
            author: UserId::from_uuid(self.author),
            team: self.team.map(TeamId::from_uuid),
            village: d.village(self.village)?,
            asked_at: Timestamp::from_millis(self.asked_at),
            first_answered_at: self.answered_at.map(Timestamp::from_millis),
            duplicate: self.duplicate,
        })
    }
}

/// The document a record's facts belong to.
pub fn doc_of(facts: &RecordFacts) -> DocId {
    match facts {
        RecordFacts::Log(e) => e.fact.id.into(),
        RecordFacts::Consultation(c) => c.id.into(),
    }
}

/// Which projected rows a report reads: a superset of what it counts (the
/// engine applies the request's rules to every row it is given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Logs whose `day` is in this range, inclusive.
    pub days: (i32, i32),
    /// Consultations whose `asked_at` is in `[start, end)`, milliseconds.
    pub instants: (i64, i64),
    /// Only records whose `village` lies in one of these inclusive ranges
    /// (an area, or the counties a tag admits); all when `None`.
    pub villages: Option<Vec<(i64, i64)>>,
    /// Only this author's records.
    pub author: Option<Uuid>,
    /// Only records made for this team.
    pub team: Option<Uuid>,
}

impl Selection {
    /// The rows `request` can count. An empty period selects nothing.
    pub fn of(request: &StatsRequest) -> Selection {
        let p = request.period;
        let (start, end) = p.instants();
        let f = &request.filter;
        let mut villages: Option<Vec<(i64, i64)>> = f.area.map(|a| {
            let (lo, hi) = match a {
                Area::Province(c) => c.village_range(),
                Area::Prefecture(c) => c.village_range(),
                Area::County(c) => c.village_range(),
            };
            vec![(lo as i64, hi as i64)]
        });
        if let Some(counties) = &f.counties {
            let ranges: Vec<(i64, i64)> = counties
                .iter()
                .filter(|c| f.admits_county(c.as_int()))
                .map(|c| {
                    let (lo, hi) = c.village_range();
                    (lo as i64, hi as i64)
                })
                .collect();
            villages = Some(ranges);
        }
        Selection {
            days: if p.is_empty() {
                (1, 0)
            } else {
                (day_of(p.from), day_of(p.to))
            },
            instants: if p.is_empty() {
                (0, 0)
            } else {
                (start.as_millis(), end.as_millis())
            },
            villages,
            author: f.author.map(|a| *a.as_uuid()),
            team: f.team.map(|t| *t.as_uuid()),
        }
    }

    /// Whether the selection is wider than one county and names no author
    /// or team: a large share of a province's rows, which a database reads
    /// page by page rather than through an index.
    pub fn is_wide(&self) -> bool {
        let county = |(lo, hi): &(i64, i64)| hi - lo < 1_000_000;
        self.author.is_none()
            && self.team.is_none()
            && match &self.villages {
                None => true,
                Some(r) => !(r.len() == 1 && county(&r[0])),
            }
    }

    /// Whether nothing can be selected (an empty period, or a county
    /// filter that admits no county).
    pub fn is_empty(&self) -> bool {
        self.days.0 > self.days.1 || self.villages.as_ref().is_some_and(Vec::is_empty)
    }
}

/// The division rows the register of `area` needs (the whole register when
/// `None`): per level, the inclusive range of its codes.
pub fn register_ranges(area: Option<Area>) -> Vec<(DivisionLevel, i64, i64)> {
    let (lo, hi) = match area {
        None => (0, 999_999_999_999),
        Some(Area::Province(c)) => c.village_range(),
        Some(Area::Prefecture(c)) => c.village_range(),
        Some(Area::County(c)) => c.village_range(),
    };
    DivisionLevel::ALL
        .iter()
        .map(|level| {
            let scale = 10u64.pow((12 - level.digits()) as u32);
            (*level, (lo / scale) as i64, (hi / scale) as i64)
        })
        .collect()
}

/// The facts of a stored document (its Automerge save), for the backfill;
/// `None`, logged, when it does not load or read (the push path refuses
/// every change to such a document too).
pub fn facts_of_snapshot(doc: DocId, snapshot: &[u8]) -> Option<RecordFacts> {
    let read = RecordDoc::load(snapshot)
        .map_err(|e| e.to_string())
        .and_then(|d| hydrate(&d).map_err(|e| e.to_string()));
    match read {
        Ok(record) => Some(record_facts(&record)),
        Err(why) => {
            tracing::error!(%doc, ?why, "stored document left out of the statistics projection");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::stats::{Filter, Period};

    #[test]
    fn items_survive_their_column() {
        let items = [
            (ItemKind::Technology, "测土配方施肥"),
            (ItemKind::Variety, ""),
            (ItemKind::Enterprise, &"长".repeat(200) as &str),
            (ItemKind::Cooperative, "a\u{1f}b\n"),
        ];
        let bytes = encode_items(items.iter().copied());
        let back: Vec<_> = super::items(&bytes).unwrap().collect();
        let written: Vec<_> = items.iter().map(|(k, n)| (*k, n.as_bytes())).collect();
        assert_eq!(back, written);
        assert!(encode_items([]).is_empty());
        assert_eq!(super::items(&[]).unwrap().count(), 0);
        // A cut column is refused, not misread.
        assert!(super::items(&bytes[..bytes.len() - 1]).is_err());
        assert!(super::items(&[9, 0]).is_err());
    }

    #[test]
    fn a_county_register_is_its_ancestors_and_its_descendants() {
        let r = register_ranges(Some(Area::County("520324".parse().unwrap())));
        assert_eq!(
            r,
            vec![
                (DivisionLevel::Province, 52, 52),
                (DivisionLevel::Prefecture, 5203, 5203),
                (DivisionLevel::County, 520_324, 520_324),
                (DivisionLevel::Township, 520_324_000, 520_324_999),
                (DivisionLevel::Village, 520_324_000_000, 520_324_999_999),
            ]
        );
    }

    #[test]
    fn codes_are_distinct_and_read_back() {
        for a in ActivityType::ALL {
            assert_eq!(activity_of(activity_code(*a).into()).unwrap(), *a);
        }
        for s in FactStatus::ALL {
            assert_eq!(status_of(status_code(s).into()).unwrap(), s);
        }
        for k in ItemKind::ALL {
            assert_eq!(kind_of(kind_code(k)).unwrap(), k);
        }
        assert!(activity_of(0).is_err() && status_of(9).is_err());
    }

    #[test]
    fn a_selection_narrows_to_the_area_and_the_tagged_counties() {
        let year = Period::year(2026).unwrap();
        let mut r = StatsRequest::new(year);
        r.filter = Filter {
            area: Some(Area::Province("52".parse().unwrap())),
            ..Filter::default()
        };
        let s = Selection::of(&r);
        assert_eq!(s.villages, Some(vec![(520_000_000_000, 529_999_999_999)]));
        assert!(s.is_wide(), "a province");
        assert_eq!(
            s.days,
            (
                day_of(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
                day_of(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())
            )
        );
        // 2026-01-01 00:00 China time is 2025-12-31 16:00 UTC.
        assert_eq!(s.instants.0, 1_767_196_800_000);
        assert_eq!(s.instants.1 - s.instants.0, 365 * 86_400_000);
        // Tagged counties outside the area are not read.
        r.filter.counties = Some(
            ["520324", "530102"]
                .iter()
                .map(|c| c.parse().unwrap())
                .collect(),
        );
        let s = Selection::of(&r);
        assert_eq!(s.villages, Some(vec![(520_324_000_000, 520_324_999_999)]));
        assert!(!s.is_wide(), "one county");
        let mut team = r.clone();
        team.filter.counties = None;
        team.filter.team = Some(app_core::testing::team_id(1));
        assert!(!Selection::of(&team).is_wide(), "a team");
        r.filter.counties = Some(["530102".parse().unwrap()].into_iter().collect());
        assert!(Selection::of(&r).is_empty());
        assert!(
            Selection::of(&StatsRequest::new(Period::new(
                NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
            )))
            .is_empty()
        );
    }
}
