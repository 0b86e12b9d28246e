//! Statistics on the server (issue 13): the figures a device computes from
//! its own store equal the server's for the same records, pushed by the
//! device's own sync engine; who may ask for which figures (403 for a role
//! that never may, 404 outside the caller's scope); spreadsheets read back
//! cell by cell against the JSON figures; and the projection rebuilt from
//! stored documents (the backfill of a database older than it).

use std::collections::BTreeMap;
use std::sync::Arc;

use app_core::clock::ManualClock;
use app_core::domain::service_log::ServedPartyInput;
use app_core::domain::{
    ConsultationInput, DocId, LogStatus, ServiceLogInput, TeamId, Timestamp, UserId, VillageCode,
};
use app_core::stats::sheet::{ANNUAL_FIGURES, COMMISSIONER_FIGURES, TEAM_FIGURES, group_header};
use app_core::stats::{Area, Figure, Figures, Levels, Period, Report, StatsRequest};
use app_core::store::{Identity, ReviewDecision, Store};
use app_core::sync::protocol::EnrolRequest;
use app_core::sync::{self, EngineOptions, SyncEngine};
use calamine::{Data, Reader as _};
use sync_server::store::stats::Answer;

use crate::harness::{Account, DAY, Device, Doc, Env, Fetch, T0, WUCHUAN, ZHENGAN, code, villages};

const YEAR: &str = "year=2026";

/// A device with its own store and sync engine, enrolled for real.
struct Phone {
    store: Arc<Store>,
    engine: SyncEngine,
    who: Identity,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

async fn phone(env: &Env, account: &Account) -> Phone {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Timestamp::from_millis(T0));
    let store = Arc::new(Store::open(dir.path().join("device.sqlite"), clock.shared()).unwrap());
    let options = EngineOptions::default();
    let server = env.handle.url();
    let answer = sync::enrol(
        &server,
        &EnrolRequest {
            username: account.user.username.clone(),
            password: account.password.clone(),
            device_name: "统计测试".into(),
            platform: "android".into(),
            replaces: None,
        },
        &options,
    )
    .await
    .unwrap();
    let enrolment = sync::complete_enrolment(&store, &server, answer, &options)
        .await
        .unwrap();
    Phone {
        who: Identity {
            user: enrolment.me.user.id,
            team: enrolment.me.team.map(|t| t.id),
        },
        engine: SyncEngine::new(Arc::clone(&store), options).unwrap(),
        store,
        clock,
        _dir: dir,
    }
}

impl Phone {
    async fn sync(&self) {
        let report = self.engine.sync_once().await.unwrap();
        assert_eq!(report.refused, 0, "{report:?}");
    }

    /// The device's own figures for `filter` over 2026, with its register.
    fn figures(&self, filter: app_core::stats::Filter) -> Report {
        let mut request = StatsRequest::new(Period::year(2026).unwrap());
        request.filter = filter;
        request.levels = Levels::ALL;
        let register = self.store.stats_register().unwrap();
        assert!(
            !register.is_empty(),
            "the device holds its county's register"
        );
        self.store.stats_report(&request, Some(&register)).unwrap()
    }
}

fn log_input(
    village: VillageCode,
    date: &str,
    f: impl FnOnce(&mut ServiceLogInput),
) -> ServiceLogInput {
    let mut input = ServiceLogInput {
        date: date.into(),
        ..app_core::testing::service_log_input(village)
    };
    f(&mut input);
    input
}

fn party(kind: &str, name: &str) -> ServedPartyInput {
    ServedPartyInput {
        id: None,
        kind: kind.into(),
        name: name.into(),
    }
}

fn question(village: VillageCode, asked_at: &str) -> ConsultationInput {
    ConsultationInput {
        farmer_name: "王大伯".into(),
        farmer_phone: String::new(),
        farmer_village: village.to_string(),
        subject: "茶树".into(),
        problem: "叶片发黄".into(),
        channel: "phone".into(),
        asked_at: asked_at.into(),
        photos: vec![],
    }
}

async fn answer(env: &Env, device: &Device, path: &str) -> Answer {
    env.get(device, path).fetch_json().await
}

