//! Saved documents from released schema versions must still read.
//!
//! `tests/fixtures/*_v1.automerge` were written by schema 1 (the first
//! release) and are never regenerated once committed: a failure here means
//! new code cannot read what devices in the field hold. The ignored test
//! `fixtures::write_v1_fixtures` wrote them.

use std::path::PathBuf;

use app_core::doc::{RecordDoc, SCHEMA_VERSION};
use app_core::domain::{
    ActivityType, Consultation, ConsultationStatus, LogStatus, RecordKind, ServiceLog,
};

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
