//! The field app's record operations on behalf of a signed-in principal:
//! each edit is allowed only when [`scope::may_edit`] says so (the rule the
//! server enforces), and each detail view carries what the principal may do
//! with the record (`mine`, `may_edit`, `may_review`), so the interface's
//! hints come from the same rules. A saved form's draft is discarded here
//! too.

use super::{Result, Store, StoreError};
use crate::api::{
    AnswerInput, ConsultationDetail, FollowUpInput, LogDetail, SaveConsultationInput, SaveLogInput,
};
use crate::domain::review::{content_changes, content_stamp};
use crate::domain::{
    Checked, Consultation, ConsultationId, DivisionLevel, ServiceLog, ServiceLogId,
};
use crate::scope::{self, Placement, Principal};

impl Store {
    fn require_edit(
        &self,
        who: &Principal,
        at: Placement,
        id: impl Into<crate::domain::DocId>,
    ) -> Result<()> {
        if scope::may_edit(who, &at) {
            Ok(())
        } else {
            Err(StoreError::NotYours(id.into()))
        }
    }

    fn discard_draft(&self, key: Option<&str>) -> Result<()> {
        match key {
            Some(key) => self.delete_form_draft(key),
            None => Ok(()),
        }
    }

    /// Saves a new log by `who`, or an edit of a log `who` may edit (else
    /// [`StoreError::NotYours`]), submitted for review; then discards the
    /// form's draft.
    pub fn save_service_log_as(
        &self,
        who: &Principal,
        save: &SaveLogInput,
    ) -> Result<Checked<ServiceLog>> {
        let checked = match save.id {
            Some(id) => {
                let log = self.service_log(id)?;
                self.require_edit(who, (&log).into(), id)?;
                self.update_service_log(id, &save.input, true)?
            }
            None => self.create_service_log(&who.identity(), &save.input, true)?,
        };
        self.discard_draft(save.draft_key.as_deref())?;
        Ok(checked)
    }

    /// A log with its place names, where it stands in review (and what
    /// changed since the last decision, when that no longer covers it) and
    /// what `who` may do with it. The review history is `log.reviews`.
    pub fn service_log_detail(&self, who: &Principal, id: ServiceLogId) -> Result<LogDetail> {
        let doc = self.load_doc(id.into())?;
        let log: ServiceLog = doc.read()?;
        let at = Placement::from(&log);
        let village = log.village.as_int();
        let changes_since_decision = match log.last_decision() {
            Some(d) if d.covers != content_stamp(&log) => match doc.read_at::<ServiceLog>(&d.heads)
            {
                Ok(decided) => content_changes(&decided, &log),
                Err(e) => {
                    tracing::warn!(%id, error = %e, "the decided version does not read");
                    Vec::new()
                }
            },
            _ => Vec::new(),
        };
        Ok(LogDetail {
            village_name: self.division_name(DivisionLevel::Village, village)?,
            township_name: self.division_name(DivisionLevel::Township, village / 1000)?,
            mine: at.author == who.user,
            may_edit: scope::may_edit(who, &at),
            may_review: scope::may_review(who, &at),
            review_state: log.review_state(),
            changes_since_decision,
            may_mark_duplicate: scope::may_mark_duplicate(who, &at),
            has_conflicts: !doc.conflicts().is_empty(),
            log,
        })
    }

    /// Saves a new consultation by `who`, or an edit of one `who` may edit
    /// (else [`StoreError::NotYours`]); then discards the form's draft.
    pub fn save_consultation_as(
        &self,
        who: &Principal,
        save: &SaveConsultationInput,
    ) -> Result<Checked<Consultation>> {
        let checked = match save.id {
            Some(id) => {
                self.consultation_to_edit(who, id)?;
                self.update_consultation(id, &save.input)?
            }
            None => self.create_consultation(&who.identity(), &save.input)?,
        };
        self.discard_draft(save.draft_key.as_deref())?;
        Ok(checked)
    }

    fn consultation_to_edit(&self, who: &Principal, id: ConsultationId) -> Result<Consultation> {
        let c = self.consultation(id)?;
        self.require_edit(who, (&c).into(), id)?;
        Ok(c)
    }

    /// A consultation with its village name and what `who` may do with it.
    pub fn consultation_detail(
        &self,
        who: &Principal,
        id: ConsultationId,
    ) -> Result<ConsultationDetail> {
        let c = self.consultation(id)?;
        self.consultation_detail_of(who, c)
    }

    fn consultation_detail_of(
        &self,
        who: &Principal,
        consultation: Consultation,
    ) -> Result<ConsultationDetail> {
        let at = Placement::from(&consultation);
        let has_conflicts = !self.conflicts(consultation.id.into())?.is_empty();
        Ok(ConsultationDetail {
            village_name: self
                .division_name(DivisionLevel::Village, consultation.farmer.village.as_int())?,
            mine: at.author == who.user,
            may_edit: scope::may_edit(who, &at),
            may_mark_duplicate: scope::may_mark_duplicate(who, &at),
            has_conflicts,
            consultation,
        })
    }

