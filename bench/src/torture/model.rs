//! The model of one seat that a seat's history is checked against: available, held by a
//! booking, or sold to a booking, and what each operation may answer in each state.
//!
//! The rules are the `Ticketing` contract as the domain documents it (`confirm_booking`
//! checks the version before the state; a finished booking's confirm or cancel is
//! refused; a hold lapses no sooner than its TTL after it began; a finished booking may
//! be forgotten, answering NOT_FOUND). Where the history cannot know something (the
//! booking an indeterminate hold made, the version after an indeterminate confirm, a
//! finished booking's last version) the model accepts every answer the contract allows.
//!
//! An operation is judged against one state and yields at most two next states: the one
//! where it took effect and, for an indeterminate write, the one where it did not. The
//! checker ([`super::check`]) follows sets of states; nothing here searches.

use std::fmt;
use std::time::Duration;

use domain::{BookingId, BookingStatus, ErrorCode, SeatState};

/// One operation of one seat's history: a call of the run, seen from this seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatOp {
    /// Its index in the run's [`History`](super::history::History).
    pub entry: usize,
    /// What it asked of this seat.
    pub call: SeatCall,
    /// What it answered about this seat.
    pub answer: SeatAnswer,
    /// When it began.
    pub start: Duration,
    /// When it was answered; `None` for an indeterminate call, which may take effect at
    /// any time after `start`, or never.
    pub end: Option<Duration>,
}

/// An operation on one seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatCall {
    /// Hold the seat; the hold may lapse from `lapses_from` on (its start plus the TTL).
    Hold {
        /// The earliest instant (on the run's clock) the hold can have lapsed.
        lapses_from: Duration,
    },
    /// Confirm `booking`, naming `expected_version`.
    Confirm {
        /// The booking.
        booking: BookingId,
        /// The version named.
        expected_version: u64,
    },
    /// Cancel `booking`.
    Cancel {
        /// The booking.
        booking: BookingId,
    },
    /// Read the seat's state (from a seat map).
    ReadSeat,
    /// Read `booking`.
    ReadBooking {
        /// The booking.
        booking: BookingId,
    },
}

/// What an operation answered about the seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatAnswer {
    /// A booking.
    Booking {
        /// Its id.
        id: BookingId,
        /// Its status.
        status: BookingStatus,
        /// Its version.
        version: u64,
        /// Whether its seats are exactly this one.
        this_seat_only: bool,
    },
    /// The seat's state on a seat map (`None`: the map left the seat out).
    Seat(Option<SeatState>),
    /// A refusal that changed nothing.
    Refused {
        /// Its code.
        code: ErrorCode,
        /// VERSION_MISMATCH: the version the store reported.
        actual_version: Option<u64>,
    },
    /// No certain answer.
    Unknown,
}

/// Who holds a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    /// A booking a client was told about.
    Booking(BookingId),
    /// The booking an indeterminate hold may have made (the op's index in the seat's
    /// history): nobody knows its id, so nobody confirms or cancels it.
    Unknown(usize),
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Booking(id) => write!(f, "booking {id}"),
            Owner::Unknown(op) => write!(f, "the booking of indeterminate hold #{op}"),
        }
    }
}

/// The state of one seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeatModel {
    /// Free to hold.
    Available,
    /// In a live hold.
    Held {
        /// The holder.
        owner: Owner,
        /// The booking's version, when known.
        version: Option<u64>,
        /// From when (on the run's clock) the hold may lapse.
        lapses_from: Duration,
    },
    /// Sold (only a booking a client knows can have been confirmed).
    Sold {
        /// The buyer.
        booking: BookingId,
        /// The booking's version, when known.
        version: Option<u64>,
    },
}

impl fmt::Display for SeatModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeatModel::Available => f.write_str("available"),
            SeatModel::Held { owner, .. } => write!(f, "held by {owner}"),
            SeatModel::Sold { booking, .. } => write!(f, "sold to booking {booking}"),
        }
    }
}