/// Records made on three devices of team 1 (two commissioners and the
/// lead) and synced through the server; then the lead's tablet, a
/// commissioner's phone and the county admin's device each compute their
/// figures, and the server's answers for the same question must be equal
/// in every figure of every row.
pub async fn device_and_server_give_the_same_figures(env: Env) {
    let w = env.world.clone();
    let v = villages(ZHENGAN, 6);
    let p1 = phone(&env, &w.c1).await;
    let p2 = phone(&env, &w.c2).await;
    let lead = phone(&env, &w.lead1).await;

    // c1: a training on the last day of the year with names written in
    // two ways, a demonstration, a draft that never counts, and a log of
    // the year before.
    let training = p1
        .store
        .create_service_log(
            &p1.who,
            &log_input(v[0], "2026-12-31", |i| {
                i.activity = "training".into();
                i.trainees = Some(40);
                i.start_time = Some("23:59".into());
                i.technologies = vec!["测土配方施肥".into(), " 测土配方施肥\u{3000}".into()];
                i.varieties = vec!["黔茶１号".into()];
                i.served = vec![
                    party("cooperative", "正安县白茶专业合作社"),
                    party("enterprise", "贵州正安茶业有限公司"),
                    party("farmer", "王大伯"),
                ];
            }),
            true,
        )
        .unwrap()
        .value;
    for (village, date, activity) in [
        (v[1], "2026-03-02", "demonstration"),
        (v[1], "2026-03-02", "technical_guidance"),
        (v[2], "2026-07-15", "technical_guidance"),
    ] {
        p1.store
            .create_service_log(
                &p1.who,
                &log_input(village, date, |i| i.activity = activity.into()),
                true,
            )
            .unwrap();
    }
    p1.store
        .create_service_log(&p1.who, &log_input(v[3], "2026-05-05", |_| {}), false)
        .unwrap();
    p1.store
        .create_service_log(&p1.who, &log_input(v[3], "2025-12-31", |_| {}), true)
        .unwrap();
    // Consultations: answered after 90.5 minutes; answered while the
    // device's clock is behind the question's typed time (the device
    // records 0 minutes, never a negative time); open; asked in the last
    // minute of the year.
    let answered = p1
        .store
        .create_consultation(&p1.who, &question(v[0], ""))
        .unwrap()
        .value;
    let early = p1
        .store
        .create_consultation(&p1.who, &question(v[1], "2026-11-29 10:00"))
        .unwrap()
        .value;
    p1.store
        .create_consultation(&p1.who, &question(v[2], "2026-12-31 23:59"))
        .unwrap();
    p1.store.answer_consultation(early.id, "先补钾肥").unwrap();
    p1.clock.advance_millis(90 * 60_000 + 30_000);
    p1.store
        .answer_consultation(answered.id, "喷施叶面肥")
        .unwrap();

    // c2: one log returned by the lead, then handed in again and approved;
    // one approved at once; one left returned.
    let again = p2
        .store
        .create_service_log(&p2.who, &log_input(v[4], "2026-06-01", |_| {}), true)
        .unwrap()
        .value;
    let approved = p2
        .store
        .create_service_log(
            &p2.who,
            &log_input(v[0], "2026-06-02", |i| i.farmers_served = 30),
            true,
        )
        .unwrap()
        .value;
    let returned = p2
        .store
        .create_service_log(&p2.who, &log_input(v[5], "2026-06-03", |_| {}), true)
        .unwrap()
        .value;
    p1.sync().await;
    p2.sync().await;
    lead.sync().await;
    for (id, decision) in [
        (again.id, ReviewDecision::Return),
        (approved.id, ReviewDecision::Approve),
        (returned.id, ReviewDecision::Return),
    ] {
        lead.store
            .review_service_log(id, lead.who.user, decision, "请补充照片")
            .unwrap();
    }
    lead.sync().await;
    p2.sync().await;
    p2.store.submit_service_log(again.id).unwrap();
    p2.sync().await;
    lead.sync().await;
    lead.store
        .review_service_log(again.id, lead.who.user, ReviewDecision::Approve, "")
        .unwrap();
    // The lead's own log.
    lead.store
        .create_service_log(&lead.who, &log_input(v[5], "2026-09-09", |_| {}), true)
        .unwrap();
    lead.sync().await;
    p1.sync().await;
    assert_eq!(
        lead.store.service_log(again.id).unwrap().status,
        LogStatus::Approved
    );
    assert_eq!(training.team, Some(w.team1.id));

    // The team, on the lead's tablet and on the server.
    let device = lead.figures(app_core::stats::Filter {
        team: Some(w.team1.id),
        ..Default::default()
    });
    let token = env.enrol(&w.lead1).await;
    let server = answer(
        &env,
        &token,
        &format!("/api/v1/stats/team/{}?{YEAR}", w.team1.id),
    )
    .await;
    assert_eq!(server.report, device);
    let t = &device.total;
    // c1: 4 counted logs, c2: 2 approved (one after being returned), the
    // lead: 1.
    assert_eq!(t.visits, 7);
    assert_eq!(t.approved_logs, 2);
    assert_eq!((t.trainings, t.trainees, t.demonstrations), (1, 40, 1));
    assert_eq!((t.technologies, t.varieties), (2, 1), "names normalised");
    assert_eq!((t.enterprises, t.cooperatives), (1, 1));
    assert_eq!((t.consultations, t.consultations_answered), (3, 2));
    assert_eq!(t.answers_before_asked, 0);
    assert_eq!(
        t.median_minutes_to_first_answer,
        Some(45.25),
        "0 and 90.5 minutes"
    );
    assert_eq!(device.teams.len(), 1);
    assert_eq!(device.commissioners.len(), 3);

    // A commissioner's own figures, on their phone and on the server.
    let device = p1.figures(app_core::stats::Filter {
        author: Some(p1.who.user),
        ..Default::default()
    });
    let token = env.enrol(&w.c1).await;
    let server = answer(
        &env,
        &token,
        &format!("/api/v1/stats/commissioner/{}?{YEAR}", w.c1.user.id),
    )
    .await;
    assert_eq!(server.report, device);
    assert_eq!(device.total.visits, 4);
    assert_eq!(device.total.service_days, 3);

    // The county, on the county admin's device and on the server.
    let admin = phone(&env, &w.admin_zhengan).await;
    admin.sync().await;
    let device = admin.figures(app_core::stats::Filter {
        area: Some(Area::County(ZHENGAN.parse().unwrap())),
        ..Default::default()
    });
    let token = env.enrol(&w.admin_zhengan).await;
    let server = answer(
        &env,
        &token,
        &format!("/api/v1/stats/county/{ZHENGAN}?{YEAR}"),
    )
    .await;
    assert_eq!(server.report, device);
    let county = server.report.county(ZHENGAN.parse().unwrap()).unwrap();
    // v[3] has only a draft and a log of 2025.
    assert_eq!(county.register_villages_covered, Some(5));
    assert!(county.register_villages.unwrap() > 5);
    assert_eq!(
        server.report.uncovered_villages.len() as u32,
        county.register_villages.unwrap() - 5
    );
    assert!(server.report.uncovered_villages.contains(&v[3]));
    assert_eq!(
        server.divisions.get(ZHENGAN).map(String::as_str),
        Some("正安县")
    );
}

