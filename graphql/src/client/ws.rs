//! The client's side of graphql-transport-ws, for one operation per connection: open
//! the WebSocket (offering only `graphql-transport-ws`), `connection_init` and its
//! `connection_ack`, `subscribe`, and reading the server's `next` / `error` /
//! `complete`, answering its `ping`s on the way. No queue: a message is read from the
//! socket only when the caller asks for one, so a caller that stops reading stops the
//! server's sending (the kernel's socket buffers fill) and nothing piles up here.
//! What the messages mean for `watch_availability` is [`super::watch`]'s.

use std::time::Duration;

use domain::{Error, Result};
use futures::{SinkExt, StreamExt};
use http::{HeaderValue, Uri, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The subprotocol spoken.
pub const GRAPHQL_TRANSPORT_WS: &str = "graphql-transport-ws";

/// The byte stream under a WebSocket: plain TCP, or TLS over it (`wss://`).
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// An open, acknowledged connection.
pub type Socket = WebSocketStream<Box<dyn Io>>;

/// Where and how to open subscription connections.
#[derive(Debug, Clone)]
pub struct Target {
    /// The `ws://` URL of the endpoint.
    pub url: String,
    /// How long connecting, the upgrade and the `connection_ack` may take together.
    pub connect_timeout: Duration,
    /// Largest message accepted from the server.
    pub max_message_bytes: usize,
    /// TLS for a `wss://` URL (netkit's connector: the client's CA, HTTP/1.1 by ALPN,
    /// since the upgrade is an HTTP/1.1 request); `None` for `ws://`.
    pub tls: Option<netkit::tls::Connector>,
}

impl Target {
    /// The WebSocket target of the GraphQL endpoint `endpoint` (an http(s) URL: the
    /// same path, as `ws://`).
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for anything but an http or https URL.
    pub fn new(
        endpoint: &Uri,
        connect_timeout: Duration,
        max_message_bytes: usize,
    ) -> Result<Self> {
        let scheme = match endpoint.scheme_str() {
            Some("http") => "ws",
            Some("https") => "wss",
            _ => {
                return Err(Error::invalid_argument(
                    "endpoint",
                    format!("must be an http(s) URL, got {endpoint}"),
                ));
            }
        };
        let authority = endpoint.authority().map_or("", |a| a.as_str());
        let path = endpoint.path_and_query().map_or("/", |p| p.as_str());
        Ok(Target {
            url: format!("{scheme}://{authority}{path}"),
            connect_timeout,
            max_message_bytes,
            tls: None,
        })
    }
}

/// The TCP connection (and TLS over it, for `wss://`) a WebSocket is opened on.
async fn dial(target: &Target, uri: &Uri) -> Result<Box<dyn Io>> {
    let host = uri.host().unwrap_or("127.0.0.1");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri
        .port_u16()
        .unwrap_or(if target.tls.is_some() { 443 } else { 80 });
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| unavailable(format!("cannot connect to {host}:{port}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let Some(tls) = &target.tls else {
        return Ok(Box::new(tcp));
    };
    let addr = tcp.peer_addr().map_err(unavailable)?;
    let stream = tls.connect(tcp, addr).await.map_err(unavailable)?;
    Ok(Box::new(stream))
}

fn unavailable(what: impl std::fmt::Display) -> Error {
    Error::unavailable(format!("GraphQL WebSocket: {what}"))
}

/// The WebSocket read buffer's size (see [`open`]).
const CLIENT_READ_BUFFER_BYTES: usize = 8 * 1024;

/// Opens a connection to `target` and completes the protocol's handshake.
///
/// # Errors
/// `UNAVAILABLE` if the server cannot be reached, refuses the upgrade or the
/// subprotocol, or does not acknowledge within the timeout.
pub async fn open(target: &Target) -> Result<Socket> {
    let mut request = target
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| Error::invalid_argument("endpoint", e.to_string()))?;
    request.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(GRAPHQL_TRANSPORT_WS),
    );
    // tungstenite zero-fills its read buffer (128 KiB by default) on every read; with many
    // subscriptions in one process that memset dominated the client's CPU (perf). Pushed
    // messages are a few hundred bytes; a larger one is simply read in several reads.
    let config = WebSocketConfig::default()
        .read_buffer_size(CLIENT_READ_BUFFER_BYTES)
        .max_message_size(Some(target.max_message_bytes))
        .max_frame_size(Some(target.max_message_bytes));
    let handshake = async {
        let stream = dial(target, request.uri()).await?;
        let (mut socket, response) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(config))
                .await
                .map_err(unavailable)?;
        let protocol = response.headers().get(header::SEC_WEBSOCKET_PROTOCOL);
        if protocol.is_none_or(|p| p != GRAPHQL_TRANSPORT_WS) {
            return Err(unavailable(format!(
                "the server did not accept {GRAPHQL_TRANSPORT_WS} (answered {protocol:?})"
            )));
        }
        send(&mut socket, &json!({"type": "connection_init"})).await?;
        match receive::<Value>(&mut socket).await? {
            Incoming::Acknowledged => Ok(socket),
            _ => Err(unavailable(
                "the server sent something before connection_ack",
            )),
        }
    };
    tokio::time::timeout(target.connect_timeout, handshake)
        .await
        .map_err(|_| {
            unavailable(format!(
                "no connection_ack within {:?}",
                target.connect_timeout
            ))
        })?
}

