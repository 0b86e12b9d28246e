//! Concurrent values of one field (冲突): Automerge keeps every value written
//! concurrently to a map key and picks a deterministic winner; this module
//! finds the keys that hold more than one *distinct* value so that a sync
//! admin can see them and pick one.
//!
//! Text objects never conflict (their edits merge); list items are visited so
//! that a conflict inside, say, a photo's caption is found too.

use automerge::{Automerge, ObjId, ObjType, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};

/// One segment of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// A map key.
    Key(String),
    /// A list index.
    Index(usize),
}

impl std::fmt::Display for PathSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathSegment::Key(k) => f.write_str(k),
            PathSegment::Index(i) => write!(f, "{i}"),
        }
    }
}

/// One of the values a conflicted field holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictValue {
    /// The value, rendered for display (scalars as JSON, objects by type).
    pub value: serde_json::Value,
    /// The Automerge operation that wrote it (`counter@actor`), which names
    /// the value when a resolution picks it.
    pub op: String,
}

/// A field with concurrent values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    /// Where the field is, from the root.
    pub path: Vec<PathSegment>,
    /// The values; the first is the one Automerge currently shows.
    pub values: Vec<ConflictValue>,
}

impl Conflict {
    /// The path as `a.b.0.c`.
    pub fn path_string(&self) -> String {
        self.path
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// Every field of `doc` with more than one distinct concurrent value.
pub fn find(doc: &Automerge) -> Vec<Conflict> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    visit_map(doc, &automerge::ROOT, &mut path, &mut out);
    out
}

fn render(doc: &Automerge, value: &Value<'_>, id: &ObjId) -> serde_json::Value {
    match value {
        Value::Scalar(s) => scalar_json(s.as_ref()),
        Value::Object(ObjType::Text) => serde_json::Value::String(doc.text(id).unwrap_or_default()),
        Value::Object(t) => serde_json::json!({ "object": t.to_string() }),
    }
}

fn scalar_json(s: &ScalarValue) -> serde_json::Value {
    match s {
        ScalarValue::Str(s) => serde_json::Value::String(s.to_string()),
        ScalarValue::Int(i) => (*i).into(),
        ScalarValue::Uint(u) => (*u).into(),
        ScalarValue::F64(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        ScalarValue::Boolean(b) => (*b).into(),
        ScalarValue::Timestamp(t) => serde_json::json!({ "timestamp": t }),
        ScalarValue::Counter(c) => serde_json::json!({ "counter": i64::from(c) }),
        ScalarValue::Null => serde_json::Value::Null,
        ScalarValue::Bytes(b) => serde_json::json!({ "bytes": b.len() }),
        ScalarValue::Unknown { type_code, .. } => serde_json::json!({ "unknown": type_code }),
    }
}

fn check_prop(
    doc: &Automerge,
    obj: &ObjId,
    prop: automerge::Prop,
    path: &mut Vec<PathSegment>,
    out: &mut Vec<Conflict>,
) {
    let Ok(all) = doc.get_all(obj, prop) else {
        return;
    };
    if all.len() > 1 {
        let values: Vec<ConflictValue> = all
            .iter()
            .map(|(v, id)| ConflictValue {
                value: render(doc, v, id),
                op: id.to_string(),
            })
            .collect();
        let first = &values[0].value;
        if values.iter().any(|v| &v.value != first) {
            out.push(Conflict {
                path: path.clone(),
                values,
            });
        }
    }
    // Descend into the visible value only: edits inside a losing object are
    // not shown, and picking the losing object resolves them with it.
    if let Some((value, id)) = all.into_iter().next() {
        match value {
            Value::Object(ObjType::Map) | Value::Object(ObjType::Table) => {
                visit_map(doc, &id, path, out)
            }
            Value::Object(ObjType::List) => visit_list(doc, &id, path, out),
            _ => {}
        }
    }
}

fn visit_map(doc: &Automerge, obj: &ObjId, path: &mut Vec<PathSegment>, out: &mut Vec<Conflict>) {
    let keys: Vec<String> = doc.keys(obj).collect();
    for key in keys {
        path.push(PathSegment::Key(key.clone()));
        check_prop(doc, obj, key.into(), path, out);
        path.pop();
    }
}

fn visit_list(doc: &Automerge, obj: &ObjId, path: &mut Vec<PathSegment>, out: &mut Vec<Conflict>) {
    for i in 0..doc.length(obj) {
        path.push(PathSegment::Index(i));
        check_prop(doc, obj, i.into(), path, out);
        path.pop();
    }
}
