//! A loop of one client operation through the server's own path (the prepared-document
//! cache, `Engine::execute_raw`, `graphql::json::response`), for instruction counts:
//!
//! ```sh
//! cargo build --release -p graphql --example encode_loop
//! valgrind --tool=callgrind --toggle-collect='*encode_loop*measured*' \
//!     target/release/examples/encode_loop GetEvent 1000
//! ```
//!
//! The first request (which parses, validates and caches the document) runs outside
//! `measured`, so the count divided by the iterations is one warm request. Not a
//! figure benchmark: criterion's `codecs` bench is.

use std::hint::black_box;
use std::sync::Arc;

use domain::{DatasetSpec, Limits, Service, SharedTicketing};

fn request(operation: &str, document: &str) -> async_graphql::Request {
    let variables = if operation == "ListEvents" {
        serde_json::json!({"first": 50})
    } else {
        serde_json::json!({"id": "1"})
    };
    async_graphql::Request::new(document)
        .operation_name(operation)
        .variables(async_graphql::Variables::from_json(variables))
}

#[inline(never)]
fn measured(
    runtime: &tokio::runtime::Runtime,
    engine: &graphql::prepared::Engine,
    operation: &str,
    document: &str,
    iterations: u64,
) -> usize {
    let mut bytes = 0;
    for _ in 0..iterations {
        let response = runtime.block_on(engine.execute_raw(request(operation, document)));
        bytes += black_box(graphql::json::response(&response).unwrap_or_default()).len();
    }
    bytes
}

fn main() {
    let mut args = std::env::args().skip(1);
    let operation = args.next().unwrap_or_else(|| "GetEvent".to_owned());
    let iterations: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let document = graphql::client::documents::all()
        .into_iter()
        .find_map(|(name, d)| (name == operation).then_some(d))
        .unwrap_or_else(|| panic!("no client document named {operation}"));
    let api: SharedTicketing = Arc::new(Service::generate(
        DatasetSpec {
            events: 200,
            ..DatasetSpec::default()
        },
        Limits::default(),
    ));
    let engine = graphql::prepared::Engine::new(api, &graphql::Config::default(), Arc::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let warm = runtime.block_on(engine.execute_raw(request(&operation, &document)));
    let body = graphql::json::response(&warm).unwrap_or_default();
    println!("{}", String::from_utf8_lossy(&body[..body.len().min(300)]));
    let bytes = measured(&runtime, &engine, &operation, &document, iterations);
    println!("{operation}: {iterations} requests, {bytes} bytes");
}
