//! Several server instances on one PostgreSQL database (issue 14): 1, 2
//! and 4 instances, four pushing devices per instance, each device in a
//! county of its own or all in the same county; records per second over
//! the whole run and each request's latency. Pushes lock only their
//! counties (sync-server's `store::postgres`), so devices in different
//! counties push side by side and those of one county take turns.
//!
//! Every instance and device runs in this one process on the machine's two
//! cores, so more instances add no CPU: what the rows show is whether the
//! database lets pushes through at once, not a cluster's throughput.

use app_core::domain::{CountyCode, DivisionLevel, Role};
use app_core::sync::protocol::WireChange;
use sync_server::store::DivisionImport;
use tokio::runtime::Handle;

use super::corpus::{self, Member, Spec, Writer};
use super::ingest::{percentile, push_all, push_bodies};
use super::ketepai::{KetepaiServer, enrol_token};

/// Devices pushing through each instance.
pub const DEVICES_PER_INSTANCE: usize = 4;
/// Instance counts measured.
pub const INSTANCES: [usize; 3] = [1, 2, 4];

/// Start and end of the generated block in docs/benchmarks.md.
pub const BEGIN: &str = "<!-- BEGIN GENERATED multi-instance by `cargo run --release -p ketepai-tests --bin bench -- --only multi`; edits inside are overwritten -->";
/// End of the block.
pub const END: &str = "<!-- END GENERATED multi-instance -->";

/// One run.
#[derive(Debug, Clone)]
pub struct MultiRun {
    /// Server instances.
    pub instances: usize,
    /// Devices pushing at once.
    pub devices: usize,
    /// Whether each device is in a county of its own.
    pub own_counties: bool,
    /// Records stored.
    pub records: u64,
    /// Push requests.
    pub requests: u64,
    /// Wall time.
    pub seconds: f64,
    /// Median request latency, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
}

impl MultiRun {
    /// Records per second.
    pub fn rate(&self) -> f64 {
        self.records as f64 / self.seconds
    }
}

/// The register rows for the runs: every province, prefecture and county,
/// and the villages of the first counties of Guizhou (one per device of
/// the largest run).
fn rows() -> anyhow::Result<(Vec<DivisionImport>, Vec<CountyCode>)> {
    let register = sync_server::ops::embedded_register();
    let all = sync_server::ops::register_rows(&register, Some(&[]))?;
    let counties: Vec<CountyCode> = all
        .iter()
        .filter(|r| r.level == DivisionLevel::County && r.code / 10_000 == 52)
        .map(|r| CountyCode::from_int(r.code))
        .collect::<Result<_, _>>()?;
    let n = INSTANCES.iter().max().copied().unwrap_or(1) * DEVICES_PER_INSTANCE;
    anyhow::ensure!(
        counties.len() >= n,
        "Guizhou has {} counties",
        counties.len()
    );
    let counties = counties[..n].to_vec();
    let rows = sync_server::ops::register_rows(&register, Some(&counties))?;
    Ok((rows, counties))
}

/// Every run: each instance count with the devices in their own counties,
/// then in one county; `per_device` new records each. `at` reports
/// progress.
pub async fn run(
    rt: &Handle,
    postgres: &str,
    per_device: usize,
    at: impl Fn(&str),
) -> anyhow::Result<Vec<MultiRun>> {
    let (rows, counties) = tokio::task::spawn_blocking(rows).await??;
    let mut runs = Vec::new();
    for own_counties in [true, false] {
        for instances in INSTANCES {
            at(&format!(
                "multi-instance: {instances} instance(s), {}",
                if own_counties {
                    "a county per device"
                } else {
                    "one county"
                }
            ));
            runs.push(
                one(
                    rt,
                    postgres,
                    &rows,
                    &counties,
                    instances,
                    own_counties,
                    per_device,
                )
                .await?,
            );
        }
    }
    Ok(runs)
}

async fn one(
    rt: &Handle,
    postgres: &str,
    rows: &[DivisionImport],
    counties: &[CountyCode],
    instances: usize,
    own_counties: bool,
    per_device: usize,
) -> anyhow::Result<MultiRun> {
    let server = KetepaiServer::start(rt, Some(postgres), rows).await?;
    let mut others = Vec::new();
    let mut urls = vec![server.url()];
    for _ in 1..instances {
        let h = server.another_instance(rt).await?;
        urls.push(format!("http://{}", h.local_addr()));
        others.push(h);
    }
    let devices = instances * DEVICES_PER_INSTANCE;
    // Teams: one per county used, its devices' users as members.
    let groups: Vec<(CountyCode, Vec<usize>)> = if own_counties {
        (0..devices).map(|d| (counties[d], vec![d])).collect()
    } else {
        vec![(counties[0], (0..devices).collect())]
    };
    let mut work = Vec::new();
    let mut records = 0u64;
    for (g, (county, members)) in groups.iter().enumerate() {
        let names: Vec<(String, Role)> = members
            .iter()
            .map(|d| (format!("multi-{d:02}"), Role::Commissioner))
            .collect();
        let (team, accounts) = server
            .add_team_in(*county, &format!("科技特派团 {g}"), &names)
            .await?;
        let slice = server
            .store()
            .register_slice(*county)
            .await?
            .ok_or_else(|| anyhow::anyhow!("county {county} not imported"))?;
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
                records: members.len() * per_device,
                days: 30,
                seed: 5 + g as u64,
                edits: false,
                approvals: false,
            },
            &slice,
            &authors,
            None,
        )?;
        records += docs.len() as u64;
        for (i, (d, account)) in members.iter().zip(&accounts).enumerate() {
            let url = &urls[d / DEVICES_PER_INSTANCE];
            let token = enrol_token(url, account, "multi").await?;
            let changes: Vec<WireChange> = docs
                .iter()
                .flat_map(|doc| doc.changes.iter().map(move |c| (doc.id, c)))
                .filter(|(_, (w, _))| *w == Writer::Member(i))
                .map(|(doc, (_, bytes))| WireChange {
                    doc,
                    bytes: bytes.clone(),
                })
                .collect();
            let bodies = push_bodies(&changes)?.into_iter().map(|(_, b)| b).collect();
            work.push((format!("{url}/api/v1/sync/push"), token, bodies));
        }
    }
    let (latencies, seconds) = push_all(work).await?;
    for h in others {
        h.shutdown().await?;
    }
    server.stop().await?;
    let mut ms: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    Ok(MultiRun {
        instances,
        devices,
        own_counties,
        records,
        requests: ms.len() as u64,
        seconds,
        p50_ms: percentile(&ms, 0.5),
        p99_ms: percentile(&ms, 0.99),
    })
}

/// The generated block: the table and how it was made.
pub fn markdown(runs: &[MultiRun], stamp: &str) -> String {
    let mut s = String::from(
        "| instances | devices | counties | records | requests | records/s | p50 ms | p99 ms |\n\
         |---:|---:|---|---:|---:|---:|---:|---:|\n",
    );
    for r in runs {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.0} | {:.0} | {:.0} |\n",
            r.instances,
            r.devices,
            if r.own_counties {
                "one per device"
            } else {
                "all in one"
            },
            r.records,
            r.requests,
            r.rate(),
            r.p50_ms,
            r.p99_ms
        ));
    }
    s.push_str(&format!(
        "\nPostgreSQL, {DEVICES_PER_INSTANCE} devices per instance pushing new records in the \
         engine's batches; every instance and device in one process on this machine's cores. {stamp}\n"
    ));
    s
}
