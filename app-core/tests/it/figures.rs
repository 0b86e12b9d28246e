//! Every figure of docs/statistics.md checked against a plain recomputation:
//! property tests over random records, and the edge cases by name.
//!
//! The recomputation (`reference`) is written from the document's rules over
//! plain lists with `BTreeSet`s and sorting, sharing nothing with the engine
//! but the input types.

use std::collections::{BTreeMap, BTreeSet};

use app_core::domain::{
    ActivityType, ConsultationId, CountyCode, DivisionLevel, PrefectureCode, ProvinceCode,
    ServiceLogId, TeamId, Timestamp, UserId, VillageCode,
};
use app_core::stats::{
    Area, ConsultationFact, FactStatus, Figures, Filter, ItemKind, LogEntry, LogFact, Period,
    Register, Report, ReportBuilder, StatsRequest, compute,
};
use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;

// --- The world: two provinces, three prefectures, four counties. -----------

/// Villages used by the generated records. The last two of each county are
/// not in the register (a mistyped or new code).
pub(crate) const VILLAGES: &[u64] = &[
    520_324_001_001,
    520_324_001_002,
    520_324_002_001,
    520_324_002_009, // not in register
    520_325_100_001,
    520_325_100_002,
    520_325_101_001,
    520_325_101_008, // not in register (township 101 is)
    520_402_001_001,
    520_402_001_002,
    520_402_003_001, // not in register, nor its township
    530_102_001_001,
    530_102_001_002,
    530_102_001_007, // not in register
];

/// Register villages that no record uses (so never covered).
const QUIET_VILLAGES: &[u64] = &[520_324_002_002, 520_402_001_003, 530_102_004_001];

fn not_in_register(v: u64) -> bool {
    matches!(
        v,
        520_324_002_009 | 520_325_101_008 | 520_402_003_001 | 530_102_001_007
    )
}

pub(crate) fn register() -> Register {
    let mut r = Register::new();
    for v in VILLAGES
        .iter()
        .chain(QUIET_VILLAGES)
        .copied()
        .filter(|v| !not_in_register(*v))
    {
        r.insert(DivisionLevel::Village, v, format!("村{v}"));
        r.insert(DivisionLevel::Township, v / 1000, format!("乡{}", v / 1000));
        r.insert(
            DivisionLevel::County,
            v / 1_000_000,
            format!("县{}", v / 1_000_000),
        );
        r.insert(DivisionLevel::Prefecture, v / 100_000_000, "市");
        r.insert(DivisionLevel::Province, v / 10_000_000_000, "省");
    }
    // A county in the register where nobody works.
    r.insert(DivisionLevel::Township, 530_103_001, "空乡");
    r.insert(DivisionLevel::Village, 530_103_001_001, "空村");
    r
}

pub(crate) fn uid(n: u8) -> UserId {
    UserId::from_bytes([n; 16])
}
pub(crate) fn tid(n: u8) -> TeamId {
    TeamId::from_bytes([0xA0 | n; 16])
}
pub(crate) fn village(v: u64) -> VillageCode {
    VillageCode::from_int(v).unwrap()
}
pub(crate) fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}
pub(crate) fn china(s: &str) -> Timestamp {
    Timestamp::from_china_local(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap())
}

const NAMES: &[&str] = &[
    "测土配方施肥",
    " 测土配方施肥",
    "测土配方施肥\u{3000}",
    "黔茶1号",
    "黔茶１号",
    "Bt 抗虫棉",
    "bt  抗虫棉",
    "白叶1号",
    "正安县白茶专业合作社",
    "正安县白茶专业合作社（一社）",
    "正安县白茶专业合作社(一社)",
    "   ",
];

// --- The plain recomputation. -----------------------------------------------

