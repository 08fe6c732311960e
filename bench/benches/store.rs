//! `store`: the domain in process, through the same `Ticketing` calls every server makes,
//! on the default dataset (10 000 events, seed 42).
//!
//! Isolates the store, the indexes and argument validation. Leaves out every transport:
//! no serialization, no sockets, no HTTP. The futures are polled to completion on the
//! bench thread (the in-process service never waits), so no runtime is measured either.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domain::{
    Category, Customer, DatasetSpec, EventFilter, EventId, EventStatus, HoldRequest, Limits,
    ListEventsRequest, SearchRequest, SeatId, Service, Ticketing,
};
use futures::executor::block_on;

fn service() -> Service {
    Service::generate(DatasetSpec::default(), Limits::default())
}

/// The largest on-sale venue's first event: seat maps are biggest there, and holds have
/// the most seats to cycle through.
fn big_on_sale_event(service: &Service) -> (EventId, u32) {
    let data = service.store().catalog().dataset();
    data.events
        .iter()
        .filter(|e| e.status == EventStatus::OnSale)
        .map(|e| (e.id, data.venues[(e.venue_id.0 - 1) as usize].capacity))
        .max_by_key(|&(id, capacity)| (capacity, std::cmp::Reverse(id)))
        .unwrap_or((EventId(1), 1))
}

fn hold(event_id: EventId, first_seat: u32) -> HoldRequest {
    HoldRequest {
        event_id,
        seat_ids: vec![SeatId(first_seat), SeatId(first_seat + 1)],
        customer: Customer {
            name: "Bench Customer".into(),
            email: "bench@example.org".into(),
        },
        idempotency_key: None,
    }
}

fn reads(c: &mut Criterion) {
    let service = service();
    let events = service.store().catalog().event_count() as u64;
    let mut next = 0u64;
    c.bench_function("store/get_event", |b| {
        b.iter(|| {
            next = next % events + 1;
            black_box(block_on(service.get_event(EventId(next)))).ok()
        });
    });
    c.bench_function("store/list_events_page20", |b| {
        b.iter(|| black_box(block_on(service.list_events(ListEventsRequest::default()))).ok());
    });
    let concert_in_city = EventFilter {
        category: Some(Category::Concert),
        ..Default::default()
    };
    for (name, query, filter) in [
        ("store/search_one_word", "live", EventFilter::default()),
        (
            "store/search_three_words_filtered",
            "live tour hall",
            concert_in_city,
        ),
    ] {
        let request = SearchRequest {
            query: query.into(),
            filter,
            limit: Some(20),
        };
        c.bench_function(name, |b| {
            b.iter(|| black_box(block_on(service.search_events(request.clone()))).ok());
        });
    }
    let (big, capacity) = big_on_sale_event(&service);
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(u64::from(capacity)));
    group.bench_function(format!("get_seat_map_{capacity}_seats"), |b| {
        b.iter(|| black_box(block_on(service.get_seat_map(big))).ok());
    });
    group.finish();
}

fn writes(c: &mut Criterion) {
    let service = service();
    let (event, capacity) = big_on_sale_event(&service);
    let mut seat = 0;
    c.bench_function("store/hold_cancel_uncontended", |b| {
        b.iter(|| {
            seat = (seat + 2) % (capacity - 1);
            let booking = block_on(service.hold_seats(hold(event, seat)));
            if let Ok(booking) = booking {
                black_box(block_on(service.cancel_booking(booking.id))).ok();
            }
        });
    });
    // Two threads (the machine's two cores) hold and cancel distinct seats of ONE event,
    // so every operation contends for that event's lock.
    let threads = 2u32;
    let shared = Arc::new(service);
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Elements(1));
    group.bench_function("hold_cancel_2_threads_one_event", |b| {
        b.iter_custom(|iters| {
            let per_thread = iters.div_ceil(u64::from(threads));
            let failures = Arc::new(AtomicU32::new(0));
            let start = Instant::now();
            std::thread::scope(|scope| {
                for t in 0..threads {
                    let service = Arc::clone(&shared);
                    let failures = Arc::clone(&failures);
                    scope.spawn(move || {
                        // Thread t cycles through its own seats, so holds never conflict.
                        let span = (capacity / threads) & !1;
                        let base = t * span;
                        for i in 0..per_thread {
                            let seat = base + (i as u32 * 2) % (span - 1);
                            match block_on(service.hold_seats(hold(event, seat))) {
                                Ok(b) => {
                                    block_on(service.cancel_booking(b.id)).ok();
                                }
                                Err(_) => {
                                    failures.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    });
                }
            });
            let elapsed = start.elapsed();
            assert_eq!(
                failures.load(Ordering::Relaxed),
                0,
                "a contended hold failed"
            );
            // Scale to exactly `iters` operations (each thread ran `per_thread`).
            elapsed.mul_f64(iters as f64 / (per_thread * u64::from(threads)) as f64)
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = reads, writes
}
criterion_main!(benches);
