//! A team lead's first sync of a whole team's year, in each
//! implementation, each in a child process of its own so that its peak
//! memory (`VmHWM` from `/proc/self/status`) is the device's alone.
//!
//! The parent seeds a 30-member team's year on the three servers, then
//! runs this benchmark's own binary with `--child <spec>` once per
//! implementation. The child starts from an empty device (Ketepai: a real
//! store and sync engine, enrolled for real; the baselines: their client
//! files), syncs once through the parent's relay, and prints a
//! [`ChildReport`] as one line of JSON: the peak memory, the requests, and
//! the digest of the records it then holds, which must equal the corpus's.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use app_core::clock::SystemClock;
use app_core::domain::{DocId, Role, TeamId};
use app_core::store::Store;
use app_core::sync::protocol::EnrolRequest;
use app_core::sync::{self, EngineOptions, SyncEngine};
use serde::{Deserialize, Serialize};
use sync_server::store::DivisionImport;
use tokio::runtime::Handle;

use super::am::AmClient;
use super::corpus::{self, Digest, Member, Spec};
use super::ketepai::store_records;
use super::link::Cost;
use super::rest::RestClient;
use super::wire::{AUTOMERGE, IMPLS, KETEPAI, World};

/// What the child is to do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildSpec {
    /// Which implementation (index into [`IMPLS`]).
    pub which: usize,
    /// The relay in front of the implementation's server.
    pub url: String,
    /// Ketepai's server itself, for enrolment (not measured).
    pub direct: String,
    /// Ketepai sign-in.
    pub username: String,
    /// Ketepai password.
    pub password: String,
    /// Baseline device token.
    pub token: String,
    /// The team (the Automerge index is named after it).
    pub team: TeamId,
    /// Ketepai only: the parent cuts the link part-way through the sync;
    /// the child syncs again when a round fails (as the engine's backoff
    /// would), up to [`CUT_ROUNDS`] rounds.
    #[serde(default)]
    pub cut: bool,
}

/// Most rounds a child whose link is cut makes.
pub const CUT_ROUNDS: usize = 3;

/// What the child reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildReport {
    /// HTTP requests of the sync.
    pub requests: u64,
    /// Requests on the critical path.
    pub critical: u64,
    /// Resident memory just before the sync, KiB.
    pub rss_before_kib: u64,
    /// Peak resident memory, KiB (read right after the sync).
    pub hwm_kib: u64,
    /// Wall time of the sync on loopback, milliseconds.
    pub millis: u64,
    /// The records held afterwards.
    pub digest: Digest,
    /// Ketepai only: the team lead's screens timed on the synced store.
    #[serde(default)]
    pub screens: Option<ScreenTimes>,
    /// Rounds that failed (a cut link) before the one that succeeded.
    #[serde(default)]
    pub failed_rounds: u64,
}

/// The team lead's screens on the store the first sync filled: the app-core
/// calls the 团队 and 审核 pages make (`Store::team_dashboard_as`,
/// `Store::review_queue_as`), each run [`SCREEN_RUNS`] times, warm.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ScreenTimes {
    /// The dashboard over the simulated year (365 days), milliseconds:
    /// median and slowest.
    pub dashboard_year_ms: (f64, f64),
    /// The dashboard over its last month, milliseconds: median and slowest.
    pub dashboard_month_ms: (f64, f64),
    /// The queue's first page (100) and its count, milliseconds: median and
    /// slowest.
    pub queue_ms: (f64, f64),
    /// Logs waiting in the queue.
    pub queue_total: u64,
    /// Visits the year's dashboard counted for the team.
    pub visits: u32,
    /// Members with a row.
    pub members: usize,
}

/// Times each screen's call is run.
pub const SCREEN_RUNS: usize = 5;

fn median_and_worst(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    (ms[ms.len() / 2], ms[ms.len() - 1])
}

