//! The team lead's view of a team (团队): the members as the server knows
//! them (the team endpoint's wire types, kept on the tablet for offline
//! use), the team dashboard (团队看板) the store fills, and the few rules of
//! the dashboard that are not figures of docs/statistics.md: when a member
//! is silent, when a consultation has waited too long, how a period is cut
//! into weeks for the activity chart, and village coverage per township.
//! Plain serde and pure functions, so they compile to wasm for `app-ui`.
//!
//! Every figure on the dashboard comes from the one statistics engine
//! ([`crate::stats`]); this module only arranges them (docs/statistics.md,
//! "The team dashboard").

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::api::Division;
use crate::domain::{
    ConsultationId, CountyCode, DivisionLevel, Role, TeamId, Timestamp, TownshipCode, UserId,
    VillageCode,
};
use crate::stats::assess::ScoreSheet;
use crate::stats::{Figures, Period, Register};

/// A member who has logged nothing for this many days is silent (长时间未记录).
pub const SILENT_DAYS: i64 = 7;
/// A consultation without a first answer this many days after it was asked
/// waits too long (超时未答复).
pub const WAITING_DAYS: i64 = 3;
/// Periods of at most this many days are charted per day, longer ones per
/// week.
pub const DAILY_UP_TO: u32 = 14;

/// A member of the team (团队成员) as the server knows them, with when
/// their devices last synced: the device cannot know when a teammate's
/// device last reached the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    /// The user.
    pub user: UserId,
    /// Sign-in name.
    pub username: String,
    /// Name shown to people (姓名).
    pub display_name: String,
    /// Commissioner or team lead.
    pub role: Role,
    /// Whether the account is enabled.
    pub active: bool,
    /// The latest successful push or pull of any of their devices that is
    /// not revoked (server clock); none when no device of theirs ever
    /// synced.
    pub last_sync: Option<Timestamp>,
}

/// `GET /api/v1/team/members`: the signed-in lead's team and its members,
/// as of `at` (server clock). The tablet keeps the last answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamRoster {
    /// The team.
    pub team: TeamId,
    /// Its name.
    pub name: String,
    /// Its members, by sign-in name; disabled accounts included.
    pub members: Vec<TeamMember>,
    /// When the server answered.
    pub at: Timestamp,
}

impl TeamRoster {
    /// A member by ID.
    pub fn member(&self, user: UserId) -> Option<&TeamMember> {
        self.members.iter().find(|m| m.user == user)
    }
}

/// Whether a member whose latest log is of `last_log` is silent on
/// `today`: no log at all, or none for [`SILENT_DAYS`] days or more.
pub fn is_silent(last_log: Option<NaiveDate>, today: NaiveDate) -> bool {
    last_log.is_none_or(|d| (today - d).num_days() >= SILENT_DAYS)
}

/// Whether a consultation asked at `asked_at` and not answered has waited
/// too long at `now` ([`WAITING_DAYS`] days or more).
pub fn waits_too_long(asked_at: Timestamp, now: Timestamp) -> bool {
    now.millis_since(asked_at) >= WAITING_DAYS * 86_400_000
}

/// How the activity chart cuts a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BucketUnit {
    /// One column a day (periods of up to [`DAILY_UP_TO`] days).
    Day,
    /// One column a week, Monday to Sunday, cut to the period.
    Week,
}

/// The period cut into days (up to [`DAILY_UP_TO`] days) or into weeks
/// (Monday to Sunday, the first and last cut to the period), in order.
/// Empty for an empty period.
pub fn buckets(period: Period) -> (BucketUnit, Vec<Period>) {
    if period.is_empty() {
        return (BucketUnit::Week, Vec::new());
    }
    if period.days() <= DAILY_UP_TO {
        let days = period
            .from
            .iter_days()
            .take_while(|d| *d <= period.to)
            .map(|d| Period::new(d, d))
            .collect();
        return (BucketUnit::Day, days);
    }
    let mut out = Vec::new();
    let mut start = period.from;
    while start <= period.to {
        let sunday = start + Duration::days(6 - i64::from(start.weekday().num_days_from_monday()));
        let end = sunday.min(period.to);
        out.push(Period::new(start, end));
        start = end + Duration::days(1);
    }
    (BucketUnit::Week, out)
}

/// The index of the bucket holding `date`, if any (buckets in order, as
/// [`buckets`] makes them).
pub fn bucket_of(buckets: &[Period], date: NaiveDate) -> Option<usize> {
    let i = buckets.partition_point(|b| b.to < date);
    buckets.get(i).filter(|b| b.contains_date(date)).map(|_| i)
}

/// Coverage of one township (乡镇覆盖): its register villages, how many of
/// them a counted log covered, and the ones not covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TownshipCoverage {
    /// The township.
    pub code: TownshipCode,
    /// Its name.
    pub name: String,
    /// Villages in the register.
    pub villages: u32,
    /// Of those, covered in the period.
    pub covered: u32,
    /// The villages not covered (未覆盖行政村), in code order.
    pub uncovered: Vec<Division>,
}

