//! The device store encrypted at rest: no farmer's name or phone number can
//! be read from any file in the data directory (open with its WAL, or
//! closed), the password opens it again, a wrong one changes nothing, and a
//! plain store from an earlier release is converted in place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use app_core::domain::{ConsultationId, ConsultationInput, ServiceLogId};
use app_core::store::{self, Store, StoreError, StoreKey, Vault, VaultError};

use crate::support::*;

const FARMER: &str = "王秀英";
const PHONE: &str = "13800138000";
const PASSWORD: &str = "茶园2026春";

fn consultation() -> ConsultationInput {
    ConsultationInput {
        farmer_name: FARMER.into(),
        farmer_phone: PHONE.into(),
        farmer_village: VILLAGE_2.into(),
        subject: "茶树".into(),
        problem: "新梢叶片出现褐色斑点，逐渐扩大。".into(),
        channel: "phone".into(),
        asked_at: "2026-11-29 08:10".into(),
        photos: vec![],
    }
}

/// Saves a consultation naming the farmer (with her phone) and a service log
/// whose narrative names her.
fn save_farmer_records(store: &Store) -> (ConsultationId, ServiceLogId) {
    store.import_slice(county_slice()).unwrap();
    let c = store
        .create_consultation(&commissioner(), &consultation())
        .unwrap()
        .value;
    let mut log = training_input();
    log.description = format!("到{FARMER}家茶园指导冬季修剪，电话{PHONE}。");
    let log = store
        .create_service_log(&commissioner(), &log, true)
        .unwrap()
        .value;
    (c.id, log.id)
}

/// Every file under `dir`, as bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                out.insert(path, bytes);
            }
        }
    }
    out
}

/// Which of the farmer's name and phone number appear in which file.
fn readable_secrets(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for (path, bytes) in files(dir) {
        for needle in [FARMER, PHONE] {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(format!("{needle} in {}", path.display()));
            }
        }
    }
    found
}

fn wal_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

#[test]
fn a_plain_store_shows_the_farmer_to_anyone_who_reads_the_files() {
    // The control: the check below can fail.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ketepai.sqlite");
    let clock = app_core::clock::ManualClock::new(NOW);
    let store = Store::open(&path, clock.shared()).unwrap();
    save_farmer_records(&store);
    let open = readable_secrets(dir.path());
    assert!(open.iter().any(|f| f.starts_with(FARMER)), "{open:?}");
    assert!(open.iter().any(|f| f.starts_with(PHONE)), "{open:?}");
    drop(store);
    let closed = readable_secrets(dir.path());
    assert!(closed.iter().any(|f| f.starts_with(FARMER)), "{closed:?}");
}

#[test]
fn an_encrypted_store_shows_no_farmer_and_opens_only_with_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ketepai.sqlite");
    let clock = app_core::clock::ManualClock::new(NOW);
    let vault = Vault::beside(&path);
    let key = vault.create(PASSWORD).unwrap();
    let store = Store::open_encrypted(&path, &key, clock.shared()).unwrap();
    let (consultation_id, log_id) = save_farmer_records(&store);

    // Open, with its WAL holding the latest pages.
    assert!(
        std::fs::metadata(wal_of(&path)).unwrap().len() > 0,
        "the WAL should hold pages while the store is open"
    );
    assert_eq!(readable_secrets(dir.path()), Vec::<String>::new());
    drop(store);
    // Closed.
    assert_eq!(readable_secrets(dir.path()), Vec::<String>::new());

    // A wrong password: a clear error, and not a byte changes.
    let before = files(dir.path());
    assert!(matches!(
        vault.unlock("茶园2025春"),
        Err(VaultError::WrongPassword)
    ));
    // A wrong key, or no key at all: a clear error, nothing written.
    let err = Store::open_encrypted(&path, &StoreKey::generate(), clock.shared()).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey), "{err}");
    assert_eq!(err.code(), "wrong_key");
    let err = Store::open(&path, clock.shared()).unwrap_err();
    assert!(matches!(err, StoreError::WrongKey), "{err}");
    assert_eq!(files(dir.path()), before);

    // The right password opens it with everything there.
    let key = vault.unlock(PASSWORD).unwrap();
    let store = Store::open_encrypted(&path, &key, clock.shared()).unwrap();
    let c = store.consultation(consultation_id).unwrap();
    assert_eq!(c.farmer.name, FARMER);
    assert_eq!(c.farmer.phone, PHONE);
    assert!(
        store
            .service_log(log_id)
            .unwrap()
            .description
            .contains(FARMER)
    );
    store.integrity_check().unwrap();
}

#[test]
fn a_plain_store_from_an_earlier_release_is_encrypted_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ketepai.sqlite");
    let clock = app_core::clock::ManualClock::new(NOW);
    let store = Store::open(&path, clock.shared()).unwrap();
    let (consultation_id, log_id) = save_farmer_records(&store);
    let outbox = store.outbox_stats().unwrap();
    drop(store);
    assert!(store::is_plain_file(&path).unwrap());

    let key = Vault::beside(&path).create(PASSWORD).unwrap();
    assert!(Store::encrypt_plain(&path, &key).unwrap());
    assert!(!store::is_plain_file(&path).unwrap());
    assert_eq!(readable_secrets(dir.path()), Vec::<String>::new());
    // Converting again finds nothing to do.
    assert!(!Store::encrypt_plain(&path, &key).unwrap());

    let store = Store::open_encrypted(&path, &key, clock.shared()).unwrap();
    assert_eq!(
        store.consultation(consultation_id).unwrap().farmer.name,
        FARMER
    );
    store.service_log(log_id).unwrap();
    // The unsent work is still waiting for the server.
    assert_eq!(store.outbox_stats().unwrap(), outbox);
    store.integrity_check().unwrap();
}