/// Why an operation cannot follow a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A hold succeeded on a seat that was not available.
    HoldOfUnavailableSeat,
    /// A hold was refused as unavailable while the seat was available.
    HoldRefusedWhileAvailable,
    /// A confirm or cancel succeeded for a booking that does not hold the seat.
    WriteOfFinishedBooking,
    /// A confirm succeeded although the version named was not the booking's.
    ConfirmWithStaleVersion,
    /// A confirm succeeded for a booking already sold.
    ConfirmOfSoldBooking,
    /// A live booking's confirm or cancel was refused with this code.
    LiveBookingRefused(ErrorCode),
    /// A VERSION_MISMATCH naming another version than the booking's.
    WrongActualVersion,
    /// A booking came back with another id, status or seats than the call implies.
    WrongBooking,
    /// A read saw another state than the seat's.
    ReadWrongState,
    /// A seat map left the seat out.
    SeatMissing,
    /// A refusal this operation has no business giving.
    UnexpectedRefusal(ErrorCode),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::HoldOfUnavailableSeat => f.write_str("a hold succeeded on a seat that was not available"),
            Reason::HoldRefusedWhileAvailable => f.write_str("a hold was refused as unavailable while the seat was available"),
            Reason::WriteOfFinishedBooking => f.write_str("a confirm or cancel succeeded for a booking that no longer held the seat"),
            Reason::ConfirmWithStaleVersion => f.write_str("a confirm succeeded naming a version that was not the booking's"),
            Reason::ConfirmOfSoldBooking => f.write_str("a confirm succeeded for a booking already sold"),
            Reason::LiveBookingRefused(code) => write!(f, "a live booking's write was refused with {code}"),
            Reason::WrongActualVersion => f.write_str("VERSION_MISMATCH reported another version than the booking's"),
            Reason::WrongBooking => f.write_str("the booking returned has another id, status, version or seats than this call implies"),
            Reason::ReadWrongState => f.write_str("a read saw another state than the seat's"),
            Reason::SeatMissing => f.write_str("the seat map left the seat out"),
            Reason::UnexpectedRefusal(code) => write!(f, "refused with {code}, which this call cannot answer here"),
        }
    }
}

/// The states after an operation: where it took effect, and (for an indeterminate write)
/// where it did not.
pub type Next = (SeatModel, Option<SeatModel>);

/// Where a booking stands, as far as the seat's state tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// It holds the seat, at this version if known.
    Held(Option<u64>),
    /// It bought the seat, at this version if known.
    Sold(Option<u64>),
    /// It does not own the seat: cancelled, expired (or forgotten since).
    Finished,
}

impl Standing {
    fn is_live(self) -> bool {
        self != Standing::Finished
    }

    fn version(self) -> Option<u64> {
        match self {
            Standing::Held(v) | Standing::Sold(v) => v,
            Standing::Finished => None,
        }
    }

    /// Whether a live booking's version is (or, unknown, may be) `expected`.
    fn may_be(self, expected: u64) -> bool {
        self.is_live() && self.version().is_none_or(|v| v == expected)
    }

    /// Whether a live booking's version is (or, unknown, may be) other than `expected`.
    fn may_differ(self, expected: u64) -> bool {
        self.is_live() && self.version().is_none_or(|v| v != expected)
    }
}

impl SeatModel {
    fn standing(self, booking: BookingId) -> Standing {
        match self {
            SeatModel::Held {
                owner: Owner::Booking(b),
                version,
                ..
            } if b == booking => Standing::Held(version),
            SeatModel::Sold {
                booking: b,
                version,
            } if b == booking => Standing::Sold(version),
            _ => Standing::Finished,
        }
    }

    /// Whether this state is what a seat map calls `state`.
    fn reads_as(self, state: SeatState) -> bool {
        matches!(
            (self, state),
            (SeatModel::Available, SeatState::Available)
                | (SeatModel::Held { .. }, SeatState::Held)
                | (SeatModel::Sold { .. }, SeatState::Sold)
        )
    }

    /// The state once the hold lapsed, if it can have lapsed by `latest`: the latest
    /// instant the next operation can take effect at (`None`: no bound), which is no
    /// earlier than the hold's TTL after the hold began.
    ///
    /// `latest` must bound every operation still to be placed, not just the next one: a
    /// lapse is an event in time, and whatever is placed after it must be able to happen
    /// after it too. So the caller passes the earliest return still pending (the next
    /// operation's own included); passing only the next operation's end would let an
    /// indeterminate call (which never ends) make a hold lapse at once for everyone after.
    pub fn lapsed_by(self, latest: Option<Duration>) -> Option<SeatModel> {
        match self {
            SeatModel::Held { lapses_from, .. } if latest.is_none_or(|t| t >= lapses_from) => {
                Some(SeatModel::Available)
            }
            _ => None,
        }
    }

