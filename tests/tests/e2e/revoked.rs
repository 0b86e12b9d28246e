//! A phone revoked while it holds unsynced work (a mistake at the county
//! bureau, or a phone reported lost and then found): it is refused and
//! stops, its work stays on it, and once its user enrols it again in its
//! own place with the password, the work syncs as its own.

use app_core::sync::{self, SyncError};
use ketepai_tests::device::test_options;
use ketepai_tests::synth::Synth;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_phone_enrols_again_and_its_work_syncs() {
    let mut server = demo_server();
    let phone = device("张三的手机", &server.url(), ZHANG).await;
    let slice = slice(&phone);
    let mut synth = Synth::new(rng(11), &slice);

    // One log synced: the phone's Automerge actor is now bound to it.
    let first = phone
        .store
        .create_service_log(&phone.identity, &synth.service_log(7), true)
        .unwrap()
        .value
        .id;
    phone.sync().await.unwrap();
    // Offline: five more logs and an edit of the first.
    for _ in 0..5 {
        let input = synth.service_log(7);
        phone
            .store
            .create_service_log(&phone.identity, &input, true)
            .unwrap();
    }
    let mut input = phone.store.service_log(first).unwrap().to_input();
    input.description.push_str(synth.sentence());
    phone.store.update_service_log(first, &input, true).unwrap();

    // The county bureau revokes the phone.
    let old = sync::stored_enrolment(&phone.store).unwrap().unwrap();
    server.run_to_end(&["revoke-device", &old.device_id.to_string()]);
    let err = phone.sync().await.unwrap_err();
    assert!(matches!(err, SyncError::Revoked), "{err:?}");
    let status = phone.engine.status();
    assert_eq!(status.last_error.unwrap().code, "token_revoked");
    assert_eq!(status.pending_changes, 6, "nothing is lost");

    // A wrong password changes nothing.
    let wrong = sync::re_enrol(
        &phone.store,
        "wrong",
        "张三的手机",
        "linux",
        &test_options(),
    )
    .await;
    assert!(
        matches!(wrong, Err(SyncError::Server { status: 401, .. })),
        "{wrong:?}"
    );
    assert_eq!(sync::stored_enrolment(&phone.store).unwrap().unwrap(), old);

    // The right one: a new device in the old one's place.
    let again = sync::re_enrol(
        &phone.store,
        ZHANG.1,
        "张三的手机",
        "linux",
        &test_options(),
    )
    .await
    .unwrap();
    assert_ne!(again.device_id, old.device_id);
    assert_eq!(again.me.user.id, old.me.user.id);
    let report = phone.sync().await.expect("the held work syncs");
    assert_eq!((report.acknowledged, report.refused), (6, 0));
    assert_eq!(phone.engine.status().pending_changes, 0);

    // The team lead sees all six logs, the edit included.
    let lead = device("李明的平板", &server.url(), LEAD).await;
    lead.sync().await.unwrap();
    assert_eq!(logs(&lead.store), logs(&phone.store));
    assert_eq!(logs(&lead.store).len(), 6);

    // The operator's list shows the old device revoked, the new one active.
    let listed = server.run_to_end(&["list-devices"]);
    let line = |id: &str| {
        listed
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("{id} not in:\n{listed}"))
            .to_owned()
    };
    assert!(
        line(&old.device_id.to_string()).contains("revoked"),
        "{listed}"
    );
    assert!(
        !line(&again.device_id.to_string()).contains("revoked"),
        "{listed}"
    );
}
