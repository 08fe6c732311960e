//! `Client::watch_availability`: reading `GET /v1/events/{id}/availability/stream`.
//!
//! Why not through `HttpTransport`: that seam moves whole bodies (it reads a response to
//! its end, within the request timeout), and an event stream has no end. So the stream
//! has its own reqwest client ([`Streams`]), built from the same `ClientConfig`: the
//! connect timeout and, per event, the response-size limit, but no overall timeout;
//! instead a stream silent for [`SILENCE_LIMIT`] (four of the server's default
//! keep-alive intervals) is given up. Everything before the stream (the URL, problem
//! documents mapped to the exact domain error) is the same as for the other calls.
//!
//! The body is decoded by `sse-stream`, pulled only as the caller pulls the returned
//! stream: nothing is queued here, so a caller that stops reading stops the socket, the
//! server's subscription falls behind, and the caller later reads a `resync`, after
//! which the stream ends. A transport failure, a silent connection, an oversized or
//! undecodable message, or an end without a resync is one `Err` item (UNAVAILABLE,
//! LIMIT_EXCEEDED or INTERNAL), then the end. An `error` event is its problem's domain
//! error, then the end. Dropping the stream closes the connection, which ends the
//! server's subscription.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use domain::{AvailabilityStream, AvailabilityUpdate, Error, EventId, Result, UpdateKind};
use futures::StreamExt;
use http::{HeaderValue, Method, header};
use netkit::ClientConfig;
use netkit::http_client::read_body_limited;
use sse_stream::{Sse, SseByteStream};

use super::{Client, problem_to_error};
use crate::error::Problem;
use crate::model;
use crate::routes::availability::{ERROR_EVENT, EVENT_STREAM};

/// How long a stream may stay silent (no message, no keep-alive comment) while the
/// caller waits before it is given up as dead: four times the server's default
/// keep-alive interval (`rest::config::SSE_KEEP_ALIVE`). A server configured with
/// longer keep-alives needs a client with a longer limit.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(60);

/// The HTTP client availability streams are read with; see the module docs.
#[derive(Debug, Clone)]
pub(super) struct Streams {
    client: reqwest::Client,
    /// The most one message may take, `ClientConfig::max_response_bytes`.
    max_event_bytes: usize,
}

impl Streams {
    /// A stream client with `config`'s connect timeout and size limit.
    ///
    /// # Errors
    /// `INTERNAL` if reqwest cannot build its client.
    pub(super) fn new(config: &ClientConfig) -> Result<Self> {
        let mut builder = reqwest::Client::builder();
        if let Some(tls) = &config.tls {
            // The same CA and ALPN as the request transport (netkit's `ReqwestTransport`).
            builder = builder
                .use_preconfigured_tls(tls.config_with_alpn(netkit::tls::ALPN_HTTP1))
                .https_only(true);
        }
        let client = builder
            .connect_timeout(config.connect_timeout)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| Error::internal(format!("building the stream client failed: {e}")))?;
        Ok(Streams {
            client,
            max_event_bytes: config.max_response_bytes,
        })
    }
}

impl Client {
    /// Opens the availability stream of `event_id`; see the module docs.
    ///
    /// # Errors
    /// The server's problem as its domain error (NOT_FOUND, INVALID_ARGUMENT naming
    /// `from_version`); `INTERNAL` if the server cannot be reached or answers with
    /// something other than an event stream.
    pub(super) async fn open_availability_stream(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        let query: Vec<(&str, String)> = from_version
            .map(|v| ("from_version", v.to_string()))
            .into_iter()
            .collect();
        let path = format!("/v1/events/{event_id}/availability/stream");
        let mut request = self
            .request(Method::GET, &path, &query)
            .body(Bytes::new())
            .map_err(|e| Error::internal(format!("cannot build the request: {e}")))?;
        request
            .headers_mut()
            .insert(header::ACCEPT, HeaderValue::from_static(EVENT_STREAM));
        let request = reqwest::Request::try_from(request.map(reqwest::Body::from))
            .map_err(|e| Error::internal(format!("building the request failed: {e}")))?;
        let response = self
            .streams
            .client
            .execute(request)
            .await
            // netkit's mapping: UNAVAILABLE for an unreachable server or a connection
            // ended under the request (the subscription may or may not have started).
            .map_err(|e| netkit::http_client::request_error("the request failed", &e))?;
        let status = response.status();
        if !status.is_success() {
            let body = read_body_limited(response, self.streams.max_event_bytes).await?;
            return Err(problem_to_error(status, &body));
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type.starts_with(EVENT_STREAM) {
            return Err(Error::internal(format!(
                "HTTP {status} with content-type {content_type:?}, not an event stream"
            )));
        }
        Ok(updates(response, self.streams.max_event_bytes))
    }
}

/// Why the body stopped before the decoder saw its end.
#[derive(Debug)]
enum BodyFailure {
    Transport(String),
    Silent,
    TooBig(usize),
}

impl fmt::Display for BodyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyFailure::Transport(cause) => write!(f, "reading the stream failed: {cause}"),
            BodyFailure::Silent => write!(
                f,
                "the stream was silent for {} s (no message, no keep-alive)",
                SILENCE_LIMIT.as_secs()
            ),
            BodyFailure::TooBig(max) => write!(f, "a message passed {max} bytes"),
        }
    }
}

impl std::error::Error for BodyFailure {}

impl BodyFailure {
    fn into_error(self) -> Error {
        match self {
            BodyFailure::TooBig(max) => Error::limit_exceeded("event size", max as u64),
            other => Error::unavailable(other.to_string()),
        }
    }
}

