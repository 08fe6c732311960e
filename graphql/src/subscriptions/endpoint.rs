//! The WebSocket side of `GET /graphql`: the upgrade (only `graphql-transport-ws` is
//! offered), the wait for `connection_init` with its deadline, then async-graphql-axum's
//! [`GraphQLWebSocket`] running the protocol with a [`ConnectionExecutor`].
//!
//! Backpressure: `GraphQLWebSocket::serve` takes one message from async-graphql's
//! protocol stream, awaits `sink.send` (which flushes it to the socket), and only then
//! asks for the next; the protocol stream polls an operation's stream only when asked.
//! So a subscription is pulled exactly as fast as its client reads, one message in
//! flight (plus tungstenite's write buffer and the kernel's socket buffers), never into
//! a queue: a client that stops reading makes its store subscriber fall behind, and the
//! store ends the stream with a RESYNC (then `complete`).
//!
//! Every connection holds a slot of the server's [`WebSockets`] from before the
//! handshake to its end; at shutdown its operations end (an UNAVAILABLE error, then
//! `complete`), the protocol stops reading once the last has gone, and the socket
//! closes with 1001 (going away). A connection still waiting for `connection_init`
//! closes with 1001 at once.

use std::time::Duration;

use async_graphql::http::WebSocketProtocols;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::FromRequestParts;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::Response;
use domain::Error;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt, stream};
use serde::Deserialize;

use super::connections::{Closing, Slot, WebSockets};
use super::executor::ConnectionExecutor;
use crate::app::AppState;
use crate::http::request_error;

/// The one WebSocket subprotocol served.
pub const GRAPHQL_TRANSPORT_WS: &str = "graphql-transport-ws";

/// Close code when no `connection_init` came in time.
pub const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// Close code for a `subscribe` before the connection was acknowledged.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
/// Close code for a message that is not one of the protocol's.
pub const CLOSE_BAD_MESSAGE: u16 = 4400;
/// Close code at shutdown: the WebSocket standard's "going away".
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// tungstenite's read buffer per connection. Every read attempt zero-fills up to this
/// many bytes before reading, even one that finds nothing, and async-graphql's protocol
/// polls the socket for input each time it sends a message: at the default 128 KiB a
/// thousand subscribers at 200 changes/s spent a fifth of the server's CPU in `memset`
/// (perf), starving the HTTP requests beside them. Client messages are small
/// (`connection_init`, `subscribe` with a document, `ping`); a larger one is read in
/// several reads.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Whether the request asks to upgrade to a WebSocket (so `GET /graphql` is not a
/// browser asking for GraphiQL).
pub(crate) fn is_upgrade(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether the first GraphQL subprotocol the client offers is graphql-transport-ws
/// (the one async-graphql-axum's [`GraphQLProtocol`] would then pick).
fn offers_graphql_transport_ws(parts: &Parts) -> bool {
    parts
        .headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|p| p.parse::<WebSocketProtocols>().is_ok())
        .is_some_and(|p| p.eq_ignore_ascii_case(GRAPHQL_TRANSPORT_WS))
}

/// Upgrades `GET /graphql` to a graphql-transport-ws connection, or answers 400 with
/// an INVALID_ARGUMENT error saying what is missing.
pub(crate) async fn upgrade(state: AppState, mut parts: Parts) -> Response {
    if !offers_graphql_transport_ws(&parts) {
        return request_error(
            StatusCode::BAD_REQUEST,
            &Error::invalid_argument(
                "sec-websocket-protocol",
                format!("must offer {GRAPHQL_TRANSPORT_WS}"),
            ),
        );
    }
    let protocol = match GraphQLProtocol::from_request_parts(&mut parts, &()).await {
        Ok(protocol) => protocol,
        Err(status) => {
            return request_error(
                status,
                &Error::invalid_argument("sec-websocket-protocol", "no GraphQL subprotocol"),
            );
        }
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            return request_error(
                rejection.status(),
                &Error::invalid_argument("upgrade", rejection.body_text()),
            );
        }
    };
    let websockets: &WebSockets = &state.websockets;
    let slot = match websockets.admit() {
        Ok(slot) => slot,
        Err(refused) => return request_error(StatusCode::SERVICE_UNAVAILABLE, &refused),
    };
    let closing = websockets.closing();
    let config = &state.config;
    let executor =
        ConnectionExecutor::new(state.schema().clone(), config).ending_on(closing.clone());
    let init_timeout = config.connection_init_timeout;
    upgrade
        .protocols([GRAPHQL_TRANSPORT_WS])
        // A client's message is one operation: the request-size limit bounds it.
        .max_message_size(config.server.max_request_bytes)
        .max_frame_size(config.server.max_request_bytes)
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| async move {
            serve(socket, executor, protocol, init_timeout, closing).await;
            // The connection's slot is free only once it has ended.
            drop::<Slot>(slot);
        })
}

