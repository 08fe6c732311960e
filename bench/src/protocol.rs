//! The protocols the harness drives, and the two things it does with each: serve a
//! `domain::Service` on a listener, and connect a client that implements `Ticketing`
//! (with its payload meter).

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use domain::{Service, Ticketing};
use netkit::meter::PayloadMeter;
use tokio::net::TcpListener;

/// A protocol, or the raw-TCP floor.
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
}

impl Protocol {
    /// The four API styles, in report order.
    pub const APIS: [Protocol; 4] = [
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
        }
    }

    /// The port its standalone server uses by default.
    pub const fn default_port(self) -> u16 {
        match self {
            Protocol::Rest => rest::DEFAULT_PORT,
            Protocol::Graphql => graphql::DEFAULT_PORT,
            Protocol::Grpc => grpc::DEFAULT_PORT,
            Protocol::Wire => wire::DEFAULT_PORT,
            Protocol::TcpFloor => 7879,
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
        [
            Protocol::Rest,
            Protocol::Graphql,
            Protocol::Grpc,
            Protocol::Wire,
            Protocol::TcpFloor,
        ]
        .into_iter()
        .find(|p| p.name() == s)
        .ok_or_else(|| {
            format!("unknown protocol {s:?}: expected rest, graphql, grpc, wire or tcp-floor")
        })
    }
}

/// Serves `service` over `protocol` on `listener` until `shutdown` resolves.
///
/// # Errors
/// If the server fails.
pub async fn serve(
    protocol: Protocol,
    listener: TcpListener,
    service: Service,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match protocol {
        Protocol::Rest => rest::serve(listener, service, shutdown).await,
        Protocol::Graphql => {
            let options = graphql::SchemaOptions::from_limits(service.limits());
            graphql::serve(listener, service, options, shutdown).await
        }
        Protocol::Grpc => grpc::serve(listener, service, shutdown).await,
        Protocol::Wire => wire::serve(listener, service, shutdown).await,
        Protocol::TcpFloor => crate::floor::serve(listener, &service, shutdown).await,
    }
}

/// A connected client and its payload meter.
#[derive(Clone)]
pub struct Connected {
    /// The client.
    pub api: Arc<dyn Ticketing>,
    /// Its payload counters.
    pub meter: Arc<PayloadMeter>,
}

/// Connects a client for `protocol` to `addr`.
///
/// # Errors
/// If the server cannot be reached, or for the floor (it has no `Ticketing` client).
pub async fn connect(protocol: Protocol, addr: SocketAddr) -> domain::Result<Connected> {
    Ok(match protocol {
        Protocol::Rest => {
            let client = rest::Client::new(&format!("http://{addr}"))?;
            Connected {
                meter: Arc::clone(client.meter()),
                api: Arc::new(client),
            }
        }
        Protocol::Graphql => {
            let client = graphql::Client::new(&format!("http://{addr}/graphql"))?;
            Connected {
                meter: Arc::clone(client.meter()),
                api: Arc::new(client),
            }
        }
        Protocol::Grpc => {
            let client = grpc::Client::connect(addr).await?;
            Connected {
                meter: Arc::clone(client.meter()),
                api: Arc::new(client),
            }
        }
        Protocol::Wire => {
            let client = wire::Client::connect(addr).await?;
            Connected {
                meter: Arc::clone(client.meter()),
                api: Arc::new(client),
            }
        }
        Protocol::TcpFloor => {
            return Err(domain::Error::invalid_argument(
                "protocol",
                "tcp-floor has no Ticketing client",
            ));
        }
    })
}
