//! The in-memory store: the read-only catalogue plus one lazily created inventory per
//! event. Synchronous, so no lock can ever be held across an await.
//!
//! Concurrency, in one paragraph: catalogue reads take no lock at all. Each event's
//! inventory sits behind its own mutex, created the first time the event is written to
//! (untouched events cost one empty slot). A hold, confirm or cancel locks exactly one
//! inventory, briefly. Booking ids come from an atomic counter put through a keyed
//! permutation (`crate::booking_ids`: unique, and revealing neither the count nor the
//! next id), and the id → event map is a sharded concurrent map, so no path takes a
//! global lock.

mod inventory;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use dashmap::DashMap;

use inventory::{Inventory, InventoryState};

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::model::{
    AvailabilityStream, Booking, BookingId, BookingStatus, Event, EventDetail, EventId,
    EventStatus, HoldRequest, Seat, SeatId, SeatMap, SeatState, Section, SectionAvailability,
};
use crate::rules;

/// The catalogue and the live inventory of every event.
#[derive(Debug)]
pub struct Store {
    catalog: Catalog,
    inventories: Box<[OnceLock<Box<Inventory>>]>,
    booking_events: DashMap<BookingId, EventId>,
    next_booking_id: AtomicU64,
    /// Turns the counter into the ids clients see; keyed at random per store.
    booking_ids: crate::booking_ids::BookingIds,
    clock: Arc<dyn Clock>,
    hold_ttl: chrono::Duration,
    finished_kept: usize,
    /// Availability changes retained per watched event, and the subscriber buffer.
    watch_limits: (usize, usize),
}

