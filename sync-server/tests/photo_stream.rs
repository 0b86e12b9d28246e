//! Photo downloads are streamed from the file, not read into memory whole:
//! many clients that open a download of a large photo and read only its
//! first bytes cost the server far less memory than the photos' size.
//!
//! A test binary of its own because it counts every heap allocation of the
//! process (a counting global allocator): no other test may run beside it.
#![allow(
    unsafe_code,
    reason = "a global allocator that counts live bytes is an unsafe impl"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use app_core::clock::ManualClock;
use app_core::domain::{ProvinceCode, Role, Scope, Timestamp};
use app_core::sync::protocol::{EnrolRequest, EnrolResponse};
use sha2::{Digest, Sha256};
use sync_server::Server;
use sync_server::config::{Config, PasswordCost};
use sync_server::ops::NewUser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bytes allocated and not yet freed, process-wide.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: every call is passed to `System` unchanged; only a counter is
// updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System::alloc`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from `System`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `dealloc` and `alloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: usize = 1024 * 1024;
/// The largest photo the server takes.
const PHOTO: usize = 8 * MIB;
/// Downloads held open at once.
const CLIENTS: usize = 24;

fn photo_bytes(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_downloads_hold_a_chunk_not_the_photo() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(dir.path().join("data"));
    config.password_cost = PasswordCost {
        memory_kib: 256,
        iterations: 1,
        parallelism: 1,
    };
    let clock = ManualClock::new(Timestamp::from_millis(app_core::testing::T0.as_millis()));
    let server = Server::open(config, clock.shared()).await.unwrap();
    server
        .ops()
        .add_user(NewUser {
            username: "admin-guizhou".into(),
            display_name: "孙八".into(),
            role: Role::SyncAdmin,
            scope: Some(Scope::Province(ProvinceCode::parse("52").unwrap())),
            team: None,
            password: "pw-admin-guizhou-2026".into(),
        })
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = server.serve(listener).await.unwrap();
    let url = handle.url();
    let http = reqwest::Client::new();
    let enrolled: EnrolResponse = http
        .post(format!("{url}/api/v1/devices/enrol"))
        .header("ketepai-protocol", "1")
        .json(&EnrolRequest {
            username: "admin-guizhou".into(),
            password: "pw-admin-guizhou-2026".into(),
            device_name: "孙八的手机".into(),
            platform: "android".into(),
            replaces: None,
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = enrolled.token;

    // An 8 MiB photo, uploaded by this device (which may then read it).
    let hash = {
        let bytes = photo_bytes(PHOTO);
        let hash: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let resp = http
            .post(format!("{url}/api/v1/photos"))
            .bearer_auth(&token)
            .header("upload-length", PHOTO.to_string())
            .header("photo-sha256", &hash)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        for (i, chunk) in bytes.chunks(MIB).enumerate() {
            let resp = http
                .patch(format!("{url}/api/v1/photos/{hash}"))
                .bearer_auth(&token)
                .header("upload-offset", (i * MIB).to_string())
                .header("content-type", "application/offset+octet-stream")
                .body(chunk.to_vec())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 204);
        }
        hash
    };
    drop(http);

    let before = LIVE.load(Ordering::SeqCst);
    let mut open = Vec::new();
    for _ in 0..CLIENTS {
        // A client that reads slowly: a small receive buffer, and only the
        // head and the first bytes of the body are read.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(16 * 1024).unwrap();
        let mut s = socket.connect(handle.local_addr()).await.unwrap();
        let request = format!(
            "GET /api/v1/photos/{hash} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\n\r\n"
        );
        s.write_all(request.as_bytes()).await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0, "the server closed the download");
            got.extend_from_slice(&buf[..n]);
        }
        let head = String::from_utf8_lossy(&got);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains(&format!("content-length: {PHOTO}")),
            "{head}"
        );
        open.push(s);
    }
    // Streamed, each download holds what hyper queues for the socket and
    // one chunk read from the file (about half a MiB here); read whole,
    // each held its 8 MiB until the client took them all.
    let grown = LIVE.load(Ordering::SeqCst) - before;
    let whole = (CLIENTS * PHOTO) as isize;
    eprintln!("{CLIENTS} open downloads hold {grown} bytes of heap");
    assert!(
        grown < whole / 5,
        "{CLIENTS} open downloads of an {PHOTO}-byte photo hold {grown} bytes \
         (the photos whole would be {whole})"
    );
    drop(open);
    handle.shutdown().await.unwrap();
}