/// Village coverage of the team's county (覆盖情况) against the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// The county.
    pub county: CountyCode,
    /// Its name.
    pub county_name: Option<String>,
    /// Register villages covered (覆盖登记行政村).
    pub villages_covered: u32,
    /// Register villages (登记行政村).
    pub villages: u32,
    /// Register townships covered (覆盖登记乡镇).
    pub townships_covered: u32,
    /// Register townships (登记乡镇).
    pub townships: u32,
    /// Per township, in code order.
    pub by_township: Vec<TownshipCoverage>,
}

/// Per township of `county` in the register: its villages, how many are
/// covered, and the uncovered ones, from the engine's uncovered villages
/// (`Report::uncovered_villages`), so that the per-township numbers add up
/// to the county's register figures.
pub fn township_coverage(
    register: &Register,
    county: CountyCode,
    uncovered: &[VillageCode],
) -> Vec<TownshipCoverage> {
    let mut out: Vec<TownshipCoverage> = register
        .townships()
        .filter(|(code, _)| code / 1000 == county.as_int())
        .filter_map(|(code, name)| {
            Some(TownshipCoverage {
                code: TownshipCode::from_int(code).ok()?,
                name: name.to_owned(),
                villages: 0,
                covered: 0,
                uncovered: Vec::new(),
            })
        })
        .collect();
    let index = |township: u64, out: &[TownshipCoverage]| {
        out.binary_search_by_key(&township, |t| t.code.as_int())
            .ok()
    };
    for (village, _) in register.villages_of(county) {
        if let Some(i) = index(village / 1000, &out) {
            out[i].villages += 1;
        }
    }
    for v in uncovered {
        if let Some(i) = index(v.township().as_int(), &out) {
            out[i].uncovered.push(Division {
                code: v.to_string(),
                name: register
                    .name(DivisionLevel::Village, v.as_int())
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
    }
    for t in &mut out {
        t.covered = t.villages.saturating_sub(t.uncovered.len() as u32);
    }
    out
}

/// `get_team_dashboard`: the team's figures over these days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardQuery {
    /// First day, inclusive (China time).
    pub from: NaiveDate,
    /// Last day, inclusive.
    pub to: NaiveDate,
}

/// One member's row on the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    /// The member.
    pub user: UserId,
    /// Their name, when the roster knows them.
    pub name: Option<String>,
    /// Their role, when the roster knows them.
    pub role: Option<Role>,
    /// Whether they are on the team's roster (a former member's records
    /// still count for the team).
    pub on_roster: bool,
    /// Their figures in the team over the period: the engine's
    /// commissioner row (the same as their own 统计 for the team's records).
    pub figures: Figures,
    /// Consultations asked in the period and not answered yet
    /// (`consultations − consultations_answered`).
    pub open_consultations: u32,
    /// The work date of their latest log for the team (not a draft, not a
    /// duplicate), whatever the period.
    pub last_log: Option<NaiveDate>,
    /// When their devices last synced, from the roster; none when unknown.
    pub last_sync: Option<Timestamp>,
    /// No log for [`SILENT_DAYS`] days or more ([`is_silent`]).
    pub silent: bool,
    /// Counted logs per bucket of the activity chart.
    pub activity: Vec<u32>,
}

/// A consultation waiting too long for a first answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingConsultation {
    /// The consultation.
    pub id: ConsultationId,
    /// Who took it.
    pub author: UserId,
    /// The farmer.
    pub farmer_name: String,
    /// Crop or livestock.
    pub subject: String,
    /// The farmer's village's name, when the register is loaded.
    pub village_name: Option<String>,
    /// When asked.
    pub asked_at: Timestamp,
    /// Whole days since.
    pub days: i64,
}

/// `get_team_dashboard`: everything the 团队 page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamDashboard {
    /// The period.
    pub period: Period,
    /// Today, China time (silence is counted to it).
    pub today: NaiveDate,
    /// The team.
    pub team: TeamId,
    /// Its name, when known.
    pub team_name: Option<String>,
    /// One row per member: the roster's (commissioners and the lead), then
    /// anyone else with a record for the team; by name.
    pub members: Vec<MemberRow>,
    /// The team's figures over the period, from the same report.
    pub total: Figures,
    /// The county's village coverage, when its register is on the device.
    pub coverage: Option<Coverage>,
    /// How the activity chart cuts the period.
    pub unit: BucketUnit,
    /// The chart's columns.
    pub buckets: Vec<Period>,
    /// Consultations waiting more than [`WAITING_DAYS`] days for a first
    /// answer, by member, oldest first.
    pub waiting: Vec<WaitingConsultation>,
    /// When the roster (names, last syncs) was fetched from the server;
    /// none when never.
    pub roster_at: Option<Timestamp>,
}

/// `get_team_scores`: the team's assessment (考核) under each scheme the
/// app carries, for a calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoresQuery {
    /// The year.
    pub year: i32,
}

