//! The authorisation matrix over HTTP, as tables: who (a role in a scope)
//! does what to which record, and what the server must answer. One table of
//! writes (the push outcome) and one of reads (what a pull and the repair
//! fetch show), each run by one loop. After the writes, the number of stored
//! changes must equal the number of `stored` answers expected (cases and
//! their setup), so no write was let through unnoticed.

use std::collections::{BTreeMap, BTreeSet};

use app_core::domain::review::content_stamp;
use app_core::domain::{
    Consultation, Decision, DecisionId, DocId, DuplicateMark, LogStatus, Resolution, ResolutionId,
    Review, Role, ServiceLog, Timestamp, Verdict,
};
use app_core::scope::{AnyRecord, Placement, can_read};
use app_core::sync::protocol::PullResponse;
use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc};

use crate::harness::{
    Account, Device, Doc, Env, Fetch, T0, WUCHUAN, World, ZHENGAN, code, consultation_by, log_by,
    villages,
};

/// Someone of the harness's world: a role in a scope.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// Commissioners of team 1 (正安), reading the team.
    C1,
    C2,
    /// A commissioner of team 1 reading only their own records.
    COwn,
    Lead1,
    /// Team 2 (务川).
    C3,
    Lead2,
    /// Sync admins of 正安 county, 务川 county, Guizhou, Yunnan.
    AdminZhengan,
    AdminWuchuan,
    AdminGuizhou,
    AdminYunnan,
}

impl Who {
    fn of(self, w: &World) -> &Account {
        match self {
            Who::C1 => &w.c1,
            Who::C2 => &w.c2,
            Who::COwn => &w.c_own,
            Who::Lead1 => &w.lead1,
            Who::C3 => &w.c3,
            Who::Lead2 => &w.lead2,
            Who::AdminZhengan => &w.admin_zhengan,
            Who::AdminWuchuan => &w.admin_wuchuan,
            Who::AdminGuizhou => &w.admin_guizhou,
            Who::AdminYunnan => &w.admin_yunnan,
        }
    }
}

/// An edit of a log, knowing the world.
type LogEdit = fn(&mut ServiceLog, &World);

/// Which raw write [`Act::RewriteHistory`] makes.
#[derive(Clone, Copy)]
enum RawWrite {
    /// Changes the comment of the first decision.
    RewriteDecision,
    /// Deletes the first resolution.
    DeleteResolution,
}

/// What the actor does, on their own newly enrolled device.
enum Act {
    /// Edits a submitted log of c1's.
    EditLog(LogEdit),
    /// Edits a log of c1's that c1 has set back to draft.
    EditDraft(LogEdit),
    /// Edits a log of c1's that lead 1 has approved (a decision in its
    /// history) and c1 has resolved a conflict of (a resolution).
    EditReviewed(LogEdit),
    /// Writes straight into the history of such a log, as a device that
    /// does not keep the rules would (the ordinary edit refuses it).
    RewriteHistory(RawWrite),
    /// Edits a consultation of c1's.
    EditConsultation(fn(&mut Consultation, &World)),
    /// Creates a log.
    CreateLog(fn(&World) -> ServiceLog),
    /// Creates a consultation of their own.
    CreateConsultation,
    /// Answers an open consultation of c1's.
    AnswerConsultation,
    /// Pushes an edit c1's device made, with c1's device's actor.
    PushC1sEdit,
    /// Creates a log but pushes it under another document's ID.
    CreateUnderAnotherId,
    /// Writes `author` concurrently with a log's creation, so that the value
    /// loses and the record does not show it.
    HiddenAuthorWrite,
}

/// One row of the write matrix.
struct Case {
    label: &'static str,
    who: Who,
    act: Act,
    expected: &'static str,
}

fn case(label: &'static str, who: Who, act: Act, expected: &'static str) -> Case {
    Case {
        label,
        who,
        act,
        expected,
    }
}

/// `by` approves or returns a log with a comment.
fn review(l: &mut ServiceLog, by: &Account, status: LogStatus, comment: &str) {
    l.status = status;
    l.review = Review {
        comment: comment.into(),
        by: Some(by.user.id),
        at: Some(Timestamp::from_millis(T0)),
    };
}

