//! Statistics and assessment (统计与考核) on the server: the report of a
//! division, a team or a commissioner over a period ([`answer`]), its
//! scores under an assessment scheme ([`scores`]), and its tables as
//! spreadsheets ([`tables`], [`export`]). Shared by the HTTP endpoints
//! (`routes/stats.rs`, which decide what a caller may ask) and the command
//! line (`sync-server stats`, an operator's).
//!
//! Every figure comes from `app_core::stats`: the store streams the
//! projected rows an [`Ask`] selects into `ReportBuilder`, coverage is
//! measured against the register in the server's divisions table, county
//! tags become the filter's set of counties, and scores come from the
//! schemes the app carries. No SQL here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use app_core::domain::{
    CountyCode, CountyTag, PrefectureCode, ProvinceCode, Role, Team, TeamId, UserId,
};
use app_core::stats::assess::{Scheme, SchemePeriod, ScoreSheet, builtin_schemes};
use app_core::stats::export::{self as files, ExportError};
use app_core::stats::sheet::{self, Names, Table};
use app_core::stats::{Area, Filter, Levels, Period, Register, StatsRequest};

use super::{ServerStore, StoreError};

/// Whose figures (统计对象): a division, a team or a commissioner. Written
/// `level:code`: `province:52`, `prefecture:5203`, `county:520324`,
/// `team:<id>`, `commissioner:<user id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A province (省).
    Province(ProvinceCode),
    /// A prefecture (市).
    Prefecture(PrefectureCode),
    /// A county (县).
    County(CountyCode),
    /// A team (科技特派团).
    Team(TeamId),
    /// A commissioner (特派员).
    Commissioner(UserId),
}

impl Subject {
    /// The subject of a level name and a code.
    pub fn parse(level: &str, code: &str) -> Result<Subject, String> {
        let bad = |e: String| format!("{level} {code:?}: {e}");
        Ok(match level {
            "province" => Subject::Province(code.parse().map_err(|e| bad(format!("{e}")))?),
            "prefecture" => Subject::Prefecture(code.parse().map_err(|e| bad(format!("{e}")))?),
            "county" => Subject::County(code.parse().map_err(|e| bad(format!("{e}")))?),
            "team" => Subject::Team(code.parse().map_err(|_| bad("not a team id".into()))?),
            "commissioner" => {
                Subject::Commissioner(code.parse().map_err(|_| bad("not a user id".into()))?)
            }
            _ => {
                return Err(format!(
                    "level {level:?}: one of province, prefecture, county, team, commissioner"
                ));
            }
        })
    }

    /// The level's name.
    pub fn level(&self) -> &'static str {
        match self {
            Subject::Province(_) => "province",
            Subject::Prefecture(_) => "prefecture",
            Subject::County(_) => "county",
            Subject::Team(_) => "team",
            Subject::Commissioner(_) => "commissioner",
        }
    }

    /// The division it is, if it is one.
    pub fn area(&self) -> Option<Area> {
        match *self {
            Subject::Province(c) => Some(Area::Province(c)),
            Subject::Prefecture(c) => Some(Area::Prefecture(c)),
            Subject::County(c) => Some(Area::County(c)),
            Subject::Team(_) | Subject::Commissioner(_) => None,
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = self.level();
        match self {
            Subject::Province(c) => write!(f, "{level}:{c}"),
            Subject::Prefecture(c) => write!(f, "{level}:{c}"),
            Subject::County(c) => write!(f, "{level}:{c}"),
            Subject::Team(t) => write!(f, "{level}:{t}"),
            Subject::Commissioner(u) => write!(f, "{level}:{u}"),
        }
    }
}

impl std::str::FromStr for Subject {
    type Err = String;
    fn from_str(s: &str) -> Result<Subject, String> {
        let (level, code) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?}: write level:code, e.g. county:520324"))?;
        Subject::parse(level, code)
    }
}

/// Whether an area lies inside another (a county inside its province …).
pub fn area_within(inner: Area, outer: Area) -> bool {
    let (lo, hi) = village_range(inner);
    let (olo, ohi) = village_range(outer);
    olo <= lo && hi <= ohi
}

