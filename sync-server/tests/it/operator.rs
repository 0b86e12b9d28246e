//! The operator surface: `/metrics` behind the operator token, a closed
//! set of method labels, every error a problem document (405, a query that
//! does not parse), and user text in the log kept inside its field.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use crate::harness::{Env, PROTOCOL, problem};

/// Everything the server logs in this test process, as text lines.
fn captured_log() -> Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Sink(Arc::clone(&sink)))
            .try_init()
            .expect("no other subscriber in the test binary");
        log
    })
    .clone()
}

pub async fn metrics_need_the_operator_token_and_errors_are_problems(env: Env) {
    let log = captured_log();
    let server = env
        .instance_with(|c| c.metrics_token = Some("op-token-2026".into()))
        .await;
    let url = |p: &str| format!("{}{p}", server.url());
    let (status, p) = problem(env.http.get(url("/metrics")).send().await.unwrap()).await;
    assert_eq!((status, p.code.as_str()), (401, "unauthenticated"));
    let wrong = env
        .http
        .get(url("/metrics"))
        .bearer_auth("op-token-2025")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    // Made-up methods: one `other` label, answered as a problem.
    for m in ["BREW", "PROPFIND", "X-1", "X-2", "X-3"] {
        let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
        let resp = env
            .http
            .request(method, url("/healthz"))
            .send()
            .await
            .unwrap();
        assert!(resp.headers().contains_key("allow"));
        let (status, p) = problem(resp).await;
        assert_eq!((status, p.code.as_str()), (405, "method_not_allowed"));
    }
    let (status, p) = problem(env.http.post(url("/healthz")).send().await.unwrap()).await;
    assert_eq!((status, p.code.as_str()), (405, "method_not_allowed"));

    // A query string that does not parse.
    let w = env.world.clone();
    let c1 = env.enrol(&w.c1).await;
    let resp = env
        .http
        .get(url("/api/v1/sync/pull?limit=many"))
        .bearer_auth(&c1.token)
        .header(PROTOCOL.0, PROTOCOL.1)
        .send()
        .await
        .unwrap();
    let (status, p) = problem(resp).await;
    assert_eq!((status, p.code.as_str()), (400, "bad_request"));

    let text = env
        .http
        .get(url("/metrics"))
        .bearer_auth("op-token-2026")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("method=\"other\",route=\"/healthz\",status=\"405\"} 5"),
        "{text}"
    );
    assert!(!text.contains("BREW") && !text.contains("X-1"));

    // A user name that carries a line of its own stays in its field.
    let forged = "nobody\n2026-12-01T00:00:00.000000Z ERROR FORGED-LINE admin deleted everything";
    let (status, _) = problem(env.enrol_raw(forged, "whatever-password").await).await;
    assert_eq!(status, 401);
    let written = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(written.contains("FORGED-LINE"), "the refusal is logged");
    assert!(
        !written
            .lines()
            .any(|l| l.contains("ERROR FORGED-LINE") && !l.contains("nobody")),
        "a line was forged:\n{written}"
    );
}