fn simple_norm(s: &str) -> String {
    let folded: String = s
        .chars()
        .map(|c| {
            let u = c as u32;
            if (0xFF01..=0xFF5E).contains(&u) {
                char::from_u32(u - 0xFEE0).unwrap()
            } else if c == '\u{3000}' {
                ' '
            } else {
                c
            }
        })
        .collect();
    folded
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

#[derive(Clone, Copy)]
enum Group {
    All,
    Author(UserId),
    Team(TeamId),
    County(u64),
    Prefecture(u64),
    Province(u64),
}

impl Group {
    fn holds(self, author: UserId, team: Option<TeamId>, village: u64) -> bool {
        match self {
            Group::All => true,
            Group::Author(a) => author == a,
            Group::Team(t) => team == Some(t),
            Group::County(c) => village / 1_000_000 == c,
            Group::Prefecture(p) => village / 100_000_000 == p,
            Group::Province(p) => village / 10_000_000_000 == p,
        }
    }

    /// The register's villages and townships of the area, for division groups.
    fn area(self, reg: &Register, admitted: &dyn Fn(u64) -> bool) -> Option<(u32, u32)> {
        let inside = |code: u64, digits: u32| -> bool {
            let county = code / 10u64.pow(digits - 6);
            admitted(county)
                && match self {
                    Group::All => true,
                    Group::County(c) => county == c,
                    Group::Prefecture(p) => county / 100 == p,
                    Group::Province(p) => county / 10_000 == p,
                    _ => false,
                }
        };
        match self {
            Group::Author(_) | Group::Team(_) => None,
            _ => {
                let v = reg.villages().filter(|(c, _)| inside(*c, 12)).count() as u32;
                let t = reg.townships().filter(|(c, _)| inside(*c, 9)).count() as u32;
                Some((v, t))
            }
        }
    }
}

fn counts(status: FactStatus) -> bool {
    status == FactStatus::Submitted
        || status == FactStatus::Approved
        || status == FactStatus::ChangedSinceApproval
}

fn reference(
    logs: &[LogEntry],
    consultations: &[ConsultationFact],
    period: Period,
    filter: &Filter,
    sizes: &[u32],
    reg: &Register,
    group: Group,
) -> Figures {
    let admitted = |county: u64| -> bool {
        filter.area.is_none_or(|a| a.contains_county(county))
            && filter
                .counties
                .as_ref()
                .is_none_or(|s| s.iter().any(|c| c.as_int() == county))
    };
    let pass = |author: UserId, team: Option<TeamId>, v: u64| {
        filter.author.is_none_or(|a| a == author)
            && filter.team.is_none_or(|t| team == Some(t))
            && admitted(v / 1_000_000)
            && group.holds(author, team, v)
    };
    let counted: Vec<&LogEntry> = logs
        .iter()
        .filter(|l| {
            let f = &l.fact;
            counts(f.status)
                && !f.duplicate
                && period.from <= f.date
                && f.date <= period.to
                && pass(f.author, f.team, f.village.as_int())
        })
        .collect();
    let n = counted.len() as u32;
    let villages: BTreeSet<u64> = counted.iter().map(|l| l.fact.village.as_int()).collect();
    let reg_villages: BTreeSet<u64> = villages
        .iter()
        .copied()
        .filter(|v| reg.has_village(*v))
        .collect();
    let reg_townships: BTreeSet<u64> = reg_villages
        .iter()
        .map(|v| v / 1000)
        .filter(|t| reg.has_township(*t))
        .collect();
    let names = |kind: ItemKind| -> u32 {
        counted
            .iter()
            .flat_map(|l| l.items.iter())
            .filter(|(k, _)| *k == kind)
            .map(|(_, name)| simple_norm(name))
            .filter(|s| !s.is_empty())
            .collect::<BTreeSet<_>>()
            .len() as u32
    };
    let trainings: Vec<&&LogEntry> = counted
        .iter()
        .filter(|l| l.fact.activity == ActivityType::Training)
        .collect();
    let approved = counted
        .iter()
        .filter(|l| l.fact.status == FactStatus::Approved)
        .count() as u32;
    let photos: u64 = counted.iter().map(|l| u64::from(l.fact.photos)).sum();

    let (start, end) = (
        Timestamp::from_china_local(period.from.and_hms_opt(0, 0, 0).unwrap()),
        Timestamp::from_china_local(period.to.and_hms_opt(0, 0, 0).unwrap())
            .add_millis(24 * 3600 * 1000),
    );
    let asked: Vec<&ConsultationFact> = consultations
        .iter()
        .filter(|c| {
            !c.duplicate
                && period.from <= period.to
                && start <= c.asked_at
                && c.asked_at < end
                && pass(c.author, c.team, c.village.as_int())
        })
        .collect();
    let answered: Vec<&&ConsultationFact> = asked
        .iter()
        .filter(|c| c.first_answered_at.is_some())
        .collect();
    let mut waits: Vec<i64> = answered
        .iter()
        .map(|c| c.first_answered_at.unwrap().as_millis() - c.asked_at.as_millis())
        .filter(|ms| *ms >= 0)
        .collect();
    waits.sort();
    let median = match waits.len() {
        0 => None,
        k if k % 2 == 1 => Some(waits[k / 2] as f64 / 60_000.0),
        k => Some((waits[k / 2 - 1] as f64 + waits[k / 2] as f64) / 2.0 / 60_000.0),
    };
    let area = group.area(reg, &admitted);
    let share = |a: u32, b: u32| {
        if b == 0 {
            None
        } else {
            Some(a as f64 / b as f64)
        }
    };
    Figures {
        active_commissioners: counted
            .iter()
            .map(|l| l.fact.author)
            .collect::<BTreeSet<_>>()
            .len() as u32,
        teams: counted
            .iter()
            .filter_map(|l| l.fact.team)
            .collect::<BTreeSet<_>>()
            .len() as u32,
        service_days: counted
            .iter()
            .map(|l| l.fact.date)
            .collect::<BTreeSet<_>>()
            .len() as u32,
        person_days: counted
            .iter()
            .map(|l| (l.fact.author, l.fact.date))
            .collect::<BTreeSet<_>>()
            .len() as u32,
        visits: n,
        approved_logs: approved,
        approval_share: share(approved, n),
        farmers_served: counted
            .iter()
            .map(|l| u64::from(l.fact.farmers_served))
            .sum(),
        trainings: trainings.len() as u32,
        trainees: trainings
            .iter()
            .map(|l| u64::from(l.fact.trainees.unwrap_or(0)))
            .sum(),
        trainings_without_trainees: trainings
            .iter()
            .filter(|l| l.fact.trainees.is_none())
            .count() as u32,
        trainings_with_min_trainees: sizes
            .iter()
            .map(|s| {
                (
                    *s,
                    trainings
                        .iter()
                        .filter(|l| l.fact.trainees.unwrap_or(0) >= *s)
                        .count() as u32,
                )
            })
            .collect(),
        demonstrations: counted
            .iter()
            .filter(|l| l.fact.activity == ActivityType::Demonstration)
            .count() as u32,
        villages_covered: villages.len() as u32,
        townships_covered: villages
            .iter()
            .map(|v| v / 1000)
            .collect::<BTreeSet<_>>()
            .len() as u32,
        register_villages_covered: Some(reg_villages.len() as u32),
        register_villages: area.map(|a| a.0),
        village_coverage: area.and_then(|a| share(reg_villages.len() as u32, a.0)),
        register_townships_covered: Some(reg_townships.len() as u32),
        register_townships: area.map(|a| a.1),
        township_coverage: area.and_then(|a| share(reg_townships.len() as u32, a.1)),
        logs_outside_register: Some(
            counted
                .iter()
                .filter(|l| !reg.has_village(l.fact.village.as_int()))
                .count() as u32,
        ),
        technologies: names(ItemKind::Technology),
        varieties: names(ItemKind::Variety),
        enterprises: names(ItemKind::Enterprise),
        cooperatives: names(ItemKind::Cooperative),
        photos,
        photos_per_log: if n == 0 {
            None
        } else {
            Some(photos as f64 / n as f64)
        },
        consultations: asked.len() as u32,
        consultations_answered: answered.len() as u32,
        answers_before_asked: answered
            .iter()
            .filter(|c| c.first_answered_at.unwrap() < c.asked_at)
            .count() as u32,
        median_minutes_to_first_answer: median,
    }
}

/// Compares two figures field by field (decimals to 1e-9), naming the group.
fn same(got: &Figures, want: &Figures, what: &str) {
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    };
    let mut g = got.clone();
    let mut w = want.clone();
    for (a, b, name) in [
        (g.approval_share, w.approval_share, "approval_share"),
        (g.village_coverage, w.village_coverage, "village_coverage"),
        (
            g.township_coverage,
            w.township_coverage,
            "township_coverage",
        ),
        (g.photos_per_log, w.photos_per_log, "photos_per_log"),
        (
            g.median_minutes_to_first_answer,
            w.median_minutes_to_first_answer,
            "median",
        ),
    ] {
        assert!(close(a, b), "{what}: {name} {a:?} != {b:?}");
    }
    g.approval_share = None;
    w.approval_share = None;
    g.village_coverage = None;
    w.village_coverage = None;
    g.township_coverage = None;
    w.township_coverage = None;
    g.photos_per_log = None;
    w.photos_per_log = None;
    g.median_minutes_to_first_answer = None;
    w.median_minutes_to_first_answer = None;
    assert_eq!(g, w, "{what}");
}

