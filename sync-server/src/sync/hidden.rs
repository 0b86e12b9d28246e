//! Hidden writes: the fields a change writes whether or not its value wins
//! ([`touched_fields`]), and who may write them ([`check_hidden_writes`]).

use std::collections::BTreeSet;

use app_core::doc::RecordDoc;
use app_core::domain::{RecordKind, ReviewState, Role};
use app_core::scope::{AnyRecord, Principal, Refusal, can_read};
use app_core::sync::protocol::RefusalCode;
use automerge::{Change, ReadDoc};

/// The top-level fields of the record that a change's operations write,
/// whether or not the written value wins.
pub fn touched_fields(change: &Change, doc_after: &RecordDoc) -> BTreeSet<String> {
    let am = doc_after.automerge();
    let mut out = BTreeSet::new();
    for op in change.decode().operations {
        match &op.obj {
            automerge::legacy::ObjectId::Root => {
                if let automerge::legacy::Key::Map(name) = &op.key {
                    out.insert(name.to_string());
                }
            }
            other => {
                let field = am
                    .import_obj(&other.to_string())
                    .ok()
                    .and_then(|obj| am.parents(&obj).ok())
                    .and_then(|p| p.path().into_iter().next())
                    .and_then(|(_, prop)| match prop {
                        automerge::Prop::Map(name) => Some(name),
                        automerge::Prop::Seq(_) => None,
                    });
                // An object whose place cannot be found is counted as a
                // write to an unknown field, which only an author or an
                // admin may make.
                out.insert(field.unwrap_or_else(|| "?".to_string()));
            }
        }
    }
    out
}

/// Envelope keys of a document, outside the record's fields.
const SCHEMA_KEY: &str = app_core::doc::KEY_SCHEMA;
/// Fields no one writes after creation, hidden or not.
const IDENTITY: &[&str] = &["id", "author", "created_at", app_core::doc::KEY_KIND];
/// What a team lead writes on a team member's log: the status, the review,
/// decisions, and resolutions (of the review fields, which the record shows
/// and `check_write` judges).
const REVIEW: &[&str] = &["status", "review", "reviews", "resolutions"];
/// What an author never writes on their own record.
const NOT_AUTHOR: &[&str] = &["team", "review", "reviews"];

/// Checks writes that do not show in the record (values that lose to a
/// concurrent value, entries in a list the document does not show) against
/// the rules of [`app_core::scope`]: identity never; an author anything but
/// team, the review and decisions; a team lead only the review fields of the
/// team's logs that are not drafts; a sync admin anything in scope; anyone
/// else nothing.
pub fn check_hidden_writes(
    who: &Principal,
    before: &AnyRecord,
    hidden: &[String],
) -> Result<(), Refusal> {
    let hidden: Vec<&str> = hidden
        .iter()
        .map(String::as_str)
        .filter(|f| *f != SCHEMA_KEY)
        .collect();
    if hidden.is_empty() {
        return Ok(());
    }
    let refuse = |code, reason: String| Err(Refusal { code, reason });
    let at = before.placement();
    if let Some(f) = hidden.iter().find(|f| IDENTITY.contains(f)) {
        return refuse(
            RefusalCode::FieldNotAllowed,
            format!("{f} never changes after a record is made"),
        );
    }
    if !can_read(who, &at) {
        return refuse(
            RefusalCode::OutOfScope,
            "the record is outside the author's scope".into(),
        );
    }
    if who.role == Role::SyncAdmin {
        return Ok(());
    }
    if at.author == who.user {
        if let Some(f) = hidden.iter().find(|f| NOT_AUTHOR.contains(f)) {
            return refuse(
                RefusalCode::FieldNotAllowed,
                format!("the author does not write {f}"),
            );
        }
        return Ok(());
    }
    if who.role == Role::TeamLead
        && at.kind == RecordKind::ServiceLog
        && who.team.is_some()
        && at.team == who.team
    {
        if let Some(f) = hidden.iter().find(|f| !REVIEW.contains(f)) {
            return refuse(
                RefusalCode::FieldNotAllowed,
                format!("a team lead writes only the review, not {f}"),
            );
        }
        if let AnyRecord::ServiceLog(l) = before
            && l.review_state() == ReviewState::Draft
        {
            return refuse(
                RefusalCode::FieldNotAllowed,
                "a draft is not ready for review".into(),
            );
        }
        return Ok(());
    }
    refuse(
        RefusalCode::NotYourRecord,
        "only the author edits this record".into(),
    )
}
