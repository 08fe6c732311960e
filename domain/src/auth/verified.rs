//! Tokens this server has already verified, so a client that presents the same bearer
//! token with every request (every HTTP request, every gRPC call, every wire request
//! after its AUTH) pays the signature check and the claims' parsing once per token
//! rather than once per request. That check is a large share of a small read's cost
//! when auth is on, and it is the same answer every time until the token's window ends.
//!
//! What a hit still checks: the token's window (`nbf` and `exp`, with the same
//! [`LEEWAY_SECS`] the full verification allows) against the clock now, so a cached token
//! is refused the second it expires; then the full verification runs again and says why.
//! Only tokens that verified are kept, keyed by their whole text, so a token differing
//! in any byte (a forged signature included) is never a hit.
//!
//! Memory is bounded: at most [`CAPACITY`] tokens. A full cache is emptied and starts
//! again, which is O(1) and never wrong: a flood of distinct tokens costs what it costs
//! without the cache, their verification.
//!
//! What is not here: the verification itself ([`super::token`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::Caller;
use super::token::{AuthKey, LEEWAY_SECS, now_secs};
use crate::error::Result;

/// Most tokens remembered at once (a few hundred bytes each).
pub const CAPACITY: usize = 4096;

/// A verified token's caller and validity window.
#[derive(Debug)]
struct Verified {
    caller: Arc<Caller>,
    not_before: u64,
    expires: u64,
}

impl Verified {
    /// Whether the window holds at `now`, as `jsonwebtoken`'s validation judges it.
    fn holds_at(&self, now: u64) -> bool {
        self.not_before <= now.saturating_add(LEEWAY_SECS)
            && self.expires >= now.saturating_sub(LEEWAY_SECS)
    }
}

/// A bounded map from token text to the caller it verified as (see the module docs).
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    tokens: Mutex<HashMap<Arc<str>, Verified>>,
}

impl VerifiedTokens {
    /// An empty cache.
    pub fn new() -> Self {
        VerifiedTokens::default()
    }

    /// The caller `token` names under `key`: from the cache while its window holds,
    /// otherwise verified in full (and remembered if it verifies).
    ///
    /// # Errors
    /// As [`AuthKey::verify`]: UNAUTHENTICATED saying why.
    pub fn verify(&self, key: &AuthKey, token: &Arc<str>) -> Result<Arc<Caller>> {
        let now = now_secs();
        if let Some(known) = self.lock().get(token)
            && known.holds_at(now)
        {
            return Ok(Arc::clone(&known.caller));
        }
        // Outside the lock: verification is the expensive part and needs no shared state.
        let (caller, not_before, expires) = key.verify_window(token)?;
        let caller = Arc::new(caller);
        let mut tokens = self.lock();
        if tokens.len() >= CAPACITY {
            tokens.clear();
        }
        tokens.insert(
            Arc::clone(token),
            Verified {
                caller: Arc::clone(&caller),
                not_before,
                expires,
            },
        );
        Ok(caller)
    }

    /// Tokens remembered now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Verified>> {
        // A panic elsewhere cannot leave a half-written entry: inserts are single calls.
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auth::Claims;

    fn key(fill: u8) -> AuthKey {
        AuthKey::from_secret(&[fill; 32]).unwrap()
    }

    fn token(key: &AuthKey, sub: &str, nbf: u64, exp: u64) -> Arc<str> {
        key.sign(&Claims {
            sub: sub.to_owned(),
            scope: "book".to_owned(),
            iat: nbf,
            nbf,
            exp,
        })
        .unwrap()
        .into()
    }

    #[test]
    fn a_verified_token_is_remembered_and_answers_the_same_caller() {
        let (k, cache) = (key(7), VerifiedTokens::new());
        let now = now_secs();
        let t = token(&k, "ann@example.com", now, now + 600);
        let first = cache.verify(&k, &t).unwrap();
        assert_eq!(cache.len(), 1);
        let second = cache.verify(&k, &t).unwrap();
        assert!(
            Arc::ptr_eq(&first, &second),
            "the second answer is the cached one"
        );
        assert!(matches!(&*first, Caller::Customer { email, .. } if email == "ann@example.com"));
    }

    #[test]
    fn refused_tokens_are_never_remembered() {
        let (k, cache) = (key(7), VerifiedTokens::new());
        let now = now_secs();
        let foreign = token(&key(9), "ann@example.com", now, now + 600);
        assert!(cache.verify(&k, &foreign).is_err());
        assert!(cache.verify(&k, &"not.a.jwt".into()).is_err());
        let expired = token(&k, "ann@example.com", now - 600, now - 300);
        assert!(cache.verify(&k, &expired).is_err());
        assert!(cache.is_empty());
    }

    #[test]
    fn a_cached_token_is_refused_once_its_window_ends() {
        let (k, cache) = (key(7), VerifiedTokens::new());
        let now = now_secs();
        let t = token(&k, "ann@example.com", now, now + 600);
        cache.verify(&k, &t).unwrap();
        let entry = |at: u64| cache.lock().get(&t).unwrap().holds_at(at);
        assert!(entry(now));
        assert!(entry(now + 600 + LEEWAY_SECS));
        assert!(
            !entry(now + 600 + LEEWAY_SECS + 1),
            "expired past the leeway"
        );
        assert!(!entry(now.saturating_sub(LEEWAY_SECS + 1)), "not valid yet");
    }

    #[test]
    fn the_cache_is_bounded() {
        let (k, cache) = (key(7), VerifiedTokens::new());
        let now = now_secs();
        for i in 0..=CAPACITY {
            let t = token(&k, &format!("c{i}@example.com"), now, now + 600);
            cache.verify(&k, &t).unwrap();
            assert!(cache.len() <= CAPACITY);
        }
        assert_eq!(cache.len(), 1, "emptied when full, then the newest kept");
    }
}
