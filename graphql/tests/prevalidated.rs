//! Cached documents whose depth and complexity no variable can change skip async-graphql's
//! validation walk on a hit (`prepared::Engine`): these tests prove the skip is taken
//! only where it is safe, and that every limit and check still holds on such hits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fmt::Write as _;
use std::sync::Arc;

use domain::{DatasetSpec, Limits, Service};
use graphql::Config;
use graphql::app::{AppState, router};
use serde_json::json;

fn app(config: &Config) -> (AppState, axum::Router) {
    let api = Arc::new(Service::generate(DatasetSpec::default(), Limits::default()));
    let state = AppState::new(api, config);
    let app = router(state.clone());
    (state, app)
}

/// `n` aliased `id` fields: an event selection of complexity `n`.
fn fields(n: usize) -> String {
    let mut fields = String::new();
    for i in 0..n {
        write!(fields, " f{i}: id").unwrap();
    }
    fields
}

#[tokio::test]
async fn a_document_whose_limits_are_fixed_is_prevalidated_and_answers_the_same() {
    let (state, app) = app(&Config::default());
    // `event`'s cost takes no argument, so `$id` cannot change it.
    let query = "query E($id: ID!) { event(id: $id) { name venue { name } tags } }";
    let (_, first) = common::post(&app, &json!({"query": query, "variables": {"id": "1"}})).await;
    assert!(first["errors"].is_null(), "{first}");
    let stats = state.engine().stats();
    assert_eq!((stats.documents, stats.prevalidated), (1, 1));
    let (_, hit) = common::post(&app, &json!({"query": query, "variables": {"id": "1"}})).await;
    assert_eq!(hit, first);
    // Variables are still checked on a prevalidated hit.
    for variables in [json!({"id": null}), json!({"id": true}), json!({})] {
        let (_, body) = common::post(&app, &json!({"query": query, "variables": variables})).await;
        assert_eq!(
            common::code(&body),
            "GRAPHQL_VALIDATION_FAILED",
            "{variables}: {body}"
        );
        assert!(body["data"].is_null(), "{variables}: {body}");
    }
    // A resolver error on a hit is still the resolver's.
    let (_, missing) = common::post(
        &app,
        &json!({"query": query, "variables": {"id": "999999"}}),
    )
    .await;
    assert_eq!(common::code(&missing), "NOT_FOUND", "{missing}");
}

#[tokio::test]
async fn a_priced_field_with_a_variable_is_validated_on_every_hit() {
    let (state, app) = app(&Config::default());
    // 40 fields per event: 40 events fit the complexity limit (3 000), 100 do not; the
    // variable reaches `events` directly, and through a fragment.
    let direct = format!(
        "query($first: Int) {{ events(first: $first) {{ edges {{ node {{{} }} }} }} }}",
        fields(40)
    );
    let spread = format!(
        "query($first: Int) {{ ...Page }} fragment Page on Query {{ events(first: $first) {{ edges {{ node {{{} }} }} }} }}",
        fields(40)
    );
    for query in [&direct, &spread] {
        let (_, small) =
            common::post(&app, &json!({"query": query, "variables": {"first": 40}})).await;
        assert!(small["errors"].is_null(), "{small}");
        for _ in 0..2 {
            let (_, big) =
                common::post(&app, &json!({"query": query, "variables": {"first": 100}})).await;
            assert_eq!(common::code(&big), "LIMIT_EXCEEDED", "{big}");
            assert!(big["data"].is_null(), "{big}");
        }
    }
    let stats = state.engine().stats();
    assert_eq!((stats.documents, stats.prevalidated), (2, 0));
}

