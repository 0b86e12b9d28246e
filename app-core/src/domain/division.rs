//! Administrative division codes (行政区划代码): validated newtypes for the five
//! levels of the NBS statistical register, and county tags.
//!
//! A code is digits only, of its level's exact length: 2 for a province, 4 for
//! a prefecture, 6 for a county, 9 for a township, 12 for a village. A code's
//! prefixes are its ancestors' codes, so a village knows its township, county,
//! prefecture and province without a lookup. Whether a code is *in the
//! register* is a separate question that needs the register
//! ([`crate::reference`]).

use serde::{Deserialize, Serialize};

/// A division code that is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Not the right number of digits, or not digits.
    #[error("{level} code {value:?} is not {digits} digits")]
    Format {
        /// The level that was expected.
        level: DivisionLevel,
        /// How many digits that level has.
        digits: usize,
        /// What was given.
        value: String,
    },
    /// The leading province part cannot be a province.
    #[error("{level} code {value:?} does not start with a province code")]
    Province {
        /// The level that was expected.
        level: DivisionLevel,
        /// What was given.
        value: String,
    },
}

code_enum! {
    /// A level of the division register (行政区划级别).
    pub enum DivisionLevel {
        /// 省级: province, autonomous region, municipality.
        Province = ("province", "省"),
        /// 地级: prefecture-level city, prefecture, league.
        Prefecture = ("prefecture", "市"),
        /// 县级: county, county-level city, district, banner.
        County = ("county", "县"),
        /// 乡级: township, town, sub-district.
        Township = ("township", "乡镇"),
        /// 村级: administrative village or community.
        Village = ("village", "行政村"),
    }
}

impl DivisionLevel {
    /// Number of digits in a code of this level.
    pub const fn digits(self) -> usize {
        match self {
            DivisionLevel::Province => 2,
            DivisionLevel::Prefecture => 4,
            DivisionLevel::County => 6,
            DivisionLevel::Township => 9,
            DivisionLevel::Village => 12,
        }
    }
}

fn parse_code(level: DivisionLevel, s: &str) -> Result<u64, CodeError> {
    let digits = level.digits();
    if s.len() != digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeError::Format {
            level,
            digits,
            value: s.to_string(),
        });
    }
    let value: u64 = s.parse().map_err(|_| CodeError::Format {
        level,
        digits,
        value: s.to_string(),
    })?;
    let province = value / 10u64.pow((digits - 2) as u32);
    if !(11..=82).contains(&province) {
        return Err(CodeError::Province {
            level,
            value: s.to_string(),
        });
    }
    Ok(value)
}