    /// Records the diagnosis and advice on a consultation `who` may edit;
    /// then discards the form's draft.
    pub fn answer_consultation_as(
        &self,
        who: &Principal,
        input: &AnswerInput,
    ) -> Result<ConsultationDetail> {
        self.consultation_to_edit(who, input.id)?;
        let c = self.answer_consultation(input.id, &input.advice)?;
        self.discard_draft(input.draft_key.as_deref())?;
        self.consultation_detail_of(who, c)
    }

    /// Adds a follow-up note by `who` to a consultation they may edit; then
    /// discards the form's draft.
    pub fn add_follow_up_as(
        &self,
        who: &Principal,
        input: &FollowUpInput,
    ) -> Result<ConsultationDetail> {
        self.consultation_to_edit(who, input.id)?;
        let c = self.add_follow_up(input.id, who.user, &input.note, input.needs_more)?;
        self.discard_draft(input.draft_key.as_deref())?;
        self.consultation_detail_of(who, c)
    }

    /// Closes a consultation `who` may edit.
    pub fn close_consultation_as(
        &self,
        who: &Principal,
        id: ConsultationId,
    ) -> Result<ConsultationDetail> {
        self.consultation_to_edit(who, id)?;
        let c = self.close_consultation(id)?;
        self.consultation_detail_of(who, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::domain::{CountyCode, Role, Scope, ServiceLogInput, TeamId, Timestamp, UserId};

    const NOW: Timestamp = Timestamp::from_millis(1_795_914_000_000);

    fn uid(n: u8) -> UserId {
        format!("0192f000-0000-7000-8000-0000000000{n:02x}")
            .parse()
            .unwrap()
    }

    fn person(n: u8, role: Role) -> Principal {
        let team: TeamId = "0192f000-0000-7000-8000-00000000aa01".parse().unwrap();
        Principal {
            user: uid(n),
            role,
            scope: Scope::Team(team),
            team: Some(team),
            county: Some(CountyCode::parse("520324").unwrap()),
        }
    }

    fn input(description: &str) -> ServiceLogInput {
        ServiceLogInput {
            date: "2026-11-29".into(),
            village: "520324001001".into(),
            activity: "technical_guidance".into(),
            industry: "茶叶".into(),
            farmers_served: 12,
            description: description.into(),
            ..ServiceLogInput::default()
        }
    }

    #[test]
    fn only_what_scope_allows_is_saved_and_the_details_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Store::open(dir.path().join("s.sqlite"), ManualClock::new(NOW).shared()).unwrap();
        let author = person(1, Role::Commissioner);
        let teammate = person(2, Role::Commissioner);
        let lead = person(5, Role::TeamLead);
        let admin = Principal {
            user: uid(0x99),
            role: Role::SyncAdmin,
            scope: Scope::County(CountyCode::parse("520324").unwrap()),
            team: None,
            county: None,
        };

        store.save_form_draft("new_log", "{}").unwrap();
        let saved = store
            .save_service_log_as(
                &author,
                &SaveLogInput {
                    id: None,
                    input: input("茶园修剪"),
                    draft_key: Some("new_log".into()),
                },
            )
            .unwrap()
            .value;
        assert_eq!(saved.author, author.user);
        assert_eq!(
            store.form_draft("new_log").unwrap(),
            None,
            "draft discarded"
        );

        // (who, mine, may edit, may review)
        let views = [
            (author, true, true, false),
            (teammate, false, false, false),
            (lead, false, false, true),
            (admin, false, false, false),
        ];
        for (who, mine, edit, review) in views {
            let d = store.service_log_detail(&who, saved.id).unwrap();
            assert_eq!(
                (d.mine, d.may_edit, d.may_review),
                (mine, edit, review),
                "{who:?}"
            );
        }

        store.save_form_draft("edit", "{}").unwrap();
        let meddling = SaveLogInput {
            id: Some(saved.id),
            input: input("改别人的"),
            draft_key: Some("edit".into()),
        };
        for who in [teammate, lead, admin] {
            let error = store.save_service_log_as(&who, &meddling).unwrap_err();
            assert!(
                matches!(error, StoreError::NotYours(id) if id == saved.id.into()),
                "{error}"
            );
        }
        assert_eq!(
            store.service_log(saved.id).unwrap(),
            saved,
            "nothing changed"
        );
        assert!(
            store.form_draft("edit").unwrap().is_some(),
            "the draft is kept"
        );

        let edited = store
            .save_service_log_as(
                &author,
                &SaveLogInput {
                    draft_key: None,
                    ..meddling
                },
            )
            .unwrap();
        assert_eq!(edited.value.description, "改别人的");
    }
}
