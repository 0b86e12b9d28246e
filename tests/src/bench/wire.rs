//! The wire scenarios, run through all three implementations in one
//! process over loopback HTTP, each server behind its own counting
//! [`Relay`], so that bytes include HTTP headers and connections are seen.
//!
//! A [`World`] is one team on three servers (Ketepai's real server, the
//! Automerge-sync baseline, the REST baseline) seeded with the same
//! records. A [`Trio`] is one person's device three times over, one per
//! implementation. The author's work is done once, on Ketepai's device
//! store (the product's code path), and handed to the two baseline devices
//! as the same Automerge document (Automerge) or the same record as JSON
//! (REST), so all three upload the same edits.
//!
//! Scenarios, in order, each a single sync session measured on its own:
//! a reconnect with nothing new; a week offline (new records and edits of
//! the author's older logs), then a teammate receiving it; new records,
//! one new record alone, and two-field edits, each uploaded by the author
//! and received by a teammate. At the end every device of every
//! implementation must hold the same records.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use app_core::domain::{DocId, RecordKind, Role, ServiceLogId, Team};
use app_core::store::RegisterSlice;
use app_core::sync::EngineOptions;
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sync_server::store::DivisionImport;
use tokio::runtime::Handle;

use super::am::{AmClient, AmServer, index_doc, index_id};
use super::corpus::{self, Digest, Member, SeedDoc, Spec, gzip, record_json};
use super::ketepai::{self, Account, KetepaiServer, store_records};
use super::link::Cost;
use super::relay::Relay;
use super::rest::{Peer, RestClient, RestServer};
use crate::device::Device;
use crate::synth::Synth;

/// The implementations, in table order.
pub const IMPLS: [&str; 3] = ["Ketepai", "Automerge sync", "REST gzip'd JSON"];
/// Index of Ketepai's protocol.
pub const KETEPAI: usize = 0;
/// Index of Automerge's per-document sync.
pub const AUTOMERGE: usize = 1;
/// Index of the REST baseline.
pub const REST: usize = 2;

/// A device token of the same shape as Ketepai's (43 characters).
pub fn token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    (0..43)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// One team on the three servers, each behind a relay.
#[derive(Debug)]
pub struct World {
    /// Ketepai's server.
    pub ketepai: KetepaiServer,
    /// The Automerge-sync baseline.
    pub am: AmServer,
    /// The REST baseline.
    pub rest: RestServer,
    /// Relays in front of them, by implementation index.
    pub relays: Vec<Relay>,
    /// The team.
    pub team: Team,
    /// Its members, as added.
    pub accounts: Vec<Account>,
    /// Its county's register.
    pub slice: RegisterSlice,
    next_peer: AtomicU64,
}

impl World {
    /// Starts the three servers and relays on `rt` and adds the team.
    pub async fn new(
        rt: &Handle,
        rows: &[DivisionImport],
        team: &str,
        members: &[(String, Role)],
    ) -> anyhow::Result<World> {
        let ketepai = KetepaiServer::start(rt, None, rows).await?;
        let am = AmServer::start(rt).await?;
        let rest = RestServer::start(rt).await?;
        let mut relays = Vec::new();
        for addr in [ketepai.addr(), am.addr(), rest.addr()] {
            relays.push(rt.spawn(Relay::start(addr)).await??);
        }
        let (team, accounts) = ketepai.add_team(team, members).await?;
        let slice = ketepai.slice().await?;
        Ok(World {
            ketepai,
            am,
            rest,
            relays,
            team,
            accounts,
            slice,
            next_peer: AtomicU64::new(1),
        })
    }

    /// Seeds the same records into all three servers: pushed by their
    /// authors' devices into Ketepai's, stored directly into the baselines'
    /// (with the team's index for Automerge).
    pub async fn seed(
        &self,
        authors: &[Account],
        lead: Option<&Account>,
        corpus: &[SeedDoc],
    ) -> anyhow::Result<()> {
        ketepai::seed(&self.ketepai.url(), authors, lead, corpus).await?;
        let index = index_doc(corpus.iter().map(|d| (d.id, d.kind)));
        self.am.seed(
            corpus
                .iter()
                .map(|d| (d.id, d.saved.clone()))
                .chain(std::iter::once((index_id(self.team.id), index))),
        )?;
        self.rest.seed(
            corpus
                .iter()
                .map(|d| (d.id, d.kind, self.team.id, d.json.as_str())),
        )?;
        Ok(())
    }

