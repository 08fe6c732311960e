//! The lean gRPC load client: unary calls on a purpose-built HTTP/2 client
//! ([`super::h2conn`], the default) or on the `h2` crate directly
//! (`QUARTET_LEAN_GRPC=h2`, [`Transport`]), for the read scenarios, so that the gRPC
//! column measures the server and not tonic's per-call machinery (a tower stack, a
//! codec, a body wrapper, header maps built per call) nor the `h2` crate's per-stream
//! bookkeeping on the client's core.
//!
//! One HTTP/2 connection per `--connections` slot ([`H2Connection`], reopened when it
//! breaks), carrying many concurrent streams, one per worker at a time, as `h2load -cN
//! -mM` does, its writes gathering a round of requests as h2load's do. A request is
//! headers built once per run ([`GrpcRequests`]: HPACK-indexed once per connection on
//! the framed transport; a `Uri` and a header map cloned per call on the `h2` crate's,
//! whose writes netkit's `CoalesceWrites` gathers) and the length-prefixed protobuf message:
//! whole for list_events and search_events, encoded with prost into a reused buffer for
//! the per-id calls, where only the id changes. The answer's data frames are read into a
//! reused buffer, then its trailers: `grpc-status` must be 0. The one message is checked
//! ([`super::grpc_check`]) as the JSON clients check theirs. Payload bytes are counted
//! as the metered tonic client counts them: each message without its 5-byte prefix, a
//! compressed answer at its compressed size.
//!
//! With `--compression gzip|zstd` every call carries `grpc-accept-encoding` and a
//! compressed answer (`grpc-encoding`) is decoded ([`crate::compression`]) before its
//! check; an answer in an encoding not asked for fails. Requests go uncompressed, as
//! `grpc::Client` sends them.
//!
//! What does not live here: writes and the browse scenarios, which keep going through
//! `grpc::Client`.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use domain::{Category, EventFilter, EventId};
use grpc::pb;
use h2::client::SendRequest;
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, TE};
use http::{Method, Request, Uri};
use netkit::coalesce_writes::CoalesceWrites;
use prost::Message;
use rand_chacha::ChaCha8Rng;

use super::h2conn::{self, Answer, FramedConn, RequestHeaders};
use super::{Input, grpc_check, http1};
use crate::compression::{self, Compression};
use crate::metering::PayloadMeter;
use crate::scenario::{Outcome, Plan, Scenario};

/// The largest answer accepted, as it comes or decoded.
pub const MAX_MESSAGE: usize = http1::MAX_BODY;

/// The stream window the client advertises: a 20 000-seat map arrives without waiting
/// for a window update.
const STREAM_WINDOW: u32 = 4 << 20;

/// The connection window: every stream of a connection at its full window at once.
const CONNECTION_WINDOW: u32 = 64 << 20;

/// The gRPC message prefix: a compressed flag and a 4-byte big-endian length.
pub(crate) const PREFIX: usize = 5;

const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
const GRPC_ENCODING: HeaderName = HeaderName::from_static("grpc-encoding");
const GRPC_ACCEPT_ENCODING: HeaderName = HeaderName::from_static("grpc-accept-encoding");

/// The RPC a read scenario calls.
fn rpc(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::ListEvents => "ListEvents",
        Scenario::SearchEvents => "SearchEvents",
        Scenario::EventDetail => "GetEventDetail",
        Scenario::SeatMap => "GetSeatMap",
        _ => "GetEvent",
    }
}

/// Where a scenario's `Uri` is in [`GrpcRequests::uris`].
fn slot(scenario: Scenario) -> usize {
    match scenario {
        Scenario::ListEvents => 1,
        Scenario::SearchEvents => 2,
        Scenario::EventDetail => 3,
        Scenario::SeatMap => 4,
        _ => 0,
    }
}

/// `message` with its gRPC prefix (uncompressed), appended to `out`.
pub(crate) fn frame(message: &impl Message, out: &mut BytesMut) {
    let len = message.encoded_len();
    out.reserve(PREFIX + len);
    out.put_u8(0);
    // A request message is a few hundred bytes at most: far under u32::MAX.
    out.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    // Cannot fail: the capacity was reserved just above.
    let _ = message.encode(out);
}

fn framed(message: &impl Message) -> Bytes {
    let mut out = BytesMut::new();
    frame(message, &mut out);
    out.freeze()
}

