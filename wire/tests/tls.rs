//! The wire protocol over TLS (ALPN quartet-wire/1): netkit's shared TLS checks
//! (`netkit::tls::suite`): the conformance suite over TLS, a wrong CA or name refused
//! with "certificate verification failed", a plain-text client against a TLS port, a
//! TLS client against a plain one and a silent client all ended promptly.

// Helpers that fail are failed tests, not crashes a client can cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;

use netkit::running::RunningServer;
use netkit::tls::{ClientTls, ServerTls, suite};

/// The wire protocol's servers and clients (one connection), for the suite. The
/// client's TLS is a netkit `Connector`, which honours `ClientTls::server_name`.
struct Wire;

impl suite::Target for Wire {
    type Client = wire::Client;
    const HONOURS_SERVER_NAME: bool = true;

    async fn spawn(&self, tls: Option<ServerTls>) -> RunningServer {
        let config = wire::Config::with_server(suite::server_config(tls));
        common::spawn_with(config).await
    }

    async fn connect(
        &self,
        addr: SocketAddr,
        tls: Option<ClientTls>,
    ) -> domain::Result<wire::Client> {
        wire::Client::connect_with(addr, 1, &suite::client_config(tls)).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wire_passes_the_tls_suite() {
    suite::run(&Wire, common::SPEC).await;
}
