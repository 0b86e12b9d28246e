//! The division register: import, lookups, county tags, slices.

use std::time::Instant;

use app_core::clock::ManualClock;
use app_core::domain::{CountyCode, CountyTag, DivisionLevel, TownshipCode};
use app_core::reference::{CountyList, RegisterSource};
use app_core::store::Store;

use crate::support::*;

#[test]
fn a_county_slice_holds_its_townships_and_villages() {
    let slice = county_slice();
    assert_eq!(slice.county.name, "正安县");
    assert_eq!(slice.prefecture.name, "遵义市");
    assert_eq!(slice.province.name, "贵州省");
    assert_eq!(slice.villages.len(), 154);
    assert!(slice.townships.iter().any(|t| t.name == "凤仪街道"));

    let t = TestStore::new();
    let county = CountyCode::parse(COUNTY).unwrap();
    let townships = t.store.townships_of(county).unwrap();
    assert_eq!(townships.len(), slice.townships.len());
    let fengyi = TownshipCode::parse(&townships[0].code).unwrap();
    let villages = t.store.villages_of(fengyi).unwrap();
    assert_eq!(villages[0].code, VILLAGE);
    assert_eq!(villages[0].name, "北苑社区居民委员会");
    assert!(villages.iter().all(|v| v.code.starts_with("520324001")));
    assert_eq!(
        t.store
            .division_name(DivisionLevel::County, 520324)
            .unwrap()
            .as_deref(),
        Some("正安县")
    );
    assert_eq!(t.store.loaded_counties().unwrap(), [county]);
}

#[test]
fn a_slice_with_a_village_of_another_county_is_refused() {
    let t = TestStore::new();
    let mut slice = county_slice().clone();
    slice.villages.push(app_core::store::SliceDivision {
        code: 110101001001,
        name: "外县村".into(),
    });
    assert!(t.store.import_slice(&slice).is_err());
    let county = CountyCode::parse(COUNTY).unwrap();
    assert_eq!(
        t.store
            .export_slice(county)
            .unwrap()
            .unwrap()
            .villages
            .len(),
        154
    );
}

#[test]
fn county_tags_come_from_the_lists_and_can_be_changed() {
    let t = TestStore::new();
    let lists = CountyList::from_dir(data_dir().join("counties")).unwrap();
    let n = t.store.import_county_lists(&lists).unwrap();
    assert_eq!(n, 831 + 93);
    let county = CountyCode::parse(COUNTY).unwrap();
    assert_eq!(
        t.store.county_tags(county).unwrap(),
        [CountyTag::NationalKey, CountyTag::PovertyAlleviated]
    );
    t.store
        .set_county_tag(county, CountyTag::Designated, true, "admin")
        .unwrap();
    t.store
        .set_county_tag(county, CountyTag::NationalKey, false, "admin")
        .unwrap();
    assert_eq!(
        t.store.county_tags(county).unwrap(),
        [CountyTag::Designated, CountyTag::PovertyAlleviated]
    );
}

/// The whole country: every level, counted and timed. The time is printed,
/// not asserted (machines are noisy); the counts are the register's.
#[test]
fn the_national_register_imports_completely() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        dir.path().join("national.sqlite"),
        ManualClock::new(NOW).shared(),
    )
    .unwrap();
    let source = RegisterSource::from_dir(data_dir().join("divisions")).unwrap();
    let started = Instant::now();
    let stats = store.import_register(&source, None).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        (
            stats.provinces,
            stats.prefectures,
            stats.counties,
            stats.townships,
            stats.villages
        ),
        (31, 342, 2978, 41_352, 620_573)
    );
    assert_eq!(store.loaded_counties().unwrap().len(), 2978);
    let size = std::fs::metadata(store.path()).unwrap().len()
        + std::fs::metadata(dir.path().join("national.sqlite-wal")).map_or(0, |m| m.len());
    println!(
        "national register import: {} divisions in {:.2} s, store {:.1} MB",
        stats.provinces + stats.prefectures + stats.counties + stats.townships + stats.villages,
        elapsed.as_secs_f64(),
        size as f64 / 1e6
    );
}
