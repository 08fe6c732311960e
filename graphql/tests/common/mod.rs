//! Test helpers: a GraphQL server on a loopback port the OS picked, and a way to post a
//! raw request to the router without a socket.

// Each test binary uses its own subset of these helpers, and a failure in them is a
// failed test, not a crash a client can cause.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::{DatasetSpec, Limits, Service, SharedTicketing};
use http_body_util::BodyExt;
use netkit::running::RunningServer;
use serde_json::Value;
use tower::ServiceExt;

/// The dataset the GraphQL tests run on.
pub const SPEC: DatasetSpec = DatasetSpec {
    events: 2_000,
    seed: 7,
};

pub fn service() -> Service {
    Service::generate(SPEC, Limits::default())
}

/// The router over `service` with the default settings, for `oneshot` calls.
pub fn app(service: Service) -> axum::Router {
    graphql::app(Arc::new(service), &graphql::Config::default())
}

/// Serves `service` with the default settings on a port the OS picks on 127.0.0.1.
pub async fn spawn(service: Service) -> RunningServer {
    spawn_with(Arc::new(service), graphql::Config::default()).await
}

/// Serves `api` with `config` on a port the OS picks on 127.0.0.1.
pub async fn spawn_with(api: SharedTicketing, config: graphql::Config) -> RunningServer {
    RunningServer::spawn(|listener, stop| graphql::serve(listener, api, config, stop))
        .await
        .unwrap()
}

/// The server's GraphQL endpoint.
pub fn endpoint(server: &RunningServer) -> String {
    format!("http://{}/graphql", server.addr)
}

/// Posts `body` (JSON) to `/graphql` through `app` and returns status and JSON.
pub async fn post(app: &axum::Router, body: &Value) -> (StatusCode, Value) {
    post_raw(app, "application/json", body.to_string().into_bytes()).await
}

pub async fn post_raw(
    app: &axum::Router,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The first error's `extensions.code`.
pub fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}
