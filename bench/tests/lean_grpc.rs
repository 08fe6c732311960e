#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The lean gRPC client's framed HTTP/2 transport (`lean::h2conn`) against real servers:
//! its answers pass their checks and count the same bytes as the `h2` crate path, many
//! calls share one connection, a gRPC error status is the call's failure with its code
//! and message (read through HPACK's Huffman coding and dynamic table as the `h2`
//! crate's encoder writes them), a GOAWAY or a lost connection fails calls within a
//! deadline instead of hanging, and a round of answers read at once sends its callers'
//! next calls in one write (as `h2load` does), counted on the socket.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bench::compression::Compression;
use bench::lean::grpc::{GrpcRequests, GrpcWorker, H2Connection, Transport};
use bench::lean::{self};
use bench::metering::PayloadMeter;
use bench::protocol::Protocol;
use bench::scenario::{Outcome, Plan, Scenario};
use bytes::Bytes;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

use common::{plan, serve};

/// Every wait in these tests ends by then.
const DEADLINE: Duration = Duration::from_secs(10);

async fn worker(
    connection: &Arc<H2Connection>,
    plan: &Arc<Plan>,
    requests: &Arc<GrpcRequests>,
    scenario: Scenario,
    index: usize,
    meter: &Arc<PayloadMeter>,
) -> GrpcWorker {
    GrpcWorker::new(
        Arc::clone(connection),
        Arc::clone(plan),
        Arc::clone(requests),
        scenario,
        index,
        Arc::clone(meter),
    )
    .await
}

async fn framed(addr: SocketAddr) -> Arc<H2Connection> {
    H2Connection::open_with(addr, None, Transport::Framed)
        .await
        .unwrap()
}

#[tokio::test]
async fn framed_and_h2_transports_agree_on_answers_and_bytes() {
    let plan = plan();
    let server = serve(Protocol::Grpc).await;
    let requests = Arc::new(GrpcRequests::new(server.addr, &plan, Compression::None).unwrap());
    let framed_conn = framed(server.addr).await;
    assert_eq!(framed_conn.transport(), Transport::Framed);
    let h2_conn = H2Connection::open_with(server.addr, None, Transport::H2)
        .await
        .unwrap();
    for scenario in lean::SCENARIOS {
        let (m1, m2) = (Arc::default(), Arc::default());
        let mut a = worker(&framed_conn, &plan, &requests, scenario, 5, &m1).await;
        let mut b = worker(&h2_conn, &plan, &requests, scenario, 5, &m2).await;
        for _ in 0..20 {
            assert_eq!(a.run_once().await, Outcome::Ok, "framed {scenario}");
            assert_eq!(b.run_once().await, Outcome::Ok, "h2 {scenario}");
        }
        assert_eq!(m1.totals(), m2.totals(), "{scenario}");
        assert!(m1.totals().1 > 0, "{scenario}");
    }
    drop((framed_conn, h2_conn));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn many_concurrent_calls_share_one_framed_connection() {
    let plan = plan();
    let server = serve(Protocol::Grpc).await;
    let connection = framed(server.addr).await;
    for compression in [Compression::None, Compression::Gzip] {
        let requests = Arc::new(GrpcRequests::new(server.addr, &plan, compression).unwrap());
        let meter = Arc::new(PayloadMeter::default());
        let mut tasks = Vec::new();
        for (i, scenario) in lean::SCENARIOS.iter().cycle().take(48).enumerate() {
            let mut w = worker(&connection, &plan, &requests, *scenario, i, &meter).await;
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    let outcome = w.run_once().await;
                    assert_eq!(outcome, Outcome::Ok, "{scenario} {compression}");
                }
            }));
        }
        tokio::time::timeout(DEADLINE, async {
            for task in tasks {
                task.await.unwrap();
            }
        })
        .await
        .expect("48 workers x 10 calls within the deadline");
        assert!(meter.totals().0 > 0 && meter.totals().1 > 0);
    }
    drop(connection);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_grpc_error_status_fails_the_call_with_its_code() {
    let plan = plan();
    let server = serve(Protocol::Grpc).await;
    let requests = Arc::new(GrpcRequests::new(server.addr, &plan, Compression::None).unwrap());
    let connection = framed(server.addr).await;
    let meter = Arc::default();
    let mut missing = worker(&connection, &plan, &requests, Scenario::GetEvent, 0, &meter)
        .await
        .fixed(domain::EventId(u64::from(common::SPEC.events) + 1));
    let mut fine = worker(&connection, &plan, &requests, Scenario::GetEvent, 1, &meter).await;
    for _ in 0..3 {
        // NOT_FOUND comes trailers-only; the connection stays usable.
        assert!(
            matches!(missing.run_once().await, Outcome::Failed(why) if why.contains("grpc-status 5")),
            "NOT_FOUND must fail with its status"
        );
        assert_eq!(fine.run_once().await, Outcome::Ok);
    }
    drop((missing, fine, connection));
    server.stop().await.unwrap();
}

