//! `Client`: `domain::Ticketing` over this crate's HTTP API.
//!
//! It builds each request the way the OpenAPI document describes, sends `If-Match` and
//! `Idempotency-Key`, and maps problem+json back to the exact `domain::Error` the server
//! started from, so callers cannot tell it from the in-process service.
//!
//! Every exchange goes through a `netkit::http_client::HttpTransport`: by default a
//! `ReqwestTransport` (one connection pool per client, the timeouts and the response
//! size cap of a `netkit::ClientConfig`), or any transport the caller brings with
//! [`Client::with_transport`] (a wrapper that counts bytes, a test double).

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use domain::{
    AvailabilityStream, Booking, BookingId, Error, Event, EventDetail, EventId, EventPage,
    HoldRequest, ListEventsRequest, Performer, PerformerId, Result, SearchRequest, SearchResults,
    SeatMap, Ticketing, Venue, VenueId,
};
use http::{Method, StatusCode, header};
use netkit::ClientConfig;
use netkit::http_client::{HttpTransport, ReqwestTransport};
use reqwest::Url;
use serde::de::DeserializeOwned;

use crate::error::Problem;
use crate::extract::etag;
use crate::model;

mod event_size;
mod watch;
pub use watch::SILENCE_LIMIT;

/// The media type of every request and response body.
const JSON: &str = "application/json";

/// A REST client for one server. Cheap to clone; clones share the transport (and so
/// the connection pool).
#[derive(Clone)]
pub struct Client {
    transport: Arc<dyn HttpTransport>,
    base: Url,
    /// Availability streams bypass `transport` (see `client/watch.rs`).
    streams: watch::Streams,
    /// `Authorization: Bearer ...` on every request, when set.
    bearer: Option<http::HeaderValue>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:8080`), with the
    /// default client settings.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` if the URL is not http(s); `INTERNAL` if the HTTP stack cannot
    /// be set up.
    pub fn new(base_url: &str) -> Result<Self> {
        Self::with_config(base_url, &ClientConfig::default())
    }

    /// A client for `base_url` that gives up on connecting after
    /// `config.connect_timeout` and on a request after `config.request_timeout`, and
    /// accepts responses up to `config.max_response_bytes`.
    ///
    /// # Errors
    /// As [`Client::new`].
    pub fn with_config(base_url: &str, config: &ClientConfig) -> Result<Self> {
        let client = Self::with_transport(base_url, Arc::new(ReqwestTransport::new(config)?))?;
        Ok(Client {
            streams: watch::Streams::new(config)?,
            ..client
        })
    }

    /// A client for `base_url` that sends every exchange through `transport`, except
    /// availability streams, which no whole-body transport can carry: those are read
    /// with the default client settings (see [`Ticketing::watch_availability`]).
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` if the URL is not http(s); `INTERNAL` if the HTTP stack for
    /// streams cannot be set up.
    pub fn with_transport(base_url: &str, transport: Arc<dyn HttpTransport>) -> Result<Self> {
        let base = Url::parse(base_url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
            .ok_or_else(|| {
                Error::invalid_argument(
                    "base_url",
                    format!("must be an http:// or https:// URL, got {base_url:?}"),
                )
            })?;
        Ok(Client {
            transport,
            base,
            streams: watch::Streams::new(&ClientConfig::default())?,
            bearer: None,
        })
    }

    /// This client, sending `Authorization: Bearer <token>` with every request (a token
    /// from `quartet token`; availability streams are public and go without it).
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` if the token cannot be a header value.
    pub fn with_bearer(mut self, token: &str) -> Result<Self> {
        let mut value = http::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| Error::invalid_argument("token", "must be visible ASCII"))?;
        value.set_sensitive(true);
        self.bearer = Some(value);
        Ok(self)
    }

    /// A request for `path` (after the base URL's own path) with `query` parameters.
    fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
    ) -> http::request::Builder {
        let mut url = self.base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let builder = http::Request::builder()
            .method(method)
            .uri(url.as_str())
            .header(header::ACCEPT, JSON);
        match &self.bearer {
            Some(bearer) => builder.header(header::AUTHORIZATION, bearer.clone()),
            None => builder,
        }
    }

    /// Sends a request (with a JSON `body`, if not empty) and decodes a 2xx body as `T`,
    /// or a problem as its domain error.
    async fn call<T: DeserializeOwned>(
        &self,
        request: http::request::Builder,
        body: Vec<u8>,
    ) -> Result<T> {
        let request = if body.is_empty() {
            request
        } else {
            request.header(header::CONTENT_TYPE, JSON)
        };
        let request = request
            .body(Bytes::from(body))
            .map_err(|e| Error::internal(format!("cannot build the request: {e}")))?;
        let response = self.transport.send(request).await?;
        let status = response.status();
        let body = response.into_body();
        if status.is_success() {
            serde_json::from_slice(&body).map_err(|e| {
                Error::internal(format!(
                    "HTTP {status}: response body is not the documented JSON: {e}"
                ))
            })
        } else {
            Err(problem_to_error(status, &body))
        }
    }

    /// `GET path`, decoded as `T`.
    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call(self.request(Method::GET, path, &[]), Vec::new())
            .await
    }
}

