//! A fault-injecting TCP proxy between devices and the sync server.
//!
//! Each accepted connection gets one fate, drawn from a seeded random
//! generator in connection order, so a run with the same seed and the same
//! (sequential) client makes the same faults: a failing seed reproduces.
//! Fates: pass, delay, drop mid-request, drop mid-response, truncate the
//! body, answer 503 without forwarding, or forward and then replay the same
//! request on a second connection (a duplicated request).
//!
//! The proxy works on bytes, not HTTP; it reads just enough of a request
//! (headers and `Content-Length`) to know where it ends. Clients should not
//! reuse connections through it, so that every request meets its own fate.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How often each fault happens, as probabilities per connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultPlan {
    /// Seed of the fate generator.
    pub seed: u64,
    /// Forward after a delay of up to `max_delay`.
    pub delay: f64,
    /// Longest delay.
    pub max_delay: Duration,
    /// Close after forwarding part of the request.
    pub drop_request: f64,
    /// Forward the request, close after part of the response.
    pub drop_response: f64,
    /// Forward the request, send the response headers and part of the body.
    pub truncate: f64,
    /// Answer 503 without forwarding.
    pub error_503: f64,
    /// Forward, then send the same request again on a new connection.
    pub duplicate: f64,
}

impl FaultPlan {
    /// No faults at all.
    pub fn clean() -> Self {
        FaultPlan {
            seed: 0,
            delay: 0.0,
            max_delay: Duration::ZERO,
            drop_request: 0.0,
            drop_response: 0.0,
            truncate: 0.0,
            error_503: 0.0,
            duplicate: 0.0,
        }
    }

    /// A hostile link: about half of all connections meet a fault.
    pub fn hostile(seed: u64) -> Self {
        FaultPlan {
            seed,
            delay: 0.1,
            max_delay: Duration::from_millis(30),
            drop_request: 0.1,
            drop_response: 0.1,
            truncate: 0.08,
            error_503: 0.08,
            duplicate: 0.08,
        }
    }
}

/// What happened to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fate {
    /// Forwarded untouched.
    Pass,
    /// Forwarded after a delay (milliseconds).
    Delay(u64),
    /// Closed after this share of the request's bytes (per mille).
    DropRequest(u16),
    /// Closed after this share of the response's bytes (per mille).
    DropResponse(u16),
    /// Response headers sent, then this share of the body (per mille).
    Truncate(u16),
    /// Answered 503.
    Error503,
    /// Forwarded and replayed.
    Duplicate,
}

/// Counts kept by the proxy.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Bytes from clients to the server (including replays).
    pub bytes_up: AtomicU64,
    /// Bytes from the server to clients.
    pub bytes_down: AtomicU64,
}

struct Shared {
    upstream: SocketAddr,
    plan: Mutex<(FaultPlan, StdRng)>,
    fates: Mutex<Vec<Fate>>,
    stats: ProxyStats,
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr, plan: FaultPlan) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            plan: Mutex::new((plan, StdRng::seed_from_u64(plan.seed))),
            fates: Mutex::new(Vec::new()),
            stats: ProxyStats::default(),
        });
        let s = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                s.stats.connections.fetch_add(1, Ordering::Relaxed);
                let fate = s.next_fate();
                s.fates.lock().unwrap().push(fate);
                let s = Arc::clone(&s);
                tokio::spawn(async move {
                    let _ = handle(&s, client, fate).await;
                });
            }
        });
        Ok(FaultProxy { addr, shared, task })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://` URL of the proxy.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the plan (keeps the generator's position unless the seed changes).
    pub fn set_plan(&self, plan: FaultPlan) {
        let mut guard = self.shared.plan.lock().unwrap();
        if guard.0.seed != plan.seed {
            guard.1 = StdRng::seed_from_u64(plan.seed);
        }
        guard.0 = plan;
    }

    /// The fate of every connection so far, in order.
    pub fn fates(&self) -> Vec<Fate> {
        self.shared.fates.lock().unwrap().clone()
    }

    /// Traffic counts.
    pub fn stats(&self) -> &ProxyStats {
        &self.shared.stats
    }
}

