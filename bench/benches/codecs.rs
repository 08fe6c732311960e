//! `codecs`: encoding and decoding one payload the way each protocol really sends it,
//! and its size raw, gzip and zstd.
//!
//! Isolates serialization and the domain <-> protocol conversion: REST encodes its JSON
//! model, GraphQL executes the client's query against the schema and serializes the
//! response (resolvers are how GraphQL encodes), gRPC encodes protobuf, wire encodes
//! postcard; decoding goes all the way back to the domain type, as each client does.
//! Leaves out sockets, HTTP and framing (see `roundtrip` and the harness).

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use domain::{
    Customer, DatasetSpec, EventId, HoldRequest, Limits, ListEventsRequest, SeatId, Service,
    SharedTicketing, Ticketing,
};
use futures::executor::block_on;
use prost::Message;
use serde_json::json;

/// The five payloads, from the default dataset.
struct Payloads {
    event: domain::Event,
    detail: domain::EventDetail,
    page: domain::EventPage,
    seat_map: domain::SeatMap,
    booking: domain::Booking,
    big_event: EventId,
}

fn payloads(service: &Service) -> Payloads {
    // The dataset the service was built from (to find the biggest venue): the one use of
    // the concrete service here.
    let data = service.store().catalog().dataset();
    let big_event = data
        .events
        .iter()
        .filter(|e| e.status == domain::EventStatus::OnSale)
        .max_by_key(|e| data.venues[(e.venue_id.0 - 1) as usize].capacity)
        .map_or(EventId(1), |e| e.id);
    let booking = block_on(service.hold_seats(HoldRequest {
        event_id: big_event,
        seat_ids: vec![SeatId(10), SeatId(11)],
        customer: Customer {
            name: "Ada Lovelace".into(),
            email: "ada@example.org".into(),
        },
        idempotency_key: None,
    }))
    .unwrap_or_else(|e| panic!("hold for the booking payload: {e}"));
    Payloads {
        event: block_on(service.get_event(EventId(1))).unwrap_or_else(|e| panic!("{e}")),
        detail: block_on(service.get_event_detail(EventId(1))).unwrap_or_else(|e| panic!("{e}")),
        page: block_on(service.list_events(ListEventsRequest {
            limit: Some(50),
            ..Default::default()
        }))
        .unwrap_or_else(|e| panic!("{e}")),
        seat_map: block_on(service.get_seat_map(big_event)).unwrap_or_else(|e| panic!("{e}")),
        booking,
        big_event,
    }
}

fn gzip(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(bytes);
    encoder.finish().map_or(0, |v| v.len())
}

fn zstd_len(bytes: &[u8]) -> usize {
    zstd::encode_all(bytes, 3).map_or(0, |v| v.len())
}

/// Decodes bytes back to the domain type (the result is black-boxed inside).
type Decode = Box<dyn Fn(&[u8])>;

/// One (payload, encoding) pair: how to encode it and how to decode it back.
struct Case {
    payload: &'static str,
    encoding: &'static str,
    encode: Box<dyn Fn() -> Vec<u8>>,
    decode: Decode,
}

fn graphql_case(
    engine: Arc<graphql::prepared::Engine>,
    payload: &'static str,
    operation: &'static str,
    variables: serde_json::Value,
    decode: Decode,
) -> Case {
    let document = graphql::client::documents::all()
        .into_iter()
        .find(|(name, _)| *name == operation)
        .map(|(_, d)| d)
        .unwrap_or_default();
    // The server's own path: the prepared-document cache (warm after the first call, as
    // on a server that has seen the client's documents), then the response as the
    // endpoint serialises it.
    let encode = move || {
        let request = async_graphql::Request::new(document.clone())
            .operation_name(operation)
            .variables(async_graphql::Variables::from_json(variables.clone()));
        let runtime = RUNTIME.with(|rt| rt.handle().clone());
        let response = runtime.block_on(engine.execute_raw(request));
        graphql::json::response(&response).unwrap_or_default()
    };
    Case {
        payload,
        encoding: "graphql json",
        encode: Box::new(encode),
        decode,
    }
}

