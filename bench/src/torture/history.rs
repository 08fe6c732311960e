//! What a torture run records: every call a client made, with its arguments, its start
//! and end on one monotonic clock shared by the whole process, and what came back (an
//! answer, a typed refusal, or nothing certain).
//!
//! Recording only: what a history means is the seat model's business
//! ([`super::model`]), and whether it is linearizable the checker's ([`super::check`]).

use std::fmt;
use std::time::{Duration, Instant};

use domain::{Booking, BookingId, BookingStatus, Error, ErrorCode, SeatId, SeatMap, SeatState};

use crate::protocol::Protocol;

/// The clock every client of a run reads: time since the run began, monotonic, so every
/// start and end of every client is on one axis.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Instant,
}

impl Clock {
    /// A clock starting now.
    pub fn start() -> Self {
        Clock {
            origin: Instant::now(),
        }
    }

    /// Time since the run began.
    pub fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// One client of a run: its protocol and its number among that protocol's clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId {
    /// The protocol it speaks.
    pub protocol: Protocol,
    /// Its number among that protocol's clients, from 0.
    pub index: usize,
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.protocol, self.index)
    }
}

/// What a client asked for. Every write names one seat: holds are single-seat, so a
/// booking is one seat and every write is an operation on one seat's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `hold_seats` of exactly this seat.
    Hold {
        /// The seat.
        seat: SeatId,
    },
    /// `confirm_booking` of a booking holding `seat`.
    Confirm {
        /// The booking.
        booking: BookingId,
        /// Its seat (the client knows it from the hold).
        seat: SeatId,
        /// The version the client named.
        expected_version: u64,
    },
    /// `cancel_booking` of a booking holding `seat`.
    Cancel {
        /// The booking.
        booking: BookingId,
        /// Its seat.
        seat: SeatId,
    },
    /// `get_booking` of a booking holding `seat`.
    GetBooking {
        /// The booking.
        booking: BookingId,
        /// Its seat.
        seat: SeatId,
    },
    /// `get_seat_map` of the run's event: a read of every seat at once.
    GetSeatMap,
}

impl Call {
    /// The operation's name, as in `Ticketing`.
    pub const fn name(&self) -> &'static str {
        match self {
            Call::Hold { .. } => "hold",
            Call::Confirm { .. } => "confirm",
            Call::Cancel { .. } => "cancel",
            Call::GetBooking { .. } => "get_booking",
            Call::GetSeatMap => "get_seat_map",
        }
    }

    /// The seat a write or a booking read is about; `None` for the seat map.
    pub const fn seat(&self) -> Option<SeatId> {
        match *self {
            Call::Hold { seat }
            | Call::Confirm { seat, .. }
            | Call::Cancel { seat, .. }
            | Call::GetBooking { seat, .. } => Some(seat),
            Call::GetSeatMap => None,
        }
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Call::Hold { seat } => write!(f, "hold(seat {seat})"),
            Call::Confirm {
                booking,
                seat,
                expected_version,
            } => write!(
                f,
                "confirm(booking {booking}, version {expected_version}; seat {seat})"
            ),
            Call::Cancel { booking, seat } => write!(f, "cancel(booking {booking}; seat {seat})"),
            Call::GetBooking { booking, seat } => {
                write!(f, "get_booking(booking {booking}; seat {seat})")
            }
            Call::GetSeatMap => f.write_str("get_seat_map()"),
        }
    }
}

/// The parts of a returned booking the seat model judges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingView {
    /// Its id.
    pub id: BookingId,
    /// Its seats.
    pub seats: Vec<SeatId>,
    /// Its status.
    pub status: BookingStatus,
    /// Its version.
    pub version: u64,
    /// `expires_at - created_at`: how long the store gave the hold.
    pub hold_ttl: Option<Duration>,
}

