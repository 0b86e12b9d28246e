//! The division register on this device: import (national, a few counties,
//! or a slice from the server), lookups for pickers, and the [`Register`]
//! that validation uses.
//!
//! Invariant: a county is in `register_counties` only if all of its
//! townships and villages are in the tables, so "not in the register" is an
//! answer only for a loaded county.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use super::{Result, Store, StoreError};
use crate::api::Division;
use crate::domain::validate::{Register, VillageLookup};
use crate::domain::{CountyCode, CountyTag, DivisionLevel, TownshipCode, VillageCode};
use crate::reference::{CountyList, ReferenceError, RegisterSource};

impl From<ReferenceError> for StoreError {
    fn from(e: ReferenceError) -> Self {
        StoreError::Reference(e.to_string())
    }
}

/// One division inside a [`RegisterSlice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceDivision {
    /// The code in integer form.
    pub code: u64,
    /// The official name.
    pub name: String,
}

/// The part of the register one county's devices need: the county, its
/// ancestors, its townships and villages, and its tags. The server sends it
/// once, and again only when its version changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterSlice {
    /// Register version, e.g. `nbs-2023`.
    pub version: String,
    /// The province.
    pub province: SliceDivision,
    /// The prefecture.
    pub prefecture: SliceDivision,
    /// The county.
    pub county: SliceDivision,
    /// Its townships, in code order.
    pub townships: Vec<SliceDivision>,
    /// Its villages, in code order.
    pub villages: Vec<SliceDivision>,
    /// The county's tags.
    pub tags: Vec<CountyTag>,
}

/// How many divisions an import wrote, per level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStats {
    /// Provinces.
    pub provinces: u64,
    /// Prefectures.
    pub prefectures: u64,
    /// Counties.
    pub counties: u64,
    /// Townships.
    pub townships: u64,
    /// Villages.
    pub villages: u64,
}

fn table(level: DivisionLevel) -> &'static str {
    match level {
        DivisionLevel::Province => "div_provinces",
        DivisionLevel::Prefecture => "div_prefectures",
        DivisionLevel::County => "div_counties",
        DivisionLevel::Township => "div_townships",
        DivisionLevel::Village => "div_villages",
    }
}

/// Validation's view of the register, over a connection or transaction.
pub(super) struct SqlRegister<'a>(pub(super) &'a Connection);

impl Register for SqlRegister<'_> {
    fn lookup_village(&self, village: VillageCode) -> VillageLookup {
        lookup_village(self.0, village).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "register lookup failed");
            VillageLookup::CountyNotLoaded
        })
    }
}

fn lookup_village(conn: &Connection, village: VillageCode) -> Result<VillageLookup> {
    let known = conn
        .prepare_cached("SELECT 1 FROM div_villages WHERE code = ?1")?
        .exists([village.as_int() as i64])?;
    if known {
        return Ok(VillageLookup::Known);
    }
    let loaded = conn
        .prepare_cached("SELECT 1 FROM register_counties WHERE county = ?1")?
        .exists([village.county().as_int() as i64])?;
    Ok(if loaded {
        VillageLookup::NotInRegister
    } else {
        VillageLookup::CountyNotLoaded
    })
}

fn insert_division(
    tx: &Transaction<'_>,
    level: DivisionLevel,
    code: u64,
    name: &str,
) -> Result<()> {
    tx.prepare_cached(&format!(
        "INSERT INTO {}(code, name) VALUES (?1, ?2)
         ON CONFLICT(code) DO UPDATE SET name = excluded.name",
        table(level)
    ))?
    .execute(params![code as i64, name])?;
    Ok(())
}

fn clear_county(tx: &Transaction<'_>, county: CountyCode) -> Result<()> {
    let (lo, hi) = county.village_range();
    tx.execute(
        "DELETE FROM div_villages WHERE code BETWEEN ?1 AND ?2",
        params![lo as i64, hi as i64],
    )?;
    tx.execute(
        "DELETE FROM div_townships WHERE code BETWEEN ?1 AND ?2",
        params![(lo / 1000) as i64, (hi / 1000) as i64],
    )?;
    Ok(())
}

fn mark_loaded(tx: &Transaction<'_>, county: u64, version: &str, at: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO register_counties(county, version, loaded_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(county) DO UPDATE SET version = excluded.version, loaded_at = excluded.loaded_at",
    )?
    .execute(params![county as i64, version, at])?;
    Ok(())
}