thread_local! {
    // Nested fields are fetched by their parent field, in the query's own task: nothing
    // is spawned, so a current-thread runtime runs everything.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
}

#[allow(clippy::many_single_char_names, clippy::items_after_statements)] // one letter per payload
fn cases(p: &Payloads, api: SharedTicketing) -> Vec<Case> {
    let engine = Arc::new(graphql::prepared::Engine::new(
        api,
        &graphql::Config::default(),
        Arc::default(),
    ));
    let mut cases = Vec::new();
    macro_rules! rest_case {
        ($name:literal, $value:expr, $model:ty, $domain:ty) => {{
            let value = $value.clone();
            cases.push(Case {
                payload: $name,
                encoding: "rest json",
                encode: Box::new(move || {
                    serde_json::to_vec(&<$model>::from(value.clone())).unwrap_or_default()
                }),
                decode: Box::new(|bytes| {
                    let model: $model =
                        serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{e}"));
                    black_box(<$domain>::from(model));
                }),
            });
        }};
    }
    rest_case!("event", p.event, rest::model::Event, domain::Event);
    rest_case!(
        "event_detail",
        p.detail,
        rest::model::EventDetail,
        domain::EventDetail
    );
    rest_case!(
        "page_of_50",
        p.page,
        rest::model::EventPage,
        domain::EventPage
    );
    rest_case!(
        "seat_map",
        p.seat_map,
        rest::model::SeatMap,
        domain::SeatMap
    );
    rest_case!("booking", p.booking, rest::model::Booking, domain::Booking);

    macro_rules! grpc_case {
        ($name:literal, $encode:expr, $pb:ty, $decode:expr) => {{
            let encode = $encode;
            cases.push(Case {
                payload: $name,
                encoding: "grpc protobuf",
                encode: Box::new(move || encode().encode_to_vec()),
                decode: Box::new(|bytes| {
                    let message = <$pb>::decode(bytes).unwrap_or_else(|e| panic!("{e}"));
                    let _ = black_box($decode(message));
                }),
            });
        }};
    }
    let (e, d, pg, m, b) = (
        p.event.clone(),
        p.detail.clone(),
        p.page.clone(),
        p.seat_map.clone(),
        p.booking.clone(),
    );
    grpc_case!(
        "event",
        move || grpc::pb::GetEventResponse {
            event: Some(e.clone().into())
        },
        grpc::pb::GetEventResponse,
        |r: grpc::pb::GetEventResponse| grpc::convert::event(r.event)
    );
    grpc_case!(
        "event_detail",
        move || grpc::pb::GetEventDetailResponse::from(d.clone()),
        grpc::pb::GetEventDetailResponse,
        domain::EventDetail::try_from
    );
    grpc_case!(
        "page_of_50",
        move || grpc::pb::ListEventsResponse::from(pg.clone()),
        grpc::pb::ListEventsResponse,
        domain::EventPage::try_from
    );
    grpc_case!(
        "seat_map",
        move || grpc::pb::GetSeatMapResponse::from(m.clone()),
        grpc::pb::GetSeatMapResponse,
        domain::SeatMap::try_from
    );
    grpc_case!(
        "booking",
        move || grpc::pb::GetBookingResponse {
            booking: Some(b.clone().into())
        },
        grpc::pb::GetBookingResponse,
        |r: grpc::pb::GetBookingResponse| grpc::convert::booking(r.booking)
    );

    macro_rules! wire_case {
        ($name:literal, $value:expr, $message:ty, $decode:expr) => {{
            let value = $value.clone();
            cases.push(Case {
                payload: $name,
                encoding: "wire postcard",
                encode: Box::new(move || {
                    postcard::to_allocvec(&<$message>::from(value.clone())).unwrap_or_default()
                }),
                decode: Box::new(|bytes| {
                    let message: $message =
                        postcard::from_bytes(bytes).unwrap_or_else(|e| panic!("{e}"));
                    let _ = black_box($decode(message));
                }),
            });
        }};
    }
    wire_case!(
        "event",
        p.event,
        wire::messages::Event,
        domain::Event::try_from
    );
    wire_case!(
        "event_detail",
        p.detail,
        wire::messages::EventDetail,
        domain::EventDetail::try_from
    );
    wire_case!(
        "page_of_50",
        p.page,
        wire::messages::EventPage,
        domain::EventPage::try_from
    );
    wire_case!(
        "seat_map",
        p.seat_map,
        wire::messages::SeatMap,
        domain::SeatMap::from
    );
    wire_case!(
        "booking",
        p.booking,
        wire::messages::Booking,
        domain::Booking::try_from
    );

    fn graphql_decode<T: serde::de::DeserializeOwned>(field: &'static str) -> Decode {
        Box::new(move |bytes| {
            let mut value: serde_json::Value =
                serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{e}"));
            let model: T = serde_json::from_value(value["data"][field].take())
                .unwrap_or_else(|e| panic!("{e}"));
            black_box(model);
        })
    }
    use graphql::client::model as gm;
    cases.push(graphql_case(
        Arc::clone(&engine),
        "event",
        "GetEvent",
        json!({"id": "1"}),
        graphql_decode::<gm::Event>("event"),
    ));
    cases.push(graphql_case(
        Arc::clone(&engine),
        "event_detail",
        "GetEventDetail",
        json!({"id": "1"}),
        graphql_decode::<gm::EventDetail>("event"),
    ));
    cases.push(graphql_case(
        Arc::clone(&engine),
        "page_of_50",
        "ListEvents",
        json!({"first": 50}),
        graphql_decode::<gm::EventConnection>("events"),
    ));
    cases.push(graphql_case(
        Arc::clone(&engine),
        "seat_map",
        "GetSeatMap",
        json!({"id": p.big_event.to_string()}),
        graphql_decode::<gm::EventSeatMap>("event"),
    ));
    cases.push(graphql_case(
        engine,
        "booking",
        "GetBooking",
        json!({"id": p.booking.id.to_string()}),
        graphql_decode::<gm::Booking>("booking"),
    ));
    cases
}

