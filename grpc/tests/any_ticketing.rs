//! The server serves any `Ticketing`, not only `domain::Service`, and the client works
//! over any channel, not only a bare `Channel`: the conformance suite passes against a
//! delegating wrapper served over a real socket, through a client whose channel sits
//! behind a layer, and both the wrapper and the layer saw the calls.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use domain::{EventId, Forwarding, SharedTicketing, Ticketing};
use netkit::ClientConfig;
use tonic::service::interceptor::InterceptedService;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrapped_ticketing_conforms_through_a_layered_channel() {
    // A `Ticketing` that is not `Service`: it forwards every call and counts it.
    let wrapper = Arc::new(Forwarding::new(common::generate()));
    let server = common::serve(wrapper.clone()).await;

    // The kind of layer a harness puts around a channel (here: counting calls).
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let channel = InterceptedService::new(
        common::channel(&server).await,
        move |request: tonic::Request<()>| {
            counter.fetch_add(1, Ordering::Relaxed);
            Ok(request)
        },
    );
    let client: SharedTicketing = Arc::new(grpc::Client::with_channel(
        channel,
        &ClientConfig::default(),
    ));

    let first = client.get_event(EventId(1)).await.unwrap();
    assert_eq!(first.id, EventId(1));
    assert_eq!(wrapper.calls(), 1);
    assert_eq!(sent.load(Ordering::Relaxed), 1);

    domain::conformance::run(client, common::SPEC).await;
    let (served, sent) = (wrapper.calls(), sent.load(Ordering::Relaxed));
    assert!(served > 1, "the wrapper served {served} calls");
    // Calls refused before the API is reached (an unknown enum value, a missing field)
    // pass the layer but not the wrapper.
    assert!(sent >= served, "{sent} calls sent, {served} served");
    server.stop().await.unwrap();
}
