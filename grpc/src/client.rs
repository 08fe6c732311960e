//! `Client`: `domain::Ticketing` over gRPC. Converts messages, maps statuses and their
//! details back to the identical domain errors, sends the idempotency key as
//! `request_id`, and accepts responses up to `ClientConfig::max_response_bytes`.
//!
//! The client is generic over its channel: [`Client::connect`] and
//! [`Client::connect_with`] open a tonic `Channel` (one HTTP/2 connection, many
//! concurrent calls), and [`Client::with_channel`] takes any
//! `tonic::client::GrpcService`, e.g. a `Channel` behind a tower layer that counts bytes
//! or adds headers, installed by whoever builds the client.

use std::net::SocketAddr;

use async_trait::async_trait;
use domain::{
    Booking, BookingId, Error, Event, EventDetail, EventId, EventPage, HoldRequest,
    ListEventsRequest, Performer, PerformerId, Result, SearchRequest, SearchResults, SeatMap,
    Ticketing, Venue, VenueId,
};
use netkit::ClientConfig;
use netkit::config::Compression;
use netkit::config::HTTP2_KEEPALIVE_INTERVAL;
use tonic::client::GrpcService;
use tonic::codec::CompressionEncoding;
use tonic::codegen::{Body, Bytes, StdError};
use tonic::transport::{Channel, Endpoint};

use crate::error::from_status;
use crate::error::from_stream_status;
use crate::pb::ticketing_client::TicketingClient;
use crate::{convert, pb};
use domain::{AvailabilityStream, AvailabilityUpdate};
use futures::StreamExt;

/// A gRPC client over the channel `T` (by default a tonic `Channel`). Cheap to clone
/// when `T` is; clones share the connection.
#[derive(Debug, Clone)]
pub struct Client<T = Channel> {
    inner: TicketingClient<T>,
    /// `authorization: Bearer ...` metadata on every unary call, when set.
    bearer: Option<tonic::metadata::AsciiMetadataValue>,
}

/// A response the server should never send (a missing field, an unknown enum value).
fn malformed(e: &Error) -> Error {
    Error::internal(format!("malformed response from the server: {e}"))
}

impl Client<Channel> {
    /// A client for the server at `addr`, with the default settings and no compression.
    ///
    /// # Errors
    /// `UNAVAILABLE` if the server cannot be reached (see `error::from_status` for how
    /// calls map their failures).
    pub async fn connect(addr: SocketAddr) -> Result<Self> {
        Self::connect_with(addr, &ClientConfig::default()).await
    }

    /// A client for `addr` that connects within `config.connect_timeout`, gives up on a
    /// call after `config.request_timeout`, pings an idle connection every
    /// `netkit::config::HTTP2_KEEPALIVE_INTERVAL`, and otherwise behaves as
    /// [`Client::with_channel`] describes.
    ///
    /// # Errors
    /// `INTERNAL` if the address is not usable or TLS fails; `UNAVAILABLE` if the server
    /// cannot be reached.
    pub async fn connect_with(addr: SocketAddr, config: &ClientConfig) -> Result<Self> {
        let channel = channel(addr, config).await?;
        Ok(Self::with_channel(channel, config))
    }
}

