//! One event's seat inventory and bookings, behind that event's own lock.
//!
//! Everything that changes for an event changes here, under one short critical section
//! with no await inside: seat states (a byte a seat), per-section availability counts, the
//! event's bookings, the queue of holds by expiry and the idempotency keys. Expired holds
//! are released lazily: every operation first sweeps the holds whose time has passed.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

use parking_lot::Mutex;

use crate::error::{Error, Result};
use crate::feed::{Feed, Start};
use crate::model::{
    AvailabilityUpdate, Booking, BookingId, BookingStatus, EventId, HoldRequest, SeatChange,
    SeatId, SeatState, Section, SectionCount, Timestamp, UpdateKind, Venue,
};
use crate::rules;

/// An event's inventory: the locked state plus two atomics that lock-free readers use.
#[derive(Debug)]
pub(super) struct Inventory {
    state: Mutex<InventoryState>,
    /// Seats neither held nor sold, as of the last change.
    available: AtomicU32,
    /// Earliest expiry of a live hold in microseconds, `i64::MAX` if none.
    earliest_expiry: AtomicI64,
}

#[derive(Debug)]
pub(super) struct InventoryState {
    pub(super) event_id: EventId,
    pub(super) version: u64,
    pub(super) seats: Vec<SeatState>,
    /// First seat id of each section, plus the capacity at the end.
    section_starts: Vec<u32>,
    pub(super) section_available: Vec<u32>,
    pub(super) bookings: HashMap<BookingId, Booking>,
    holds_by_expiry: BTreeSet<(i64, BookingId)>,
    idempotency: HashMap<String, BookingId>,
    /// The key each idempotent booking was made with, to drop it when the booking goes.
    key_of: HashMap<BookingId, String>,
    /// Cancelled and expired bookings, oldest first, until they are forgotten.
    finished: VecDeque<BookingId>,
    /// The change feed, created when the event is first watched.
    feed: Option<Feed>,
    /// The time of the current locked call, stamped on the changes it publishes.
    now: Timestamp,
}

impl Inventory {
    /// A fresh inventory with every seat of `venue` available.
    pub(super) fn new(event_id: EventId, venue: &Venue) -> Self {
        let mut section_starts = Vec::with_capacity(venue.sections.len() + 1);
        let mut next = 0;
        for section in &venue.sections {
            section_starts.push(next);
            next += section.seat_count();
        }
        section_starts.push(next);
        Inventory {
            state: Mutex::new(InventoryState {
                event_id,
                version: 0,
                seats: vec![SeatState::Available; venue.capacity as usize],
                section_starts,
                section_available: venue.sections.iter().map(Section::seat_count).collect(),
                bookings: HashMap::new(),
                holds_by_expiry: BTreeSet::new(),
                idempotency: HashMap::new(),
                key_of: HashMap::new(),
                finished: VecDeque::new(),
                feed: None,
                now: Timestamp::default(),
            }),
            available: AtomicU32::new(venue.capacity),
            earliest_expiry: AtomicI64::new(i64::MAX),
        }
    }

    /// Runs `f` on the state after releasing the holds expired at `now`, forgets finished
    /// bookings beyond the newest `keep`, and refreshes the lock-free summary. The lock is
    /// held for exactly this call. Returns `f`'s result and the ids forgotten.
    pub(super) fn with<T>(
        &self,
        now: Timestamp,
        keep: usize,
        f: impl FnOnce(&mut InventoryState) -> T,
    ) -> (T, Vec<BookingId>) {
        let mut state = self.state.lock();
        state.now = now;
        state.release_expired(now);
        let out = f(&mut state);
        let forgotten = state.forget_finished_beyond(keep);
        self.available
            .store(state.section_available.iter().sum(), Ordering::Release);
        let earliest = state
            .holds_by_expiry
            .first()
            .map_or(i64::MAX, |(at, _)| *at);
        self.earliest_expiry.store(earliest, Ordering::Release);
        (out, forgotten)
    }

    /// Whether no seat is available and no hold has lapsed yet, read without the lock.
    pub(super) fn is_sold_out(&self, now: Timestamp) -> bool {
        self.available.load(Ordering::Acquire) == 0
            && self.earliest_expiry.load(Ordering::Acquire) > now.timestamp_micros()
    }
}

impl InventoryState {
    fn release_expired(&mut self, now: Timestamp) {
        let now_micros = now.timestamp_micros();
        while let Some(&(at, id)) = self.holds_by_expiry.first() {
            if at > now_micros {
                break;
            }
            self.holds_by_expiry.pop_first();
            self.finish(id, BookingStatus::Expired);
        }
    }

