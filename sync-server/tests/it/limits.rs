//! Malformed and oversized input: body limits (announced and streamed), a
//! zstd bomb, too many changes, wrong media types and protocol versions.
//! Malformed input never changes stored data.

use app_core::domain::DocId;
use app_core::sync::protocol::{self, MAX_PUSH_CHANGES, PushRequest, WireChange};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Doc, Env, Fetch, T0, ZHENGAN, log_by, problem, villages};

/// Sends raw bytes and returns the status line and the whole answer.
async fn raw(env: &Env, head: &str, body: &[u8]) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(env.handle.local_addr())
        .await
        .unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    // The server may answer and close before reading everything.
    for chunk in body.chunks(64 * 1024) {
        if s.write_all(chunk).await.is_err() {
            break;
        }
    }
    let _ = s.flush().await;
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

pub async fn oversized_bodies_are_refused(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let addr = env.handle.local_addr();
    // Announced too large: refused before the body is read.
    let head = format!(
        "POST /api/v1/sync/push HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\n\
         content-type: application/msgpack\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        c1.token,
        5 * 1024 * 1024
    );
    let (status, text) = raw(&env, &head, &[]).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("body_too_large"), "{text}");
    // Streamed without a length: refused once it passes the limit.
    let head = format!(
        "POST /api/v1/sync/push HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\n\
         content-type: application/msgpack\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        c1.token
    );
    let mut body = Vec::new();
    let chunk = vec![0x90u8; 64 * 1024];
    for _ in 0..80 {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(&chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let (status, text) = raw(&env, &head, &body).await;
    assert_eq!(status, 413, "{}", &text[..text.len().min(300)]);
    // Too many changes.
    let v = villages(ZHENGAN, 1)[0];
    let (_, one) = Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0));
    let many: Vec<(DocId, Vec<u8>)> = vec![one; MAX_PUSH_CHANGES + 1];
    let resp = env.push_request(&c1, &many).send().await.unwrap();
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (413, "body_too_large"));
    // An enrolment body over 16 KiB.
    let resp = env
        .http
        .post(env.url("/api/v1/devices/enrol"))
        .header("content-type", "application/json")
        .body(vec![b' '; 17 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(env.counts().await, (0, 0, 0));
}

pub async fn a_zstd_bomb_is_refused(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    // 64 MiB of a valid-looking msgpack prefix and zeros: about 2 KB on the
    // wire, four times the decompressed limit.
    let mut plain = vec![0u8; 64 * 1024 * 1024];
    plain[0] = 0x81;
    let bomb = zstd::bulk::compress(&plain, 19).unwrap();
    drop(plain);
    assert!(bomb.len() < 64 * 1024);
    let resp = env
        .post(&c1, "/api/v1/sync/push")
        .header("content-type", protocol::MEDIA_TYPE)
        .header("content-encoding", "zstd")
        .body(bomb)
        .send()
        .await
        .unwrap();
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (413, "body_too_large"));
    // Not zstd at all.
    let resp = env
        .post(&c1, "/api/v1/sync/push")
        .header("content-type", protocol::MEDIA_TYPE)
        .header("content-encoding", "zstd")
        .body(b"definitely not zstd".to_vec())
        .send()
        .await
        .unwrap();
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (400, "bad_request"));
    // The server still works.
    let v = villages(ZHENGAN, 1)[0];
    let (_, ok) = Doc::create_log(&c1, &log_by(&w.c1.user, Some(w.team1.id), v, T0));
    assert_eq!(
        crate::harness::code(&env.push(&c1, &[ok]).await[0]),
        "stored"
    );
}

pub async fn wrong_media_types_and_versions(env: Env) {
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let body = protocol::encode(&PushRequest {
        changes: vec![WireChange {
            doc: log_by(&w.c1.user, None, villages(ZHENGAN, 1)[0], T0)
                .id
                .into(),
            bytes: vec![1],
        }],
    })
    .unwrap();
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Vec<u8>,
        u16,
        &'a str,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "json content type",
            Some("application/json"),
            None,
            body.clone(),
            415,
            "unsupported_media_type",
        ),
        (
            "no content type",
            None,
            None,
            body.clone(),
            415,
            "unsupported_media_type",
        ),
        (
            "gzip",
            Some(protocol::MEDIA_TYPE),
            Some("gzip"),
            body.clone(),
            415,
            "unsupported_media_type",
        ),
        (
            "not msgpack",
            Some(protocol::MEDIA_TYPE),
            None,
            b"{\"c\":[]}".to_vec(),
            400,
            "bad_request",
        ),
        (
            "empty",
            Some(protocol::MEDIA_TYPE),
            None,
            Vec::new(),
            400,
            "bad_request",
        ),
    ];
    for (label, ct, ce, body, status, want) in cases {
        let mut req = env.post(&c1, "/api/v1/sync/push");
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        if let Some(ce) = ce {
            req = req.header("content-encoding", ce);
        }
        let (got, p) = req.body(body).fetch_problem().await;
        assert_eq!((got, p.code.as_str()), (status, want), "{label}");
        assert!(!p.retryable, "{label}");
    }
    let resp = env
        .http
        .get(env.url("/api/v1/sync/pull"))
        .bearer_auth(&c1.token)
        .header("ketepai-protocol", "2")
        .send()
        .await
        .unwrap();
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (426, "protocol_unsupported"));
    let resp = env
        .http
        .get(env.url("/api/v2/sync/pull"))
        .send()
        .await
        .unwrap();
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (404, "not_found"));
    assert_eq!(env.counts().await, (0, 0, 0));
}
