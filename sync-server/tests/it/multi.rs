//! Several server instances on one PostgreSQL database (issue 14): devices
//! push through different instances at once, in different counties and in
//! the same one, while readers pull through other instances; afterwards
//! every acknowledged change has reached every reader that may read it
//! exactly once. And a push whose transaction commits late, after pushes
//! that started after it, is not skipped by a pull that ran while it was
//! open.

use std::sync::Arc;

use app_core::domain::{DocId, TeamId};
use app_core::sync::protocol::{
    self, ChangeOutcome, PullResponse, PushRequest, PushResponse, WireChange,
};
use sync_server::ServerHandle;

use crate::harness::{Account, Device, Doc, Env, PROTOCOL, T0, WUCHUAN, ZHENGAN, log_by, villages};

/// New records each writer pushes per batch, and its batches.
const NEW_PER_BATCH: usize = 4;
const BATCHES: usize = 6;
/// A small page, so that readers page through `more`.
const PAGE: u32 = 9;

/// Speaks the protocol to any instance.
#[derive(Clone)]
struct Net {
    http: reqwest::Client,
    bases: Arc<Vec<String>>,
}

impl Net {
    /// `env`'s instance and `n - 1` more on its database.
    async fn start(env: &Env, n: usize) -> (Net, Vec<ServerHandle>) {
        let mut handles = Vec::new();
        let mut bases = vec![env.handle.url()];
        for _ in 1..n {
            let h = env.second_instance().await;
            bases.push(h.url());
            handles.push(h);
        }
        let net = Net {
            http: env.http.clone(),
            bases: Arc::new(bases),
        };
        (net, handles)
    }

    fn base(&self, i: usize) -> &str {
        &self.bases[i % self.bases.len()]
    }

    async fn push(
        &self,
        via: usize,
        device: &Device,
        changes: &[(DocId, Vec<u8>)],
    ) -> Vec<ChangeOutcome> {
        let body = protocol::encode(&PushRequest {
            changes: changes
                .iter()
                .map(|(doc, bytes)| WireChange {
                    doc: *doc,
                    bytes: bytes.clone(),
                })
                .collect(),
        })
        .unwrap();
        let resp = self
            .http
            .post(format!("{}/api/v1/sync/push", self.base(via)))
            .bearer_auth(&device.token)
            .header(PROTOCOL.0, PROTOCOL.1)
            .header("content-type", protocol::MEDIA_TYPE)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "push: {}", resp.text().await.unwrap());
        let answer: PushResponse = protocol::decode(&resp.bytes().await.unwrap()).unwrap();
        assert_eq!(answer.outcomes.len(), changes.len());
        answer.outcomes
    }

    async fn pull(
        &self,
        via: usize,
        device: &Device,
        cursor: Option<&str>,
    ) -> Option<PullResponse> {
        let mut req = self
            .http
            .get(format!("{}/api/v1/sync/pull", self.base(via)))
            .bearer_auth(&device.token)
            .header(PROTOCOL.0, PROTOCOL.1)
            .query(&[("limit", PAGE)]);
        if let Some(c) = cursor {
            req = req.query(&[("cursor", c)]);
        }
        let resp = req.send().await.unwrap();
        match resp.status().as_u16() {
            204 => None,
            200 => Some(protocol::decode(&resp.bytes().await.unwrap()).unwrap()),
            s => panic!("pull answered {s}: {}", resp.text().await.unwrap()),
        }
    }
}

/// A change a writer pushed and the server acknowledged, with where its
/// record sits.
#[derive(Debug, Clone)]
struct Written {
    bytes: Vec<u8>,
    county: &'static str,
    team: TeamId,
    writer: String,
}

/// Who reads, and which writes they may read.
struct Reader {
    name: &'static str,
    device: Device,
    may_read: Box<dyn Fn(&Written) -> bool + Send + Sync>,
    cursor: Option<String>,
    seen: Vec<Vec<u8>>,
    pulls: usize,
}

impl Reader {
    /// Pulls until a page says nothing more waits, each page through the
    /// next instance.
    async fn catch_up(&mut self, net: &Net) {
        loop {
            self.pulls += 1;
            let Some(page) = net
                .pull(self.pulls, &self.device, self.cursor.as_deref())
                .await
            else {
                return;
            };
            self.seen.extend(page.changes.into_iter().map(|c| c.bytes));
            self.cursor = Some(page.cursor);
            if !page.more {
                return;
            }
        }
    }