impl BookingView {
    /// What the model needs of `booking`.
    pub fn of(booking: &Booking) -> Self {
        BookingView {
            id: booking.id,
            seats: booking.seat_ids.clone(),
            status: booking.status,
            version: booking.version,
            hold_ttl: (booking.expires_at - booking.created_at).to_std().ok(),
        }
    }
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A booking (hold, confirm, cancel, get_booking).
    Booking(BookingView),
    /// A seat map, reduced to the run's seats (`None`: the map did not list that seat).
    SeatMap(Vec<(SeatId, Option<SeatState>)>),
    /// A refusal that changed nothing: NOT_FOUND, INVALID_ARGUMENT, SEATS_UNAVAILABLE,
    /// VERSION_MISMATCH or INVALID_STATE, each raised by the domain before it changes
    /// anything.
    Refused {
        /// The code.
        code: ErrorCode,
        /// VERSION_MISMATCH: the version the store has.
        actual_version: Option<u64>,
    },
    /// No certain answer: the call timed out, the transport failed, or the error is one
    /// a transport may raise after the store acted (UNAVAILABLE, INTERNAL, and
    /// LIMIT_EXCEEDED, which is also how a server's request timeout answers). A write
    /// with this outcome may or may not have happened, at any time after it started.
    Indeterminate {
        /// What happened, for the report.
        reason: String,
    },
}

impl Outcome {
    /// The outcome of a `Ticketing` error.
    pub fn of_error(error: &Error) -> Self {
        match error.code() {
            ErrorCode::LimitExceeded | ErrorCode::Internal | ErrorCode::Unavailable => {
                Outcome::Indeterminate {
                    reason: error.to_string(),
                }
            }
            code => Outcome::Refused {
                code,
                actual_version: match error {
                    Error::VersionMismatch { actual, .. } => Some(*actual),
                    _ => None,
                },
            },
        }
    }

    /// The outcome of a seat map: the states of `seats` on it.
    pub fn of_seat_map(map: &SeatMap, seats: &[SeatId]) -> Self {
        Outcome::SeatMap(
            seats
                .iter()
                .map(|seat| {
                    // A scan, not a binary search: a map out of order must not read
                    // as a missing seat.
                    let state = map
                        .seats
                        .iter()
                        .find(|s| s.seat_id == *seat)
                        .map(|s| s.state);
                    (*seat, state)
                })
                .collect(),
        )
    }

    /// Whether the call's effect is unknown.
    pub const fn is_indeterminate(&self) -> bool {
        matches!(self, Outcome::Indeterminate { .. })
    }

    /// Whether the call was answered with a value.
    pub const fn is_ok(&self) -> bool {
        matches!(self, Outcome::Booking(_) | Outcome::SeatMap(_))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Booking(b) => write!(
                f,
                "ok: booking {} {} version {} seats {:?}",
                b.id,
                b.status,
                b.version,
                b.seats.iter().map(|s| s.0).collect::<Vec<_>>()
            ),
            Outcome::SeatMap(seats) => {
                f.write_str("ok:")?;
                for (seat, state) in seats {
                    match state {
                        Some(state) => write!(f, " {seat}={state}")?,
                        None => write!(f, " {seat}=missing")?,
                    }
                }
                Ok(())
            }
            Outcome::Refused {
                code,
                actual_version: Some(actual),
            } => write!(f, "refused: {code} (actual version {actual})"),
            Outcome::Refused { code, .. } => write!(f, "refused: {code}"),
            Outcome::Indeterminate { reason } => write!(f, "indeterminate: {reason}"),
        }
    }
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Who made it.
    pub client: ClientId,
    /// What was asked.
    pub call: Call,
    /// What came back.
    pub outcome: Outcome,
    /// When the call began (before the request was sent).
    pub start: Duration,
    /// When the answer was in (or, for an indeterminate call, when the client gave up:
    /// the call may still take effect later).
    pub end: Duration,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:>10.3} ms .. {:>10.3} ms] {:<10} {} -> {}",
            self.start.as_secs_f64() * 1e3,
            self.end.as_secs_f64() * 1e3,
            self.client.to_string(),
            self.call,
            self.outcome
        )
    }
}

/// A whole run: every client's calls, ordered by start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// The seats the run used (every one available when it began).
    pub seats: Vec<SeatId>,
    /// Every call, by start time.
    pub entries: Vec<Entry>,
}

impl History {
    /// A history of `seats` from the clients' logs, merged and ordered by start time.
    pub fn merge(seats: Vec<SeatId>, logs: impl IntoIterator<Item = Vec<Entry>>) -> Self {
        let mut entries: Vec<Entry> = logs.into_iter().flatten().collect();
        entries.sort_by_key(|e| (e.start, e.end, e.client));
        History { seats, entries }
    }

    /// How many calls it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no call.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
