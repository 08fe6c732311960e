//! One torture client: a seeded random walk over holds, confirms, cancels and reads of
//! the run's seats through any `Ticketing`, recording every call it makes.
//!
//! A client remembers the bookings it was given (at most two live, and the last one it
//! finished) so it can confirm and cancel them; now and then it confirms with a version
//! it knows is wrong or writes to a finished booking, so refusals are in the history
//! too. What it does next depends on its seed and on the answers it got, never on
//! timing; a call with no answer within the timeout is recorded as indeterminate and the
//! client carries on.
//!
//! What is not here: starting clients and merging their logs ([`super::run`]).

use std::future::Future;
use std::time::Duration;

use domain::{BookingId, Customer, HoldRequest, SeatId, SharedTicketing};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::history::{BookingView, Call, ClientId, Clock, Entry, Outcome};
use super::run::Workload;

/// Most live bookings a client keeps at once.
const MAX_LIVE: usize = 2;

/// A booking this client was given.
#[derive(Debug, Clone, Copy)]
struct Mine {
    booking: BookingId,
    seat: SeatId,
    /// Its version, while the client knows it (not after an indeterminate confirm).
    version: Option<u64>,
    confirmed: bool,
}

/// What the client does next.
#[derive(Debug, Clone, Copy)]
enum Action {
    Hold(SeatId),
    Confirm { mine: Mine, wrong_version: bool },
    Cancel(Mine),
    GetBooking(Mine),
    ReadMap,
}

/// A client and its log.
pub struct Client {
    id: ClientId,
    api: SharedTicketing,
    clock: Clock,
    rng: ChaCha8Rng,
    customer: Customer,
    live: Vec<Mine>,
    finished: Option<Mine>,
    log: Vec<Entry>,
}

