//! `Store::watch`: order, snapshot, resume, retention and lag, on a manual clock and
//! polled without waiting, so every check is deterministic.

use futures::{FutureExt, StreamExt};

use super::tests::{TTL, hold_request, on_sale_event, store};
use super::*;
use crate::ErrorCode;
use crate::clock::ManualClock;
use crate::dataset::Dataset;
use crate::model::{AvailabilityStream, AvailabilityUpdate, SeatChange, UpdateKind};

/// Every message ready now, without waiting for more.
fn ready(stream: &mut AvailabilityStream) -> Vec<AvailabilityUpdate> {
    std::iter::from_fn(|| stream.next().now_or_never().flatten())
        .map(|item| item.unwrap())
        .collect()
}

fn kinds_and_versions(updates: &[AvailabilityUpdate]) -> Vec<(UpdateKind, u64)> {
    updates.iter().map(|u| (u.kind, u.version)).collect()
}

fn seats(pairs: &[(u32, SeatState)]) -> Vec<SeatChange> {
    pairs
        .iter()
        .map(|&(seat, state)| SeatChange {
            seat_id: SeatId(seat),
            state,
        })
        .collect()
}

fn store_with_watch_limits(retained: usize, buffer: usize) -> (Store, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(crate::dataset::epoch()));
    let limits = Limits {
        hold_ttl: TTL,
        watch_retained: retained,
        watch_buffer: buffer,
        ..Limits::default()
    };
    let catalog = Catalog::new(Dataset::generate(50, 9));
    (Store::new(catalog, clock.clone(), &limits), clock)
}

#[test]
fn a_new_subscriber_gets_a_snapshot_then_every_change_in_order() {
    let (store, clock) = store(50);
    let id = on_sale_event(&store, 10);
    let mut stream = store.watch(id, None).unwrap();
    let snapshot = ready(&mut stream);
    assert_eq!(kinds_and_versions(&snapshot), [(UpdateKind::Snapshot, 0)]);
    let detail = store.event_detail(id).unwrap();
    let expected: Vec<(u32, u32)> = detail
        .availability
        .iter()
        .map(|a| (a.section_id, a.available))
        .collect();
    let got: Vec<(u32, u32)> = snapshot[0]
        .sections
        .iter()
        .map(|s| (s.section_id, s.available))
        .collect();
    assert_eq!(got, expected);

    let held = store.hold(&hold_request(id, &[1, 2], None)).unwrap();
    let confirmed = store.hold(&hold_request(id, &[3], None)).unwrap();
    store.confirm(confirmed.id, 1).unwrap();
    clock.advance(TTL);
    store.seat_map(id).unwrap();
    let changes = ready(&mut stream);
    assert_eq!(
        changes
            .iter()
            .map(|c| (c.kind, c.version, c.seats.clone()))
            .collect::<Vec<_>>(),
        vec![
            (
                UpdateKind::Change,
                1,
                seats(&[(1, SeatState::Held), (2, SeatState::Held)])
            ),
            (UpdateKind::Change, 2, seats(&[(3, SeatState::Held)])),
            (UpdateKind::Change, 3, seats(&[(3, SeatState::Sold)])),
            (
                UpdateKind::Change,
                4,
                seats(&[(1, SeatState::Available), (2, SeatState::Available)])
            ),
        ]
    );
    let _ = held;
    // Every change carries the counts after it and the time it was committed.
    let after: u32 = changes[3].sections.iter().map(|s| s.available).sum();
    let before: u32 = snapshot[0].sections.iter().map(|s| s.available).sum();
    assert_eq!(after, before - 1, "seat 3 stays sold");
    assert_eq!(changes[3].committed_at, clock.now());
}

#[test]
fn resuming_from_a_retained_version_replays_exactly_the_later_changes() {
    let (store, _) = store(50);
    let id = on_sale_event(&store, 10);
    let mut first = store.watch(id, None).unwrap();
    for seat in 0..4 {
        store.hold(&hold_request(id, &[seat], None)).unwrap();
    }
    assert_eq!(ready(&mut first).len(), 5);

    let mut resumed = store.watch(id, Some(2)).unwrap();
    assert_eq!(
        kinds_and_versions(&ready(&mut resumed)),
        [(UpdateKind::Change, 3), (UpdateKind::Change, 4)]
    );
    let mut current = store.watch(id, Some(4)).unwrap();
    assert!(ready(&mut current).is_empty(), "nothing new yet");
    store.hold(&hold_request(id, &[5], None)).unwrap();
    assert_eq!(
        kinds_and_versions(&ready(&mut resumed)),
        [(UpdateKind::Change, 5)]
    );
    assert_eq!(
        kinds_and_versions(&ready(&mut current)),
        [(UpdateKind::Change, 5)]
    );
}

#[test]
fn resuming_from_before_what_is_retained_gets_a_snapshot_then_changes() {
    let (store, _) = store_with_watch_limits(2, 256);
    let id = on_sale_event(&store, 10);
    let _watching = store.watch(id, None).unwrap();
    for seat in 0..5 {
        store.hold(&hold_request(id, &[seat], None)).unwrap();
    }
    // Versions 4 and 5 are retained: from 3 replays them, from 2 needs a snapshot.
    let mut from_three = store.watch(id, Some(3)).unwrap();
    assert_eq!(
        kinds_and_versions(&ready(&mut from_three)),
        [(UpdateKind::Change, 4), (UpdateKind::Change, 5)]
    );
    let mut from_two = store.watch(id, Some(2)).unwrap();
    assert_eq!(
        kinds_and_versions(&ready(&mut from_two)),
        [(UpdateKind::Snapshot, 5)]
    );
    store.hold(&hold_request(id, &[6], None)).unwrap();
    assert_eq!(
        kinds_and_versions(&ready(&mut from_two)),
        [(UpdateKind::Change, 6)]
    );
}

#[test]
fn a_subscriber_that_falls_behind_gets_a_resync_and_resuming_loses_nothing() {
    let (store, _) = store_with_watch_limits(128, 4);
    let id = on_sale_event(&store, 20);
    let mut slow = store.watch(id, None).unwrap();
    let mut seen = ready(&mut slow);
    store.hold(&hold_request(id, &[0], None)).unwrap();
    seen.extend(ready(&mut slow));
    // Ten changes while the subscriber reads nothing: more than its buffer of four.
    for seat in 1..11 {
        store.hold(&hold_request(id, &[seat], None)).unwrap();
    }
    let rest = ready(&mut slow);
    assert_eq!(kinds_and_versions(&rest), [(UpdateKind::Resync, 1)]);
    assert!(
        slow.next().now_or_never().flatten().is_none(),
        "the stream ends after a resync"
    );

    seen.extend(ready(&mut store.watch(id, Some(rest[0].version)).unwrap()));
    let versions: Vec<u64> = seen.iter().map(|u| u.version).collect();
    assert_eq!(
        versions,
        (0..=11).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
}

#[test]
fn watching_refuses_unknown_events_and_versions_from_the_future() {
    let (store, _) = store(50);
    let id = on_sale_event(&store, 10);
    store.hold(&hold_request(id, &[0], None)).unwrap();
    let err = store.watch(id, Some(2)).err().unwrap();
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert!(err.to_string().contains("from_version"), "{err}");
    let err = store.watch(EventId(999_999), None).err().unwrap();
    assert_eq!(err.code(), ErrorCode::NotFound);
}
