//! The resource budget of docs/protocol.md, enforced: password work in
//! flight bounded (`503 busy` past it, at once), sign-in attempts per
//! source address whatever the names, a user a guesser cannot lock out
//! from elsewhere, and refused bytes kept only up to a size.

use app_core::admin::{Discard, QuarantineQuery, QuarantineTarget};
use app_core::domain::{DeviceId, DocId};
use app_core::sync::protocol::EnrolRequest;
use app_core::sync::{EngineOptions, SyncClient};
use sync_server::config::{HashingBudget, HttpTimeouts, PasswordCost};

use crate::harness::{Env, PROTOCOL, T0, ZHENGAN, code, log_by, problem, villages};

/// A client whose connections come from `source` (any 127.x address is
/// this machine's loopback).
fn client_from(source: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(source))
        .build()
        .unwrap()
}

async fn enrol_at(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    http.post(format!("{base}/api/v1/devices/enrol"))
        .header(PROTOCOL.0, PROTOCOL.1)
        .json(&EnrolRequest {
            username: username.into(),
            password: password.into(),
            device_name: "测试机".into(),
            platform: "android".into(),
            replaces: None,
        })
        .send()
        .await
        .unwrap()
}

/// Enrolments with random names at once: past the hashing budget they are
/// answered `503 busy` with a Retry-After, never queued without bound.
pub async fn password_work_in_flight_is_bounded(env: Env) {
    let server = env
        .instance_with(|c| {
            // A hash that takes a while, one at a time, nobody waiting.
            c.password_cost = PasswordCost {
                memory_kib: 8 * 1024,
                iterations: 8,
                parallelism: 1,
            };
            c.password_hashing = HashingBudget {
                concurrent: 1,
                queue: 0,
                ..HashingBudget::default()
            };
        })
        .await;
    let base = server.url();
    let attempts = (0..24).map(|i| {
        let (http, base) = (&env.http, base.clone());
        async move { enrol_at(http, &base, &format!("random-{i}"), "a-guess-2026").await }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let mut busy = 0;
    for resp in answers {
        let retry_after = resp.headers().contains_key("retry-after");
        let (status, p) = problem(resp).await;
        match (status, p.code.as_str()) {
            (401, "bad_credentials") => {}
            (503, "busy") => {
                assert!(retry_after && p.retryable);
                busy += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(busy > 0, "24 hashes at once in a budget of one");
}

/// One address trying many names is stopped whatever the names; the user
/// a guesser went after can still sign in from another address.
pub async fn sign_in_attempts_are_limited_per_address(env: Env) {
    let w = env.world.clone();
    let server = env
        .instance_with(|c| {
            c.password_hashing = HashingBudget {
                per_address: 5,
                per_address_refill_secs: 600,
                ..HashingBudget::default()
            };
        })
        .await;
    // 127.0.0.1 spends its five attempts on five names.
    let (url, here, there) = (server.url(), &env.http, &client_from([127, 0, 0, 2]));
    for i in 0..5 {
        let (status, _) = problem(enrol_at(here, &url, &format!("n{i}"), "guess-2026").await).await;
        assert_eq!(status, 401);
    }
    let resp = enrol_at(here, &url, "n9", "guess-2026").await;
    assert!(resp.headers().contains_key("retry-after"));
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (429, "rate_limited"));
    // Even a right password from the spent address waits.
    let (status, _) = problem(enrol_at(here, &url, "c1", &w.c1.password).await).await;
    assert_eq!(status, 429);
    // Another address (127.0.0.2) is not affected: its own allowance.
    let resp = enrol_at(there, &url, "c1", &w.c1.password).await;
    assert_eq!(resp.status(), 201);
}

/// A guesser who uses up a name's attempts from one address does not
/// lock its user out at another.
pub async fn a_guesser_does_not_lock_a_user_out_elsewhere(env: Env) {
    let w = env.world.clone();
    let url = env.handle.url();
    let guesser = client_from([127, 0, 0, 3]);
    for _ in 0..10 {
        enrol_at(&guesser, &url, "c2", "guess").await;
    }
    let (status, p) = problem(enrol_at(&guesser, &url, "c2", &w.c2.password).await).await;
    assert_eq!((status, p.code.as_str()), (429, "rate_limited"));
    let resp = enrol_at(&env.http, &url, "c2", &w.c2.password).await;
    assert_eq!(resp.status(), 201);
}

/// A refused change over the kept size keeps its head and its hash, never
/// the whole; the console lists it at its real size, a release says it
/// cannot be released (`truncated`), and a discard archives it.
pub async fn refused_bytes_keep_only_their_head(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let v = villages(ZHENGAN, 1)[0];
    let doc: DocId = log_by(&w.c1.user, Some(w.team1.id), v, T0).id.into();
    let junk = vec![0x42u8; 600 * 1024];
    let out = env.push(&c1, &[(doc, junk.clone())]).await;
    assert_eq!(code(&out[0]), "undecodable");
    let device: DeviceId = c1.id.parse().unwrap();
    let kept = env.store().quarantined(device, doc).await.unwrap();
    assert_eq!(kept.rows.len(), 1);
    assert_eq!(kept.rows[0].1, junk[..1024], "the head, not the whole");

    let admin = env.enrol(&w.admin_zhengan).await;
    let console =
        SyncClient::new(&env.handle.url(), &admin.token, &EngineOptions::default()).unwrap();
    let listed = console
        .admin_quarantine(&QuarantineQuery::default())
        .await
        .unwrap();
    let change = &listed.items[0].changes[0];
    assert_eq!(change.size, junk.len() as u64);
    assert!(change.reason.contains("SHA-256"), "{}", change.reason);
    assert!(change.undecoded.is_some());
    let target = QuarantineTarget { device, doc };
    let r = console.admin_release(&target).await.unwrap();
    assert!(r.still_open);
    assert_eq!(r.still_refused[0].code, "truncated");
    let d = console
        .admin_discard(&Discard {
            device,
            doc,
            reason: "设备请重新上传".into(),
        })
        .await
        .unwrap();
    assert_eq!(d.discarded, 1);
}

/// Reads what the server sends until it closes the connection. The outer
/// timeout only keeps a broken server from hanging the suite; what is
/// asserted is that the server closed.
async fn until_closed(s: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&got).into_owned()
}

/// A connection that says nothing, sends its head slowly, goes idle after
/// an answer, or stops sending its body is closed by the server (the body
/// answered `408 body_timeout` first).
pub async fn slow_and_silent_connections_are_closed(env: Env) {
    use tokio::io::AsyncWriteExt;
    let server = env
        .instance_with(|c| {
            c.http_timeouts = HttpTimeouts {
                header_read_secs: 1,
                body_idle_secs: 1,
            };
        })
        .await;
    let addr = server.local_addr();
    let connect = || tokio::net::TcpStream::connect(addr);

    // Silent from the start.
    let mut silent = connect().await.unwrap();
    assert_eq!(until_closed(&mut silent).await, "");

    // Half a request head, then nothing.
    let mut slow = connect().await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    assert!(!until_closed(&mut slow).await.contains("200"));

    // A whole request, answered, then idle.
    let mut idle = connect().await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A body that stops after 10 of its 100 bytes.
    let mut stalled = connect().await.unwrap();
    stalled
        .write_all(
            b"POST /api/v1/devices/enrol HTTP/1.1\r\nhost: x\r\n\
              content-type: application/json\r\ncontent-length: 100\r\n\r\n{\"usernam",
        )
        .await
        .unwrap();
    let answer = until_closed(&mut stalled).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
}
