//! Pulls: pages and cursors, the `204` reconnect and what it costs on the
//! wire, cursors from another scope epoch or from the future, and skipping
//! past many changes outside the caller's scope, changes served
//! uncompressed; the streamed pull (one request, the pages as parts).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use app_core::domain::{Role, Scope};
use app_core::sync::compact::{COMPACT_PARTS_MEDIA_TYPE, CompactDecoder};
use app_core::sync::protocol::{self, PullResponse, PushRequest, PushResponse, WireChange};
use app_core::sync::{EngineOptions, SyncClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Doc, Env, Fetch, T0, WUCHUAN, ZHENGAN, log_by, problem, villages};

pub async fn pages_and_the_204_reconnect(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let c2 = env.enrol(&w.c2).await;
    let v = villages(ZHENGAN, 1)[0];
    let changes: Vec<_> = (0..5)
        .map(|i| Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0 + i)).1)
        .collect();
    env.push(&c1, &changes).await;

    let p1 = env.pull(&c2, None, Some(2)).await.unwrap();
    assert_eq!((p1.changes.len(), p1.more), (2, true));
    let p2 = env.pull(&c2, Some(&p1.cursor), Some(2)).await.unwrap();
    assert_eq!((p2.changes.len(), p2.more), (2, true));
    let p3 = env.pull(&c2, Some(&p2.cursor), Some(2)).await.unwrap();
    assert_eq!((p3.changes.len(), p3.more), (1, false));
    let order: Vec<_> = [&p1, &p2, &p3]
        .iter()
        .flat_map(|p| p.changes.iter().map(|c| c.doc))
        .collect();
    let pushed: Vec<_> = changes.iter().map(|c| c.0).collect();
    assert_eq!(order, pushed, "server order is push order");
    // A page fetched again is the same page.
    let again = env.pull(&c2, Some(&p1.cursor), Some(2)).await.unwrap();
    assert_eq!(again, p2);
    // Nothing new: 204.
    assert!(env.pull(&c2, Some(&p3.cursor), None).await.is_none());
    // Something new arrives.
    let (_, one) = Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0 + 9));
    env.push(&c1, std::slice::from_ref(&one)).await;
    let p4 = env.pull(&c2, Some(&p3.cursor), None).await.unwrap();
    assert_eq!(p4.changes.len(), 1);
    assert_eq!(p4.changes[0].doc, one.0);
    assert!(env.pull(&c2, Some(&p4.cursor), None).await.is_none());

    // A cursor that does not parse.
    let resp = env
        .get(&c2, "/api/v1/sync/pull")
        .query(&[("cursor", "yesterday")])
        .send()
        .await
        .unwrap();
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (400, "bad_cursor"));
    // A cursor from another scope epoch, or past the end (a restored
    // server), starts over.
    for stale in ["99.3", "1.99999999"] {
        let page = env.pull(&c2, Some(stale), None).await.unwrap();
        assert_eq!(page.changes.len(), 6, "cursor {stale}");
    }
    // The user's scope changes: the old cursor restarts from the beginning.
    env.store()
        .set_user_scope(
            w.c2.user.id,
            Role::Commissioner,
            Scope::Team(w.team1.id),
            Some(w.team1.id),
        )
        .await
        .unwrap();
    let page = env.pull(&c2, Some(&p4.cursor), None).await.unwrap();
    assert_eq!(page.changes.len(), 6);
    assert!(page.cursor.starts_with("2."), "{}", page.cursor);
    assert!(env.pull(&c2, Some(&page.cursor), None).await.is_none());
}