/// Pushes logs of `author`'s team in `villages` (one a day from 1 March,
/// the first also a training) and an answered consultation, as harness
/// documents.
async fn push_year(
    env: &Env,
    account: &Account,
    team: TeamId,
    village: &[VillageCode],
) -> Vec<DocId> {
    let device = env.enrol(account).await;
    let mut changes = Vec::new();
    let mut ids = Vec::new();
    let march = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    for (i, v) in village.iter().enumerate() {
        let mut log = crate::harness::log_by(&account.user, Some(team), *v, T0 + i as i64);
        log.date = march + chrono::Days::new(i as u64);
        log.farmers_served = 10 + i as u32;
        if i == 0 {
            log.activity = app_core::domain::ActivityType::Training;
            log.trainees = Some(35);
        }
        let (doc, change) = Doc::create_log(&device, &log);
        ids.push(doc.id);
        changes.push(change);
    }
    let mut c =
        crate::harness::consultation_by(&account.user, Some(team), village[0], T0 - 30 * DAY);
    c.first_answered_at = Some(Timestamp::from_millis(T0 - 30 * DAY + 45 * 60_000));
    c.status = app_core::domain::ConsultationStatus::Answered;
    c.advice = "及时排水".into();
    let (doc, change) = Doc::create_consultation(&device, &c);
    ids.push(doc.id);
    changes.push(change);
    let outcomes = env.push(&device, &changes).await;
    assert!(outcomes.iter().all(|o| code(o) == "stored"), "{outcomes:?}");
    ids
}

