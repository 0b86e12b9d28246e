//! Twenty devices making random edits and syncing at random: all devices and
//! the server end with identical records.

use app_core::domain::{LogStatus, Role, ServiceLog};
use app_core::store::ReviewDecision;
use ketepai_tests::device::Device;
use ketepai_tests::server::ServerProcess;
use ketepai_tests::synth::Synth;
use rand::Rng;
use rand::seq::IndexedRandom;

use crate::support::*;

const COMMISSIONERS: usize = 9;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_devices_editing_and_syncing_at_random_converge() {
    let seed: u64 = std::env::var("KETEPAI_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut server = ServerProcess::demo(server_exe());
    let names: Vec<String> = (0..COMMISSIONERS).map(|i| format!("c{i}")).collect();
    let mut members: Vec<(&str, Role)> = names
        .iter()
        .map(|n| (n.as_str(), Role::Commissioner))
        .collect();
    members.push(("lead", Role::TeamLead));
    server.add_teams(&[("随机测试团", &members)]).await;
    server.start();

    // Two devices per commissioner (phone and tablet), two for the lead.
    let mut devices: Vec<Device> = Vec::new();
    for (name, _) in &members {
        for kind in ["phone", "tablet"] {
            let password = format!("password-{name}");
            devices.push(device(&format!("{name}-{kind}"), &server.url(), (name, &password)).await);
        }
    }
    assert_eq!(devices.len(), 20);
    let lead_user = devices.last().unwrap().identity.user;
    let mut synth = Synth::new(rng(seed), &slice(&devices[0]));

    for _step in 0..150 {
        let d = &devices[synth.rng().random_range(0..devices.len())];
        let is_lead = d.identity.user == lead_user;
        let roll = synth.rng().random_range(0..100);
        let own: Vec<_> = logs(&d.store)
            .into_values()
            .filter(|l| l.author == d.identity.user)
            .collect();
        match roll {
            0..=24 if !is_lead => {
                let input = synth.service_log(30);
                d.store
                    .create_service_log(&d.identity, &input, true)
                    .unwrap();
            }
            25..=49 if !own.is_empty() => {
                let log = own.choose(synth.rng()).unwrap().clone();
                let sentence = synth.sentence();
                let n = synth.rng().random_range(1..80);
                let which = synth.rng().random_range(0..3);
                d.store
                    .edit_record::<ServiceLog, _>(log.id.into(), |l, _| {
                        match which {
                            0 => l.description.push_str(sentence),
                            1 => l.farmers_served = n,
                            _ => l.technologies.push(format!("技术{n}")),
                        }
                        Ok(())
                    })
                    .unwrap();
            }
            50..=59 if is_lead => {
                let submitted: Vec<_> = logs(&d.store)
                    .into_values()
                    .filter(|l| l.status == LogStatus::Submitted)
                    .collect();
                if let Some(log) = submitted.choose(synth.rng()) {
                    d.store
                        .review_service_log(log.id, lead_user, ReviewDecision::Approve, "同意")
                        .unwrap();
                }
            }
            _ => {
                let r = d
                    .sync()
                    .await
                    .unwrap_or_else(|e| panic!("{} (seed {seed}): {e}", d.name));
                assert_eq!(r.refused, 0, "{} was refused (seed {seed})", d.name);
            }
        }
    }

    for _ in 0..2 {
        for d in &devices {
            d.sync().await.unwrap();
        }
    }
    let reference = logs(&devices[0].store);
    assert!(
        reference.len() > 10,
        "the run made records ({})",
        reference.len()
    );
    for d in &devices[1..] {
        assert_eq!(
            logs(&d.store),
            reference,
            "{} differs (seed {seed})",
            d.name
        );
        assert_eq!(
            d.store.outbox_stats().unwrap().changes,
            0,
            "{} has unsent changes",
            d.name
        );
    }
    // The server holds the same: a county admin's fresh device pulls it all.
    let admin = device("admin", &server.url(), ADMIN).await;
    admin.sync().await.unwrap();
    assert_eq!(
        logs(&admin.store),
        reference,
        "the server differs (seed {seed})"
    );
}
