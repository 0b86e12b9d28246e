//! The store suite: what every [`ServerStore`] must do, written once
//! against the trait and run on both backends (`sqlite::store::*`,
//! `postgres::store::*`), the way matrix-rust-sdk runs
//! `statestore_integration_tests!()` in each of its store crates. No HTTP:
//! these call the store directly, on a real SQLite file or a real
//! PostgreSQL schema.
//!
//! Pull paging (limits, `more`, the high-water mark, the scope filter),
//! push re-planning (concurrent pushes to one document, a push planned on
//! rows that changed before its write transaction, replays), the photo
//! upload's start, and replacing a device.

use std::sync::Arc;

use app_core::doc::{DocError, RecordDoc, decode_change};
use app_core::domain::consultation::MAX_NOTE_CHARS;
use app_core::domain::{
    Consultation, ConsultationId, DeviceId, DocId, FollowUp, FollowUpId, PhotoHash, Role, Scope,
    ServiceLog, ServiceLogId, Team, TeamId, Timestamp, User, UserId, VillageCode,
};
use app_core::scope::Principal;
use app_core::sync::protocol::{ChangeOutcome, PushRequest, RefusalCode, WireChange};
use app_core::testing::{self, device_id, team_id, user_id};
use automerge::ActorId;
use sync_server::config::Config;
use sync_server::store::push::{self, PushBackend};
use sync_server::store::{
    Area, DeviceRecord, DeviceSync, MAX_PULL_BYTES, NewDevice, PhotoStart, PostgresStore, PullPage,
    PullQuery, QuarantinePage, ServerStore, SqliteStore, UploadQuota,
};
use sync_server::sync::{PushBatch, PushFetched, PushWrites};

use crate::harness::{Fixture, Kind, T0, WUCHUAN, ZHENGAN, code};

/// The backend under test, by its concrete type (the push driver's
/// [`PushBackend`] is generic, not object-safe).
pub enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// People in every scope, stored, each with one device.
pub struct People {
    /// Team 1 in 正安: two commissioners, one of them reading only their
    /// own records.
    pub c1: Principal,
    pub c2: Principal,
    pub c_own: Principal,
    /// Team 2 in 务川.
    pub c3: Principal,
    /// Sync admins: 正安 county, Guizhou province, Yunnan province.
    pub admin_zhengan: Principal,
    pub admin_guizhou: Principal,
    pub admin_yunnan: Principal,
}

/// A bare store with people in it.
pub struct Stores {
    pub backend: Backend,
    pub people: People,
    _dir: tempfile::TempDir,
}

impl Fixture for Stores {
    async fn open(kind: Kind, config: Config, dir: tempfile::TempDir) -> Stores {
        let backend = match kind {
            Kind::Sqlite => {
                Backend::Sqlite(SqliteStore::open(dir.path().join("server.sqlite")).unwrap())
            }
            Kind::Postgres => Backend::Postgres(
                PostgresStore::connect(config.database_url.as_deref().unwrap(), 4)
                    .await
                    .unwrap(),
            ),
        };
        let people = seed(store_of(&backend)).await;
        Stores {
            backend,
            people,
            _dir: dir,
        }
    }
}

fn store_of(backend: &Backend) -> &dyn ServerStore {
    match backend {
        Backend::Sqlite(s) => s,
        Backend::Postgres(s) => s,
    }
}

impl Stores {
    fn store(&self) -> &dyn ServerStore {
        store_of(&self.backend)
    }

