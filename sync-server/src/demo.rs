//! The demo county's month of work (`sync-server demo`, [`crate::ops::Ops::demo`]):
//! the team's devices and a month of records ending today by the server's
//! clock, made the way real ones are.
//!
//! Each demo device is a real device store (`app_core::store::Store`, a
//! SQLite file in a temporary folder) that creates and edits records with
//! its user's identity; its outbox is pushed through the server's own push
//! sequence ([`crate::sync::PushBatch`] and [`ServerStore::push`], what
//! `routes/sync.rs` runs), so every write rule is checked and the
//! statistics projection and conflict flags are written; it pulls what its
//! user may read, and its sync health is recorded with the route's rule
//! ([`crate::routes::sync::health_after`]). The lead's decisions are made on
//! the lead's tablet (`approve_logs_as`, `return_log_as`) and pushed from
//! it. Records come from [`app_core::demo::Synth`] over the county's
//! register, seeded, so every run draws the same month.
//!
//! What the screens then show: several logs a week per commissioner in
//! their own townships (the other townships uncovered), consultations
//! answered and some open for days, logs approved, returned with a comment
//! and waiting in the lead's queue; one member silent for ten days; for
//! the sync admin, a field written concurrently on one user's phone and
//! tablet, a possible duplicate pair, a change refused into quarantine (a
//! commissioner's phone approving its own log) and a phone whose backlog
//! grows. Drafts stay on devices and are not made.
//!
//! Seeding is idempotent: the records are made once, when the first demo
//! device (the lead's tablet) does not exist yet; later runs find it and
//! add nothing.

use std::collections::BTreeMap;

use app_core::api::{ReturnInput, ReviewQueueQuery};
use app_core::clock::ManualClock;
use app_core::demo::Synth;
use app_core::domain::review::ReviewState;
use app_core::domain::{
    Consultation, DeviceId, RecordKind, ServiceLog, ServiceLogId, Team, Timestamp, User,
};
use app_core::scope::Principal;
use app_core::store::{DocChange, Durability, RegisterSlice, Store, StoreOptions};
use app_core::sync::decide;
use app_core::sync::protocol::{MAX_PUSH_CHANGES, PushRequest, WireChange};
use chrono::{Days, NaiveDate, NaiveTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::auth;
use crate::routes::sync::{Request, health_after};
use crate::store::{DeviceRecord, DeviceSync, NewDevice, PullQuery, ServerStore};
use crate::sync::PushBatch;

const HOUR_MILLIS: i64 = 60 * 60 * 1000;
/// Days of records, ending today.
pub const DAYS: u32 = 30;
/// Bytes per push, well under the server's limit.
const PUSH_BYTES: usize = 2 * 1024 * 1024;
/// Pull page size.
const PULL_PAGE: u32 = 1_000;

/// Who the seed acts as: a demo account's user, its devices and where it
/// works.
#[derive(Debug, Clone)]
pub struct Member {
    /// The user, as stored.
    pub user: User,
    /// Their devices: name and platform.
    pub devices: Vec<(String, &'static str)>,
}

/// What the seed made (or found made).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoSeed {
    /// Made now; false when an earlier run had seeded the records.
    pub fresh: bool,
    /// Demo devices.
    pub devices: u64,
    /// Service logs on the server.
    pub logs: u64,
    /// Consultations on the server.
    pub consultations: u64,
    /// Logs waiting in the lead's queue.
    pub waiting: u64,
    /// Logs approved.
    pub approved: u64,
    /// Logs returned with a comment.
    pub returned: u64,
    /// Consultations not answered.
    pub open_questions: u64,
    /// Changes refused into quarantine.
    pub refused: u64,
    /// Changes held on a device that cannot get them through.
    pub held: u64,
}

impl std::fmt::Display for DemoSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.fresh {
            return write!(
                f,
                "records already seeded ({} demo devices); nothing added",
                self.devices
            );
        }
        write!(
            f,
            "seeded {DAYS} days: {} devices, {} service logs ({} waiting for review, {} approved, \
             {} returned), {} consultations ({} open), 1 conflict, 1 possible duplicate pair, \
             {} quarantined change, {} changes held on a phone with a growing backlog",
            self.devices,
            self.logs,
            self.waiting,
            self.approved,
            self.returned,
            self.consultations,
            self.open_questions,
            self.refused,
            self.held
        )
    }
}

