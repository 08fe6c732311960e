//! Response compression, through netkit's shared checks (`netkit::compression_suite`):
//! a large answer (a seat map) is compressed in the encoding the client asks for, a
//! small one (an event, under `COMPRESSION_MIN_BYTES`) and an answer to a client that
//! asks for nothing are not, and `rest::Client` asking for gzip or zstd decodes to the
//! same domain value.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use netkit::compression_suite;
use netkit::config::ServerCompression;

/// `GET uri`, for the router.
fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn a_seat_map_is_compressed_as_asked_and_an_event_is_not() {
    compression_suite::a_large_answer_is_compressed_as_asked_and_a_small_one_is_not(
        &common::app(common::service()),
        || get("/v1/events/1/seats"),
        || get("/v1/events/1"),
    )
    .await;
}

#[tokio::test]
async fn a_server_with_compression_off_never_compresses() {
    let config = rest::Config {
        compression: ServerCompression {
            enabled: false,
            ..ServerCompression::default()
        },
        ..rest::Config::default()
    };
    let app = rest::app(Arc::new(common::service()), &config);
    compression_suite::compression_off_never_compresses(&app, get("/v1/events/1/seats")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_asks_for_its_encoding_and_decodes_the_same_values() {
    compression_suite::the_client_asks_for_its_encoding_and_decodes_the_same_values(
        common::app(common::service()),
        rest::Config::default().http_server(),
        &common::service(),
        |addr, config| rest::Client::with_config(&format!("http://{addr}"), config),
    )
    .await;
}
