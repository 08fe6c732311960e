//! The data every server-level target runs on: the dataset of the protocol spec's test
//! vectors (10 events, seed 42), served by the in-memory `domain::Service` on a stopped
//! clock. [`Resettable`] lets a router be built once per process while each input still
//! starts from the same state: a hold made by one input must not change what the next
//! one sees, or a crash would not reproduce from its input alone. Building a service
//! takes most of a millisecond (the catalogue's indexes), so it is rebuilt only after
//! an input that called a writing operation; reads change nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use async_trait::async_trait;
use domain::{
    AvailabilityStream, Booking, BookingId, Dataset, Event, EventDetail, EventId, EventPage,
    HoldRequest, Limits, ListEventsRequest, ManualClock, Performer, PerformerId, Result,
    SearchRequest, SearchResults, SeatMap, Service, Ticketing, Venue, VenueId,
};

/// Events in the fuzzing dataset (the same as `wire/PROTOCOL.md`'s vectors).
pub const EVENTS: u32 = 10;
/// Seed of the fuzzing dataset.
pub const SEED: u64 = 42;

fn dataset() -> &'static Dataset {
    static DATASET: OnceLock<Dataset> = OnceLock::new();
    DATASET.get_or_init(|| Dataset::generate(EVENTS, SEED))
}

/// A fresh service over the fuzzing dataset, its clock stopped at the dataset's epoch
/// (so holds never expire behind a target's back).
pub fn service() -> Service {
    let clock = Arc::new(ManualClock::new(domain::dataset::epoch()));
    Service::with_clock(dataset().clone(), Limits::default(), clock)
}

/// A `Ticketing` whose state can be put back to a fresh [`service`] between inputs.
#[derive(Debug)]
pub struct Resettable {
    current: RwLock<Arc<Service>>,
    /// Whether a writing operation ran since the last reset.
    written: AtomicBool,
}

impl Default for Resettable {
    fn default() -> Self {
        Resettable {
            current: RwLock::new(Arc::new(service())),
            written: AtomicBool::new(false),
        }
    }
}

impl Resettable {
    /// Replaces the state with a fresh service: what the next input starts from.
    pub fn reset(&self) {
        if !self.written.swap(false, Ordering::Relaxed) {
            return;
        }
        let fresh = Arc::new(service());
        match self.current.write() {
            Ok(mut current) => *current = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
    }

    /// The current service, for an operation that may change its state.
    fn write(&self) -> Arc<Service> {
        self.written.store(true, Ordering::Relaxed);
        self.get()
    }

    fn get(&self) -> Arc<Service> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }
}

#[async_trait]
impl Ticketing for Resettable {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        self.get().get_event(id).await
    }
    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        self.get().list_events(request).await
    }
    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        self.get().search_events(request).await
    }
    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        self.get().get_event_detail(id).await
    }
    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        self.get().get_venue(id).await
    }
    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        self.get().get_performer(id).await
    }
    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        self.get().get_seat_map(id).await
    }
    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        self.write().hold_seats(request).await
    }
    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        self.get().get_booking(id).await
    }
    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        self.write().confirm_booking(id, expected_version).await
    }
    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        self.write().cancel_booking(id).await
    }
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        self.get().watch_availability(event_id, from_version).await
    }
}