    /// Holds the seats of a validated request for booking `id`, all or nothing.
    pub(super) fn hold(
        &mut self,
        id: BookingId,
        request: &HoldRequest,
        prices: &[i64],
        currency: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Booking> {
        if let Some(key) = &request.idempotency_key
            && let Some(existing) = self.idempotency.get(key).and_then(|b| self.bookings.get(b))
        {
            return if rules::same_hold(existing, request) {
                Ok(existing.clone())
            } else {
                Err(rules::idempotency_key_reused())
            };
        }
        let mut seat_ids = request.seat_ids.clone();
        seat_ids.sort_unstable();
        let taken: Vec<SeatId> = seat_ids
            .iter()
            .copied()
            .filter(|s| self.seats[s.0 as usize] != SeatState::Available)
            .collect();
        if !taken.is_empty() {
            return Err(Error::SeatsUnavailable { seats: taken });
        }
        let mut total_cents = 0;
        for &seat in &seat_ids {
            let section = self.section_of(seat);
            total_cents += prices[section];
            self.set_seat(seat, SeatState::Held);
        }
        let booking = Booking {
            id,
            event_id: self.event_id,
            seat_ids: seat_ids.clone(),
            customer: request.customer.clone(),
            status: BookingStatus::Held,
            total_cents,
            currency: currency.to_owned(),
            created_at: now,
            expires_at,
            version: 1,
        };
        self.bookings.insert(id, booking.clone());
        self.holds_by_expiry
            .insert((expires_at.timestamp_micros(), id));
        if let Some(key) = &request.idempotency_key {
            self.idempotency.insert(key.clone(), id);
            self.key_of.insert(id, key.clone());
        }
        self.publish(seat_ids.iter().map(|&s| (s, SeatState::Held)).collect());
        Ok(booking)
    }

    /// The booking `id`.
    pub(super) fn booking(&self, id: BookingId) -> Result<Booking> {
        self.bookings
            .get(&id)
            .cloned()
            .ok_or_else(|| Error::not_found("booking", id))
    }

    /// Confirms a held booking if `expected_version` is current.
    pub(super) fn confirm(&mut self, id: BookingId, expected_version: u64) -> Result<Booking> {
        let booking = self.booking(id)?;
        rules::check_confirm(&booking, expected_version)?;
        self.holds_by_expiry
            .remove(&(booking.expires_at.timestamp_micros(), id));
        self.finish(id, BookingStatus::Confirmed)
            .ok_or_else(|| Error::not_found("booking", id))
    }

    /// Cancels a held or confirmed booking, releasing its seats.
    pub(super) fn cancel(&mut self, id: BookingId) -> Result<Booking> {
        let booking = self.booking(id)?;
        rules::check_cancel(&booking)?;
        self.holds_by_expiry
            .remove(&(booking.expires_at.timestamp_micros(), id));
        self.finish(id, BookingStatus::Cancelled)
            .ok_or_else(|| Error::not_found("booking", id))
    }

    /// Moves a live booking to `status`, setting its seats to match, bumping both versions
    /// and publishing the change. The caller has checked the move is allowed.
    fn finish(&mut self, id: BookingId, status: BookingStatus) -> Option<Booking> {
        let seat_state = if status == BookingStatus::Confirmed {
            SeatState::Sold
        } else {
            SeatState::Available
        };
        let booking = self.bookings.get_mut(&id)?;
        booking.status = status;
        booking.version += 1;
        let booking = booking.clone();
        for &seat in &booking.seat_ids {
            self.set_seat(seat, seat_state);
        }
        self.publish(booking.seat_ids.iter().map(|&s| (s, seat_state)).collect());
        if !status.is_live() {
            self.finished.push_back(id);
        }
        Some(booking)
    }

    /// Drops the oldest finished bookings (and their idempotency keys) beyond `keep`.
    fn forget_finished_beyond(&mut self, keep: usize) -> Vec<BookingId> {
        let excess = self.finished.len().saturating_sub(keep);
        let forgotten: Vec<BookingId> = self.finished.drain(..excess).collect();
        for id in &forgotten {
            self.bookings.remove(id);
            if let Some(key) = self.key_of.remove(id) {
                self.idempotency.remove(&key);
            }
        }
        forgotten
    }

    fn set_seat(&mut self, seat: SeatId, to: SeatState) {
        let from = std::mem::replace(&mut self.seats[seat.0 as usize], to);
        let section = self.section_of(seat);
        match (from == SeatState::Available, to == SeatState::Available) {
            (true, false) => self.section_available[section] -= 1,
            (false, true) => self.section_available[section] += 1,
            _ => {}
        }
    }

    fn section_of(&self, seat: SeatId) -> usize {
        // `section_starts` begins at 0 and ends at the capacity, so this is in range for
        // every seat below the capacity (which the store checked).
        self.section_starts
            .partition_point(|&start| start <= seat.0)
            - 1
    }

    fn publish(&mut self, seats: Vec<(SeatId, SeatState)>) {
        self.version += 1;
        if self.feed.is_some() {
            let update = AvailabilityUpdate {
                event_id: self.event_id,
                kind: UpdateKind::Change,
                version: self.version,
                sections: self.section_counts(),
                seats: seats
                    .into_iter()
                    .map(|(seat_id, state)| SeatChange { seat_id, state })
                    .collect(),
                committed_at: self.now,
            };
            if let Some(feed) = &mut self.feed {
                feed.publish(update);
            }
        }
    }

    fn section_counts(&self) -> Vec<SectionCount> {
        (0u32..)
            .zip(&self.section_available)
            .map(|(section_id, &available)| SectionCount {
                section_id,
                available,
            })
            .collect()
    }

    /// Live subscribers of this event's feed.
    pub(super) fn watchers(&self) -> usize {
        self.feed.as_ref().map_or(0, Feed::receivers)
    }

    /// Where a new availability subscriber starts: the retained changes after `from`, or
    /// a snapshot, and a receiver of what follows. Creates the event's feed on first use.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` if `from` is ahead of the event's version.
    pub(super) fn watch(
        &mut self,
        from: Option<u64>,
        retained: usize,
        buffer: usize,
    ) -> Result<Start> {
        let snapshot = AvailabilityUpdate {
            event_id: self.event_id,
            kind: UpdateKind::Snapshot,
            version: self.version,
            sections: self.section_counts(),
            seats: Vec::new(),
            committed_at: self.now,
        };
        self.feed
            .get_or_insert_with(|| Feed::new(retained, buffer))
            .subscribe(self.event_id, from, self.version, || snapshot)
    }
}
