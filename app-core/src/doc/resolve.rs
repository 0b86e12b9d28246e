//! Writing a resolution: a value at a conflict's path, over every
//! concurrent value there ([`collapse`]), and a JSON value put into a copy
//! of the document so that the record's own mapping types and checks it
//! ([`put_json`]).

use automerge::transaction::{Transactable, Transaction};
use automerge::{ObjId, ObjType, Prop, ReadDoc, ScalarValue, Value};

use super::conflicts::{PathSegment, path_string};
use super::{DocError, Record, guard};

fn prop_of(segment: &PathSegment) -> Prop {
    match segment {
        PathSegment::Key(k) => Prop::Map(k.clone()),
        PathSegment::Index(i) => Prop::Seq(*i),
    }
}

/// The object holding the last segment of `path` and that segment, walking
/// the values the document shows.
fn navigate<D: ReadDoc>(doc: &D, path: &[PathSegment]) -> Result<(ObjId, Prop), DocError> {
    let no_conflict = || DocError::NoConflict(path_string(path));
    let (last, parents) = path.split_last().ok_or_else(no_conflict)?;
    let mut obj = automerge::ROOT;
    for segment in parents {
        match doc.get(&obj, prop_of(segment))? {
            Some((Value::Object(_), child)) => obj = child,
            _ => return Err(no_conflict()),
        }
    }
    Ok((obj, prop_of(last)))
}

/// Writes `record` with the concurrent values at `path` collapsed into the
/// one the record holds: a scalar is put again over all of them; an object
/// (a map, a list, a text) is removed with its rivals and written afresh.
pub(super) fn collapse<R: Record>(
    tx: &mut Transaction<'_>,
    path: &[PathSegment],
    record: &R,
) -> Result<(), DocError> {
    let (obj, prop) = navigate(&*tx, path)?;
    let values = tx.get_all(&obj, prop.clone())?;
    if values.iter().any(|(v, _)| matches!(v, Value::Object(_))) {
        if matches!(prop, Prop::Seq(_)) {
            return Err(DocError::BadValue {
                path: path_string(path),
                value: String::new(),
                reason: "an item of a list is resolved by resolving its fields".into(),
            });
        }
        tx.delete(&obj, prop.clone())?;
    }
    autosurgeon::reconcile(
        &mut guard::Guarded::forcing(tx, obj.clone(), prop.clone()),
        record,
    )?;
    if tx.get_all(&obj, prop)?.len() > 1 {
        return Err(DocError::NoConflict(path_string(path)));
    }
    Ok(())
}

/// What a value at a place held, to write a JSON value with the same types.
#[derive(Clone, Copy)]
enum Hint {
    Uint,
    Int,
    F64,
    Timestamp,
    Text,
    Other,
}

fn hint_of(value: &Value<'_>) -> Hint {
    match value {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Uint(_) => Hint::Uint,
            ScalarValue::Int(_) => Hint::Int,
            ScalarValue::F64(_) => Hint::F64,
            ScalarValue::Timestamp(_) => Hint::Timestamp,
            _ => Hint::Other,
        },
        Value::Object(ObjType::Text) => Hint::Text,
        Value::Object(_) => Hint::Other,
    }
}

/// Where a value goes: a key of a map, or a new item of a list.
enum Place {
    Put(ObjId, Prop),
    Insert(ObjId, usize),
}

impl Place {
    fn scalar(&self, tx: &mut Transaction<'_>, v: ScalarValue) -> Result<(), DocError> {
        match self {
            Place::Put(o, p) => tx.put(o, p.clone(), v)?,
            Place::Insert(o, i) => tx.insert(o, *i, v)?,
        }
        Ok(())
    }
    fn object(&self, tx: &mut Transaction<'_>, t: ObjType) -> Result<ObjId, DocError> {
        Ok(match self {
            Place::Put(o, p) => tx.put_object(o, p.clone(), t)?,
            Place::Insert(o, i) => tx.insert_object(o, *i, t)?,
        })
    }
}

/// The value the old object `old` held at `prop` (for types), if any.
fn old_child(
    tx: &Transaction<'_>,
    old: Option<&ObjId>,
    prop: Prop,
) -> Option<(Value<'static>, ObjId)> {
    let old = old?;
    tx.get(old, prop)
        .ok()
        .flatten()
        .map(|(v, id)| (v.into_owned(), id))
}

fn write(
    tx: &mut Transaction<'_>,
    place: Place,
    value: &serde_json::Value,
    old: Option<(Value<'static>, ObjId)>,
    path: &str,
) -> Result<(), DocError> {
    use serde_json::Value as J;
    let bad = |reason: &str| DocError::BadValue {
        path: path.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let hint = old.as_ref().map_or(Hint::Other, |(v, _)| hint_of(v));
    let old_obj = old.as_ref().and_then(|(v, id)| match v {
        Value::Object(_) => Some(id.clone()),
        Value::Scalar(_) => None,
    });
    match value {
        J::Null => place.scalar(tx, ScalarValue::Null),
        J::Bool(b) => place.scalar(tx, ScalarValue::Boolean(*b)),
        J::String(s) => match hint {
            Hint::Text => {
                let text = place.object(tx, ObjType::Text)?;
                tx.splice_text(&text, 0, 0, s)?;
                Ok(())
            }
            _ => place.scalar(tx, ScalarValue::Str(s.as_str().into())),
        },
        J::Number(n) => {
            let scalar = match hint {
                Hint::Uint => n.as_u64().map(ScalarValue::Uint),
                Hint::Int => n.as_i64().map(ScalarValue::Int),
                Hint::F64 => n.as_f64().map(ScalarValue::F64),
                Hint::Timestamp => n.as_i64().map(ScalarValue::Timestamp),
                Hint::Text | Hint::Other => n
                    .as_u64()
                    .map(ScalarValue::Uint)
                    .or_else(|| n.as_i64().map(ScalarValue::Int))
                    .or_else(|| n.as_f64().map(ScalarValue::F64)),
            };
            place.scalar(tx, scalar.ok_or_else(|| bad("a number of the wrong kind"))?)
        }
        J::Array(items) => {
            let list = place.object(tx, ObjType::List)?;
            for (i, item) in items.iter().enumerate() {
                let old = old_child(tx, old_obj.as_ref(), Prop::Seq(i));
                write(tx, Place::Insert(list.clone(), i), item, old, path)?;
            }
            Ok(())
        }
        J::Object(fields) => {
            let map = place.object(tx, ObjType::Map)?;
            for (key, item) in fields {
                let old = old_child(tx, old_obj.as_ref(), Prop::Map(key.clone()));
                write(
                    tx,
                    Place::Put(map.clone(), Prop::Map(key.clone())),
                    item,
                    old,
                    path,
                )?;
            }
            Ok(())
        }
    }
}

/// Puts the JSON `value` at `path`, in the types the value it replaces
/// had (a count stays an unsigned integer, a time a timestamp, a narrative
/// a text object).
pub(super) fn put_json(
    tx: &mut Transaction<'_>,
    path: &[PathSegment],
    value: &serde_json::Value,
) -> Result<(), DocError> {
    let (obj, prop) = navigate(&*tx, path)?;
    let old = tx
        .get(&obj, prop.clone())?
        .map(|(v, id)| (v.into_owned(), id));
    write(tx, Place::Put(obj, prop), value, old, &path_string(path))
}
