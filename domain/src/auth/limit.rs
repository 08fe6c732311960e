//! Per-caller rate limits: a token bucket (governor's GCRA, keyed on a `DashMap`) per
//! customer, and one per connection for callers without a token.
//!
//! Off unless configured: a benchmark measures the protocols, not the limiter. The
//! bucket a request draws from: the token's customer when it has one (every connection
//! of that customer shares it), else the connection's peer address (its port makes it one
//! bucket per connection). A call with neither (in process) is not limited.
//!
//! What is not here: how a refusal is written (each protocol's error module maps
//! LIMIT_EXCEEDED with [`RATE_LIMIT_WHAT`] to 429 + Retry-After, RESOURCE_EXHAUSTED, ...).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use super::Caller;
use crate::error::{Error, Result};

/// The `what` of the LIMIT_EXCEEDED a rate limit answers (its `limit` is the rate per
/// second): how transports tell it from a business limit (seats per hold, page size) to
/// answer it in their own idiom (HTTP 429 with `Retry-After`).
pub const RATE_LIMIT_WHAT: &str = "requests per second";

/// One bucket's size: `per_second` tokens come back each second, `burst` fit at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests allowed at once after a quiet spell (at least 1).
    pub burst: u32,
}

/// The limits a server applies; `None` turns one off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Each customer (token `sub`).
    pub per_customer: Option<Rate>,
    /// Each connection without a token (and every connection of an open server).
    pub per_anonymous: Option<Rate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Customer(String),
    Peer(SocketAddr),
}

/// How many checks pass between sweeps of idle buckets, which keep memory bounded by the
/// callers of the last moments rather than every caller ever seen.
const SWEEP_EVERY: u64 = 4096;

/// One kind of caller's buckets, refilled by the clock `C`.
type Buckets<C> =
    RateLimiter<Key, DashMapStateStore<Key>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// The buckets of a [`RateLimits`]. Generic over the clock so that tests drive time
/// themselves (governor's `FakeRelativeClock`) instead of racing the real one; servers use
/// governor's default clock.
pub(super) struct Limiter<C: Clock = DefaultClock> {
    limits: RateLimits,
    customers: Option<Buckets<C>>,
    anonymous: Option<Buckets<C>>,
    checks: AtomicU64,
}

fn quota(rate: Rate) -> Option<Quota> {
    let per_second = NonZeroU32::new(rate.per_second)?;
    let burst = NonZeroU32::new(rate.burst.max(1))?;
    Some(Quota::per_second(per_second).allow_burst(burst))
}

impl Limiter {
    /// The buckets on the real clock, or `None` when every limit is off (or zero).
    pub(super) fn new(limits: RateLimits) -> Option<Self> {
        Limiter::with_clock(limits, &DefaultClock::default())
    }
}

impl<C: Clock + Clone> Limiter<C> {
    /// As [`Limiter::new`], with buckets refilled by `clock` (both kinds share its time).
    pub(super) fn with_clock(limits: RateLimits, clock: &C) -> Option<Self> {
        let buckets = |rate: Option<Rate>| {
            rate.and_then(quota)
                .map(|quota| RateLimiter::dashmap_with_clock(quota, clock.clone()))
        };
        let customers = buckets(limits.per_customer);
        let anonymous = buckets(limits.per_anonymous);
        if customers.is_none() && anonymous.is_none() {
            return None;
        }
        Some(Limiter {
            limits,
            customers,
            anonymous,
            checks: AtomicU64::new(0),
        })
    }

    pub(super) fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Takes a token from the caller's bucket.
    pub(super) fn admit(&self, caller: &Caller, peer: Option<SocketAddr>) -> Result<()> {
        let (buckets, key, rate) = match (caller, peer) {
            (Caller::Customer { email, .. }, _) => (
                &self.customers,
                Key::Customer(email.clone()),
                self.limits.per_customer,
            ),
            (_, Some(peer)) => (&self.anonymous, Key::Peer(peer), self.limits.per_anonymous),
            (_, None) => return Ok(()),
        };
        let (Some(buckets), Some(rate)) = (buckets, rate) else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            for limiter in [&self.customers, &self.anonymous].into_iter().flatten() {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
        buckets
            .check_key(&key)
            .map_err(|_| Error::limit_exceeded(RATE_LIMIT_WHAT, rate.per_second))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use governor::clock::FakeRelativeClock;

    use super::*;

    #[test]
    fn a_bucket_refuses_past_its_burst_and_buckets_are_separate() {
        // A clock only this test moves: the refusal cannot turn into an admission because
        // a loaded machine let a second pass between two checks.
        let clock = FakeRelativeClock::default();
        let limiter = Limiter::with_clock(
            RateLimits {
                per_customer: Some(Rate {
                    per_second: 1,
                    burst: 2,
                }),
                per_anonymous: None,
            },
            &clock,
        )
        .unwrap();
        let ann = Caller::Customer {
            email: "ann@example.org".into(),
            scopes: vec![],
        };
        let bob = Caller::Customer {
            email: "bob@example.org".into(),
            scopes: vec![],
        };
        assert!(limiter.admit(&ann, None).is_ok());
        assert!(limiter.admit(&ann, None).is_ok());
        let refused = limiter.admit(&ann, None).unwrap_err();
        assert_eq!(refused, Error::limit_exceeded(RATE_LIMIT_WHAT, 1u32));
        assert!(
            limiter.admit(&bob, None).is_ok(),
            "another customer's bucket"
        );
        // One token comes back per second, and no more than one.
        clock.advance(Duration::from_millis(999));
        assert!(limiter.admit(&ann, None).is_err(), "refilled early");
        clock.advance(Duration::from_millis(1));
        assert!(limiter.admit(&ann, None).is_ok(), "not refilled after 1 s");
        assert!(limiter.admit(&ann, None).is_err(), "refilled by two tokens");
        // Anonymous callers are not limited when only customers are.
        let peer = SocketAddr::from(([127, 0, 0, 1], 9));
        for _ in 0..10 {
            assert!(limiter.admit(&Caller::Anonymous, Some(peer)).is_ok());
        }
    }

    #[test]
    fn zero_rates_mean_off() {
        let off = Rate {
            per_second: 0,
            burst: 5,
        };
        assert!(
            Limiter::new(RateLimits {
                per_customer: Some(off),
                per_anonymous: None
            })
            .is_none()
        );
    }
}
