//! gRPC over TLS: netkit's shared TLS checks (`netkit::tls::suite`): the conformance
//! suite over a verified TLS channel, a wrong CA or name refused with "certificate
//! verification failed", a plain-text client against a TLS port, a TLS client against a
//! plain one and a silent client all ended promptly.

// Helpers that fail are failed tests, not crashes a client can cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use netkit::running::RunningServer;
use netkit::tls::{ClientTls, ServerTls, suite};

/// gRPC's servers and clients, for the suite. The client's TLS is a netkit
/// `Connector`, which honours `ClientTls::server_name`.
struct Grpc;

impl suite::Target for Grpc {
    type Client = grpc::Client;
    const HONOURS_SERVER_NAME: bool = true;

    async fn spawn(&self, tls: Option<ServerTls>) -> RunningServer {
        let config = grpc::Config::with_server(suite::server_config(tls));
        let api = Arc::new(common::generate());
        RunningServer::spawn(|listener, stop| grpc::serve(listener, api, config, stop))
            .await
            .unwrap()
    }

    async fn connect(
        &self,
        addr: SocketAddr,
        tls: Option<ClientTls>,
    ) -> domain::Result<grpc::Client> {
        grpc::Client::connect_with(addr, &suite::client_config(tls)).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_passes_the_tls_suite() {
    suite::run(&Grpc, common::SPEC).await;
}
