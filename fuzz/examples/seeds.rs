//! Writes the committed seed corpus, `fuzz/corpus/<target>/`: the test vectors of
//! `wire/PROTOCOL.md` (§10) for the wire targets, and a valid request (and, for the
//! client-side targets, a real answer) for every operation of every protocol, made
//! against the fuzzing dataset so ids and versions are ones that exist. Run from
//! `fuzz/`: `cargo run --example seeds` (it rewrites the generated files; seeds added by
//! hand, and minimised crashes under `regressions/`, are left alone).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use bytes::Bytes;
use domain::{BookingId, EventId, PerformerId, Ticketing, VenueId};
use prost::Message;
use quartet_fuzz::{fixture, runtime};
use serde::Serialize;
use serde_json::json;
use wire::codec::encode_frame;
use wire::frame::{Frame, Kind, Opcode};
use wire::messages as m;

type Seeds = BTreeMap<String, Vec<u8>>;

/// Every ```` ```hex NAME ```` block of PROTOCOL.md, as bytes (comments after `#` dropped).
fn spec_vectors(spec: &str) -> Vec<(String, Vec<u8>)> {
    let mut vectors = Vec::new();
    let mut current: Option<(String, Vec<u8>)> = None;
    for line in spec.lines() {
        if let Some(name) = line.strip_prefix("```hex ") {
            current = Some((name.trim().to_owned(), Vec::new()));
        } else if line.starts_with("```") {
            vectors.extend(current.take());
        } else if let Some((_, bytes)) = current.as_mut() {
            let data = line.split('#').next().unwrap_or_default();
            for pair in data.split_whitespace() {
                bytes.push(u8::from_str_radix(pair, 16).expect("PROTOCOL.md hex is valid"));
            }
        }
    }
    vectors
}

fn frame(kind: Kind, opcode: Opcode, request_id: u32, payload: impl Into<Bytes>) -> Vec<u8> {
    let frame = Frame {
        kind,
        opcode: opcode as u16,
        request_id,
        payload: payload.into(),
    };
    encode_frame(frame, 16 << 20)
        .expect("seed frames are small")
        .to_vec()
}

fn post<T: Serialize>(message: &T) -> Vec<u8> {
    postcard::to_allocvec(message).expect("messages encode")
}

fn filter() -> m::Filter {
    m::Filter {
        category: Some(m::Category::Concert),
        city: Some("Nottingham".to_owned()),
        from_micros: Some(1_790_000_000_000_000),
        to_micros: Some(1_900_000_000_000_000),
    }
}

fn hold() -> m::HoldSeatsRequest {
    m::HoldSeatsRequest {
        event_id: 1,
        seat_ids: vec![3, 4],
        customer: m::Customer {
            name: "Ada".to_owned(),
            email: "ada@example.com".to_owned(),
        },
        idempotency_key: Some("fuzz-seed-1".to_owned()),
    }
}

/// The id of the first booking on a fresh fuzzing service (ids are not consecutive).
fn first_booking_id() -> u64 {
    let api = fixture::service();
    let booking = runtime::block_on(api.hold_seats(hold().into())).expect("event 1 is on sale");
    booking.id.0
}

fn wire_requests(booking: u64) -> Vec<(&'static str, Vec<u8>)> {
    let id = |n| post(&m::IdRequest { id: n });
    let event = post(&m::EventIdRequest { event_id: 1 });
    let list = m::ListEventsRequest {
        filter: m::Filter::default(),
        cursor: None,
        limit: Some(5),
    };
    let search = m::SearchEventsRequest {
        query: "live music".to_owned(),
        filter: filter(),
        limit: Some(3),
    };
    let confirm = m::ConfirmBookingRequest {
        booking_id: booking,
        expected_version: 1,
    };
    let r = |op, n, p: Vec<u8>| frame(Kind::Request, op, n, p);
    vec![
        ("ping", r(Opcode::Ping, 1, Vec::new())),
        ("get-event", r(Opcode::GetEvent, 2, event.clone())),
        ("list-events", r(Opcode::ListEvents, 3, post(&list))),
        ("search-events", r(Opcode::SearchEvents, 4, post(&search))),
        (
            "get-event-detail",
            r(Opcode::GetEventDetail, 5, event.clone()),
        ),
        ("get-venue", r(Opcode::GetVenue, 6, id(8))),
        ("get-performer", r(Opcode::GetPerformer, 7, id(18))),
        ("get-seat-map", r(Opcode::GetSeatMap, 8, event)),
        ("hold-seats", r(Opcode::HoldSeats, 9, post(&hold()))),
        ("get-booking", r(Opcode::GetBooking, 10, id(booking))),
        (
            "confirm-booking",
            r(Opcode::ConfirmBooking, 11, post(&confirm)),
        ),
        ("cancel-booking", r(Opcode::CancelBooking, 12, id(booking))),
        (
            "subscribe",
            r(
                Opcode::Subscribe,
                13,
                post(&m::SubscribeRequest {
                    event_id: 1,
                    from_version: None,
                }),
            ),
        ),
        (
            "unsubscribe",
            r(
                Opcode::Unsubscribe,
                14,
                post(&m::UnsubscribeRequest {
                    subscription_id: 13,
                }),
            ),
        ),
    ]
}

