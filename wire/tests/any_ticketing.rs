//! The server serves any `Ticketing`, not only `domain::Service`, and the client's
//! streams can be wrapped from outside (the way a harness counts bytes).
//!
//! `domain::Forwarding` is a thin wrapper: it forwards every call to a `Service` and
//! counts it. The conformance suite passes through it over a real socket, and single
//! calls move its counter by exactly one, so the answers really came through it.

mod common;

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use domain::{BookingId, EventId, Forwarding, Ticketing};
use netkit::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticketing_that_is_not_service_is_served_and_conforms() {
    let counting = Arc::new(Forwarding::new(common::service()));
    let server = common::serve(counting.clone(), wire::Config::default()).await;
    let client = Arc::new(wire::Client::connect(server.addr).await.unwrap());

    domain::conformance::run(client.clone(), common::SPEC).await;
    assert!(counting.calls() > 0, "the suite never reached the wrapper");

    let before = counting.calls();
    let event = client.get_event(EventId(1)).await.unwrap();
    assert_eq!(event, counting.inner().get_event(EventId(1)).await.unwrap());
    assert_eq!(counting.calls(), before + 1);
    let missing = client.get_booking(BookingId(u64::MAX)).await.unwrap_err();
    assert_eq!(missing, domain::Error::not_found("booking", u64::MAX));
    assert_eq!(counting.calls(), before + 2);
    // A PING is the protocol's own: it never reaches the API.
    client.ping().await.unwrap();
    assert_eq!(counting.calls(), before + 2);
    server.stop().await.unwrap();
}

/// Bytes read and written through a stream, as a harness would count them.
#[derive(Debug, Default)]
struct Tally {
    read: AtomicU64,
    written: AtomicU64,
}

struct Tallied<S> {
    inner: S,
    tally: Arc<Tally>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tallied<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        self.tally.read.fetch_add(n as u64, Ordering::SeqCst);
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tallied<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = polled {
            self.tally.written.fetch_add(n as u64, Ordering::SeqCst);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Hello, header and length bytes: 8 per hello, 12 per frame.
const HELLO: u64 = 8;
const FRAME_OVERHEAD: u64 = 12;

#[tokio::test]
async fn a_wrapped_client_counts_exactly_the_documented_bytes() {
    let server = common::spawn().await;
    let tally = Arc::new(Tally::default());
    let wrap_tally = Arc::clone(&tally);
    let client = wire::Client::connect_wrapped(
        server.addr,
        2,
        &ClientConfig::default(),
        move |stream: TcpStream| Tallied {
            inner: stream,
            tally: Arc::clone(&wrap_tally),
        },
    )
    .await
    .unwrap();
    // Two connections, two hellos each way.
    assert_eq!(tally.written.load(Ordering::SeqCst), 2 * HELLO);
    assert_eq!(tally.read.load(Ordering::SeqCst), 2 * HELLO);

    // One PING per connection (round-robin): a bare frame each way.
    client.ping().await.unwrap();
    client.ping().await.unwrap();
    let (written, read) = (2 * (HELLO + FRAME_OVERHEAD), 2 * (HELLO + FRAME_OVERHEAD));
    assert_eq!(tally.written.load(Ordering::SeqCst), written);
    assert_eq!(tally.read.load(Ordering::SeqCst), read);

    // A call: a frame each way plus exactly its postcard payloads.
    let event = client.get_event(EventId(1)).await.unwrap();
    let request = postcard::to_allocvec(&wire::messages::EventIdRequest { event_id: 1 }).unwrap();
    let response = postcard::to_allocvec(&wire::messages::Event::from(event)).unwrap();
    assert_eq!(
        tally.written.load(Ordering::SeqCst),
        written + FRAME_OVERHEAD + request.len() as u64
    );
    assert_eq!(
        tally.read.load(Ordering::SeqCst),
        read + FRAME_OVERHEAD + response.len() as u64
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_handshakes_over_a_stream_it_is_given() {
    let server = common::spawn().await;
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let client = wire::Client::from_stream(stream, &ClientConfig::default())
        .await
        .unwrap();
    client.ping().await.unwrap();
    let event = client.get_event(EventId(2)).await.unwrap();
    assert_eq!(event.id, EventId(2));
    server.stop().await.unwrap();
}