fn check_report(
    report: &Report,
    logs: &[LogEntry],
    consultations: &[ConsultationFact],
    req: &StatsRequest,
    reg: &Register,
) {
    let r = |g| {
        reference(
            logs,
            consultations,
            req.period,
            &req.filter,
            &req.training_sizes,
            reg,
            g,
        )
    };
    same(&report.total, &r(Group::All), "total");

    // Who and what has a row: anyone or anything with a counted record.
    let in_period = |d: NaiveDate| req.period.from <= d && d <= req.period.to;
    let (start, end) = req.period.instants();
    let selected = |a: UserId, t: Option<TeamId>, v: u64| {
        let c = v / 1_000_000;
        req.filter.author.is_none_or(|x| x == a)
            && req.filter.team.is_none_or(|x| t == Some(x))
            && req.filter.admits_county(c)
    };
    let mut keys: Vec<(UserId, Option<TeamId>, u64)> = logs
        .iter()
        .filter(|l| counts(l.fact.status) && !l.fact.duplicate && in_period(l.fact.date))
        .map(|l| (l.fact.author, l.fact.team, l.fact.village.as_int()))
        .chain(
            consultations
                .iter()
                .filter(|c| !c.duplicate && start <= c.asked_at && c.asked_at < end)
                .map(|c| (c.author, c.team, c.village.as_int())),
        )
        .filter(|(a, t, v)| selected(*a, *t, *v))
        .collect();
    keys.sort();
    let authors: BTreeSet<UserId> = keys.iter().map(|k| k.0).collect();
    let teams: BTreeSet<TeamId> = keys.iter().filter_map(|k| k.1).collect();
    let mut counties: BTreeSet<u64> = keys.iter().map(|k| k.2 / 1_000_000).collect();
    for c in reg.counties() {
        if req.filter.admits_county(c.as_int()) {
            counties.insert(c.as_int());
        }
    }

    assert_eq!(
        report
            .commissioners
            .iter()
            .map(|r| r.key)
            .collect::<BTreeSet<_>>(),
        authors
    );
    for row in &report.commissioners {
        same(&row.figures, &r(Group::Author(row.key)), "commissioner");
    }
    assert_eq!(
        report.teams.iter().map(|r| r.key).collect::<BTreeSet<_>>(),
        teams
    );
    for row in &report.teams {
        same(&row.figures, &r(Group::Team(row.key)), "team");
    }
    assert_eq!(
        report
            .counties
            .iter()
            .map(|r| r.key.as_int())
            .collect::<BTreeSet<_>>(),
        counties
    );
    for row in &report.counties {
        same(
            &row.figures,
            &r(Group::County(row.key.as_int())),
            &format!("county {}", row.key),
        );
    }
    assert_eq!(
        report
            .prefectures
            .iter()
            .map(|r| r.key.as_int())
            .collect::<BTreeSet<_>>(),
        counties.iter().map(|c| c / 100).collect()
    );
    for row in &report.prefectures {
        same(
            &row.figures,
            &r(Group::Prefecture(row.key.as_int())),
            "prefecture",
        );
    }
    for row in &report.provinces {
        same(
            &row.figures,
            &r(Group::Province(row.key.as_int())),
            "province",
        );
    }

    // Uncovered: register villages of the rows' counties that no counted log
    // reached.
    let covered: BTreeSet<u64> = logs
        .iter()
        .filter(|l| {
            counts(l.fact.status)
                && !l.fact.duplicate
                && in_period(l.fact.date)
                && selected(l.fact.author, l.fact.team, l.fact.village.as_int())
        })
        .map(|l| l.fact.village.as_int())
        .collect();
    let uncovered: Vec<u64> = reg
        .villages()
        .map(|(v, _)| v)
        .filter(|v| counties.contains(&(v / 1_000_000)) && !covered.contains(v))
        .collect();
    assert_eq!(
        report
            .uncovered_villages
            .iter()
            .map(|v| v.as_int())
            .collect::<Vec<_>>(),
        uncovered
    );
}

