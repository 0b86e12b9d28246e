//! The benchmark harness at its quick sizes, so that it cannot rot: every
//! part runs, the three implementations end up holding the same records,
//! and the figures are sane. No timing is asserted: speed is what the full
//! run measures (`cargo run --release -p ketepai-tests --bin bench`).

use std::path::PathBuf;

use ketepai_tests::bench::report::{BEGIN, END, ROLLUP_BEGIN, ROLLUP_END};
use ketepai_tests::bench::wire::{AUTOMERGE, KETEPAI, REST};
use ketepai_tests::bench::{self, Group, Options, Sizes};

#[test]
fn the_quick_benchmark_runs_and_its_figures_are_sane() {
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("benchmarks.md");
    std::fs::write(
        &doc,
        format!("# Benchmarks\n\nMethod, by hand.\n\n{BEGIN}\nold figures\n{END}\n\nAnalysis, by hand.\n"),
    )
    .unwrap();
    let postgres = std::env::var("KETEPAI_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let sizes = Sizes::quick();
    let report = bench::run(&Options {
        sizes,
        quick: true,
        groups: Group::ALL.to_vec(),
        out: Some(doc.clone()),
        postgres: postgres.clone(),
        exe: PathBuf::from(env!("CARGO_BIN_EXE_bench")),
        rollup_keep: None,
    })
    .expect("the quick benchmark runs");

    // Wire scenarios: the protocols behave as designed, and everyone
    // converged (the run fails otherwise; the digests say so again).
    let w = report.wire.as_ref().expect("wire figures");
    assert_eq!(w.digests[KETEPAI], w.digests[AUTOMERGE]);
    assert_eq!(w.digests[KETEPAI], w.digests[REST]);
    let made = sizes.wire.week_new + sizes.wire.batch + 1;
    assert_eq!(w.digests[KETEPAI].records, sizes.wire.held + made);
    assert_eq!(w.reconnect[KETEPAI].requests, 1, "a reconnect is one pull");
    assert_eq!(w.reconnect[REST].requests, 1);
    assert!(
        w.reconnect[AUTOMERGE].requests > sizes.wire.held as u64,
        "Automerge exchanges a message per document"
    );
    assert_eq!(w.week[KETEPAI].requests, 2, "a push and a pull");
    assert_eq!(
        w.week[REST].requests,
        (sizes.wire.week_new + sizes.wire.week_edits) as u64 + 1,
        "one upload per record and a download"
    );
    for which in [KETEPAI, AUTOMERGE, REST] {
        for cost in [w.reconnect[which], w.week[which], w.week_received[which]] {
            assert!(
                cost.up > 0 && cost.down > 0 && cost.connections > 0,
                "{cost:?}"
            );
            assert!(cost.critical <= cost.requests, "{cost:?}");
        }
        for per in [&w.new, &w.one, &w.edits] {
            for r in [per.up_ratio(which), per.down_ratio(which)] {
                assert!(r.is_finite() && r > 0.0, "ratio {r} of {}", per.count);
            }
        }
    }
    assert!(w.payload.changes == sizes.wire.batch && w.payload.as_sent > 0);

    // The team lead's first sync: each child holds the team's year.
    let l = report.lead.as_ref().expect("lead figures");
    for r in &l.reports {
        assert_eq!(r.digest, l.reports[KETEPAI].digest);
        assert_eq!(r.digest.records, sizes.lead.records);
        assert!(
            r.hwm_kib >= r.rss_before_kib && r.rss_before_kib > 0,
            "{r:?}"
        );
    }
    assert!(l.cost[KETEPAI].requests >= 1 && l.cost[KETEPAI].down > 0);
    // The lead's screens ran on the synced store: the team's year shows on
    // the dashboard and the queue holds what the lead did not approve.
    let s = l.reports[KETEPAI]
        .screens
        .expect("the lead's screens were timed");
    assert!(s.visits > 0 && s.members >= 2, "{s:?}");
    assert!(
        s.queue_total > 0 && (s.queue_total as usize) < sizes.lead.records,
        "{s:?}"
    );
    assert!(s.dashboard_year_ms.0 <= s.dashboard_year_ms.1 && s.queue_ms.0 <= s.queue_ms.1);
    assert!(
        report.table().contains("Team lead's dashboard") && report.table().contains("review queue"),
        "the table names both screens"
    );
    assert!(l.pages.as_sent > 0 && l.pages.deflated > 0 && l.pages.changes >= sizes.lead.records);

    // Ingest: every record taken, PostgreSQL only when configured.
    let ketepai_runs: Vec<_> = report
        .ingest
        .iter()
        .filter(|r| r.which == KETEPAI)
        .collect();
    assert_eq!(ketepai_runs.len(), 1 + usize::from(postgres.is_some()));
    for r in &report.ingest {
        assert!(
            r.records > 0 && r.rate() > 0.0 && r.p50_ms <= r.p99_ms,
            "{r:?}"
        );
    }
    assert_eq!(
        ketepai_runs[0].records,
        (sizes.ingest_devices * sizes.ingest_per_device) as u64
    );

    // The device.
    let s = report.saves.expect("saves");
    assert!(s.n == sizes.saves && s.p50_ms > 0.0 && s.p50_ms <= s.p99_ms);
    let p = report.first_page.expect("first page");
    assert_eq!(p.rows, 50, "the list's default page");

    // The roll-up: every projected record read, each answer counting what
    // was generated (the run checks that), the county the same alone and
    // among the province's.
    let r = report.rollup.as_ref().expect("roll-up figures");
    let rs = sizes.rollup;
    assert_eq!(
        r.backend,
        if postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    assert_eq!(
        r.projected.0 + r.projected.1,
        (rs.counties * rs.records) as u64
    );
    assert_eq!(r.county.visits, r.county_alone.visits);
    assert_eq!(r.county.rows, r.county_alone.rows);
    assert!(r.province.visits > r.county.visits && r.county.visits > 0);
    assert_eq!(r.province.rows.2, rs.counties, "a row per county");
    assert_eq!(r.province.rows.0, rs.counties * rs.commissioners);
    assert_eq!(r.province_divisions.visits, r.province.visits);
    assert_eq!(r.province_divisions.rows, (0, 0, rs.counties));
    for t in [
        &r.county_alone,
        &r.county,
        &r.province,
        &r.province_divisions,
    ] {
        assert_eq!(t.runs.len(), rs.runs);
        assert!(t.runs.iter().all(|s| *s > 0.0));
    }

    // Several instances (PostgreSQL only): every run stored what its
    // devices pushed (the run checks each push's outcomes).
    if postgres.is_some() {
        let runs = report.multi.as_ref().expect("multi-instance figures");
        assert_eq!(runs.len(), 6, "1, 2 and 4 instances, two layouts");
        for r in runs {
            assert_eq!(r.devices, r.instances * bench::multi::DEVICES_PER_INSTANCE);
            assert_eq!(r.records, (r.devices * sizes.multi_per_device) as u64);
            assert!(r.requests >= r.devices as u64);
        }
        let written = std::fs::read_to_string(&doc).unwrap();
        assert!(written.contains(bench::multi::BEGIN) && written.contains(bench::multi::END));
    } else {
        assert!(report.multi.is_none());
    }

    // One table, and the document's hand-written parts kept around it.
    let table = report.table();
    assert!(table.starts_with("| Figure | Ketepai | Automerge sync | REST gzip'd JSON |"));
    let written = std::fs::read_to_string(&doc).unwrap();
    assert!(written.contains("Method, by hand.") && written.contains("Analysis, by hand."));
    assert!(!written.contains("old figures"));
    assert!(written.contains(table.lines().nth(2).unwrap()));
    assert_eq!(written.matches(BEGIN).count(), 1);
    assert_eq!(written.matches(END).count(), 1);
    // The roll-up in its own block, after the main one.
    assert_eq!(written.matches(ROLLUP_BEGIN).count(), 1);
    assert_eq!(written.matches(ROLLUP_END).count(), 1);
    assert!(written.find(ROLLUP_BEGIN) > written.find(END));
    assert!(written.contains("The province's year"));
}