/// `by`'s decision on the log as it stands, appended and mirrored in the
/// status and the review (what the device's `decide` writes).
fn decide(l: &mut ServiceLog, by: &Account, verdict: Verdict, comment: &str) {
    l.reviews.push(Decision {
        id: DecisionId::new(Timestamp::from_millis(T0 + l.reviews.len() as i64)),
        verdict,
        by: by.user.id,
        at: Timestamp::from_millis(T0),
        comment: comment.into(),
        covers: content_stamp(l),
        heads: vec!["ab".repeat(32)],
    });
    l.status = verdict.status();
    l.review = Review {
        comment: comment.into(),
        by: Some(by.user.id),
        at: Some(Timestamp::from_millis(T0)),
    };
}

/// `by`'s resolution of the conflict at `path`, in `role`.
fn resolve(l: &mut ServiceLog, by: &Account, role: Role, path: &str) {
    l.resolutions.push(resolution(by, role, path));
}

fn resolution(by: &Account, role: Role, path: &str) -> Resolution {
    Resolution {
        id: ResolutionId::new(Timestamp::from_millis(T0)),
        path: path.into(),
        chosen: "13".into(),
        superseded: vec!["12".into()],
        by: by.user.id,
        role,
        at: Timestamp::from_millis(T0),
    }
}

/// `by` marks the log as a duplicate of another log.
fn mark(l: &mut ServiceLog, by: &Account) {
    let of = log_by(&by.user, None, zhengan(), T0 + 99).id.into();
    l.duplicate = Some(DuplicateMark {
        of,
        by: by.user.id,
        at: Timestamp::from_millis(T0),
    });
}

fn zhengan() -> app_core::domain::VillageCode {
    villages(ZHENGAN, 1)[0]
}

fn wuchuan() -> app_core::domain::VillageCode {
    villages(WUCHUAN, 1)[0]
}

