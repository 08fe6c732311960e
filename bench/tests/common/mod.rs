//! What the client tests share: a small dataset, its plan, and a server of any protocol
//! over it on a loopback port the OS picks.

// Each test binary uses its own subset; a failure here is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use bench::protocol::{self, Protocol};
use bench::scenario::Plan;
use domain::{Dataset, DatasetSpec, Limits, Service, SharedTicketing};
use netkit::ServerConfig;
use netkit::running::RunningServer;

/// The dataset every server here generates.
pub const SPEC: DatasetSpec = DatasetSpec {
    events: 300,
    seed: 5,
};

/// The harness's plan over [`SPEC`].
pub fn plan() -> Arc<Plan> {
    Arc::new(Plan::new(Dataset::from_spec(SPEC)))
}

/// `protocol`'s server over a fresh [`SPEC`] store with default settings.
pub async fn serve(protocol: Protocol) -> RunningServer {
    let api: SharedTicketing = Arc::new(Service::generate(SPEC, Limits::default()));
    RunningServer::spawn(move |listener, stop| {
        protocol::serve(protocol, listener, api, ServerConfig::default(), stop)
    })
    .await
    .unwrap_or_else(|e| panic!("{protocol} server: {e}"))
}
