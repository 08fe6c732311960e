//! The gRPC hook: a tower layer around the client's `tonic::transport::Channel` (installed
//! with `grpc::Client::with_channel`) that reads every request and response body as it
//! streams by and counts its protobuf message bytes: the HTTP/2 body less the 5-byte
//! prefix of each message. HTTP/2 frames, headers and trailers are not in a body, so
//! they are not counted. A compressed message (`--compression`) counts at its
//! compressed size, as the HTTP hooks count compressed bodies.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use super::PayloadMeter;
use super::frames::{self, MessageReader};

/// Wraps a channel in [`Metered`], counting into one meter.
#[derive(Debug, Clone)]
pub struct MeterLayer {
    meter: Arc<PayloadMeter>,
}

impl MeterLayer {
    /// A layer counting into `meter`.
    pub fn new(meter: Arc<PayloadMeter>) -> Self {
        MeterLayer { meter }
    }
}

impl<S> tower::Layer<S> for MeterLayer {
    type Service = Metered<S>;

    fn layer(&self, inner: S) -> Metered<S> {
        Metered {
            inner,
            meter: Arc::clone(&self.meter),
        }
    }
}

/// A gRPC channel (any tower service of HTTP requests with tonic bodies) whose request
/// and response messages are counted.
#[derive(Debug, Clone)]
pub struct Metered<S> {
    inner: S,
    meter: Arc<PayloadMeter>,
}

/// The future of a metered call.
type CallFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

impl<S, B> tower::Service<http::Request<tonic::body::Body>> for Metered<S>
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<B>>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Unpin + Send + 'static,
{
    type Response = http::Response<MeteredBody<B>>;
    type Error = S::Error;
    type Future = CallFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let meter = Arc::clone(&self.meter);
        let request = request.map(|body| {
            tonic::body::Body::new(MeteredBody::new(body, Direction::Sent, Arc::clone(&meter)))
        });
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|body| MeteredBody::new(body, Direction::Received, meter)))
        })
    }
}

/// Which way a body goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A request body: counted as sent.
    Sent,
    /// A response body: counted as received.
    Received,
}

/// A body whose gRPC message bytes are counted as it is read.
#[derive(Debug)]
pub struct MeteredBody<B> {
    inner: B,
    direction: Direction,
    reader: MessageReader,
    meter: Arc<PayloadMeter>,
}

impl<B> MeteredBody<B> {
    /// Counts `inner`'s messages into `meter`, as going `direction`.
    pub fn new(inner: B, direction: Direction, meter: Arc<PayloadMeter>) -> Self {
        MeteredBody {
            inner,
            direction,
            reader: MessageReader::new(frames::GRPC),
            meter,
        }
    }
}

impl<B> Body for MeteredBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            let meter = &this.meter;
            let capture = meter.capturing();
            let payload = match this.direction {
                Direction::Sent => this.reader.read(data, capture, |m| meter.keep_request(m)),
                Direction::Received => this.reader.read(data, capture, |m| meter.keep_response(m)),
            };
            match this.direction {
                Direction::Sent => meter.add_sent(payload),
                Direction::Received => meter.add_received(payload),
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
