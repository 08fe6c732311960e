//! gRPC over TLS: the conformance suite over a verified TLS channel, a wrong CA or name
//! refused with "certificate verification failed", and a plain-text client against a
//! TLS port, a TLS client against a plain one and a silent client all ended promptly.

// Helpers that fail are failed tests, not crashes a client can cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::{EventId, Ticketing};
use netkit::running::RunningServer;
use netkit::tls::{ClientTls, ServerTls, dev};
use netkit::{ClientConfig, ServerConfig};

/// Far longer than any of these failures takes; a hang fails the test here.
const DEADLINE: Duration = Duration::from_secs(15);

/// A server bounding handshakes by 300 ms (so the silent client is closed quickly) and
/// a client trusting its CA: only for tests that expect the handshake to fail anyway.
fn certificates() -> (ServerTls, ClientTls) {
    dev::pair(Duration::from_millis(300)).unwrap()
}

/// As [`certificates`], bounding handshakes by netkit's default instead: for tests whose
/// handshakes must complete (or fail on the client's verdict), which a debug build on a
/// loaded machine may not do within 300 ms.
fn patient_certificates() -> (ServerTls, ClientTls) {
    dev::pair(netkit::tls::HANDSHAKE_TIMEOUT).unwrap()
}

async fn spawn(tls: Option<ServerTls>) -> RunningServer {
    let config = grpc::Config::with_server(ServerConfig {
        tls,
        ..ServerConfig::default()
    });
    let api = Arc::new(common::generate());
    RunningServer::spawn(|listener, stop| grpc::serve(listener, api, config, stop))
        .await
        .unwrap()
}

fn config(tls: Option<ClientTls>) -> ClientConfig {
    ClientConfig {
        tls,
        ..ClientConfig::default()
    }
}

/// Connecting and a first call, which must fail within the deadline.
async fn first_call_fails(addr: SocketAddr, tls: Option<ClientTls>) -> domain::Error {
    let attempt = async {
        let client = grpc::Client::connect_with(addr, &config(tls)).await?;
        client.get_event(EventId(1)).await.map(|_| ())
    };
    tokio::time::timeout(DEADLINE, attempt)
        .await
        .expect("the call hung")
        .expect_err("the call succeeded")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_conforms_over_tls() {
    let (server_tls, ca) = patient_certificates();
    let server = spawn(Some(server_tls)).await;
    let client = grpc::Client::connect_with(server.addr, &config(Some(ca)))
        .await
        .unwrap();
    domain::conformance::run(Arc::new(client), common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_wrong_ca_or_name_fails_verification_clearly() {
    let (server_tls, ca) = patient_certificates();
    let other_ca = dev::other_ca().unwrap();
    let server = spawn(Some(server_tls)).await;
    let e = first_call_fails(server.addr, Some(other_ca)).await;
    assert!(
        e.to_string().contains("certificate verification failed"),
        "{e}"
    );
    let e = first_call_fails(server.addr, Some(ca.with_server_name("quartet.invalid"))).await;
    assert!(
        e.to_string().contains("certificate verification failed"),
        "{e}"
    );
}

#[tokio::test]
async fn plain_text_and_tls_mismatches_fail_promptly() {
    let (server_tls, ca) = certificates();
    let tls_server = spawn(Some(server_tls)).await;
    first_call_fails(tls_server.addr, None).await;
    let plain_server = spawn(None).await;
    let e = first_call_fails(plain_server.addr, Some(ca)).await;
    assert!(e.to_string().contains("TLS"), "{e}");
}

#[tokio::test]
async fn a_silent_client_is_closed_at_the_handshake_deadline() {
    let (server_tls, _) = certificates();
    let server = spawn(Some(server_tls)).await;
    let sent = dev::silent_client(server.addr, DEADLINE)
        .await
        .expect("the server kept a silent connection past its handshake deadline");
    assert_eq!(sent, 0, "the server sent bytes to a silent client");
}