    /// Pushes `changes` from `who`'s device.
    async fn push(&self, who: &Principal, changes: &[(DocId, Vec<u8>)]) -> Vec<&'static str> {
        self.push_from(device_of(who), who, changes).await
    }

    async fn push_from(
        &self,
        device: DeviceId,
        who: &Principal,
        changes: &[(DocId, Vec<u8>)],
    ) -> Vec<&'static str> {
        let result = self
            .store()
            .push(batch(who, device, changes), Timestamp::from_millis(T0))
            .await
            .unwrap();
        result.outcomes.iter().map(code).collect()
    }

    /// One page for `who`'s device after `after`.
    async fn pull(&self, who: &Principal, after: i64, limit: u32) -> PullPage {
        self.store()
            .pull(&PullQuery {
                principal: *who,
                device: device_of(who),
                after,
                limit,
            })
            .await
            .unwrap()
    }

    /// Every page for `who` from the start, at `limit` a page.
    async fn pull_all(&self, who: &Principal, limit: u32) -> Vec<PullPage> {
        let mut pages = Vec::new();
        let mut after = 0;
        loop {
            let page = self.pull(who, after, limit).await;
            after = page.changes.last().map_or(page.high_water, |c| c.seq);
            let more = page.more;
            pages.push(page);
            if !more {
                return pages;
            }
        }
    }
}

fn zhengan() -> VillageCode {
    crate::harness::villages(ZHENGAN, 1)[0]
}
fn wuchuan() -> VillageCode {
    crate::harness::villages(WUCHUAN, 1)[0]
}

/// Each person's device: the number of their user.
fn device_of(who: &Principal) -> DeviceId {
    device_id(who.user.as_uuid().as_bytes()[15])
}

fn principal(n: u8, role: Role, scope: Scope, team: Option<(TeamId, &str)>) -> Principal {
    Principal {
        user: user_id(n),
        role,
        scope,
        team: team.map(|t| t.0),
        county: team.map(|t| t.1.parse().unwrap()),
    }
}

async fn seed(store: &dyn ServerStore) -> People {
    let at = Timestamp::from_millis(T0);
    for (n, county) in [(1, ZHENGAN), (2, WUCHUAN)] {
        let team = Team {
            id: team_id(n),
            name: format!("科技特派团 {n}"),
            county: county.parse().unwrap(),
            leading_industry: "茶叶".into(),
            lead: None,
        };
        store.create_team(&team, at).await.unwrap();
    }
    let t1 = Some((team_id(1), ZHENGAN));
    let t2 = Some((team_id(2), WUCHUAN));
    let guizhou = Scope::Province("52".parse().unwrap());
    let people = People {
        c1: principal(1, Role::Commissioner, Scope::Team(team_id(1)), t1),
        c2: principal(2, Role::Commissioner, Scope::Team(team_id(1)), t1),
        c_own: principal(3, Role::Commissioner, Scope::Own, t1),
        c3: principal(4, Role::Commissioner, Scope::Team(team_id(2)), t2),
        admin_zhengan: principal(
            5,
            Role::SyncAdmin,
            Scope::County(ZHENGAN.parse().unwrap()),
            None,
        ),
        admin_guizhou: principal(6, Role::SyncAdmin, guizhou, None),
        admin_yunnan: principal(
            7,
            Role::SyncAdmin,
            Scope::Province("53".parse().unwrap()),
            None,
        ),
    };
    for p in [
        &people.c1,
        &people.c2,
        &people.c_own,
        &people.c3,
        &people.admin_zhengan,
        &people.admin_guizhou,
        &people.admin_yunnan,
    ] {
        let user = User {
            id: p.user,
            username: format!("u{}", p.user),
            display_name: "测试".into(),
            role: p.role,
            scope: p.scope,
            team: p.team,
            active: true,
        };
        store
            .create_user(&user, "not-a-hash", false, at)
            .await
            .unwrap();
        add_device(store, device_of(p), p.user).await;
    }
    people
}

async fn add_device(store: &dyn ServerStore, id: DeviceId, user: UserId) {
    let at = Timestamp::from_millis(T0);
    let record = DeviceRecord {
        id,
        user,
        name: "手机".into(),
        platform: "android".into(),
        created_at: at,
        last_seen_at: at,
        revoked_at: None,
        sync: DeviceSync::default(),
    };
    let mut token_sha256 = [0u8; 32];
    token_sha256[..16].copy_from_slice(id.as_uuid().as_bytes());
    store
        .create_device(&NewDevice {
            record,
            token_sha256,
        })
        .await
        .unwrap();
}