pub async fn many_changes_out_of_scope_are_skipped(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let c3 = env.enrol(&w.c3).await;
    let v = villages(WUCHUAN, 1)[0];
    let changes: Vec<_> = (0..1_100)
        .map(|i| Doc::create_log(&c3, &log_by(&w.c3.user, Some(w.team2.id), v, T0 + i)).1)
        .collect();
    let outcomes = env.push(&c3, &changes).await;
    assert!(outcomes.iter().all(|o| o.is_acknowledged()));
    // Nothing in c1's scope, but many changes past the cursor: one answer
    // moves the cursor past them, then reconnects are 204 again.
    let page = env.pull(&c1, None, None).await.unwrap();
    assert!(page.changes.is_empty());
    assert!(!page.more);
    assert!(env.pull(&c1, Some(&page.cursor), None).await.is_none());
    // A province admin pulls them all, in pages.
    let admin = env.enrol(&w.admin_guizhou).await;
    let (all, _) = env.pull_all(&admin).await;
    assert_eq!(all.len(), 1_100);
}

/// A TCP proxy that counts the bytes of one connection each way.
pub async fn counting_proxy(
    target: std::net::SocketAddr,
) -> (std::net::SocketAddr, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let up = Arc::new(AtomicUsize::new(0));
    let down = Arc::new(AtomicUsize::new(0));
    let (u, d) = (Arc::clone(&up), Arc::clone(&down));
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let server = tokio::net::TcpStream::connect(target).await.unwrap();
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let (u, d) = (Arc::clone(&u), Arc::clone(&d));
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(n) = cr.read(&mut buf).await {
                    if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    u.fetch_add(n, Ordering::SeqCst);
                }
                let _ = sw.shutdown().await;
            });
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(n) = sr.read(&mut buf).await {
                    if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    d.fetch_add(n, Ordering::SeqCst);
                }
                let _ = cw.shutdown().await;
            });
        }
    });
    (addr, up, down)
}

pub async fn a_reconnect_with_nothing_new_is_small(env: Env) {
    let w = env.world.clone();
    let c2 = env.enrol(&w.c2).await;
    let c1 = env.enrol(&w.c1).await;
    let v = villages(ZHENGAN, 1)[0];
    let changes: Vec<_> = (0..50)
        .map(|i| Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0 + i)).1)
        .collect();
    env.push(&c1, &changes).await;
    let (_, cursor) = env.pull_all(&c2).await;
    let cursor = cursor.unwrap();

    // The device's own client, through a proxy that counts bytes.
    let (proxy, up, down) = counting_proxy(env.handle.local_addr()).await;
    let client = SyncClient::new(
        &format!("http://{proxy}"),
        &c2.token,
        &EngineOptions::default(),
    )
    .unwrap();
    let page = client.pull(Some(&cursor), 2_000).await.unwrap();
    assert!(page.is_none(), "nothing new answers 204");
    let (up, down) = (up.load(Ordering::SeqCst), down.load(Ordering::SeqCst));
    eprintln!(
        "reconnect with nothing new: {up} bytes up, {down} bytes down, {} total",
        up + down
    );
    assert!(down <= 80, "{down} bytes of answer");
    assert!(up + down <= 300, "{up} + {down} bytes on the wire");
}

/// Pushers on several devices at once while a reader pulls: the reader's
/// cursor must never pass a change that commits later, so at the end it
/// has every change exactly once.
pub async fn concurrent_pushes_are_never_skipped(env: Env) {
    let w = env.world.clone();
    let reader = env.enrol(&w.admin_zhengan).await;
    let v = villages(ZHENGAN, 1)[0];
    let env = Arc::new(env);
    let mut pushers = Vec::new();
    for (n, who) in [&w.c1, &w.c2, &w.lead1, &w.c_own].into_iter().enumerate() {
        let env = Arc::clone(&env);
        let who = who.clone();
        let team = w.team1.id;
        pushers.push(tokio::spawn(async move {
            let device = env.enrol(&who).await;
            let mut hashes = Vec::new();
            for batch in 0..20 {
                let changes: Vec<_> = (0..4)
                    .map(|i| {
                        let at = T0 + (n as i64) * 1_000_000 + batch * 100 + i;
                        Doc::create_log(&device, &log_by(&who.user, Some(team), v, at)).1
                    })
                    .collect();
                let outcomes = env.push(&device, &changes).await;
                assert!(outcomes.iter().all(|o| o.is_acknowledged()));
                hashes.extend(changes.into_iter().map(|c| c.1));
            }
            hashes
        }));
    }
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut cursor: Option<String> = None;
    let pull_once = async |cursor: &mut Option<String>, seen: &mut Vec<Vec<u8>>| {
        while let Some(page) = env.pull(&reader, cursor.as_deref(), Some(7)).await {
            seen.extend(page.changes.into_iter().map(|c| c.bytes));
            *cursor = Some(page.cursor);
            if !page.more {
                break;
            }
        }
    };
    while pushers.iter().any(|p| !p.is_finished()) {
        pull_once(&mut cursor, &mut seen).await;
        tokio::task::yield_now().await;
    }
    let mut pushed = Vec::new();
    for p in pushers {
        pushed.extend(p.await.unwrap());
    }
    pull_once(&mut cursor, &mut seen).await;
    assert_eq!(pushed.len(), 320);
    assert_eq!(seen.len(), pushed.len(), "each change pulled exactly once");
    pushed.sort();
    seen.sort();
    assert_eq!(seen, pushed);
}