/// Who may ask for which figures: a role that never may is refused 403, a
/// division, team or person outside the caller's scope is 404, and what a
/// caller may see is narrowed to their scope (a commissioner who moved
/// team in mid-year counts for each team with what they made for it).
pub async fn scope_refusals_and_narrowing(env: Env) {
    let w = env.world.clone();
    push_year(&env, &w.c1, w.team1.id, &villages(ZHENGAN, 3)).await;
    push_year(&env, &w.c3, w.team2.id, &villages(WUCHUAN, 2)).await;
    // c1 moves to team 2 (务川) and works there too.
    env.store()
        .set_user_scope(
            w.c1.user.id,
            app_core::domain::Role::Commissioner,
            app_core::domain::Scope::Team(w.team2.id),
            Some(w.team2.id),
        )
        .await
        .unwrap();
    push_year(&env, &w.c1, w.team2.id, &villages(WUCHUAN, 2)[1..]).await;

    let c1 = env.enrol(&w.c1).await;
    let c2 = env.enrol(&w.c2).await;
    let lead1 = env.enrol(&w.lead1).await;
    let lead2 = env.enrol(&w.lead2).await;
    let az = env.enrol(&w.admin_zhengan).await;
    let aw = env.enrol(&w.admin_wuchuan).await;
    let ag = env.enrol(&w.admin_guizhou).await;
    let ay = env.enrol(&w.admin_yunnan).await;
    let team1 = format!("team/{}", w.team1.id);
    let team2 = format!("team/{}", w.team2.id);
    let mover = format!("commissioner/{}", w.c1.user.id);
    let nobody_team = format!("team/{}", app_core::testing::team_id(99));
    let nobody = format!("commissioner/{}", UserId::new(Timestamp::from_millis(T0)));
    let cases: &[(&Device, &str, u16)] = &[
        // Divisions: sync admins whose scope holds them.
        (&c1, "county/520324", 403),
        (&lead1, "county/520324", 403),
        (&az, "county/520324", 200),
        (&aw, "county/520324", 404),
        (&ag, "county/520324", 200),
        (&ay, "county/520324", 404),
        (&az, "prefecture/5203", 404),
        (&ag, "prefecture/5203", 200),
        (&ag, "province/52", 200),
        (&az, "province/52", 404),
        (&ay, "province/52", 404),
        // Teams: the lead, and sync admins holding the team's county.
        (&c1, &team1, 403),
        (&c2, &team1, 403),
        (&lead1, &team1, 200),
        (&lead2, &team1, 404),
        (&az, &team1, 200),
        (&aw, &team1, 404),
        (&ag, &team2, 200),
        (&ay, &team1, 404),
        (&lead1, &nobody_team, 404),
        (&az, &nobody_team, 404),
        // Commissioners: themselves, their lead, the admins holding them.
        (&c1, &mover, 200),
        (&c2, &mover, 404),
        (&lead2, &mover, 200),
        (&lead1, &mover, 404),
        (&aw, &mover, 200),
        (&az, &mover, 404),
        (&ag, &mover, 200),
        (&c2, &nobody, 404),
        (&ag, &nobody, 404),
    ];
    for (device, path, status) in cases {
        for suffix in ["", "/scores", "/export/annual.csv"] {
            let url = format!("/api/v1/stats/{path}{suffix}?{YEAR}");
            let got = env.get(device, &url).fetch_status().await;
            assert_eq!(got, *status, "{url} as {}", device.id);
        }
    }

    // Narrowed to the caller's scope: c1's team-2 work is not team 1's
    // lead's to see, nor the 正安 admin's; c1 and the province see both.
    // c1: 3 logs for team 1 in 正安, then 1 for team 2 in 务川; c3: 2.
    let visits = |a: Answer| a.report.total.visits;
    let path = format!("/api/v1/stats/{mover}?{YEAR}");
    assert_eq!(visits(answer(&env, &c1, &path).await), 4);
    assert_eq!(visits(answer(&env, &ag, &path).await), 4);
    assert_eq!(visits(answer(&env, &lead2, &path).await), 1);
    assert_eq!(visits(answer(&env, &aw, &path).await), 1);
    let a = answer(&env, &lead1, &format!("/api/v1/stats/{team1}?{YEAR}")).await;
    assert_eq!(a.report.total.visits, 3);
    assert_eq!(
        a.report.commissioner(w.c1.user.id).map(|f| f.visits),
        Some(3),
        "the mover's work for team 1 stays team 1's"
    );
    let a = answer(&env, &lead2, &format!("/api/v1/stats/{team2}?{YEAR}")).await;
    assert_eq!(a.report.total.visits, 3);
    assert_eq!(a.report.commissioners.len(), 2, "c3 and the newcomer c1");
    // The province: both counties, c1 once as an active commissioner.
    let a = answer(&env, &ag, &format!("/api/v1/stats/province/52?{YEAR}")).await;
    assert_eq!(a.report.total.visits, 6);
    assert_eq!(a.report.total.active_commissioners, 2);
    assert_eq!(a.report.teams.len(), 2);
    assert_eq!(a.report.counties.len(), 2, "the register's two counties");

    // The 832 filter: both counties are poverty-alleviated; a tag no county
    // of theirs carries selects nothing.
    let a = answer(
        &env,
        &ag,
        &format!("/api/v1/stats/province/52?{YEAR}&tag=poverty_alleviated"),
    )
    .await;
    assert_eq!(a.report.total.visits, 6);
    env.store()
        .set_county_tag(
            ZHENGAN.parse().unwrap(),
            app_core::domain::CountyTag::Designated,
            true,
            "test",
        )
        .await
        .unwrap();
    let a = answer(
        &env,
        &ag,
        &format!("/api/v1/stats/province/52?{YEAR}&tag=poverty_alleviated,designated"),
    )
    .await;
    assert_eq!(a.report.total.visits, 3, "only 正安 carries both tags");
    assert_eq!(a.report.counties.len(), 1);

    // Bad questions are 400 problems.
    for url in [
        "/api/v1/stats/county/520324".to_string(),
        format!("/api/v1/stats/county/5203?{YEAR}"),
        format!("/api/v1/stats/village/520324001001?{YEAR}"),
        format!("/api/v1/stats/county/520324?{YEAR}&tag=rich"),
        format!("/api/v1/stats/county/520324?{YEAR}&levels=some"),
        "/api/v1/stats/county/520324?from=2026-01-01".to_string(),
        format!("/api/v1/stats/county/520324/scores?{YEAR}&scheme=none"),
        format!("/api/v1/stats/county/520324/export/annual.pdf?{YEAR}"),
        format!("/api/v1/stats/county/520324/export/everything.csv?{YEAR}"),
        format!("/api/v1/stats/county/520324/export/workbook.csv?{YEAR}"),
    ] {
        let (status, p) = env.get(&az, &url).fetch_problem().await;
        assert_eq!((status, p.code.as_str()), (400, "bad_request"), "{url}");
    }
}

