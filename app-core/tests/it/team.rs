//! The team lead's tablet: the dashboard's figures are the engine's (each
//! member's row equals what that commissioner sees in their own 统计 for
//! the same period, the total what the team's statistics say), silence,
//! consultations waiting too long, coverage per township adding up to the
//! county, the roster's names and last syncs, scores and the review queue's
//! photos to prefetch.

use app_core::api::{ReviewDecision, ReviewQueueQuery};
use app_core::domain::{
    ConsultationInput, CountyCode, PhotoMeta, Role, Scope, TeamId, Timestamp, UserId,
};
use app_core::scope::Principal;
use app_core::stats::{Figures, StatsQuery};
use app_core::store::{Identity, StoreError, hash_bytes};
use app_core::team::{DashboardQuery, TeamMember, TeamRoster};
use chrono::NaiveDate;

use crate::support::*;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn team() -> TeamId {
    commissioner().team.unwrap()
}

fn member(n: u8) -> Identity {
    Identity {
        user: format!("0192f000-0000-7000-8000-0000000001{n:02x}")
            .parse()
            .unwrap(),
        team: Some(team()),
    }
}

fn lead() -> Principal {
    Principal {
        user: team_lead(),
        role: Role::TeamLead,
        scope: Scope::Team(team()),
        team: Some(team()),
        county: Some(CountyCode::parse(COUNTY).unwrap()),
    }
}

fn roster(members: &[(UserId, &str, Option<i64>)]) -> TeamRoster {
    TeamRoster {
        team: team(),
        name: "正安县科技特派团".into(),
        members: members
            .iter()
            .map(|(user, name, synced)| TeamMember {
                user: *user,
                username: format!("u-{name}"),
                display_name: (*name).into(),
                role: if *user == team_lead() {
                    Role::TeamLead
                } else {
                    Role::Commissioner
                },
                active: true,
                last_sync: synced.map(Timestamp::from_millis),
            })
            .collect(),
        at: NOW,
    }
}

fn consult(asked: &str) -> ConsultationInput {
    ConsultationInput {
        farmer_name: "王德明".into(),
        farmer_phone: String::new(),
        farmer_village: VILLAGE.into(),
        subject: "茶树".into(),
        problem: "叶片发黄".into(),
        channel: "phone".into(),
        asked_at: asked.into(),
        photos: vec![],
    }
}

/// A month of three members' work, and a fourth member who left.
fn seed(t: &TestStore) -> [Identity; 4] {
    let [a, b, c, gone] = [member(1), member(2), member(3), member(4)];
    let log = |who: &Identity, date: &str, village: &str, activity: &str, submit: bool| {
        let mut input = training_input();
        input.date = date.into();
        input.village = village.into();
        input.activity = activity.into();
        t.store
            .create_service_log(who, &input, submit)
            .unwrap()
            .value
    };
    // A: trainings and guidance in two villages of 凤仪街道, one approved,
    // one returned (does not count), a draft (does not count), a duplicate.
    let a1 = log(&a, "2026-11-02", VILLAGE, "training", true);
    log(&a, "2026-11-03", VILLAGE_2, "technical_guidance", true);
    let a3 = log(&a, "2026-11-20", VILLAGE, "training", true);
    log(&a, "2026-11-21", VILLAGE, "training", false);
    let a5 = log(&a, "2026-11-22", VILLAGE_2, "demonstration", true);
    let dup = log(&a, "2026-11-22", VILLAGE_2, "demonstration", true);
    t.store
        .review_service_log(a1.id, team_lead(), ReviewDecision::Approve, "")
        .unwrap();
    t.store
        .review_service_log(a3.id, team_lead(), ReviewDecision::Return, "人数不对")
        .unwrap();
    let who = Principal {
        user: a.user,
        role: Role::Commissioner,
        scope: Scope::Team(team()),
        team: Some(team()),
        county: Some(CountyCode::parse(COUNTY).unwrap()),
    };
    t.store
        .mark_duplicate_as(
            &who,
            &app_core::api::MarkDuplicateInput {
                id: dup.id.into(),
                of: a5.id.into(),
            },
        )
        .unwrap();
    // B: one visit early in the month, in another township; silent since.
    log(&b, "2026-11-05", "520324101201", "technical_guidance", true);
    // C: nothing this month, a log in October.
    log(&c, "2026-10-15", VILLAGE, "technical_guidance", true);
    // The one who left: a log for the team this month.
    log(&gone, "2026-11-25", VILLAGE, "technical_guidance", true);

    // Consultations: A's answered one, A's open one asked 5 days ago (waits
    // too long), B's open one asked yesterday (not yet too long).
    let q = t
        .store
        .create_consultation(&a, &consult("2026-11-10 08:00"))
        .unwrap()
        .value;
    t.store.answer_consultation(q.id, "建议补施氮肥。").unwrap();
    t.store
        .create_consultation(&a, &consult("2026-11-24 08:00"))
        .unwrap();
    t.store
        .create_consultation(&b, &consult("2026-11-28 08:00"))
        .unwrap();
    [a, b, c, gone]
}

