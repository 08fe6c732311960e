//! The conformance suite over the PostgreSQL backend: `wire::Client` against the
//! wire server serving `pgstore`'s `Ticketing` on a schema of its own (dropped after).
//! Search is judged by behaviour, since PostgreSQL ranks differently from the in-memory
//! index. Without a reachable PostgreSQL the test says SKIPPED and passes, unless
//! QUARTET_REQUIRE_POSTGRES=1 (CI), where that is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use domain::conformance::{Options, SearchCheck};
use domain::{DatasetSpec, SharedTicketing, Ticketing};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_client_conforms_over_postgres() {
    let Some(db) = pgstore::testing::TestSchema::new("wire").await else {
        return;
    };
    let spec = DatasetSpec {
        events: 300,
        seed: 7,
    };
    let api: SharedTicketing = db.loaded(spec).await.expect("migrate and load");
    let server = common::serve(api, wire::Config::default()).await;
    let client: Arc<dyn Ticketing> = Arc::new(wire::Client::connect(server.addr).await.unwrap());
    let options = Options {
        search: SearchCheck::Behaviour,
        ..Default::default()
    };
    domain::conformance::run_with(client, spec, options).await;
    server.stop().await.unwrap();
}
