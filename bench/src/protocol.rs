//! The protocols the harness drives, and the two things it does with each: serve any
//! `Ticketing` on a listener, and connect a client that implements `Ticketing` with a
//! payload meter installed from outside (see [`crate::metering`]).

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use domain::SharedTicketing;
use netkit::{ClientConfig, ServerConfig};
use tokio::net::TcpListener;

use crate::metering::PayloadMeter;
use crate::metering::grpc::MeterLayer;
use crate::metering::http::MeteredTransport;
use crate::metering::wire::MeteredStream;

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
        Protocol::Graphql => {
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
/// If the server cannot be reached, or for the floor (it has no `Ticketing` client).
pub async fn connect(protocol: Protocol, addr: SocketAddr) -> domain::Result<Connected> {
    let meter = Arc::new(PayloadMeter::default());
    let config = ClientConfig::default();
    let api: SharedTicketing = match protocol {
        Protocol::Rest => {
            let transport = MeteredTransport::reqwest(&config, Arc::clone(&meter))?;
            Arc::new(rest::Client::with_transport(
                &format!("http://{addr}"),
                transport,
            )?)
        }
        Protocol::Graphql => {
            let transport = MeteredTransport::reqwest(&config, Arc::clone(&meter))?;
            Arc::new(graphql::Client::with_transport(
                &format!("http://{addr}/graphql"),
                transport,
            )?)
        }
        Protocol::Grpc => {
            let channel = grpc::client::channel(addr, &config).await?;
            let channel = tower::Layer::layer(&MeterLayer::new(Arc::clone(&meter)), channel);
            Arc::new(grpc::Client::with_channel(channel, &config, false))
        }
        Protocol::Wire => {
            let wrap_meter = Arc::clone(&meter);
            Arc::new(
                wire::Client::connect_wrapped(addr, 1, &config, move |stream| {
                    MeteredStream::new(stream, Arc::clone(&wrap_meter))
                })
                .await?,
            )
        }
        Protocol::TcpFloor => {
            return Err(domain::Error::invalid_argument(
                "protocol",
                "tcp-floor has no Ticketing client",
            ));
        }
    };
    Ok(Connected { api, meter })
}