/// The 832 and 160 county filters as the console asks for them: through
/// the device's `SyncClient` from a real server, a province's report under
/// each tag holds exactly the tagged county's rows (its county, its teams,
/// its commissioners, its villages not yet covered) with the same figures
/// as the unfiltered report gives that county.
pub async fn county_tag_filters_through_the_client(env: Env) {
    use app_core::domain::{CountyCode, CountyTag};
    use app_core::stats::{StatsParams, StatsSubject};
    use app_core::sync::SyncClient;

    let w = env.world.clone();
    push_year(&env, &w.c1, w.team1.id, &villages(ZHENGAN, 3)).await;
    push_year(&env, &w.c3, w.team2.id, &villages(WUCHUAN, 2)).await;
    let ag = env.enrol(&w.admin_guizhou).await;
    let client = SyncClient::new(&env.handle.url(), &ag.token, &EngineOptions::default()).unwrap();
    let zhengan: CountyCode = ZHENGAN.parse().unwrap();
    let wuchuan: CountyCode = WUCHUAN.parse().unwrap();
    // 务川 is a poverty-alleviated county only, 正安 a national key one only.
    for (county, tag, on) in [
        (zhengan, CountyTag::PovertyAlleviated, false),
        (zhengan, CountyTag::NationalKey, true),
        (wuchuan, CountyTag::PovertyAlleviated, true),
        (wuchuan, CountyTag::NationalKey, false),
    ] {
        client.admin_tag_county(county, tag, on).await.unwrap();
    }
    let province = StatsSubject::Province("52".parse().unwrap());
    let year = Period::year(2026).unwrap();
    let all = client
        .stats_report(&province, &StatsParams::new(year))
        .await
        .unwrap();
    assert_eq!(all.report.counties.len(), 2);
    assert_eq!(all.report.total.visits, 5);
    let cases = [
        (
            CountyTag::PovertyAlleviated,
            wuchuan,
            w.team2.id,
            w.c3.user.id,
            2,
        ),
        (CountyTag::NationalKey, zhengan, w.team1.id, w.c1.user.id, 3),
    ];
    for (tag, county, team, user, visits) in cases {
        let mut params = StatsParams::new(year);
        params.tags = vec![tag];
        let a = client.stats_report(&province, &params).await.unwrap();
        assert_eq!(a.tags, vec![tag]);
        let r = &a.report;
        assert_eq!(
            r.counties.iter().map(|x| x.key).collect::<Vec<_>>(),
            vec![county],
            "{tag:?}"
        );
        assert_eq!(
            r.teams.iter().map(|x| x.key).collect::<Vec<_>>(),
            vec![team],
            "{tag:?}"
        );
        assert_eq!(
            r.commissioners.iter().map(|x| x.key).collect::<Vec<_>>(),
            vec![user],
            "{tag:?}"
        );
        assert_eq!(r.total.visits, visits, "{tag:?}");
        assert_eq!(
            r.county(county),
            all.report.county(county),
            "{tag:?}: the county's figures as unfiltered"
        );
        assert!(!r.uncovered_villages.is_empty(), "{tag:?}");
        assert!(
            r.uncovered_villages.iter().all(|v| v.county() == county),
            "{tag:?}: {:?}",
            r.uncovered_villages
        );
    }
    // Both tags: no county of theirs carries both.
    let mut params = StatsParams::new(year);
    params.tags = vec![CountyTag::PovertyAlleviated, CountyTag::NationalKey];
    let a = client.stats_report(&province, &params).await.unwrap();
    assert!(a.report.counties.is_empty(), "{:?}", a.report.counties);
    assert_eq!(a.report.total.visits, 0);
}

