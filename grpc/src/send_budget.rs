//! [`SendBudgetLayer`]: every answer's bytes charged to netkit's server-wide send budget
//! (`netkit::send_budget`) before tonic hands them to h2, so clients that ask for large
//! answers on many streams and never read them cannot make the server hold more than
//! the budget (h2 buffers every stream's answer whole; 1 000 such connections held
//! 8.4 GB).
//!
//! A call first waits, before its handler runs, until its connection is under its own
//! allowance or the shared budget has room, at most `send_budget_wait`; then it is
//! refused with `RESOURCE_EXHAUSTED` without running. Once the answer exists, each of
//! its DATA chunks is charged as hyper asks for it; one that does not fit ends the call
//! there with `RESOURCE_EXHAUSTED` trailers and the answer is dropped at once (waiting
//! with it in hand would hold the very memory the budget bounds). Small answers of a
//! connection that reads them (`get_event`) stay within its allowance and never wait.
//!
//! The connection's budget comes from [`crate::incoming::ConnectionInfo`], which tonic
//! puts in every request's extensions; this layer also puts the plain
//! `TcpConnectInfo` there, so `Request::remote_addr` and [`crate::auth`] see the peer.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use hyper::body::{Frame, SizeHint};
use netkit::send_budget::ConnectionBudget;
use tonic::codegen::{Body, BoxFuture, Bytes, Service, http};

use crate::incoming::ConnectionInfo;

/// The message a refused call carries.
const REFUSED: &str = "the server is holding too many unread answers; retry later";

/// The tower layer of [`SendBudgeted`]; see the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct SendBudgetLayer;

impl<S> tower::Layer<S> for SendBudgetLayer {
    type Service = SendBudgeted<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SendBudgeted { inner }
    }
}

/// A service whose answers are charged to their connection's send budget.
#[derive(Debug, Clone)]
pub struct SendBudgeted<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for SendBudgeted<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let budget = request
            .extensions()
            .get::<ConnectionInfo>()
            .cloned()
            .map(|info| {
                request.extensions_mut().insert(info.tcp);
                info.budget
            });
        // The service polled ready is the one called, after the wait.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        Box::pin(async move {
            // A connection that did not come through `incoming` (none in `serve`) has no
            // budget to charge.
            let Some(budget) = budget else {
                return inner.call(request).await;
            };
            if !budget.wait_for_room().await {
                return Ok(tonic::Status::resource_exhausted(REFUSED).into_http());
            }
            let response = inner.call(request).await?;
            Ok(response.map(|body| {
                tonic::body::Body::new(Charged {
                    inner: body,
                    budget,
                    refused: false,
                })
            }))
        })
    }
}

/// An answer's body, each DATA chunk charged before it goes on.
#[derive(Debug)]
struct Charged {
    inner: tonic::body::Body,
    budget: Arc<ConnectionBudget>,
    /// Set once a chunk did not fit: the call ended with `RESOURCE_EXHAUSTED`.
    refused: bool,
}

impl Body for Charged {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        let this = self.get_mut();
        if this.refused {
            return Poll::Ready(None);
        }
        let frame = ready!(Pin::new(&mut this.inner).poll_frame(cx));
        let answer_bytes = match &frame {
            Some(Ok(frame)) => frame.data_ref().map(Bytes::len),
            _ => None,
        };
        if let Some(len) = answer_bytes
            && !this.budget.try_charge(len)
        {
            this.refused = true;
            // Dropped now, not when hyper drops the body.
            this.inner = tonic::body::Body::empty();
            let mut trailers = http::HeaderMap::new();
            // Only fails on a message that is not a valid header value; this one is.
            let _ = tonic::Status::resource_exhausted(REFUSED).add_header(&mut trailers);
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.refused || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        // Unknown: a refused answer ends early.
        SizeHint::default()
    }
}
