//! What a quarantined change tries to write, for the sync admin's console:
//! each change of one device's quarantined document is applied, in the
//! order the server received them, to a copy of the document as the
//! server holds it, and the record (read with the plan's own
//! [`crate::sync::hydrate`]) is compared before and after. Fields the
//! change touches without changing what the record shows (a value that
//! loses to a concurrent one, see [`crate::sync::touched_fields`]) are
//! listed as hidden writes. No I/O.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use app_core::admin::FieldWrite;
use app_core::doc::{RecordDoc, decode_change};
use app_core::scope::AnyRecord;

use crate::sync::{hydrate, touched_fields};

/// The record's fields as JSON.
fn fields(record: &AnyRecord) -> serde_json::Map<String, serde_json::Value> {
    let value = match record {
        AnyRecord::ServiceLog(l) => serde_json::to_value(l),
        AnyRecord::Consultation(c) => serde_json::to_value(c),
    };
    match value {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// The fields that differ between two readings of a record (`before` is
/// `None` for a record not created yet), and the touched fields whose value
/// does not change, as hidden writes.
pub fn writes(
    before: Option<&AnyRecord>,
    after: &AnyRecord,
    touched: &[String],
) -> Vec<FieldWrite> {
    let a = before.map(fields).unwrap_or_default();
    let b = fields(after);
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out: Vec<FieldWrite> = keys
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| FieldWrite {
            field: k.clone(),
            before: a.get(k).cloned(),
            after: b.get(k).cloned(),
            hidden: false,
        })
        .collect();
    for field in touched {
        if before.is_some() && !out.iter().any(|w| &w.field == field) {
            out.push(FieldWrite {
                field: field.clone(),
                before: a.get(field).cloned(),
                after: b.get(field).cloned(),
                hidden: true,
            });
        }
    }
    out
}

/// What each change of one (device, document) quarantine group writes,
/// by row: `rows` are `(row, bytes)` in the order received, `snapshot` the
/// document as stored. A change the server holds already writes nothing;
/// one that does not decode, does not apply, or needs changes neither the
/// server nor the group has, answers why.
pub fn decode(
    snapshot: Option<&[u8]>,
    rows: &[(i64, Vec<u8>)],
) -> HashMap<i64, Result<Vec<FieldWrite>, String>> {
    let mut out = HashMap::new();
    let mut doc = match snapshot.map(RecordDoc::load) {
        None => RecordDoc::empty(),
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            for (id, _) in rows {
                out.insert(*id, Err(format!("the stored document does not load: {e}")));
            }
            return out;
        }
    };
    let mut record = hydrate(&doc).ok();
    for (id, bytes) in rows {
        let change = match decode_change(bytes) {
            Ok(c) => c,
            Err(e) => {
                out.insert(*id, Err(format!("not an Automerge change: {e}")));
                continue;
            }
        };
        if doc.has_change(&change.hash()) {
            out.insert(*id, Ok(Vec::new()));
            continue;
        }
        // Automerge is fed untrusted bytes: a panic is an answer, not a
        // failed listing.
        let step = catch_unwind(AssertUnwindSafe(|| {
            let mut next = doc.clone();
            next.apply([change.clone()])
                .map_err(|e| format!("it does not apply: {e}"))?;
            if !next.has_change(&change.hash()) {
                return Err("it needs changes the server does not have".to_owned());
            }
            let after = hydrate(&next)
                .map_err(|e| format!("the document would not hold a valid record: {e}"))?;
            let touched: Vec<String> = touched_fields(&change, &next).into_iter().collect();
            Ok((next, after, touched))
        }));
        match step {
            Ok(Ok((next, after, touched))) => {
                out.insert(*id, Ok(writes(record.as_ref(), &after, &touched)));
                doc = next;
                record = Some(after);
            }
            Ok(Err(why)) => {
                out.insert(*id, Err(why));
            }
            Err(_) => {
                out.insert(*id, Err("it cannot be applied".to_owned()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::doc::DocError;
    use app_core::domain::{ServiceLog, Timestamp};
    use app_core::testing::{self, team_id, user_id};
    use automerge::ActorId;

    fn log() -> ServiceLog {
        testing::service_log(user_id(1), Some(team_id(1)), testing::village())
    }

    #[test]
    fn a_refused_edit_shows_the_fields_and_values_it_writes() {
        let actor = ActorId::random();
        let (doc, mut created) =
            RecordDoc::create(&log(), actor.clone(), Timestamp::from_millis(5)).unwrap();
        let stored = doc.save();
        let mut edited = doc.clone();
        let e1 = edited
            .edit::<ServiceLog, (), DocError>(&actor, Timestamp::from_millis(6), |l| {
                l.farmers_served = 99;
                l.description = "改写".into();
                Ok(())
            })
            .unwrap()
            .change
            .unwrap();
        let e2 = edited
            .edit::<ServiceLog, (), DocError>(&actor, Timestamp::from_millis(7), |l| {
                l.farmers_served = 100;
                Ok(())
            })
            .unwrap()
            .change
            .unwrap();
        let rows = vec![
            (1, e1.raw_bytes().to_vec()),
            (2, e2.raw_bytes().to_vec()),
            (3, b"not a change".to_vec()),
            (4, created.bytes().into_owned()),
        ];
        let out = decode(Some(&stored), &rows);
        let first = out[&1].as_ref().unwrap();
        let names: Vec<&str> = first.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(names, ["description", "farmers_served"]);
        let served = &first[1];
        assert_eq!(served.before, Some(serde_json::json!(log().farmers_served)));
        assert_eq!(served.after, Some(serde_json::json!(99)));
        assert!(!served.hidden);
        // The second builds on the first: it needs it, and shows its own step.
        let second = out[&2].as_ref().unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].before, Some(serde_json::json!(99)));
        assert_eq!(second[0].after, Some(serde_json::json!(100)));
        assert!(
            out[&3]
                .as_ref()
                .unwrap_err()
                .contains("not an Automerge change")
        );
        assert_eq!(out[&4], Ok(Vec::new()), "the server has it already");
    }

    #[test]
    fn a_change_without_its_dependencies_says_so_and_a_new_record_lists_every_field() {
        let actor = ActorId::random();
        let (mut doc, mut created) =
            RecordDoc::create(&log(), actor.clone(), Timestamp::from_millis(5)).unwrap();
        let edit = doc
            .edit::<ServiceLog, (), DocError>(&actor, Timestamp::from_millis(6), |l| {
                l.farmers_served = 3;
                Ok(())
            })
            .unwrap()
            .change
            .unwrap();
        let out = decode(None, &[(7, edit.raw_bytes().to_vec())]);
        assert!(
            out[&7]
                .as_ref()
                .unwrap_err()
                .contains("server does not have")
        );
        let out = decode(None, &[(8, created.bytes().into_owned())]);
        let fields = out[&8].as_ref().unwrap();
        assert!(
            fields
                .iter()
                .any(|w| w.field == "author" && w.before.is_none())
        );
        assert!(fields.iter().all(|w| !w.hidden));
    }
}