/// Every request a run's gRPC workers can send, built once: each RPC's `Uri` and the
/// headers every call carries, and the whole framed messages of each category
/// (list_events) and each word (search_events), as `grpc::Client` encodes them.
#[derive(Debug)]
pub struct GrpcRequests {
    uris: [Uri; 5],
    headers: HeaderMap,
    /// The same headers for the framed client ([`h2conn`]), paths in `slot` order.
    framed: Arc<RequestHeaders>,
    compression: Compression,
    by_category: Vec<Bytes>,
    by_word: Vec<Bytes>,
}

impl GrpcRequests {
    /// The requests for a server at `addr`, over `plan`'s words, asking for answers in
    /// `compression`.
    ///
    /// # Errors
    /// If `addr` does not make a valid URI authority (it always does for an IP address).
    pub fn new(addr: SocketAddr, plan: &Plan, compression: Compression) -> Result<Self, String> {
        let uri = |scenario: Scenario| -> Result<Uri, String> {
            format!("http://{addr}/quartet.v1.Ticketing/{}", rpc(scenario))
                .parse()
                .map_err(|e| format!("bad gRPC URI for {addr}: {e}"))
        };
        let uris = [
            uri(Scenario::GetEvent)?,
            uri(Scenario::ListEvents)?,
            uri(Scenario::SearchEvents)?,
            uri(Scenario::EventDetail)?,
            uri(Scenario::SeatMap)?,
        ];
        let mut fields = vec![
            (b":authority".to_vec(), addr.to_string().into_bytes(), false),
            (
                b"content-type".to_vec(),
                b"application/grpc".to_vec(),
                false,
            ),
            (b"te".to_vec(), b"trailers".to_vec(), false),
        ];
        if compression != Compression::None {
            fields.push((
                b"grpc-accept-encoding".to_vec(),
                compression.name().as_bytes().to_vec(),
                false,
            ));
        }
        let framed_headers = Arc::new(RequestHeaders {
            paths: uris.iter().map(|u| u.path().as_bytes().to_vec()).collect(),
            fields,
        });
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        headers.insert(TE, HeaderValue::from_static("trailers"));
        if compression != Compression::None {
            headers.insert(
                GRPC_ACCEPT_ENCODING,
                HeaderValue::from_static(compression.name()),
            );
        }
        // The messages `grpc::Client` builds from the scenario's domain requests.
        let by_category = Category::ALL
            .iter()
            .map(|&category| {
                framed(&pb::ListEventsRequest {
                    filter: Some(
                        EventFilter {
                            category: Some(category),
                            ..EventFilter::default()
                        }
                        .into(),
                    ),
                    page_size: Some(20),
                    page_token: String::new(),
                })
            })
            .collect();
        let by_word = plan
            .words()
            .iter()
            .map(|word| {
                framed(&pb::SearchEventsRequest {
                    query: word.clone(),
                    filter: Some(EventFilter::default().into()),
                    page_size: Some(20),
                })
            })
            .collect();
        Ok(GrpcRequests {
            uris,
            headers,
            framed: framed_headers,
            compression,
            by_category,
            by_word,
        })
    }