/// A connected `Channel` to `addr` with `config`'s connect and call timeouts, TCP_NODELAY
/// and HTTP/2 keep-alive pings: what [`Client::connect_with`] uses, for callers that put
/// tower layers around it before [`Client::with_channel`].
///
/// # Errors
/// `INTERNAL` if the address is not usable or TLS fails; `UNAVAILABLE` if the server
/// cannot be reached.
pub async fn channel(addr: SocketAddr, config: &ClientConfig) -> Result<Channel> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| Error::internal(format!("bad address {addr}: {e}")))?
        .tcp_nodelay(true)
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .http2_keep_alive_interval(HTTP2_KEEPALIVE_INTERVAL);
    let Some(tls) = &config.tls else {
        return endpoint
            .connect()
            .await
            .map_err(|e| crate::error::connect_error(addr, &e, &chain(&e)));
    };
    // TLS through netkit's connector (the same CA handling, ALPN and error wording as the
    // other three clients) rather than tonic's own: tonic then speaks h2 over the stream
    // it is handed. The endpoint's URI only names the authority.
    let connector = tls.connector(netkit::tls::ALPN_H2);
    let connect_timeout = config.connect_timeout;
    endpoint
        .connect_with_connector(tower::service_fn(move |_: tonic::codegen::http::Uri| {
            let connector = connector.clone();
            async move {
                let tcp =
                    tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect(addr))
                        .await
                        .map_err(|_| {
                            std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                format!("connecting to {addr} timed out"),
                            )
                        })??;
                let _ = tcp.set_nodelay(true);
                let tls = connector.connect(tcp, addr).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| crate::error::connect_error(addr, &e, &chain(&e)))
}

/// `e` and its sources, so a TLS failure ("certificate verification failed: ...") is not
/// lost behind tonic's "transport error".
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

