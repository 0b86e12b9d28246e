//! Work statistics from the projections, and local form drafts.

use app_core::domain::{ConsultationInput, ServiceLogId, TeamId};
use app_core::stats::{ConsultationFact, LogEntry, Period, StatsQuery, StatsRequest, compute};
use app_core::store::{Identity, ReviewDecision};
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
    assert_eq!(s.median_minutes_to_first_answer, Some(45.0));

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

fn consult(asked: &str, village: &str) -> ConsultationInput {
    ConsultationInput {
        farmer_name: "王德明".into(),
        farmer_phone: String::new(),
        farmer_village: village.into(),
        subject: "茶树".into(),
        problem: "叶片发黄".into(),
        channel: "phone".into(),
        asked_at: asked.into(),
        photos: vec![],
    }
}

/// The device counts its projection rows with the same engine the server
/// uses: on the same records, its report equals the pure computation over
/// the records read back as domain values, at every level.
#[test]
fn the_device_figures_equal_the_pure_engines_on_the_same_records() {
    let t = TestStore::new();
    let me = commissioner();
    let team_b: TeamId = "0192f000-0000-7000-8000-0000000000bb".parse().unwrap();
    // The same commissioner after moving to team B.
    let me_in_b = Identity {
        user: me.user,
        team: Some(team_b),
    };
    let colleague = Identity {
        user: "0192f000-0000-7000-8000-000000000003".parse().unwrap(),
        team: Some(team_b),
    };
    let mut logs: Vec<ServiceLogId> = Vec::new();
    let mut add = |who: &Identity,
                   date: &str,
                   village: &str,
                   f: &dyn Fn(&mut app_core::domain::ServiceLogInput),
                   submit: bool| {
        let mut input = training_input();
        input.date = date.into();
        input.village = village.into();
        f(&mut input);
        let id = t
            .store
            .create_service_log(who, &input, submit)
            .unwrap()
            .value
            .id;
        logs.push(id);
        id
    };
    let plain = |_: &mut app_core::domain::ServiceLogInput| {};
    let a = add(&me, "2026-03-02", VILLAGE, &plain, true);
    add(
        &me,
        "2026-06-30",
        VILLAGE_2,
        &|i| {
            i.technologies = vec![" 测土配方施肥".into(), "测土配方施肥".into()];
            i.trainees = None;
        },
        true,
    );
    // Moved to team B in July; the same day for both teams.
    add(
        &me,
        "2026-06-30",
        VILLAGE,
        &|i| i.activity = "demonstration".into(),
        true,
    );
    add(
        &me_in_b,
        "2026-07-01",
        VILLAGE,
        &|i| {
            i.activity = "technical_guidance".into();
            i.trainees = None;
            i.served = vec![app_core::domain::service_log::ServedPartyInput {
                id: None,
                kind: "enterprise".into(),
                name: "贵州正安茶业有限公司".into(),
            }];
        },
        true,
    );
    // A village of a county whose register is not on this device.
    add(&colleague, "2026-07-01", "520325100001", &plain, true);
    // A draft and a log of another year.
    add(&colleague, "2026-07-02", VILLAGE_2, &plain, false);
    add(&colleague, "2025-12-31", VILLAGE_2, &plain, true);
    // Returned, then fixed and approved.
    let returned = add(&colleague, "2026-12-31", VILLAGE_2, &plain, true);
    t.store
        .review_service_log(returned, team_lead(), ReviewDecision::Return, "请补充照片")
        .unwrap();
    let still_returned = add(&colleague, "2026-08-08", VILLAGE, &plain, true);
    t.store
        .review_service_log(
            still_returned,
            team_lead(),
            ReviewDecision::Return,
            "日期有误",
        )
        .unwrap();
    t.store.submit_service_log(returned).unwrap();
    t.store
        .review_service_log(returned, team_lead(), ReviewDecision::Approve, "")
        .unwrap();
    t.store
        .review_service_log(a, team_lead(), ReviewDecision::Approve, "")
        .unwrap();
    // Approved, then edited: counts, but not as approved.
    let changed = add(&me, "2026-09-09", VILLAGE, &plain, true);
    t.store
        .review_service_log(changed, team_lead(), ReviewDecision::Approve, "")
        .unwrap();
    t.store
        .edit_record::<app_core::domain::ServiceLog, _>(changed.into(), |l, _| {
            l.farmers_served += 1;
            Ok(())
        })
        .unwrap();
    // The same visit logged twice: the second is marked and never counts.
    let twice = add(&me, "2026-09-09", VILLAGE, &plain, true);
    let mark = |id: app_core::domain::DocId, of: app_core::domain::DocId| {
        Some(app_core::domain::DuplicateMark {
            of,
            by: me.user,
            at: NOW,
        })
        .filter(|_| id != of)
    };
    t.store
        .edit_record::<app_core::domain::ServiceLog, _>(twice.into(), |l, _| {
            l.duplicate = mark(twice.into(), changed.into());
            Ok(())
        })
        .unwrap();

    // Consultations: three answered at the clock's 09:00 (after 60, 30 and
    // 120 minutes), one open, one asked on the last minute of the year. (A
    // device refuses an answer before its question; that case arrives only
    // by merging, and the engine's own tests cover it.)
    let mut consultations = Vec::new();
    for (who, asked) in [
        (&me, "2026-11-29 08:00"),
        (&colleague, "2026-11-29 08:30"),
        (&me_in_b, "2026-11-28 10:00"),
        (&colleague, "2026-12-31 23:59"),
        (&me, "2026-11-29 07:00"),
    ] {
        let c = t
            .store
            .create_consultation(who, &consult(asked, VILLAGE))
            .unwrap()
            .value;
        consultations.push(c.id);
    }
    t.store
        .answer_consultation(consultations[0], "建议补施氮肥。")
        .unwrap();
    t.store
        .answer_consultation(consultations[1], "建议补施氮肥。")
        .unwrap();
    t.store
        .answer_consultation(consultations[4], "建议补施氮肥。")
        .unwrap();
    // A consultation taken twice: the second marked.
    let again = t
        .store
        .create_consultation(&me, &consult("2026-11-29 08:00", VILLAGE))
        .unwrap()
        .value
        .id;
    t.store
        .edit_record::<app_core::domain::Consultation, _>(again.into(), |c, _| {
            c.duplicate = mark(again.into(), consultations[0].into());
            Ok(())
        })
        .unwrap();
    consultations.push(again);
    assert_eq!(
        t.store.service_log(changed).unwrap().review_state(),
        app_core::domain::ReviewState::ChangedSinceApproval
    );
    let entries: Vec<LogEntry> = logs
        .iter()
        .map(|id| LogEntry::of(&t.store.service_log(*id).unwrap(), false))
        .collect();
    let facts: Vec<ConsultationFact> = consultations
        .iter()
        .map(|id| ConsultationFact::of(&t.store.consultation(*id).unwrap(), false))
        .collect();
    let register = t.store.stats_register().unwrap();
    assert!(
        register.has_village(
            app_core::domain::VillageCode::parse(VILLAGE)
                .unwrap()
                .as_int()
        )
    );

    let year = Period::year(2026).unwrap();
    let mut requests = vec![StatsRequest::new(year)];
    let mut by_team = StatsRequest::new(year);
    by_team.filter.team = Some(team_b);
    requests.push(by_team);
    let mut by_author = StatsRequest::new(Period::new(day("2026-06-30"), day("2026-12-31")));
    by_author.filter.author = Some(me.user);
    by_author.training_sizes = vec![40];
    requests.push(by_author);
    for req in &requests {
        for reg in [None, Some(&register)] {
            let device = t.store.stats_report(req, reg).unwrap();
            let pure = compute(req, reg, &entries, &facts);
            assert_eq!(device, pure, "request {req:?}");
        }
    }

    // And the figures are the ones the rules give.
    let all = t.store.stats_report(&requests[0], Some(&register)).unwrap();
    let f = &all.total;
    assert_eq!(
        f.visits, 7,
        "two drafts/returned, one of 2025 and a duplicate left out"
    );
    assert_eq!(f.approved_logs, 2, "changed since approval is not approved");
    assert_eq!(f.active_commissioners, 2);
    assert_eq!(f.service_days, 5, "03-02, 06-30, 07-01, 09-09, 12-31");
    assert_eq!(f.person_days, 6);
    assert_eq!(
        f.technologies, 2,
        "茶园绿色防控 and 测土配方施肥 written twice"
    );
    assert_eq!(f.enterprises, 1);
    assert_eq!(f.logs_outside_register, Some(1));
    assert_eq!(f.consultations, 5, "the duplicate question left out");
    assert_eq!(f.consultations_answered, 3);
    assert_eq!(f.answers_before_asked, 0);
    assert_eq!(f.median_minutes_to_first_answer, Some(60.0));
    let me_fig = all.commissioner(me.user).unwrap();
    assert_eq!(me_fig.teams, 2);
    assert_eq!(me_fig.visits, 5);
    assert_eq!(all.team(team_b).unwrap().visits, 3);
    // WorkStats is the total of the same engine.
    let ws = t
        .store
        .work_stats(&StatsQuery {
            author: Some(me.user),
            from: day("2026-01-01"),
            to: day("2026-12-31"),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ws.visits, 5);
    assert_eq!(ws.service_days, 4);
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