    /// Tokens of a new device on the two baselines: (Automerge, REST).
    pub fn baseline_tokens(&self) -> (String, String) {
        let peer = self.next_peer.fetch_add(1, Ordering::Relaxed);
        let (am, rest) = (token(), token());
        self.am.add_peer(&am, peer);
        self.rest.add_peer(
            &rest,
            Peer {
                device: peer,
                team: self.team.id,
            },
        );
        (am, rest)
    }

    /// A device for `account` in each implementation, talking through the
    /// relays. Ketepai's is enrolled for real (enrolment is not measured).
    pub async fn trio(&self, account: &Account, name: &str) -> anyhow::Result<Trio> {
        let device = Device::enrol(
            name,
            &self.ketepai.url(),
            &account.username,
            &account.password,
            0,
            EngineOptions::default(),
        )
        .await
        .with_context(|| format!("enrolling {name}"))?;
        device.set_server(&self.relays[KETEPAI].url());
        let (am, rest) = self.baseline_tokens();
        Ok(Trio {
            ketepai: device,
            am: AmClient::new(&self.relays[AUTOMERGE].url(), &am, self.team.id, None)?,
            rest: RestClient::new(&self.relays[REST].url(), &rest, None)?,
        })
    }

    /// One sync session of `trio`'s device of implementation `which`, with
    /// what it cost on the wire.
    pub async fn measure(&self, trio: &mut Trio, which: usize) -> anyhow::Result<Cost> {
        let before = self.relays[which].traffic();
        let (requests, critical) = trio.sync(which).await?;
        let t = self.relays[which].traffic().since(before);
        Ok(Cost {
            requests,
            critical,
            connections: t.connections,
            up: t.up,
            down: t.down,
        })
    }

    /// The three costs of one scenario.
    pub async fn measure_all(&self, trio: &mut Trio) -> anyhow::Result<[Cost; 3]> {
        let mut out = [Cost::default(); 3];
        for (which, cost) in out.iter_mut().enumerate() {
            *cost = self.measure(trio, which).await?;
        }
        Ok(out)
    }

    /// Stops Ketepai's server (the baselines stop when dropped).
    pub async fn stop(self) -> anyhow::Result<()> {
        self.ketepai.stop().await
    }
}

/// One person's device, once per implementation.
pub struct Trio {
    /// On Ketepai's protocol: the real store and sync engine.
    pub ketepai: Device,
    /// On Automerge's per-document sync.
    pub am: AmClient,
    /// On the REST baseline.
    pub rest: RestClient,
}

impl Trio {
    /// One sync session of implementation `which`: (requests, requests on
    /// the critical path).
    pub async fn sync(&mut self, which: usize) -> anyhow::Result<(u64, u64)> {
        Ok(match which {
            KETEPAI => {
                let r = self.ketepai.sync().await?;
                anyhow::ensure!(
                    r.refused == 0 && r.missing_deps == 0,
                    "ketepai sync of {} was not clean: {r:?}",
                    self.ketepai.name
                );
                (r.requests as u64, r.requests as u64)
            }
            AUTOMERGE => {
                let s = self.am.session().await?;
                (s.requests, s.critical)
            }
            _ => {
                let s = self.rest.session().await?;
                (s.requests, s.requests)
            }
        })
    }

    /// The records the device of implementation `which` holds.
    pub fn records(&self, which: usize) -> anyhow::Result<BTreeMap<DocId, String>> {
        match which {
            KETEPAI => store_records(&self.ketepai.store),
            AUTOMERGE => self.am.records(),
            _ => self.rest.records(),
        }
    }

    /// Hands a record the Ketepai device just saved to the two baseline
    /// devices; returns the size of its gzip'd JSON.
    fn mirror(&self, id: DocId, new: Option<RecordKind>) -> anyhow::Result<u64> {
        let doc = self.ketepai.store.load_doc(id)?;
        let (kind, json) = record_json(&doc)?;
        self.am.absorb(id, &doc.save(), new)?;
        self.rest.save(id, kind, &json)?;
        Ok(gzip(json.as_bytes()).len() as u64)
    }