    /// Asserts that the reader received each write it may read exactly
    /// once, and nothing else.
    fn check(&self, written: &[Written]) {
        let mut expected: Vec<&[u8]> = written
            .iter()
            .filter(|w| (self.may_read)(w))
            .map(|w| &w.bytes[..])
            .collect();
        let mut seen: Vec<&[u8]> = self.seen.iter().map(|b| &b[..]).collect();
        assert!(!expected.is_empty(), "{} may read something", self.name);
        expected.sort();
        seen.sort();
        let mut unique = seen.clone();
        unique.dedup();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{} pulled a change twice",
            self.name
        );
        assert_eq!(
            seen.len(),
            expected.len(),
            "{} pulled {} changes of the {} it may read",
            self.name,
            seen.len(),
            expected.len()
        );
        assert_eq!(
            seen, expected,
            "{} pulled other changes than it may read",
            self.name
        );
    }
}

/// One writer: pushes `BATCHES` batches, each through the next instance:
/// new records and an edit of each record of the batch before.
async fn write(
    net: Net,
    n: usize,
    device: Device,
    who: Account,
    county: &'static str,
    team: TeamId,
) -> Vec<Written> {
    let village = villages(county, 3)[n % 3];
    let mut written = Vec::new();
    let mut last: Vec<Doc> = Vec::new();
    for batch in 0..BATCHES {
        let mut changes = Vec::new();
        for doc in &mut last {
            changes.push(doc.edit_log(&device, |l| l.farmers_served += 1));
        }
        last.clear();
        for i in 0..NEW_PER_BATCH {
            let at = T0 + (n as i64) * 1_000_000 + (batch * 100 + i) as i64;
            let (doc, change) =
                Doc::create_log(&device, &log_by(&who.user, Some(team), village, at));
            last.push(doc);
            changes.push(change);
        }
        let outcomes = net.push(n + batch, &device, &changes).await;
        for (o, (_, bytes)) in outcomes.iter().zip(changes) {
            assert!(
                matches!(o, ChangeOutcome::Stored),
                "{}: {o:?}",
                who.user.username
            );
            written.push(Written {
                bytes,
                county,
                team,
                writer: who.user.username.clone(),
            });
        }
    }
    written
}

/// `instances` server instances on one database: five devices in two
/// counties (three in 正安, two in 务川) push at once, each batch through
/// another instance, while a provincial admin, both county admins and both
/// teams' leads pull through other instances; every acknowledged change
/// reaches each reader that may read it exactly once.
pub async fn several_instances_skip_and_repeat_nothing(env: Env, instances: usize) {
    let w = env.world.clone();
    let (net, _handles) = Net::start(&env, instances).await;
    let writers = [
        (w.c1.clone(), ZHENGAN, w.team1.id),
        (w.c2.clone(), ZHENGAN, w.team1.id),
        (w.c_own.clone(), ZHENGAN, w.team1.id),
        (w.c3.clone(), WUCHUAN, w.team2.id),
        (w.lead2.clone(), WUCHUAN, w.team2.id),
    ];
    let team1 = w.team1.id;
    let team2 = w.team2.id;
    let mut readers = vec![
        Reader {
            name: "admin-guizhou",
            device: env.enrol(&w.admin_guizhou).await,
            may_read: Box::new(|_| true),
            cursor: None,
            seen: Vec::new(),
            pulls: 0,
        },
        Reader {
            name: "admin-zhengan",
            device: env.enrol(&w.admin_zhengan).await,
            may_read: Box::new(|w| w.county == ZHENGAN),
            cursor: None,
            seen: Vec::new(),
            pulls: 1,
        },
        Reader {
            name: "admin-wuchuan",
            device: env.enrol(&w.admin_wuchuan).await,
            may_read: Box::new(|w| w.county == WUCHUAN),
            cursor: None,
            seen: Vec::new(),
            pulls: 2,
        },
        Reader {
            name: "lead1",
            device: env.enrol(&w.lead1).await,
            may_read: Box::new(move |w| w.team == team1),
            cursor: None,
            seen: Vec::new(),
            pulls: 3,
        },
        // lead2's second device: it reads what lead2's first one wrote.
        Reader {
            name: "lead2 (tablet)",
            device: env.enrol(&w.lead2).await,
            may_read: Box::new(move |w| w.team == team2),
            cursor: None,
            seen: Vec::new(),
            pulls: 4,
        },
    ];
    let mut tasks = Vec::new();
    for (n, (who, county, team)) in writers.into_iter().enumerate() {
        let device = env.enrol(&who).await;
        tasks.push(tokio::spawn(write(
            net.clone(),
            n,
            device,
            who,
            county,
            team,
        )));
    }
    while tasks.iter().any(|t| !t.is_finished()) {
        for r in &mut readers {
            r.catch_up(&net).await;
        }
        tokio::task::yield_now().await;
    }
    let mut written = Vec::new();
    for t in tasks {
        written.extend(t.await.unwrap());
    }
    assert_eq!(
        written.len(),
        5 * (BATCHES * NEW_PER_BATCH * 2 - NEW_PER_BATCH)
    );
    assert!(written.iter().any(|w| w.writer == "lead2"));
    for r in &mut readers {
        r.catch_up(&net).await;
        r.check(&written);
    }
}

