//! `GET /v1/events/{id}/availability/stream`: an event's live availability as
//! Server-Sent Events.
//!
//! Each message is one SSE event: `id:` the inventory version, `event:` the kind
//! (`change`, `snapshot`, `resync`) and `data:` the JSON of [`AvailabilityUpdate`] on one
//! line. A failure of the store after the stream started is one `event: error` whose
//! data is a problem document, and the stream ends; a `resync` ends it too. Idle streams
//! get a keep-alive comment every [`KeepAliveInterval`].
//!
//! Where to start: the `Last-Event-ID` header (what a browser's `EventSource` sends when
//! it reconnects) wins over the `from_version` query parameter, since on a reconnect the
//! query still holds the version the first connection started from. Either names the
//! last version the client saw; neither asks for a snapshot first. A malformed value of
//! either is a 400 even when the other would have been used.
//!
//! Each change's event (its `id:`, `event:` and `data:` lines) is built once per server
//! ([`SharedEvents`]) and copied to every subscriber's stream, instead of serialising the
//! same JSON for each of them.
//!
//! Backpressure: axum's `Sse` body pulls the next message from the domain stream only
//! when hyper asks for the next frame, i.e. as the socket drains. Nothing is queued
//! here, so a client that stops reading makes the store's per-subscriber buffer fill and
//! the domain stream ends with a resync. When the client disconnects hyper drops the
//! body, and with it the domain stream (the subscription).
//!
//! Shutdown: a response that never ends would hold the server's drain for its whole
//! grace, so [`crate::serve`] hands every stream a [`StreamsShutdown`] and the streams
//! end (cleanly, after the last whole message) as soon as the server starts shutting
//! down. A client then resumes from its last `id:` on another server.
//!
//! What is not here: the JSON model (`model::availability`) and the domain semantics
//! (`domain::Ticketing::watch_availability`).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use domain::{AvailabilityStream, EncodedChanges, EventId, SharedTicketing, Ticketing, UpdateKind};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiResult;
use crate::config::{Config, SSE_KEEP_ALIVE};
use crate::error::{ApiError, Problem, status_of};
use crate::extract::{Id, QueryParams};
use crate::model::AvailabilityUpdate;

/// The header a reconnecting client names its last seen version in (the SSE `id:`).
pub const LAST_EVENT_ID: &str = "last-event-id";

/// The SSE `event:` name of a failure after the stream started.
pub const ERROR_EVENT: &str = "error";

/// The media type of the stream.
pub const EVENT_STREAM: &str = "text/event-stream";

/// How often an idle stream sends a keep-alive comment (`:` and a blank line), so
/// proxies and clients can tell a quiet event from a dead connection. Zero sends none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAliveInterval(pub Duration);

impl Default for KeepAliveInterval {
    fn default() -> Self {
        KeepAliveInterval(SSE_KEEP_ALIVE)
    }
}

/// The SSE events of one server's changes, each built once and shared by every stream.
pub type SharedEvents = Arc<EncodedChanges<Event>>;

/// Tells every availability stream of a server that it is shutting down; see the module
/// docs. Made by [`StreamsShutdown::new`] with its trigger.
#[derive(Debug, Clone)]
pub struct StreamsShutdown(tokio::sync::watch::Receiver<bool>);

/// Starts the shutdown of every stream holding the matching [`StreamsShutdown`] (when
/// called, or when dropped).
#[derive(Debug)]
pub struct ShutdownTrigger(tokio::sync::watch::Sender<bool>);

impl StreamsShutdown {
    /// A signal and the trigger that fires it.
    pub fn new() -> (ShutdownTrigger, StreamsShutdown) {
        let (sender, receiver) = tokio::sync::watch::channel(false);
        (ShutdownTrigger(sender), StreamsShutdown(receiver))
    }

    /// Resolves once shutdown has begun (or the trigger is gone).
    async fn begun(mut self) {
        // An error means the trigger was dropped: the server is gone, so stop too.
        let _ = self.0.wait_for(|stopping| *stopping).await;
    }
}

impl ShutdownTrigger {
    /// Ends every stream (each after the message it is sending).
    pub fn fire(&self) {
        self.0.send_replace(true);
    }
}

/// Query parameters of `GET /v1/events/{id}/availability/stream`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamParams {
    /// The last version the client has seen (an `id:` it received): the stream continues
    /// with the change after it, or with a snapshot if the server no longer retains
    /// what came after it. Absent: a snapshot of now first. A version ahead of the
    /// event's gets 400 naming `from_version`. Ignored (but still checked) when
    /// `Last-Event-ID` is sent.
    #[param(value_type = Option<u64>, minimum = 0)]
    from_version: Option<String>,
}

