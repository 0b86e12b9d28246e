//! The county register as the village picker needs it: townships with their
//! villages, each with the pinyin initials of its name, so that typing `xz`
//! finds 新州镇. Built natively from the store (the pinyin table stays out of
//! the wasm interface).

use app_core::api::{Place, RegisterView, Township};
use app_core::domain::{CountyCode, DivisionLevel, TownshipCode};
use app_core::store::{Store, StoreError};
use pinyin::ToPinyin;

/// Lowercase pinyin initials of `name`: the first letter of each Chinese
/// character's reading; other letters and digits are kept as they are.
pub fn initials(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c.to_pinyin() {
            Some(p) => p.first_letter().chars().next(),
            None if c.is_ascii_alphanumeric() => Some(c.to_ascii_lowercase()),
            None => None,
        })
        .collect()
}

fn place(code: String, name: String) -> Place {
    let initials = initials(&name);
    Place {
        code,
        name,
        initials,
    }
}

/// The townships and villages of `county` held by the store.
pub fn register_view(store: &Store, county: CountyCode) -> Result<RegisterView, StoreError> {
    let name = store.division_name(DivisionLevel::County, county.as_int())?;
    let mut townships = Vec::new();
    for t in store.townships_of(county)? {
        let Ok(code) = TownshipCode::parse(&t.code) else {
            continue;
        };
        let villages = store
            .villages_of(code)?
            .into_iter()
            .map(|v| place(v.code, v.name))
            .collect();
        townships.push(Township {
            place: place(t.code, t.name),
            villages,
        });
    }
    Ok(RegisterView {
        county: name.map(|name| app_core::api::Division {
            code: county.to_string(),
            name,
        }),
        townships,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_of_village_and_township_names() {
        assert_eq!(initials("新州镇"), "xzz");
        assert_eq!(initials("凤仪街道"), "fyjd");
        assert_eq!(initials("三村2组"), "sc2z");
    }
}
