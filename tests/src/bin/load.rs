//! The load test of issue 15 (docs/benchmarks.md, "Under attack"): a real
//! sync server on loopback with its production budget, honest devices
//! syncing and uploading photos at once, first alone and then while an
//! attacker floods enrolment from many source addresses and holds slow
//! connections open; `/healthz` is probed throughout by `oha`, a well-kept
//! HTTP load generator (`cargo install oha --locked`). Bounded in time;
//! prints the figures side by side and rewrites its block of
//! docs/benchmarks.md.
//!
//! ```text
//! cargo run --release -p ketepai-tests --bin load                 # 2 × 30 s, writes docs/benchmarks.md
//! cargo run --release -p ketepai-tests --bin load -- --seconds 10 --no-write
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use app_core::clock::SystemClock;
use app_core::domain::PhotoMeta;
use app_core::store::Store;
use clap::Parser;
use ketepai_tests::bench::{load_average, report};
use ketepai_tests::device::{Device, attach_photo};
use ketepai_tests::synth::Synth;
use rand::{Rng, RngCore, SeedableRng};
use sync_server::Server;
use sync_server::config::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BEGIN: &str = "<!-- BEGIN GENERATED load by `cargo run --release -p ketepai-tests --bin load`; edits inside are overwritten -->";
const END: &str = "<!-- END GENERATED load -->";

/// A load test of the sync server: honest devices alone, then under attack.
#[derive(Debug, Parser)]
#[command(name = "load")]
struct Cli {
    /// Seconds of each phase (alone, under attack).
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Honest devices syncing at once.
    #[arg(long, default_value_t = 40)]
    devices: usize,
    /// Attacking enrolment requests in flight at once, each from its own
    /// loopback address (127.0.x.y).
    #[arg(long, default_value_t = 64)]
    flood: usize,
    /// Slow connections the attacker holds open (a header byte every few
    /// seconds).
    #[arg(long, default_value_t = 300)]
    slow: usize,
    /// `/healthz` probes a second.
    #[arg(long, default_value_t = 20)]
    probe_rate: u32,
    /// Where to write the block (default docs/benchmarks.md).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write nothing.
    #[arg(long)]
    no_write: bool,
}

/// Latencies of one kind of request, in seconds.
#[derive(Debug, Default, Clone)]
struct Latencies(Vec<f64>);

impl Latencies {
    fn quantile(&self, q: f64) -> f64 {
        let mut v = self.0.clone();
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_by(f64::total_cmp);
        let i = ((v.len() as f64 - 1.0) * q).round() as usize;
        v[i]
    }
}

/// What one phase measured.
#[derive(Debug, Default)]
struct Phase {
    syncs: Latencies,
    sync_errors: usize,
    photos: usize,
    /// `/healthz` latency p50 and p99 as `oha` reports them, in seconds.
    healthz: (f64, f64),
    /// Probes answered other than 200, and probes that failed outright
    /// (`aborted due to deadline` at the phase's end excepted).
    healthz_errors: usize,
    flood_sent: usize,
    flood_busy: usize,
    flood_limited: usize,
    flood_refused: usize,
    flood_other: usize,
    slow_opened: usize,
    slow_closed_by_server: Latencies,
    load: f64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let oha = which_oha()?;
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("server")
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("clients")
        .build()?;

    let dir = tempfile::tempdir()?;
    // The production configuration: its password budget and timeouts are
    // what is under test.
    let config = Config::with_data_dir(dir.path().join("server"));
    let (handle, accounts) = server_rt.block_on(async {
        let server = Server::open(config, SystemClock::shared()).await?;
        let demo = server.ops().demo_accounts().await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let handle = server.serve(listener).await?;
        anyhow::Ok((handle, demo.accounts))
    })?;
    let addr = handle.local_addr();
    let url = format!("http://{addr}");
    eprintln!("load: server on {url}");

