//! The server's metrics, rendered as Prometheus text at `/metrics`:
//! requests by method, route and status, change outcomes, push and pull
//! latency, photo bytes.
//!
//! The registry is `prometheus-client`'s, one per server instance (no global
//! recorder, so several servers in one test process count apart). Every label
//! is drawn from a closed set, so a client cannot grow the registry: the
//! method is one of [`Method`], the route is the router's matched template
//! (or `unmatched`), the refusal code is a [`RefusalCode`]. Latencies are
//! measured with the monotonic [`std::time::Instant`], which is not the wall
//! clock the product's [`app_core::clock`] rule is about.

use std::fmt::{self, Write as _};
use std::time::Duration;

use prometheus_client::encoding::{
    EncodeLabel, EncodeLabelSet, EncodeLabelValue, LabelSetEncoder, LabelValueEncoder,
    prometheus_text,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use app_core::sync::protocol::{ChangeOutcome, RefusalCode};

/// The `Content-Type` of the exposition (Prometheus text, version 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Upper bounds of latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The HTTP method label: the methods the API answers, and `other` for any
/// method a client makes up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// `OPTIONS`.
    Options,
    /// Anything else.
    Other,
}

impl Method {
    /// The label for a request's method.
    pub fn of(method: &axum::http::Method) -> Method {
        use axum::http::Method as M;
        match *method {
            M::GET => Method::Get,
            M::HEAD => Method::Head,
            M::POST => Method::Post,
            M::PUT => Method::Put,
            M::PATCH => Method::Patch,
            M::DELETE => Method::Delete,
            M::OPTIONS => Method::Options,
            _ => Method::Other,
        }
    }

    /// The label's text.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Other => "other",
        }
    }
}

impl EncodeLabelValue for Method {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> fmt::Result {
        encoder.write_str(self.as_str())
    }
}

/// Labels of `ketepai_http_requests_total`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: Method,
    route: String,
    status: u16,
}

/// Labels of `ketepai_sync_changes_total`: the outcome, and for a refusal
/// its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ChangeLabels {
    Stored,
    Duplicate,
    MissingDeps,
    Refused(RefusalCode),
}