/// A booking-id key when the OS random source fails: std's per-process random hash keys
/// (themselves seeded from the OS once) mixed with the time.
fn fallback_ids(clock: &Arc<dyn Clock>) -> crate::booking_ids::BookingIds {
    use std::hash::{BuildHasher, Hasher};
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_mut(8).enumerate() {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_usize(i);
        hasher.write_i64(clock.now().timestamp_micros());
        chunk.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    crate::booking_ids::BookingIds::with_key(&key)
}

impl Store {
    /// A store over `catalog`, reading time from `clock`, with the hold TTL and booking
    /// retention of `limits`.
    pub fn new(catalog: Catalog, clock: Arc<dyn Clock>, limits: &Limits) -> Self {
        let inventories = (0..catalog.event_count())
            .map(|_| OnceLock::new())
            .collect();
        Store {
            catalog,
            inventories,
            booking_events: DashMap::new(),
            next_booking_id: AtomicU64::new(1),
            // Without an OS random source (never seen in practice) the key is derived
            // from the clock and the store's address: still unguessable enough for a
            // test, and a store must always be constructible.
            booking_ids: crate::booking_ids::BookingIds::random()
                .unwrap_or_else(|_| fallback_ids(&clock)),
            clock,
            hold_ttl: chrono::Duration::from_std(limits.hold_ttl).unwrap_or(chrono::Duration::MAX),
            finished_kept: limits.finished_bookings_per_event,
            watch_limits: (limits.watch_retained, limits.watch_buffer),
        }
    }

    /// The read-only catalogue.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// One event, with `SoldOut` reported while every seat is held or sold.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event.
    pub fn event(&self, id: EventId) -> Result<Event> {
        let event = self.catalog.event(id)?;
        Ok(self.with_live_status(event))
    }

    /// The catalogue's event with its status brought up to date, without taking a lock.
    pub fn with_live_status(&self, event: &Event) -> Event {
        let mut event = event.clone();
        if event.status == EventStatus::OnSale
            && self
                .existing_inventory(event.id)
                .is_some_and(|inv| inv.is_sold_out(self.clock.now()))
        {
            event.status = EventStatus::SoldOut;
        }
        event
    }

    /// The event with its venue, performers and per-section availability.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event.
    pub fn event_detail(&self, id: EventId) -> Result<EventDetail> {
        let event = self.event(id)?;
        let venue = self.catalog.venue(event.venue_id)?;
        let performers = event
            .performer_ids
            .iter()
            .map(|&p| self.catalog.performer(p).cloned())
            .collect::<Result<Vec<_>>>()?;
        let available: Vec<u32> = match self.existing_inventory(id) {
            Some(inv) => self.locked(inv, |s| s.section_available.clone()),
            None => venue.sections.iter().map(Section::seat_count).collect(),
        };
        let availability = venue
            .sections
            .iter()
            .zip(available)
            .map(|(section, available)| SectionAvailability {
                section_id: section.id,
                name: section.name.clone(),
                price_cents: section.price_cents,
                total: section.seat_count(),
                available,
            })
            .collect();
        Ok(EventDetail {
            event,
            venue: venue.clone(),
            performers,
            availability,
        })
    }

    /// Every seat of the event with its state. The lock is held only to copy the state
    /// bytes; the map is built after it is released.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event.
    pub fn seat_map(&self, id: EventId) -> Result<SeatMap> {
        let event = self.catalog.event(id)?;
        let venue = self.catalog.venue(event.venue_id)?;
        let (version, states) = match self.existing_inventory(id) {
            Some(inv) => self.locked(inv, |s| (s.version, s.seats.clone())),
            None => (0, vec![SeatState::Available; venue.capacity as usize]),
        };
        let mut seats = Vec::with_capacity(states.len());
        let mut states = states.into_iter();
        let mut seat_id = 0;
        for section in &venue.sections {
            for row in &section.rows {
                for number in 1..=row.seats {
                    let state = states.next().unwrap_or(SeatState::Available);
                    seats.push(Seat {
                        seat_id: SeatId(seat_id),
                        section_id: section.id,
                        row: row.label.clone(),
                        number,
                        price_cents: section.price_cents,
                        state,
                    });
                    seat_id += 1;
                }
            }
        }
        Ok(SeatMap {
            event_id: id,
            version,
            seats,
        })
    }

    /// Holds seats, all or nothing. The request must already have passed
    /// [`validate::hold`](crate::validate::hold).
    ///
    /// # Errors
    /// `NOT_FOUND` for an unknown event, `INVALID_ARGUMENT` for seats past the venue's
    /// capacity or a reused idempotency key, `INVALID_STATE` for an event not on sale,
    /// `SEATS_UNAVAILABLE` for seats already held or sold.
    pub fn hold(&self, request: &HoldRequest) -> Result<Booking> {
        let event = self.catalog.event(request.event_id)?;
        let venue = self.catalog.venue(event.venue_id)?;
        if event.status != EventStatus::OnSale {
            return Err(rules::not_on_sale(event));
        }
        if let Some(&bad) = request.seat_ids.iter().find(|s| s.0 >= venue.capacity) {
            return Err(rules::unknown_seat(bad, event.id, venue.capacity));
        }
        let prices: Vec<i64> = venue.sections.iter().map(|s| s.price_cents).collect();
        let now = self.clock.now();
        let expires_at = now + self.hold_ttl;
        let inventory = self.inventory(event.id)?;
        // Taken before the lock; an id lost to a failed hold is simply never used.
        let id = BookingId(
            self.booking_ids
                .encode(self.next_booking_id.fetch_add(1, Ordering::Relaxed))?,
        );
        self.locked(inventory, |s| {
            let booking = s.hold(id, request, &prices, &event.currency, now, expires_at)?;
            // Indexed before the lock is released, so a concurrent idempotent retry that
            // returns this booking can look it up at once. (A retry gets an older id,
            // already indexed.) Lock order is always inventory, then map shard.
            if booking.id == id {
                self.booking_events.insert(id, event.id);
            }
            Ok(booking)
        })
    }

    /// One booking, with a lapsed hold reported as expired.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such booking.
    pub fn booking(&self, id: BookingId) -> Result<Booking> {
        let inventory = self.booking_inventory(id)?;
        self.locked(inventory, |s| s.booking(id))
    }

    /// Confirms a held booking if `expected_version` is current.
    ///
    /// # Errors
    /// `NOT_FOUND`, `VERSION_MISMATCH` (nothing changes), or `INVALID_STATE` if the booking
    /// is not held.
    pub fn confirm(&self, id: BookingId, expected_version: u64) -> Result<Booking> {
        let inventory = self.booking_inventory(id)?;
        self.locked(inventory, |s| s.confirm(id, expected_version))
    }

    /// Cancels a held or confirmed booking and releases its seats.
    ///
    /// # Errors
    /// `NOT_FOUND`, or `INVALID_STATE` if it is already cancelled or expired.
    pub fn cancel(&self, id: BookingId) -> Result<Booking> {
        let inventory = self.booking_inventory(id)?;
        self.locked(inventory, |s| s.cancel(id))
    }

    /// The event's availability from `from` (or from a snapshot of now), then live: see
    /// [`AvailabilityUpdate`](crate::AvailabilityUpdate) for the order of messages.
    ///
    /// # Errors
    /// `NOT_FOUND` if there is no such event; `INVALID_ARGUMENT` if `from` is ahead of the
    /// event's inventory version.
    pub fn watch(&self, id: EventId, from: Option<u64>) -> Result<AvailabilityStream> {
        let inventory = self.inventory(id)?;
        let (retained, buffer) = self.watch_limits;
        let start = self.locked(inventory, |s| s.watch(from, retained, buffer))?;
        Ok(crate::feed::stream(id, start, Arc::clone(&self.clock)))
    }

    /// Live availability subscribers of the event right now (streams not yet dropped), so
    /// a test can see a transport end a subscription when its client goes away.
    pub fn watchers(&self, id: EventId) -> usize {
        self.existing_inventory(id)
            .map_or(0, |inventory| self.locked(inventory, |s| s.watchers()))
    }

    /// Checks that the event's seat states agree with its bookings: every seat held or
    /// sold belongs to exactly one live booking of the matching status, every other seat
    /// to none, and the per-section counts match. For tests and audits.
    ///
    /// # Errors
    /// A description of the first disagreement found.
    pub fn audit(&self, id: EventId) -> std::result::Result<(), String> {
        let Some(inventory) = self.existing_inventory(id) else {
            return Ok(());
        };
        self.locked(inventory, |s| {
            let mut owner: Vec<Option<BookingStatus>> = vec![None; s.seats.len()];
            let mut bookings: Vec<&Booking> = s.bookings.values().collect();
            bookings.sort_by_key(|b| b.id);
            for b in bookings.iter().filter(|b| b.status.is_live()) {
                for seat in &b.seat_ids {
                    let slot = &mut owner[seat.0 as usize];
                    if slot.is_some() {
                        return Err(format!("seat {seat} is in two live bookings"));
                    }
                    *slot = Some(b.status);
                }
            }
            for (i, (state, owner)) in s.seats.iter().zip(&owner).enumerate() {
                let expected = match owner {
                    None => SeatState::Available,
                    Some(BookingStatus::Held) => SeatState::Held,
                    Some(_) => SeatState::Sold,
                };
                if *state != expected {
                    return Err(format!(
                        "seat {i} is {state} but its bookings say {expected}"
                    ));
                }
            }
            let available = s
                .seats
                .iter()
                .filter(|&&st| st == SeatState::Available)
                .count();
            let counted: u32 = s.section_available.iter().sum();
            if available != counted as usize {
                return Err(format!(
                    "{available} seats available but sections count {counted}"
                ));
            }
            Ok(())
        })
    }

    /// Every booking of an event, by id. For tests and audits.
    pub fn bookings_of(&self, id: EventId) -> Vec<Booking> {
        let Some(inventory) = self.existing_inventory(id) else {
            return Vec::new();
        };
        let mut bookings = self.locked(inventory, |s| {
            s.bookings.values().cloned().collect::<Vec<_>>()
        });
        bookings.sort_by_key(|b| b.id);
        bookings
    }

    fn existing_inventory(&self, id: EventId) -> Option<&Inventory> {
        self.slot(id).and_then(OnceLock::get).map(Box::as_ref)
    }

    /// The event's inventory, created on first use.
    fn inventory(&self, id: EventId) -> Result<&Inventory> {
        let event = self.catalog.event(id)?;
        let venue = self.catalog.venue(event.venue_id)?;
        let slot = self.slot(id).ok_or_else(|| Error::not_found("event", id))?;
        Ok(slot.get_or_init(|| Box::new(Inventory::new(id, venue))))
    }

    /// Runs `f` under the inventory's lock at the current time, then drops the bookings the
    /// inventory forgot from the id index (after the lock, keeping the lock order simple).
    fn locked<T>(&self, inventory: &Inventory, f: impl FnOnce(&mut InventoryState) -> T) -> T {
        let (out, forgotten) = inventory.with(self.clock.now(), self.finished_kept, f);
        for id in forgotten {
            self.booking_events.remove(&id);
        }
        out
    }

    fn booking_inventory(&self, id: BookingId) -> Result<&Inventory> {
        // Copy the event id out so the map's shard lock is released before the inventory's.
        let event_id = self
            .booking_events
            .get(&id)
            .map(|entry| *entry.value())
            .ok_or_else(|| Error::not_found("booking", id))?;
        self.existing_inventory(event_id)
            .ok_or_else(|| Error::not_found("booking", id))
    }

    fn slot(&self, id: EventId) -> Option<&OnceLock<Box<Inventory>>> {
        self.inventories.get((id.0 as usize).wrapping_sub(1))
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod watch_tests;
