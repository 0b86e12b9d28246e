//! Saving, editing and listing records on one device: validation errors
//! change nothing, warnings still save, everything survives a reopen.

use app_core::domain::validate::VillageLookup;
use app_core::domain::{
    ConsultationInput, ConsultationStatus, LogStatus, ReviewState, ServiceLogId, VillageCode,
    Warning,
};
use app_core::store::{LogQuery, ReviewDecision, StoreError};

use crate::support::*;

#[test]
fn a_saved_log_reads_back_and_survives_reopening() {
    let t = TestStore::new();
    let saved = t
        .store
        .create_service_log(&commissioner(), &training_input(), true)
        .unwrap();
    assert!(saved.warnings.is_empty(), "{:?}", saved.warnings);
    let id = saved.value.id;
    assert_eq!(saved.value.status, LogStatus::Submitted);
    assert_eq!(saved.value.created_at, NOW);

    let t = t.reopen();
    let log = t.store.service_log(id).unwrap();
    assert_eq!(log, saved.value);
    assert_eq!(log.served.len(), 1);
    assert_eq!(log.trainees, Some(42));

    let listed = t.store.list_service_logs(&LogQuery::default()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    assert_eq!(
        listed[0].village_name.as_deref(),
        Some("北苑社区居民委员会")
    );
    assert_eq!(listed[0].township_name.as_deref(), Some("凤仪街道"));
    assert_eq!(t.store.outbox_stats().unwrap().changes, 1);
}

#[test]
fn impossible_input_is_a_typed_error_and_saves_nothing() {
    let t = TestStore::new();
    type Mutation = Box<dyn Fn(&mut app_core::domain::ServiceLogInput)>;
    let cases: Vec<(&str, Mutation)> = vec![
        ("bad_code", Box::new(|i| i.village = "52032400100".into())),
        (
            "village_not_in_register",
            Box::new(|i| i.village = "520324001999".into()),
        ),
        ("negative_count", Box::new(|i| i.farmers_served = -3)),
        ("negative_count", Box::new(|i| i.trainees = Some(-1))),
        (
            "end_before_start",
            Box::new(|i| i.end_time = Some("08:00".into())),
        ),
        ("unknown_code", Box::new(|i| i.activity = "karaoke".into())),
        ("bad_date", Box::new(|i| i.date = "2026-02-30".into())),
        ("required", Box::new(|i| i.industry = "  ".into())),
    ];
    for (code, mutate) in cases {
        let mut input = training_input();
        mutate(&mut input);
        match t.store.create_service_log(&commissioner(), &input, true) {
            Err(StoreError::Invalid(e)) => assert!(e.has(code), "expected {code}, got {e}"),
            other => panic!("expected {code}, got {other:?}"),
        }
    }
    assert_eq!(t.store.doc_count().unwrap(), 0);
    assert_eq!(t.store.outbox_stats().unwrap().changes, 0);
    assert!(
        t.store
            .list_service_logs(&LogQuery::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn imperfect_field_data_warns_and_still_saves() {
    let t = TestStore::new();
    let mut input = training_input();
    input.location = None;
    input.date = "2027-11-28".into(); // a phone whose clock or calendar is a year off
    input.trainees = None;
    let saved = t
        .store
        .create_service_log(&commissioner(), &input, false)
        .unwrap();
    let codes: Vec<&str> = saved.warnings.iter().map(Warning::code).collect();
    assert_eq!(
        codes,
        ["date_in_future", "no_location", "training_without_trainees"]
    );
    assert_eq!(saved.value.status, LogStatus::Draft);
    assert!(t.store.service_log(saved.value.id).is_ok());
}

#[test]
fn a_village_of_a_county_not_on_the_device_is_a_warning() {
    let t = TestStore::new();
    let mut input = training_input();
    input.village = "110101001001".into(); // Beijing, not loaded here
    assert_eq!(
        t.store
            .lookup_village(VillageCode::parse("110101001001").unwrap())
            .unwrap(),
        VillageLookup::CountyNotLoaded
    );
    let saved = t
        .store
        .create_service_log(&commissioner(), &input, true)
        .unwrap();
    assert!(
        saved
            .warnings
            .iter()
            .any(|w| w.code() == "register_not_loaded")
    );
}

#[test]
fn a_failed_edit_leaves_the_record_as_it_was() {
    let t = TestStore::new();
    let saved = t
        .store
        .create_service_log(&commissioner(), &training_input(), true)
        .unwrap();
    let mut bad = training_input();
    bad.farmers_served = -1;
    bad.description = "这次修改不应保存".into();
    assert!(
        t.store
            .update_service_log(saved.value.id, &bad, true)
            .is_err()
    );
    assert_eq!(t.store.service_log(saved.value.id).unwrap(), saved.value);
    assert_eq!(t.store.outbox_stats().unwrap().changes, 1);
}

#[test]
fn an_edit_writes_one_small_change_and_lists_update() {
    let t = TestStore::new();
    let saved = t
        .store
        .create_service_log(&commissioner(), &training_input(), true)
        .unwrap();
    let mut input = saved.value.to_input();
    input.farmers_served = 40;
    input.description.push_str("会后到两户茶农的茶园现场指导。");
    t.clock.advance_millis(60_000);
    let edited = t
        .store
        .update_service_log(saved.value.id, &input, true)
        .unwrap();
    assert_eq!(edited.value.farmers_served, 40);
    assert!(edited.value.description.ends_with("现场指导。"));
    let outbox = t.store.outbox_peek(10, 1 << 20).unwrap();
    assert_eq!(outbox.len(), 2);
    assert!(
        outbox[1].change.bytes.len() < outbox[0].change.bytes.len(),
        "an edit's change ({} bytes) should be smaller than the creation ({} bytes)",
        outbox[1].change.bytes.len(),
        outbox[0].change.bytes.len()
    );
    // Saving the same content again writes nothing.
    t.store
        .update_service_log(saved.value.id, &input, true)
        .unwrap();
    assert_eq!(t.store.outbox_stats().unwrap().changes, 2);

    let found = t
        .store
        .list_service_logs(&LogQuery {
            text: Some("现场指导".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].farmers_served, 40);
    let by_village_name = t
        .store
        .list_service_logs(&LogQuery {
            text: Some("北苑".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_village_name.len(), 1);
}

#[test]
fn review_sets_only_status_and_review_and_returning_needs_a_comment() {
    let t = TestStore::new();
    let saved = t
        .store
        .create_service_log(&commissioner(), &training_input(), true)
        .unwrap();
    let id = saved.value.id;
    let err = t
        .store
        .review_service_log(id, team_lead(), ReviewDecision::Return, " ")
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    let returned = t
        .store
        .review_service_log(
            id,
            team_lead(),
            ReviewDecision::Return,
            "请补充培训签到表照片",
        )
        .unwrap();
    assert_eq!(returned.status, LogStatus::Returned);
    assert_eq!(returned.review.comment, "请补充培训签到表照片");
    assert_eq!(returned.review.by, Some(team_lead()));
    assert_eq!(returned.reviews.len(), 1, "the decision is in the history");
    assert_eq!(returned.reviews[0].comment, "请补充培训签到表照片");
    assert_eq!(returned.review_state(), ReviewState::Returned);
    let mut unchanged = returned.clone();
    unchanged.status = saved.value.status;
    unchanged.review = saved.value.review.clone();
    unchanged.reviews = saved.value.reviews.clone();
    assert_eq!(
        unchanged, saved.value,
        "nothing but status, review and the history changed"
    );

    let mut fixed = returned.to_input();
    fixed.description.push_str("已补充签到表。");
    let resubmitted = t.store.update_service_log(id, &fixed, false).unwrap();
    assert_eq!(resubmitted.value.status, LogStatus::Submitted);
    assert_eq!(resubmitted.value.review_state(), ReviewState::Submitted);
    let approved = t
        .store
        .review_service_log(id, team_lead(), ReviewDecision::Approve, "")
        .unwrap();
    assert_eq!(approved.status, LogStatus::Approved);
    assert_eq!(approved.review_state(), ReviewState::Approved);
    assert_eq!(approved.reviews.len(), 2);
}

#[test]
fn drafts_cannot_be_reviewed() {
    let t = TestStore::new();
    let draft = t
        .store
        .create_service_log(&commissioner(), &training_input(), false)
        .unwrap();
    let err = t
        .store
        .review_service_log(draft.value.id, team_lead(), ReviewDecision::Approve, "")
        .unwrap_err();
    assert!(matches!(err, StoreError::NotAllowed(_)));
}

#[test]
fn a_consultation_goes_from_open_to_closed_with_follow_ups() {
    let t = TestStore::new();
    let input = ConsultationInput {
        farmer_name: "王德明".into(),
        farmer_phone: "138 0851 1234".into(),
        farmer_village: VILLAGE_2.into(),
        subject: "茶树".into(),
        problem: "新梢叶片出现褐色斑点，逐渐扩大。".into(),
        channel: "phone".into(),
        asked_at: "2026-11-29 08:10".into(),
        photos: vec![],
    };
    let c = t
        .store
        .create_consultation(&commissioner(), &input)
        .unwrap()
        .value;
    assert_eq!(c.status, ConsultationStatus::Open);
    assert_eq!(c.farmer.phone, "13808511234");

    t.clock.advance_millis(3 * 3600 * 1000);
    let answered = t
        .store
        .answer_consultation(c.id, "疑似茶饼病，建议摘除病叶并喷施多抗霉素。")
        .unwrap();
    assert_eq!(answered.status, ConsultationStatus::Answered);
    // Asked 08:10, clock at 09:00 + 3 h = 12:00: 3 h 50 min.
    assert_eq!(
        answered.time_to_first_answer_millis(),
        Some((3 * 60 + 50) * 60 * 1000)
    );

    let followed = t
        .store
        .add_follow_up(
            c.id,
            commissioner().user,
            "一周后回访，病斑未再扩展。",
            true,
        )
        .unwrap();
    assert_eq!(followed.status, ConsultationStatus::FollowUpNeeded);
    assert_eq!(followed.follow_ups.len(), 1);
    let closed = t.store.close_consultation(c.id).unwrap();
    assert_eq!(closed.status, ConsultationStatus::Closed);

    let bad_phone = ConsultationInput {
        farmer_phone: "12345".into(),
        ..input
    };
    let err = t
        .store
        .create_consultation(&commissioner(), &bad_phone)
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(e) if e.has("bad_phone")));
}

#[test]
fn a_missing_record_is_not_found() {
    let t = TestStore::new();
    let id: ServiceLogId = "0192f000-0000-7000-8000-00000000ffff".parse().unwrap();
    assert!(matches!(
        t.store.service_log(id),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
#[allow(
    clippy::disallowed_types,
    reason = "the test reads the store's tables to see what compaction left"
)]
fn increments_are_compacted_into_the_snapshot() {
    let t = TestStore::new();
    let saved = t
        .store
        .create_service_log(&commissioner(), &training_input(), true)
        .unwrap();
    let mut input = saved.value.to_input();
    for i in 0..40 {
        input.description.push_str(&format!("第{i}次补充。"));
        t.store
            .update_service_log(saved.value.id, &input, false)
            .unwrap();
    }
    let path = t.store.path().to_path_buf();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (snapshot_len, increments_len, rows): (i64, i64, i64) = conn
        .query_row(
            "SELECT snapshot_len, increments_len,
                    (SELECT count(*) FROM doc_changes WHERE doc_id = d.doc_id)
             FROM documents d",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(
        increments_len <= snapshot_len,
        "{increments_len} > {snapshot_len}"
    );
    assert!(rows < 40, "compaction removed change rows ({rows} left)");
    let log = t.store.service_log(saved.value.id).unwrap();
    assert!(log.description.ends_with("第39次补充。"));
    assert_eq!(
        t.store.outbox_stats().unwrap().changes,
        41,
        "the outbox keeps every change"
    );
}
