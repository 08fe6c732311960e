//! `Client`: `domain::Ticketing` over the wire protocol.
//!
//! One connection carries many requests at once: each gets a request id, a waiting
//! caller is parked in a map from id to a oneshot sender, a reader task routes every
//! answer to its caller (in whatever order the server sends them), and a writer task
//! batches outgoing frames. When the connection drops, every waiting caller is failed at
//! once, and later calls fail fast. Dropping the last clone of a client (and its
//! availability streams) closes its connections, over any stream type. A client may
//! hold a few connections and spread calls over them round-robin.
//! `watch_availability` subscribes on one of them (`watch.rs`);
//! its PUSH frames share the connection with every call, and the reader routes them to
//! the subscription's bounded queue without ever waiting (`demux.rs`).
//!
//! Compression: the client's hello accepts the codec of `ClientConfig::compression` (none
//! by default); when the server agrees, payloads of at least 1 KiB
//! ([`COMPRESSION_MIN_BYTES`]) travel compressed in both directions, decompressed here
//! within `max_response_bytes`. A server that does not compress (or has it off) agrees
//! on none, and everything goes as it is.
//!
//! The client counts nothing. To measure what it sends and receives, wrap each
//! connection's stream from outside with [`Client::connect_wrapped`] (or open the stream
//! yourself and use [`Client::from_stream`]). A wrapped stream sees the 8-byte client
//! and server hellos, then for every call one request frame and one answer frame, each
//! 12 bytes (the 4-byte length and the 8-byte header) plus its postcard payload, or its
//! compressed form (a 4-byte length and the codec's data) when it was compressed.

mod demux;
mod watch;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use domain::{
    AvailabilityStream, Booking, BookingId, Error, Event, EventDetail, EventId, EventPage,
    HoldRequest, ListEventsRequest, Performer, PerformerId, Result, SearchRequest, SearchResults,
    SeatMap, Ticketing, Venue, VenueId,
};
use futures::{SinkExt, StreamExt};
use netkit::ClientConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;

use crate::codec::{CodecError, WireCodec};
use crate::compression::COMPRESSION_MIN_BYTES;
use crate::config::MAX_IN_FLIGHT;
use crate::error::from_payload;
use crate::frame::{Frame, HEADER_LEN, Kind, Opcode};
use crate::handshake::{Codecs, HELLO_LEN, check_server_hello, client_hello_accepting};
use crate::messages as m;
use demux::Demux;

/// One multiplexed connection. Its stream belongs to its reader and writer tasks, so
/// connections over different stream types look the same from here.
#[derive(Debug)]
struct Connection {
    outgoing: mpsc::Sender<Frame>,
    /// UNSUBSCRIBE frames the client sends on its own (at most one per subscription).
    control: mpsc::UnboundedSender<Frame>,
    demux: Arc<Demux>,
    in_flight: Semaphore,
    request_timeout: Duration,
    max_request_frame: usize,
}

/// A wire-protocol client. Cheap to clone; clones share the connections.
#[derive(Debug, Clone)]
pub struct Client {
    connections: Arc<[Connection]>,
    next: Arc<AtomicUsize>,
}

fn io_error(context: &str, e: impl std::fmt::Display) -> Error {
    Error::internal(format!("{context}: {e}"))
}

// The client's error mapping. A malformed frame or payload (a decode failure, an answer
// of the wrong kind) is INTERNAL: the peer broke the protocol, and retrying will not
// help; a caller whose connection an unreadable frame ended gets that INTERNAL error too
// (`Demux::close_broken`). The server being unreachable or the connection ending before the answer (the
// server draining or gone) is UNAVAILABLE, the domain's "try again later", so a caller
// can decide to retry. UNAVAILABLE does not say the request was not applied: a request
// whose connection ended after it was written may or may not have been, so a caller
// retries only what is safe to repeat (a read, a hold with an idempotency key).

/// The connection is gone (the server closed it, or it broke): UNAVAILABLE. If a
/// request had been written, it may or may not have been applied.
fn connection_closed() -> Error {
    Error::unavailable("connection closed")
}

/// The connection ended after the request was written and before its answer arrived:
/// UNAVAILABLE, though the server may or may not have applied the request.
fn closed_before_answer() -> Error {
    Error::unavailable("connection closed before the answer arrived")
}

