//! `PayloadMeter`: what a client counts of the payloads it sends and receives (message
//! bodies only: JSON, protobuf or postcard bytes, without HTTP headers, HTTP/2 frames,
//! gRPC prefixes or wire frame headers). The harness divides by operations to report
//! payload bytes per op; bytes on the socket are measured separately, on the server.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Payload byte counters, and optionally the last payloads themselves.
#[derive(Debug, Default)]
pub struct PayloadMeter {
    sent: AtomicU64,
    received: AtomicU64,
    capture: AtomicBool,
    last: Mutex<Option<(Vec<u8>, Vec<u8>)>>,
}

impl PayloadMeter {
    /// Counts one exchange; keeps copies of both payloads when capturing.
    pub fn record(&self, request: &[u8], response: &[u8]) {
        self.record_sizes(request.len(), response.len());
        if self.capture.load(Ordering::Relaxed)
            && let Ok(mut last) = self.last.lock()
        {
            *last = Some((request.to_vec(), response.to_vec()));
        }
    }

    /// Counts one exchange by size only (for clients that never hold the bytes).
    pub fn record_sizes(&self, request: usize, response: usize) {
        self.sent.fetch_add(request as u64, Ordering::Relaxed);
        self.received.fetch_add(response as u64, Ordering::Relaxed);
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

    /// The last `(request, response)` payloads, if capturing.
    pub fn last(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        self.last.lock().ok().and_then(|last| last.clone())
    }
}
