//! Who is calling, and what they may do: bearer tokens, the booking policy and per-caller
//! rate limits, written once for all four protocols.
//!
//! - [`token`]: [`AuthKey`] (the HS256 secret), [`mint`] and the verification that turns
//!   a token into a [`Caller`].
//! - [`guard`]: [`Guarded`], the `Ticketing` a server serves when security is on, and
//!   [`AsCaller`], the policy for one known caller.
//! - [`verified`]: [`VerifiedTokens`], tokens already verified, so a client sending the
//!   same token with every request pays the signature check once.
//! - [`limit`]: [`RateLimits`] and the token buckets behind them (governor).
//!
//! How a request's credentials reach the policy without changing the `Ticketing` trait:
//! each transport's edge runs the request inside [`scope`] with the [`Credentials`] it
//! read (REST and GraphQL: the `Authorization` header; gRPC: the `authorization`
//! metadata; wire: the connection's AUTH token), and [`Guarded`] reads them from that
//! task-local on every call. Work outside any scope (a spawned task, an in-process call)
//! is anonymous, so a forgotten scope fails closed for bookings.
//!
//! What is not here: reading headers, metadata or frames (each protocol's edge does),
//! status codes (each protocol's error module), and flags (`netkit::args`).

pub mod guard;
pub mod limit;
pub mod token;
pub mod verified;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

pub use guard::{AsCaller, Guarded};
pub use limit::{RATE_LIMIT_WHAT, Rate, RateLimits};
pub use token::{AuthKey, Claims, mint};
pub use verified::VerifiedTokens;

use crate::error::{Error, Result};

/// The reason of the UNAUTHENTICATED a booking operation without any token gets (HTTP
/// answers it with a bare `WWW-Authenticate: Bearer` challenge, RFC 6750 section 3.1).
pub const NO_TOKEN: &str = "bookings need a bearer token; none was presented";

/// The scope a token needs to hold seats, and to confirm or cancel its own bookings.
pub const SCOPE_BOOK: &str = "book";

/// Who a request comes from, as the server judged its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The server runs without a key: everyone may do everything (today's behaviour).
    Open,
    /// No token: catalogue reads only.
    Anonymous,
    /// A valid token for this customer.
    Customer {
        /// The customer's e-mail (the token's `sub`), compared with `Customer.email`.
        email: String,
        /// The token's scopes, e.g. `book`.
        scopes: Vec<String>,
    },
}

impl Caller {
    /// Whether the caller's token carries `scope` (always true for [`Caller::Open`]).
    pub fn has_scope(&self, scope: &str) -> bool {
        match self {
            Caller::Open => true,
            Caller::Anonymous => false,
            Caller::Customer { scopes, .. } => scopes.iter().any(|s| s == scope),
        }
    }
}

/// What a request presented, before anything was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Presented {
    Nothing,
    /// Shared text: the wire protocol hands its connection's token to every request.
    Bearer(Arc<str>),
    /// Something that is not `Bearer <token>`; refused as UNAUTHENTICATED.
    Malformed,
}

/// A request's raw credentials and where it came from, as its transport read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    presented: Presented,
    /// The connection's peer: the key of an anonymous caller's rate limit (one bucket
    /// per connection, since the port differs per connection).
    peer: Option<SocketAddr>,
}

/// Longest token accepted; anything longer is malformed before it is parsed.
pub const MAX_TOKEN_BYTES: usize = 4096;

impl Credentials {
    /// No token, from `peer`.
    pub fn anonymous(peer: Option<SocketAddr>) -> Self {
        Credentials {
            presented: Presented::Nothing,
            peer,
        }
    }

    /// From an HTTP `Authorization` header value (or gRPC `authorization` metadata):
    /// `Bearer <token>`, the scheme case-insensitive. Anything else present is malformed.
    pub fn http(authorization: Option<&str>, peer: Option<SocketAddr>) -> Self {
        let presented = match authorization {
            None => Presented::Nothing,
            Some(value) => match value.trim().split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                    Self::judge(token.trim())
                }
                _ => Presented::Malformed,
            },
        };
        Credentials { presented, peer }
    }

    /// From a bare token (the wire protocol's AUTH), or none.
    pub fn bearer(token: Option<&str>, peer: Option<SocketAddr>) -> Self {
        let presented = token.map_or(Presented::Nothing, Self::judge);
        Credentials { presented, peer }
    }

    fn judge(token: &str) -> Presented {
        let shaped = !token.is_empty()
            && token.len() <= MAX_TOKEN_BYTES
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='));
        if shaped {
            Presented::Bearer(token.into())
        } else {
            Presented::Malformed
        }
    }

    /// The peer these credentials came from.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }
}

