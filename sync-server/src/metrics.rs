//! A small hand-rolled metrics registry rendered as Prometheus text at
//! `/metrics`: requests by route and status, change outcomes, push and pull
//! latency, photo bytes. Latencies are measured with the monotonic
//! [`std::time::Instant`], which is not the wall clock the product's
//! [`app_core::clock`] rule is about.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use app_core::sync::protocol::ChangeOutcome;

/// Upper bounds of latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{bound}\"}} {}",
                self.counts[i].load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "{name}_sum {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// Every metric of one server instance.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    changes_stored: AtomicU64,
    changes_duplicate: AtomicU64,
    changes_missing_deps: AtomicU64,
    changes_refused: Mutex<BTreeMap<&'static str, u64>>,
    /// Push latency.
    pub push_latency: Histogram,
    /// Pull latency.
    pub pull_latency: Histogram,
    photo_bytes_received: AtomicU64,
    photo_bytes_sent: AtomicU64,
}

impl Metrics {
    /// Counts one answered request.
    pub fn request(&self, method: &str, route: &str, status: u16) {
        let mut map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
    }

    /// Counts the outcomes of a push.
    pub fn outcomes(&self, outcomes: &[ChangeOutcome]) {
        let mut refused = self
            .changes_refused
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        for o in outcomes {
            match o {
                ChangeOutcome::Stored => {
                    self.changes_stored.fetch_add(1, Ordering::Relaxed);
                }
                ChangeOutcome::Duplicate => {
                    self.changes_duplicate.fetch_add(1, Ordering::Relaxed);
                }
                ChangeOutcome::MissingDeps => {
                    self.changes_missing_deps.fetch_add(1, Ordering::Relaxed);
                }
                ChangeOutcome::Refused { code, .. } => {
                    *refused.entry(code.as_str()).or_default() += 1;
                }
            }
        }
    }

    /// Counts photo bytes received.
    pub fn photo_received(&self, n: u64) {
        self.photo_bytes_received.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts photo bytes sent.
    pub fn photo_sent(&self, n: u64) {
        self.photo_bytes_sent.fetch_add(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP ketepai_http_requests_total HTTP requests answered, by route and status."
        );
        let _ = writeln!(out, "# TYPE ketepai_http_requests_total counter");
        for ((method, route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "ketepai_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP ketepai_sync_changes_total Pushed changes by outcome."
        );
        let _ = writeln!(out, "# TYPE ketepai_sync_changes_total counter");
        for (outcome, n) in [
            ("stored", &self.changes_stored),
            ("duplicate", &self.changes_duplicate),
            ("missing_deps", &self.changes_missing_deps),
        ] {
            let _ = writeln!(
                out,
                "ketepai_sync_changes_total{{outcome=\"{outcome}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        for (code, n) in self
            .changes_refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "ketepai_sync_changes_total{{outcome=\"refused\",code=\"{code}\"}} {n}"
            );
        }
        self.push_latency.render(
            "ketepai_sync_push_seconds",
            "Time to validate and store a push.",
            &mut out,
        );
        self.pull_latency.render(
            "ketepai_sync_pull_seconds",
            "Time to answer a pull.",
            &mut out,
        );
        let _ = writeln!(
            out,
            "# HELP ketepai_photo_bytes_total Photo bytes by direction."
        );
        let _ = writeln!(out, "# TYPE ketepai_photo_bytes_total counter");
        let _ = writeln!(
            out,
            "ketepai_photo_bytes_total{{direction=\"received\"}} {}",
            self.photo_bytes_received.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "ketepai_photo_bytes_total{{direction=\"sent\"}} {}",
            self.photo_bytes_sent.load(Ordering::Relaxed)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_core::sync::protocol::RefusalCode;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.request("GET", "/api/v1/sync/pull", 204);
        m.request("GET", "/api/v1/sync/pull", 204);
        m.outcomes(&[
            ChangeOutcome::Stored,
            ChangeOutcome::Refused {
                code: RefusalCode::OutOfScope,
                reason: String::new(),
            },
        ]);
        m.push_latency.observe(Duration::from_millis(30));
        let text = m.render();
        assert!(text.contains(
            "ketepai_http_requests_total{method=\"GET\",route=\"/api/v1/sync/pull\",status=\"204\"} 2"
        ));
        assert!(text.contains("ketepai_sync_changes_total{outcome=\"stored\"} 1"));
        assert!(
            text.contains(
                "ketepai_sync_changes_total{outcome=\"refused\",code=\"out_of_scope\"} 1"
            )
        );
        assert!(text.contains("ketepai_sync_push_seconds_bucket{le=\"0.05\"} 1"));
        assert!(text.contains("ketepai_sync_push_seconds_bucket{le=\"0.025\"} 0"));
        assert!(text.contains("ketepai_sync_push_seconds_count 1"));
    }
}
