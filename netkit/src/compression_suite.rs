//! The response-compression checks REST's and GraphQL's tests share (features
//! `test-suites` and `http-server`), so both HTTP protocols are held to one behaviour
//! written once: a large answer compressed in the encoding asked for, a small one
//! (under [`COMPRESSION_MIN_BYTES`]) and one to a client asking for nothing left as they
//! are, and a client asking for each encoding and decoding the same domain values.
//!
//! What is not here: which request makes a large or a small answer, and how a client
//! is built; each protocol's test passes those in. gRPC and the wire protocol compress
//! in their own framing and have their own tests.

// A failed check is a failed test, as in `domain::conformance`.
#![allow(clippy::expect_used, clippy::missing_panics_doc)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use domain::{EventId, Ticketing};
use tower::ServiceExt;

use crate::ClientConfig;
use crate::config::{COMPRESSION_MIN_BYTES, Compression};
use crate::http_server::HttpServerConfig;
use crate::running::RunningServer;

/// `(status, Content-Encoding, body length)` of `request` through `app`, asking for
/// `accept` in `Accept-Encoding` when given.
pub async fn exchange(
    app: &Router,
    mut request: Request<Body>,
    accept: Option<&str>,
) -> (StatusCode, Option<String>, usize) {
    if let Some(accept) = accept {
        let value = HeaderValue::from_str(accept).expect("an Accept-Encoding value");
        request.headers_mut().insert(header::ACCEPT_ENCODING, value);
    }
    let response = app.clone().oneshot(request).await.expect("an answer");
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().expect("an ASCII Content-Encoding").to_owned());
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a whole body");
    (status, encoding, body.len())
}

/// Through `app` (compression on, the default settings): the answer to `large()` (over
/// [`COMPRESSION_MIN_BYTES`], such as a seat map) is compressed in each encoding asked
/// for, to under half its size, and not when nothing is asked; the answer to `small()`
/// (such as an event) never is.
pub async fn a_large_answer_is_compressed_as_asked_and_a_small_one_is_not(
    app: &Router,
    large: impl Fn() -> Request<Body>,
    small: impl Fn() -> Request<Body>,
) {
    let (_, identity, large_bytes) = exchange(app, large(), None).await;
    assert_eq!(identity, None, "nothing asked, nothing compressed");
    assert!(large_bytes > COMPRESSION_MIN_BYTES, "{large_bytes}");
    for encoding in ["gzip", "zstd"] {
        let (status, used, bytes) = exchange(app, large(), Some(encoding)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(used.as_deref(), Some(encoding));
        assert!(
            bytes < large_bytes / 2,
            "{encoding}: {bytes} of {large_bytes}"
        );

        let (status, used, bytes) = exchange(app, small(), Some(encoding)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            bytes < COMPRESSION_MIN_BYTES,
            "a small answer is {bytes} bytes"
        );
        assert_eq!(
            used, None,
            "{encoding}: an answer under the threshold stays as it is"
        );
    }
}

/// Through `app` (a server with compression off): the answer to `large()` is not
/// compressed even when the client asks for every encoding.
pub async fn compression_off_never_compresses(app: &Router, large: Request<Body>) {
    let (status, used, _) = exchange(app, large, Some("gzip, zstd")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(used, None);
}

/// The `Accept-Encoding` of each request and the `Content-Encoding` of its answer, as
/// they crossed the socket.
type Seen = Arc<Mutex<Vec<(Option<String>, Option<String>)>>>;

/// `router` served with `config` on a loopback port, behind an outermost layer that
/// records what [`Seen`] holds.
async fn recording_server(router: Router, config: HttpServerConfig) -> (RunningServer, Seen) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let router = router.layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let record = Arc::clone(&record);
            async move {
                let header =
                    |h: Option<&HeaderValue>| h.map(|v| v.to_str().unwrap_or_default().to_owned());
                let asked = header(request.headers().get(header::ACCEPT_ENCODING));
                let response = next.run(request).await;
                let used = header(response.headers().get(header::CONTENT_ENCODING));
                record
                    .lock()
                    .expect("no recording panicked")
                    .push((asked, used));
                response
            }
        },
    ));
    let server = RunningServer::spawn(|listener, stop| {
        crate::http_server::serve(listener, router, config, stop)
    })
    .await
    .expect("a server on a loopback port");
    (server, seen)
}

/// `router` served with `config` (compression on) to a client made by `client` for each
/// [`Compression`]: the client asks for its encoding (and for none with
/// [`Compression::None`]), event 1's seat map comes back compressed as asked and the
/// event itself uncompressed, and both decode to what `expected` (the store the router
/// serves) answers.
pub async fn the_client_asks_for_its_encoding_and_decodes_the_same_values<C: Ticketing>(
    router: Router,
    config: HttpServerConfig,
    expected: &dyn Ticketing,
    client: impl Fn(SocketAddr, &ClientConfig) -> domain::Result<C>,
) {
    let expected_map = expected
        .get_seat_map(EventId(1))
        .await
        .expect("event 1's seat map");
    let expected_event = expected.get_event(EventId(1)).await.expect("event 1");
    let (server, seen) = recording_server(router, config).await;
    for compression in Compression::ALL {
        let config = ClientConfig {
            compression,
            ..ClientConfig::default()
        };
        let client = client(server.addr, &config).expect("a client");
        let map = client.get_seat_map(EventId(1)).await;
        assert_eq!(map.expect("the seat map"), expected_map, "{compression}");
        let event = client.get_event(EventId(1)).await;
        assert_eq!(event.expect("the event"), expected_event, "{compression}");
        let exchanges: Vec<_> = seen
            .lock()
            .expect("no recording panicked")
            .drain(..)
            .collect();
        let (asked, used) = match compression {
            Compression::None => (None, None),
            other => (Some(other.name().to_owned()), Some(other.name().to_owned())),
        };
        assert_eq!(
            exchanges,
            vec![(asked.clone(), used), (asked, None)],
            "{compression}: the seat map compressed as asked, the event not"
        );
    }
}