/// The route, with the keep-alive interval of `config`.
pub fn route(config: &Config) -> MethodRouter<SharedTicketing> {
    let keep_alive = config.sse_keep_alive;
    let shared = SharedEvents::default();
    get(
        move |api: State<SharedTicketing>,
              id: Id,
              query: QueryParams<StreamParams>,
              headers: HeaderMap,
              shutdown: Option<Extension<StreamsShutdown>>| {
            let shared = Arc::clone(&shared);
            let shutdown = shutdown.map(|s| s.0);
            stream(api, id, query, headers, keep_alive, shutdown, shared)
        },
    )
}

/// Live availability of one event, as Server-Sent Events.
///
/// # Errors
/// 400 for a non-numeric id, a malformed `from_version` or `Last-Event-ID`, or a version
/// ahead of the event's; 404 for an unknown event. Both before the stream starts.
#[utoipa::path(get, path = "/v1/events/{id}/availability/stream", operation_id = "watchAvailability", tag = "events",
    description = "Live availability of one event as Server-Sent Events (`curl -N`, or a \
        browser's `EventSource`). Each message is `id:` the inventory version, `event:` \
        `change`, `snapshot` or `resync`, and `data:` one line of JSON, an \
        `AvailabilityUpdate` (see the schema). The stream starts with a snapshot (unless \
        resuming from a retained version), then one change per committed inventory change, \
        versions +1 each. A subscriber more than 256 messages behind gets a `resync` naming \
        the last version sent, and the stream ends: reconnect with that version as \
        `Last-Event-ID` (EventSource does so by itself) to lose nothing. The server retains \
        the last 128 changes per event; resuming from an older version starts with a \
        snapshot. A store failure after the start is one `event: error` with a `Problem` as \
        data, then the end. Idle streams get a keep-alive comment (`:`) every 15 s by \
        default.",
    params(
        ("id" = u64, Path, description = "Event id"),
        StreamParams,
        ("Last-Event-ID" = Option<u64>, Header, minimum = 0,
            description = "The last version the client has seen, as `from_version`; wins over \
                `from_version` when both are sent (a reconnecting EventSource sends it while its \
                URL still holds the first version). Decimal digits only."),
    ),
    responses(
        (status = 200, description = "The stream: `id:`/`event:`/`data:` messages and keep-alive comments, until a `resync` or `error` event or the client leaves",
            content_type = "text/event-stream", body = String,
            example = json!("id: 41\nevent: snapshot\ndata: {\"event_id\":1,\"kind\":\"snapshot\",\"version\":41,\"sections\":[{\"section_id\":0,\"available\":118}],\"seats\":[],\"committed_at\":\"2027-05-01T18:00:00.000001Z\"}\n\n:\n\nid: 42\nevent: change\ndata: {\"event_id\":1,\"kind\":\"change\",\"version\":42,\"sections\":[{\"section_id\":0,\"available\":116}],\"seats\":[{\"seat_id\":10,\"state\":\"held\"},{\"seat_id\":11,\"state\":\"held\"}],\"committed_at\":\"2027-05-01T18:00:03.250Z\"}\n\n")),
        (status = 400, description = "Bad id, from_version or Last-Event-ID, or a version ahead of the event's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stream(
    State(api): State<SharedTicketing>,
    Id(id): Id,
    QueryParams(params): QueryParams<StreamParams>,
    headers: HeaderMap,
    keep_alive: KeepAliveInterval,
    shutdown: Option<StreamsShutdown>,
    shared: SharedEvents,
) -> ApiResult<Response> {
    // Both are checked, so a malformed value never passes unnoticed behind the other.
    let from_query = parse_version("from_version", params.from_version.as_deref())?;
    let from_header = match headers.get(LAST_EVENT_ID) {
        None => None,
        Some(value) => {
            let text = value.to_str().map_err(|_| bad_version(LAST_EVENT_ID, ""))?;
            parse_version(LAST_EVENT_ID, Some(text))?
        }
    };
    let updates = api
        .watch_availability(EventId(id), from_header.or(from_query))
        .await?;
    let stop: Pin<Box<dyn Future<Output = ()> + Send>> = match shutdown {
        Some(shutdown) => Box::pin(shutdown.begun()),
        None => Box::pin(futures::future::pending()),
    };
    let sse = Sse::new(events(updates, shared).take_until(stop));
    let response = if keep_alive.0.is_zero() {
        sse.into_response()
    } else {
        sse.keep_alive(KeepAlive::new().interval(keep_alive.0))
            .into_response()
    };
    Ok(response)
}

/// An optional version in decimal digits only (no sign, no spaces), as `id:` sends it.
fn parse_version(field: &str, raw: Option<&str>) -> Result<Option<u64>, ApiError> {
    raw.map(|v| {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_version(field, v));
        }
        v.parse::<u64>().map_err(|_| bad_version(field, v))
    })
    .transpose()
}

