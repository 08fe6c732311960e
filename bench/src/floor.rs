//! The `tcp-floor` baseline: a raw TCP ping-pong carrying exactly the bytes of the wire
//! protocol's GET_EVENT exchange (the request frame one way, the response frame the
//! other), with no parsing and no work. Whatever a protocol adds above this is its cost;
//! this is the physical floor of the machine and the kernel.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use domain::{Event, EventId, Ticketing};
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