/// One call's answer: its header fields, then its trailer fields.
type Fields = (Vec<(String, String)>, Vec<(String, String)>);

/// A bare `h2` server: answers every request with `answer(n)` (the nth call's headers
/// and trailers: status, message), or, with `goaway_after`, sends GOAWAY after reading
/// that many requests and answers nothing more.
async fn h2_server(goaway_after: Option<usize>, answer: fn(usize) -> Fields) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let Ok((socket, _)) = listener.accept().await else {
            return;
        };
        // One connection only: a reconnection is refused.
        drop(listener);
        let mut conn = h2::server::handshake(socket).await.unwrap();
        let mut n = 0;
        let mut held = Vec::new();
        while let Some(Ok((request, mut respond))) = conn.accept().await {
            n += 1;
            if goaway_after.is_some_and(|after| n >= after) {
                held.push(respond);
                conn.abrupt_shutdown(h2::Reason::ENHANCE_YOUR_CALM);
                continue;
            }
            drop(request);
            let (headers, trailers) = answer(n);
            let mut response = http::Response::builder().status(200);
            for (k, v) in headers {
                response = response.header(k, v);
            }
            let mut stream = respond
                .send_response(response.body(()).unwrap(), false)
                .unwrap();
            // An empty GetEventResponse: the check fails, the statuses decide first.
            stream
                .send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), false)
                .unwrap();
            let mut map = http::HeaderMap::new();
            for (k, v) in trailers {
                map.insert(
                    http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            stream.send_trailers(map).unwrap();
        }
        // Keep the held streams open until the client is gone.
        drop(held);
    });
    addr
}

