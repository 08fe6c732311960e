//! The floors: baselines that answer get_event with bytes prepared in advance and do no
//! other work, so a protocol's figures can be split into the machine's, the framework's
//! and its own.
//!
//! - `tcp-floor`: a raw TCP ping-pong carrying exactly the bytes of the wire protocol's
//!   GET_EVENT exchange (the request frame one way, the response frame the other), with
//!   no parsing: the physical floor of the machine and the kernel.
//! - `http1-floor` ([`serve_http1`]): hyper's HTTP/1.1 server answering every request
//!   with REST get_event's exact response body (no routing, no JSON): the floor under
//!   REST and GraphQL.
//! - `h2-floor` ([`serve_h2`]): hyper's HTTP/2 server answering every request with gRPC
//!   GetEvent's exact framed response and its trailers: the floor under gRPC.
//! - `graphql-floor`: no server here: the GraphQL server itself, asked `{ __typename }`
//!   by the lean client ([`crate::lean::TYPENAME_BODY`]), the least a query costs
//!   async-graphql: the floor under GraphQL's queries (its engine's, above HTTP/1.1's).
//!
//! Every floor counts its socket bytes as the servers do (`netkit::connections::Counted`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use domain::{Event, EventId, Ticketing};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The event whose GET_EVENT exchange the floor carries.
pub const EVENT: EventId = EventId(1);

/// The request and response frames (length prefixes included) of one GET_EVENT for
/// [`EVENT`] on the wire protocol, answered with `event`: what the floor sends and
/// answers. Without the event the response carries an empty payload.
pub fn exchange(event: Option<Event>) -> (Vec<u8>, Vec<u8>) {
    let payload = event
        .and_then(|e| postcard::to_allocvec(&wire::messages::Event::from(e)).ok())
        .unwrap_or_default();
    frames(wire::frame::Opcode::GetEvent, payload)
}

/// The frames of one wire-protocol exchange: a request for `opcode` about [`EVENT`],
/// and its response carrying `payload`.
pub fn frames(opcode: wire::frame::Opcode, payload: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
    let request = postcard::to_allocvec(&wire::messages::EventIdRequest { event_id: EVENT.0 })
        .unwrap_or_default();
    let request =
        wire::codec::encode_frame(wire::frame::Frame::request(opcode, 1, request), 1 << 20)
            .map(|b| b.to_vec())
            .unwrap_or_default();
    let response = wire::codec::encode_frame(
        wire::frame::Frame {
            kind: wire::frame::Kind::Response,
            opcode: opcode as u16,
            request_id: 1,
            payload: payload.into(),
        },
        16 << 20,
    )
    .map(|b| b.to_vec())
    .unwrap_or_default();
    (request, response)
}

/// Serves the floor: for every request-sized chunk read, the response bytes of
/// [`EVENT`] as `api` has it are written.
///
/// # Errors
/// If the listener fails.
pub async fn serve(
    listener: TcpListener,
    api: &dyn Ticketing,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (request, response) = exchange(api.get_event(EVENT).await.ok());
    serve_exchange(listener, request.len(), response, shutdown).await
}

/// Serves a ping-pong of any sizes: reads `request_len` bytes, writes `response`.
///
/// # Errors
/// If the listener fails.
pub async fn serve_exchange(
    listener: TcpListener,
    request_len: usize,
    response: Vec<u8>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let response = Arc::new(response);
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let mut stream = netkit::connections::Counted(stream);
        let response = Arc::clone(&response);
        tokio::spawn(async move {
            let mut buf = vec![0u8; request_len];
            while stream.read_exact(&mut buf).await.is_ok() {
                if stream.write_all(&response).await.is_err() {
                    break;
                }
            }
        });
    }
}

/// REST get_event's response body for `event` (the JSON `rest` serves), empty without one.
pub fn rest_event_body(event: Option<Event>) -> Vec<u8> {
    event
        .and_then(|e| serde_json::to_vec(&rest::model::Event::from(e)).ok())
        .unwrap_or_default()
}