    /// The same requests, every call carrying `authorization: Bearer <bearer>` metadata
    /// when given (`--auth`), in the header map cloned per call, as `grpc::Client`'s
    /// `with_bearer` sends it.
    ///
    /// # Errors
    /// A token that cannot be a metadata value.
    pub fn with_bearer(mut self, bearer: Option<&str>) -> Result<Self, String> {
        if let Some(token) = bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| "the bearer token must be visible ASCII".to_owned())?;
            value.set_sensitive(true);
            self.headers.insert(http::header::AUTHORIZATION, value);
            let mut framed = RequestHeaders {
                paths: self.framed.paths.clone(),
                fields: self.framed.fields.clone(),
            };
            framed.fields.push((
                b"authorization".to_vec(),
                format!("Bearer {token}").into_bytes(),
                true,
            ));
            self.framed = Arc::new(framed);
        }
        Ok(self)
    }

    /// The call of `scenario` for `input`: its URI and its framed message (encoded into
    /// `scratch` for the per-id calls).
    fn call(&self, scenario: Scenario, input: Input, scratch: &mut BytesMut) -> (&Uri, Bytes) {
        let uri = &self.uris[slot(scenario)];
        let body = match input {
            Input::Event(id) => {
                let event_id = id.0;
                match scenario {
                    Scenario::EventDetail => {
                        frame(&pb::GetEventDetailRequest { event_id }, scratch);
                    }
                    Scenario::SeatMap => frame(&pb::GetSeatMapRequest { event_id }, scratch),
                    _ => frame(&pb::GetEventRequest { event_id }, scratch),
                }
                scratch.split().freeze()
            }
            Input::Category(i) => self.by_category.get(i).cloned().unwrap_or_default(),
            Input::Word(i) => self.by_word.get(i).cloned().unwrap_or_default(),
        };
        (uri, body)
    }

    /// The framed message of `scenario` for `input` (encoded into `scratch` for the
    /// per-id calls), for the framed client, which copies it into its own buffer.
    fn message<'a>(
        &'a self,
        scenario: Scenario,
        input: Input,
        scratch: &'a mut BytesMut,
    ) -> &'a [u8] {
        match input {
            Input::Event(id) => {
                let event_id = id.0;
                scratch.clear();
                match scenario {
                    Scenario::EventDetail => {
                        frame(&pb::GetEventDetailRequest { event_id }, scratch);
                    }
                    Scenario::SeatMap => frame(&pb::GetSeatMapRequest { event_id }, scratch),
                    _ => frame(&pb::GetEventRequest { event_id }, scratch),
                }
                &scratch[..]
            }
            Input::Category(i) => self.by_category.get(i).map_or(&[][..], |b| &b[..]),
            Input::Word(i) => self.by_word.get(i).map_or(&[][..], |b| &b[..]),
        }
    }
}

/// Which HTTP/2 client the lean gRPC workers use: the framed one ([`h2conn`], the
/// default) or the `h2` crate's (`QUARTET_LEAN_GRPC=h2`, kept to compare against and
/// as a fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// [`h2conn`]: one driver task per connection, pre-encoded requests.
    Framed,
    /// The `h2` crate, its connection on a task of its own.
    H2,
}

impl Transport {
    /// The transport `QUARTET_LEAN_GRPC` names (`h2` or `framed`); framed when unset or
    /// anything else.
    pub fn from_env() -> Self {
        match std::env::var("QUARTET_LEAN_GRPC").as_deref() {
            Ok("h2") => Transport::H2,
            _ => Transport::Framed,
        }
    }
}

/// Opens an HTTP/2 connection to `addr` on the `h2` crate and drives it on a task of
/// its own until every handle to it is gone or it fails; its writes gather a round of
/// requests each ([`CoalesceWrites`]).
async fn dial(
    addr: SocketAddr,
    tls: Option<&netkit::tls::Connector>,
) -> io::Result<SendRequest<Bytes>> {
    let tcp = super::stream::dial(addr, tls).await?;
    let (send, connection) = h2::client::Builder::new()
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .handshake::<_, Bytes>(CoalesceWrites::new(tcp))
        .await
        .map_err(io::Error::other)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("lean gRPC connection to {addr} ended: {e}");
        }
    });
    Ok(send)
}

/// One connection's client: the `h2` crate's handle or the framed connection.
#[derive(Clone)]
enum Link {
    H2(SendRequest<Bytes>),
    Framed(FramedConn),
}

impl Link {
    async fn dial(
        transport: Transport,
        addr: SocketAddr,
        tls: Option<&netkit::tls::Connector>,
    ) -> io::Result<Link> {
        Ok(match transport {
            Transport::H2 => Link::H2(dial(addr, tls).await?),
            Transport::Framed => Link::Framed(FramedConn::open(addr, tls).await?),
        })
    }
}

/// One HTTP/2 connection that many workers share, each through its own handle. When it
/// breaks, the first worker to notice opens the next one; the others pick that up
/// instead of opening their own (a generation number tells them apart).
pub struct H2Connection {
    addr: SocketAddr,
    /// TLS for every (re)connection (`--tls`), ALPN h2.
    tls: Option<netkit::tls::Connector>,
    transport: Transport,
    current: tokio::sync::Mutex<(u64, Link)>,
}

impl H2Connection {
    /// Opens a connection to `addr` on the transport [`Transport::from_env`] names.
    ///
    /// # Errors
    /// If it cannot connect or the HTTP/2 handshake fails.
    pub async fn open(addr: SocketAddr) -> io::Result<Arc<Self>> {
        Self::open_with(addr, None, Transport::from_env()).await
    }

