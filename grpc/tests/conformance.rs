//! The shared conformance suite against `grpc::Client` talking to a real server on a
//! loopback port.

mod common;

use std::sync::Arc;

use domain::Ticketing;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_client_conforms() {
    let (server, _) = common::spawn().await;
    let client: Arc<dyn Ticketing> = Arc::new(grpc::Client::connect(server.addr).await.unwrap());
    domain::conformance::run(client, common::SPEC).await;
    server.stop().await.unwrap();
}
