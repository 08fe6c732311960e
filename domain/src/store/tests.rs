//! Unit tests of the in-memory store: the hold, confirm and cancel lifecycle, versions,
//! lazy expiry on a manual clock, idempotency, retention, concurrent holds, a property
//! test of random operation sequences, and booking ids; plus the helpers other store
//! tests share (`store`, `on_sale_event`, `hold_request`).

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::Limits;
use crate::clock::ManualClock;
use crate::dataset::{Dataset, epoch};
use crate::model::{Customer, EventStatus};

pub(super) const TTL: Duration = Duration::from_secs(600);

pub(super) fn store(events: u32) -> (Store, Arc<ManualClock>) {
    store_keeping(events, 4_096)
}

pub(super) fn store_keeping(events: u32, finished_kept: usize) -> (Store, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(epoch()));
    let catalog = Catalog::new(Dataset::generate(events, 9));
    let limits = Limits {
        hold_ttl: TTL,
        finished_bookings_per_event: finished_kept,
        ..Limits::default()
    };
    (Store::new(catalog, clock.clone(), &limits), clock)
}

/// The first on-sale event whose venue has at least `seats` seats.
pub(super) fn on_sale_event(store: &Store, seats: u32) -> EventId {
    let d = store.catalog().dataset();
    d.events
        .iter()
        .find(|e| {
            e.status == EventStatus::OnSale
                && d.venues[(e.venue_id.0 - 1) as usize].capacity >= seats
        })
        .map(|e| e.id)
        .unwrap()
}

pub(super) fn hold_request(event_id: EventId, seats: &[u32], key: Option<&str>) -> HoldRequest {
    HoldRequest {
        event_id,
        seat_ids: seats.iter().map(|&s| SeatId(s)).collect(),
        customer: Customer {
            name: "Ada Lovelace".into(),
            email: "ada@example.org".into(),
        },
        idempotency_key: key.map(str::to_owned),
    }
}

#[test]
fn untouched_events_have_no_inventory() {
    let (store, _) = store(50);
    let id = on_sale_event(&store, 10);
    store.event(id).unwrap();
    let map = store.seat_map(id).unwrap();
    store.event_detail(id).unwrap();
    assert_eq!(map.version, 0);
    assert!(map.seats.iter().all(|s| s.state == SeatState::Available));
    assert!(
        store.existing_inventory(id).is_none(),
        "reads must not materialise seat state"
    );
}

#[test]
fn hold_confirm_cancel_lifecycle_moves_seats_and_versions() {
    let (store, _) = store(50);
    let id = on_sale_event(&store, 10);
    let held = store.hold(&hold_request(id, &[3, 1], None)).unwrap();
    assert_eq!(held.seat_ids, [SeatId(1), SeatId(3)]);
    assert_eq!((held.status, held.version), (BookingStatus::Held, 1));
    let map = store.seat_map(id).unwrap();
    assert_eq!(map.version, 1);
    assert_eq!(map.seats[1].state, SeatState::Held);
    assert_eq!(map.seats[2].state, SeatState::Available);
    let expected_total: i64 = [1usize, 3].iter().map(|&s| map.seats[s].price_cents).sum();
    assert_eq!(held.total_cents, expected_total);

    let stale = store.confirm(held.id, 7).unwrap_err();
    assert_eq!(
        stale,
        Error::VersionMismatch {
            expected: 7,
            actual: 1
        }
    );
    assert_eq!(
        store.booking(held.id).unwrap(),
        held,
        "a stale confirm changes nothing"
    );

    let confirmed = store.confirm(held.id, 1).unwrap();
    assert_eq!(
        (confirmed.status, confirmed.version),
        (BookingStatus::Confirmed, 2)
    );
    assert_eq!(store.seat_map(id).unwrap().seats[3].state, SeatState::Sold);
    let again = store.confirm(held.id, 2).unwrap_err();
    assert_eq!(again.code(), crate::ErrorCode::InvalidState);

    let cancelled = store.cancel(held.id).unwrap();
    assert_eq!(
        (cancelled.status, cancelled.version),
        (BookingStatus::Cancelled, 3)
    );
    let map = store.seat_map(id).unwrap();
    assert_eq!(map.version, 3);
    assert!(map.seats.iter().all(|s| s.state == SeatState::Available));
    assert_eq!(
        store.cancel(held.id).unwrap_err().code(),
        crate::ErrorCode::InvalidState
    );
    store.audit(id).unwrap();
}