#[rustfmt::skip]
fn write_cases() -> Vec<Case> {
    use Act::*;
    use Who::*;
    vec![
        // The author.
        case("author edits description", C1, EditLog(|l, _| l.description = "补充：修剪后施肥".into()), "stored"),
        case("author approves own log", C1, EditLog(|l, _| l.status = LogStatus::Approved), "field_not_allowed"),
        case("author writes the review", C1, EditLog(|l, _| l.review.comment = "自评".into()), "field_not_allowed"),
        case("author moves log to another team", C1, EditLog(|l, w| l.team = Some(w.team2.id)), "field_not_allowed"),
        case("author gives log away", C1, EditLog(|l, w| l.author = w.c2.user.id), "field_not_allowed"),
        case("author moves log out of county", C1, EditLog(|l, _| l.village = wuchuan()), "out_of_scope"),
        // Teammates and other teams.
        case("teammate edits", C2, EditLog(|l, _| l.description = "改别人的".into()), "not_your_record"),
        case("own-scope teammate edits", COwn, EditLog(|l, _| l.farmers_served = 1), "out_of_scope"),
        case("other team's commissioner edits", C3, EditLog(|l, _| l.farmers_served = 1), "out_of_scope"),
        // Team leads.
        case("lead approves team log", Lead1, EditLog(|l, w| review(l, &w.lead1, LogStatus::Approved, "很好")), "stored"),
        case("lead returns team log", Lead1, EditLog(|l, w| review(l, &w.lead1, LogStatus::Returned, "请补充照片")), "stored"),
        case("lead changes a non-review field", Lead1, EditLog(|l, _| l.farmers_served = 999), "field_not_allowed"),
        case(
            "lead approves and edits content",
            Lead1,
            EditLog(|l, w| {
                review(l, &w.lead1, LogStatus::Approved, "好");
                l.description = "团长改的".into();
            }),
            "field_not_allowed",
        ),
        case("other team's lead approves", Lead2, EditLog(|l, w| review(l, &w.lead2, LogStatus::Approved, "好")), "out_of_scope"),
        case("lead approves a draft", Lead1, EditDraft(|l, w| review(l, &w.lead1, LogStatus::Approved, "好")), "field_not_allowed"),
        // Sync admins.
        case("county admin resolves in county", AdminZhengan, EditLog(|l, _| l.farmers_served = 13), "stored"),
        case("county admin of another county", AdminWuchuan, EditLog(|l, _| l.farmers_served = 13), "out_of_scope"),
        case("province admin in province", AdminGuizhou, EditLog(|l, _| l.farmers_served = 13), "stored"),
        case("province admin of another province", AdminYunnan, EditLog(|l, _| l.farmers_served = 13), "out_of_scope"),
        case("county admin changes the author", AdminZhengan, EditLog(|l, w| l.author = w.admin_zhengan.user.id), "field_not_allowed"),
        // Decisions (审核记录): the team's lead (or a sync admin in scope)
        // appends, as themselves, on what they saw; a return needs a comment.
        case("lead appends an approval", Lead1, EditLog(|l, w| decide(l, &w.lead1, Verdict::Approved, "")), "stored"),
        case("lead appends a return with a comment", Lead1, EditLog(|l, w| decide(l, &w.lead1, Verdict::Returned, "请补充照片")), "stored"),
        case("lead returns without a comment", Lead1, EditLog(|l, w| decide(l, &w.lead1, Verdict::Returned, "")), "invalid_record"),
        case("lead decides in another's name", Lead1, EditLog(|l, w| decide(l, &w.lead2, Verdict::Approved, "")), "field_not_allowed"),
        case("lead decides on a draft", Lead1, EditDraft(|l, w| decide(l, &w.lead1, Verdict::Approved, "")), "field_not_allowed"),
        case("lead decides and edits content", Lead1, EditLog(|l, w| {
            l.farmers_served = 99;
            decide(l, &w.lead1, Verdict::Approved, "");
        }), "field_not_allowed"),
        case("author appends a decision", C1, EditLog(|l, w| decide(l, &w.c1, Verdict::Approved, "")), "field_not_allowed"),
        case("teammate appends a decision", C2, EditLog(|l, w| decide(l, &w.c2, Verdict::Approved, "")), "not_your_record"),
        case("other team's lead appends a decision", Lead2, EditLog(|l, w| decide(l, &w.lead2, Verdict::Approved, "")), "out_of_scope"),
        case("county admin appends a decision", AdminZhengan, EditLog(|l, w| decide(l, &w.admin_zhengan, Verdict::Returned, "重复")), "stored"),
        case("lead approves again", Lead1, EditReviewed(|l, w| {
            l.description.push_str("（补）");
            decide(l, &w.lead1, Verdict::Approved, "");
        }), "field_not_allowed"),
        case("lead approves the changed version", Lead1, EditReviewed(|l, w| decide(l, &w.lead1, Verdict::Approved, "")), "stored"),
        case("lead rewrites a decision", Lead1, RewriteHistory(RawWrite::RewriteDecision), "field_not_allowed"),
        case("admin rewrites a decision", AdminZhengan, RewriteHistory(RawWrite::RewriteDecision), "field_not_allowed"),
        case("author deletes a resolution", C1, RewriteHistory(RawWrite::DeleteResolution), "field_not_allowed"),
        // Resolutions (冲突处理): the author the content, the lead the
        // review fields, a sync admin anything but identity.
        case("author resolves a count", C1, EditLog(|l, w| {
            resolve(l, &w.c1, Role::Commissioner, "farmers_served");
            l.farmers_served = 13;
        }), "stored"),
        case("author resolves the status", C1, EditLog(|l, w| resolve(l, &w.c1, Role::Commissioner, "status")), "field_not_allowed"),
        case("author resolves in another's name", C1, EditLog(|l, w| resolve(l, &w.c2, Role::Commissioner, "farmers_served")), "field_not_allowed"),
        case("lead resolves the status", Lead1, EditLog(|l, w| resolve(l, &w.lead1, Role::TeamLead, "status")), "stored"),
        case("lead resolves a count", Lead1, EditLog(|l, w| resolve(l, &w.lead1, Role::TeamLead, "farmers_served")), "field_not_allowed"),
        case("teammate resolves", C2, EditLog(|l, w| resolve(l, &w.c2, Role::Commissioner, "farmers_served")), "not_your_record"),
        case("county admin resolves the team", AdminZhengan, EditLog(|l, w| resolve(l, &w.admin_zhengan, Role::SyncAdmin, "team")), "stored"),
        case("county admin resolves the author", AdminZhengan, EditLog(|l, w| resolve(l, &w.admin_zhengan, Role::SyncAdmin, "author")), "field_not_allowed"),
        case("admin of another county resolves", AdminWuchuan, EditLog(|l, w| resolve(l, &w.admin_wuchuan, Role::SyncAdmin, "farmers_served")), "out_of_scope"),
        // Duplicate marks (重复标记): the author and a sync admin in scope.
        case("author marks a duplicate", C1, EditLog(|l, w| mark(l, &w.c1)), "stored"),
        case("author marks in another's name", C1, EditLog(|l, w| mark(l, &w.c2)), "field_not_allowed"),
        case("teammate marks a duplicate", C2, EditLog(|l, w| mark(l, &w.c2)), "not_your_record"),
        case("lead marks a duplicate", Lead1, EditLog(|l, w| mark(l, &w.lead1)), "field_not_allowed"),
        case("province admin marks a duplicate", AdminGuizhou, EditLog(|l, w| mark(l, &w.admin_guizhou)), "stored"),
        case("admin of another province marks", AdminYunnan, EditLog(|l, w| mark(l, &w.admin_yunnan)), "out_of_scope"),
        case("author resolves and marks a consultation", C1, EditConsultation(|c, w| {
            c.resolutions.push(resolution(&w.c1, Role::Commissioner, "subject"));
            c.duplicate = Some(DuplicateMark {
                of: consultation_by(&w.c1.user, None, zhengan(), T0 + 99).id.into(),
                by: w.c1.user.id,
                at: Timestamp::from_millis(T0),
            });
        }), "stored"),
        case("lead resolves a consultation", Lead1, EditConsultation(|c, w| {
            c.resolutions.push(resolution(&w.lead1, Role::TeamLead, "status"));
        }), "not_your_record"),
        // Creating records.
        case("commissioner creates own log", C1, CreateLog(|w| log_by(&w.c1.user, Some(w.team1.id), zhengan(), T0)), "stored"),
        case("creates a log in another's name", C1, CreateLog(|w| log_by(&w.c2.user, Some(w.team1.id), zhengan(), T0)), "not_your_record"),
        case("creates a log for another team", C1, CreateLog(|w| log_by(&w.c1.user, Some(w.team2.id), zhengan(), T0)), "out_of_scope"),
        case("creates a log outside the county", C1, CreateLog(|w| log_by(&w.c1.user, Some(w.team1.id), wuchuan(), T0)), "out_of_scope"),
        case(
            "creates an approved log",
            C1,
            CreateLog(|w| ServiceLog {
                status: LogStatus::Approved,
                ..log_by(&w.c1.user, Some(w.team1.id), zhengan(), T0)
            }),
            "field_not_allowed",
        ),
        case("creates a log carrying a decision", C1, CreateLog(|w| {
            let mut l = log_by(&w.c1.user, Some(w.team1.id), zhengan(), T0);
            decide(&mut l, &w.lead1, Verdict::Approved, "");
            l.status = LogStatus::Submitted;
            l.review = Review::default();
            l
        }), "field_not_allowed"),
        case("creates a log marked as a duplicate", C1, CreateLog(|w| {
            let mut l = log_by(&w.c1.user, Some(w.team1.id), zhengan(), T0);
            mark(&mut l, &w.c1);
            l
        }), "field_not_allowed"),
        case("sync admin authors a field record", AdminZhengan, CreateLog(|w| log_by(&w.admin_zhengan.user, None, zhengan(), T0)), "not_your_record"),
        case("team lead creates own log", Lead1, CreateLog(|w| log_by(&w.lead1.user, Some(w.team1.id), zhengan(), T0)), "stored"),
        case("other team creates own log in its county", C3, CreateLog(|w| log_by(&w.c3.user, Some(w.team2.id), wuchuan(), T0)), "stored"),
        // Consultations: no review fields; only the author writes.
        case("commissioner creates a consultation", C1, CreateConsultation, "stored"),
        case("lead answers a member's consultation", Lead1, AnswerConsultation, "not_your_record"),
        case("teammate answers a consultation", C2, AnswerConsultation, "not_your_record"),
        case("author answers own consultation", C1, AnswerConsultation, "stored"),
        // Actors and documents.
        case("another device pushes c1's actor", C2, PushC1sEdit, "foreign_actor"),
        case("a change pushed under another document", C1, CreateUnderAnotherId, "wrong_document"),
        case("a hidden concurrent write to author", C2, HiddenAuthorWrite, "field_not_allowed"),
    ]
}

