//! Server ingest: several devices push new records at the same time, as a
//! county's commissioners do when they come back into range in the
//! evening. Records per second over the whole run, and the latency of each
//! request as the device sees it (p50, p99).
//!
//! Ketepai's devices push in the sync engine's own batches (at most 500
//! changes and about 64 KiB of change bytes, `EngineOptions::default()`),
//! on SQLite and on PostgreSQL. The bodies are encoded before the clock
//! starts, so the figure is the server's (client and server still share
//! the machine's two cores). The baselines run on SQLite only: one request
//! per record (REST) and one sync conversation per document (Automerge).

use std::time::{Duration, Instant};

use app_core::domain::{Role, Scope, TeamId};
use app_core::scope::Principal;
use app_core::sync::EngineOptions;
use app_core::sync::protocol::{self, ChangeOutcome, PushRequest, PushResponse, WireChange};
use automerge::Automerge;
use automerge::sync;
use sync_server::store::DivisionImport;
use sync_server::sync::{PushBatch, PushFetched};
use tokio::runtime::Handle;

use super::am::{AmServer, converse};
use super::corpus::{self, Member, SeedDoc, Spec, Writer, gzip};
use super::http::COMPRESS_OVER;
use super::ketepai::{KetepaiServer, enrol_token};
use super::rest::{Peer, RestServer};
use super::wire::{AUTOMERGE, KETEPAI, REST, token};

/// One ingest run.
#[derive(Debug, Clone)]
pub struct Ingest {
    /// Which implementation.
    pub which: usize,
    /// `SQLite` or `PostgreSQL`.
    pub backend: &'static str,
    /// Devices pushing at once.
    pub devices: usize,
    /// Records taken.
    pub records: u64,
    /// Requests made.
    pub requests: u64,
    /// What one latency sample is: a request, or (Automerge) one
    /// document's whole sync conversation.
    pub sample: &'static str,
    /// Wall time of the whole run.
    pub seconds: f64,
    /// Median request latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile request latency, milliseconds.
    pub p99_ms: f64,
    /// Ketepai only: CPU time per record, in microseconds, of decoding a
    /// push (`PushBatch::decode`, before the write transaction) and of
    /// deciding it (`sync::plan`, also before it), measured apart on one thread
    /// with the same batches, no I/O.
    pub plan_us: Option<(f64, f64)>,
}

impl Ingest {
    /// Records per second.
    pub fn rate(&self) -> f64 {
        self.records as f64 / self.seconds
    }

    /// Records per request.
    pub fn per_request(&self) -> f64 {
        self.records as f64 / self.requests.max(1) as f64
    }
}

/// One push body as the sync engine sends it: the encoded batch, whether
/// it is zstd'd, and how many changes it holds.
pub type PushBody = (Vec<u8>, bool, usize);

/// A device's changes in push bodies as the engine batches them (at most
/// `push_max_changes`, and changes while their bytes stay within
/// `push_max_bytes`, at least one), each with the range of `changes` it
/// holds.
pub fn push_bodies(
    changes: &[WireChange],
) -> anyhow::Result<Vec<(std::ops::Range<usize>, PushBody)>> {
    let options = EngineOptions::default();
    let mut out = Vec::new();
    let mut start = 0;
    while start < changes.len() {
        let mut size = 0;
        let n = changes[start..]
            .iter()
            .take(options.push_max_changes)
            .take_while(|c| {
                size += c.bytes.len();
                size <= options.push_max_bytes || size == c.bytes.len()
            })
            .count();
        let batch = &changes[start..start + n];
        let body = protocol::encode(&PushRequest {
            changes: batch.to_vec(),
        })?;
        let zstd = body.len() > COMPRESS_OVER;
        let body = if zstd {
            zstd::bulk::compress(&body, 3)?
        } else {
            body
        };
        out.push((start..start + n, (body, zstd, n)));
        start += n;
    }
    Ok(out)
}

