//! The `watch` scenario's writer: holds and cancels seats of the watched event at a fixed
//! rate, each call one committed inventory change, through a protocol's client.

use std::time::{Duration, Instant};

use domain::{BookingId, Customer, EventId, HoldRequest, SeatId, SharedTicketing};
use tokio::time::MissedTickBehavior;

/// What the writer did.
#[derive(Debug, Default)]
pub struct Written {
    /// Changes committed (holds and cancels that succeeded).
    pub changes: u64,
    /// Calls that failed.
    pub errors: u64,
    /// The first failure.
    pub first_error: Option<String>,
    /// How long it wrote.
    pub elapsed: Duration,
}

/// Alternately holds one of `seats` and cancels that hold, `rate` changes a second, for
/// `duration` (at most `rate * duration` changes, so the loop is bounded in count and time).
pub async fn write(
    api: SharedTicketing,
    event: EventId,
    seats: &[SeatId],
    rate: f64,
    duration: Duration,
) -> Written {
    let mut written = Written::default();
    if seats.is_empty() || rate <= 0.0 {
        return written;
    }
    let period = Duration::from_secs_f64(1.0 / rate);
    let budget = (rate * duration.as_secs_f64()).ceil() as u64;
    let mut ticker = tokio::time::interval(period);
    // Catch up after a slow call, so the rate asked for is the rate delivered on average.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let start = Instant::now();
    let mut held: Option<BookingId> = None;
    let mut next_seat = 0usize;
    for _ in 0..budget {
        ticker.tick().await;
        if start.elapsed() > duration + Duration::from_secs(1) {
            break;
        }
        let outcome = if let Some(booking) = held.take() {
            api.cancel_booking(booking).await.map(|_| ())
        } else {
            let seat = seats[next_seat % seats.len()];
            next_seat += 1;
            api.hold_seats(HoldRequest {
                event_id: event,
                seat_ids: vec![seat],
                customer: Customer {
                    name: "Watch Writer".to_owned(),
                    email: "watch-writer@example.org".to_owned(),
                },
                idempotency_key: None,
            })
            .await
            .map(|booking| held = Some(booking.id))
        };
        match outcome {
            Ok(()) => written.changes += 1,
            Err(e) => {
                written.errors += 1;
                written.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    if let Some(booking) = held
        && api.cancel_booking(booking).await.is_ok()
    {
        written.changes += 1;
    }
    written.elapsed = start.elapsed();
    written
}
