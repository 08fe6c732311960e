//! The suite's availability-stream checks: a snapshot then every change in order, resume
//! from a retained version or by snapshot, refusals, and a lagging subscriber told so and
//! losing nothing by resuming. Every read has a deadline, so a transport that never sends
//! fails the check instead of hanging it.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::{Options, Suite};
use crate::dataset::DatasetSpec;
use crate::error::ErrorCode;
use crate::model::{
    AvailabilityStream, AvailabilityUpdate, EventId, SeatChange, SeatId, SeatState, UpdateKind,
};
use crate::store::Store;
use crate::ticketing::Ticketing;

/// How long any one message may take to arrive before a check fails.
const DEADLINE: Duration = Duration::from_secs(10);

/// Changes the lag check makes while its subscriber reads nothing: more than any
/// transport buffers on loopback between a server's subscription and its client (the
/// kernel's socket buffers, HTTP/2 windows, a client's queue) divided by the smallest
/// message any protocol sends, so the server's subscription must fall behind.
pub const LAG_CHANGES: usize = 100_000;

/// Runs the availability checks against `api`, which must serve a fresh store generated
/// from `spec` (they write to one event of their own).
///
/// # Panics
/// On the first behaviour that differs from the reference.
pub async fn run_watch(api: Arc<dyn Ticketing>, spec: DatasetSpec, options: Options) {
    let suite = Suite::new(api, spec, options);
    suite
        .watch_sends_a_snapshot_then_every_change_in_order()
        .await;
    suite.watch_resumes_from_a_version_or_a_snapshot().await;
    suite
        .watch_refuses_unknown_events_and_future_versions()
        .await;
    suite
        .a_lagging_watcher_is_told_and_loses_nothing_by_resuming()
        .await;
}

/// Subscribes through `api`, sees the store count the subscriber, drops the stream and
/// sees the store release it: a transport must end its server-side subscription when the
/// client goes away, or every closed browser tab would leak one.
///
/// # Panics
/// If the store does not see the subscriber come and go within the deadline.
pub async fn subscription_is_released_when_dropped(api: &dyn Ticketing, store: &Store) {
    let id = EventId(3);
    let before = store.watchers(id);
    let mut stream = api
        .watch_availability(id, None)
        .await
        .expect("watch_availability");
    let first = next(&mut stream, "first message").await;
    assert_eq!(first.kind, UpdateKind::Snapshot);
    wait_until(
        || store.watchers(id) == before + 1,
        "the subscriber to be counted",
    )
    .await;
    drop(stream);
    wait_until(
        || store.watchers(id) == before,
        "the subscription to be released",
    )
    .await;
}

