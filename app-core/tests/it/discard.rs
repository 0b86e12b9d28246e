//! What a sync admin's decision on a device's refused changes does to the
//! device's store: a release takes them off the refused list; a discard
//! replaces the device's copy of the record with the server's, keeps the
//! unsent edits that do not build on the discarded change, and lists the
//! ones that do as lost, so nothing waits forever for a change the server
//! will never have.

use app_core::store::{CODE_DISCARDED, CODE_LOST, DocChange, OutboxEntry, Store};

use crate::support::{TestStore, commissioner, training_input};

fn outbox(store: &Store) -> Vec<OutboxEntry> {
    store.outbox_peek(1000, usize::MAX).unwrap()
}

fn bytes(entries: &[OutboxEntry]) -> Vec<Vec<u8>> {
    entries.iter().map(|e| e.change.bytes.clone()).collect()
}

#[test]
fn a_discard_takes_the_edits_built_on_it_and_the_servers_copy_takes_its_place() {
    let device = TestStore::new();
    let tablet = TestStore::new();
    let me = commissioner();
    let log = device
        .store
        .create_service_log(&me, &training_input(), true)
        .unwrap()
        .value;
    let doc = log.id.into();
    let created = outbox(&device.store);
    assert_eq!(created.len(), 1);
    device.store.outbox_ack(&[created[0].hash]).unwrap();

    // The author's tablet, with the record from the server, changes a count.
    tablet
        .store
        .apply_changes(&[created[0].change.clone()])
        .unwrap();
    let mut input = training_input();
    input.farmers_served = 50;
    tablet
        .store
        .update_service_log(log.id, &input, true)
        .unwrap();
    let from_tablet = outbox(&tablet.store);
    assert_eq!(from_tablet.len(), 1);

    // The phone writes a change the server refuses, and builds on it.
    let mut input = training_input();
    input.village = crate::support::VILLAGE_2.into();
    device
        .store
        .update_service_log(log.id, &input, true)
        .unwrap();
    let refused = outbox(&device.store)[0].clone();
    device
        .store
        .outbox_refuse(&refused.hash, "out_of_scope", "another team's village")
        .unwrap();
    input.description = "又补充了培训内容".into();
    device
        .store
        .update_service_log(log.id, &input, true)
        .unwrap();
    assert_eq!(outbox(&device.store).len(), 1, "the edit after it waits");
    assert_eq!(device.store.refused_count().unwrap(), 1);

    // A sync admin discards it: the server's copy holds the creation and
    // the tablet's change.
    let server = [
        created[0].change.bytes.clone(),
        from_tablet[0].change.bytes.clone(),
    ];
    let rebuilt = device
        .store
        .replace_with_server_copy(doc, &server, &[refused.hash], "村填错了，请重新录入")
        .unwrap();
    assert_eq!((rebuilt.kept, rebuilt.lost, rebuilt.removed), (0, 1, false));
    let now = device.store.service_log(log.id).unwrap();
    assert_eq!(now.farmers_served, 50, "the tablet's change is there");
    assert_eq!(now.village, log.village, "the discarded change is not");
    assert_eq!(now.description, log.description, "nor the edit built on it");
    assert!(outbox(&device.store).is_empty(), "nothing waits forever");
    let listed = device.store.refused_changes().unwrap();
    let codes: Vec<(&str, &str)> = listed
        .iter()
        .map(|(_, code, reason)| (code.as_str(), reason.as_str()))
        .collect();
    assert!(
        codes.contains(&(CODE_DISCARDED, "村填错了，请重新录入")),
        "{codes:?}"
    );
    assert!(
        codes
            .iter()
            .any(|(c, r)| *c == CODE_LOST && r.contains("村填错了，请重新录入")),
        "{codes:?}"
    );
    assert_eq!(
        device.store.refused_count().unwrap(),
        0,
        "nothing waits for an admin any more"
    );
    assert_eq!(device.store.lost_edits(doc).unwrap(), 1);

    // Running it again (a notice fetched twice) changes nothing.
    let again = device
        .store
        .replace_with_server_copy(doc, &server, &[refused.hash], "村填错了，请重新录入")
        .unwrap();
    assert_eq!((again.kept, again.lost), (0, 0));
    assert_eq!(device.store.lost_edits(doc).unwrap(), 1);

    // A new edit builds on the server's copy: the server can take it.
    let mut input = training_input();
    input.farmers_served = 50;
    input.description = "重新录入：茶园冬季管理培训".into();
    device
        .store
        .update_service_log(log.id, &input, true)
        .unwrap();
    let next = outbox(&device.store);
    assert_eq!(next.len(), 1);
    let report = tablet
        .store
        .apply_changes(&[DocChange {
            doc_id: doc,
            bytes: next[0].change.bytes.clone(),
        }])
        .unwrap();
    assert_eq!((report.applied, report.pending), (1, 0));
    assert_eq!(
        tablet.store.service_log(log.id).unwrap().description,
        "重新录入：茶园冬季管理培训"
    );
}