/// An error of the seed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The server's store failed.
    #[error(transparent)]
    Server(#[from] crate::store::StoreError),
    /// A demo device's store failed.
    #[error("demo device: {0}")]
    Device(#[from] app_core::store::StoreError),
    /// The temporary folder of the device stores.
    #[error("demo devices' folder: {0}")]
    Io(#[from] std::io::Error),
    /// The seed's world is not as expected.
    #[error("{0}")]
    World(String),
}

/// A demo device: its server record's ID, its user as the rules see them,
/// its store and its pull cursor.
struct Device {
    id: DeviceId,
    principal: Principal,
    store: Store,
    after: i64,
}

/// The world of the seed.
struct Seed<'a> {
    server: &'a dyn ServerStore,
    /// The devices' shared clock, moved to each action's time.
    clock: ManualClock,
    now: Timestamp,
    today: NaiveDate,
    refused: u64,
}

/// The demo device that says whether the records are there: the first
/// member's first device, enrolled before any record is made.
fn first_device(members: &[Member]) -> Option<(&User, &str)> {
    members
        .iter()
        .find_map(|m| m.devices.first().map(|d| (&m.user, d.0.as_str())))
}

/// Seeds the demo records for `team` (its lead first in `members`, then
/// six commissioners: the first has a phone and a tablet, the second's
/// phone approves its own log, the fifth's backlog grows, the sixth falls
/// silent), over `slice`, the county's register, up to `now`. Does nothing
/// when the first demo device (the lead's tablet) is enrolled already.
pub async fn seed(
    server: &dyn ServerStore,
    team: &Team,
    members: &[Member],
    slice: &RegisterSlice,
    now: Timestamp,
) -> Result<DemoSeed, DemoError> {
    let (first_user, first_name) =
        first_device(members).ok_or_else(|| DemoError::World("no demo devices".into()))?;
    let existing = server.devices().await?;
    let ours = |u: &User, name: &str| {
        existing
            .iter()
            .any(|d| d.user == u.id && d.name == name && d.revoked_at.is_none())
    };
    let demo_devices = members
        .iter()
        .flat_map(|m| m.devices.iter().map(move |d| (&m.user, d.0.as_str())))
        .filter(|(u, n)| ours(u, n))
        .count() as u64;
    if ours(first_user, first_name) {
        return Ok(DemoSeed {
            fresh: false,
            devices: demo_devices,
            ..DemoSeed::default()
        });
    }
    if members.len() < 7 || slice.townships.is_empty() {
        return Err(DemoError::World(
            "the demo needs a lead, six commissioners and the county's townships".into(),
        ));
    }
    let today = now
        .china_date()
        .ok_or_else(|| DemoError::World(format!("the clock's time {now:?}")))?;
    let dir = tempfile::tempdir()?;
    let world = Seed {
        server,
        clock: ManualClock::new(now),
        now,
        today,
        refused: 0,
    };
    world.run(team, members, slice, dir.path()).await
}

impl Seed<'_> {
    /// The instant of `hour:minute` China time, `back` days before today.
    fn at(&self, back: u32, hour: u32, minute: u32) -> Timestamp {
        let date = self.today - Days::new(u64::from(back));
        let time = NaiveTime::from_hms_opt(hour, minute, 0).expect("a time of day");
        Timestamp::from_china_local(date.and_time(time))
    }

    /// Enrols a device for `user` at `at` and opens its store.
    async fn enrol(
        &self,
        user: &User,
        team: &Team,
        (name, platform): (&str, &str),
        at: Timestamp,
        dir: &std::path::Path,
    ) -> Result<Device, DemoError> {
        let (_token, digest) = auth::new_token();
        let id = DeviceId::new(at);
        self.server
            .create_device(&NewDevice {
                record: DeviceRecord {
                    id,
                    user: user.id,
                    name: name.into(),
                    platform: platform.into(),
                    created_at: at,
                    last_seen_at: at,
                    revoked_at: None,
                    sync: DeviceSync::default(),
                },
                token_sha256: digest,
            })
            .await?;
        // Thrown away at the end: no fsync at each commit.
        let store = Store::open_with(
            dir.join(format!("{id}.sqlite")),
            self.clock.shared(),
            StoreOptions {
                durability: Durability::Normal,
            },
        )?;
        Ok(Device {
            id,
            principal: Principal::of(user, Some(team)),
            store,
            after: 0,
        })
    }

    /// What `device` reports about its outbox at `at`.
    fn report(
        &self,
        device: &Device,
        at: Timestamp,
    ) -> Result<app_core::sync::protocol::DeviceReport, DemoError> {
        let changes = device.store.outbox_stats()?.changes;
        let oldest = device
            .store
            .outbox_peek(1, usize::MAX)?
            .first()
            .and_then(|e| app_core::doc::decode_change(&e.change.bytes).ok())
            .map(|c| c.timestamp());
        Ok(decide::device_report(
            changes,
            oldest,
            at,
            concat!("ketepai ", env!("CARGO_PKG_VERSION")),
        ))
    }

    /// Records a successful request of `device` at `at`, with its report.
    async fn health(
        &self,
        device: &Device,
        request: Request,
        report: &app_core::sync::protocol::DeviceReport,
        at: Timestamp,
    ) -> Result<(), DemoError> {
        let old = self
            .server
            .device(device.id)
            .await?
            .ok_or_else(|| DemoError::World(format!("device {} vanished", device.id)))?;
        if let Some(new) = health_after(&old.sync, Some(report), request, at) {
            self.server.record_sync(device.id, &new, at).await?;
        }
        Ok(())
    }

    /// Pushes `device`'s outbox at `at` through the server's push sequence
    /// and settles the outbox with the device engine's reading of the
    /// answer.
    async fn push(&mut self, device: &Device, at: Timestamp) -> Result<(), DemoError> {
        self.clock.set(at);
        loop {
            let entries = device.store.outbox_peek(MAX_PUSH_CHANGES, PUSH_BYTES)?;
            if entries.is_empty() {
                return Ok(());
            }
            let report = self.report(device, at)?;
            let request = PushRequest {
                changes: entries
                    .iter()
                    .map(|e| WireChange {
                        doc: e.change.doc_id,
                        bytes: e.change.bytes.clone(),
                    })
                    .collect(),
            };
            let batch = PushBatch::decode(device.principal, device.id, request);
            let result = self.server.push(batch, at).await?;
            let hashes: Vec<_> = entries.iter().map(|e| e.hash).collect();
            let verdict = decide::read_push_answer(&hashes, &result.outcomes);
            device.store.outbox_ack(&verdict.ack)?;
            for r in &verdict.refuse {
                device.store.outbox_refuse(&r.change, &r.code, &r.reason)?;
                self.refused += 1;
            }
            self.health(device, Request::Push, &report, at).await?;
            if verdict.skip > 0 {
                return Ok(());
            }
        }
    }

    /// Pulls what `device`'s user may read at `at` into its store, page by
    /// page, and records the pull with the device's report.
    async fn pull(&self, device: &mut Device, at: Timestamp) -> Result<(), DemoError> {
        self.clock.set(at);
        loop {
            let page = self
                .server
                .pull(&PullQuery {
                    principal: device.principal,
                    device: device.id,
                    after: device.after,
                    limit: PULL_PAGE,
                })
                .await?;
            let changes: Vec<DocChange> = page
                .changes
                .iter()
                .map(|c| DocChange {
                    doc_id: c.doc,
                    bytes: c.bytes.clone(),
                })
                .collect();
            device.store.apply_changes(&changes)?;
            device.after = if page.more {
                page.changes.last().map_or(page.high_water, |c| c.seq)
            } else {
                page.high_water
            };
            if !page.more {
                break;
            }
        }
        let report = self.report(device, at)?;
        self.health(device, Request::Pull, &report, at).await
    }

    /// Pushes then pulls, as a sync round does.
    async fn round(&mut self, device: &mut Device, at: Timestamp) -> Result<(), DemoError> {
        self.push(device, at).await?;
        self.pull(device, at).await
    }

    /// Makes the month.
    async fn run(
        mut self,
        team: &Team,
        members: &[Member],
        slice: &RegisterSlice,
        dir: &std::path::Path,
    ) -> Result<DemoSeed, DemoError> {
        let enrolled_at = self.at(DAYS + 2, 9, 30);
        let mut devices: Vec<Vec<Device>> = Vec::new();
        for m in members {
            let mut mine = Vec::new();
            for d in &m.devices {
                mine.push(
                    self.enrol(&m.user, team, (&d.0, d.1), enrolled_at, dir)
                        .await?,
                );
            }
            devices.push(mine);
        }
        let (lead, people) = devices.split_first_mut().expect("a lead");
        let lead = lead
            .first_mut()
            .ok_or_else(|| DemoError::World("the lead has no tablet".into()))?;
        let commissioners = &members[1..];
        // Each commissioner works in one or two townships of their own;
        // the county's other townships stay uncovered.
        let townships: Vec<u64> = slice.townships.iter().map(|t| t.code).collect();
        let patches: [&[usize]; 6] = [&[0, 1], &[2, 3], &[4, 5], &[6], &[7, 8], &[9]];
        let mut synths: Vec<Synth> = commissioners
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let mine: Vec<u64> = patches[i % patches.len()]
                    .iter()
                    .map(|t| townships[t % townships.len()])
                    .collect();
                Synth::new(StdRng::seed_from_u64(520_324 + i as u64), slice)
                    .only_villages(move |v| mine.contains(&(v / 1000)))
            })
            .collect();
        let mut rng = StdRng::seed_from_u64(20_261_201);
        const BACKLOG: usize = 4; // 杨志强: his phone cannot get its pushes through.
        const SILENT: usize = 5; // 周丽华: nothing for ten days.
        const SILENT_FOR: u32 = 10;
        const BACKLOG_DAYS: u32 = 3;
        let review_days = [22, 15, 8];
        let mut counted = Counts::default();
        let mut my_logs: BTreeMap<usize, Vec<ServiceLogId>> = BTreeMap::new();

        for back in (0..=DAYS).rev() {
            let date = self.today - Days::new(u64::from(back));
            let weekend = matches!(
                chrono::Datelike::weekday(&date),
                chrono::Weekday::Sat | chrono::Weekday::Sun
            );
            for (i, synth) in synths.iter_mut().enumerate() {
                if i == SILENT && back < SILENT_FOR {
                    continue;
                }
                let phone = &people[i][0];
                let p_log = if weekend { 0.25 } else { 0.55 };
                let forced = i == BACKLOG && (1..=BACKLOG_DAYS).contains(&back);
                if forced || rng.random_bool(p_log) {
                    let t = self.at(back, 17, rng.random_range(0..50));
                    if t < self.now {
                        self.clock.set(t);
                        let input = synth.service_log_on(date);
                        let log = phone.store.create_service_log(
                            &phone.principal.identity(),
                            &input,
                            true,
                        )?;
                        my_logs.entry(i).or_default().push(log.value.id);
                    }
                }
                if rng.random_bool(0.2) {
                    let asked = self.at(back, rng.random_range(8..12), rng.random_range(0..60));
                    if asked.millis_since(self.now) < -3 * HOUR_MILLIS {
                        let local = asked.to_china().expect("a time").naive_local();
                        self.clock.set(asked);
                        let input = synth.consultation_at(local);
                        let c = phone
                            .store
                            .create_consultation(&phone.principal.identity(), &input)?;
                        // Most questions are answered the same day; some
                        // wait, and those asked in the last days are open.
                        if back > 3 && rng.random_bool(0.75) {
                            self.clock
                                .set(Timestamp::from_millis(asked.as_millis() + 3 * HOUR_MILLIS));
                            phone
                                .store
                                .answer_consultation(c.value.id, &synth.advice())?;
                        }
                    }
                }
            }
            // The evening's sync rounds.
            let evening = self.at(back, 20, 30).min(Timestamp::from_millis(
                self.now.as_millis() - 10 * 60 * 1000,
            ));
            for (i, mine) in people.iter_mut().enumerate() {
                if i == SILENT && back < SILENT_FOR {
                    continue;
                }
                for device in mine.iter_mut() {
                    if i == BACKLOG && back <= BACKLOG_DAYS {
                        // Pushes time out on his link; the small pulls get
                        // through and report the outbox as it grows.
                        self.pull(device, evening).await?;
                    } else if back <= 1 || device.store.outbox_stats()?.changes > 0 {
                        // A device syncs on the days it recorded something,
                        // and all of them in the last two days.
                        self.round(device, evening).await?;
                    }
                }
            }
            if review_days.contains(&back) {
                let at = self.at(back, 21, 15).min(self.now);
                self.pull(lead, at).await?;
                self.clock.set(at);
                let queue = lead.store.review_queue_as(
                    &lead.principal,
                    &ReviewQueueQuery {
                        limit: Some(500),
                        ..ReviewQueueQuery::default()
                    },
                )?;
                let mut ids: Vec<ServiceLogId> = queue.logs.iter().map(|l| l.id).collect();
                // One log a session goes back with a comment (the second
                // and third sessions).
                if back != review_days[0] && !ids.is_empty() {
                    let pick = ids.remove(rng.random_range(0..ids.len()));
                    let comment = if back == review_days[1] {
                        "请补充服务对象的联系方式，并上传现场照片后重新提交。"
                    } else {
                        "培训人数与签到表不一致，请核实后修改再提交。"
                    };
                    lead.store.return_log_as(
                        &lead.principal,
                        &ReturnInput {
                            id: pick,
                            comment: comment.into(),
                        },
                    )?;
                }
                if !ids.is_empty() {
                    lead.store.approve_logs_as(&lead.principal, &ids)?;
                }
                self.round(lead, at).await?;
            }
            // For the sync admin.
            match back {
                6 => {
                    // 张三's log that his phone and tablet then both edit.
                    let t = self.at(6, 16, 40);
                    self.clock.set(t);
                    let input = synths[0].service_log_on(date);
                    let log = people[0][0].store.create_service_log(
                        &people[0][0].principal.identity(),
                        &input,
                        true,
                    )?;
                    counted.conflicted = Some(log.value.id);
                    let at = self.at(6, 20, 45);
                    let (phone, tablet) = people[0].split_at_mut(1);
                    self.round(&mut phone[0], at).await?;
                    self.pull(&mut tablet[0], at).await?;
                }
                5 => {
                    // Concurrent edits of one field, both pushed.
                    let id = counted.conflicted.expect("made the day before");
                    let farmers = people[0][0].store.service_log(id)?.farmers_served;
                    self.clock.set(self.at(5, 8, 10));
                    people[0][0]
                        .store
                        .edit_record::<ServiceLog, _>(id.into(), |l, _| {
                            l.farmers_served = farmers + 6;
                            Ok(())
                        })?;
                    self.clock.set(self.at(5, 9, 5));
                    people[0][1]
                        .store
                        .edit_record::<ServiceLog, _>(id.into(), |l, _| {
                            l.farmers_served = farmers + 12;
                            Ok(())
                        })?;
                    let at = self.at(5, 20, 50);
                    for device in people[0].iter_mut() {
                        self.round(device, at).await?;
                    }
                }
                4 => {
                    // The same visit logged on the phone and on the tablet.
                    self.clock.set(self.at(4, 17, 20));
                    let input = synths[0].service_log_on(date);
                    people[0][0].store.create_service_log(
                        &people[0][0].principal.identity(),
                        &input,
                        true,
                    )?;
                    self.clock.set(self.at(4, 19, 5));
                    let mut again = input.clone();
                    again.description.push_str(synths[0].sentence());
                    again.start_time = None;
                    people[0][1].store.create_service_log(
                        &people[0][1].principal.identity(),
                        &again,
                        true,
                    )?;
                    let at = self.at(4, 20, 50);
                    for device in people[0].iter_mut() {
                        self.round(device, at).await?;
                    }
                }
                2 => {
                    // 王芳's phone approves her own log: the server refuses
                    // the change and quarantines the log for that phone.
                    let wang = &people[1][0];
                    if let Some(id) = my_logs.get(&1).and_then(|l| l.last()) {
                        self.clock.set(self.at(2, 21, 0));
                        wang.store.review_service_log(
                            *id,
                            wang.principal.user,
                            app_core::api::ReviewDecision::Approve,
                            "",
                        )?;
                        let at = self.at(2, 21, 5);
                        let wang = &mut people[1][0];
                        self.round(wang, at).await?;
                    }
                }
                _ => {}
            }
        }
        // Everyone's tablet and phone, bar the silent and the stuck, catch
        // up this morning; the lead looks at the queue.
        let morning = Timestamp::from_millis(self.now.as_millis() - 5 * 60 * 1000);
        self.pull(lead, morning).await?;
        let held = people[BACKLOG][0].store.outbox_stats()?.changes;
        let summary = self.summarise(lead, held, members)?;
        drop(devices);
        Ok(summary)
    }

    /// Counts what the lead's tablet, holding everything the team pushed,
    /// shows.
    fn summarise(
        &self,
        lead: &Device,
        held: u64,
        members: &[Member],
    ) -> Result<DemoSeed, DemoError> {
        let mut out = DemoSeed {
            fresh: true,
            devices: members.iter().map(|m| m.devices.len() as u64).sum(),
            refused: self.refused,
            held,
            ..DemoSeed::default()
        };
        for id in lead.store.heads()?.into_keys() {
            let doc = lead.store.load_doc(id)?;
            match doc.kind().map_err(app_core::store::StoreError::from)? {
                RecordKind::ServiceLog => {
                    let log = doc
                        .read::<ServiceLog>()
                        .map_err(app_core::store::StoreError::from)?;
                    out.logs += 1;
                    match log.review_state() {
                        ReviewState::Submitted | ReviewState::ChangedSinceApproval => {
                            out.waiting += 1
                        }
                        ReviewState::Approved => out.approved += 1,
                        ReviewState::Returned => out.returned += 1,
                        ReviewState::Draft => {}
                    }
                }
                RecordKind::Consultation => {
                    let c = doc
                        .read::<Consultation>()
                        .map_err(app_core::store::StoreError::from)?;
                    out.consultations += 1;
                    if c.advice.trim().is_empty() {
                        out.open_questions += 1;
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Records the seed keeps track of.
#[derive(Debug, Default)]
struct Counts {
    /// The log edited concurrently.
    conflicted: Option<ServiceLogId>,
}
