//! The division register as coverage (覆盖) is measured against it: which
//! villages and townships officially exist in each county, and their names
//! for sheets. Built by the caller from wherever it keeps the register (the
//! device's `div_*` tables, the server's database, `crate::reference`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{CountyCode, DivisionLevel, PrefectureCode, ProvinceCode, TownshipCode};

/// The official register (行政区划登记) of some area: codes and names at the
/// five levels. A code's prefixes are its ancestors, so only the villages and
/// townships present decide coverage; names of higher levels are for sheets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    provinces: BTreeMap<u64, String>,
    prefectures: BTreeMap<u64, String>,
    counties: BTreeMap<u64, String>,
    townships: BTreeMap<u64, String>,
    villages: BTreeMap<u64, String>,
}

/// How many townships and villages the register holds for one county.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CountyTotals {
    pub(crate) townships: u32,
    pub(crate) villages: u32,
}

impl Register {
    /// An empty register.
    pub fn new() -> Self {
        Register::default()
    }

    fn level_mut(&mut self, level: DivisionLevel) -> &mut BTreeMap<u64, String> {
        match level {
            DivisionLevel::Province => &mut self.provinces,
            DivisionLevel::Prefecture => &mut self.prefectures,
            DivisionLevel::County => &mut self.counties,
            DivisionLevel::Township => &mut self.townships,
            DivisionLevel::Village => &mut self.villages,
        }
    }

    fn level(&self, level: DivisionLevel) -> &BTreeMap<u64, String> {
        match level {
            DivisionLevel::Province => &self.provinces,
            DivisionLevel::Prefecture => &self.prefectures,
            DivisionLevel::County => &self.counties,
            DivisionLevel::Township => &self.townships,
            DivisionLevel::Village => &self.villages,
        }
    }

    /// Adds (or renames) a division, by its integer code.
    pub fn insert(&mut self, level: DivisionLevel, code: u64, name: impl Into<String>) {
        self.level_mut(level).insert(code, name.into());
    }

    /// The name of a division, if the register has it.
    pub fn name(&self, level: DivisionLevel, code: u64) -> Option<&str> {
        self.level(level).get(&code).map(String::as_str)
    }

    /// Whether the village with this integer code is in the register.
    pub fn has_village(&self, village: u64) -> bool {
        self.villages.contains_key(&village)
    }

    /// Whether the township with this integer code is in the register.
    pub fn has_township(&self, township: u64) -> bool {
        self.townships.contains_key(&township)
    }

    /// Villages in the register (code, name), in code order.
    pub fn villages(&self) -> impl Iterator<Item = (u64, &str)> + '_ {
        self.villages.iter().map(|(c, n)| (*c, n.as_str()))
    }

    /// Townships in the register (code, name), in code order.
    pub fn townships(&self) -> impl Iterator<Item = (u64, &str)> + '_ {
        self.townships.iter().map(|(c, n)| (*c, n.as_str()))
    }

    /// Villages of one county, in code order.
    pub fn villages_of(&self, county: CountyCode) -> impl Iterator<Item = (u64, &str)> + '_ {
        let (lo, hi) = county.village_range();
        self.villages.range(lo..=hi).map(|(c, n)| (*c, n.as_str()))
    }

    /// The counties the register holds villages or townships of, in code order.
    pub fn counties(&self) -> Vec<CountyCode> {
        let mut out: Vec<u64> = self
            .villages
            .keys()
            .map(|v| v / 1_000_000)
            .chain(self.townships.keys().map(|t| t / 1_000))
            .collect();
        out.dedup();
        out.sort_unstable();
        out.dedup();
        out.into_iter()
            .filter_map(|c| CountyCode::from_int(c).ok())
            .collect()
    }

    /// Per county: how many townships and villages the register holds.
    pub(crate) fn county_totals(&self) -> BTreeMap<u64, CountyTotals> {
        let mut out: BTreeMap<u64, CountyTotals> = BTreeMap::new();
        for t in self.townships.keys() {
            out.entry(t / 1_000).or_default().townships += 1;
        }
        for v in self.villages.keys() {
            out.entry(v / 1_000_000).or_default().villages += 1;
        }
        out
    }

    /// The name of a county, prefecture or province, for sheets.
    pub fn county_name(&self, c: CountyCode) -> Option<&str> {
        self.name(DivisionLevel::County, c.as_int())
    }

    /// The name of a prefecture.
    pub fn prefecture_name(&self, c: PrefectureCode) -> Option<&str> {
        self.name(DivisionLevel::Prefecture, c.as_int())
    }

    /// The name of a province.
    pub fn province_name(&self, c: ProvinceCode) -> Option<&str> {
        self.name(DivisionLevel::Province, c.as_int())
    }

    /// The name of a township.
    pub fn township_name(&self, c: TownshipCode) -> Option<&str> {
        self.name(DivisionLevel::Township, c.as_int())
    }

    /// Whether the register holds nothing.
    pub fn is_empty(&self) -> bool {
        self.villages.is_empty() && self.townships.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counties_and_totals_come_from_townships_and_villages() {
        let mut r = Register::new();
        r.insert(DivisionLevel::Township, 520_324_001, "凤仪街道");
        r.insert(DivisionLevel::Village, 520_324_001_001, "北苑社区");
        r.insert(DivisionLevel::Village, 520_324_001_002, "山奇社区");
        r.insert(DivisionLevel::Township, 520_325_100, "某镇");
        assert_eq!(
            r.counties(),
            [
                CountyCode::parse("520324").unwrap(),
                CountyCode::parse("520325").unwrap()
            ]
        );
        let totals = r.county_totals();
        assert_eq!(
            totals[&520_324],
            CountyTotals {
                townships: 1,
                villages: 2
            }
        );
        assert_eq!(totals[&520_325].villages, 0);
        assert!(r.has_village(520_324_001_002));
        assert!(!r.has_village(520_324_001_003));
        assert_eq!(
            r.villages_of(CountyCode::parse("520324").unwrap()).count(),
            2
        );
    }
}