fn batch(who: &Principal, device: DeviceId, changes: &[(DocId, Vec<u8>)]) -> PushBatch {
    let changes = changes
        .iter()
        .map(|(doc, bytes)| WireChange {
            doc: *doc,
            bytes: bytes.clone(),
        })
        .collect();
    PushBatch::decode(*who, device, PushRequest { changes })
}

/// A log of `who`'s (in their team, in `village`), number `n` of the test.
fn log(who: &Principal, village: VillageCode, n: i64) -> ServiceLog {
    let at = Timestamp::from_millis(T0 + n);
    ServiceLog {
        id: ServiceLogId::new(at),
        created_at: at,
        ..testing::service_log(who.user, who.team, village)
    }
}

/// A record document as a device holds it, and the change that created it.
fn create(actor: &ActorId, log: &ServiceLog) -> (RecordDoc, (DocId, Vec<u8>)) {
    let (doc, change) = RecordDoc::create(log, actor.clone(), Timestamp::from_millis(T0)).unwrap();
    (doc, (log.id.into(), change.raw_bytes().to_vec()))
}

fn edit(
    doc: &mut RecordDoc,
    actor: &ActorId,
    id: DocId,
    f: impl FnOnce(&mut ServiceLog),
) -> (DocId, Vec<u8>) {
    let edited = doc
        .edit::<ServiceLog, (), DocError>(actor, Timestamp::from_millis(T0), |l| {
            f(l);
            Ok(())
        })
        .unwrap();
    (id, edited.change.unwrap().raw_bytes().to_vec())
}

