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

/// One seeded run: the phone talks to `phone_at` and the tablet to
/// `tablet_at` (the same server, or two instances of one), each through a
/// hostile proxy of its own.
async fn run(
    seed: u64,
    phone_at: Arc<ServerProcess>,
    tablet_at: Arc<ServerProcess>,
    user: String,
) -> Outcome {
    let user = user.as_str();
    let password = format!("password-{user}");
    let phone = device("phone", &phone_at.url(), (user, &password)).await;
    let tablet = device("tablet", &tablet_at.url(), (user, &password)).await;
    let phone_proxy = FaultProxy::start(phone_at.addr(), FaultPlan::hostile(seed))
        .await
        .unwrap();
    let tablet_proxy = FaultProxy::start(tablet_at.addr(), FaultPlan::hostile(seed ^ 0x7AB1E7))
        .await
        .unwrap();
    phone.set_server(&phone_proxy.url());
    tablet.set_server(&tablet_proxy.url());
    let mut synth = Synth::new(rng(seed), &slice(&phone));
    let mut created = BTreeSet::new();
    let mut failed_rounds = 0;

    for _ in 0..14 {
        let (d, proxy): (&Device, &FaultProxy) = if synth.rng().random_bool(0.5) {
            (&phone, &phone_proxy)
        } else {
            (&tablet, &tablet_proxy)
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

    // The links heal.
    let faults = [&phone_proxy, &tablet_proxy]
        .iter()
        .map(|p| p.fates().iter().filter(|f| **f != Fate::Pass).count())
        .sum();
    phone_proxy.set_plan(FaultPlan::clean());
    tablet_proxy.set_plan(FaultPlan::clean());
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
    // The server holds exactly that: a fresh device pulls it directly
    // (from the tablet's instance, which the phone never spoke to).
    let fresh = device("fresh", &tablet_at.url(), (user, &password)).await;
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

/// The seeds to run: `KETEPAI_FAULT_SEED` alone, or `KETEPAI_FAULT_RUNS`
/// of them, or `default`.
fn seeds(default: u64) -> Vec<u64> {
    match std::env::var("KETEPAI_FAULT_SEED") {
        Ok(s) => vec![s.parse().expect("KETEPAI_FAULT_SEED is a number")],
        Err(_) => {
            let runs: u64 = std::env::var("KETEPAI_FAULT_RUNS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default);
            (1..=runs).collect()
        }
    }
}

/// Adds one commissioner in a team of their own per seed to the (stopped)
/// server, so runs do not see each other's records; their user names.
async fn users_for(server: &mut ServerProcess, seeds: &[u64]) -> Vec<String> {
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
    users
}

/// Every seed's run, four at a time (each stays reproducible from its seed
/// alone); asserts the proxies did inject faults.
async fn run_all(
    seeds: &[u64],
    users: &[String],
    phone_at: Arc<ServerProcess>,
    tablet_at: Arc<ServerProcess>,
) {
    let (mut faults, mut failed_rounds) = (0, 0);
    for chunk in seeds.iter().zip(users).collect::<Vec<_>>().chunks(4) {
        let mut runs = tokio::task::JoinSet::new();
        for (seed, user) in chunk {
            runs.spawn(run(
                **seed,
                Arc::clone(&phone_at),
                Arc::clone(&tablet_at),
                (*user).clone(),
            ));
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
    assert!(faults > seeds.len(), "the proxies did inject faults");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_fault_runs_lose_and_duplicate_nothing() {
    let seeds = seeds(200);
    let mut server = ServerProcess::demo(server_exe());
    let users = users_for(&mut server, &seeds).await;
    server.start();
    let server = Arc::new(server);
    run_all(&seeds, &users, Arc::clone(&server), server).await;
}

/// The phone behind one instance, the tablet behind another, both on one
/// PostgreSQL database and both links hostile: the instances share no
/// state but the database, and nothing is lost, duplicated or skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_hostile_links_lose_and_duplicate_nothing() {
    let Some(base) = ketepai_tests::pg::test_database().expect("the test database") else {
        use std::io::Write;
        let _ = std::io::stderr().write_all(
            b"\n*** SKIP: the two-instance fault runs do not run: KETEPAI_TEST_DATABASE_URL is \
              unset (sync-server/scripts/ci-postgres.sh; KETEPAI_REQUIRE_POSTGRES=1 makes this \
              a failure) ***\n\n",
        );
        return;
    };
    let schema = ketepai_tests::pg::Schema::create(&base)
        .await
        .expect("a schema of its own");
    let seeds = seeds(30);
    let mut first = ServerProcess::demo_on(server_exe(), Some(schema.url()));
    let users = users_for(&mut first, &seeds).await;
    let mut second = first.another_instance();
    first.start();
    second.start();
    run_all(&seeds, &users, Arc::new(first), Arc::new(second)).await;
    schema.drop_all().await.expect("drop the schema");
}
