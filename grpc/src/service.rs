//! The gRPC service: each RPC converts its request, calls `domain::Ticketing`, and
//! converts the answer. Nothing here decides behaviour; errors leave through
//! [`crate::error`].

use domain::{
    BookingId, EventId, ListEventsRequest, PerformerId, SearchRequest, SharedTicketing, Ticketing,
    VenueId,
};
use tonic::{Request, Response, Status};

use crate::convert;
use crate::error::to_status;
use crate::pb;
use crate::pb::ticketing_server::Ticketing as TicketingRpc;

/// The gRPC face of any `domain::Ticketing` (the in-memory `Service`, another store, a
/// test double).
#[derive(Clone)]
pub struct TicketingService {
    api: SharedTicketing,
}

impl TicketingService {
    /// Serves `api`.
    pub fn new(api: SharedTicketing) -> Self {
        TicketingService { api }
    }
}

impl std::fmt::Debug for TicketingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketingService").finish_non_exhaustive()
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

/// A domain result as an RPC result.
fn reply<T, P: From<T>>(result: domain::Result<T>) -> RpcResult<P> {
    result
        .map(|value| Response::new(P::from(value)))
        .map_err(|e| to_status(&e))
}

fn reject(error: &domain::Error) -> Status {
    to_status(error)
}

#[tonic::async_trait]
impl TicketingRpc for TicketingService {
    async fn get_event(
        &self,
        request: Request<pb::GetEventRequest>,
    ) -> RpcResult<pb::GetEventResponse> {
        let id = EventId(request.into_inner().event_id);
        reply(self.api.get_event(id).await.map(|e| pb::GetEventResponse {
            event: Some(e.into()),
        }))
    }

    async fn list_events(
        &self,
        request: Request<pb::ListEventsRequest>,
    ) -> RpcResult<pb::ListEventsResponse> {
        let r = request.into_inner();
        let request = ListEventsRequest {
            filter: convert::filter(r.filter).map_err(|e| reject(&e))?,
            cursor: Some(r.page_token).filter(|t| !t.is_empty()),
            limit: r.page_size,
        };
        reply(self.api.list_events(request).await)
    }

    async fn search_events(
        &self,
        request: Request<pb::SearchEventsRequest>,
    ) -> RpcResult<pb::SearchEventsResponse> {
        let r = request.into_inner();
        let request = SearchRequest {
            query: r.query,
            filter: convert::filter(r.filter).map_err(|e| reject(&e))?,
            limit: r.page_size,
        };
        reply(self.api.search_events(request).await)
    }

    async fn get_event_detail(
        &self,
        request: Request<pb::GetEventDetailRequest>,
    ) -> RpcResult<pb::GetEventDetailResponse> {
        let id = EventId(request.into_inner().event_id);
        reply(self.api.get_event_detail(id).await)
    }

    async fn get_venue(
        &self,
        request: Request<pb::GetVenueRequest>,
    ) -> RpcResult<pb::GetVenueResponse> {
        let id = VenueId(request.into_inner().venue_id);
        reply(self.api.get_venue(id).await.map(|v| pb::GetVenueResponse {
            venue: Some(v.into()),
        }))
    }

    async fn get_performer(
        &self,
        request: Request<pb::GetPerformerRequest>,
    ) -> RpcResult<pb::GetPerformerResponse> {
        let id = PerformerId(request.into_inner().performer_id);
        reply(
            self.api
                .get_performer(id)
                .await
                .map(|p| pb::GetPerformerResponse {
                    performer: Some(p.into()),
                }),
        )
    }

    async fn get_seat_map(
        &self,
        request: Request<pb::GetSeatMapRequest>,
    ) -> RpcResult<pb::GetSeatMapResponse> {
        let id = EventId(request.into_inner().event_id);
        reply(self.api.get_seat_map(id).await)
    }

    async fn hold_seats(
        &self,
        request: Request<pb::HoldSeatsRequest>,
    ) -> RpcResult<pb::HoldSeatsResponse> {
        let request = request.into_inner().try_into().map_err(|e| reject(&e))?;
        reply(
            self.api
                .hold_seats(request)
                .await
                .map(|b| pb::HoldSeatsResponse {
                    booking: Some(b.into()),
                }),
        )
    }

    async fn get_booking(
        &self,
        request: Request<pb::GetBookingRequest>,
    ) -> RpcResult<pb::GetBookingResponse> {
        let id = BookingId(request.into_inner().booking_id);
        reply(
            self.api
                .get_booking(id)
                .await
                .map(|b| pb::GetBookingResponse {
                    booking: Some(b.into()),
                }),
        )
    }

    async fn confirm_booking(
        &self,
        request: Request<pb::ConfirmBookingRequest>,
    ) -> RpcResult<pb::ConfirmBookingResponse> {
        let r = request.into_inner();
        reply(
            self.api
                .confirm_booking(BookingId(r.booking_id), r.expected_version)
                .await
                .map(|b| pb::ConfirmBookingResponse {
                    booking: Some(b.into()),
                }),
        )
    }

    async fn cancel_booking(
        &self,
        request: Request<pb::CancelBookingRequest>,
    ) -> RpcResult<pb::CancelBookingResponse> {
        let id = BookingId(request.into_inner().booking_id);
        reply(
            self.api
                .cancel_booking(id)
                .await
                .map(|b| pb::CancelBookingResponse {
                    booking: Some(b.into()),
                }),
        )
    }
}