/// Pages cut at their count and at their bytes, `more` and the high-water
/// mark, and what each scope reads.
pub async fn pull_pages_at_their_limits(s: Stores) {
    let p = &s.people;
    let actor = ActorId::random();
    let mut team1 = Vec::new();
    for n in 0..5 {
        let (_, change) = create(&actor, &log(&p.c1, zhengan(), n));
        team1.push(change);
    }
    assert_eq!(s.push(&p.c1, &team1).await, ["stored"; 5]);
    // The others push from second devices, so that their first devices
    // read what they wrote.
    let (_, own) = create(&ActorId::random(), &log(&p.c_own, zhengan(), 10));
    let (_, other) = create(&ActorId::random(), &log(&p.c3, wuchuan(), 11));
    for (n, who, change) in [(0x43, &p.c_own, &own), (0x44, &p.c3, &other)] {
        add_device(s.store(), device_id(n), who.user).await;
        let outcome = s
            .push_from(device_id(n), who, std::slice::from_ref(change))
            .await;
        assert_eq!(outcome, ["stored"]);
    }

    // A teammate pages through the team's six changes, two at a time.
    let pages = s.pull_all(&p.c2, 2).await;
    let shape: Vec<(usize, bool)> = pages.iter().map(|p| (p.changes.len(), p.more)).collect();
    assert_eq!(shape, [(2, true), (2, true), (2, false)]);
    let seqs: Vec<i64> = pages
        .iter()
        .flat_map(|p| p.changes.iter().map(|c| c.seq))
        .collect();
    assert!(seqs.is_sorted(), "{seqs:?}");
    let docs: Vec<DocId> = pages
        .iter()
        .flat_map(|p| p.changes.iter().map(|c| c.doc))
        .collect();
    let mut pushed: Vec<DocId> = team1.iter().map(|c| c.0).collect();
    pushed.push(own.0);
    assert_eq!(docs, pushed, "in push order");
    let last = pages.last().unwrap();
    // With no push in flight, the mark is the highest committed seq: that
    // of c3's change, which c2 does not read. (Sequence numbers need not
    // be consecutive: PostgreSQL's pushes draw one for their marker.)
    let top = s.pull(&p.admin_guizhou, 0, 100).await;
    let top = top.changes.last().unwrap().seq;
    assert_eq!(last.high_water, top, "the highest committed seq");
    assert!(last.changes.last().unwrap().seq < top);
    // Nothing after the high-water mark: an empty page, nothing more.
    let after = s.pull(&p.c2, last.high_water, 2).await;
    assert_eq!(
        (after.changes.len(), after.more, after.high_water),
        (0, false, top)
    );

    // What each scope reads (a device never reads its own changes back).
    let read = async |who: &Principal| -> Vec<DocId> {
        let pages = s.pull_all(who, 100).await;
        pages
            .into_iter()
            .flat_map(|p| p.changes.into_iter().map(|c| c.doc))
            .collect()
    };
    let mut all_team1 = pushed.clone();
    let mut everything = pushed.clone();
    everything.push(other.0);
    assert_eq!(
        read(&p.c1).await,
        [own.0],
        "c1's device's own pushes are left out"
    );
    assert_eq!(read(&p.c_own).await, [own.0], "own scope: only own records");
    assert_eq!(read(&p.c3).await, [other.0], "team 2 reads team 2");
    assert_eq!(read(&p.admin_zhengan).await, all_team1);
    assert_eq!(read(&p.admin_guizhou).await, everything);
    let yunnan = s.pull(&p.admin_yunnan, 0, 100).await;
    assert_eq!(
        (yunnan.changes.len(), yunnan.more, yunnan.high_water),
        (0, false, top)
    );

    // The byte limit: changes of about 40% of it each, two to a page; a
    // change larger than the limit still goes, alone.
    // Valid by the record rules (no text over its limit): a consultation
    // with as many full follow-up notes as it takes.
    let big = |n: i64, size: usize| {
        let at = Timestamp::from_millis(T0 + 100 + n);
        let mut c = Consultation {
            id: ConsultationId::new(at),
            created_at: at,
            ..testing::consultation(p.c1.user, p.c1.team, zhengan())
        };
        let note = "茶".repeat(MAX_NOTE_CHARS);
        c.follow_ups = (0..size.div_ceil(note.len()) as i64)
            .map(|i| FollowUp {
                id: FollowUpId::new(Timestamp::from_millis(at.as_millis() + i)),
                at,
                by: p.c1.user,
                note: note.clone(),
            })
            .collect();
        let (_, change) = RecordDoc::create(&c, actor.clone(), at).unwrap();
        (DocId::from(c.id), change.raw_bytes().to_vec())
    };
    let sizes = [MAX_PULL_BYTES * 2 / 5; 3];
    let bigs: Vec<_> = sizes.iter().zip(0..).map(|(n, i)| big(i, *n)).collect();
    let huge = big(9, MAX_PULL_BYTES + 3_000);
    assert!(huge.1.len() > MAX_PULL_BYTES);
    let mut more = bigs.clone();
    more.push(huge);
    assert_eq!(s.push(&p.c1, &more).await, ["stored"; 4]);
    let pages = s.pull_all(&p.c2, 100).await;
    let shape: Vec<(usize, bool)> = pages.iter().map(|p| (p.changes.len(), p.more)).collect();
    assert_eq!(shape, [(6 + 2, true), (1, true), (1, false)]);
    all_team1.extend(more.iter().map(|c| c.0));
    let docs: Vec<DocId> = pages
        .iter()
        .flat_map(|p| p.changes.iter().map(|c| c.doc))
        .collect();
    assert_eq!(docs, all_team1);
}

