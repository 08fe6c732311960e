//! `Client`: `domain::Ticketing` over this crate's GraphQL endpoint.
//!
//! One query document per operation ([`documents`]), selecting exactly the fields the
//! domain type needs, with variables; response shapes and their conversions in
//! [`model`]; `extensions.code` mapped back to the identical domain error. With
//! automatic persisted queries on, it sends only the document's SHA-256 and sends the
//! text once, when the server asks.
//!
//! Every exchange goes through a netkit `HttpTransport`: by default `ReqwestTransport`
//! (pooled connections, the `ClientConfig` timeouts, responses capped at 16 MiB); a
//! caller may pass its own, e.g. one that counts the bytes it moves.
//!
//! `watch_availability` is the exception: a subscription over WebSocket with the
//! graphql-transport-ws protocol ([`ws`]), one connection per watch ([`watch`]), on the
//! same URL with `ws://`, or `wss://` through netkit's TLS connector when the
//! `ClientConfig` has TLS (tokio-tungstenite over the stream it is handed).

pub mod documents;
pub mod model;
pub mod watch;
pub mod ws;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use domain::{
    AvailabilityStream, Booking, BookingId, Error, Event, EventDetail, EventId, EventPage,
    HoldRequest, ListEventsRequest, Performer, PerformerId, Result, SearchRequest, SearchResults,
    SeatMap, Ticketing, Venue, VenueId,
};
use http::{Method, Uri, header};
use netkit::ClientConfig;
use netkit::http_client::{HttpTransport, ReqwestTransport};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::from_graphql;

/// A document and its APQ hash.
#[derive(Debug)]
struct Document {
    text: String,
    sha256: String,
}

/// A GraphQL client for one server. Cheap to clone; clones share the transport (and so
/// its connection pool).
#[derive(Clone)]
pub struct Client {
    transport: Arc<dyn HttpTransport>,
    endpoint: Uri,
    persisted_queries: bool,
    documents: Arc<HashMap<&'static str, Document>>,
    websocket: Arc<ws::Target>,
    /// `Authorization: Bearer ...` on every request, when set.
    bearer: Option<http::HeaderValue>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("persisted_queries", &self.persisted_queries)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the endpoint at `endpoint` (e.g. `http://127.0.0.1:8081/graphql`)
    /// with the default [`ClientConfig`].
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` if the URL is not http(s); `INTERNAL` if the HTTP stack cannot
    /// be set up.
    pub fn new(endpoint: &str) -> Result<Self> {
        Self::with_config(endpoint, &ClientConfig::default())
    }

    /// A client for `endpoint` over netkit's reqwest transport with `config`'s timeouts
    /// and response-size limit.
    ///
    /// # Errors
    /// As [`Client::new`].
    pub fn with_config(endpoint: &str, config: &ClientConfig) -> Result<Self> {
        let mut client = Self::with_transport(endpoint, Arc::new(ReqwestTransport::new(config)?))?;
        let mut websocket = ws::Target::new(
            &client.endpoint,
            config.connect_timeout,
            config.max_response_bytes,
        )?;
        websocket.tls = config
            .tls
            .as_ref()
            .map(|tls| tls.connector(netkit::tls::ALPN_HTTP1));
        client.websocket = Arc::new(websocket);
        Ok(client)
    }

    /// A client for `endpoint` sending every exchange through `transport` (e.g. one
    /// wrapping [`ReqwestTransport`] to count bytes, or one answering from memory);
    /// watches open their WebSockets with the default [`ClientConfig`]'s connect timeout
    /// and response-size limit.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` if the URL is not http(s).
    pub fn with_transport(endpoint: &str, transport: Arc<dyn HttpTransport>) -> Result<Self> {
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(Error::invalid_argument(
                "endpoint",
                format!("must start with http:// or https://, got {endpoint:?}"),
            ));
        }
        let endpoint = endpoint.parse::<Uri>().map_err(|e| {
            Error::invalid_argument("endpoint", format!("not a URL: {endpoint:?}: {e}"))
        })?;
        let documents = documents::all()
            .into_iter()
            .map(|(name, text)| {
                let sha256 = format!("{:x}", Sha256::digest(text.as_bytes()));
                (name, Document { text, sha256 })
            })
            .collect();
        let defaults = ClientConfig::default();
        let websocket = ws::Target::new(
            &endpoint,
            defaults.connect_timeout,
            defaults.max_response_bytes,
        )?;
        Ok(Client {
            transport,
            endpoint,
            persisted_queries: false,
            documents: Arc::new(documents),
            websocket: Arc::new(websocket),
            bearer: None,
        })
    }

    /// This client, sending `Authorization: Bearer <token>` with every request (a token
    /// from `quartet token`; subscriptions are public and go without it).
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

    /// Turns automatic persisted queries on or off (off by default).
    #[must_use]
    pub fn with_persisted_queries(mut self, on: bool) -> Self {
        self.persisted_queries = on;
        self
    }

    async fn post(&self, body: &Value) -> Result<Value> {
        let body = serde_json::to_vec(body).map_err(|e| Error::internal(e.to_string()))?;
        let mut request = http::Request::builder()
            .method(Method::POST)
            .uri(self.endpoint.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json");
        if let Some(bearer) = &self.bearer {
            request = request.header(header::AUTHORIZATION, bearer.clone());
        }
        let request = request
            .body(Bytes::from(body))
            .map_err(|e| Error::internal(format!("building the request failed: {e}")))?;
        let response = self.transport.send(request).await?;
        let status = response.status();
        serde_json::from_slice(response.body()).map_err(|e| {
            Error::internal(format!(
                "HTTP {status}: the response is not GraphQL JSON: {e}"
            ))
        })
    }

    /// Runs operation `name` and returns `data.<field>`, or `None` when it is null.
    async fn run<T: DeserializeOwned>(
        &self,
        name: &str,
        variables: Value,
        field: &str,
    ) -> Result<Option<T>> {
        let document = self
            .documents
            .get(name)
            .ok_or_else(|| Error::internal(format!("no document for {name}")))?;
        let mut body = json!({"operationName": name, "variables": variables});
        let mut response = if self.persisted_queries {
            body["extensions"] =
                json!({"persistedQuery": {"version": 1, "sha256Hash": document.sha256}});
            let first = self.post(&body).await?;
            if first["errors"][0]["message"] == "PersistedQueryNotFound" {
                body["query"] = json!(document.text);
                self.post(&body).await?
            } else {
                first
            }
        } else {
            body["query"] = json!(document.text);
            self.post(&body).await?
        };
        if let Some(error) = response["errors"].as_array().and_then(|e| e.first()) {
            return Err(from_graphql(error));
        }
        let value = response["data"][field].take();
        if value.is_null() {
            return Ok(None);
        }
        serde_json::from_value(value).map(Some).map_err(|e| {
            Error::internal(format!(
                "{name}: the response does not match the query: {e}"
            ))
        })
    }

    async fn required<T: DeserializeOwned>(
        &self,
        name: &str,
        variables: Value,
        field: &str,
    ) -> Result<T> {
        self.run(name, variables, field)
            .await?
            .ok_or_else(|| Error::internal(format!("{name}: {field} is null")))
    }
}

