//! The gRPC edge of authentication: a tower layer that reads each call's `authorization`
//! metadata (`Bearer <token>`) and peer into `domain::auth::Credentials` and runs the
//! call inside `domain::auth::scope`, where `domain::auth::Guarded` judges it.
//!
//! A layer rather than a tonic interceptor because an interceptor returns before the
//! call runs: only a layer's future wraps the handler, which is what a task-local scope
//! needs. What is not here: verifying tokens and the booking policy (`domain::auth`).

use std::task::{Context, Poll};

use domain::auth::{Credentials, Scoped, scope};
use tonic::codegen::http;
use tonic::transport::server::TcpConnectInfo;

/// Adds [`ScopeCalls`] around the server's routes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScopeLayer;

impl<S> tower::Layer<S> for ScopeLayer {
    type Service = ScopeCalls<S>;
    fn layer(&self, inner: S) -> ScopeCalls<S> {
        ScopeCalls { inner }
    }
}

/// A service running each call with its bearer credentials (see the module docs).
#[derive(Debug, Clone)]
pub struct ScopeCalls<S> {
    inner: S,
}

impl<S, B> tower::Service<http::Request<B>> for ScopeCalls<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Scoped<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let peer = request
            .extensions()
            .get::<TcpConnectInfo>()
            .and_then(TcpConnectInfo::remote_addr);
        // Metadata that is not visible ASCII is passed on as malformed, never ignored.
        let credentials = Credentials::http(
            request
                .headers()
                .get(http::header::AUTHORIZATION)
                .map(|value| value.to_str().unwrap_or("\u{1}")),
            peer,
        );
        scope(credentials, self.inner.call(request))
    }
}
