//! `Backend`: the seam between the domain's rules and where the data lives.
//!
//! [`Service`](crate::Service) is the one `Ticketing` implementation with behaviour: it
//! checks every argument that needs no data ([`validate`](crate::validate)), parses
//! cursors and query words, then calls a `Backend` for what needs the data. A backend
//! applies the data-dependent rules with the shared error constructors of
//! [`rules`](crate::rules) (unknown ids, seats past the venue, not on sale, taken seats,
//! idempotency, versions and states), so the in-memory [`Store`] and a database store
//! refuse the same requests with the same errors.
//!
//! Every method receives arguments that already passed validation.

use async_trait::async_trait;

use crate::catalog::Cursor;
use crate::error::Result;
use crate::model::{
    AvailabilityStream, Booking, BookingId, Event, EventDetail, EventFilter, EventId, HoldRequest,
    Performer, PerformerId, SearchHit, SeatMap, Venue, VenueId,
};
use crate::store::Store;

/// Where the catalogue and the inventory live: the store operations after validation.
/// Object safe (`Arc<dyn Backend>` works).
#[async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// One event, its status live (`sold_out` while every seat is held or sold).
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event.
    async fn event(&self, id: EventId) -> Result<Event>;

    /// Up to `limit` events matching `filter` after `after` in (start time, id) order,
    /// and the cursor after the last one if more follow.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` ([`rules::cursor_not_issued`](crate::rules::cursor_not_issued))
    /// if `after` points at no event at its start time.
    async fn list_events(
        &self,
        filter: &EventFilter,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<(Vec<Event>, Option<Cursor>)>;

    /// The best `limit` events containing every one of `terms` (non-empty, from
    /// [`query_terms`](crate::catalog::query_terms)) and matching `filter`, best first,
    /// equal scores by ascending id. How scores are computed is the backend's.
    ///
    /// # Errors
    /// Only the backend's own failures.
    async fn search(
        &self,
        terms: &[String],
        filter: &EventFilter,
        limit: usize,
    ) -> Result<Vec<SearchHit>>;

    /// An event with its venue, performers and per-section availability.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event.
    async fn event_detail(&self, id: EventId) -> Result<EventDetail>;

    /// One venue with its layout.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such venue.
    async fn venue(&self, id: VenueId) -> Result<Venue>;

    /// One performer.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such performer.
    async fn performer(&self, id: PerformerId) -> Result<Performer>;

    /// Every seat of an event with its state and the inventory version.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event.
    async fn seat_map(&self, id: EventId) -> Result<SeatMap>;

    /// Holds the seats of a validated request, all or nothing.
    ///
    /// # Errors
    /// `NOT_FOUND`, `INVALID_ARGUMENT` (unknown seat, reused key), `INVALID_STATE` (not on
    /// sale), `SEATS_UNAVAILABLE` naming the taken seats in ascending order.
    async fn hold(&self, request: &HoldRequest) -> Result<Booking>;

    /// One booking, a lapsed hold reported as expired.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such booking.
    async fn booking(&self, id: BookingId) -> Result<Booking>;

    /// Confirms a held booking if `expected_version` is current
    /// ([`rules::check_confirm`](crate::rules::check_confirm)).
    ///
    /// # Errors
    /// `NOT_FOUND`, `VERSION_MISMATCH`, `INVALID_STATE`.
    async fn confirm(&self, id: BookingId, expected_version: u64) -> Result<Booking>;

    /// Cancels a live booking ([`rules::check_cancel`](crate::rules::check_cancel)).
    ///
    /// # Errors
    /// `NOT_FOUND`, `INVALID_STATE`.
    async fn cancel(&self, id: BookingId) -> Result<Booking>;

    /// The event's availability from `from` (or from a snapshot), then every change as it
    /// is committed, in version order with no gap; ends with a resync if the subscriber
    /// falls behind. See [`AvailabilityUpdate`](crate::AvailabilityUpdate).
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event; `INVALID_ARGUMENT`
    /// ([`rules::watch_version_ahead`](crate::rules::watch_version_ahead)) if `from` is
    /// ahead of the event's version.
    async fn watch_availability(
        &self,
        id: EventId,
        from: Option<u64>,
    ) -> Result<AvailabilityStream>;
}

#[async_trait]
impl Backend for Store {
    async fn event(&self, id: EventId) -> Result<Event> {
        Store::event(self, id)
    }

    async fn list_events(
        &self,
        filter: &EventFilter,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<(Vec<Event>, Option<Cursor>)> {
        let catalog = self.catalog();
        let after = after.map(|c| catalog.check_cursor(c)).transpose()?;
        let (events, next) = catalog.list(filter, after, limit);
        let events = events
            .into_iter()
            .map(|e| self.with_live_status(e))
            .collect();
        Ok((events, next))
    }

    async fn search(
        &self,
        terms: &[String],
        filter: &EventFilter,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        Ok(self
            .catalog()
            .search_terms(terms, filter, limit)?
            .into_iter()
            .map(|hit| SearchHit {
                event: self.with_live_status(hit.event),
                score: hit.score,
            })
            .collect())
    }

    async fn event_detail(&self, id: EventId) -> Result<EventDetail> {
        Store::event_detail(self, id)
    }

    async fn venue(&self, id: VenueId) -> Result<Venue> {
        self.catalog().venue(id).cloned()
    }

    async fn performer(&self, id: PerformerId) -> Result<Performer> {
        self.catalog().performer(id).cloned()
    }

    async fn seat_map(&self, id: EventId) -> Result<SeatMap> {
        Store::seat_map(self, id)
    }

    async fn hold(&self, request: &HoldRequest) -> Result<Booking> {
        Store::hold(self, request)
    }

    async fn booking(&self, id: BookingId) -> Result<Booking> {
        Store::booking(self, id)
    }

    async fn confirm(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        Store::confirm(self, id, expected_version)
    }

    async fn cancel(&self, id: BookingId) -> Result<Booking> {
        Store::cancel(self, id)
    }

    async fn watch_availability(
        &self,
        id: EventId,
        from: Option<u64>,
    ) -> Result<AvailabilityStream> {
        Store::watch(self, id, from)
    }
}
