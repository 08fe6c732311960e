//! Response compression, through netkit's shared checks (`netkit::compression_suite`):
//! a large answer (a seat map) is compressed in the encoding the client asks for, a
//! small one (an event, under `COMPRESSION_MIN_BYTES`) and an answer to a client that
//! asks for nothing are not, and `graphql::Client` asking for gzip or zstd decodes to
//! the same domain value.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, header};
use graphql::client::documents;
use netkit::compression_suite;
use netkit::config::ServerCompression;
use serde_json::json;

/// The query `document` for event 1, posted to `/graphql`.
fn query(document: &str) -> Request<Body> {
    let body = json!({"query": document, "variables": {"id": "1"}}).to_string();
    Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn a_seat_map_is_compressed_as_asked_and_an_event_is_not() {
    let seat_map = documents::get_seat_map();
    let event = documents::get_event();
    compression_suite::a_large_answer_is_compressed_as_asked_and_a_small_one_is_not(
        &common::app(common::service()),
        || query(&seat_map),
        || query(&event),
    )
    .await;
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
    let seat_map = query(&documents::get_seat_map());
    compression_suite::compression_off_never_compresses(&app, seat_map).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_asks_for_its_encoding_and_decodes_the_same_values() {
    compression_suite::the_client_asks_for_its_encoding_and_decodes_the_same_values(
        common::app(common::service()),
        graphql::Config::default().http_server(),
        &common::service(),
        |addr, config| graphql::Client::with_config(&format!("http://{addr}/graphql"), config),
    )
    .await;
}