/// Sends `subscribe` for operation `id`.
///
/// # Errors
/// `UNAVAILABLE` if the connection failed.
pub async fn subscribe(
    socket: &mut Socket,
    id: &str,
    query: &str,
    operation_name: &str,
    variables: Value,
) -> Result<()> {
    let message = json!({
        "id": id,
        "type": "subscribe",
        "payload": {"query": query, "operationName": operation_name, "variables": variables},
    });
    send(socket, &message).await
}

async fn send(socket: &mut Socket, message: &Value) -> Result<()> {
    socket
        .send(Message::text(message.to_string()))
        .await
        .map_err(unavailable)
}

/// One message of the protocol that matters to the caller.
#[derive(Debug)]
pub enum Incoming<T> {
    /// `connection_ack`.
    Acknowledged,
    /// `next`: a result, with its data (`None` when null) and its errors.
    Next {
        /// `data`, when not null.
        data: Option<T>,
        /// `errors` (GraphQL error objects).
        errors: Vec<Value>,
    },
    /// `error`: the operation failed (GraphQL error objects).
    Failed(Vec<Value>),
    /// `complete`: the operation is over.
    Complete,
}

/// A server message, as sent.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[serde(bound = "T: DeserializeOwned")]
enum ServerMessage<T> {
    ConnectionAck {},
    Next { payload: Payload<T> },
    Error { payload: Vec<Value> },
    Complete {},
    Ping {},
    Pong {},
}

#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct Payload<T> {
    #[serde(default)]
    data: Option<T>,
    #[serde(default)]
    errors: Vec<Value>,
}

/// Reads the next message that matters, answering pings.
///
/// # Errors
/// `UNAVAILABLE` when the connection fails or closes, `INTERNAL` for a message that is
/// not graphql-transport-ws or whose data does not match `T`.
pub async fn receive<T: DeserializeOwned>(socket: &mut Socket) -> Result<Incoming<T>> {
    loop {
        let message = match socket.next().await {
            Some(Ok(message)) => message,
            Some(Err(e)) => return Err(unavailable(e)),
            None => return Err(unavailable("the connection closed")),
        };
        let text = match &message {
            Message::Text(text) => text.as_str(),
            Message::Close(frame) => {
                return Err(unavailable(match frame {
                    Some(frame) => format!("closed by the server: {} {}", frame.code, frame.reason),
                    None => "closed by the server".to_owned(),
                }));
            }
            // WebSocket-level pings are answered by tungstenite itself.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            Message::Binary(_) => {
                return Err(Error::internal("GraphQL WebSocket: a binary message"));
            }
        };
        let parsed: ServerMessage<T> = serde_json::from_str(text).map_err(|e| {
            Error::internal(format!("GraphQL WebSocket: not a protocol message: {e}"))
        })?;
        return Ok(match parsed {
            ServerMessage::ConnectionAck {} => Incoming::Acknowledged,
            ServerMessage::Next { payload } => Incoming::Next {
                data: payload.data,
                errors: payload.errors,
            },
            ServerMessage::Error { payload } => Incoming::Failed(payload),
            ServerMessage::Complete {} => Incoming::Complete,
            ServerMessage::Ping {} => {
                send(socket, &json!({"type": "pong"})).await?;
                continue;
            }
            ServerMessage::Pong {} => continue,
        });
    }
}
