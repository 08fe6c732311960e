//! Response compression: a large answer (a seat map) is compressed in the encoding the
//! client asks for, a small one (an event, under `COMPRESSION_MIN_BYTES`) and an answer
//! to a client that asks for nothing are not, and `grpc::Client` asking for gzip or zstd
//! decodes to the same domain value. What crossed the connection is read by a layer
//! around the client's channel: the `grpc-encoding` header and each message's
//! compressed flag.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use domain::{EventId, Ticketing};
use futures::FutureExt;
use futures::future::BoxFuture;
use http_body_util::BodyExt;
use netkit::ClientConfig;
use netkit::config::{Compression, ServerCompression};
use tonic::body::Body;
use tonic::codegen::http;
use tonic::transport::Channel;

/// One answer as it crossed the connection: its `grpc-encoding` header and the
/// compressed flag of its first message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    encoding: Option<String>,
    compressed: Option<bool>,
}

type Log = Arc<Mutex<Vec<Arc<Mutex<Seen>>>>>;

/// A channel that logs what each answer looked like on the wire.
#[derive(Clone)]
struct Recording {
    inner: Channel,
    log: Log,
}

impl tonic::codegen::Service<http::Request<Body>> for Recording {
    type Response = http::Response<Body>;
    type Error = tonic::transport::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        tonic::codegen::Service::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let log = Arc::clone(&self.log);
        tonic::codegen::Service::call(&mut self.inner, request)
            .map(move |response| {
                response.map(|response| {
                    let encoding = response
                        .headers()
                        .get("grpc-encoding")
                        .map(|v| v.to_str().unwrap().to_owned());
                    let seen = Arc::new(Mutex::new(Seen {
                        encoding,
                        compressed: None,
                    }));
                    log.lock().unwrap().push(Arc::clone(&seen));
                    // The first byte of the first data frame is the first message's
                    // compressed flag (1: compressed).
                    response.map(|body| {
                        Body::new(body.map_frame(move |frame| {
                            let mut seen = seen.lock().unwrap();
                            if let Some(data) = frame.data_ref()
                                && seen.compressed.is_none()
                                && !data.is_empty()
                            {
                                seen.compressed = Some(data[0] == 1);
                            }
                            frame
                        }))
                    })
                })
            })
            .boxed()
    }
}

fn drain(log: &Log) -> Vec<Seen> {
    log.lock()
        .unwrap()
        .drain(..)
        .map(|s| s.lock().unwrap().clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_map_is_compressed_as_asked_and_an_event_is_not() {
    let (server, service) = common::spawn().await;
    let expected_map = service.get_seat_map(EventId(1)).await.unwrap();
    let expected_event = service.get_event(EventId(1)).await.unwrap();
    let log: Log = Arc::default();
    for compression in Compression::ALL {
        let channel = Recording {
            inner: common::channel(&server).await,
            log: Arc::clone(&log),
        };
        let config = ClientConfig {
            compression,
            ..ClientConfig::default()
        };
        let client = grpc::Client::with_channel(channel, &config);
        assert_eq!(client.get_seat_map(EventId(1)).await.unwrap(), expected_map);
        assert_eq!(client.get_event(EventId(1)).await.unwrap(), expected_event);
        let seen = drain(&log);
        let encoding = (compression != Compression::None).then(|| compression.name().to_owned());
        assert_eq!(
            seen,
            vec![
                Seen {
                    encoding: encoding.clone(),
                    compressed: Some(compression != Compression::None),
                },
                // tonic names the call's encoding in the header even when this one
                // message goes uncompressed; the message's own flag says it did.
                Seen {
                    encoding,
                    compressed: Some(false),
                },
            ],
            "{compression}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_with_compression_off_answers_identity_to_a_client_asking() {
    let service = common::generate();
    let config = grpc::Config {
        compression: ServerCompression {
            enabled: false,
            ..ServerCompression::default()
        },
        ..grpc::Config::default()
    };
    let api: domain::SharedTicketing = Arc::new(service.clone());
    let server = netkit::running::RunningServer::spawn(|listener, stop| {
        grpc::serve(listener, api, config, stop)
    })
    .await
    .unwrap();
    let log: Log = Arc::default();
    let channel = Recording {
        inner: common::channel(&server).await,
        log: Arc::clone(&log),
    };
    let client_config = ClientConfig {
        compression: Compression::Zstd,
        ..ClientConfig::default()
    };
    let client = grpc::Client::with_channel(channel, &client_config);
    assert_eq!(
        client.get_seat_map(EventId(1)).await.unwrap(),
        service.get_seat_map(EventId(1)).await.unwrap()
    );
    assert_eq!(
        drain(&log),
        vec![Seen {
            encoding: None,
            compressed: Some(false)
        }]
    );
}
