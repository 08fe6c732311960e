//! `Client`: `domain::Ticketing` over gRPC with a tonic `Channel` (one HTTP/2
//! connection, many concurrent calls). Converts messages, maps statuses and their
//! details back to the identical domain errors, sends the idempotency key as
//! `request_id`, and accepts responses up to 16 MiB.

use std::net::SocketAddr;

use std::sync::Arc;

use async_trait::async_trait;
use domain::{
    Booking, BookingId, Error, Event, EventDetail, EventId, EventPage, HoldRequest, Limits,
    ListEventsRequest, Performer, PerformerId, Result, SearchRequest, SearchResults, SeatMap,
    Ticketing, Venue, VenueId,
};
use netkit::meter::PayloadMeter;
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Channel, Endpoint};

use crate::pb::ticketing_client::TicketingClient;
use crate::status::from_status;
use crate::{convert, pb};

/// A gRPC client. Cheap to clone; clones share the channel.
#[derive(Debug, Clone)]
pub struct Client {
    inner: TicketingClient<Channel>,
    meter: Arc<PayloadMeter>,
}

/// A response the server should never send (a missing field, an unknown enum value).
fn malformed(e: &Error) -> Error {
    Error::internal(format!("malformed response from the server: {e}"))
}

impl Client {
    /// A client for the server at `addr`, with the default limits.
    ///
    /// # Errors
    /// `INTERNAL` if the server cannot be reached.
    pub async fn connect(addr: SocketAddr) -> Result<Self> {
        Self::connect_with(addr, &Limits::default(), false).await
    }

    /// A client for `addr` that gives up on a call after `limits.request_timeout`,
    /// accepts responses up to `limits.max_response_bytes`, and, if `compress`, sends
    /// requests gzip-compressed and accepts gzip or zstd responses.
    ///
    /// # Errors
    /// `INTERNAL` if the server cannot be reached.
    pub async fn connect_with(addr: SocketAddr, limits: &Limits, compress: bool) -> Result<Self> {
        let channel = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| Error::internal(format!("bad address {addr}: {e}")))?
            .tcp_nodelay(true)
            .connect_timeout(limits.header_read_timeout)
            .timeout(limits.request_timeout)
            .http2_keep_alive_interval(std::time::Duration::from_secs(30))
            .connect()
            .await
            .map_err(|e| Error::internal(format!("cannot connect to {addr}: {e}")))?;
        let mut inner = TicketingClient::new(channel)
            .max_decoding_message_size(limits.max_response_bytes)
            .max_encoding_message_size(limits.max_request_bytes);
        // Off by default: the server compresses whenever the client accepts, which costs
        // far more CPU than it saves on loopback, and no other Quartet client compresses
        // unless asked.
        if compress {
            inner = inner
                .send_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Zstd);
        }
        Ok(Client {
            inner,
            meter: Arc::default(),
        })
    }

    /// Payload bytes (protobuf messages, without the 5-byte gRPC prefix or HTTP/2
    /// framing) sent and received so far.
    pub fn meter(&self) -> &Arc<PayloadMeter> {
        &self.meter
    }

    fn rpc(&self) -> TicketingClient<Channel> {
        self.inner.clone()
    }
}

/// One unary call: `$method` with `$request`, counted by the meter, statuses mapped.
macro_rules! unary {
    ($client:expr, $method:ident, $request:expr) => {{
        let request = $request;
        let sent = request.encoded_len();
        let captured = $client.meter.capturing().then(|| request.encode_to_vec());
        let response = match $client.rpc().$method(request).await {
            Ok(response) => response.into_inner(),
            Err(status) => {
                // An error has no message body (its details travel in trailers); the
                // request still went out.
                $client.meter.record_sizes(sent, 0);
                return Err(from_status(&status));
            }
        };
        match captured {
            Some(sent_bytes) => $client.meter.record(&sent_bytes, &response.encode_to_vec()),
            None => $client.meter.record_sizes(sent, response.encoded_len()),
        }
        response
    }};
}

fn required<T>(field: &str, value: Option<T>) -> Result<T> {
    value.ok_or_else(|| malformed(&Error::invalid_argument(field, "is required")))
}

#[async_trait]
impl Ticketing for Client {
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
}