async fn wait_until(mut condition: impl FnMut() -> bool, what: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {DEADLINE:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn next(stream: &mut AvailabilityStream, what: &str) -> AvailabilityUpdate {
    match tokio::time::timeout(DEADLINE, stream.next()).await {
        Ok(Some(Ok(update))) => update,
        Ok(Some(Err(e))) => panic!("{what}: the stream failed: {e:?}"),
        Ok(None) => panic!("{what}: the stream ended"),
        Err(elapsed) => panic!("{what}: nothing within {DEADLINE:?} ({elapsed})"),
    }
}

fn seat_changes(seats: &[u32], state: SeatState) -> Vec<SeatChange> {
    seats
        .iter()
        .map(|&s| SeatChange {
            seat_id: SeatId(s),
            state,
        })
        .collect()
}

impl Suite {
    /// The event the watch checks write to, touched by no other check.
    fn watched_event(&self) -> EventId {
        self.on_sale[6]
    }

    async fn sections_now(&self, id: EventId) -> Vec<(u32, u32)> {
        let detail = self.api.get_event_detail(id).await.expect("detail");
        detail
            .availability
            .iter()
            .map(|a| (a.section_id, a.available))
            .collect()
    }

    async fn watch(&self, id: EventId, from: Option<u64>) -> AvailabilityStream {
        self.api
            .watch_availability(id, from)
            .await
            .expect("watch_availability")
    }

    pub(super) async fn watch_sends_a_snapshot_then_every_change_in_order(&self) {
        let id = self.watched_event();
        let mut stream = self.watch(id, None).await;
        let snapshot = next(&mut stream, "snapshot").await;
        assert_eq!(
            (snapshot.event_id, snapshot.kind),
            (id, UpdateKind::Snapshot)
        );
        assert!(
            snapshot.seats.is_empty(),
            "a snapshot carries sections only"
        );
        let counts: Vec<(u32, u32)> = snapshot
            .sections
            .iter()
            .map(|s| (s.section_id, s.available))
            .collect();
        assert_eq!(counts, self.sections_now(id).await, "snapshot counts");

        let first = self
            .api
            .hold_seats(Self::hold(id, &[0, 1], 1))
            .await
            .expect("hold");
        let second = self
            .api
            .hold_seats(Self::hold(id, &[2], 1))
            .await
            .expect("hold");
        self.api
            .confirm_booking(first.id, first.version)
            .await
            .expect("confirm");
        self.api.cancel_booking(second.id).await.expect("cancel");
        let expected = [
            seat_changes(&[0, 1], SeatState::Held),
            seat_changes(&[2], SeatState::Held),
            seat_changes(&[0, 1], SeatState::Sold),
            seat_changes(&[2], SeatState::Available),
        ];
        let mut last = None;
        for (n, seats) in (1..).zip(expected) {
            let change = next(&mut stream, "change").await;
            assert_eq!(
                (change.kind, change.version, change.seats),
                (UpdateKind::Change, snapshot.version + n, seats),
                "change {n} after the snapshot"
            );
            assert!(change.committed_at >= snapshot.committed_at - chrono::Duration::seconds(1));
            last = Some(change.sections);
        }
        let counts: Vec<(u32, u32)> = last
            .unwrap_or_default()
            .iter()
            .map(|s| (s.section_id, s.available))
            .collect();
        assert_eq!(
            counts,
            self.sections_now(id).await,
            "counts after the last change"
        );
    }

    pub(super) async fn watch_resumes_from_a_version_or_a_snapshot(&self) {
        let id = self.watched_event();
        let mut live = self.watch(id, None).await;
        let at = next(&mut live, "snapshot").await.version;
        let held = self
            .api
            .hold_seats(Self::hold(id, &[5], 2))
            .await
            .expect("hold");
        self.api.cancel_booking(held.id).await.expect("cancel");

        for n in 1..=2 {
            assert_eq!(next(&mut live, "live change").await.version, at + n);
        }

        let mut resumed = self.watch(id, Some(at + 1)).await;
        let replayed = next(&mut resumed, "replayed change").await;
        assert_eq!(
            (replayed.kind, replayed.version, replayed.seats),
            (
                UpdateKind::Change,
                at + 2,
                seat_changes(&[5], SeatState::Available)
            ),
            "resuming from a retained version replays exactly what came after it"
        );
        // Both subscribers then see the same next change, once.
        let held = self
            .api
            .hold_seats(Self::hold(id, &[6], 2))
            .await
            .expect("hold");
        for (name, stream) in [("live", &mut live), ("resumed", &mut resumed)] {
            let change = next(stream, "next live change").await;
            assert_eq!(
                (change.kind, change.version),
                (UpdateKind::Change, at + 3),
                "{name}"
            );
        }
        self.api.cancel_booking(held.id).await.expect("cancel");
        let current = next(&mut live, "cancel").await.version;

        // Past what the store retains, a resume starts from a snapshot of now.
        let retained = crate::Limits::WATCH_RETAINED as u64;
        for _ in 0..=retained.div_ceil(2) {
            let held = self
                .api
                .hold_seats(Self::hold(id, &[7], 2))
                .await
                .expect("hold");
            self.api.cancel_booking(held.id).await.expect("cancel");
        }
        let now = current + 2 * (retained.div_ceil(2) + 1);
        let mut stale = self.watch(id, Some(current)).await;
        let snapshot = next(&mut stale, "snapshot for a stale version").await;
        assert_eq!(
            (snapshot.kind, snapshot.version),
            (UpdateKind::Snapshot, now)
        );
    }

    pub(super) async fn watch_refuses_unknown_events_and_future_versions(&self) {
        let missing = EventId(self.data.events.len() as u64 + 1);
        self.expect_err(
            "watch of a missing event",
            self.api.watch_availability(missing, None).await.map(|_| ()),
            ErrorCode::NotFound,
        );
        let id = self.watched_event();
        let mut stream = self.watch(id, None).await;
        let version = next(&mut stream, "snapshot").await.version;
        let err = self.expect_err(
            "watch from a future version",
            self.api
                .watch_availability(id, Some(version + 1))
                .await
                .map(|_| ()),
            ErrorCode::InvalidArgument,
        );
        assert!(err.to_string().contains("from_version"), "{err}");
    }

    pub(super) async fn a_lagging_watcher_is_told_and_loses_nothing_by_resuming(&self) {
        let Some(writer) = self.options.writer.clone() else {
            eprintln!("conformance: SKIPPED the lag check: no in-process writer given");
            return;
        };
        let id = self.on_sale[7];
        let mut slow = self.watch(id, None).await;
        let start = next(&mut slow, "snapshot").await.version;
        // Hold and cancel one seat LAG_CHANGES / 2 times while `slow` reads nothing.
        for _ in 0..LAG_CHANGES / 2 {
            let held = writer
                .hold_seats(Self::hold(id, &[3], 3))
                .await
                .expect("hold");
            writer.cancel_booking(held.id).await.expect("cancel");
        }
        let end = start + (LAG_CHANGES / 2 * 2) as u64;
        let mut seen = start;
        let resync = loop {
            let update = next(&mut slow, "buffered change or resync").await;
            match update.kind {
                UpdateKind::Change => {
                    assert_eq!(update.version, seen + 1, "no gap before the resync");
                    seen = update.version;
                }
                UpdateKind::Resync => break update,
                UpdateKind::Snapshot => panic!("a snapshot in the middle of a live stream"),
            }
            assert!(seen < end, "{LAG_CHANGES} changes passed without a resync");
        };
        assert_eq!(
            resync.version, seen,
            "the resync names the last version sent"
        );
        match tokio::time::timeout(DEADLINE, slow.next()).await {
            Ok(None) => {}
            other => panic!("the stream must end after a resync, got {other:?}"),
        }
        let mut resumed = self.watch(id, Some(seen)).await;
        let first = next(&mut resumed, "after resuming").await;
        match first.kind {
            UpdateKind::Snapshot => assert_eq!(first.version, end),
            UpdateKind::Change => assert_eq!(first.version, seen + 1),
            UpdateKind::Resync => panic!("a resync as the first message"),
        }
    }
}
