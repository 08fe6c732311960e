//! The TLS test suite every protocol's `tests/tls.rs` runs (feature `test-suites`), so
//! the four protocols are held to one set of TLS behaviours written once: the
//! conformance suite through a verified TLS connection, a wrong CA or name refused with
//! "certificate verification failed", a plain-text client against a TLS port and a TLS
//! client against a plain one failing promptly, and a silent client closed at the
//! server's handshake deadline.
//!
//! A protocol describes how to serve and connect as a [`Target`]; [`run`] does the rest.
//! What is not here: the certificates themselves ([`super::dev`]) and any protocol's own
//! TLS details (its ALPN ids, how its client is built), which stay in the protocol crate.

// A failed check is a failed test, as in `domain::conformance`.
#![allow(clippy::expect_used, clippy::missing_panics_doc)]

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::{DatasetSpec, EventId, Ticketing};

use super::{ClientTls, HANDSHAKE_TIMEOUT, ServerTls, dev};
use crate::running::RunningServer;
use crate::{ClientConfig, ServerConfig};

/// Far longer than any of these failures takes; a hang fails the check here.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// The handshake deadline of servers in checks that expect the handshake to fail anyway
/// (or never start): short, so the silent client is closed quickly.
pub const QUICK_HANDSHAKE: Duration = Duration::from_millis(300);

/// How a protocol's tests serve and connect, for [`run`].
pub trait Target {
    /// The protocol's client.
    type Client: Ticketing + 'static;

    /// Whether the client checks the server's certificate against
    /// [`ClientTls::server_name`] (a [`super::Connector`]: gRPC, wire) rather than the
    /// host it dials (reqwest: REST, GraphQL queries).
    const HONOURS_SERVER_NAME: bool;

    /// The protocol's server on a loopback port, over TLS when `tls` is given.
    fn spawn(&self, tls: Option<ServerTls>) -> impl Future<Output = RunningServer>;

    /// A client of the server at `addr`, over TLS trusting `tls` when it is given, else
    /// in plain text. A protocol that only handshakes on the first call returns `Ok`.
    fn connect(
        &self,
        addr: SocketAddr,
        tls: Option<ClientTls>,
    ) -> impl Future<Output = domain::Result<Self::Client>>;
}

/// The default server settings with `tls`: what a [`Target::spawn`] serves with.
pub fn server_config(tls: Option<ServerTls>) -> ServerConfig {
    ServerConfig {
        tls,
        ..ServerConfig::default()
    }
}

/// The default client settings with `tls`: what a [`Target::connect`] connects with.
pub fn client_config(tls: Option<ClientTls>) -> ClientConfig {
    ClientConfig {
        tls,
        ..ClientConfig::default()
    }
}

/// An HTTP client's URL for `path` at `addr`: `https` when it has `tls`, else `http`.
pub fn url(addr: SocketAddr, tls: Option<&ClientTls>, path: &str) -> String {
    let scheme = if tls.is_some() { "https" } else { "http" };
    format!("{scheme}://{addr}{path}")
}

/// Runs every check on `target`, whose servers serve a dataset generated from `spec`.
/// Needs a multi-threaded runtime, as the conformance suite does.
pub async fn run<T: Target>(target: &T, spec: DatasetSpec) {
    the_client_conforms_over_tls(target, spec).await;
    a_wrong_ca_or_name_fails_verification_clearly(target).await;
    plain_text_and_tls_mismatches_fail_promptly(target).await;
    a_silent_client_is_closed_at_the_handshake_deadline(target).await;
}

/// A server and a client trusting its CA, the server bounding handshakes by netkit's
/// default: for checks whose handshakes must complete (or fail on the client's
/// verdict), which a debug build on a loaded machine may not do within
/// [`QUICK_HANDSHAKE`].
fn patient_certificates() -> (ServerTls, ClientTls) {
    dev::pair(HANDSHAKE_TIMEOUT).expect("development certificates")
}

/// As [`patient_certificates`], bounding handshakes by [`QUICK_HANDSHAKE`].
fn quick_certificates() -> (ServerTls, ClientTls) {
    dev::pair(QUICK_HANDSHAKE).expect("development certificates")
}

/// Connecting and a first call, which must fail within [`DEADLINE`].
async fn first_call_fails<T: Target>(
    target: &T,
    addr: SocketAddr,
    tls: Option<ClientTls>,
) -> domain::Error {
    let attempt = async {
        let client = target.connect(addr, tls).await?;
        client.get_event(EventId(1)).await.map(|_| ())
    };
    tokio::time::timeout(DEADLINE, attempt)
        .await
        .expect("the call hung")
        .expect_err("the call succeeded")
}

fn assert_verification_failed(e: &domain::Error, what: &str) {
    assert!(
        e.to_string().contains("certificate verification failed"),
        "{what}: {e}"
    );
}

/// The conformance suite through a verified TLS connection.
pub async fn the_client_conforms_over_tls<T: Target>(target: &T, spec: DatasetSpec) {
    let (server_tls, ca) = patient_certificates();
    let server = target.spawn(Some(server_tls)).await;
    let client = target
        .connect(server.addr, Some(ca))
        .await
        .expect("a TLS client connects");
    domain::conformance::run(Arc::new(client), spec).await;
    server.stop().await.expect("the server stops cleanly");
}

/// A client trusting another CA, and one trusting the right CA but meeting a
/// certificate for another name, are refused with "certificate verification failed";
/// where the client honours [`ClientTls::server_name`], expecting another name is too.
pub async fn a_wrong_ca_or_name_fails_verification_clearly<T: Target>(target: &T) {
    let (server_tls, ca) = patient_certificates();
    let other_ca = dev::other_ca().expect("development certificates");
    let server = target.spawn(Some(server_tls)).await;
    let e = first_call_fails(target, server.addr, Some(other_ca)).await;
    assert_verification_failed(&e, "another CA");

    let (other_name, right_ca) =
        dev::pair_for(&["quartet.invalid"], HANDSHAKE_TIMEOUT).expect("development certificates");
    let named = target.spawn(Some(other_name)).await;
    let e = first_call_fails(target, named.addr, Some(right_ca)).await;
    assert_verification_failed(&e, "a certificate for another name");

    if T::HONOURS_SERVER_NAME {
        let expecting = ca.with_server_name("quartet.invalid");
        let e = first_call_fails(target, server.addr, Some(expecting)).await;
        assert_verification_failed(&e, "a client expecting another name");
    }
}

/// A plain-text client against a TLS port fails (within [`DEADLINE`]), and a TLS
/// client against a plain-text port fails saying TLS is what went wrong.
pub async fn plain_text_and_tls_mismatches_fail_promptly<T: Target>(target: &T) {
    let (server_tls, ca) = quick_certificates();
    let tls_server = target.spawn(Some(server_tls)).await;
    first_call_fails(target, tls_server.addr, None).await;
    let plain_server = target.spawn(None).await;
    let e = first_call_fails(target, plain_server.addr, Some(ca)).await;
    assert!(e.to_string().contains("TLS"), "{e}");
}

/// A client that connects and sends nothing is closed at the server's handshake
/// deadline, having been sent nothing.
pub async fn a_silent_client_is_closed_at_the_handshake_deadline<T: Target>(target: &T) {
    let (server_tls, _) = quick_certificates();
    let server = target.spawn(Some(server_tls)).await;
    let sent = dev::silent_client(server.addr, DEADLINE)
        .await
        .expect("the server kept a silent connection past its handshake deadline");
    assert_eq!(sent, 0, "the server sent bytes to a silent client");
}