impl EncodeLabelSet for ChangeLabels {
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> fmt::Result {
        let outcome = match self {
            ChangeLabels::Stored => "stored",
            ChangeLabels::Duplicate => "duplicate",
            ChangeLabels::MissingDeps => "missing_deps",
            ChangeLabels::Refused(_) => "refused",
        };
        ("outcome", outcome).encode(encoder.encode_label())?;
        if let ChangeLabels::Refused(code) = self {
            ("code", code.as_str()).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

/// Labels of `ketepai_photo_bytes_total`.
type DirectionLabels = [(&'static str, &'static str); 1];

/// Every metric of one server instance.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    changes: Family<ChangeLabels, Counter>,
    push_latency: Histogram,
    pull_latency: Histogram,
    photo_bytes_received: Counter,
    photo_bytes_sent: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "ketepai_http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        let changes = Family::<ChangeLabels, Counter>::default();
        // The three plain outcomes are shown from the start, at zero.
        for outcome in [
            ChangeLabels::Stored,
            ChangeLabels::Duplicate,
            ChangeLabels::MissingDeps,
        ] {
            let _ = changes.get_or_create(&outcome);
        }
        registry.register(
            "ketepai_sync_changes",
            "Pushed changes by outcome",
            changes.clone(),
        );
        let push_latency = Histogram::new(BUCKETS);
        registry.register(
            "ketepai_sync_push_seconds",
            "Time to validate and store a push",
            push_latency.clone(),
        );
        let pull_latency = Histogram::new(BUCKETS);
        registry.register(
            "ketepai_sync_pull_seconds",
            "Time to answer a pull",
            pull_latency.clone(),
        );
        let photo_bytes = Family::<DirectionLabels, Counter>::default();
        let photo_bytes_received = photo_bytes
            .get_or_create(&[("direction", "received")])
            .clone();
        let photo_bytes_sent = photo_bytes.get_or_create(&[("direction", "sent")]).clone();
        registry.register(
            "ketepai_photo_bytes",
            "Photo bytes by direction",
            photo_bytes,
        );
        Metrics {
            registry,
            requests,
            changes,
            push_latency,
            pull_latency,
            photo_bytes_received,
            photo_bytes_sent,
        }
    }

    /// Counts one answered request.
    pub fn request(&self, method: &axum::http::Method, route: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                method: Method::of(method),
                route: route.to_string(),
                status,
            })
            .inc();
    }

    /// Counts the outcomes of a push.
    pub fn outcomes(&self, outcomes: &[ChangeOutcome]) {
        for o in outcomes {
            let labels = match o {
                ChangeOutcome::Stored => ChangeLabels::Stored,
                ChangeOutcome::Duplicate => ChangeLabels::Duplicate,
                ChangeOutcome::MissingDeps => ChangeLabels::MissingDeps,
                ChangeOutcome::Refused { code, .. } => ChangeLabels::Refused(*code),
            };
            self.changes.get_or_create(&labels).inc();
        }
    }

    /// Records how long a push took.
    pub fn push_took(&self, d: Duration) {
        self.push_latency.observe(d.as_secs_f64());
    }

    /// Records how long a pull took.
    pub fn pull_took(&self, d: Duration) {
        self.pull_latency.observe(d.as_secs_f64());
    }

    /// Counts photo bytes received.
    pub fn photo_received(&self, n: u64) {
        self.photo_bytes_received.inc_by(n);
    }

    /// Counts photo bytes sent.
    pub fn photo_sent(&self, n: u64) {
        self.photo_bytes_sent.inc_by(n);
    }

    /// The Prometheus text exposition ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail, and every label is encodable.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.request(&axum::http::Method::GET, "/api/v1/sync/pull", 204);
        m.request(&axum::http::Method::GET, "/api/v1/sync/pull", 204);
        m.outcomes(&[
            ChangeOutcome::Stored,
            ChangeOutcome::Refused {
                code: RefusalCode::OutOfScope,
                reason: String::new(),
            },
        ]);
        m.push_took(Duration::from_millis(30));
        m.photo_received(1000);
        let text = m.render();
        assert!(
            text.contains(
                "ketepai_http_requests_total{method=\"GET\",route=\"/api/v1/sync/pull\",status=\"204\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("ketepai_sync_changes_total{outcome=\"stored\"} 1"));
        assert!(text.contains("ketepai_sync_changes_total{outcome=\"duplicate\"} 0"));
        assert!(
            text.contains(
                "ketepai_sync_changes_total{outcome=\"refused\",code=\"out_of_scope\"} 1"
            )
        );
        assert!(text.contains("ketepai_sync_push_seconds_bucket{le=\"0.05\"} 1"));
        assert!(text.contains("ketepai_sync_push_seconds_bucket{le=\"0.025\"} 0"));
        assert!(text.contains("ketepai_sync_push_seconds_count 1"));
        assert!(text.contains("ketepai_photo_bytes_total{direction=\"received\"} 1000"));
        assert!(text.contains("ketepai_photo_bytes_total{direction=\"sent\"} 0"));
    }

    #[test]
    fn unknown_methods_are_counted_as_other() {
        let m = Metrics::default();
        let brew = axum::http::Method::from_bytes(b"BREW").unwrap();
        m.request(&brew, "unmatched", 404);
        m.request(&axum::http::Method::PATCH, "/api/v1/photos/{hash}", 204);
        let text = m.render();
        assert!(
            text.contains(
                "ketepai_http_requests_total{method=\"other\",route=\"unmatched\",status=\"404\"} 1"
            ),
            "{text}"
        );
        assert!(!text.contains("BREW"), "{text}");
        assert!(text.contains("method=\"PATCH\""), "{text}");
    }

    #[test]
    fn two_servers_count_apart() {
        let (a, b) = (Metrics::default(), Metrics::default());
        a.photo_sent(5);
        assert!(
            a.render()
                .contains("ketepai_photo_bytes_total{direction=\"sent\"} 5")
        );
        assert!(
            b.render()
                .contains("ketepai_photo_bytes_total{direction=\"sent\"} 0")
        );
    }
}
