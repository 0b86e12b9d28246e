//! Assessment schemes: the carried ones score as their files say, and a
//! malformed scheme is refused naming its line and field.

use app_core::domain::{ActivityType, UserId};
use app_core::stats::assess::{
    Bound, PROVINCIAL_POINTS_SCHEME, Rule, SEED_SCHEME, Scheme, SchemeError, SchemePeriod,
    builtin_schemes,
};
use app_core::stats::{Figure, Figures, Filter, LogEntry, LogFact, Period, compute};

use crate::figures::{log, uid};

#[test]
fn the_carried_schemes_parse_and_say_what_they_read() {
    let schemes = builtin_schemes();
    assert_eq!(schemes.len(), 2);
    let seed = Scheme::parse(SEED_SCHEME).unwrap();
    assert_eq!(seed.id, "seed-2021");
    assert_eq!(seed.period, SchemePeriod::CalendarYear);
    let figures: Vec<Figure> = seed.indicators.iter().map(|i| i.figure).collect();
    for wanted in [
        Figure::ServiceDays,
        Figure::VillagesCovered,
        Figure::Trainings,
        Figure::Trainees,
        Figure::Technologies,
        Figure::Varieties,
        Figure::Enterprises,
        Figure::Cooperatives,
        Figure::ConsultationsAnswered,
        Figure::MedianMinutesToFirstAnswer,
        Figure::ApprovalShare,
    ] {
        assert!(figures.contains(&wanted), "seed scheme lacks {wanted:?}");
    }
    // A hundred-point scheme: the most each indicator can give adds up to 100.
    let most: f64 = seed
        .indicators
        .iter()
        .map(|i| match &i.rule {
            Rule::PerUnit { .. } => i.cap.expect("per-unit indicators are capped"),
            Rule::Tiers { tiers } => tiers.iter().map(|t| t.points).fold(0.0, f64::max),
        })
        .sum();
    assert_eq!(most, 100.0);
    assert_eq!(seed.max_total, Some(100.0));

    let points = Scheme::parse(PROVINCIAL_POINTS_SCHEME).unwrap();
    assert_eq!(points.training_sizes(), [30]);
    assert_eq!(points.period_for(2026), Some(Period::year(2026).unwrap()));
}

#[test]
fn the_seed_scheme_scores_each_indicator_by_its_rule() {
    let seed = Scheme::parse(SEED_SCHEME).unwrap();
    let f = Figures {
        service_days: 70,                            // 0.25 × 70 = 17.5, capped at 15
        villages_covered: 7,                         // 7 × 1 = 7
        trainings: 12,                               // 12, capped at 10
        trainees: 250,                               // tier ≥ 200: 6
        technologies: 3,                             // 3 × 2 = 6
        varieties: 0,                                // 0
        enterprises: 5,                              // 10, capped at 8
        cooperatives: 2,                             // 2
        consultations_answered: 9,                   // 4.5
        median_minutes_to_first_answer: Some(150.5), // ≤ 1440: 3
        approval_share: Some(0.8),                   // 80 % ≥ 75: 6
        ..Figures::default()
    };
    let s = seed.score(uid(1), &f);
    let by_id = |id: &str| s.indicators.iter().find(|i| i.id == id).unwrap();
    assert_eq!(by_id("service_days").raw_points, 17.5);
    assert_eq!(by_id("service_days").points, 15.0);
    assert!(by_id("service_days").capped);
    assert_eq!(by_id("villages").score, 7.0);
    assert_eq!(by_id("trainings").score, 10.0);
    assert_eq!(by_id("trainees").score, 6.0);
    assert_eq!(by_id("technologies").score, 6.0);
    assert_eq!(by_id("varieties").score, 0.0);
    assert_eq!(by_id("enterprises").score, 8.0);
    assert_eq!(by_id("cooperatives").score, 2.0);
    assert_eq!(by_id("consultations_answered").score, 4.5);
    assert_eq!(by_id("answer_speed").value, Some(150.5));
    assert_eq!(by_id("answer_speed").score, 3.0);
    assert_eq!(by_id("approval_share").value, Some(80.0));
    assert_eq!(by_id("approval_share").score, 6.0);
    assert_eq!(
        s.total,
        15.0 + 7.0 + 10.0 + 6.0 + 6.0 + 8.0 + 2.0 + 4.5 + 3.0 + 6.0
    );
    assert!(!s.capped);

    // Nothing answered: the speed is unknown and scores nothing.
    let idle = seed.score(uid(2), &Figures::default());
    let speed = idle
        .indicators
        .iter()
        .find(|i| i.id == "answer_speed")
        .unwrap();
    assert_eq!((speed.value, speed.score), (None, 0.0));
    assert_eq!(idle.total, 0.0);
}

