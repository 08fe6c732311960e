//! GraphQL subscriptions over WebSocket, with the `graphql-transport-ws` protocol, on
//! the same path as every other operation (`GET /graphql` with `Upgrade: websocket`;
//! a plain `GET /graphql` is still GraphiQL).
//!
//! - [`endpoint`]: the upgrade, the `connection_init` deadline (close 4408), and
//!   async-graphql-axum's protocol implementation run over the socket, pulled only as
//!   fast as the socket sends.
//! - [`executor`]: what each operation runs with: the strict schema and its limits, the
//!   query-size limit, one root field per subscription, a cap on operations per
//!   connection, and an `extensions.code` on every error.
//!
//! - [`connections`]: the server's WebSocket connections: their cap (an upgrade past it
//!   is refused with 503 and LIMIT_EXCEEDED) and their end at shutdown (each operation
//!   ends with UNAVAILABLE and `complete`, then the socket closes with 1001).
//!
//! Queries and mutations over HTTP do not come here: they keep the prepared-document
//! path ([`crate::prepared`]). The client side is [`crate::client`]'s.

pub mod connections;
pub mod endpoint;
pub mod executor;

pub use connections::WebSockets;
pub use endpoint::GRAPHQL_TRANSPORT_WS;
pub use executor::ConnectionExecutor;