// --- Generators. -------------------------------------------------------------

fn arb_log(i: usize) -> impl Strategy<Value = LogEntry> {
    (
        0u8..4,
        prop::option::of(0u8..3),
        prop::sample::select(VILLAGES),
        0i64..60,
        prop::sample::select(ActivityType::ALL),
        prop::sample::select(FactStatus::ALL.to_vec()),
        prop::bool::weighted(0.1),
        0u32..40,
        prop::option::of(0u32..80),
        0u32..5,
        prop::collection::vec(
            (
                prop::sample::select(ItemKind::ALL.to_vec()),
                prop::sample::select(NAMES),
            ),
            0..4,
        ),
    )
        .prop_map(
            move |(a, t, v, d, activity, status, duplicate, farmers, trainees, photos, items)| {
                LogEntry {
                    fact: LogFact {
                        id: ServiceLogId::from_bytes((i as u128).to_be_bytes()),
                        author: uid(a),
                        team: t.map(tid),
                        village: village(v),
                        // Around the period 2026-12-01 ..= 2026-12-31.
                        date: day("2026-11-20") + chrono::Days::new(d as u64),
                        activity,
                        status,
                        duplicate,
                        farmers_served: farmers,
                        trainees,
                        photos,
                    },
                    items: items.into_iter().map(|(k, n)| (k, n.to_string())).collect(),
                }
            },
        )
}

fn arb_consultation(i: usize) -> impl Strategy<Value = ConsultationFact> {
    (
        0u8..4,
        prop::option::of(0u8..3),
        prop::sample::select(VILLAGES),
        0i64..(50 * 24 * 60),
        prop::option::of(-180i64..(3 * 24 * 60)),
        0i64..60_000,
        prop::bool::weighted(0.1),
    )
        .prop_map(move |(a, t, v, minute, answer, ms, duplicate)| {
            let asked = china("2026-11-20 00:00:00").add_millis(minute * 60_000 + ms);
            ConsultationFact {
                id: ConsultationId::from_bytes((i as u128).to_be_bytes()),
                author: uid(a),
                team: t.map(tid),
                village: village(v),
                asked_at: asked,
                first_answered_at: answer.map(|m| asked.add_millis(m * 60_000 + ms / 7)),
                duplicate,
            }
        })
}

fn arb_logs() -> impl Strategy<Value = Vec<LogEntry>> {
    (0usize..60).prop_flat_map(|n| (0..n).map(arb_log).collect::<Vec<_>>())
}

fn arb_consultations() -> impl Strategy<Value = Vec<ConsultationFact>> {
    (0usize..30).prop_flat_map(|n| (0..n).map(arb_consultation).collect::<Vec<_>>())
}

fn arb_filter() -> impl Strategy<Value = Filter> {
    (
        prop::option::weighted(0.2, 0u8..4),
        prop::option::weighted(0.2, 0u8..3),
        prop::option::weighted(
            0.3,
            prop::sample::select(vec![
                Area::Province(ProvinceCode::parse("52").unwrap()),
                Area::Prefecture(PrefectureCode::parse("5203").unwrap()),
                Area::County(CountyCode::parse("520325").unwrap()),
                Area::Province(ProvinceCode::parse("53").unwrap()),
            ]),
        ),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(a, t, area, tagged)| Filter {
            author: a.map(uid),
            team: t.map(tid),
            area,
            counties: tagged.then(|| {
                BTreeSet::from([
                    CountyCode::parse("520324").unwrap(),
                    CountyCode::parse("530102").unwrap(),
                ])
            }),
        })
}

