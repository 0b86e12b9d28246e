//! Record operations a user performs on this device: create, edit, submit,
//! review, answer, follow up. Each validates, writes the document, the change
//! into the outbox and the projection in one durable transaction.

use rusqlite::Transaction;
use uuid::Uuid;

use super::register::SqlRegister;
use super::{Identity, Result, Store, StoreError, documents, outbox, projection};
use crate::api::ReviewDecision;
use crate::doc::{Record, RecordDoc};
use crate::domain::validate::Context;
use crate::domain::{
    Checked, Consultation, ConsultationId, ConsultationInput, DocId, FollowUpId, LogStatus,
    ServiceLog, ServiceLogId, ServiceLogInput, Timestamp, UserId,
};

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
        let now = self.clock.now();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let (mut doc, row) = documents::load(&tx, id)?.ok_or(StoreError::NotFound(id))?;
        let edited = {
            let register = SqlRegister(&tx);
            let mint = mint_at(now);
            let ctx = Context {
                now,
                register: &register,
                mint: &mint,
            };
            doc.edit::<R, T, StoreError>(&self.actor, now, |r| f(r, &ctx))?
        };
        if let Some(change) = edited.change {
            let hash = change.hash();
            let bytes = change.raw_bytes().to_vec();
            documents::append(&tx, id, &doc, &row, &[(hash, &bytes)])?;
            outbox::push(&tx, id, hash, &bytes, now)?;
            projection::reproject(&tx, id, &doc)?;
        }
        let record = doc.read::<R>()?;
        tx.commit()?;
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

    /// A team lead's review: approve, or return with a comment. Writes only
    /// the status and the review fields.
    pub fn review_service_log(
        &self,
        id: ServiceLogId,
        reviewer: UserId,
        decision: ReviewDecision,
        comment: &str,
    ) -> Result<ServiceLog> {
        let comment = comment.trim();
        if decision == ReviewDecision::Return && comment.is_empty() {
            return Err(StoreError::Invalid(crate::domain::ValidationError {
                errors: vec![crate::domain::FieldError::Required {
                    field: "review_comment".into(),
                }],
            }));
        }
        let now = self.clock.now();
        Ok(self
            .edit_record::<ServiceLog, _>(id.into(), |log, _| {
                if log.status == LogStatus::Draft {
                    return Err(StoreError::NotAllowed("a draft cannot be reviewed"));
                }
                log.status = match decision {
                    ReviewDecision::Approve => LogStatus::Approved,
                    ReviewDecision::Return => LogStatus::Returned,
                };
                log.review.comment = comment.to_string();
                log.review.by = Some(reviewer);
                log.review.at = Some(now);
                Ok(())
            })?
            .1)
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