/// The domain error a non-2xx response describes.
fn problem_to_error(status: StatusCode, body: &[u8]) -> Error {
    match serde_json::from_slice::<Problem>(body) {
        Ok(problem) => problem.into_error(),
        Err(_) => Error::internal(format!(
            "HTTP {status} without a problem document: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )),
    }
}

#[async_trait]
impl Ticketing for Client {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        let event: model::Event = self.get(&format!("/v1/events/{id}")).await?;
        Ok(event.into())
    }

    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        let mut params = Vec::new();
        if let Some(cursor) = request.cursor {
            params.push(("cursor", cursor));
        }
        if let Some(limit) = request.limit {
            params.push(("limit", limit.to_string()));
        }
        model::filter_to_query(&request.filter, &mut params);
        let request = self.request(Method::GET, "/v1/events", &params);
        let page: model::EventPage = self.call(request, Vec::new()).await?;
        Ok(page.into())
    }

    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        let mut params = vec![("q", request.query)];
        if let Some(limit) = request.limit {
            params.push(("limit", limit.to_string()));
        }
        model::filter_to_query(&request.filter, &mut params);
        let request = self.request(Method::GET, "/v1/events/search", &params);
        let results: model::SearchResults = self.call(request, Vec::new()).await?;
        Ok(results.into())
    }

    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        let detail: model::EventDetail = self.get(&format!("/v1/events/{id}/detail")).await?;
        Ok(detail.into())
    }

    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        let venue: model::Venue = self.get(&format!("/v1/venues/{id}")).await?;
        Ok(venue.into())
    }

    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        let performer: model::Performer = self.get(&format!("/v1/performers/{id}")).await?;
        Ok(performer.into())
    }

    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        let map: model::SeatMap = self.get(&format!("/v1/events/{id}/seats")).await?;
        Ok(map.into())
    }

    async fn hold_seats(&self, mut request: HoldRequest) -> Result<Booking> {
        let key = request.idempotency_key.take();
        let body = serde_json::to_vec(&model::HoldSeats::from(request))
            .map_err(|e| Error::internal(format!("cannot encode the hold: {e}")))?;
        let mut request = self.request(Method::POST, "/v1/bookings", &[]);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        let booking: model::Booking = self.call(request, body).await?;
        Ok(booking.into())
    }

    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        let booking: model::Booking = self.get(&format!("/v1/bookings/{id}")).await?;
        Ok(booking.into())
    }

    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        let request = self
            .request(Method::POST, &format!("/v1/bookings/{id}/confirm"), &[])
            .header(header::IF_MATCH, etag(expected_version));
        let booking: model::Booking = self.call(request, Vec::new()).await?;
        Ok(booking.into())
    }

    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        let request = self.request(Method::POST, &format!("/v1/bookings/{id}/cancel"), &[]);
        let booking: model::Booking = self.call(request, Vec::new()).await?;
        Ok(booking.into())
    }

    /// `GET /v1/events/{id}/availability/stream`, read as Server-Sent Events (see
    /// `client/watch.rs`): errors before the stream are `Err` here, a mid-stream failure
    /// is one `Err` item and then the end, and a resync is the last item.
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        self.open_availability_stream(event_id, from_version).await
    }
}