/// Connecting to `addr` failed (refused, unreachable, reset): UNAVAILABLE; nothing was
/// sent.
fn connect_failed(addr: SocketAddr, e: &std::io::Error) -> Error {
    Error::unavailable(format!("cannot connect to {addr}: {e}"))
}

impl Client {
    /// One connection to `addr` with the default [`ClientConfig`].
    ///
    /// # Errors
    /// `UNAVAILABLE` if the server cannot be reached; `INTERNAL` if it refuses the
    /// handshake.
    pub async fn connect(addr: SocketAddr) -> Result<Self> {
        Self::connect_with(addr, 1, &ClientConfig::default()).await
    }

    /// `connections` connections (at least 1) to `addr`, each with up to
    /// [`MAX_IN_FLIGHT`] requests in flight. `config` bounds connecting and the
    /// handshake (`connect_timeout`), each call (`request_timeout`), request frames
    /// (`max_request_bytes`: a bigger request fails here with `LIMIT_EXCEEDED`) and
    /// response frames (`max_response_bytes`, before decompression), and names the
    /// codec the hello accepts (`compression`). With `config.tls`, each connection is TLS
    /// (ALPN `quartet-wire/1`) verified against its CA before the hello; a failed
    /// verification is `INTERNAL` saying "certificate verification failed".
    ///
    /// # Errors
    /// As [`Client::connect`].
    pub async fn connect_with(
        addr: SocketAddr,
        connections: usize,
        config: &ClientConfig,
    ) -> Result<Self> {
        let mut opened = Vec::with_capacity(connections.max(1));
        // With `config.tls`: TLS offering the protocol's ALPN id, verified against the
        // configured CA, before the hello.
        let connector = config
            .tls
            .as_ref()
            .map(|tls| tls.connector(&[crate::handshake::ALPN]));
        for _ in 0..connections.max(1) {
            let stream = dial(addr, config).await?;
            if let Some(connector) = &connector {
                // Bounded like the hello: a server that accepts nothing (all its
                // connection slots held) leaves the handshake unanswered, not failed.
                let tls =
                    tokio::time::timeout(config.connect_timeout, connector.connect(stream, addr))
                        .await
                        .map_err(|_| {
                            Error::internal(format!("the TLS handshake with {addr} timed out"))
                        })?
                        .map_err(|e| Error::internal(e.to_string()))?;
                let (read, write) = tokio::io::split(tls);
                opened.push(Connection::open(read, write, config).await?);
            } else {
                let (read, write) = stream.into_split();
                opened.push(Connection::open(read, write, config).await?);
            }
        }
        Ok(Self::over(opened))
    }

    /// As [`Client::connect_with`], with every connection's stream passed through `wrap`
    /// (after `TCP_NODELAY` is set, before the handshake): the way to count bytes, add
    /// TLS of your own, or inject faults without touching the client.
    ///
    /// # Errors
    /// As [`Client::connect`]; `INVALID_ARGUMENT` if `config.tls` is set (`wrap` would
    /// see the stream under TLS).
    pub async fn connect_wrapped<S, W>(
        addr: SocketAddr,
        connections: usize,
        config: &ClientConfig,
        wrap: W,
    ) -> Result<Self>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
        W: Fn(TcpStream) -> S,
    {
        // `wrap` sees the TCP stream, so TLS here would be under it, not over it:
        // refused rather than silently left out.
        if config.tls.is_some() {
            return Err(Error::invalid_argument(
                "config",
                "connect_wrapped does not apply ClientConfig::tls: use connect_with, or wrap the stream in TLS and use from_stream",
            ));
        }
        let mut opened = Vec::with_capacity(connections.max(1));
        for _ in 0..connections.max(1) {
            let (read, write) = tokio::io::split(wrap(dial(addr, config).await?));
            opened.push(Connection::open(read, write, config).await?);
        }
        Ok(Self::over(opened))
    }