fn codecs(c: &mut Criterion) {
    let service = Service::generate(DatasetSpec::default(), Limits::default());
    let payloads = payloads(&service);
    let cases = cases(&payloads, Arc::new(service));
    let mut table = String::from(
        "| payload | encoding | raw bytes | gzip bytes | zstd bytes |\n|---|---|---:|---:|---:|\n",
    );
    for case in &cases {
        let bytes = (case.encode)();
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} |",
            case.payload,
            case.encoding,
            bytes.len(),
            gzip(&bytes),
            zstd_len(&bytes)
        );
        let mut group = c.benchmark_group(format!("codecs/{}", case.payload));
        group.bench_function(BenchmarkId::new("encode", case.encoding), |b| {
            b.iter(|| black_box((case.encode)()));
        });
        group.bench_function(BenchmarkId::new("decode", case.encoding), |b| {
            b.iter(|| (case.decode)(black_box(&bytes)));
        });
        group.finish();
    }
    println!(
        "\nEncoded sizes (default dataset; seat map of a {}-seat venue):\n\n{table}",
        payloads.seat_map.seats.len()
    );
    // `--test` (CI's smoke run) must not rewrite a committed file.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sizes.md");
    let text = format!(
        "# Encoded sizes\n\nWritten by `cargo bench -p bench --bench codecs` (default dataset: 10 000 events, seed 42;\nthe seat map is of a {}-seat venue). Raw is the payload as each protocol sends it;\ngzip at level 6, zstd at level 3.\n\n{table}",
        payloads.seat_map.seats.len()
    );
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("cannot write {}: {e}", path.display());
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = codecs
}
criterion_main!(benches);
