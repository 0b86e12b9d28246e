//! Saved documents from released schema versions must still read.
//!
//! `tests/fixtures/*_v1.automerge` were written by schema 1 (the first
//! release), `*_v2.automerge` by schema 2 (review history, resolutions,
//! duplicate marks); they are never regenerated once committed: a failure
//! here means new code cannot read what devices in the field hold. The
//! ignored tests `fixtures::write_v1_fixtures` and
//! `fixtures::write_v2_fixtures` wrote them.

use std::path::PathBuf;

use app_core::api::{Choice, MarkDuplicateInput, ResolveInput, ReturnInput};
use app_core::doc::{DocError, RecordDoc, SCHEMA_VERSION};
use app_core::domain::{
    ActivityType, Consultation, ConsultationStatus, CountyCode, DecisionId, LogStatus, RecordKind,
    ReviewState, Role, Scope, ServiceLog, Timestamp, Verdict,
};
use app_core::scope::Principal;
use automerge::ActorId;

use crate::support::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
#[ignore = "writes the v1 fixtures; run once when schema 1 shipped"]
fn write_v1_fixtures() {
    let t = TestStore::new();
    let log = t
        .store
        .create_service_log(&commissioner(), &training_input(), true)
        .unwrap()
        .value;
    let mut input = log.to_input();
    input.description.push_str("（补记）");
    t.store.update_service_log(log.id, &input, true).unwrap();
    std::fs::write(
        fixture("service_log_v1.automerge"),
        t.store.load_doc(log.id.into()).unwrap().save(),
    )
    .unwrap();

    let c = t
        .store
        .create_consultation(
            &commissioner(),
            &app_core::domain::ConsultationInput {
                farmer_name: "李秀英".into(),
                farmer_phone: "13985212345".into(),
                farmer_village: VILLAGE.into(),
                subject: "肉牛".into(),
                problem: "牛犊食欲下降，咳嗽。".into(),
                channel: "on_site".into(),
                asked_at: "2026-11-28 15:20".into(),
                photos: vec![],
            },
        )
        .unwrap()
        .value;
    t.store
        .answer_consultation(c.id, "建议隔离观察，测体温，必要时请兽医诊治。")
        .unwrap();
    t.store
        .add_follow_up(c.id, commissioner().user, "两天后电话回访，已好转。", false)
        .unwrap();
    std::fs::write(
        fixture("consultation_v1.automerge"),
        t.store.load_doc(c.id.into()).unwrap().save(),
    )
    .unwrap();
}

fn lead() -> Principal {
    Principal {
        user: team_lead(),
        role: Role::TeamLead,
        scope: Scope::Team(commissioner().team.unwrap()),
        team: commissioner().team,
        county: Some(CountyCode::parse(COUNTY).unwrap()),
    }
}

fn author() -> Principal {
    Principal {
        user: commissioner().user,
        role: Role::Commissioner,
        ..lead()
    }
}

#[test]
#[ignore = "writes the v2 fixtures; run once when schema 2 shipped"]
fn write_v2_fixtures() {
    let phone = TestStore::new();
    let tablet = TestStore::new();
    let log = phone
        .store
        .create_service_log(&commissioner(), &training_input(), true)
        .unwrap()
        .value;
    let sync = |from: &TestStore, to: &TestStore| {
        let changes = from
            .store
            .changes_for_peer(&to.store.heads().unwrap())
            .unwrap();
        to.store.apply_changes(&changes).unwrap();
    };
    sync(&phone, &tablet);
    // Returned with a comment, then edited by the author.
    tablet
        .store
        .return_log_as(
            &lead(),
            &ReturnInput {
                id: log.id,
                comment: "请补充培训签到表照片".into(),
            },
        )
        .unwrap();
    sync(&tablet, &phone);
    let mut input = log.to_input();
    input.description.push_str("（已补充签到表）");
    phone
        .store
        .update_service_log(log.id, &input, true)
        .unwrap();
    // Two devices of the author set the count at once; the author keeps 40.
    sync(&phone, &tablet);
    let mut a = input.clone();
    a.farmers_served = 40;
    phone.store.update_service_log(log.id, &a, false).unwrap();
    let mut c = tablet.store.service_log(log.id).unwrap().to_input();
    c.farmers_served = 38;
    tablet.store.update_service_log(log.id, &c, false).unwrap();
    sync(&tablet, &phone);
    let conflict = phone.store.conflicts(log.id.into()).unwrap();
    let keep = conflict[0]
        .values
        .iter()
        .find(|v| v.value == 40)
        .unwrap()
        .op
        .clone();
    phone
        .store
        .resolve_conflict_as(
            &author(),
            &ResolveInput {
                id: log.id.into(),
                path: "farmers_served".into(),
                choice: Choice::Pick { op: keep },
            },
        )
        .unwrap();
    sync(&phone, &tablet);
    tablet.store.approve_logs_as(&lead(), &[log.id]).unwrap();
    sync(&tablet, &phone);
    // The same visit logged a second time, marked as its duplicate.
    let twice = phone
        .store
        .create_service_log(&commissioner(), &training_input(), true)
        .unwrap()
        .value;
    phone
        .store
        .mark_duplicate_as(
            &author(),
            &MarkDuplicateInput {
                id: twice.id.into(),
                of: log.id.into(),
            },
        )
        .unwrap();
    std::fs::write(
        fixture("service_log_v2.automerge"),
        phone.store.load_doc(log.id.into()).unwrap().save(),
    )
    .unwrap();
    std::fs::write(
        fixture("service_log_duplicate_v2.automerge"),
        phone.store.load_doc(twice.id.into()).unwrap().save(),
    )
    .unwrap();
}

