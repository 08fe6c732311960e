//! `Client`: `domain::Ticketing` over this crate's HTTP API, with reqwest.
//!
//! It builds each request the way the OpenAPI document describes, sends `If-Match` and
//! `Idempotency-Key`, reuses connections (one pool per client), caps response bodies
//! (16 MiB by default), and maps problem+json back to the exact `domain::Error` the
//! server started from, so callers cannot tell it from the in-process service.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::SecondsFormat;
use domain::{
    Booking, BookingId, Error, Event, EventDetail, EventFilter, EventId, EventPage, HoldRequest,
    Limits, ListEventsRequest, Performer, PerformerId, Result, SearchRequest, SearchResults,
    SeatMap, Ticketing, Venue, VenueId,
};
use netkit::meter::PayloadMeter;
use reqwest::{Method, RequestBuilder, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::Problem;
use crate::extract::etag;
use crate::model;

/// A REST client for one server. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    max_response_bytes: usize,
    meter: Arc<PayloadMeter>,
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:8080`), with the
    /// default limits.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` if the URL is not http(s); `INTERNAL` if the HTTP stack cannot
    /// be set up.
    pub fn new(base_url: &str) -> Result<Self> {
        Self::with_limits(base_url, &Limits::default())
    }

    /// A client for `base_url` that accepts responses up to `limits.max_response_bytes`
    /// and gives up on a request after `limits.request_timeout`.
    ///
    /// # Errors
    /// As [`Client::new`].
    pub fn with_limits(base_url: &str, limits: &Limits) -> Result<Self> {
        let base = base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::invalid_argument(
                "base_url",
                format!("must start with http:// or https://, got {base_url:?}"),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(limits.request_timeout)
            .tcp_nodelay(true)
            .pool_max_idle_per_host(1024)
            .build()
            .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base,
            max_response_bytes: limits.max_response_bytes,
            meter: Arc::default(),
        })
    }

    /// Payload bytes (JSON bodies) sent and received so far.
    pub fn meter(&self) -> &Arc<PayloadMeter> {
        &self.meter
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// Sends a request (with `body`, if not empty) and decodes a 2xx body as `T`, or a
    /// problem as its domain error.
    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder, body: Vec<u8>) -> Result<T> {
        let sent = body.len();
        let captured = self.meter.capturing().then(|| body.clone());
        let request = if body.is_empty() {
            request
        } else {
            request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body)
        };
        let response = request
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| Error::internal(format!("request failed: {e}")))?;
        let status = response.status();
        let body =
            netkit::http_client::read_body_limited(response, self.max_response_bytes).await?;
        match captured {
            Some(request) => self.meter.record(&request, &body),
            None => self.meter.record_sizes(sent, body.len()),
        }
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

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn filter_params(filter: &EventFilter, params: &mut Vec<(&'static str, String)>) {
    if let Some(c) = filter.category {
        params.push(("category", c.as_str().to_owned()));
    }
    if let Some(city) = &filter.city {
        params.push(("city", city.clone()));
    }
    if let Some(from) = filter.from {
        params.push(("from", time(from)));
    }
    if let Some(to) = filter.to {
        params.push(("to", time(to)));
    }
}

#[async_trait]
impl Ticketing for Client {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        let event: model::Event = self
            .call(
                self.request(Method::GET, &format!("/v1/events/{id}")),
                Vec::new(),
            )
            .await?;
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
        filter_params(&request.filter, &mut params);
        let page: model::EventPage = self
            .call(
                self.request(Method::GET, "/v1/events").query(&params),
                Vec::new(),
            )
            .await?;
        Ok(page.into())
    }

    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        let mut params = vec![("q", request.query)];
        if let Some(limit) = request.limit {
            params.push(("limit", limit.to_string()));
        }
        filter_params(&request.filter, &mut params);
        let results: model::SearchResults = self
            .call(
                self.request(Method::GET, "/v1/events/search")
                    .query(&params),
                Vec::new(),
            )
            .await?;
        Ok(results.into())
    }

    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        let detail: model::EventDetail = self
            .call(
                self.request(Method::GET, &format!("/v1/events/{id}/detail")),
                Vec::new(),
            )
            .await?;
        Ok(detail.into())
    }

    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        let venue: model::Venue = self
            .call(
                self.request(Method::GET, &format!("/v1/venues/{id}")),
                Vec::new(),
            )
            .await?;
        Ok(venue.into())
    }

    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        let performer: model::Performer = self
            .call(
                self.request(Method::GET, &format!("/v1/performers/{id}")),
                Vec::new(),
            )
            .await?;
        Ok(performer.into())
    }

    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        let map: model::SeatMap = self
            .call(
                self.request(Method::GET, &format!("/v1/events/{id}/seats")),
                Vec::new(),
            )
            .await?;
        Ok(map.into())
    }

    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        let body = model::HoldSeats {
            event_id: request.event_id.0,
            seat_ids: request.seat_ids.iter().map(|s| s.0).collect(),
            customer: request.customer.into(),
        };
        let body = serde_json::to_vec(&body)
            .map_err(|e| Error::internal(format!("cannot encode the hold: {e}")))?;
        let mut builder = self.request(Method::POST, "/v1/bookings");
        if let Some(key) = request.idempotency_key {
            builder = builder.header("Idempotency-Key", key);
        }
        let booking: model::Booking = self.call(builder, body).await?;
        Ok(booking.into())
    }

    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        let booking: model::Booking = self
            .call(
                self.request(Method::GET, &format!("/v1/bookings/{id}")),
                Vec::new(),
            )
            .await?;
        Ok(booking.into())
    }

    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        let builder = self
            .request(Method::POST, &format!("/v1/bookings/{id}/confirm"))
            .header(header::IF_MATCH, etag(expected_version));
        let booking: model::Booking = self.call(builder, Vec::new()).await?;
        Ok(booking.into())
    }

    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        let booking: model::Booking = self
            .call(
                self.request(Method::POST, &format!("/v1/bookings/{id}/cancel")),
                Vec::new(),
            )
            .await?;
        Ok(booking.into())
    }
}
