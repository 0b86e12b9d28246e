//! The device's own sync engine (`app_core::sync::engine`) against this
//! server: enrolment with the county register, push, pull, photo upload,
//! a team lead's review travelling back, and a refusal landing in the
//! device's refused list.

use std::sync::Arc;

use app_core::clock::ManualClock;
use app_core::domain::{LogStatus, ServiceLogId, ServiceLogInput, Timestamp};
use app_core::store::{Identity, ReviewDecision, Store};
use app_core::sync::protocol::EnrolRequest;
use app_core::sync::status::{Remedy, SyncPhase};
use app_core::sync::{self, EngineOptions, SyncEngine};

use crate::harness::{Account, Env, T0, ZHENGAN, villages};

/// A device with its own store and sync engine, enrolled with the server.
pub struct Phone {
    pub store: Arc<Store>,
    pub engine: SyncEngine,
    pub who: Identity,
    _dir: tempfile::TempDir,
}

/// Enrols a new device for `account` and fetches its county register.
pub async fn phone(env: &Env, account: &Account) -> Phone {
    phone_with(env, account, EngineOptions::default()).await
}

/// [`phone`] with its engine's options.
pub async fn phone_with(env: &Env, account: &Account, options: EngineOptions) -> Phone {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Timestamp::from_millis(T0));
    let store = Arc::new(Store::open(dir.path().join("device.sqlite"), clock.shared()).unwrap());
    let server = env.handle.url();
    let answer = sync::enrol(
        &server,
        &EnrolRequest {
            username: account.user.username.clone(),
            password: account.password.clone(),
            device_name: "测试手机".into(),
            platform: "android".into(),
            replaces: None,
        },
        &options,
    )
    .await
    .unwrap();
    let enrolment = sync::complete_enrolment(&store, &server, answer, &options)
        .await
        .unwrap();
    let who = Identity {
        user: enrolment.me.user.id,
        team: enrolment.me.team.map(|t| t.id),
    };
    Phone {
        engine: SyncEngine::new(Arc::clone(&store), options).unwrap(),
        store,
        who,
        _dir: dir,
    }
}

/// A service log's form input in 正安.
pub fn input(description: &str) -> ServiceLogInput {
    ServiceLogInput {
        farmers_served: 15,
        description: description.into(),
        ..app_core::testing::service_log_input(villages(ZHENGAN, 1)[0])
    }
}

