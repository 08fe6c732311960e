//! Test helpers: a gRPC server on a loopback port the test picked; raw HTTP/2 clients
//! and the send budget's wait in [`raw_h2`].

// Each test binary uses its own subset of these helpers, and a failure in them is a
// failed test, not a crash a client can cause.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod raw_h2;

use std::sync::Arc;

use domain::{DatasetSpec, Limits, Service, SharedTicketing};
use netkit::running::RunningServer;

/// The dataset the gRPC tests run on.
pub const SPEC: DatasetSpec = DatasetSpec {
    events: 2_000,
    seed: 7,
};

/// The in-memory service on the test dataset.
pub fn generate() -> Service {
    Service::generate(SPEC, Limits::default())
}

/// A gRPC server on a port the OS picks, and the service behind it.
pub async fn spawn() -> (RunningServer, Service) {
    let service = generate();
    let server = serve(Arc::new(service.clone())).await;
    (server, service)
}

/// A gRPC server over `api` with the default config, on a port the OS picks.
pub async fn serve(api: SharedTicketing) -> RunningServer {
    RunningServer::spawn(|listener, stop| grpc::serve(listener, api, grpc::Config::default(), stop))
        .await
        .unwrap()
}

/// A gRPC server over `api` with `config`, sharing `budget` with the test (which reads
/// its counters), on a port the OS picks.
#[allow(dead_code)] // Not every test binary that includes this module uses it.
pub async fn serve_with_budget(
    api: SharedTicketing,
    config: grpc::Config,
    budget: &netkit::send_budget::SendBudget,
) -> RunningServer {
    let budget = budget.clone();
    RunningServer::spawn(move |listener, stop| {
        grpc::serve_with_budget(listener, api, config, budget, stop)
    })
    .await
    .unwrap()
}

/// A channel to the server.
pub async fn channel(server: &RunningServer) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await
        .unwrap()
}