/// Sends every device's push bodies at once, each device its bodies in
/// turn to its URL with its token, checking that every change is stored;
/// the latency of each push and the seconds the whole took.
pub async fn push_all(
    work: Vec<(String, String, Vec<PushBody>)>,
) -> anyhow::Result<(Vec<Duration>, f64)> {
    let started = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|(url, token, bodies)| {
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut latencies = Vec::new();
                for (body, zstd, n) in bodies {
                    let t0 = Instant::now();
                    let mut req = http
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", protocol::MEDIA_TYPE)
                        .header(protocol::PROTOCOL_HEADER, "1");
                    if zstd {
                        req = req.header("content-encoding", "zstd");
                    }
                    let resp = req.body(body).send().await?;
                    anyhow::ensure!(resp.status().is_success(), "push: {}", resp.status());
                    let answer: PushResponse = protocol::decode(&resp.bytes().await?)?;
                    latencies.push(t0.elapsed());
                    let stored = answer
                        .outcomes
                        .iter()
                        .filter(|o| matches!(o, ChangeOutcome::Stored))
                        .count();
                    anyhow::ensure!(stored == n, "{stored} of {n} changes stored");
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    Ok((latencies, started.elapsed().as_secs_f64()))
}

/// The value at fraction `p` of sorted samples (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summarise(
    which: usize,
    backend: &'static str,
    devices: usize,
    records: u64,
    seconds: f64,
    latencies: Vec<Duration>,
) -> Ingest {
    let mut ms: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    Ingest {
        which,
        backend,
        devices,
        records,
        requests: ms.len() as u64,
        sample: "request",
        seconds,
        p50_ms: percentile(&ms, 0.5),
        p99_ms: percentile(&ms, 0.99),
        plan_us: None,
    }
}

/// New records for an ingest run, and the team they belong to.
#[derive(Debug)]
pub struct Batch {
    /// The team.
    pub team: TeamId,
    /// The records, authors round robin over the devices.
    pub docs: Vec<SeedDoc>,
}

/// Ketepai's server on SQLite (`postgres` none) or PostgreSQL takes
/// `devices × per_device` new records from `devices` devices at once.
/// Returns the run and its records (the baselines take some of the same).
pub async fn ketepai(
    rt: &Handle,
    rows: &[DivisionImport],
    postgres: Option<&str>,
    devices: usize,
    per_device: usize,
) -> anyhow::Result<(Ingest, Batch)> {
    let server = KetepaiServer::start(rt, postgres, rows).await?;
    let backend = if server.backend() == "postgres" {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let members: Vec<(String, Role)> = (0..devices)
        .map(|i| (format!("ingest-{i:02}"), Role::Commissioner))
        .collect();
    let (team, accounts) = server
        .add_team("正安县科技特派团（入库）", &members)
        .await?;
    let slice = server.slice().await?;
    let authors: Vec<Member> = accounts
        .iter()
        .map(|a| Member {
            user: a.user.id,
            team: team.id,
            actor: automerge::ActorId::random(),
            weight: 1,
        })
        .collect();
    let docs = corpus::generate(
        &Spec {
            records: devices * per_device,
            days: 30,
            seed: 3,
            edits: false,
            approvals: false,
        },
        &slice,
        &authors,
        None,
    )?;
    let url = format!("{}/api/v1/sync/push", server.url());
    let mut work = Vec::new();
    let mut plain: Vec<(usize, Vec<WireChange>)> = Vec::new();
    for (i, account) in accounts.iter().enumerate() {
        let token = enrol_token(&server.url(), account, "ingest").await?;
        // Sent as a device's outbox holds them: uncompressed
        // (`Change::raw_bytes`), so the server inflates nothing.
        let changes: Vec<WireChange> = docs
            .iter()
            .flat_map(|d| d.changes.iter().map(move |c| (d.id, c)))
            .filter(|(_, (w, _))| *w == Writer::Member(i))
            .map(|(doc, (_, bytes))| {
                Ok(WireChange {
                    doc,
                    bytes: app_core::doc::decode_change(bytes)?.raw_bytes().to_vec(),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let mut bodies = Vec::new();
        for (range, body) in push_bodies(&changes)? {
            plain.push((i, changes[range].to_vec()));
            bodies.push(body);
        }
        work.push((url.clone(), token, bodies));
    }
    let (latencies, seconds) = push_all(work).await?;
    server.stop().await?;
    let mut run = summarise(
        KETEPAI,
        backend,
        devices,
        docs.len() as u64,
        seconds,
        latencies,
    );
    let county = Some(app_core::domain::CountyCode::parse(super::ketepai::COUNTY)?);
    let principals: Vec<Principal> = accounts
        .iter()
        .map(|a| Principal {
            user: a.user.id,
            role: Role::Commissioner,
            scope: Scope::Team(team.id),
            team: Some(team.id),
            county,
        })
        .collect();
    // The register a store reads for these pushes: the county's villages.
    let mut fetched = PushFetched::default();
    if let Some(county) = county {
        let (lo, hi) = county.village_range();
        let villages = rows
            .iter()
            .filter(|r| r.level == app_core::domain::DivisionLevel::Village)
            .map(|r| r.code)
            .filter(|c| (lo..=hi).contains(c))
            .collect();
        fetched.register.insert(county, Some(villages));
    }
    run.plan_us =
        Some(tokio::task::spawn_blocking(move || plan_cost(&principals, plain, fetched)).await??);
    Ok((
        run,
        Batch {
            team: team.id,
            docs,
        },
    ))
}

/// CPU time per record of decoding and of deciding pushes, as the server
/// does them (decode before its write transaction, plan inside), on this
/// thread, in µs: the best of three passes over the first pushes (up to
/// about 5,000 records), so that other work on the machine counts least.
fn plan_cost(
    principals: &[Principal],
    mut batches: Vec<(usize, Vec<WireChange>)>,
    fetched: PushFetched,
) -> anyhow::Result<(f64, f64)> {
    let device = app_core::domain::DeviceId::new(app_core::domain::Timestamp::from_millis(0));
    let mut total = 0;
    batches.retain(|(_, c)| {
        total += c.len();
        total <= 5_000 || total == c.len()
    });
    let records: usize = batches.iter().map(|(_, c)| c.len()).sum();
    let per = |d: Duration| d.as_secs_f64() * 1e6 / records.max(1) as f64;
    let (mut best_decode, mut best_plan) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let started = Instant::now();
        let decoded: Vec<PushBatch> = batches
            .iter()
            .map(|(author, changes)| {
                PushBatch::decode(
                    principals[*author],
                    device,
                    PushRequest {
                        changes: changes.clone(),
                    },
                )
            })
            .collect();
        best_decode = best_decode.min(per(started.elapsed()));
        // What the store read for each push, made before the clock starts.
        let reads: Vec<PushFetched> = decoded.iter().map(|_| fetched.clone()).collect();
        let started = Instant::now();
        for (batch, read) in decoded.iter().zip(reads) {
            let (outcomes, _) = sync_server::sync::plan(batch, read);
            anyhow::ensure!(
                outcomes.iter().all(|o| matches!(o, ChangeOutcome::Stored)),
                "planning apart refused a change"
            );
        }
        best_plan = best_plan.min(per(started.elapsed()));
    }
    Ok((best_decode, best_plan))
}

/// The REST baseline takes `per_device` records from each of `devices`
/// devices at once, one request per record.
pub async fn rest(
    rt: &Handle,
    batch: &Batch,
    devices: usize,
    per_device: usize,
) -> anyhow::Result<Ingest> {
    let server = RestServer::start(rt).await?;
    let url = format!("http://{}", server.addr());
    let mut work = Vec::new();
    for i in 0..devices {
        let t = token();
        server.add_peer(
            &t,
            Peer {
                device: i as u64 + 1,
                team: batch.team,
            },
        );
        let bodies: Vec<_> = batch
            .docs
            .iter()
            .filter(|d| d.author == i)
            .take(per_device)
            .map(|d| (d.id, d.kind, gzip(d.json.as_bytes())))
            .collect();
        work.push((t, bodies));
    }
    let records = work.iter().map(|(_, b)| b.len() as u64).sum();
    let started = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|(token, bodies)| {
            let url = url.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut latencies = Vec::new();
                for (id, kind, body) in bodies {
                    let t0 = Instant::now();
                    let resp = http
                        .put(format!("{url}/rest/v1/records/{}/{id}", kind.code()))
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .header("content-encoding", "gzip")
                        .header("accept-encoding", "gzip")
                        .body(body)
                        .send()
                        .await?;
                    anyhow::ensure!(resp.status().is_success(), "upload: {}", resp.status());
                    latencies.push(t0.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(summarise(
        REST, "SQLite", devices, records, seconds, latencies,
    ))
}

/// The Automerge baseline takes `per_device` new documents from each of
/// `devices` devices at once, each by its own sync conversation.
pub async fn automerge(
    rt: &Handle,
    batch: &Batch,
    devices: usize,
    per_device: usize,
) -> anyhow::Result<Ingest> {
    let server = AmServer::start(rt).await?;
    let url = format!("http://{}", server.addr());
    let mut work = Vec::new();
    for i in 0..devices {
        let t = token();
        server.add_peer(&t, i as u64 + 1);
        let docs: Vec<_> = batch
            .docs
            .iter()
            .filter(|d| d.author == i)
            .take(per_device)
            .map(|d| (d.id, d.saved.clone()))
            .collect();
        work.push((t, docs));
    }
    let records = work.iter().map(|(_, d)| d.len() as u64).sum();
    let started = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|(token, docs)| {
            let url = url.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut latencies = Vec::new();
                let mut requests = 0u64;
                for (id, saved) in docs {
                    let t0 = Instant::now();
                    let mut doc = Automerge::load(&saved)?;
                    let mut state = sync::State::new();
                    requests += converse(&http, &url, &token, id, &mut doc, &mut state).await?;
                    latencies.push(t0.elapsed());
                }
                anyhow::Ok((latencies, requests))
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut requests = 0;
    for t in tasks {
        let (l, r) = t.await??;
        latencies.extend(l);
        requests += r;
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut run = summarise(AUTOMERGE, "SQLite", devices, records, seconds, latencies);
    run.requests = requests;
    run.sample = "document";
    Ok(run)
}