/// What a server enforces: the key tokens must be signed with (none: open) and the rate
/// limits. Cheap to clone.
#[derive(Clone, Default)]
pub struct Gate {
    key: Option<Arc<AuthKey>>,
    /// Tokens already verified under `key` (present exactly when `key` is).
    verified: Option<Arc<VerifiedTokens>>,
    limiter: Option<Arc<limit::Limiter>>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Gate")
            .field("authenticates", &self.key.is_some())
            .field("limits", &self.limiter.as_ref().map(|l| l.limits()))
            .field("verified_tokens", &self.verified.as_ref().map(|v| v.len()))
            .finish()
    }
}

impl Gate {
    /// No key and no limits: everyone may do everything.
    pub fn open() -> Self {
        Gate::default()
    }

    /// Tokens must be signed with `key` (none: open), callers are limited by `limits`.
    pub fn new(key: Option<AuthKey>, limits: RateLimits) -> Self {
        Gate {
            verified: key.as_ref().map(|_| Arc::new(VerifiedTokens::new())),
            key: key.map(Arc::new),
            limiter: limit::Limiter::new(limits).map(Arc::new),
        }
    }

    /// Whether tokens are checked.
    pub fn authenticates(&self) -> bool {
        self.key.is_some()
    }

    /// Whether the gate does anything at all (a key or a limit).
    pub fn is_open(&self) -> bool {
        self.key.is_none() && self.limiter.is_none()
    }

    /// The caller `credentials` name. A server without a key ignores tokens.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for a malformed, expired, not yet valid or wrongly signed token.
    pub fn authenticate(&self, credentials: &Credentials) -> Result<Arc<Caller>> {
        let (Some(key), Some(verified)) = (&self.key, &self.verified) else {
            return Ok(Arc::new(Caller::Open));
        };
        match &credentials.presented {
            Presented::Nothing => Ok(Arc::new(Caller::Anonymous)),
            Presented::Malformed => Err(Error::unauthenticated(
                "the credentials are not a bearer token",
            )),
            Presented::Bearer(token) => verified.verify(key, token),
        }
    }

    /// Takes one request's token from the caller's bucket.
    ///
    /// # Errors
    /// `LIMIT_EXCEEDED` ([`RATE_LIMIT_WHAT`]) when the bucket is empty.
    pub fn admit(&self, caller: &Caller, peer: Option<SocketAddr>) -> Result<()> {
        match &self.limiter {
            Some(limiter) => limiter.admit(caller, peer),
            None => Ok(()),
        }
    }
}

/// One request's credentials and, once the first call judged them, the verdict: the
/// token is verified and a rate-limit token taken once per request, however many
/// `Ticketing` calls the request makes. Made by [`scope`].
#[derive(Debug)]
pub struct Request {
    credentials: Credentials,
    verdict: OnceLock<Result<Arc<Caller>>>,
}

tokio::task_local! {
    static REQUEST: Request;
}

/// The future [`scope`] returns: a concrete type, so a tower service can name it as its
/// own future without boxing.
pub type Scoped<F> = tokio::task::futures::TaskLocalFuture<Request, F>;

/// `future` run as one request made with `credentials`: every [`Guarded`] call inside it
/// (in this task) is judged by them.
pub fn scope<F: Future>(credentials: Credentials, future: F) -> Scoped<F> {
    REQUEST.scope(
        Request {
            credentials,
            verdict: OnceLock::new(),
        },
        future,
    )
}

/// The current request's caller under `gate`: authenticated and admitted once per
/// [`scope`]. Outside any scope the caller is anonymous (or open) and not rate limited.
///
/// # Errors
/// As [`Gate::authenticate`] and [`Gate::admit`], the same error for every call of the
/// request.
pub fn current(gate: &Gate) -> Result<Arc<Caller>> {
    REQUEST
        .try_with(|request| {
            request
                .verdict
                .get_or_init(|| {
                    let caller = gate.authenticate(&request.credentials)?;
                    gate.admit(&caller, request.credentials.peer)?;
                    Ok(caller)
                })
                .clone()
        })
        .unwrap_or_else(|_| {
            Ok(Arc::new(if gate.authenticates() {
                Caller::Anonymous
            } else {
                Caller::Open
            }))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_headers_are_judged_by_shape() {
        let bearer = |h| Credentials::http(Some(h), None).presented;
        assert_eq!(bearer("Bearer a.b.c"), Presented::Bearer("a.b.c".into()));
        assert_eq!(
            bearer("bearer  a.b-_c "),
            Presented::Bearer("a.b-_c".into())
        );
        assert_eq!(bearer("Basic dXNlcg=="), Presented::Malformed);
        assert_eq!(bearer("Bearer"), Presented::Malformed);
        assert_eq!(bearer("Bearer a b"), Presented::Malformed);
        assert_eq!(bearer("Bearer ä"), Presented::Malformed);
        assert_eq!(Credentials::http(None, None).presented, Presented::Nothing);
    }

    #[test]
    fn an_open_gate_ignores_tokens() {
        let gate = Gate::open();
        let creds = Credentials::http(Some("Bearer nonsense"), None);
        assert_eq!(gate.authenticate(&creds), Ok(Arc::new(Caller::Open)));
        assert!(gate.is_open());
    }
}
