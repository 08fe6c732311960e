//! [`Forwarding`]: a `Ticketing` that is not [`Service`](crate::Service). It passes every
//! call to another implementation and counts them, so a server's test can prove the
//! server takes any `Ticketing` (and that its calls really went through the one it was
//! given), and a reader sees the smallest decorator a caching or auditing layer would be.

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{
    AvailabilityStream, Booking, BookingId, Event, EventDetail, EventId, EventPage, HoldRequest,
    ListEventsRequest, Performer, PerformerId, SearchRequest, SearchResults, SeatMap, Venue,
    VenueId,
};
use crate::ticketing::Ticketing;

/// Forwards every operation to `inner`, counting calls.
#[derive(Debug, Default)]
pub struct Forwarding<T> {
    inner: T,
    calls: AtomicU64,
}

impl<T> Forwarding<T> {
    /// A forwarder to `inner` with a zero count.
    pub fn new(inner: T) -> Self {
        Forwarding {
            inner,
            calls: AtomicU64::new(0),
        }
    }

    /// Operations forwarded so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The implementation calls go to.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
}

#[async_trait]
impl<T: Ticketing> Ticketing for Forwarding<T> {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        self.count();
        self.inner.get_event(id).await
    }
    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        self.count();
        self.inner.list_events(request).await
    }
    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        self.count();
        self.inner.search_events(request).await
    }
    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        self.count();
        self.inner.get_event_detail(id).await
    }
    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        self.count();
        self.inner.get_venue(id).await
    }
    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        self.count();
        self.inner.get_performer(id).await
    }
    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        self.count();
        self.inner.get_seat_map(id).await
    }
    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        self.count();
        self.inner.hold_seats(request).await
    }
    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        self.count();
        self.inner.get_booking(id).await
    }
    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        self.count();
        self.inner.confirm_booking(id, expected_version).await
    }
    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        self.count();
        self.inner.cancel_booking(id).await
    }
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        self.count();
        self.inner.watch_availability(event_id, from_version).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DatasetSpec, Limits, Service};

    #[tokio::test]
    async fn forwards_and_counts() {
        let api = Forwarding::new(Service::generate(
            DatasetSpec {
                events: 50,
                seed: 1,
            },
            Limits::default(),
        ));
        assert!(api.get_event(EventId(1)).await.is_ok());
        assert!(api.get_event(EventId(999_999)).await.is_err());
        assert_eq!(api.calls(), 2);
    }
}
