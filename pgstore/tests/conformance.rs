//! The conformance suite over PostgreSQL, in process: the domain's rules over `PgStore`
//! give the in-memory reference's answers (search judged by behaviour: ranking differs).

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use domain::conformance::{Options, SearchCheck};
use domain::{Dataset, DatasetSpec, Ticketing};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backend_conforms() {
    let Some(db) = common::TestSchema::new("conf").await else {
        return;
    };
    let spec = DatasetSpec {
        events: 300,
        seed: 7,
    };
    let store = pgstore::PgStore::connect(&db.config)
        .await
        .expect("connect");
    let loaded = pgstore::load(&store, &Dataset::from_spec(spec), false)
        .await
        .expect("load");
    assert_eq!(loaded, 300);
    let api: Arc<dyn Ticketing> = Arc::new(pgstore::ticketing(store.clone()));
    let options = Options {
        search: SearchCheck::Behaviour,
        ..Default::default()
    };
    domain::conformance::run_with(api, spec, options).await;
    for id in 1..=300 {
        store
            .audit(domain::EventId(id))
            .await
            .expect("claims agree with bookings");
    }
}
