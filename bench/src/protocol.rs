//! The protocols the harness drives, and the two things it does with each: serve any
//! `Ticketing` on a listener, and connect a client that implements `Ticketing` with a
//! payload meter installed from outside (see [`crate::metering`]).

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use domain::SharedTicketing;
use netkit::config::Compression;
use netkit::{ClientConfig, ServerConfig};
use tokio::net::TcpListener;

use crate::metering::PayloadMeter;
use crate::metering::grpc::MeterLayer;
use crate::metering::http::MeteredTransport;
use crate::metering::wire::MeteredStream;

/// A protocol, or one of the floors (raw TCP, HTTP/1.1 framework, HTTP/2 framework, the
/// GraphQL engine).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// REST/JSON on axum.
    Rest,
    /// GraphQL on async-graphql.
    Graphql,
    /// gRPC on tonic.
    Grpc,
    /// The custom binary protocol.
    Wire,
    /// Raw TCP ping-pong of the wire protocol's get_event bytes: the physical floor.
    TcpFloor,
    /// hyper serving REST get_event's exact response bytes over HTTP/1.1, no routing, no
    /// JSON: the HTTP/1.1 framework's floor (REST's and GraphQL's own floor).
    Http1Floor,
    /// hyper serving gRPC GetEvent's exact framed response, with its trailers, over
    /// HTTP/2: the HTTP/2 framework's floor (gRPC's own floor).
    H2Floor,
    /// The real GraphQL server answering `{ __typename }`, the least a query can ask of
    /// async-graphql: GraphQL's engine floor, beneath its get_event.
    GraphqlFloor,
}

impl Protocol {
    /// The four API styles, in report order.
    pub const APIS: [Protocol; 4] = [
        Protocol::Rest,
        Protocol::Graphql,
        Protocol::Grpc,
        Protocol::Wire,
    ];

    /// Every protocol and floor, in the order a default `quartet bench` runs them.
    pub const ALL: [Protocol; 8] = [
        Protocol::TcpFloor,
        Protocol::Http1Floor,
        Protocol::H2Floor,
        Protocol::GraphqlFloor,
        Protocol::Rest,
        Protocol::Graphql,
        Protocol::Grpc,
        Protocol::Wire,
    ];

    /// The name used on the command line and in results.
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::Rest => "rest",
            Protocol::Graphql => "graphql",
            Protocol::Grpc => "grpc",
            Protocol::Wire => "wire",
            Protocol::TcpFloor => "tcp-floor",
            Protocol::Http1Floor => "http1-floor",
            Protocol::H2Floor => "h2-floor",
            Protocol::GraphqlFloor => "graphql-floor",
        }
    }

    /// Whether it is one of the floors (baselines that do no work), not an API.
    pub const fn is_floor(self) -> bool {
        matches!(
            self,
            Protocol::TcpFloor | Protocol::Http1Floor | Protocol::H2Floor | Protocol::GraphqlFloor
        )
    }

    /// The floor of the framework it runs on: REST and GraphQL `http1-floor`, gRPC
    /// `h2-floor`, wire `tcp-floor`; `None` for a floor.
    pub const fn own_floor(self) -> Option<Protocol> {
        match self {
            Protocol::Rest | Protocol::Graphql => Some(Protocol::Http1Floor),
            Protocol::Grpc => Some(Protocol::H2Floor),
            Protocol::Wire => Some(Protocol::TcpFloor),
            Protocol::TcpFloor
            | Protocol::Http1Floor
            | Protocol::H2Floor
            | Protocol::GraphqlFloor => None,
        }
    }

    /// The floor of the engine above the framework, where there is one: GraphQL's
    /// `graphql-floor` (its server answering `{ __typename }`).
    pub const fn engine_floor(self) -> Option<Protocol> {
        match self {
            Protocol::Graphql => Some(Protocol::GraphqlFloor),
            _ => None,
        }
    }

    /// Whether it runs only at the busiest closed-loop shape of a suite: the GraphQL
    /// engine floor, a reference for throughput under load that keeps the default
    /// suite one run longer, not two.
    pub const fn busiest_shape_only(self) -> bool {
        matches!(self, Protocol::GraphqlFloor)
    }

    /// Whether it can answer compressed (the four APIs): the floors answer fixed
    /// uncompressed bytes.
    pub const fn compresses(self) -> bool {
        !self.is_floor()
    }

    /// Whether its server takes `--tls-cert`/`--tls-key`: the four APIs and graphql-floor
    /// (the GraphQL server itself); the raw floors serve plain text only.
    pub const fn serves_tls(self) -> bool {
        !matches!(
            self,
            Protocol::TcpFloor | Protocol::Http1Floor | Protocol::H2Floor
        )
    }

    /// Whether one connection carries many requests at once (HTTP/2, wire): these
    /// spread their clients over `--connections`; the others open one per client.
    pub const fn multiplexed(self) -> bool {
        matches!(self, Protocol::Grpc | Protocol::Wire | Protocol::H2Floor)
    }

    /// The port its standalone server uses by default.
    pub const fn default_port(self) -> u16 {
        match self {
            Protocol::Rest => rest::DEFAULT_PORT,
            Protocol::Graphql => graphql::DEFAULT_PORT,
            Protocol::Grpc => grpc::DEFAULT_PORT,
            Protocol::Wire => wire::DEFAULT_PORT,
            Protocol::TcpFloor => 7879,
            Protocol::Http1Floor => 7880,
            Protocol::H2Floor => 7881,
            Protocol::GraphqlFloor => 7882,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown protocol {s:?}: expected rest, graphql, grpc, wire, tcp-floor, http1-floor, h2-floor or graphql-floor"
                )
            })
    }
}

