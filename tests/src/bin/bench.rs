//! The benchmark of issue 5 (see `ketepai_tests::bench` and
//! `docs/benchmarks.md`):
//!
//! ```text
//! cargo run --release -p ketepai-tests --bin bench                   # full run, writes docs/benchmarks.md
//! cargo run --release -p ketepai-tests --bin bench -- --quick        # small sizes, prints the table
//! cargo run --release -p ketepai-tests --bin bench -- --only wire,lead
//! cargo run --release -p ketepai-tests --bin bench -- --only rollup   # statistics roll-up, rewrites its block
//! cargo run --release -p ketepai-tests --bin bench -- --only multi    # several instances on PostgreSQL, rewrites its block
//! cargo run --release -p ketepai-tests --bin bench -- --only rollup --rollup-keep kt_rollup   # loads once, then reuses
//! ```
//!
//! PostgreSQL ingest runs when `KETEPAI_TEST_DATABASE_URL` (or
//! `--postgres`) names a database: `eval "$(bash sync-server/scripts/ci-postgres.sh)"`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use ketepai_tests::bench::{self, Group, Options, Sizes};

/// Sync benchmarks: Ketepai against Automerge's per-document sync and a
/// gzip'd-JSON REST upload.
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Cli {
    /// Small sizes (seconds, not minutes); prints the table, writes nothing
    /// unless `--out` is given.
    #[arg(long)]
    quick: bool,
    /// Only these parts: wire, lead, ingest, device, rollup, multi (comma-separated).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Write the generated part of the benchmarks document here (default
    /// for a full run of every part: docs/benchmarks.md).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write nothing.
    #[arg(long, conflicts_with = "out")]
    no_write: bool,
    /// PostgreSQL for the ingest and roll-up runs.
    #[arg(long, env = "KETEPAI_TEST_DATABASE_URL")]
    postgres: Option<String>,
    /// Records of the team lead's year (default 50,000; 300 with --quick).
    #[arg(long)]
    lead_records: Option<usize>,
    /// Counties of the roll-up's province (default 100; 3 with --quick).
    #[arg(long)]
    rollup_counties: Option<usize>,
    /// Keep the roll-up's PostgreSQL rows in this schema (created when
    /// missing, never dropped) and reuse them on the next run with the same
    /// sizes instead of writing ten million rows again. Such a run writes
    /// no document unless `--out` is given; drop the schema when done
    /// (`DROP SCHEMA name CASCADE`).
    #[arg(long)]
    rollup_keep: Option<String>,
    /// Internal: run one team lead's sync as a child process.
    #[arg(long, hide = true)]
    child: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(spec) = &cli.child {
        return bench::lead::child_main(spec);
    }
    let groups = if cli.only.is_empty() {
        Group::ALL.to_vec()
    } else {
        cli.only
            .iter()
            .map(|g| Group::parse(g).with_context(|| format!("unknown part {g:?}")))
            .collect::<anyhow::Result<_>>()?
    };
    let mut sizes = if cli.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    if let Some(n) = cli.lead_records {
        sizes.lead.records = n;
    }
    if let Some(n) = cli.rollup_counties {
        sizes.rollup.counties = n.max(1);
    }
    let whole = !cli.quick
        && cli.only.is_empty()
        && cli.lead_records.is_none()
        && cli.rollup_counties.is_none();
    // The roll-up has its own block in the document: a full run of it alone
    // rewrites just that block.
    let rollup_alone = !cli.quick
        && groups == [Group::Rollup]
        && cli.rollup_counties.is_none()
        && cli.rollup_keep.is_none();
    // So have the multi-instance runs.
    let multi_alone = !cli.quick && groups == [Group::Multi];
    let out = if cli.no_write {
        None
    } else {
        cli.out.clone().or_else(|| {
            (whole || rollup_alone || multi_alone)
                .then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md"))
        })
    };
    let report = bench::run(&Options {
        sizes,
        quick: cli.quick,
        groups,
        out,
        postgres: cli.postgres.filter(|u| !u.is_empty()),
        exe: std::env::current_exe().context("locating this program")?,
        rollup_keep: cli.rollup_keep.clone(),
    })?;
    if report.options.groups.iter().any(|g| g.in_main_block()) {
        println!("{}", report.table());
    }
    if let Some(r) = &report.rollup {
        println!("{}", bench::rollup::markdown(r, &bench::stamp(&report)));
    }
    if let Some(runs) = &report.multi {
        println!("{}", bench::multi::markdown(runs, &bench::stamp(&report)));
    }
    for miss in report.misses() {
        println!("MISS: {miss}");
    }
    Ok(())
}