fn village_range(a: Area) -> (u64, u64) {
    match a {
        Area::Province(c) => c.village_range(),
        Area::Prefecture(c) => c.village_range(),
        Area::County(c) => c.village_range(),
    }
}

/// A question: whose figures, over which days, restricted how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// Whose figures.
    pub subject: Subject,
    /// The period (China time, both ends inclusive).
    pub period: Period,
    /// Only records in counties carrying every one of these tags (脱贫县,
    /// 国家乡村振兴重点帮扶县 …).
    pub tags: Vec<CountyTag>,
    /// Only records whose village lies in this area (the asker's scope,
    /// for a team or a commissioner).
    pub within: Option<Area>,
    /// Only records made for this team (a team lead asking about a member).
    pub team: Option<TeamId>,
    /// Which rows besides divisions and the total.
    pub levels: Levels,
}

impl Ask {
    /// Every row of `subject` over `period`, no tag.
    pub fn new(subject: Subject, period: Period) -> Ask {
        Ask {
            subject,
            period,
            tags: Vec::new(),
            within: None,
            team: None,
            levels: Levels::ALL,
        }
    }
}

/// The answer to an [`Ask`], as the JSON endpoint sends it (the wire type
/// is app-core's, which the device's client reads).
pub use app_core::stats::Answer;

/// A report with what its tables need besides it.
#[derive(Debug, Clone)]
pub struct Computed {
    /// The answer.
    pub answer: Answer,
    /// The register coverage was measured against (empty when none).
    pub register: Arc<Register>,
    /// The commissioners an assessment scores: the subject's members (the
    /// team's, or those of teams in the area), or the commissioner.
    pub roster: Vec<UserId>,
}