    /// One connection over a stream that is already open (any transport): the hello is
    /// exchanged on it within `config.connect_timeout`, then it carries calls as
    /// [`Client::connect_with`] describes.
    ///
    /// # Errors
    /// `INTERNAL` if the handshake fails or the server refuses it.
    pub async fn from_stream<S>(stream: S, config: &ClientConfig) -> Result<Self>
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (read, write) = tokio::io::split(stream);
        Ok(Self::over(vec![
            Connection::open(read, write, config).await?,
        ]))
    }

    fn over(connections: Vec<Connection>) -> Self {
        Client {
            connections: connections.into(),
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn connection(&self) -> &Connection {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.connections.len();
        &self.connections[i]
    }

    /// Sends a PING and waits for its answer: a round trip with no payload.
    ///
    /// # Errors
    /// `UNAVAILABLE` if the connection is gone; `INTERNAL` if the server does not answer
    /// in time.
    pub async fn ping(&self) -> Result<()> {
        let frame = self.connection().call(Opcode::Ping, Bytes::new()).await?;
        expect_response(frame).map(|_| ())
    }

    /// Presents `token` (from `quartet token`) with an AUTH request on every connection
    /// of this client: the requests that follow on them run as its customer. An empty
    /// token goes back to none. The server checks the token on each later request, as
    /// HTTP checks its header, so a bad one fails those with UNAUTHENTICATED.
    ///
    /// # Errors
    /// `UNAVAILABLE` if a connection is gone; `INTERNAL` if it does not answer in time.
    pub async fn authenticate(&self, token: &str) -> Result<()> {
        let payload =
            postcard::to_allocvec(token).map_err(|e| io_error("cannot encode the request", e))?;
        let payload = Bytes::from(payload);
        for connection in self.connections.iter() {
            let frame = connection.call(Opcode::Auth, payload.clone()).await?;
            expect_response(frame)?;
        }
        Ok(())
    }

    async fn request<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        opcode: Opcode,
        request: &Req,
    ) -> Result<Resp> {
        let payload =
            postcard::to_allocvec(request).map_err(|e| io_error("cannot encode the request", e))?;
        let frame = self.connection().call(opcode, payload.into()).await?;
        let payload = expect_response(frame)?;
        postcard::from_bytes(&payload).map_err(|e| io_error("cannot decode the response", e))
    }
}