/// Two server instances on one database: a push to one is pulled from the
/// other, and a photo upload started on one resumes on the other.
pub async fn two_instances_share_one_database(env: Env) {
    let w = env.world.clone();
    let other = env.second_instance().await;
    let c1 = env.enrol(&w.c1).await;
    let c2 = env.enrol(&w.c2).await;
    let v = villages(ZHENGAN, 1)[0];
    let (_, change) = Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0));
    env.push(&c1, std::slice::from_ref(&change)).await;
    let page: PullResponse = env
        .http
        .get(format!("{}/api/v1/sync/pull", other.url()))
        .bearer_auth(&c2.token)
        .fetch_msgpack()
        .await;
    assert_eq!(page.changes.len(), 1);
    assert_eq!(page.changes[0].bytes, change.1);
    // The same push through the other instance: already there.
    let body = PushRequest {
        changes: vec![WireChange {
            doc: change.0,
            bytes: change.1.clone(),
        }],
    };
    let answer: PushResponse = env
        .http
        .post(format!("{}/api/v1/sync/push", other.url()))
        .bearer_auth(&c1.token)
        .header("content-type", protocol::MEDIA_TYPE)
        .body(protocol::encode(&body).unwrap())
        .fetch_msgpack()
        .await;
    assert_eq!(crate::harness::code(&answer.outcomes[0]), "duplicate");
    // A photo: first half through one instance, the rest through the other.
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let hash: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let start = env
        .post(&c1, "/api/v1/photos")
        .header("upload-length", bytes.len().to_string())
        .header("photo-sha256", &hash)
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 201);
    for (base, from, to) in [
        (env.handle.url(), 0, 50_000),
        (other.url(), 50_000, 100_000),
    ] {
        let resp = env
            .http
            .patch(format!("{base}/api/v1/photos/{hash}"))
            .bearer_auth(&c1.token)
            .header("upload-offset", from.to_string())
            .header("content-type", "application/offset+octet-stream")
            .body(bytes[from..to].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204);
    }
    // (Read back by its uploader: no record names it.)
    let got = env
        .http
        .get(format!("{}/api/v1/photos/{hash}", other.url()))
        .bearer_auth(&c1.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(got.as_ref(), &bytes[..]);
    other.shutdown().await.unwrap();
}