/// Two devices of one commissioner push edits of one record at the same
/// moment, many times: every edit lands in the stored document.
pub async fn concurrent_pushes_to_one_document_both_land(s: Stores) {
    let p = &s.people;
    let phone = device_of(&p.c1);
    let tablet = device_id(0x41);
    add_device(s.store(), tablet, p.c1.user).await;
    let (a, b) = (ActorId::random(), ActorId::random());
    let l = log(&p.c1, zhengan(), 0);
    let (mut on_phone, created) = create(&a, &l);
    let id = created.0;
    assert_eq!(s.push(&p.c1, &[created]).await, ["stored"]);
    let mut on_tablet = on_phone.clone();
    let rounds = 8;
    for round in 0..rounds {
        let ea = edit(&mut on_phone, &a, id, |l| {
            l.description.push_str(&format!("手机{round}。"))
        });
        let eb = edit(&mut on_tablet, &b, id, |l| l.farmers_served += 1);
        let (pa, pb) = tokio::join!(
            s.push_from(phone, &p.c1, std::slice::from_ref(&ea)),
            s.push_from(tablet, &p.c1, std::slice::from_ref(&eb)),
        );
        assert_eq!((pa, pb), (vec!["stored"], vec!["stored"]), "round {round}");
        on_phone.apply([decode_change(&eb.1).unwrap()]).unwrap();
        on_tablet.apply([decode_change(&ea.1).unwrap()]).unwrap();
    }
    // A change on top of both devices' last edits is stored, not held for
    // dependencies the server claims to have.
    let last = edit(&mut on_phone, &a, id, |l| l.description.push_str("合并。"));
    assert_eq!(s.push(&p.c1, &[last]).await, ["stored"]);
    let stored = s.store().document(id).await.unwrap().unwrap();
    assert_eq!(stored.changes.len(), 1 + 2 * rounds + 1);
}

/// A push planned on rows that another push changes before its write
/// transaction opens is planned again inside it: both edits land, and the
/// stored document holds both.
pub async fn a_push_planned_on_changed_rows_is_planned_again(s: Stores) {
    match &s.backend {
        Backend::Sqlite(store) => planned_again(store, &s.people).await,
        Backend::Postgres(store) => planned_again(store, &s.people).await,
    }
}

/// A backend whose push runs another push between its read outside the
/// write transaction and the transaction itself.
struct Interleaved<'a, S> {
    store: &'a S,
    between: tokio::sync::Mutex<Option<PushBatch>>,
}

impl<S: PushBackend + ServerStore> PushBackend for Interleaved<'_, S> {
    type Tx = S::Tx;

    async fn fetch(&self, batch: Arc<PushBatch>) -> sync_server::store::Result<PushFetched> {
        self.store.fetch(batch).await
    }

    async fn begin(
        &self,
        batch: Arc<PushBatch>,
    ) -> sync_server::store::Result<(S::Tx, PushFetched)> {
        if let Some(other) = self.between.lock().await.take() {
            let result = self
                .store
                .push(other, Timestamp::from_millis(T0))
                .await
                .unwrap();
            assert_eq!(result.outcomes, [ChangeOutcome::Stored]);
        }
        self.store.begin(batch).await
    }

    async fn commit(
        &self,
        tx: S::Tx,
        device: DeviceId,
        writes: PushWrites,
        at: Timestamp,
    ) -> sync_server::store::Result<()> {
        self.store.commit(tx, device, writes, at).await
    }
}