/// The response body as chunks, each read within [`SILENCE_LIMIT`] and no event past
/// `max_event_bytes`. Ends after the first failure.
fn chunks(
    response: reqwest::Response,
    max_event_bytes: usize,
) -> impl futures::Stream<Item = std::result::Result<Bytes, BodyFailure>> + Send {
    let limit = super::event_size::EventSizeLimit::new(max_event_bytes);
    futures::stream::unfold(Some((response, limit)), move |state| async move {
        let (mut response, mut limit) = state?;
        // The timer runs only while the caller waits for the next message: a caller that
        // pauses is not mistaken for a dead server (tokio's `timeout` polls the read first).
        let failure = match tokio::time::timeout(SILENCE_LIMIT, response.chunk()).await {
            Ok(Ok(None)) => return None,
            Ok(Ok(Some(chunk))) if limit.admit(&chunk) => {
                return Some((Ok(chunk), Some((response, limit))));
            }
            Ok(Ok(Some(_))) => BodyFailure::TooBig(max_event_bytes),
            Ok(Err(e)) => BodyFailure::Transport(chain(&e)),
            Err(_) => BodyFailure::Silent,
        };
        Some((Err(failure), None))
    })
}

/// The decoded messages of `response`; see the module docs.
fn updates(response: reqwest::Response, max_event_bytes: usize) -> AvailabilityStream {
    let events = Box::pin(SseByteStream::new(chunks(response, max_event_bytes)));
    futures::stream::unfold(Some(events), |state| async move {
        let mut events = state?;
        loop {
            let event = match events.next().await {
                Some(Ok(event)) => event,
                Some(Err(e)) => return Some((Err(decoder_error(e)), None)),
                None => {
                    let ended = Error::unavailable("the server ended the stream without a resync");
                    return Some((Err(ended), None));
                }
            };
            match decode(&event) {
                Ok(None) => {}
                Ok(Some(update)) => {
                    let last = update.kind == UpdateKind::Resync;
                    return Some((Ok(update), (!last).then_some(events)));
                }
                Err(e) => return Some((Err(e), None)),
            }
        }
    })
    .boxed()
}

/// The domain error for a decoder failure: ours (transport, silence, size) as such,
/// anything else (bad UTF-8 in a field) as UNAVAILABLE.
fn decoder_error(error: sse_stream::Error) -> Error {
    match error {
        sse_stream::Error::Body(cause) => match cause.downcast::<BodyFailure>() {
            Ok(failure) => failure.into_error(),
            Err(other) => Error::unavailable(format!("reading the stream failed: {other}")),
        },
        other => Error::unavailable(format!("the stream is not valid SSE: {other}")),
    }
}

/// One SSE event as a message (`Ok(None)` for one to skip: no data, or a name this
/// client does not know, as an `EventSource` ignores events it has no listener for).
fn decode(event: &Sse) -> Result<Option<AvailabilityUpdate>> {
    let Some(data) = event.data.as_deref() else {
        return Ok(None);
    };
    let name = event.event.as_deref().unwrap_or("message");
    if name == ERROR_EVENT {
        let problem: Problem = serde_json::from_str(data).map_err(|e| {
            Error::internal(format!("an error event without a problem document: {e}"))
        })?;
        return Err(problem.into_error());
    }
    if !UpdateKind::ALL.iter().any(|kind| kind.as_str() == name) {
        return Ok(None);
    }
    let update: model::AvailabilityUpdate = serde_json::from_str(data).map_err(|e| {
        Error::internal(format!(
            "a {name} event whose data is not the documented JSON: {e}"
        ))
    })?;
    let update = AvailabilityUpdate::from(update);
    let id_agrees = event
        .id
        .as_deref()
        .is_none_or(|id| id == update.version.to_string());
    if update.kind.as_str() != name || !id_agrees {
        return Err(Error::internal(format!(
            "event {name:?} id {:?} carries a {} at version {}",
            event.id, update.kind, update.version
        )));
    }
    Ok(Some(update))
}

/// `e` and its sources, "outer: inner: root", so "connection refused" is not lost behind
/// reqwest's "error sending request".
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, id: Option<&str>, data: &str) -> Sse {
        Sse {
            event: Some(name.to_owned()),
            data: Some(data.to_owned()),
            id: id.map(str::to_owned),
            retry: None,
        }
    }

    const CHANGE: &str = r#"{"event_id":1,"kind":"change","version":5,"sections":[],"seats":[{"seat_id":2,"state":"sold"}],"committed_at":"2027-05-01T18:00:00.000001Z"}"#;

    #[test]
    fn messages_decode_and_unknown_events_are_skipped() {
        let update = decode(&event("change", Some("5"), CHANGE))
            .unwrap()
            .unwrap();
        assert_eq!((update.kind, update.version), (UpdateKind::Change, 5));
        assert_eq!(decode(&event("gossip", None, "{}")).unwrap(), None);
        let comment_only = Sse::default().id("5");
        assert_eq!(decode(&comment_only).unwrap(), None);
    }

    #[test]
    fn inconsistent_or_broken_messages_are_internal_errors() {
        for bad in [
            event("snapshot", Some("5"), CHANGE),
            event("change", Some("6"), CHANGE),
            event("change", Some("5"), "{\"event_id\":1}"),
            event("error", None, "not a problem"),
        ] {
            let error = decode(&bad).unwrap_err();
            assert_eq!(error.code(), domain::ErrorCode::Internal, "{bad:?}");
        }
    }

    #[test]
    fn an_error_event_is_its_problem() {
        let original = Error::unavailable("the store went away");
        let problem = Problem::from_error(crate::error::status_of(&original), &original);
        let data = serde_json::to_string(&problem).unwrap();
        assert_eq!(decode(&event("error", None, &data)).unwrap_err(), original);
    }
}