/// Serves `api` over `protocol` on `listener` with `server`'s settings (and the
/// protocol's defaults for the rest) until `shutdown` resolves.
///
/// # Errors
/// If the server fails.
pub async fn serve(
    protocol: Protocol,
    listener: TcpListener,
    api: SharedTicketing,
    server: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match protocol {
        Protocol::Rest => {
            rest::serve(listener, api, rest::Config::with_server(server), shutdown).await
        }
        Protocol::Graphql | Protocol::GraphqlFloor => {
            graphql::serve(
                listener,
                api,
                graphql::Config::with_server(server),
                shutdown,
            )
            .await
        }
        Protocol::Grpc => {
            grpc::serve(listener, api, grpc::Config::with_server(server), shutdown).await
        }
        Protocol::Wire => {
            wire::serve(listener, api, wire::Config::with_server(server), shutdown).await
        }
        Protocol::TcpFloor => crate::floor::serve(listener, api.as_ref(), shutdown).await,
        Protocol::Http1Floor => crate::floor::serve_http1(listener, api.as_ref(), shutdown).await,
        Protocol::H2Floor => crate::floor::serve_h2(listener, api.as_ref(), shutdown).await,
    }
}

/// A connected client and its payload meter.
#[derive(Clone)]
pub struct Connected {
    /// The client.
    pub api: SharedTicketing,
    /// Its payload counters.
    pub meter: Arc<PayloadMeter>,
}

/// Connects a client for `protocol` to `addr`, with the default client settings and a
/// payload meter around its transport.
///
/// # Errors
/// If the server cannot be reached, or for a floor (they have no `Ticketing` client).
pub async fn connect(protocol: Protocol, addr: SocketAddr) -> domain::Result<Connected> {
    connect_with(protocol, addr, 1).await
}

/// As [`connect`], over `connections` connections for the wire protocol (its client
/// spreads requests over them); the others open one (gRPC: open several clients for
/// several connections; HTTP/1.1 clients pool their own).
///
/// # Errors
/// If the server cannot be reached, or for a floor other than `h2-floor` (which answers
/// a gRPC client's GetEvent, and nothing else).
pub async fn connect_with(
    protocol: Protocol,
    addr: SocketAddr,
    connections: usize,
) -> domain::Result<Connected> {
    connect_compressed(protocol, addr, connections, Compression::None).await
}

/// As [`connect_with`], the client asking for answers in `compression` (REST and
/// GraphQL: `Accept-Encoding`, decoded by the metering transport; gRPC:
/// `grpc-accept-encoding`, decoded by tonic; wire: the codec its hello accepts, frames
/// decompressed by its client, the meter counting them as they crossed the socket).
///
/// # Errors
/// As [`connect_with`].
pub async fn connect_compressed(
    protocol: Protocol,
    addr: SocketAddr,
    connections: usize,
    compression: Compression,
) -> domain::Result<Connected> {
    connect_secured(protocol, addr, connections, compression, None).await
}

