//! Waiting until an absolute instant, to within microseconds, on a machine whose sleeps
//! wake late: the relay's writers deliver every piece at its deadline through a
//! [`Pacer`].
//!
//! A sleep asks the kernel for a high-resolution timer, but the thread runs again only
//! after the timer's slack (50 µs by default) and a scheduler's wake-up, which on a busy
//! machine is hundreds of microseconds and now and then milliseconds. A pacer therefore
//! sleeps until a margin before the deadline and spins the rest, and the margin follows
//! how late this thread's own sleeps have woken recently (a decaying maximum), so a quiet
//! machine spins tens of microseconds per deadline and a noisy one as much as it needs,
//! never more than [`MAX_MARGIN`].
//!
//! What is not here: what the deadlines are (the relay's bottleneck and delays).

use std::thread;
use std::time::{Duration, Instant};

/// The least margin spun before a deadline: a sleep's timer slack and one wake-up on a
/// quiet machine.
pub const MIN_MARGIN: Duration = Duration::from_micros(100);
/// The most margin spun before a deadline, whatever the machine does: a sleep that wakes
/// later than this is rare enough to pay for, and spinning more costs the machine's CPU.
pub const MAX_MARGIN: Duration = Duration::from_millis(2);
/// Below this much left, spin without yielding: giving the CPU away this close to a
/// deadline risks not having it back in time.
const YIELD_ABOVE: Duration = Duration::from_micros(30);

/// Waits to absolute deadlines for one thread, learning how late its sleeps wake.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// A recent high of how late a sleep woke, decaying by 1/16 per sleep.
    late: Duration,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new()
    }
}

impl Pacer {
    /// A pacer that assumes a quiet machine until its sleeps say otherwise.
    pub fn new() -> Self {
        Pacer {
            late: MIN_MARGIN / 2,
        }
    }

    /// How long before a deadline this pacer stops sleeping and spins: twice its recent
    /// high of lateness, within [`MIN_MARGIN`]..=[`MAX_MARGIN`].
    pub fn margin(&self) -> Duration {
        (self.late * 2).clamp(MIN_MARGIN, MAX_MARGIN)
    }

    /// Returns at `deadline` or just after it, never before. Sleeps until the margin
    /// before it, then yields and finally spins to the instant.
    pub fn wait_until(&mut self, deadline: Instant) {
        let now = Instant::now();
        let Some(left) = deadline.checked_duration_since(now) else {
            return;
        };
        let margin = self.margin();
        if left > margin {
            let nap = left.saturating_sub(margin);
            let wake = now + nap;
            thread::sleep(nap);
            let late = Instant::now().saturating_duration_since(wake);
            // A decaying maximum: one late wake-up raises the margin at once, and it
            // takes a few dozen punctual ones to bring it back down.
            self.late = late.max(self.late.saturating_sub(self.late / 16));
        }
        loop {
            let now = Instant::now();
            match deadline.checked_duration_since(now) {
                None => return,
                Some(left) if left.is_zero() => return,
                Some(left) if left > YIELD_ABOVE => thread::yield_now(),
                Some(_) => std::hint::spin_loop(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pacer_never_returns_early() {
        let mut pacer = Pacer::new();
        for micros in [0, 10, 700, 3_000] {
            let deadline = Instant::now() + Duration::from_micros(micros);
            pacer.wait_until(deadline);
            assert!(Instant::now() >= deadline, "{micros} µs");
        }
        // A deadline already past returns at once.
        pacer.wait_until(
            Instant::now()
                .checked_sub(Duration::from_millis(1))
                .unwrap_or_else(Instant::now),
        );
    }

    #[test]
    fn the_margin_follows_late_wakeups_and_is_bounded() {
        let mut pacer = Pacer::new();
        assert_eq!(pacer.margin(), MIN_MARGIN);
        pacer.late = Duration::from_micros(300);
        assert_eq!(pacer.margin(), Duration::from_micros(600));
        pacer.late = Duration::from_millis(50);
        assert_eq!(pacer.margin(), MAX_MARGIN);
    }
}