fn filter(f: &domain::EventFilter) -> Value {
    json!({
        "category": f.category.map(|c| c.as_str().to_uppercase()),
        "city": f.city,
        "from": f.from,
        "to": f.to,
    })
}

/// `first` for a page size: GraphQL `Int` is 32-bit, so anything larger is sent as the
/// largest `Int` (and refused by the server's limit like any page over 100).
fn first(limit: Option<u32>) -> Option<i32> {
    limit.map(|n| i32::try_from(n).unwrap_or(i32::MAX))
}

#[async_trait]
impl Ticketing for Client {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        let event: Option<model::Event> = self
            .run("GetEvent", json!({"id": id.to_string()}), "event")
            .await?;
        event
            .ok_or_else(|| Error::not_found("event", id))?
            .try_into()
    }

    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        let variables = json!({
            "first": first(request.limit),
            "after": request.cursor,
            "filter": filter(&request.filter),
        });
        let connection: model::EventConnection =
            self.required("ListEvents", variables, "events").await?;
        connection.try_into()
    }

    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        let variables = json!({
            "query": request.query,
            "filter": filter(&request.filter),
            "first": first(request.limit),
        });
        let hits: Vec<model::SearchHit> = self
            .required("SearchEvents", variables, "searchEvents")
            .await?;
        Ok(SearchResults {
            hits: hits
                .into_iter()
                .map(|h| {
                    Ok(domain::SearchHit {
                        event: h.event.try_into()?,
                        score: h.score,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }

    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        let detail: Option<model::EventDetail> = self
            .run("GetEventDetail", json!({"id": id.to_string()}), "event")
            .await?;
        detail
            .ok_or_else(|| Error::not_found("event", id))?
            .try_into()
    }

    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        let venue: Option<model::Venue> = self
            .run("GetVenue", json!({"id": id.to_string()}), "venue")
            .await?;
        venue
            .ok_or_else(|| Error::not_found("venue", id))?
            .try_into()
    }

    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        let performer: Option<model::Performer> = self
            .run("GetPerformer", json!({"id": id.to_string()}), "performer")
            .await?;
        performer
            .ok_or_else(|| Error::not_found("performer", id))?
            .try_into()
    }

    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        let event: Option<model::EventSeatMap> = self
            .run("GetSeatMap", json!({"id": id.to_string()}), "event")
            .await?;
        event
            .ok_or_else(|| Error::not_found("event", id))?
            .seat_map
            .try_into()
    }

    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        let input = json!({
            "eventId": request.event_id.to_string(),
            "seatIds": request.seat_ids.iter().map(|s| s.0).collect::<Vec<_>>(),
            "customer": {"name": request.customer.name, "email": request.customer.email},
            "idempotencyKey": request.idempotency_key,
        });
        let booking: model::Booking = self
            .required("HoldSeats", json!({"input": input}), "holdSeats")
            .await?;
        booking.try_into()
    }

    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        let booking: Option<model::Booking> = self
            .run("GetBooking", json!({"id": id.to_string()}), "booking")
            .await?;
        booking
            .ok_or_else(|| Error::not_found("booking", id))?
            .try_into()
    }

    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        let variables = json!({"id": id.to_string(), "expectedVersion": expected_version});
        let booking: model::Booking = self
            .required("ConfirmBooking", variables, "confirmBooking")
            .await?;
        booking.try_into()
    }

    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        watch::watch(&self.websocket, event_id, from_version).await
    }

    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        let booking: model::Booking = self
            .required(
                "CancelBooking",
                json!({"id": id.to_string()}),
                "cancelBooking",
            )
            .await?;
        booking.try_into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_endpoints_are_accepted() {
        for bad in [
            "ftp://example.org/graphql",
            "127.0.0.1:8081/graphql",
            "http://a b",
        ] {
            let error = Client::new(bad).unwrap_err();
            assert_eq!(error.code(), domain::ErrorCode::InvalidArgument, "{bad}");
        }
        assert!(Client::new("http://127.0.0.1:8081/graphql").is_ok());
    }
}