fn bad_version(field: &str, raw: &str) -> ApiError {
    ApiError::new(domain::Error::invalid_argument(
        field,
        format!("must be a version: decimal digits up to 18446744073709551615, got {raw:?}"),
    ))
}

/// The SSE events of `updates`, ending after a resync or a failure, each change's event
/// taken from `shared` when another stream built it already. The domain stream is
/// dropped as soon as it has nothing more to say, releasing the subscription.
fn events(
    updates: AvailabilityStream,
    shared: SharedEvents,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold(Some(updates), move |state| {
        let shared = Arc::clone(&shared);
        async move {
            let mut updates = state?;
            match updates.next().await? {
                Ok(update) => {
                    let last = update.kind == UpdateKind::Resync;
                    let event = shared
                        .get_or_encode(&update, |u| Ok::<_, Infallible>(update_event(u.clone())));
                    Some((event, (!last).then_some(updates)))
                }
                Err(error) => Some((Ok(error_event(&error)), None)),
            }
        }
    })
}

/// One message: `id:` version, `event:` kind, `data:` its JSON.
fn update_event(update: domain::AvailabilityUpdate) -> Event {
    let event = Event::default()
        .id(update.version.to_string())
        .event(update.kind.as_str());
    match serde_json::to_string(&AvailabilityUpdate::from(update)) {
        Ok(json) => event.data(json),
        // Encoding plain numbers and strings cannot fail; if it ever did, say so in-band.
        Err(e) => error_event(&domain::Error::internal(format!(
            "cannot encode an availability update: {e}"
        ))),
    }
}

/// A failure after the stream started: `event: error` with the problem document (no
/// `id:`, so a reconnecting client still names the last version it got).
fn error_event(error: &domain::Error) -> Event {
    let problem = Problem::from_error(status_of(error), error);
    let data = serde_json::to_string(&problem)
        .unwrap_or_else(|_| format!("{{\"code\":\"{}\"}}", error.code().as_str()));
    Event::default().event(ERROR_EVENT).data(data)
}

#[cfg(test)]
mod tests {
    use domain::{SeatChange, SeatId, SeatState, SectionCount};
    use http_body_util::BodyExt;

    use super::*;

    fn updates() -> Vec<domain::AvailabilityUpdate> {
        [
            UpdateKind::Snapshot,
            UpdateKind::Change,
            UpdateKind::Change,
            UpdateKind::Resync,
        ]
        .into_iter()
        .zip(4..)
        .map(|(kind, version)| domain::AvailabilityUpdate {
            event_id: EventId(3),
            kind,
            version,
            sections: vec![SectionCount {
                section_id: 1,
                available: 50,
            }],
            seats: vec![SeatChange {
                seat_id: SeatId(8),
                state: SeatState::Held,
            }],
            committed_at: chrono::DateTime::from_timestamp_micros(1_800_000_000_000_001)
                .unwrap_or_default(),
        })
        .collect()
    }

    async fn body_of(
        events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static,
    ) -> String {
        let body = Sse::new(events).into_response().into_body();
        let bytes = body.collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn shared_events_are_byte_identical_to_events_built_per_subscriber() {
        let alone = futures::stream::iter(updates().into_iter().map(|u| Ok(update_event(u))));
        let expected = body_of(alone).await;
        assert!(expected.contains("event: change"), "{expected}");
        let shared = SharedEvents::default();
        // Several subscribers of the same changes: the first builds, the others share.
        for _subscriber in 0..3 {
            let updates = futures::stream::iter(updates().into_iter().map(Ok)).boxed();
            let got = body_of(events(updates, Arc::clone(&shared))).await;
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn versions_are_decimal_digits_only() {
        assert_eq!(parse_version("v", None).unwrap(), None);
        assert_eq!(parse_version("v", Some("0")).unwrap(), Some(0));
        assert_eq!(parse_version("v", Some("0042")).unwrap(), Some(42));
        assert_eq!(
            parse_version("v", Some("18446744073709551615")).unwrap(),
            Some(u64::MAX)
        );
        for bad in [
            "",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1.0",
            "x",
            "18446744073709551616",
        ] {
            let error = parse_version("v", Some(bad)).unwrap_err();
            assert_eq!(
                error.status(),
                axum::http::StatusCode::BAD_REQUEST,
                "{bad:?}"
            );
        }
    }
}