impl Shared {
    fn next_fate(&self) -> Fate {
        let mut guard = self.plan.lock().unwrap();
        let (plan, rng) = &mut *guard;
        let roll: f64 = rng.random();
        let mut edge = 0.0;
        let mut hit = |p: f64| {
            edge += p;
            roll < edge
        };
        if hit(plan.delay) {
            let max = plan.max_delay.as_millis().max(1) as u64;
            Fate::Delay(rng.random_range(0..max))
        } else if hit(plan.drop_request) {
            Fate::DropRequest(rng.random_range(0..1000))
        } else if hit(plan.drop_response) {
            Fate::DropResponse(rng.random_range(0..1000))
        } else if hit(plan.truncate) {
            Fate::Truncate(rng.random_range(0..1000))
        } else if hit(plan.error_503) {
            Fate::Error503
        } else if hit(plan.duplicate) {
            Fate::Duplicate
        } else {
            Fate::Pass
        }
    }
}

/// Reads one whole HTTP request (headers and `Content-Length` body).
async fn read_request(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                buf.truncate(end + 4 + len);
                return Ok(buf);
            }
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Rewrites the request's `Connection` header to `close`, so the server ends
/// the connection after its response and the response ends at EOF (whatever
/// its transfer encoding).
fn force_close(request: &[u8]) -> Vec<u8> {
    let Some(end) = find(request, b"\r\n\r\n") else {
        return request.to_vec();
    };
    let head = String::from_utf8_lossy(&request[..end]);
    let mut lines: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("connection: close");
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(&request[end..]);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Sends `request` upstream and returns the whole response (until close).
async fn exchange(shared: &Shared, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(shared.upstream).await?;
    up.write_all(request).await?;
    shared
        .stats
        .bytes_up
        .fetch_add(request.len() as u64, Ordering::Relaxed);
    let mut response = Vec::new();
    read_response(&mut up, &mut response).await?;
    Ok(response)
}

/// Reads one HTTP response until the server closes (requests are sent with
/// `Connection: close`).
async fn read_response(up: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = up.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn handle(shared: &Shared, mut client: TcpStream, fate: Fate) -> std::io::Result<()> {
    let request = force_close(&read_request(&mut client).await?);
    if request.is_empty() {
        return Ok(());
    }
    match fate {
        Fate::DropRequest(n) => {
            // Part of the request reaches the server, then both sides close.
            let mut up = TcpStream::connect(shared.upstream).await?;
            let n = (request.len() * usize::from(n) / 1000).min(request.len().saturating_sub(1));
            up.write_all(&request[..n]).await?;
            shared.stats.bytes_up.fetch_add(n as u64, Ordering::Relaxed);
            return Ok(());
        }
        Fate::Error503 => {
            let body = br#"{"type":"about:blank","title":"unavailable","status":503,"code":"unavailable","retryable":true}"#;
            let head = format!(
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            client.write_all(head.as_bytes()).await?;
            client.write_all(body).await?;
            return Ok(());
        }
        Fate::Delay(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        _ => {}
    }
    let response = exchange(shared, &request).await?;
    let cut = match fate {
        Fate::DropResponse(n) => {
            (response.len() * usize::from(n) / 1000).min(response.len().saturating_sub(1))
        }
        Fate::Truncate(n) => {
            let body_start = find(&response, b"\r\n\r\n").map_or(0, |e| e + 4);
            let body = response.len() - body_start;
            (body_start + body * usize::from(n) / 1000).min(response.len().saturating_sub(1))
        }
        _ => response.len(),
    };
    client.write_all(&response[..cut]).await?;
    shared
        .stats
        .bytes_down
        .fetch_add(cut as u64, Ordering::Relaxed);
    client.shutdown().await.ok();
    if fate == Fate::Duplicate {
        exchange(shared, &request).await?;
    }
    Ok(())
}