/// gRPC GetEvent's response body for `event`: the 5-byte message prefix (uncompressed,
/// big-endian length) and the protobuf `GetEventResponse`.
pub fn grpc_event_body(event: Option<Event>) -> Vec<u8> {
    let message = grpc::pb::GetEventResponse {
        event: event.map(Into::into),
    }
    .encode_to_vec();
    let mut body = Vec::with_capacity(message.len() + 5);
    body.push(0);
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(&message);
    body
}

/// Accepts connections until `shutdown`, handing each (counted, no-delay) to `serve`.
async fn accept_loop<F, Fut>(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    serve: F,
) -> io::Result<()>
where
    F: Fn(TokioIo<netkit::connections::Counted<TcpStream>>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(TokioIo::new(netkit::connections::Counted(stream))));
    }
}

/// Serves `http1-floor`: every HTTP/1.1 request (its body read and dropped) is answered
/// 200 with REST get_event's body for [`EVENT`] as `api` has it, as `application/json`.
///
/// # Errors
/// If the listener fails.
pub async fn serve_http1(
    listener: TcpListener,
    api: &dyn Ticketing,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let body = Bytes::from(rest_event_body(api.get_event(EVENT).await.ok()));
    accept_loop(listener, shutdown, move |io| {
        let body = body.clone();
        async move {
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let body = body.clone();
                    async move {
                        let _ = request.into_body().collect().await;
                        hyper::Response::builder()
                            .header(http::header::CONTENT_TYPE, "application/json")
                            .body(Full::new(body))
                    }
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        }
    })
    .await
}

/// The body of an `h2-floor` answer: one data frame, then the trailers.
type GrpcBody = StreamBody<
    futures::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, std::convert::Infallible>>>,
>;

/// Serves `h2-floor`: every HTTP/2 request (its body read and dropped) is answered 200,
/// `application/grpc`, with gRPC GetEvent's framed response for [`EVENT`] as `api` has
/// it, then the trailer `grpc-status: 0`.
///
/// # Errors
/// If the listener fails.
pub async fn serve_h2(
    listener: TcpListener,
    api: &dyn Ticketing,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let body = Bytes::from(grpc_event_body(api.get_event(EVENT).await.ok()));
    accept_loop(listener, shutdown, move |io| {
        let body = body.clone();
        async move {
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| {
                    let body = body.clone();
                    async move {
                        let _ = request.into_body().collect().await;
                        let mut trailers = http::HeaderMap::new();
                        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
                        let frames = vec![Ok(Frame::data(body)), Ok(Frame::trailers(trailers))];
                        let body: GrpcBody = StreamBody::new(futures::stream::iter(frames));
                        hyper::Response::builder()
                            .header(http::header::CONTENT_TYPE, "application/grpc")
                            .body(body)
                    }
                },
            );
            let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(io, service)
                .await;
        }
    })
    .await
}

/// One floor connection: a client side that sends the request and reads the response.
pub struct FloorClient {
    stream: TcpStream,
    request: Vec<u8>,
    response: Vec<u8>,
}

impl FloorClient {
    /// Connects to a [`serve_exchange`] server that answers `request` with `response`.
    ///
    /// # Errors
    /// If it cannot connect.
    pub async fn connect_exchange(
        addr: SocketAddr,
        request: Vec<u8>,
        response: Vec<u8>,
    ) -> io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(FloorClient {
            stream,
            request,
            response,
        })
    }

    /// One round trip; checks the answer is the expected bytes.
    ///
    /// # Errors
    /// If the socket fails or the answer differs.
    pub async fn round_trip(&mut self) -> io::Result<()> {
        self.stream.write_all(&self.request).await?;
        let mut answer = vec![0u8; self.response.len()];
        self.stream.read_exact(&mut answer).await?;
        if answer == self.response {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the floor answered other bytes",
            ))
        }
    }

    /// `(request, response)` sizes of one exchange, in bytes.
    pub fn sizes(&self) -> (usize, usize) {
        (self.request.len(), self.response.len())
    }
}
