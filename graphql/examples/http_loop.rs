//! A loop of one client operation through the whole router (`graphql::app`, with every
//! layer the server has: trace, catch-panic, compression, request timeout, the auth
//! scope, the body limit, then the handler's body collection, request parsing, the
//! prepared-document cache, execution and the response writer), for instruction counts
//! of the HTTP request path outside hyper's connection handling:
//!
//! ```sh
//! cargo build --release -p graphql --example http_loop
//! valgrind --tool=callgrind --toggle-collect='*http_loop*measured*' \
//!     target/release/examples/http_loop GetEvent 1000
//! ```
//!
//! `Typename` runs `{ __typename }` (the engine's floor). The first request (which
//! parses, validates and caches the document) runs outside `measured`, so the count
//! divided by the iterations is one warm request. Not a figure benchmark.

use std::hint::black_box;
use std::sync::Arc;

use axum::body::Body;
use domain::{DatasetSpec, Limits, Service, SharedTicketing};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The body the client sends for `operation` (as `graphql::Client` writes it).
fn body(operation: &str) -> String {
    if operation == "Typename" {
        return serde_json::json!({"query": "{ __typename }"}).to_string();
    }
    let document = graphql::client::documents::all()
        .into_iter()
        .find_map(|(name, d)| (name == operation).then_some(d))
        .unwrap_or_else(|| panic!("no client document named {operation}"));
    let variables = if operation == "ListEvents" {
        serde_json::json!({"first": 50})
    } else {
        serde_json::json!({"id": "1"})
    };
    serde_json::json!({"query": document, "operationName": operation, "variables": variables})
        .to_string()
}

async fn one(app: &axum::Router, body: &str) -> usize {
    let request = http::Request::post("/graphql")
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap_or_else(|e| panic!("request: {e}"));
    let response = app
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|e| match e {});
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    black_box(bytes).len()
}

#[inline(never)]
fn measured(
    runtime: &tokio::runtime::Runtime,
    app: &axum::Router,
    body: &str,
    iterations: u64,
) -> usize {
    let mut bytes = 0;
    for _ in 0..iterations {
        bytes += runtime.block_on(one(app, body));
    }
    bytes
}

fn main() {
    let mut args = std::env::args().skip(1);
    let operation = args.next().unwrap_or_else(|| "GetEvent".to_owned());
    let iterations: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let body = body(&operation);
    let api: SharedTicketing = Arc::new(Service::generate(
        DatasetSpec {
            events: 200,
            ..DatasetSpec::default()
        },
        Limits::default(),
    ));
    let app = graphql::app::app(api, &graphql::Config::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let warm = runtime.block_on(async {
        let request = http::Request::post("/graphql")
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.clone()))
            .unwrap_or_else(|e| panic!("request: {e}"));
        let response = app
            .clone()
            .oneshot(request)
            .await
            .unwrap_or_else(|e| match e {});
        response
            .into_body()
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .unwrap_or_default()
    });
    println!("{}", String::from_utf8_lossy(&warm[..warm.len().min(300)]));
    let bytes = measured(&runtime, &app, &body, iterations);
    println!("{operation}: {iterations} requests, {bytes} bytes");
}
