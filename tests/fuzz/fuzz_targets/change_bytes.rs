//! Change bytes as a device pushes them, judged by the server's plan
//! against a stored record document (apply to a copy, hydrate, check the
//! writer's rights and hidden writes, validate), or as a new document.
//!
//! Two kinds of input: raw bytes (with the chunk checksum fixed up so that
//! mutations reach the parser's inner layers), and a sequence of Automerge
//! operations that a tampered device could commit, made into a real change
//! on the stored document or on an empty one.
//!
//! Asserts: nothing panics out of what the server runs; a stored change
//! leaves a document that loads, holds the document's own record, and keeps
//! the record rules (lengths, ranges, dates, the village in the register).
#![no_main]

use std::sync::LazyLock;

use app_core::doc::RecordDoc;
use app_core::domain::DocId;
use arbitrary::Arbitrary;
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ObjType, ReadDoc, ScalarValue, Value};
use libfuzzer_sys::fuzz_target;

/// The stored record: a service log of the pushing commissioner.
static STORED: LazyLock<(RecordDoc, DocId, Vec<u8>)> = LazyLock::new(ketepai_fuzz::stored_log);

#[derive(Debug, Arbitrary)]
enum Input {
    /// Raw change bytes.
    Raw(Vec<u8>),
    /// Operations on the stored document, by the device's own actor or
    /// another one.
    Edit { foreign_actor: bool, ops: Vec<Op> },
    /// Operations after the record's creation, both changes pushed as a
    /// new document.
    Create { ops: Vec<Op> },
}

#[derive(Debug, Arbitrary)]
enum Op {
    Put {
        obj: u8,
        key: Key,
        value: Scalar,
    },
    Delete {
        obj: u8,
        key: Key,
    },
    Object {
        obj: u8,
        key: Key,
        kind: u8,
    },
    Insert {
        obj: u8,
        index: u16,
        value: Scalar,
    },
    Splice {
        obj: u8,
        index: u16,
        delete: u8,
        text: String,
    },
    Increment {
        obj: u8,
        key: Key,
        by: i64,
    },
}

#[derive(Debug, Arbitrary)]
enum Key {
    /// One of the object's own keys.
    Existing(u8),
    /// Any key.
    Any(String),
}

#[derive(Debug, Arbitrary)]
enum Scalar {
    Str(String),
    Int(i64),
    Uint(u64),
    F64(f64),
    Bool(bool),
    Null,
    Bytes(Vec<u8>),
    Timestamp(i64),
    Counter(i64),
    Unknown(u8, Vec<u8>),
}

impl Scalar {
    fn value(&self) -> ScalarValue {
        match self {
            Scalar::Str(s) => ScalarValue::Str(s.as_str().into()),
            Scalar::Int(i) => ScalarValue::Int(*i),
            Scalar::Uint(u) => ScalarValue::Uint(*u),
            Scalar::F64(f) => ScalarValue::F64(*f),
            Scalar::Bool(b) => ScalarValue::Boolean(*b),
            Scalar::Null => ScalarValue::Null,
            Scalar::Bytes(b) => ScalarValue::Bytes(b.clone()),
            Scalar::Timestamp(t) => ScalarValue::Timestamp(*t),
            Scalar::Counter(c) => ScalarValue::counter(*c),
            Scalar::Unknown(type_code, bytes) => ScalarValue::Unknown {
                type_code: *type_code,
                bytes: bytes.clone(),
            },
        }
    }
}

/// Every object of the document (maps, lists, texts), root first.
fn objects(doc: &Automerge) -> Vec<(ObjId, ObjType)> {
    let mut out = vec![(automerge::ROOT, ObjType::Map)];
    let mut i = 0;
    while i < out.len() && out.len() < 256 {
        let (obj, kind) = out[i].clone();
        i += 1;
        let len = match kind {
            ObjType::Map | ObjType::Table => doc.keys(&obj).count(),
            ObjType::List | ObjType::Text => doc.length(&obj),
        };
        for n in 0..len.min(64) {
            let got = match kind {
                ObjType::Map | ObjType::Table => doc
                    .keys(&obj)
                    .nth(n)
                    .and_then(|k| doc.get(&obj, k.as_str()).ok().flatten()),
                ObjType::List => doc.get(&obj, n).ok().flatten(),
                ObjType::Text => None,
            };
            if let Some((Value::Object(kind), id)) = got {
                out.push((id, kind));
            }
        }
    }
    out
}