    // Honest devices, enrolled before any attack (the commissioners of
    // the demo county, several devices each).
    let members: Vec<_> = accounts
        .iter()
        .filter(|a| a.role == app_core::domain::Role::Commissioner)
        .collect();
    anyhow::ensure!(!members.is_empty(), "the demo has no commissioners");
    let devices: Vec<Arc<Device>> = client_rt.block_on(async {
        let mut out = Vec::new();
        for i in 0..cli.devices {
            let who = members[i % members.len()];
            let d = Device::enrol(
                &format!("load-{i}"),
                &url,
                &who.username,
                &who.password,
                0,
                app_core::sync::EngineOptions::default(),
            )
            .await
            .with_context(|| format!("enrolling honest device {i}"))?;
            d.sync().await?;
            out.push(Arc::new(d));
        }
        anyhow::Ok(out)
    })?;
    eprintln!("load: {} honest devices enrolled", devices.len());

    let alone = phase(&cli, &oha, &client_rt, addr, &devices, false)?;
    eprintln!("load: alone done");
    let attacked = phase(&cli, &oha, &client_rt, addr, &devices, true)?;
    eprintln!("load: under attack done");
    server_rt.block_on(async move { drop(handle) });

    let text = block(&cli, &alone, &attacked);
    println!("{text}");
    if !cli.no_write {
        let out = cli
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("docs/benchmarks.md"));
        report::write_block(&out, BEGIN, END, &text)?;
        eprintln!("load: wrote {}", out.display());
    }
    Ok(())
}

fn which_oha() -> anyhow::Result<PathBuf> {
    let out = Command::new("oha").arg("--version").output();
    match out {
        Ok(o) if o.status.success() => Ok(PathBuf::from("oha")),
        _ => bail!("`oha` is not on PATH: cargo install oha --locked"),
    }
}