    /// Opens a connection to `addr` for unary calls, through TLS with `tls` (its ALPN
    /// should be h2), on the transport [`Transport::from_env`] names.
    ///
    /// # Errors
    /// If it cannot connect, or the TLS or HTTP/2 handshake fails.
    pub async fn open_tls(
        addr: SocketAddr,
        tls: Option<netkit::tls::Connector>,
    ) -> io::Result<Arc<Self>> {
        Self::open_with(addr, tls, Transport::from_env()).await
    }

    /// Opens a connection to `addr` on `transport`, through TLS with `tls` when given.
    ///
    /// # Errors
    /// If it cannot connect, or the TLS handshake fails.
    pub async fn open_with(
        addr: SocketAddr,
        tls: Option<netkit::tls::Connector>,
        transport: Transport,
    ) -> io::Result<Arc<Self>> {
        let link = Link::dial(transport, addr, tls.as_ref()).await?;
        Ok(Arc::new(H2Connection {
            addr,
            tls,
            transport,
            current: tokio::sync::Mutex::new((0, link)),
        }))
    }

    /// The transport this connection's calls use.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The current connection's client, with its generation.
    async fn link(&self) -> (u64, Link) {
        let current = self.current.lock().await;
        (current.0, current.1.clone())
    }

    /// A connection newer than generation `broken`, opening one if nobody has yet.
    async fn reopen(&self, broken: u64) -> io::Result<(u64, Link)> {
        let mut current = self.current.lock().await;
        if current.0 == broken {
            let link = Link::dial(self.transport, self.addr, self.tls.as_ref()).await?;
            *current = (broken + 1, link);
        }
        Ok((current.0, current.1.clone()))
    }
}

/// Why a call failed: the connection (reopened before the next call) or the call.
enum CallError {
    Connection(String),
    Call(String),
}

impl From<h2::Error> for CallError {
    fn from(e: h2::Error) -> Self {
        if e.is_io() || e.is_go_away() {
            CallError::Connection(e.to_string())
        } else {
            CallError::Call(e.to_string())
        }
    }
}

impl From<h2conn::CallError> for CallError {
    fn from(e: h2conn::CallError) -> Self {
        match e {
            h2conn::CallError::Connection(why) => CallError::Connection(why),
            h2conn::CallError::Call(why) => CallError::Call(why),
        }
    }
}

/// A worker's client on its connection: an `h2` handle, or a slot of a framed
/// connection and the answer it reuses.
enum Backend {
    H2(SendRequest<Bytes>),
    Framed {
        conn: FramedConn,
        slot: usize,
        answer: Answer,
    },
}

impl Backend {
    fn new(link: Link, requests: &GrpcRequests) -> Self {
        match link {
            Link::H2(send) => Backend::H2(send),
            Link::Framed(conn) => {
                let slot = conn.register(Arc::clone(&requests.framed));
                Backend::Framed {
                    conn,
                    slot,
                    answer: Answer::default(),
                }
            }
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Backend::Framed { conn, slot, .. } = self {
            conn.release(*slot);
        }
    }
}

/// One simulated client: draws its inputs from the same seeded stream as the `Ticketing`
/// workers, runs one call at a time on its connection, checks every answer.
pub struct GrpcWorker {
    plan: Arc<Plan>,
    requests: Arc<GrpcRequests>,
    scenario: Scenario,
    rng: ChaCha8Rng,
    connection: Arc<H2Connection>,
    backend: Backend,
    generation: u64,
    meter: Arc<PayloadMeter>,
    /// Always ask for this event (the h2 floor serves one event's bytes).
    fixed: Option<EventId>,
    /// Where per-id request messages are encoded (reused).
    scratch: BytesMut,
    /// The answer's data frames (reused).
    received: Vec<u8>,
    /// A compressed message, decoded (reused).
    decoded: Vec<u8>,
}

impl GrpcWorker {
    /// Worker `index` of `scenario` (one of [`super::SCENARIOS`]) on `connection`.
    pub async fn new(
        connection: Arc<H2Connection>,
        plan: Arc<Plan>,
        requests: Arc<GrpcRequests>,
        scenario: Scenario,
        index: usize,
        meter: Arc<PayloadMeter>,
    ) -> Self {
        let (generation, link) = connection.link().await;
        let backend = Backend::new(link, &requests);
        GrpcWorker {
            rng: plan.input_stream(scenario, index),
            plan,
            requests,
            scenario,
            connection,
            backend,
            generation,
            meter,
            fixed: None,
            scratch: BytesMut::with_capacity(64),
            received: Vec::with_capacity(4096),
            decoded: Vec::new(),
        }
    }