pub async fn the_device_engine_round_trips(env: Env) {
    let w = env.world.clone();
    let p1 = phone(&env, &w.c1).await;
    assert!(
        !p1.store
            .villages_of(villages(ZHENGAN, 1)[0].township())
            .unwrap()
            .is_empty(),
        "enrolment fetched the county register"
    );
    let photo = vec![0xFFu8, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5];
    let hash = p1.store.put_photo(&photo).unwrap();
    let mut with_photo = input("指导茶园冬季管理");
    with_photo.photos.push(app_core::domain::PhotoMeta {
        hash,
        thumb: hash,
        size_bytes: photo.len() as u64,
        width: 1,
        height: 1,
        taken_at: None,
        location: None,
        caption: String::new(),
    });
    let log = p1
        .store
        .create_service_log(&p1.who, &with_photo, true)
        .unwrap()
        .value;
    let report = p1.engine.sync_once().await.unwrap();
    assert_eq!(report.acknowledged, 1);
    assert_eq!(report.photos_uploaded, 1);
    assert_eq!(report.refused, 0);

    let p2 = phone(&env, &w.c2).await;
    let report = p2.engine.sync_once().await.unwrap();
    assert_eq!(report.pulled, 1);
    assert_eq!(
        p2.store.service_log(log.id).unwrap().description,
        "指导茶园冬季管理"
    );

    let tablet = phone(&env, &w.lead1).await;
    tablet.engine.sync_once().await.unwrap();
    tablet
        .store
        .review_service_log(log.id, tablet.who.user, ReviewDecision::Approve, "很好")
        .unwrap();
    let report = tablet.engine.sync_once().await.unwrap();
    assert_eq!((report.acknowledged, report.refused), (1, 0));

    let report = p1.engine.sync_once().await.unwrap();
    assert_eq!(report.pulled, 1);
    assert_eq!(
        p1.store.service_log(log.id).unwrap().status,
        LogStatus::Approved
    );

    // A teammate's phone edits c1's log: the server refuses it.
    p2.engine.sync_once().await.unwrap();
    p2.store
        .update_service_log(log.id, &input("改别人的日志"), false)
        .unwrap();
    let report = p2.engine.sync_once().await.unwrap();
    assert_eq!(report.refused, 1);
    let refused = p2.store.refused_changes().unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].1, "not_your_record");
    let report = p1.engine.sync_once().await.unwrap();
    assert_eq!(report.pulled, 0);
    assert_eq!(
        p1.store.service_log(log.id).unwrap().description,
        "指导茶园冬季管理"
    );

    // The photo is on the server, once.
    let device = env.enrol(&w.c2).await;
    let bytes = env
        .get(&device, &format!("/api/v1/photos/{hash}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), &photo[..]);
    let _: ServiceLogId = log.id;
}

/// A device whose user holds the most bytes unfinished uploads may hold
/// (on other devices) is told `upload_quota`: its engine backs off and
/// tries again, and uploads once the others' uploads are left for a day.
pub async fn an_engine_past_its_upload_quota_waits_and_retries(env: Env) {
    let w = env.world.clone();
    let p = phone(&env, &w.c1).await;
    // Two other devices of the user announce 64 MiB each (the device cap;
    // the user's is 128 MiB) and send nothing.
    for seed in [1u8, 2] {
        let other = env.enrol(&w.c1).await;
        for n in 0..8u8 {
            let hash: String = [seed, n]
                .iter()
                .chain([0u8; 30].iter())
                .map(|b| format!("{b:02x}"))
                .collect();
            let resp = env
                .post(&other, "/api/v1/photos")
                .header("upload-length", (8 * 1024 * 1024).to_string())
                .header("photo-sha256", hash)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 201);
        }
    }
    let photo = vec![0xFFu8, 0xD8, 0xFF, 0xE0, 9, 8, 7];
    let hash = p.store.put_photo(&photo).unwrap();
    let mut with_photo = input("果园病虫害防治");
    with_photo.photos.push(app_core::domain::PhotoMeta {
        hash,
        thumb: hash,
        size_bytes: photo.len() as u64,
        width: 1,
        height: 1,
        taken_at: None,
        location: None,
        caption: String::new(),
    });
    p.store
        .create_service_log(&p.who, &with_photo, true)
        .unwrap();

    let e = p.engine.sync_once().await.unwrap_err();
    assert_eq!(e.code(), "upload_quota");
    assert!(e.is_retryable(), "a quota refusal is retried later");
    let status = p.engine.status();
    assert_eq!(status.phase, SyncPhase::Backoff);
    assert_eq!(status.remedy(), Some(Remedy::Wait));

    // A day on (by the server's clock) those uploads no longer count.
    env.clock.advance_millis(24 * 60 * 60 * 1000);
    let report = p.engine.sync_once().await.unwrap();
    assert_eq!((report.photos_uploaded, report.acknowledged), (1, 1));
}

/// A TCP proxy whose first connection is closed once `cut_after` bytes of
/// the server's answer have passed (the link breaks mid-body); later
/// connections pass untouched.
async fn cutting_proxy(target: std::net::SocketAddr, cut_after: usize) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let limit = if first { cut_after } else { usize::MAX };
            first = false;
            let server = tokio::net::TcpStream::connect(target).await.unwrap();
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let up = tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(n) = cr.read(&mut buf).await {
                    if n == 0 || sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut passed = 0usize;
                while let Ok(n) = sr.read(&mut buf).await {
                    let n = n.min(limit - passed);
                    if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    passed += n;
                }
                // Cut both ways, as a broken link does.
                up.abort();
                let _ = cw.shutdown().await;
            });
        }
    });
    addr
}