/// Times the lead's dashboard and queue on `store` (enrolled as the lead).
pub fn screen_times(store: &Store) -> anyhow::Result<ScreenTimes> {
    use app_core::api::ReviewQueueQuery;
    use app_core::team::DashboardQuery;
    use chrono::NaiveDate;

    let who = sync::stored_enrolment(store)?
        .context("the lead's device is enrolled")?
        .principal();
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
    let year = DashboardQuery {
        from: day(2025, 11, 29),
        to: day(2026, 11, 28),
    };
    let month = DashboardQuery {
        from: day(2026, 11, 1),
        to: day(2026, 11, 30),
    };
    let queue = ReviewQueueQuery {
        limit: Some(100),
        ..ReviewQueueQuery::default()
    };
    let (mut y, mut m, mut q) = (Vec::new(), Vec::new(), Vec::new());
    let (mut visits, mut members, mut total) = (0, 0, 0);
    for _ in 0..SCREEN_RUNS {
        let started = Instant::now();
        let d = store.team_dashboard_as(&who, &year)?;
        y.push(started.elapsed().as_secs_f64() * 1000.0);
        (visits, members) = (d.total.visits, d.members.len());
        let started = Instant::now();
        store.team_dashboard_as(&who, &month)?;
        m.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        total = store.review_queue_as(&who, &queue)?.total;
        q.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(ScreenTimes {
        dashboard_year_ms: median_and_worst(y),
        dashboard_month_ms: median_and_worst(m),
        queue_ms: median_and_worst(q),
        queue_total: total,
        visits,
        members,
    })
}

/// A field of `/proc/self/status`, in KiB.
pub fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The child's entry point: runs `spec` (JSON) and prints its report.
pub fn child_main(spec: &str) -> anyhow::Result<()> {
    let spec: ChildSpec = serde_json::from_str(spec).context("child spec")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let report = rt.block_on(child(&spec, dir.path()))?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

async fn child(spec: &ChildSpec, dir: &Path) -> anyhow::Result<ChildReport> {
    let mut screens = None;
    let mut failed_rounds = 0;
    let (requests, critical, rss_before_kib, hwm_kib, millis, records) = match spec.which {
        KETEPAI => {
            let options = EngineOptions::default();
            let store = Arc::new(Store::open(
                dir.join("device.sqlite"),
                SystemClock::shared(),
            )?);
            let answer = sync::enrol(
                &spec.direct,
                &EnrolRequest {
                    username: spec.username.clone(),
                    password: spec.password.clone(),
                    device_name: "团长的平板".into(),
                    platform: "linux".into(),
                    replaces: None,
                },
                &options,
            )
            .await?;
            sync::complete_enrolment(&store, &spec.direct, answer, &options).await?;
            sync::enrol::set_server(&store, &spec.url)?;
            let engine = SyncEngine::new(Arc::clone(&store), options)?;
            let before = proc_status_kib("VmRSS");
            let started = Instant::now();
            let mut n = 0u64;
            loop {
                match engine.sync_once().await {
                    Ok(report) => {
                        n += report.requests as u64;
                        break;
                    }
                    Err(e) if spec.cut && (failed_rounds as usize) < CUT_ROUNDS => {
                        eprintln!("round failed (the cut link): {e}");
                        // The round got as far as its pull's request.
                        n += 1;
                        failed_rounds += 1;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            let millis = started.elapsed().as_millis() as u64;
            let hwm = proc_status_kib("VmHWM");
            if !spec.cut {
                screens = Some(screen_times(&store)?);
            }
            (n, n, before, hwm, millis, store_records(&store)?)
        }
        AUTOMERGE => {
            let mut client = AmClient::new(&spec.url, &spec.token, spec.team, Some(dir))?;
            let before = proc_status_kib("VmRSS");
            let started = Instant::now();
            let s = client.session().await?;
            let millis = started.elapsed().as_millis() as u64;
            let hwm = proc_status_kib("VmHWM");
            (
                s.requests,
                s.critical,
                before,
                hwm,
                millis,
                client.records()?,
            )
        }
        _ => {
            let mut client = RestClient::new(&spec.url, &spec.token, Some(dir))?;
            let before = proc_status_kib("VmRSS");
            let started = Instant::now();
            let s = client.session().await?;
            let millis = started.elapsed().as_millis() as u64;
            let hwm = proc_status_kib("VmHWM");
            (
                s.requests,
                s.requests,
                before,
                hwm,
                millis,
                client.records()?,
            )
        }
    };
    Ok(ChildReport {
        requests,
        critical,
        rss_before_kib,
        hwm_kib,
        millis,
        digest: Digest::of(&records),
        screens,
        failed_rounds,
    })
}

/// How large the team lead's scenario is.
#[derive(Debug, Clone, Copy)]
pub struct LeadSizes {
    /// Records of the team's year.
    pub records: usize,
    /// Commissioners who wrote them (the lead is one more member).
    pub authors: usize,
}

/// What the team lead's first sync cost.
#[derive(Debug, Clone)]
pub struct LeadFigures {
    /// Sizes used.
    pub sizes: LeadSizes,
    /// Changes the records were made of.
    pub changes: usize,
    /// Seconds Ketepai's server took to take the year from 30 devices
    /// (seeding; not a target).
    pub seed_seconds: f64,
    /// The sync's cost, per implementation.
    pub cost: [Cost; 3],
    /// Ketepai's pull bodies for the year, in pages of 2,000 changes:
    /// encoded as the server sends them (changes uncompressed), and with
    /// each change DEFLATEd on its own
    /// (computed from the corpus, not sent).
    pub pages: super::wire::Payload,
    /// The children's reports.
    pub reports: [ChildReport; 3],
    /// Ketepai's first sync again, its link cut when half of the uncut
    /// sync's bytes had come down, then synced again: what it cost in all,
    /// and its child's report.
    pub cut: Option<(Cost, ChildReport)>,
}

/// Seeds a team's year and runs the lead's first sync in each
/// implementation, in children started from `exe`.
pub async fn run(
    rt: &Handle,
    rows: &[DivisionImport],
    sizes: LeadSizes,
    exe: &Path,
) -> anyhow::Result<LeadFigures> {
    let mut members = vec![("lead".to_string(), Role::TeamLead)];
    members.extend((1..=sizes.authors).map(|i| (format!("year-{i:02}"), Role::Commissioner)));
    let world = World::new(rt, rows, "正安县茶产业科技特派团", &members).await?;
    let lead = world.accounts[0].clone();
    let authors = world.accounts[1..].to_vec();
    let as_member = |a: &super::ketepai::Account| Member {
        user: a.user.id,
        team: world.team.id,
        actor: automerge::ActorId::random(),
        weight: 1,
    };
    let corpus_members: Vec<Member> = authors.iter().map(as_member).collect();
    let corpus = corpus::generate(
        &Spec {
            records: sizes.records,
            days: 365,
            seed: 2,
            edits: true,
            approvals: true,
        },
        &world.slice,
        &corpus_members,
        Some(&as_member(&lead)),
    )?;
    let expected = Digest::of_corpus(&corpus);
    let changes = corpus.iter().map(|d| d.changes.len()).sum();
    let started = Instant::now();
    world.seed(&authors, Some(&lead), &corpus).await?;
    let seed_seconds = started.elapsed().as_secs_f64();
    let pages = pull_pages(&corpus)?;
    if std::env::var_os("KETEPAI_BENCH_STREAM_PROBE").is_some() {
        stream_probe(&corpus)?;
    }
    drop(corpus);

    let mut cost = [Cost::default(); 3];
    let mut reports = Vec::new();
    for (which, cost) in cost.iter_mut().enumerate() {
        let (am_token, rest_token) = world.baseline_tokens();
        let spec = ChildSpec {
            which,
            url: world.relays[which].url(),
            direct: world.ketepai.url(),
            username: lead.username.clone(),
            password: lead.password.clone(),
            token: if which == AUTOMERGE {
                am_token
            } else {
                rest_token
            },
            team: world.team.id,
            cut: false,
        };
        let before = world.relays[which].traffic();
        let report = run_child(exe, &spec).await?;
        let t = world.relays[which].traffic().since(before);
        anyhow::ensure!(
            report.digest == expected,
            "the lead's {} device holds {} records that differ from the team's {}",
            IMPLS[which],
            report.digest.records,
            expected.records
        );
        *cost = Cost {
            requests: report.requests,
            critical: report.critical,
            connections: t.connections,
            up: t.up,
            down: t.down,
        };
        reports.push(report);
    }
    // Ketepai again, the link cut half-way through the answer.
    let relay = &world.relays[KETEPAI];
    relay.cut_next_after(cost[KETEPAI].down / 2);
    let spec = ChildSpec {
        which: KETEPAI,
        url: relay.url(),
        direct: world.ketepai.url(),
        username: lead.username.clone(),
        password: lead.password.clone(),
        token: String::new(),
        team: world.team.id,
        cut: true,
    };
    let before = relay.traffic();
    let report = run_child(exe, &spec).await?;
    let t = relay.traffic().since(before);
    anyhow::ensure!(
        report.digest == expected,
        "the lead's Ketepai device after a cut holds {} records that differ from the team's {}",
        report.digest.records,
        expected.records
    );
    let cut = Some((
        Cost {
            requests: report.requests,
            critical: report.requests,
            connections: t.connections,
            up: t.up,
            down: t.down,
        },
        report,
    ));
    world.stop().await?;
    Ok(LeadFigures {
        sizes,
        changes,
        seed_seconds,
        cost,
        pages,
        reports: reports.try_into().expect("three implementations"),
        cut,
    })
}

/// Runs this benchmark's binary as a child for `spec`; its report.
async fn run_child(exe: &Path, spec: &ChildSpec) -> anyhow::Result<ChildReport> {
    let exe = exe.to_path_buf();
    let json = serde_json::to_string(spec)?;
    let which = spec.which;
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .arg("--child")
            .arg(json)
            .output()
    })
    .await??;
    anyhow::ensure!(
        out.status.success(),
        "the {} child failed: {}",
        IMPLS[which],
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(
        out.stdout
            .split(|b| *b == b'\n')
            .rfind(|l| l.starts_with(b"{"))
            .context("the child printed no report")?,
    )?)
}

/// Prints what the year's streamed pull body would weigh under other zstd
/// settings (level, window, long-distance matching), each part flushed as
/// the server does; a probe for choosing the server's settings, run when
/// `KETEPAI_BENCH_STREAM_PROBE` is set.
fn stream_probe(corpus: &[super::corpus::SeedDoc]) -> anyhow::Result<()> {
    use super::corpus::Writer;
    use app_core::sync::protocol::{self, PullResponse, WireChange};
    use std::io::Write as _;
    // The server's order, as in `pull_pages`: each writer's changes as
    // pushed, the lead's last.
    let mut order: Vec<(usize, WireChange)> = Vec::new();
    for d in corpus {
        for (w, b) in &d.changes {
            let slot = match w {
                Writer::Member(i) => *i,
                Writer::Lead => usize::MAX,
            };
            // The server serves each change uncompressed (`raw_bytes`).
            let bytes = automerge::Change::from_bytes(b.clone())?
                .raw_bytes()
                .to_vec();
            order.push((slot, WireChange { doc: d.id, bytes }));
        }
    }
    order.sort_by_key(|(slot, _)| *slot);
    let changes: Vec<WireChange> = order.into_iter().map(|(_, c)| c).collect();
    let parts: Vec<Vec<u8>> = changes
        .chunks(protocol::MAX_PULL_CHANGES as usize)
        .map(|c| {
            protocol::encode_part(&PullResponse {
                changes: c.to_vec(),
                cursor: "1.1000000".into(),
                more: true,
            })
        })
        .collect::<Result<_, _>>()?;
    let raw: usize = parts.iter().map(Vec::len).sum();
    eprintln!("stream probe: {} parts, {raw} bytes framed", parts.len());
    compact_probe(&changes)?;
    if std::env::var_os("KETEPAI_BENCH_STREAM_PROBE").is_some_and(|v| v == "compact") {
        return Ok(());
    }
    for (level, window, ldm) in [
        (3, 21, false),
        (3, 23, false),
        (3, 23, true),
        (6, 21, false),
        (6, 23, false),
        (9, 23, false),
        (9, 24, true),
        (12, 24, false),
        (15, 24, false),
        (19, 24, false),
    ] {
        let started = Instant::now();
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), level)?;
        e.window_log(window)?;
        e.long_distance_matching(ldm)?;
        for p in &parts {
            e.write_all(p)?;
            e.flush()?;
        }
        let out = e.finish()?;
        eprintln!(
            "stream probe: level {level}, window 2^{window}, ldm {ldm}: {} bytes ({:.3} of framed) in {:.2} s",
            out.len(),
            out.len() as f64 / raw as f64,
            started.elapsed().as_secs_f64()
        );
    }
    other_forms_probe(corpus)?;
    Ok(())
}

/// The compact parts of the year ([`app_core::sync::compact`]), framed as
/// the server frames them, through one zstd stream at several levels and
/// windows: bytes, the encoder's CPU and memory (the compression context's
/// size at the end of the stream), and the device's CPU to decode and
/// rebuild the changes (zstd aside).
fn compact_probe(changes: &[app_core::sync::protocol::WireChange]) -> anyhow::Result<()> {
    use app_core::sync::compact::{CompactDecoder, CompactEncoder};
    use app_core::sync::protocol::{self, PullResponse};
    let pages: Vec<PullResponse> = changes
        .chunks(protocol::MAX_PULL_CHANGES as usize)
        .map(|c| PullResponse {
            changes: c.to_vec(),
            cursor: "1.1000000".into(),
            more: true,
        })
        .collect();
    let started = Instant::now();
    let mut encoder = CompactEncoder::new();
    let parts: Vec<Vec<u8>> = pages
        .iter()
        .map(|p| protocol::frame(encoder.encode(p)))
        .collect::<Result<_, _>>()?;
    let encode_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut decoder = CompactDecoder::new();
    for (part, page) in parts.iter().zip(&pages) {
        let decoded = decoder.decode(&part[4..], protocol::MAX_PULL_PART)?;
        anyhow::ensure!(decoded == *page, "a compact part did not round-trip");
    }
    let decode_s = started.elapsed().as_secs_f64();
    let raw: usize = parts.iter().map(Vec::len).sum();
    eprintln!(
        "stream probe: compact parts: {raw} bytes framed, encoded in {encode_s:.2} s, \
         decoded and checked in {decode_s:.2} s"
    );
    for (level, window) in [(6, 21), (6, 23), (9, 23), (12, 24), (15, 24)] {
        let started = Instant::now();
        let (bytes, memory) = zstd_context_stream(&parts, level, window)?;
        eprintln!(
            "stream probe: compact, level {level}, window 2^{window}: {bytes} bytes in {:.2} s, \
             encoder context {:.1} MiB",
            started.elapsed().as_secs_f64(),
            memory as f64 / (1024.0 * 1024.0)
        );
    }
    Ok(())
}

/// One zstd stream over `parts`, flushed after each, with the compression
/// context's own size at the end (what one open stream holds).
fn zstd_context_stream(
    parts: &[Vec<u8>],
    level: i32,
    window: u32,
) -> anyhow::Result<(usize, usize)> {
    use zstd::zstd_safe::{CCtx, CParameter, InBuffer, OutBuffer};
    let err = |code: usize| anyhow::anyhow!("zstd: {}", zstd::zstd_safe::get_error_name(code));
    let mut cctx = CCtx::create();
    cctx.set_parameter(CParameter::CompressionLevel(level))
        .map_err(err)?;
    cctx.set_parameter(CParameter::WindowLog(window))
        .map_err(err)?;
    let mut total = 0;
    let mut buf = vec![0u8; 1 << 20];
    for p in parts {
        let mut input = InBuffer::around(p.as_slice());
        while input.pos() < p.len() {
            let mut out = OutBuffer::around(buf.as_mut_slice());
            cctx.compress_stream(&mut out, &mut input).map_err(err)?;
            total += out.pos();
        }
        loop {
            let mut out = OutBuffer::around(buf.as_mut_slice());
            let left = cctx.flush_stream(&mut out).map_err(err)?;
            total += out.pos();
            if left == 0 {
                break;
            }
        }
    }
    loop {
        let mut out = OutBuffer::around(buf.as_mut_slice());
        let left = cctx.end_stream(&mut out).map_err(err)?;
        total += out.pos();
        if left == 0 {
            break;
        }
    }
    Ok((total, cctx.sizeof()))
}

/// zstd at the plain parts' settings (level 6, 2 MiB window) over
/// `chunks`, flushed after each, as the streamed pull sends its parts.
fn zstd_stream(chunks: impl IntoIterator<Item = Vec<u8>>) -> anyhow::Result<usize> {
    use std::io::Write as _;
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 6)?;
    e.window_log(21)?;
    for c in chunks {
        e.write_all(&c)?;
        e.flush()?;
    }
    Ok(e.finish()?.len())
}