    /// The states `op` (the seat's op number `index`) leads to from this one.
    ///
    /// # Errors
    /// The [`Reason`] no linearization can put `op` right after this state.
    pub fn step(self, op: &SeatOp, index: usize) -> Result<Next, Reason> {
        match op.call {
            SeatCall::Hold { lapses_from } => self.hold(op.answer, lapses_from, index),
            SeatCall::Confirm {
                booking,
                expected_version,
            } => self.confirm(op.answer, booking, expected_version),
            SeatCall::Cancel { booking } => self.cancel(op.answer, booking),
            SeatCall::ReadSeat => self.read_seat(op.answer),
            SeatCall::ReadBooking { booking } => self.read_booking(op.answer, booking),
        }
    }

    fn hold(self, answer: SeatAnswer, lapses_from: Duration, index: usize) -> Result<Next, Reason> {
        let available = self == SeatModel::Available;
        match answer {
            SeatAnswer::Booking {
                id,
                status: BookingStatus::Held,
                version,
                this_seat_only: true,
            } if available => Ok((
                SeatModel::Held {
                    owner: Owner::Booking(id),
                    version: Some(version),
                    lapses_from,
                },
                None,
            )),
            SeatAnswer::Booking {
                status: BookingStatus::Held,
                this_seat_only: true,
                ..
            } => Err(Reason::HoldOfUnavailableSeat),
            SeatAnswer::Booking { .. } | SeatAnswer::Seat(_) => Err(Reason::WrongBooking),
            SeatAnswer::Refused {
                code: ErrorCode::SeatsUnavailable,
                ..
            } if available => Err(Reason::HoldRefusedWhileAvailable),
            SeatAnswer::Refused {
                code: ErrorCode::SeatsUnavailable,
                ..
            } => Ok((self, None)),
            SeatAnswer::Refused { code, .. } => Err(Reason::UnexpectedRefusal(code)),
            SeatAnswer::Unknown if available => Ok((
                self,
                Some(SeatModel::Held {
                    owner: Owner::Unknown(index),
                    version: None,
                    lapses_from,
                }),
            )),
            SeatAnswer::Unknown => Ok((self, None)),
        }
    }

    fn confirm(
        self,
        answer: SeatAnswer,
        booking: BookingId,
        expected: u64,
    ) -> Result<Next, Reason> {
        let standing = self.standing(booking);
        match answer {
            SeatAnswer::Booking {
                id,
                status,
                version,
                this_seat_only,
            } => {
                if id != booking || status != BookingStatus::Confirmed || !this_seat_only {
                    return Err(Reason::WrongBooking);
                }
                match standing {
                    Standing::Finished => Err(Reason::WriteOfFinishedBooking),
                    Standing::Sold(_) => Err(Reason::ConfirmOfSoldBooking),
                    Standing::Held(_) if !standing.may_be(expected) => {
                        Err(Reason::ConfirmWithStaleVersion)
                    }
                    // Every change bumps the version, as for a cancel.
                    Standing::Held(_) if standing.version().is_some_and(|v| version <= v) => {
                        Err(Reason::WrongBooking)
                    }
                    Standing::Held(_) => Ok((
                        SeatModel::Sold {
                            booking,
                            version: Some(version),
                        },
                        None,
                    )),
                }
            }
            SeatAnswer::Refused {
                code: ErrorCode::VersionMismatch,
                actual_version,
            } => {
                if !standing.is_live() {
                    Ok((self, None))
                } else if !standing.may_differ(expected) {
                    Err(Reason::LiveBookingRefused(ErrorCode::VersionMismatch))
                } else if standing
                    .version()
                    .is_some_and(|v| actual_version != Some(v))
                {
                    Err(Reason::WrongActualVersion)
                } else {
                    Ok((self, None))
                }
            }
            // The version is checked first: INVALID_STATE means it matched and the
            // booking was not held.
            SeatAnswer::Refused {
                code: ErrorCode::InvalidState,
                ..
            } => match standing {
                Standing::Finished => Ok((self, None)),
                Standing::Sold(_) if standing.may_be(expected) => Ok((self, None)),
                _ => Err(Reason::LiveBookingRefused(ErrorCode::InvalidState)),
            },
            SeatAnswer::Refused {
                code: ErrorCode::NotFound,
                ..
            } if !standing.is_live() => Ok((self, None)),
            SeatAnswer::Refused { code, .. } if standing.is_live() => {
                Err(Reason::LiveBookingRefused(code))
            }
            SeatAnswer::Refused { code, .. } => Err(Reason::UnexpectedRefusal(code)),
            SeatAnswer::Unknown => {
                let took_effect =
                    matches!(standing, Standing::Held(_)) && standing.may_be(expected);
                Ok((
                    self,
                    took_effect.then_some(SeatModel::Sold {
                        booking,
                        version: None,
                    }),
                ))
            }
            SeatAnswer::Seat(_) => Err(Reason::WrongBooking),
        }
    }