/// A TCP connection to `addr` within `config.connect_timeout`, with `TCP_NODELAY`.
async fn dial(addr: SocketAddr, config: &ClientConfig) -> Result<TcpStream> {
    let stream = tokio::time::timeout(config.connect_timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| Error::unavailable(format!("connecting to {addr} timed out")))?
        .map_err(|e| connect_failed(addr, &e))?;
    // Best effort: a socket that refuses NODELAY still works, only slower.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// The payload of a response frame, or the error an error frame carries.
fn expect_response(frame: Frame) -> Result<Bytes> {
    match frame.kind {
        Kind::Response => Ok(frame.payload),
        Kind::Error => {
            let payload: m::ErrorPayload = postcard::from_bytes(&frame.payload)
                .map_err(|e| io_error("cannot decode an error frame", e))?;
            Err(from_payload(payload))
        }
        other => Err(Error::internal(format!(
            "unexpected {other:?} frame in answer to a request"
        ))),
    }
}

impl Connection {
    /// Exchanges hellos over the two halves of a stream, then starts the connection's
    /// writer and reader tasks.
    async fn open<R, W>(mut read: R, mut write: W, config: &ClientConfig) -> Result<Self>
    where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let offered = Codecs::only(config.compression);
        let handshake = async {
            write
                .write_all(&client_hello_accepting(offered))
                .await
                .map_err(|e| io_error("handshake", e))?;
            write.flush().await.map_err(|e| io_error("handshake", e))?;
            let mut hello = [0u8; HELLO_LEN];
            read.read_exact(&mut hello)
                .await
                .map_err(|e| io_error("handshake", e))?;
            check_server_hello(&hello, offered).map_err(Error::internal)
        };
        let accepted = tokio::time::timeout(config.connect_timeout, handshake)
            .await
            .map_err(|_| Error::internal("the server did not answer the hello in time"))??;
        let codec = |max: usize| {
            WireCodec::new(max).compressing(accepted.compression, COMPRESSION_MIN_BYTES)
        };

        let (outgoing, to_write) = mpsc::channel::<Frame>(MAX_IN_FLIGHT);
        let (control, to_control) = mpsc::unbounded_channel::<Frame>();
        let demux = Arc::new(Demux::new(&control));
        // Told by the writer once the client and its streams are gone, so the reader lets
        // go of its half too and the connection closes (see `route_answers`).
        let client_gone = CancellationToken::new();
        tokio::spawn(write_frames(
            FramedWrite::new(write, codec(config.max_request_bytes)),
            to_write,
            to_control,
            client_gone.clone(),
            config.request_timeout,
        ));
        tokio::spawn(route_answers(
            FramedRead::new(read, codec(config.max_response_bytes)),
            Arc::clone(&demux),
            client_gone,
        ));
        Ok(Connection {
            outgoing,
            control,
            demux,
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
            request_timeout: config.request_timeout,
            max_request_frame: config.max_request_bytes,
        })
    }

    async fn call(&self, opcode: Opcode, payload: Bytes) -> Result<Frame> {
        if payload.len() + HEADER_LEN > self.max_request_frame {
            return Err(Error::limit_exceeded(
                "request size",
                self.max_request_frame as u64,
            ));
        }
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| connection_closed())?;
        let (answer, answered) = oneshot::channel();
        let id = self.demux.register_call(answer)?;
        if self
            .outgoing
            .send(Frame::request(opcode, id, payload))
            .await
            .is_err()
        {
            self.demux.forget_call(id);
            return Err(connection_closed());
        }
        match tokio::time::timeout(self.request_timeout, answered).await {
            Ok(Ok(frame)) => Ok(frame),
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

/// Writes the callers' frames and the client's own UNSUBSCRIBE frames, flushing once
/// per batch, until both channels are closed (the client and every stream are gone).
/// Then it ends the connection: it shuts its half down (a FIN, and TLS's close_notify
/// first), within `close_timeout`, and tells the reader through `client_gone`.
///
/// Both steps matter. Dropping a half of `tokio::io::split` (any stream that is not a
/// plain `TcpStream`: a TLS stream, a metered one) neither closes nor shuts down
/// anything; the socket closes only when both halves are gone, and the reader's half
/// waits for frames for as long as the server keeps the connection open, which for an
/// idle connection is its idle timeout (60 s). A program opening a connection per
/// request (the benchmark's `connect` scenario) so kept every one it had dropped open
/// on both sides, until the server's `max_connections` were all held and the next
/// connection sat in the listen backlog, its hello and first request never answered.
async fn write_frames<W: AsyncWrite + Unpin>(
    mut sink: FramedWrite<W, WireCodec>,
    mut to_write: mpsc::Receiver<Frame>,
    mut control: mpsc::UnboundedReceiver<Frame>,
    client_gone: CancellationToken,
    close_timeout: Duration,
) {
    loop {
        let first = tokio::select! {
            Some(frame) = control.recv() => frame,
            Some(frame) = to_write.recv() => frame,
            else => {
                // Nobody can send or wait for anything any more. Best effort: a server
                // that does not read holds the shutdown up for `close_timeout` at most,
                // and the reader is let go either way.
                let _ = tokio::time::timeout(close_timeout, sink.close()).await;
                client_gone.cancel();
                return;
            }
        };
        let batch = async {
            sink.feed(first).await?;
            while let Ok(next) = control.try_recv() {
                sink.feed(next).await?;
            }
            while let Ok(next) = to_write.try_recv() {
                sink.feed(next).await?;
            }
            sink.flush().await
        };
        if let Err(e) = batch.await {
            tracing::debug!(error = %e, "wire client: write failed; closing");
            return;
        }
    }
}

/// Routes each frame to its caller or subscription; when the stream ends, fails every
/// caller still waiting and ends every subscription with an error. Stops reading as
/// soon as `client_gone` is cancelled (the client and its streams are gone, so nobody
/// waits for any frame): dropping its half then closes the connection, whether or not
/// the server has closed its side yet.
async fn route_answers<R: AsyncRead + Unpin>(
    mut frames: FramedRead<R, WireCodec>,
    demux: Arc<Demux>,
    client_gone: CancellationToken,
) {
    loop {
        let frame = tokio::select! {
            frame = frames.next() => frame,
            () = client_gone.cancelled() => break,
        };
        let Some(frame) = frame else { break };
        match frame {
            Ok(frame) if frame.request_id == 0 => {
                let reason = expect_response(frame).err();
                tracing::warn!(?reason, "wire client: the server closed the connection");
            }
            Ok(frame) => demux.route(frame),
            Err(e) => {
                tracing::warn!(error = %e, "wire client: unreadable answer; closing");
                // A socket failing is the connection lost (UNAVAILABLE); anything else
                // is a frame the server should not have sent (INTERNAL).
                if !matches!(e, CodecError::Io(_)) {
                    demux.close_broken(Error::internal(format!("unreadable answer: {e}")));
                }
                break;
            }
        }
    }
    demux.close();
}

#[async_trait]
impl Ticketing for Client {
    async fn get_event(&self, id: EventId) -> Result<Event> {
        let event: m::Event = self
            .request(Opcode::GetEvent, &m::EventIdRequest { event_id: id.0 })
            .await?;
        event.try_into()
    }

    async fn list_events(&self, request: ListEventsRequest) -> Result<EventPage> {
        let request = m::ListEventsRequest {
            filter: request.filter.into(),
            cursor: request.cursor,
            limit: request.limit,
        };
        let page: m::EventPage = self.request(Opcode::ListEvents, &request).await?;
        page.try_into()
    }

    async fn search_events(&self, request: SearchRequest) -> Result<SearchResults> {
        let request = m::SearchEventsRequest {
            query: request.query,
            filter: request.filter.into(),
            limit: request.limit,
        };
        let results: m::SearchResults = self.request(Opcode::SearchEvents, &request).await?;
        results.try_into()
    }

    async fn get_event_detail(&self, id: EventId) -> Result<EventDetail> {
        let detail: m::EventDetail = self
            .request(
                Opcode::GetEventDetail,
                &m::EventIdRequest { event_id: id.0 },
            )
            .await?;
        detail.try_into()
    }

    async fn get_venue(&self, id: VenueId) -> Result<Venue> {
        let venue: m::Venue = self
            .request(Opcode::GetVenue, &m::IdRequest { id: id.0 })
            .await?;
        Ok(venue.into())
    }

    async fn get_performer(&self, id: PerformerId) -> Result<Performer> {
        let performer: m::Performer = self
            .request(Opcode::GetPerformer, &m::IdRequest { id: id.0 })
            .await?;
        Ok(performer.into())
    }

    async fn get_seat_map(&self, id: EventId) -> Result<SeatMap> {
        let map: m::SeatMap = self
            .request(Opcode::GetSeatMap, &m::EventIdRequest { event_id: id.0 })
            .await?;
        Ok(map.into())
    }

    async fn hold_seats(&self, request: HoldRequest) -> Result<Booking> {
        let booking: m::Booking = self
            .request(Opcode::HoldSeats, &m::HoldSeatsRequest::from(request))
            .await?;
        booking.try_into()
    }

    async fn get_booking(&self, id: BookingId) -> Result<Booking> {
        let booking: m::Booking = self
            .request(Opcode::GetBooking, &m::IdRequest { id: id.0 })
            .await?;
        booking.try_into()
    }

    async fn confirm_booking(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        let request = m::ConfirmBookingRequest {
            booking_id: id.0,
            expected_version,
        };
        let booking: m::Booking = self.request(Opcode::ConfirmBooking, &request).await?;
        booking.try_into()
    }

    async fn cancel_booking(&self, id: BookingId) -> Result<Booking> {
        let booking: m::Booking = self
            .request(Opcode::CancelBooking, &m::IdRequest { id: id.0 })
            .await?;
        booking.try_into()
    }

    async fn watch_availability(
        &self,
        event_id: EventId,
        from_version: Option<u64>,
    ) -> Result<AvailabilityStream> {
        self.connection().watch(event_id, from_version).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use domain::ErrorCode;

    #[tokio::test]
    async fn a_refused_connect_is_unavailable() {
        // A port just bound and released: nothing listens there.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let error = Client::connect(addr).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::Unavailable, "{error:?}");
    }

    #[test]
    fn a_closed_connection_is_unavailable_and_a_malformed_answer_internal() {
        assert_eq!(connection_closed().code(), ErrorCode::Unavailable);
        assert_eq!(closed_before_answer().code(), ErrorCode::Unavailable);
        let garbage = Frame::request(Opcode::Ping, 1, Bytes::new());
        let error = expect_response(garbage).unwrap_err();
        assert_eq!(error.code(), ErrorCode::Internal, "{error:?}");
    }
}