/// A real answer to every operation, encoded as the server sends it.
fn wire_responses(booking: u64) -> Vec<(&'static str, Vec<u8>)> {
    runtime::block_on(async {
        let api = fixture::service();
        let ok = |op, p: Vec<u8>| frame(Kind::Response, op, 1, p);
        let held = api.hold_seats(hold().into()).await.expect("holds");
        let list = domain::ListEventsRequest {
            limit: Some(2),
            ..Default::default()
        };
        let search = domain::SearchRequest {
            query: "live".to_owned(),
            ..Default::default()
        };
        let error = wire::error::to_payload(&domain::Error::not_found("event", "99"));
        vec![
            (
                "event",
                ok(
                    Opcode::GetEvent,
                    post(&m::Event::from(
                        api.get_event(EventId(1)).await.expect("exists"),
                    )),
                ),
            ),
            (
                "event-page",
                ok(
                    Opcode::ListEvents,
                    post(&m::EventPage::from(
                        api.list_events(list).await.expect("lists"),
                    )),
                ),
            ),
            (
                "search-results",
                ok(
                    Opcode::SearchEvents,
                    post(&m::SearchResults::from(
                        api.search_events(search).await.expect("searches"),
                    )),
                ),
            ),
            (
                "event-detail",
                ok(
                    Opcode::GetEventDetail,
                    post(&m::EventDetail::from(
                        api.get_event_detail(EventId(1)).await.expect("exists"),
                    )),
                ),
            ),
            (
                "venue",
                ok(
                    Opcode::GetVenue,
                    post(&m::Venue::from(
                        api.get_venue(VenueId(8)).await.expect("exists"),
                    )),
                ),
            ),
            (
                "performer",
                ok(
                    Opcode::GetPerformer,
                    post(&m::Performer::from(
                        api.get_performer(PerformerId(18)).await.expect("exists"),
                    )),
                ),
            ),
            (
                "seat-map",
                ok(
                    Opcode::GetSeatMap,
                    post(&m::SeatMap::from(
                        api.get_seat_map(EventId(3)).await.expect("exists"),
                    )),
                ),
            ),
            (
                "booking",
                ok(Opcode::HoldSeats, post(&m::Booking::from(held))),
            ),
            (
                "booking-confirmed",
                ok(
                    Opcode::ConfirmBooking,
                    post(&m::Booking::from(
                        api.confirm_booking(BookingId(booking), 1)
                            .await
                            .expect("confirms"),
                    )),
                ),
            ),
            (
                "error",
                frame(Kind::Error, Opcode::GetEvent, 1, post(&error)),
            ),
        ]
    })
}

