//! The server serves any `Ticketing`, not only `domain::Service`, and the client sends
//! through any `HttpTransport`, not only reqwest's: the conformance suite passes against
//! a delegating wrapper served over a real socket, through a client whose transport is
//! wrapped to count bytes, and both wrappers saw the calls.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use domain::{EventId, Forwarding, SharedTicketing, Ticketing};
use netkit::ClientConfig;
use netkit::http_client::{HttpTransport, ReqwestTransport};

/// The kind of transport a harness installs: the default one, counting what it moves.
struct CountingTransport {
    inner: ReqwestTransport,
    exchanges: AtomicUsize,
    bytes: AtomicUsize,
}

#[async_trait]
impl HttpTransport for CountingTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> std::result::Result<http::Response<Bytes>, domain::Error> {
        self.exchanges.fetch_add(1, Ordering::Relaxed);
        self.bytes
            .fetch_add(request.body().len(), Ordering::Relaxed);
        let response = self.inner.send(request).await?;
        self.bytes
            .fetch_add(response.body().len(), Ordering::Relaxed);
        Ok(response)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrapped_ticketing_conforms_through_a_wrapped_transport() {
    // A `Ticketing` that is not `Service`: it forwards every call and counts it.
    let wrapper = Arc::new(Forwarding::new(common::service()));
    let server = common::spawn_with(wrapper.clone(), graphql::Config::default()).await;
    let transport = Arc::new(CountingTransport {
        inner: ReqwestTransport::new(&ClientConfig::default()).unwrap(),
        exchanges: AtomicUsize::new(0),
        bytes: AtomicUsize::new(0),
    });
    let client = graphql::Client::with_transport(&common::endpoint(&server), transport.clone())
        .unwrap()
        .with_persisted_queries(true);
    let client: SharedTicketing = Arc::new(client);

    let first = client.get_event(EventId(1)).await.unwrap();
    assert_eq!(first.id, EventId(1));
    assert_eq!(wrapper.calls(), 1);
    // With persisted queries the first use of a document costs a miss and a retry.
    assert_eq!(transport.exchanges.load(Ordering::Relaxed), 2);

    domain::conformance::run(client, common::SPEC).await;
    let served = wrapper.calls();
    let exchanges = transport.exchanges.load(Ordering::Relaxed);
    assert!(served > 1, "the wrapper served {served} calls");
    assert!(exchanges > 1, "{exchanges} exchanges");
    assert!(transport.bytes.load(Ordering::Relaxed) > 0);
    server.stop().await.unwrap();
}
