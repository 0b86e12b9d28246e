//! Hundreds of seeded runs through a proxy that drops connections mid-request
//! and mid-response, delays, duplicates requests, answers 503 and truncates
//! bodies. After the link heals: nothing lost, nothing duplicated, all
//! converge. A failing run names its seed; `KETEPAI_FAULT_SEED=<n>` reruns
//! just that one, `KETEPAI_FAULT_RUNS=<n>` sets how many (default 200).

use std::collections::BTreeSet;
use std::sync::Arc;

use app_core::domain::{Role, ServiceLog};
use ketepai_tests::device::Device;
use ketepai_tests::proxy::{Fate, FaultPlan, FaultProxy};
use ketepai_tests::server::ServerProcess;
use ketepai_tests::synth::Synth;
use rand::Rng;

use crate::support::*;

struct Outcome {
    failed_rounds: usize,
    faults: usize,
}

async fn run(seed: u64, server: Arc<ServerProcess>, user: String) -> Outcome {
    let user = user.as_str();
    let password = format!("password-{user}");
    let phone = device("phone", &server.url(), (user, &password)).await;
    let tablet = device("tablet", &server.url(), (user, &password)).await;
    let proxy = FaultProxy::start(server.addr(), FaultPlan::hostile(seed))
        .await
        .unwrap();
    phone.set_server(&proxy.url());
    tablet.set_server(&proxy.url());
    let mut synth = Synth::new(rng(seed), &slice(&phone));
    let mut created = BTreeSet::new();
    let mut failed_rounds = 0;

    for _ in 0..14 {
        let d: &Device = if synth.rng().random_bool(0.5) {
            &phone
        } else {
            &tablet
        };
        match synth.rng().random_range(0..10) {
            0..=3 => {
                let input = synth.service_log(10);
                created.insert(
                    d.store
                        .create_service_log(&d.identity, &input, true)
                        .unwrap()
                        .value
                        .id,
                );
            }
            4..=5 => {
                let mine: Vec<_> = logs(&d.store).into_keys().collect();
                if !mine.is_empty() {
                    let id = mine[synth.rng().random_range(0..mine.len())];
                    let sentence = synth.sentence();
                    let n = synth.rng().random_range(1..50);
                    d.store
                        .edit_record::<ServiceLog, _>(id.into(), |l, _| {
                            l.description.push_str(sentence);
                            l.farmers_served = n;
                            Ok(())
                        })
                        .unwrap();
                }
            }
            _ => match d.sync().await {
                Ok(r) => assert_eq!(r.refused, 0, "seed {seed}: a change was refused"),
                Err(e) if e.is_retryable() => failed_rounds += 1,
                Err(e) => panic!(
                    "seed {seed}: {} stopped on {e}; fates {:?}",
                    d.name,
                    proxy.fates()
                ),
            },
        }
    }

    // The link heals.
    let faults = proxy.fates().iter().filter(|f| **f != Fate::Pass).count();
    proxy.set_plan(FaultPlan::clean());
    for d in [&phone, &tablet, &phone] {
        d.sync_until_done(5).await.unwrap_or_else(|e| {
            panic!("seed {seed}: {} cannot finish on a clean link: {e}", d.name)
        });
    }

    let on_phone = logs(&phone.store);
    assert_eq!(
        logs(&tablet.store),
        on_phone,
        "seed {seed}: phone and tablet differ"
    );
    let ids: BTreeSet<_> = on_phone.keys().copied().collect();
    assert_eq!(ids, created, "seed {seed}: records lost or invented");
    for d in [&phone, &tablet] {
        assert_eq!(
            d.store.outbox_stats().unwrap().changes,
            0,
            "seed {seed}: {} kept changes",
            d.name
        );
        assert!(d.store.refused_changes().unwrap().is_empty());
    }
    // The server holds exactly that: a fresh device pulls it directly.
    let fresh = device("fresh", &server.url(), (user, &password)).await;
    fresh.sync().await.unwrap();
    assert_eq!(
        logs(&fresh.store),
        on_phone,
        "seed {seed}: the server differs"
    );
    Outcome {
        failed_rounds,
        faults,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_fault_runs_lose_and_duplicate_nothing() {
    let seeds: Vec<u64> = match std::env::var("KETEPAI_FAULT_SEED") {
        Ok(s) => vec![s.parse().expect("KETEPAI_FAULT_SEED is a number")],
        Err(_) => {
            let runs: u64 = std::env::var("KETEPAI_FAULT_RUNS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(200);
            (1..=runs).collect()
        }
    };
    // One commissioner in a team of their own per run, so runs do not see
    // each other's records.
    let mut server = ServerProcess::demo(server_exe());
    let users: Vec<String> = seeds.iter().map(|s| format!("f{s}")).collect();
    let teams: Vec<(String, Vec<(&str, Role)>)> = users
        .iter()
        .map(|u| {
            (
                format!("故障测试{u}"),
                vec![(u.as_str(), Role::Commissioner)],
            )
        })
        .collect();
    let teams: Vec<(&str, &[(&str, Role)])> = teams
        .iter()
        .map(|(n, m)| (n.as_str(), m.as_slice()))
        .collect();
    server.add_teams(&teams).await;
    server.start();

    // Runs are independent (own team, devices and proxy), so a few go at
    // once; each stays reproducible from its seed alone.
    let server = Arc::new(server);
    let (mut faults, mut failed_rounds) = (0, 0);
    for chunk in seeds.iter().zip(&users).collect::<Vec<_>>().chunks(4) {
        let mut runs = tokio::task::JoinSet::new();
        for (seed, user) in chunk {
            runs.spawn(run(**seed, Arc::clone(&server), (*user).clone()));
        }
        while let Some(outcome) = runs.join_next().await {
            let outcome = outcome.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            faults += outcome.faults;
            failed_rounds += outcome.failed_rounds;
        }
    }
    println!(
        "fault runs: {} seeds, {faults} faulted connections, {failed_rounds} sync rounds cut short; \
         nothing lost, nothing duplicated",
        seeds.len()
    );
    assert!(faults > seeds.len(), "the proxy did inject faults");
}
