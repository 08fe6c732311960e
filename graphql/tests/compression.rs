//! Response compression: a large answer (a seat map) is compressed in the encoding the
//! client asks for, a small one (an event, under `COMPRESSION_MIN_BYTES`) and an answer
//! to a client that asks for nothing are not, and `graphql::Client` asking for gzip or
//! zstd decodes to the same domain value.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::{EventId, Ticketing};
use graphql::client::documents;
use http_body_util::BodyExt;
use netkit::ClientConfig;
use netkit::config::{COMPRESSION_MIN_BYTES, Compression, ServerCompression};
use netkit::running::RunningServer;
use serde_json::json;
use tower::ServiceExt;

/// `(status, Content-Encoding, body length)` of the query `document` for event 1.
async fn query(
    app: &axum::Router,
    document: &str,
    accept: Option<&str>,
) -> (StatusCode, Option<String>, usize) {
    let body = json!({"query": document, "variables": {"id": "1"}}).to_string();
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT_ENCODING, accept);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap().to_owned());
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, encoding, body.len())
}

#[tokio::test]
async fn a_seat_map_is_compressed_as_asked_and_an_event_is_not() {
    let app = common::app(common::service());
    let seat_map = documents::get_seat_map();
    let event = documents::get_event();
    let (_, identity, seat_map_bytes) = query(&app, &seat_map, None).await;
    assert_eq!(identity, None, "nothing asked, nothing compressed");
    assert!(seat_map_bytes > COMPRESSION_MIN_BYTES, "{seat_map_bytes}");
    for encoding in ["gzip", "zstd"] {
        let (status, used, bytes) = query(&app, &seat_map, Some(encoding)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(used.as_deref(), Some(encoding));
        assert!(
            bytes < seat_map_bytes / 2,
            "{encoding}: {bytes} of {seat_map_bytes}"
        );

        let (status, used, bytes) = query(&app, &event, Some(encoding)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(bytes < COMPRESSION_MIN_BYTES, "an event is {bytes} bytes");
        assert_eq!(
            used, None,
            "{encoding}: an answer under the threshold stays as it is"
        );
    }
}

#[tokio::test]
async fn a_server_with_compression_off_never_compresses() {
    let config = graphql::Config {
        compression: ServerCompression {
            enabled: false,
            ..ServerCompression::default()
        },
        ..graphql::Config::default()
    };
    let app = graphql::app(Arc::new(common::service()), &config);
    let (status, used, _) = query(&app, &documents::get_seat_map(), Some("gzip, zstd")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(used, None);
}

/// The `Accept-Encoding` of each request and the `Content-Encoding` of its answer, as
/// they crossed the socket.
type Seen = Arc<Mutex<Vec<(Option<String>, Option<String>)>>>;

/// A real server whose outermost layer records what [`Seen`] holds.
async fn recording_server() -> (RunningServer, Seen) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let router = common::app(common::service()).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let record = Arc::clone(&record);
            async move {
                let header = |h: Option<&header::HeaderValue>| {
                    h.map(|v| v.to_str().unwrap_or_default().to_owned())
                };
                let asked = header(request.headers().get(header::ACCEPT_ENCODING));
                let response = next.run(request).await;
                let used = header(response.headers().get(header::CONTENT_ENCODING));
                record.lock().unwrap().push((asked, used));
                response
            }
        },
    ));
    let config = graphql::Config::default().http_server();
    let server = RunningServer::spawn(|listener, stop| {
        netkit::http_server::serve(listener, router, config, stop)
    })
    .await
    .unwrap();
    (server, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_asks_for_its_encoding_and_decodes_the_same_values() {
    let service = common::service();
    let expected_map = service.get_seat_map(EventId(1)).await.unwrap();
    let expected_event = service.get_event(EventId(1)).await.unwrap();
    let (server, seen) = recording_server().await;
    for compression in Compression::ALL {
        let config = ClientConfig {
            compression,
            ..ClientConfig::default()
        };
        let client = graphql::Client::with_config(&common::endpoint(&server), &config).unwrap();
        assert_eq!(client.get_seat_map(EventId(1)).await.unwrap(), expected_map);
        assert_eq!(client.get_event(EventId(1)).await.unwrap(), expected_event);
        let exchanges: Vec<_> = seen.lock().unwrap().drain(..).collect();
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
