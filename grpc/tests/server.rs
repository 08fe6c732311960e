//! The server as standard gRPC tools see it: reflection, health, status codes with rich
//! details, message-size limits that leave the connection usable, and the drain.

// Helpers outside #[test] fns unwrap too: a failure is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use domain::EventStatus;
use futures::StreamExt;
use grpc::pb;
use grpc::pb::ticketing_client::TicketingClient;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_types::StatusExt;

fn on_sale_event(service: &domain::Service) -> u64 {
    let data = service.store().catalog().dataset();
    data.events
        .iter()
        .find(|e| {
            e.status == EventStatus::OnSale
                && data.venues[(e.venue_id.0 - 1) as usize].capacity >= 20
        })
        .unwrap()
        .id
        .0
}

fn hold(event_id: u64, seats: &[u32]) -> pb::HoldSeatsRequest {
    pb::HoldSeatsRequest {
        event_id,
        seat_ids: seats.to_vec(),
        customer: Some(pb::Customer {
            name: "Ada".into(),
            email: "ada@example.org".into(),
        }),
        request_id: None,
    }
}

#[tokio::test]
async fn reflection_lists_ticketing_and_health() {
    let (server, _) = common::spawn().await;
    let mut reflection = ServerReflectionClient::new(common::channel(&server).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("unexpected reflection answer {answer:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in ["quartet.v1.Ticketing", "grpc.health.v1.Health"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    // A tool can also fetch the file that defines the service, with no .proto in hand.
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(
            "quartet.v1.Ticketing".into(),
        )),
    };
    let mut answers = reflection
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.next().await.unwrap().unwrap();
    assert!(
        matches!(answer.message_response, Some(MessageResponse::FileDescriptorResponse(ref f)) if !f.file_descriptor_proto.is_empty())
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn health_is_serving_then_not_serving_on_shutdown() {
    let (mut server, _) = common::spawn().await;
    let mut health = HealthClient::new(common::channel(&server).await);
    for service in ["", "quartet.v1.Ticketing"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "service {service:?}");
    }
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "quartet.v1.Ticketing".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        watch.next().await.unwrap().unwrap().status,
        ServingStatus::Serving as i32
    );
    server.signal_stop();
    let next = tokio::time::timeout(Duration::from_secs(10), watch.next())
        .await
        .expect("no health update after the shutdown signal");
    let update = next.expect("the watch ended without an update").unwrap();
    assert_eq!(update.status, ServingStatus::NotServing as i32);
    // A watch is a call that never ends by itself; the client hangs up so the drain can finish.
    drop(watch);
    drop(health);
    tokio::time::timeout(Duration::from_secs(15), server.stop())
        .await
        .expect("drain took too long")
        .unwrap();
}

#[tokio::test]
async fn errors_carry_codes_and_rich_details() {
    let (server, service) = common::spawn().await;
    let mut client = TicketingClient::new(common::channel(&server).await);
    let event = on_sale_event(&service);

    // An unknown enum value is an invalid argument naming the field.
    let request = pb::ListEventsRequest {
        filter: Some(pb::EventFilter {
            category: 99,
            ..Default::default()
        }),
        page_size: None,
        page_token: String::new(),
    };
    let status = client.list_events(request).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let violations = status.get_details_bad_request().unwrap().field_violations;
    assert_eq!(violations[0].field, "category");
    assert_eq!(
        status.get_details_error_info().unwrap().reason,
        "INVALID_ARGUMENT"
    );

    // An invalid argument from the domain, with the field violation.
    let status = client.hold_seats(hold(event, &[3, 3])).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        status.get_details_bad_request().unwrap().field_violations[0].field,
        "seat_ids"
    );
    let status = client
        .hold_seats(pb::HoldSeatsRequest {
            customer: None,
            ..hold(event, &[3])
        })
        .await
        .unwrap_err();
    assert_eq!(
        status.get_details_bad_request().unwrap().field_violations[0].field,
        "customer"
    );

    // SEATS_UNAVAILABLE and INVALID_STATE share FAILED_PRECONDITION; ErrorInfo tells them
    // apart, and VERSION_MISMATCH is ABORTED with a PreconditionFailure.
    let booking = client
        .hold_seats(hold(event, &[1, 2]))
        .await
        .unwrap()
        .into_inner()
        .booking
        .unwrap();
    let taken = client.hold_seats(hold(event, &[2])).await.unwrap_err();
    assert_eq!(taken.code(), Code::FailedPrecondition);
    let info = taken.get_details_error_info().unwrap();
    assert_eq!(
        (info.reason.as_str(), info.domain.as_str()),
        ("SEATS_UNAVAILABLE", "quartet.v1")
    );
    assert_eq!(info.metadata["seats"], "2");
    assert_eq!(
        taken.get_details_precondition_failure().unwrap().violations[0].subject,
        "seat/2"
    );
    let stale = client
        .confirm_booking(pb::ConfirmBookingRequest {
            booking_id: booking.id,
            expected_version: 5,
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    assert_eq!(
        stale.get_details_error_info().unwrap().reason,
        "VERSION_MISMATCH"
    );
    assert_eq!(
        stale.get_details_precondition_failure().unwrap().violations[0].r#type,
        "VERSION"
    );
    client
        .cancel_booking(pb::CancelBookingRequest {
            booking_id: booking.id,
        })
        .await
        .unwrap();
    let state = client
        .cancel_booking(pb::CancelBookingRequest {
            booking_id: booking.id,
        })
        .await
        .unwrap_err();
    assert_eq!(state.code(), Code::FailedPrecondition);
    assert_eq!(
        state.get_details_error_info().unwrap().reason,
        "INVALID_STATE"
    );

    let missing = client
        .get_event(pb::GetEventRequest { event_id: 0 })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(
        missing.get_details_resource_info().unwrap().resource_type,
        "event"
    );
    let too_many = client
        .hold_seats(hold(event, &[1, 2, 3, 4, 5, 6, 7, 8, 9]))
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), Code::OutOfRange);
    assert_eq!(
        too_many.get_details_error_info().unwrap().metadata["limit"],
        "8"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_oversized_message_is_refused_and_the_connection_survives() {
    let (server, _) = common::spawn().await;
    let channel = common::channel(&server).await;
    let mut client = TicketingClient::new(channel.clone()).max_encoding_message_size(4 << 20);
    let huge = pb::SearchEventsRequest {
        query: "x".repeat(2 << 20),
        filter: None,
        page_size: None,
    };
    let status = client.search_events(huge).await.unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(
        status.message().contains("message length too large"),
        "{}",
        status.message()
    );
    // Same channel, same connection: still served.
    let event = client
        .get_event(pb::GetEventRequest { event_id: 1 })
        .await
        .unwrap();
    assert_eq!(event.into_inner().event.unwrap().id, 1);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn compressed_calls_are_accepted_and_answered() {
    let (server, _) = common::spawn().await;
    for encoding in [
        tonic::codec::CompressionEncoding::Gzip,
        tonic::codec::CompressionEncoding::Zstd,
    ] {
        let mut client = TicketingClient::new(common::channel(&server).await)
            .send_compressed(encoding)
            .accept_compressed(encoding);
        let map = client
            .get_seat_map(pb::GetSeatMapRequest { event_id: 1 })
            .await
            .unwrap();
        assert!(!map.into_inner().seats.is_empty());
    }
    server.stop().await.unwrap();
}
