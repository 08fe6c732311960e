//! GraphQL documents: input is a query document, optionally followed by a line
//! `#variables` and a JSON value for the variables. It is wrapped into a well-formed
//! `POST /graphql` request (so every mutation exercises the parser, validation, the
//! limits on depth, complexity and directives, variable coercion and execution rather
//! than JSON escaping) and sent through `graphql::app` over a fresh in-memory service.
//! Asserts: no panic, status 200, a JSON body of at most 16 MiB with `data` or
//! `errors`, and every error carrying `extensions.code`.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use quartet_fuzz::fixture::Resettable;
use quartet_fuzz::{http_input, runtime};
use serde_json::{Value, json};

const VARIABLES_MARKER: &str = "\n#variables\n";

fn setup() -> &'static (Arc<Resettable>, Router) {
    static SETUP: OnceLock<(Arc<Resettable>, Router)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let api = Arc::new(Resettable::default());
        let router = graphql::app(api.clone(), &graphql::Config::default());
        (api, router)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (query, variables) = match text.split_once(VARIABLES_MARKER) {
        Some((query, variables)) => (
            query,
            serde_json::from_str::<Value>(variables).unwrap_or(Value::Null),
        ),
        None => (text, Value::Null),
    };
    let body = json!({"query": query, "variables": variables}).to_string();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a fixed method, URI and header always build");
    let (api, router) = setup();
    api.reset();
    let answer = runtime::block_on(http_input::call(router.clone(), request));
    http_input::check_answer(&Method::POST, &answer);
    // Within the size limits, a document always executes or fails as GraphQL errors.
    let body: Value = serde_json::from_slice(&answer.body).expect("a JSON answer");
    if answer.status == StatusCode::OK {
        assert!(
            body.get("data").is_some() || body.get("errors").is_some(),
            "neither data nor errors: {body}"
        );
    } else {
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
    }
    for error in body
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        assert!(
            error
                .pointer("/extensions/code")
                .is_some_and(Value::is_string),
            "an error without extensions.code: {error}"
        );
    }
});