fn grpc_messages(booking: u64) -> Vec<(&'static str, Vec<u8>)> {
    use grpc::pb;
    let filter = Some(pb::EventFilter {
        category: pb::Category::Concert as i32,
        city: Some("Nottingham".to_owned()),
        starts_at_or_after: Some(prost_types::Timestamp {
            seconds: 1_790_000_000,
            nanos: 0,
        }),
        starts_before: None,
    });
    let hold = pb::HoldSeatsRequest::from(domain::HoldRequest::from(hold()));
    let requests: Vec<(&'static str, u8, Vec<u8>)> = vec![
        (
            "get-event",
            0,
            pb::GetEventRequest { event_id: 1 }.encode_to_vec(),
        ),
        (
            "list-events",
            1,
            pb::ListEventsRequest {
                filter: filter.clone(),
                page_size: Some(5),
                page_token: String::new(),
            }
            .encode_to_vec(),
        ),
        (
            "search-events",
            2,
            pb::SearchEventsRequest {
                query: "live music".to_owned(),
                filter,
                page_size: Some(3),
            }
            .encode_to_vec(),
        ),
        (
            "get-event-detail",
            3,
            pb::GetEventDetailRequest { event_id: 1 }.encode_to_vec(),
        ),
        (
            "get-venue",
            4,
            pb::GetVenueRequest { venue_id: 8 }.encode_to_vec(),
        ),
        (
            "get-performer",
            5,
            pb::GetPerformerRequest { performer_id: 18 }.encode_to_vec(),
        ),
        (
            "get-seat-map",
            6,
            pb::GetSeatMapRequest { event_id: 1 }.encode_to_vec(),
        ),
        ("hold-seats", 7, hold.encode_to_vec()),
        (
            "get-booking",
            8,
            pb::GetBookingRequest {
                booking_id: booking,
            }
            .encode_to_vec(),
        ),
        (
            "confirm-booking",
            9,
            pb::ConfirmBookingRequest {
                booking_id: booking,
                expected_version: 1,
            }
            .encode_to_vec(),
        ),
        (
            "cancel-booking",
            10,
            pb::CancelBookingRequest {
                booking_id: booking,
            }
            .encode_to_vec(),
        ),
    ];
    requests
        .into_iter()
        .map(|(name, which, bytes)| (name, [vec![which], bytes].concat()))
        .collect()
}

fn grpc_responses() -> Vec<(&'static str, Vec<u8>)> {
    use grpc::pb;
    runtime::block_on(async {
        let api = fixture::service();
        let event = api.get_event(EventId(1)).await.expect("exists");
        let booking = api.hold_seats(hold().into()).await.expect("holds");
        let page = api
            .list_events(domain::ListEventsRequest {
                limit: Some(2),
                ..Default::default()
            })
            .await
            .expect("lists");
        let search = api
            .search_events(domain::SearchRequest {
                query: "live".to_owned(),
                ..Default::default()
            })
            .await
            .expect("searches");
        let responses: Vec<(&'static str, u8, Vec<u8>)> = vec![
            (
                "event",
                11,
                pb::GetEventResponse {
                    event: Some(event.into()),
                }
                .encode_to_vec(),
            ),
            (
                "event-page",
                12,
                pb::ListEventsResponse::from(page).encode_to_vec(),
            ),
            (
                "search-results",
                13,
                pb::SearchEventsResponse::from(search).encode_to_vec(),
            ),
            (
                "event-detail",
                14,
                pb::GetEventDetailResponse::from(
                    api.get_event_detail(EventId(1)).await.expect("exists"),
                )
                .encode_to_vec(),
            ),
            (
                "venue",
                15,
                pb::GetVenueResponse {
                    venue: Some(api.get_venue(VenueId(8)).await.expect("exists").into()),
                }
                .encode_to_vec(),
            ),
            (
                "performer",
                16,
                pb::GetPerformerResponse {
                    performer: Some(
                        api.get_performer(PerformerId(18))
                            .await
                            .expect("exists")
                            .into(),
                    ),
                }
                .encode_to_vec(),
            ),
            (
                "seat-map",
                17,
                pb::GetSeatMapResponse::from(api.get_seat_map(EventId(3)).await.expect("exists"))
                    .encode_to_vec(),
            ),
            (
                "booking",
                18,
                pb::HoldSeatsResponse {
                    booking: Some(booking.into()),
                }
                .encode_to_vec(),
            ),
        ];
        responses
            .into_iter()
            .map(|(name, which, bytes)| (name, [vec![which], bytes].concat()))
            .collect()
    })
}

/// gRPC's length-prefixed message: flag 0 (not compressed), u32 BE length, message.
fn grpc_framed(message: &[u8]) -> Vec<u8> {
    let length = u32::try_from(message.len()).expect("seed messages are small");
    [&[0][..], &length.to_be_bytes(), message].concat()
}

