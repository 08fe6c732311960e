//! Booking ids that reveal nothing: [`BookingIds`], a keyed permutation of a counter.
//!
//! Stores number their bookings with a counter (every hold attempt takes a number, failed
//! ones included), which is cheap and unique but tells an observer the next id and, from
//! the gaps, how busy the service is. So the number is never shown: the id a client sees
//! is the number put through a four-round Feistel network keyed with a secret (each
//! round's function is SHA-256 of the key, the round and the half, a pseudo-random
//! function, which is what makes four rounds a strong pseudo-random permutation: Luby
//! and Rackoff). A permutation keeps ids unique with no lookup; the key makes them
//! unpredictable without it.
//!
//! Ids stay in `1 ..= 2^53 - 1` (cycle walking over a 54-bit network), so a JavaScript
//! client reading them as JSON numbers gets them exactly, and 0, which protobuf and
//! others read as "absent", is never an id. The in-memory store draws its key at random
//! per process; `pgstore` keeps one in the database so every replica agrees. What is not
//! here: the counters themselves, which stay each store's.

use sha2::{Digest, Sha256};

/// Ids are below this: the largest integer a JSON number holds exactly, plus one.
pub const ID_LIMIT: u64 = 1 << 53;
/// The network works on 54 bits, two halves of 27.
const HALF_BITS: u32 = 27;
const HALF_MASK: u64 = (1 << HALF_BITS) - 1;
/// Four rounds of a pseudo-random function: a strong pseudo-random permutation.
const ROUNDS: u8 = 4;

/// A keyed permutation of `1 .. 2^53`: counter numbers in, public booking ids out, and
/// back. Cheap to clone.
#[derive(Clone)]
pub struct BookingIds {
    /// SHA-256 with the key's 64-byte block already absorbed: each round only adds its
    /// own few bytes, one compression.
    keyed: Sha256,
}

impl std::fmt::Debug for BookingIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.write_str("BookingIds { .. }")
    }
}

impl BookingIds {
    /// The permutation under `key` (any 32 bytes; the same key gives the same ids).
    pub fn with_key(key: &[u8; 32]) -> Self {
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(key);
        block[32..].copy_from_slice(b"quartet booking ids, feistel v1\0");
        let mut keyed = Sha256::new();
        keyed.update(block);
        BookingIds { keyed }
    }

    /// A permutation under a key drawn from the operating system's random source.
    ///
    /// # Errors
    /// `INTERNAL` if the system has no random source to read.
    pub fn random() -> crate::Result<Self> {
        Ok(Self::with_key(&random_key()?))
    }

    fn round(&self, round: u8, half: u64) -> u64 {
        let mut hasher = self.keyed.clone();
        hasher.update([round]);
        hasher.update(half.to_le_bytes());
        let digest = hasher.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first) & HALF_MASK
    }

    fn forward(&self, value: u64) -> u64 {
        let (mut left, mut right) = (value >> HALF_BITS, value & HALF_MASK);
        for round in 0..ROUNDS {
            let next = left ^ self.round(round, right);
            left = right;
            right = next;
        }
        (left << HALF_BITS) | right
    }

    fn backward(&self, value: u64) -> u64 {
        let (mut left, mut right) = (value >> HALF_BITS, value & HALF_MASK);
        for round in (0..ROUNDS).rev() {
            let previous = right ^ self.round(round, left);
            right = left;
            left = previous;
        }
        (left << HALF_BITS) | right
    }

    /// The public id of counter number `number` (`1 .. 2^53`).
    ///
    /// # Errors
    /// `INTERNAL` if `number` is 0 or past `2^53 - 1`: the counter ran out.
    pub fn encode(&self, number: u64) -> crate::Result<u64> {
        if !in_range(number) {
            return Err(crate::Error::internal("no booking ids left"));
        }
        // Cycle walking: a 54-bit permutation, repeated until it lands in range, is a
        // permutation of the range (each walk follows one cycle); two steps on average.
        let mut id = self.forward(number);
        while !in_range(id) {
            id = self.forward(id);
        }
        Ok(id)
    }

    /// The counter number behind `id`, or `None` for a value that is no id at all.
    pub fn decode(&self, id: u64) -> Option<u64> {
        if !in_range(id) {
            return None;
        }
        let mut number = self.backward(id);
        while !in_range(number) {
            number = self.backward(number);
        }
        Some(number)
    }
}

fn in_range(value: u64) -> bool {
    (1..ID_LIMIT).contains(&value)
}

/// 32 bytes from the operating system's random source: a fresh key.
///
/// # Errors
/// `INTERNAL` if the system has no random source to read.
pub fn random_key() -> crate::Result<[u8; 32]> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| crate::Error::internal(format!("no random source for booking ids: {e}")))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> BookingIds {
        BookingIds::with_key(&[7; 32])
    }

    #[test]
    fn encode_and_decode_are_inverse_and_stay_in_range() {
        let ids = ids();
        for number in (1..2_000).chain([ID_LIMIT - 1, ID_LIMIT / 2, 1 << 32 | 5]) {
            let id = ids.encode(number).unwrap();
            assert!(in_range(id), "{number} -> {id}");
            assert_eq!(ids.decode(id), Some(number));
        }
    }

    #[test]
    fn consecutive_numbers_give_unique_ids_that_are_not_monotone() {
        let ids = ids();
        let out: Vec<u64> = (1..=20_000).map(|n| ids.encode(n).unwrap()).collect();
        let unique: std::collections::HashSet<_> = out.iter().collect();
        assert_eq!(unique.len(), out.len());
        let rises = out.windows(2).filter(|w| w[1] > w[0]).count();
        // A random order rises about half the time; a counter always does.
        assert!((8_000..12_000).contains(&rises), "{rises} rises of 19 999");
        // And the ids spread over the whole range, not near the counter.
        assert!(out.iter().filter(|&&id| id > ID_LIMIT / 2).count() > 8_000);
    }

    #[test]
    fn another_key_gives_other_ids() {
        let a = ids();
        let b = BookingIds::with_key(&[8; 32]);
        let same = (1..1_000)
            .filter(|&n| a.encode(n).unwrap() == b.encode(n).unwrap())
            .count();
        assert_eq!(same, 0);
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let ids = ids();
        assert!(ids.encode(0).is_err());
        assert!(ids.encode(ID_LIMIT).is_err());
        assert_eq!(ids.decode(0), None);
        assert_eq!(ids.decode(ID_LIMIT), None);
        assert_eq!(ids.decode(u64::MAX), None);
    }

    #[test]
    fn random_keys_differ() {
        assert_ne!(random_key().unwrap(), random_key().unwrap());
    }
}