fn key(doc: &impl ReadDoc, obj: &ObjId, key: &Key) -> String {
    match key {
        Key::Existing(n) => {
            let keys: Vec<String> = doc.keys(obj).collect();
            if keys.is_empty() {
                String::new()
            } else {
                keys[*n as usize % keys.len()].clone()
            }
        }
        Key::Any(s) => s.clone(),
    }
}

/// Commits `ops` on `doc` as `actor`; the change's bytes, if any op took.
fn commit(mut doc: Automerge, actor: automerge::ActorId, ops: &[Op]) -> Option<Vec<u8>> {
    doc.set_actor(actor);
    let objs = objects(&doc);
    let mut tx = doc.transaction();
    for op in ops.iter().take(64) {
        let pick = |n: u8| objs[n as usize % objs.len()].clone();
        // Errors (a key on a list, an index past the end) are skipped, as a
        // device's Automerge would refuse them.
        let _ = match op {
            Op::Put { obj, key: k, value } => {
                let (o, t) = pick(*obj);
                match t {
                    ObjType::Map | ObjType::Table => {
                        let k = key(&tx, &o, k);
                        tx.put(&o, k, value.value())
                    }
                    _ => tx.put(&o, 0usize, value.value()),
                }
            }
            Op::Delete { obj, key: k } => {
                let (o, t) = pick(*obj);
                match t {
                    ObjType::Map | ObjType::Table => {
                        let k = key(&tx, &o, k);
                        tx.delete(&o, k)
                    }
                    _ => tx.delete(&o, 0usize),
                }
            }
            Op::Object { obj, key: k, kind } => {
                let (o, t) = pick(*obj);
                let kind = match kind % 3 {
                    0 => ObjType::Map,
                    1 => ObjType::List,
                    _ => ObjType::Text,
                };
                match t {
                    ObjType::Map | ObjType::Table => {
                        let k = key(&tx, &o, k);
                        tx.put_object(&o, k, kind).map(drop)
                    }
                    ObjType::List => tx.insert_object(&o, 0, kind).map(drop),
                    ObjType::Text => Ok(()),
                }
            }
            Op::Insert { obj, index, value } => {
                let (o, t) = pick(*obj);
                match t {
                    ObjType::List => tx.insert(&o, *index as usize, value.value()),
                    _ => Ok(()),
                }
            }
            Op::Splice {
                obj,
                index,
                delete,
                text,
            } => {
                let (o, t) = pick(*obj);
                match t {
                    ObjType::Text => tx
                        .splice_text(&o, *index as usize, *delete as isize, text)
                        .map(drop),
                    _ => Ok(()),
                }
            }
            Op::Increment { obj, key: k, by } => {
                let (o, t) = pick(*obj);
                match t {
                    ObjType::Map | ObjType::Table => {
                        let k = key(&tx, &o, k);
                        tx.increment(&o, k, *by)
                    }
                    _ => Ok(()),
                }
            }
        };
    }
    let (hash, _) = tx.commit();
    let hash = hash?;
    Some(doc.get_change_by_hash(&hash)?.raw_bytes().to_vec())
}

fuzz_target!(
    init: ketepai_fuzz::quiet_caught_panics(),
    |input: Input| {
        let (stored, id, created) = &*STORED;
        match input {
            Input::Raw(mut bytes) => {
                ketepai_fuzz::fix_checksum(&mut bytes);
                ketepai_fuzz::plan_change(*id, vec![bytes], Some(stored));
            }
            Input::Edit { foreign_actor, ops } => {
                let doc = Automerge::load(&stored.save()).unwrap();
                let actor = if foreign_actor {
                    automerge::ActorId::from(&[9u8; 16][..])
                } else {
                    ketepai_fuzz::actor()
                };
                if let Some(bytes) = commit(doc, actor, &ops) {
                    ketepai_fuzz::plan_change(*id, vec![bytes], Some(stored));
                }
            }
            Input::Create { ops } => {
                let doc = Automerge::load(&stored.save()).unwrap();
                if let Some(bytes) = commit(doc, ketepai_fuzz::actor(), &ops) {
                    ketepai_fuzz::plan_change(*id, vec![created.clone(), bytes], None);
                }
            }
        }
    }
);
