//! Concurrent values of one field (冲突): Automerge keeps every value written
//! concurrently to a map key and picks a deterministic winner; this module
//! finds the keys that hold more than one *distinct* value so that a sync
//! admin can see them and pick one.
//!
//! Text objects never conflict (their edits merge); list items are visited so
//! that a conflict inside, say, a photo's caption is found too. Values are
//! shown as JSON in the record's serde form (timestamps as milliseconds,
//! objects by their content), which is also the form a resolution's chosen
//! value takes ([`crate::doc::RecordDoc::read_with`]).

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
    /// The value as JSON (objects by their content).
    pub value: serde_json::Value,
    /// The Automerge operation that wrote it (`counter@actor`), which names
    /// the value when a resolution picks it.
    pub op: String,
}

impl ConflictValue {
    /// The actor (hex) of the operation that wrote the value.
    pub fn actor(&self) -> &str {
        self.op.split_once('@').map_or("", |(_, actor)| actor)
    }

    /// The operation's counter.
    pub fn counter(&self) -> Option<u64> {
        self.op.split_once('@').and_then(|(c, _)| c.parse().ok())
    }
}

/// A path as `a.b.0.c`.
pub fn path_string(path: &[PathSegment]) -> String {
    path.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(".")
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
        path_string(&self.path)
    }

    /// Whether every value is a scalar (not an object).
    pub fn is_scalar(&self) -> bool {
        self.values
            .iter()
            .all(|v| !v.value.is_object() && !v.value.is_array())
    }
}

/// Every field of `doc` with more than one distinct concurrent value, but
/// none under the root keys in `skip`.
pub fn find(doc: &Automerge, skip: &[&str]) -> Vec<Conflict> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    let keys: Vec<String> = doc
        .keys(automerge::ROOT)
        .filter(|k| !skip.contains(&k.as_str()))
        .collect();
    for key in keys {
        path.push(PathSegment::Key(key.clone()));
        check_prop(doc, &automerge::ROOT, key.into(), &mut path, &mut out);
        path.pop();
    }
    out
}

/// How deep objects are rendered; deeper content shows as null.
const RENDER_DEPTH: usize = 8;

/// A value of the document as JSON in the record's serde form.
pub(crate) fn render(doc: &Automerge, value: &Value<'_>, id: &ObjId) -> serde_json::Value {
    render_at(doc, value, id, RENDER_DEPTH)
}

fn render_at(doc: &Automerge, value: &Value<'_>, id: &ObjId, depth: usize) -> serde_json::Value {
    if depth == 0 {
        return serde_json::Value::Null;
    }
    match value {
        Value::Scalar(s) => scalar_json(s.as_ref()),
        Value::Object(ObjType::Text) => serde_json::Value::String(doc.text(id).unwrap_or_default()),
        Value::Object(ObjType::Map) | Value::Object(ObjType::Table) => {
            let mut map = serde_json::Map::new();
            for key in doc.keys(id) {
                if let Ok(Some((v, child))) = doc.get(id, key.as_str()) {
                    map.insert(key, render_at(doc, &v, &child, depth - 1));
                }
            }
            serde_json::Value::Object(map)
        }
        Value::Object(ObjType::List) => serde_json::Value::Array(
            (0..doc.length(id))
                .filter_map(|i| doc.get(id, i).ok().flatten())
                .map(|(v, child)| render_at(doc, &v, &child, depth - 1))
                .collect(),
        ),
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
        ScalarValue::Timestamp(t) => (*t).into(),
        ScalarValue::Counter(c) => i64::from(c).into(),
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
    let Ok(mut all) = doc.get_all(obj, prop) else {
        return;
    };
    // `get_all` lists the values in operation order; the one the key shows
    // (what `get` answers) is the last. List it first.
    all.reverse();
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
