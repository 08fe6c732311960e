//! The PostgreSQL store's own behaviour: lapsed holds, loading, partitions, racing holds,
//! and the database going away.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{
    Backend, BookingStatus, Customer, Dataset, DatasetSpec, ErrorCode, EventId, EventStatus,
    HoldRequest, ManualClock, SeatId, SeatState, Ticketing, dataset::epoch,
};
use pgstore::{PgConfig, PgStore, SetupError};

const SPEC: DatasetSpec = DatasetSpec {
    events: 60,
    seed: 3,
};

fn on_sale(data: &Dataset) -> EventId {
    data.events
        .iter()
        .find(|e| e.status == EventStatus::OnSale)
        .map(|e| e.id)
        .expect("an on-sale event")
}

fn hold(event_id: EventId, seats: &[u32], n: usize) -> HoldRequest {
    HoldRequest {
        event_id,
        seat_ids: seats.iter().map(|&s| SeatId(s)).collect(),
        customer: Customer {
            name: format!("Racer {n}"),
            email: format!("racer{n}@example.org"),
        },
        idempotency_key: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_hold_reads_expired_and_its_seats_are_taken_over() {
    let Some(db) = common::TestSchema::new("expiry").await else {
        return;
    };
    let clock = Arc::new(ManualClock::new(epoch()));
    let store = PgStore::connect_with_clock(&db.config, clock.clone())
        .await
        .expect("connect");
    let data = Dataset::from_spec(SPEC);
    pgstore::load(&store, &data, false).await.expect("load");
    let api = pgstore::ticketing(store.clone());
    let id = on_sale(&data);

    let first = api.hold_seats(hold(id, &[3, 4], 1)).await.expect("hold");
    clock.advance(Duration::from_secs(601));
    let lapsed = api.get_booking(first.id).await.expect("booking");
    assert_eq!((lapsed.status, lapsed.version), (BookingStatus::Expired, 2));
    let map = api.get_seat_map(id).await.expect("map");
    assert_eq!(map.version, 2, "the expiry counts as a change");
    assert_eq!(map.seats[3].state, SeatState::Available);
    assert_eq!(
        api.confirm_booking(first.id, 2).await.unwrap_err().code(),
        ErrorCode::InvalidState
    );

    let second = api
        .hold_seats(hold(id, &[4, 5], 2))
        .await
        .expect("take over");
    assert_eq!(second.seat_ids, [SeatId(4), SeatId(5)]);
    let map = api.get_seat_map(id).await.expect("map");
    assert_eq!(map.version, 3, "expiry written, then the hold");
    assert_eq!(
        [map.seats[3].state, map.seats[4].state, map.seats[5].state],
        [SeatState::Available, SeatState::Held, SeatState::Held]
    );
    assert_eq!(
        api.get_booking(first.id).await.expect("old").status,
        BookingStatus::Expired
    );
    store.audit(id).await.expect("audit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_refuses_a_non_empty_schema_unless_told() {
    let Some(db) = common::TestSchema::new("load").await else {
        return;
    };
    let store = PgStore::connect(&db.config).await.expect("connect");
    let data = Dataset::from_spec(SPEC);
    pgstore::load(&store, &data, false).await.expect("load");
    let again = pgstore::load(&store, &data, false).await;
    assert!(
        matches!(again, Err(SetupError::NotEmpty { events: 60, .. })),
        "{again:?}"
    );
    let api = pgstore::ticketing(store.clone());
    let id = on_sale(&data);
    api.hold_seats(hold(id, &[0], 1)).await.expect("hold");
    assert_eq!(
        pgstore::load(&store, &data, true).await.expect("replace"),
        60
    );
    let map = api.get_seat_map(id).await.expect("map");
    assert_eq!(map.version, 0, "replacing empties the bookings too");
    // Migrating again is a no-op; another partition count diverges and is refused.
    PgStore::connect(&db.config).await.expect("migrate again");
    let mut other = db.config.clone();
    other.partitions = 4;
    assert!(PgStore::connect(&other).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_is_hash_partitioned_and_an_event_reads_one_partition() {
    let Some(mut db) = common::TestSchema::new("parts").await else {
        return;
    };
    db.config.partitions = 5;
    let store = PgStore::connect(&db.config).await.expect("connect");
    let client = store.pool().get().await.expect("client");
    let parts: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = 'seat_claims' AND n.nspname = $1",
            &[&db.config.schema],
        )
        .await
        .expect("partitions")
        .get(0);
    assert_eq!(parts, 5);
    let plan: Vec<String> = client
        .query(
            "EXPLAIN SELECT seat_id FROM seat_claims WHERE event_id = 42",
            &[],
        )
        .await
        .expect("explain")
        .iter()
        .map(|r| r.get(0))
        .collect();
    let plan = plan.join("\n");
    let touched = (0..5)
        .filter(|p| plan.contains(&format!("seat_claims_p{p} ")))
        .count();
    assert_eq!(touched, 1, "{plan}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_holds_confirms_and_cancels_never_double_book() {
    let Some(db) = common::TestSchema::new("race").await else {
        return;
    };
    let store = PgStore::connect(&db.config).await.expect("connect");
    let data = Dataset::from_spec(SPEC);
    pgstore::load(&store, &data, false).await.expect("load");
    let api: Arc<dyn Ticketing> = Arc::new(pgstore::ticketing(store.clone()));
    let id = on_sale(&data);
    let tasks: Vec<_> = (0..24)
        .map(|n| {
            let api = Arc::clone(&api);
            tokio::spawn(async move {
                // Overlapping windows of seats, so most pairs of racers collide.
                let base = (n % 6) as u32;
                let mut confirmed = 0;
                for round in 0..5u32 {
                    let seats = [base + round, base + round + 1, base + round + 2];
                    match api.hold_seats(hold(id, &seats, n)).await {
                        Ok(b) => {
                            if n % 2 == 0 {
                                api.confirm_booking(b.id, b.version).await.expect("confirm");
                                confirmed += 1;
                            } else {
                                api.cancel_booking(b.id).await.expect("cancel");
                            }
                        }
                        Err(e) => assert_eq!(e.code(), ErrorCode::SeatsUnavailable, "{e:?}"),
                    }
                }
                confirmed
            })
        })
        .collect();
    let mut confirmed = 0;
    for task in tasks {
        confirmed += task.await.expect("racer");
    }
    store.audit(id).await.expect("no seat in two live bookings");
    let map = api.get_seat_map(id).await.expect("map");
    let sold = map
        .seats
        .iter()
        .filter(|s| s.state == SeatState::Sold)
        .count();
    assert_eq!(
        sold,
        confirmed * 3,
        "every confirmed booking's seats are sold"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_answers_unavailable_within_the_timeout() {
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let mut config = PgConfig::new(
        format!("postgres://postgres@127.0.0.1:{port}/test"),
        "quartet_unreachable",
    );
    config.checkout_timeout = Duration::from_millis(500);
    config.connect_timeout = Duration::from_millis(500);
    config.statement_timeout = Duration::from_millis(500);
    let store = PgStore::lazy(&config, Arc::new(domain::SystemClock)).expect("a lazy pool builds");
    let started = Instant::now();
    let e = store.event(EventId(1)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Unavailable, "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let api = pgstore::ticketing(store);
    let e = api.hold_seats(hold(EventId(1), &[0], 1)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Unavailable, "{e:?}");
    assert!(matches!(
        PgStore::connect(&config).await,
        Err(SetupError::Pool(_))
    ));
}

/// One client's sequential calls keep reusing the connection returned last, whatever
/// else the pool has open (a burst, the sweeper, the pruner): deadpool's default
/// first-in-first-out would rotate them through every PostgreSQL backend, each colder
/// than the last (at 1 client after 32, twice the get_event latency).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_checkouts_reuse_the_connection_returned_last() {
    let Some(schema) = common::TestSchema::new("lifo").await else {
        return;
    };
    let mut config = schema.config.clone();
    config.sweep_interval = None;
    let store = PgStore::connect(&config).await.unwrap();
    let pool = store.pool();
    // Four connections open at once, then all idle again.
    let burst: Vec<_> = futures::future::join_all((0..4).map(|_| pool.get()))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let mut pids = std::collections::BTreeSet::new();
    for client in &burst {
        let row = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap();
        pids.insert(row.get::<_, i32>(0));
    }
    assert_eq!(pids.len(), 4, "the burst opened four backends");
    drop(burst);
    let mut used = std::collections::BTreeSet::new();
    for _ in 0..8 {
        let client = pool.get().await.unwrap();
        let row = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .unwrap();
        used.insert(row.get::<_, i32>(0));
    }
    // First in first out would use all four; one is exact, two allows the pruner (first
    // run 10 s after start) taking the idle connection once on a slow machine.
    assert!(used.len() <= 2, "sequential calls used backends {used:?}");
}