async fn planned_again<S: PushBackend + ServerStore>(store: &S, p: &People) {
    let tablet = device_id(0x41);
    add_device(store, tablet, p.c1.user).await;
    let (a, b) = (ActorId::random(), ActorId::random());
    let (mut on_phone, created) = create(&a, &log(&p.c1, zhengan(), 0));
    let id = created.0;
    let at = Timestamp::from_millis(T0);
    let first = store
        .push(batch(&p.c1, device_of(&p.c1), &[created]), at)
        .await
        .unwrap();
    assert_eq!(first.outcomes, [ChangeOutcome::Stored]);
    let mut on_tablet = on_phone.clone();
    let ea = edit(&mut on_phone, &a, id, |l| l.description = "手机改的".into());
    let eb = edit(&mut on_tablet, &b, id, |l| l.farmers_served = 40);

    let interleaved = Interleaved {
        store,
        between: tokio::sync::Mutex::new(Some(batch(&p.c1, tablet, std::slice::from_ref(&eb)))),
    };
    let result = push::push(&interleaved, batch(&p.c1, device_of(&p.c1), &[ea]), at)
        .await
        .unwrap();
    assert_eq!(result.outcomes, [ChangeOutcome::Stored]);
    assert!(
        interleaved.between.lock().await.is_none(),
        "the other push ran"
    );

    // The stored document holds both edits: a change that depends on both
    // is stored, and the record shows both.
    on_phone.apply([decode_change(&eb.1).unwrap()]).unwrap();
    let both = edit(&mut on_phone, &a, id, |l| l.farmers_served += 1);
    let last = store
        .push(batch(&p.c1, device_of(&p.c1), &[both]), at)
        .await
        .unwrap();
    assert_eq!(last.outcomes, [ChangeOutcome::Stored]);
    let stored = store.document(id).await.unwrap().unwrap();
    let mut copy = RecordDoc::empty();
    copy.apply(
        stored
            .changes
            .iter()
            .map(|c| decode_change(&c.bytes).unwrap()),
    )
    .unwrap();
    let record: ServiceLog = copy.read().unwrap();
    assert_eq!(
        (record.description.as_str(), record.farmers_served),
        ("手机改的", 41)
    );
}

/// A push replayed (as after a lost answer) stores nothing twice, and a
/// change twice in one push is stored once.
pub async fn a_replayed_push_stores_nothing_twice(s: Stores) {
    let p = &s.people;
    let actor = ActorId::random();
    let (mut doc, created) = create(&actor, &log(&p.c1, zhengan(), 0));
    let id = created.0;
    let edited = edit(&mut doc, &actor, id, |l| l.farmers_served = 30);
    let push = [created.clone(), edited];
    assert_eq!(s.push(&p.c1, &push).await, ["stored", "stored"]);
    let before = s.store().stats().await.unwrap();
    assert_eq!((before.changes, before.documents), (2, 1));
    assert_eq!(s.push(&p.c1, &push).await, ["duplicate", "duplicate"]);
    let (_, again) = create(&actor, &log(&p.c1, zhengan(), 1));
    assert_eq!(
        s.push(&p.c1, &[again.clone(), again]).await,
        ["stored", "duplicate"]
    );
    // From another device of the same user: still a duplicate.
    let other = device_id(0x41);
    add_device(s.store(), other, p.c1.user).await;
    assert_eq!(s.push_from(other, &p.c1, &[created]).await, ["duplicate"]);
    let after = s.store().stats().await.unwrap();
    assert_eq!(
        (after.changes, after.documents, after.quarantined),
        (3, 2, 0)
    );
}

