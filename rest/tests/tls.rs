//! REST over TLS: netkit's shared TLS checks (`netkit::tls::suite`) through `https://`:
//! the conformance suite, a wrong CA or name refused with "certificate verification
//! failed", a plain-text client against a TLS port, a TLS client against a plain one
//! and a silent client all ended promptly.

// Helpers that fail are failed tests, not crashes a client can cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use netkit::running::RunningServer;
use netkit::tls::{ClientTls, ServerTls, suite};

/// REST's servers and clients, for the suite. reqwest checks the URL's host, not
/// `ClientTls::server_name`.
struct Rest;

impl suite::Target for Rest {
    type Client = rest::Client;
    const HONOURS_SERVER_NAME: bool = false;

    async fn spawn(&self, tls: Option<ServerTls>) -> RunningServer {
        let config = rest::Config::with_server(suite::server_config(tls));
        common::spawn_with(Arc::new(common::service()), config).await
    }

    async fn connect(
        &self,
        addr: SocketAddr,
        tls: Option<ClientTls>,
    ) -> domain::Result<rest::Client> {
        let url = suite::url(addr, tls.as_ref(), "");
        rest::Client::with_config(&url, &suite::client_config(tls))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_passes_the_tls_suite() {
    suite::run(&Rest, common::SPEC).await;
}
