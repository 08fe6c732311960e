//! `Ticketing`: the one API. The in-process [`Service`](crate::Service) implements it,
//! and so does every protocol's network client; every server serves any implementation
//! (held as a [`SharedTicketing`]); the conformance suite checks any implementation
//! against a known dataset.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{
    AvailabilityStream, Booking, BookingId, Event, EventDetail, EventId, EventPage, HoldRequest,
    ListEventsRequest, Performer, PerformerId, SearchRequest, SearchResults, SeatMap, Venue,
    VenueId,
};

/// What every server holds: any `Ticketing`, shared by the tasks serving its requests.
/// Servers take this rather than the concrete [`Service`](crate::Service), so a store
/// backend, a caching layer or a test double slots in without touching a transport.
pub type SharedTicketing = Arc<dyn Ticketing>;

/// Every ticketing operation. Object safe (`Arc<dyn Ticketing>` works) and `Send`, so the
/// harness can hold one implementation per protocol and drive it from many tasks.
///
/// Every method returns the domain [`Error`](crate::Error); network implementations map
/// their protocol's errors back to it, so callers cannot tell the transports apart.
#[async_trait]
pub trait Ticketing: Send + Sync {
    /// One event.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event.
    async fn get_event(&self, id: EventId) -> Result<Event>;

    /// A page of events ordered by start time then id, filtered.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a malformed cursor, limit 0 or an empty date range;
    /// `LIMIT_EXCEEDED` for a limit over the maximum page size.
    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage>;

    /// Full-text search, ranked, filtered.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a query with no searchable words or a bad limit or range;
    /// `LIMIT_EXCEEDED` for a query over the maximum length or a limit over the maximum.
    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults>;

    /// An event with its venue, performers and per-section availability.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event.
    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail>;

    /// One venue, with its seat layout.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such venue.
    async fn get_venue(&self, id: VenueId) -> Result<Venue>;

    /// One performer.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such performer.
    async fn get_performer(&self, id: PerformerId) -> Result<Performer>;

    /// Every seat of an event with its state.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event.
    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap>;

    /// Holds 1..=8 seats of one event for a customer, all or nothing.
    ///
    /// # Errors
    /// `NOT_FOUND` for an unknown event; `INVALID_ARGUMENT` for no seats, duplicate or
    /// unknown seat ids, a bad customer or idempotency key (or a key reused for another
    /// request); `LIMIT_EXCEEDED` for too many seats; `INVALID_STATE` if the event is not on
    /// sale; `SEATS_UNAVAILABLE` naming the seats already held or sold.
    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking>;

    /// One booking.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such booking.
    async fn get_booking(&self, id: BookingId) -> Result<Booking>;

    /// Turns a held booking into a confirmed one, if `expected_version` is current.
    ///
    /// # Errors
    /// `NOT_FOUND` for an unknown booking; `VERSION_MISMATCH` if the version is stale;
    /// `INVALID_STATE` if the booking is not held (confirmed, cancelled or expired).
    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking>;

    /// Cancels a held or confirmed booking and releases its seats.
    ///
    /// # Errors
    /// `NOT_FOUND` for an unknown booking; `INVALID_STATE` if it is already cancelled or
    /// expired.
    async fn cancel_booking(&self, id: BookingId) -> Result<Booking>;

    /// The event's seat availability, live: changes from `from_version` on (or a snapshot
    /// of now first), each with its version, in order, with no gap and no duplicate, and a
    /// final resync if the subscriber falls too far behind. See
    /// [`AvailabilityUpdate`](crate::AvailabilityUpdate) for the messages.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event; `INVALID_ARGUMENT` if `from_version` is ahead
    /// of the event's inventory version. Network implementations yield transport failures
    /// as `Err` items of the stream.
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream>;
}

macro_rules! forward_ticketing {
    ($ptr:ty) => {
        #[async_trait]
        impl<T: Ticketing + ?Sized> Ticketing for $ptr {
            async fn get_event(&self, id: EventId) -> Result<Event> {
                (**self).get_event(id).await
            }
            async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
                (**self).list_events(request).await
            }
            async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
                (**self).search_events(request).await
            }
            async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
                (**self).get_event_detail(id).await
            }
            async fn get_venue(&self, id: VenueId) -> Result<Venue> {
                (**self).get_venue(id).await
            }
            async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
                (**self).get_performer(id).await
            }
            async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
                (**self).get_seat_map(id).await
            }
            async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
                (**self).hold_seats(request).await
            }
            async fn get_booking(&self, id: BookingId) -> Result<Booking> {
                (**self).get_booking(id).await
            }
            async fn confirm_booking(
                &self,
                id: BookingId,
                expected_version: u64,
            ) -> Result<Booking> {
                (**self).confirm_booking(id, expected_version).await
            }
            async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
                (**self).cancel_booking(id).await
            }
            async fn watch_availability(
                &self,
                event_id: EventId,
                from_version: Option<u64>,
            ) -> Result<AvailabilityStream> {
                (**self).watch_availability(event_id, from_version).await
            }
        }
    };
}

// Generic code can take `impl Ticketing` and still be handed a shared pointer.
forward_ticketing!(Arc<T>);
forward_ticketing!(Box<T>);
forward_ticketing!(&T);