#[tokio::test]
async fn constant_arguments_are_priced_once_and_over_the_limit_never_cached() {
    let (state, app) = app(&Config::default());
    let small = format!(
        "{{ events(first: 40) {{ edges {{ node {{{} }} }} }} }}",
        fields(40)
    );
    let big = format!(
        "{{ events(first: 100) {{ edges {{ node {{{} }} }} }} }}",
        fields(40)
    );
    for _ in 0..2 {
        let (_, body) = common::post(&app, &json!({"query": small})).await;
        assert!(body["errors"].is_null(), "{body}");
        let (_, body) = common::post(&app, &json!({"query": big})).await;
        assert_eq!(common::code(&body), "LIMIT_EXCEEDED", "{body}");
        assert!(body["data"].is_null(), "{body}");
    }
    let stats = state.engine().stats();
    assert_eq!((stats.documents, stats.prevalidated), (1, 1));
}

#[tokio::test]
async fn what_is_known_for_one_operation_is_not_used_for_another() {
    let config = Config {
        max_depth: 3,
        ..Config::default()
    };
    let (state, app) = app(&config);
    // async-graphql prices the whole document, whichever operation runs: a text with a
    // too-deep operation is refused for every operation, and never cached.
    let deep = "query Shallow { event(id: \"1\") { name } } \
                query Deep { event(id: \"1\") { venue { sections { rows { label } } } } }";
    for operation in ["Shallow", "Deep", "Shallow"] {
        let (_, body) =
            common::post(&app, &json!({"query": deep, "operationName": operation})).await;
        assert_eq!(common::code(&body), "LIMIT_EXCEEDED", "{operation}: {body}");
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(state.engine().stats().documents, 0);
    // Two operations within the limits: each answers its own selection on a hit.
    let both = "query A { event(id: \"1\") { name } } query B { event(id: \"2\") { id } }";
    let (_, a) = common::post(&app, &json!({"query": both, "operationName": "A"})).await;
    assert!(a["data"]["event"]["name"].is_string(), "{a}");
    let stats = state.engine().stats();
    assert_eq!((stats.documents, stats.prevalidated), (1, 1));
    for _ in 0..2 {
        let (_, b) = common::post(&app, &json!({"query": both, "operationName": "B"})).await;
        assert_eq!(b["data"]["event"], json!({"id": "2"}), "{b}");
        let (_, again) = common::post(&app, &json!({"query": both, "operationName": "A"})).await;
        assert_eq!(again, a);
    }
}

#[tokio::test]
async fn the_directive_and_recursion_limits_still_apply_to_prevalidated_hits() {
    let config = Config {
        max_directives: 1,
        ..Config::default()
    };
    let (state, app) = app(&config);
    let query = "query($s: Boolean!) { event(id: \"1\") { name @skip(if: $s) id } }";
    let (_, shown) = common::post(&app, &json!({"query": query, "variables": {"s": false}})).await;
    assert!(shown["data"]["event"]["name"].is_string(), "{shown}");
    assert_eq!(state.engine().stats().prevalidated, 1);
    // `@skip` is evaluated per request on a hit, with that request's variables.
    let (_, skipped) = common::post(&app, &json!({"query": query, "variables": {"s": true}})).await;
    assert!(skipped["errors"].is_null(), "{skipped}");
    assert!(skipped["data"]["event"].get("name").is_none(), "{skipped}");
    let two = "{ event(id: \"1\") { name @skip(if: false) @include(if: true) } }";
    for _ in 0..2 {
        let (_, body) = common::post(&app, &json!({"query": two})).await;
        assert!(body["data"].is_null(), "{body}");
        assert!(!body["errors"][0]["message"].is_null(), "{body}");
    }
}

/// A document of one or two fields is walked as usual: the hook that hands back a stored
/// result costs more than such a walk (the `{ __typename }` floor must not pay for it).
#[tokio::test]
async fn a_tiny_document_is_cached_but_walked() {
    let (state, app) = app(&Config::default());
    for _ in 0..2 {
        let (_, body) = common::post(&app, &json!({"query": "{ __typename }"})).await;
        assert_eq!(body["data"]["__typename"], "Query", "{body}");
    }
    let stats = state.engine().stats();
    assert_eq!((stats.documents, stats.prevalidated), (1, 0));
}
