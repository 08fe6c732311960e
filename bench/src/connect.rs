//! The `connect` scenario: one operation is a new connection and its first request.
//! TCP, then TLS when the run has `--tls`, then the protocol's own start (nothing for
//! HTTP/1.1, the HTTP/2 preface and SETTINGS for gRPC, the hellos for the wire
//! protocol), then one get_event, checked as the get_event scenario checks it; the
//! connection is dropped after. It measures what a client that does not keep its
//! connections pays, which is where the protocols differ most under TLS.
//!
//! REST and GraphQL go through the lean HTTP/1.1 client, gRPC through the lean HTTP/2
//! one, the wire protocol through its `Ticketing` client (metered inside TLS). Each
//! operation asks for the worker's first get_event input, so connections, not caches,
//! are what changes. Not in the default suite (`--scenarios connect`): at high rates a
//! run leaves many sockets in TIME_WAIT.
//!
//! With `--auth` (the authentication axis), the token check belongs to the first
//! request, and so to what is measured: REST's, GraphQL's and gRPC's first request
//! carries the token in its pre-built head (the opener's requests are built with it),
//! and the wire protocol sends its AUTH request right after the hellos, before the
//! get_event, as a client of it must ([`ConnectWorker::with_token`] gives the token).

use std::net::SocketAddr;
use std::sync::Arc;

use domain::EventId;

use crate::compression::Compression;
use crate::lean::grpc::{GrpcRequests, GrpcWorker, H2Connection};
use crate::lean::{LeanWorker, Requests};
use crate::metering::PayloadMeter;
use crate::protocol::{self, Protocol};
use crate::scenario::{Outcome, Plan, Scenario};

/// How one protocol opens its connections for the `connect` scenario.
#[derive(Clone)]
pub enum Opener {
    /// REST or GraphQL: a lean HTTP/1.1 connection (TLS in the requests' connector).
    Http1(Arc<Requests>),
    /// gRPC: a lean HTTP/2 connection.
    Grpc(Arc<GrpcRequests>, Option<netkit::tls::Connector>),
    /// The wire protocol: its client, with the hellos.
    Wire(Compression, Option<netkit::tls::ClientTls>),
}

/// One worker of a `connect` run.
pub struct ConnectWorker {
    opener: Opener,
    addr: SocketAddr,
    plan: Arc<Plan>,
    index: usize,
    meter: Arc<PayloadMeter>,
    /// `--auth`'s bearer token: the wire protocol's AUTH request on each connection
    /// (the HTTP openers' requests carry it already).
    token: Option<String>,
}

impl ConnectWorker {
    /// Worker `index`, opening connections to `addr` with `opener`.
    pub fn new(
        opener: Opener,
        addr: SocketAddr,
        plan: Arc<Plan>,
        index: usize,
        meter: Arc<PayloadMeter>,
    ) -> Self {
        ConnectWorker {
            opener,
            addr,
            plan,
            index,
            meter,
            token: None,
        }
    }

    /// The bearer token each connection presents (`--auth`): the wire protocol's AUTH
    /// request after the hellos. The HTTP openers' requests must be built with the same
    /// token (`Requests::authorized`, `GrpcRequests::with_bearer`), as
    /// `steps::ApiSteps` builds them.
    #[must_use]
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token;
        self
    }

    /// One operation: connect, handshake, one get_event, drop.
    pub async fn run_once(&mut self) -> Outcome {
        let addr = self.addr;
        match &self.opener {
            Opener::Http1(requests) => {
                match LeanWorker::connect(
                    addr,
                    Arc::clone(&self.plan),
                    Arc::clone(requests),
                    Scenario::GetEvent,
                    self.index,
                    Arc::clone(&self.meter),
                )
                .await
                {
                    Ok(mut worker) => worker.run_once().await,
                    Err(e) => Outcome::Failed(format!("cannot connect to {addr}: {e}")),
                }
            }
            Opener::Grpc(requests, tls) => match H2Connection::open_tls(addr, tls.clone()).await {
                Ok(connection) => {
                    GrpcWorker::new(
                        connection,
                        Arc::clone(&self.plan),
                        Arc::clone(requests),
                        Scenario::GetEvent,
                        self.index,
                        Arc::clone(&self.meter),
                    )
                    .await
                    .run_once()
                    .await
                }
                Err(e) => Outcome::Failed(format!("cannot connect to {addr}: {e}")),
            },
            Opener::Wire(compression, tls) => {
                // With a token, the AUTH request follows the hellos inside this call.
                let connected = match protocol::connect_authorized(
                    Protocol::Wire,
                    addr,
                    1,
                    *compression,
                    tls.as_ref(),
                    self.token.as_deref(),
                )
                .await
                {
                    Ok(connected) => connected,
                    Err(e) => return Outcome::Failed(format!("cannot connect to {addr}: {e}")),
                };
                let events = u64::from(self.plan.data().spec.events.max(1));
                let id = EventId(1 + self.index as u64 % events);
                match connected.api.get_event(id).await {
                    Ok(event) if event.id == id => Outcome::Ok,
                    Ok(event) => Outcome::Failed(format!("asked for event {id}, got {}", event.id)),
                    Err(e) => Outcome::Failed(e.to_string()),
                }
            }
        }
    }
}
