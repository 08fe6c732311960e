//! `--compression` in the harness's clients against real servers: the lean clients and
//! the metered `Ticketing` clients ask for gzip or zstd, decode and check every answer,
//! and count the same (compressed) payload bytes; a seat map crosses in far fewer bytes
//! than without compression; an answer in an encoding not asked for fails.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use bench::compression::{self, Compression};
use bench::lean::check::Dialect;
use bench::lean::{self, LeanWorker, Requests};
use bench::load::Step;
use bench::metering::PayloadMeter;
use bench::protocol::{self, Protocol};
use bench::scenario::{Outcome, Plan, Scenario};
use bench::steps::{ApiSteps, ClientOptions, StepProvider};
use netkit::running::RunningServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::{plan, serve};

/// Response payload bytes of `runs` lean seat-map answers asking for `compression`.
async fn lean_seat_map_bytes(
    server: &RunningServer,
    dialect: Dialect,
    plan: &Arc<Plan>,
    compression: Compression,
    runs: usize,
) -> u64 {
    let requests = Arc::new(Requests::new(dialect, server.addr, plan, compression));
    let meter = Arc::new(PayloadMeter::default());
    let mut worker = LeanWorker::connect(
        server.addr,
        Arc::clone(plan),
        requests,
        Scenario::SeatMap,
        1,
        Arc::clone(&meter),
    )
    .await
    .unwrap();
    for _ in 0..runs {
        assert_eq!(worker.run_once().await, Outcome::Ok, "{compression}");
    }
    meter.totals().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lean_and_ticketing_clients_decode_and_count_compressed_answers_alike() {
    let plan = plan();
    for (protocol, dialect) in [
        (Protocol::Rest, Dialect::Rest),
        (Protocol::Graphql, Dialect::Graphql),
    ] {
        let server = serve(protocol).await;
        let identity = lean_seat_map_bytes(&server, dialect, &plan, Compression::None, 5).await;
        for compression in [Compression::Gzip, Compression::Zstd] {
            let requests = Arc::new(Requests::new(dialect, server.addr, &plan, compression));
            let client = protocol::connect_compressed(protocol, server.addr, 1, compression)
                .await
                .unwrap();
            for scenario in lean::SCENARIOS {
                let meter = Arc::new(PayloadMeter::default());
                let mut lean = LeanWorker::connect(
                    server.addr,
                    Arc::clone(&plan),
                    Arc::clone(&requests),
                    scenario,
                    3,
                    Arc::clone(&meter),
                )
                .await
                .unwrap();
                let mut idiomatic = plan.worker(scenario, 0, 3, Arc::clone(&client.api));
                let before = client.meter.totals();
                for _ in 0..10 {
                    let what = format!("{protocol} {scenario} {compression}");
                    assert_eq!(lean.run_once().await, Outcome::Ok, "{what}");
                    assert_eq!(idiomatic.step().await, Outcome::Ok, "{what}");
                }
                let after = client.meter.totals();
                // Same inputs, same answers, same encoder: the same bytes on the wire.
                assert_eq!(
                    meter.totals(),
                    (after.0 - before.0, after.1 - before.1),
                    "{protocol} {scenario} {compression}"
                );
            }
            let packed = lean_seat_map_bytes(&server, dialect, &plan, compression, 5).await;
            assert!(
                packed * 3 < identity,
                "{protocol} {compression}: {packed} bytes against {identity}"
            );
        }
        server.stop().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_steps_ask_for_compression_and_count_the_compressed_messages() {
    let plan = plan();
    let server = serve(Protocol::Grpc).await;
    let mut received = Vec::new();
    for compression in [Compression::None, Compression::Zstd] {
        let options = ClientOptions {
            compression,
            ..ClientOptions::default()
        };
        let steps = ApiSteps::connect(Protocol::Grpc, server.addr, Arc::clone(&plan), options)
            .await
            .unwrap();
        let mut workers = steps.workers(Scenario::SeatMap, 0, 1).await.unwrap();
        for _ in 0..5 {
            assert_eq!(workers[0].step().await, Outcome::Ok, "{compression}");
        }
        received.push(steps.payload().1);
    }
    assert!(received[1] * 3 < received[0], "{received:?}");
    server.stop().await.unwrap();
}

/// A server that answers one request with `head` and `body`.
async fn answering(head: String, body: Vec<u8>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&body).await.unwrap();
    });
    addr
}

#[tokio::test]
async fn an_answer_in_an_encoding_not_asked_for_fails() {
    let plan = plan();
    let event = plan.event(domain::EventId(1)).cloned().unwrap();
    let json = serde_json::to_vec(&rest::model::Event::from(event)).unwrap();
    // Asked for zstd, answered gzip: a failure even though the body is a fine event.
    let gzipped = compression::encode(Compression::Gzip, &json).unwrap();
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n",
        gzipped.len()
    );
    let addr = answering(head.clone(), gzipped.clone()).await;
    let requests = Arc::new(Requests::new(Dialect::Rest, addr, &plan, Compression::Zstd));
    let mut worker = LeanWorker::connect(
        addr,
        Arc::clone(&plan),
        requests,
        Scenario::GetEvent,
        0,
        Arc::default(),
    )
    .await
    .unwrap()
    .fixed(domain::EventId(1));
    assert!(
        matches!(worker.run_once().await, Outcome::Failed(why) if why.contains("answered in gzip")),
        "an encoding not asked for must fail"
    );
    // Asked for gzip: the same answer decodes and passes its check.
    let addr = answering(head, gzipped).await;
    let requests = Arc::new(Requests::new(Dialect::Rest, addr, &plan, Compression::Gzip));
    let mut worker = LeanWorker::connect(
        addr,
        Arc::clone(&plan),
        requests,
        Scenario::GetEvent,
        0,
        Arc::default(),
    )
    .await
    .unwrap()
    .fixed(domain::EventId(1));
    assert_eq!(worker.run_once().await, Outcome::Ok);
}
