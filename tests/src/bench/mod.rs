//! The benchmark of issue 5: what sync costs on the wire, on the server and
//! on the device, side by side with Automerge's own per-document sync and
//! a plain gzip'd-JSON REST upload. Run it with
//!
//! ```text
//! cargo run --release -p ketepai-tests --bin bench            # full, writes docs/benchmarks.md
//! cargo run --release -p ketepai-tests --bin bench -- --quick # small sizes, prints only
//! ```
//!
//! It prints one table and (full run) writes it, with the run's details,
//! between the markers of `docs/benchmarks.md`, whose hand-written part
//! explains the method and the misses.
//!
//! Layout: [`wire`] runs the device scenarios through the three
//! implementations ([`ketepai`], [`am`], [`rest`]) behind counting
//! [`relay`]s; [`lead`] runs a team lead's first sync in child processes;
//! [`ingest`] loads the servers; [`local`] times the device store;
//! [`corpus`] makes the records; [`link`] is the 2G/3G model; [`report`]
//! renders the table. [`rollup`] (issue 13) times the server's statistics
//! of a county's and a province's year; it has its own table and its own
//! generated block in the document, so `--only rollup` rewrites just that.
//!
//! Servers and relays run on a runtime of their own, so that a client busy
//! with Automerge or SQLite never stalls the server it talks to.

#[allow(
    clippy::disallowed_types,
    reason = "a baseline of the benchmark keeps its own SQLite, as the system it stands for would"
)]
pub mod am;
pub mod corpus;
pub mod http;
pub mod ingest;
pub mod ketepai;
pub mod lead;
pub mod link;
pub mod local;
pub mod multi;
pub mod relay;
pub mod report;
#[allow(
    clippy::disallowed_types,
    reason = "a baseline of the benchmark keeps its own SQLite, as the system it stands for would"
)]
pub mod rest;
pub mod rollup;
pub mod wire;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use app_core::store::RegisterSlice;

use ingest::Ingest;
use lead::{LeadFigures, LeadSizes};
use link::{LINK_2G, LINK_3G};
use local::{FirstPage, Saves};
use wire::{AUTOMERGE, WireFigures, WireSizes};

/// Parts of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    /// Per-record bytes, the week offline, the reconnect.
    Wire,
    /// The team lead's first sync and its memory.
    Lead,
    /// Server ingest.
    Ingest,
    /// Device save latency and first page.
    Device,
    /// The statistics roll-up of a county and a province (issue 13).
    Rollup,
    /// Several server instances on one PostgreSQL database (issue 14).
    Multi,
}

impl Group {
    /// Every group.
    pub const ALL: [Group; 6] = [
        Group::Wire,
        Group::Lead,
        Group::Ingest,
        Group::Device,
        Group::Rollup,
        Group::Multi,
    ];

    /// Whether the group writes the main generated block (the roll-up and
    /// the multi-instance runs have blocks of their own).
    pub fn in_main_block(self) -> bool {
        !matches!(self, Group::Rollup | Group::Multi)
    }

    /// Parses a group's name.
    pub fn parse(s: &str) -> Option<Group> {
        Some(match s {
            "wire" => Group::Wire,
            "lead" => Group::Lead,
            "ingest" => Group::Ingest,
            "device" => Group::Device,
            "rollup" => Group::Rollup,
            "multi" => Group::Multi,
            _ => return None,
        })
    }
}

/// How large each part is.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// The wire scenarios.
    pub wire: WireSizes,
    /// The team lead's first sync.
    pub lead: LeadSizes,
    /// Devices pushing at once in the ingest runs.
    pub ingest_devices: usize,
    /// Records each pushes to Ketepai's server.
    pub ingest_per_device: usize,
    /// Records each pushes to a baseline server (one request or
    /// conversation per record, so fewer suffice for a rate).
    pub baseline_per_device: usize,
    /// Saves timed on the device.
    pub saves: usize,
    /// Records in the store whose first page is listed.
    pub page_records: usize,
    /// Times the store is opened and listed.
    pub page_runs: usize,
    /// The statistics roll-up.
    pub rollup: rollup::RollupSizes,
    /// Records each device pushes in the multi-instance runs.
    pub multi_per_device: usize,
}

impl Sizes {
    /// The sizes of issue 5.
    pub fn full() -> Sizes {
        Sizes {
            wire: WireSizes {
                held: 2_000,
                members: 10,
                week_new: 35,
                week_edits: 10,
                batch: 35,
            },
            lead: LeadSizes {
                records: 50_000,
                authors: 29,
            },
            ingest_devices: 4,
            ingest_per_device: 5_000,
            baseline_per_device: 250,
            saves: 500,
            page_records: 5_000,
            page_runs: 5,
            rollup: rollup::RollupSizes::full(),
            multi_per_device: 1_000,
        }
    }

