//! The HTTP edge of authentication, shared by REST and GraphQL: [`ScopeLayer`] reads a
//! request's `Authorization` header (and its peer, which the server records as
//! `ConnectInfo`) into `domain::auth::Credentials` and runs the rest of the request
//! inside `domain::auth::scope`, where `domain::auth::Guarded` judges every call.
//!
//! A plain tower layer, not `axum::middleware::from_fn` (which clones the service it
//! wraps for every request), and its future is the scope's own: no box.
//!
//! What is not here: verifying tokens and the booking policy (`domain::auth`), and how
//! a refusal is written (each protocol's error module).

use std::net::SocketAddr;
use std::task::{Context, Poll};

use axum::extract::ConnectInfo;
use axum::http::{Request, header::AUTHORIZATION};
use domain::auth::{Credentials, Scoped, scope};

/// Adds [`ScopeRequests`] around a router (`router.layer(ScopeLayer)`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ScopeLayer;

impl<S> tower::Layer<S> for ScopeLayer {
    type Service = ScopeRequests<S>;
    fn layer(&self, inner: S) -> ScopeRequests<S> {
        ScopeRequests { inner }
    }
}

/// A service running each request with its bearer credentials (see the module docs).
#[derive(Debug, Clone)]
pub struct ScopeRequests<S> {
    inner: S,
}

impl<S, B> tower::Service<Request<B>> for ScopeRequests<S>
where
    S: tower::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Scoped<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0);
        // A header that is not visible ASCII is passed on as malformed, so it is refused
        // as UNAUTHENTICATED where a token is needed, never ignored.
        let credentials = Credentials::http(
            request
                .headers()
                .get(AUTHORIZATION)
                .map(|value| value.to_str().unwrap_or("\u{1}")),
            peer,
        );
        scope(credentials, self.inner.call(request))
    }
}