#[test]
fn a_hold_is_all_or_nothing() {
    let (store, _) = store(50);
    let id = on_sale_event(&store, 10);
    store.hold(&hold_request(id, &[2, 4], None)).unwrap();
    let err = store
        .hold(&hold_request(id, &[1, 2, 3, 4], None))
        .unwrap_err();
    assert_eq!(
        err,
        Error::SeatsUnavailable {
            seats: vec![SeatId(2), SeatId(4)]
        }
    );
    let map = store.seat_map(id).unwrap();
    assert_eq!(
        map.seats[1].state,
        SeatState::Available,
        "seat 1 must not be held"
    );
    assert_eq!(
        map.seats[3].state,
        SeatState::Available,
        "seat 3 must not be held"
    );
}

#[test]
fn holds_expire_lazily_without_sleeping() {
    let (store, clock) = store(50);
    let id = on_sale_event(&store, 10);
    let held = store.hold(&hold_request(id, &[0], None)).unwrap();
    assert_eq!(
        held.expires_at,
        held.created_at + chrono::Duration::from_std(TTL).unwrap()
    );
    clock.advance(TTL.checked_sub(Duration::from_secs(1)).unwrap());
    assert_eq!(store.booking(held.id).unwrap().status, BookingStatus::Held);
    clock.advance(Duration::from_secs(1));
    let expired = store.booking(held.id).unwrap();
    assert_eq!(
        (expired.status, expired.version),
        (BookingStatus::Expired, 2)
    );
    assert_eq!(
        store.seat_map(id).unwrap().seats[0].state,
        SeatState::Available
    );
    // The holder's copy is stale now; with the current version the state is what refuses.
    assert_eq!(
        store.confirm(held.id, 1).unwrap_err().code(),
        crate::ErrorCode::VersionMismatch
    );
    assert_eq!(
        store.confirm(held.id, 2).unwrap_err().code(),
        crate::ErrorCode::InvalidState
    );
    // Someone else can take the seat.
    store.hold(&hold_request(id, &[0], None)).unwrap();
    store.audit(id).unwrap();
}

#[test]
fn sold_out_is_derived_and_clears_when_a_hold_lapses() {
    let (store, clock) = store(200);
    let d = store.catalog().dataset();
    let event = d
        .events
        .iter()
        .find(|e| e.status == EventStatus::OnSale)
        .unwrap()
        .clone();
    let capacity = d.venues[(event.venue_id.0 - 1) as usize].capacity;
    let seats: Vec<u32> = (0..capacity).collect();
    for chunk in seats.chunks(8) {
        store.hold(&hold_request(event.id, chunk, None)).unwrap();
    }
    assert_eq!(store.event(event.id).unwrap().status, EventStatus::SoldOut);
    clock.advance(TTL);
    assert_eq!(store.event(event.id).unwrap().status, EventStatus::OnSale);
}

#[test]
fn idempotency_key_returns_the_same_booking() {
    let (store, _) = store(50);
    let id = on_sale_event(&store, 10);
    let first = store.hold(&hold_request(id, &[5, 6], Some("k-1"))).unwrap();
    let retry = store.hold(&hold_request(id, &[6, 5], Some("k-1"))).unwrap();
    assert_eq!(first, retry);
    let other = store
        .hold(&hold_request(id, &[7], Some("k-1")))
        .unwrap_err();
    assert_eq!(other.code(), crate::ErrorCode::InvalidArgument);
    assert_eq!(store.bookings_of(id).len(), 1);
    store.cancel(first.id).unwrap();
    let after_cancel = store.hold(&hold_request(id, &[5, 6], Some("k-1"))).unwrap();
    assert_eq!(
        after_cancel.status,
        BookingStatus::Cancelled,
        "a retry reports, never re-holds"
    );
}