impl<T> Client<T>
where
    T: GrpcService<tonic::body::Body>,
    T::Error: Into<StdError>,
    T::ResponseBody: Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as Body>::Error: Into<StdError> + Send,
{
    /// A client over `channel`, which must already point at the server (a tonic
    /// `Channel`, or one wrapped in tower layers). It sends requests up to
    /// `config.max_request_bytes`, accepts responses up to `config.max_response_bytes`,
    /// and asks for responses in `config.compression` (`grpc-accept-encoding`), decoding
    /// them. Timeouts are the channel's business: `connect_with` sets them on the
    /// `Channel` it builds.
    pub fn with_channel(channel: T, config: &ClientConfig) -> Self {
        let inner = TicketingClient::new(channel)
            .max_decoding_message_size(config.max_response_bytes)
            .max_encoding_message_size(config.max_request_bytes);
        // Only responses: every request is far under the compression threshold, and
        // tonic's client has none, so compressing requests would grow them. None by
        // default, as for every Quartet client: on loopback the CPU costs more than the
        // bytes saved.
        let encoding = match config.compression {
            Compression::None => None,
            Compression::Gzip => Some(CompressionEncoding::Gzip),
            Compression::Zstd => Some(CompressionEncoding::Zstd),
        };
        let inner = match encoding {
            Some(encoding) => inner.accept_compressed(encoding),
            None => inner,
        };
        Client {
            inner,
            bearer: None,
        }
    }

    /// This client, sending `authorization: Bearer <token>` metadata with every unary
    /// call (a token from `quartet token`; `WatchAvailability` is public and goes
    /// without it).
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` if the token cannot be a metadata value.
    pub fn with_bearer(mut self, token: &str) -> Result<Self> {
        let mut value: tonic::metadata::AsciiMetadataValue = format!("Bearer {token}")
            .parse()
            .map_err(|_| Error::invalid_argument("token", "must be visible ASCII"))?;
        value.set_sensitive(true);
        self.bearer = Some(value);
        Ok(self)
    }

    /// `message` as a request carrying this client's token, if it has one.
    fn request<M>(&self, message: M) -> tonic::Request<M> {
        let mut request = tonic::Request::new(message);
        if let Some(bearer) = &self.bearer {
            request
                .metadata_mut()
                .insert("authorization", bearer.clone());
        }
        request
    }
}

/// One unary call: `$method` with `$request` on a clone of the client (tonic's calls
/// take `&mut self`; a clone shares the connection), the status mapped to the domain
/// error.
macro_rules! unary {
    ($client:expr, $method:ident, $request:expr) => {
        $client
            .inner
            .clone()
            .$method($client.request($request))
            .await
            .map_err(|status| from_status(&status))?
            .into_inner()
    };
}

/// The domain stream of a `WatchAvailability` response: each message converted back to
/// the domain type; a status that breaks the stream off (the transport failing, the
/// server draining) or a message the server should never send becomes one `Err` item,
/// and the stream ends after it. Nothing is queued here: tonic reads a message from the
/// connection only when this stream is polled, so HTTP/2 flow control bounds what waits
/// on the client.
fn availability_stream(updates: tonic::Streaming<pb::AvailabilityUpdate>) -> AvailabilityStream {
    updates
        .map(|item| match item {
            Ok(update) => AvailabilityUpdate::try_from(update).map_err(|e| malformed(&e)),
            Err(status) => Err(from_stream_status(&status)),
        })
        .scan(false, |failed, item| {
            // One error ends the stream, whatever the transport would yield next.
            let next = (!*failed).then_some(item);
            *failed = next.as_ref().is_some_and(Result::is_err);
            futures::future::ready(next)
        })
        .boxed()
}

fn required<T>(field: &str, value: Option<T>) -> Result<T> {
    value.ok_or_else(|| malformed(&Error::invalid_argument(field, "is required")))
}

#[async_trait]
impl<T> Ticketing for Client<T>
where
    T: GrpcService<tonic::body::Body> + Clone + Send + Sync + 'static,
    T::Future: Send,
    T::Error: Into<StdError>,
    T::ResponseBody: Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as Body>::Error: Into<StdError> + Send,
{
    async fn get_event(&self, id: EventId) -> Result<Event> {
        let response = unary!(self, get_event, pb::GetEventRequest { event_id: id.0 });
        convert::event(response.event).map_err(|e| malformed(&e))
    }

    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        let request = pb::ListEventsRequest {
            filter: Some(request.filter.into()),
            page_size: request.limit,
            page_token: request.cursor.unwrap_or_default(),
        };
        unary!(self, list_events, request)
            .try_into()
            .map_err(|e| malformed(&e))
    }

    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        let request = pb::SearchEventsRequest {
            query: request.query,
            filter: Some(request.filter.into()),
            page_size: request.limit,
        };
        unary!(self, search_events, request)
            .try_into()
            .map_err(|e| malformed(&e))
    }

    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        unary!(
            self,
            get_event_detail,
            pb::GetEventDetailRequest { event_id: id.0 }
        )
        .try_into()
        .map_err(|e| malformed(&e))
    }

    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        let response = unary!(self, get_venue, pb::GetVenueRequest { venue_id: id.0 });
        Ok(required("venue", response.venue)?.into())
    }

    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        let response = unary!(
            self,
            get_performer,
            pb::GetPerformerRequest { performer_id: id.0 }
        );
        Ok(required("performer", response.performer)?.into())
    }

    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        unary!(self, get_seat_map, pb::GetSeatMapRequest { event_id: id.0 })
            .try_into()
            .map_err(|e| malformed(&e))
    }

    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        let response = unary!(self, hold_seats, pb::HoldSeatsRequest::from(request));
        convert::booking(response.booking).map_err(|e| malformed(&e))
    }

    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        let response = unary!(
            self,
            get_booking,
            pb::GetBookingRequest { booking_id: id.0 }
        );
        convert::booking(response.booking).map_err(|e| malformed(&e))
    }

    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        let request = pb::ConfirmBookingRequest {
            booking_id: id.0,
            expected_version,
        };
        let response = unary!(self, confirm_booking, request);
        convert::booking(response.booking).map_err(|e| malformed(&e))
    }

    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        let response = unary!(
            self,
            cancel_booking,
            pb::CancelBookingRequest { booking_id: id.0 }
        );
        convert::booking(response.booking).map_err(|e| malformed(&e))
    }

    /// Refusals (`NOT_FOUND`, `INVALID_ARGUMENT` for `from_version`) are this call's
    /// `Err`, with the details every other call maps; see [`availability_stream`] for the
    /// items after.
    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        let request = pb::WatchAvailabilityRequest {
            event_id: event_id.0,
            from_version,
        };
        let updates = self
            .inner
            .clone()
            .watch_availability(request)
            .await
            .map_err(|status| from_status(&status))?
            .into_inner();
        Ok(availability_stream(updates))
    }
}
