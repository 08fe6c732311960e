//! `roundtrip`: one request at a time over loopback, per protocol, for get_event and
//! seat_map, beside a raw TCP ping-pong of the same sizes as the wire protocol's
//! exchange (the floor).
//!
//! Isolates the whole request path of each protocol on one connection with no
//! concurrency: client encode, the kernel's loopback, server decode, the domain call,
//! server encode, client decode. Servers run in this process (so client and server share
//! the runtime and the cores); the harness runs them apart and under load.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bench::floor::{self, FloorClient};
use bench::protocol::{self, Protocol};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use domain::{DatasetSpec, EventId, Limits, Service, SharedTicketing, Ticketing};
use netkit::ServerConfig;
use netkit::running::RunningServer;
use tokio::sync::Mutex;

fn roundtrip(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let service: SharedTicketing =
        Arc::new(Service::generate(DatasetSpec::default(), Limits::default()));
    // A 5 000-seat-class seat map: event 1's venue.
    let seat_map = futures::executor::block_on(service.get_seat_map(EventId(1)))
        .unwrap_or_else(|e| panic!("{e}"));
    let seat_map_payload =
        postcard::to_allocvec(&wire::messages::SeatMap::from(seat_map)).unwrap_or_default();
    let event_payload = futures::executor::block_on(service.get_event(EventId(1)))
        .ok()
        .and_then(|e| postcard::to_allocvec(&wire::messages::Event::from(e)).ok())
        .unwrap_or_default();
    let exchanges = [
        (
            "get_event",
            floor::frames(wire::frame::Opcode::GetEvent, event_payload),
        ),
        (
            "seat_map",
            floor::frames(wire::frame::Opcode::GetSeatMap, seat_map_payload),
        ),
    ];
    for (operation, (request, response)) in exchanges {
        let mut group = c.benchmark_group(format!("roundtrip/{operation}"));
        // The floor: same bytes each way, no work.
        let answer = response.clone();
        let floor_server = runtime
            .block_on(RunningServer::spawn(|listener, stop| {
                floor::serve_exchange(listener, request.len(), answer, stop)
            }))
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = floor_server.addr;
        let client = runtime
            .block_on(FloorClient::connect_exchange(
                addr,
                request.clone(),
                response.clone(),
            ))
            .unwrap_or_else(|e| panic!("{e}"));
        let client = Arc::new(Mutex::new(client));
        group.bench_function(
            BenchmarkId::new(
                "tcp-floor",
                format!("{}B/{}B", request.len(), response.len()),
            ),
            |b| {
                b.to_async(&runtime).iter(|| {
                    let client = Arc::clone(&client);
                    async move {
                        client
                            .lock()
                            .await
                            .round_trip()
                            .await
                            .unwrap_or_else(|e| panic!("{e}"));
                    }
                });
            },
        );
        drop(runtime.block_on(floor_server.stop()));
        for protocol in Protocol::APIS {
            let serving = Arc::clone(&service);
            let server = runtime
                .block_on(RunningServer::spawn(|listener, stop| {
                    protocol::serve(protocol, listener, serving, ServerConfig::default(), stop)
                }))
                .unwrap_or_else(|e| panic!("{e}"));
            let addr = server.addr;
            let api = runtime
                .block_on(protocol::connect(protocol, addr))
                .unwrap_or_else(|e| panic!("{e}"))
                .api;
            group.bench_function(BenchmarkId::new(protocol.name(), operation), |b| {
                b.to_async(&runtime).iter(|| {
                    let api = Arc::clone(&api);
                    async move {
                        match operation {
                            "get_event" => drop(black_box(api.get_event(EventId(1)).await)),
                            _ => drop(black_box(api.get_seat_map(EventId(1)).await)),
                        }
                    }
                });
            });
            // Hang up first, so the drain has nothing to wait for.
            drop(api);
            drop(runtime.block_on(server.stop()));
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = roundtrip
}
criterion_main!(benches);
