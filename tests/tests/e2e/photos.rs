//! A photo upload cut at random offsets completes with the right hash,
//! re-sending at most one chunk per cut.

use std::sync::atomic::Ordering;

use app_core::store::hash_bytes;
use app_core::sync::{SyncClient, stored_enrolment};
use ketepai_tests::device::test_options;
use ketepai_tests::proxy::{Fate, FaultPlan, FaultProxy};
use ketepai_tests::synth::Synth;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_upload_cut_at_random_offsets_completes() {
    let server = demo_server();
    let phone = device("张三的手机", &server.url(), ZHANG).await;
    let bytes = photo_bytes(99, 1_000_000);
    // A photo uploads once a saved record refers to it.
    let meta = attach_photo(&phone.store, &bytes);
    let hash = meta.hash;
    let thumb_len = bytes.len().min(4096) as u64;
    let mut input = Synth::new(rng(3), &slice(&phone)).service_log(7);
    input.photos = vec![meta];
    phone
        .store
        .create_service_log(&phone.identity, &input, true)
        .unwrap();
    let chunk = test_options().photo_chunk as u64;

    let plan = FaultPlan {
        seed: 5,
        drop_request: 0.3,
        drop_response: 0.2,
        ..FaultPlan::clean()
    };
    let proxy = FaultProxy::start(server.addr(), plan).await.unwrap();
    phone.set_server(&proxy.url());
    let mut cut_rounds = 0;
    let done = loop {
        match phone.sync().await {
            Ok(_) => break true,
            Err(e) if e.is_retryable() => cut_rounds += 1,
            Err(e) => panic!("upload stopped: {e}"),
        }
        if cut_rounds > 200 {
            break false;
        }
    };
    assert!(done, "the upload finished");
    assert!(phone.store.photos_to_upload().unwrap().is_empty());
    let cuts = proxy
        .fates()
        .iter()
        .filter(|f| matches!(f, Fate::DropRequest(_) | Fate::DropResponse(_)))
        .count() as u64;
    assert!(cuts >= 3, "the upload was cut ({cuts} times)");

    let sent = phone
        .engine
        .counters()
        .photo_bytes_attempted
        .load(Ordering::Relaxed);
    assert!(
        sent <= bytes.len() as u64 + thumb_len + cuts * chunk,
        "sent {sent} bytes for a {} byte photo with {cuts} cuts: more than one chunk per cut",
        bytes.len()
    );
    println!(
        "photo upload: {} bytes, {cuts} cuts, {sent} bytes sent ({:.2}x)",
        bytes.len(),
        sent as f64 / bytes.len() as f64
    );

    let enrolment = stored_enrolment(&phone.store).unwrap().unwrap();
    let client = SyncClient::new(&server.url(), &enrolment.token, &test_options()).unwrap();
    let stored = client.photo_get(&hash).await.unwrap().expect("stored");
    assert_eq!(hash_bytes(&stored), hash);
}
