//! Append-only lists of a record (review decisions, resolutions): entries
//! are added, never edited or removed, and every replica reads the same
//! list.
//!
//! autosurgeon does not write these fields (the `with` mapping below is a
//! no-op both ways); [`crate::doc::RecordDoc`] reads them with [`read`] and
//! writes the new entries with [`append`]:
//!
//! - **Writing** inserts each new entry at the end of the list the document
//!   shows, creating the list only if the document has none (a schema-1
//!   document; schema-2 documents get their lists at creation). An entry
//!   appended after seeing another lands after it, so list order respects
//!   what each decider saw; concurrent appends are ordered the same way on
//!   every replica by Automerge.
//! - **Reading** takes the union of every concurrent list at the key (two
//!   devices that appended the first entry of a schema-1 document at once
//!   each created a list; Automerge shows only one of them), in Automerge's
//!   order of the lists, each entry once by ID. Nothing appended is ever
//!   hidden.

use std::collections::HashSet;

use automerge::transaction::{Transactable, Transaction};
use automerge::{Automerge, ObjType, ReadDoc, Value};
use autosurgeon::{Hydrate, HydrateError, Prop, Reconcile, Reconciler};

use super::DocError;
use crate::domain::{Decision, DecisionId, Resolution, ResolutionId};

/// An entry of an append-only list: its identity.
pub trait Entry: Reconcile + Hydrate + Clone + PartialEq {
    /// The entry's ID.
    type Id: Copy + Eq + std::hash::Hash;
    /// The ID.
    fn entry_id(&self) -> Self::Id;
}

impl Entry for Decision {
    type Id = DecisionId;
    fn entry_id(&self) -> DecisionId {
        self.id
    }
}

impl Entry for Resolution {
    type Id = ResolutionId;
    fn entry_id(&self) -> ResolutionId {
        self.id
    }
}

/// The `with` mapping: nothing is written by reconciling the record …
pub(crate) fn reconcile<T, R: Reconciler>(_: &Vec<T>, _: R) -> Result<(), R::Error> {
    Ok(())
}

/// … and nothing read by hydrating it; [`read`] fills the field.
pub(crate) fn hydrate<D: autosurgeon::ReadDoc, T>(
    _: &D,
    _: &automerge::ObjId,
    _: Prop<'_>,
) -> Result<Vec<T>, HydrateError> {
    Ok(Vec::new())
}

/// Every entry of the list(s) at root key `key`, each once.
pub(crate) fn read<T: Entry>(doc: &Automerge, key: &str) -> Result<Vec<T>, HydrateError> {
    let mut out: Vec<T> = Vec::new();
    let mut seen: HashSet<T::Id> = HashSet::new();
    // The list the key shows first (`get_all` lists it last).
    for (value, list) in doc.get_all(automerge::ROOT, key)?.into_iter().rev() {
        if !matches!(value, Value::Object(ObjType::List)) {
            continue;
        }
        for i in 0..doc.length(&list) {
            let entry: T = autosurgeon::hydrate_prop(doc, &list, i)?;
            if seen.insert(entry.entry_id()) {
                out.push(entry);
            }
        }
    }
    Ok(out)
}

/// Checks that `after` keeps every entry of `before`, unchanged and in the
/// same order; the entries it adds are what [`append`] writes.
pub(crate) fn check<T: Entry>(key: &str, before: &[T], after: &[T]) -> Result<(), DocError> {
    let mut rest = after.iter();
    for old in before {
        if !rest.by_ref().any(|new| new.entry_id() == old.entry_id()) {
            return Err(DocError::AppendOnly(key.to_string()));
        }
    }
    for old in before {
        if after.iter().find(|a| a.entry_id() == old.entry_id()) != Some(old) {
            return Err(DocError::AppendOnly(key.to_string()));
        }
    }
    Ok(())
}

/// Creates an empty list at `key` (a new schema-2 document).
pub(crate) fn create(tx: &mut Transaction<'_>, key: &str) -> Result<(), DocError> {
    tx.put_object(automerge::ROOT, key, ObjType::List)?;
    Ok(())
}

/// Appends the entries of `after` that `before` lacks to the end of the list
/// the document shows at `key`, creating it if there is none.
pub(crate) fn append<T: Entry>(
    tx: &mut Transaction<'_>,
    key: &str,
    before: &[T],
    after: &[T],
) -> Result<(), DocError> {
    check(key, before, after)?;
    let known: HashSet<T::Id> = before.iter().map(Entry::entry_id).collect();
    let new: Vec<&T> = after
        .iter()
        .filter(|e| !known.contains(&e.entry_id()))
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    let list = match tx.get(automerge::ROOT, key)? {
        Some((Value::Object(ObjType::List), list)) => list,
        _ => tx.put_object(automerge::ROOT, key, ObjType::List)?,
    };
    for entry in new {
        let at = tx.length(&list);
        autosurgeon::reconcile_insert(tx, list.clone(), at, entry)?;
    }
    Ok(())
}
