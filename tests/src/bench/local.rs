//! On the device: durable save latency, and opening the app's store and
//! listing the first page. Ketepai's store only; the baselines have no
//! device store of their own that the product would ship.
//!
//! Saves are `Store::create_service_log` on a store with the product's
//! settings (WAL, `synchronous=FULL`: each save is fsynced before it
//! returns) and the county register loaded, with realistic records. The
//! first page is `Store::open` plus `list_service_logs` with the list's
//! default page (50), on a store holding a team's records received by sync
//! (projections, register, everything a real store has); the OS page cache
//! is warm, as on a phone reopening the app.

use std::time::Instant;

use app_core::clock::SystemClock;
use app_core::domain::{TeamId, UserId};
use app_core::store::{DocChange, Identity, LogQuery, RegisterSlice, Store};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::corpus::{self, Member, Spec};
use super::ingest::percentile;
use crate::synth::Synth;

/// Save latency.
#[derive(Debug, Clone, Copy)]
pub struct Saves {
    /// Saves timed.
    pub n: usize,
    /// Median, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile, milliseconds.
    pub p99_ms: f64,
    /// Slowest, milliseconds.
    pub max_ms: f64,
}

/// Times `n` durable saves of new service logs.
pub fn saves(slice: &RegisterSlice, n: usize) -> anyhow::Result<Saves> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path().join("device.sqlite"), SystemClock::shared())?;
    store.import_slice(slice)?;
    let now = store.clock().now();
    let who = Identity {
        user: UserId::new(now),
        team: Some(TeamId::new(now)),
    };
    let mut synth = Synth::new(StdRng::seed_from_u64(5), slice);
    let inputs: Vec<_> = (0..n).map(|_| synth.service_log(30)).collect();
    let mut ms = Vec::with_capacity(n);
    for input in &inputs {
        let started = Instant::now();
        store.create_service_log(&who, input, true)?;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    Ok(Saves {
        n,
        p50_ms: percentile(&ms, 0.5),
        p99_ms: percentile(&ms, 0.99),
        max_ms: ms.last().copied().unwrap_or(0.0),
    })
}

/// Opening the store and listing the first page.
#[derive(Debug, Clone, Copy)]
pub struct FirstPage {
    /// Records in the store.
    pub records: usize,
    /// Rows on the page.
    pub rows: usize,
    /// Times measured.
    pub runs: usize,
    /// Median of open + list, milliseconds.
    pub median_ms: f64,
    /// Slowest open + list, milliseconds.
    pub worst_ms: f64,
    /// Of the slowest, the open alone, milliseconds.
    pub worst_open_ms: f64,
}

/// Fills a store with `records` records of a team, as a pull would, then
/// opens it and lists the first page `runs` times.
pub fn first_page(slice: &RegisterSlice, records: usize, runs: usize) -> anyhow::Result<FirstPage> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("device.sqlite");
    let now = app_core::Clock::now(&SystemClock);
    let team = TeamId::new(now);
    let members: Vec<Member> = (0..30)
        .map(|_| Member {
            user: UserId::new(now),
            team,
            actor: automerge::ActorId::random(),
            weight: 1,
        })
        .collect();
    let lead = Member {
        user: UserId::new(now),
        team,
        actor: automerge::ActorId::random(),
        weight: 1,
    };
    let docs = corpus::generate(
        &Spec {
            records,
            days: 365,
            seed: 4,
            edits: true,
            approvals: true,
        },
        slice,
        &members,
        Some(&lead),
    )?;
    {
        let store = Store::open(&path, SystemClock::shared())?;
        store.import_slice(slice)?;
        let changes: Vec<DocChange> = docs
            .iter()
            .flat_map(|d| {
                d.changes.iter().map(|(_, b)| DocChange {
                    doc_id: d.id,
                    bytes: b.clone(),
                })
            })
            .collect();
        for page in changes.chunks(2_000) {
            store.apply_changes(page)?;
        }
    }
    let mut totals = Vec::new();
    let mut worst = (0.0, 0.0);
    let mut rows = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let store = Store::open(&path, SystemClock::shared())?;
        let opened = started.elapsed().as_secs_f64() * 1000.0;
        let page = store.list_service_logs(&LogQuery::default())?;
        let total = started.elapsed().as_secs_f64() * 1000.0;
        rows = page.len();
        if total > worst.0 {
            worst = (total, opened);
        }
        totals.push(total);
        drop(store);
    }
    totals.sort_by(f64::total_cmp);
    Ok(FirstPage {
        records,
        rows,
        runs,
        median_ms: percentile(&totals, 0.5),
        worst_ms: worst.0,
        worst_open_ms: worst.1,
    })
}
