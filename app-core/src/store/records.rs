//! Record operations a user performs on this device: create, edit, submit,
//! decide (approve, return), answer, follow up, resolve a conflict, mark a
//! duplicate. Each validates, writes the document, the change into the
//! outbox and the projection in one durable transaction, offline; the
//! changes sync like any edit.

use rusqlite::Transaction;
use uuid::Uuid;

use super::register::SqlRegister;
use super::{Identity, Result, Store, StoreError, documents, outbox, projection};
use crate::api::{Choice, ReviewDecision};
use crate::doc::{Conflict, Edited, Record, RecordDoc};
use crate::domain::validate::Context;
use crate::domain::{
    Checked, Consultation, ConsultationId, ConsultationInput, DecisionId, DocId, DuplicateMark,
    FollowUpId, LogStatus, Resolution, ResolutionId, ReviewState, Role, ServiceLog, ServiceLogId,
    ServiceLogInput, Timestamp, UserId, Verdict,
};

/// What an edit's closure is given besides the record: the validation
/// context, and the document's heads (hex) before the edit, which a
/// decision records as the version its decider saw.
pub struct EditContext<'a> {
    /// Validation: the time, the register, fresh IDs.
    pub ctx: &'a Context<'a>,
    /// The heads of the document as it stood before the edit.
    pub heads: &'a [String],
}

/// How an edit writes: an ordinary edit, or a resolution of the conflict at
/// a path.
enum Write<'p> {
    Edit,
    Resolve(&'p Conflict),
}

fn mint_at(now: Timestamp) -> impl Fn() -> Uuid {
    move || {
        let millis = u64::try_from(now.as_millis()).unwrap_or(0);
        Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            millis / 1000,
            u32::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
        ))
    }
}

impl Store {
    /// Writes a brand-new record: document, outbox and projection.
    fn insert_record<R: Record>(
        &self,
        tx: &Transaction<'_>,
        record: &R,
        now: Timestamp,
    ) -> Result<()> {
        let id = record.doc_id();
        let (doc, change) = RecordDoc::create(record, self.actor.clone(), now)?;
        let hash = change.hash();
        documents::insert_new(tx, id, &doc)?;
        outbox::push(tx, id, hash, change.raw_bytes(), now)?;
        projection::reproject(tx, id, &doc)?;
        Ok(())
    }