/// Changes are stored and served uncompressed whatever the device sent:
/// Automerge DEFLATEs a change's columns past 256 bytes, which hides what
/// records share from the page's zstd. An older client's compressed change
/// is the same change (same hash), so it is stored once and served raw.
pub async fn changes_are_served_uncompressed(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let c2 = env.enrol(&w.c2).await;
    let v = villages(ZHENGAN, 1)[0];
    let mut log = log_by(&w.c1.user, Some(w.team1.id), v, T0);
    log.description = "指导茶农修剪茶树，清理病枝，施用有机肥，并讲解春茶采摘标准。".repeat(8);
    let (doc, (id, raw)) = Doc::create_log(&c1, &log);
    let mut change = doc.doc.changes_since(&[]).remove(0);
    let compressed = change.bytes().into_owned();
    assert!(
        compressed.len() < raw.len(),
        "the change is big enough to compress"
    );

    // An older client sends it compressed, then a newer one replays it raw.
    let first = env.push(&c1, &[(id, compressed)]).await;
    assert!(first[0].is_acknowledged());
    env.push(&c1, &[(id, raw.clone())]).await;
    let page = env.pull(&c2, None, None).await.unwrap();
    assert_eq!(page.changes.len(), 1, "stored once");
    assert_eq!(page.changes[0].bytes, raw, "served uncompressed");
}