    /// Asks for `id` every time instead of drawing (for a floor serving one event).
    #[must_use]
    pub fn fixed(mut self, id: EventId) -> Self {
        self.fixed = Some(id);
        self
    }

    /// Runs one call and checks its answer. A broken connection fails this call and is
    /// reopened for the next.
    pub async fn run_once(&mut self) -> Outcome {
        let input = super::draw(&self.plan, &mut self.rng, self.scenario, self.fixed);
        let answer = if let Backend::Framed {
            conn,
            slot: own,
            answer,
        } = &mut self.backend
        {
            let message = self
                .requests
                .message(self.scenario, input, &mut self.scratch);
            let sent = message.len().saturating_sub(PREFIX);
            let result = conn.call(*own, slot(self.scenario), message, answer).await;
            // The answer's bytes become this worker's `received` (a swap, no copy).
            std::mem::swap(&mut self.received, &mut answer.data);
            match result {
                Ok(()) => framed_answer(answer, &self.received, &self.requests, &mut self.decoded)
                    .map(|a| (a, sent)),
                Err(e) => Err(e.into()),
            }
        } else {
            let (uri, body) = self.requests.call(self.scenario, input, &mut self.scratch);
            let sent = body.len().saturating_sub(PREFIX);
            let mut request = Request::new(());
            *request.method_mut() = Method::POST;
            *request.uri_mut() = uri.clone();
            *request.headers_mut() = self.requests.headers.clone();
            self.call_h2(request, body).await.map(|a| (a, sent))
        };
        let ((message, compressed), sent) = match answer {
            Ok(answer) => answer,
            Err(CallError::Call(why)) => {
                return Outcome::Failed(format!("{}: {why}", self.scenario));
            }
            Err(CallError::Connection(why)) => {
                if let Ok((generation, link)) = self.connection.reopen(self.generation).await {
                    self.generation = generation;
                    self.backend = Backend::new(link, &self.requests);
                }
                return Outcome::Failed(format!("{}: connection lost: {why}", self.scenario));
            }
        };
        self.meter.add_sent(sent);
        self.meter.add_received(message);
        let message = if compressed {
            &self.decoded[..]
        } else {
            self.received.get(PREFIX..).unwrap_or_default()
        };
        match input {
            Input::Event(id) => match self.scenario {
                Scenario::EventDetail => grpc_check::event_detail(message, id),
                Scenario::SeatMap => grpc_check::seat_map(message, &self.plan, id),
                _ => grpc_check::get_event(message, &self.plan, id),
            },
            Input::Category(i) => {
                grpc_check::list_events(message, Category::ALL[i % Category::ALL.len()])
            }
            Input::Word(i) => {
                let word = self.plan.words().get(i).map_or("", String::as_str);
                grpc_check::search_events(message, word)
            }
        }
    }