    /// Creates a record from validated input; `make` builds it given the
    /// validation context.
    fn create_with<R: Record>(
        &self,
        make: impl FnOnce(&Context<'_>, Timestamp) -> Result<Checked<R>>,
    ) -> Result<Checked<R>> {
        let now = self.clock.now();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let checked = {
            let register = SqlRegister(&tx);
            let mint = mint_at(now);
            let ctx = Context {
                now,
                register: &register,
                mint: &mint,
            };
            make(&ctx, now)?
        };
        self.insert_record(&tx, &checked.value, now)?;
        tx.commit()?;
        Ok(checked)
    }

    /// Edits a record in place: `f` changes the Rust value, and only what
    /// differs is written, as one change. Returns `f`'s output and the record
    /// as it now stands.
    pub fn edit_record<R: Record, T>(
        &self,
        id: DocId,
        f: impl FnOnce(&mut R, &Context<'_>) -> Result<T>,
    ) -> Result<(T, R)> {
        self.edit_record_with(id, |r, e| f(r, e.ctx))
    }

    /// [`Store::edit_record`] with the document's heads given to `f`.
    pub fn edit_record_with<R: Record, T>(
        &self,
        id: DocId,
        f: impl FnOnce(&mut R, &EditContext<'_>) -> Result<T>,
    ) -> Result<(T, R)> {
        let now = self.clock.now();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let out = self.edit_in(&tx, id, now, Write::Edit, f)?;
        tx.commit()?;
        Ok(out)
    }

    /// Edits one record inside `tx`: the document, the outbox and the
    /// projection.
    fn edit_in<R: Record, T>(
        &self,
        tx: &Transaction<'_>,
        id: DocId,
        now: Timestamp,
        write: Write<'_>,
        f: impl FnOnce(&mut R, &EditContext<'_>) -> Result<T>,
    ) -> Result<(T, R)> {
        let (mut doc, row) = documents::load(tx, id)?.ok_or(StoreError::NotFound(id))?;
        let heads = doc.heads_hex();
        let edited: Edited<T> = {
            let register = SqlRegister(tx);
            let mint = mint_at(now);
            let ctx = Context {
                now,
                register: &register,
                mint: &mint,
            };
            let e = EditContext {
                ctx: &ctx,
                heads: &heads,
            };
            match write {
                Write::Edit => doc.edit::<R, T, StoreError>(&self.actor, now, |r| f(r, &e))?,
                Write::Resolve(conflict) => {
                    doc.resolve::<R, T, StoreError>(&self.actor, now, &conflict.path, |r| f(r, &e))?
                }
            }
        };
        if let Some(change) = edited.change {
            let hash = change.hash();
            let bytes = change.raw_bytes().to_vec();
            documents::append(tx, id, &doc, &row, &[(hash, &bytes)])?;
            outbox::push(tx, id, hash, &bytes, now)?;
            projection::reproject(tx, id, &doc)?;
        }
        let record = doc.read::<R>()?;
        Ok((edited.output, record))
    }

    /// Reads a record.
    pub fn record<R: Record>(&self, id: DocId) -> Result<R> {
        Ok(self.load_doc(id)?.read::<R>()?)
    }

    /// Saves a new service log by `who`, as a draft or submitted for review.
    pub fn create_service_log(
        &self,
        who: &Identity,
        input: &ServiceLogInput,
        submit: bool,
    ) -> Result<Checked<ServiceLog>> {
        self.create_with(|ctx, now| {
            Ok(input.into_new(ServiceLogId::new(now), who.user, who.team, submit, ctx)?)
        })
    }

    /// Replaces a log's editable fields. Submitting hands it in for review; an
    /// approved or returned log whose content changes goes back to review.
    pub fn update_service_log(
        &self,
        id: ServiceLogId,
        input: &ServiceLogInput,
        submit: bool,
    ) -> Result<Checked<ServiceLog>> {
        let (warnings, log) = self.edit_record::<ServiceLog, _>(id.into(), |log, ctx| {
            let before = log.clone();
            let warnings = input.apply_to(log, ctx)?;
            let changed = *log != before;
            if submit
                || (changed && matches!(log.status, LogStatus::Approved | LogStatus::Returned))
            {
                log.status = LogStatus::Submitted;
            }
            Ok(warnings)
        })?;
        Ok(Checked {
            value: log,
            warnings,
        })
    }

    /// Hands a draft in for review.
    pub fn submit_service_log(&self, id: ServiceLogId) -> Result<ServiceLog> {
        Ok(self
            .edit_record::<ServiceLog, _>(id.into(), |log, _| {
                if log.status == LogStatus::Draft || log.status == LogStatus::Returned {
                    log.status = LogStatus::Submitted;
                }
                Ok(())
            })?
            .1)
    }

    /// A team lead's review: approve, or return with a comment (required).
    /// Appends the decision to the log's history, covering the content as it
    /// stands, and writes the status and the review; nothing else.
    pub fn review_service_log(
        &self,
        id: ServiceLogId,
        reviewer: UserId,
        decision: ReviewDecision,
        comment: &str,
    ) -> Result<ServiceLog> {
        let verdict = match decision {
            ReviewDecision::Approve => Verdict::Approved,
            ReviewDecision::Return => Verdict::Returned,
        };
        let now = self.clock.now();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let log = self.decide_in(&tx, id, reviewer, verdict, comment, now)?;
        tx.commit()?;
        Ok(log)
    }

    /// Approves several logs by `reviewer`, all in one transaction: if one
    /// cannot be approved (a draft, not on this device) nothing is written.
    /// A log already approved as it stands is left as it is.
    pub fn approve_service_logs(
        &self,
        ids: &[ServiceLogId],
        reviewer: UserId,
    ) -> Result<Vec<ServiceLog>> {
        let now = self.clock.now();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.decide_in(&tx, *id, reviewer, Verdict::Approved, "", now)?);
        }
        tx.commit()?;
        Ok(out)
    }

    fn decide_in(
        &self,
        tx: &Transaction<'_>,
        id: ServiceLogId,
        reviewer: UserId,
        verdict: Verdict,
        comment: &str,
        now: Timestamp,
    ) -> Result<ServiceLog> {
        Ok(self
            .edit_in::<ServiceLog, _>(tx, id.into(), now, Write::Edit, |log, e| {
                match log.review_state() {
                    ReviewState::Draft => {
                        return Err(StoreError::NotAllowed("a draft cannot be reviewed"));
                    }
                    ReviewState::Approved if verdict == Verdict::Approved => return Ok(()),
                    _ => {}
                }
                let decision = DecisionId::from_uuid((e.ctx.mint)());
                Ok(log.decide(decision, verdict, reviewer, now, comment, e.heads.to_vec())?)
            })?
            .1)
    }

    /// Resolves the conflict `conflict` of record `id` (as
    /// [`RecordDoc::conflicts`] lists it) by `by` in `role`: the chosen
    /// value (one of the conflict's, or a new one that passes the record's
    /// validation) is written over every concurrent value, and a
    /// [`Resolution`] naming the values it superseded is appended to the
    /// record. `check` sees the record as it would be, before anything is
    /// written.
    pub(super) fn resolve_conflict_of<R: Record + Resolvable>(
        &self,
        id: DocId,
        conflict: &Conflict,
        choice: &Choice,
        by: UserId,
        role: Role,
        check: impl FnOnce(&R, &R) -> Result<()>,
    ) -> Result<R> {
        let (chosen, superseded) = match choice {
            Choice::Pick { op } => {
                let picked = conflict
                    .values
                    .iter()
                    .find(|v| &v.op == op)
                    .ok_or_else(|| StoreError::NotAllowed("the value picked is not listed"))?;
                let others = conflict.values.iter().filter(|v| &v.op != op);
                (
                    picked.value.clone(),
                    others.map(|v| v.value.to_string()).collect(),
                )
            }
            Choice::Value { value } => (
                value.clone(),
                conflict
                    .values
                    .iter()
                    .map(|v| v.value.to_string())
                    .collect(),
            ),
        };
        let now = self.clock.now();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let doc = self.load_doc_in(&tx, id)?;
        let before: R = doc.read()?;
        let valued: R = doc.read_with(&conflict.path, &chosen)?;
        let (_, record) =
            self.edit_in::<R, _>(&tx, id, now, Write::Resolve(conflict), |r, e| {
                *r = valued.clone();
                r.validate_record(e.ctx)?;
                r.resolutions_mut().push(Resolution {
                    id: ResolutionId::from_uuid((e.ctx.mint)()),
                    path: conflict.path_string(),
                    chosen: chosen.to_string(),
                    superseded,
                    by,
                    role,
                    at: now,
                });
                check(&before, r)
            })?;
        tx.commit()?;
        Ok(record)
    }

    /// Marks record `id` as a duplicate of `of` (by `by`), or clears the
    /// mark (`of` none). `check` sees the record before and after.
    pub(super) fn set_duplicate<R: Record + Resolvable>(
        &self,
        id: DocId,
        of: Option<DocId>,
        by: UserId,
        check: impl FnOnce(&R, &R) -> Result<()>,
    ) -> Result<R> {
        let now = self.clock.now();
        Ok(self
            .edit_record::<R, _>(id, |r, _| {
                let before = r.clone();
                *r.duplicate_mut() = of.map(|of| DuplicateMark { of, by, at: now });
                check(&before, r)
            })?
            .1)
    }

    fn load_doc_in(&self, tx: &Transaction<'_>, id: DocId) -> Result<RecordDoc> {
        Ok(documents::load(tx, id)?.ok_or(StoreError::NotFound(id))?.0)
    }

    /// Reads a service log.
    pub fn service_log(&self, id: ServiceLogId) -> Result<ServiceLog> {
        self.record(id.into())
    }

    /// Saves a new consultation by `who`.
    pub fn create_consultation(
        &self,
        who: &Identity,
        input: &ConsultationInput,
    ) -> Result<Checked<Consultation>> {
        self.create_with(|ctx, now| {
            Ok(input.into_new(ConsultationId::new(now), who.user, who.team, ctx)?)
        })
    }

    /// Replaces a consultation's farmer, subject, problem, channel, time and
    /// photos.
    pub fn update_consultation(
        &self,
        id: ConsultationId,
        input: &ConsultationInput,
    ) -> Result<Checked<Consultation>> {
        let (warnings, value) =
            self.edit_record::<Consultation, _>(id.into(), |c, ctx| Ok(input.apply_to(c, ctx)?))?;
        Ok(Checked { value, warnings })
    }

    /// Records the diagnosis and advice.
    pub fn answer_consultation(&self, id: ConsultationId, advice: &str) -> Result<Consultation> {
        let now = self.clock.now();
        Ok(self
            .edit_record::<Consultation, _>(id.into(), |c, _| Ok(c.answer(advice, now)?))?
            .1)
    }

    /// Adds a follow-up note by `by`.
    pub fn add_follow_up(
        &self,
        id: ConsultationId,
        by: UserId,
        note: &str,
        needs_more: bool,
    ) -> Result<Consultation> {
        let now = self.clock.now();
        Ok(self
            .edit_record::<Consultation, _>(id.into(), |c, ctx| {
                let fid = FollowUpId::from_uuid((ctx.mint)());
                Ok(c.add_follow_up(fid, by, note, needs_more, now)?)
            })?
            .1)
    }

    /// Closes a consultation.
    pub fn close_consultation(&self, id: ConsultationId) -> Result<Consultation> {
        Ok(self
            .edit_record::<Consultation, _>(id.into(), |c, _| {
                c.close();
                Ok(())
            })?
            .1)
    }

    /// Reads a consultation.
    pub fn consultation(&self, id: ConsultationId) -> Result<Consultation> {
        self.record(id.into())
    }
}

/// What resolving and marking need of a record, whatever its kind.
pub(super) trait Resolvable {
    /// Checks the record's content as a form's input is checked.
    fn validate_record(&self, ctx: &Context<'_>) -> Result<()>;
    /// Its resolutions.
    fn resolutions_mut(&mut self) -> &mut Vec<Resolution>;
    /// Its duplicate mark.
    fn duplicate_mut(&mut self) -> &mut Option<DuplicateMark>;
}

impl Resolvable for ServiceLog {
    fn validate_record(&self, ctx: &Context<'_>) -> Result<()> {
        self.validate(ctx)?;
        Ok(())
    }
    fn resolutions_mut(&mut self) -> &mut Vec<Resolution> {
        &mut self.resolutions
    }
    fn duplicate_mut(&mut self) -> &mut Option<DuplicateMark> {
        &mut self.duplicate
    }
}

impl Resolvable for Consultation {
    fn validate_record(&self, ctx: &Context<'_>) -> Result<()> {
        self.validate(ctx)?;
        Ok(())
    }
    fn resolutions_mut(&mut self) -> &mut Vec<Resolution> {
        &mut self.resolutions
    }
    fn duplicate_mut(&mut self) -> &mut Option<DuplicateMark> {
        &mut self.duplicate
    }
}
