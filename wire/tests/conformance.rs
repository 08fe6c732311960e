//! The shared conformance suite against `wire::Client` talking to a real server on a
//! loopback port, over one multiplexed connection and over a small pool.

mod common;

use std::sync::Arc;

use domain::Ticketing;
use netkit::ClientConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_client_conforms_on_one_connection() {
    let server = common::spawn().await;
    let client: Arc<dyn Ticketing> = Arc::new(wire::Client::connect(server.addr).await.unwrap());
    domain::conformance::run(client, common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_client_conforms_over_a_pool() {
    let server = common::spawn().await;
    let client = wire::Client::connect_with(server.addr, 3, &ClientConfig::default())
        .await
        .unwrap();
    let client: Arc<dyn Ticketing> = Arc::new(client);
    domain::conformance::run(client, common::SPEC).await;
    server.stop().await.unwrap();
}