/// Announcing an upload creates it, resumes it from its offset, restarts
/// it when the length differs, and finds a stored photo.
pub async fn photo_start_creates_resumes_restarts_and_completes(s: Stores) {
    let store = s.store();
    let hash = PhotoHash::from_bytes([0x5a; 32]);
    let at = |n: i64| Timestamp::from_millis(T0 + n);
    let dev = device_id(1);
    let q = UploadQuota::default();
    assert_eq!(store.photo(&hash).await.unwrap(), None);
    assert_eq!(
        store.photo_start(&hash, 100, at(0), dev, q).await.unwrap(),
        PhotoStart::Created { restarted: false }
    );
    assert!(store.photo_advance(&hash, 0, 40).await.unwrap());
    assert!(
        !store.photo_advance(&hash, 0, 40).await.unwrap(),
        "another request moved it"
    );
    let PhotoStart::Resumed(resumed) = store.photo_start(&hash, 100, at(1), dev, q).await.unwrap()
    else {
        panic!("the same length resumes");
    };
    assert_eq!(
        (
            resumed.length,
            resumed.offset,
            resumed.complete,
            resumed.created_at
        ),
        (100, 40, false, at(0))
    );
    assert_eq!(
        store.photo_start(&hash, 90, at(2), dev, q).await.unwrap(),
        PhotoStart::Created { restarted: true }
    );
    let restarted = store.photo(&hash).await.unwrap().unwrap();
    assert_eq!(
        (restarted.length, restarted.offset, restarted.created_at),
        (90, 0, at(2))
    );
    assert!(store.photo_advance(&hash, 0, 90).await.unwrap());
    store.photo_complete(&hash).await.unwrap();
    store.photo_discard(&hash).await.unwrap();
    for length in [90, 100] {
        let PhotoStart::Complete(done) = store
            .photo_start(&hash, length, at(3), dev, q)
            .await
            .unwrap()
        else {
            panic!("a stored photo is found, whatever length is announced");
        };
        assert_eq!((done.length, done.offset, done.complete), (90, 90, true));
    }
    assert!(!store.photo_advance(&hash, 90, 100).await.unwrap());
    assert_eq!(store.stats().await.unwrap().photos, 1);
    // An unfinished upload is its device's: another device's announcement
    // changes nothing, until the upload has been abandoned for a day.
    let other = PhotoHash::from_bytes([0x6b; 32]);
    store.photo_start(&other, 10, at(4), dev, q).await.unwrap();
    assert!(store.photo_advance(&other, 0, 5).await.unwrap());
    let day = PhotoStart::ABANDONED_MILLIS;
    assert_eq!(
        store
            .photo_start(&other, 10, at(5), device_id(2), q)
            .await
            .unwrap(),
        PhotoStart::Taken
    );
    assert_eq!(store.photo(&other).await.unwrap().unwrap().offset, 5);
    assert_eq!(
        store
            .photo_start(&other, 10, at(4 + day), device_id(2), q)
            .await
            .unwrap(),
        PhotoStart::Created { restarted: true }
    );
    let taken = store.photo(&other).await.unwrap().unwrap();
    assert_eq!((taken.offset, taken.uploader), (0, Some(device_id(2))));
    // An unfinished upload can be discarded.
    store.photo_discard(&other).await.unwrap();
    assert_eq!(store.photo(&other).await.unwrap(), None);
    // The sweep takes unfinished uploads announced at or before its line,
    // never a stored photo (announced earlier still).
    let old = PhotoHash::from_bytes([0x7c; 32]);
    let fresh = PhotoHash::from_bytes([0x7d; 32]);
    store.photo_start(&old, 10, at(9), dev, q).await.unwrap();
    store.photo_start(&fresh, 10, at(10), dev, q).await.unwrap();
    assert_eq!(store.photo_sweep(at(9)).await.unwrap(), vec![old]);
    assert_eq!(store.photo(&old).await.unwrap(), None);
    assert!(store.photo(&fresh).await.unwrap().is_some());
    assert!(store.photo(&hash).await.unwrap().unwrap().complete);
    assert_eq!(store.photo_sweep(at(9)).await.unwrap(), vec![]);
}

