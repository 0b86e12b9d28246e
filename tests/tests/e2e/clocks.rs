//! A device clock set a year wrong changes nothing about the outcome: the
//! same work from devices with wrong clocks merges to the same records as
//! from devices with right ones (apart from the device-stamped times
//! themselves, which are kept as the devices wrote them).

use app_core::domain::{ServiceLog, Timestamp};
use ketepai_tests::device::Device;
use ketepai_tests::synth::Synth;

use crate::support::*;

const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

/// Runs the same story with the given clock offsets for phone and tablet and
/// returns the merged records, with device-stamped times blanked.
async fn story(phone_offset: i64, tablet_offset: i64) -> (Vec<ServiceLog>, Vec<Vec<i64>>) {
    let server = demo_server();
    let phone = device_with_clock("手机", &server.url(), ZHANG, phone_offset).await;
    let tablet = device_with_clock("平板", &server.url(), ZHANG, tablet_offset).await;
    let lead = device("李明的平板", &server.url(), LEAD).await;
    let mut synth = Synth::new(rng(21), &slice(&phone));
    let mut ids = Vec::new();
    for _ in 0..5 {
        let input = synth.service_log(5);
        ids.push(
            phone
                .store
                .create_service_log(&phone.identity, &input, true)
                .unwrap()
                .value
                .id,
        );
    }
    for d in [&phone, &tablet] {
        d.sync().await.unwrap();
    }
    // The phone writes at the start and the tablet at the end, so the merged
    // text does not depend on how Automerge orders concurrent insertions at
    // one place (which follows random actor IDs, not clocks).
    let edit = |d: &Device, i: usize, text: &str, n: u32| {
        let at_start = d.name == "手机";
        d.store
            .edit_record::<ServiceLog, _>(ids[i].into(), |l, _| {
                if at_start {
                    l.description.insert_str(0, text);
                } else {
                    l.description.push_str(text);
                }
                l.farmers_served = n;
                Ok(())
            })
            .unwrap();
    };
    edit(&phone, 0, "甲", 11);
    edit(&tablet, 0, "乙", 12);
    edit(&tablet, 1, "丙", 13);
    edit(&phone, 2, "丁", 14);
    for d in [&phone, &tablet, &lead, &phone, &tablet, &lead] {
        let r = d.sync().await.unwrap();
        assert_eq!(r.refused, 0, "{} was refused", d.name);
    }
    let mut out = Vec::new();
    let mut conflicts = Vec::new();
    for id in &ids {
        let mut log = lead.store.service_log(*id).unwrap();
        assert_eq!(log, phone.store.service_log(*id).unwrap());
        assert_eq!(log, tablet.store.service_log(*id).unwrap());
        log.created_at = Timestamp::default();
        out.push(log);
        let mut values: Vec<i64> = lead
            .store
            .conflicts((*id).into())
            .unwrap()
            .iter()
            .flat_map(|c| c.values.iter().filter_map(|v| v.value.as_i64()))
            .collect();
        values.sort();
        conflicts.push(values);
    }
    (out, conflicts)
}

fn normalise(mut logs: Vec<ServiceLog>) -> Vec<(String, String, Vec<String>)> {
    // Record IDs and the conflict winner differ between runs by design
    // (random IDs and actors); the content must not.
    logs.sort_by(|a, b| a.description.cmp(&b.description));
    logs.into_iter()
        .map(|l| (l.description, l.industry, l.technologies))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_clock_a_year_wrong_changes_nothing_about_the_outcome() {
    let (right, right_conflicts) = story(0, 0).await;
    let (wrong, wrong_conflicts) = story(YEAR_MS, -YEAR_MS).await;
    assert_eq!(normalise(right), normalise(wrong));
    assert_eq!(
        right_conflicts, wrong_conflicts,
        "the same conflicts, with the same values"
    );
    assert_eq!(right_conflicts[0], [11, 12]);
}
