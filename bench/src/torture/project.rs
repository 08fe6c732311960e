//! A run's history as one sub-history per seat: each call seen from the seat it is
//! about (a seat map, from every seat). Linearizability is local (Herlihy and Wing): a
//! history of independent objects is linearizable iff each object's sub-history is, so
//! the checker searches seat by seat instead of over the whole run.
//!
//! Calls with nothing certain to say about a seat are left out: an indeterminate read
//! constrains nothing.

use std::time::Duration;

use domain::{Limits, SeatId};

use super::history::{BookingView, Call, Entry, History, Outcome};
use super::model::{SeatAnswer, SeatCall, SeatOp};

/// How long a hold whose booking nobody saw (an indeterminate hold's) lasts: the
/// shortest TTL any booking of the run reported, or the domain's default when none did.
/// The shortest is the generous choice: it lets such a hold lapse as early as any could.
pub fn unknown_hold_ttl(history: &History) -> Duration {
    history
        .entries
        .iter()
        .filter_map(|e| match &e.outcome {
            Outcome::Booking(b) => b.hold_ttl,
            _ => None,
        })
        .min()
        .unwrap_or(Limits::HOLD_TTL)
}

/// `seat`'s sub-history, in the order of the run's history (by start).
pub fn seat_history(history: &History, seat: SeatId) -> Vec<SeatOp> {
    let ttl = unknown_hold_ttl(history);
    history
        .entries
        .iter()
        .enumerate()
        .filter_map(|(index, entry)| seat_op(index, entry, seat, ttl))
        .collect()
}

/// `entry` seen from `seat`, if it says anything about it.
fn seat_op(index: usize, entry: &Entry, seat: SeatId, unknown_ttl: Duration) -> Option<SeatOp> {
    if entry.call.seat().is_some_and(|s| s != seat) {
        return None;
    }
    let call = match entry.call {
        Call::Hold { .. } => {
            let ttl = match &entry.outcome {
                Outcome::Booking(b) => b.hold_ttl.unwrap_or(unknown_ttl),
                _ => unknown_ttl,
            };
            SeatCall::Hold {
                lapses_from: entry.start + ttl,
            }
        }
        Call::Confirm {
            booking,
            expected_version,
            ..
        } => SeatCall::Confirm {
            booking,
            expected_version,
        },
        Call::Cancel { booking, .. } => SeatCall::Cancel { booking },
        Call::GetBooking { booking, .. } => SeatCall::ReadBooking { booking },
        Call::GetSeatMap => SeatCall::ReadSeat,
    };
    let reads = matches!(call, SeatCall::ReadSeat | SeatCall::ReadBooking { .. });
    let answer = match &entry.outcome {
        Outcome::Indeterminate { .. } if reads => return None,
        Outcome::Indeterminate { .. } => SeatAnswer::Unknown,
        Outcome::Booking(booking) => booking_answer(booking, seat),
        Outcome::SeatMap(states) => SeatAnswer::Seat(
            states
                .iter()
                .find(|(s, _)| *s == seat)
                .and_then(|(_, state)| *state),
        ),
        Outcome::Refused {
            code,
            actual_version,
        } => SeatAnswer::Refused {
            code: *code,
            actual_version: *actual_version,
        },
    };
    Some(SeatOp {
        entry: index,
        call,
        answer,
        start: entry.start,
        end: (!entry.outcome.is_indeterminate()).then_some(entry.end),
    })
}

fn booking_answer(booking: &BookingView, seat: SeatId) -> SeatAnswer {
    SeatAnswer::Booking {
        id: booking.id,
        status: booking.status,
        version: booking.version,
        this_seat_only: booking.seats == [seat],
    }
}