/// A team's records reach a new device in one streamed request exactly as
/// by pages (the same documents with the same heads); a link cut in the
/// middle of the stream leaves the device at its last whole part, and the
/// next round fetches only the rest, in one request.
pub async fn a_streamed_first_sync_equals_the_paged_one_and_resumes_after_a_cut(env: Env) {
    let w = env.world.clone();
    let author = phone(&env, &w.c1).await;
    let total = 40;
    for i in 0..total {
        author
            .store
            .create_service_log(&author.who, &input(&format!("第{i}次指导茶园管理")), true)
            .unwrap();
    }
    assert_eq!(author.engine.sync_once().await.unwrap().acknowledged, total);

    let small = |stream| EngineOptions {
        pull_limit: 4,
        pull_stream: stream,
        ..EngineOptions::default()
    };
    let paged = phone_with(&env, &w.c2, small(false)).await;
    let report = paged.engine.sync_once().await.unwrap();
    assert_eq!((report.pulled, report.requests), (total, total / 4));

    let streamed = phone_with(&env, &w.c2, small(true)).await;
    let report = streamed.engine.sync_once().await.unwrap();
    assert_eq!((report.pulled, report.requests), (total, 1));
    assert_eq!(
        streamed.store.heads().unwrap(),
        paged.store.heads().unwrap()
    );
    assert!(
        streamed
            .store
            .docs_with_pending_changes()
            .unwrap()
            .is_empty()
    );
    // Nothing new: one request, answered 204.
    let again = streamed.engine.sync_once().await.unwrap();
    assert_eq!((again.pulled, again.requests), (0, 1));

    // How many bytes a whole streamed first sync takes on the wire.
    let (counted, _, down) = crate::pull::counting_proxy(env.handle.local_addr()).await;
    let measured = phone_with(&env, &w.c2, small(true)).await;
    sync::enrol::set_server(&measured.store, &format!("http://{counted}")).unwrap();
    measured.engine.sync_once().await.unwrap();
    let whole = down.load(std::sync::atomic::Ordering::SeqCst);

    // The same first sync, the link cut half-way through the answer.
    let cut = phone_with(&env, &w.c2, small(true)).await;
    let proxy = cutting_proxy(env.handle.local_addr(), whole / 2).await;
    sync::enrol::set_server(&cut.store, &format!("http://{proxy}")).unwrap();
    let failed = cut.engine.sync_once().await;
    assert!(
        matches!(failed, Err(app_core::sync::SyncError::Network(_))),
        "{failed:?}"
    );
    let kept = cut.store.heads().unwrap().len();
    eprintln!(
        "cut after {} of {whole} bytes: {kept} of {total} records kept",
        whole / 2
    );
    assert!(0 < kept && kept < total, "{kept} of {total} records kept");
    assert_eq!(kept % 4, 0, "whole parts only: {kept}");
    assert!(
        cut.store
            .meta_get(sync::engine::META_CURSOR)
            .unwrap()
            .is_some()
    );
    // The link is back: one request brings the rest, and only the rest.
    let report = cut.engine.sync_once().await.unwrap();
    assert_eq!((report.pulled, report.requests), (total - kept, 1));
    assert_eq!(cut.store.heads().unwrap(), paged.store.heads().unwrap());

    // A device that does not ask for compact parts gets plain ones: the
    // same records, in more bytes.
    let plain = phone_with(
        &env,
        &w.c2,
        EngineOptions {
            compact_parts: false,
            ..small(true)
        },
    )
    .await;
    let (counted, _, down) = crate::pull::counting_proxy(env.handle.local_addr()).await;
    sync::enrol::set_server(&plain.store, &format!("http://{counted}")).unwrap();
    let report = plain.engine.sync_once().await.unwrap();
    assert_eq!((report.pulled, report.requests), (total, 1));
    assert_eq!(plain.store.heads().unwrap(), paged.store.heads().unwrap());
    let plain_bytes = down.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!("first sync: {whole} bytes compact, {plain_bytes} plain");
}