macro_rules! division_code {
    ($(#[$meta:meta])* $name:ident, $level:expr, $int:ty) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($int);

        impl $name {
            /// The level of this code.
            pub const LEVEL: DivisionLevel = $level;

            /// Parses a code from its digits.
            pub fn parse(s: &str) -> Result<Self, CodeError> {
                parse_code($level, s).map(|v| $name(v as $int))
            }

            /// From the integer form used in SQLite.
            pub fn from_int(value: u64) -> Result<Self, CodeError> {
                Self::parse(&format!("{:0width$}", value, width = $level.digits()))
            }

            /// The integer form used in SQLite.
            pub const fn as_int(self) -> u64 {
                self.0 as u64
            }

            /// The inclusive range of integer codes of the villages inside this
            /// division (a village's own range is itself).
            pub const fn village_range(self) -> (u64, u64) {
                let scale = 10u64.pow((12 - $level.digits()) as u32);
                let lo = self.0 as u64 * scale;
                (lo, lo + scale - 1)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{:0width$}", self.0, width = $level.digits())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl std::str::FromStr for $name {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, CodeError> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }

        doc_as_string!($name);
    };
}

division_code!(
    /// Province code (省级代码), 2 digits.
    ProvinceCode,
    DivisionLevel::Province,
    u8
);
division_code!(
    /// Prefecture code (地级代码), 4 digits.
    PrefectureCode,
    DivisionLevel::Prefecture,
    u16
);
division_code!(
    /// County code (县级代码), 6 digits.
    CountyCode,
    DivisionLevel::County,
    u32
);
division_code!(
    /// Township code (乡级代码), 9 digits.
    TownshipCode,
    DivisionLevel::Township,
    u32
);
division_code!(
    /// Administrative village code (村级代码), 12 digits.
    VillageCode,
    DivisionLevel::Village,
    u64
);

impl PrefectureCode {
    /// The province this prefecture is in.
    pub fn province(self) -> ProvinceCode {
        ProvinceCode((self.0 / 100) as u8)
    }
}

impl CountyCode {
    /// The prefecture this county is in.
    pub fn prefecture(self) -> PrefectureCode {
        PrefectureCode((self.0 / 100) as u16)
    }
    /// The province this county is in.
    pub fn province(self) -> ProvinceCode {
        ProvinceCode((self.0 / 10_000) as u8)
    }
}

impl TownshipCode {
    /// The county this township is in.
    pub fn county(self) -> CountyCode {
        CountyCode(self.0 / 1_000)
    }
}

impl VillageCode {
    /// The township this village is in.
    pub fn township(self) -> TownshipCode {
        TownshipCode((self.0 / 1_000) as u32)
    }
    /// The county this village is in.
    pub fn county(self) -> CountyCode {
        self.township().county()
    }
}

code_enum! {
    /// A tag on a county from the policy's lists. Tags are data that an
    /// administrator can change without a release.
    pub enum CountyTag {
        /// 脱贫县: one of the 832 poverty-alleviated counties.
        PovertyAlleviated = ("poverty_alleviated", "脱贫县"),
        /// 国家乡村振兴重点帮扶县: one of the 160 national key counties.
        NationalKey = ("national_key", "国家乡村振兴重点帮扶县"),
        /// 定点帮扶县: a county with designated (paired) assistance.
        Designated = ("designated", "定点帮扶县"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_village_knows_its_ancestors() {
        let v = VillageCode::parse("522633101201").unwrap();
        assert_eq!(v.township().to_string(), "522633101");
        assert_eq!(v.county().to_string(), "522633");
        assert_eq!(v.county().prefecture().to_string(), "5226");
        assert_eq!(v.county().province().to_string(), "52");
    }

    #[test]
    fn malformed_codes_are_typed_errors_with_the_value() {
        let err = VillageCode::parse("52263310120").unwrap_err();
        assert_eq!(
            err.to_string(),
            "village code \"52263310120\" is not 12 digits"
        );
        assert!(matches!(
            VillageCode::parse("52263310120x"),
            Err(CodeError::Format { .. })
        ));
        assert!(matches!(
            CountyCode::parse("992633"),
            Err(CodeError::Province { .. })
        ));
        assert!(CountyCode::parse("").is_err());
        assert!(
            CountyCode::parse("５２２６３３").is_err(),
            "full-width digits"
        );
    }

    #[test]
    fn ranges_cover_exactly_the_villages_inside() {
        let c = CountyCode::parse("522633").unwrap();
        assert_eq!(c.village_range(), (522_633_000_000, 522_633_999_999));
        let t = TownshipCode::parse("522633101").unwrap();
        assert_eq!(t.village_range(), (522_633_101_000, 522_633_101_999));
    }

    #[test]
    fn codes_round_trip_through_json_as_strings() {
        let v = VillageCode::parse("110101001001").unwrap();
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, "\"110101001001\"");
        assert_eq!(serde_json::from_str::<VillageCode>(&json).unwrap(), v);
        assert!(serde_json::from_str::<VillageCode>("\"11010100100\"").is_err());
        assert_eq!(VillageCode::from_int(110101001001).unwrap(), v);
    }
}