/// As [`connect_compressed`], over TLS verified against `tls` when given (`--tls`):
/// `https://` for REST and GraphQL, netkit's connector for gRPC, and for the wire
/// protocol one TLS connection with the payload meter inside TLS, where the frames are
/// (so `connections` must be 1 with TLS: open several clients for several connections,
/// as for gRPC).
///
/// # Errors
/// As [`connect_with`]; a failed handshake says why ("certificate verification failed").
pub async fn connect_secured(
    protocol: Protocol,
    addr: SocketAddr,
    connections: usize,
    compression: Compression,
    tls: Option<&netkit::tls::ClientTls>,
) -> domain::Result<Connected> {
    connect_authorized(protocol, addr, connections, compression, tls, None).await
}

/// As [`connect_secured`], every request carrying `bearer` when given (`--auth`): REST
/// and GraphQL an `Authorization: Bearer` header, gRPC `authorization` metadata (each
/// client's `with_bearer`), the wire protocol an AUTH request on every connection
/// right after the hellos (`authenticate`), so connecting includes it.
///
/// # Errors
/// As [`connect_with`]; a token a client cannot send (not a valid header value).
pub async fn connect_authorized(
    protocol: Protocol,
    addr: SocketAddr,
    connections: usize,
    compression: Compression,
    tls: Option<&netkit::tls::ClientTls>,
    bearer: Option<&str>,
) -> domain::Result<Connected> {
    let meter = Arc::new(PayloadMeter::default());
    let config = ClientConfig {
        compression,
        tls: tls.cloned(),
        ..ClientConfig::default()
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let api: SharedTicketing = match protocol {
        Protocol::Rest => {
            let transport = MeteredTransport::reqwest(&config, Arc::clone(&meter))?;
            let client = rest::Client::with_transport(&format!("{scheme}://{addr}"), transport)?;
            Arc::new(match bearer {
                Some(token) => client.with_bearer(token)?,
                None => client,
            })
        }
        Protocol::Graphql => {
            let transport = MeteredTransport::reqwest(&config, Arc::clone(&meter))?;
            let client =
                graphql::Client::with_transport(&format!("{scheme}://{addr}/graphql"), transport)?;
            Arc::new(match bearer {
                Some(token) => client.with_bearer(token)?,
                None => client,
            })
        }
        Protocol::Wire if tls.is_some() => {
            let connector = tls.map(|t| t.connector(&[wire::handshake::ALPN]));
            let stream = crate::lean::stream::dial(addr, connector.as_ref())
                .await
                .map_err(|e| domain::Error::internal(format!("cannot connect to {addr}: {e}")))?;
            let client =
                wire::Client::from_stream(MeteredStream::new(stream, Arc::clone(&meter)), &config)
                    .await?;
            if let Some(token) = bearer {
                client.authenticate(token).await?;
            }
            Arc::new(client)
        }
        Protocol::Grpc | Protocol::H2Floor => {
            let channel = grpc::client::channel(addr, &config).await?;
            let channel = tower::Layer::layer(&MeterLayer::new(Arc::clone(&meter)), channel);
            let client = grpc::Client::with_channel(channel, &config);
            Arc::new(match bearer {
                Some(token) => client.with_bearer(token)?,
                None => client,
            })
        }
        Protocol::Wire => {
            let wrap_meter = Arc::clone(&meter);
            let client =
                wire::Client::connect_wrapped(addr, connections.max(1), &config, move |stream| {
                    MeteredStream::new(stream, Arc::clone(&wrap_meter))
                })
                .await?;
            if let Some(token) = bearer {
                client.authenticate(token).await?;
            }
            Arc::new(client)
        }
        Protocol::TcpFloor | Protocol::Http1Floor | Protocol::GraphqlFloor => {
            return Err(domain::Error::invalid_argument(
                "protocol",
                format!("{protocol} has no Ticketing client"),
            ));
        }
    };
    Ok(Connected { api, meter })
}
