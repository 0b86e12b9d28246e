//! A quick measure of the statistics engine alone (no database): a year of
//! synthetic facts for N counties of 300 commissioners each (300 villages per
//! county, a quarter as many consultations as logs), fed through
//! `ReportBuilder` with every level on.
//!
//! `cargo run --release -p app-core --example stats_rollup -- [counties] [logs per county]`
//! (defaults: 10 counties, 100,000 logs each). The benchmark program
//! (docs/benchmarks.md) measures the server's roll-ups with their storage;
//! this only says what the counting itself costs.

use std::time::Instant;

use app_core::domain::{
    ActivityType, ConsultationId, DivisionLevel, ServiceLogId, TeamId, Timestamp, UserId,
    VillageCode,
};
use app_core::stats::{
    ConsultationFact, FactStatus, ItemKind, LogFact, Period, Register, ReportBuilder, StatsRequest,
};
use chrono::NaiveDate;

fn main() {
    let mut args = std::env::args().skip(1);
    let counties: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let per_county: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);

    // Counties 520101.. with 15 townships of 20 villages each.
    let mut register = Register::new();
    let county_code = |i: u64| 520_100 + (i / 50) * 100 + i % 50 + 1;
    for i in 0..counties {
        let c = county_code(i);
        register.insert(DivisionLevel::County, c, format!("县{c}"));
        for t in 0..15 {
            let township = c * 1000 + 100 + t;
            register.insert(DivisionLevel::Township, township, format!("乡{township}"));
            for v in 0..20 {
                let village = township * 1000 + 200 + v;
                register.insert(DivisionLevel::Village, village, format!("村{village}"));
            }
        }
    }

    let names: Vec<String> = (0..400).map(|i| format!("技术{i}")).collect();
    let mut x: u64 = 1;
    let mut next = move |m: u64| {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % m
    };
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut request = StatsRequest::new(Period::year(2026).unwrap());
    request.training_sizes = vec![30];

    // Facts are made a county at a time before they are timed, so the time
    // is the engine's alone.
    let mut b = ReportBuilder::new(&request, Some(&register));
    let mut fed = 0u64;
    let mut feeding = std::time::Duration::ZERO;
    let mut logs = Vec::with_capacity(per_county as usize);
    let mut consultations = Vec::with_capacity(per_county as usize / 4 + 1);
    for i in 0..counties {
        let c = county_code(i);
        logs.clear();
        consultations.clear();
        for n in 0..per_county {
            let author = i * 300 + next(300);
            let village =
                VillageCode::from_int((c * 1000 + 100 + next(15)) * 1000 + 200 + next(21)).unwrap();
            let fact = LogFact {
                id: ServiceLogId::from_bytes(u128::from(fed).to_be_bytes()),
                author: UserId::from_bytes(u128::from(author).to_be_bytes()),
                team: Some(TeamId::from_bytes(u128::from(i).to_be_bytes())),
                village,
                date: start + chrono::Days::new(next(365)),
                activity: ActivityType::ALL[next(7) as usize],
                status: FactStatus::ALL[next(5) as usize],
                duplicate: n % 101 == 0,
                farmers_served: next(40) as u32,
                trainees: Some(next(80) as u32),
                photos: next(5) as u32,
            };
            let items = [next(400) as usize, next(400) as usize, next(3) as usize];
            logs.push((fact, items));
            if n % 4 == 0 {
                let asked =
                    Timestamp::from_millis(1_767_225_600_000 + next(364 * 86_400) as i64 * 1000);
                consultations.push(ConsultationFact {
                    id: ConsultationId::from_bytes(u128::from(fed).to_be_bytes()),
                    author: fact.author,
                    team: fact.team,
                    village,
                    asked_at: asked,
                    first_answered_at: Some(asked.add_millis(next(3 * 86_400) as i64 * 1000)),
                    duplicate: false,
                });
            }
            fed += 1;
        }
        let began = Instant::now();
        for (fact, [t, v, k]) in &logs {
            let items = [
                (ItemKind::Technology, names[*t].as_str()),
                (ItemKind::Variety, names[*v].as_str()),
            ];
            b.add_log(fact, items.into_iter().take(*k));
        }
        for c in &consultations {
            b.add_consultation(c);
        }
        feeding += began.elapsed();
    }
    let began = Instant::now();
    let report = b.finish();
    let finishing = began.elapsed();
    println!(
        "{fed} logs (+{} consultations) in {counties} counties: fed in {:.2} s, report in {:.2} s more; \
         {} commissioners, {} teams, {} counties; visits {}, person-days {}, villages {}/{}, median {:.1} min",
        fed / 4,
        feeding.as_secs_f64(),
        finishing.as_secs_f64(),
        report.commissioners.len(),
        report.teams.len(),
        report.counties.len(),
        report.total.visits,
        report.total.person_days,
        report.total.register_villages_covered.unwrap_or(0),
        report.total.register_villages.unwrap_or(0),
        report.total.median_minutes_to_first_answer.unwrap_or(0.0),
    );
}
