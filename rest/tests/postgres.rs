//! The conformance suite over the PostgreSQL backend: `rest::Client` against the
//! rest server serving `pgstore`'s `Ticketing` on a schema of its own (dropped after).
//! Search is judged by behaviour, since PostgreSQL ranks differently from the in-memory
//! index. Without a reachable PostgreSQL the test says SKIPPED and passes, unless
//! QUARTET_REQUIRE_POSTGRES=1 (CI), where that is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use domain::conformance::{Options, SearchCheck};
use domain::{DatasetSpec, SharedTicketing, Ticketing};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_client_conforms_over_postgres() {
    let Some(db) = pgstore::testing::TestSchema::new("rest").await else {
        return;
    };
    let spec = DatasetSpec {
        events: 300,
        seed: 7,
    };
    let api: SharedTicketing = db.loaded(spec).await.expect("migrate and load");
    let server = common::spawn_with(api, rest::Config::default()).await;
    let client: Arc<dyn Ticketing> = Arc::new(rest::Client::new(&common::url(&server)).unwrap());
    let options = Options {
        search: SearchCheck::Behaviour,
        ..Default::default()
    };
    domain::conformance::run_with(client, spec, options).await;
    server.stop().await.unwrap();
}

/// The standalone binary with `--store postgres --load-dataset`: it migrates and loads the
/// schema, serves, and answers from the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standalone_server_serves_from_postgres() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let Some(db) = pgstore::testing::TestSchema::new("restbin").await else {
        return;
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_rest"))
        .args(["--store", "postgres", "--database-url", &db.config.url])
        .args([
            "--schema",
            &db.config.schema,
            "--load-dataset",
            "--events",
            "200",
        ])
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the rest binary");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read the log") {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return rest.split_whitespace().next().map(str::to_owned);
            }
        }
        None
    })
    .await
    .expect("the server never said it was listening")
    .expect("the server exited before listening");
    let client = rest::Client::new(&format!("http://{addr}")).unwrap();
    let event = client.get_event(domain::EventId(1)).await.unwrap();
    assert_eq!(event.id, domain::EventId(1));
    let missing = client.get_event(domain::EventId(201)).await.unwrap_err();
    assert_eq!(missing.code(), domain::ErrorCode::NotFound);
    child.kill().await.expect("stop the server");
}
