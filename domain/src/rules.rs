//! The errors of the rules that need data (the catalogue or the inventory), written once
//! so every [`Backend`](crate::Backend) refuses the same request with the same error.
//! Rules that need no data live in [`validate`](crate::validate) and run before any
//! backend is called.

use crate::error::Error;
use crate::model::{Booking, BookingId, BookingStatus, Event, EventId, HoldRequest, SeatId};

/// `INVALID_STATE`: a hold on an event that is not on sale.
pub fn not_on_sale(event: &Event) -> Error {
    Error::invalid_state(format!(
        "event {} is {}, not on sale",
        event.id, event.status
    ))
}

/// `INVALID_ARGUMENT` on `seat_ids`: a seat past the venue's last seat.
pub fn unknown_seat(seat: SeatId, event: EventId, capacity: u32) -> Error {
    Error::invalid_argument(
        "seat_ids",
        format!(
            "seat {seat} does not exist: event {event} has seats 0 to {}",
            capacity.saturating_sub(1)
        ),
    )
}

/// `INVALID_ARGUMENT` on `idempotency_key`: the key names another hold of the event.
pub fn idempotency_key_reused() -> Error {
    Error::invalid_argument("idempotency_key", "was already used for a different hold")
}

/// `INVALID_ARGUMENT` on `cursor`: well formed and bound to this filter, but pointing at
/// no event this server has.
pub fn cursor_not_issued() -> Error {
    Error::invalid_argument("cursor", "is not a cursor this server issued")
}

/// `INVALID_ARGUMENT` on `cursor`: issued for another filter.
pub fn cursor_for_another_filter() -> Error {
    Error::invalid_argument(
        "cursor",
        "was issued for a different filter; pass the same filter as the first page",
    )
}

/// `INVALID_ARGUMENT` on `query`: nothing searchable left after tokenising.
pub fn no_searchable_words() -> Error {
    Error::invalid_argument(
        "query",
        "has no searchable words (only punctuation or common words)",
    )
}

/// `INVALID_ARGUMENT` on `from_version`: a watch resuming from a version the event has not
/// reached.
pub fn watch_version_ahead(event: EventId, from: u64, current: u64) -> Error {
    Error::invalid_argument(
        "from_version",
        format!("is {from}, but event {event} is only at version {current}"),
    )
}

/// `INVALID_STATE`: confirming a booking that is not held.
pub fn not_confirmable(id: BookingId, status: BookingStatus) -> Error {
    Error::invalid_state(format!(
        "booking {id} is {status}; only a held booking can be confirmed"
    ))
}

/// `INVALID_STATE`: cancelling a booking that is already cancelled or expired.
pub fn already_finished(id: BookingId, status: BookingStatus) -> Error {
    Error::invalid_state(format!("booking {id} is already {status}"))
}

/// The checks of a confirm in the order every backend applies them: the version first
/// (`VERSION_MISMATCH`), then the state (`INVALID_STATE`). `booking` is the current one,
/// with a lapsed hold already reported as expired.
///
/// # Errors
/// `VERSION_MISMATCH` or `INVALID_STATE`.
pub fn check_confirm(booking: &Booking, expected_version: u64) -> Result<(), Error> {
    if booking.version != expected_version {
        return Err(Error::VersionMismatch {
            expected: expected_version,
            actual: booking.version,
        });
    }
    if booking.status != BookingStatus::Held {
        return Err(not_confirmable(booking.id, booking.status));
    }
    Ok(())
}

/// The check of a cancel: only a live (held or confirmed) booking can be cancelled.
///
/// # Errors
/// `INVALID_STATE`.
pub fn check_cancel(booking: &Booking) -> Result<(), Error> {
    if booking.status.is_live() {
        Ok(())
    } else {
        Err(already_finished(booking.id, booking.status))
    }
}

/// The request an idempotency key stands for: its seats in ascending order and its
/// customer. Two holds with the same key are the same request iff these are equal; a
/// backend may store a hash of [`canonical_hold`] instead of the booking it compares.
pub fn canonical_hold(request: &HoldRequest) -> String {
    let mut seats = request.seat_ids.clone();
    seats.sort_unstable();
    let seats: Vec<String> = seats.iter().map(ToString::to_string).collect();
    // Lengths first, so no choice of name or e-mail can collide with another split.
    format!(
        "{}|{}:{}|{}:{}",
        seats.join(","),
        request.customer.name.len(),
        request.customer.name,
        request.customer.email.len(),
        request.customer.email
    )
}

/// Whether `booking` was made by `request` (see [`canonical_hold`]).
pub fn same_hold(booking: &Booking, request: &HoldRequest) -> bool {
    let mut seats = request.seat_ids.clone();
    seats.sort_unstable();
    booking.seat_ids == seats && booking.customer == request.customer
}
