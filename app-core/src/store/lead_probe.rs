//! A timing probe of the team lead's screens (not a test of behaviour):
//! fills a store's projection tables with a 30-member team's year (50,000
//! records, as the benchmark's lead scenario: 40,000 logs and
//! 10,000 consultations) and prints how long the
//! dashboard and the review queue take. Ignored; run it with
//! `cargo test --release -p app-core lead_screens_probe -- --ignored --nocapture`.

use std::time::Instant;

use chrono::{Duration, NaiveDate};
use rusqlite::params;

use super::Store;
use crate::api::ReviewQueueQuery;
use crate::clock::ManualClock;
use crate::domain::{ActivityType, CountyCode};
use crate::stats::Period;
use crate::testing::{T0, team_id, user_id};

fn fill(store: &Store, logs: usize) {
    let team = team_id(1).to_bytes();
    let mut conn = store.conn();
    let tx = conn.transaction().unwrap();
    let county = 520_324_i64;
    tx.execute("INSERT INTO div_counties VALUES (?1, '正安县')", [county])
        .unwrap();
    for t in 0..19_i64 {
        let tc = county * 1000 + 100 + t;
        tx.execute(
            "INSERT INTO div_townships VALUES (?1, ?2)",
            params![tc, format!("镇{t}")],
        )
        .unwrap();
        for v in 0..8_i64 {
            tx.execute(
                "INSERT INTO div_villages VALUES (?1, ?2)",
                params![tc * 1000 + 200 + v, format!("村{t}-{v}")],
            )
            .unwrap();
        }
    }
    tx.execute(
        "INSERT INTO register_counties VALUES (?1, '2023', 0)",
        [county],
    )
    .unwrap();
    let start = NaiveDate::from_ymd_opt(2025, 11, 29).unwrap();
    let states = [
        "submitted",
        "approved",
        "changed_since_approval",
        "returned",
        "submitted",
        "submitted",
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..logs {
        let r = rnd();
        let id = uuid::Uuid::from_u128(u128::from(r) << 64 | i as u128);
        let author = user_id(1 + (i % 29) as u8).to_bytes();
        let date = start + Duration::days((r % 365) as i64);
        let t = (r >> 9) % 19;
        let township = county * 1000 + 100 + t as i64;
        let village = township * 1000 + 200 + ((r >> 17) % 8) as i64;
        let activity = ActivityType::ALL[((r >> 23) % 6) as usize].code();
        let state = states[((r >> 29) % 6) as usize];
        tx.execute(
            "INSERT INTO service_logs (id, author, team, date, start_time, end_time, village,
                 township, county, activity, industry, farmers_served, trainees, photo_count,
                 status, has_conflicts, created_at, summary, search, review_state)
             VALUES (?1, ?2, ?3, ?4, '09:00', '11:30', ?5, ?6, ?7, ?8, '茶叶', 12, NULL, 2,
                 'submitted', 0, ?9, '指导茶园春季修剪和病虫害防治，农户反映良好', ?11, ?10)",
            params![
                id.as_bytes().as_slice(),
                author.as_slice(),
                team.as_slice(),
                date.format("%Y-%m-%d").to_string(),
                village,
                township,
                county,
                activity,
                T0.as_millis(),
                state,
                "茶叶 指导茶园春季修剪和病虫害防治，讲解了修剪的高度、时间和方法，示范了绿色防控技术，农户反映良好，下一步将继续跟踪 ".repeat(3)
            ],
        )
        .unwrap();
        // A synced store interleaves each record's document with its row.
        tx.execute(
            "INSERT INTO documents (doc_id, kind, snapshot, snapshot_len, heads, changed_seq)
             VALUES (?1, 'service_log', zeroblob(3000), 3000, zeroblob(32), ?2)",
            params![id.as_bytes().as_slice(), i as i64],
        )
        .unwrap();
        for (k, v) in [
            ("technology", format!("技术{}", r % 40)),
            ("variety", format!("品种{}", (r >> 5) % 25)),
            ("farmer", "张三".into()),
        ] {
            tx.execute(
                "INSERT INTO record_items VALUES (?1, ?2, ?3)",
                params![id.as_bytes().as_slice(), k, v],
            )
            .unwrap();
        }
    }
    // One record in five is a consultation, as in the benchmark's corpus.
    for i in 0..logs / 4 {
        let r = rnd();
        let id = uuid::Uuid::from_u128(u128::from(r) << 64 | (1 << 40 | i) as u128);
        let author = user_id(1 + (i % 29) as u8).to_bytes();
        let asked = T0.as_millis() - (r % (365 * 86_400_000)) as i64;
        let answered = (r % 3 != 0).then_some(asked + 3_600_000);
        let t = (r >> 9) % 19;
        let township = county * 1000 + 100 + t as i64;
        let village = township * 1000 + 200 + ((r >> 17) % 8) as i64;
        tx.execute(
            "INSERT INTO consultations (id, author, team, farmer_name, farmer_phone, village,
                 township, county, subject, channel, asked_at, first_answered_at, status,
                 follow_up_count, photo_count, has_conflicts, created_at, summary, search)
             VALUES (?1, ?2, ?3, '张三', '13800000000', ?4, ?5, ?6, '茶树病虫害', 'phone', ?7,
                 ?8, ?9, 0, 0, 0, ?7, '茶树叶片发黄怎么办', '张三 茶树叶片发黄怎么办')",
            params![
                id.as_bytes().as_slice(),
                author.as_slice(),
                team.as_slice(),
                village,
                township,
                county,
                asked,
                answered,
                if answered.is_some() {
                    "answered"
                } else {
                    "open"
                }
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

#[test]
#[ignore = "a timing probe, run by hand"]
fn lead_screens_probe() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    // KETEPAI_PROBE_DB keeps the filled store for a look with sqlite3.
    let path = std::env::var_os("KETEPAI_PROBE_DB")
        .map_or_else(|| dir.path().join("s.sqlite"), Into::into);
    let _ = std::fs::remove_file(&path);
    let store = Store::open(&path, clock.shared()).unwrap();
    let started = Instant::now();
    fill(&store, 40_000);
    eprintln!("filled in {:?}", started.elapsed());
    let team = team_id(1);
    let county = CountyCode::parse("520324").ok();
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let year = Period::new(day(2025, 11, 29), day(2026, 11, 28));
    let queue = ReviewQueueQuery {
        limit: Some(100),
        ..ReviewQueueQuery::default()
    };
    // The dashboard's parts.
    for _ in 0..3 {
        let s = Instant::now();
        let register = store.stats_register().unwrap();
        let reg = s.elapsed();
        let s = Instant::now();
        let mut n = 0;
        store
            .read_facts(year, None, Some(team), &mut |_| n += 1)
            .unwrap();
        let facts = s.elapsed();
        let s = Instant::now();
        let mut request = crate::stats::StatsRequest::new(year);
        request.filter.team = Some(team);
        request.levels.teams = false;
        store.stats_report(&request, Some(&register)).unwrap();
        let report = s.elapsed();
        let conn = store.conn();
        let s = Instant::now();
        let k: i64 = conn
            .query_row(
                "SELECT count(*) FROM (SELECT author, max(date) FROM service_logs
                 WHERE team = ?1 AND review_state <> 'draft' AND duplicate_of IS NULL
                 GROUP BY author)",
                [team.to_bytes()],
                |r| r.get(0),
            )
            .unwrap();
        let last = s.elapsed();
        let s = Instant::now();
        let w: i64 = conn
            .query_row(
                "SELECT count(*) FROM (SELECT c.id, c.author, c.farmer_name, c.subject, v.name
                 FROM consultations c LEFT JOIN div_villages v ON v.code = c.village
                 WHERE c.team = ?1 AND c.asked_at <= ?2 AND c.first_answered_at IS NULL
                   AND c.status <> 'closed' AND c.duplicate_of IS NULL
                 ORDER BY c.author, c.asked_at, c.id)",
                params![team.to_bytes(), T0.as_millis()],
                |r| r.get(0),
            )
            .unwrap();
        let waiting = s.elapsed();
        eprintln!(
            "register {reg:?}; read_facts {facts:?} ({n}); stats_report {report:?}; \
             last_logs {last:?} ({k}); waiting {waiting:?} ({w})"
        );
    }
    // What the screens show, to compare before and after a change.
    let shown = format!(
        "{:?}{:?}",
        store.team_dashboard(team, county, year).unwrap(),
        store.review_queue(team, user_id(99), &queue).unwrap()
    );
    let mut h = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(&shown, &mut h);
    eprintln!("fingerprint {:x}", std::hash::Hasher::finish(&h));
    for _ in 0..5 {
        let s = Instant::now();
        let d = store.team_dashboard(team, county, year).unwrap();
        let dash = s.elapsed();
        let s = Instant::now();
        let q = store.review_queue(team, user_id(99), &queue).unwrap();
        let qt = s.elapsed();
        let s = Instant::now();
        store
            .team_dashboard(
                team,
                county,
                Period::new(day(2026, 11, 1), day(2026, 11, 30)),
            )
            .unwrap();
        eprintln!("month's dashboard {:?}", s.elapsed());
        eprintln!(
            "dashboard {dash:?} (visits {}, members {}); queue {qt:?} (total {}, first {:?})",
            d.total.visits,
            d.members.len(),
            q.total,
            q.logs.first().map(|l| l.date)
        );
    }
}
