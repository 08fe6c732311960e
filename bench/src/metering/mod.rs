//! Payload metering: what the harness counts of the payloads a client sends and receives
//! (message bodies only: JSON, protobuf or postcard bytes, without HTTP headers, HTTP/2
//! frames, gRPC prefixes or wire frame headers). The harness divides by operations to
//! report payload bytes per op; bytes on the socket are measured separately, on the
//! server. Under `--compression`, a compressed body or message counts as it crossed the
//! connection: its compressed size.
//!
//! The protocol clients know nothing of this: each hook is installed from outside,
//! through the seam its client offers.
//!
//! - [`http`]: an `HttpTransport` around reqwest's for REST and GraphQL, counting request
//!   and response bodies.
//! - [`grpc`]: a tower layer around the tonic channel, counting protobuf messages (HTTP/2
//!   body bytes less the 5-byte prefix of each message).
//! - [`wire`]: a wrapper of each wire-protocol connection's stream, counting frame
//!   payloads (socket bytes less the hellos and each frame's header).
//! - [`frames`]: the length-prefix reader the last two share.
//!
//! Every hook counts exactly what the clients' own meters used to, which the tests check
//! against payloads of known size.

pub mod frames;
pub mod grpc;
pub mod http;
pub mod wire;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Payload byte counters, and optionally the last payloads themselves.
#[derive(Debug, Default)]
pub struct PayloadMeter {
    sent: AtomicU64,
    received: AtomicU64,
    capture: AtomicBool,
    last: Mutex<Last>,
}

/// The last payloads seen each way, while capturing.
#[derive(Debug, Default)]
struct Last {
    request: Option<Vec<u8>>,
    response: Option<Vec<u8>>,
}

impl PayloadMeter {
    /// Counts one whole exchange; keeps copies of both payloads when capturing.
    pub fn record(&self, request: &[u8], response: &[u8]) {
        self.add_sent(request.len());
        self.add_received(response.len());
        if self.capturing() {
            self.keep_request(request);
            self.keep_response(response);
        }
    }

    /// Counts `bytes` of request payload.
    pub fn add_sent(&self, bytes: usize) {
        self.sent.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Counts `bytes` of response payload.
    pub fn add_received(&self, bytes: usize) {
        self.received.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Keeps a copy of a whole request payload (call only when [capturing](Self::capturing)).
    pub fn keep_request(&self, payload: &[u8]) {
        if let Ok(mut last) = self.last.lock() {
            last.request = Some(payload.to_vec());
        }
    }

    /// Keeps a copy of a whole response payload (call only when [capturing](Self::capturing)).
    pub fn keep_response(&self, payload: &[u8]) {
        if let Ok(mut last) = self.last.lock() {
            last.response = Some(payload.to_vec());
        }
    }

    /// `(sent, received)` payload bytes so far.
    pub fn totals(&self) -> (u64, u64) {
        (
            self.sent.load(Ordering::Relaxed),
            self.received.load(Ordering::Relaxed),
        )
    }

    /// Whether to keep the last payloads (for `quartet payloads`; off under load).
    pub fn set_capture(&self, on: bool) {
        self.capture.store(on, Ordering::Relaxed);
    }

    /// Whether the last payloads are being kept.
    pub fn capturing(&self) -> bool {
        self.capture.load(Ordering::Relaxed)
    }

    /// The last `(request, response)` payloads, if capturing and a response has been
    /// seen. Meaningful for one call at a time: under concurrency the two may belong to
    /// different calls.
    pub fn last(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        let last = self.last.lock().ok()?;
        let response = last.response.clone()?;
        Some((last.request.clone().unwrap_or_default(), response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_always_and_copies_only_when_capturing() {
        let meter = PayloadMeter::default();
        meter.record(b"abc", b"defgh");
        assert_eq!(meter.totals(), (3, 5));
        assert_eq!(meter.last(), None);
        meter.set_capture(true);
        meter.record(b"", b"xy");
        assert_eq!(meter.totals(), (3, 7));
        assert_eq!(meter.last(), Some((Vec::new(), b"xy".to_vec())));
    }
}