/// What the year would weigh in first-sync forms other than Automerge's
/// changes (issue 14, item 1: the 1.2× target), each in one zstd stream at
/// the server's settings, in parts of 2,000 documents, each framed as a
/// part is:
///
/// - *saves*: each document's compacted save, uncompressed;
/// - *records*: each record's JSON as the REST baseline stores it (the
///   final state only, no history: a floor, not a form Ketepai could use).
///
/// The compact parts the server sends are weighed above; the form of
/// changes without their checksum and repeated hashes that this probe
/// first weighed (7.44 MB at level 6) became them.
fn other_forms_probe(corpus: &[super::corpus::SeedDoc]) -> anyhow::Result<()> {
    use app_core::sync::protocol;
    let framed = |items: Vec<Vec<u8>>| -> anyhow::Result<Vec<Vec<u8>>> {
        items
            .chunks(2_000)
            .map(|page| {
                let mut part = Vec::new();
                for item in page {
                    part.extend(protocol::frame(item.clone())?);
                }
                Ok(part)
            })
            .collect()
    };
    let saves: Vec<Vec<u8>> = corpus
        .iter()
        .map(|d| {
            let mut out = d.id.to_bytes().to_vec();
            out.extend(automerge::Automerge::load(&d.saved)?.save_nocompress());
            Ok(out)
        })
        .collect::<anyhow::Result<_>>()?;
    let saves_z = zstd_stream(framed(saves)?)?;
    eprintln!("stream probe: compacted saves, uncompressed: {saves_z} bytes at level 6");
    let records: Vec<Vec<u8>> = corpus.iter().map(|d| d.json.clone().into_bytes()).collect();
    let records_z = zstd_stream(framed(records)?)?;
    eprintln!("stream probe: records' JSON, final state only: {records_z} bytes at level 6");
    Ok(())
}

