//! The statistics endpoints' wire types (`/api/v1/stats/…`, docs/protocol.md
//! "Statistics"): whose figures a client asks for ([`StatsSubject`]), with
//! which parameters ([`StatsParams`]), and the report the server answers
//! ([`Answer`]). The server sends these very types; the device's client and
//! the sync admin's console read them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Period;
use super::engine::{Area, Filter, Report};
use super::sheet::Names;
use crate::domain::{CountyTag, TeamId, UserId};

/// Whose figures (统计对象) on the statistics endpoints: a division, a team or
/// a commissioner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "level", content = "code", rename_all = "snake_case")]
pub enum StatsSubject {
    /// A province (省).
    Province(crate::domain::ProvinceCode),
    /// A prefecture (市).
    Prefecture(crate::domain::PrefectureCode),
    /// A county (县).
    County(crate::domain::CountyCode),
    /// A team (科技特派团).
    Team(TeamId),
    /// A commissioner (特派员).
    Commissioner(UserId),
}

impl StatsSubject {
    /// The subject of a division.
    pub fn area(area: Area) -> StatsSubject {
        match area {
            Area::Province(c) => StatsSubject::Province(c),
            Area::Prefecture(c) => StatsSubject::Prefecture(c),
            Area::County(c) => StatsSubject::County(c),
        }
    }

    /// `{level}/{code}` of the endpoints' paths (`county/520324`).
    pub fn path(&self) -> String {
        match self {
            StatsSubject::Province(c) => format!("province/{c}"),
            StatsSubject::Prefecture(c) => format!("prefecture/{c}"),
            StatsSubject::County(c) => format!("county/{c}"),
            StatsSubject::Team(t) => format!("team/{t}"),
            StatsSubject::Commissioner(u) => format!("commissioner/{u}"),
        }
    }
}

/// The query parameters of every statistics endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsParams {
    /// The period (China time, both ends inclusive).
    pub period: Period,
    /// Only counties carrying every one of these tags (脱贫县, 国家乡村振兴重点帮扶县 …).
    #[serde(default)]
    pub tags: Vec<CountyTag>,
    /// Leave out the commissioner and team rows (`levels=divisions`).
    #[serde(default)]
    pub divisions_only: bool,
    /// The assessment scheme's id (`seed-2021`, `provincial-points`), for
    /// scores and for a workbook with its scores sheet.
    #[serde(default)]
    pub scheme: Option<String>,
}

impl StatsParams {
    /// Every row of `period`, no tag, no scheme.
    pub fn new(period: Period) -> StatsParams {
        StatsParams {
            period,
            tags: Vec::new(),
            divisions_only: false,
            scheme: None,
        }
    }

    /// The parameters as query pairs (`from`, `to`, `tag` …).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("from", self.period.from.format("%Y-%m-%d").to_string()),
            ("to", self.period.to.format("%Y-%m-%d").to_string()),
        ];
        pairs.extend(self.tags.iter().map(|t| ("tag", t.code().to_owned())));
        if self.divisions_only {
            pairs.push(("levels", "divisions".into()));
        }
        if let Some(s) = &self.scheme {
            pairs.push(("scheme", s.clone()));
        }
        pairs
    }
}

/// The report of a statistics question, as `GET /api/v1/stats/{level}/{code}`
/// answers it (统计结果).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Whose figures, `level:code`.
    pub subject: String,
    /// The period.
    pub period: Period,
    /// The county tags applied.
    pub tags: Vec<CountyTag>,
    /// The filter the figures were computed under.
    pub filter: Filter,
    /// The figures at every level (docs/statistics.md).
    pub report: Report,
    /// Names of the commissioners and teams in the report (and roster).
    pub names: Names,
    /// Names of the report's counties, prefectures and provinces, by code.
    pub divisions: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_become_the_query_the_server_reads() {
        let mut p = StatsParams::new(Period::year(2026).unwrap());
        p.tags = vec![CountyTag::PovertyAlleviated, CountyTag::NationalKey];
        p.divisions_only = true;
        p.scheme = Some("seed-2021".into());
        let pairs = p.pairs();
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            pairs,
            vec![
                ("from", "2026-01-01"),
                ("to", "2026-12-31"),
                ("tag", "poverty_alleviated"),
                ("tag", "national_key"),
                ("levels", "divisions"),
                ("scheme", "seed-2021"),
            ]
        );
        let county = StatsSubject::County("520324".parse().unwrap());
        assert_eq!(county.path(), "county/520324");
    }
}
