//! Shared helpers for the app-core integration tests: stores on real files,
//! a manual clock, the 正安县 (520324) register slice and sample inputs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use app_core::clock::ManualClock;
use app_core::domain::CountyCode;
use app_core::domain::{ServiceLogInput, TeamId, Timestamp, UserId};
use app_core::reference::RegisterSource;
use app_core::store::{Identity, RegisterSlice, Store};

/// 2026-11-29 09:00 China time.
pub const NOW: Timestamp = Timestamp::from_millis(1_795_914_000_000);

/// 正安县, Guizhou: a national key county.
pub const COUNTY: &str = "520324";
/// 北苑社区, 凤仪街道, 正安县.
pub const VILLAGE: &str = "520324001001";
/// 山奇社区, same township.
pub const VILLAGE_2: &str = "520324001002";

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
}

/// The slice of 正安县, built once from the repository's register files.
pub fn county_slice() -> &'static RegisterSlice {
    static SLICE: OnceLock<RegisterSlice> = OnceLock::new();
    SLICE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(NOW);
        let store = Store::open(dir.path().join("register.sqlite"), clock.shared()).unwrap();
        let source = RegisterSource::from_dir(data_dir().join("divisions")).unwrap();
        let county = CountyCode::parse(COUNTY).unwrap();
        store.import_register(&source, Some(&[county])).unwrap();
        store.export_slice(county).unwrap().unwrap()
    })
}

/// A store in its own temporary directory, with the county loaded.
pub struct TestStore {
    pub store: Store,
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
}

impl TestStore {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(NOW);
        let store = Store::open(dir.path().join("ketepai.sqlite"), clock.shared()).unwrap();
        store.import_slice(county_slice()).unwrap();
        TestStore { store, clock, dir }
    }

    /// Closes and reopens the store file.
    pub fn reopen(self) -> Self {
        let TestStore { store, clock, dir } = self;
        let path = store.path().to_path_buf();
        drop(store);
        let store = Store::open(path, clock.shared()).unwrap();
        TestStore { store, clock, dir }
    }
}

pub fn commissioner() -> Identity {
    Identity {
        user: "0192f000-0000-7000-8000-000000000001"
            .parse::<UserId>()
            .unwrap(),
        team: Some(
            "0192f000-0000-7000-8000-0000000000aa"
                .parse::<TeamId>()
                .unwrap(),
        ),
    }
}

pub fn team_lead() -> UserId {
    "0192f000-0000-7000-8000-000000000002".parse().unwrap()
}

/// A complete, valid training log in 正安县.
pub fn training_input() -> ServiceLogInput {
    ServiceLogInput {
        date: "2026-11-28".into(),
        start_time: Some("09:00".into()),
        end_time: Some("11:30".into()),
        village: VILLAGE.into(),
        location: Some(app_core::domain::GeoPoint {
            lat: 28.55,
            lon: 107.44,
            accuracy_m: Some(12.0),
        }),
        activity: "training".into(),
        industry: "茶叶".into(),
        farmers_served: 35,
        trainees: Some(42),
        served: vec![app_core::domain::service_log::ServedPartyInput {
            id: None,
            kind: "cooperative".into(),
            name: "正安县白茶专业合作社".into(),
        }],
        technologies: vec!["茶园绿色防控".into()],
        varieties: vec!["白叶1号".into()],
        description: "在村委会开展茶园冬季管理培训，讲解修剪、施肥和病虫害绿色防控。".into(),
        photos: vec![],
    }
}
