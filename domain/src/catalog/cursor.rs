//! The `list_events` cursor: a position in (start time, id) order, bound to the filter it
//! was issued for, encoded as an opaque string so clients do not build their own.
//!
//! The binding is a 64-bit FNV-1a fingerprint of the filter as the catalogue applies it
//! (category, city case-folded and trimmed, time bounds). A cursor presented with another
//! filter would silently skip or repeat events, so it is refused instead.

use crate::model::{Event, EventFilter, EventId};

/// A position in `list_events` order: the last event of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    /// Start time of that event, microseconds since the epoch.
    pub starts_at_micros: i64,
    /// Its id.
    pub event_id: EventId,
}

impl Cursor {
    /// The position just after `event`.
    pub fn after(event: &Event) -> Self {
        Cursor {
            starts_at_micros: event.starts_at.timestamp_micros(),
            event_id: event.id,
        }
    }

    /// 48 lowercase hex digits: the start time's bits, the id, then the fingerprint of
    /// `filter`. Opaque to clients.
    pub fn encode(self, filter: &EventFilter) -> String {
        format!(
            "{:016x}{:016x}{:016x}",
            self.starts_at_micros.cast_unsigned(),
            self.event_id.0,
            fingerprint(filter)
        )
    }

    /// The inverse of [`Cursor::encode`] for the same `filter`; `None` for anything it
    /// could not have produced, or a cursor issued for another filter.
    pub fn decode(raw: &str, filter: &EventFilter) -> Option<Self> {
        if raw.len() != ENCODED_LEN || !raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
        let micros = u64::from_str_radix(raw.get(..16)?, 16).ok()?;
        let id = u64::from_str_radix(raw.get(16..32)?, 16).ok()?;
        let bound_to = u64::from_str_radix(raw.get(32..)?, 16).ok()?;
        (bound_to == fingerprint(filter)).then_some(Cursor {
            starts_at_micros: micros.cast_signed(),
            event_id: EventId(id),
        })
    }

    /// Decodes a cursor for `filter`, with the error every backend gives for a bad one.
    /// Whether it points at a real event is the backend's check (it needs the data).
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` on `cursor` for anything not produced by [`Cursor::encode`],
    /// and for a cursor issued for another filter.
    pub fn parse(raw: &str, filter: &EventFilter) -> crate::Result<Self> {
        if let Some(cursor) = Self::decode(raw, filter) {
            Ok(cursor)
        } else if Self::is_well_formed(raw) {
            Err(crate::rules::cursor_for_another_filter())
        } else {
            Err(crate::rules::cursor_not_issued())
        }
    }

    /// Whether `raw` has a cursor's shape (length and digits), whatever it points at.
    pub fn is_well_formed(raw: &str) -> bool {
        raw.len() == ENCODED_LEN && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }
}

/// Length of an encoded cursor, in characters.
pub const ENCODED_LEN: usize = 48;

/// FNV-1a over the filter as the catalogue applies it: equal for filters that select the
/// same events by the same rules (a city differing only in case or spaces is the same).
fn fingerprint(filter: &EventFilter) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut hash = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
        // A separator, so ("ab", "") and ("a", "b") differ.
        hash ^= 0xff;
        hash = hash.wrapping_mul(PRIME);
    };
    eat(filter.category.map_or("", |c| c.as_str()).as_bytes());
    eat(filter
        .city
        .as_deref()
        .map(|c| c.trim().to_lowercase())
        .unwrap_or_default()
        .as_bytes());
    for bound in [filter.from, filter.to] {
        match bound {
            Some(t) => eat(&t.timestamp_micros().to_le_bytes()),
            None => eat(b"-"),
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::Category;

    #[test]
    fn round_trips_and_rejects_junk() {
        let c = Cursor {
            starts_at_micros: -5,
            event_id: EventId(42),
        };
        let none = EventFilter::default();
        assert_eq!(Cursor::decode(&c.encode(&none), &none), Some(c));
        assert!(Cursor::is_well_formed(&c.encode(&none)));
        for junk in [
            "",
            "zz",
            "0000000000000000000000000000002g0000000000000000",
            "é00000000000000000000000000000000000000000000000",
            "0000000000000000000000000000002A0000000000000000",
        ] {
            assert_eq!(Cursor::decode(junk, &none), None, "{junk}");
        }
    }

    #[test]
    fn a_cursor_works_only_with_the_filter_it_was_issued_for() {
        let c = Cursor {
            starts_at_micros: 7,
            event_id: EventId(3),
        };
        let berlin = EventFilter {
            city: Some("Berlin".into()),
            ..EventFilter::default()
        };
        let same_city = EventFilter {
            city: Some(" berlin ".into()),
            ..EventFilter::default()
        };
        let comedy = EventFilter {
            category: Some(Category::Comedy),
            ..berlin.clone()
        };
        let raw = c.encode(&berlin);
        assert_eq!(Cursor::decode(&raw, &same_city), Some(c));
        assert_eq!(Cursor::decode(&raw, &comedy), None);
        assert_eq!(Cursor::decode(&raw, &EventFilter::default()), None);
    }
}