/// Runs one connection until it closes, or until the server shuts down.
async fn serve(
    socket: WebSocket,
    executor: ConnectionExecutor,
    protocol: GraphQLProtocol,
    init_timeout: Duration,
    closing: Closing,
) {
    let (mut sink, mut input) = socket.split();
    let init = tokio::select! {
        waited = tokio::time::timeout(init_timeout, await_init(&mut sink, &mut input)) => waited,
        () = closing.clone().begun() => return going_away(&mut sink).await,
    };
    let init = match init {
        Ok(Ok(Some(init))) => init,
        Ok(Ok(None)) => return,
        Ok(Err((code, reason))) => return close(&mut sink, code, reason).await,
        Err(_elapsed) => {
            return close(
                &mut sink,
                CLOSE_INIT_TIMEOUT,
                "Connection initialisation timeout",
            )
            .await;
        }
    };
    // async-graphql runs the protocol from `connection_init` on, handed back in front.
    // At shutdown the input ends only once every operation has sent its last message
    // and `complete` (the protocol stops at the input's end, dropping what still runs).
    let operations_over = {
        let executor = executor.clone();
        let closing = closing.clone();
        async move {
            closing.begun().await;
            executor.idle().await;
        }
    };
    let input = stream::once(async move { Ok(init) })
        .chain(input)
        .take_until(operations_over);
    GraphQLWebSocket::new_with_pair(&mut sink, input, executor, protocol)
        .serve()
        .await;
    if closing.has_begun() {
        going_away(&mut sink).await;
    }
}

/// Closes with 1001: the server is shutting down.
async fn going_away(sink: &mut SplitSink<WebSocket, Message>) {
    close(sink, CLOSE_GOING_AWAY, "the server is shutting down").await;
}

/// The `type` of a client message.
#[derive(Deserialize)]
struct Kind<'a> {
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
}

/// Reads up to `connection_init` and returns it; answers pings meanwhile. `None`: the
/// client went away. `Err`: the close code and reason for anything else the protocol
/// forbids before the acknowledgement.
async fn await_init(
    sink: &mut SplitSink<WebSocket, Message>,
    input: &mut SplitStream<WebSocket>,
) -> Result<Option<Message>, (u16, &'static str)> {
    while let Some(Ok(message)) = input.next().await {
        let text = match &message {
            Message::Text(text) => text.as_str(),
            Message::Binary(_) => return Err((CLOSE_BAD_MESSAGE, "Invalid message")),
            Message::Close(_) => return Ok(None),
            // WebSocket-level pings are answered by tungstenite itself.
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        let kind = serde_json::from_str::<Kind>(text)
            .map_err(|_| (CLOSE_BAD_MESSAGE, "Invalid message"))?
            .kind;
        match kind.as_ref() {
            "connection_init" => return Ok(Some(message)),
            "ping" => {
                if sink
                    .send(Message::text(r#"{"type":"pong"}"#))
                    .await
                    .is_err()
                {
                    return Ok(None);
                }
            }
            "pong" => {}
            "subscribe" => return Err((CLOSE_UNAUTHORIZED, "Unauthorized")),
            _ => return Err((CLOSE_BAD_MESSAGE, "Invalid message")),
        }
    }
    Ok(None)
}

async fn close(sink: &mut SplitSink<WebSocket, Message>, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    // The client may already be gone; there is nothing more to do either way.
    let _ = sink.send(Message::Close(Some(frame))).await;
}

/// `GET /graphql`: a WebSocket upgrade becomes a subscription connection; anything
/// else gets GraphiQL.
pub(crate) async fn get(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> Response {
    let (parts, _body) = request.into_parts();
    if is_upgrade(&parts) {
        upgrade(state, parts).await
    } else {
        crate::graphiql::page()
    }
}
