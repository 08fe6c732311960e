//! Test helpers: the router or a server on a loopback port over a generated `Service`,
//! and the OpenAPI document as a JSON Schema validator for responses.

// Each test binary uses its own subset of these helpers, and a failure in them is a
// failed test, not a crash a client can cause.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use domain::{DatasetSpec, Limits, Service, SharedTicketing};
use netkit::running::RunningServer;
use serde_json::Value;

/// The dataset every REST test runs on: small, so tests start fast.
pub const SPEC: DatasetSpec = DatasetSpec {
    events: 2_000,
    seed: 7,
};

pub fn service() -> Service {
    Service::generate(SPEC, Limits::default())
}

/// The router over `service` with the default settings, for `oneshot` calls.
pub fn app(service: Service) -> axum::Router {
    rest::app(Arc::new(service), &rest::Config::default())
}

/// Serves `service` with the default settings on a port the OS picks on 127.0.0.1.
pub async fn spawn(service: Service) -> RunningServer {
    spawn_with(Arc::new(service), rest::Config::default()).await
}

/// Serves `api` with `config` on a port the OS picks on 127.0.0.1.
pub async fn spawn_with(api: SharedTicketing, config: rest::Config) -> RunningServer {
    RunningServer::spawn(|listener, stop| rest::serve(listener, api, config, stop))
        .await
        .unwrap()
}

/// The server's base URL.
pub fn url(server: &RunningServer) -> String {
    format!("http://{}", server.addr)
}

/// The OpenAPI document, as JSON, exactly as `/openapi.json` serves it.
pub fn openapi() -> Value {
    rest::openapi::document()
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Asserts `body` matches the schema the document gives for `method path` answering
/// `status` with `content_type`. The whole document is the schema's root, so its
/// `#/components/schemas/...` references resolve.
pub fn assert_documented(method: &str, path: &str, status: u16, content_type: &str, body: &Value) {
    let errors = documented_errors(method, path, status, content_type, body);
    assert!(
        errors.is_empty(),
        "{method} {path} -> {status}: {errors:#?}\nbody: {body}"
    );
}

/// The ways `body` breaks the documented schema (empty when it conforms).
pub fn documented_errors(
    method: &str,
    path: &str,
    status: u16,
    content_type: &str,
    body: &Value,
) -> Vec<String> {
    let doc = openapi();
    let pointer = format!(
        "/paths/{}/{}/responses/{}/content/{}/schema",
        escape(path),
        method.to_lowercase(),
        status,
        escape(content_type)
    );
    assert!(
        doc.pointer(&pointer).is_some(),
        "the document has no schema for {method} {path} -> {status} {content_type}"
    );
    let mut root = doc.clone();
    // A URI fragment cannot hold `{` or `}` (path templates): percent-encode them.
    let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
    root["$ref"] = Value::String(format!("#{fragment}"));
    let validator = jsonschema::draft202012::new(&root).expect("the document is a valid schema");
    validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}
