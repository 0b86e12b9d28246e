//! The reference data the server and devices import: the division
//! register's compressed CSV files (`RegisterSource`), the policy's county
//! lists (`CountyList`), a county's register slice as a device receives it
//! (JSON, then `Store::import_slice`), and assessment schemes (TOML,
//! `Scheme::parse`).
//!
//! Asserts: nothing panics; every division row read has a valid code of
//! its level (the domain's own rule); a slice that decodes round-trips, and one the store accepts
//! exports back with the same villages and townships.
#![no_main]

use app_core::domain::{
    CountyCode, CountyTag, DivisionLevel, PrefectureCode, ProvinceCode, TownshipCode, VillageCode,
};
use app_core::reference::{CountyList, RegisterSource};
use app_core::stats::assess::{PROVINCIAL_POINTS_SCHEME, SEED_SCHEME, Scheme};
use app_core::store::{RegisterSlice, SliceDivision};
use libfuzzer_sys::fuzz_target;

const LEVELS: [DivisionLevel; 5] = [
    DivisionLevel::Province,
    DivisionLevel::Prefecture,
    DivisionLevel::County,
    DivisionLevel::Township,
    DivisionLevel::Village,
];

fn seeds() -> Vec<Vec<u8>> {
    let provinces =
        zstd::decode_all(&include_bytes!("../../../data/divisions/provinces.csv.zst")[..]).unwrap();
    let key_counties = include_bytes!("../../../data/counties/key_counties_160_partial.csv");
    let div = |code: u64, name: &str| SliceDivision {
        code,
        name: name.into(),
    };
    let slice = RegisterSlice {
        version: "nbs-2023".into(),
        province: div(52, "贵州省"),
        prefecture: div(5203, "遵义市"),
        county: div(520324, "正安县"),
        townships: vec![div(520324001, "凤仪街道")],
        villages: vec![div(520324001001, "居委会"), div(520324001201, "村委会")],
        tags: vec![CountyTag::PovertyAlleviated],
    };
    vec![
        [&[0u8, 0][..], &provinces[..]].concat(),
        [
            &[1u8][..],
            &include_bytes!("../../../data/divisions/cities.csv.zst")[..],
        ]
        .concat(),
        [&[2u8][..], &key_counties[..]].concat(),
        [vec![3u8], serde_json::to_vec(&slice).unwrap()].concat(),
        [&[4u8][..], SEED_SCHEME.as_bytes()].concat(),
        [&[4u8][..], PROVINCIAL_POINTS_SCHEME.as_bytes()].concat(),
    ]
}

/// Every row of `level` from a register whose file for it is `file`.
fn rows(level: DivisionLevel, file: Vec<u8>) {
    let mut files: [Vec<u8>; 5] = Default::default();
    let at = LEVELS.iter().position(|l| *l == level).unwrap();
    files[at] = file;
    let source = RegisterSource::from_bytes(files);
    let _ = source.for_each(
        level,
        |row| -> Result<(), app_core::reference::ReferenceError> {
            assert_eq!(row.level, level);
            // The domain's own rule for a code of this level (digits, width, a
            // real province).
            let valid = match level {
                DivisionLevel::Province => ProvinceCode::from_int(row.code).is_ok(),
                DivisionLevel::Prefecture => PrefectureCode::from_int(row.code).is_ok(),
                DivisionLevel::County => CountyCode::from_int(row.code).is_ok(),
                DivisionLevel::Township => TownshipCode::from_int(row.code).is_ok(),
                DivisionLevel::Village => VillageCode::from_int(row.code).is_ok(),
            };
            assert!(valid, "{level:?} row with code {} imported", row.code);
            Ok(())
        },
    );
}

fuzz_target!(
    init: ketepai_fuzz::write_seeds(seeds),
    |data: &[u8]| {
        let Some((&mode, body)) = data.split_first() else {
            return;
        };
        match mode % 5 {
            0 => {
                // A CSV, compressed here so that mutations reach the rows.
                let Some((&level, csv)) = body.split_first() else {
                    return;
                };
                let level = LEVELS[level as usize % 5];
                rows(level, zstd::encode_all(csv, 1).unwrap());
            }
            1 => {
                // A file as stored: zstd.
                for level in LEVELS {
                    rows(level, body.to_vec());
                }
            }
            2 => {
                let list = CountyList::from_bytes(CountyTag::NationalKey, "fuzz", body.to_vec());
                let _ = list.counties();
            }
            3 => {
                let Some(slice) = ketepai_fuzz::json_round_trip::<RegisterSlice>(body) else {
                    return;
                };
                let (store, _dir) = ketepai_fuzz::device_store();
                if store.import_slice(&slice).is_ok() {
                    let county = app_core::domain::CountyCode::from_int(slice.county.code).unwrap();
                    let back = store.export_slice(county).unwrap().expect("the imported county");
                    let codes = |d: &[SliceDivision]| {
                        let mut c: Vec<u64> = d.iter().map(|d| d.code).collect();
                        c.sort_unstable();
                        c.dedup();
                        c
                    };
                    assert_eq!(codes(&back.villages), codes(&slice.villages));
                    assert_eq!(codes(&back.townships), codes(&slice.townships));
                }
            }
            _ => {
                if let Ok(text) = std::str::from_utf8(body) {
                    let _ = Scheme::parse(text);
                }
            }
        }
    }
);
