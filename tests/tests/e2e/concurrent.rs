//! Two devices edit the same record while apart; a team lead reviews a log
//! its author is still editing offline. Nothing is lost, and concurrent values
//! of one field stay visible until someone picks one.

use app_core::domain::{LogStatus, ServiceLog, ServiceLogId};
use app_core::store::ReviewDecision;
use ketepai_tests::device::Device;
use ketepai_tests::synth::Synth;

use crate::support::*;

fn edit(d: &Device, id: ServiceLogId, f: impl FnOnce(&mut ServiceLog)) {
    d.store
        .edit_record::<ServiceLog, _>(id.into(), |l, _| {
            f(l);
            Ok(())
        })
        .unwrap();
}

async fn sync_all(devices: &[&Device]) {
    for _ in 0..2 {
        for d in devices {
            d.sync()
                .await
                .unwrap_or_else(|e| panic!("{} failed to sync: {e}", d.name));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_and_a_tablet_edit_the_same_record() {
    let server = demo_server();
    let phone = device("张三的手机", &server.url(), ZHANG).await;
    let tablet = device("张三的平板", &server.url(), ZHANG).await;
    let lead = device("李明的平板", &server.url(), LEAD).await;
    let mut synth = Synth::new(rng(11), &slice(&phone));
    let id = phone
        .store
        .create_service_log(&phone.identity, &synth.service_log(3), true)
        .unwrap()
        .value
        .id;
    sync_all(&[&phone, &tablet]).await;
    let base = tablet.store.service_log(id).unwrap();

    // Apart: different fields, the same text, and the same scalar.
    edit(&phone, id, |l| {
        l.industry = "白茶".into();
        l.description = format!("【上午】{}", l.description);
        l.farmers_served = 30;
    });
    edit(&tablet, id, |l| {
        l.technologies.push("茶园机械修剪".into());
        l.description.push_str("【下午回访两户】");
        l.farmers_served = 45;
    });
    sync_all(&[&phone, &tablet, &lead]).await;

    let merged = phone.store.service_log(id).unwrap();
    for d in [&tablet, &lead] {
        assert_eq!(
            d.store.service_log(id).unwrap(),
            merged,
            "{} differs",
            d.name
        );
    }
    assert_eq!(merged.industry, "白茶", "the phone's field survived");
    assert!(
        merged.technologies.contains(&"茶园机械修剪".to_string()),
        "the tablet's item survived"
    );
    assert_eq!(
        merged.description,
        format!("【上午】{}【下午回访两户】", base.description),
        "both insertions in one text"
    );
    assert!([30, 45].contains(&merged.farmers_served));
    for d in [&phone, &tablet, &lead] {
        let conflicts = d.store.conflicts(id.into()).unwrap();
        assert_eq!(conflicts.len(), 1, "{}: {conflicts:?}", d.name);
        assert_eq!(conflicts[0].path_string(), "farmers_served");
        let mut values: Vec<i64> = conflicts[0]
            .values
            .iter()
            .map(|v| v.value.as_i64().unwrap())
            .collect();
        values.sort();
        assert_eq!(values, [30, 45], "both values visible on {}", d.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_lead_approves_a_log_while_its_author_edits_offline() {
    let server = demo_server();
    let phone = device("张三的手机", &server.url(), ZHANG).await;
    let lead = device("李明的平板", &server.url(), LEAD).await;
    let mut synth = Synth::new(rng(12), &slice(&phone));
    let id = phone
        .store
        .create_service_log(&phone.identity, &synth.service_log(3), true)
        .unwrap()
        .value
        .id;
    sync_all(&[&phone, &lead]).await;

    // The lead approves; the author, out of signal, adds to the description.
    lead.store
        .review_service_log(id, lead.identity.user, ReviewDecision::Approve, "记录完整")
        .unwrap();
    lead.sync().await.unwrap();
    edit(&phone, id, |l| {
        l.description.push_str("补记：下午又走访了三户茶农。")
    });
    let report = phone.sync().await.unwrap();
    assert_eq!(report.refused, 0, "the author's edit is accepted");
    lead.sync().await.unwrap();

    for d in [&phone, &lead] {
        let log = d.store.service_log(id).unwrap();
        assert_eq!(log.status, LogStatus::Approved, "{}", d.name);
        assert_eq!(log.review.comment, "记录完整");
        assert_eq!(log.review.by, Some(lead.identity.user));
        assert!(
            log.description.ends_with("补记：下午又走访了三户茶农。"),
            "{}",
            d.name
        );
    }
    assert_eq!(
        phone.store.service_log(id).unwrap(),
        lead.store.service_log(id).unwrap()
    );

    // A lead cannot edit the log's content; the server refuses and keeps the
    // refused change apart on the lead's device.
    edit(&lead, id, |l| l.farmers_served = 999);
    let report = lead.sync().await.unwrap();
    assert_eq!(report.refused, 1);
    assert_eq!(lead.store.refused_changes().unwrap().len(), 1);
    phone.sync().await.unwrap();
    assert_ne!(phone.store.service_log(id).unwrap().farmers_served, 999);
}
