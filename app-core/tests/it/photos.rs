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