/// A fresh submitted log by c1 in 正安, stored on the server.
async fn stored_log(env: &Env, c1: &Device) -> Doc {
    let w = &env.world;
    let (doc, change) = Doc::create_log(c1, &log_by(&w.c1.user, Some(w.team1.id), zhengan(), T0));
    assert_eq!(code(&env.push(c1, &[change]).await[0]), "stored");
    doc
}

/// A log of c1's that lead 1 approved (from the lead's own device) and
/// then c1 resolved a conflict of and edited, stored; and how many changes
/// that stored.
async fn reviewed_log(env: &Env, c1: &Device) -> (Doc, u64) {
    let w = &env.world;
    let mut doc = stored_log(env, c1).await;
    let tablet = env.enrol(&w.lead1).await;
    let approval = doc.edit_log(&tablet, |l| decide(l, &w.lead1, Verdict::Approved, ""));
    assert_eq!(code(&env.push(&tablet, &[approval]).await[0]), "stored");
    let fix = doc.edit_log(c1, |l| {
        resolve(l, &w.c1, Role::Commissioner, "farmers_served");
        l.farmers_served = 14;
    });
    assert_eq!(code(&env.push(c1, &[fix]).await[0]), "stored");
    (doc, 3)
}

impl Act {
    /// Sets the case up and makes the change `who` pushes from `device`;
    /// also how many changes the setup stored (`c1` is c1's first device).
    async fn change(
        &self,
        env: &Env,
        c1: &Device,
        who: &Account,
        device: &Device,
    ) -> ((DocId, Vec<u8>), u64) {
        let w = &env.world;
        match self {
            Act::EditLog(f) => {
                let doc = stored_log(env, c1).await;
                (doc.fork().edit_log(device, |l| f(l, w)), 1)
            }
            Act::EditDraft(f) => {
                let mut doc = stored_log(env, c1).await;
                let to_draft = doc.edit_log(c1, |l| l.status = LogStatus::Draft);
                assert_eq!(code(&env.push(c1, &[to_draft]).await[0]), "stored");
                (doc.fork().edit_log(device, |l| f(l, w)), 2)
            }
            Act::EditReviewed(f) => {
                let mut doc = reviewed_log(env, c1).await;
                (doc.0.edit_log(device, |l| f(l, w)), doc.1)
            }
            Act::RewriteHistory(raw) => {
                let (doc, setup) = reviewed_log(env, c1).await;
                let mut am = doc.doc.automerge().clone().with_actor(device.actor.clone());
                am.transact::<_, _, automerge::AutomergeError>(|tx| {
                    let (key, i) = match raw {
                        RawWrite::RewriteDecision => ("reviews", 0),
                        RawWrite::DeleteResolution => ("resolutions", 0),
                    };
                    let Some((_, list)) = tx.get(automerge::ROOT, key)? else {
                        panic!("the reviewed log has {key}");
                    };
                    match raw {
                        RawWrite::RewriteDecision => {
                            let Some((_, item)) = tx.get(&list, i)? else {
                                panic!("a decision");
                            };
                            tx.put(&item, "comment", "改过的意见")?;
                        }
                        RawWrite::DeleteResolution => tx.delete(&list, i)?,
                    }
                    Ok(())
                })
                .unwrap();
                let heads = doc.doc.heads();
                let mut change = am.get_changes(&heads).into_iter().next().unwrap().clone();
                ((doc.id, change.bytes().into_owned()), setup)
            }
            Act::EditConsultation(f) => {
                let k: Consultation = consultation_by(&w.c1.user, Some(w.team1.id), zhengan(), T0);
                let (doc, created) = Doc::create_consultation(c1, &k);
                assert_eq!(code(&env.push(c1, &[created]).await[0]), "stored");
                (doc.fork().edit_consultation(device, |c| f(c, w)), 1)
            }
            Act::CreateLog(f) => (Doc::create_log(device, &f(w)).1, 0),
            Act::CreateConsultation => {
                let k = consultation_by(&who.user, who.user.team, zhengan(), T0);
                (Doc::create_consultation(device, &k).1, 0)
            }
            Act::AnswerConsultation => {
                let k: Consultation = consultation_by(&w.c1.user, Some(w.team1.id), zhengan(), T0);
                let (doc, created) = Doc::create_consultation(c1, &k);
                assert_eq!(code(&env.push(c1, &[created]).await[0]), "stored");
                (
                    doc.fork()
                        .edit_consultation(device, |c| c.advice = "喷药".into()),
                    1,
                )
            }
            Act::PushC1sEdit => {
                let mut doc = stored_log(env, c1).await;
                (doc.edit_log(c1, |l| l.farmers_served = 20), 1)
            }
            Act::CreateUnderAnotherId => {
                let (_, (_, bytes)) =
                    Doc::create_log(device, &log_by(&w.c1.user, Some(w.team1.id), zhengan(), T0));
                let elsewhere = log_by(&w.c1.user, Some(w.team1.id), zhengan(), T0)
                    .id
                    .into();
                ((elsewhere, bytes), 0)
            }
            Act::HiddenAuthorWrite => {
                let doc = stored_log(env, c1).await;
                let mut am = Automerge::new().with_actor(device.actor.clone());
                am.transact::<_, _, automerge::AutomergeError>(|tx| {
                    tx.put(automerge::ROOT, "author", who.user.id.to_string())?;
                    Ok(())
                })
                .unwrap();
                let mut sneaky = am.get_changes(&[]).into_iter().next().unwrap().clone();
                ((doc.id, sneaky.bytes().into_owned()), 1)
            }
        }
    }
}