#[test]
fn each_members_row_is_what_they_see_in_their_own_statistics() {
    let t = TestStore::new();
    let [a, b, c, gone] = seed(&t);
    let lead_id = team_lead();
    t.store
        .keep_team_roster(&roster(&[
            (a.user, "张三", Some(NOW.as_millis() - 3_600_000)),
            (b.user, "王芳", None),
            (c.user, "李四", Some(NOW.as_millis() - 86_400_000)),
            (lead_id, "李明", Some(NOW.as_millis())),
        ]))
        .unwrap();
    let (from, to) = (day("2026-11-01"), day("2026-11-30"));
    let d = t
        .store
        .team_dashboard_as(&lead(), &DashboardQuery { from, to })
        .unwrap();

    // One row per roster member, and the one who left after them.
    let names: Vec<Option<&str>> = d.members.iter().map(|m| m.name.as_deref()).collect();
    assert_eq!(
        names,
        [Some("张三"), Some("李四"), Some("李明"), Some("王芳"), None]
    );
    assert!(!d.members[4].on_roster);
    assert_eq!(d.members[4].user, gone.user);

    for row in &d.members {
        let own = t
            .store
            .work_stats(&StatsQuery {
                author: Some(row.user),
                from,
                to,
                ..StatsQuery::default()
            })
            .unwrap();
        // The dashboard measures coverage against the register; the
        // commissioner's own page has none: every other figure is equal.
        let row_figures = Figures {
            register_villages_covered: None,
            register_townships_covered: None,
            logs_outside_register: None,
            ..row.figures.clone()
        };
        assert_eq!(row_figures, own, "{:?}'s row", row.name);
        assert_eq!(
            row.activity.iter().sum::<u32>(),
            own.visits,
            "the chart adds up to the visits"
        );
    }
    let team_stats = t
        .store
        .work_stats(&StatsQuery {
            team: Some(team()),
            from,
            to,
            ..StatsQuery::default()
        })
        .unwrap();
    assert_eq!(d.total.visits, team_stats.visits);
    assert_eq!(d.total.person_days, team_stats.person_days);
    assert_eq!(d.total.villages_covered, team_stats.villages_covered);

    let row = |id: UserId| d.members.iter().find(|m| m.user == id).unwrap();
    // A: 1 approved + 1 submitted + 1 demonstration counted; the returned
    // log, the draft and the duplicate do not count.
    assert_eq!(row(a.user).figures.visits, 3);
    assert_eq!(row(a.user).figures.approved_logs, 1);
    assert_eq!(
        (
            row(a.user).figures.consultations,
            row(a.user).open_consultations
        ),
        (2, 1)
    );
    assert_eq!(row(a.user).last_log, Some(day("2026-11-22")));
    assert!(row(a.user).silent, "the 22nd is 7 days before the 29th");
    assert!(!row(gone.user).silent, "logged on the 25th");
    assert!(row(b.user).silent, "nothing since the 5th");
    assert!(row(c.user).silent, "nothing this month");
    assert_eq!(row(c.user).last_log, Some(day("2026-10-15")));
    assert!(row(lead_id).silent && row(lead_id).last_log.is_none());
    assert_eq!(
        row(a.user).last_sync,
        Some(Timestamp::from_millis(NOW.as_millis() - 3_600_000))
    );
    assert_eq!(row(b.user).last_sync, None, "never synced");
    assert_eq!(d.roster_at, Some(NOW));

    // Weeks of November (Sunday the 1st … Monday the 30th).
    assert_eq!(d.buckets.len(), 6);
    assert_eq!(row(a.user).activity, [0, 2, 0, 1, 0, 0]);

    // Waiting too long: only A's question of the 24th.
    assert_eq!(d.waiting.len(), 1);
    assert_eq!(d.waiting[0].author, a.user);
    assert_eq!(d.waiting[0].days, 5);

    // Coverage against the register of 正安县.
    let cov = d.coverage.as_ref().expect("the register is on the device");
    assert_eq!(cov.county_name.as_deref(), Some("正安县"));
    assert_eq!(cov.villages_covered, 3, "北苑, 山奇 and 瑞溪's village");
    assert_eq!(cov.townships_covered, 2);
    let villages: u32 = cov.by_township.iter().map(|t| t.villages).sum();
    let covered: u32 = cov.by_township.iter().map(|t| t.covered).sum();
    let uncovered: usize = cov.by_township.iter().map(|t| t.uncovered.len()).sum();
    assert_eq!(villages, cov.villages);
    assert_eq!(covered, cov.villages_covered);
    assert_eq!(uncovered as u32, cov.villages - cov.villages_covered);
    assert_eq!(cov.by_township.len() as u32, cov.townships);
}

