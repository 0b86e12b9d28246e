//! A transparent TCP relay that counts what crosses it: connections opened
//! (each a TCP handshake on a real link) and bytes each way, HTTP headers
//! included. It does not look at the bytes, so clients keep their
//! connections alive through it exactly as they would without it.
//!
//! Why not the harness's fault proxy (`crate::proxy`): that proxy rewrites
//! every request to `Connection: close`, which adds a header to each request
//! and response and forbids connection reuse, and both distort exactly what
//! is measured here (a reconnect is a few hundred bytes). TCP/IP framing
//! (about 40 bytes a packet) and TLS are not counted; `docs/benchmarks.md`
//! says what they would add.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    up: AtomicU64,
    down: AtomicU64,
    /// When not zero: the next connection is cut (both ways) once this
    /// many bytes of the server's answers have passed on it. One-shot.
    cut_next: AtomicU64,
}

/// Traffic through a relay, or between two readings of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// TCP connections opened by clients.
    pub connections: u64,
    /// Bytes from clients to the server.
    pub up: u64,
    /// Bytes from the server to clients.
    pub down: u64,
}

impl Traffic {
    /// What happened between `earlier` and this reading.
    pub fn since(self, earlier: Traffic) -> Traffic {
        Traffic {
            connections: self.connections - earlier.connections,
            up: self.up - earlier.up,
            down: self.down - earlier.down,
        }
    }
}

/// A running relay; stops accepting when dropped.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Relay {
    /// Listens on a free loopback port and relays every connection to
    /// `upstream`. Must run inside the runtime that is to drive it.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let c = Arc::clone(&counters);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                c.connections.fetch_add(1, Ordering::Relaxed);
                let cut = match c.cut_next.swap(0, Ordering::SeqCst) {
                    0 => u64::MAX,
                    n => n,
                };
                let c = Arc::clone(&c);
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    // A cut ends the answer's direction; the request's
                    // direction then stops with it, as on a broken link.
                    let up = pipe(client_read, server_write, &c.up, u64::MAX);
                    let down = pipe(server_read, client_write, &c.down, cut);
                    tokio::pin!(up, down);
                    tokio::select! {
                        _ = &mut down => {}
                        _ = &mut up => (&mut down).await,
                    }
                });
            }
        });
        Ok(Relay {
            addr,
            counters,
            task,
        })
    }

    /// `http://` URL of the relay.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Cuts the next connection a client opens once `bytes` of the
    /// server's answers have passed on it (a link lost half-way through a
    /// download); later connections pass untouched.
    pub fn cut_next_after(&self, bytes: u64) {
        self.counters.cut_next.store(bytes.max(1), Ordering::SeqCst);
    }

    /// Everything counted so far.
    pub fn traffic(&self) -> Traffic {
        Traffic {
            connections: self.counters.connections.load(Ordering::SeqCst),
            up: self.counters.up.load(Ordering::SeqCst),
            down: self.counters.down.load(Ordering::SeqCst),
        }
    }
}

/// Copies one direction, counting each byte before it is forwarded (so a
/// client that has read its whole response has been counted in full), and
/// stops after `limit` bytes.
async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, counter: &AtomicU64, limit: u64) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut passed = 0u64;
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let n = n.min((limit - passed) as usize);
                if n == 0 {
                    break;
                }
                passed += n as u64;
                counter.fetch_add(n as u64, Ordering::SeqCst);
                if to.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown().await;
}
