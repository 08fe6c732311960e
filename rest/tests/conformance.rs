//! The shared conformance suite against `rest::Client` talking to a real server on a
//! loopback port: the REST transport gives the same answers and errors as the domain,
//! whether the server serves `domain::Service` itself or any other `Ticketing`.

mod common;

use std::sync::Arc;

use domain::{Forwarding, SharedTicketing, Ticketing};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_client_conforms() {
    let server = common::spawn(common::service()).await;
    let client: Arc<dyn Ticketing> = Arc::new(rest::Client::new(&common::url(&server)).unwrap());
    domain::conformance::run(client, common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_ticketing_can_be_served() {
    // A `Ticketing` that is not `Service`: it forwards every call to one and counts them,
    // standing in for another store or a decorator (cache, metrics) in front of one.
    let counting = Arc::new(Forwarding::new(common::service()));
    let api: SharedTicketing = counting.clone();
    let server = common::spawn_with(api, rest::Config::default()).await;
    let client: Arc<dyn Ticketing> = Arc::new(rest::Client::new(&common::url(&server)).unwrap());
    domain::conformance::run(client, common::SPEC).await;
    server.stop().await.unwrap();
    assert!(
        counting.calls() > 0,
        "the server answered without calling the Ticketing it was given"
    );
}
