//! `Service`: the in-process implementation of [`Ticketing`]. It validates every argument
//! against the [`Limits`] and calls the [`Store`]; the store never sees an unchecked input.
//! Every server serves some `Ticketing`; in the embedded default it is this one, so all
//! four transports share one behaviour.

use std::sync::Arc;

use async_trait::async_trait;

use crate::clock::{Clock, SystemClock};
use crate::dataset::{Dataset, DatasetSpec};
use crate::error::Result;
use crate::limits::Limits;
use crate::model::{
    Booking, BookingId, Event, EventDetail, EventId, EventPage, HoldRequest, ListEventsRequest,
    Performer, PerformerId, SearchHit, SearchRequest, SearchResults, SeatMap, Venue, VenueId,
};
use crate::store::Store;
use crate::ticketing::Ticketing;
use crate::{Catalog, validate};

/// The ticketing service over an in-memory store. Cheap to clone: clones share the store.
#[derive(Debug, Clone)]
pub struct Service {
    store: Arc<Store>,
    limits: Arc<Limits>,
}

impl Service {
    /// A service over a freshly generated dataset, with the real clock.
    pub fn generate(spec: DatasetSpec, limits: Limits) -> Self {
        Self::with_clock(Dataset::from_spec(spec), limits, Arc::new(SystemClock))
    }

    /// A service over `dataset`, reading time from `clock` (tests pass a manual clock).
    pub fn with_clock(dataset: Dataset, limits: Limits, clock: Arc<dyn Clock>) -> Self {
        let store = Store::new(Catalog::new(dataset), clock, &limits);
        Service {
            store: Arc::new(store),
            limits: Arc::new(limits),
        }
    }

    /// The store, for what is not part of `Ticketing` (the change feed, audits).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The limits every argument is checked against.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

#[async_trait]
impl Ticketing for Service {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        self.store.event(id)
    }

    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        let limit = validate::page_size(request.limit, &self.limits)?;
        validate::filter(&request.filter)?;
        let catalog = self.store.catalog();
        let after = request
            .cursor
            .as_deref()
            .map(|raw| catalog.decode_cursor(raw, &request.filter))
            .transpose()?;
        let (events, next) = catalog.list(&request.filter, after, limit);
        Ok(EventPage {
            events: events
                .into_iter()
                .map(|e| self.store.with_live_status(e))
                .collect(),
            next_cursor: next.map(|c| c.encode(&request.filter)),
        })
    }

    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        let limit = validate::page_size(request.limit, &self.limits)?;
        validate::query(&request.query, &self.limits)?;
        validate::filter(&request.filter)?;
        let hits = self
            .store
            .catalog()
            .search(&request.query, &request.filter, limit)?
            .into_iter()
            .map(|hit| SearchHit {
                event: self.store.with_live_status(hit.event),
                score: hit.score,
            })
            .collect();
        Ok(SearchResults { hits })
    }

    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        self.store.event_detail(id)
    }

    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        self.store.catalog().venue(id).cloned()
    }

    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        self.store.catalog().performer(id).cloned()
    }

    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        self.store.seat_map(id)
    }

    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        validate::hold(&request, &self.limits)?;
        self.store.hold(&request)
    }

    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        self.store.booking(id)
    }

    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        self.store.confirm(id, expected_version)
    }

    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        self.store.cancel(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-process service is the reference every protocol's client is held to; it must
    /// pass the suite itself, over a real multi-threaded runtime.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn in_process_service_conforms() {
        let spec = DatasetSpec {
            events: 2_000,
            seed: 7,
        };
        let service: Arc<dyn Ticketing> = Arc::new(Service::generate(spec, Limits::default()));
        crate::conformance::run(service, spec).await;
    }
}