#[test]
fn the_points_sheet_counts_only_trainings_of_thirty_and_scores_the_roster() {
    let scheme = Scheme::parse(PROVINCIAL_POINTS_SCHEME).unwrap();
    let training = |date: &str, n: u32| {
        let mut l = log(1, Some(0), 520_324_001_001, date);
        l.fact.activity = ActivityType::Training;
        l.fact.trainees = Some(n);
        l
    };
    let demo = |date: &str| {
        let mut l = log(1, Some(0), 520_324_001_001, date);
        l.fact.activity = ActivityType::Demonstration;
        l
    };
    let logs: Vec<LogEntry> = vec![
        training("2026-03-01", 30),
        training("2026-03-02", 29),
        training("2026-03-03", 45),
        demo("2026-04-01"),
        demo("2026-04-02"),
        log(1, Some(0), 520_324_001_002, "2026-04-02"),
        log(2, Some(0), 520_324_001_002, "2026-04-02"),
    ];
    let period = scheme.period_for(2026).unwrap();
    let req = scheme.stats_request(period, Filter::default());
    assert_eq!(req.training_sizes, [30]);
    let report = compute(&req, None, &logs, &[]);
    let idle: UserId = uid(9);
    let sheet = scheme.score_report(&report, &[idle, uid(1)]);
    assert_eq!(
        sheet
            .scores
            .iter()
            .map(|s| s.commissioner)
            .collect::<Vec<_>>(),
        [uid(1), uid(2), idle],
        "highest total first"
    );
    let first = &sheet.scores[0];
    let by_id = |id: &str| first.indicators.iter().find(|i| i.id == id).unwrap();
    // 5 days (two logs on 2 April) × 1; 2 trainings of ≥ 30 × 3; 2
    // demonstrations × 5; 104 trainees: no bonus.
    assert_eq!(by_id("service_days").score, 5.0);
    assert_eq!(by_id("large_trainings").value, Some(2.0));
    assert_eq!(by_id("large_trainings").score, 6.0);
    assert_eq!(by_id("demonstrations").score, 10.0);
    assert_eq!(by_id("trainee_bonus").value, Some(104.0));
    assert_eq!(by_id("trainee_bonus").score, 0.0);
    assert_eq!(first.total, 21.0);
    assert_eq!(sheet.scores[1].total, 1.0);
    assert_eq!(sheet.scores[2].total, 0.0);
    assert_eq!(sheet.indicators.len(), 4);
}

#[test]
fn weights_steps_and_a_total_cap_apply_in_that_order() {
    let scheme = Scheme::parse(
        r#"
id = "w"
name = "权重测试"
period = { from = 2026-01-01, to = 2026-06-30 }
max_total = 12

[[indicator]]
id = "trainees"
figure = "trainees"
points_per_unit = 1
per = 100          # 1 point per whole 100 人次
weight = 2

[[indicator]]
id = "days"
figure = "service_days"
points_per_unit = 0.5
above = 10         # only days beyond the tenth
cap = 8
weight = 0.5
"#,
    )
    .unwrap();
    assert_eq!(
        scheme.period_for(1999),
        Some(Period::new(
            "2026-01-01".parse().unwrap(),
            "2026-06-30".parse().unwrap()
        ))
    );
    let f = Figures {
        trainees: 250,
        service_days: 40,
        ..Figures::default()
    };
    let s = scheme.score(uid(1), &f);
    // ⌊250 / 100⌋ × 1 × 2 = 4; (40 − 10) × 0.5 = 15 → cap 8 → × 0.5 = 4.
    assert_eq!(s.indicators[0].score, 4.0);
    assert_eq!(s.indicators[1].raw_points, 15.0);
    assert_eq!(s.indicators[1].points, 8.0);
    assert_eq!(s.indicators[1].score, 4.0);
    assert_eq!(s.total, 8.0);
    let more = Figures {
        trainees: 1000,
        service_days: 40,
        ..Figures::default()
    };
    let s = scheme.score(uid(1), &more);
    assert_eq!(s.total, 12.0, "20 + 4 capped at 12");
    assert!(s.capped);
    // Tiers for "less is better".
    let t = Rule::Tiers {
        tiers: vec![
            app_core::stats::assess::Tier {
                bound: Bound::AtMost(60.0),
                points: 5.0,
            },
            app_core::stats::assess::Tier {
                bound: Bound::AtMost(600.0),
                points: 2.0,
            },
        ],
    };
    assert_eq!(t.points(45.0), 5.0);
    assert_eq!(t.points(60.0), 5.0);
    assert_eq!(t.points(61.0), 2.0);
    assert_eq!(t.points(601.0), 0.0);
}

const BASE: &str = r#"id = "t"
name = "测试"
period = "calendar_year"

[[indicator]]
id = "days"
figure = "service_days"
points_per_unit = 1
cap = 10
"#;

fn refused(src: &str) -> SchemeError {
    match Scheme::parse(src) {
        Ok(s) => panic!("accepted a malformed scheme: {s:?}\n{src}"),
        Err(e) => e,
    }
}

fn with(line: &str, replacement: &str) -> String {
    assert!(BASE.contains(line), "{line}");
    BASE.replacen(line, replacement, 1)
}