#[test]
fn a_schema_2_service_log_still_reads() {
    let bytes = std::fs::read(fixture("service_log_v2.automerge")).unwrap();
    let doc = RecordDoc::load(&bytes).unwrap();
    assert_eq!(doc.schema(), 2);
    let log: ServiceLog = doc.read().unwrap();
    assert_eq!(log.farmers_served, 40);
    assert!(log.description.ends_with("（已补充签到表）"));
    assert_eq!(
        log.reviews.iter().map(|d| d.verdict).collect::<Vec<_>>(),
        [Verdict::Returned, Verdict::Approved]
    );
    assert_eq!(log.reviews[0].comment, "请补充培训签到表照片");
    assert!(
        log.reviews
            .iter()
            .all(|d| d.by == team_lead() && d.is_well_formed())
    );
    assert_eq!(log.review_state(), ReviewState::Approved);
    assert_eq!(log.status, LogStatus::Approved);
    assert_eq!(log.resolutions.len(), 1);
    let r = &log.resolutions[0];
    assert_eq!(
        (r.path.as_str(), r.chosen.as_str()),
        ("farmers_served", "40")
    );
    assert_eq!(r.superseded, ["38"]);
    assert_eq!((r.by, r.role), (commissioner().user, Role::Commissioner));
    assert!(doc.conflicts().is_empty());
    // The version the first decision was made on: before the author's fix.
    let returned: ServiceLog = doc.read_at(&log.reviews[0].heads).unwrap();
    assert!(!returned.description.contains("已补充签到表"));
    assert_eq!(returned.review_state(), ReviewState::Submitted);

    let bytes = std::fs::read(fixture("service_log_duplicate_v2.automerge")).unwrap();
    let twice: ServiceLog = RecordDoc::load(&bytes).unwrap().read().unwrap();
    assert_eq!(twice.duplicate.unwrap().of, log.id.into());
    assert_eq!(twice.duplicate.unwrap().by, commissioner().user);
}