#[test]
fn only_a_team_lead_reports_on_the_team() {
    let t = TestStore::new();
    seed(&t);
    let commissioner = Principal {
        role: Role::Commissioner,
        user: member(1).user,
        ..lead()
    };
    let q = DashboardQuery {
        from: day("2026-11-01"),
        to: day("2026-11-30"),
    };
    assert!(matches!(
        t.store.team_dashboard_as(&commissioner, &q),
        Err(StoreError::NotAllowed(_))
    ));
    assert!(matches!(
        t.store.team_scores_as(&commissioner, 2026),
        Err(StoreError::NotAllowed(_))
    ));

    // The lead's scores: every carried scheme, every roster member scored.
    t.store
        .keep_team_roster(&roster(&[
            (member(1).user, "张三", None),
            (member(9).user, "新人", None),
        ]))
        .unwrap();
    let scores = t.store.team_scores_as(&lead(), 2026).unwrap();
    assert_eq!(scores.sheets.len(), 2);
    for sheet in &scores.sheets {
        let scored: Vec<UserId> = sheet.scores.iter().map(|s| s.commissioner).collect();
        assert!(scored.contains(&member(1).user) && scored.contains(&member(9).user));
        assert!(sheet.scores.iter().all(|s| !s.indicators.is_empty()));
    }
    assert!(scores.names.contains(&(member(9).user, "新人".to_owned())));
    let (name, tables) = t.store.team_workbook_as(&lead(), 2026).unwrap();
    assert_eq!(name, "正安县科技特派团");
    assert!(tables.iter().any(|t| t.name == "特派员"));
    assert!(tables.iter().any(|t| t.name == "未覆盖行政村"));
}

fn photo(n: u8) -> PhotoMeta {
    PhotoMeta {
        hash: hash_bytes(&[n]),
        thumb: hash_bytes(&[n + 100]),
        size_bytes: 100,
        width: 4,
        height: 3,
        taken_at: None,
        location: None,
        caption: String::new(),
    }
}

#[test]
fn the_queues_missing_photos_are_listed_thumbnails_first() {
    let t = TestStore::new();
    let a = member(1);
    let mut input = training_input();
    input.photos = vec![photo(1), photo(2)];
    let waiting = t.store.create_service_log(&a, &input, true).unwrap().value;
    input.photos = vec![photo(3)];
    input.date = "2026-11-27".into();
    let approved = t.store.create_service_log(&a, &input, true).unwrap().value;
    t.store
        .review_service_log(approved.id, team_lead(), ReviewDecision::Approve, "")
        .unwrap();
    // The lead's own log never waits for the lead.
    input.photos = vec![photo(4)];
    t.store
        .create_service_log(
            &Identity {
                user: team_lead(),
                team: Some(team()),
            },
            &input,
            true,
        )
        .unwrap();

    let queue = t
        .store
        .review_queue_as(&lead(), &ReviewQueueQuery::default())
        .unwrap();
    assert_eq!(
        queue.logs.iter().map(|l| l.id).collect::<Vec<_>>(),
        [waiting.id]
    );
    let wanted = t.store.review_photos_to_fetch(&lead(), 10).unwrap();
    let mut thumbs = vec![photo(1).thumb, photo(2).thumb];
    thumbs.sort_by_key(|h| *h.as_bytes());
    let mut fulls = vec![photo(1).hash, photo(2).hash];
    fulls.sort_by_key(|h| *h.as_bytes());
    assert_eq!(
        wanted,
        [thumbs, fulls].concat(),
        "the waiting log's thumbnails, then its photos"
    );
    assert_eq!(t.store.review_photos_to_fetch(&lead(), 1).unwrap().len(), 1);
    // A photo on the device is not fetched again.
    t.store.put_downloaded_photo(&[101]).unwrap();
    let wanted = t.store.review_photos_to_fetch(&lead(), 10).unwrap();
    assert_eq!(wanted.len(), 3);
    assert!(!wanted.contains(&photo(1).thumb));
    let commissioner = Principal {
        role: Role::Commissioner,
        user: a.user,
        ..lead()
    };
    assert!(
        t.store
            .review_photos_to_fetch(&commissioner, 10)
            .unwrap()
            .is_empty()
    );
}