#[test]
fn unsent_edits_that_do_not_build_on_the_discard_stay_and_a_discarded_creation_leaves() {
    let device = TestStore::new();
    let me = commissioner();
    let log = device
        .store
        .create_service_log(&me, &training_input(), true)
        .unwrap()
        .value;
    let doc = log.id.into();
    let created = outbox(&device.store)[0].clone();
    device.store.outbox_ack(&[created.hash]).unwrap();
    // An edit not sent yet, then a change that is refused and discarded.
    let mut input = training_input();
    input.farmers_served = 40;
    device
        .store
        .update_service_log(log.id, &input, true)
        .unwrap();
    let unsent = outbox(&device.store)[0].clone();
    input.trainees = Some(99);
    device
        .store
        .update_service_log(log.id, &input, true)
        .unwrap();
    let refused = outbox(&device.store)[1].clone();
    device
        .store
        .outbox_refuse(&refused.hash, "field_not_allowed", "x")
        .unwrap();
    let rebuilt = device
        .store
        .replace_with_server_copy(
            doc,
            &bytes(std::slice::from_ref(&created)),
            &[refused.hash],
            "人次填错",
        )
        .unwrap();
    assert_eq!((rebuilt.kept, rebuilt.lost), (1, 0));
    let now = device.store.service_log(log.id).unwrap();
    assert_eq!(now.farmers_served, 40, "the earlier edit stays");
    assert_eq!(now.trainees, log.trainees, "the discarded one goes");
    assert_eq!(
        outbox(&device.store)
            .iter()
            .map(|e| e.hash)
            .collect::<Vec<_>>(),
        [unsent.hash],
        "and it still waits to be sent"
    );

    // A record whose creation itself was discarded: the server never held
    // it, so it leaves this device (its bytes stay on the refused list).
    let other = device
        .store
        .create_service_log(&me, &training_input(), true)
        .unwrap()
        .value;
    let creation = outbox(&device.store)
        .into_iter()
        .find(|e| e.change.doc_id == other.id.into())
        .unwrap();
    device
        .store
        .outbox_refuse(&creation.hash, "out_of_scope", "x")
        .unwrap();
    let gone = device
        .store
        .replace_with_server_copy(other.id.into(), &[], &[creation.hash], "重复录入")
        .unwrap();
    assert!(gone.removed);
    assert!(device.store.service_log(other.id).is_err());
    let listed = device.store.list_service_logs(&Default::default()).unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(
        device
            .store
            .refused_changes()
            .unwrap()
            .iter()
            .any(|(d, c, _)| *d == other.id.into() && c == CODE_DISCARDED)
    );
}

#[test]
fn a_released_change_leaves_the_refused_list() {
    let device = TestStore::new();
    device
        .store
        .create_service_log(&commissioner(), &training_input(), true)
        .unwrap();
    let entry = outbox(&device.store)[0].clone();
    device
        .store
        .outbox_refuse(&entry.hash, "not_your_record", "moved team")
        .unwrap();
    assert_eq!(device.store.pending_work().unwrap().refused, 1);
    assert_eq!(device.store.refused_release(&[entry.hash]).unwrap(), 1);
    assert_eq!(device.store.pending_work().unwrap().refused, 0);
    assert!(device.store.refused_changes().unwrap().is_empty());
    assert_eq!(
        device.store.refused_release(&[entry.hash]).unwrap(),
        0,
        "twice is harmless"
    );
}
