//! `Service`: the one [`Ticketing`] implementation with behaviour. It validates every
//! argument against the [`Limits`], parses cursors and query words, and calls a
//! [`Backend`] for what needs the data; the backend never sees an unchecked input.
//!
//! `Service` (that is, `Service<Store>`) is the in-memory service every server embeds by
//! default; `Service<B>` puts the same rules over any other backend (the PostgreSQL one
//! lives in the `pgstore` crate). Generic rather than `Arc<dyn Backend>` so the in-memory
//! path keeps static dispatch and `Service::store()` keeps its concrete type.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::backend::Backend;
use crate::catalog::{Cursor, query_terms};
use crate::clock::{Clock, SystemClock};
use crate::dataset::{Dataset, DatasetSpec};
use crate::error::Result;
use crate::limits::Limits;
use crate::model::{
    AvailabilityStream, Booking, BookingId, Event, EventDetail, EventId, EventPage, HoldRequest,
    ListEventsRequest, Performer, PerformerId, SearchRequest, SearchResults, SeatMap, Venue,
    VenueId,
};
use crate::store::Store;
use crate::ticketing::Ticketing;
use crate::{Catalog, rules, validate};

/// The ticketing service over a backend, the in-memory [`Store`] unless named. Cheap to
/// clone: clones share the backend.
pub struct Service<B: ?Sized = Store> {
    backend: Arc<B>,
    limits: Arc<Limits>,
}

impl<B: ?Sized> Clone for Service<B> {
    fn clone(&self) -> Self {
        Service {
            backend: Arc::clone(&self.backend),
            limits: Arc::clone(&self.limits),
        }
    }
}

impl<B: fmt::Debug + ?Sized> fmt::Debug for Service<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("backend", &self.backend)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Service<Store> {
    /// A service over a freshly generated dataset, with the real clock.
    pub fn generate(spec: DatasetSpec, limits: Limits) -> Self {
        Self::with_clock(Dataset::from_spec(spec), limits, Arc::new(SystemClock))
    }

    /// A service over `dataset`, reading time from `clock` (tests pass a manual clock).
    pub fn with_clock(dataset: Dataset, limits: Limits, clock: Arc<dyn Clock>) -> Self {
        let store = Store::new(Catalog::new(dataset), clock, &limits);
        Service::new(Arc::new(store), limits)
    }

    /// The store, for what is not part of `Ticketing` (the change feed, audits).
    pub fn store(&self) -> &Arc<Store> {
        &self.backend
    }
}

impl<B: Backend + ?Sized> Service<B> {
    /// The domain's rules over `backend`. `limits` must be the ones the backend was
    /// built with (hold TTL).
    pub fn new(backend: Arc<B>, limits: Limits) -> Self {
        Service {
            backend,
            limits: Arc::new(limits),
        }
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<B> {
        &self.backend
    }

    /// The limits every argument is checked against.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

#[async_trait]
impl<B: Backend + ?Sized + 'static> Ticketing for Service<B> {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        self.backend.event(id).await
    }

    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        let limit = validate::page_size(request.limit, &self.limits)?;
        validate::filter(&request.filter)?;
        let after = request
            .cursor
            .as_deref()
            .map(|raw| Cursor::parse(raw, &request.filter))
            .transpose()?;
        let (events, next) = self
            .backend
            .list_events(&request.filter, after, limit)
            .await?;
        Ok(EventPage {
            events,
            next_cursor: next.map(|c| c.encode(&request.filter)),
        })
    }

    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        let limit = validate::page_size(request.limit, &self.limits)?;
        validate::query(&request.query, &self.limits)?;
        validate::filter(&request.filter)?;
        let terms = query_terms(&request.query);
        if terms.is_empty() {
            return Err(rules::no_searchable_words());
        }
        let hits = self.backend.search(&terms, &request.filter, limit).await?;
        Ok(SearchResults { hits })
    }

    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        self.backend.event_detail(id).await
    }

    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        self.backend.venue(id).await
    }

    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        self.backend.performer(id).await
    }

    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        self.backend.seat_map(id).await
    }

    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        validate::hold(&request, &self.limits)?;
        self.backend.hold(&request).await
    }

    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        self.backend.booking(id).await
    }

    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        self.backend.confirm(id, expected_version).await
    }

    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        self.backend.cancel(id).await
    }

    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        self.backend
            .watch_availability(event_id, from_version)
            .await
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

    /// The availability checks in process, the service writing to itself for the lag
    /// check: the reference the transports' streams are held to.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn in_process_watch_conforms() {
        let spec = DatasetSpec {
            events: 2_000,
            seed: 7,
        };
        let service: Arc<dyn Ticketing> = Arc::new(Service::generate(spec, Limits::default()));
        let options = crate::conformance::Options {
            writer: Some(Arc::clone(&service)),
            ..Default::default()
        };
        crate::conformance::run_watch(service, spec, options).await;
    }

    /// The same rules over the store held as `dyn Backend`: the seam is object safe. Search
    /// is judged by behaviour here, so the check a database backend gets is itself shown
    /// to accept the reference's BM25 answers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn service_over_a_dyn_backend_conforms() {
        let spec = DatasetSpec {
            events: 500,
            seed: 11,
        };
        let limits = Limits::default();
        let store = Store::new(
            Catalog::new(Dataset::from_spec(spec)),
            Arc::new(SystemClock),
            &limits,
        );
        let backend: Arc<dyn Backend> = Arc::new(store);
        let service: Arc<dyn Ticketing> = Arc::new(Service::new(backend, limits));
        let options = crate::conformance::Options {
            search: crate::conformance::SearchCheck::Behaviour,
            ..Default::default()
        };
        crate::conformance::run_with(service, spec, options).await;
    }
}