/// The streamed pull answers in one request what the paged pull answers
/// in several: the same changes in the same parts with the same cursors;
/// `204` when nothing is new; a bad cursor refused as on the paged route.
pub async fn the_stream_holds_the_pages(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let c2 = env.enrol(&w.c2).await;
    let v = villages(ZHENGAN, 1)[0];
    let changes: Vec<_> = (0..7)
        .map(|i| Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0 + i)).1)
        .collect();
    env.push(&c1, &changes).await;

    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    while let Some(page) = env.pull(&c2, cursor.as_deref(), Some(2)).await {
        cursor = Some(page.cursor.clone());
        let more = page.more;
        pages.push(page);
        if !more {
            break;
        }
    }
    assert_eq!(pages.len(), 4);

    let client = SyncClient::new(&env.handle.url(), &c2.token, &EngineOptions::default()).unwrap();
    let idle = std::time::Duration::from_secs(20);
    let mut stream = client.pull_stream(None, 2, idle).await.unwrap();
    assert!(!stream.is_empty());
    assert!(stream.is_compact(), "a device asks for compact parts");
    let mut parts = Vec::new();
    while let Some(part) = stream.next_part().await.unwrap() {
        parts.push(part);
    }
    assert_eq!(parts, pages, "the stream's parts are the pages");

    // A client asking for plain parts only still gets them.
    let plain_client = client.with_compact_parts(false);
    let mut stream = plain_client.pull_stream(None, 2, idle).await.unwrap();
    assert!(!stream.is_compact());
    let mut parts = Vec::new();
    while let Some(part) = stream.next_part().await.unwrap() {
        parts.push(part);
    }
    assert_eq!(parts, pages, "plain parts are the pages");

    // A compact stream broken after its second part resumes with the
    // tables the device kept: the server rebuilds them from the named
    // start and says so, and the rest decodes with them.
    let mut broken = client.pull_stream(None, 2, idle).await.unwrap();
    let mut got = vec![
        broken.next_part().await.unwrap().unwrap(),
        broken.next_part().await.unwrap().unwrap(),
    ];
    let seed = broken.take_seed().expect("a compact stream has tables");
    drop(broken);
    let after_two = got[1].cursor.clone();
    let mut resumed = client
        .resuming_compact(true)
        .pull_stream_resuming(Some(&after_two), 2, idle, Some(seed))
        .await
        .unwrap();
    assert!(resumed.is_compact() && resumed.is_seeded());
    while let Some(part) = resumed.next_part().await.unwrap() {
        got.push(part);
    }
    assert_eq!(got, pages, "the resumed stream ends the pages");
    // Tables the server cannot rebuild up to the cursor asked from (a
    // stream that started past it): new tables, said so, the same pages.
    let mut later = client
        .resuming_compact(true)
        .pull_stream(Some(&after_two), 2, idle)
        .await
        .unwrap();
    later.next_part().await.unwrap().unwrap();
    let seed = later.take_seed().unwrap();
    drop(later);
    let first_cursor = pages[0].cursor.clone();
    let mut fresh = client
        .resuming_compact(true)
        .pull_stream_resuming(Some(&first_cursor), 2, idle, Some(seed))
        .await
        .unwrap();
    assert!(fresh.is_compact() && !fresh.is_seeded());
    let mut rest = vec![pages[0].clone()];
    while let Some(part) = fresh.next_part().await.unwrap() {
        rest.push(part);
    }
    assert_eq!(rest, pages);

    // While the instance serves as many compact streams as it may at once,
    // a device asking for compact parts gets plain ones, and reads them.
    let busy = env
        .handle
        .server()
        .state()
        .compact_streams
        .clone()
        // Waits for the streams above to have let go of theirs.
        .acquire_many_owned(sync_server::codec::MAX_COMPACT_STREAMS as u32)
        .await
        .unwrap();
    let mut stream = client.pull_stream(None, 2, idle).await.unwrap();
    assert!(!stream.is_compact(), "past the cap, plain parts");
    let mut parts = Vec::new();
    while let Some(part) = stream.next_part().await.unwrap() {
        parts.push(part);
    }
    assert_eq!(parts, pages, "the same pages");
    drop(busy);
    let stream = client.pull_stream(None, 2, idle).await.unwrap();
    assert!(stream.is_compact(), "compact again once a stream has ended");
    drop(stream);

    // From the last cursor nothing is new: 204, and the stream is empty.
    let mut done = client
        .pull_stream(cursor.as_deref(), 2, idle)
        .await
        .unwrap();
    assert!(done.is_empty());
    assert_eq!(done.next_part().await.unwrap(), None);

    // One zstd stream when the client accepts zstd (read here without
    // reqwest's own decoding): it decodes whole to the same parts.
    let raw = reqwest::Client::builder().no_zstd().build().unwrap();
    let resp = raw
        .get(env.handle.url() + "/api/v1/sync/pull/stream?limit=2")
        .bearer_auth(&c2.token)
        .header("accept-encoding", "zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], protocol::PARTS_MEDIA_TYPE);
    assert_eq!(resp.headers()["content-encoding"], "zstd");
    let body = zstd::decode_all(&resp.bytes().await.unwrap()[..]).unwrap();
    let mut reader = protocol::PartReader::new(protocol::MAX_PULL_PART);
    reader.extend(&body);
    let mut decoded = Vec::new();
    while let Some(part) = reader.next_part().unwrap() {
        decoded.push(part);
    }
    assert!(reader.is_empty());
    assert_eq!(decoded, pages);
    // Compact parts when asked for, named in the Content-Type: decoded
    // with the stream's tables, the same pages.
    let resp = raw
        .get(env.handle.url() + "/api/v1/sync/pull/stream?limit=2")
        .bearer_auth(&c2.token)
        .header("accept-encoding", "zstd")
        .header(
            "accept",
            format!("{COMPACT_PARTS_MEDIA_TYPE}, {}", protocol::PARTS_MEDIA_TYPE),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], COMPACT_PARTS_MEDIA_TYPE);
    let body = zstd::decode_all(&resp.bytes().await.unwrap()[..]).unwrap();
    let mut reader = protocol::PartReader::new(protocol::MAX_PULL_PART);
    reader.extend(&body);
    let mut decoder = CompactDecoder::new();
    let mut compact = Vec::new();
    while let Some(bytes) = reader.next_frame().unwrap() {
        compact.push(decoder.decode(&bytes, protocol::MAX_PULL_PART).unwrap());
    }
    assert_eq!(compact, pages);
    // Without zstd, the parts as they are.
    let resp = raw
        .get(env.handle.url() + "/api/v1/sync/pull/stream?limit=2")
        .bearer_auth(&c2.token)
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("content-encoding").is_none());
    let mut reader = protocol::PartReader::new(protocol::MAX_PULL_PART);
    reader.extend(&resp.bytes().await.unwrap());
    let mut plain = Vec::new();
    while let Some(part) = reader.next_part().unwrap() {
        plain.push(part);
    }
    assert_eq!(plain, pages);

    let resp = env
        .get(&c2, "/api/v1/sync/pull/stream")
        .query(&[("cursor", "yesterday")])
        .send()
        .await
        .unwrap();
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (400, "bad_cursor"));
}
