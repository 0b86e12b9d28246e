//! Reference data: the national division register (NBS 2023 statistical
//! codes) and the policy's county lists, read from the compact files the
//! repository carries under `data/` (see `data/README.md` for provenance and
//! licence).
//!
//! This module parses; it does not decide where rows go. The device store
//! ([`crate::store`]) and the sync server each import rows into their own
//! tables. A device needs only its county, which it receives from the server
//! as a [`crate::store::RegisterSlice`].

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

use crate::domain::{CountyCode, CountyTag, DivisionLevel};

/// The version label of the register the repository carries.
pub const REGISTER_VERSION: &str = "nbs-2023";

/// A reference-data file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// The file could not be opened or decompressed.
    #[error("{file}: {source}")]
    Io {
        /// Which file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// A row did not parse.
    #[error("{file} line {line}: {message}")]
    Row {
        /// Which file.
        file: String,
        /// 1-based line.
        line: u64,
        /// What was wrong.
        message: String,
    },
}

/// One division of the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionRow {
    /// Its level.
    pub level: DivisionLevel,
    /// Its code in integer form.
    pub code: u64,
    /// Its official name.
    pub name: String,
}

/// The five compressed CSV files of the register, from disk or embedded.
#[derive(Debug, Clone)]
pub struct RegisterSource {
    files: [Cow<'static, [u8]>; 5],
}

const FILE_NAMES: [&str; 5] = [
    "provinces.csv.zst",
    "cities.csv.zst",
    "areas.csv.zst",
    "streets.csv.zst",
    "villages.csv.zst",
];

fn level_index(level: DivisionLevel) -> usize {
    match level {
        DivisionLevel::Province => 0,
        DivisionLevel::Prefecture => 1,
        DivisionLevel::County => 2,
        DivisionLevel::Township => 3,
        DivisionLevel::Village => 4,
    }
}

impl RegisterSource {
    /// Reads the files from a directory such as the repository's
    /// `data/divisions`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, ReferenceError> {
        let dir = dir.as_ref();
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map(Cow::Owned)
                .map_err(|source| ReferenceError::Io {
                    file: dir.join(name).display().to_string(),
                    source,
                })
        };
        Ok(RegisterSource {
            files: [
                read(FILE_NAMES[0])?,
                read(FILE_NAMES[1])?,
                read(FILE_NAMES[2])?,
                read(FILE_NAMES[3])?,
                read(FILE_NAMES[4])?,
            ],
        })
    }

    /// Uses files embedded in a binary with `include_bytes!`, in the order
    /// provinces, prefectures, counties, townships, villages.
    pub fn from_static(files: [&'static [u8]; 5]) -> Self {
        RegisterSource {
            files: files.map(Cow::Borrowed),
        }
    }

    /// Uses files already in memory (read or received elsewhere), in the
    /// order of [`RegisterSource::from_static`].
    pub fn from_bytes(files: [Vec<u8>; 5]) -> Self {
        RegisterSource {
            files: files.map(Cow::Owned),
        }
    }

    /// Calls `f` for every division of `level`, in file order (code order).
    pub fn for_each<E>(
        &self,
        level: DivisionLevel,
        mut f: impl FnMut(DivisionRow) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<ReferenceError>,
    {
        let idx = level_index(level);
        let file = FILE_NAMES[idx];
        let decoder =
            zstd::Decoder::new(&self.files[idx][..]).map_err(|source| ReferenceError::Io {
                file: file.into(),
                source,
            })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(decoder);
        let mut record = csv::StringRecord::new();
        let row_err = |line: u64, message: String| ReferenceError::Row {
            file: file.into(),
            line,
            message,
        };
        loop {
            let more = reader
                .read_record(&mut record)
                .map_err(|e| row_err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
            if !more {
                break;
            }
            let line = record.position().map_or(0, |p| p.line());
            let code_text = record
                .get(0)
                .ok_or_else(|| row_err(line, "no code".into()))?;
            let name = record
                .get(1)
                .ok_or_else(|| row_err(line, "no name".into()))?;
            // The domain's own rule for a code of this level: exactly its
            // digits (no sign, no space), under a real province.
            let code = parse_code(level, code_text).map_err(|e| row_err(line, e.to_string()))?;
            f(DivisionRow {
                level,
                code,
                name: name.to_string(),
            })?;
        }
        Ok(())
    }
}

/// A division code of `level` in integer form, by the domain's rule.
fn parse_code(level: DivisionLevel, text: &str) -> Result<u64, crate::domain::CodeError> {
    use crate::domain::{PrefectureCode, ProvinceCode, TownshipCode, VillageCode};
    Ok(match level {
        DivisionLevel::Province => ProvinceCode::parse(text)?.as_int(),
        DivisionLevel::Prefecture => PrefectureCode::parse(text)?.as_int(),
        DivisionLevel::County => CountyCode::parse(text)?.as_int(),
        DivisionLevel::Township => TownshipCode::parse(text)?.as_int(),
        DivisionLevel::Village => VillageCode::parse(text)?.as_int(),
    })
}

/// A county list from `data/counties`, as `(tag, source name, bytes)`.
#[derive(Debug, Clone)]
pub struct CountyList {
    /// The tag the list gives.
    pub tag: CountyTag,
    /// Where it came from (the file's stem), recorded with each tag.
    pub source: &'static str,
    csv: Cow<'static, [u8]>,
}

impl CountyList {
    /// The two lists the repository carries, read from `data/counties`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Vec<CountyList>, ReferenceError> {
        let dir = dir.as_ref();
        let lists = [
            (CountyTag::PovertyAlleviated, "poverty_counties_832"),
            (CountyTag::NationalKey, "key_counties_160_partial"),
        ];
        lists
            .into_iter()
            .map(|(tag, source)| {
                let path = dir.join(format!("{source}.csv"));
                let mut bytes = Vec::new();
                std::fs::File::open(&path)
                    .and_then(|mut f| f.read_to_end(&mut bytes))
                    .map_err(|e| ReferenceError::Io {
                        file: path.display().to_string(),
                        source: e,
                    })?;
                Ok(CountyList {
                    tag,
                    source,
                    csv: Cow::Owned(bytes),
                })
            })
            .collect()
    }

    /// A list embedded with `include_bytes!`.
    pub fn from_static(tag: CountyTag, source: &'static str, csv: &'static [u8]) -> Self {
        CountyList {
            tag,
            source,
            csv: Cow::Borrowed(csv),
        }
    }

    /// A list already in memory (read or received elsewhere).
    pub fn from_bytes(tag: CountyTag, source: &'static str, csv: Vec<u8>) -> Self {
        CountyList {
            tag,
            source,
            csv: Cow::Owned(csv),
        }
    }

    /// The counties on the list (the `county_code` column).
    pub fn counties(&self) -> Result<Vec<CountyCode>, ReferenceError> {
        let mut reader = csv::Reader::from_reader(&self.csv[..]);
        let headers = reader.headers().map_err(|e| ReferenceError::Row {
            file: self.source.into(),
            line: 1,
            message: e.to_string(),
        })?;
        let col = headers
            .iter()
            .position(|h| h == "county_code")
            .ok_or_else(|| ReferenceError::Row {
                file: self.source.into(),
                line: 1,
                message: "no county_code column".into(),
            })?;
        let mut out = Vec::new();
        for (i, rec) in reader.records().enumerate() {
            let line = i as u64 + 2;
            let rec = rec.map_err(|e| ReferenceError::Row {
                file: self.source.into(),
                line,
                message: e.to_string(),
            })?;
            let code = rec.get(col).unwrap_or_default();
            out.push(CountyCode::parse(code).map_err(|e| ReferenceError::Row {
                file: self.source.into(),
                line,
                message: e.to_string(),
            })?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A register of one level whose file holds `csv`.
    fn source(level: DivisionLevel, csv: &str) -> RegisterSource {
        let mut files: [Vec<u8>; 5] = Default::default();
        files[level_index(level)] = zstd::encode_all(csv.as_bytes(), 1).unwrap();
        RegisterSource::from_bytes(files)
    }

    fn codes(level: DivisionLevel, csv: &str) -> Result<Vec<u64>, ReferenceError> {
        let mut out = Vec::new();
        source(level, csv).for_each(level, |row| -> Result<(), ReferenceError> {
            out.push(row.code);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn register_rows_are_read_with_their_codes() {
        assert_eq!(
            codes(DivisionLevel::Province, "code,name\n11,北京市\n52,贵州省\n").unwrap(),
            vec![11, 52]
        );
        assert_eq!(
            codes(DivisionLevel::County, "code,name\n520324,正安县\n").unwrap(),
            vec![520324]
        );
    }

    /// Found while writing the `reference_data` fuzz target's invariant: a
    /// code of the right width that is not digits (`+1`), or not under a
    /// real province (`01`), was read as a division with code 1.
    #[test]
    fn a_register_row_whose_code_breaks_the_domain_rule_is_refused() {
        for bad in ["+1", "01", " 5", "99"] {
            let err =
                codes(DivisionLevel::Province, &format!("code,name\n{bad},某地\n")).expect_err(bad);
            assert!(
                matches!(err, ReferenceError::Row { line: 2, .. }),
                "{bad}: {err}"
            );
        }
        let err = codes(DivisionLevel::Village, "code,name\n+52032400100,某村\n").unwrap_err();
        assert!(matches!(err, ReferenceError::Row { .. }), "{err}");
    }
}