    fn cancel(self, answer: SeatAnswer, booking: BookingId) -> Result<Next, Reason> {
        let standing = self.standing(booking);
        match answer {
            SeatAnswer::Booking {
                id,
                status,
                version,
                this_seat_only,
            } => {
                if id != booking || status != BookingStatus::Cancelled || !this_seat_only {
                    return Err(Reason::WrongBooking);
                }
                if !standing.is_live() {
                    return Err(Reason::WriteOfFinishedBooking);
                }
                // Every change bumps the version.
                if standing.version().is_some_and(|before| version <= before) {
                    return Err(Reason::WrongBooking);
                }
                Ok((SeatModel::Available, None))
            }
            SeatAnswer::Refused { code, .. } if standing.is_live() => {
                Err(Reason::LiveBookingRefused(code))
            }
            SeatAnswer::Refused {
                code: ErrorCode::InvalidState | ErrorCode::NotFound,
                ..
            } => Ok((self, None)),
            SeatAnswer::Refused { code, .. } => Err(Reason::UnexpectedRefusal(code)),
            SeatAnswer::Unknown => Ok((self, standing.is_live().then_some(SeatModel::Available))),
            SeatAnswer::Seat(_) => Err(Reason::WrongBooking),
        }
    }

    fn read_seat(self, answer: SeatAnswer) -> Result<Next, Reason> {
        match answer {
            SeatAnswer::Seat(Some(state)) if self.reads_as(state) => Ok((self, None)),
            SeatAnswer::Seat(Some(_)) => Err(Reason::ReadWrongState),
            SeatAnswer::Seat(None) => Err(Reason::SeatMissing),
            SeatAnswer::Unknown => Ok((self, None)),
            SeatAnswer::Refused { code, .. } => Err(Reason::UnexpectedRefusal(code)),
            SeatAnswer::Booking { .. } => Err(Reason::WrongBooking),
        }
    }

    fn read_booking(self, answer: SeatAnswer, booking: BookingId) -> Result<Next, Reason> {
        let standing = self.standing(booking);
        match answer {
            SeatAnswer::Booking {
                id,
                status,
                version,
                this_seat_only,
            } => {
                if id != booking || !this_seat_only {
                    return Err(Reason::WrongBooking);
                }
                let consistent = match standing {
                    Standing::Held(v) => {
                        status == BookingStatus::Held && v.is_none_or(|v| v == version)
                    }
                    Standing::Sold(v) => {
                        status == BookingStatus::Confirmed && v.is_none_or(|v| v == version)
                    }
                    Standing::Finished => !status.is_live(),
                };
                if consistent {
                    Ok((self, None))
                } else {
                    Err(Reason::ReadWrongState)
                }
            }
            SeatAnswer::Refused {
                code: ErrorCode::NotFound,
                ..
            } if !standing.is_live() => Ok((self, None)),
            SeatAnswer::Refused { code, .. } if standing.is_live() => {
                Err(Reason::LiveBookingRefused(code))
            }
            SeatAnswer::Refused { code, .. } => Err(Reason::UnexpectedRefusal(code)),
            SeatAnswer::Unknown => Ok((self, None)),
            SeatAnswer::Seat(_) => Err(Reason::WrongBooking),
        }
    }
}
