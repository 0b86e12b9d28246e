//! Photo upload in the manner of tus: resumed from the last chunk after a
//! cut, offsets that do not match, a hash that does not match, limits,
//! deduplication, and range downloads.

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Device, Env, problem};

const MIB: usize = 1024 * 1024;

fn photo_bytes(len: usize, seed: u64) -> Vec<u8> {
    // A cheap deterministic generator (xorshift): incompressible enough.
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn hex_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn start(env: &Env, d: &Device, hash: &str, len: usize) -> reqwest::Response {
    env.post(d, "/api/v1/photos")
        .header("upload-length", len.to_string())
        .header("photo-sha256", hash)
        .send()
        .await
        .unwrap()
}

async fn patch(
    env: &Env,
    d: &Device,
    hash: &str,
    offset: usize,
    chunk: &[u8],
) -> reqwest::Response {
    env.http
        .patch(env.url(&format!("/api/v1/photos/{hash}")))
        .bearer_auth(&d.token)
        .header("upload-offset", offset.to_string())
        .header("content-type", "application/offset+octet-stream")
        .body(chunk.to_vec())
        .send()
        .await
        .unwrap()
}

async fn head_offset(env: &Env, d: &Device, hash: &str) -> Option<u64> {
    let resp = env
        .http
        .head(env.url(&format!("/api/v1/photos/{hash}")))
        .bearer_auth(&d.token)
        .send()
        .await
        .unwrap();
    if resp.status() == 404 {
        return None;
    }
    assert_eq!(resp.status(), 200);
    Some(offset_of(&resp))
}

fn offset_of(resp: &reqwest::Response) -> u64 {
    resp.headers()["upload-offset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

pub async fn upload_resumes_from_the_last_chunk(env: Env) {
    let w = env.world.clone();
    let phone = env.enrol(&w.c1).await;
    let bytes = photo_bytes(2 * MIB + MIB / 2, 7);
    let hash = hex_hash(&bytes);
    let resp = start(&env, &phone, &hash, bytes.len()).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(offset_of(&resp), 0);
    let resp = patch(&env, &phone, &hash, 0, &bytes[..MIB]).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(offset_of(&resp), MIB as u64);
    let resp = patch(&env, &phone, &hash, MIB, &bytes[MIB..2 * MIB]).await;
    assert_eq!(offset_of(&resp), 2 * MIB as u64);

    // The last chunk is cut halfway: nothing of it counts.
    let mut s = tokio::net::TcpStream::connect(env.handle.local_addr())
        .await
        .unwrap();
    let last = &bytes[2 * MIB..];
    let head = format!(
        "PATCH /api/v1/photos/{hash} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\n\
         upload-offset: {}\r\ncontent-type: application/offset+octet-stream\r\ncontent-length: {}\r\n\r\n",
        phone.token,
        2 * MIB,
        last.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&last[..last.len() / 2]).await.unwrap();
    s.shutdown().await.unwrap();
    let _ = s.read_to_end(&mut Vec::new()).await;
    assert_eq!(head_offset(&env, &phone, &hash).await, Some(2 * MIB as u64));
    // The device comes back (after a restart: it announces the upload
    // again) and resumes from the last chunk.
    let resp = start(&env, &phone, &hash, bytes.len()).await;
    assert_eq!(
        (resp.status().as_u16(), offset_of(&resp)),
        (201, 2 * MIB as u64)
    );
    let resp = patch(&env, &phone, &hash, 2 * MIB, last).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(offset_of(&resp), bytes.len() as u64);

    // Downloads, whole and in ranges.
    let tablet = env.enrol(&w.lead1).await;
    let resp = env
        .get(&tablet, &format!("/api/v1/photos/{hash}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["accept-ranges"], "bytes");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[..]);
    let resp = env
        .get(&tablet, &format!("/api/v1/photos/{hash}"))
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes 100-199/{}", bytes.len()).as_str()
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[100..200]);
    let resp = env
        .get(&tablet, &format!("/api/v1/photos/{hash}"))
        .header("range", "bytes=-10")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.bytes().await.unwrap().as_ref(),
        &bytes[bytes.len() - 10..]
    );
    let resp = env
        .get(&tablet, &format!("/api/v1/photos/{hash}"))
        .header("range", format!("bytes={}-", bytes.len()))
        .send()
        .await
        .unwrap();
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (416, "range_not_satisfiable"));

    // Stored once: announcing it again (from any device) says it is there.
    let resp = start(&env, &tablet, &hash, bytes.len()).await;
    assert_eq!(
        (resp.status().as_u16(), offset_of(&resp)),
        (200, bytes.len() as u64)
    );
    assert_eq!(
        head_offset(&env, &tablet, &hash).await,
        Some(bytes.len() as u64)
    );
    let resp = patch(&env, &phone, &hash, bytes.len(), &[]).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(env.store().stats().await.unwrap().photos, 1);
    let files: usize = walk(&env.config.photo_dir());
    assert_eq!(files, 1, "one file on disk, no partials left");
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(&e.path())
            } else {
                1
            }
        })
        .sum()
}