/// Why statistics could not be given.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such team.
    #[error("no team {0}")]
    NoSuchTeam(TeamId),
    /// No such user.
    #[error("no user {0}")]
    NoSuchUser(UserId),
    /// No carried scheme has this id or name.
    #[error("no assessment scheme {0:?} (carried: {1})")]
    UnknownScheme(String, String),
    /// No such sheet, or a format that cannot hold it.
    #[error("{0}")]
    BadExport(String),
    /// Writing the file failed.
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// The carried scheme (`data/schemes/`) with this id or name.
pub fn scheme(name: &str) -> Result<Scheme, StatsError> {
    let schemes = builtin_schemes();
    let found = schemes
        .iter()
        .find(|s| s.id == name || s.name == name)
        .cloned();
    found.ok_or_else(|| {
        StatsError::UnknownScheme(
            name.to_string(),
            schemes
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    })
}

/// Computes the report `ask` asks for.
pub async fn answer(store: &dyn ServerStore, ask: &Ask) -> Result<Computed, StatsError> {
    compute(store, ask, Vec::new()).await
}

/// Computes the report of `ask` and scores its roster under `scheme` (over
/// the scheme's own days when it fixes them, else over the asked period).
pub async fn scores(
    store: &dyn ServerStore,
    ask: &Ask,
    scheme: &Scheme,
) -> Result<(Computed, ScoreSheet), StatsError> {
    let mut ask = ask.clone();
    if let SchemePeriod::Fixed { period } = scheme.period {
        ask.period = period;
    }
    ask.levels.commissioners = true;
    let computed = compute(store, &ask, scheme.training_sizes()).await?;
    let sheet = scheme.score_report(&computed.answer.report, &computed.roster);
    Ok((computed, sheet))
}

async fn compute(
    store: &dyn ServerStore,
    ask: &Ask,
    training_sizes: Vec<u32>,
) -> Result<Computed, StatsError> {
    let teams: BTreeMap<TeamId, Team> = store
        .teams()
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let users = store.users().await?;
    let team_of = |id: TeamId| teams.get(&id).ok_or(StatsError::NoSuchTeam(id));

    let mut filter = Filter {
        area: ask.subject.area().or(ask.within),
        ..Filter::default()
    };
    // Whose register coverage is measured against: the division's, or the
    // county of the team (a commissioner's: their team's).
    let register_area = match ask.subject {
        Subject::Province(_) | Subject::Prefecture(_) | Subject::County(_) => ask.subject.area(),
        Subject::Team(t) => {
            filter.team = Some(t);
            Some(Area::County(team_of(t)?.county))
        }
        Subject::Commissioner(u) => {
            filter.author = Some(u);
            filter.team = ask.team;
            let user = users
                .iter()
                .find(|r| r.user.id == u)
                .ok_or(StatsError::NoSuchUser(u))?;
            match user.user.team {
                Some(t) => Some(Area::County(team_of(t)?.county)),
                None => None,
            }
        }
    };
    if !ask.tags.is_empty() {
        filter.counties = Some(
            store
                .tagged_counties(&ask.tags)
                .await?
                .into_iter()
                .collect(),
        );
    }
    let register = match register_area {
        Some(area) => store.stats_register(Some(area)).await?,
        None => Register::new(),
    };
    let register = Arc::new(register);
    let request = StatsRequest {
        period: ask.period,
        filter: filter.clone(),
        levels: ask.levels,
        training_sizes,
    };
    let given = (!register.is_empty()).then(|| Arc::clone(&register));
    let report = store.stats_report(&request, given).await?;

    // The roster: commissioners and team leads of the subject.
    let member = |team: Option<TeamId>| -> bool {
        let Some(t) = team else { return false };
        match ask.subject {
            Subject::Team(s) => t == s,
            Subject::Commissioner(_) => false,
            _ => teams
                .get(&t)
                .is_some_and(|t| filter.admits_county(t.county.as_int())),
        }
    };
    let roster: Vec<UserId> = match ask.subject {
        Subject::Commissioner(u) => vec![u],
        _ => users
            .iter()
            .filter(|r| matches!(r.user.role, Role::Commissioner | Role::TeamLead))
            .filter(|r| r.user.active && member(r.user.team))
            .map(|r| r.user.id)
            .collect(),
    };

    let shown_users: BTreeSet<UserId> = report
        .commissioners
        .iter()
        .map(|r| r.key)
        .chain(roster.iter().copied())
        .collect();
    let names = Names {
        users: users
            .iter()
            .filter(|r| shown_users.contains(&r.user.id))
            .map(|r| (r.user.id, r.user.display_name.clone()))
            .collect(),
        teams: report
            .teams
            .iter()
            .filter_map(|r| Some((r.key, teams.get(&r.key)?.name.clone())))
            .collect(),
    };
    let mut divisions = BTreeMap::new();
    for r in &report.counties {
        if let Some(n) = register.county_name(r.key) {
            divisions.insert(r.key.to_string(), n.to_string());
        }
    }
    for r in &report.prefectures {
        if let Some(n) = register.prefecture_name(r.key) {
            divisions.insert(r.key.to_string(), n.to_string());
        }
    }
    for r in &report.provinces {
        if let Some(n) = register.province_name(r.key) {
            divisions.insert(r.key.to_string(), n.to_string());
        }
    }
    Ok(Computed {
        answer: Answer {
            subject: ask.subject.to_string(),
            period: ask.period,
            tags: ask.tags.clone(),
            filter,
            report,
            names,
            divisions,
        },
        register,
        roster,
    })
}

/// A sheet of the annual workbook, as a file name's stem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sheet {
    /// 年度统计: a row per county with city and province subtotals.
    Annual,
    /// 县.
    Counties,
    /// 市.
    Prefectures,
    /// 省.
    Provinces,
    /// 团队.
    Teams,
    /// 特派员.
    Commissioners,
    /// 未覆盖行政村: the villages not yet covered.
    Uncovered,
    /// 考核得分 (needs a scheme).
    Scores,
}

impl Sheet {
    /// Every sheet.
    pub const ALL: [Sheet; 8] = [
        Sheet::Annual,
        Sheet::Counties,
        Sheet::Prefectures,
        Sheet::Provinces,
        Sheet::Teams,
        Sheet::Commissioners,
        Sheet::Uncovered,
        Sheet::Scores,
    ];

