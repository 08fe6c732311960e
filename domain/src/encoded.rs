//! `EncodedChanges`: a transport's encoding of each availability change, made once and
//! shared by every subscriber that sends it.
//!
//! A change reaches every subscriber of its event as its own [`AvailabilityUpdate`] (the
//! domain stream hands each one an owned message). Encoding it per subscriber costs a
//! server S encodings of the same bytes; a transport keeps one `EncodedChanges` per
//! server instead and asks it for the bytes, so a change is encoded once per transport
//! and the others get a cheap clone (`bytes::Bytes`, an `Arc<str>`).
//!
//! The key is what names a change for good: its event and version (both stores publish
//! each version of an event exactly once, with one content, and never reuse it). Only
//! [`UpdateKind::Change`] is memoised: a snapshot or resync is made for one subscriber.
//!
//! The memo is a fixed table of slots, the slot chosen by hashing the key, each behind its
//! own lock (no lock shared by every event). A newer change evicts whatever its slot held;
//! a subscriber that asks for an evicted change just encodes it again. So memory is
//! bounded by the table's size whatever subscribers do, and a miss costs only speed,
//! never correctness.
//!
//! What is not here: the encodings themselves (each transport's own).

use parking_lot::Mutex;

use crate::model::{AvailabilityUpdate, EventId, UpdateKind};

/// Slots of [`EncodedChanges::default`]: changes of the last moments of a few busy events.
pub const DEFAULT_SLOTS: usize = 256;

/// One transport's encoded changes, shared by all its subscribers (see the module docs).
pub struct EncodedChanges<T> {
    slots: Box<[Mutex<Option<Entry<T>>>]>,
}

struct Entry<T> {
    event_id: EventId,
    version: u64,
    encoded: T,
}

impl<T: Clone> EncodedChanges<T> {
    /// A memo of `slots` changes (at least one).
    pub fn new(slots: usize) -> Self {
        EncodedChanges {
            slots: (0..slots.max(1)).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// `update` encoded by `encode`: the memoised bytes when `update` is a change some
    /// subscriber already encoded here, else `encode(update)` (remembered, if a change).
    ///
    /// # Errors
    /// Whatever `encode` returns; a failure is not remembered.
    pub fn get_or_encode<E>(
        &self,
        update: &AvailabilityUpdate,
        encode: impl FnOnce(&AvailabilityUpdate) -> Result<T, E>,
    ) -> Result<T, E> {
        if update.kind != UpdateKind::Change {
            return encode(update);
        }
        let slot = &self.slots[self.slot_of(update.event_id, update.version)];
        if let Some(entry) = slot.lock().as_ref()
            && entry.event_id == update.event_id
            && entry.version == update.version
        {
            return Ok(entry.encoded.clone());
        }
        // Encoded outside the lock: two subscribers missing at once both encode (the same
        // bytes), rather than one waiting on the other's encoding.
        let encoded = encode(update)?;
        *slot.lock() = Some(Entry {
            event_id: update.event_id,
            version: update.version,
            encoded: encoded.clone(),
        });
        Ok(encoded)
    }

    /// Consecutive versions of one event land in consecutive slots; events are spread by
    /// a multiplicative hash of their id.
    fn slot_of(&self, event_id: EventId, version: u64) -> usize {
        let mixed = event_id
            .0
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(version);
        // The remainder is below the table's length, so it fits a usize.
        (mixed % self.slots.len() as u64) as usize
    }
}

impl<T: Clone> Default for EncodedChanges<T> {
    fn default() -> Self {
        EncodedChanges::new(DEFAULT_SLOTS)
    }
}

impl<T> std::fmt::Debug for EncodedChanges<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodedChanges")
            .field("slots", &self.slots.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::model::{SectionCount, Timestamp};

    fn update(event: u64, version: u64, kind: UpdateKind) -> AvailabilityUpdate {
        AvailabilityUpdate {
            event_id: EventId(event),
            kind,
            version,
            sections: vec![SectionCount {
                section_id: 0,
                available: u32::try_from(version).unwrap_or(0),
            }],
            seats: Vec::new(),
            committed_at: Timestamp::default(),
        }
    }

    fn encode_counting(calls: &Cell<u32>) -> impl Fn(&AvailabilityUpdate) -> Result<String, ()> {
        move |u| {
            calls.set(calls.get() + 1);
            Ok(format!(
                "{}:{}:{}",
                u.event_id, u.version, u.sections[0].available
            ))
        }
    }

    #[test]
    fn a_change_is_encoded_once_for_every_subscriber() {
        let memo = EncodedChanges::new(8);
        let calls = Cell::new(0);
        let encode = encode_counting(&calls);
        let change = update(1, 5, UpdateKind::Change);
        for _ in 0..100 {
            assert_eq!(memo.get_or_encode(&change, &encode), Ok("1:5:5".to_owned()));
        }
        assert_eq!(calls.get(), 1);
    }

    #[test]
    fn snapshots_and_resyncs_are_encoded_each_time() {
        let memo = EncodedChanges::new(8);
        let calls = Cell::new(0);
        let encode = encode_counting(&calls);
        for kind in [UpdateKind::Snapshot, UpdateKind::Resync] {
            let one = update(1, 5, kind);
            memo.get_or_encode(&one, &encode).unwrap();
            memo.get_or_encode(&one, &encode).unwrap();
        }
        assert_eq!(calls.get(), 4);
    }

    #[test]
    fn an_evicted_or_colliding_change_is_encoded_again_never_confused() {
        // One slot: every key collides, and each must still get its own bytes.
        let memo = EncodedChanges::new(1);
        let calls = Cell::new(0);
        let encode = encode_counting(&calls);
        let a = update(1, 5, UpdateKind::Change);
        let b = update(2, 5, UpdateKind::Change);
        let c = update(1, 6, UpdateKind::Change);
        assert_eq!(memo.get_or_encode(&a, &encode), Ok("1:5:5".to_owned()));
        assert_eq!(memo.get_or_encode(&b, &encode), Ok("2:5:5".to_owned()));
        assert_eq!(memo.get_or_encode(&c, &encode), Ok("1:6:6".to_owned()));
        assert_eq!(memo.get_or_encode(&a, &encode), Ok("1:5:5".to_owned()));
        assert_eq!(calls.get(), 4);
    }

    #[test]
    fn a_failed_encoding_is_not_remembered() {
        let memo = EncodedChanges::<String>::new(4);
        let change = update(1, 1, UpdateKind::Change);
        assert_eq!(memo.get_or_encode(&change, |_| Err("no")), Err("no"));
        assert_eq!(
            memo.get_or_encode(&change, |_| Ok::<_, &str>("yes".to_owned())),
            Ok("yes".to_owned())
        );
    }
}
