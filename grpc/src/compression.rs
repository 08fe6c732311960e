//! [`SmallUncompressed`]: the size threshold of the server's response compression.
//!
//! tonic compresses every response message in the encoding the client accepts, whatever
//! its size; a 200-byte `GetEvent` answer would grow by gzip's header and cost a
//! compressor's CPU for nothing. This wrapper around the service asks tonic to send a
//! unary answer uncompressed (`Response::disable_compression`) when its encoded size is
//! under the threshold. Which encodings are offered and accepted is set on the tonic
//! server in `crate::server_of`; the RPCs themselves live in [`crate::service`].
//!
//! The availability stream is left to tonic: its messages are small and tonic offers no
//! per-message switch for server streams, so a client that accepts compression gets
//! them compressed.

use prost::Message;
use tonic::{Request, Response, Status};

use crate::pb;
use crate::pb::ticketing_server::Ticketing as TicketingRpc;

/// A gRPC service whose unary answers under `min_bytes` go uncompressed; everything else
/// is `inner`'s.
#[derive(Debug, Clone)]
pub struct SmallUncompressed<S> {
    inner: S,
    min_bytes: usize,
}

impl<S> SmallUncompressed<S> {
    /// `inner`, its unary answers under `min_bytes` sent uncompressed.
    pub fn new(inner: S, min_bytes: usize) -> Self {
        SmallUncompressed { inner, min_bytes }
    }

    /// `result` with compression turned off for a message under the threshold.
    fn gate<M: Message>(&self, result: Result<Response<M>, Status>) -> Result<Response<M>, Status> {
        result.map(|mut response| {
            if response.get_ref().encoded_len() < self.min_bytes {
                response.disable_compression();
            }
            response
        })
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl<S: TicketingRpc> TicketingRpc for SmallUncompressed<S> {
    async fn get_event(&self, r: Request<pb::GetEventRequest>) -> RpcResult<pb::GetEventResponse> {
        self.gate(self.inner.get_event(r).await)
    }

    async fn list_events(
        &self,
        r: Request<pb::ListEventsRequest>,
    ) -> RpcResult<pb::ListEventsResponse> {
        self.gate(self.inner.list_events(r).await)
    }

    async fn search_events(
        &self,
        r: Request<pb::SearchEventsRequest>,
    ) -> RpcResult<pb::SearchEventsResponse> {
        self.gate(self.inner.search_events(r).await)
    }

    async fn get_event_detail(
        &self,
        r: Request<pb::GetEventDetailRequest>,
    ) -> RpcResult<pb::GetEventDetailResponse> {
        self.gate(self.inner.get_event_detail(r).await)
    }

    async fn get_venue(&self, r: Request<pb::GetVenueRequest>) -> RpcResult<pb::GetVenueResponse> {
        self.gate(self.inner.get_venue(r).await)
    }

    async fn get_performer(
        &self,
        r: Request<pb::GetPerformerRequest>,
    ) -> RpcResult<pb::GetPerformerResponse> {
        self.gate(self.inner.get_performer(r).await)
    }

    async fn get_seat_map(
        &self,
        r: Request<pb::GetSeatMapRequest>,
    ) -> RpcResult<pb::GetSeatMapResponse> {
        self.gate(self.inner.get_seat_map(r).await)
    }

    async fn hold_seats(
        &self,
        r: Request<pb::HoldSeatsRequest>,
    ) -> RpcResult<pb::HoldSeatsResponse> {
        self.gate(self.inner.hold_seats(r).await)
    }

    async fn get_booking(
        &self,
        r: Request<pb::GetBookingRequest>,
    ) -> RpcResult<pb::GetBookingResponse> {
        self.gate(self.inner.get_booking(r).await)
    }

    async fn confirm_booking(
        &self,
        r: Request<pb::ConfirmBookingRequest>,
    ) -> RpcResult<pb::ConfirmBookingResponse> {
        self.gate(self.inner.confirm_booking(r).await)
    }

    async fn cancel_booking(
        &self,
        r: Request<pb::CancelBookingRequest>,
    ) -> RpcResult<pb::CancelBookingResponse> {
        self.gate(self.inner.cancel_booking(r).await)
    }

    type WatchAvailabilityStream = S::WatchAvailabilityStream;

    async fn watch_availability(
        &self,
        r: Request<pb::WatchAvailabilityRequest>,
    ) -> RpcResult<Self::WatchAvailabilityStream> {
        self.inner.watch_availability(r).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::codec::SingleMessageCompressionOverride;

    fn overridden<M>(response: &Response<M>) -> bool {
        response
            .extensions()
            .get::<SingleMessageCompressionOverride>()
            == Some(&SingleMessageCompressionOverride::Disable)
    }

    #[test]
    fn only_messages_under_the_threshold_are_sent_uncompressed() {
        let gate = SmallUncompressed::new((), 64);
        let small = pb::GetVenueResponse {
            venue: Some(pb::Venue {
                name: "small".to_owned(),
                ..Default::default()
            }),
        };
        let large = pb::GetVenueResponse {
            venue: Some(pb::Venue {
                name: "x".repeat(64),
                ..Default::default()
            }),
        };
        assert!(overridden(&gate.gate(Ok(Response::new(small))).unwrap()));
        assert!(!overridden(&gate.gate(Ok(Response::new(large))).unwrap()));
        assert!(
            gate.gate::<pb::GetVenueResponse>(Err(Status::internal("x")))
                .is_err()
        );
    }
}