#[test]
fn finished_bookings_beyond_the_retention_are_forgotten_with_their_keys() {
    let (store, _) = store_keeping(50, 2);
    let id = on_sale_event(&store, 10);
    let made: Vec<Booking> = (0..4)
        .map(|i| {
            let key = format!("key-{i}");
            let b = store.hold(&hold_request(id, &[i], Some(&key))).unwrap();
            store.cancel(b.id).unwrap()
        })
        .collect();
    let live = store.hold(&hold_request(id, &[9], None)).unwrap();
    for old in &made[..2] {
        assert_eq!(
            store.booking(old.id).unwrap_err().code(),
            crate::ErrorCode::NotFound
        );
        assert!(
            store.booking_events.get(&old.id).is_none(),
            "index entry dropped"
        );
    }
    for kept in &made[2..] {
        assert_eq!(store.booking(kept.id).unwrap(), *kept);
    }
    assert_eq!(
        store.booking(live.id).unwrap(),
        live,
        "live bookings are never forgotten"
    );
    // A forgotten booking's key is free again; a kept one still answers with its booking.
    let reused = store.hold(&hold_request(id, &[0], Some("key-0"))).unwrap();
    assert_eq!(reused.status, BookingStatus::Held);
    let kept = store.hold(&hold_request(id, &[3], Some("key-3"))).unwrap();
    assert_eq!(kept, made[3]);
    store.audit(id).unwrap();
}

#[test]
fn holds_are_refused_unless_on_sale_and_seats_exist() {
    let (store, _) = store(400);
    let d = store.catalog().dataset();
    let not_on_sale = d
        .events
        .iter()
        .find(|e| e.status != EventStatus::OnSale)
        .unwrap();
    let err = store
        .hold(&hold_request(not_on_sale.id, &[0], None))
        .unwrap_err();
    assert_eq!(err.code(), crate::ErrorCode::InvalidState);
    let id = on_sale_event(&store, 1);
    let capacity = store.seat_map(id).unwrap().seats.len() as u32;
    let err = store
        .hold(&hold_request(id, &[capacity], None))
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidArgument { ref field, .. } if field == "seat_ids"),
        "{err:?}"
    );
    assert_eq!(
        store
            .hold(&hold_request(EventId(0), &[0], None))
            .unwrap_err()
            .code(),
        crate::ErrorCode::NotFound
    );
    assert_eq!(
        store.booking(BookingId(999)).unwrap_err().code(),
        crate::ErrorCode::NotFound
    );
}

#[test]
fn concurrent_holds_of_one_seat_have_one_winner() {
    let (store, _) = store(50);
    let store = Arc::new(store);
    let id = on_sale_event(&store, 10);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || store.hold(&hold_request(id, &[4, 5], None)))
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(
            r,
            &Error::SeatsUnavailable {
                seats: vec![SeatId(4), SeatId(5)]
            }
        );
    }
    store.audit(id).unwrap();
}

