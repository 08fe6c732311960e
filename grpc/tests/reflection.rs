//! Server reflection as tools of either generation see it: v1 (grpcurl, grpcui) and
//! v1alpha (Python's grpcio-reflection, Postman, Evans, older grpcurl). Each lists the
//! services, serves the file that defines `quartet.v1.Ticketing` with every RPC, and
//! serves that file's imports by name, which a dynamic client needs to build it.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use futures::StreamExt;
use netkit::running::RunningServer;
use prost::Message;
use prost_types::FileDescriptorProto;
use tonic::transport::Channel;

/// Every RPC of `quartet.v1.Ticketing`, in the order of the `.proto`.
const RPCS: [&str; 12] = [
    "GetEvent",
    "ListEvents",
    "SearchEvents",
    "GetEventDetail",
    "GetVenue",
    "GetPerformer",
    "GetSeatMap",
    "HoldSeats",
    "GetBooking",
    "ConfirmBooking",
    "CancelBooking",
    "WatchAvailability",
];

/// The one server-streaming RPC, and the message it streams (not a `...Response`: each
/// message is one update of a stream).
const STREAMING: (&str, &str) = ("WatchAvailability", ".quartet.v1.AvailabilityUpdate");

/// The services every listing must hold, whichever reflection version is asked.
const SERVICES: [&str; 4] = [
    "quartet.v1.Ticketing",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// How long one reflection exchange may take before the test fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(10);

/// The two reflection versions have identical messages in separate packages: this
/// generates the same client helpers for each.
macro_rules! reflection_client {
    ($version:ident) => {
        mod $version {
            //! A reflection client for one version: one request, one answer.

            use super::*;
            use tonic_reflection::pb::$version::ServerReflectionRequest;
            use tonic_reflection::pb::$version::server_reflection_client::ServerReflectionClient;
            use tonic_reflection::pb::$version::server_reflection_request::MessageRequest;
            use tonic_reflection::pb::$version::server_reflection_response::MessageResponse;

            /// Sends one request on a fresh reflection stream and returns its one answer,
            /// or the status the stream ended with instead.
            async fn try_ask(
                channel: Channel,
                request: MessageRequest,
            ) -> Result<MessageResponse, tonic::Status> {
                let mut client = ServerReflectionClient::new(channel);
                let request = ServerReflectionRequest {
                    host: String::new(),
                    message_request: Some(request),
                };
                let exchange = async {
                    let mut answers = client
                        .server_reflection_info(futures::stream::iter([request]))
                        .await?
                        .into_inner();
                    answers
                        .next()
                        .await
                        .expect("the stream ended with no answer")
                };
                let answer = tokio::time::timeout(DEADLINE, exchange)
                    .await
                    .expect("no reflection answer in time")?;
                Ok(answer.message_response.expect("an empty reflection answer"))
            }

            /// [`try_ask`] for a request that must succeed.
            async fn ask(channel: Channel, request: MessageRequest) -> MessageResponse {
                try_ask(channel, request).await.unwrap()
            }

            /// The fully-qualified names of the services reflection lists.
            pub async fn list(channel: Channel) -> Vec<String> {
                match ask(channel, MessageRequest::ListServices(String::new())).await {
                    MessageResponse::ListServicesResponse(list) => {
                        list.service.into_iter().map(|s| s.name).collect()
                    }
                    other => panic!("expected a service list, got {other:?}"),
                }
            }

            /// The decoded files an answer carries.
            fn files(answer: MessageResponse) -> Vec<FileDescriptorProto> {
                match answer {
                    MessageResponse::FileDescriptorResponse(files) => files
                        .file_descriptor_proto
                        .iter()
                        .map(|bytes| FileDescriptorProto::decode(bytes.as_slice()).unwrap())
                        .collect(),
                    other => panic!("expected file descriptors, got {other:?}"),
                }
            }

            /// The files reflection serves for a symbol.
            pub async fn file_containing_symbol(
                channel: Channel,
                symbol: &str,
            ) -> Vec<FileDescriptorProto> {
                files(ask(channel, MessageRequest::FileContainingSymbol(symbol.into())).await)
            }

            /// The files reflection serves for a file name.
            pub async fn file_by_filename(
                channel: Channel,
                name: &str,
            ) -> Vec<FileDescriptorProto> {
                files(ask(channel, MessageRequest::FileByFilename(name.into())).await)
            }

            /// How reflection refuses a symbol it does not know: tonic-reflection ends
            /// the stream with a status rather than sending an `ErrorResponse`; either
            /// is accepted, as code and message.
            pub async fn unknown_symbol(channel: Channel) -> (tonic::Code, String) {
                let request = MessageRequest::FileContainingSymbol("quartet.v1.NoSuchThing".into());
                match try_ask(channel, request).await {
                    Err(status) => (status.code(), status.message().to_owned()),
                    Ok(MessageResponse::ErrorResponse(error)) => {
                        (tonic::Code::from(error.error_code), error.error_message)
                    }
                    Ok(other) => panic!("expected an error, got {other:?}"),
                }
            }
        }
    };
}

reflection_client!(v1);
reflection_client!(v1alpha);

async fn server() -> (RunningServer, Channel) {
    let (server, _) = common::spawn().await;
    let channel = common::channel(&server).await;
    (server, channel)
}

fn assert_lists_every_service(names: &[String]) {
    for expected in SERVICES {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    assert_eq!(
        names.len(),
        SERVICES.len(),
        "unexpected services in {names:?}"
    );
}

/// The file among `files` that defines `quartet.v1.Ticketing`, checked to hold every RPC
/// with its request and response types.
fn assert_ticketing_file(files: &[FileDescriptorProto]) -> FileDescriptorProto {
    let file = files
        .iter()
        .find(|f| f.package() == "quartet.v1" && f.service.iter().any(|s| s.name() == "Ticketing"))
        .unwrap_or_else(|| {
            let names: Vec<&str> = files.iter().map(FileDescriptorProto::name).collect();
            panic!("no file defines quartet.v1.Ticketing among {names:?}")
        })
        .clone();
    assert_eq!(file.name(), "quartet/v1/ticketing.proto");
    let service = file
        .service
        .iter()
        .find(|s| s.name() == "Ticketing")
        .unwrap();
    let methods: Vec<&str> = service
        .method
        .iter()
        .map(prost_types::MethodDescriptorProto::name)
        .collect();
    assert_eq!(methods, RPCS);
    for method in &service.method {
        let name = method.name();
        assert_eq!(method.input_type(), format!(".quartet.v1.{name}Request"));
        assert!(!method.client_streaming());
        if name == STREAMING.0 {
            assert_eq!(method.output_type(), STREAMING.1);
            assert!(method.server_streaming(), "{name} must be server-streaming");
        } else {
            assert_eq!(method.output_type(), format!(".quartet.v1.{name}Response"));
            assert!(!method.server_streaming(), "{name} must be unary");
        }
        for message in [method.input_type(), method.output_type()] {
            let short = message.trim_start_matches(".quartet.v1.");
            assert!(
                file.message_type.iter().any(|m| m.name() == short),
                "{message} is not defined in the served file"
            );
        }
    }
    file
}

#[tokio::test]
async fn v1alpha_lists_services_and_serves_the_ticketing_file() {
    let (server, channel) = server().await;
    assert_lists_every_service(&v1alpha::list(channel.clone()).await);

    let file = assert_ticketing_file(
        &v1alpha::file_containing_symbol(channel.clone(), "quartet.v1.Ticketing").await,
    );
    // A method name resolves to the same file, as grpcurl's `describe` asks it.
    let by_method =
        v1alpha::file_containing_symbol(channel.clone(), "quartet.v1.Ticketing.GetEvent").await;
    assert_eq!(assert_ticketing_file(&by_method), file);
    // A dynamic client builds the file only once it has its imports: each is served.
    assert!(!file.dependency.is_empty());
    for import in &file.dependency {
        let served = v1alpha::file_by_filename(channel.clone(), import).await;
        assert!(
            served.iter().any(|f| f.name() == import),
            "import {import} not served"
        );
    }
    // And health's own file, for a client that checks health through reflection.
    let health = v1alpha::file_containing_symbol(channel.clone(), "grpc.health.v1.Health").await;
    assert!(
        health
            .iter()
            .any(|f| f.service.iter().any(|s| s.name() == "Health"))
    );

    let (code, message) = v1alpha::unknown_symbol(channel).await;
    assert_eq!(code, tonic::Code::NotFound);
    assert!(message.contains("quartet.v1.NoSuchThing"), "{message}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn v1_lists_services_and_serves_the_ticketing_file() {
    let (server, channel) = server().await;
    assert_lists_every_service(&v1::list(channel.clone()).await);

    let file = assert_ticketing_file(
        &v1::file_containing_symbol(channel.clone(), "quartet.v1.Ticketing").await,
    );
    for import in &file.dependency {
        let served = v1::file_by_filename(channel.clone(), import).await;
        assert!(
            served.iter().any(|f| f.name() == import),
            "import {import} not served"
        );
    }
    let (code, _) = v1::unknown_symbol(channel).await;
    assert_eq!(code, tonic::Code::NotFound);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn both_versions_serve_the_same_descriptors() {
    let (server, channel) = server().await;
    let mut listed_v1 = v1::list(channel.clone()).await;
    let mut listed_v1alpha = v1alpha::list(channel.clone()).await;
    listed_v1.sort();
    listed_v1alpha.sort();
    assert_eq!(listed_v1, listed_v1alpha);
    for symbol in SERVICES {
        assert_eq!(
            v1::file_containing_symbol(channel.clone(), symbol).await,
            v1alpha::file_containing_symbol(channel.clone(), symbol).await,
            "{symbol}"
        );
    }
    server.stop().await.unwrap();
}