/// A server in front of the real one that forwards every request (without
/// compression), except that it flips a byte of the digest of part `bad`
/// (from 0) of a streamed pull's compact answer, as a fault in either end's
/// tables would make the rebuilt changes differ from the server's.
async fn tampering_proxy(target: String, bad: usize) -> std::net::SocketAddr {
    use axum::body::{Body, Bytes};
    use axum::http::{HeaderMap, Method, Uri};
    use sync::compact::COMPACT_PARTS_MEDIA_TYPE;
    let client = reqwest::Client::builder().no_zstd().build().unwrap();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (client, target) = (client.clone(), target.clone());
            async move {
                let mut req = client.request(method, format!("{target}{uri}"));
                for (name, value) in &headers {
                    if name != "host" && name != "accept-encoding" {
                        req = req.header(name, value);
                    }
                }
                let resp = req.body(body).send().await.unwrap();
                let status = resp.status();
                let head = resp.headers().clone();
                let mut bytes = resp.bytes().await.unwrap().to_vec();
                let compact = head
                    .get("content-type")
                    .is_some_and(|v| v == COMPACT_PARTS_MEDIA_TYPE);
                if compact {
                    let mut at = 0;
                    for part in 0.. {
                        let Some(len) = bytes.get(at..at + 4) else {
                            break;
                        };
                        let len = u32::from_be_bytes(len.try_into().unwrap()) as usize;
                        at += 4 + len;
                        if part == bad {
                            bytes[at - 1] ^= 0x01;
                            break;
                        }
                    }
                }
                let mut out = axum::http::Response::builder().status(status);
                for (name, value) in &head {
                    if name != "content-length" && name != "transfer-encoding" {
                        out = out.header(name, value);
                    }
                }
                out.body(Body::from(bytes)).unwrap()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A compact part whose changes do not rebuild into the server's (its
/// digest differs) is refused with `pull_part_corrupt` and nothing of it is
/// saved: the device keeps the parts before it, and its next round, through
/// the same mangling link, asks for plain parts and brings exactly the rest.
pub async fn a_compact_part_that_does_not_match_its_digest_is_refused(env: Env) {
    let w = env.world.clone();
    let author = phone(&env, &w.c1).await;
    let total = 12;
    for i in 0..total {
        author
            .store
            .create_service_log(&author.who, &input(&format!("第{i}次指导茶园管理")), true)
            .unwrap();
    }
    assert_eq!(author.engine.sync_once().await.unwrap().acknowledged, total);

    let options = EngineOptions {
        pull_limit: 4,
        ..EngineOptions::default()
    };
    let device = phone_with(&env, &w.c2, options).await;
    let proxy = tampering_proxy(env.handle.url(), 1).await;
    sync::enrol::set_server(&device.store, &format!("http://{proxy}")).unwrap();
    let failed = device.engine.sync_once().await;
    let Err(error) = failed else {
        panic!("a corrupt part was accepted: {failed:?}")
    };
    assert_eq!(error.code(), "pull_part_corrupt", "{error}");
    assert!(error.is_retryable(), "the next round pulls plain parts");
    assert_eq!(
        device.store.heads().unwrap().len(),
        4,
        "the first part only is kept"
    );

    // The same link again: plain parts pass it untouched.
    let report = device.engine.sync_once().await.unwrap();
    assert_eq!((report.pulled, report.requests), (total - 4, 1));
    assert_eq!(device.store.heads().unwrap().len(), total);
}
