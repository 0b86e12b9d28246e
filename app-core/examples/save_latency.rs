//! Measures durable save latency of the device store: `synchronous=FULL`
//! (the product's setting) against `NORMAL`, each plain and encrypted by
//! SQLCipher (the device's setting), side by side in one run.
//!
//! `cargo run --release -p app-core --example save_latency [N]`

use std::time::Instant;

use app_core::clock::SystemClock;
use app_core::domain::{GeoPoint, ServiceLogInput};
use app_core::store::{Durability, Identity, Store, StoreKey, StoreOptions};

fn input(i: usize) -> ServiceLogInput {
    ServiceLogInput {
        date: "2026-11-28".into(),
        start_time: Some("09:00".into()),
        end_time: Some("11:30".into()),
        village: "520324001001".into(),
        location: Some(GeoPoint {
            lat: 28.55,
            lon: 107.44,
            accuracy_m: Some(12.0),
        }),
        activity: "technical_guidance".into(),
        industry: "茶叶".into(),
        farmers_served: 12,
        trainees: None,
        served: vec![],
        technologies: vec!["茶园绿色防控".into()],
        varieties: vec![],
        description: format!(
            "第{i}次到村指导茶园冬季管理，讲解修剪与施肥要点，查看病虫害发生情况。"
        ),
        photos: vec![],
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let who = Identity {
        user: "0192f000-0000-7000-8000-000000000001".parse().unwrap(),
        team: None,
    };
    println!(
        "{:<8} {:<10} {:>6} {:>9} {:>9} {:>9}",
        "sync", "file", "saves", "p50 ms", "p99 ms", "max ms"
    );
    let key = StoreKey::generate();
    for (label, durability) in [("FULL", Durability::Full), ("NORMAL", Durability::Normal)] {
        for encrypted in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("bench.sqlite");
            let options = StoreOptions { durability };
            let store = if encrypted {
                Store::open_encrypted_with(path, &key, SystemClock::shared(), options)
            } else {
                Store::open_with(path, SystemClock::shared(), options)
            }
            .unwrap();
            let file = if encrypted { "sqlcipher" } else { "plain" };
            let mut times = Vec::with_capacity(n);
            for i in 0..n {
                let started = Instant::now();
                store.create_service_log(&who, &input(i), true).unwrap();
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "{label:<8} {file:<10} {n:>6} {:>9.2} {:>9.2} {:>9.2}",
                percentile(&times, 0.5),
                percentile(&times, 0.99),
                times[n - 1]
            );
        }
    }
}