    /// The file name's stem (`annual`).
    pub fn stem(self) -> &'static str {
        match self {
            Sheet::Annual => "annual",
            Sheet::Counties => "counties",
            Sheet::Prefectures => "prefectures",
            Sheet::Provinces => "provinces",
            Sheet::Teams => "teams",
            Sheet::Commissioners => "commissioners",
            Sheet::Uncovered => "uncovered",
            Sheet::Scores => "scores",
        }
    }

    /// The sheet's name in the workbook (年度统计).
    pub fn table_name(self) -> &'static str {
        match self {
            Sheet::Annual => "年度统计",
            Sheet::Counties => "县",
            Sheet::Prefectures => "市",
            Sheet::Provinces => "省",
            Sheet::Teams => "团队",
            Sheet::Commissioners => "特派员",
            Sheet::Uncovered => "未覆盖行政村",
            Sheet::Scores => "考核得分",
        }
    }

    /// The sheet of a stem.
    pub fn from_stem(stem: &str) -> Option<Sheet> {
        Sheet::ALL.into_iter().find(|s| s.stem() == stem)
    }
}

/// A spreadsheet format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// XLSX: every sheet asked for in one workbook.
    Xlsx,
    /// CSV: one sheet, UTF-8 with a byte-order mark.
    Csv,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
        }
    }

    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }

    /// The format of an extension.
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext {
            "xlsx" => Some(Format::Xlsx),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// The annual workbook's tables (年度统计, 县, 市, 省, 团队, 特派员,
/// 未覆盖行政村, and 考核得分 when scores are given).
pub fn tables(computed: &Computed, scores: Option<&ScoreSheet>) -> Vec<Table> {
    sheet::annual_workbook(
        &computed.answer.report,
        &computed.register,
        &computed.answer.names,
        scores,
    )
}

/// `sheets` of `tables` (all of them when `None`) as one file: an XLSX
/// workbook, or one sheet as CSV.
pub fn export(
    tables: Vec<Table>,
    sheets: Option<&[Sheet]>,
    format: Format,
) -> Result<Vec<u8>, StatsError> {
    let chosen: Vec<Table> = match sheets {
        None => tables,
        Some(wanted) => {
            let mut out = Vec::new();
            for s in wanted {
                let t = tables
                    .iter()
                    .find(|t| t.name == s.table_name())
                    .ok_or_else(|| {
                        StatsError::BadExport(format!(
                            "sheet {} needs an assessment scheme",
                            s.stem()
                        ))
                    })?;
                out.push(t.clone());
            }
            out
        }
    };
    match format {
        Format::Xlsx => Ok(files::to_xlsx(&chosen)?),
        Format::Csv => match chosen.as_slice() {
            [one] => Ok(files::to_csv(one)?),
            _ => Err(StatsError::BadExport(
                "a CSV file holds one sheet: name it".into(),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_parse_and_print_back() {
        for s in [
            "province:52",
            "prefecture:5203",
            "county:520324",
            "team:0190a4c2-0000-7000-8000-000000000001",
            "commissioner:0190a4c2-0000-7000-8000-000000000002",
        ] {
            let subject: Subject = s.parse().unwrap();
            assert_eq!(subject.to_string(), s);
        }
        assert!("county:5203".parse::<Subject>().is_err());
        assert!("village:520324001001".parse::<Subject>().is_err());
        assert!("520324".parse::<Subject>().is_err());
    }

    #[test]
    fn areas_nest() {
        let county = Area::County("520324".parse().unwrap());
        let city = Area::Prefecture("5203".parse().unwrap());
        let province = Area::Province("52".parse().unwrap());
        assert!(area_within(county, city) && area_within(city, province));
        assert!(area_within(county, county));
        assert!(!area_within(province, county));
        assert!(!area_within(county, Area::Province("53".parse().unwrap())));
    }

    #[test]
    fn sheets_and_schemes_are_found_by_name() {
        for s in Sheet::ALL {
            assert_eq!(Sheet::from_stem(s.stem()), Some(s));
        }
        assert_eq!(scheme("seed-2021").unwrap().id, "seed-2021");
        assert!(matches!(
            scheme("no-such-scheme"),
            Err(StatsError::UnknownScheme(..))
        ));
    }
}
