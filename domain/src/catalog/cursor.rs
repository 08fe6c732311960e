//! The `list_events` cursor: a position in (start time, id) order, encoded as an opaque
//! string so clients do not build their own.

use crate::model::{Event, EventId};

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

    /// 32 hex digits: the start time's bits, then the id. Opaque to clients.
    pub fn encode(self) -> String {
        format!(
            "{:016x}{:016x}",
            self.starts_at_micros.cast_unsigned(),
            self.event_id.0
        )
    }

    /// The inverse of [`Cursor::encode`]; `None` for anything it could not have produced.
    pub fn decode(raw: &str) -> Option<Self> {
        if raw.len() != 32 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let micros = u64::from_str_radix(raw.get(..16)?, 16).ok()?;
        let id = u64::from_str_radix(raw.get(16..)?, 16).ok()?;
        Some(Cursor {
            starts_at_micros: micros.cast_signed(),
            event_id: EventId(id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_junk() {
        let c = Cursor {
            starts_at_micros: -5,
            event_id: EventId(42),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for junk in [
            "",
            "zz",
            "0000000000000000000000000000002g",
            "é000000000000000000000000000000",
        ] {
            assert_eq!(Cursor::decode(junk), None, "{junk}");
        }
    }
}