impl Client {
    /// A client `id` calling `api`, its choices drawn from `seed`.
    pub fn new(id: ClientId, api: SharedTicketing, clock: Clock, seed: u64) -> Self {
        let protocol_number = crate::protocol::Protocol::APIS
            .iter()
            .position(|p| *p == id.protocol)
            .unwrap_or(0) as u64;
        // One independent stream per client, the same for the same seed.
        let stream =
            seed ^ ((protocol_number << 32) | id.index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Client {
            id,
            api,
            clock,
            rng: ChaCha8Rng::seed_from_u64(stream),
            customer: Customer {
                name: format!("Torture client {id}"),
                email: format!("{}-{}@torture.example.com", id.protocol, id.index),
            },
            live: Vec::new(),
            finished: None,
            log: Vec::new(),
        }
    }

    /// Makes calls until `workload`'s count or time runs out; returns what it recorded.
    pub async fn run(mut self, workload: &Workload) -> Vec<Entry> {
        while self.log.len() < workload.ops_per_client && self.clock.now() < workload.duration {
            let action = self.choose(&workload.seats);
            self.perform(action, workload).await;
        }
        self.log
    }

    fn choose(&mut self, seats: &[SeatId]) -> Action {
        let seat = seats[self.rng.random_range(0..seats.len())];
        let roll = self.rng.random_range(0..100u32);
        let Some(&mine) = self
            .live
            .get(self.rng.random_range(0..self.live.len().max(1)))
        else {
            return match (roll, self.finished) {
                (0..55, _) | (80.., None) => Action::Hold(seat),
                (55..80, _) => Action::ReadMap,
                (80..90, Some(old)) => Action::Confirm {
                    mine: old,
                    wrong_version: false,
                },
                (_, Some(old)) if roll < 95 => Action::Cancel(old),
                (_, Some(old)) => Action::GetBooking(old),
            };
        };
        let confirmable = !mine.confirmed && mine.version.is_some();
        match roll {
            0..25 if confirmable => Action::Confirm {
                mine,
                wrong_version: false,
            },
            25..30 if confirmable => Action::Confirm {
                mine,
                wrong_version: true,
            },
            0..55 => Action::Cancel(mine),
            55..65 => Action::GetBooking(mine),
            65..80 => Action::ReadMap,
            80..90 if self.live.len() < MAX_LIVE => Action::Hold(seat),
            _ => match self.finished {
                Some(old) => Action::Cancel(old),
                None => Action::ReadMap,
            },
        }
    }

    async fn perform(&mut self, action: Action, workload: &Workload) {
        let api = SharedTicketing::clone(&self.api);
        match action {
            Action::Hold(seat) => {
                let request = HoldRequest {
                    event_id: workload.event,
                    seat_ids: vec![seat],
                    customer: self.customer.clone(),
                    idempotency_key: None,
                };
                let outcome = self
                    .record(
                        Call::Hold { seat },
                        workload.call_timeout,
                        api.hold_seats(request),
                        |b| Outcome::Booking(BookingView::of(b)),
                    )
                    .await;
                if let Outcome::Booking(b) = outcome {
                    self.live.push(Mine {
                        booking: b.id,
                        seat,
                        version: Some(b.version),
                        confirmed: false,
                    });
                }
            }
            Action::Confirm {
                mine,
                wrong_version,
            } => {
                let expected_version = mine.version.unwrap_or(0) + u64::from(wrong_version);
                let call = Call::Confirm {
                    booking: mine.booking,
                    seat: mine.seat,
                    expected_version,
                };
                let outcome = self
                    .record(
                        call,
                        workload.call_timeout,
                        api.confirm_booking(mine.booking, expected_version),
                        |b| Outcome::Booking(BookingView::of(b)),
                    )
                    .await;
                self.after_confirm(mine.booking, &outcome);
            }
            Action::Cancel(mine) => {
                let call = Call::Cancel {
                    booking: mine.booking,
                    seat: mine.seat,
                };
                let outcome = self
                    .record(
                        call,
                        workload.call_timeout,
                        api.cancel_booking(mine.booking),
                        |b| Outcome::Booking(BookingView::of(b)),
                    )
                    .await;
                // Unless the answer is unknown, the booking no longer holds the seat.
                if !outcome.is_indeterminate() {
                    self.finish(mine.booking);
                }
            }
            Action::GetBooking(mine) => {
                let call = Call::GetBooking {
                    booking: mine.booking,
                    seat: mine.seat,
                };
                let outcome = self
                    .record(
                        call,
                        workload.call_timeout,
                        api.get_booking(mine.booking),
                        |b| Outcome::Booking(BookingView::of(b)),
                    )
                    .await;
                if matches!(&outcome, Outcome::Booking(b) if !b.status.is_live()) {
                    self.finish(mine.booking);
                }
            }
            Action::ReadMap => {
                let seats = workload.seats.clone();
                self.record(
                    Call::GetSeatMap,
                    workload.call_timeout,
                    api.get_seat_map(workload.event),
                    |map| Outcome::of_seat_map(map, &seats),
                )
                .await;
            }
        }
    }

    fn after_confirm(&mut self, booking: BookingId, outcome: &Outcome) {
        let Some(mine) = self.live.iter_mut().find(|m| m.booking == booking) else {
            return;
        };
        match outcome {
            Outcome::Booking(b) => {
                mine.confirmed = true;
                mine.version = Some(b.version);
            }
            Outcome::Indeterminate { .. } => mine.version = None,
            Outcome::Refused {
                code: domain::ErrorCode::VersionMismatch,
                ..
            }
            | Outcome::SeatMap(_) => {}
            // Confirmed already, expired or forgotten: nothing more to confirm.
            Outcome::Refused { .. } => mine.confirmed = true,
        }
    }

    /// Moves `booking` from the live ones to the finished one.
    fn finish(&mut self, booking: BookingId) {
        if let Some(i) = self.live.iter().position(|m| m.booking == booking) {
            self.finished = Some(self.live.swap_remove(i));
        }
    }

    /// Calls `call` as `future`, timing it on the run's clock; an answer becomes an
    /// outcome through `ok`, an error through [`Outcome::of_error`], no answer within
    /// `timeout` an indeterminate outcome.
    async fn record<T>(
        &mut self,
        call: Call,
        timeout: Duration,
        future: impl Future<Output = domain::Result<T>>,
        ok: impl FnOnce(&T) -> Outcome,
    ) -> Outcome {
        let start = self.clock.now();
        let result = tokio::time::timeout(timeout, future).await;
        let end = self.clock.now();
        let outcome = match result {
            Ok(Ok(value)) => ok(&value),
            Ok(Err(error)) => Outcome::of_error(&error),
            Err(_) => Outcome::Indeterminate {
                reason: format!("no answer within {} ms", timeout.as_millis()),
            },
        };
        self.log.push(Entry {
            client: self.id,
            call,
            outcome: outcome.clone(),
            start,
            end,
        });
        outcome
    }
}
