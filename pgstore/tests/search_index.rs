//! `--search index` over PostgreSQL: a replica's engine index of the catalogue answers
//! search like the database does (same matches), and a change committed through another
//! replica reaches its results (sold out, and back) within a deadline; and the staleness
//! from commit to searchable, measured.
//!
//! The measurement is a test so it runs anywhere the others do; for the figure:
//! `QUARTET_REQUIRE_POSTGRES=1 QUARTET_PG_INDEX_CHANGES=4000 cargo test --release -p pgstore
//! --test search_index -- staleness --nocapture` (`QUARTET_PG_INDEX_RATE` changes/s, 200 by
//! default).

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use domain::{
    Booking, Customer, Dataset, DatasetSpec, EventFilter, EventId, EventStatus, HoldRequest,
    SearchRequest, SeatId, Ticketing,
};
use pgstore::PgStore;

const SPEC: DatasetSpec = DatasetSpec {
    events: 200,
    seed: 21,
};

/// How long a change may take to become searchable before the test fails (generous: the
/// machine is shared; the measured figure is what matters).
const DEADLINE: Duration = Duration::from_secs(10);

fn hold(event_id: EventId, seats: &[u32], n: usize) -> HoldRequest {
    HoldRequest {
        event_id,
        seat_ids: seats.iter().map(|&s| SeatId(s)).collect(),
        customer: Customer {
            name: format!("Searcher {n}"),
            email: format!("searcher{n}@example.org"),
        },
        idempotency_key: None,
    }
}

async fn status_in_search(api: &dyn Ticketing, query: &str, id: EventId) -> Option<EventStatus> {
    let found = api
        .search_events(SearchRequest {
            query: query.to_owned(),
            filter: EventFilter::default(),
            limit: Some(100),
        })
        .await
        .expect("search");
    found
        .hits
        .iter()
        .find(|h| h.event.id == id)
        .map(|h| h.event.status)
}

/// Waits until `index`'s store has applied the inventory version the database reports
/// for `id` now, failing after [`DEADLINE`].
async fn caught_up(database: &dyn Ticketing, index: &PgStore, id: EventId) {
    let version = database.get_seat_map(id).await.expect("map").version;
    let live = index.search_index().expect("index");
    tokio::time::timeout(
        DEADLINE,
        live.wait_for(id.0, i64::try_from(version).unwrap()),
    )
    .await
    .expect("the change reached the index within the deadline");
}