fn december() -> Period {
    Period::new(day("2026-12-01"), day("2026-12-31"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(96)
    ))]

    #[test]
    fn every_figure_matches_a_plain_recomputation(
        logs in arb_logs(),
        consultations in arb_consultations(),
        filter in arb_filter(),
    ) {
        let reg = register();
        let mut req = StatsRequest::new(december());
        req.filter = filter;
        req.training_sizes = vec![30, 0, 50];
        let report = compute(&req, Some(&reg), &logs, &consultations);
        let mut sorted = req.clone();
        sorted.training_sizes.sort_unstable();
        check_report(&report, &logs, &consultations, &sorted, &reg);
    }

    #[test]
    fn the_order_of_the_facts_changes_nothing(
        logs in arb_logs(),
        consultations in arb_consultations(),
    ) {
        let reg = register();
        let req = StatsRequest::new(december());
        let a = compute(&req, Some(&reg), &logs, &consultations);
        let b = compute(&req, Some(&reg), logs.iter().rev(), consultations.iter().rev());
        prop_assert_eq!(a, b);
    }

    #[test]
    fn facts_counted_apart_and_merged_give_the_same_report(
        logs in arb_logs(),
        consultations in arb_consultations(),
        filter in arb_filter(),
        cut in any::<prop::sample::Index>(),
        parts in 1usize..4,
    ) {
        // As the server counts a report's rows on several threads: each
        // part with its own builder, merged in any order.
        let reg = register();
        let mut req = StatsRequest::new(december());
        req.filter = filter;
        req.training_sizes = vec![30, 50];
        let whole = compute(&req, Some(&reg), &logs, &consultations);
        let mut builders: Vec<ReportBuilder<'_>> =
            (0..parts).map(|_| ReportBuilder::new(&req, Some(&reg))).collect();
        let shift = cut.index(parts.max(1));
        for (i, l) in logs.iter().enumerate() {
            builders[(i + shift) % parts].add_entry(l);
        }
        for (i, c) in consultations.iter().enumerate() {
            builders[(i * 7 + shift) % parts].add_consultation(c);
        }
        let mut builders = builders.into_iter().rev();
        let mut merged = builders.next().expect("a part");
        for b in builders {
            merged.merge(b);
        }
        prop_assert_eq!(merged.finish(), whole);
    }
}

// --- Edge cases by name. ------------------------------------------------------

pub(crate) fn log(author: u8, team: Option<u8>, v: u64, date: &str) -> LogEntry {
    LogEntry {
        fact: LogFact {
            id: ServiceLogId::from_bytes([0; 16]),
            author: uid(author),
            team: team.map(tid),
            village: village(v),
            date: day(date),
            activity: ActivityType::TechnicalGuidance,
            status: FactStatus::Submitted,
            duplicate: false,
            farmers_served: 10,
            trainees: None,
            photos: 2,
        },
        items: vec![],
    }
}

pub(crate) fn consultation(author: u8, asked: &str, answered: Option<&str>) -> ConsultationFact {
    ConsultationFact {
        id: ConsultationId::from_bytes([0; 16]),
        author: uid(author),
        team: Some(tid(0)),
        village: village(520_324_001_001),
        asked_at: china(asked),
        first_answered_at: answered.map(china),
        duplicate: false,
    }
}

pub(crate) fn year(y: i32) -> StatsRequest {
    StatsRequest::new(Period::year(y).unwrap())
}

#[test]
fn the_last_minute_of_31_december_china_time_belongs_to_that_year() {
    // A log worked on 31 December, and consultations asked at 23:59:59 on
    // 31 December and at 00:00:00 on 1 January, China time. The second is
    // still 31 December in UTC (16:00Z) and must not count for that year.
    let logs = [log(1, Some(0), 520_324_001_001, "2026-12-31")];
    let late = consultation(1, "2026-12-31 23:59:59", Some("2027-01-01 00:30:00"));
    let new_year = consultation(1, "2027-01-01 00:00:00", None);
    assert_eq!(
        new_year.asked_at.to_utc().unwrap().date_naive(),
        day("2026-12-31")
    );
    let cs = [late, new_year];
    let y2026 = compute(&year(2026), None, &logs, &cs);
    assert_eq!(y2026.total.visits, 1);
    assert_eq!(y2026.total.service_days, 1);
    assert_eq!(y2026.total.consultations, 1);
    assert_eq!(y2026.total.consultations_answered, 1);
    // Answered 30 minutes and 1 second later, across the year's end.
    assert_eq!(
        y2026.total.median_minutes_to_first_answer,
        Some(30.0 + 1.0 / 60.0)
    );
    let y2027 = compute(&year(2027), None, &logs, &cs);
    assert_eq!(y2027.total.visits, 0);
    assert_eq!(y2027.total.consultations, 1);
    assert_eq!(y2027.total.consultations_answered, 0);
}

