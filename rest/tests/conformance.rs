//! The shared conformance suite against `rest::Client` talking to a real server on a
//! loopback port: the REST transport gives the same answers and errors as the domain.

mod common;

use std::sync::Arc;

use domain::Ticketing;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_client_conforms() {
    let server = common::spawn(common::service()).await;
    let client: Arc<dyn Ticketing> = Arc::new(rest::Client::new(&common::url(&server)).unwrap());
    domain::conformance::run(client, common::SPEC).await;
    server.stop().await.unwrap();
}