/// A push in 正安 draws its sequence numbers and then waits before it
/// commits (a test transaction holds the unique slot of one of its change
/// hashes); meanwhile a push in 务川 through another instance commits with
/// higher numbers, and the provincial admin pulls through a third. When
/// the slow push commits, the admin's next pull brings it: nothing was
/// skipped behind the cursor the pull in between gave.
#[allow(
    clippy::disallowed_methods,
    reason = "the test's own transaction holds a push open behind the server's back"
)]
pub async fn a_late_commit_is_not_skipped(env: Env) {
    let w = env.world.clone();
    let (net, _handles) = Net::start(&env, 3).await;
    let mut admin = Reader {
        name: "admin-guizhou",
        device: env.enrol(&w.admin_guizhou).await,
        may_read: Box::new(|_| true),
        cursor: None,
        seen: Vec::new(),
        pulls: 2,
    };
    let slow_dev = env.enrol(&w.c1).await;
    let fast_dev = env.enrol(&w.c3).await;
    let zhengan = villages(ZHENGAN, 1)[0];
    let wuchuan = villages(WUCHUAN, 1)[0];
    let mut written = Vec::new();
    // One stored record, to give the blocking row a document.
    let (_, first) = Doc::create_log(
        &slow_dev,
        &log_by(&w.c1.user, Some(w.team1.id), zhengan, T0),
    );
    assert!(matches!(
        net.push(0, &slow_dev, std::slice::from_ref(&first)).await[0],
        ChangeOutcome::Stored
    ));
    written.push(Written {
        bytes: first.1.clone(),
        county: ZHENGAN,
        team: w.team1.id,
        writer: "c1".into(),
    });
    admin.catch_up(&net).await;

    let (_, slow) = Doc::create_log(
        &slow_dev,
        &log_by(&w.c1.user, Some(w.team1.id), zhengan, T0 + 1),
    );
    let hash = automerge::Change::from_bytes(slow.1.clone())
        .unwrap()
        .hash();
    // The blocker: an uncommitted row with the slow change's hash, so the
    // push's insert waits on the unique index after drawing its numbers.
    let url = env.config.database_url.clone().expect("a PostgreSQL test");
    let (blocker, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    blocker.batch_execute("BEGIN").await.unwrap();
    blocker
        .execute(
            "INSERT INTO changes(doc_id, hash, bytes, device_id, received_at)
             SELECT doc_id, $1, ''::bytea, device_id, 0 FROM changes LIMIT 1",
            &[&&hash.0[..]],
        )
        .await
        .unwrap();
    let slow_push = {
        let net = net.clone();
        let slow = slow.clone();
        tokio::spawn(async move { net.push(0, &slow_dev, &[slow]).await })
    };
    // Wait until the slow push waits on the blocker's row (watched from a
    // connection of its own: inside a transaction the activity view is
    // read once).
    let (watch, watch_conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let watch_conn = tokio::spawn(watch_conn);
    loop {
        let waiting: i64 = watch
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'
                   AND query LIKE 'INSERT INTO changes%'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(watch);
    let _ = watch_conn.await;
    let (_, fast) = Doc::create_log(
        &fast_dev,
        &log_by(&w.c3.user, Some(w.team2.id), wuchuan, T0 + 2),
    );
    assert!(matches!(
        net.push(1, &fast_dev, std::slice::from_ref(&fast)).await[0],
        ChangeOutcome::Stored
    ));
    written.push(Written {
        bytes: fast.1.clone(),
        county: WUCHUAN,
        team: w.team2.id,
        writer: "c3".into(),
    });
    // A pull while the slow push is open.
    admin.catch_up(&net).await;
    assert!(!slow_push.is_finished(), "the slow push is still open");
    blocker.batch_execute("ROLLBACK").await.unwrap();
    drop(blocker);
    let _ = conn.await;
    assert!(matches!(slow_push.await.unwrap()[0], ChangeOutcome::Stored));
    written.push(Written {
        bytes: slow.1,
        county: ZHENGAN,
        team: w.team1.id,
        writer: "c1".into(),
    });
    admin.catch_up(&net).await;
    admin.check(&written);
}