fn failure(outcome: Outcome) -> String {
    match outcome {
        Outcome::Failed(why) => why,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn statuses_are_read_through_huffman_and_a_churning_dynamic_table() {
    // Every answer carries new header values (each indexed, evicting older ones from a
    // 4 KiB table) and a grpc-message naming the call: reading the nth message right
    // means every block before it was decoded right.
    fn answer(n: usize) -> Fields {
        let filler = "x".repeat(300 + n % 7 * 50);
        (
            vec![
                ("content-type".into(), "application/grpc".into()),
                (format!("x-call-{n}"), format!("value {n} {filler}")),
            ],
            vec![
                ("grpc-status".into(), (3 + n % 5).to_string()),
                ("grpc-message".into(), format!("call number {n}")),
            ],
        )
    }
    let plan = plan();
    let addr = h2_server(None, answer).await;
    let requests = Arc::new(GrpcRequests::new(addr, &plan, Compression::None).unwrap());
    let connection = framed(addr).await;
    let mut w = worker(
        &connection,
        &plan,
        &requests,
        Scenario::GetEvent,
        0,
        &Arc::default(),
    )
    .await;
    for n in 1..=60 {
        let why = tokio::time::timeout(DEADLINE, w.run_once())
            .await
            .map(failure)
            .expect("an answer within the deadline");
        assert!(
            why.contains(&format!("grpc-status {}: call number {n}", 3 + n % 5)),
            "call {n}: {why}"
        );
    }
}

#[tokio::test]
async fn a_goaway_fails_the_call_in_flight_and_the_next_without_hanging() {
    fn answer(_: usize) -> Fields {
        (
            vec![("content-type".into(), "application/grpc".into())],
            vec![("grpc-status".into(), "0".into())],
        )
    }
    let plan = plan();
    let addr = h2_server(Some(2), answer).await;
    let requests = Arc::new(GrpcRequests::new(addr, &plan, Compression::None).unwrap());
    let connection = framed(addr).await;
    let mut w = worker(
        &connection,
        &plan,
        &requests,
        Scenario::GetEvent,
        0,
        &Arc::default(),
    )
    .await;
    // The first call is answered (an empty message: the check fails, not the transport).
    let first = failure(tokio::time::timeout(DEADLINE, w.run_once()).await.unwrap());
    assert!(!first.contains("connection lost"), "{first}");
    // The second is met by GOAWAY: a lost connection, promptly.
    let second = failure(tokio::time::timeout(DEADLINE, w.run_once()).await.unwrap());
    assert!(
        second.contains("connection lost") && second.contains("ENHANCE_YOUR_CALM"),
        "{second}"
    );
    // The server takes no new connection: the next call fails too, and does not hang.
    let third = failure(tokio::time::timeout(DEADLINE, w.run_once()).await.unwrap());
    assert!(third.contains("connection lost"), "{third}");
}

#[tokio::test]
async fn a_dropped_connection_fails_calls_without_hanging() {
    let plan = plan();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (read_some, got_bytes) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        // Read the preface and the first request, then vanish without a word.
        let mut buf = vec![0u8; 4096];
        let mut total = 0;
        while total < 100 {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
        let _ = read_some.send(total);
        drop(socket);
        drop(listener);
    });
    let requests = Arc::new(GrpcRequests::new(addr, &plan, Compression::None).unwrap());
    let connection = framed(addr).await;
    let mut w = worker(
        &connection,
        &plan,
        &requests,
        Scenario::GetEvent,
        0,
        &Arc::default(),
    )
    .await;
    let why = failure(tokio::time::timeout(DEADLINE, w.run_once()).await.unwrap());
    assert!(why.contains("connection lost"), "{why}");
    assert!(
        got_bytes.await.unwrap() >= 100,
        "the request reached the server"
    );
    let again = failure(tokio::time::timeout(DEADLINE, w.run_once()).await.unwrap());
    assert!(again.contains("connection lost"), "{again}");
}

/// Records the bytes of every write to `inner`, one entry per `poll_write`.
struct CountingWrites<S> {
    inner: S,
    writes: Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for CountingWrites<S> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for CountingWrites<S> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let written = std::pin::Pin::new(&mut this.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = written {
            this.writes.lock().unwrap().push(buf[..n].to_vec());
        }
        written
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// For each write in `writes`, how many HEADERS frames begin in it.
fn headers_per_write(writes: &[Vec<u8>]) -> Vec<usize> {
    use bench::lean::h2frames::{self, kind};
    let mut counts = vec![0; writes.len()];
    let mut starts = Vec::new();
    let mut all = Vec::new();
    for w in writes {
        starts.push(all.len());
        all.extend_from_slice(w);
    }
    let mut at = h2frames::PREFACE.len();
    while let Some(head) = h2frames::head(&all[at.min(all.len())..]) {
        if head.kind == kind::HEADERS {
            let write = starts.partition_point(|&s| s <= at) - 1;
            counts[write] += 1;
        }
        at += h2frames::HEADER_LEN + head.len;
    }
    counts
}

/// A raw HTTP/2 server on `io` that answers requests in rounds of `round`: it reads until
/// `round` whole requests have come, then writes all their answers in one write (as a
/// server does that read them all at once), `rounds` times.
async fn round_server(mut io: tokio::io::DuplexStream, round: usize, rounds: usize) {
    use bench::lean::h2frames::{self, flag, kind};
    use tokio::io::AsyncWriteExt;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 << 10];
    let mut preface = false;
    let mut settings = Vec::new();
    h2frames::put_head(&mut settings, 0, kind::SETTINGS, 0, 0);
    io.write_all(&settings).await.unwrap();
    let mut done = Vec::new();
    for _ in 0..rounds {
        while done.len() < round {
            let n = io.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the client closed early");
            buf.extend_from_slice(&chunk[..n]);
            if !preface && buf.len() >= h2frames::PREFACE.len() {
                buf.drain(..h2frames::PREFACE.len());
                preface = true;
            }
            while let Some(head) = h2frames::head(&buf) {
                if buf.len() < h2frames::HEADER_LEN + head.len {
                    break;
                }
                if head.kind == kind::DATA && head.flags & flag::END_STREAM != 0 {
                    done.push(head.stream);
                }
                buf.drain(..h2frames::HEADER_LEN + head.len);
            }
        }
        let mut out = Vec::new();
        for stream in done.drain(..round) {
            // :status 200 (static index 8), then content-type and grpc-status as
            // literals without indexing, new names.
            let mut block = vec![0x88, 0, 12];
            block.extend_from_slice(b"content-type");
            block.push(16);
            block.extend_from_slice(b"application/grpc");
            h2frames::put_head(
                &mut out,
                block.len(),
                kind::HEADERS,
                flag::END_HEADERS,
                stream,
            );
            out.extend_from_slice(&block);
            h2frames::put_head(&mut out, 5, kind::DATA, 0, stream);
            out.extend_from_slice(&[0, 0, 0, 0, 0]);
            let mut trailers = vec![0, 11];
            trailers.extend_from_slice(b"grpc-status");
            trailers.extend_from_slice(&[1, b'0']);
            h2frames::put_head(
                &mut out,
                trailers.len(),
                kind::HEADERS,
                flag::END_HEADERS | flag::END_STREAM,
                stream,
            );
            out.extend_from_slice(&trailers);
        }
        io.write_all(&out).await.unwrap();
    }
    // Hold the connection until the client is gone.
    while io.read(&mut chunk).await.is_ok_and(|n| n > 0) {}
}

/// As `h2load` does: when one read brings a round of answers, every caller answered
/// there has its next call in the same write (one write per round, not one per few
/// callers), on the runtime the harness uses (one worker thread).
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_round_of_answers_read_at_once_brings_its_next_calls_in_one_write() {
    use bench::lean::h2conn::{Answer, FramedConn, RequestHeaders};
    const CALLERS: usize = 32;
    const ROUNDS: usize = 6;
    let (client, server) = tokio::io::duplex(1 << 20);
    let writes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let io = CountingWrites {
        inner: client,
        writes: Arc::clone(&writes),
    };
    let server = tokio::spawn(round_server(server, CALLERS, ROUNDS));
    let conn = FramedConn::spawn(io, false, "test".into());
    let headers = Arc::new(RequestHeaders {
        paths: vec![b"/quartet.v1.Ticketing/GetEvent".to_vec()],
        fields: vec![
            (
                b"content-type".to_vec(),
                b"application/grpc".to_vec(),
                false,
            ),
            (b"te".to_vec(), b"trailers".to_vec(), false),
        ],
    });
    let mut tasks = Vec::new();
    for _ in 0..CALLERS {
        let conn = conn.clone();
        let slot = conn.register(Arc::clone(&headers));
        tasks.push(tokio::spawn(async move {
            let mut answer = Answer::default();
            for _ in 0..ROUNDS {
                conn.call(slot, 0, &[0, 0, 0, 0, 2, 8, 1], &mut answer)
                    .await
                    .unwrap();
                assert_eq!(answer.status, 200);
                assert_eq!(answer.grpc_status, Some(Ok(0)));
                assert_eq!(answer.data, [0, 0, 0, 0, 0]);
            }
        }));
    }
    tokio::time::timeout(DEADLINE, async {
        for task in tasks {
            task.await.unwrap();
        }
    })
    .await
    .expect("every round within the deadline");
    drop(conn);
    let writes = writes.lock().unwrap().clone();
    let per_write: Vec<usize> = headers_per_write(&writes)
        .into_iter()
        .filter(|&n| n > 0)
        .collect();
    assert_eq!(per_write.iter().sum::<usize>(), CALLERS * ROUNDS);
    // The first round starts as the callers are spawned; every later one was started
    // by one read of a whole round of answers and must leave in one write.
    let first: usize = per_write
        .iter()
        .scan(0, |sum, &n| {
            *sum += n;
            Some(*sum)
        })
        .position(|sum| sum == CALLERS)
        .expect("the first round ends on a write boundary")
        + 1;
    assert_eq!(
        per_write[first..],
        [CALLERS; ROUNDS - 1],
        "requests per write after the first round: {per_write:?}"
    );
    server.await.unwrap();
}