    /// Makes `n` new records (one in seven a consultation) offline;
    /// returns their total gzip'd JSON size.
    pub fn create(&self, synth: &mut Synth, n: usize, made: &mut usize) -> anyhow::Result<u64> {
        let (store, who) = (&self.ketepai.store, &self.ketepai.identity);
        let mut gz = 0;
        for _ in 0..n {
            *made += 1;
            let (id, kind): (DocId, _) = if made.is_multiple_of(7) {
                let c = store.create_consultation(who, &synth.consultation())?.value;
                (c.id.into(), RecordKind::Consultation)
            } else {
                let log = store
                    .create_service_log(who, &synth.service_log(7), true)?
                    .value;
                (log.id.into(), RecordKind::ServiceLog)
            };
            gz += self.mirror(id, Some(kind))?;
        }
        Ok(gz)
    }

    /// Edits two fields of each log (a sentence added to the description,
    /// one more farmer served) as the edit form would; returns the total
    /// gzip'd JSON size of the edited records.
    pub fn edit(&self, synth: &mut Synth, ids: &[ServiceLogId]) -> anyhow::Result<u64> {
        let store = &self.ketepai.store;
        let mut gz = 0;
        for id in ids {
            let mut input = store.service_log(*id)?.to_input();
            input.description.push_str(synth.sentence());
            input.farmers_served += 1;
            store.update_service_log(*id, &input, false)?;
            gz += self.mirror((*id).into(), None)?;
        }
        Ok(gz)
    }
}

/// How large the wire scenarios are.
#[derive(Debug, Clone, Copy)]
pub struct WireSizes {
    /// Records on the device before the scenarios (the team's).
    pub held: usize,
    /// Team members who author them (the author and teammate included).
    pub members: usize,
    /// New records in the week offline.
    pub week_new: usize,
    /// Edits of older logs in the week offline.
    pub week_edits: usize,
    /// Records per per-record measurement.
    pub batch: usize,
}

/// Per-record figures: one batch uploaded by the author and received by
/// a teammate, each beyond what the same device's sync with nothing new
/// costs just before (for Automerge, whose every session exchanges a
/// message per document, that constant would otherwise swamp the records).
#[derive(Debug, Clone)]
pub struct PerRecord {
    /// Records in the batch.
    pub count: usize,
    /// Their gzip'd JSON, summed (what a REST body carries).
    pub gzip_json: u64,
    /// The author's sync with nothing new, just before.
    pub up_base: [Cost; 3],
    /// The author's upload session.
    pub up: [Cost; 3],
    /// The teammate's sync with nothing new, just before.
    pub down_base: [Cost; 3],
    /// The teammate's download session.
    pub down: [Cost; 3],
}

impl PerRecord {
    /// Bytes up per record beyond a sync with nothing new.
    pub fn up_bytes(&self, which: usize) -> f64 {
        self.up[which].up.saturating_sub(self.up_base[which].up) as f64 / self.count as f64
    }

    /// Bytes down (to a teammate) per record beyond a sync with nothing new.
    pub fn down_bytes(&self, which: usize) -> f64 {
        self.down[which]
            .down
            .saturating_sub(self.down_base[which].down) as f64
            / self.count as f64
    }

    /// The records' gzip'd JSON, per record.
    pub fn gzip_per_record(&self) -> f64 {
        self.gzip_json as f64 / self.count as f64
    }

    /// Bytes up per record as a ratio to gzip'd JSON.
    pub fn up_ratio(&self, which: usize) -> f64 {
        self.up_bytes(which) / self.gzip_per_record()
    }

    /// Bytes down per record as a ratio to gzip'd JSON.
    pub fn down_ratio(&self, which: usize) -> f64 {
        self.down_bytes(which) / self.gzip_per_record()
    }
}

/// Sizes of one push body of the new records, encoded two ways: as the
/// engine sends it (each change uncompressed, `Change::raw_bytes`, so that
/// zstd sees what the records share), and with each change DEFLATEd on its
/// own (`Change::bytes`, what Automerge hands out by default and what the
/// engine sent before; same hashes). Computed from the outbox, not sent.
#[derive(Debug, Clone, Copy)]
pub struct Payload {
    /// Changes in the body.
    pub changes: usize,
    /// MessagePack + zstd body with the changes uncompressed (as sent).
    pub as_sent: u64,
    /// MessagePack + zstd body with each change DEFLATEd on its own.
    pub deflated: u64,
    /// The changes' own bytes uncompressed (what the server stores).
    pub raw_changes: u64,
    /// The changes' own bytes, each DEFLATEd.
    pub deflated_changes: u64,
}

