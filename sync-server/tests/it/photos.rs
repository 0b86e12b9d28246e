//! Photo upload in the manner of tus: resumed from the last chunk after a
//! cut, offsets that do not match, a hash that does not match, limits,
//! deduplication, and range downloads; downloads bound to the records in
//! the caller's read scope; quotas and expiry of unfinished uploads.

use app_core::domain::{PhotoHash, PhotoMeta, Role, Scope};
use sha2::{Digest, Sha256};
use sync_server::config::PhotoUploads;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Device, Doc, Env, T0, ZHENGAN, code, log_by, problem, villages};

const MIB: usize = 1024 * 1024;

pub fn photo_bytes(len: usize, seed: u64) -> Vec<u8> {
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

pub fn hex_hash(bytes: &[u8]) -> String {
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

    // Downloads (by the uploader: no record names the photo yet), whole
    // and in ranges.
    let tablet = env.enrol(&w.lead1).await;
    let resp = env
        .get(&phone, &format!("/api/v1/photos/{hash}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-length"],
        bytes.len().to_string().as_str()
    );
    assert_eq!(resp.headers()["accept-ranges"], "bytes");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[..]);
    let resp = env
        .get(&phone, &format!("/api/v1/photos/{hash}"))
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
        .get(&phone, &format!("/api/v1/photos/{hash}"))
        .header("range", "bytes=-10")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.bytes().await.unwrap().as_ref(),
        &bytes[bytes.len() - 10..]
    );
    let resp = env
        .get(&phone, &format!("/api/v1/photos/{hash}"))
        .header("range", format!("bytes={}-", bytes.len()))
        .send()
        .await
        .unwrap();
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (416, "range_not_satisfiable"));

    // Stored once: announcing it again (from any device) says it is there;
    // reading it still takes a record in scope.
    let resp = start(&env, &tablet, &hash, bytes.len()).await;
    assert_eq!(
        (resp.status().as_u16(), offset_of(&resp)),
        (200, bytes.len() as u64)
    );
    assert_eq!(
        head_offset(&env, &phone, &hash).await,
        Some(bytes.len() as u64)
    );
    assert_eq!(head_offset(&env, &tablet, &hash).await, None);
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
/// until it has been abandoned for a day; a stored photo is read through
/// the records in scope (`a_photo_is_read_through_the_records_in_scope`).
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

    // The owner finishes; the other device reads the photo only once a
    // record in its scope names it (`a_photo_is_read_through_the_records_in_scope`).
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
    assert_eq!(got.status(), 404);
    let got = env
        .get(&mine, &format!("/api/v1/photos/{hash}"))
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

/// Uploads `bytes` whole from `d`; returns the hash.
async fn upload(env: &Env, d: &Device, bytes: &[u8]) -> String {
    let hash = hex_hash(bytes);
    assert_eq!(start(env, d, &hash, bytes.len()).await.status(), 201);
    for (i, chunk) in bytes.chunks(MIB).enumerate() {
        assert_eq!(patch(env, d, &hash, i * MIB, chunk).await.status(), 204);
    }
    hash
}

