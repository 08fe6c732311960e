//! The gRPC service: each RPC converts its request, calls `domain::Ticketing`, and
//! converts the answer. Nothing here decides behaviour; errors leave through
//! [`crate::error`]. The one server-streaming RPC, `WatchAvailability`, forwards the
//! domain stream message by message; its backpressure is tonic's (see
//! [`TicketingService::watch_availability`](TicketingRpc::watch_availability)).

use domain::{
    BookingId, EventId, ListEventsRequest, PerformerId, SearchRequest, SharedTicketing, Ticketing,
    VenueId,
};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
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
    /// Cancelled when the server starts draining: every availability stream then ends
    /// with `UNAVAILABLE`, since a watch never finishes on its own and would otherwise
    /// hold the drain for its whole grace period.
    draining: CancellationToken,
}

impl TicketingService {
    /// Serves `api`. Its availability streams end only when the domain stream or the
    /// client does; [`TicketingService::draining_on`] ends them at shutdown too.
    pub fn new(api: SharedTicketing) -> Self {
        TicketingService {
            api,
            draining: CancellationToken::new(),
        }
    }

    /// This service, ending every open and future availability stream with
    /// `UNAVAILABLE` ("the server is shutting down") once `draining` is cancelled, so its
    /// subscribers watch again elsewhere from the last version they saw. [`crate::serve`]
    /// cancels it when its shutdown future resolves.
    #[must_use]
    pub fn draining_on(mut self, draining: CancellationToken) -> Self {
        self.draining = draining;
        self
    }
}

/// The stream `WatchAvailability` answers with.
pub type AvailabilityUpdates = BoxStream<'static, Result<pb::AvailabilityUpdate, Status>>;

/// `updates`, cut off by one `UNAVAILABLE` status as soon as `draining` is cancelled.
/// Checked before each message, so a draining server sends nothing more.
fn until_draining<T: Send + 'static>(
    updates: BoxStream<'static, Result<T, Status>>,
    draining: CancellationToken,
) -> BoxStream<'static, Result<T, Status>> {
    UntilDraining {
        updates: Some(updates),
        draining: Box::pin(draining.cancelled_owned()),
    }
    .boxed()
}

/// [`until_draining`]'s stream. The wait for the drain is made once per stream and kept
/// registered, not made again for every message: a token clone and a `cancelled()`
/// future a message took five locks on state every stream shares (5% of a gRPC
/// server's time with 1 000 subscribers, under perf).
struct UntilDraining<T> {
    /// `None` once ended (by the drain or by the domain stream).
    updates: Option<BoxStream<'static, Result<T, Status>>>,
    draining: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl<T> Stream for UntilDraining<T> {
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(updates) = this.updates.as_mut() else {
            return Poll::Ready(None);
        };
        // The drain first, as before each message.
        if this.draining.as_mut().poll(cx).is_ready() {
            this.updates = None;
            let status = to_status(&domain::Error::unavailable(
                "the server is shutting down; watch again from the last version seen",
            ));
            return Poll::Ready(Some(Err(status)));
        }
        let polled = updates.poll_next_unpin(cx);
        if let Poll::Ready(None) = polled {
            this.updates = None;
        }
        polled
    }
}

impl TicketingService {
    /// The availability stream a `WatchAvailability` call asks for, each message made by
    /// `message`, ending at the domain stream's end or when the server starts draining.
    /// Both ways of serving the RPC use it: message by message through the generated
    /// service (below), and with each change encoded once for every subscriber
    /// ([`crate::shared_watch`]).
    ///
    /// # Errors
    /// The refusal (unknown event, a version ahead of the event's) as the call's status.
    pub(crate) async fn watch<T: Send + 'static>(
        &self,
        request: pb::WatchAvailabilityRequest,
        mut message: impl FnMut(domain::AvailabilityUpdate) -> Result<T, Status> + Send + 'static,
    ) -> Result<BoxStream<'static, Result<T, Status>>, Status> {
        let updates = self
            .api
            .watch_availability(EventId(request.event_id), request.from_version)
            .await
            .map_err(|e| reject(&e))?
            .map(move |item| item.map_err(|e| to_status(&e)).and_then(&mut message))
            .boxed();
        Ok(until_draining(updates, self.draining.clone()))
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

    type WatchAvailabilityStream = AvailabilityUpdates;

    /// Refusals (unknown event, future version) are the call's status, before any
    /// message. Then each domain message is converted as tonic asks for it: tonic polls
    /// this stream only while HTTP/2 flow control lets it send, so a client that stops
    /// reading stops the polling, the store's per-subscriber buffer fills, and the
    /// domain stream ends with its RESYNC; nothing queues here. A dropped call (the
    /// client went away, RST_STREAM) drops the stream and with it the subscription.
    async fn watch_availability(
        &self,
        request: Request<pb::WatchAvailabilityRequest>,
    ) -> RpcResult<Self::WatchAvailabilityStream> {
        let updates = self
            .watch(request.into_inner(), |update| {
                Ok(pb::AvailabilityUpdate::from(update))
            })
            .await?;
        Ok(Response::new(updates))
    }
}