    /// Sends `request` with `body` on the `h2` crate, reads the answer into `received`
    /// (decoded into `decoded` when compressed) and its trailers; returns the message's
    /// size as it came and whether it came compressed.
    async fn call_h2(
        &mut self,
        request: Request<()>,
        body: Bytes,
    ) -> Result<(usize, bool), CallError> {
        let Backend::H2(send) = &mut self.backend else {
            return Err(CallError::Call("not an h2 connection".into()));
        };
        poll_fn(|cx| send.poll_ready(cx)).await?;
        let (response, mut stream) = send.send_request(request, false)?;
        stream.send_data(body, true)?;
        let (head, mut body) = response.await?.into_parts();
        if head.status != http::StatusCode::OK {
            return Err(CallError::Call(format!("HTTP {}", head.status)));
        }
        // A trailers-only answer (an error) carries its status in the headers.
        if head.headers.contains_key(GRPC_STATUS) {
            grpc_status(&head.headers)?;
            return Err(CallError::Call("an OK status without a message".into()));
        }
        let encoding = head.headers.get(GRPC_ENCODING).map(HeaderValue::as_bytes);
        self.received.clear();
        while let Some(data) = body.data().await {
            let data = data?;
            // Give the window back as data arrives, so a long answer keeps flowing.
            body.flow_control().release_capacity(data.len())?;
            if self.received.len() + data.len() > PREFIX + MAX_MESSAGE {
                return Err(CallError::Call(format!(
                    "an answer over {MAX_MESSAGE} bytes"
                )));
            }
            self.received.extend_from_slice(&data);
        }
        let trailers = body
            .trailers()
            .await?
            .ok_or_else(|| CallError::Call("no trailers (no grpc-status)".into()))?;
        grpc_status(&trailers)?;
        unframe(&self.received, encoding, &self.requests, &mut self.decoded)
    }
}

/// Judges a framed answer as [`GrpcWorker::call_h2`] judges the `h2` crate's: HTTP 200,
/// `grpc-status` 0 in the trailers (a trailers-only answer is an error, or an OK without
/// a message), then one message in `received`.
fn framed_answer(
    answer: &Answer,
    received: &[u8],
    requests: &GrpcRequests,
    decoded: &mut Vec<u8>,
) -> Result<(usize, bool), CallError> {
    if answer.status != 200 {
        return Err(CallError::Call(format!("HTTP {}", answer.status)));
    }
    let status = match answer.grpc_status {
        Some(Ok(0)) => Ok(()),
        Some(Ok(code)) => Err(CallError::Call(format!(
            "grpc-status {code}: {}",
            String::from_utf8_lossy(&answer.grpc_message)
        ))),
        Some(Err(())) => Err(CallError::Call("a grpc-status that is not a number".into())),
        None => Err(CallError::Call("no trailers (no grpc-status)".into())),
    };
    if answer.trailers_only {
        status?;
        return Err(CallError::Call("an OK status without a message".into()));
    }
    status?;
    let encoding = (!answer.encoding.is_empty()).then_some(&answer.encoding[..]);
    unframe(received, encoding, requests, decoded)
}

/// The one message in `received` (its gRPC prefix checked), decoded into `decoded` when
/// compressed in the encoding asked for; returns its size as it came and whether it came
/// compressed.
fn unframe(
    received: &[u8],
    encoding: Option<&[u8]>,
    requests: &GrpcRequests,
    decoded: &mut Vec<u8>,
) -> Result<(usize, bool), CallError> {
    let used = encoding.map_or(Some(Compression::None), compression::from_content_encoding);
    let Some((&[flag, a, b, c, d], message)) = received.split_first_chunk::<PREFIX>() else {
        return Err(CallError::Call("no message in the answer".into()));
    };
    let len = u32::from_be_bytes([a, b, c, d]) as usize;
    if message.len() != len {
        return Err(CallError::Call(format!(
            "a {len}-byte message framed in {} bytes (one message expected)",
            message.len()
        )));
    }
    match (flag, used) {
        (0, _) => {}
        (1, Some(used)) if used != Compression::None && used == requests.compression => {
            compression::decode(used, message, MAX_MESSAGE, decoded)
                .map_err(|e| CallError::Call(e.to_string()))?;
        }
        (1, _) => {
            return Err(CallError::Call(format!(
                "a compressed message in {:?} after asking for {}",
                encoding.map(String::from_utf8_lossy),
                requests.compression
            )));
        }
        (other, _) => {
            return Err(CallError::Call(format!(
                "a message with compressed flag {other}"
            )));
        }
    }
    Ok((len, flag == 1))
}

/// `Ok` for `grpc-status: 0`, else the status and its message.
fn grpc_status(headers: &HeaderMap) -> Result<(), CallError> {
    match headers.get(GRPC_STATUS).map(HeaderValue::as_bytes) {
        Some(b"0") => Ok(()),
        Some(code) => Err(CallError::Call(format!(
            "grpc-status {}: {}",
            String::from_utf8_lossy(code),
            headers
                .get(GRPC_MESSAGE)
                .map(|m| String::from_utf8_lossy(m.as_bytes()))
                .unwrap_or_default()
        ))),
        None => Err(CallError::Call("no grpc-status".into())),
    }
}

#[async_trait::async_trait]
impl crate::load::Step for GrpcWorker {
    async fn step(&mut self) -> Outcome {
        self.run_once().await
    }
}