#[test]
fn a_consultation_answered_before_it_was_asked_is_answered_but_not_timed() {
    let cs = [
        consultation(1, "2026-05-01 10:00:00", Some("2026-05-01 09:00:00")),
        consultation(1, "2026-05-01 10:00:00", Some("2026-05-01 10:20:00")),
        consultation(1, "2026-05-02 10:00:00", None),
    ];
    let r = compute(&year(2026), None, &[], &cs);
    assert_eq!(r.total.consultations, 3);
    assert_eq!(r.total.consultations_answered, 2);
    assert_eq!(r.total.answers_before_asked, 1);
    // Only the 20-minute answer is timed.
    assert_eq!(r.total.median_minutes_to_first_answer, Some(20.0));
}

#[test]
fn an_even_number_of_answers_takes_the_mean_of_the_middle_two_unrounded() {
    let cs = [
        consultation(1, "2026-05-01 10:00:00", Some("2026-05-01 10:10:00")),
        consultation(1, "2026-05-01 10:00:00", Some("2026-05-01 10:21:00")),
        consultation(2, "2026-05-01 10:00:00", Some("2026-05-01 10:24:00")),
        consultation(2, "2026-05-01 10:00:00", Some("2026-05-01 12:00:00")),
    ];
    let r = compute(&year(2026), None, &[], &cs);
    // Middle values 21 and 24 minutes: 22.5, not 22.
    assert_eq!(r.total.median_minutes_to_first_answer, Some(22.5));
    // Per commissioner: (10 + 21) / 2 and (24 + 120) / 2.
    assert_eq!(
        r.commissioner(uid(1))
            .unwrap()
            .median_minutes_to_first_answer,
        Some(15.5)
    );
    assert_eq!(
        r.commissioner(uid(2))
            .unwrap()
            .median_minutes_to_first_answer,
        Some(72.0)
    );
    // The county's median is of all four answers, not the median of the
    // commissioners' medians (which would be 43.75).
    let county = r.county(CountyCode::parse("520324").unwrap()).unwrap();
    assert_eq!(county.median_minutes_to_first_answer, Some(22.5));
}

#[test]
fn a_returned_log_does_not_count_until_it_is_approved() {
    let mut l = log(1, Some(0), 520_324_001_001, "2026-06-01");
    l.fact.status = FactStatus::Returned;
    let r = compute(&year(2026), None, std::slice::from_ref(&l), &[]);
    assert_eq!(r.total.visits, 0);
    assert_eq!(r.total.active_commissioners, 0);
    // The team lead approves it after the author fixes it.
    l.fact.status = FactStatus::Approved;
    let r = compute(&year(2026), None, std::slice::from_ref(&l), &[]);
    assert_eq!(r.total.visits, 1);
    assert_eq!(r.total.approved_logs, 1);
    assert_eq!(r.total.approval_share, Some(1.0));
    // Edited after approval: still counted, no longer approved.
    l.fact.status = FactStatus::ChangedSinceApproval;
    let r = compute(&year(2026), None, std::slice::from_ref(&l), &[]);
    assert_eq!(r.total.visits, 1);
    assert_eq!(r.total.approved_logs, 0);
    assert_eq!(r.total.approval_share, Some(0.0));
    // A draft never counts.
    l.fact.status = FactStatus::Draft;
    assert_eq!(compute(&year(2026), None, &[l], &[]).total.visits, 0);
}

#[test]
fn a_duplicate_counts_for_nothing() {
    let original = log(1, Some(0), 520_324_001_001, "2026-06-01");
    let mut copy = log(1, Some(0), 520_324_002_001, "2026-06-02");
    copy.fact.duplicate = true;
    copy.items = vec![(ItemKind::Technology, "测土配方施肥".into())];
    let mut asked = consultation(1, "2026-06-01 08:00:00", Some("2026-06-01 08:05:00"));
    let mut twice = asked;
    twice.duplicate = true;
    twice.first_answered_at = Some(china("2026-06-01 20:00:00"));
    asked.duplicate = false;
    let r = compute(&year(2026), None, &[original, copy], &[asked, twice]);
    assert_eq!(r.total.visits, 1);
    assert_eq!(r.total.service_days, 1);
    assert_eq!(r.total.villages_covered, 1);
    assert_eq!(r.total.technologies, 0);
    assert_eq!(r.total.consultations, 1);
    assert_eq!(r.total.median_minutes_to_first_answer, Some(5.0));
}

#[test]
fn a_village_not_in_the_register_counts_as_work_but_not_as_coverage() {
    let reg = register();
    let logs = [
        log(1, Some(0), 520_324_001_001, "2026-06-01"),
        log(1, Some(0), 520_324_002_009, "2026-06-02"), // not in register
    ];
    let r = compute(&year(2026), Some(&reg), &logs, &[]);
    let c = r.county(CountyCode::parse("520324").unwrap()).unwrap();
    assert_eq!(c.visits, 2);
    assert_eq!(c.farmers_served, 20);
    assert_eq!(c.villages_covered, 2);
    assert_eq!(c.townships_covered, 2);
    assert_eq!(c.register_villages_covered, Some(1));
    assert_eq!(c.register_townships_covered, Some(1));
    assert_eq!(c.logs_outside_register, Some(1));
    // 正安县's register here: 001001, 001002, 002001, 002002 in townships 001, 002.
    assert_eq!(c.register_villages, Some(4));
    assert_eq!(c.village_coverage, Some(0.25));
    assert_eq!(c.register_townships, Some(2));
    assert_eq!(c.township_coverage, Some(0.5));
    assert!(r.uncovered_villages.contains(&village(520_324_001_002)));
    assert!(!r.uncovered_villages.contains(&village(520_324_002_009)));
    // Without a register nothing is said about coverage.
    let r = compute(&year(2026), None, &logs, &[]);
    assert_eq!(r.total.register_villages_covered, None);
    assert_eq!(r.total.village_coverage, None);
    assert_eq!(r.total.logs_outside_register, None);
}