fn http(method: &str, target: &str, headers: &[&str], body: &str) -> Vec<u8> {
    let mut text = format!("{method} {target} HTTP/1.1\r\nhost: localhost\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    if !body.is_empty() {
        let _ = write!(text, "content-length: {}\r\n", body.len());
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}

fn rest_requests(booking: u64) -> Vec<(String, Vec<u8>)> {
    let json = ["content-type: application/json"];
    let hold = r#"{"event_id": 1, "seat_ids": [3, 4], "customer": {"name": "Ada", "email": "ada@example.com"}}"#;
    let b = booking;
    vec![
        ("healthz", http("GET", "/healthz", &[], "")),
        ("list", http("GET", "/v1/events?limit=5&category=concert&city=Nottingham&from=2027-01-01T00:00:00Z&to=2028-12-31T00:00:00Z", &[], "")),
        ("list-cursor", http("GET", "/v1/events?limit=1&cursor=00066570d84e0c00000000000000000000000000000000000", &[], "")),
        ("search", http("GET", "/v1/events/search?q=live%20music&limit=3", &["accept-encoding: gzip"], "")),
        ("event", http("GET", "/v1/events/1", &[], "")),
        ("detail", http("GET", "/v1/events/1/detail", &[], "")),
        ("seats", http("GET", "/v1/events/1/seats", &["if-none-match: \"0\""], "")),
        ("venue", http("GET", "/v1/venues/8", &[], "")),
        ("performer", http("GET", "/v1/performers/18", &[], "")),
        ("hold", http("POST", "/v1/bookings", &[json[0], "idempotency-key: fuzz-seed-1"], hold)),
        ("booking", http("GET", &format!("/v1/bookings/{b}"), &[], "")),
        ("confirm", http("POST", &format!("/v1/bookings/{b}/confirm"), &["if-match: \"1\""], "")),
        ("cancel", http("POST", &format!("/v1/bookings/{b}/cancel"), &[], "")),
        ("openapi", http("GET", "/openapi.json", &[], "")),
        ("method-not-allowed", http("DELETE", "/v1/events/1", &[], "")),
        ("unknown-route", http("GET", "/v2/nothing?x=1", &[], "")),
    ]
    .into_iter()
    .map(|(name, bytes)| (name.to_owned(), bytes))
    .collect()
}

fn graphql_bodies(booking: u64) -> Vec<(String, serde_json::Value)> {
    let vars = |name: &str| match name {
        "ListEvents" => {
            json!({"first": 3, "filter": {"category": "CONCERT", "city": "Nottingham"}})
        }
        "SearchEvents" => json!({"query": "live music", "first": 3}),
        "GetVenue" => json!({"id": "8"}),
        "GetPerformer" => json!({"id": "18"}),
        "HoldSeats" => {
            json!({"input": {"eventId": "1", "seatIds": [3, 4], "customer": {"name": "Ada", "email": "ada@example.com"}, "idempotencyKey": "fuzz-seed-1"}})
        }
        "GetBooking" | "CancelBooking" => json!({"id": booking.to_string()}),
        "ConfirmBooking" => json!({"id": booking.to_string(), "expectedVersion": 1}),
        _ => json!({"id": "1"}),
    };
    graphql::client::documents::all()
        .into_iter()
        .map(|(name, document)| {
            let body = json!({"query": document, "variables": vars(name), "operationName": name});
            (name.to_owned(), body)
        })
        .collect()
}

fn write(corpus: &Path, target: &str, seeds: Seeds) {
    let dir = corpus.join(target);
    fs::create_dir_all(&dir).expect("the corpus directory can be made");
    for (name, bytes) in seeds {
        fs::write(dir.join(name), bytes).expect("a seed can be written");
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("corpus");
    let spec = fs::read_to_string(root.join("../wire/PROTOCOL.md")).expect("PROTOCOL.md");
    let vectors = spec_vectors(&spec);
    let booking = first_booking_id();

    let hellos = [
        "client-hello",
        "server-hello",
        "hello-empty-range",
        "hello-refused",
        "bad-magic",
        "client-hello-zstd",
        "server-hello-zstd",
        "client-hello-both",
    ];
    let mut handshake: Seeds = vectors
        .iter()
        .filter(|(name, _)| hellos.contains(&name.as_str()))
        .map(|(name, bytes)| (format!("spec-{name}"), bytes.clone()))
        .collect();
    handshake.insert("http-request".to_owned(), b"GET / HTTP/1.1\r\n".to_vec());
    write(&corpus, "wire_handshake", handshake);

    let frames: Vec<_> = vectors
        .iter()
        .filter(|(name, _)| !hellos.contains(&name.as_str()))
        .collect();
    let requests = wire_requests(booking);
    let responses = wire_responses(booking);

    // The frame decoder: every spec frame, whole and in 7-byte chunks, and all the
    // requests of one session back to back.
    let mut frame_seeds: Seeds = Seeds::new();
    for (name, bytes) in &frames {
        frame_seeds.insert(format!("spec-{name}"), [&[63][..], bytes].concat());
        frame_seeds.insert(format!("spec-{name}-chunked"), [&[6][..], bytes].concat());
    }
    let session: Vec<u8> = requests
        .iter()
        .flat_map(|(_, bytes)| bytes.clone())
        .collect();
    frame_seeds.insert("session".to_owned(), [&[16][..], &session].concat());
    write(&corpus, "wire_frames", frame_seeds);

    let mut request_seeds: Seeds = frames
        .iter()
        .filter(|(name, _)| name.ends_with("-request"))
        .map(|(name, bytes)| (format!("spec-{name}"), bytes.clone()))
        .collect();
    for (name, bytes) in &requests {
        request_seeds.insert((*name).to_owned(), bytes.clone());
    }
    request_seeds.insert("session".to_owned(), session);
    write(&corpus, "wire_requests", request_seeds);

    let mut response_seeds: Seeds = frames
        .iter()
        .filter(|(name, _)| !name.ends_with("-request"))
        .map(|(name, bytes)| (format!("spec-{name}"), bytes.clone()))
        .collect();
    for (name, bytes) in responses {
        response_seeds.insert(name.to_owned(), bytes);
    }
    write(&corpus, "wire_responses", response_seeds);

    let grpc_requests = grpc_messages(booking);
    let mut message_seeds: Seeds = grpc_requests
        .iter()
        .map(|(name, bytes)| (format!("request-{name}"), bytes.clone()))
        .collect();
    for (name, bytes) in grpc_responses() {
        message_seeds.insert(format!("response-{name}"), bytes);
    }
    write(&corpus, "grpc_messages", message_seeds);

    // The tonic target: method index, flags (0: not compressed), framed message.
    let service_seeds: Seeds = grpc_requests
        .iter()
        .map(|(name, bytes)| {
            let (which, message) = bytes.split_first().expect("a selector byte");
            (
                (*name).to_owned(),
                [&[*which, 0][..], &grpc_framed(message)].concat(),
            )
        })
        .collect();
    write(&corpus, "grpc_service", service_seeds);

    write(
        &corpus,
        "rest_router",
        rest_requests(booking).into_iter().collect(),
    );

    let bodies = graphql_bodies(booking);
    let mut http_seeds: Seeds = bodies
        .iter()
        .map(|(name, body)| {
            let request = http(
                "POST",
                "/graphql",
                &[
                    "content-type: application/json",
                    "accept: application/graphql-response+json",
                ],
                &body.to_string(),
            );
            (name.clone(), request)
        })
        .collect();
    let batch = serde_json::Value::Array(bodies.iter().take(3).map(|(_, b)| b.clone()).collect());
    http_seeds.insert(
        "batch".to_owned(),
        http(
            "POST",
            "/graphql",
            &["content-type: application/json"],
            &batch.to_string(),
        ),
    );
    http_seeds.insert(
        "graphiql".to_owned(),
        http("GET", "/graphql", &["accept: text/html"], ""),
    );
    http_seeds.insert("healthz".to_owned(), http("GET", "/healthz", &[], ""));
    write(&corpus, "graphql_http", http_seeds);

    let document_seeds: Seeds = bodies
        .iter()
        .map(|(name, body)| {
            let text = format!(
                "{}\n#variables\n{}",
                body["query"].as_str().unwrap_or_default(),
                body["variables"]
            );
            (name.clone(), text.into_bytes())
        })
        .chain(std::iter::once((
            "introspection".to_owned(),
            fs::read(root.join("../graphql/tests/fixtures/graphiql-introspection.graphql"))
                .expect("the fixture"),
        )))
        .collect();
    write(&corpus, "graphql_document", document_seeds);
    println!("seeds written to {}", corpus.display());
}
