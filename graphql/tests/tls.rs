//! GraphQL over TLS (queries over HTTPS, subscriptions over `wss://`): the conformance
//! suite through `https://`, a wrong CA or name refused
//! with "certificate verification failed", and a plain-text client against a TLS port,
//! a TLS client against a plain one and a silent client all ended promptly.

// Helpers that fail are failed tests, not crashes a client can cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use domain::{EventId, Ticketing};
use netkit::tls::{ClientTls, ServerTls, dev};
use netkit::{ClientConfig, ServerConfig};

/// Far longer than any of these failures takes; a hang fails the test here.
const DEADLINE: Duration = Duration::from_secs(15);

/// A server bounding handshakes by 300 ms (so the silent client is closed quickly) and
/// a client trusting its CA.
fn certificates() -> (ServerTls, ClientTls) {
    dev::pair(Duration::from_millis(300)).unwrap()
}

/// As [`certificates`], bounding handshakes by netkit's default instead: for tests whose
/// handshakes must complete (or fail on the client's verdict), which a debug build on a
/// loaded machine may not do within 300 ms.
fn patient_certificates() -> (ServerTls, ClientTls) {
    dev::pair(netkit::tls::HANDSHAKE_TIMEOUT).unwrap()
}

async fn spawn(tls: Option<ServerTls>) -> netkit::running::RunningServer {
    let config = graphql::Config::with_server(ServerConfig {
        tls,
        ..ServerConfig::default()
    });
    common::spawn_with(Arc::new(common::service()), config).await
}

fn client(url: &str, tls: Option<ClientTls>) -> graphql::Client {
    let config = ClientConfig {
        tls,
        ..ClientConfig::default()
    };
    graphql::Client::with_config(url, &config).unwrap()
}

async fn first_call_fails(client: &graphql::Client) -> domain::Error {
    tokio::time::timeout(DEADLINE, client.get_event(EventId(1)))
        .await
        .expect("the call hung")
        .expect_err("the call succeeded")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_conforms_over_tls() {
    let (server_tls, ca) = patient_certificates();
    let server = spawn(Some(server_tls)).await;
    let client = client(&format!("https://{}/graphql", server.addr), Some(ca));
    domain::conformance::run(Arc::new(client), common::SPEC).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_wrong_ca_or_name_fails_verification_clearly() {
    let (server_tls, _) = patient_certificates();
    let other_ca = dev::other_ca().unwrap();
    let server = spawn(Some(server_tls)).await;
    let url = format!("https://{}/graphql", server.addr);
    let e = first_call_fails(&client(&url, Some(other_ca))).await;
    assert!(
        e.to_string().contains("certificate verification failed"),
        "{e}"
    );
    // The right CA, but a certificate for another name: reqwest checks the URL's host.
    let (other_name, ca) =
        dev::pair_for(&["quartet.invalid"], netkit::tls::HANDSHAKE_TIMEOUT).unwrap();
    let named = spawn(Some(other_name)).await;
    let e = first_call_fails(&client(
        &format!("https://{}/graphql", named.addr),
        Some(ca),
    ))
    .await;
    assert!(
        e.to_string().contains("certificate verification failed"),
        "{e}"
    );
}

#[tokio::test]
async fn plain_text_and_tls_mismatches_fail_promptly() {
    let (server_tls, ca) = certificates();
    let tls_server = spawn(Some(server_tls)).await;
    first_call_fails(&client(
        &format!("http://{}/graphql", tls_server.addr),
        None,
    ))
    .await;
    let plain_server = spawn(None).await;
    let e = first_call_fails(&client(
        &format!("https://{}/graphql", plain_server.addr),
        Some(ca),
    ))
    .await;
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