#[test]
fn a_commissioner_who_moved_team_mid_year_counts_for_each_team_by_the_logs_made_for_it() {
    // Commissioner 1 serves team A until June and team B from July; on the
    // day of the move (1 July) they log once for each. Commissioner 2 is in
    // team B all year and also works on 1 July.
    let logs = [
        log(1, Some(0), 520_324_001_001, "2026-03-10"),
        log(1, Some(0), 520_324_001_002, "2026-06-30"),
        log(1, Some(0), 520_324_001_002, "2026-07-01"),
        log(1, Some(1), 520_325_100_001, "2026-07-01"),
        log(1, Some(1), 520_325_100_001, "2026-09-15"),
        log(2, Some(1), 520_325_100_001, "2026-07-01"),
    ];
    let r = compute(&year(2026), None, &logs, &[]);
    let me = r.commissioner(uid(1)).unwrap();
    assert_eq!(me.visits, 5);
    assert_eq!(me.service_days, 4, "1 July counts once for the person");
    assert_eq!(me.teams, 2);
    let a = r.team(tid(0)).unwrap();
    assert_eq!((a.visits, a.service_days, a.person_days), (3, 3, 3));
    let b = r.team(tid(1)).unwrap();
    assert_eq!(b.visits, 3);
    assert_eq!(b.service_days, 2, "1 July and 15 September");
    assert_eq!(
        b.person_days, 3,
        "two people on 1 July, one on 15 September"
    );
    assert_eq!(b.active_commissioners, 2);
    // The prefecture holds both counties: 1 July is one day with service, and
    // 人天 counts each person once per day (1 July: two people).
    let p = r
        .prefecture(PrefectureCode::parse("5203").unwrap())
        .unwrap();
    assert_eq!(p.service_days, 4);
    assert_eq!(p.person_days, 5);
    assert_eq!(p.visits, 6);
    assert_eq!(p.active_commissioners, 2);
    // Each county gets the logs whose village lies in it.
    assert_eq!(
        r.county(CountyCode::parse("520324").unwrap())
            .unwrap()
            .visits,
        3
    );
    assert_eq!(
        r.county(CountyCode::parse("520325").unwrap())
            .unwrap()
            .visits,
        3
    );
}

#[test]
fn distinct_counts_roll_up_as_distinct_counts_never_sums() {
    // Two commissioners in two teams serve the same village and promote the
    // same technology, written differently.
    let mut a = log(1, Some(0), 520_324_001_001, "2026-04-01");
    a.items = vec![
        (ItemKind::Technology, "测土配方施肥".into()),
        (ItemKind::Cooperative, "正安县白茶专业合作社（一社）".into()),
    ];
    let mut b = log(2, Some(1), 520_324_001_001, "2026-04-01");
    b.items = vec![
        (ItemKind::Technology, " 测土配方施肥\u{3000}".into()),
        (ItemKind::Cooperative, "正安县白茶专业合作社(一社)".into()),
        (ItemKind::Enterprise, "正安县白茶专业合作社(一社)".into()),
    ];
    let r = compute(&year(2026), None, &[a, b], &[]);
    for f in [r.team(tid(0)).unwrap(), r.team(tid(1)).unwrap()] {
        assert_eq!(
            (f.villages_covered, f.technologies, f.cooperatives),
            (1, 1, 1)
        );
    }
    let county = r.county(CountyCode::parse("520324").unwrap()).unwrap();
    assert_eq!(county.villages_covered, 1);
    assert_eq!(county.technologies, 1);
    assert_eq!(county.cooperatives, 1);
    assert_eq!(
        county.enterprises, 1,
        "the same name as another kind counts there"
    );
    assert_eq!(county.service_days, 1);
    assert_eq!(county.person_days, 2);
    assert_eq!(r.total, *county);
}