/// Replica A writes and searches the database; replica B searches its own index.
async fn two_replicas(tag: &str) -> Option<(common::TestSchema, PgStore, PgStore, Dataset)> {
    let db = common::TestSchema::new(tag).await?;
    let a = PgStore::connect(&db.config).await.expect("connect a");
    let data = Dataset::from_spec(SPEC);
    pgstore::load(&a, &data, false).await.expect("load");
    let b = PgStore::connect(&db.config)
        .await
        .expect("connect b")
        .with_search_index()
        .await
        .expect("index");
    Some((db, a, b, data))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_search_matches_the_database_and_follows_sold_out() {
    let Some((_db, a, b, data)) = two_replicas("sindex").await else {
        return;
    };
    let limits = a.limits().clone();
    let (database, index) = (pgstore::ticketing(a), pgstore::ticketing(b.clone()));

    // The same set of matches for a few words (ranking is each engine's own).
    for word in ["music", "live", "night", "festival", "jazz"] {
        let ids =
            |hits: &[domain::SearchHit]| hits.iter().map(|h| h.event.id.0).collect::<BTreeSet<_>>();
        let request = SearchRequest {
            query: word.into(),
            filter: EventFilter::default(),
            limit: Some(100),
        };
        let from_db = database.search_events(request.clone()).await.expect("db");
        let from_index = index.search_events(request).await.expect("index");
        if from_db.hits.len() < 100 {
            assert_eq!(ids(&from_db.hits), ids(&from_index.hits), "{word}");
        }
    }

    // The smallest on-sale venue, sold out through replica A.
    let event = data
        .events
        .iter()
        .filter(|e| e.status == EventStatus::OnSale)
        .min_by_key(|e| data.venues[(e.venue_id.0 - 1) as usize].capacity)
        .expect("an on-sale event");
    let capacity = data.venues[(event.venue_id.0 - 1) as usize].capacity;
    let query = domain::catalog::tokens(&event.name)
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(
        status_in_search(&index, &query, event.id).await,
        Some(EventStatus::OnSale)
    );
    let seats: Vec<u32> = (0..capacity).collect();
    let mut bookings: Vec<Booking> = Vec::new();
    for (n, chunk) in seats.chunks(limits.max_seats_per_hold as usize).enumerate() {
        bookings.push(
            database
                .hold_seats(hold(event.id, chunk, n))
                .await
                .expect("hold"),
        );
    }
    assert_eq!(
        status_in_search(&database, &query, event.id).await,
        Some(EventStatus::SoldOut),
        "the database's search is consistent at once"
    );
    caught_up(&database, &b, event.id).await;
    assert_eq!(
        status_in_search(&index, &query, event.id).await,
        Some(EventStatus::SoldOut),
        "sold out reached the index"
    );
    // And back on sale once a booking is cancelled.
    let cancelled = database
        .cancel_booking(bookings[0].id)
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, domain::BookingStatus::Cancelled);
    caught_up(&database, &b, event.id).await;
    assert_eq!(
        status_in_search(&index, &query, event.id).await,
        Some(EventStatus::OnSale),
        "back on sale reached the index"
    );
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_staleness_is_measured() {
    const WRITERS: usize = 4;
    let changes: usize = std::env::var("QUARTET_PG_INDEX_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let rate: u64 = std::env::var("QUARTET_PG_INDEX_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let Some((_db, a, b, data)) = two_replicas("sstale").await else {
        return;
    };
    let writer = std::sync::Arc::new(pgstore::ticketing(a));
    let events: Vec<EventId> = data
        .events
        .iter()
        .filter(|e| e.status == EventStatus::OnSale)
        .take(WRITERS)
        .map(|e| e.id)
        .collect();
    assert_eq!(events.len(), WRITERS);
    let began = Instant::now();
    let tasks: Vec<_> = events
        .iter()
        .enumerate()
        .map(|(w, &id)| {
            let writer = std::sync::Arc::clone(&writer);
            let reader = b.clone();
            let per_writer = changes / WRITERS;
            let period = Duration::from_micros(1_000_000 * WRITERS as u64 / rate.max(1));
            tokio::spawn(async move {
                let mut version = writer.get_seat_map(id).await.expect("map").version;
                let mut ticks = tokio::time::interval(period);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut waits = Vec::with_capacity(per_writer);
                let mut held = None;
                for _ in 0..per_writer {
                    ticks.tick().await;
                    let called = Instant::now();
                    held = match held.take() {
                        None => Some(writer.hold_seats(hold(id, &[7], w)).await.expect("hold").id),
                        Some(booking) => {
                            writer.cancel_booking(booking).await.expect("cancel");
                            None
                        }
                    };
                    let acked = Instant::now();
                    version += 1;
                    let reader = reader.clone();
                    let expected = i64::try_from(version).expect("version");
                    waits.push(tokio::spawn(async move {
                        let index = reader.search_index().expect("index");
                        tokio::time::timeout(DEADLINE, index.wait_for(id.0, expected))
                            .await
                            .expect("searchable within the deadline");
                        let seen = Instant::now();
                        (seen - called, seen.saturating_duration_since(acked))
                    }));
                }
                let mut out = Vec::with_capacity(waits.len());
                for wait in waits {
                    out.push(wait.await.expect("waiter"));
                }
                out
            })
        })
        .collect();
    let mut from_call = Vec::new();
    let mut from_ack = Vec::new();
    for task in tasks {
        for (call, ack) in task.await.expect("writer") {
            from_call.push(call);
            from_ack.push(ack);
        }
    }
    let took = began.elapsed();
    from_call.sort_unstable();
    from_ack.sort_unstable();
    let line = |name: &str, v: &[Duration]| {
        format!(
            "{name}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(v, 50).as_secs_f64() * 1e3,
            percentile(v, 99).as_secs_f64() * 1e3,
            v[v.len() - 1].as_secs_f64() * 1e3
        )
    };
    eprintln!(
        "index staleness, {} changes by {WRITERS} writers on replica A in {:.1} s \
         ({:.0}/s, target {rate}/s), searchable on replica B's index:\n  {}\n  {}",
        from_call.len(),
        took.as_secs_f64(),
        from_call.len() as f64 / took.as_secs_f64(),
        line(
            "write called -> searchable (bounds commit -> searchable above)",
            &from_call
        ),
        line(
            "write acknowledged -> searchable (bounds it below)",
            &from_ack
        ),
    );
    assert!(!from_call.is_empty());
}
