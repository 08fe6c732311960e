//! Test helpers: a gRPC server on a loopback port the test picked.

// Each test binary uses its own subset of these helpers, and a failure in them is a
// failed test, not a crash a client can cause.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use domain::{DatasetSpec, Limits, Service};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The dataset the gRPC tests run on.
pub const SPEC: DatasetSpec = DatasetSpec {
    events: 2_000,
    seed: 7,
};

pub struct Running {
    pub addr: SocketAddr,
    pub service: Service,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub fn stop_signal(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub async fn stop(mut self) -> std::io::Result<()> {
        self.stop_signal();
        (&mut self.task).await.expect("server task panicked")
    }

    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }
}

pub async fn spawn() -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let service = Service::generate(SPEC, Limits::default());
    let task = tokio::spawn(grpc::serve(listener, service.clone(), async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        service,
        stop: Some(stop),
        task,
    }
}