#[test]
fn names_given_as_bytes_count_as_the_same_names_given_as_text() {
    // The server hands the engine each name as the bytes it stored; every
    // spelling must still come to the normal form the text would.
    let mut logs = Vec::new();
    for (i, name) in [
        "测土配方施肥",
        " 测土配方施肥\u{3000}",
        "绿色防控",
        "\u{3000}",
        "绿色防控",
    ]
    .into_iter()
    .enumerate()
    {
        let mut l = log(1 + i as u8 % 2, Some(0), 520_324_001_001, "2026-04-01");
        l.items = vec![(ItemKind::Technology, name.into())];
        logs.push(l);
    }
    let request = year(2026);
    let mut as_text = ReportBuilder::new(&request, None);
    let mut as_bytes = ReportBuilder::new(&request, None);
    for l in &logs {
        as_text.add_log(&l.fact, l.items.iter().map(|(k, n)| (*k, n.as_str())));
        as_bytes.add_log(&l.fact, l.items.iter().map(|(k, n)| (*k, n.as_bytes())));
    }
    let (as_text, as_bytes) = (as_text.finish(), as_bytes.finish());
    assert_eq!(as_text.total.technologies, 2, "an empty name is no name");
    assert_eq!(as_bytes, as_text);

    // Bytes that are not UTF-8 (never written by the server) are read as
    // their replacement characters, not dropped, and not a panic.
    let mut b = ReportBuilder::new(&request, None);
    b.add_log(&logs[0].fact, [(ItemKind::Technology, &b"\xff\xfe"[..])]);
    b.add_log(
        &logs[1].fact,
        [(ItemKind::Technology, "\u{fffd}\u{fffd}".as_bytes())],
    );
    assert_eq!(b.finish().total.technologies, 1);
}

#[test]
fn trainings_count_their_trainees_and_a_missing_number_counts_as_none() {
    let mut t1 = log(1, None, 520_324_001_001, "2026-04-01");
    t1.fact.activity = ActivityType::Training;
    t1.fact.trainees = Some(45);
    let mut t2 = t1.clone();
    t2.fact.trainees = None;
    let mut guidance = t1.clone();
    guidance.fact.activity = ActivityType::TechnicalGuidance;
    guidance.fact.trainees = Some(99); // not a training: not counted as trainees
    let mut demo = t1.clone();
    demo.fact.activity = ActivityType::Demonstration;
    let mut req = year(2026);
    req.training_sizes = vec![30, 50];
    let r = compute(&req, None, &[t1, t2, guidance, demo], &[]);
    assert_eq!(r.total.trainings, 2);
    assert_eq!(r.total.trainees, 45);
    assert_eq!(r.total.trainings_without_trainees, 1);
    assert_eq!(
        r.total.trainings_with_min_trainees,
        BTreeMap::from([(30, 1), (50, 0)])
    );
    assert_eq!(r.total.demonstrations, 1);
    assert_eq!(r.total.visits, 4);
    assert_eq!(r.total.photos_per_log, Some(2.0));
    // Logs without a team count for the commissioner and the county, and
    // make no team row.
    assert!(r.teams.is_empty());
    assert_eq!(r.commissioner(uid(1)).unwrap().visits, 4);
}

#[test]
fn an_empty_period_or_no_records_give_zeros_and_unknown_shares() {
    let logs = [log(1, Some(0), 520_324_001_001, "2026-04-01")];
    let backwards = StatsRequest::new(Period::new(day("2026-12-31"), day("2026-01-01")));
    let r = compute(
        &backwards,
        None,
        &logs,
        &[consultation(1, "2026-05-01 08:00:00", None)],
    );
    assert_eq!(r.total, Figures::default());
    assert!(r.counties.is_empty());
    let r = compute(&year(2026), None, &[], &[]);
    assert_eq!(r.total.approval_share, None);
    assert_eq!(r.total.photos_per_log, None);
    assert_eq!(r.total.median_minutes_to_first_answer, None);
}

#[test]
fn a_county_tag_filter_keeps_only_the_listed_counties_and_their_register() {
    let reg = register();
    let logs = [
        log(1, Some(0), 520_324_001_001, "2026-04-01"),
        log(1, Some(0), 520_325_100_001, "2026-04-02"),
    ];
    let mut req = year(2026);
    req.filter.counties = Some(BTreeSet::from([CountyCode::parse("520325").unwrap()]));
    let r = compute(&req, Some(&reg), &logs, &[]);
    assert_eq!(r.total.visits, 1);
    assert_eq!(
        r.counties
            .iter()
            .map(|c| c.key.to_string())
            .collect::<Vec<_>>(),
        ["520325"]
    );
    // The prefecture's register is only the listed county's.
    let p = r
        .prefecture(PrefectureCode::parse("5203").unwrap())
        .unwrap();
    assert_eq!(p.register_villages, Some(3));
    assert_eq!(p.register_villages_covered, Some(1));
}

#[test]
fn a_report_travels_as_messagepack_unchanged() {
    let reg = register();
    let mut l = log(1, Some(0), 520_324_001_001, "2026-04-01");
    l.items = vec![(ItemKind::Variety, "黔茶1号".into())];
    let cs = [consultation(
        1,
        "2026-05-01 10:00:00",
        Some("2026-05-01 10:21:30"),
    )];
    let mut req = year(2026);
    req.training_sizes = vec![30];
    let report = compute(&req, Some(&reg), &[l], &cs);
    let bytes = rmp_serde::to_vec_named(&report).unwrap();
    let back: Report = rmp_serde::from_slice(&bytes).unwrap();
    assert_eq!(back, report);
    let req_back: StatsRequest =
        rmp_serde::from_slice(&rmp_serde::to_vec_named(&req).unwrap()).unwrap();
    assert_eq!(req_back, req);
}