pub async fn offset_and_hash_mismatches(env: Env) {
    let w = env.world.clone();
    let phone = env.enrol(&w.c1).await;
    let bytes = photo_bytes(300_000, 11);
    let hash = hex_hash(&bytes);
    assert_eq!(start(&env, &phone, &hash, bytes.len()).await.status(), 201);
    let resp = patch(&env, &phone, &hash, 5, &bytes[5..100]).await;
    assert_eq!(
        offset_of(&resp),
        0,
        "the answer says where the upload stands"
    );
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (409, "upload_offset_mismatch"));
    assert_eq!(
        patch(&env, &phone, &hash, 0, &bytes[..100_000])
            .await
            .status(),
        204
    );
    // A retried chunk whose answer was lost.
    let resp = patch(&env, &phone, &hash, 0, &bytes[..100_000]).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(offset_of(&resp), 100_000);
    // A chunk past the announced length.
    let mut long = bytes[100_000..].to_vec();
    long.push(0);
    let (status, _) = problem(patch(&env, &phone, &hash, 100_000, &long).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        patch(&env, &phone, &hash, 100_000, &bytes[100_000..])
            .await
            .status(),
        204
    );

    // Bytes that do not hash to the name: discarded.
    let other = photo_bytes(50_000, 20);
    let claimed = hex_hash(&photo_bytes(50_000, 30));
    assert_eq!(
        start(&env, &phone, &claimed, other.len()).await.status(),
        201
    );
    let (status, p) = problem(patch(&env, &phone, &claimed, 0, &other).await).await;
    assert_eq!((status, p.code.as_str()), (422, "hash_mismatch"));
    assert_eq!(head_offset(&env, &phone, &claimed).await, None);
    let resp = env
        .get(&phone, &format!("/api/v1/photos/{claimed}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(env.store().stats().await.unwrap().photos, 1);
    // It can start over.
    assert_eq!(
        start(&env, &phone, &claimed, other.len()).await.status(),
        201
    );
}

pub async fn photo_limits(env: Env) {
    let w = env.world.clone();
    let phone = env.enrol(&w.c1).await;
    let hash = hex_hash(b"x");
    let (status, p) = problem(start(&env, &phone, &hash, 8 * MIB + 1).await).await;
    assert_eq!((status, p.code.as_str()), (413, "body_too_large"));
    assert_eq!(start(&env, &phone, &hash, 8 * MIB).await.status(), 201);
    // A chunk over 1 MiB, refused from its announced length.
    let mut s = tokio::net::TcpStream::connect(env.handle.local_addr())
        .await
        .unwrap();
    let head = format!(
        "PATCH /api/v1/photos/{hash} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\n\
         upload-offset: 0\r\ncontent-type: application/offset+octet-stream\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        phone.token,
        MIB + 1
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // Malformed requests.
    let resp = env
        .http
        .patch(env.url(&format!("/api/v1/photos/{hash}")))
        .bearer_auth(&phone.token)
        .header("upload-offset", "0")
        .header("content-type", "image/jpeg")
        .body(vec![1, 2, 3])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    let resp = env
        .post(&phone, "/api/v1/photos")
        .header("upload-length", "10")
        .header("photo-sha256", "not-a-hash")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = env
        .get(&phone, &format!("/api/v1/photos/{hash}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        404,
        "an unfinished upload is not downloadable"
    );
    let resp = env
        .http
        .get(env.url(&format!("/api/v1/photos/{hash}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

/// An unfinished upload belongs to the device that announced it: another
/// device that knows the hash can neither reset nor continue nor see it,
/// until it has been abandoned for a day; a stored photo is anyone's.
pub async fn an_upload_is_its_devices_own(env: Env) {
    let w = env.world.clone();
    let mine = env.enrol(&w.c1).await;
    let other = env.enrol(&w.c2).await;
    let bytes = photo_bytes(300_000, 7);
    let hash = hex_hash(&bytes);
    assert_eq!(start(&env, &mine, &hash, bytes.len()).await.status(), 201);
    assert_eq!(
        patch(&env, &mine, &hash, 0, &bytes[..100_000])
            .await
            .status(),
        204
    );

    // The other device: refused, and nothing moved.
    let (status, p) = problem(start(&env, &other, &hash, bytes.len()).await).await;
    assert_eq!((status, p.code.as_str()), (409, "upload_in_progress"));
    assert!(p.retryable, "the other device tries again later");
    let (status, _) = problem(start(&env, &other, &hash, 12).await).await;
    assert_eq!(status, 409, "another length does not reset it either");
    assert_eq!(head_offset(&env, &other, &hash).await, None);
    // (Refused before its body is read, so the server closes that
    // connection: sent on a connection of its own.)
    let poison = env
        .http
        .patch(env.url(&format!("/api/v1/photos/{hash}")))
        .bearer_auth(&other.token)
        .header("connection", "close")
        .header("upload-offset", "100000")
        .header("content-type", "application/offset+octet-stream")
        .body(vec![0u8; 200_000])
        .send()
        .await
        .unwrap();
    let (status, p) = problem(poison).await;
    assert_eq!((status, p.code.as_str()), (404, "not_found"));
    assert_eq!(head_offset(&env, &mine, &hash).await, Some(100_000));

    // The owner finishes; the photo is then anyone's to download.
    assert_eq!(
        patch(&env, &mine, &hash, 100_000, &bytes[100_000..])
            .await
            .status(),
        204
    );
    let got = env
        .get(&other, &format!("/api/v1/photos/{hash}"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap(), bytes);

    // An upload abandoned for a day may be started afresh by another.
    let second = photo_bytes(1000, 8);
    let h2 = hex_hash(&second);
    assert_eq!(start(&env, &mine, &h2, second.len()).await.status(), 201);
    env.clock.advance_millis(25 * 60 * 60 * 1000);
    assert_eq!(start(&env, &other, &h2, second.len()).await.status(), 201);
    assert_eq!(patch(&env, &other, &h2, 0, &second).await.status(), 204);
}