/// The status of `d`'s download of `hash`, and of its `HEAD`.
async fn reach(env: &Env, d: &Device, hash: &str) -> (u16, u16) {
    let got = env
        .get(d, &format!("/api/v1/photos/{hash}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    let head = env
        .http
        .head(env.url(&format!("/api/v1/photos/{hash}")))
        .bearer_auth(&d.token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    (got, head)
}

fn meta(hash: &str, thumb: &str, size: usize) -> PhotoMeta {
    PhotoMeta {
        hash: PhotoHash::parse(hash).unwrap(),
        thumb: PhotoHash::parse(thumb).unwrap(),
        size_bytes: size as u64,
        width: 64,
        height: 48,
        taken_at: None,
        location: None,
        caption: "叶片上的病斑".into(),
    }
}

/// A finished photo is read (`GET`, `HEAD`) only by a device whose read
/// scope holds a record naming it, or by the device that uploaded it;
/// anyone else, even knowing the hash, is told it does not exist. The
/// references follow the record: a member who joins the scope reads it,
/// and a photo taken off the record is no longer read through it.
pub async fn a_photo_is_read_through_the_records_in_scope(env: Env) {
    let w = env.world.clone();
    let phone = env.enrol(&w.c1).await;
    let teammate = env.enrol(&w.c2).await;
    let own_only = env.enrol(&w.c_own).await;
    let elsewhere = env.enrol(&w.c3).await;
    let admin_here = env.enrol(&w.admin_zhengan).await;
    let admin_there = env.enrol(&w.admin_wuchuan).await;
    let admin_province = env.enrol(&w.admin_guizhou).await;
    let bytes = photo_bytes(200_000, 41);
    let thumb = photo_bytes(5_000, 42);
    let hash = upload(&env, &phone, &bytes).await;
    let thumb_hash = upload(&env, &phone, &thumb).await;

    // No record names it yet: only the uploader reads it.
    assert_eq!(reach(&env, &phone, &hash).await, (200, 200));
    assert_eq!(reach(&env, &teammate, &hash).await, (404, 404));

    let mut log = log_by(&w.c1.user, Some(w.team1.id), villages(ZHENGAN, 1)[0], T0);
    log.photos = vec![meta(&hash, &thumb_hash, bytes.len())];
    let (mut doc, change) = Doc::create_log(&phone, &log);
    let out = env.push(&phone, &[change]).await;
    assert_eq!(code(&out[0]), "stored");

    for (who, d, expected) in [
        ("the uploader", &phone, 200),
        ("a teammate", &teammate, 200),
        ("the county's admin", &admin_here, 200),
        ("the province's admin", &admin_province, 200),
        ("a teammate who reads only their own", &own_only, 404),
        ("a commissioner of another county", &elsewhere, 404),
        ("another county's admin", &admin_there, 404),
    ] {
        for h in [&hash, &thumb_hash] {
            assert_eq!(
                reach(&env, d, h).await,
                (expected, expected),
                "{who} reading {h}"
            );
        }
    }
    let resp = env
        .get(&teammate, &format!("/api/v1/photos/{hash}"))
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &bytes[10..20]);
    // Refused as not found: the same answer as a photo that is not there.
    let (status, p) = problem(
        env.get(&elsewhere, &format!("/api/v1/photos/{hash}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, p.code.as_str()), (404, "not_found"));

    // The commissioner of the other county joins the team: once they have
    // pulled the record, they read its photos.
    env.store()
        .set_user_scope(
            w.c3.user.id,
            Role::Commissioner,
            Scope::Team(w.team1.id),
            Some(w.team1.id),
        )
        .await
        .unwrap();
    assert!(env.visible_docs(&elsewhere).await.contains(&doc.id));
    assert_eq!(reach(&env, &elsewhere, &hash).await, (200, 200));

    // The photo is taken off the record: the teammate no longer reads it
    // through it (the uploader still does).
    let edit = doc.edit_log(&phone, |l| l.photos.clear());
    let out = env.push(&phone, &[edit]).await;
    assert_eq!(code(&out[0]), "stored");
    assert_eq!(reach(&env, &teammate, &hash).await, (404, 404));
    assert_eq!(reach(&env, &phone, &hash).await, (200, 200));
}

/// Documents stored before the server kept photo references get theirs
/// when the store opens (the migration's backfill).
pub async fn photo_references_are_backfilled_from_stored_documents(env: Env) {
    let w = env.world.clone();
    let phone = env.enrol(&w.c1).await;
    let teammate = env.enrol(&w.c2).await;
    let bytes = photo_bytes(50_000, 51);
    let hash = upload(&env, &phone, &bytes).await;
    let mut log = log_by(&w.c1.user, Some(w.team1.id), villages(ZHENGAN, 1)[0], T0);
    log.photos = vec![meta(&hash, &hash, bytes.len())];
    let (_, change) = Doc::create_log(&phone, &log);
    assert_eq!(code(&env.push(&phone, &[change]).await[0]), "stored");
    assert_eq!(reach(&env, &teammate, &hash).await, (200, 200));

    // As a database from before: no references, the backfill pending.
    env.raw_sql("DELETE FROM photo_refs; INSERT INTO photo_refs_backfill(pending) VALUES (1);")
        .await;
    assert_eq!(reach(&env, &teammate, &hash).await, (404, 404));
    let reopened = env.second_instance().await;
    let got = env
        .http
        .get(format!("{}/api/v1/photos/{hash}", reopened.url()))
        .bearer_auth(&teammate.token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), &bytes[..]);
    assert_eq!(reach(&env, &teammate, &hash).await, (200, 200));
}

/// Unfinished uploads are capped per device and per user (by their
/// announced lengths): past a cap `POST` is `429 upload_quota`, retryable,
/// and changes nothing; finishing an upload frees its bytes, and so does
/// leaving it for a day, after which the sweep deletes it, file and row,
/// and never a finished photo.
pub async fn unfinished_uploads_have_quotas_and_expire(env: Env) {
    let w = env.world.clone();
    let server = env
        .instance_with(|c| {
            c.photo_uploads = PhotoUploads {
                device_bytes: 300_000,
                user_bytes: 500_000,
                ..PhotoUploads::default()
            }
        })
        .await;
    let base = server.url();
    let announce = |d: &Device, bytes: &[u8]| {
        env.http
            .post(format!("{base}/api/v1/photos"))
            .bearer_auth(&d.token)
            .header("upload-length", bytes.len().to_string())
            .header("photo-sha256", hex_hash(bytes))
            .send()
    };
    let a = env.enrol(&w.c1).await;
    let b = env.enrol(&w.c1).await;
    let other_user = env.enrol(&w.c2).await;
    let p1 = photo_bytes(200_000, 61);
    let p2 = photo_bytes(100_000, 62);
    let p3 = photo_bytes(50_000, 63);
    let p4 = photo_bytes(150_000, 64);
    let p5 = photo_bytes(100_000, 65);
    assert_eq!(announce(&a, &p1).await.unwrap().status(), 201);
    assert_eq!(announce(&a, &p2).await.unwrap().status(), 201);
    // Device A holds 300,000: its cap.
    let (status, p) = problem(announce(&a, &p3).await.unwrap()).await;
    assert_eq!((status, p.code.as_str()), (429, "upload_quota"));
    assert!(p.retryable, "the device tries again later");
    assert_eq!(
        head_offset(&env, &a, &hex_hash(&p3)).await,
        None,
        "nothing changed"
    );
    // Device B of the same user: 150,000 fits (user 450,000), 100,000 more
    // is past the user's cap though B holds less than its own.
    assert_eq!(announce(&b, &p4).await.unwrap().status(), 201);
    let (status, p) = problem(announce(&b, &p5).await.unwrap()).await;
    assert_eq!((status, p.code.as_str()), (429, "upload_quota"));
    // Another user has a quota of their own.
    assert_eq!(announce(&other_user, &p5).await.unwrap().status(), 201);

    // Finishing frees: A finishes p1 (A 100,000, the user 250,000).
    assert_eq!(patch(&env, &a, &hex_hash(&p1), 0, &p1).await.status(), 204);
    assert_eq!(announce(&a, &p3).await.unwrap().status(), 201);
    assert_eq!(
        announce(&b, &p5).await.unwrap().status(),
        409,
        "p5 is the other user's upload now"
    );
    let p6 = photo_bytes(100_000, 66);
    assert_eq!(announce(&b, &p6).await.unwrap().status(), 201);
    assert_eq!(
        patch(&env, &a, &hex_hash(&p2), 0, &p2[..40_000])
            .await
            .status(),
        204
    );
    let partials = |n: usize| {
        let dir = env.config.photo_dir().join("partial");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            n,
            "files in {}",
            dir.display()
        );
    };
    // p2, p3 (A), p4, p6 (B), p5 (the other user).
    partials(5);
    assert_eq!(
        server.server().sweep_uploads().await.unwrap(),
        0,
        "nothing is a day old"
    );

    // A day later the unfinished uploads no longer count…
    env.clock.advance_millis(24 * 60 * 60 * 1000);
    let p7 = photo_bytes(300_000, 67);
    assert_eq!(announce(&a, &p7).await.unwrap().status(), 201);
    // …and the sweep deletes them, files and rows; not p7, announced now,
    // and never the finished p1.
    assert_eq!(server.server().sweep_uploads().await.unwrap(), 5);
    partials(1);
    for gone in [&p2, &p3] {
        assert_eq!(head_offset(&env, &a, &hex_hash(gone)).await, None);
    }
    assert_eq!(head_offset(&env, &b, &hex_hash(&p4)).await, None);
    assert_eq!(head_offset(&env, &a, &hex_hash(&p7)).await, Some(0));
    let got = env
        .get(&a, &format!("/api/v1/photos/{}", hex_hash(&p1)))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), &p1[..]);
    // A swept upload starts afresh from 0.
    let resp = announce(&b, &p2).await.unwrap();
    assert_eq!((resp.status().as_u16(), offset_of(&resp)), (201, 0));
    assert_eq!(env.store().stats().await.unwrap().photos, 1);
}

/// The sweep's race with a late chunk: a `PATCH` passes its row check, the
/// sweep deletes the abandoned upload's row and file, and the chunk's
/// write lands after it, re-creating the partial file with no row. The
/// ordering is made here at the function level (the write the route makes
/// after its check, then the sweep's steps): after the next sweep no
/// partial file is left without a row, one a crash left between row and
/// file goes too, and a live upload's file is kept.
pub async fn a_chunk_written_during_the_sweep_leaves_no_orphan(env: Env) {
    let w = env.world.clone();
    let server = env.second_instance().await;
    let base = server.url();
    let a = env.enrol(&w.c1).await;
    let announce = |bytes: &[u8]| {
        env.http
            .post(format!("{base}/api/v1/photos"))
            .bearer_auth(&a.token)
            .header("upload-length", bytes.len().to_string())
            .header("photo-sha256", hex_hash(bytes))
            .send()
    };
    let partial_dir = env.config.photo_dir().join("partial");
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(&partial_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    let left = photo_bytes(80_000, 71);
    let hash: PhotoHash = hex_hash(&left).parse().unwrap();
    assert_eq!(announce(&left).await.unwrap().status(), 201);
    assert_eq!(
        patch(&env, &a, &hex_hash(&left), 0, &left[..40_000])
            .await
            .status(),
        204
    );

    // A day later: the late PATCH has checked the row (offset 40,000)…
    env.clock.advance_millis(24 * 60 * 60 * 1000);
    let live = photo_bytes(10_000, 72);
    assert_eq!(announce(&live).await.unwrap().status(), 201);
    // …the sweep deletes the left upload, row and file…
    assert_eq!(server.server().sweep_uploads().await.unwrap(), 1);
    assert_eq!(files(), vec![hex_hash(&live)]);
    // …and then the chunk is written, as the route writes it.
    server
        .server()
        .state()
        .photos
        .write_chunk(&hash, 40_000, left[40_000..].to_vec().into())
        .await
        .unwrap();
    assert!(env.store().photo(&hash).await.unwrap().is_none());
    let mut both = vec![hex_hash(&left), hex_hash(&live)];
    both.sort();
    assert_eq!(files(), both, "the race leaves a file with no row");
    // A crash between the sweep's row and its file leaves the same.
    let crashed = photo_bytes(5_000, 73);
    std::fs::write(partial_dir.join(hex_hash(&crashed)), &crashed[..100]).unwrap();

    // The next sweep deletes every file no row owns, and only those.
    assert_eq!(server.server().sweep_uploads().await.unwrap(), 0);
    assert_eq!(files(), vec![hex_hash(&live)]);
    // The live upload goes on; the left one starts afresh from 0.
    assert_eq!(
        patch(&env, &a, &hex_hash(&live), 0, &live).await.status(),
        204
    );
    let resp = announce(&left).await.unwrap();
    assert_eq!((resp.status().as_u16(), offset_of(&resp)), (201, 0));
}
