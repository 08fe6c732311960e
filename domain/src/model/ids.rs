//! Identifier newtypes, so an event id can never be passed where a venue id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl $name {
            /// The raw number, for transports that carry ids as integers.
            pub const fn get(self) -> $inner {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }

        impl From<$inner> for $name {
            fn from(raw: $inner) -> Self {
                Self(raw)
            }
        }
    };
}

id_type!(
    /// An event's id: dense, starting at 1 in a generated dataset.
    EventId(u64)
);
id_type!(
    /// A venue's id: dense, starting at 1.
    VenueId(u64)
);
id_type!(
    /// A performer's id: dense, starting at 1.
    PerformerId(u64)
);
id_type!(
    /// A booking's id: allocated by the store, never reused.
    BookingId(u64)
);
id_type!(
    /// A seat's index within its event (the venue's layout order: section, row, number), from 0.
    SeatId(u32)
);
