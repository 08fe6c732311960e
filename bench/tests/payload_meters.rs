//! The payload meters the harness installs around each client count exactly what the
//! clients' own meters used to: message bodies only, checked against payloads whose
//! size is known (the event encoded as each protocol encodes it) over real servers.

use std::sync::Arc;

use bench::protocol::{self, Connected, Protocol};
use domain::{DatasetSpec, Event, EventId, Limits, Service, SharedTicketing, Ticketing};
use netkit::ServerConfig;
use netkit::running::RunningServer;
use prost::Message;

const EVENT: EventId = EventId(1);

fn api() -> SharedTicketing {
    Arc::new(Service::generate(
        DatasetSpec {
            events: 50,
            seed: 1,
        },
        Limits::default(),
    ))
}

async fn serve(protocol: Protocol, api: &SharedTicketing) -> (RunningServer, Connected) {
    let serving = Arc::clone(api);
    let server = RunningServer::spawn(|listener, stop| {
        protocol::serve(protocol, listener, serving, ServerConfig::default(), stop)
    })
    .await
    .unwrap_or_else(|e| panic!("{protocol} server: {e}"));
    let client = protocol::connect(protocol, server.addr)
        .await
        .unwrap_or_else(|e| panic!("{protocol} client: {e}"));
    client.meter.set_capture(true);
    (server, client)
}

/// One get_event through `client`: the payload bytes it counted each way, and the last
/// payloads it captured.
async fn get_event(client: &Connected, id: EventId) -> ((u64, u64), (Vec<u8>, Vec<u8>)) {
    let before = client.meter.totals();
    let _ = client.api.get_event(id).await;
    let after = client.meter.totals();
    (
        (after.0 - before.0, after.1 - before.1),
        client.meter.last().unwrap_or_default(),
    )
}

/// The request and response payloads of get_event(EVENT) as `protocol` encodes them
/// (GraphQL's response is checked apart: its JSON is the server's own).
fn expected(protocol: Protocol, event: &Event) -> (Vec<u8>, Vec<u8>) {
    match protocol {
        Protocol::Rest => (
            Vec::new(),
            serde_json::to_vec(&rest::model::Event::from(event.clone()))
                .unwrap_or_else(|e| panic!("{e}")),
        ),
        Protocol::Grpc => (
            grpc::pb::GetEventRequest { event_id: EVENT.0 }.encode_to_vec(),
            grpc::pb::GetEventResponse {
                event: Some(event.clone().into()),
            }
            .encode_to_vec(),
        ),
        Protocol::Wire => (
            postcard::to_allocvec(&wire::messages::EventIdRequest { event_id: EVENT.0 })
                .unwrap_or_else(|e| panic!("{e}")),
            postcard::to_allocvec(&wire::messages::Event::from(event.clone()))
                .unwrap_or_else(|e| panic!("{e}")),
        ),
        other => panic!("no expected encoding for {other}"),
    }
}

#[tokio::test]
async fn rest_grpc_and_wire_count_the_encoded_event_exactly() {
    let api = api();
    let event = api.get_event(EVENT).await.unwrap();
    for protocol in [Protocol::Rest, Protocol::Grpc, Protocol::Wire] {
        let (server, client) = serve(protocol, &api).await;
        let (request, response) = expected(protocol, &event);
        for _ in 0..2 {
            let (counted, last) = get_event(&client, EVENT).await;
            assert_eq!(
                counted,
                (request.len() as u64, response.len() as u64),
                "{protocol}"
            );
            assert_eq!(last, (request.clone(), response.clone()), "{protocol}");
        }
        drop(client);
        server.stop().await.unwrap();
    }
}

#[tokio::test]
async fn graphql_counts_its_json_bodies() {
    let api = api();
    let (server, client) = serve(Protocol::Graphql, &api).await;
    let ((sent, received), (request, response)) = get_event(&client, EVENT).await;
    assert_eq!(
        (sent, received),
        (request.len() as u64, response.len() as u64)
    );
    let request: serde_json::Value = serde_json::from_slice(&request).unwrap();
    assert_eq!(request["operationName"], "GetEvent");
    let body: serde_json::Value = serde_json::from_slice(&response).unwrap();
    assert_eq!(body["data"]["event"]["id"], EVENT.0.to_string());
    // The whole body, compact JSON, and nothing else.
    assert_eq!(serde_json::to_vec(&body).unwrap().len(), response.len());
    drop(client);
    server.stop().await.unwrap();
}

/// A gRPC error carries no message (its details travel in trailers): the request
/// counts, the answer is 0 bytes, as the client's own meter had it.
#[tokio::test]
async fn a_grpc_error_counts_the_request_only() {
    let api = api();
    let (server, client) = serve(Protocol::Grpc, &api).await;
    let missing = EventId(1_000_000);
    let ((sent, received), _) = get_event(&client, missing).await;
    assert_eq!(
        sent,
        grpc::pb::GetEventRequest {
            event_id: missing.0
        }
        .encoded_len() as u64
    );
    assert_eq!(received, 0);
    drop(client);
    server.stop().await.unwrap();
}

/// A wire error frame's payload counts as the answer, as the client's own meter had it.
#[tokio::test]
async fn a_wire_error_counts_its_payload() {
    let api = api();
    let (server, client) = serve(Protocol::Wire, &api).await;
    let ((_, received), (_, response)) = get_event(&client, EventId(1_000_000)).await;
    assert!(received > 0);
    assert_eq!(received, response.len() as u64);
    let _: wire::messages::ErrorPayload = postcard::from_bytes(&response).unwrap();
    drop(client);
    server.stop().await.unwrap();
}
