//! The demo seed (`sync-server demo`): every role finds its screens full,
//! through the same endpoints and device code the app uses, and a second
//! run changes nothing.

use app_core::admin::{ConflictedRecord, DeviceView, Page, QuarantinedDoc};
use app_core::api::ReviewQueueQuery;
use app_core::clock::ManualClock;
use app_core::domain::review::ReviewState;
use app_core::domain::{RecordKind, ServiceLog, Timestamp};
use app_core::scope::Principal;
use app_core::store::{DocChange, Store};
use sync_server::store::stats::Answer;

use crate::harness::{Account, DAY, Device, Env, Fetch, T0};

async fn enrol(env: &Env, username: &str, password: &str) -> (Account, Device) {
    let user = env
        .store()
        .user_by_name(username)
        .await
        .unwrap()
        .unwrap()
        .user;
    let account = Account {
        user,
        password: password.into(),
    };
    let device = env.enrol(&account).await;
    (account, device)
}

/// A device store holding everything `device` pulls.
async fn pulled(env: &Env, device: &Device, path: &std::path::Path) -> Store {
    let (changes, _) = env.pull_all(device).await;
    let clock = ManualClock::new(Timestamp::from_millis(T0));
    let store = Store::open(path, clock.shared()).unwrap();
    let changes: Vec<DocChange> = changes
        .into_iter()
        .map(|c| DocChange {
            doc_id: c.doc,
            bytes: c.bytes,
        })
        .collect();
    store.apply_changes(&changes).unwrap();
    store
}

pub async fn the_demo_fills_every_roles_screens(env: Env) {
    let ops = env.handle.server().ops();
    let demo = ops.demo().await.unwrap();
    let seeded = demo.seeded.unwrap();
    assert!(seeded.fresh);
    let store = env.store();
    let (stats, projected) = (
        store.stats().await.unwrap(),
        store.projected().await.unwrap(),
    );
    // A second run finds the records and adds nothing.
    let again = ops.demo().await.unwrap();
    assert_eq!(again.accounts, demo.accounts);
    assert_eq!(ops.demo_accounts().await.unwrap().accounts, demo.accounts);
    let found = again.seeded.unwrap();
    assert!(!found.fresh);
    assert_eq!(found.devices, seeded.devices);
    assert_eq!(store.stats().await.unwrap(), stats);
    assert_eq!(store.projected().await.unwrap(), projected);
    assert_eq!(projected, (seeded.logs, seeded.consultations));
    assert!(seeded.logs >= 60, "{}", seeded);
    let password = |name: &str| {
        demo.accounts
            .iter()
            .find(|a| a.username == name)
            .unwrap()
            .password
            .clone()
    };

    // The sync admin's console.
    let (admin_account, admin) = enrol(&env, "zhengan-admin", &password("zhengan-admin")).await;
    let conflicts: Page<ConflictedRecord> = env
        .get(&admin, "/api/v1/admin/conflicts")
        .fetch_json()
        .await;
    assert_eq!(conflicts.items.len(), 1);
    assert_eq!(conflicts.items[0].kind, RecordKind::ServiceLog);
    let fields: Vec<&str> = conflicts.items[0]
        .fields
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(fields, vec!["farmers_served"]);
    assert_eq!(conflicts.items[0].fields[0].values.len(), 2);
    let quarantine: Page<QuarantinedDoc> = env
        .get(&admin, "/api/v1/admin/quarantine")
        .fetch_json()
        .await;
    assert_eq!(quarantine.items.len(), 1);
    let devices: Page<DeviceView> = env
        .get(&admin, "/api/v1/admin/devices?limit=200")
        .fetch_json()
        .await;
    let flagged = |f: fn(&DeviceView) -> bool| {
        devices
            .items
            .iter()
            .filter(|d| f(d))
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(flagged(|d| d.flags.silent), vec!["周丽华的手机"]);
    assert_eq!(flagged(|d| d.flags.growing_backlog), vec!["杨志强的手机"]);

    // The lead's tablet pulls the team's records and finds the queue full
    // and two logs returned; the admin's device finds a possible duplicate
    // pair.
    let (lead, tablet) = enrol(&env, "zhengan-lead", &password("zhengan-lead")).await;
    let dir = tempfile::tempdir().unwrap();
    let device = pulled(&env, &tablet, &dir.path().join("lead.sqlite")).await;
    let team = store.team(lead.user.team.unwrap()).await.unwrap().unwrap();
    let who = Principal::of(&lead.user, Some(&team));
    let queue = device
        .review_queue_as(&who, &ReviewQueueQuery::default())
        .unwrap();
    assert!((15..=25).contains(&queue.total), "{}", queue.total);
    assert_eq!(queue.total, seeded.waiting);
    let mut returned = 0;
    for id in device.heads().unwrap().into_keys() {
        let doc = device.load_doc(id).unwrap();
        if doc.kind().unwrap() == RecordKind::ServiceLog
            && doc.read::<ServiceLog>().unwrap().review_state() == ReviewState::Returned
        {
            returned += 1;
        }
    }
    assert_eq!(returned, 2);
    let console = pulled(&env, &admin, &dir.path().join("admin.sqlite")).await;
    let pairs = console
        .duplicate_candidates_as(&Principal::of(&admin_account.user, None))
        .unwrap();
    assert_eq!(pairs.len(), 1, "{pairs:?}");

    // The team's month in the statistics: figures and uncovered villages.
    let from = Timestamp::from_millis(T0 - 30 * DAY).china_date().unwrap();
    let to = Timestamp::from_millis(T0).china_date().unwrap();
    let answer: Answer = env
        .get(
            &tablet,
            &format!("/api/v1/stats/team/{}?from={from}&to={to}", team.id),
        )
        .fetch_json()
        .await;
    let t = &answer.report.total;
    assert!(t.visits > 40 && t.approved_logs > 20, "{t:?}");
    assert!(t.farmers_served > 0 && t.trainings > 0 && t.trainees > 0);
    assert!(t.consultations > 10 && t.consultations_answered > 0);
    assert_eq!(answer.report.commissioners.len(), 6);
    let answer: Answer = env
        .get(
            &admin,
            &format!("/api/v1/stats/county/520324?from={from}&to={to}"),
        )
        .fetch_json()
        .await;
    let t = &answer.report.total;
    assert!(t.village_coverage.is_some_and(|c| c > 0.0 && c < 0.5));
    assert!(!answer.report.uncovered_villages.is_empty());
}
