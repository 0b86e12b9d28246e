//! What a sync session cost on the wire, and the link model that turns it
//! into wall time on a slow link.
//!
//! The model: `(round trips) × RTT + (bytes up + bytes down) × 8 / bandwidth`,
//! where round trips are the HTTP exchanges on the session's critical path
//! plus one TCP handshake per new connection. It ignores TCP slow start,
//! TLS (one more round trip per connection with TLS 1.3), packet headers
//! and loss, so real links are slower; it is the same model for all three
//! implementations, which is what the comparison needs.

use std::time::Duration;

/// What one sync session put on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// HTTP requests made (each one round trip).
    pub requests: u64,
    /// Requests on the critical path if independent requests were
    /// pipelined (only Automerge's per-document sync differs from
    /// `requests`: its documents are independent).
    pub critical: u64,
    /// New TCP connections (one handshake round trip each).
    pub connections: u64,
    /// Bytes from the device, HTTP headers included.
    pub up: u64,
    /// Bytes to the device, HTTP headers included.
    pub down: u64,
}

impl Cost {
    /// Bytes both ways.
    pub fn bytes(&self) -> u64 {
        self.up + self.down
    }

    /// Round trips of the session as run: requests one after another, plus
    /// handshakes.
    pub fn round_trips(&self) -> u64 {
        self.requests + self.connections
    }
}

/// A simulated link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// Its name in the table.
    pub name: &'static str,
    /// Bandwidth, bits per second (the same both ways).
    pub bits_per_second: f64,
    /// Round-trip time.
    pub rtt: Duration,
}

/// Village 2G (EDGE at its usual): about 70 kbit/s, 1.4 s round trip.
pub const LINK_2G: Link = Link {
    name: "2G",
    bits_per_second: 70_000.0,
    rtt: Duration::from_millis(1400),
};

/// Township 3G: about 700 kbit/s, 300 ms round trip.
pub const LINK_3G: Link = Link {
    name: "3G",
    bits_per_second: 700_000.0,
    rtt: Duration::from_millis(300),
};

impl Link {
    /// Wall time of `cost` on this link, requests run one after another.
    pub fn time(&self, cost: &Cost) -> Duration {
        self.model(cost.round_trips(), cost.bytes())
    }

    /// Wall time with round trips and bytes given.
    pub fn model(&self, round_trips: u64, bytes: u64) -> Duration {
        let rtt = self.rtt.as_secs_f64() * round_trips as f64;
        let transfer = bytes as f64 * 8.0 / self.bits_per_second;
        Duration::from_secs_f64(rtt + transfer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_adds_round_trips_and_transfer() {
        let cost = Cost {
            requests: 2,
            critical: 2,
            connections: 1,
            up: 7_000,
            down: 1_750,
        };
        // 3 round trips × 1.4 s + 8,750 bytes × 8 / 70,000 bit/s = 4.2 + 1.0.
        let t = LINK_2G.time(&cost).as_secs_f64();
        assert!((t - 5.2).abs() < 1e-9, "{t}");
    }
}
