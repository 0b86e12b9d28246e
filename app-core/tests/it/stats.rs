//! Work statistics from the projections, and local form drafts.

use app_core::domain::ConsultationInput;
use app_core::stats::StatsQuery;
use app_core::store::ReviewDecision;
use chrono::NaiveDate;

use crate::support::*;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn a_commissioners_period_adds_up() {
    let t = TestStore::new();
    let me = commissioner();
    // Two trainings on one day in two villages, a guidance visit the next day,
    // a draft (does not count) and a log outside the period.
    let mut a = training_input();
    a.trainees = Some(40);
    let a = t.store.create_service_log(&me, &a, true).unwrap().value;
    let mut b = training_input();
    b.village = VILLAGE_2.into();
    b.trainees = Some(25);
    b.technologies = vec!["茶园绿色防控".into(), "测土配方施肥".into()];
    t.store.create_service_log(&me, &b, true).unwrap();
    let mut c = training_input();
    c.date = "2026-11-27".into();
    c.activity = "technical_guidance".into();
    c.trainees = None;
    c.farmers_served = 5;
    c.served = vec![];
    t.store.create_service_log(&me, &c, true).unwrap();
    let mut draft = training_input();
    draft.date = "2026-11-26".into();
    t.store.create_service_log(&me, &draft, false).unwrap();
    let mut old = training_input();
    old.date = "2026-10-01".into();
    t.store.create_service_log(&me, &old, true).unwrap();
    t.store
        .review_service_log(a.id, team_lead(), ReviewDecision::Approve, "")
        .unwrap();

    let consult = |asked: &str| ConsultationInput {
        farmer_name: "王德明".into(),
        farmer_phone: String::new(),
        farmer_village: VILLAGE.into(),
        subject: "茶树".into(),
        problem: "叶片发黄".into(),
        channel: "phone".into(),
        asked_at: asked.into(),
        photos: vec![],
    };
    // Asked 08:00 and 08:30; the clock stands at 09:00: answers after 60 and
    // 30 minutes; a third is not answered.
    for asked in ["2026-11-29 08:00", "2026-11-29 08:30"] {
        let c = t
            .store
            .create_consultation(&me, &consult(asked))
            .unwrap()
            .value;
        t.store.answer_consultation(c.id, "建议补施氮肥。").unwrap();
    }
    t.store
        .create_consultation(&me, &consult("2026-11-28 10:00"))
        .unwrap();

    let s = t
        .store
        .work_stats(&StatsQuery {
            author: Some(me.user),
            from: day("2026-11-01"),
            to: day("2026-11-30"),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(s.visits, 3);
    assert_eq!(s.service_days, 2);
    assert_eq!(s.approved_logs, 1);
    assert_eq!(s.villages_covered, 2);
    assert_eq!(s.townships_covered, 1);
    assert_eq!(s.farmers_served, 35 + 35 + 5);
    assert_eq!(s.trainings, 2);
    assert_eq!(s.trainees, 65);
    assert_eq!(s.technologies, 2);
    assert_eq!(s.varieties, 1);
    assert_eq!(s.cooperatives, 1);
    assert_eq!(s.enterprises, 0);
    assert_eq!(s.consultations, 3);
    assert_eq!(s.consultations_answered, 2);
    assert_eq!(s.median_minutes_to_first_answer, Some(45));

    let other = t
        .store
        .work_stats(&StatsQuery {
            author: Some(team_lead()),
            from: day("2026-11-01"),
            to: day("2026-11-30"),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(other.visits, 0);
    assert_eq!(other.median_minutes_to_first_answer, None);
}

#[test]
fn form_drafts_are_local_and_never_enter_the_outbox() {
    let t = TestStore::new();
    t.store
        .save_form_draft("new_log", r#"{"industry":"茶"}"#)
        .unwrap();
    t.store
        .save_form_draft("new_log", r#"{"industry":"茶叶"}"#)
        .unwrap();
    let t = t.reopen();
    assert_eq!(
        t.store.form_draft("new_log").unwrap().as_deref(),
        Some(r#"{"industry":"茶叶"}"#)
    );
    assert_eq!(t.store.form_drafts().unwrap(), ["new_log"]);
    assert_eq!(t.store.outbox_stats().unwrap().changes, 0);
    assert_eq!(t.store.doc_count().unwrap(), 0);
    t.store.delete_form_draft("new_log").unwrap();
    assert_eq!(t.store.form_draft("new_log").unwrap(), None);
}