/// One phase: the honest devices sync for `cli.seconds` while `oha` probes
/// `/healthz`, and, with `attack`, the flood and the slow connections run.
fn phase(
    cli: &Cli,
    oha: &PathBuf,
    rt: &tokio::runtime::Runtime,
    addr: SocketAddr,
    devices: &[Arc<Device>],
    attack: bool,
) -> anyhow::Result<Phase> {
    let stop = Arc::new(AtomicBool::new(false));
    let duration = Duration::from_secs(cli.seconds);
    let probe = Command::new(oha)
        .args([
            "-z",
            &format!("{}s", cli.seconds),
            "-q",
            &cli.probe_rate.to_string(),
            "-c",
            "2",
            "--no-tui",
            "--latency-correction",
            "--output-format",
            "json",
            &format!("http://{addr}/healthz"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("starting oha")?;

    let result = rt.block_on(async {
        let flood_sent = Arc::new(AtomicUsize::new(0));
        let flood_codes = Arc::new(std::sync::Mutex::new([0usize; 4]));
        let mut attackers = Vec::new();
        let mut slow = Vec::new();
        if attack {
            for i in 0..cli.flood {
                let (stop, sent, codes) = (
                    Arc::clone(&stop),
                    Arc::clone(&flood_sent),
                    Arc::clone(&flood_codes),
                );
                attackers.push(tokio::spawn(async move {
                    let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
                    let mut n = 0u32;
                    while !stop.load(Ordering::Relaxed) {
                        // A new source address every few requests.
                        let a = 1 + (i as u32) * 64 + n / 4;
                        let local = IpAddr::V4(Ipv4Addr::new(
                            127,
                            1 + (a >> 16) as u8,
                            (a >> 8) as u8,
                            a as u8,
                        ));
                        n += 1;
                        let client = match reqwest::Client::builder()
                            .local_address(local)
                            .timeout(Duration::from_secs(30))
                            .build()
                        {
                            Ok(c) => c,
                            Err(_) => continue,
                        };
                        let body = serde_json::json!({
                            "username": format!("x{:016x}", rng.next_u64()),
                            "password": "guess-guess-guess",
                            "device_name": "attacker",
                            "platform": "linux",
                        });
                        let answer = client
                            .post(format!("http://{addr}/api/v1/devices/enrol"))
                            .header("content-type", "application/json")
                            .body(body.to_string())
                            .send()
                            .await;
                        sent.fetch_add(1, Ordering::Relaxed);
                        let slot = match answer.map(|r| r.status().as_u16()) {
                            Ok(503) => 0,
                            Ok(429) => 1,
                            Ok(401 | 403) => 2,
                            _ => 3,
                        };
                        codes.lock().expect("tally")[slot] += 1;
                    }
                }));
            }
            for i in 0..cli.slow {
                let stop = Arc::clone(&stop);
                slow.push(tokio::spawn(async move {
                    let a = 20_000 + i as u32;
                    let local = SocketAddr::new(
                        IpAddr::V4(Ipv4Addr::new(
                            127,
                            1 + (a >> 16) as u8,
                            (a >> 8) as u8,
                            a as u8,
                        )),
                        0,
                    );
                    // Reconnects whenever the server closes on it, as an
                    // attacker would; returns how long each connection lasted.
                    let mut closed = Vec::new();
                    let mut buf = [0u8; 256];
                    while !stop.load(Ordering::Relaxed) {
                        let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
                            break;
                        };
                        if socket.bind(local).is_err() {
                            break;
                        }
                        let Ok(mut stream) = socket.connect(addr).await else {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            continue;
                        };
                        let opened = Instant::now();
                        let head = b"POST /api/v1/sync/push HTTP/1.1\r\nHost: ketepai\r\nX-Slow: ";
                        let mut open = stream.write_all(head).await.is_ok();
                        while open && !stop.load(Ordering::Relaxed) {
                            open = stream.write_all(b"a").await.is_ok()
                                && !matches!(
                                    tokio::time::timeout(
                                        Duration::from_secs(3),
                                        stream.read(&mut buf)
                                    )
                                    .await,
                                    Ok(Ok(0) | Err(_))
                                );
                        }
                        if !open {
                            closed.push(opened.elapsed().as_secs_f64());
                        }
                    }
                    closed
                }));
            }
        }

        let mut honest = Vec::new();
        let photos = Arc::new(AtomicUsize::new(0));
        for (i, d) in devices.iter().enumerate() {
            let (d, stop, photos) = (Arc::clone(d), Arc::clone(&stop), Arc::clone(&photos));
            honest.push(tokio::spawn(async move {
                let register = d
                    .store
                    .export_slice("520324".parse().expect("county"))
                    .ok()
                    .flatten()
                    .expect("the county's register on the device");
                let mut synth =
                    Synth::new(rand::rngs::StdRng::seed_from_u64(i as u64 + 100), &register);
                let (mut times, mut errors) = (Vec::new(), 0usize);
                let mut round = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    round += 1;
                    let mut input = synth.service_log(5);
                    if round.is_multiple_of(4) {
                        input.photos = vec![photo(&d.store, synth.rng())];
                        photos.fetch_add(1, Ordering::Relaxed);
                    }
                    d.store
                        .create_service_log(&d.identity, &input, true)
                        .expect("save on the device");
                    let t = Instant::now();
                    match d.sync().await {
                        Ok(_) => times.push(t.elapsed().as_secs_f64()),
                        Err(_) => errors += 1,
                    }
                    // A device syncs every few seconds at most.
                    let pause = synth.rng().random_range(500..2_000);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                (times, errors)
            }));
        }

        let load_sampler = tokio::spawn(async move {
            tokio::time::sleep(duration / 2).await;
            load_average()
        });
        tokio::time::sleep(duration).await;
        stop.store(true, Ordering::Relaxed);
        let mut phase = Phase::default();
        for h in honest {
            let (times, errors) = h.await?;
            phase.syncs.0.extend(times);
            phase.sync_errors += errors;
        }
        phase.photos = photos.load(Ordering::Relaxed);
        for a in attackers {
            a.abort();
        }
        for s in slow {
            phase.slow_opened += 1;
            phase.slow_closed_by_server.0.extend(s.await?);
        }
        phase.flood_sent = flood_sent.load(Ordering::Relaxed);
        let codes = *flood_codes.lock().expect("tally");
        (
            phase.flood_busy,
            phase.flood_limited,
            phase.flood_refused,
            phase.flood_other,
        ) = (codes[0], codes[1], codes[2], codes[3]);
        phase.load = load_sampler.await?;
        anyhow::Ok(phase)
    });
    let mut phase = result?;
    let out = probe.wait_with_output().context("waiting for oha")?;
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("reading oha's JSON summary")?;
    let (p50, p99) = (
        json["latencyPercentiles"]["p50"]
            .as_f64()
            .unwrap_or(f64::NAN),
        json["latencyPercentiles"]["p99"]
            .as_f64()
            .unwrap_or(f64::NAN),
    );
    phase.healthz = (p50, p99);
    let count = |v: &serde_json::Value, keep: &dyn Fn(&str) -> bool| -> usize {
        v.as_object().map_or(0, |m| {
            m.iter()
                .filter(|(k, _)| keep(k))
                .map(|(_, n)| n.as_u64().unwrap_or(0) as usize)
                .sum()
        })
    };
    phase.healthz_errors = count(&json["statusCodeDistribution"], &|code| code != "200")
        + count(&json["errorDistribution"], &|e| {
            e != "aborted due to deadline"
        });
    Ok(phase)
}

/// A photo on the device: 150 KB that do not compress, like a JPEG.
fn photo(store: &Store, rng: &mut impl RngCore) -> PhotoMeta {
    let mut bytes = vec![0u8; 150 * 1024];
    rng.fill_bytes(&mut bytes);
    attach_photo(store, &bytes)
}

fn secs(s: f64) -> String {
    if s.is_nan() {
        "—".into()
    } else {
        format!("{s:.1} s")
    }
}

fn ms(s: f64) -> String {
    if s.is_nan() {
        "—".into()
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}

fn block(cli: &Cli, alone: &Phase, attacked: &Phase) -> String {
    let ratio = |a: f64, b: f64| {
        if a > 0.0 && b.is_finite() {
            format!("{:.2}×", b / a)
        } else {
            "—".into()
        }
    };
    let hz = |p: &Phase, i: usize| if i == 0 { p.healthz.0 } else { p.healthz.1 };
    let mut t = String::new();
    t.push_str(&format!(
        "Run {} (China time) on {} cores; {} s a phase; {} honest devices (a record a round, a 150 KB photo every fourth, a round every 0.5–2 s); \
         the attack: {} enrolment requests in flight with random user names from many loopback addresses, and {} slow connections \
         (a header byte every 3 s); `/healthz` probed by `oha` at {}/s. Load average mid-phase: {:.2} alone, {:.2} under attack.\n\n",
        chrono_now(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cli.seconds,
        cli.devices,
        cli.flood,
        cli.slow,
        cli.probe_rate,
        alone.load,
        attacked.load,
    ));
    t.push_str("| Figure | Alone | Under attack | Ratio |\n|---|---|---|---|\n");
    t.push_str(&format!(
        "| `/healthz` p50 / p99 (oha) | {} / {} | {} / {} | {} |\n",
        ms(hz(alone, 0)),
        ms(hz(alone, 1)),
        ms(hz(attacked, 0)),
        ms(hz(attacked, 1)),
        ratio(hz(alone, 1), hz(attacked, 1)),
    ));
    t.push_str(&format!(
        "| An honest device's sync round p50 / p99 | {} / {} | {} / {} | {} |\n",
        ms(alone.syncs.quantile(0.5)),
        ms(alone.syncs.quantile(0.99)),
        ms(attacked.syncs.quantile(0.5)),
        ms(attacked.syncs.quantile(0.99)),
        ratio(alone.syncs.quantile(0.99), attacked.syncs.quantile(0.99)),
    ));
    t.push_str(&format!(
        "| Sync rounds done (failed); photos uploaded | {} ({}); {} | {} ({}); {} | |\n",
        alone.syncs.0.len(),
        alone.sync_errors,
        alone.photos,
        attacked.syncs.0.len(),
        attacked.sync_errors,
        attacked.photos,
    ));
    t.push_str(&format!(
        "| `/healthz` failures | {} | {} | |\n",
        alone.healthz_errors, attacked.healthz_errors
    ));
    t.push_str(&format!(
        "| Enrolment flood: requests; `503 busy`; `429` (an address's or a name's limit); `401` (checked, wrong); other | — | {}; {}; {}; {}; {} | |\n",
        attacked.flood_sent,
        attacked.flood_busy,
        attacked.flood_limited,
        attacked.flood_refused,
        attacked.flood_other
    ));
    t.push_str(&format!(
        "| Slow connections: held at once; closed by the server; open for, median / max | — | {}; {}; {} / {} | |\n",
        attacked.slow_opened,
        attacked.slow_closed_by_server.0.len(),
        secs(attacked.slow_closed_by_server.quantile(0.5)),
        secs(attacked.slow_closed_by_server.quantile(1.0)),
    ));
    t
}

fn chrono_now() -> String {
    let now = app_core::clock::Clock::now(&SystemClock);
    now.to_string()
}
