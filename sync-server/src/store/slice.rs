//! A county's register slice, written once for both backends: which
//! division rows it needs ([`queries`]) and the slice from what they
//! returned ([`assemble`]).

use app_core::domain::{CountyCode, CountyTag, DivisionLevel};
use app_core::store::{RegisterSlice, SliceDivision};

/// The division ranges (level, lowest code, highest code) a slice reads, in
/// the order [`assemble`] takes their rows: the county, its province and
/// its prefecture (one code each), its townships, its villages.
pub(crate) fn queries(county: CountyCode) -> [(DivisionLevel, u64, u64); 5] {
    let one = |level, code| (level, code, code);
    let (lo, hi) = county.village_range();
    [
        one(DivisionLevel::County, county.as_int()),
        one(DivisionLevel::Province, county.province().as_int()),
        one(DivisionLevel::Prefecture, county.prefecture().as_int()),
        (DivisionLevel::Township, lo / 1000, hi / 1000),
        (DivisionLevel::Village, lo, hi),
    ]
}

/// The slice from the rows of each of [`queries`] (in order) and the
/// county's tag codes; none when the register lacks the county. A missing
/// province or prefecture row leaves its name empty; unknown tags are
/// skipped.
pub(crate) fn assemble(
    county: CountyCode,
    rows: Vec<Vec<SliceDivision>>,
    tags: &[String],
) -> Option<RegisterSlice> {
    let [county_row, province, prefecture, townships, villages]: [Vec<SliceDivision>; 5] =
        rows.try_into().expect("one answer per query");
    let named = |rows: Vec<SliceDivision>, code: u64| {
        rows.into_iter().next().unwrap_or(SliceDivision {
            code,
            name: String::new(),
        })
    };
    Some(RegisterSlice {
        version: app_core::reference::REGISTER_VERSION.to_string(),
        county: county_row.into_iter().next()?,
        province: named(province, county.province().as_int()),
        prefecture: named(prefecture, county.prefecture().as_int()),
        townships,
        villages,
        tags: tags
            .iter()
            .filter_map(|t| CountyTag::from_code(t))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn div(code: u64, name: &str) -> SliceDivision {
        SliceDivision {
            code,
            name: name.into(),
        }
    }

    #[test]
    fn a_slice_reads_the_county_its_parents_and_its_villages() {
        let county: CountyCode = "520324".parse().unwrap();
        let q = queries(county);
        assert_eq!(q[0], (DivisionLevel::County, 520324, 520324));
        assert_eq!(q[1], (DivisionLevel::Province, 52, 52));
        assert_eq!(q[2], (DivisionLevel::Prefecture, 5203, 5203));
        let (lo, hi) = county.village_range();
        assert_eq!(q[3], (DivisionLevel::Township, lo / 1000, hi / 1000));
        assert_eq!(q[4], (DivisionLevel::Village, lo, hi));

        let slice = assemble(
            county,
            vec![
                vec![div(520324, "正安县")],
                vec![],
                vec![div(5203, "遵义市")],
                vec![div(520324001, "凤仪街道")],
                vec![div(520324001001, "北苑社区")],
            ],
            &["national_key".into(), "no_such_tag".into()],
        )
        .unwrap();
        assert_eq!(slice.county.name, "正安县");
        assert_eq!(
            slice.province,
            div(52, ""),
            "a missing parent keeps its code"
        );
        assert_eq!(slice.prefecture.name, "遵义市");
        assert_eq!(slice.villages.len(), 1);
        assert_eq!(slice.tags, vec![CountyTag::NationalKey]);
        let missing = vec![vec![]; 5];
        assert!(assemble(county, missing, &[]).is_none());
    }
}
