//! Time as a dependency: the store asks a `Clock` for "now", so tests move time forward
//! by hand instead of sleeping while a hold expires.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::model::{Timestamp, truncate_to_micros};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time, truncated to whole microseconds.
    fn now(&self) -> Timestamp;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        truncate_to_micros(chrono::Utc::now())
    }
}

/// A clock that only moves when told to. For tests.
#[derive(Debug)]
pub struct ManualClock {
    micros: AtomicI64,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            micros: AtomicI64::new(start.timestamp_micros()),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.micros.fetch_add(micros, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let micros = self.micros.load(Ordering::SeqCst);
        chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default()
    }
}