#[test]
fn a_malformed_scheme_is_refused_with_its_line_and_field() {
    assert!(Scheme::parse(BASE).is_ok());
    let cases: Vec<(String, usize, &str, &str)> = vec![
        (
            with("figure = \"service_days\"", "figure = \"service_day\""),
            7,
            "indicator[1].figure",
            "scheme_unknown_figure",
        ),
        (
            with("cap = 10", "cap = -5"),
            9,
            "indicator[1].cap",
            "scheme_negative",
        ),
        (
            with("cap = 10", "capp = 10"),
            9,
            "indicator[1].capp",
            "scheme_syntax",
        ),
        (
            with("cap = 10", "cap = \"ten\""),
            9,
            "indicator[1].cap",
            "scheme_syntax",
        ),
        (
            with("cap = 10", "cap = nan"),
            9,
            "indicator[1].cap",
            "scheme_not_finite",
        ),
        (
            with("points_per_unit = 1", "points_per_unit ="),
            8,
            "indicator[1].points_per_unit",
            "scheme_syntax",
        ),
        (
            with(
                "cap = 10",
                "cap = 10\ntiers = [{ at_least = 1, points = 1 }]",
            ),
            8,
            "indicator[1].points_per_unit",
            "scheme_rule",
        ),
        (
            with("period = \"calendar_year\"", "period = \"fiscal_year\""),
            3,
            "period",
            "scheme_unknown_period",
        ),
        (
            with(
                "period = \"calendar_year\"",
                "period = { from = 2026-12-31, to = 2026-01-01 }",
            ),
            3,
            "period",
            "scheme_period_order",
        ),
        (
            with(
                "period = \"calendar_year\"",
                "period = { from = \"2026-13-01\", to = 2026-12-31 }",
            ),
            3,
            "period.from",
            "scheme_not_a_date",
        ),
        (
            format!(
                "{BASE}\n[[indicator]]\nid = \"days\"\nfigure = \"visits\"\npoints_per_unit = 1\n"
            ),
            12,
            "indicator[2].id",
            "scheme_duplicate_id",
        ),
        (
            format!(
                "{BASE}\n[[indicator]]\nid = \"speed\"\nfigure = \"median_minutes_to_first_answer\"\ntiers = [\n  {{ at_most = 60, points = 5 }},\n  {{ at_least = 600, points = 1 }},\n]\n"
            ),
            16,
            "indicator[2].tiers[2]",
            "scheme_mixed_tiers",
        ),
        (
            format!(
                "{BASE}\n[[indicator]]\nid = \"trainees\"\nfigure = \"trainees\"\ntiers = [\n  {{ at_least = -400, points = 10 }},\n]\n"
            ),
            15,
            "indicator[2].tiers[1].at_least",
            "scheme_negative",
        ),
        (
            format!(
                "{BASE}\n[[indicator]]\nid = \"trainees\"\nfigure = \"trainees\"\ntiers = [\n  {{ at_least = 400, pionts = 10 }},\n]\n"
            ),
            15,
            "indicator[2].tiers.pionts",
            "scheme_syntax",
        ),
        (
            format!(
                "{BASE}\n[[indicator]]\nid = \"big\"\nfigure = \"trainees\"\nmin_trainees = 30\npoints_per_unit = 1\n"
            ),
            14,
            "indicator[2].min_trainees",
            "scheme_min_trainees",
        ),
        (
            with("cap = 10", "cap = 10\nper = 0"),
            10,
            "indicator[1].per",
            "scheme_not_positive",
        ),
        (
            with("name = \"测试\"", "name = \"  \""),
            2,
            "name",
            "scheme_empty",
        ),
    ];
    for (src, line, field, code) in cases {
        let e = refused(&src);
        assert_eq!(
            (e.line, e.field.as_str(), e.code()),
            (line, field, code),
            "{e}\n--- scheme:\n{src}"
        );
        let text = e.to_string();
        assert!(text.contains(&format!("line {line}")), "{text}");
        assert!(text.contains(field), "{text}");
    }

    // A required key missing: the reader names it.
    let e = refused(&BASE.replace("figure = \"service_days\"\n", ""));
    assert_eq!(e.code(), "scheme_syntax");
    assert!(e.to_string().contains("figure"), "{e}");
    assert!(e.field.starts_with("indicator[1]"), "{e}");

    // No indicators at all.
    let e = refused("id = \"t\"\nname = \"测试\"\nperiod = \"calendar_year\"\n");
    assert_eq!(e.code(), "scheme_no_indicators");
}

#[test]
fn a_scheme_reads_shares_in_percent() {
    let scheme = Scheme::parse(
        "id = \"s\"\nname = \"通过率\"\nperiod = \"calendar_year\"\n\n[[indicator]]\nid = \"ok\"\nfigure = \"approval_share\"\ntiers = [{ at_least = 90, points = 10 }]\n",
    )
    .unwrap();
    let mut f = Figures {
        approval_share: Some(0.9),
        ..Figures::default()
    };
    assert_eq!(scheme.score(uid(1), &f).total, 10.0);
    f.approval_share = Some(0.89);
    assert_eq!(scheme.score(uid(1), &f).total, 0.0);
    // The log fact type is what the server feeds; a scheme needs nothing else.
    let _: fn(&LogFact) -> bool = LogFact::counts;
}