/// The size of a protocol body (MessagePack, then zstd at the server's
/// level 3) holding `changes`: a push, or a pull page when `page` is set;
/// with each change uncompressed or, when `deflate`, DEFLATEd on its own
/// (same hash either way). Returns the body's size and the changes' own
/// bytes summed.
pub fn body_size(
    changes: &[(DocId, &[u8])],
    deflate: bool,
    page: bool,
) -> anyhow::Result<(u64, u64)> {
    use app_core::sync::protocol::{self, PullResponse, PushRequest, WireChange};
    let changes = changes
        .iter()
        .map(|(doc, bytes)| {
            let mut change = automerge::Change::from_bytes(bytes.to_vec())?;
            let hash = change.hash();
            let bytes = if deflate {
                change.bytes().into_owned()
            } else {
                change.raw_bytes().to_vec()
            };
            // Either form is the same change: the server decodes it and
            // finds it under the same hash.
            anyhow::ensure!(
                automerge::Change::from_bytes(bytes.clone())?.hash() == hash,
                "re-encoding a change changed its hash"
            );
            anyhow::Ok(WireChange { doc: *doc, bytes })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let sum = changes.iter().map(|c| c.bytes.len() as u64).sum();
    let body = if page {
        protocol::encode(&PullResponse {
            changes,
            cursor: "1.1000000".into(),
            more: true,
        })?
    } else {
        protocol::encode(&PushRequest { changes })?
    };
    Ok((zstd::bulk::compress(&body, 3)?.len() as u64, sum))
}

/// Encodes the author's waiting changes both ways.
fn payload(store: &app_core::store::Store) -> anyhow::Result<Payload> {
    let entries = store.outbox_peek(5_000, usize::MAX)?;
    let changes: Vec<(DocId, &[u8])> = entries
        .iter()
        .map(|e| (e.change.doc_id, e.change.bytes.as_slice()))
        .collect();
    let (as_sent, raw_changes) = body_size(&changes, false, false)?;
    let (deflated, deflated_changes) = body_size(&changes, true, false)?;
    Ok(Payload {
        changes: changes.len(),
        as_sent,
        deflated,
        raw_changes,
        deflated_changes,
    })
}

/// What the wire scenarios measured.
#[derive(Debug, Clone)]
pub struct WireFigures {
    /// Sizes used.
    pub sizes: WireSizes,
    /// A reconnect with nothing new.
    pub reconnect: [Cost; 3],
    /// The week offline, uploaded by the author.
    pub week: [Cost; 3],
    /// The week offline, received by a teammate.
    pub week_received: [Cost; 3],
    /// The week's records (new and edited) as gzip'd JSON.
    pub week_gzip_json: u64,
    /// A batch of new records.
    pub new: PerRecord,
    /// That batch's push body, encoded two ways.
    pub payload: Payload,
    /// One new record alone.
    pub one: PerRecord,
    /// A batch of two-field edits.
    pub edits: PerRecord,
    /// What the teammate's devices hold at the end, by implementation.
    pub digests: [Digest; 3],
}

/// Runs the wire scenarios on a fresh world.
pub async fn run(
    rt: &Handle,
    rows: &[DivisionImport],
    sizes: WireSizes,
) -> anyhow::Result<WireFigures> {
    let members: Vec<(String, Role)> = (0..sizes.members.max(2))
        .map(|i| (format!("member-{i:02}"), Role::Commissioner))
        .collect();
    let world = World::new(rt, rows, "正安县科技特派团", &members).await?;
    let authors: Vec<Member> = world
        .accounts
        .iter()
        .enumerate()
        .map(|(i, a)| Member {
            user: a.user.id,
            team: world.team.id,
            actor: automerge::ActorId::random(),
            // The author wrote more than most: the week's edits are of
            // their own older logs.
            weight: if i == 0 { 3 } else { 1 },
        })
        .collect();
    let corpus = corpus::generate(
        &Spec {
            records: sizes.held,
            days: 365,
            seed: 1,
            edits: true,
            approvals: false,
        },
        &world.slice,
        &authors,
        None,
    )?;
    world.seed(&world.accounts, None, &corpus).await?;
    let own_logs: Vec<ServiceLogId> = corpus
        .iter()
        .filter(|d| d.author == 0 && d.kind == RecordKind::ServiceLog)
        .map(|d| d.id.into())
        .collect();
    anyhow::ensure!(!own_logs.is_empty(), "the author has no older logs to edit");
    drop(corpus);

    let mut author = world.trio(&world.accounts[0], "author").await?;
    let mut mate = world.trio(&world.accounts[1], "teammate").await?;
    for (which, name) in IMPLS.iter().enumerate() {
        author.sync(which).await?;
        mate.sync(which).await?;
        let held = author.records(which)?.len();
        anyhow::ensure!(
            held == sizes.held,
            "{name} device holds {held} records after its first sync, not {}",
            sizes.held
        );
    }
    let mut synth = Synth::new(StdRng::seed_from_u64(11), &world.slice);
    let mut made = 0;
    let mut edits = own_logs.iter().cycle().copied();

    let reconnect = world.measure_all(&mut author).await?;

    let mut week_gzip_json = author.create(&mut synth, sizes.week_new, &mut made)?;
    let ids: Vec<_> = edits.by_ref().take(sizes.week_edits).collect();
    week_gzip_json += author.edit(&mut synth, &ids)?;
    let week = world.measure_all(&mut author).await?;
    let week_received = world.measure_all(&mut mate).await?;

    let (up_base, down_base) = (
        world.measure_all(&mut author).await?,
        world.measure_all(&mut mate).await?,
    );
    let gz = author.create(&mut synth, sizes.batch, &mut made)?;
    let payload = payload(&author.ketepai.store)?;
    let new = PerRecord {
        count: sizes.batch,
        gzip_json: gz,
        up_base,
        up: world.measure_all(&mut author).await?,
        down_base,
        down: world.measure_all(&mut mate).await?,
    };
    let (up_base, down_base) = (
        world.measure_all(&mut author).await?,
        world.measure_all(&mut mate).await?,
    );
    let gz = author.create(&mut synth, 1, &mut made)?;
    let one = PerRecord {
        count: 1,
        gzip_json: gz,
        up_base,
        up: world.measure_all(&mut author).await?,
        down_base,
        down: world.measure_all(&mut mate).await?,
    };
    let (up_base, down_base) = (
        world.measure_all(&mut author).await?,
        world.measure_all(&mut mate).await?,
    );
    let ids: Vec<_> = edits.by_ref().take(sizes.batch).collect();
    let gz = author.edit(&mut synth, &ids)?;
    let edits = PerRecord {
        count: sizes.batch,
        gzip_json: gz,
        up_base,
        up: world.measure_all(&mut author).await?,
        down_base,
        down: world.measure_all(&mut mate).await?,
    };

    // Everyone holds the same records: within an implementation, and
    // across them.
    let expected = author.records(KETEPAI)?;
    let want = Digest::of(&expected);
    let mut digests = Vec::new();
    for (which, name) in IMPLS.iter().enumerate() {
        for (who, trio) in [("author", &author), ("teammate", &mate)] {
            let got = Digest::of(&trio.records(which)?);
            if got != want {
                let held = trio.records(which)?;
                let differing = expected
                    .iter()
                    .find(|(id, json)| held.get(*id) != Some(*json))
                    .map(|(id, json)| format!("{id}: {json} against {:?}", held.get(id)));
                anyhow::bail!(
                    "the {who}'s {name} device does not hold the same records as the author's \
                     Ketepai device ({} against {} records; first difference {})",
                    got.records,
                    want.records,
                    differing.unwrap_or_default()
                );
            }
            if who == "teammate" {
                digests.push(got);
            }
        }
    }
    drop(author);
    drop(mate);
    world.stop().await?;
    Ok(WireFigures {
        sizes,
        reconnect,
        week,
        week_received,
        week_gzip_json,
        new,
        payload,
        one,
        edits,
        digests: digests.try_into().expect("three implementations"),
    })
}