/// A schema-1 document edited by this version: only what the edit changes
/// is written (no empty history list, no null duplicate mark that would
/// race with another device's first entry).
#[test]
fn editing_a_schema_1_log_writes_only_the_edit() {
    let bytes = std::fs::read(fixture("service_log_v1.automerge")).unwrap();
    let mut doc = RecordDoc::load(&bytes).unwrap();
    let change = doc
        .edit::<ServiceLog, (), DocError>(&ActorId::random(), NOW, |l| {
            l.farmers_served = 36;
            Ok(())
        })
        .unwrap()
        .change
        .unwrap();
    let keys: Vec<String> = change
        .decode()
        .operations
        .iter()
        .filter_map(|op| match &op.key {
            automerge::legacy::Key::Map(k) => Some(k.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(keys, ["_schema", "farmers_served"]);
    assert_eq!(doc.schema(), 2);
}

/// Two leads decide at once on a schema-1 log, which has no history list
/// yet: each device creates one, Automerge shows only one of them, and
/// both decisions are still read, the same on both sides.
#[test]
fn concurrent_first_decisions_on_a_schema_1_log_are_both_kept() {
    let bytes = std::fs::read(fixture("service_log_v1.automerge")).unwrap();
    let base = RecordDoc::load(&bytes).unwrap();
    let decide = |verdict: Verdict, n: u128| {
        let mut doc = base.clone();
        let heads = doc.heads_hex();
        let change = doc
            .edit::<ServiceLog, (), DocError>(&ActorId::random(), NOW, |l| {
                l.decide(
                    DecisionId::from_uuid(uuid::Uuid::from_u128(n)),
                    verdict,
                    team_lead(),
                    Timestamp::from_millis(1),
                    "请补充",
                    heads,
                )
                .unwrap();
                Ok(())
            })
            .unwrap()
            .change
            .unwrap();
        (doc, change)
    };
    let (mut a, from_a) = decide(Verdict::Approved, 1);
    let (mut b, from_b) = decide(Verdict::Returned, 2);
    a.apply([from_b]).unwrap();
    b.apply([from_a]).unwrap();
    let (on_a, on_b) = (
        a.read::<ServiceLog>().unwrap(),
        b.read::<ServiceLog>().unwrap(),
    );
    assert_eq!(on_a, on_b);
    assert_eq!(on_a.reviews.len(), 2, "{:?}", on_a.reviews);
    // The lists are read as one, never a conflict; the status the two
    // decisions mirror is one (the state follows the last decision).
    let paths: Vec<String> = a.conflicts().iter().map(|c| c.path_string()).collect();
    assert_eq!(paths, ["status"]);
    assert_eq!(
        on_a.review_state(),
        match on_a.reviews[1].verdict {
            Verdict::Approved => ReviewState::Approved,
            Verdict::Returned => ReviewState::Returned,
        }
    );
}

#[test]
fn a_schema_1_service_log_still_reads() {
    let bytes = std::fs::read(fixture("service_log_v1.automerge")).unwrap();
    let doc = RecordDoc::load(&bytes).unwrap();
    assert_eq!(doc.schema(), 1);
    assert!(doc.schema() <= SCHEMA_VERSION);
    assert_eq!(doc.kind().unwrap(), RecordKind::ServiceLog);
    let log: ServiceLog = doc.read().unwrap();
    assert_eq!(log.village.to_string(), VILLAGE);
    assert_eq!(log.activity, ActivityType::Training);
    assert_eq!(log.industry, "茶叶");
    assert_eq!(log.farmers_served, 35);
    assert_eq!(log.trainees, Some(42));
    assert_eq!(log.status, LogStatus::Submitted);
    assert_eq!(log.served[0].name, "正安县白茶专业合作社");
    assert_eq!(log.technologies, ["茶园绿色防控"]);
    assert_eq!(log.varieties, ["白叶1号"]);
    assert!(log.description.ends_with("病虫害绿色防控。（补记）"));
    assert_eq!(log.start_time.unwrap().to_string(), "09:00:00");
    assert_eq!(log.location.unwrap().accuracy_m, Some(12.0));
    assert_eq!(log.created_at, NOW);
    assert_eq!(doc.heads().len(), 1);
    assert_eq!(doc.changes_since(&[]).len(), 2);
    // Schema-2 fields read empty.
    assert!(log.reviews.is_empty() && log.resolutions.is_empty());
    assert_eq!(log.duplicate, None);
    assert_eq!(log.review_state(), ReviewState::Submitted);
}

#[test]
fn a_schema_1_consultation_still_reads() {
    let bytes = std::fs::read(fixture("consultation_v1.automerge")).unwrap();
    let doc = RecordDoc::load(&bytes).unwrap();
    assert_eq!(doc.schema(), 1);
    let c: Consultation = doc.read().unwrap();
    assert_eq!(c.farmer.name, "李秀英");
    assert_eq!(c.subject, "肉牛");
    assert_eq!(c.status, ConsultationStatus::Answered);
    assert_eq!(c.advice, "建议隔离观察，测体温，必要时请兽医诊治。");
    assert_eq!(c.follow_ups.len(), 1);
    assert_eq!(c.follow_ups[0].note, "两天后电话回访，已好转。");
    assert!(c.first_answered_at.is_some());
    assert!(c.resolutions.is_empty());
    assert_eq!(c.duplicate, None);
}

#[test]
fn a_document_of_another_kind_is_refused_by_kind() {
    let bytes = std::fs::read(fixture("consultation_v1.automerge")).unwrap();
    let doc = RecordDoc::load(&bytes).unwrap();
    let err = doc.read::<ServiceLog>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "document is a consultation, not a service_log"
    );
}