/// Replacing a device moves its actors, its open quarantines and the
/// notices it has not collected to the new one and revokes the old; a
/// closed (discarded) quarantine stays where it was.
pub async fn replacing_a_device_moves_actors_and_quarantines(s: Stores) {
    let p = &s.people;
    let store = s.store();
    let old = device_of(&p.c1);
    let actor = ActorId::random();
    let (mut mine, created) = create(&actor, &log(&p.c1, zhengan(), 0));
    let id = created.0;
    assert_eq!(s.push(&p.c1, &[created]).await, ["stored"]);
    // Two of c2's records that c1's device tries to edit: both refused,
    // so both are quarantined for the old device; one is discarded.
    let mut theirs = Vec::new();
    for n in 1..=2 {
        let c2_actor = ActorId::random();
        let (doc, change) = create(&c2_actor, &log(&p.c2, zhengan(), n));
        assert_eq!(
            s.push(&p.c2, std::slice::from_ref(&change)).await,
            ["stored"]
        );
        theirs.push((doc, change.0));
    }
    for (doc, their_id) in &mut theirs {
        let hijack = edit(doc, &actor, *their_id, |l| l.farmers_served += 100);
        assert_eq!(s.push(&p.c1, &[hijack]).await, ["not_your_record"]);
    }
    let discarded = theirs[1].1;
    let at = Timestamp::from_millis(T0 + 5);
    assert_eq!(
        store
            .discard_quarantine(old, discarded, "不是本人的记录", None, at)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.notices(old).await.unwrap().len(), 1);

    // A photo upload the old device had begun.
    let photo = PhotoHash::from_bytes([0xab; 32]);
    assert!(matches!(
        store
            .photo_start(&photo, 100, at, old, UploadQuota::default())
            .await
            .unwrap(),
        PhotoStart::Created { .. }
    ));

    let new = device_id(0x41);
    add_device(store, new, p.c1.user).await;
    store.replace_device(old, new, at).await.unwrap();
    // The new device resumes it (another device would be refused).
    assert!(matches!(
        store
            .photo_start(&photo, 100, at, new, UploadQuota::default())
            .await
            .unwrap(),
        PhotoStart::Resumed(_)
    ));
    assert!(matches!(
        store
            .photo_start(&photo, 100, at, device_of(&p.c2), UploadQuota::default())
            .await
            .unwrap(),
        PhotoStart::Taken
    ));

    assert_eq!(
        store.device(old).await.unwrap().unwrap().revoked_at,
        Some(at)
    );
    assert_eq!(store.device(new).await.unwrap().unwrap().revoked_at, None);
    // The notice about the discard waits for the device that holds the work.
    assert!(store.notices(old).await.unwrap().is_empty());
    let moved = store.notices(new).await.unwrap();
    assert_eq!((moved.len(), moved[0].doc), (1, discarded));
    assert_eq!(
        store
            .device(new)
            .await
            .unwrap()
            .unwrap()
            .sync
            .notices_pending,
        1
    );
    // The old actor writes as the new device.
    let offline = edit(&mut mine, &actor, id, |l| l.description.push_str("回访。"));
    assert_eq!(s.push_from(new, &p.c1, &[offline]).await, ["stored"]);
    // The open quarantine came along; the discarded one did not.
    let (blocked_doc, blocked_id) = &mut theirs[0];
    let retry = edit(blocked_doc, &actor, *blocked_id, |l| l.farmers_served += 1);
    assert_eq!(s.push_from(new, &p.c1, &[retry]).await, ["quarantined"]);
    let entries = store
        .quarantine_page(&QuarantinePage {
            area: Area::ALL,
            limit: 10,
            ..QuarantinePage::default()
        })
        .await
        .unwrap();
    let open: Vec<(DeviceId, DocId)> = entries
        .iter()
        .filter(|e| e.released_at.is_none())
        .map(|e| (e.device, e.doc))
        .collect();
    assert!(open.iter().all(|(d, _)| *d == new), "{open:?}");
    assert!(open.iter().any(|(_, doc)| *doc == *blocked_id));
    let kept: Vec<DeviceId> = entries
        .iter()
        .filter(|e| e.released_at.is_some())
        .map(|e| e.device)
        .collect();
    assert_eq!(kept, [old]);
    // Any other device writing with that actor is refused.
    let third = device_id(0x42);
    add_device(store, third, p.c1.user).await;
    let more = edit(&mut mine, &actor, id, |l| l.farmers_served += 1);
    let outcome = store
        .push(batch(&p.c1, third, &[more]), at)
        .await
        .unwrap()
        .outcomes;
    assert!(
        matches!(
            &outcome[0],
            ChangeOutcome::Refused {
                code: RefusalCode::ForeignActor,
                ..
            }
        ),
        "{outcome:?}"
    );
}
