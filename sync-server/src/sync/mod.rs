//! Push validation: which changes of a push are stored, and why the others
//! are not. No I/O and no SQL. The plan's input and output live here:
//! [`PushBatch::needs`] says which rows a store must read, the store reads
//! them into a [`PushFetched`], [`plan`] turns the batch and those rows
//! into an outcome per change and the [`PushWrites`] to make. The store
//! depends on this module, never the reverse.
//!
//! A store plans *outside* its write transaction (planning is the costly
//! part: Automerge applies and hydrates every document), so that pushes plan
//! in parallel; inside the write transaction it reads the same rows again
//! and writes the plan only if they are equal, else it plans again there
//! (`crate::store::push` is that sequence, written once for both
//! backends). Because [`plan`] is a pure function of the batch and the
//! rows, a plan made on equal rows is the plan the transaction would have
//! made.
//!
//! For each change, in request order:
//!
//! 1. it must decode (`refused/undecodable`);
//! 2. a change the document already holds is a `duplicate` (replays are
//!    harmless); a change stored under another document is
//!    `refused/wrong_document`;
//! 3. a document refused earlier for this device stays quarantined
//!    (`refused/quarantined`) until a sync admin releases it;
//! 4. its dependencies must be in the document, stored or accepted earlier
//!    in this push (`missing_deps`);
//! 5. its Automerge actor must not be bound to another device
//!    (`refused/foreign_actor`); an unbound actor is bound to this device
//!    when its first change is stored;
//! 6. it is applied to a copy of the document; the record is read before
//!    and after, and [`app_core::scope::check_write`] decides whether this
//!    user may make this change. The record's author, team and county come
//!    from the record itself, never from the device.
//! 7. Automerge keeps concurrent values, so a change can write a field
//!    without changing what the record shows (its value loses to another).
//!    Such hidden writes are checked against the same rules (see
//!    [`check_hidden_writes`]), so that no one can stash a value in a
//!    field they may not write.
//! 8. the record after the change must keep the device's own record rules
//!    ([`check_record_rules`]: app-core's `validate`, the village against
//!    the register the store read, [`PushFetched::register`]), else
//!    `refused/invalid_record` naming the field.
//!
//! The first refusal quarantines the document for the rest of the push
//! (and for later pushes from the same device); other documents go through.

mod batch;
mod hidden;
mod plan;

pub use batch::{Incoming, PushBatch, PushFetched, PushNeeds};
pub use hidden::{check_hidden_writes, touched_fields};
pub use plan::{
    Cut, DocUpdate, KEPT_HEAD, MAX_DEVICE_QUARANTINE_BYTES, MAX_KEPT_CHANGE, NewQuarantine,
    PushWrites, RecordFacts, check_record_rules, hydrate, plan, record_facts, record_photos,
};
