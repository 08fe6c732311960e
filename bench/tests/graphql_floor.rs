//! The GraphQL engine floor (`graphql-floor`): the real GraphQL server answering
//! `{ __typename }` to the lean client, for get_event only, every answer checked; and
//! the report measuring GraphQL against it before its HTTP/1 floor.

mod common;

use std::sync::Arc;

use bench::lean::{TYPENAME_BODY, check};
use bench::protocol::Protocol;
use bench::report::model::{display, engine_floor, floor_short, is_floor};
use bench::scenario::{Outcome, Scenario};
use bench::steps::{ApiSteps, ClientOptions, StepProvider};

use common::{plan, serve};

/// What the GraphQL server answers to [`TYPENAME_BODY`].
const TYPENAME_ANSWER: &str = r#"{"data":{"__typename":"Query"}}"#;

#[tokio::test]
async fn the_engine_floor_asks_the_graphql_server_for_its_typename() {
    let plan = plan();
    let server = serve(Protocol::GraphqlFloor).await;
    let steps = ApiSteps::connect(
        Protocol::GraphqlFloor,
        server.addr,
        Arc::clone(&plan),
        ClientOptions::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("connect: {e}"));
    assert!(steps.runs(Scenario::GetEvent));
    for other in [
        Scenario::EventDetail,
        Scenario::SeatMap,
        Scenario::HoldCancel,
    ] {
        assert!(
            !steps.runs(other),
            "the floor runs get_event only, not {other}"
        );
    }
    let mut workers = steps
        .workers(Scenario::GetEvent, 0, 3)
        .await
        .unwrap_or_else(|e| panic!("workers: {e}"));
    for worker in &mut workers {
        for _ in 0..5 {
            assert_eq!(bench::load::Step::step(worker).await, Outcome::Ok);
        }
    }
    assert_eq!(
        steps.payload(),
        (
            15 * TYPENAME_BODY.len() as u64,
            15 * TYPENAME_ANSWER.len() as u64
        ),
        "every request is the typename query, every answer the root's type name"
    );
    drop(workers);
    drop(steps);
    server.stop().await.unwrap_or_else(|e| panic!("stop: {e}"));
}

#[test]
fn the_typename_check_refuses_anything_but_query() {
    assert_eq!(check::typename(TYPENAME_ANSWER.as_bytes()), Outcome::Ok);
    for wrong in [
        r#"{"data":{"__typename":"Mutation"}}"#,
        r#"{"data":null,"errors":[{"message":"no"}]}"#,
        r#"{"data":{"__typename":"Query"},"errors":[{"message":"no"}]}"#,
        r#"{"data":{}}"#,
        "not json",
    ] {
        assert!(
            matches!(check::typename(wrong.as_bytes()), Outcome::Failed(_)),
            "{wrong} must fail"
        );
    }
}

#[test]
fn the_engine_floor_is_a_floor_of_graphql_run_at_the_busiest_shape() {
    let floor: Protocol = "graphql-floor"
        .parse()
        .unwrap_or_else(|e| panic!("parse: {e}"));
    assert_eq!(floor, Protocol::GraphqlFloor);
    assert!(floor.is_floor() && floor.busiest_shape_only() && !floor.compresses());
    assert_eq!(Protocol::Graphql.engine_floor(), Some(floor));
    assert_eq!(Protocol::Rest.engine_floor(), None);
    assert!(is_floor(floor.name()));
    assert_eq!(engine_floor("graphql"), Some(floor.name()));
    assert_eq!(engine_floor("rest"), None);
    assert_eq!(display(floor.name()), "GraphQL engine floor");
    assert_eq!(floor_short(floor.name()), "GraphQL engine");
}