pub async fn writes(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    assert_eq!(env.counts().await.0, 0);
    let (mut expected_stored, mut expected_refused) = (0, 0);
    let mut failures = Vec::new();
    for case in write_cases() {
        let who = case.who.of(&w);
        let device = env.enrol(who).await;
        let (change, setup) = case.act.change(&env, &c1, who, &device).await;
        expected_stored += setup;
        match case.expected {
            "stored" => expected_stored += 1,
            "duplicate" | "missing_deps" => {}
            _ => expected_refused += 1,
        }
        let outcome = env.push(&device, &[change]).await.remove(0);
        if code(&outcome) != case.expected {
            failures.push(format!(
                "{}: expected {}, got {outcome:?}",
                case.label, case.expected
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "matrix failures:\n{}",
        failures.join("\n")
    );
    let (changes, _, quarantined) = env.counts().await;
    assert_eq!(
        changes, expected_stored,
        "the server stored a change no case expected"
    );
    assert_eq!(quarantined, expected_refused);
}

/// Which of the four logs each reader sees.
fn read_cases() -> Vec<(Who, &'static [&'static str])> {
    use Who::*;
    let team1: &[&str] = &["c1 log", "own-scope log", "lead1 log"];
    vec![
        (C1, team1),
        (C2, team1),
        (COwn, &["own-scope log"]),
        (Lead1, team1),
        (C3, &["c3 log"]),
        (Lead2, &["c3 log"]),
        (AdminZhengan, team1),
        (AdminWuchuan, &["c3 log"]),
        (
            AdminGuizhou,
            &["c1 log", "c3 log", "own-scope log", "lead1 log"],
        ),
        (AdminYunnan, &[]),
    ]
}

pub async fn reads(env: Env) {
    let w = env.world.clone();
    let mut docs: BTreeMap<&str, (DocId, Placement)> = BTreeMap::new();
    for (name, who, team, village) in [
        ("c1 log", &w.c1, w.team1.id, zhengan()),
        ("c3 log", &w.c3, w.team2.id, wuchuan()),
        ("own-scope log", &w.c_own, w.team1.id, zhengan()),
        ("lead1 log", &w.lead1, w.team1.id, zhengan()),
    ] {
        let device = env.enrol(who).await;
        let log = log_by(&who.user, Some(team), village, T0);
        let placement = AnyRecord::ServiceLog(log.clone()).placement();
        let (doc, change) = Doc::create_log(&device, &log);
        assert_eq!(code(&env.push(&device, &[change]).await[0]), "stored");
        docs.insert(name, (doc.id, placement));
    }
    let teams = [w.team1.clone(), w.team2.clone()];
    for (who, names) in read_cases() {
        let who = who.of(&w);
        let name = &who.user.username;
        // A second device of the user: a device never pulls its own pushes.
        let device = env.enrol(who).await;
        let wanted: BTreeSet<DocId> = names.iter().map(|n| docs[n].0).collect();
        assert_eq!(env.visible_docs(&device).await, wanted, "what {name} pulls");
        let team = who.user.team.and_then(|t| teams.iter().find(|x| x.id == t));
        let principal = app_core::scope::Principal::of(&who.user, team);
        for (doc_name, (doc, placement)) in &docs {
            let readable = wanted.contains(doc);
            assert_eq!(
                can_read(&principal, placement),
                readable,
                "the rules agree: {name} reading {doc_name}"
            );
            let fetch = env.get(&device, &format!("/api/v1/sync/docs/{doc}"));
            if readable {
                let page: PullResponse = fetch.fetch_msgpack().await;
                assert_eq!(
                    (page.changes.len(), page.more),
                    (1, false),
                    "{name} fetching {doc_name}"
                );
            } else {
                assert_eq!(
                    fetch.fetch_status().await,
                    404,
                    "{name} fetching {doc_name}"
                );
            }
        }
    }
    // A device does not pull back what it pushed itself.
    let c1 = env.enrol(&w.c1).await;
    let log = log_by(&w.c1.user, Some(w.team1.id), zhengan(), T0 + 20);
    let (doc, change) = Doc::create_log(&c1, &log);
    env.push(&c1, &[change]).await;
    assert!(!env.visible_docs(&c1).await.contains(&doc.id));
}