fn divisions(conn: &Connection, level: DivisionLevel, lo: u64, hi: u64) -> Result<Vec<Division>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT code, name FROM {} WHERE code BETWEEN ?1 AND ?2 ORDER BY code",
        table(level)
    ))?;
    let rows = stmt.query_map(params![lo as i64, hi as i64], |r| {
        Ok(Division {
            code: format!("{:0width$}", r.get::<_, i64>(0)?, width = level.digits()),
            name: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Store {
    /// Imports the register from `source`: every province, prefecture and
    /// county, and the townships and villages of `only` (every county when
    /// `None`). One transaction; re-importing replaces names.
    pub fn import_register(
        &self,
        source: &RegisterSource,
        only: Option<&[CountyCode]>,
    ) -> Result<ImportStats> {
        let wanted: Option<HashSet<u64>> = only.map(|c| c.iter().map(|c| c.as_int()).collect());
        let keep = |code: u64, level: DivisionLevel| match &wanted {
            None => true,
            Some(set) => set.contains(&(code / 10u64.pow((level.digits() - 6) as u32))),
        };
        let now = self.clock.now().as_millis();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut stats = ImportStats::default();
        if let Some(set) = &wanted {
            for county in set {
                clear_county(
                    &tx,
                    CountyCode::from_int(*county)
                        .map_err(|e| StoreError::Reference(e.to_string()))?,
                )?;
            }
        }
        for level in DivisionLevel::ALL {
            source.for_each(*level, |row| -> Result<()> {
                let counted = match level {
                    DivisionLevel::Province => &mut stats.provinces,
                    DivisionLevel::Prefecture => &mut stats.prefectures,
                    DivisionLevel::County => &mut stats.counties,
                    DivisionLevel::Township | DivisionLevel::Village => {
                        if !keep(row.code, *level) {
                            return Ok(());
                        }
                        if *level == DivisionLevel::Township {
                            &mut stats.townships
                        } else {
                            &mut stats.villages
                        }
                    }
                };
                insert_division(&tx, *level, row.code, &row.name)?;
                *counted += 1;
                if *level == DivisionLevel::County && keep_county(&wanted, row.code) {
                    mark_loaded(&tx, row.code, crate::reference::REGISTER_VERSION, now)?;
                }
                Ok(())
            })?;
        }
        tx.commit()?;
        Ok(stats)
    }

    /// Tags counties from the policy lists; returns how many tags were set.
    pub fn import_county_lists(&self, lists: &[CountyList]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut n = 0;
        for list in lists {
            for county in list.counties()? {
                n += tx.execute(
                    "INSERT OR REPLACE INTO county_tags(county, tag, source) VALUES (?1, ?2, ?3)",
                    params![county.as_int() as i64, list.tag.code(), list.source],
                )?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Installs a county's slice from the server, replacing what was there.
    pub fn import_slice(&self, slice: &RegisterSlice) -> Result<()> {
        let county = CountyCode::from_int(slice.county.code)
            .map_err(|e| StoreError::Reference(e.to_string()))?;
        let (lo, hi) = county.village_range();
        for t in &slice.townships {
            if !(lo / 1000..=hi / 1000).contains(&t.code) {
                return Err(StoreError::Reference(format!(
                    "township {} is not in county {county}",
                    t.code
                )));
            }
        }
        for v in &slice.villages {
            if !(lo..=hi).contains(&v.code) {
                return Err(StoreError::Reference(format!(
                    "village {} is not in county {county}",
                    v.code
                )));
            }
        }
        let now = self.clock.now().as_millis();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        insert_division(
            &tx,
            DivisionLevel::Province,
            slice.province.code,
            &slice.province.name,
        )?;
        insert_division(
            &tx,
            DivisionLevel::Prefecture,
            slice.prefecture.code,
            &slice.prefecture.name,
        )?;
        insert_division(
            &tx,
            DivisionLevel::County,
            slice.county.code,
            &slice.county.name,
        )?;
        clear_county(&tx, county)?;
        for t in &slice.townships {
            insert_division(&tx, DivisionLevel::Township, t.code, &t.name)?;
        }
        for v in &slice.villages {
            insert_division(&tx, DivisionLevel::Village, v.code, &v.name)?;
        }
        tx.execute(
            "DELETE FROM county_tags WHERE county = ?1",
            [county.as_int() as i64],
        )?;
        for tag in &slice.tags {
            tx.execute(
                "INSERT INTO county_tags(county, tag, source) VALUES (?1, ?2, 'server')",
                params![county.as_int() as i64, tag.code()],
            )?;
        }
        mark_loaded(&tx, county.as_int(), &slice.version, now)?;
        tx.commit()?;
        Ok(())
    }

    /// The slice of a loaded county, as the server would send it.
    pub fn export_slice(&self, county: CountyCode) -> Result<Option<RegisterSlice>> {
        let conn = self.conn();
        let version: Option<String> = conn
            .query_row(
                "SELECT version FROM register_counties WHERE county = ?1",
                [county.as_int() as i64],
                |r| r.get(0),
            )
            .optional()?;
        let Some(version) = version else {
            return Ok(None);
        };
        let one = |level: DivisionLevel, code: u64| -> Result<SliceDivision> {
            let name: String = conn
                .query_row(
                    &format!("SELECT name FROM {} WHERE code = ?1", table(level)),
                    [code as i64],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or_default();
            Ok(SliceDivision { code, name })
        };
        let (lo, hi) = county.village_range();
        let to_slice = |d: Vec<Division>| -> Vec<SliceDivision> {
            d.into_iter()
                .map(|d| SliceDivision {
                    code: d.code.parse().unwrap_or_default(),
                    name: d.name,
                })
                .collect()
        };
        Ok(Some(RegisterSlice {
            version,
            province: one(DivisionLevel::Province, county.province().as_int())?,
            prefecture: one(DivisionLevel::Prefecture, county.prefecture().as_int())?,
            county: one(DivisionLevel::County, county.as_int())?,
            townships: to_slice(divisions(
                &conn,
                DivisionLevel::Township,
                lo / 1000,
                hi / 1000,
            )?),
            villages: to_slice(divisions(&conn, DivisionLevel::Village, lo, hi)?),
            tags: county_tags(&conn, county)?,
        }))
    }

    /// The townships of a county, in code order.
    pub fn townships_of(&self, county: CountyCode) -> Result<Vec<Division>> {
        let (lo, hi) = county.village_range();
        divisions(&self.conn(), DivisionLevel::Township, lo / 1000, hi / 1000)
    }

    /// The villages of a township, in code order.
    pub fn villages_of(&self, township: TownshipCode) -> Result<Vec<Division>> {
        let (lo, hi) = township.village_range();
        divisions(&self.conn(), DivisionLevel::Village, lo, hi)
    }

    /// The name of a division, if the register holds it.
    pub fn division_name(&self, level: DivisionLevel, code: u64) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT name FROM {} WHERE code = ?1", table(level)),
                [code as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// A county's tags.
    pub fn county_tags(&self, county: CountyCode) -> Result<Vec<CountyTag>> {
        county_tags(&self.conn(), county)
    }

    /// Sets or clears a tag on a county; `source` says who decided.
    pub fn set_county_tag(
        &self,
        county: CountyCode,
        tag: CountyTag,
        on: bool,
        source: &str,
    ) -> Result<()> {
        let conn = self.conn();
        if on {
            conn.execute(
                "INSERT OR REPLACE INTO county_tags(county, tag, source) VALUES (?1, ?2, ?3)",
                params![county.as_int() as i64, tag.code(), source],
            )?;
        } else {
            conn.execute(
                "DELETE FROM county_tags WHERE county = ?1 AND tag = ?2",
                params![county.as_int() as i64, tag.code()],
            )?;
        }
        Ok(())
    }

    /// Counties whose townships and villages are loaded.
    pub fn loaded_counties(&self) -> Result<Vec<CountyCode>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT county FROM register_counties ORDER BY county")?;
        let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
        rows.map(|r| {
            CountyCode::from_int(r? as u64).map_err(|e| StoreError::Corrupt(e.to_string()))
        })
        .collect()
    }

    /// What the register on this device says about a village.
    pub fn lookup_village(&self, village: VillageCode) -> Result<VillageLookup> {
        lookup_village(&self.conn(), village)
    }
}

fn keep_county(wanted: &Option<HashSet<u64>>, county: u64) -> bool {
    wanted.as_ref().is_none_or(|set| set.contains(&county))
}

fn county_tags(conn: &Connection, county: CountyCode) -> Result<Vec<CountyTag>> {
    let mut stmt =
        conn.prepare_cached("SELECT tag FROM county_tags WHERE county = ?1 ORDER BY tag")?;
    let rows = stmt.query_map([county.as_int() as i64], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for tag in rows {
        let tag = tag?;
        out.push(
            CountyTag::from_code(&tag)
                .ok_or_else(|| StoreError::Corrupt(format!("county tag {tag:?}")))?,
        );
    }
    Ok(out)
}
