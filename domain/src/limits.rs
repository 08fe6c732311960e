//! `Limits`: the business bounds every transport enforces the same way, because the
//! domain enforces them (page size, query length, seats per hold, hold TTL, how many
//! finished bookings an event remembers, how much availability history a watched event
//! keeps and how far a subscriber may fall behind).
//!
//! Transport settings (body and frame sizes, timeouts, connection caps, GraphQL depth,
//! HTTP/2 streams) are deliberately not here: they live in `netkit::config` and in each
//! protocol crate's `Config`, so the domain knows nothing about how it is served.

use std::time::Duration;

/// Business bounds on requests. One value configures a [`Service`](crate::Service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
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
    /// Availability changes kept per watched event for subscribers resuming from a version;
    /// one resuming from further back gets a snapshot instead.
    pub watch_retained: usize,
    /// Messages a live availability subscriber may fall behind before it is sent a resync
    /// and its stream ends (the same in every protocol).
    pub watch_buffer: usize,
}

impl Limits {
    /// Page size when a request names none.
    pub const DEFAULT_PAGE_SIZE: u32 = 20;
    /// Largest page size a request may name.
    pub const MAX_PAGE_SIZE: u32 = 100;
    /// Longest search query, in characters.
    pub const MAX_QUERY_CHARS: usize = 200;
    /// Most seats in one hold.
    pub const MAX_SEATS_PER_HOLD: u32 = 8;
    /// How long a hold lasts: ten minutes.
    pub const HOLD_TTL: Duration = Duration::from_secs(10 * 60);
    /// Finished bookings remembered per event.
    pub const FINISHED_BOOKINGS_PER_EVENT: usize = 4_096;
    /// Availability changes kept per watched event.
    pub const WATCH_RETAINED: usize = 128;
    /// Messages an availability subscriber may fall behind.
    pub const WATCH_BUFFER: usize = 256;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            default_page_size: Self::DEFAULT_PAGE_SIZE,
            max_page_size: Self::MAX_PAGE_SIZE,
            max_query_chars: Self::MAX_QUERY_CHARS,
            max_seats_per_hold: Self::MAX_SEATS_PER_HOLD,
            hold_ttl: Self::HOLD_TTL,
            finished_bookings_per_event: Self::FINISHED_BOOKINGS_PER_EVENT,
            watch_retained: Self::WATCH_RETAINED,
            watch_buffer: Self::WATCH_BUFFER,
        }
    }
}
