//! Reconciling without touching what did not change.
//!
//! autosurgeon writes every scalar of a record on each reconcile, and
//! Automerge treats a put of the value a key already shows as a resolution:
//! it deletes the key's other, concurrent values. So a plain reconcile of an
//! edit to one field would silently resolve every conflict elsewhere in the
//! record (and a team lead's approval would write content fields it may not
//! write). [`Guarded`] wraps the transaction and drops a put whose value the
//! key already shows (or a null where the key is absent, as for a field a
//! later schema added), so only what changed is written and concurrent
//! values stay for a person to resolve. A resolution names the one key it
//! collapses (`force`), whose put always goes through.

use std::ops::RangeBounds;

use automerge::transaction::{Transactable, Transaction};
use automerge::{self as am, AutomergeError, ObjId, ScalarValue, Value};
use autosurgeon::{Doc, ReadDoc};

/// A transaction that skips puts which would change nothing visible.
pub(crate) struct Guarded<'a, 't> {
    tx: &'a mut Transaction<'t>,
    force: Option<(ObjId, am::Prop)>,
}

impl<'a, 't> Guarded<'a, 't> {
    /// Guards every key.
    pub(crate) fn new(tx: &'a mut Transaction<'t>) -> Self {
        Guarded { tx, force: None }
    }

    /// Guards every key but `prop` of `obj`, whose put is always written
    /// (collapsing its concurrent values into one).
    pub(crate) fn forcing(tx: &'a mut Transaction<'t>, obj: ObjId, prop: am::Prop) -> Self {
        Guarded {
            tx,
            force: Some((obj, prop)),
        }
    }

    fn shows(&self, obj: &ObjId, prop: &am::Prop, value: &ScalarValue) -> bool {
        if self
            .force
            .as_ref()
            .is_some_and(|(o, p)| o == obj && p == prop)
        {
            return false;
        }
        match am::ReadDoc::get(&*self.tx, obj, prop.clone()) {
            Ok(Some((Value::Scalar(current), _))) => current.as_ref() == value,
            Ok(None) => matches!(value, ScalarValue::Null),
            _ => false,
        }
    }
}

impl ReadDoc for Guarded<'_, '_> {
    type Parents<'b>
        = am::Parents<'b>
    where
        Self: 'b;

    fn get_heads(&self) -> Vec<am::ChangeHash> {
        ReadDoc::get_heads(&*self.tx)
    }

    fn get<P: Into<am::Prop>>(
        &self,
        obj: &ObjId,
        prop: P,
    ) -> Result<Option<(Value<'_>, ObjId)>, AutomergeError> {
        ReadDoc::get(&*self.tx, obj, prop)
    }

    fn object_type<O: AsRef<ObjId>>(&self, obj: O) -> Option<am::ObjType> {
        ReadDoc::object_type(&*self.tx, obj)
    }

    fn map_range<'b, O, R>(&'b self, obj: O, range: R) -> am::iter::MapRange<'b>
    where
        R: RangeBounds<String> + 'b,
        O: AsRef<ObjId>,
    {
        ReadDoc::map_range(&*self.tx, obj, range)
    }

    fn list_range<O: AsRef<ObjId>, R: RangeBounds<usize>>(
        &self,
        obj: O,
        range: R,
    ) -> am::iter::ListRange<'_> {
        ReadDoc::list_range(&*self.tx, obj, range)
    }

    fn length<O: AsRef<ObjId>>(&self, obj: O) -> usize {
        ReadDoc::length(&*self.tx, obj)
    }

    fn text<O: AsRef<ObjId>>(&self, obj: O) -> Result<String, AutomergeError> {
        ReadDoc::text(&*self.tx, obj)
    }

    fn parents<O: AsRef<ObjId>>(&self, obj: O) -> Result<Self::Parents<'_>, AutomergeError> {
        ReadDoc::parents(&*self.tx, obj)
    }

    fn is_empty(&self) -> bool {
        ReadDoc::is_empty(&*self.tx)
    }
}

impl Doc for Guarded<'_, '_> {
    fn put<O: AsRef<ObjId>, P: Into<am::Prop>, V: Into<ScalarValue>>(
        &mut self,
        obj: O,
        prop: P,
        value: V,
    ) -> Result<(), AutomergeError> {
        let (prop, value) = (prop.into(), value.into());
        if self.shows(obj.as_ref(), &prop, &value) {
            return Ok(());
        }
        Transactable::put(self.tx, obj, prop, value)
    }

    fn put_object<O: AsRef<ObjId>, P: Into<am::Prop>>(
        &mut self,
        obj: O,
        prop: P,
        value: am::ObjType,
    ) -> Result<ObjId, AutomergeError> {
        Transactable::put_object(self.tx, obj, prop, value)
    }

    fn insert<O: AsRef<ObjId>, V: Into<ScalarValue>>(
        &mut self,
        obj: O,
        index: usize,
        value: V,
    ) -> Result<(), AutomergeError> {
        Transactable::insert(self.tx, obj, index, value)
    }

    fn insert_object<O: AsRef<ObjId>>(
        &mut self,
        obj: O,
        index: usize,
        value: am::ObjType,
    ) -> Result<ObjId, AutomergeError> {
        Transactable::insert_object(self.tx, obj, index, value)
    }

    fn increment<O: AsRef<ObjId>, P: Into<am::Prop>>(
        &mut self,
        obj: O,
        prop: P,
        value: i64,
    ) -> Result<(), AutomergeError> {
        Transactable::increment(self.tx, obj, prop, value)
    }

    fn delete<O: AsRef<ObjId>, P: Into<am::Prop>>(
        &mut self,
        obj: O,
        prop: P,
    ) -> Result<(), AutomergeError> {
        Transactable::delete(self.tx, obj, prop)
    }

    fn splice_text<O: AsRef<ObjId>>(
        &mut self,
        obj: O,
        pos: usize,
        del: isize,
        text: &str,
    ) -> Result<(), AutomergeError> {
        Transactable::splice_text(self.tx, obj, pos, del, text)
    }

    fn update_text<O: AsRef<ObjId>>(&mut self, obj: O, text: &str) -> Result<(), AutomergeError> {
        Transactable::update_text(self.tx, obj.as_ref(), text)
    }

    fn batch_create<O: AsRef<ObjId>, P: Into<am::Prop>>(
        &mut self,
        obj: O,
        prop: P,
        value: am::hydrate::Value,
        insert: bool,
    ) -> Result<(), AutomergeError> {
        let prop = prop.into();
        match value {
            am::hydrate::Value::Scalar(sv) if !insert => self.put(obj, prop, sv),
            value => Doc::batch_create(self.tx, obj, prop, value, insert),
        }
    }

    fn init_root_from_hydrate(&mut self, value: &am::hydrate::Map) -> Result<(), AutomergeError> {
        Transactable::init_root_from_hydrate(self.tx, value)
    }
}
