//! `search`: in-process `search_events` against catalogue size: one common word ("live"),
//! 20 hits, at 10 000 events and (opt in) at 1 000 000.
//!
//! Isolates the search index, argument validation and building the 20 hits (live status
//! included), through the same `Ticketing` call every server makes. Leaves out every
//! transport and runtime (the futures are polled to completion on the bench thread).
//!
//! The 1 000 000-event size takes about half a minute and over a gigabyte to build, so
//! it runs only with `QUARTET_BENCH_SEARCH_1M=1` in the environment; 10 000 always runs
//! (so `cargo bench -p bench -- --test`, as CI runs it, stays quick). Each dataset is
//! built once, before its measurements.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use domain::{DatasetSpec, EventFilter, Limits, SearchRequest, Service, Ticketing};
use futures::executor::block_on;

/// Opts in to the 1 000 000-event size.
const LARGE_ENV: &str = "QUARTET_BENCH_SEARCH_1M";

fn sizes() -> Vec<u32> {
    let mut sizes = vec![10_000];
    if std::env::var(LARGE_ENV).is_ok_and(|v| v == "1") {
        sizes.push(1_000_000);
    }
    sizes
}

fn search(c: &mut Criterion) {
    let mut group = c.benchmark_group("search/one_word_20_hits");
    for events in sizes() {
        let started = Instant::now();
        let service = Service::generate(
            DatasetSpec {
                events,
                ..DatasetSpec::default()
            },
            Limits::default(),
        );
        eprintln!("{events} events built in {:.2?}", started.elapsed());
        let request = SearchRequest {
            query: "live".into(),
            filter: EventFilter::default(),
            limit: Some(20),
        };
        let hits = block_on(service.search_events(request.clone()))
            .map(|r| r.hits.len())
            .unwrap_or_default();
        assert_eq!(hits, 20, "\"live\" is a common word: a full page of hits");
        group.bench_with_input(BenchmarkId::from_parameter(events), &request, |b, r| {
            b.iter(|| black_box(block_on(service.search_events(r.clone()))).ok());
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = search
}
criterion_main!(benches);
