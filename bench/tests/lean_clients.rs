//! The lean load clients against real servers: every read scenario's answers pass their
//! checks, the inputs and payload bytes are exactly the `Ticketing` clients' (same seeded
//! stream, same bodies; gRPC's lean client against tonic's), a wrong answer fails, and
//! the framework floors answer the lean HTTP/1.1 and gRPC clients with their protocol's
//! own get_event bytes.

mod common;

use std::sync::Arc;

use bench::compression::Compression;
use bench::floor;
use bench::lean::check::Dialect;
use bench::lean::grpc::{GrpcRequests, GrpcWorker, H2Connection};
use bench::lean::{self, LeanWorker, Requests};
use bench::load::Step;
use bench::metering::PayloadMeter;
use bench::protocol::{self, Protocol};
use bench::scenario::{Outcome, Scenario};
use bench::steps::{ApiSteps, ClientOptions, StepProvider};

use common::{plan, serve};

#[tokio::test]
async fn lean_and_ticketing_clients_agree_on_inputs_answers_and_bytes() {
    let plan = plan();
    for (protocol, dialect) in [
        (Protocol::Rest, Dialect::Rest),
        (Protocol::Graphql, Dialect::Graphql),
    ] {
        let server = serve(protocol).await;
        let requests = Arc::new(Requests::new(
            dialect,
            server.addr,
            &plan,
            Compression::None,
        ));
        let client = protocol::connect(protocol, server.addr).await.unwrap();
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
            for _ in 0..20 {
                assert_eq!(lean.run_once().await, Outcome::Ok, "{protocol} {scenario}");
                assert_eq!(idiomatic.step().await, Outcome::Ok, "{protocol} {scenario}");
            }
            let after = client.meter.totals();
            // Same seeded inputs, same request bodies, same answers: same bytes.
            assert_eq!(
                meter.totals(),
                (after.0 - before.0, after.1 - before.1),
                "{protocol} {scenario}"
            );
            assert!(meter.totals().1 > 0, "{protocol} {scenario}");
        }
        drop(client);
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn an_answer_that_fails_its_check_is_an_error() {
    let plan = plan();
    // A REST client against the GraphQL server: a 404 (or 405), never a success.
    let server = serve(Protocol::Graphql).await;
    let requests = Arc::new(Requests::new(
        Dialect::Rest,
        server.addr,
        &plan,
        Compression::None,
    ));
    let mut worker = LeanWorker::connect(
        server.addr,
        Arc::clone(&plan),
        requests,
        Scenario::GetEvent,
        0,
        Arc::default(),
    )
    .await
    .unwrap();
    assert!(
        matches!(worker.run_once().await, Outcome::Failed(why) if why.contains("HTTP 4")),
        "a 4xx must fail"
    );
    server.stop().await.unwrap();

    // The http1 floor always answers event 1: asking for another fails the id check.
    let server = serve(Protocol::Http1Floor).await;
    let requests = Arc::new(Requests::new(
        Dialect::Rest,
        server.addr,
        &plan,
        Compression::None,
    ));
    let mut worker = LeanWorker::connect(
        server.addr,
        Arc::clone(&plan),
        Arc::clone(&requests),
        Scenario::GetEvent,
        0,
        Arc::default(),
    )
    .await
    .unwrap()
    .fixed(domain::EventId(2));
    assert!(
        matches!(worker.run_once().await, Outcome::Failed(why) if why.contains("answered event 1")),
        "a wrong id must fail"
    );
    // A seat-map worker reading an event's JSON fails on the shape.
    let mut worker = LeanWorker::connect(
        server.addr,
        Arc::clone(&plan),
        requests,
        Scenario::SeatMap,
        0,
        Arc::default(),
    )
    .await
    .unwrap()
    .fixed(floor::EVENT);
    assert!(matches!(worker.run_once().await, Outcome::Failed(_)));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_framework_floors_answer_their_protocols_get_event() {
    let plan = plan();
    let event = plan.event(floor::EVENT).cloned();
    for (floor_protocol, body) in [
        (
            Protocol::Http1Floor,
            floor::rest_event_body(event.clone()).len(),
        ),
        // The payload meter counts the protobuf message, without the 5-byte prefix.
        (
            Protocol::H2Floor,
            floor::grpc_event_body(event.clone()).len() - 5,
        ),
    ] {
        let server = serve(floor_protocol).await;
        let steps = ApiSteps::connect(
            floor_protocol,
            server.addr,
            Arc::clone(&plan),
            ClientOptions::default(),
        )
        .await
        .unwrap();
        assert!(steps.runs(Scenario::GetEvent));
        assert!(!steps.runs(Scenario::ListEvents));
        let mut workers = steps.workers(Scenario::GetEvent, 0, 3).await.unwrap();
        for worker in &mut workers {
            for _ in 0..5 {
                assert_eq!(worker.step().await, Outcome::Ok, "{floor_protocol}");
            }
        }
        assert_eq!(
            steps.payload().1,
            15 * body as u64,
            "{floor_protocol} answers its protocol's exact get_event body"
        );
        drop(workers);
        drop(steps);
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn grpc_spreads_its_clients_over_the_connections_asked_for() {
    let plan = plan();
    let server = serve(Protocol::Grpc).await;
    let steps = ApiSteps::connect(
        Protocol::Grpc,
        server.addr,
        Arc::clone(&plan),
        ClientOptions {
            connections: 4,
            lean: true,
            ..ClientOptions::default()
        },
    )
    .await
    .unwrap();
    let mut workers = steps.workers(Scenario::GetEvent, 0, 8).await.unwrap();
    for worker in &mut workers {
        assert_eq!(worker.step().await, Outcome::Ok);
    }
    assert_eq!(steps.ticketing_clients(), 4);
    drop(workers);
    drop(steps);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn lean_and_tonic_grpc_clients_agree_on_inputs_answers_and_bytes() {
    let plan = plan();
    let server = serve(Protocol::Grpc).await;
    let requests = Arc::new(GrpcRequests::new(server.addr, &plan, Compression::None).unwrap());
    let connection = H2Connection::open(server.addr).await.unwrap();
    let client = protocol::connect(Protocol::Grpc, server.addr)
        .await
        .unwrap();
    for scenario in lean::SCENARIOS {
        let meter = Arc::new(PayloadMeter::default());
        let mut lean = GrpcWorker::new(
            Arc::clone(&connection),
            Arc::clone(&plan),
            Arc::clone(&requests),
            scenario,
            3,
            Arc::clone(&meter),
        )
        .await;
        let mut idiomatic = plan.worker(scenario, 0, 3, Arc::clone(&client.api));
        let before = client.meter.totals();
        for _ in 0..20 {
            assert_eq!(lean.run_once().await, Outcome::Ok, "grpc {scenario}");
            assert_eq!(idiomatic.step().await, Outcome::Ok, "grpc {scenario}");
        }
        let after = client.meter.totals();
        // Same seeded inputs, same request messages, same answers: same bytes.
        assert_eq!(
            meter.totals(),
            (after.0 - before.0, after.1 - before.1),
            "grpc {scenario}"
        );
        assert!(meter.totals().1 > 0, "grpc {scenario}");
    }
    drop(client);
    drop(connection);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_lean_grpc_client_fails_a_wrong_answer_and_an_error_status() {
    let plan = plan();
    // The h2 floor always answers event 1: asking for another fails the id check.
    let server = serve(Protocol::H2Floor).await;
    let requests = Arc::new(GrpcRequests::new(server.addr, &plan, Compression::None).unwrap());
    let connection = H2Connection::open(server.addr).await.unwrap();
    let worker = |scenario| {
        GrpcWorker::new(
            Arc::clone(&connection),
            Arc::clone(&plan),
            Arc::clone(&requests),
            scenario,
            0,
            Arc::default(),
        )
    };
    let mut right = worker(Scenario::GetEvent).await.fixed(floor::EVENT);
    assert_eq!(right.run_once().await, Outcome::Ok);
    let mut wrong = worker(Scenario::GetEvent).await.fixed(domain::EventId(2));
    assert!(
        matches!(wrong.run_once().await, Outcome::Failed(why) if why.contains("answered event 1")),
        "a wrong id must fail"
    );
    // A seat-map worker reading GetEvent's message fails on the shape.
    let mut shape = worker(Scenario::SeatMap).await.fixed(floor::EVENT);
    assert!(matches!(shape.run_once().await, Outcome::Failed(_)));
    drop((right, wrong, shape, connection));
    server.stop().await.unwrap();

    // A real server's NOT_FOUND (a trailers-only answer) is a failure with its status.
    let server = serve(Protocol::Grpc).await;
    let requests = Arc::new(GrpcRequests::new(server.addr, &plan, Compression::None).unwrap());
    let connection = H2Connection::open(server.addr).await.unwrap();
    let mut missing = GrpcWorker::new(
        Arc::clone(&connection),
        Arc::clone(&plan),
        requests,
        Scenario::GetEvent,
        0,
        Arc::default(),
    )
    .await
    .fixed(domain::EventId(u64::from(common::SPEC.events) + 1));
    assert!(
        matches!(missing.run_once().await, Outcome::Failed(why) if why.contains("grpc-status 5")),
        "NOT_FOUND must fail"
    );
    drop((missing, connection));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_lean_grpc_client_decodes_compressed_answers() {
    let plan = plan();
    let server = serve(Protocol::Grpc).await;
    let connection = H2Connection::open(server.addr).await.unwrap();
    for compression in [Compression::Gzip, Compression::Zstd] {
        let requests = Arc::new(GrpcRequests::new(server.addr, &plan, compression).unwrap());
        let meter = Arc::new(PayloadMeter::default());
        // A seat map is far over the servers' 1 KiB compression threshold.
        let mut worker = GrpcWorker::new(
            Arc::clone(&connection),
            Arc::clone(&plan),
            requests,
            Scenario::SeatMap,
            0,
            Arc::clone(&meter),
        )
        .await;
        let plain_meter = Arc::new(PayloadMeter::default());
        let mut plain = GrpcWorker::new(
            Arc::clone(&connection),
            Arc::clone(&plan),
            Arc::new(GrpcRequests::new(server.addr, &plan, Compression::None).unwrap()),
            Scenario::SeatMap,
            0,
            Arc::clone(&plain_meter),
        )
        .await;
        for _ in 0..3 {
            assert_eq!(worker.run_once().await, Outcome::Ok, "{compression}");
            assert_eq!(plain.run_once().await, Outcome::Ok, "{compression}");
        }
        // Counted at the compressed size: smaller than the same answers uncompressed.
        assert!(
            meter.totals().1 < plain_meter.totals().1,
            "{compression}: {:?} vs {:?}",
            meter.totals(),
            plain_meter.totals()
        );
    }
    drop(connection);
    server.stop().await.unwrap();
}