/// A cell of a sheet read back: text, a number, or nothing.
#[derive(Debug, Clone, PartialEq)]
enum Read {
    Empty,
    Text(String),
    Number(f64),
}

fn xlsx_sheets(bytes: &[u8]) -> BTreeMap<String, Vec<Vec<Read>>> {
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut out = BTreeMap::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        let rows = range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Data::Empty => Read::Empty,
                        Data::String(s) => Read::Text(s.clone()),
                        Data::Float(f) => Read::Number(*f),
                        Data::Int(i) => Read::Number(*i as f64),
                        other => panic!("unexpected cell {other:?}"),
                    })
                    .collect()
            })
            .collect();
        out.insert(name, rows);
    }
    out
}

/// What a figure's cell must hold: the figure's value as stored (counts,
/// decimal minutes, shares as fractions), nothing when unknown.
fn expected(figure: Figure, f: &Figures) -> Read {
    figure.raw(f).map_or(Read::Empty, Read::Number)
}

/// The CSV text of a figure: whole numbers as written, decimals with two
/// places, shares in percent with two places, nothing when unknown.
fn expected_csv(figure: Figure, f: &Figures) -> String {
    use app_core::stats::sheet::{ColumnKind, kind_of};
    match (figure.raw(f), kind_of(figure)) {
        (None, _) => String::new(),
        (Some(v), ColumnKind::Percent) => format!("{:.2}", v * 100.0),
        (Some(v), ColumnKind::Decimal) => format!("{v:.2}"),
        (Some(v), _) => format!("{}", v as i64),
    }
}

/// The row of a division sheet whose 级别 and 代码 are these, as the
/// report's figures.
fn division_figures<'r>(report: &'r Report, level: &str, code: &str) -> &'r Figures {
    match level {
        "县" => report.county(code.parse().unwrap()),
        "市" | "市小计" => report.prefecture(code.parse().unwrap()),
        "省" | "省合计" => report.province(code.parse().unwrap()),
        other => panic!("level {other}"),
    }
    .unwrap_or_else(|| panic!("{level} {code} is in the report"))
}

/// Checks every figure cell of a sheet whose rows are keyed by their
/// first columns against the report.
fn check_sheet(
    rows: &[Vec<Read>],
    figures: &[Figure],
    header: fn(Figure) -> String,
    skip: usize,
    row_figures: impl Fn(&[Read]) -> Figures,
) -> usize {
    let head = &rows[0];
    for (i, f) in figures.iter().enumerate() {
        assert_eq!(head[skip + i], Read::Text(header(*f)), "header of {f:?}");
    }
    for row in &rows[1..] {
        let figs = row_figures(row);
        for (i, f) in figures.iter().enumerate() {
            // calamine reads a row only as far as its last cell.
            let cell = row.get(skip + i).cloned().unwrap_or(Read::Empty);
            assert_eq!(cell, expected(*f, &figs), "{f:?} of {:?}", &row[..skip]);
        }
    }
    rows.len() - 1
}

fn text(c: &Read) -> &str {
    match c {
        Read::Text(s) => s,
        other => panic!("not text: {other:?}"),
    }
}