/// The team's scores under each carried scheme, with names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamScores {
    /// One sheet per scheme (each scores every roster member and everyone
    /// with a record for the team).
    pub sheets: Vec<ScoreSheet>,
    /// Names of the people scored, when known.
    pub names: Vec<(UserId, String)>,
}

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// One workbook, one sheet per table.
    Xlsx,
    /// One UTF-8 CSV file (with BOM) per table.
    Csv,
}

/// `export_team_sheet`: the team's annual sheet for a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportQuery {
    /// The year.
    pub year: i32,
    /// XLSX or CSV.
    pub format: ExportFormat,
}

/// Where an export was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exported {
    /// The folder (the data directory's `exports/`).
    pub dir: String,
    /// The files written, as absolute paths.
    pub files: Vec<String>,
}

/// The days of "this week" (本周, Monday to Sunday), "this month" and "this
/// year" around `today`.
pub fn week_of(today: NaiveDate) -> Period {
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    Period::new(monday, monday + Duration::days(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn silence_starts_on_the_seventh_day_without_a_log() {
        let today = d("2026-11-29");
        assert!(is_silent(None, today), "never logged");
        assert!(!is_silent(Some(d("2026-11-23")), today), "6 days ago");
        assert!(is_silent(Some(d("2026-11-22")), today), "7 days ago");
        assert!(!is_silent(Some(d("2026-11-30")), today), "a wrong clock");
    }

    #[test]
    fn waiting_too_long_is_three_whole_days() {
        let asked = Timestamp::from_millis(1_000_000_000_000);
        assert!(!waits_too_long(asked, asked.add_millis(3 * 86_400_000 - 1)));
        assert!(waits_too_long(asked, asked.add_millis(3 * 86_400_000)));
    }

    #[test]
    fn short_periods_are_cut_into_days_long_ones_into_weeks() {
        let (unit, days) = buckets(Period::new(d("2026-11-23"), d("2026-11-29")));
        assert_eq!(unit, BucketUnit::Day);
        assert_eq!(days.len(), 7);
        assert_eq!(days[6], Period::new(d("2026-11-29"), d("2026-11-29")));

        // November 2026: Sunday the 1st, Monday the 30th.
        let (unit, weeks) = buckets(Period::new(d("2026-11-01"), d("2026-11-30")));
        assert_eq!(unit, BucketUnit::Week);
        assert_eq!(
            weeks.first(),
            Some(&Period::new(d("2026-11-01"), d("2026-11-01")))
        );
        assert_eq!(weeks[1], Period::new(d("2026-11-02"), d("2026-11-08")));
        assert_eq!(
            weeks.last(),
            Some(&Period::new(d("2026-11-30"), d("2026-11-30")))
        );
        assert_eq!(weeks.len(), 6);
        let year = buckets(Period::year(2026).unwrap()).1;
        assert_eq!(year.len(), 53);
        let days: u32 = year.iter().map(Period::days).sum();
        assert_eq!(days, 365, "the weeks tile the year");
        for (i, w) in year.iter().enumerate() {
            assert_eq!(bucket_of(&year, w.from), Some(i));
            assert_eq!(bucket_of(&year, w.to), Some(i));
        }
        assert_eq!(bucket_of(&year, d("2027-01-01")), None);
        assert_eq!(bucket_of(&year, d("2025-12-31")), None);
        assert!(
            buckets(Period::new(d("2026-02-01"), d("2026-01-01")))
                .1
                .is_empty()
        );
    }

    #[test]
    fn this_week_is_monday_to_sunday() {
        assert_eq!(
            week_of(d("2026-11-29")),
            Period::new(d("2026-11-23"), d("2026-11-29"))
        );
        assert_eq!(
            week_of(d("2026-11-30")),
            Period::new(d("2026-11-30"), d("2026-12-06"))
        );
    }

    #[test]
    fn coverage_per_township_adds_up_to_the_county() {
        let mut reg = Register::new();
        let county = CountyCode::parse("520324").unwrap();
        reg.insert(DivisionLevel::County, 520324, "正安县");
        reg.insert(DivisionLevel::Township, 520324001, "凤仪街道");
        reg.insert(DivisionLevel::Township, 520324100, "瑞溪镇");
        reg.insert(DivisionLevel::Township, 520325100, "别县的镇");
        for (code, name) in [
            (520324001001, "北苑社区"),
            (520324001002, "南苑社区"),
            (520324100201, "瑞溪村"),
            (520325100201, "别县的村"),
        ] {
            reg.insert(DivisionLevel::Village, code, name);
        }
        let uncovered = [
            VillageCode::parse("520324001002").unwrap(),
            VillageCode::parse("520324100201").unwrap(),
        ];
        let t = township_coverage(&reg, county, &uncovered);
        assert_eq!(t.len(), 2, "only the county's townships");
        assert_eq!(
            (t[0].name.as_str(), t[0].villages, t[0].covered),
            ("凤仪街道", 2, 1)
        );
        assert_eq!(t[0].uncovered[0].name, "南苑社区");
        assert_eq!((t[1].villages, t[1].covered), (1, 0));
        assert_eq!(t[1].uncovered[0].code, "520324100201");
    }
}
