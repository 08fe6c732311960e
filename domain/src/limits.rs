//! `Limits`: the one set of bounds (design.md §6) shared by every server, so all four
//! transports refuse the same inputs. Each field can be overridden; `Default` is the design.

use std::time::Duration;

/// Bounds on requests, connections and time. One value configures every server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request a server reads: HTTP body, gRPC message or wire frame, in bytes.
    pub max_request_bytes: usize,
    /// Largest response a client accepts, in bytes (a big seat map fits).
    pub max_response_bytes: usize,
    /// Page size when a request names none.
    pub default_page_size: u32,
    /// Largest page size a request may name.
    pub max_page_size: u32,
    /// Longest search query, in characters.
    pub max_query_chars: usize,
    /// Most seats in one hold.
    pub max_seats_per_hold: u32,
    /// How long a hold lasts before it expires.
    pub hold_ttl: Duration,
    /// Cancelled or expired bookings remembered per event; older ones are forgotten
    /// (`get_booking` then answers `NOT_FOUND`), so sustained writes run in bounded memory.
    pub finished_bookings_per_event: usize,
    /// GraphQL: deepest selection allowed.
    pub graphql_max_depth: usize,
    /// GraphQL: largest complexity score allowed.
    pub graphql_max_complexity: usize,
    /// How long a client may take to send a request's headers (or a whole wire frame).
    pub header_read_timeout: Duration,
    /// How long one request may take from its arrival to its answer.
    pub request_timeout: Duration,
    /// How long an idle wire connection is kept open.
    pub wire_idle_timeout: Duration,
    /// Most requests in flight on one wire connection.
    pub wire_max_in_flight: usize,
    /// Most open connections per server.
    pub max_connections: usize,
    /// How long a graceful shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 1 << 20,
            max_response_bytes: 16 << 20,
            default_page_size: 20,
            max_page_size: 100,
            max_query_chars: 200,
            max_seats_per_hold: 8,
            hold_ttl: Duration::from_secs(10 * 60),
            finished_bookings_per_event: 4_096,
            graphql_max_depth: 12,
            graphql_max_complexity: 3_000,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            wire_idle_timeout: Duration::from_secs(60),
            wire_max_in_flight: 256,
            max_connections: 1_024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}
