//! Crash safety: a child process saves and edits records in a loop and is
//! killed with SIGKILL at random moments. After every kill the store opens,
//! passes `PRAGMA integrity_check`, and holds every record whose save had
//! returned, with at least the last edit that had returned.
//!
//! The child is this test binary itself, running the ignored test
//! `crash::child_writer`. `KETEPAI_CRASH_CYCLES` sets the number of kills
//! (default 200); `KETEPAI_CRASH_SEED` the seed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use app_core::clock::SystemClock;
use app_core::domain::ServiceLogId;
use app_core::store::{LogQuery, Store};
use rand::{Rng, SeedableRng};

use crate::support::*;

const STORE_ENV: &str = "KETEPAI_CRASH_STORE";

/// Not a test on its own: the body of the child process.
#[test]
#[ignore = "run by crash::killed_writers_lose_nothing_that_was_saved as its child"]
fn child_writer() {
    let Ok(path) = std::env::var(STORE_ENV) else {
        panic!("{STORE_ENV} is not set: this is the crash test's child process");
    };
    let cycle: u64 = std::env::var("KETEPAI_CRASH_CYCLE")
        .unwrap()
        .parse()
        .unwrap();
    let store = Store::open(&path, SystemClock::shared()).unwrap();
    let mut ids: Vec<ServiceLogId> = store
        .list_service_logs(&LogQuery {
            limit: Some(500),
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    for n in 0u64.. {
        if !ids.is_empty() && rng.random_bool(0.4) {
            let id = ids[rng.random_range(0..ids.len())];
            let mut input = store.service_log(id).unwrap().to_input();
            // Edits are numbered across all children: (cycle, n) only grows.
            let stamp = cycle * 1_000_000 + n;
            input.description = format!("edit-{stamp}");
            store.update_service_log(id, &input, false).unwrap();
            writeln!(out, "edited {id} {stamp}").unwrap();
        } else {
            let mut input = training_input();
            input.description = format!("created-{n}");
            let saved = store
                .create_service_log(&commissioner(), &input, true)
                .unwrap();
            ids.push(saved.value.id);
            writeln!(out, "saved {}", saved.value.id).unwrap();
        }
        out.flush().unwrap();
    }
}

#[test]
fn killed_writers_lose_nothing_that_was_saved() {
    let cycles: usize = std::env::var("KETEPAI_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("KETEPAI_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x6b_7470);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.sqlite");
    let exe = std::env::current_exe().unwrap();
    Store::open(&path, SystemClock::shared())
        .unwrap()
        .import_slice(county_slice())
        .unwrap();

    let mut saved: BTreeSet<ServiceLogId> = BTreeSet::new();
    let mut last_edit: BTreeMap<ServiceLogId, u64> = BTreeMap::new();
    let mut acknowledged_total = 0usize;
    let mut kills_mid_write = 0usize;

    for cycle in 0..cycles {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::child_writer",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(STORE_ENV, &path)
            .env("KETEPAI_CRASH_CYCLE", cycle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Where the kill lands follows the child's progress, not the wall
        // clock, so a loaded machine kills as often mid-write as an idle
        // one: most cycles wait until the child has opened the store and
        // acknowledged 0 to 3 writes, then kill within the next few
        // milliseconds (inside or between writes); some kill it while it
        // is still opening and migrating.
        let mut early = Vec::new();
        if rng.random_bool(0.9) {
            let acks_wanted = rng.random_range(0..4usize);
            let mut ready = false;
            let mut acks = 0;
            while !ready || acks < acks_wanted {
                match rx.recv_timeout(Duration::from_secs(60)) {
                    // libtest prints "test crash::child_writer ... " before
                    // the child's own first line.
                    Ok(line) if line.ends_with("ready") => ready = true,
                    Ok(line) => {
                        if ready {
                            acks += 1;
                        }
                        early.push(line);
                    }
                    Err(e) => panic!("cycle {cycle}: child stalled: {e}"),
                }
            }
        }
        std::thread::sleep(Duration::from_micros(rng.random_range(0..5_000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();

        let mut this_cycle = 0;
        for line in early.into_iter().chain(rx.try_iter()) {
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some("saved"), Some(id), None) => {
                    saved.insert(id.parse().unwrap());
                    this_cycle += 1;
                }
                (Some("edited"), Some(id), Some(n)) => {
                    last_edit.insert(id.parse().unwrap(), n.parse().unwrap());
                    this_cycle += 1;
                }
                (Some("ready"), None, None) => {}
                // The kill can cut the last line short: that write's return
                // was never seen, so it is not an acknowledged save.
                _ => {}
            }
        }
        acknowledged_total += this_cycle;
        if this_cycle > 0 {
            kills_mid_write += 1;
        }

        let store = Store::open(&path, SystemClock::shared())
            .unwrap_or_else(|e| panic!("cycle {cycle} (seed {seed}): store does not open: {e}"));
        store
            .integrity_check()
            .unwrap_or_else(|e| panic!("cycle {cycle} (seed {seed}): {e}"));
        for id in &saved {
            let log = store.service_log(*id).unwrap_or_else(|e| {
                panic!("cycle {cycle} (seed {seed}): saved log {id} lost: {e}")
            });
            if let Some(n) = last_edit.get(id) {
                let got: u64 = log
                    .description
                    .strip_prefix("edit-")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| {
                        panic!(
                            "cycle {cycle}: log {id} lost its edit: {:?}",
                            log.description
                        )
                    });
                assert!(
                    got >= *n,
                    "cycle {cycle}: log {id} went back from edit {n} to {got}"
                );
            }
        }
        let listed = store
            .list_service_logs(&LogQuery {
                limit: Some(500),
                ..Default::default()
            })
            .unwrap()
            .len() as u64;
        assert_eq!(
            listed.min(500),
            store.doc_count().unwrap().min(500),
            "cycle {cycle}: projection and documents disagree"
        );
    }
    println!(
        "crash test: {cycles} SIGKILLs (seed {seed}), {acknowledged_total} acknowledged writes, \
         {} records, {kills_mid_write} kills after at least one write",
        saved.len()
    );
    assert!(
        kills_mid_write > cycles / 2,
        "most kills should land while the child is writing ({kills_mid_write} of {cycles})"
    );
}
