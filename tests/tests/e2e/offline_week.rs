//! A commissioner offline for a week (35 logs, 10 edits, photos) syncs in one
//! go, and the team sees exactly that work.

use std::sync::Arc;

use app_core::store::hash_bytes;
use app_core::sync::SyncEngine;
use ketepai_tests::device::test_options;
use ketepai_tests::synth::Synth;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_offline_syncs_in_one_go() {
    let server = demo_server();
    let phone = device("张三的手机", &server.url(), ZHANG).await;
    let slice = slice(&phone);
    let mut synth = Synth::new(rng(7), &slice);

    // A week in the villages with no signal.
    let mut ids = Vec::new();
    let mut photos = Vec::new();
    for i in 0..35u64 {
        let mut input = synth.service_log(7);
        if i % 7 == 0 {
            let bytes = photo_bytes(i, 180_000 + (i as usize) * 1000);
            input.photos.push(attach_photo(&phone.store, &bytes));
            photos.push(bytes);
        }
        let saved = phone
            .store
            .create_service_log(&phone.identity, &input, true)
            .unwrap();
        ids.push(saved.value.id);
    }
    for (n, id) in ids.iter().take(10).enumerate() {
        let mut input = phone.store.service_log(*id).unwrap().to_input();
        input.description.push_str(synth.sentence());
        input.farmers_served += n as i64 + 1;
        phone.store.update_service_log(*id, &input, true).unwrap();
    }
    let waiting = phone.store.outbox_stats().unwrap();
    assert_eq!((waiting.changes, waiting.records), (45, 35));
    assert!(phone.store.pending_photo_bytes().unwrap() > 0);

    // Back in range: one round.
    let report = phone.sync().await.expect("one round syncs everything");
    assert_eq!(report.acknowledged, 45);
    assert_eq!(report.refused, 0);
    assert_eq!(
        report.photos_uploaded,
        photos.len() * 2,
        "each photo and its thumbnail"
    );
    let status = phone.engine.status();
    assert_eq!(status.pending_changes, 0);
    assert_eq!(status.pending_photo_bytes, 0);
    assert!(status.last_success.is_some() && status.last_error.is_none());
    let restarted = SyncEngine::new(Arc::clone(&phone.store), test_options()).unwrap();
    assert_eq!(
        restarted.status().last_success,
        status.last_success,
        "the last success is kept across restarts"
    );

    // The team lead's tablet and a teammate see the week, edits included.
    let lead = device("李明的平板", &server.url(), LEAD).await;
    lead.sync().await.unwrap();
    let teammate = device("王芳的手机", &server.url(), WANG).await;
    teammate.sync().await.unwrap();
    let mine = logs(&phone.store);
    assert_eq!(mine.len(), 35);
    assert_eq!(logs(&lead.store), mine);
    assert_eq!(logs(&teammate.store), mine);

    // Photos arrive byte for byte: the lead's tablet fetches each when it
    // is looked at, checks it against its hash, and keeps it.
    for bytes in &photos {
        let hash = hash_bytes(bytes);
        assert_eq!(lead.store.photo(&hash).unwrap(), None, "fetched on demand");
        let got = lead
            .engine
            .fetch_photo(hash)
            .await
            .unwrap()
            .expect("photo on the server");
        assert_eq!(&got, bytes);
        assert_eq!(lead.store.photo(&hash).unwrap().as_ref(), Some(bytes));
    }

    // A second round with nothing new is a single request.
    let again = phone.sync().await.unwrap();
    assert_eq!(again.requests, 1, "{again:?}");
    assert_eq!(again.pulled, 0);
}