    /// Small sizes that still exercise everything (the CI test).
    pub fn quick() -> Sizes {
        Sizes {
            wire: WireSizes {
                held: 120,
                members: 4,
                week_new: 35,
                week_edits: 10,
                batch: 10,
            },
            lead: LeadSizes {
                records: 300,
                authors: 29,
            },
            ingest_devices: 2,
            ingest_per_device: 100,
            baseline_per_device: 20,
            saves: 30,
            page_records: 500,
            page_runs: 3,
            rollup: rollup::RollupSizes::quick(),
            multi_per_device: 50,
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Sizes.
    pub sizes: Sizes,
    /// Whether these are the quick sizes (said in the output).
    pub quick: bool,
    /// Parts to run.
    pub groups: Vec<Group>,
    /// Where to write the generated part of the benchmarks document.
    pub out: Option<PathBuf>,
    /// PostgreSQL for the ingest run (`KETEPAI_TEST_DATABASE_URL`); without
    /// it, that run is skipped.
    pub postgres: Option<String>,
    /// This benchmark's binary, started as a child for the lead's sync.
    pub exe: PathBuf,
    /// The roll-up's PostgreSQL schema to load once and reuse
    /// (`--rollup-keep`); a fresh one dropped after the run when `None`.
    pub rollup_keep: Option<String>,
}

/// Everything a run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// The options it ran with.
    pub options: Options,
    /// The wire scenarios.
    pub wire: Option<WireFigures>,
    /// The team lead's first sync.
    pub lead: Option<LeadFigures>,
    /// Ingest runs.
    pub ingest: Vec<Ingest>,
    /// Device saves.
    pub saves: Option<Saves>,
    /// Device first page.
    pub first_page: Option<FirstPage>,
    /// The statistics roll-up.
    pub rollup: Option<rollup::Rollup>,
    /// The multi-instance runs (PostgreSQL only).
    pub multi: Option<Vec<multi::MultiRun>>,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// The machine's one-minute load average at the start and at the end
    /// (other work on the machine slows the timed figures).
    pub load: (f64, f64),
    /// Share of CPU time the hypervisor gave to other machines during the
    /// run (`steal` in `/proc/stat`), if known.
    pub steal: Option<f64>,
}

impl Report {
    /// The table as Markdown.
    pub fn table(&self) -> String {
        report::table(&report::rows(self))
    }

    /// Missed targets, one line each.
    pub fn misses(&self) -> Vec<String> {
        let mut out = report::misses(&report::rows(self));
        if let Some(r) = &self.rollup {
            out.extend(rollup::misses(r));
        }
        out
    }
}

/// CPU time stolen by the hypervisor and all CPU time so far, in ticks
/// (`/proc/stat`).
pub fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .take(8)
        .filter_map(|x| x.parse().ok())
        .collect();
    (v.len() == 8).then(|| (v[7], v.iter().sum()))
}

/// The one-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

fn progress(started: Instant, what: &str) {
    eprintln!("bench [{:>6.1}s] {what}", started.elapsed().as_secs_f64());
}

