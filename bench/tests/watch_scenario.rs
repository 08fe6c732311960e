//! The `watch` scenario's runner over the in-process service: every normal subscriber
//! gets every change once and in order, and a deliberately slow one is resynced
//! without gaps and without costing the others a single message.

use std::sync::Arc;
use std::time::Duration;

use bench::watch::{self, WatchPlan};
use domain::{DatasetSpec, EventStatus, Limits, SeatId, Service, SharedTicketing};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_get_every_change_and_a_slow_one_is_resynced_without_hurting_them() {
    let spec = DatasetSpec {
        events: 50,
        seed: 3,
    };
    // A small subscriber buffer, so the slow subscriber falls behind within the window.
    let limits = Limits {
        watch_buffer: 16,
        watch_retained: 8,
        ..Limits::default()
    };
    let service = Service::generate(spec, limits);
    let event = service
        .store()
        .catalog()
        .dataset()
        .events
        .iter()
        .find(|e| e.status == EventStatus::OnSale)
        .map(|e| e.id)
        .unwrap();
    let api: SharedTicketing = Arc::new(service);
    let plan = WatchPlan {
        event,
        subscribers: 10,
        rate: 500.0,
        duration: Duration::from_millis(600),
        // 50 messages a second against 500 changes a second: it must fall behind.
        slow_subscriber: Some(Duration::from_millis(20)),
    };
    let seats = [SeatId(0), SeatId(1), SeatId(2)];
    let outcome = watch::run(std::slice::from_ref(&api), api.clone(), &seats, plan)
        .await
        .unwrap();

    assert!(outcome.changes > 100, "the writer wrote: {outcome:?}");
    assert_eq!(outcome.write_errors, 0);
    let all = &outcome.all;
    assert_eq!(all.subscribers, 10);
    assert_eq!(
        (
            all.delivered,
            all.missing,
            all.gaps,
            all.resyncs,
            all.errors
        ),
        (10 * outcome.changes, 0, 0, 0, 0),
        "{all:?}"
    );
    assert_eq!(all.latency.len(), all.delivered);
    let slow = outcome.slow.as_ref().unwrap();
    assert!(
        slow.resyncs >= 1,
        "the slow subscriber was told it fell behind: {slow:?}"
    );
    assert_eq!((slow.gaps, slow.errors), (0, 0), "{slow:?}");
    assert!(slow.delivered < outcome.changes);
}
