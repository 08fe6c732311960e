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
    let config = &state.config;
    let executor = ConnectionExecutor::new(state.schema().clone(), config);
    let init_timeout = config.connection_init_timeout;
    upgrade
        .protocols([GRAPHQL_TRANSPORT_WS])
        // A client's message is one operation: the request-size limit bounds it.
        .max_message_size(config.server.max_request_bytes)
        .max_frame_size(config.server.max_request_bytes)
        .on_upgrade(move |socket| serve(socket, executor, protocol, init_timeout))
}

/// Runs one connection until it closes.
async fn serve(
    socket: WebSocket,
    executor: ConnectionExecutor,
    protocol: GraphQLProtocol,
    init_timeout: Duration,
) {
    let (mut sink, mut input) = socket.split();
    let init = match tokio::time::timeout(init_timeout, await_init(&mut sink, &mut input)).await {
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
    let input = stream::once(async move { Ok(init) }).chain(input);
    GraphQLWebSocket::new_with_pair(sink, input, executor, protocol)
        .serve()
        .await;
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
