//! `watch_availability` over the wire: SUBSCRIBE on one of the client's connections,
//! then a [`Subscription`] stream that reads the subscription's bounded queue, which the
//! connection's reader fills (see `demux.rs` for what happens when it is full).
//!
//! The stream yields the server's messages in order and ends after the last one: a
//! RESYNC (the server's, or one the client made because the consumer fell
//! [`CLIENT_SUBSCRIPTION_QUEUE`] messages behind), or one `Err` (the server ended the
//! subscription with an error, or the connection was lost: `UNAVAILABLE`). Dropping it
//! sends UNSUBSCRIBE, so the server lets go of the subscription at once.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use domain::{AvailabilityStream, Error, EventId, Result, UpdateKind};
use futures::Stream;
use tokio::sync::{mpsc, oneshot};

use super::demux::{Delivery, Demux};
use super::{Connection, closed_before_answer, connection_closed, expect_response, io_error};
use crate::config::CLIENT_SUBSCRIPTION_QUEUE;
use crate::frame::{Frame, Opcode};
use crate::messages as m;

/// One live subscription, as a stream of its messages.
struct Subscription {
    queue: mpsc::Receiver<Delivery>,
    demux: Arc<Demux>,
    id: u32,
    /// Keeps the connection's writer running for this stream's UNSUBSCRIBE, even if the
    /// client itself has been dropped.
    _control: mpsc::UnboundedSender<Frame>,
    ended: bool,
}

impl Stream for Subscription {
    type Item = Delivery;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let polled = self.queue.poll_recv(cx);
        match &polled {
            Poll::Ready(Some(Ok(update))) if update.kind != UpdateKind::Resync => {}
            Poll::Ready(_) => self.ended = true,
            Poll::Pending => {}
        }
        polled
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // A no-op if the subscription has already ended.
        self.demux.unsubscribe(self.id);
    }
}

impl Connection {
    /// Subscribes to `event_id`'s availability on this connection.
    ///
    /// # Errors
    /// The error frame's error if the server refuses the SUBSCRIBE (`NOT_FOUND`,
    /// `INVALID_ARGUMENT`, `LIMIT_EXCEEDED`); `INTERNAL` if the connection is gone or the
    /// server does not answer in time.
    pub(super) async fn watch(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        let payload = postcard::to_allocvec(&m::SubscribeRequest {
            event_id: event_id.0,
            from_version,
        })
        .map_err(|e| io_error("cannot encode the request", e))?;
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| connection_closed())?;
        let (answer, answered) = oneshot::channel();
        let (queue, receiver) = mpsc::channel(CLIENT_SUBSCRIPTION_QUEUE + 1);
        let id = self
            .demux
            .register_subscription(answer, queue, event_id, from_version)?;
        // From here on, dropping `stream` (a timeout, the caller giving up) unsubscribes.
        let stream = Subscription {
            queue: receiver,
            demux: Arc::clone(&self.demux),
            id,
            _control: self.control.clone(),
            ended: false,
        };
        let request = Frame::request(Opcode::Subscribe, id, payload);
        if self.outgoing.send(request).await.is_err() {
            self.demux.forget_call(id);
            self.demux.forget_subscription(id);
            return Err(connection_closed());
        }
        match tokio::time::timeout(self.request_timeout, answered).await {
            Ok(Ok(frame)) => match expect_response(frame) {
                Ok(_) => Ok(Box::pin(stream)),
                Err(error) => {
                    // The server has no such subscription: nothing to unsubscribe.
                    self.demux.forget_subscription(id);
                    Err(error)
                }
            },
            Ok(Err(_)) => Err(self.demux.ended(closed_before_answer)),
            Err(_) => {
                self.demux.forget_call(id);
                Err(Error::internal(format!(
                    "no answer within {:?}",
                    self.request_timeout
                )))
            }
        }
    }
}
