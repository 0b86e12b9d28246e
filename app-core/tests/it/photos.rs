//! Photo bytes on the device: content addressing and upload progress.

use app_core::store::hash_bytes;

use crate::support::*;

#[test]
fn photos_are_stored_once_and_their_upload_offset_only_grows() {
    let t = TestStore::new();
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let hash = t.store.put_photo(&bytes).unwrap();
    assert_eq!(hash, hash_bytes(&bytes));
    assert_eq!(
        t.store.put_photo(&bytes).unwrap(),
        hash,
        "same bytes, same photo"
    );
    // Not uploaded while no saved record refers to it (a form being filled).
    assert!(t.store.photos_to_upload().unwrap().is_empty());
    assert_eq!(t.store.pending_photo_bytes().unwrap(), 0);
    save_log_with(&t, hash);
    assert_eq!(t.store.photos_to_upload().unwrap().len(), 1);
    assert_eq!(t.store.pending_photo_bytes().unwrap(), 200_000);

    let chunk = t.store.photo_chunk(&hash, 65_536, 65_536).unwrap().unwrap();
    assert_eq!(chunk, bytes[65_536..131_072]);
    let tail = t
        .store
        .photo_chunk(&hash, 196_608, 65_536)
        .unwrap()
        .unwrap();
    assert_eq!(tail, bytes[196_608..]);

    t.store.set_photo_offset(&hash, 131_072).unwrap();
    t.store.set_photo_offset(&hash, 65_536).unwrap();
    assert_eq!(t.store.photos_to_upload().unwrap()[0].offset, 131_072);
    assert_eq!(t.store.pending_photo_bytes().unwrap(), 200_000 - 131_072);

    t.store.mark_photo_uploaded(&hash).unwrap();
    assert!(t.store.photos_to_upload().unwrap().is_empty());
    assert_eq!(t.store.pending_photo_bytes().unwrap(), 0);
    assert_eq!(t.store.photo(&hash).unwrap().unwrap(), bytes);
}

/// Saves a log whose only photo (and thumbnail) is `hash`.
fn save_log_with(t: &TestStore, hash: app_core::domain::PhotoHash) {
    let mut input = training_input();
    input.photos = vec![app_core::domain::PhotoMeta {
        hash,
        thumb: hash,
        size_bytes: 1,
        width: 1,
        height: 1,
        taken_at: None,
        location: None,
        caption: String::new(),
    }];
    t.store
        .create_service_log(&commissioner(), &input, true)
        .unwrap();
}

#[test]
fn a_discarded_forms_photos_never_upload() {
    let t = TestStore::new();
    let kept = t.store.put_photo(b"photo of the saved log").unwrap();
    let discarded = t.store.put_photo(b"photo of a form given up").unwrap();
    save_log_with(&t, kept);
    let pending: Vec<_> = t
        .store
        .photos_to_upload()
        .unwrap()
        .into_iter()
        .map(|p| p.hash)
        .collect();
    assert_eq!(pending, vec![kept]);
    assert_eq!(
        t.store.photo(&discarded).unwrap().unwrap(),
        b"photo of a form given up",
        "kept on the device all the same"
    );
    // A photo received with a record from elsewhere is never uploaded back.
    let theirs = t.store.put_downloaded_photo(b"a teammate's photo").unwrap();
    save_log_with(&t, theirs);
    assert_eq!(t.store.photos_to_upload().unwrap().len(), 1);
}

#[test]
#[allow(
    clippy::disallowed_types,
    reason = "the test writes a store at schema 1, as the previous version left it"
)]
fn photos_waiting_in_a_store_from_before_attachment_still_upload() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    {
        // A store at schema 1 with a photo waiting, as the previous
        // version left it.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(app_core::store::migrations()[0])
            .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO photos(hash, bytes, created_at) VALUES (?1, ?2, 0)",
            rusqlite::params![
                hash_bytes(b"waiting").as_bytes().as_slice(),
                b"waiting".as_slice()
            ],
        )
        .unwrap();
    }
    let store = app_core::store::Store::open(
        &path,
        app_core::clock::ManualClock::new(app_core::domain::Timestamp::from_millis(0)).shared(),
    )
    .unwrap();
    let pending = store.photos_to_upload().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].hash, hash_bytes(b"waiting"));
}
