//! Names of what the console's values mention: the users, teams, devices
//! and villages that a refused change or an audit entry names by ID or code,
//! so that an admin reads "王芳" and "坪上村" rather than a UUID and twelve
//! digits. Only what lies in the actor's area is named.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use uuid::Uuid;

use app_core::domain::{DeviceId, TeamId, UserId, VillageCode};

use crate::ops::{Actor, Ops, OpsError};

/// Most IDs and codes named in one answer: a page's values rarely hold more
/// than a few dozen, and every ID costs a lookup.
const MAX_NAMED: usize = 200;

/// The IDs and village codes in some JSON values, found anywhere inside
/// them (a team ID inside a scope object, a village in a list).
#[derive(Debug, Default)]
pub(crate) struct Mentions {
    ids: BTreeSet<Uuid>,
    villages: BTreeSet<u64>,
}

impl Mentions {
    /// Collects what `value` mentions.
    pub(crate) fn add(&mut self, value: &Value) {
        match value {
            Value::String(s) => {
                if let Ok(id) = Uuid::parse_str(s) {
                    self.ids.insert(id);
                } else if let Some(code) = village_code(s) {
                    self.villages.insert(code);
                }
            }
            Value::Number(n) => {
                if let Some(code) = n.as_u64().filter(|c| is_village_code(*c)) {
                    self.villages.insert(code);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.add(v)),
            Value::Object(map) => map.values().for_each(|v| self.add(v)),
            Value::Bool(_) | Value::Null => {}
        }
    }

    /// Adds what `other` found.
    pub(crate) fn extend(&mut self, other: Mentions) {
        self.ids.extend(other.ids);
        self.villages.extend(other.villages);
    }

    /// The names among `names` of what this found.
    pub(crate) fn pick(&self, names: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let ids = self.ids.iter().map(|id| id.hyphenated().to_string());
        let villages = self.villages.iter().map(u64::to_string);
        ids.chain(villages)
            .filter_map(|k| names.get(&k).map(|n| (k, n.clone())))
            .collect()
    }

    /// Collects what an optional value mentions.
    pub(crate) fn add_opt(&mut self, value: Option<&Value>) {
        if let Some(v) = value {
            self.add(v);
        }
    }
}

fn is_village_code(code: u64) -> bool {
    (100_000_000_000..1_000_000_000_000).contains(&code) && VillageCode::from_int(code).is_ok()
}

fn village_code(s: &str) -> Option<u64> {
    if s.len() != 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|c| is_village_code(*c))
}

impl Ops {
    /// The names of what `mentions` holds that lie in the actor's area,
    /// keyed by the text the values carry (the hyphenated UUID, the
    /// village's twelve digits). An ID that is nobody's in the area stays
    /// unnamed.
    pub(crate) async fn names_of(
        &self,
        actor: &Actor,
        mentions: Mentions,
    ) -> Result<BTreeMap<String, String>, OpsError> {
        let mut names = BTreeMap::new();
        for id in mentions.ids.into_iter().take(MAX_NAMED) {
            if let Some(name) = self.id_name(actor, id).await? {
                names.insert(id.hyphenated().to_string(), name);
            }
        }
        let area = actor.area();
        let villages: Vec<u64> = mentions
            .villages
            .into_iter()
            .filter(|c| VillageCode::from_int(*c).is_ok_and(|v| area.covers_county(v.county())))
            .take(MAX_NAMED)
            .collect();
        if !villages.is_empty() {
            for (code, name) in self.store().village_names(villages).await? {
                names.insert(code.to_string(), name);
            }
        }
        Ok(names)
    }

    /// A user's shown name, a team's or a device's name, in the area.
    async fn id_name(&self, actor: &Actor, id: Uuid) -> Result<Option<String>, OpsError> {
        let found = |r: Result<String, OpsError>| match r {
            Ok(name) => Ok(Some(name)),
            Err(OpsError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        };
        if let Some(name) = found(
            self.find_user(actor, UserId::from_uuid(id))
                .await
                .map(|u| u.record.user.display_name),
        )? {
            return Ok(Some(name));
        }
        if let Some(name) = found(
            self.find_team(actor, TeamId::from_uuid(id))
                .await
                .map(|t| t.name),
        )? {
            return Ok(Some(name));
        }
        found(
            self.find_device(actor, DeviceId::from_uuid(id))
                .await
                .map(|d| format!("{}（{}）", d.device.name, d.display_name)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_found_anywhere_inside_a_value() {
        let team = "01a23327-9131-7ba7-8175-db60cc40adf8";
        let mut m = Mentions::default();
        m.add(&serde_json::json!({
            "scope": { "code": team, "level": "team" },
            "village": "520324001001",
            "villages": [520324001002u64],
            "farmers_served": 9,
            "phone": "13800138000",
            "date": "2026-11-26",
        }));
        assert_eq!(m.ids.len(), 1);
        assert!(m.ids.contains(&Uuid::parse_str(team).unwrap()));
        assert_eq!(
            m.villages.iter().copied().collect::<Vec<_>>(),
            vec![520324001001, 520324001002]
        );
    }
}