/// The annual workbook and its CSV files, read back and checked cell by
/// cell against the JSON figures of the same question.
pub async fn exports_match_the_json_figures(env: Env) {
    let w = env.world.clone();
    let mut v = villages(ZHENGAN, 4);
    // A village code of 正安 the register does not hold: a log stored while
    // the register on the server did not hold 正安 yet (the server refuses
    // a village outside a county's register it holds).
    v.push(VillageCode::parse("520324999999").unwrap());
    let hide = |from: &str, to: &str| {
        format!("UPDATE divisions SET level = '{to}' WHERE level = '{from}' AND code = 520324")
    };
    env.raw_sql(&hide("county", "hidden")).await;
    push_year(&env, &w.c1, w.team1.id, &v).await;
    env.raw_sql(&hide("hidden", "county")).await;
    push_year(&env, &w.c2, w.team1.id, &villages(ZHENGAN, 2)).await;
    push_year(&env, &w.c3, w.team2.id, &villages(WUCHUAN, 3)).await;
    // A consultation answered the minute it was asked. (One answered
    // before it was asked breaks the device's rules, which the server now
    // applies too: `crate::rules`.)
    let c3 = env.enrol(&w.c3).await;
    let mut c =
        crate::harness::consultation_by(&w.c3.user, Some(w.team2.id), villages(WUCHUAN, 1)[0], T0);
    c.first_answered_at = Some(Timestamp::from_millis(T0));
    c.status = app_core::domain::ConsultationStatus::Answered;
    c.advice = "多施有机肥".into();
    let (_, change) = Doc::create_consultation(&c3, &c);
    assert_eq!(code(&env.push(&c3, &[change]).await[0]), "stored");
    let ag = env.enrol(&w.admin_guizhou).await;
    let base = "/api/v1/stats/province/52";
    let json = answer(&env, &ag, &format!("{base}?{YEAR}")).await;
    let report = &json.report;
    assert_eq!(report.total.logs_outside_register, Some(1));
    assert_eq!(report.total.visits, 5 + 2 + 3);
    assert_eq!(
        (
            report.total.consultations,
            report.total.consultations_answered
        ),
        (4, 4)
    );
    assert_eq!(report.total.answers_before_asked, 0);
    assert_eq!(report.total.median_minutes_to_first_answer, Some(45.0));

    let resp = env
        .get(
            &ag,
            &format!("{base}/export/workbook.xlsx?{YEAR}&scheme=seed-2021"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("ketepai-province-52-20260101-20261231.xlsx")
    );
    let sheets = xlsx_sheets(&resp.bytes().await.unwrap());
    let names: Vec<&str> = sheets.keys().map(String::as_str).collect();
    for want in [
        "年度统计",
        "县",
        "市",
        "省",
        "团队",
        "特派员",
        "未覆盖行政村",
        "考核得分",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }

    // 年度统计: each county, then its city's subtotal, then the province.
    let annual = &sheets["年度统计"];
    let levels: Vec<&str> = annual[1..].iter().map(|r| text(&r[0])).collect();
    assert_eq!(levels, ["县", "县", "市小计", "省合计"]);
    let n = check_sheet(annual, ANNUAL_FIGURES, group_header, 3, |r| {
        division_figures(report, text(&r[0]), text(&r[1])).clone()
    });
    assert_eq!(
        n,
        report.counties.len() + report.prefectures.len() + report.provinces.len()
    );
    assert_eq!(annual[1][2], Read::Text("正安县".into()));
    for (sheet, rows) in [("县", report.counties.len()), ("市", 1), ("省", 1)] {
        let n = check_sheet(&sheets[sheet], ANNUAL_FIGURES, group_header, 3, |r| {
            division_figures(report, text(&r[0]), text(&r[1])).clone()
        });
        assert_eq!(n, rows, "{sheet}");
    }
    let n = check_sheet(&sheets["团队"], TEAM_FIGURES, group_header, 2, |r| {
        report.team(text(&r[1]).parse().unwrap()).unwrap().clone()
    });
    assert_eq!(n, 2);
    assert_eq!(
        sheets["团队"][1..]
            .iter()
            .filter(|r| text(&r[0]) == "正安县科技特派团")
            .count(),
        1
    );
    let n = check_sheet(
        &sheets["特派员"],
        COMMISSIONER_FIGURES,
        Figure::header_zh,
        2,
        |r| {
            report
                .commissioner(text(&r[1]).parse().unwrap())
                .unwrap()
                .clone()
        },
    );
    assert_eq!(n, 3);

    // The villages not covered, in code order, with their names.
    let uncovered = &sheets["未覆盖行政村"];
    let codes: Vec<String> = uncovered[1..]
        .iter()
        .map(|r| text(&r[4]).to_string())
        .collect();
    let want: Vec<String> = report
        .uncovered_villages
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(codes, want);
    assert!(!codes.is_empty() && !codes.contains(&v[0].to_string()));
    assert!(uncovered[1..].iter().all(|r| !text(&r[5]).is_empty()));

    // Scores: the same as the JSON scores, rank by rank.
    let scores: app_core::stats::assess::ScoreSheet = env
        .get(&ag, &format!("{base}/scores?{YEAR}&scheme=seed-2021"))
        .fetch_json()
        .await;
    let rows = &sheets["考核得分"];
    assert_eq!(rows.len() - 1, scores.scores.len());
    assert!(
        scores.scores.len() >= 3,
        "the roster and the report's commissioners"
    );
    for (i, s) in scores.scores.iter().enumerate() {
        let row = &rows[i + 1];
        assert_eq!(row[0], Read::Number(i as f64 + 1.0));
        assert_eq!(text(&row[2]), s.commissioner.to_string());
        for (j, ind) in s.indicators.iter().enumerate() {
            assert_eq!(
                row.get(3 + 2 * j).cloned().unwrap_or(Read::Empty),
                ind.value.map_or(Read::Empty, Read::Number)
            );
            assert_eq!(row[4 + 2 * j], Read::Number(ind.score));
        }
        assert_eq!(row[3 + 2 * s.indicators.len()], Read::Number(s.total));
    }

    // CSV: a byte-order mark, then the same cells as text.
    let csv_bytes = env
        .get(&ag, &format!("{base}/export/annual.csv?{YEAR}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(csv_bytes.starts_with(b"\xEF\xBB\xBF"));
    let mut r = csv::Reader::from_reader(&csv_bytes[3..]);
    let headers = r.headers().unwrap().clone();
    for (i, f) in ANNUAL_FIGURES.iter().enumerate() {
        assert_eq!(&headers[3 + i], group_header(*f));
    }
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let figs = division_figures(report, &rec[0], &rec[1]);
        for (i, f) in ANNUAL_FIGURES.iter().enumerate() {
            assert_eq!(&rec[3 + i], expected_csv(*f, figs), "{f:?} of {}", &rec[1]);
        }
        n += 1;
    }
    assert_eq!(n, 4);
    let csv_bytes = env
        .get(&ag, &format!("{base}/export/uncovered.csv?{YEAR}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut r = csv::Reader::from_reader(&csv_bytes[3..]);
    let codes: Vec<String> = r.records().map(|x| x.unwrap()[4].to_string()).collect();
    assert_eq!(codes, want);
}

/// A database whose projection is missing (as one made before it) is
/// projected from its stored documents when the server opens it, and
/// gives the same figures as the projection the pushes wrote.
pub async fn the_projection_is_rebuilt_from_stored_documents(env: Env) {
    let w = env.world.clone();
    push_year(&env, &w.c1, w.team1.id, &villages(ZHENGAN, 4)).await;
    push_year(&env, &w.c3, w.team2.id, &villages(WUCHUAN, 2)).await;
    let ag = env.enrol(&w.admin_guizhou).await;
    let path = format!("/api/v1/stats/province/52?{YEAR}");
    let before = answer(&env, &ag, &path).await;
    assert_eq!(env.store().projected().await.unwrap(), (6, 2));

    forget_projection(&env).await;
    assert_eq!(env.store().projected().await.unwrap(), (0, 0));
    let second = env.second_instance().await;
    assert_eq!(second.server().store().projected().await.unwrap(), (6, 2));
    let after = env.get(&ag, &path).fetch_json::<Answer>().await;
    assert_eq!(after, before);
    // Opening it again does not project twice.
    let third = env.second_instance().await;
    assert_eq!(third.server().store().projected().await.unwrap(), (6, 2));
}

/// Empties the projection and marks it to be backfilled, as migration 3
/// leaves a database that already holds documents.
#[allow(
    clippy::disallowed_types,
    clippy::disallowed_methods,
    reason = "the test plays an older database by editing the store's tables"
)]
async fn forget_projection(env: &Env) {
    const SQL: &str = "DELETE FROM stat_logs; DELETE FROM stat_consultations;
                       INSERT INTO stat_backfill(pending) VALUES (1);";
    match env.config.backend() {
        sync_server::config::Backend::Sqlite(path) => {
            let c = rusqlite::Connection::open(path).unwrap();
            c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            c.execute_batch(SQL).unwrap();
        }
        sync_server::config::Backend::Postgres(url) => {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            let task = tokio::spawn(conn);
            client.batch_execute(SQL).await.unwrap();
            drop(client);
            let _ = task.await;
        }
    }
}