/// Ketepai's pull pages for the corpus, in the server's order (each
/// writer's changes as pushed, the lead's last), both encodings.
fn pull_pages(corpus: &[super::corpus::SeedDoc]) -> anyhow::Result<super::wire::Payload> {
    use super::corpus::Writer;
    let mut order: Vec<(usize, DocId, &[u8])> = corpus
        .iter()
        .flat_map(|d| {
            d.changes.iter().map(move |(w, b)| {
                let slot = match w {
                    Writer::Member(i) => *i,
                    Writer::Lead => usize::MAX,
                };
                (slot, d.id, b.as_slice())
            })
        })
        .collect();
    order.sort_by_key(|(slot, _, _)| *slot);
    let changes: Vec<(DocId, &[u8])> = order.into_iter().map(|(_, d, b)| (d, b)).collect();
    let mut p = super::wire::Payload {
        changes: changes.len(),
        as_sent: 0,
        deflated: 0,
        raw_changes: 0,
        deflated_changes: 0,
    };
    for page in changes.chunks(app_core::sync::protocol::MAX_PULL_CHANGES as usize) {
        let (body, raw) = super::wire::body_size(page, false, true)?;
        let (deflated_body, deflated) = super::wire::body_size(page, true, true)?;
        p.as_sent += body;
        p.deflated += deflated_body;
        p.raw_changes += raw;
        p.deflated_changes += deflated;
    }
    Ok(p)
}
