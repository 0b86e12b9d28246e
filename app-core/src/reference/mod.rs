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
            if code_text.len() != level.digits() {
                return Err(row_err(
                    line,
                    format!("code {code_text:?} is not {} digits", level.digits()),
                )
                .into());
            }
            let code: u64 = code_text
                .parse()
                .map_err(|_| row_err(line, format!("code {code_text:?} is not a number")))?;
            f(DivisionRow {
                level,
                code,
                name: name.to_string(),
            })?;
        }
        Ok(())
    }
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