/// Runs the benchmark and, if `options.out` is set, writes the document.
pub fn run(options: &Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    let load_before = load_average();
    let ticks_before = cpu_ticks();
    if load_before > 0.5 {
        eprintln!(
            "bench: warning: load average {load_before:.2} before the run; other work on \
             this machine will slow the timed figures (bytes are not affected)"
        );
    }
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-server")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    let rt = server_rt.handle().clone();
    let sizes = options.sizes;
    let wants = |g: Group| options.groups.contains(&g);
    let result = client_rt.block_on(async {
        let rows = if options.groups.iter().any(|g| g.in_main_block()) {
            progress(started, "reading the register of 正安县");
            tokio::task::spawn_blocking(ketepai::register_rows).await??
        } else {
            Vec::new()
        };
        let mut report = Report {
            options: options.clone(),
            wire: None,
            lead: None,
            ingest: Vec::new(),
            saves: None,
            first_page: None,
            rollup: None,
            multi: None,
            seconds: 0.0,
            load: (load_before, 0.0),
            steal: None,
        };
        if wants(Group::Wire) {
            progress(started, "wire scenarios (three implementations)");
            report.wire = Some(wire::run(&rt, &rows, sizes.wire).await?);
        }
        if wants(Group::Lead) {
            progress(
                started,
                &format!("team lead's first sync of {} records", sizes.lead.records),
            );
            report.lead = Some(lead::run(&rt, &rows, sizes.lead, &options.exe).await?);
        }
        if wants(Group::Ingest) {
            progress(started, "server ingest: Ketepai on SQLite");
            let (run, batch) = ingest::ketepai(
                &rt,
                &rows,
                None,
                sizes.ingest_devices,
                sizes.ingest_per_device,
            )
            .await?;
            report.ingest.push(run);
            progress(started, "server ingest: Automerge sync and REST on SQLite");
            report.ingest.push(
                ingest::automerge(&rt, &batch, sizes.ingest_devices, sizes.baseline_per_device)
                    .await?,
            );
            report.ingest.push(
                ingest::rest(&rt, &batch, sizes.ingest_devices, sizes.baseline_per_device).await?,
            );
            drop(batch);
            if let Some(url) = &options.postgres {
                progress(started, "server ingest: Ketepai on PostgreSQL");
                let (run, _) = ingest::ketepai(
                    &rt,
                    &rows,
                    Some(url),
                    sizes.ingest_devices,
                    sizes.ingest_per_device,
                )
                .await?;
                report.ingest.push(run);
            } else {
                progress(
                    started,
                    "server ingest on PostgreSQL skipped: KETEPAI_TEST_DATABASE_URL is not set",
                );
            }
        }
        if wants(Group::Device) {
            progress(started, "device: durable saves and the first page");
            let slice = county_slice(&rt, &rows).await?;
            let (saves, page) = tokio::task::spawn_blocking(move || {
                anyhow::Ok((
                    local::saves(&slice, sizes.saves)?,
                    local::first_page(&slice, sizes.page_records, sizes.page_runs)?,
                ))
            })
            .await??;
            report.saves = Some(saves);
            report.first_page = Some(page);
        }
        if wants(Group::Rollup) {
            let at = |what: &str| progress(started, what);
            report.rollup = Some(
                rollup::run(
                    &rt,
                    options.postgres.as_deref(),
                    sizes.rollup,
                    options.rollup_keep.as_deref(),
                    at,
                )
                .await?,
            );
        }
        if wants(Group::Multi) {
            if let Some(url) = &options.postgres {
                let at = |what: &str| progress(started, what);
                report.multi = Some(multi::run(&rt, url, sizes.multi_per_device, at).await?);
            } else {
                progress(
                    started,
                    "multi-instance runs skipped: KETEPAI_TEST_DATABASE_URL is not set",
                );
            }
        }
        anyhow::Ok(report)
    });
    drop(client_rt);
    drop(server_rt);
    let mut report = result?;
    report.seconds = started.elapsed().as_secs_f64();
    report.load.1 = load_average();
    report.steal = match (ticks_before, cpu_ticks()) {
        (Some((s0, t0)), Some((s1, t1))) if t1 > t0 => Some((s1 - s0) as f64 / (t1 - t0) as f64),
        _ => None,
    };
    progress(started, "done");
    if let Some(path) = &options.out {
        if options.groups.iter().any(|g| g.in_main_block()) {
            report::write_doc(path, &generated(&report))?;
        }
        if let Some(runs) = &report.multi {
            report::write_block(
                path,
                multi::BEGIN,
                multi::END,
                &multi::markdown(runs, &stamp(&report)),
            )?;
        }
        if let Some(r) = &report.rollup {
            report::write_block(
                path,
                report::ROLLUP_BEGIN,
                report::ROLLUP_END,
                &rollup::markdown(r, &stamp(&report)),
            )?;
        }
        eprintln!("bench: wrote {}", path.display());
    }
    Ok(report)
}

/// The county slice, from a short-lived server (as a device receives it).
async fn county_slice(
    rt: &tokio::runtime::Handle,
    rows: &[sync_server::store::DivisionImport],
) -> anyhow::Result<RegisterSlice> {
    let server = ketepai::KetepaiServer::start(rt, None, rows).await?;
    let slice = server.slice().await?;
    server.stop().await?;
    Ok(slice)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(String::new(), |kib| {
            format!(", {:.0} GB RAM", kib / 1024.0 / 1024.0)
        });
    format!("{cpu}, {cores} cores{mem}")
}

fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The generated part of `docs/benchmarks.md`: when and where it ran, the
/// table, the misses and the details behind some cells.
pub fn generated(report: &Report) -> String {
    let mut md = stamp(report);
    md.push_str(
        " Other work on the machine slows the timed figures; the byte counts do not move.\n\n",
    );
    md.push_str(&report.table());
    let misses = report::misses(&report::rows(report));
    md.push('\n');
    if misses.is_empty() {
        md.push_str("Every target measured in this run is met.\n");
    } else {
        md.push_str("Targets missed in this run:\n\n");
        for m in &misses {
            let _ = writeln!(md, "- {m}");
        }
    }
    md.push_str("\nDetails of this run:\n\n");
    if let Some(w) = &report.wire {
        let k = &w.week[wire::KETEPAI];
        let _ = writeln!(
            md,
            "- The week offline's records as gzip'd JSON come to {}; Ketepai's upload \
             of them was {} ({:.2}×). A reconnect answered `204` costs Ketepai {} up \
             and {} down.",
            report::bytes(w.week_gzip_json as f64),
            report::bytes(k.up as f64),
            k.up as f64 / w.week_gzip_json as f64,
            report::bytes(w.reconnect[wire::KETEPAI].up as f64),
            report::bytes(w.reconnect[wire::KETEPAI].down as f64),
        );
        let (p, gz) = (&w.payload, w.new.gzip_json as f64);
        let _ = writeln!(
            md,
            "- The {} new records' push body (MessagePack + zstd, no headers) is {} as the \
             engine sends it ({:.2}× their gzip'd JSON), each change uncompressed. Were \
             each change DEFLATEd on its own (Automerge's `Change::bytes`, what the \
             engine sent before; it hides what the records share from zstd) it would \
             be {} ({:.2}×).",
            p.changes,
            report::bytes(p.as_sent as f64),
            p.as_sent as f64 / gz,
            report::bytes(p.deflated as f64),
            p.deflated as f64 / gz,
        );
        let a = &w.week[AUTOMERGE];
        let _ = writeln!(
            md,
            "- Automerge's documents are independent, so a client could pipeline their \
             exchanges (as automerge-repo does over a WebSocket): the week offline would \
             then take {} round trips on its critical path instead of {}, about {} on 2G \
             with the same bytes; the reconnect {} instead of {}.",
            a.critical + a.connections,
            a.round_trips(),
            report::secs(
                LINK_2G
                    .model(a.critical + a.connections, a.bytes())
                    .as_secs_f64()
            ),
            w.reconnect[AUTOMERGE].critical + w.reconnect[AUTOMERGE].connections,
            w.reconnect[AUTOMERGE].round_trips(),
        );
        let _ = writeln!(
            md,
            "- All {} records held by the author's and a teammate's devices were equal \
             across the three implementations at the end (SHA-256 {}…).",
            report::count(w.digests[0].records as f64),
            &w.digests[0].sha256[..16]
        );
    }
    if let Some(l) = &report.lead {
        let _ = writeln!(
            md,
            "- The team's year is {} records made of {} changes (creations, one edit in \
             five, one log in three approved by the lead); Ketepai's server took it from \
             {} devices in {} while seeding. Each implementation's lead device ended \
             with exactly the team's records.",
            report::count(l.sizes.records as f64),
            report::count(l.changes as f64),
            l.sizes.authors + 1,
            report::secs(l.seed_seconds)
        );
        for (i, r) in l.reports.iter().enumerate() {
            let c = &l.cost[i];
            let _ = writeln!(
                md,
                "- Lead's first sync, {}: {} request{}, {} connection{}, {} down, {} up; \
                 {} on loopback; resident memory {} before the sync, peak {}.",
                wire::IMPLS[i],
                report::count(c.requests as f64),
                if c.requests == 1 { "" } else { "s" },
                c.connections,
                if c.connections == 1 { "" } else { "s" },
                report::bytes(c.down as f64),
                report::bytes(c.up as f64),
                report::secs(r.millis as f64 / 1000.0),
                report::bytes(r.rss_before_kib as f64 * 1024.0),
                report::bytes(r.hwm_kib as f64 * 1024.0),
            );
        }
        let p = &l.pages;
        let _ = writeln!(
            md,
            "- Ketepai's paged pull bodies for the year ({} changes in pages of 2,000, no \
             headers; what an older device pulls) come to {} as the server sends them, each change uncompressed; \
             with each change DEFLATEd on its own they would be {} ({:.2}×), about {} \
             on 2G instead of {}. The server's `changes` table holds {} of change \
             bytes for the year ({} if each were DEFLATEd).",
            report::count(p.changes as f64),
            report::bytes(p.as_sent as f64),
            report::bytes(p.deflated as f64),
            p.deflated as f64 / p.as_sent as f64,
            report::secs(
                LINK_2G
                    .model(
                        l.cost[wire::KETEPAI].round_trips(),
                        l.cost[wire::KETEPAI].bytes().saturating_sub(p.as_sent) + p.deflated
                    )
                    .as_secs_f64()
            ),
            report::secs(LINK_2G.time(&l.cost[wire::KETEPAI]).as_secs_f64()),
            report::bytes(p.raw_changes as f64),
            report::bytes(p.deflated_changes as f64),
        );
        if let Some(s) = &l.reports[wire::KETEPAI].screens {
            let _ = writeln!(
                md,
                "- The lead's screens on the store the first sync filled (app-core calls, \
                 warm, {} runs each; median / slowest): the 团队 dashboard over the year \
                 {:.0} / {:.0} ms ({} member rows, {} visits counted), over its last month \
                 {:.0} / {:.0} ms; the 审核 queue's first 100 of {} logs waiting with the \
                 count {:.1} / {:.1} ms.",
                lead::SCREEN_RUNS,
                s.dashboard_year_ms.0,
                s.dashboard_year_ms.1,
                s.members,
                report::count(f64::from(s.visits)),
                s.dashboard_month_ms.0,
                s.dashboard_month_ms.1,
                report::count(s.queue_total as f64),
                s.queue_ms.0,
                s.queue_ms.1,
            );
        }
        let a = &l.cost[AUTOMERGE];
        let _ = writeln!(
            md,
            "- Automerge pipelined, the lead's first sync: {} round trips on the \
             critical path, about {} on 2G and {} on 3G (bytes unchanged).",
            a.critical + a.connections,
            report::secs(
                LINK_2G
                    .model(a.critical + a.connections, a.bytes())
                    .as_secs_f64()
            ),
            report::secs(
                LINK_3G
                    .model(a.critical + a.connections, a.bytes())
                    .as_secs_f64()
            ),
        );
    }
    for r in &report.ingest {
        let _ = writeln!(
            md,
            "- Ingest, {} on {}: {} records from {} devices in {} ({} requests, {:.1} \
             records per request; latency per {} p50 {:.1} ms, p99 {:.1} ms).",
            wire::IMPLS[r.which],
            r.backend,
            report::count(r.records as f64),
            r.devices,
            report::secs(r.seconds),
            report::count(r.requests as f64),
            r.per_request(),
            r.sample,
            r.p50_ms,
            r.p99_ms
        );
        if let Some((decode, plan)) = r.plan_us {
            let _ = writeln!(
                md,
                "  Measured apart on one thread with the same pushes (no I/O, best of \
                 three): decoding takes {decode:.0} µs of CPU per record and deciding, \
                 `sync::plan`, {plan:.0} µs, both before the write transaction, so pushes \
                 do this in parallel; on one core it alone would hold ingest to about {} \
                 records/s.",
                report::count(1e6 / plan)
            );
        }
    }
    if let Some(s) = &report.saves {
        let _ = writeln!(
            md,
            "- Durable saves: {} saves, p50 {:.2} ms, p99 {:.2} ms, slowest {:.2} ms.",
            s.n, s.p50_ms, s.p99_ms, s.max_ms
        );
    }
    if let Some(p) = &report.first_page {
        let _ = writeln!(
            md,
            "- First page: {} rows from {} records; open + list median {:.1} ms, worst \
             {:.1} ms (of which opening {:.1} ms).",
            p.rows,
            report::count(p.records as f64),
            p.median_ms,
            p.worst_ms,
            p.worst_open_ms
        );
    }
    md
}

/// When and where the run was, and how loaded the machine was (one
/// paragraph, not ended with a line break).
pub fn stamp(report: &Report) -> String {
    format!(
        "Run {} on {}; commit {} (plus uncommitted changes, if any); {} sizes; \
         {} in all; load average {:.2} at the start and {:.2} at the end; CPU time \
         stolen by the hypervisor during the run {}.",
        utc_now(),
        machine(),
        commit(),
        if report.options.quick {
            "quick"
        } else {
            "full"
        },
        report::secs(report.seconds),
        report.load.0,
        report.load.1,
        report
            .steal
            .map_or("unknown".to_string(), |f| format!("{:.0}%", f * 100.0)),
    )
}

/// The time now, UTC, to the minute (the run's stamp; not domain time).
fn utc_now() -> String {
    let now = app_core::Clock::now(&app_core::clock::SystemClock);
    chrono::DateTime::from_timestamp_millis(now.as_millis()).map_or_else(
        || "unknown time".into(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}
