//! Narrative fields as Automerge text: a `String` in the domain, a text object
//! in the document, so that two devices editing the same description both keep
//! their insertions.
//!
//! Used as `#[autosurgeon(with = "crate::doc::text")]`. Reconciling diffs the
//! new string against the document's text and applies only the splices.

use automerge::{ObjType, ScalarValue, Value};
use autosurgeon::{HydrateError, Prop, ReadDoc, Reconciler, reconcile::TextReconciler};

/// Writes `value` as a text object, changing only what differs.
pub(crate) fn reconcile<R: Reconciler>(value: &String, mut r: R) -> Result<(), R::Error> {
    let mut text = r.text()?;
    text.update(value)
}

/// Reads a text object; a plain string scalar is accepted too, so that a
/// document written by a simpler writer still loads.
pub(crate) fn hydrate<D: ReadDoc>(
    doc: &D,
    obj: &automerge::ObjId,
    prop: Prop<'_>,
) -> Result<String, HydrateError> {
    match doc.get(obj, &prop)? {
        Some((Value::Object(ObjType::Text), id)) => Ok(doc.text(&id)?),
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(s) => Ok(s.to_string()),
            ScalarValue::Null => Ok(String::new()),
            other => Err(HydrateError::unexpected("text", format!("{other:?}"))),
        },
        Some((other, _)) => Err(HydrateError::unexpected("text", format!("{other:?}"))),
        None => Ok(String::new()),
    }
}