/// One step of a random history.
#[derive(Debug, Clone)]
enum Op {
    Hold { event: usize, seats: Vec<u32> },
    Confirm { booking: usize, stale: bool },
    Cancel { booking: usize },
    Advance { minutes: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, prop::collection::vec(0..12u32, 1..4))
            .prop_map(|(event, seats)| Op::Hold { event, seats }),
        2 => (0..64usize, any::<bool>()).prop_map(|(booking, stale)| Op::Confirm { booking, stale }),
        2 => (0..64usize).prop_map(|booking| Op::Cancel { booking }),
        1 => (1..8u64).prop_map(|minutes| Op::Advance { minutes }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Under any history of holds, confirms, cancels and expiries, no seat is ever in two
    /// live bookings and the seat map agrees with the bookings.
    #[test]
    fn seat_map_always_agrees_with_bookings(ops in prop::collection::vec(op(), 1..60)) {
        let (store, clock) = store(50);
        let d = store.catalog().dataset();
        let events: Vec<EventId> = d
            .events
            .iter()
            .filter(|e| e.status == EventStatus::OnSale && d.venues[(e.venue_id.0 - 1) as usize].capacity >= 12)
            .take(2)
            .map(|e| e.id)
            .collect();
        let mut made: Vec<Booking> = Vec::new();
        for op in ops {
            match op {
                Op::Hold { event, mut seats } => {
                    seats.sort_unstable();
                    seats.dedup();
                    if let Ok(b) = store.hold(&hold_request(events[event], &seats, None)) {
                        made.push(b);
                    }
                }
                Op::Confirm { booking, stale } => {
                    if let Some(b) = made.get(booking % made.len().max(1)) {
                        let current = store.booking(b.id).unwrap();
                        let version = if stale { current.version + 1 } else { current.version };
                        let result = store.confirm(b.id, version);
                        if stale {
                            prop_assert_eq!(result.unwrap_err().code(), crate::ErrorCode::VersionMismatch);
                            prop_assert_eq!(store.booking(b.id).unwrap(), current);
                        } else {
                            prop_assert_eq!(result.is_ok(), current.status == BookingStatus::Held);
                        }
                    }
                }
                Op::Cancel { booking } => {
                    if let Some(b) = made.get(booking % made.len().max(1)) {
                        let current = store.booking(b.id).unwrap();
                        prop_assert_eq!(store.cancel(b.id).is_ok(), current.status.is_live());
                    }
                }
                Op::Advance { minutes } => clock.advance(Duration::from_secs(minutes * 60)),
            }
            for &e in &events {
                prop_assert_eq!(store.audit(e), Ok(()));
                // The public seat map tells the same story as the bookings.
                let map = store.seat_map(e).unwrap();
                for b in store.bookings_of(e) {
                    let want = match b.status {
                        BookingStatus::Held => Some(SeatState::Held),
                        BookingStatus::Confirmed => Some(SeatState::Sold),
                        _ => None,
                    };
                    if let Some(want) = want {
                        for s in &b.seat_ids {
                            prop_assert_eq!(map.seats[s.0 as usize].state, want);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn booking_ids_are_unique_unordered_and_show_no_gaps() {
    let (store, _) = store(50);
    let event = on_sale_event(&store, 10);
    let mut ids = Vec::new();
    for i in 0..2_000u32 {
        let held = store.hold(&hold_request(event, &[1], None)).unwrap();
        if i % 3 == 0 {
            // A failed hold (the seat is taken) takes a counter number too.
            store.hold(&hold_request(event, &[1], None)).unwrap_err();
        }
        store.cancel(held.id).unwrap();
        ids.push(held.id.0);
    }
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an id was given twice");
    let rises = ids.windows(2).filter(|w| w[1] > w[0]).count();
    assert!(
        (700..1_300).contains(&rises),
        "{rises} rises of 1 999: ordered ids"
    );
    // A counter's neighbours differ by 1, or 2 after a failed hold; these by about as
    // much as random numbers below 2^53 do, so neither the count nor a failure shows.
    let closest = ids.windows(2).map(|w| w[0].abs_diff(w[1])).min().unwrap();
    assert!(closest > 1 << 20, "neighbours {closest} apart");
    assert!(
        ids.iter()
            .all(|&id| (1..crate::booking_ids::ID_LIMIT).contains(&id))
    );
}

#[test]
fn two_stores_give_different_ids() {
    let (a, _) = store(50);
    let (b, _) = store(50);
    let event = on_sale_event(&a, 10);
    let first = a.hold(&hold_request(event, &[1], None)).unwrap();
    let second = b.hold(&hold_request(event, &[1], None)).unwrap();
    assert_ne!(first.id, second.id, "the key is not random per store");
}
