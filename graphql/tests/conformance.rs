//! The shared conformance suite against `graphql::Client` talking to a real server on a
//! loopback port, with plain queries and with automatic persisted queries.

mod common;

use std::sync::Arc;

use domain::Ticketing;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_client_conforms() {
    let server = common::spawn(common::service()).await;
    let client: Arc<dyn Ticketing> =
        Arc::new(graphql::Client::new(&common::endpoint(&server)).unwrap());
    domain::conformance::run(client, common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_client_conforms_with_persisted_queries() {
    let server = common::spawn(common::service()).await;
    let client = graphql::Client::new(&common::endpoint(&server))
        .unwrap()
        .with_persisted_queries(true);
    let client: Arc<dyn Ticketing> = Arc::new(client);
    domain::conformance::run(client, common::SPEC).await;
    server.stop().await.unwrap();
}
